//! The WordPress test site: Debian's `wordpress` package served by PHP's
//! built-in web server on loopback, one site per test with its own database
//! (`dialoog_wp_…` in the local MariaDB, dropped on drop) and its own folder
//! for `wp-config.php` and uploads. `scripts/peers/wordpress/site.php`
//! installs it without the browser installer.

use super::{free_port, skipped};
use reqwest::Method;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to get what the site needs.
const INSTALL: &str = "apt-get install wordpress php-cli php-mysql php-gd, and a MariaDB on \
                       127.0.0.1:3306 (or set DIALOOG_TEST_WORDPRESS_DB_HOST, _DB_USER, _DB_PASSWORD)";

/// A WordPress site ("Bakkerij De Vries & Zn", in the Amsterdam time zone)
/// with one published post, an editor with an application password (the
/// connector's user) and an administrator (for the helpers). Stopped, its
/// database dropped and its folder removed on drop.
pub struct WordPressPeer {
    /// The site's address, `http://127.0.0.1:PORT/`.
    pub url: String,
    /// The editor's user name.
    pub username: String,
    /// The editor's application password, in groups of four as WordPress
    /// shows it.
    pub app_password: String,
    /// The post made at install ("Kersttaarten"), open for comments.
    pub post_id: u64,
    admin_username: String,
    admin_password: String,
    php: String,
    script: PathBuf,
    database: String,
    dir: PathBuf,
    child: Option<Child>,
    http: reqwest::Client,
}

impl Drop for WordPressPeer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new(&self.php)
            .arg(&self.script)
            .args(["drop", &self.database])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `scripts/peers/wordpress/site.php`.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/peers/wordpress/site.php")
}

impl WordPressPeer {
    /// Installs and starts one on a free port, or `None` when WordPress
    /// tests are skipped (never in CI). Panics, saying what to install, when
    /// PHP, WordPress or the database server is missing.
    pub async fn start() -> Option<Self> {
        if skipped("WORDPRESS") {
            return None;
        }
        let php = std::env::var("DIALOOG_TEST_PHP").unwrap_or_else(|_| "php".into());
        let mut last = String::new();
        for _attempt in 0..3 {
            let dir = super::bluesky::temp_dir("wordpress");
            let tag = dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .trim_start_matches("dialoog-wordpress-")
                .replace('-', "_");
            let port = free_port();
            let mut peer = Self {
                url: format!("http://127.0.0.1:{port}/"),
                username: String::new(),
                app_password: String::new(),
                post_id: 0,
                admin_username: String::new(),
                admin_password: String::new(),
                php: php.clone(),
                script: script(),
                database: format!("dialoog_wp_{tag}"),
                dir,
                child: None,
                http: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap(),
            };
            let out = Command::new(&php)
                .arg(&peer.script)
                .arg("install")
                .arg(&peer.dir)
                .arg(port.to_string())
                .arg(&peer.database)
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| {
                    panic!("the WordPress test site needs `{php}`: {INSTALL}: {e}")
                });
            assert!(
                out.status.success(),
                "the WordPress test site could not be installed: {}{}\n({INSTALL})",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout),
            );
            let site: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "site.php install said: {} ({e})",
                    String::from_utf8_lossy(&out.stdout)
                )
            });
            let text = |v: &Value| v.as_str().unwrap().to_owned();
            peer.username = text(&site["editor"]["username"]);
            peer.app_password = text(&site["editor"]["app_password"]);
            peer.admin_username = text(&site["admin"]["username"]);
            peer.admin_password = text(&site["admin"]["app_password"]);
            peer.post_id = site["post_id"].as_u64().unwrap();
            let log = std::fs::File::create(peer.dir.join("server.log")).unwrap();
            peer.child = Some(
                // One process (no PHP_CLI_SERVER_WORKERS): its workers would
                // outlive a kill of the server.
                Command::new(&php)
                    .args(["-S", &format!("127.0.0.1:{port}"), "-t"])
                    .arg(text(&site["docroot"]))
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .unwrap_or_else(|e| panic!("`{php} -S` did not start: {e}")),
            );
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(30) {
                if let Some(Ok(Some(status))) = peer.child.as_mut().map(Child::try_wait) {
                    last = format!(
                        "it exited ({status}): {}",
                        std::fs::read_to_string(peer.dir.join("server.log")).unwrap_or_default()
                    );
                    break;
                }
                let up = peer
                    .http
                    .get(format!("{}?rest_route=/", peer.url))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if up {
                    return Some(peer);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // Its port may have been taken meanwhile: try another.
            drop(peer);
        }
        panic!("the WordPress test site did not start: {last}")
    }

    /// A call to the REST API (`?rest_route=`) as the administrator; returns
    /// the JSON answer, and panics unless it succeeded.
    pub async fn admin(
        &self,
        method: Method,
        route: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Value {
        let mut req = self
            .http
            .request(method.clone(), &self.url)
            .query(&[("rest_route", route)])
            .query(query)
            .basic_auth(&self.admin_username, Some(&self.admin_password));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {route}: {status} {v}");
        v
    }

    /// Reads `route` (`/wp/v2/posts/4`, say) as the administrator, with
    /// everything an editor sees (`context=edit`).
    pub async fn read(&self, route: &str) -> Value {
        self.admin(Method::GET, route, &[("context", "edit")], None)
            .await
    }

    /// Leaves a comment on `post` as a visitor would, through the site's
    /// comment form (`wp-comments-post.php`); returns its id. It waits for
    /// moderation, as a first comment by a visitor does: see
    /// [`approve`](Self::approve).
    pub async fn comment_as_visitor(
        &self,
        post: u64,
        parent: u64,
        name: &str,
        email: &str,
        html: &str,
    ) -> u64 {
        let r = self
            .http
            .post(format!("{}wp-comments-post.php", self.url))
            .form(&[
                ("comment_post_ID", post.to_string().as_str()),
                ("comment_parent", &parent.to_string()),
                ("author", name),
                ("email", email),
                ("url", ""),
                ("comment", html),
            ])
            .send()
            .await
            .unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let id = location
            .rsplit_once("#comment-")
            .and_then(|(_, id)| id.parse().ok());
        match id {
            Some(id) if status.is_redirection() => id,
            _ => panic!(
                "the comment form answered {status} {location}: {}",
                r.text().await.unwrap_or_default()
            ),
        }
    }

    /// Approves comment `id`, as a moderator does.
    pub async fn approve(&self, id: u64) {
        let c = self
            .admin(
                Method::POST,
                &format!("/wp/v2/comments/{id}"),
                &[],
                Some(serde_json::json!({"status": "approved"})),
            )
            .await;
        assert_eq!(c["status"], "approved", "{c}");
    }
}
