//! The IMAP test server: a real Dovecot (Debian's `dovecot-imapd`), one per
//! test, in its own directory, with a self-signed certificate for
//! 127.0.0.1.

use super::{free_port, skipped};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A Dovecot with one user, listening on loopback with STARTTLS (and
/// plain login) on `imap_port` and TLS on `imaps_port`; stopped and its
/// directory removed on drop.
pub struct DovecotPeer {
    /// The port for `imap://` (STARTTLS, or plain with `?tls=none`).
    pub imap_port: u16,
    /// The port for `imaps://`.
    pub imaps_port: u16,
    /// The user's login name (also its address).
    pub user: String,
    /// The user's password.
    pub password: String,
    /// The server's certificate (PEM), to trust in tests.
    pub cert_pem: Vec<u8>,
    dir: PathBuf,
    child: Child,
}

impl Drop for DovecotPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

type Plain = async_imap::Session<tokio::net::TcpStream>;

fn dovecot_binary() -> String {
    if let Ok(b) = std::env::var("DIALOOG_TEST_DOVECOT") {
        return b;
    }
    if Path::new("/usr/sbin/dovecot").exists() {
        "/usr/sbin/dovecot".into()
    } else {
        "dovecot".into()
    }
}

fn fresh_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!(
        "dialoog-dovecot-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The user and group Dovecot's processes and mail files run as.
fn mail_owner() -> (String, String) {
    let id = |flag: &str| {
        Command::new("id")
            .arg(flag)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    if id("-u") == "0" {
        ("nobody".into(), "nogroup".into())
    } else {
        (id("-un"), id("-gn"))
    }
}

fn config(dir: &Path, imap: u16, imaps: u16, owner: &(String, String)) -> String {
    let d = dir.display();
    let (user, group) = owner;
    format!(
        r"base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
mail_location = maildir:{d}/mail/%u
mail_uid = {user}
mail_gid = {group}
first_valid_uid = 1
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = home={d}/mail/%u
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \Sent
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"
    )
}

/// Whether an IMAP server greets on `port`.
async fn greets(port: u16) -> bool {
    let Ok(Ok(tcp)) = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    else {
        return false;
    };
    let mut line = String::new();
    let mut r = BufReader::new(tcp);
    matches!(
        tokio::time::timeout(Duration::from_secs(2), r.read_line(&mut line)).await,
        Ok(Ok(_))
    ) && line.starts_with("* OK")
}

impl DovecotPeer {
    /// Starts one, or `None` when e-mail tests are skipped (never in CI).
    pub async fn start() -> Option<Self> {
        if skipped("DOVECOT") {
            return None;
        }
        let binary = dovecot_binary();
        let owner = mail_owner();
        for _attempt in 0..3 {
            let dir = fresh_dir();
            for sub in ["run", "state", "mail"] {
                std::fs::create_dir_all(dir.join(sub)).unwrap();
            }
            run(
                Command::new("openssl")
                    .args(["req", "-x509", "-newkey", "ec"])
                    .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
                    .arg("-keyout")
                    .arg(dir.join("key.pem"))
                    .arg("-out")
                    .arg(dir.join("cert.pem"))
                    .args(["-days", "2", "-subj", "/CN=127.0.0.1"])
                    .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
                    .args(["-addext", "basicConstraints=critical,CA:FALSE"])
                    .args(["-addext", "extendedKeyUsage=serverAuth"]),
                "a test certificate needs the openssl command",
            );
            let user = "webcare@example.test".to_owned();
            let password = "geheim-123".to_owned();
            std::fs::write(dir.join("users"), format!("{user}:{{PLAIN}}{password}\n")).unwrap();
            run(
                Command::new("chown")
                    .arg("-R")
                    .arg(format!("{}:{}", owner.0, owner.1))
                    .arg(dir.join("mail")),
                "chown of the mail directory",
            );
            let (imap_port, imaps_port) = (free_port(), free_port());
            let conf = dir.join("dovecot.conf");
            std::fs::write(&conf, config(&dir, imap_port, imaps_port, &owner)).unwrap();
            let child = Command::new(&binary)
                .arg("-F")
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "the e-mail tests need Dovecot (`{binary}`; apt-get install dovecot-imapd): {e}"
                    )
                });
            let cert_pem = std::fs::read(dir.join("cert.pem")).unwrap();
            let mut peer = Self {
                imap_port,
                imaps_port,
                user,
                password,
                cert_pem,
                dir,
                child,
            };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(20) {
                if peer.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                if greets(imap_port).await {
                    return Some(peer);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // Its ports may have been taken meanwhile: try others.
            let log = std::fs::read_to_string(peer.dir.join("dovecot.log")).unwrap_or_default();
            eprintln!("Dovecot did not start:\n{log}");
            let _ = peer.child.kill();
        }
        panic!("Dovecot (`{binary} -F -c …`) did not start; apt-get install dovecot-imapd")
    }

    /// Where the server's certificate and key are (for an SMTP test
    /// server with the same certificate).
    pub fn cert_files(&self) -> (PathBuf, PathBuf) {
        (self.dir.join("cert.pem"), self.dir.join("key.pem"))
    }

    async fn session(&self) -> Plain {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().unwrap();
        client
            .login(&self.user, &self.password)
            .await
            .map_err(|(e, _)| e)
            .unwrap()
    }

    /// Delivers messages into INBOX with IMAP APPEND, in order.
    pub async fn deliver_all(&self, messages: &[Vec<u8>]) {
        let mut s = self.session().await;
        for m in messages {
            s.append("INBOX", None, None, m).await.unwrap();
        }
        s.logout().await.unwrap();
    }

    /// Delivers one message into INBOX.
    pub async fn deliver(&self, message: &[u8]) {
        self.deliver_all(&[message.to_vec()]).await;
    }

    /// The messages in `mailbox`, whole, oldest first (read with PEEK).
    pub async fn messages(&self, mailbox: &str) -> Vec<Vec<u8>> {
        use futures_util::StreamExt;
        let mut s = self.session().await;
        let mb = s.examine(mailbox).await.unwrap();
        let mut out = Vec::new();
        if mb.exists > 0 {
            let mut fetched: Vec<_> = {
                let stream = s.fetch("1:*", "(UID BODY.PEEK[])").await.unwrap();
                stream.collect::<Vec<_>>().await
            }
            .into_iter()
            .map(Result::unwrap)
            .collect();
            fetched.sort_by_key(|f| f.uid);
            out = fetched
                .iter()
                .filter_map(|f| f.body().map(<[u8]>::to_vec))
                .collect();
        }
        s.logout().await.unwrap();
        out
    }

    /// How many messages in INBOX carry the \Seen flag.
    pub async fn seen(&self) -> usize {
        let mut s = self.session().await;
        s.examine("INBOX").await.unwrap();
        let n = s.uid_search("SEEN").await.unwrap().len();
        s.logout().await.unwrap();
        n
    }

    /// INBOX's UIDVALIDITY.
    pub async fn uidvalidity(&self) -> u32 {
        let mut s = self.session().await;
        let v = s.examine("INBOX").await.unwrap().uid_validity.unwrap();
        s.logout().await.unwrap();
        v
    }

    /// Deletes INBOX's UID list and indexes, as when a mailbox is rebuilt
    /// or restored: Dovecot numbers its messages afresh, with a new
    /// UIDVALIDITY.
    pub fn recreate_inbox(&self) {
        let inbox = self.dir.join("mail").join(&self.user);
        for entry in std::fs::read_dir(&inbox).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "dovecot-uidlist" || name.starts_with("dovecot.index") {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
    }
}
