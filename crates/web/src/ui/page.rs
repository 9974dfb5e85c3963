//! The frame around every page: navigation, language, flash messages.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use dialoog_domain::{Action, Locale};
use dialoog_store::Membership;

use super::SignedIn;
use crate::AppState;
use crate::error::AppError;
use crate::i18n::Tr;

/// One entry of the workspace navigation.
pub struct NavItem {
    /// Link target.
    pub href: String,
    /// Translation key of the label.
    pub key: &'static str,
    /// The current page.
    pub active: bool,
}

/// What the frame needs to know.
pub struct Page {
    /// Translator.
    pub t: Tr,
    /// CSRF token for the forms in the frame (sign-out, language).
    pub csrf: String,
    /// The signed-in user's name, if any.
    pub user_name: Option<String>,
    /// The workspace switcher: (id, name).
    pub workspaces: Vec<(i64, String)>,
    /// The current workspace: (id, name).
    pub current: Option<(i64, String)>,
    /// Navigation of the current workspace.
    pub nav: Vec<NavItem>,
    /// Whether the user may create workspaces.
    pub is_admin: bool,
    /// The path of this page (for "return here" after switching language).
    pub path: String,
    /// How many of the signed-in user's notifications are unread.
    pub unread: i64,
}

/// The areas of a workspace: (slug, translation key). Areas that later
/// capabilities fill in show what is coming.
pub const AREAS: [(&str, &str); 6] = [
    ("publish", "nav.publish"),
    ("inbox", "nav.inbox"),
    ("listening", "nav.listening"),
    ("campaigns", "nav.campaigns"),
    ("strategy", "nav.strategy"),
    ("reports", "nav.reports"),
];

impl Page {
    /// The areas of a workspace: (slug, translation key).
    pub fn areas() -> &'static [(&'static str, &'static str)] {
        &AREAS
    }

    /// A frame for someone who is not signed in.
    pub fn anonymous(t: Tr, csrf: &str, path: &str) -> Self {
        Self {
            t,
            csrf: csrf.to_owned(),
            user_name: None,
            workspaces: vec![],
            current: None,
            nav: vec![],
            is_admin: false,
            path: path.to_owned(),
            unread: 0,
        }
    }

    /// A frame for a signed-in user outside any workspace.
    pub async fn signed_in(state: &AppState, me: &SignedIn, path: &str) -> Result<Self, AppError> {
        let ms = state.store.memberships(me.user.id).await?;
        Self::signed_in_with(state, me, path, &ms).await
    }

    /// [`Page::signed_in`] with the user's memberships already read.
    async fn signed_in_with(
        state: &AppState,
        me: &SignedIn,
        path: &str,
        ms: &[Membership],
    ) -> Result<Self, AppError> {
        Ok(Self {
            user_name: Some(me.user.name.clone()),
            workspaces: ms
                .iter()
                .map(|m| (m.workspace.id, m.workspace.name.clone()))
                .collect(),
            is_admin: me.user.is_admin,
            unread: crate::notifications::unread(state, &me.user).await?,
            ..Self::anonymous(me.ctx.t, &me.ctx.csrf, path)
        })
    }

    /// A frame inside the workspace of `m`, with its navigation; `ms` are
    /// all the user's memberships (the workspace switcher).
    pub async fn for_workspace(
        state: &AppState,
        me: &SignedIn,
        m: &Membership,
        ms: &[Membership],
    ) -> Result<Self, AppError> {
        let id = m.workspace.id;
        let mut p = Self::signed_in_with(state, me, &format!("/w/{id}"), ms).await?;
        p.current = Some((id, m.workspace.name.clone()));
        let mut nav: Vec<NavItem> = vec![NavItem {
            href: format!("/w/{id}"),
            key: "nav.overview",
            active: false,
        }];
        nav.extend(
            AREAS
                .iter()
                // Clients do not see the inbox.
                .filter(|(slug, _)| *slug != "inbox" || m.role.can(Action::ViewInbox))
                .map(|(slug, key)| NavItem {
                    // Publishing and the inbox have their pages; the other
                    // areas arrive with theirs.
                    href: match *slug {
                        "publish" => format!("/w/{id}/posts"),
                        "inbox" => format!("/w/{id}/inbox"),
                        "listening" => format!("/w/{id}/listening"),
                        _ => format!("/w/{id}/area/{slug}"),
                    },
                    key,
                    active: false,
                }),
        );
        nav.push(NavItem {
            href: format!("/w/{id}/channels"),
            key: "nav.channels",
            active: false,
        });
        nav.push(NavItem {
            href: format!("/w/{id}/members"),
            key: "nav.members",
            active: false,
        });
        if m.role.can(Action::EditSettings) {
            nav.push(NavItem {
                href: format!("/w/{id}/settings"),
                key: "nav.settings",
                active: false,
            });
        }
        if m.role.can(Action::ViewAudit) {
            nav.push(NavItem {
                href: format!("/w/{id}/audit"),
                key: "nav.audit",
                active: false,
            });
        }
        p.nav = nav;
        Ok(p)
    }

    /// Marks the navigation entry for `path` as current.
    pub fn at(mut self, path: &str) -> Self {
        for n in &mut self.nav {
            n.active = n.href == path;
        }
        self.path = path.to_owned();
        self
    }

    /// The other language, offered in the header.
    pub fn other_locale(&self) -> (&'static str, &'static str) {
        match self.t.0 {
            Locale::Nl => ("en", "English"),
            Locale::En => ("nl", "Nederlands"),
        }
    }

    /// A time in the given timezone, written for the user's locale.
    pub fn when(&self, ms: &i64, tz: &str) -> String {
        let Ok(ts) = jiff::Timestamp::from_millisecond(*ms) else {
            return String::new();
        };
        let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
        self.t.0.format_datetime(&ts.to_zoned(zone))
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorView {
    /// Translator.
    pub t: Tr,
    /// Short title.
    pub title: &'static str,
    /// What went wrong, in words.
    pub message: String,
    /// The id to quote.
    pub error_id: String,
}

/// Renders a template; a template failure becomes a plain 500.
pub fn render<T: Template>(view: &T) -> Response {
    match view.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
            )
                .into_response()
        }
    }
}
