//! Property tests: random input to the API's request parsing never breaks
//! the server, and never gets anything but a clear 4xx.

use crate::harness::App;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn random_bodies_get_clear_client_errors() {
    let rt = runtime();
    let (app, token) = rt.block_on(async {
        let app = App::sqlite().await;
        let token = app.setup().await;
        (app, token)
    });
    let strategy = (
        proptest::collection::vec(any::<u8>(), 0..512),
        prop::sample::select(vec![
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "",
        ]),
        0usize..4,
    );
    let paths = [
        "/api/v1/setup",
        "/api/v1/auth/tokens",
        "/api/v1/workspaces",
        "/api/v1/invites/abc",
    ];
    TestRunner::new(Config {
        cases: 256,
        ..Config::default()
    })
    .run(&strategy, |(body, ctype, route)| {
        rt.block_on(async {
            let mut req = app
                .http
                .post(format!("{}{}", app.url, paths[route]))
                .bearer_auth(&token)
                .body(body);
            if !ctype.is_empty() {
                req = req.header("content-type", ctype);
            }
            let r = req.send().await.unwrap();
            let s = r.status();
            prop_assert!(s.is_client_error(), "{} gave {}", paths[route], s);
            let v: serde_json::Value = r.json().await.unwrap();
            prop_assert!(v["code"].is_string() && v["detail"].is_string());
            Ok(())
        })
    })
    .unwrap();
    // The server still answers, and nothing was added.
    rt.block_on(async {
        let (s, me) = app.call("GET", "/api/v1/me", Some(&token), None).await;
        assert_eq!(s, reqwest::StatusCode::OK);
        assert_eq!(me["workspaces"].as_array().unwrap().len(), 1);
    });
}

#[test]
fn random_workspace_input_never_stores_a_bad_workspace() {
    let rt = runtime();
    let (app, token) = rt.block_on(async {
        let app = App::sqlite().await;
        let token = app.setup().await;
        (app, token)
    });
    TestRunner::new(Config {
        cases: 256,
        ..Config::default()
    })
    .run(&(".{0,120}", "[A-Za-z/_+-]{0,40}"), |(name, tz)| {
        rt.block_on(async {
            let body = serde_json::json!({"name": name, "timezone": tz});
            let (s, v) = app
                .call("POST", "/api/v1/workspaces", Some(&token), Some(body))
                .await;
            if s == reqwest::StatusCode::CREATED {
                prop_assert!(!v["name"].as_str().unwrap().trim().is_empty());
                prop_assert!(jiff::tz::TimeZone::get(v["timezone"].as_str().unwrap()).is_ok());
            } else {
                prop_assert_eq!(s, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{}", v);
            }
            Ok(())
        })
    })
    .unwrap();
}
