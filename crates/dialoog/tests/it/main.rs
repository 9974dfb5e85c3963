//! The binary as a person or a script runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod crash;
mod fake_net;

use std::io::Write;
use std::process::{Command, Stdio};

fn dialoog() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dialoog"));
    c.env_remove("DIALOOG_DATABASE_URL")
        .env("DIALOOG_LOG", "warn");
    c
}

#[test]
fn analyze_streams_json_lines_in_order_and_names_bad_lines() {
    let mut child = dialoog()
        .arg("analyze")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"Heerlijke taart, echt een aanrader!\n\xc3\x28 broken\n{\"text\": \"Worst service ever, never again\"}\n\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        (lines[0]["lang"].as_str(), lines[0]["sentiment"].as_str()),
        (Some("nl"), Some("positive"))
    );
    assert_eq!(lines[1]["error"], "line 2: not valid UTF-8 (at byte 1)");
    assert_eq!(
        (lines[2]["lang"].as_str(), lines[2]["sentiment"].as_str()),
        (Some("en"), Some("negative"))
    );
    assert!(lines[2]["score"].as_f64().unwrap() < -0.5);
    assert_eq!(lines[3]["sentiment"], "neutral");
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2: not valid UTF-8"));
}

#[test]
fn migrate_and_reset_link_on_the_embedded_database() {
    let dir = std::env::temp_dir().join(format!("dialoog-cli-{}", std::process::id()));
    let data = dir.to_str().unwrap();
    let out = dialoog()
        .args(["migrate", "--data", data])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("dialoog.db").exists());
    let out = dialoog()
        .args([
            "admin",
            "reset-link",
            "--email",
            "nobody@x.nl",
            "--data",
            data,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no account with the address nobody@x.nl")
    );
    let out = dialoog()
        .args([
            "admin",
            "reset-link",
            "--email",
            "not an address",
            "--data",
            data,
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid e-mail address"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_text_ends_with_one_json_line() {
    let out = dialoog()
        .args(["bench", "text", "--items", "2000", "--queries", "500"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        (
            last["what"].as_str(),
            last["items"].as_u64(),
            last["matcher_queries"].as_u64()
        ),
        (Some("text"), Some(2000), Some(500))
    );
    assert!(
        last["items_per_second"].as_f64().unwrap() > 0.0
            && last["peak_rss_bytes"].as_u64().unwrap() > 0
    );
    let out = dialoog().args(["bench", "nothing"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown benchmark"));
}

#[test]
fn bench_sync_reads_every_item_through_each_connector() {
    for connector in ["rss", "mastodon", "bluesky", "wordpress"] {
        let out = dialoog()
            .args(["bench", "sync", "--connector", connector, "--items", "1500"])
            .env("DIALOOG_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{connector}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(
            (
                last["what"].as_str(),
                last["connector"].as_str(),
                last["items"].as_u64()
            ),
            (Some("sync"), Some(connector), Some(1500))
        );
        // Past one sync's page budget, the rest follows in the next.
        assert!(last["syncs"].as_u64().unwrap() >= 1, "{last}");
    }
    let out = dialoog()
        .args(["bench", "sync", "--connector", "myspace", "--items", "5"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown connector"));
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let out = dialoog()
        .args(["migrate", "--database-url", "mysql://x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn rotate_key_reseals_every_channel() {
    let dir = std::env::temp_dir().join(format!("dialoog-rotate-{}", std::process::id()));
    let data = dir.to_str().unwrap().to_owned();
    assert!(
        dialoog()
            .args(["migrate", "--data", &data])
            .output()
            .unwrap()
            .status
            .success()
    );
    // First run makes the key file (readable by its owner only).
    assert!(
        dialoog()
            .args(["admin", "rotate-key", "--data", &data])
            .output()
            .unwrap()
            .status
            .success()
    );
    let key_file = dir.join("secret.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let old =
        dialoog_engine::Cipher::from_text(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    let store = dialoog_store::Store::connect(&format!("sqlite://{data}/dialoog.db"))
        .await
        .unwrap();
    let owner = dialoog_store::NewOwner {
        organisation: "B",
        name: "A",
        email: "a@b.nl",
        password_hash: "x",
        locale: "nl",
        timezone: "UTC",
    };
    let (_, ws) = store.setup(&owner, 0).await.unwrap();
    let sealed = old
        .seal(br#"{"network":"rss","feed_url":"https://x.nl/feed"}"#)
        .unwrap();
    let ch = store
        .create_channel(ws.id, "rss", "X", &sealed, 0)
        .await
        .unwrap();
    store.close().await;

    let out = dialoog()
        .args(["admin", "rotate-key", "--data", &data])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sealed with a new key"));
    let new =
        dialoog_engine::Cipher::from_text(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    let store = dialoog_store::Store::connect(&format!("sqlite://{data}/dialoog.db"))
        .await
        .unwrap();
    let now = store.channel(ws.id, ch.id).await.unwrap().credentials;
    assert_eq!(
        new.open(&now).unwrap(),
        br#"{"network":"rss","feed_url":"https://x.nl/feed"}"#.to_vec()
    );
    assert!(old.open(&now).is_err());
    assert!(dir.join("secret.key.old").exists());
    store.close().await;
    std::fs::remove_dir_all(&dir).ok();
}

/// A feed server on a free port answering every request with one RSS item.
fn feed_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/feed.xml", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut s, &mut buf);
            let body = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Reviews</title><link>https://x.example</link><description>d</description><item><guid>r1</guid><title>Heerlijk</title><description>Lekkere taart</description></item></channel></rss>";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[tokio::test]
async fn serve_fetches_new_channels_by_itself() {
    let feed = feed_server();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("dialoog-poll-{}", std::process::id()));
    let mut child = dialoog()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data",
            dir.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "dialoog serve did not start");
    let setup: serde_json::Value = http
        .post(format!("{base}/api/v1/setup"))
        .json(&serde_json::json!({"organisation": "Bakkerij", "name": "Anna", "email": "anna@bakkerij.nl", "password": "paars-fietsje-42"}))
        .send().await.unwrap().json().await.unwrap();
    let token = setup["token"].as_str().unwrap().to_owned();
    let ch: serde_json::Value = http
        .post(format!("{base}/api/v1/workspaces/1/channels"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"network": "rss", "feed_url": feed}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = ch["id"].as_i64().unwrap();
    // Nobody presses "fetch now": the poller brings the item in.
    let mut items = serde_json::Value::Null;
    for _ in 0..100 {
        items = http
            .get(format!("{base}/api/v1/workspaces/1/channels/{id}/items"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if items.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(items[0]["text"], "Heerlijk\nLekkere taart", "{items}");
    let _ = child.kill();
    let _ = child.wait();
    std::fs::remove_dir_all(&dir).ok();
}

/// `dialoog bench inbox` on a tiny inbox: the JSON line of API.md with
/// every request answered and every live update seen, on SQLite and (when
/// `DIALOOG_TEST_PG_URL` is set) on PostgreSQL.
#[test]
fn bench_inbox_runs_on_a_tiny_inbox() {
    let pg = std::env::var("DIALOOG_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    for url in [None, pg] {
        let mut cmd = dialoog();
        cmd.args(["bench", "inbox", "--items", "300", "--rate", "20"])
            .args(["--seconds", "2", "--search-rate", "5", "--live-items", "3"]);
        if let Some(u) = &url {
            cmd.args(["--database-url", u]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let line: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(line["what"], "inbox");
        assert_eq!(line["items"], 300);
        assert_eq!(line["requests"], 40);
        assert_eq!(line["searches"]["n"], 10);
        assert_eq!(line["errors"], 0);
        assert_eq!(line["live_items"], 3);
        for key in [
            "seconds",
            "items_per_second",
            "p50_ms",
            "p99_ms",
            "peak_rss_bytes",
        ] {
            assert!(line[key].is_number(), "{key}");
        }
        let per = line["per_filter"].as_object().unwrap();
        assert!(!per.is_empty());
        assert!(per.values().all(|v| v["p99_ms"].is_number()));
        let per = line["per_search"].as_object().unwrap();
        assert!(per.keys().all(|k| k.starts_with("q_")), "{per:?}");
        assert!(per.values().all(|v| v["p99_ms"].is_number()));
    }
}
