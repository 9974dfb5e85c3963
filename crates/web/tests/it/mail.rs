//! E-mail through a real SMTP server (aiosmtpd, from PyPI): the reset link
//! and the invitation arrive and work.

use crate::browser::Browser;
use crate::harness::App;
use dialoog_store::testing::TestDb;
use dialoog_web::{AppState, Mailer, WebConfig};
use reqwest::StatusCode;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// aiosmtpd printing every message it receives; killed on drop.
struct Smtp {
    child: Child,
    port: u16,
    out: Arc<Mutex<String>>,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn smtp() -> Option<Smtp> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spawned = Command::new("python3")
        .args([
            "-u",
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "python3 with aiosmtpd is required in CI: {e}"
            );
            eprintln!("SKIPPED: SMTP tests (python3 not found)");
            return None;
        }
    };
    let out = Arc::new(Mutex::new(String::new()));
    let stdout = child.stdout.take().unwrap();
    let sink = out.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&line);
            sink.lock().unwrap().push('\n');
        }
    });
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Smtp { child, port, out });
        }
        if child.try_wait().unwrap().is_some() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "aiosmtpd is required in CI (pip install aiosmtpd)"
            );
            eprintln!("SKIPPED: SMTP tests (aiosmtpd not installed)");
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("aiosmtpd did not start");
}

impl Smtp {
    async fn link(&self, marker: &str) -> String {
        for _ in 0..100 {
            // Bodies are quoted-printable: undo soft line breaks as a mail client does.
            let text = self
                .out
                .lock()
                .unwrap()
                .replace("=\n", "")
                .replace("=3D", "=");
            if let Some(i) = text.rfind(marker) {
                let start = text[..i].rfind("http://").unwrap();
                return text[start..].split_whitespace().next().unwrap().to_owned();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "no e-mail with {marker} arrived; the server saw:\n{}",
            self.out.lock().unwrap()
        );
    }
}

#[tokio::test]
async fn reset_link_and_invitation_arrive_by_email() {
    let Some(smtp) = smtp() else { return };
    let db = TestDb::sqlite().await;
    let mut app = App::start(db).await;
    // Restart the app with e-mail configured, on the same database.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mailer = Mailer::new(
        &format!("smtp://127.0.0.1:{}", smtp.port),
        "Dialoog <dialoog@bakkerij.nl>",
    )
    .unwrap();
    let state = AppState::new(
        app.db.store.clone(),
        WebConfig {
            allow_loopback_media: false,
            public_url: url.clone(),
            mailer: Some(mailer),
        },
        dialoog_engine::Cipher::new([7; 32]),
    );
    tokio::spawn(async move { axum::serve(listener, dialoog_web::app(state)).await });
    app.url = url;
    let owner = app.setup().await;

    let b = Browser::new(&app).await;
    let html = b.get(&app, "/password/forgot").await.text().await.unwrap();
    assert!(html.contains("we sturen je een link"), "{html}");
    let r = b
        .post(&app, "/password/forgot", "email=anna%40bakkerij.nl")
        .await;
    assert!(r.text().await.unwrap().contains("is er een link onderweg"));
    let link = smtp.link("/password/reset/").await;
    assert!(
        smtp.out
            .lock()
            .unwrap()
            .contains("Subject: Kies een nieuw wachtwoord voor Dialoog")
    );
    let path = link.trim_start_matches(&app.url).to_owned();
    let r = b.post(&app, &path, "password=via-de-mail-hersteld").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{link}\n{}",
        smtp.out.lock().unwrap()
    );
    assert_eq!(r.headers()["location"], "/sign-in?done=reset");
    let r = b
        .post(
            &app,
            "/sign-in",
            "email=anna%40bakkerij.nl&password=via-de-mail-hersteld",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // An unknown address gets the same answer and no e-mail.
    let before = smtp.out.lock().unwrap().matches("/password/reset/").count();
    b.post(&app, "/password/forgot", "email=nobody%40x.nl")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        smtp.out.lock().unwrap().matches("/password/reset/").count(),
        before
    );

    // An invitation is e-mailed too.
    let ws = app
        .call("GET", "/api/v1/workspaces", Some(&owner), None)
        .await
        .1[0]["id"]
        .as_i64()
        .unwrap();
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/{ws}/members"),
            Some(&owner),
            Some(serde_json::json!({"email": "bob@jansen.be", "role": "editor"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let mailed = smtp.link("/invite/").await;
    assert_eq!(mailed, v["invite_url"].as_str().unwrap());
}
