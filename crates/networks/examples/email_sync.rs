//! The e-mail connector's share of the sync benchmark: `items` messages in a
//! real Dovecot on loopback, fetched through `EmailConnector` from the start
//! of the mailbox until nothing is left (500 per fetch), parsed into items.
//! Storage is measured by `dialoog bench sync` for the other connectors and
//! is the same code for every network.
//!
//!     cargo run --release -p dialoog-networks --features testing --example email_sync -- 1000
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use dialoog_networks::Connector;
use dialoog_networks::email::{EmailConfig, EmailConnector};
use dialoog_networks::testing::DovecotPeer;
use std::time::Instant;

fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

#[tokio::main]
async fn main() {
    let items: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let peer = DovecotPeer::start().await.expect("Dovecot");
    let texts = dialoog_text_free_sample(items);
    let mails: Vec<Vec<u8>> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| format!("From: Klant {i} <klant{i}@example.nl>\r\nTo: webcare@example.test\r\nSubject: Vraag {i}\r\nMessage-ID: <m{i}@example.nl>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{t}\r\n").into_bytes())
        .collect();
    peer.deliver_all(&mails).await;
    drop(mails);
    let c = EmailConnector::new(EmailConfig {
        imap_url: format!("imap://127.0.0.1:{}?tls=none", peer.imap_port),
        smtp_url: "smtp://127.0.0.1:9?tls=none".into(),
        username: peer.user.clone(),
        password: peer.password.clone(),
        address: "webcare@example.test".into(),
    })
    .unwrap();
    let mut cursor = format!(
        "{{\"uidvalidity\":{},\"last_uid\":0}}",
        peer.uidvalidity().await
    );
    let start = Instant::now();
    let (mut got, mut fetches) = (0, 0);
    loop {
        let f = c.fetch(&cursor).await.unwrap();
        got += f.items.len();
        fetches += 1;
        cursor = f.cursor;
        if !f.more {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(got, items);
    println!(
        "{{\"what\":\"sync\",\"connector\":\"email\",\"items\":{items},\"syncs\":{fetches},\"seconds\":{seconds:.4},\"items_per_second\":{:.0},\"peak_rss_bytes\":{}}}",
        items as f64 / seconds,
        peak_rss_bytes()
    );
}

/// Customer-style lines, without pulling in the text crate.
fn dialoog_text_free_sample(n: usize) -> Vec<String> {
    let parts = [
        "Mijn bestelling is nog niet aangekomen, kunt u kijken waar hij blijft?",
        "Bedankt voor de snelle levering, de taart was heerlijk!",
        "Is de winkel op zondag open? Ik wil graag brood ophalen.",
        "The cake arrived damaged, I would like a refund please.",
    ];
    (0..n)
        .map(|i| format!("{} (ordernummer {})", parts[i % parts.len()], 1000 + i))
        .collect()
}
