//! The API as a script uses it, and what it says to bad input.

use crate::harness::{App, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

async fn story(app: App) {
    let (s, v) = app.call("GET", "/healthz", None, None).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"status": "ok"})));
    let owner = app.setup().await;
    // Setup happens once.
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/setup",
            None,
            Some(
                json!({"organisation": "X", "name": "Y", "email": "y@x.nl", "password": PASSWORD}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(v["code"], "already_set_up");

    let (s, me) = app.call("GET", "/api/v1/me", Some(&owner), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["user"]["email"], "anna@bakkerij.nl");
    let first = me["workspaces"][0]["id"].as_i64().unwrap();
    assert_eq!(me["workspaces"][0]["timezone"], "Europe/Amsterdam");

    let ws = app.workspace(&owner, "Fietsenwinkel Jansen").await;
    let (_, list) = app
        .call("GET", "/api/v1/workspaces", Some(&owner), None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    let (s, v) = app
        .call(
            "PATCH",
            &format!("/api/v1/workspaces/{ws}"),
            Some(&owner),
            Some(json!({"timezone": "Europe/Brussels"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["timezone"], "Europe/Brussels");
    assert_eq!(v["name"], "Fietsenwinkel Jansen");

    // A new person is invited; they accept and can use their own token.
    let (bob, bob_id) = app.member(&owner, ws, "bob@jansen.be", "editor").await;
    let (_, v) = app
        .call("GET", "/api/v1/workspaces", Some(&bob), None)
        .await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["role"], "editor");
    // A known person is added at once.
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/{first}/members"),
            Some(&owner),
            Some(json!({"email": "BOB@jansen.be", "role": "agent"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["member"]["user_id"], bob_id);
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/{first}/members"),
            Some(&owner),
            Some(json!({"email": "bob@jansen.be", "role": "agent"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_member"))
    );

    // Role changes, and the last owner stays.
    let (s, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/workspaces/{ws}/members/{bob_id}"),
            Some(&owner),
            Some(json!({"role": "manager"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let anna_id = me["user"]["id"].as_i64().unwrap();
    let (s, v) = app
        .call(
            "DELETE",
            &format!("/api/v1/workspaces/{ws}/members/{anna_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("last_owner"))
    );
    // A manager may not make owners.
    let (s, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/workspaces/{ws}/members/{bob_id}"),
            Some(&bob),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Everything is in the audit log, newest first.
    let (s, log) = app
        .call(
            "GET",
            &format!("/api/v1/workspaces/{ws}/audit"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "member.role_changed",
            "invite.accepted",
            "member.invited",
            "workspace.updated",
            "workspace.created"
        ]
    );

    // Tokens: made from a password, listed without secrets, revoked.
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/auth/tokens",
            None,
            Some(json!({"email": "anna@bakkerij.nl", "password": PASSWORD, "name": "cron"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (cron, cron_id) = (
        v["token"].as_str().unwrap().to_owned(),
        v["id"].as_i64().unwrap(),
    );
    let (_, list) = app
        .call("GET", "/api/v1/auth/tokens", Some(&cron), None)
        .await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none())
    );
    let (s, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/auth/tokens/{cron_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = app.call("GET", "/api/v1/me", Some(&cron), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
}

#[tokio::test]
async fn story_sqlite() {
    story(App::sqlite().await).await;
}

#[tokio::test]
async fn story_postgres() {
    if let Some(app) = App::postgres().await {
        story(app).await;
    }
}

#[tokio::test]
async fn bad_input_gets_clear_problems() {
    let app = App::sqlite().await;
    // Setup with every field wrong names every field, in Dutch when asked.
    let resp = app
        .http
        .post(format!("{}/api/v1/setup", app.url))
        .header("accept-language", "nl-BE,nl;q=0.9")
        .json(&json!({"organisation": " ", "name": "", "email": "anna", "password": "wachtwoord"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["code"], "validation_failed");
    let fields: Vec<(&str, &str)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("organisation", "required"),
            ("name", "required"),
            ("email", "email_invalid"),
            ("password", "password_common")
        ]
    );
    assert_eq!(
        v["errors"][2]["message"],
        "Vul een e-mailadres in zoals naam@voorbeeld.nl."
    );
    let owner = app.setup().await;

    let raw = |body: &'static str, ctype: &'static str| {
        let app = &app;
        let owner = owner.clone();
        async move {
            let r = app
                .http
                .post(format!("{}/api/v1/workspaces", app.url))
                .bearer_auth(owner)
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (s, v) = raw("{\"name\": ", "application/json").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_body"))
    );
    let (s, v) = raw("{\"name\": 5}", "application/json").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    let (s, v) = raw("{\"name\": \"A\", \"colour\": \"red\"}", "application/json").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    assert!(v["reason"].as_str().unwrap().contains("colour"));
    let (s, v) = raw("name=A", "application/x-www-form-urlencoded").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/workspaces",
            Some(&owner),
            Some(json!({"name": "B", "timezone": "Mars/Olympus"})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("timezone_invalid"))
    );

    let big = "x".repeat(2 * 1024 * 1024);
    let r = app
        .http
        .post(format!("{}/api/v1/workspaces", app.url))
        .bearer_auth(&owner)
        .json(&json!({"name": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // An e-mail address in use.
    let first = app
        .call("GET", "/api/v1/workspaces", Some(&owner), None)
        .await
        .1[0]["id"]
        .as_i64()
        .unwrap();
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/workspaces/{first}/members"),
            Some(&owner),
            Some(json!({"email": "new@x.nl", "role": "editor"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let code = v["invite_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (s, _) = app
        .call(
            "POST",
            &format!("/api/v1/invites/{code}"),
            None,
            Some(json!({"name": "N", "password": PASSWORD})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/invites/{code}"),
            None,
            Some(json!({"name": "N", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::GONE, Some("invite_invalid"))
    );

    // An expired invitation.
    app.db
        .store
        .create_invite(
            &dialoog_web::security::token_hash("old"),
            first,
            "late@x.nl",
            dialoog_domain::Role::Agent,
            1,
            0,
            1,
        )
        .await
        .unwrap();
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/invites/old",
            None,
            Some(json!({"name": "L", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::GONE, Some("invite_invalid"))
    );
    assert!(
        app.db
            .store
            .user_by_email("late@x.nl")
            .await
            .unwrap()
            .is_none()
    );

    // A tampered or unknown token.
    let (s, v) = app
        .call("GET", "/api/v1/me", Some(&format!("{owner}x")), None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let (s, v) = app.call("GET", "/api/v1/nothing-here", None, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // Nothing stored was lost along the way.
    let (_, me) = app.call("GET", "/api/v1/me", Some(&owner), None).await;
    assert_eq!(me["workspaces"].as_array().unwrap().len(), 1);
    assert_eq!(app.db.store.members(first).await.unwrap().len(), 2);
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled() {
    let app = App::sqlite().await;
    app.setup().await;
    let attempt = |pw: &'static str| {
        app.call(
            "POST",
            "/api/v1/auth/tokens",
            None,
            Some(json!({"email": "anna@bakkerij.nl", "password": pw, "name": "t"})),
        )
    };
    for _ in 0..5 {
        assert_eq!(
            attempt("wrong-password-1").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let resp = app
        .http
        .post(format!("{}/api/v1/auth/tokens", app.url))
        .json(&json!({"email": "anna@bakkerij.nl", "password": PASSWORD, "name": "t"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "900");
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        v["detail"],
        "Too many failed attempts. Try again in 15 minutes."
    );
}

#[tokio::test]
async fn openapi_documents_every_api_route() {
    let app = App::sqlite().await;
    let (s, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in crate::access_routes::API_ROUTES {
        let op = &paths[*path][method.to_lowercase()];
        assert!(
            op.is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        crate::access_routes::API_ROUTES.len(),
        "a documented route is missing from the access matrix"
    );
}

#[tokio::test]
async fn metrics_count_requests_per_route() {
    let app = App::sqlite().await;
    app.call("GET", "/healthz", None, None).await;
    app.call("GET", "/api/v1/workspaces/7", None, None).await;
    let text = app
        .http
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"dialoog_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/workspaces/{ws}",status="401"} 1"#),
        "{text}"
    );
    assert!(text.contains("dialoog_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 1"));
    assert!(text.contains("dialoog_db_pool_connections "));
}
