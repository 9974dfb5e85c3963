//! The JSON API under `/api/v1`, its OpenAPI document and its errors.
//!
//! Routes are registered through `utoipa-axum`, so a handler cannot be
//! reachable without being in `/api/v1/openapi.json`.

mod alerts;
mod approval;
mod calendar;
mod contacts;
mod dto;
mod handlers;
pub mod inbox;
mod listening;
mod media;
mod notifications;
mod posts;
mod schedule;
mod service_levels;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use dialoog_domain::Locale;
use dialoog_store::User;
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::error::{AppError, field_message};
use crate::i18n::Tr;
use crate::security::token_hash;
use crate::service::now_ms;

pub use dto::*;
pub use media::{MediaDto, image_response, read_limited};
pub use posts::{PostCreate, PostDto, TargetCreate, TargetDto};
pub(crate) use schedule::example_response;

tokio::task_local! {
    /// The language API messages are written in, for this request.
    static LOCALE: Locale;
}

fn current_tr() -> Tr {
    Tr(LOCALE.try_with(|l| *l).unwrap_or(Locale::En))
}

/// An [`AppError`] rendered as an RFC 9457 problem document.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<dialoog_store::StoreError> for ApiError {
    fn from(e: dialoog_store::StoreError) -> Self {
        ApiError(e.into())
    }
}

impl From<dialoog_domain::FieldError> for ApiError {
    fn from(e: dialoog_domain::FieldError) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let t = current_tr();
        let e = &self.0;
        let mut body = serde_json::json!({
            "type": format!("urn:dialoog:problem:{}", e.code()),
            "title": t.s(&format!("error.title.{}", e.status().as_u16())),
            "status": e.status().as_u16(),
            "detail": e.message(t),
            "code": e.code(),
        });
        match e {
            AppError::Invalid(fields) => {
                body["errors"] = fields
                    .iter()
                    .map(|f| serde_json::json!({"field": f.field, "code": f.code, "message": field_message(t, f)}))
                    .collect();
            }
            AppError::Malformed(reason) | AppError::BodyMismatch(reason) => {
                body["reason"] = reason.clone().into()
            }
            AppError::Internal(id) => body["error_id"] = id.clone().into(),
            _ => {}
        }
        let mut resp = (e.status(), Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let AppError::Throttled(min) = e
            && let Ok(v) = HeaderValue::from_str(&(min * 60).to_string())
        {
            h.insert(header::RETRY_AFTER, v);
        }
        if matches!(e, AppError::Unauthenticated) {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// A JSON body whose every rejection is a problem document.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection as R;
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(R::JsonDataError(e)) => Err(AppError::BodyMismatch(e.body_text()).into()),
            Err(R::JsonSyntaxError(e)) => Err(AppError::Malformed(e.body_text()).into()),
            Err(R::MissingJsonContentType(_)) => Err(AppError::UnsupportedMediaType.into()),
            Err(R::BytesRejection(e))
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(AppError::PayloadTooLarge.into())
            }
            Err(other) => Err(AppError::Malformed(other.body_text()).into()),
        }
    }
}

/// The user behind a `Authorization: Bearer …` API token.
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() < 200)
            .ok_or(AppError::Unauthenticated)?;
        let user = state
            .store
            .user_by_api_token(&token_hash(token), now_ms())
            .await?;
        user.map(ApiUser).ok_or(ApiError(AppError::Unauthenticated))
    }
}

async fn with_locale(req: Request, next: Next) -> Response {
    let locale = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Locale::En, Locale::negotiate_or_english);
    LOCALE.scope(locale, next.run(req)).await
}

async fn api_not_found() -> ApiError {
    ApiError(AppError::NotFound)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Dialoog API", description = "The REST API of Dialoog, the self-hosted social media hub."),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every API route with its OpenAPI description.
pub fn openapi_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(handlers::setup))
        .routes(routes!(handlers::create_token, handlers::list_tokens))
        .routes(routes!(handlers::revoke_token))
        .routes(routes!(handlers::me))
        .routes(routes!(
            handlers::list_workspaces,
            handlers::create_workspace
        ))
        .routes(routes!(handlers::get_workspace, handlers::update_workspace))
        .routes(routes!(handlers::list_members, handlers::add_member))
        .routes(routes!(handlers::change_member, handlers::remove_member))
        .routes(routes!(handlers::workspace_audit))
        .routes(routes!(handlers::accept_invite))
        .routes(routes!(handlers::list_channels, handlers::create_channel))
        .routes(routes!(handlers::sync_channel))
        .routes(routes!(handlers::delete_channel))
        .routes(routes!(handlers::channel_items))
        .routes(routes!(posts::list_posts, posts::create_post))
        .routes(routes!(
            posts::get_post,
            posts::change_post,
            posts::delete_post
        ))
        .routes(routes!(posts::settle_target))
        .routes(routes!(approval::get_setting, approval::put_setting))
        .routes(routes!(approval::submit))
        .routes(routes!(approval::approve))
        .routes(routes!(approval::reject))
        .routes(routes!(approval::list_comments, approval::add_comment))
        .routes(routes!(approval::client_link))
        .routes(routes!(approval::review))
        .routes(routes!(schedule::list_queues))
        .routes(routes!(schedule::next_slot))
        .routes(routes!(schedule::set_queue))
        .routes(routes!(schedule::list_series, schedule::create_series))
        .routes(routes!(schedule::get_series, schedule::change_series))
        .routes(routes!(schedule::stop_series))
        .routes(routes!(schedule::import_posts))
        .routes(routes!(media::upload_media))
        .routes(routes!(media::get_media))
        .routes(routes!(calendar::create_feed, calendar::delete_feed))
        .routes(routes!(inbox::list_conversations))
        .routes(routes!(inbox::get_conversation, inbox::change_conversation))
        .routes(routes!(inbox::reply))
        .routes(routes!(inbox::retry))
        .routes(routes!(inbox::note))
        .routes(routes!(
            service_levels::get_levels,
            service_levels::put_levels
        ))
        .routes(routes!(service_levels::figures))
        .routes(routes!(contacts::list))
        .routes(routes!(contacts::get, contacts::change))
        .routes(routes!(contacts::merge))
        .routes(routes!(contacts::split))
        .routes(routes!(listening::list_queries, listening::create_query))
        .routes(routes!(listening::change_query, listening::delete_query))
        .routes(routes!(listening::list_sources, listening::create_source))
        .routes(routes!(listening::delete_source))
        .routes(routes!(listening::sync_source))
        .routes(routes!(listening::mentions))
        .routes(routes!(listening::facets))
        .routes(routes!(alerts::list_alerts))
        .routes(routes!(alerts::list_rules, alerts::create_rule))
        .routes(routes!(alerts::delete_rule))
        .routes(routes!(alerts::set_webhook, alerts::delete_webhook))
        .routes(routes!(alerts::share_of_voice))
        .routes(routes!(alerts::rising_terms))
        .routes(routes!(listening::get_settings, listening::put_settings))
        .routes(routes!(notifications::list_notifications))
        .routes(routes!(notifications::read_notifications))
        .routes(routes!(crate::metrics::healthz))
        .routes(routes!(crate::metrics::render))
}

/// The OpenAPI document, as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi_router().split_for_parts().1
}

/// The API router.
pub fn router(_state: AppState) -> Router<AppState> {
    let (router, doc) = openapi_router().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || async move { Json(doc.as_ref().clone()) }),
        )
        .route("/api/v1/{*rest}", axum::routing::any(api_not_found))
        .layer(axum::middleware::from_fn(with_locale))
}
