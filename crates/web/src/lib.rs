//! Dialoog's web layer: the server-rendered interface, the JSON API with its
//! OpenAPI document, health and metrics.
//!
//! Both faces call the same [`service`] functions, so a rule (who may invite
//! whom, what a valid timezone is) lives in one place and the UI and the API
//! cannot disagree.

pub mod alerts;
pub mod api;
pub mod approval;
pub mod calendar;
pub mod channels;
pub mod contacts;
pub mod edit;
pub mod error;
pub mod i18n;
pub mod ical;
pub mod import;
pub mod inbox;
pub mod listening;
pub mod listening_search;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod notifications;
pub mod notify_mail;
pub mod overdue;
pub mod posts;
pub mod presence;
pub mod remote_media;
pub mod schedule;
pub mod security;
pub mod service;
pub mod service_levels;
pub mod ui;
pub mod voice;

use axum::Router;
use dialoog_store::Store;
use std::sync::Arc;

pub use error::AppError;
pub use mail::Mailer;

/// How the web layer is configured.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// The address people reach Dialoog at, without a trailing slash
    /// (`https://social.example.nl`); links in e-mails and invites use it.
    /// An `https` address also makes cookies `Secure`.
    pub public_url: String,
    /// Outgoing e-mail, when configured.
    pub mailer: Option<Mailer>,
    /// Whether images from outside may be fetched from loopback addresses
    /// (this machine): for tests and development only; private networks
    /// are always refused.
    pub allow_loopback_media: bool,
}

impl WebConfig {
    /// Whether cookies must be `Secure` (the public address is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts behind [`AppState`].
pub struct Inner {
    /// The database.
    pub store: Store,
    /// Configuration.
    pub config: WebConfig,
    /// Failed sign-in counting.
    pub throttle: security::Throttle,
    /// Request counts and latencies.
    pub metrics: metrics::Metrics,
    /// Seals and opens channel credentials.
    pub cipher: dialoog_engine::Cipher,
    /// Who has which conversation open.
    pub presence: presence::Presence,
    /// The listening pipeline, once made (see [`AppState::pipeline`]).
    pub listening: tokio::sync::OnceCell<(
        dialoog_engine::listening::HeldUp,
        Arc<tokio::sync::Mutex<dialoog_engine::listening::Pipeline>>,
    )>,
    /// Images from outside, fetched through Dialoog.
    pub images: remote_media::ImageProxy,
    /// The search index of mentions, once set (see
    /// [`AppState::set_mention_index`]).
    pub mention_index: std::sync::OnceLock<Arc<dyn dialoog_search::MentionSearch>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state from a migrated store, the configuration and the
    /// cipher for channel credentials.
    pub fn new(store: Store, config: WebConfig, cipher: dialoog_engine::Cipher) -> Self {
        Self(Arc::new(Inner {
            images: remote_media::ImageProxy::new(config.allow_loopback_media),
            store,
            config,
            throttle: security::Throttle::default(),
            metrics: metrics::Metrics::default(),
            cipher,
            presence: presence::Presence::default(),
            listening: tokio::sync::OnceCell::new(),
            mention_index: std::sync::OnceLock::new(),
        }))
    }
}

/// The largest request body accepted anywhere (1 MiB).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Headers on every response: a Content Security Policy that forbids inline
/// script and outside resources, no framing, no MIME sniffing.
async fn security_headers(mut resp: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    let h = resp.headers_mut();
    // A response may set a stricter policy of its own (remote images).
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// The whole application: UI, API, health and metrics.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(ui::router(state.clone()))
        .merge(api::router(state.clone()))
        .merge(ui::feed_router())
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}
