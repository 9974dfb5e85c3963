//! The interface through HTTP as a browser uses it.

use crate::browser::{Browser, csrf_in};
use crate::harness::{App, PASSWORD};
use reqwest::StatusCode;

#[tokio::test]
async fn first_run_sign_in_language_and_sign_out() {
    let app = App::sqlite().await;
    // A fresh install sends everyone to setup, in the browser's language.
    let r = app.http.get(format!("{}/", app.url)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/setup");
    let r = app
        .http
        .get(format!("{}/setup", app.url))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Welcome to Dialoog"));
    let html = app
        .http
        .get(format!("{}/setup", app.url))
        .header("accept-language", "nl-BE")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<html lang=\"nl\">")
            && html.contains("<label for=\"f-organisation\">Organisatie</label>")
    );

    let b = Browser::new(&app).await;
    // A weak password keeps what was typed and says what is wrong, in place.
    let r = b
        .post(
            &app,
            "/setup",
            "organisation=Bakkerij&name=Anna&email=anna%40bakkerij.nl&password=1234567890",
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Dit wachtwoord is te makkelijk te raden.")
            && html.contains("value=\"anna@bakkerij.nl\""),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"e-password\""));
    let r = b
        .post(
            &app,
            "/setup",
            &format!(
                "organisation=Bakkerij&name=Anna&email=anna%40bakkerij.nl&password={PASSWORD}"
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let html = b.get(&app, &to).await.text().await.unwrap();
    assert!(
        html.contains("Jouw rol hier: Eigenaar.")
            && html.contains(">Publiceren<")
            && html.contains(">Logboek<")
    );
    // A second setup is refused: the page sends to sign-in.
    assert_eq!(
        b.get(&app, "/setup").await.headers()["location"],
        "/sign-in"
    );

    // Switching the language is remembered for the user.
    let r = b.post(&app, "/language", "lang=en&next=%2Faccount").await;
    assert_eq!(r.headers()["location"], "/account");
    let html = b.get(&app, "/account").await.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("My account"));
    // An outside address is never a redirect target.
    let r = b
        .post(&app, "/language", "lang=en&next=%2F%2Fevil.example")
        .await;
    assert_eq!(r.headers()["location"], "/");

    // Sign out, then wrong password, then right one.
    let r = b.post(&app, "/sign-out", "").await;
    assert_eq!(r.headers()["location"], "/sign-in?done=signed_out");
    assert_eq!(
        b.get(&app, "/account").await.headers()["location"],
        "/sign-in"
    );
    let html = b.get(&app, "/sign-in").await.text().await.unwrap();
    let b2 = Browser {
        csrf: csrf_in(&html),
        http: b.http.clone(),
    };
    let r = b2
        .post(
            &app,
            "/sign-in",
            "email=anna%40bakkerij.nl&password=nope-nope-nope",
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("That e-mail address and password do not match.")
    );
    let r = b2
        .post(
            &app,
            "/sign-in",
            &format!("email=anna%40bakkerij.nl&password={PASSWORD}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_tampered_session_cookie_is_just_signed_out() {
    let app = App::sqlite().await;
    app.setup().await;
    let r = app
        .http
        .get(format!("{}/account", app.url))
        .header("cookie", "dialoog_session=AAAA%%%; dialoog_csrf=short")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/sign-in");
}

#[tokio::test]
async fn invite_accept_and_sign_in_in_the_browser() {
    let app = App::sqlite().await;
    app.setup().await;
    let owner = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let ws = app
        .db
        .store
        .user_by_email("anna@bakkerij.nl")
        .await
        .unwrap()
        .unwrap()
        .id;
    let ws = app.db.store.memberships(ws).await.unwrap()[0].workspace.id;
    let r = owner
        .post(
            &app,
            &format!("/w/{ws}/members"),
            "email=bob%40jansen.be&role=agent",
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let i = html
        .find("id=\"invite-url\" type=\"text\" value=\"")
        .unwrap();
    let url = html[i + 35..].split('"').next().unwrap().to_owned();
    let path = url.trim_start_matches(&app.url).to_owned();

    let bob = Browser::new(&app).await;
    let html = bob.get(&app, &path).await.text().await.unwrap();
    assert!(
        html.contains("Bakkerij De Vries")
            && html.contains("Webcare-medewerker")
            && html.contains("bob@jansen.be")
    );
    let r = bob.post(&app, &path, "name=Bob&password=kort").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Gebruik minstens 10 tekens.")
    );
    let r = bob
        .post(&app, &path, &format!("name=Bob&password={PASSWORD}"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("/w/{ws}").as_str());
    // Used once: the link now says so.
    let r = Browser::new(&app).await.get(&app, &path).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Deze uitnodiging is verlopen of al gebruikt.")
    );
    // The audit log shows it, for the owner.
    let html = owner
        .get(&app, &format!("/w/{ws}/audit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Uitnodiging aangenomen") && html.contains("Lid uitgenodigd"));
}

#[tokio::test]
async fn password_reset_link_works_once() {
    let app = App::sqlite().await;
    app.setup().await;
    let state = dialoog_web::AppState::new(
        app.db.store.clone(),
        dialoog_web::WebConfig {
            allow_loopback_media: false,
            public_url: app.url.clone(),
            mailer: None,
        },
        dialoog_engine::Cipher::new([7; 32]),
    );
    let user = app
        .db
        .store
        .user_by_email("anna@bakkerij.nl")
        .await
        .unwrap()
        .unwrap();
    let link = dialoog_web::service::reset_link(&state, &user)
        .await
        .unwrap();
    let path = link.trim_start_matches(&app.url).to_owned();
    let b = Browser::new(&app).await;
    assert_eq!(b.get(&app, &path).await.status(), StatusCode::OK);
    let r = b.post(&app, &path, "password=nieuw-en-lang-genoeg").await;
    assert_eq!(r.headers()["location"], "/sign-in?done=reset");
    let r = b.post(&app, &path, "password=nog-een-keer-proberen").await;
    assert_eq!(r.status(), StatusCode::GONE);
    let r = b
        .post(
            &app,
            "/sign-in",
            "email=anna%40bakkerij.nl&password=nieuw-en-lang-genoeg",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn two_factor_sign_in() {
    let app = App::sqlite().await;
    app.setup().await;
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let html = b
        .post(&app, "/account/two-factor/start", "")
        .await
        .text()
        .await
        .unwrap();
    // The QR code is drawn in the page: the policy allows no data: images.
    assert!(
        html.contains("<svg role=\"img\" aria-labelledby=\"qr-alt\""),
        "{html}"
    );
    assert!(!html.contains("data:image") && !html.contains("style="));
    let i = html.find("<code>").unwrap();
    let secret = html[i + 6..].split('<').next().unwrap().to_owned();
    let code = |s: &str| {
        let bytes = totp_rs::Secret::Encoded(s.to_owned()).to_bytes().unwrap();
        totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, "x".into())
            .unwrap()
            .generate_current()
            .unwrap()
    };
    let r = b
        .post(&app, "/account/two-factor/confirm", "code=000000")
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = b
        .post(
            &app,
            "/account/two-factor/confirm",
            &format!("code={}", code(&secret)),
        )
        .await;
    assert_eq!(r.headers()["location"], "/account?done=two_factor_enabled");

    let fresh = Browser::new(&app).await;
    let r = fresh
        .post(
            &app,
            "/sign-in",
            &format!("email=anna%40bakkerij.nl&password={PASSWORD}"),
        )
        .await;
    assert_eq!(r.headers()["location"], "/sign-in/two-factor");
    // Half-signed-in is not signed in.
    assert_eq!(
        fresh.get(&app, "/account").await.headers()["location"],
        "/sign-in/two-factor"
    );
    let r = fresh
        .post(
            &app,
            "/sign-in/two-factor",
            &format!("code={}", code(&secret)),
        )
        .await;
    assert_eq!(r.headers()["location"], "/");
    assert_eq!(fresh.get(&app, "/account").await.status(), StatusCode::OK);
    // The API asks for the code too.
    let body = serde_json::json!({"email": "anna@bakkerij.nl", "password": PASSWORD, "name": "x"});
    let (s, v) = app
        .call("POST", "/api/v1/auth/tokens", None, Some(body))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_required"))
    );
}

#[tokio::test]
async fn api_tokens_are_made_and_revoked_in_the_ui() {
    let app = App::sqlite().await;
    app.setup().await;
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let r = b.post(&app, "/account/tokens", "name=").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Dit veld is verplicht."));
    let html = b
        .post(&app, "/account/tokens", "name=Zapier")
        .await
        .text()
        .await
        .unwrap();
    let i = html
        .find("id=\"new-token\" type=\"text\" value=\"")
        .unwrap();
    let secret = html[i + 34..].split('"').next().unwrap().to_owned();
    assert!(secret.starts_with("dlg_"));
    assert!(html.contains("<td>Zapier</td>") && html.contains("nooit"));
    // The secret works for the API, once listed it is never shown again.
    let (s, _) = app.call("GET", "/api/v1/me", Some(&secret), None).await;
    assert_eq!(s, StatusCode::OK);
    let html = b.get(&app, "/account").await.text().await.unwrap();
    assert!(!html.contains(&secret));
    let id = app
        .db
        .store
        .api_tokens(1)
        .await
        .unwrap()
        .iter()
        .find(|t| t.name == "Zapier")
        .unwrap()
        .id;
    let r = b
        .post(&app, &format!("/account/tokens/{id}/revoke"), "")
        .await;
    assert_eq!(r.headers()["location"], "/account?done=token_revoked");
    let html = b
        .get(&app, "/account?done=token_revoked")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Het token is ingetrokken.") && !html.contains("<td>Zapier</td>"));
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&secret), None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn error_pages_speak_the_users_language_and_give_an_id() {
    let app = App::sqlite().await;
    app.setup().await;
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let r = b.get(&app, "/w/999").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"nl\">")
            && html.contains("Deze pagina of dit item bestaat niet")
    );
    let i = html.find("noem dan deze code: <code>").unwrap();
    let id = html[i + 26..].split('<').next().unwrap();
    assert_eq!(id.len(), 10, "an id to quote");
}

