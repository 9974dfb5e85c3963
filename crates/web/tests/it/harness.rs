//! Starts Dialoog on 127.0.0.1:0 against a fresh database.

use dialoog_store::testing::TestDb;
use dialoog_web::{AppState, WebConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub struct App {
    pub url: String,
    pub db: TestDb,
    pub http: reqwest::Client,
}

pub const PASSWORD: &str = "paars-fietsje-42";

impl App {
    pub async fn start(db: TestDb) -> Self {
        let store = db.store.clone();
        Self::start_on(db, store).await
    }

    /// Dialoog on `store` (a second view of `db`'s database, say one that
    /// cannot grow).
    pub async fn start_on(db: TestDb, store: dialoog_store::Store) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState::new(
            store,
            WebConfig {
                allow_loopback_media: true,
                public_url: url.clone(),
                mailer: None,
            },
            dialoog_engine::Cipher::new([7; 32]),
        );
        tokio::spawn(async move { axum::serve(listener, dialoog_web::app(state)).await });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { url, db, http }
    }

    pub async fn sqlite() -> Self {
        Self::start(TestDb::sqlite().await).await
    }

    pub async fn postgres() -> Option<Self> {
        Some(Self::start(TestDb::postgres().await?).await)
    }

    /// Any request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// First-run setup through the API; returns the owner's token.
    pub async fn setup(&self) -> String {
        let (s, v) = self
            .call("POST", "/api/v1/setup", None, Some(json!({"organisation": "Bakkerij De Vries", "name": "Anna", "email": "anna@bakkerij.nl", "password": PASSWORD})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["token"].as_str().unwrap().to_owned()
    }

    /// Adds a new person with `role` to `ws` by invitation; returns their token and id.
    pub async fn member(&self, owner: &str, ws: i64, email: &str, role: &str) -> (String, i64) {
        let (s, v) = self
            .call(
                "POST",
                &format!("/api/v1/workspaces/{ws}/members"),
                Some(owner),
                Some(json!({"email": email, "role": role})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let url = v["invite_url"].as_str().unwrap();
        let code = url.rsplit('/').next().unwrap();
        let (s, v) = self
            .call(
                "POST",
                &format!("/api/v1/invites/{code}"),
                None,
                Some(json!({"name": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        (
            v["token"].as_str().unwrap().to_owned(),
            v["user"]["id"].as_i64().unwrap(),
        )
    }

    /// Creates a workspace with the owner's token; returns its id.
    pub async fn workspace(&self, owner: &str, name: &str) -> i64 {
        let (s, v) = self
            .call(
                "POST",
                "/api/v1/workspaces",
                Some(owner),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_i64().unwrap()
    }
}
