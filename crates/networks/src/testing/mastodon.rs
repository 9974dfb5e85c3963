//! The Mastodon test server.

use super::{free_port, skipped};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Mastodon API server (PyPI `mastodon-mock`, in memory, with its demo
/// community: ada, grace, alan and katherine, whose access tokens are
/// `ada_token` and so on).
pub struct MastodonPeer {
    /// Its address, `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
    http: reqwest::Client,
    /// Its own temporary folder: the server keeps files there even "in
    /// memory" (a database file, uploaded media), removed on drop.
    dir: std::path::PathBuf,
}

impl Drop for MastodonPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl MastodonPeer {
    /// Starts one, or `None` when Mastodon tests are skipped (never in CI).
    pub async fn start() -> Option<Self> {
        if skipped("MASTODON") {
            return None;
        }
        let python = std::env::var("DIALOOG_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        for _attempt in 0..3 {
            let port = free_port();
            let dir = std::env::temp_dir()
                .join(format!("dialoog-mastodon-{port}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let child = Command::new(&python)
                .env("TMPDIR", &dir)
                .args(["-m", "mastodon_mock", "serve", "--in-memory", "--demo"])
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--log-level", "warning"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("the Mastodon test server needs `{python} -m mastodon_mock` (pip install mastodon-mock): {e}")
                });
            let peer = Self {
                url: format!("http://127.0.0.1:{port}"),
                child,
                http: reqwest::Client::new(),
                dir,
            };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(30) {
                let up = peer
                    .http
                    .get(format!("{}/api/v1/instance", peer.url))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if up {
                    return Some(peer);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            // Its port may have been taken meanwhile: try another.
            drop(peer);
        }
        panic!(
            "the Mastodon test server (python3 -m mastodon_mock) did not start; pip install mastodon-mock"
        )
    }

    /// A call as the demo user with `token`; returns the JSON answer.
    pub async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Value {
        let r = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .bearer_auth(token)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// Posts a status as the demo user with `token`; returns its id.
    pub async fn post(&self, token: &str, form: &[(&str, &str)]) -> String {
        let v = self.call(token, "POST", "/api/v1/statuses", form).await;
        v["id"].as_str().unwrap().to_owned()
    }

    /// Adds a fault rule (`{"match": …, "effect": …, "count": n}`).
    pub async fn fault(&self, rule: Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/_mock/faults", self.url))
            .json(&rule)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "fault rule refused: {}",
            r.text().await.unwrap_or_default()
        );
    }
}