#[tokio::test]
async fn composing_in_the_browser_says_what_is_wrong_and_keeps_the_text() {
    let app = App::sqlite().await;
    app.setup().await;
    let b = Browser::signed_in(&app, "anna@bakkerij.nl").await;
    let html = b.get(&app, "/w/1/posts").await.text().await.unwrap();
    assert!(
        html.contains("Nieuw bericht") && html.contains("Nog geen berichten."),
        "{html}"
    );
    assert!(
        html.contains("href=\"/w/1/posts\" aria-current=\"page\""),
        "the Publish area is this page"
    );
    // 02:30 on the last Sunday of March does not exist in Amsterdam.
    let r = b
        .post(
            &app,
            "/w/1/posts",
            "text=Paasbrood+%F0%9F%A5%90&when=at&date=2038-03-28&time=02%3A30",
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("02:30 bestaat niet op die dag"), "{html}");
    assert!(
        html.contains(">Paasbrood 🥐</textarea>"),
        "what was typed stays"
    );
    // Publishing now needs a channel.
    let r = b.post(&app, "/w/1/posts", "text=Hallo&when=now").await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Kies minstens één kanaal.")
    );
    // A draft needs none, and is listed.
    let r = b
        .post(&app, "/w/1/posts", "text=Idee+voor+Pasen&when=draft")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b
        .get(&app, "/w/1/posts?done=post_saved")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Het bericht is opgeslagen.") && html.contains("Idee voor Pasen"),
        "{html}"
    );
    assert!(html.contains("Nog geen tijdstip"));
}
