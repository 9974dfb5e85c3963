//! The Bluesky test server: a real PDS.

use super::{free_port, skipped};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How to get the PDS, for the messages when it cannot be started.
const INSTALL: &str = "run scripts/test, or `cd scripts/peers/bluesky-pds && npm ci` \
    and set DIALOOG_TEST_BLUESKY_PDS to that folder (see its README.md)";

/// A real Bluesky PDS (`@atproto/pds` 0.4.217 with an in-memory PLC
/// directory, from `scripts/peers/bluesky-pds`), on loopback, with its data
/// in a fresh temporary folder. It has no AppView: `app.bsky.*` queries
/// (timeline, notifications, `getPosts`, profiles) answer
/// `400 InvalidRequest "No service configured for …"`.
///
/// The XRPC helpers are those of [`BlueskyPds`] (through `Deref`), and so
/// are `url` and `admin_password`.
pub struct BlueskyPeer {
    pds: BlueskyPds,
    /// The PLC directory's address, `http://127.0.0.1:PORT`.
    pub plc_url: String,
    child: Child,
    /// Held open: the server stops by itself when it closes, also when this
    /// process is killed without running `Drop`.
    _stdin: Option<ChildStdin>,
    dir: PathBuf,
}

/// XRPC helpers for any PDS, e.g. that of a [`BlueskyPeer`] or of a
/// [`super::BlueskyNetwork`]: accounts, sessions, app passwords, records,
/// blobs, admin actions. They panic on an answer they do not expect, saying
/// what it was.
#[derive(Clone, Debug)]
pub struct BlueskyPds {
    /// The PDS's address, `http://127.0.0.1:PORT`. (The PDS calls itself
    /// `http://localhost:PORT` in DID documents.)
    pub url: String,
    /// The PDS's admin password (HTTP basic auth as `admin`).
    pub admin_password: String,
    http: reqwest::Client,
}

impl std::ops::Deref for BlueskyPeer {
    type Target = BlueskyPds;

    fn deref(&self) -> &BlueskyPds {
        &self.pds
    }
}

/// An account on the PDS, with the tokens of its latest session.
#[derive(Clone, Debug)]
pub struct BlueskyAccount {
    /// Its DID, `did:plc:…`.
    pub did: String,
    /// Its handle, `….test`.
    pub handle: String,
    /// The access token (`Authorization: Bearer …`).
    pub access_jwt: String,
    /// The refresh token, for `com.atproto.server.refreshSession`.
    pub refresh_jwt: String,
}

impl BlueskyAccount {
    fn from_session(v: &Value) -> Self {
        let field = |name: &str| {
            v[name]
                .as_str()
                .unwrap_or_else(|| panic!("no {name} in the session: {v}"))
                .to_owned()
        };
        Self {
            did: field("did"),
            handle: field("handle"),
            access_jwt: field("accessJwt"),
            refresh_jwt: field("refreshJwt"),
        }
    }
}

impl Drop for BlueskyPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The folder with `start.js` and its `node_modules`.
fn folder() -> PathBuf {
    let dir = std::env::var_os("DIALOOG_TEST_BLUESKY_PDS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/peers/bluesky-pds"),
        PathBuf::from,
    );
    assert!(
        dir.join("start.js").is_file() && dir.join("node_modules/@atproto/pds").is_dir(),
        "the Bluesky test server (a PDS) is not installed in {}: {INSTALL}",
        dir.display()
    );
    dir
}

