//! Listening in the interface: the mentions with filters, facets and
//! sentiment per day; the queries (with the parser's message where one
//! does not parse). The sources are in [`super::listening_sources`].

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use dialoog_domain::Action;
use dialoog_store::MentionFilter;
use serde::Deserialize;

use super::forms::{FieldErrs, UiForm};
use super::inbox_thread::safe_url;
use super::{Page, UiError, WsCtx, html, see_other, urlencode};
use crate::AppState;
use crate::error::AppError;
use crate::listening::{self, QueryInput, ROLES};

/// A mention as shown.
struct Row {
    author: String,
    source: String,
    when: String,
    text: String,
    link: String,
    sentiment: String,
    sentiment_key: String,
    copies: i64,
    queries: String,
}

/// One value of a facet, with its count and the link that filters on it.
struct Facet {
    label: String,
    count: i64,
    href: String,
}

/// One day of the chart: bar heights (px) per sentiment and the label.
struct Day {
    label: String,
    x: usize,
    neg: i64,
    neu: i64,
    pos: i64,
    total: i64,
}

#[derive(Template)]
#[template(path = "listening.html")]
struct MentionsView {
    page: Page,
    ws: i64,
    f: Filters,
    queries: Vec<(i64, String)>,
    rows: Vec<Row>,
    next: String,
    /// Per facet: its title's key and its values.
    facets: Vec<(&'static str, Vec<Facet>)>,
    days: Vec<Day>,
    chart_width: usize,
    can_manage: bool,
}

/// The filters of the mentions page.
#[derive(Deserialize, Default, Clone)]
pub struct Filters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    sentiment: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    before: String,
    /// Published at or after (ms; an alert's window).
    #[serde(default)]
    since: String,
    /// Published before (ms).
    #[serde(default)]
    until: String,
}

impl Filters {
    fn store(&self) -> MentionFilter {
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        MentionFilter {
            q: opt(&self.q),
            sentiment: opt(&self.sentiment),
            lang: opt(&self.lang),
            source_kind: opt(&self.source),
            query_id: self.query.trim().parse().ok(),
            since: self.since.trim().parse().ok(),
            until: self.until.trim().parse().ok(),
            before: self
                .before
                .split_once('-')
                .and_then(|(a, i)| Some((a.parse().ok()?, i.parse().ok()?))),
        }
    }

    /// This page's address with one filter set (and no page cursor).
    fn with(&self, ws: i64, key: &str, value: &str) -> String {
        let mut f = self.clone();
        f.before.clear();
        match key {
            "sentiment" => f.sentiment = value.to_owned(),
            "lang" => f.lang = value.to_owned(),
            "source" => f.source = value.to_owned(),
            "query" => f.query = value.to_owned(),
            _ => f.before = value.to_owned(),
        }
        let pairs = [
            ("q", &f.q),
            ("sentiment", &f.sentiment),
            ("lang", &f.lang),
            ("source", &f.source),
            ("query", &f.query),
            ("since", &f.since),
            ("until", &f.until),
            ("before", &f.before),
        ];
        let qs: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        format!("/w/{ws}/listening?{}", qs.join("&"))
    }
}

/// A day (UTC midnight, ms) as `dd-mm`.
fn day_label(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%d-%m").to_string())
        .unwrap_or_default()
}

const PAGE: i64 = 50;
/// The chart's bar area height and one day's width, in px.
const CHART_H: i64 = 80;
const DAY_W: usize = 14;

