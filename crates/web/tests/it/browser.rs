//! A browser for the page tests: a cookie jar, signed in through the
//! sign-in form, posting forms with their CSRF token.

use crate::harness::{App, PASSWORD};
use reqwest::StatusCode;

/// A browser: a cookie jar, signed in through the sign-in form.
pub struct Browser {
    pub http: reqwest::Client,
    pub csrf: String,
}

pub fn csrf_in(html: &str) -> String {
    let i = html
        .find("name=\"_csrf\" value=\"")
        .expect("a form with a CSRF token");
    html[i + 20..].split('"').next().unwrap().to_owned()
}

impl Browser {
    pub async fn new(app: &App) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut r = http
            .get(format!("{}/sign-in", app.url))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::SEE_OTHER {
            let to = r.headers()["location"].to_str().unwrap().to_owned();
            r = http.get(format!("{}{to}", app.url)).send().await.unwrap();
        }
        let html = r.text().await.unwrap();
        Self {
            http,
            csrf: csrf_in(&html),
        }
    }

    pub async fn signed_in(app: &App, email: &str) -> Self {
        let b = Self::new(app).await;
        let r = b
            .post(
                app,
                "/sign-in",
                &format!("email={}&password={PASSWORD}", email.replace('@', "%40")),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {email}");
        b
    }

    pub async fn post(&self, app: &App, path: &str, form: &str) -> reqwest::Response {
        let body = if form.is_empty() {
            format!("_csrf={}", self.csrf)
        } else {
            format!("{form}&_csrf={}", self.csrf)
        };
        self.http
            .post(format!("{}{path}", app.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, app: &App, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap()
    }
}
