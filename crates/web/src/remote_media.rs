//! Images from outside, fetched through Dialoog (never by the browser):
//! the fetcher's rules (`dialoog_networks::remote_image`), a few fetches at
//! a time, and a small cache in memory so a page of images is not fetched
//! again at every visit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use dialoog_networks::remote_image::{ImageFetcher, Limits, Refused, RemoteImage};

/// The most bytes the cache holds.
const CACHE_BYTES: usize = 64 << 20;
/// The most answers the cache holds.
const CACHE_ENTRIES: usize = 512;
/// How long an image is kept.
const KEEP_IMAGE: Duration = Duration::from_secs(3600);
/// How long a refusal is kept (so a broken image is not fetched twenty
/// times for one page, and is tried again soon).
const KEEP_REFUSAL: Duration = Duration::from_secs(60);
/// Fetches under way at once in one process.
const AT_ONCE: usize = 4;

struct Entry {
    url: String,
    at: Instant,
    answer: Result<Arc<RemoteImage>, Refused>,
}

impl Entry {
    fn size(&self) -> usize {
        self.url.len() + self.answer.as_ref().map_or(0, |i| i.bytes.len())
    }

    fn fresh(&self, now: Instant) -> bool {
        let keep = if self.answer.is_ok() {
            KEEP_IMAGE
        } else {
            KEEP_REFUSAL
        };
        now.duration_since(self.at) < keep
    }
}

#[derive(Default)]
struct Cache {
    entries: VecDeque<Entry>,
    bytes: usize,
}

/// Fetches remote images within limits and remembers them for a while.
pub struct ImageProxy {
    fetcher: ImageFetcher,
    cache: Mutex<Cache>,
    permits: tokio::sync::Semaphore,
    /// One lock per address being fetched, so twenty requests for one
    /// picture fetch it once.
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Takes an address out of the fetches under way, however the fetch ends.
struct Done<'a>(&'a ImageProxy, &'a str);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0
            .inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(self.1);
    }
}

impl ImageProxy {
    /// A proxy with the default limits (5 MB, 10 s, 3 redirects);
    /// `allow_loopback` lets it fetch from this machine (tests only).
    #[must_use]
    pub fn new(allow_loopback: bool) -> Self {
        Self::with_limits(Limits {
            allow_loopback,
            ..Limits::default()
        })
    }

    /// A proxy with limits of one's own.
    #[must_use]
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            fetcher: ImageFetcher::new(limits),
            cache: Mutex::new(Cache::default()),
            permits: tokio::sync::Semaphore::new(AT_ONCE),
            inflight: Mutex::default(),
        }
    }

    fn cached(&self, url: &str) -> Option<Result<Arc<RemoteImage>, Refused>> {
        let now = Instant::now();
        let mut c = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        while c.entries.front().is_some_and(|e| !e.fresh(now)) {
            if let Some(e) = c.entries.pop_front() {
                c.bytes = c.bytes.saturating_sub(e.size());
            }
        }
        c.entries
            .iter()
            .find(|e| e.url == url && e.fresh(now))
            .map(|e| e.answer.clone())
    }

    fn remember(&self, url: &str, answer: Result<Arc<RemoteImage>, Refused>) {
        let e = Entry {
            url: url.to_owned(),
            at: Instant::now(),
            answer,
        };
        let size = e.size();
        if size > CACHE_BYTES / 4 {
            return;
        }
        let mut c = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        c.entries.retain(|x| x.url != url);
        c.bytes = c.entries.iter().map(Entry::size).sum();
        while c.bytes + size > CACHE_BYTES || c.entries.len() >= CACHE_ENTRIES {
            match c.entries.pop_front() {
                Some(old) => c.bytes = c.bytes.saturating_sub(old.size()),
                None => break,
            }
        }
        c.bytes += size;
        c.entries.push_back(e);
    }

    /// The image at `url`, from the cache or fetched.
    pub async fn get(&self, url: &str) -> Result<Arc<RemoteImage>, Refused> {
        if let Some(a) = self.cached(url) {
            return a;
        }
        let one = self
            .inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(url.to_owned())
            .or_default()
            .clone();
        let _one = one.lock().await;
        // Another request may have fetched it while this one waited.
        if let Some(a) = self.cached(url) {
            return a;
        }
        let _done = Done(self, url);
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Refused::Unreachable)?;
        let answer = self.fetcher.fetch(url).await.map(Arc::new);
        if let Err(r) = &answer {
            tracing::info!(reason = r.code(), "a remote image was refused");
        }
        self.remember(url, answer.clone());
        answer
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_page_of_pictures_is_fetched_once() {
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let app = axum::Router::new().route(
            "/a.png",
            axum::routing::get(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { dialoog_networks::testing::TINY_PNG.to_vec() }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/a.png", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let proxy = ImageProxy::new(true);
        let pictures = futures_util::future::join_all((0..20).map(|_| proxy.get(&url))).await;
        assert!(
            pictures
                .iter()
                .all(|p| p.as_ref().is_ok_and(|i| i.content_type == "image/png"))
        );
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "fetched once, then from the cache"
        );
        // A refusal is remembered too.
        let closed = "http://127.0.0.1:9/x.png";
        assert_eq!(proxy.get(closed).await.err(), Some(Refused::Unreachable));
        assert_eq!(proxy.cached(closed), Some(Err(Refused::Unreachable)));
    }
}