/// `GET /w/{ws}/listening`.
pub async fn mentions(
    State(s): State<AppState>,
    w: WsCtx,
    Query(f): Query<Filters>,
) -> Result<Response, UiError> {
    w.require(Action::ViewListening)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let tz = w.m.workspace.timezone.clone();
    let err = |e| UiError(e, t);
    let filter = f.store();
    let queries: Vec<(i64, String)> = listening::queries(&s, &w.me.user, ws)
        .await
        .map_err(err)?
        .into_iter()
        .map(|q| (q.id, q.name))
        .collect();
    let name_of = |id: i64| {
        queries
            .iter()
            .find(|q| q.0 == id)
            .map_or_else(|| format!("#{id}"), |q| q.1.clone())
    };
    let found = listening::mentions(&s, &w.me.user, ws, &filter, PAGE)
        .await
        .map_err(err)?;
    let mut all = filter.clone();
    all.before = None;
    let fc = listening::facets(&s, &w.me.user, ws, &all)
        .await
        .map_err(err)?;
    let page = w.page.at(&format!("/w/{ws}/listening"));
    let next = if found.len() as i64 == PAGE {
        found
            .last()
            .map(|(m, _)| f.with(ws, "before", &format!("{}-{}", m.published_at, m.id)))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let rows = found
        .into_iter()
        .map(|(m, qs)| Row {
            when: page.when(&m.published_at, &tz),
            link: safe_url(m.url.as_deref()),
            author: m.author_handle.clone().map_or(m.author_name.clone(), |h| {
                format!("{} ({h})", m.author_name)
            }),
            source: t.s(&format!("listening.kind.{}", m.source_kind)).to_owned(),
            text: m.text.chars().take(600).collect(),
            sentiment_key: format!("inbox.sentiment.{}", m.sentiment),
            sentiment: m.sentiment,
            copies: m.copies,
            queries: qs.into_iter().map(name_of).collect::<Vec<_>>().join(", "),
        })
        .collect();
    let facet = |key: &str, v: Vec<(String, i64)>, label: &dyn Fn(&str) -> String| {
        v.into_iter()
            .map(|(value, count)| Facet {
                label: label(&value),
                href: f.with(ws, key, &value),
                count,
            })
            .collect::<Vec<_>>()
    };
    let sentiment = facet("sentiment", fc.sentiment, &|v| {
        t.s(&format!("inbox.sentiment.{v}")).to_owned()
    });
    let lang = facet("lang", fc.lang, &|v| {
        if v == "und" {
            t.s("listening.lang_unknown").to_owned()
        } else {
            v.to_owned()
        }
    });
    let source = facet("source", fc.source, &|v| {
        t.s(&format!("listening.kind.{v}")).to_owned()
    });
    let query = fc
        .query
        .into_iter()
        .map(|(id, count)| Facet {
            label: name_of(id),
            href: f.with(ws, "query", &id.to_string()),
            count,
        })
        .collect();
    // Days in order, with the busiest day as tall as the chart.
    let mut days: Vec<Day> = vec![];
    for (day, sent, n) in fc.days {
        let label = day_label(day);
        if days.last().is_none_or(|d| d.label != label) {
            days.push(Day {
                x: days.len() * DAY_W,
                label,
                neg: 0,
                neu: 0,
                pos: 0,
                total: 0,
            });
        }
        if let Some(d) = days.last_mut() {
            match sent.as_str() {
                "negative" => d.neg += n,
                "positive" => d.pos += n,
                _ => d.neu += n,
            }
            d.total += n;
        }
    }
    let max = days.iter().map(|d| d.total).max().unwrap_or(1).max(1);
    for d in &mut days {
        d.neg = d.neg * CHART_H / max;
        d.neu = d.neu * CHART_H / max;
        d.pos = d.pos * CHART_H / max;
    }
    let view = MentionsView {
        chart_width: days.len().max(1) * DAY_W,
        can_manage: w.m.role.can(Action::ManageListening),
        page,
        ws,
        f,
        queries,
        rows,
        next,
        facets: vec![
            ("inbox.filter.sentiment", sentiment),
            ("listening.query", query),
            ("inbox.filter.language", lang),
            ("listening.source", source),
        ],
        days,
    };
    Ok(html(&view, t))
}

#[derive(Template)]
#[template(path = "listening_queries.html")]
struct QueriesView {
    page: Page,
    ws: i64,
    queries: Vec<dialoog_store::ListeningQuery>,
    roles: [&'static str; 3],
    /// The query the errors are about (0: the new one).
    editing: i64,
    input: QueryForm,
    errors: FieldErrs,
    notice: Option<String>,
    can_manage: bool,
    /// How many days mentions are kept (as typed, after an error).
    keep_days: String,
    /// Owners and managers choose it.
    can_settle: bool,
}

/// The retention form.
#[derive(Deserialize, Default, Clone)]
pub struct RetentionForm {
    #[serde(default)]
    keep_days: String,
}

/// The query form.
#[derive(Deserialize, Default, Clone)]
pub struct QueryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    role: String,
}

/// `?done=…`.
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    pub(super) done: String,
}

pub(super) fn notice(w: &WsCtx, done: &str) -> Option<String> {
    (!done.is_empty())
        .then(|| w.me.ctx.t.get(&format!("notice.{done}")).map(str::to_owned))
        .flatten()
}

