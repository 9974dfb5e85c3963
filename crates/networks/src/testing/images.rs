//! A loopback server of hostile "images" for the image fetcher's and the
//! inbox's tests: a real PNG, and everything a hostile server might send
//! instead.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Duration;

/// A valid 1×1 PNG.
pub const TINY_PNG: [u8; 70] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The server's address, `http://127.0.0.1:port`. Paths:
///
/// - `/tiny.png`: [`TINY_PNG`], labelled `text/html` (the label is not
///   trusted either way)
/// - `/page.png`: an HTML page with script, labelled `image/png`
/// - `/image.svg`: an SVG with script, labelled `image/svg+xml`
/// - `/endless.png`: a PNG header followed by a body that never ends
/// - `/huge.png`: a PNG that declares 100 MB
/// - `/slow.png`: the PNG after three seconds
/// - `/missing.png`: 404
/// - `/to-tiny`: a redirect to `/tiny.png`
/// - `/to-private`: a redirect to `http://10.0.0.1/x.png`
/// - `/to-metadata`: a redirect to `http://169.254.169.254/latest/meta-data`
/// - `/to-script`: a redirect to `javascript:alert(1)`
/// - `/loop`: a redirect to itself
pub async fn image_server() -> String {
    let redirect =
        |to: &'static str| move || async move { (StatusCode::FOUND, [(header::LOCATION, to)]) };
    let app = axum::Router::new()
        .route(
            "/tiny.png",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], TINY_PNG.to_vec()) }),
        )
        .route(
            "/page.png",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "image/png")],
                    "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
                )
            }),
        )
        .route(
            "/image.svg",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "image/svg+xml")],
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>",
                )
            }),
        )
        .route("/endless.png", get(endless))
        .route("/huge.png", get(huge))
        .route(
            "/slow.png",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                ([(header::CONTENT_TYPE, "image/png")], TINY_PNG.to_vec())
            }),
        )
        .route("/missing.png", get(|| async { StatusCode::NOT_FOUND }))
        .route("/to-tiny", get(redirect("/tiny.png")))
        .route("/to-private", get(redirect("http://10.0.0.1/x.png")))
        .route(
            "/to-metadata",
            get(redirect("http://169.254.169.254/latest/meta-data")),
        )
        .route("/to-script", get(redirect("javascript:alert(1)")))
        .route("/loop", get(redirect("/loop")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A PNG header, then zeros for ever.
async fn endless() -> Response {
    let first =
        futures_util::stream::once(async { Ok::<_, std::io::Error>(TINY_PNG[..16].to_vec()) });
    let rest = futures_util::stream::repeat_with(|| Ok::<_, std::io::Error>(vec![0u8; 64 * 1024]));
    use futures_util::StreamExt as _;
    (
        [(header::CONTENT_TYPE, "image/png")],
        Body::from_stream(first.chain(rest)),
    )
        .into_response()
}

/// A PNG that declares itself 100 MB long (and then waits).
async fn huge() -> Response {
    use futures_util::StreamExt as _;
    let once = futures_util::stream::once(async { Ok::<_, std::io::Error>(TINY_PNG.to_vec()) });
    let mut r = Body::from_stream(once.chain(futures_util::stream::pending())).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, "image/png".parse().unwrap());
    h.insert(header::CONTENT_LENGTH, "100000000".parse().unwrap());
    r
}
