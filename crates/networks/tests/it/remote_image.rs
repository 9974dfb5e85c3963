//! The image fetcher against a loopback server of hostile answers.

use dialoog_networks::remote_image::{ImageFetcher, Limits, Refused};
use dialoog_networks::testing::{TINY_PNG, image_server};
use std::time::{Duration, Instant};

fn fetcher(allow_loopback: bool) -> ImageFetcher {
    ImageFetcher::new(Limits {
        max_bytes: 256 * 1024,
        timeout: Duration::from_secs(1),
        max_redirects: 3,
        allow_loopback,
    })
}

#[tokio::test]
async fn a_real_image_is_fetched_whatever_its_label() {
    let base = image_server().await;
    let f = fetcher(true);
    let img = f.fetch(&format!("{base}/tiny.png")).await.unwrap();
    assert_eq!(img.content_type, "image/png");
    assert_eq!(img.bytes, TINY_PNG);
    let img = f.fetch(&format!("{base}/to-tiny")).await.unwrap();
    assert_eq!(
        img.bytes, TINY_PNG,
        "a redirect within the rules is followed"
    );
}

#[tokio::test]
async fn what_is_not_an_image_is_refused() {
    let base = image_server().await;
    let f = fetcher(true);
    let get = |p: &str| {
        let (f, url) = (f.clone(), format!("{base}{p}"));
        async move { f.fetch(&url).await }
    };
    assert_eq!(
        get("/page.png").await,
        Err(Refused::NotAnImage),
        "HTML labelled image/png"
    );
    assert_eq!(get("/image.svg").await, Err(Refused::NotAnImage), "SVG");
    assert_eq!(get("/missing.png").await, Err(Refused::Status(404)));
}

#[tokio::test]
async fn size_and_time_are_bounded() {
    let base = image_server().await;
    let f = fetcher(true);
    let start = Instant::now();
    assert_eq!(
        f.fetch(&format!("{base}/endless.png")).await,
        Err(Refused::TooLarge)
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "stopped at the limit"
    );
    assert_eq!(
        f.fetch(&format!("{base}/huge.png")).await,
        Err(Refused::TooLarge)
    );
    let start = Instant::now();
    assert_eq!(
        f.fetch(&format!("{base}/slow.png")).await,
        Err(Refused::Timeout)
    );
    assert!(
        start.elapsed() < Duration::from_millis(2500),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn redirects_are_checked_each_time() {
    let base = image_server().await;
    let f = fetcher(true);
    let get = |p: &str| {
        let (f, url) = (f.clone(), format!("{base}{p}"));
        async move { f.fetch(&url).await }
    };
    assert_eq!(get("/to-private").await, Err(Refused::PrivateAddress));
    assert_eq!(get("/to-metadata").await, Err(Refused::PrivateAddress));
    assert_eq!(get("/to-script").await, Err(Refused::Scheme));
    assert_eq!(get("/loop").await, Err(Refused::TooManyRedirects));
}

#[tokio::test]
async fn private_addresses_are_refused_by_default() {
    let base = image_server().await;
    let f = fetcher(false);
    assert_eq!(
        f.fetch(&format!("{base}/tiny.png")).await,
        Err(Refused::PrivateAddress),
        "an address written as loopback"
    );
    let port = base.rsplit(':').next().unwrap();
    assert_eq!(
        f.fetch(&format!("http://localhost:{port}/tiny.png")).await,
        Err(Refused::PrivateAddress),
        "a name that resolves to loopback"
    );
    for u in [
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "not a url",
        "",
    ] {
        assert_eq!(f.fetch(u).await, Err(Refused::Scheme), "{u}");
    }
}
