//! The SMTP test server: aiosmtpd (PyPI), one per test, that records every
//! message it accepts; optionally with STARTTLS, a login, or a fault.

use super::free_port;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SERVER: &str = r#"
import asyncio, json, ssl, sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, user, password, fault = sys.argv[1:7]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        if fault == "hang":
            await asyncio.sleep(60)
        if fault:
            return fault
        print(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.original_content.decode("latin-1"),
        }), flush=True)
        return "250 OK"

def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login.decode() == user
          and auth_data.password.decode() == password)
    return AuthResult(success=ok, handled=False)

kwargs = {}
if cert:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    kwargs.update(tls_context=ctx, require_starttls=True)
if user:
    kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=bool(cert))
controller = Controller(Handler(), hostname="127.0.0.1", port=int(port), **kwargs)
controller.start()
print("READY", flush=True)
threading.Event().wait()
"#;

/// How the SMTP test server behaves.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// Certificate and key files: STARTTLS required.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// A user name and password: AUTH required.
    pub login: Option<(String, String)>,
    /// The answer to every message instead of `250` (`451 …`, `550 …`), or
    /// `hang` to answer nothing for a minute once the message is sent.
    pub fault: Option<String>,
}

/// A message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope's sender.
    pub from: String,
    /// The envelope's recipients.
    pub to: Vec<String>,
    /// The message as it arrived.
    pub data: Vec<u8>,
}

/// aiosmtpd on loopback; killed on drop.
pub struct SmtpPeer {
    /// Its port.
    pub port: u16,
    child: Child,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn required() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

impl SmtpPeer {
    /// A plain server that accepts everything, or `None` when aiosmtpd
    /// cannot be had (never in CI).
    pub fn start() -> Option<Self> {
        Self::start_with(SmtpOptions::default())
    }

    /// A server with `options`, or `None` when aiosmtpd cannot be had
    /// (never in CI).
    pub fn start_with(options: SmtpOptions) -> Option<Self> {
        let python = std::env::var("DIALOOG_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let port = free_port();
        let (cert, key) = options
            .tls
            .map(|(c, k)| (c.display().to_string(), k.display().to_string()))
            .unwrap_or_default();
        let (user, password) = options.login.unwrap_or_default();
        let spawned = Command::new(&python)
            .args(["-u", "-c", SERVER, &port.to_string(), &cert, &key])
            .args([&user, &password, options.fault.as_deref().unwrap_or("")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                assert!(!required(), "python3 with aiosmtpd is required in CI: {e}");
                eprintln!("SKIPPED: SMTP tests (python3 not found)");
                return None;
            }
        };
        let received = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let sink = received.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line == "READY" {
                    let _ = ready_tx.send(());
                    continue;
                }
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                sink.lock().unwrap().push(Received {
                    from: text("from"),
                    to: v["to"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|t| t.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    data: text("data").chars().map(|c| c as u8).collect(),
                });
            }
        });
        if ready_rx.recv_timeout(Duration::from_secs(20)).is_ok() {
            return Some(Self {
                port,
                child,
                received,
            });
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            !required(),
            "aiosmtpd is required in CI (pip install aiosmtpd)"
        );
        eprintln!("SKIPPED: SMTP tests (aiosmtpd not installed)");
        None
    }

    /// The messages accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `n` messages have arrived (at most 10 s) and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {n} messages, the SMTP server has {}",
            self.received().len()
        );
    }
}