/// A new empty folder for one server's data, `<tmp>/dialoog-<what>-…`.
pub(crate) fn temp_dir(what: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "dialoog-{what}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The parts of `at://repo/collection/rkey`.
fn at_parts(uri: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = uri
        .strip_prefix("at://")
        .unwrap_or_else(|| panic!("not an at:// address: {uri}"))
        .split('/')
        .collect();
    match parts[..] {
        [repo, collection, rkey] => (repo, collection, rkey),
        _ => panic!("not the address of a record: {uri}"),
    }
}

/// The time now as the lexicon wants it (`2026-11-24T10:00:00.000Z`).
fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl BlueskyPeer {
    /// A real 1×1 PNG (a purple pixel), for uploads: the PDS sniffs what it
    /// is sent and answers 500 to bytes that are no real image.
    pub const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8,
        0x9f, 0xc6, 0xf0, 0x1f, 0x00, 0x06, 0x32, 0x02, 0x65, 0xec, 0x57, 0xd0, 0x75, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    /// Starts one on free ports, or `None` when Bluesky tests are skipped
    /// (never in CI). Panics, saying how to install it, when the PDS is not
    /// installed or does not come up within 60 s.
    pub async fn start() -> Option<Self> {
        if skipped("BLUESKY") {
            return None;
        }
        let folder = folder();
        let node = std::env::var("DIALOOG_TEST_NODE").unwrap_or_else(|_| "node".into());
        let mut last = String::new();
        for _attempt in 0..3 {
            let dir = temp_dir("bluesky-pds");
            let (plc_port, pds_port) = (free_port(), free_port());
            let admin_password = format!("admin-{pds_port}-{}", std::process::id());
            let out = std::fs::File::create(dir.join("stdout.log")).unwrap();
            let err = std::fs::File::create(dir.join("stderr.log")).unwrap();
            let mut child = Command::new(&node)
                .arg("start.js")
                .current_dir(&folder)
                .env("PLC_PORT", plc_port.to_string())
                .env("PDS_PORT", pds_port.to_string())
                .env("PDS_DATA_DIRECTORY", dir.join("data"))
                .env("PDS_BLOBSTORE_DISK_LOCATION", dir.join("blobs"))
                .env("PDS_ADMIN_PASSWORD", &admin_password)
                .env("EXIT_WITH_STDIN", "1")
                .stdin(Stdio::piped())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("the Bluesky test server needs Node.js (`{node}`, or set DIALOOG_TEST_NODE): {e}")
                });
            let stdin = child.stdin.take();
            let mut peer = Self {
                pds: BlueskyPds::new(&format!("http://127.0.0.1:{pds_port}"), &admin_password),
                plc_url: format!("http://127.0.0.1:{plc_port}"),
                child,
                _stdin: stdin,
                dir,
            };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(60) {
                if let Ok(Some(status)) = peer.child.try_wait() {
                    last = format!(
                        "it exited ({status}): {}",
                        std::fs::read_to_string(peer.dir.join("stderr.log")).unwrap_or_default()
                    );
                    break;
                }
                let up = peer
                    .http
                    .get(format!("{}/xrpc/_health", peer.url))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if up {
                    return Some(peer);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if last.is_empty() {
                last = "it did not answer /xrpc/_health within 60 s".into();
            }
            // A port may have been taken meanwhile: try others.
            if !last.contains("EADDRINUSE") {
                break;
            }
        }
        panic!(
            "the Bluesky test server (node start.js in {}) did not start; {last}\n({INSTALL})",
            folder.display()
        )
    }
}

impl BlueskyPds {
    /// Helpers for the PDS at `url` (`http://HOST:PORT`), whose admin
    /// password is `admin_password`.
    pub fn new(url: &str, admin_password: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            admin_password: admin_password.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn xrpc(
        &self,
        method: Method,
        token: Option<&str>,
        nsid: &str,
        params: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (StatusCode, reqwest::Response) {
        let mut req = self
            .http
            .request(method, format!("{}/xrpc/{nsid}", self.url))
            .query(params);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body.filter(|b| !b.is_null()) {
            req = req.json(body);
        }
        let r = req.send().await.unwrap_or_else(|e| panic!("{nsid}: {e}"));
        (r.status(), r)
    }

    /// An XRPC query (`GET /xrpc/{nsid}?params`), with an access token or
    /// none; returns the status and the JSON answer (`null` if none), without
    /// judging them.
    pub async fn query(
        &self,
        token: Option<&str>,
        nsid: &str,
        params: &[(&str, &str)],
    ) -> (u16, Value) {
        let (status, r) = self.xrpc(Method::GET, token, nsid, params, None).await;
        (status.as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// An XRPC procedure (`POST /xrpc/{nsid}` with a JSON body, or none for
    /// `Value::Null`), with an access (or, for `refreshSession`, refresh)
    /// token or none; returns the
    /// status and the JSON answer (`null` if none), without judging them.
    pub async fn procedure(&self, token: Option<&str>, nsid: &str, input: &Value) -> (u16, Value) {
        let (status, r) = self.xrpc(Method::POST, token, nsid, &[], Some(input)).await;
        (status.as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn must_query(&self, token: Option<&str>, nsid: &str, params: &[(&str, &str)]) -> Value {
        let (status, v) = self.query(token, nsid, params).await;
        assert!((200..300).contains(&status), "{nsid}: {status} {v}");
        v
    }

    async fn must(&self, token: Option<&str>, nsid: &str, input: &Value) -> Value {
        let (status, v) = self.procedure(token, nsid, input).await;
        assert!((200..300).contains(&status), "{nsid}: {status} {v}");
        v
    }

    /// Creates an account (`com.atproto.server.createAccount`; the handle
    /// must end in `.test`, the e-mail address is `<name>@example.com`) and
    /// returns it signed in.
    pub async fn create_account(&self, handle: &str, password: &str) -> BlueskyAccount {
        let name = handle
            .strip_suffix(".test")
            .unwrap_or_else(|| panic!("handles on the test PDS end in .test, not: {handle}"));
        let input =
            json!({"handle": handle, "email": format!("{name}@example.com"), "password": password});
        BlueskyAccount::from_session(
            &self
                .must(None, "com.atproto.server.createAccount", &input)
                .await,
        )
    }

    /// Signs in (`com.atproto.server.createSession`) with a handle, DID or
    /// e-mail address and a password or app password.
    pub async fn sign_in(&self, identifier: &str, password: &str) -> BlueskyAccount {
        let input = json!({"identifier": identifier, "password": password});
        BlueskyAccount::from_session(
            &self
                .must(None, "com.atproto.server.createSession", &input)
                .await,
        )
    }

    /// A new session from the account's refresh token
    /// (`com.atproto.server.refreshSession`). The old refresh token stays
    /// usable for a grace period of 2 hours on this PDS.
    pub async fn refresh(&self, account: &BlueskyAccount) -> BlueskyAccount {
        BlueskyAccount::from_session(
            &self
                .must(
                    Some(&account.refresh_jwt),
                    "com.atproto.server.refreshSession",
                    &Value::Null,
                )
                .await,
        )
    }

    /// Makes an app password named `name` (`com.atproto.server.createAppPassword`)
    /// and returns it (`xxxx-xxxx-xxxx-xxxx`), for the connector to sign in
    /// with, as users do.
    pub async fn app_password(&self, account: &BlueskyAccount, name: &str) -> String {
        let v = self
            .must(
                Some(&account.access_jwt),
                "com.atproto.server.createAppPassword",
                &json!({"name": name}),
            )
            .await;
        v["password"].as_str().unwrap().to_owned()
    }

    /// Revokes the app password named `name`. Sessions made with it can no
    /// longer be refreshed (`400 ExpiredToken "Token has been revoked"`);
    /// their access tokens stay valid until they expire.
    pub async fn revoke_app_password(&self, account: &BlueskyAccount, name: &str) {
        self.must(
            Some(&account.access_jwt),
            "com.atproto.server.revokeAppPassword",
            &json!({"name": name}),
        )
        .await;
    }

    /// Creates a record in the account's repository
    /// (`com.atproto.repo.createRecord`, validated against its lexicon);
    /// returns its `(uri, cid)`.
    pub async fn create_record(
        &self,
        account: &BlueskyAccount,
        collection: &str,
        record: Value,
    ) -> (String, String) {
        let input = json!({"repo": account.did, "collection": collection, "record": record});
        let v = self
            .must(
                Some(&account.access_jwt),
                "com.atproto.repo.createRecord",
                &input,
            )
            .await;
        (
            v["uri"].as_str().unwrap().to_owned(),
            v["cid"].as_str().unwrap().to_owned(),
        )
    }

    /// Posts `text` (an `app.bsky.feed.post` made now); returns its
    /// `(uri, cid)`.
    pub async fn post(&self, account: &BlueskyAccount, text: &str) -> (String, String) {
        let record = json!({"$type": "app.bsky.feed.post", "text": text, "createdAt": now()});
        self.create_record(account, "app.bsky.feed.post", record)
            .await
    }

    /// Posts `text` as a reply to `parent` in the thread that starts at
    /// `root` (the same as `parent` when answering a thread's first post);
    /// returns its `(uri, cid)`.
    pub async fn reply(
        &self,
        account: &BlueskyAccount,
        text: &str,
        root: &(String, String),
        parent: &(String, String),
    ) -> (String, String) {
        let record = json!({
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": now(),
            "reply": {
                "root": {"uri": root.0, "cid": root.1},
                "parent": {"uri": parent.0, "cid": parent.1},
            },
        });
        self.create_record(account, "app.bsky.feed.post", record)
            .await
    }

    /// Posts `text` mentioning `whom`: the first `@handle` of theirs in the
    /// text gets a mention facet with their DID (UTF-8 byte offsets), which
    /// is what makes it a mention; returns its `(uri, cid)`.
    pub async fn mention(
        &self,
        account: &BlueskyAccount,
        text: &str,
        whom: &BlueskyAccount,
    ) -> (String, String) {
        let at = format!("@{}", whom.handle);
        let start = text
            .find(&at)
            .unwrap_or_else(|| panic!("{at} is not in the text: {text}"));
        let record = json!({
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": now(),
            "facets": [{
                "index": {"byteStart": start, "byteEnd": start + at.len()},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": whom.did}],
            }],
        });
        self.create_record(account, "app.bsky.feed.post", record)
            .await
    }

    /// Posts `text` quoting the post `quoted` (`(uri, cid)`, as an
    /// `app.bsky.embed.record`); returns its `(uri, cid)`.
    pub async fn quote(
        &self,
        account: &BlueskyAccount,
        text: &str,
        quoted: &(String, String),
    ) -> (String, String) {
        let record = json!({
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": now(),
            "embed": {
                "$type": "app.bsky.embed.record",
                "record": {"uri": quoted.0, "cid": quoted.1},
            },
        });
        self.create_record(account, "app.bsky.feed.post", record)
            .await
    }

    /// Likes the post `subject` (`(uri, cid)`); returns the like's
    /// `(uri, cid)`.
    pub async fn like(
        &self,
        account: &BlueskyAccount,
        subject: &(String, String),
    ) -> (String, String) {
        let record = json!({
            "$type": "app.bsky.feed.like",
            "subject": {"uri": subject.0, "cid": subject.1},
            "createdAt": now(),
        });
        self.create_record(account, "app.bsky.feed.like", record)
            .await
    }

    /// Reposts the post `subject` (`(uri, cid)`); returns the repost's
    /// `(uri, cid)`.
    pub async fn repost(
        &self,
        account: &BlueskyAccount,
        subject: &(String, String),
    ) -> (String, String) {
        let record = json!({
            "$type": "app.bsky.feed.repost",
            "subject": {"uri": subject.0, "cid": subject.1},
            "createdAt": now(),
        });
        self.create_record(account, "app.bsky.feed.repost", record)
            .await
    }

    /// Sets the account's profile (`app.bsky.actor.profile`, record key
    /// `self`) to show `display_name`.
    pub async fn set_display_name(&self, account: &BlueskyAccount, display_name: &str) {
        let input = json!({
            "repo": account.did,
            "collection": "app.bsky.actor.profile",
            "rkey": "self",
            "record": {"$type": "app.bsky.actor.profile", "displayName": display_name},
        });
        self.must(
            Some(&account.access_jwt),
            "com.atproto.repo.putRecord",
            &input,
        )
        .await;
    }

    /// The strong reference `(uri, cid)` of the record at `uri`, e.g. of a
    /// post the connector published, to reply to, quote or like it.
    pub async fn strong_ref(&self, uri: &str) -> (String, String) {
        let (repo, collection, rkey) = at_parts(uri);
        let params = [("repo", repo), ("collection", collection), ("rkey", rkey)];
        let v = self
            .must_query(None, "com.atproto.repo.getRecord", &params)
            .await;
        (
            uri.to_owned(),
            v["cid"]
                .as_str()
                .unwrap_or_else(|| panic!("no cid for {uri}: {v}"))
                .to_owned(),
        )
    }

    /// Deletes a record of the account's (`com.atproto.repo.deleteRecord`).
    pub async fn delete_record(&self, account: &BlueskyAccount, uri: &str) {
        let (repo, collection, rkey) = at_parts(uri);
        let input = json!({"repo": repo, "collection": collection, "rkey": rkey});
        self.must(
            Some(&account.access_jwt),
            "com.atproto.repo.deleteRecord",
            &input,
        )
        .await;
    }

    /// Uploads a blob (`com.atproto.repo.uploadBlob`; it must really be what
    /// `mime` says, e.g. [`BlueskyPeer::PNG_1X1`]); returns the blob
    /// reference to put in a record (`{"$type": "blob", "ref": {"$link": …},
    /// "mimeType", "size"}`).
    pub async fn upload_blob(&self, account: &BlueskyAccount, bytes: &[u8], mime: &str) -> Value {
        let r = self
            .http
            .post(format!("{}/xrpc/com.atproto.repo.uploadBlob", self.url))
            .bearer_auth(&account.access_jwt)
            .header(reqwest::header::CONTENT_TYPE, mime)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "uploadBlob: {status} {v}");
        v["blob"].clone()
    }

    /// The record at `uri` (`at://did/collection/rkey`) as stored: its
    /// `value` (`{"$type", "text", "facets", "langs", "reply", "embed", …}`).
    /// Panics if there is none; see [`Self::try_record`].
    pub async fn record(&self, uri: &str) -> Value {
        self.try_record(uri)
            .await
            .unwrap_or_else(|| panic!("no record at {uri}"))
    }

    /// The record at `uri` (its `value`), or `None` when there is none
    /// (the PDS answers `400 RecordNotFound`).
    pub async fn try_record(&self, uri: &str) -> Option<Value> {
        let (repo, collection, rkey) = at_parts(uri);
        let params = [("repo", repo), ("collection", collection), ("rkey", rkey)];
        let (status, v) = self
            .query(None, "com.atproto.repo.getRecord", &params)
            .await;
        if status == 400 && v["error"] == "RecordNotFound" {
            return None;
        }
        assert_eq!(status, 200, "getRecord {uri}: {status} {v}");
        Some(v["value"].clone())
    }

    /// The records of a collection in a repository (a DID or handle), newest
    /// first, up to 100 (`com.atproto.repo.listRecords`): each
    /// `{"uri", "cid", "value"}`.
    pub async fn records(&self, repo: &str, collection: &str) -> Vec<Value> {
        let params = [("repo", repo), ("collection", collection), ("limit", "100")];
        let v = self
            .must_query(None, "com.atproto.repo.listRecords", &params)
            .await;
        v["records"].as_array().cloned().unwrap_or_default()
    }

    /// The bytes of a blob (`com.atproto.sync.getBlob`) by its CID, the
    /// `ref.$link` of its reference.
    pub async fn blob(&self, did: &str, cid: &str) -> Vec<u8> {
        let (status, r) = self
            .xrpc(
                Method::GET,
                None,
                "com.atproto.sync.getBlob",
                &[("did", did), ("cid", cid)],
                None,
            )
            .await;
        assert!(status.is_success(), "getBlob {cid}: {status}");
        r.bytes().await.unwrap().to_vec()
    }

    /// Takes the account down as the PDS's admin
    /// (`com.atproto.admin.updateSubjectStatus`): it can no longer sign in
    /// or write with its tokens (`401 AccountTakedown "Account has been
    /// taken down"`; `getSession` answers `400 InvalidRequest "Could not find
    /// user info for account: …"`).
    pub async fn take_down(&self, account: &BlueskyAccount) {
        let input = json!({
            "subject": {"$type": "com.atproto.admin.defs#repoRef", "did": account.did},
            "takedown": {"applied": true, "ref": "dialoog-test"},
        });
        let r = self
            .http
            .post(format!(
                "{}/xrpc/com.atproto.admin.updateSubjectStatus",
                self.url
            ))
            .basic_auth("admin", Some(&self.admin_password))
            .json(&input)
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert!(
            status.is_success(),
            "updateSubjectStatus: {status} {}",
            r.text().await.unwrap_or_default()
        );
    }
}
