//! The CSV import page: upload a file (or paste its text), see every bad
//! row with its column and what is wrong, or how many posts were planned.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use dialoog_domain::Action;
use serde::Deserialize;

use super::forms::FieldErrs;
use super::upload::UiUpload;
use super::{Page, UiError, WsCtx, html, see_other};
use crate::AppState;
use crate::error::{AppError, field_message};
use crate::import::Imported;

/// One bad row as the page shows it.
struct RowView {
    row: usize,
    column: String,
    message: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    page: Page,
    errors: FieldErrs,
    notice: Option<String>,
    ws: i64,
    timezone: String,
    rows: Vec<RowView>,
    csv: String,
}

/// `?imported=N` after a good import.
#[derive(Deserialize)]
pub struct Done {
    imported: Option<usize>,
}

async fn render(
    w: WsCtx,
    errors: FieldErrs,
    notice: Option<String>,
    rows: Vec<RowView>,
    csv: String,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let status = if errors.any() || !rows.is_empty() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let v = ImportPage {
        page: w.page.at(&format!("/w/{ws}/posts/import")),
        errors,
        notice,
        ws,
        timezone: w.m.workspace.timezone.clone(),
        rows,
        csv,
    };
    Ok((status, html(&v, t)).into_response())
}

/// The import page.
pub async fn page(w: WsCtx, Query(q): Query<Done>) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let t = w.me.ctx.t;
    let notice = q
        .imported
        .map(|n| t.fmt("import.done", &[("count", &n.to_string())]));
    render(w, FieldErrs::default(), notice, vec![], String::new()).await
}

/// The example file.
pub async fn example(w: WsCtx) -> Result<Response, UiError> {
    w.require(Action::ViewPosts)?;
    Ok(crate::api::example_response())
}

/// An uploaded (or pasted) file: checked row by row, imported whole or
/// not at all.
pub async fn submit(
    State(s): State<AppState>,
    w: WsCtx,
    form: UiUpload,
) -> Result<Response, UiError> {
    w.require(Action::ComposePosts)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let file = match form.files.iter().find(|(n, _)| n == "file") {
        Some((_, Ok(bytes))) => Some(bytes.as_slice()),
        Some((_, Err(e))) => return Err(UiError(AppError::Invalid(vec![e.clone()]), t)),
        None => None,
    };
    let pasted = form.get("csv");
    let pasted = pasted.as_bytes();
    let bytes = file.unwrap_or(pasted);
    // Pasted text is shown again; a file is not (it may not even be text).
    let csv = if file.is_none() {
        String::from_utf8_lossy(pasted).into_owned()
    } else {
        String::new()
    };
    match crate::import::import(&s, &w.me.user, ws, bytes).await {
        Ok(Imported::Done(n)) => Ok(see_other(&format!("/w/{ws}/posts/import?imported={n}"))),
        Ok(Imported::Refused(rows)) => {
            let mut errors = FieldErrs::default();
            errors.form = Some(t.fmt("import.refused", &[("rows", &rows.len().to_string())]));
            let rows = rows
                .iter()
                .map(|r| RowView {
                    row: r.row,
                    column: r.column.clone(),
                    message: field_message(t, &r.error),
                })
                .collect();
            render(w, errors, None, rows, csv).await
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound)) => Err(UiError(e, t)),
        Err(AppError::Invalid(fields)) => {
            let mut errors = FieldErrs::default();
            errors.form = Some(
                fields
                    .iter()
                    .map(|f| field_message(t, f))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            render(w, errors, None, vec![], csv).await
        }
        Err(e) => Err(UiError(e, t)),
    }
}