async fn queries_page(
    s: &AppState,
    w: WsCtx,
    editing: i64,
    input: QueryForm,
    errors: FieldErrs,
    notice: Option<String>,
    kept: Option<String>,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let queries = listening::queries(s, &w.me.user, ws)
        .await
        .map_err(|e| UiError(e, t))?;
    let keep_days = match &kept {
        Some(k) => k.clone(),
        None => crate::listening_search::keep_days(s, &w.me.user, ws)
            .await
            .map_err(|e| UiError(e, t))?
            .to_string(),
    };
    let view = QueriesView {
        keep_days,
        can_settle: w.m.role.can(Action::EditSettings),
        page: w.page.at(&format!("/w/{ws}/listening")),
        can_manage: w.m.role.can(Action::ManageListening),
        ws,
        queries,
        roles: ROLES,
        editing,
        input,
        errors,
        notice,
    };
    Ok(html(&view, t))
}

/// `GET /w/{ws}/listening/queries`.
pub async fn queries(
    State(s): State<AppState>,
    w: WsCtx,
    Query(d): Query<Done>,
) -> Result<Response, UiError> {
    w.require(Action::ViewListening)?;
    let n = notice(&w, &d.done);
    queries_page(
        &s,
        w,
        -1,
        QueryForm::default(),
        FieldErrs::default(),
        n,
        None,
    )
    .await
}

async fn after_query(
    s: &AppState,
    w: WsCtx,
    editing: i64,
    input: QueryForm,
    r: Result<(), AppError>,
    done: &str,
) -> Result<Response, UiError> {
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    match r {
        Ok(()) => Ok(see_other(&format!("/w/{ws}/listening/queries?done={done}"))),
        Err(e @ AppError::Invalid(_)) => {
            let errors = FieldErrs::from_error(e, t)?;
            queries_page(s, w, editing, input, errors, None, None).await
        }
        Err(e) => Err(UiError(e, t)),
    }
}

fn input(f: &QueryForm) -> QueryInput {
    QueryInput {
        name: f.name.clone(),
        query: f.query.clone(),
        role: (!f.role.is_empty()).then(|| f.role.clone()),
    }
}

/// `POST /w/{ws}/listening/queries`.
pub async fn create_query(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<QueryForm>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let r = listening::create_query(&s, &w.me.user, w.m.workspace.id, &input(&f)).await;
    after_query(&s, w, 0, f, r.map(|_| ()), "query_saved").await
}

/// `POST /w/{ws}/listening/queries/{id}`.
pub async fn update_query(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(f): UiForm<QueryForm>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let r = listening::update_query(&s, &w.me.user, w.m.workspace.id, id, &input(&f)).await;
    after_query(&s, w, id, f, r.map(|_| ()), "query_saved").await
}

/// `POST /w/{ws}/listening/queries/{id}/delete`.
pub async fn delete_query(
    State(s): State<AppState>,
    w: WsCtx,
    Path((_, id)): Path<(i64, i64)>,
    UiForm(_): UiForm<super::approval::Empty>,
) -> Result<Response, UiError> {
    w.require(Action::ManageListening)?;
    let r = listening::delete_query(&s, &w.me.user, w.m.workspace.id, id).await;
    after_query(&s, w, id, QueryForm::default(), r, "query_removed").await
}

/// `POST /w/{ws}/listening/retention`: how many days mentions are kept.
pub async fn set_retention(
    State(s): State<AppState>,
    w: WsCtx,
    UiForm(f): UiForm<RetentionForm>,
) -> Result<Response, UiError> {
    w.require(Action::EditSettings)?;
    let t = w.me.ctx.t;
    let ws = w.m.workspace.id;
    let r = match crate::listening_search::parse_keep_days(&f.keep_days) {
        Ok(days) => crate::listening_search::set_keep_days(&s, &w.me.user, ws, days)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(see_other(&format!(
            "/w/{ws}/listening/queries?done=retention_saved"
        ))),
        Err(e @ AppError::Invalid(_)) => {
            let errors = FieldErrs::from_error(e, t)?;
            queries_page(
                &s,
                w,
                -1,
                QueryForm::default(),
                errors,
                None,
                Some(f.keep_days),
            )
            .await
        }
        Err(e) => Err(UiError(e, t)),
    }
}
