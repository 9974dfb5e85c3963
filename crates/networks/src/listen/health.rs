//! A listening source's health and throughput, as the UI shows it.

use std::sync::Mutex;
use tokio::sync::watch;

/// What a source is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Opening its first connection.
    Starting,
    /// Connected and receiving.
    Connected,
    /// The network offers no stream: polling instead (the reason says why).
    Polling,
    /// Receiving, but the pipeline behind is full: reading waits.
    Slowed,
    /// The connection was lost; trying again (the reason says why).
    Reconnecting,
    /// Failing in a way that needs a person (bad address, refused): it
    /// keeps trying, slowly.
    Failing,
}

impl Status {
    /// The stable name stored and shown in the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Connected => "connected",
            Status::Polling => "polling",
            Status::Slowed => "slowed",
            Status::Reconnecting => "reconnecting",
            Status::Failing => "failing",
        }
    }
}

/// A source's health at one moment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    /// What it is doing.
    pub status: Status,
    /// Why, in words (for slowed, polling, reconnecting and failing).
    pub reason: Option<String>,
    /// Since when it has this status (UTC ms).
    pub since_ms: i64,
    /// Items delivered in the last 60 seconds.
    pub per_minute: u64,
    /// Items delivered since the source started.
    pub delivered: u64,
    /// Connections opened since the source started.
    pub connects: u64,
    /// Messages that could not be read and were skipped.
    pub skipped: u64,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            status: Status::Starting,
            reason: None,
            since_ms: now_ms(),
            per_minute: 0,
            delivered: 0,
            connects: 0,
            skipped: 0,
        }
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Counts per second over the last minute.
#[derive(Debug)]
struct Meter {
    buckets: [u64; 60],
    last_sec: i64,
}

impl Meter {
    fn add(&mut self, now_sec: i64, n: u64) -> u64 {
        let gap = now_sec - self.last_sec;
        if !(0..60).contains(&gap) {
            self.buckets = [0; 60];
        } else {
            for s in (self.last_sec + 1)..=now_sec {
                self.buckets[s.rem_euclid(60) as usize] = 0;
            }
        }
        self.last_sec = now_sec;
        self.buckets[now_sec.rem_euclid(60) as usize] += n;
        self.buckets.iter().sum()
    }
}

/// The writing side of a source's health, shared by its task; readers hold
/// the `watch::Receiver` from [`HealthReporter::new`].
#[derive(Debug)]
pub struct HealthReporter {
    tx: watch::Sender<Health>,
    meter: Mutex<Meter>,
}

impl HealthReporter {
    /// A reporter and the receiver the caller reads.
    pub fn new() -> (Self, watch::Receiver<Health>) {
        let (tx, rx) = watch::channel(Health::default());
        let meter = Mutex::new(Meter {
            buckets: [0; 60],
            last_sec: now_ms() / 1000,
        });
        (Self { tx, meter }, rx)
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.tx.borrow().status
    }

    /// Sets the status and its reason (`since_ms` moves only when the
    /// status changes).
    pub fn set(&self, status: Status, reason: Option<String>) {
        self.tx.send_modify(|h| {
            if h.status != status {
                h.since_ms = now_ms();
            }
            if status == Status::Connected
                && h.status != Status::Connected
                && h.status != Status::Slowed
            {
                h.connects += 1;
            }
            h.status = status;
            h.reason = reason;
        });
    }

    /// Counts `n` items delivered.
    pub fn delivered(&self, n: usize) {
        let per_minute = match self.meter.lock() {
            Ok(mut m) => m.add(now_ms() / 1000, n as u64),
            Err(_) => 0,
        };
        self.tx.send_modify(|h| {
            h.delivered += n as u64;
            h.per_minute = per_minute;
        });
    }

    /// Counts a message that could not be read.
    pub fn skipped(&self) {
        self.tx.send_modify(|h| h.skipped += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_forgets_after_a_minute() {
        let mut m = Meter {
            buckets: [0; 60],
            last_sec: 1000,
        };
        assert_eq!(m.add(1000, 5), 5);
        assert_eq!(m.add(1030, 5), 10);
        assert_eq!(m.add(1061, 1), 6, "the first five are older than a minute");
        assert_eq!(m.add(2000, 1), 1);
    }

    #[test]
    fn reporting() {
        let (r, rx) = HealthReporter::new();
        r.set(Status::Connected, None);
        r.delivered(3);
        r.set(Status::Reconnecting, Some("lost".into()));
        r.set(Status::Connected, None);
        let h = rx.borrow().clone();
        assert_eq!((h.delivered, h.per_minute, h.connects), (3, 3, 2));
        assert_eq!(h.status.as_str(), "connected");
    }
}
