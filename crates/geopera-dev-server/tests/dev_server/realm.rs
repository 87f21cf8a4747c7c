//! The stand-in OpenID Connect realm over raw HTTP: userinfo for API keys and issued tokens,
//! the device flow of RFC 8628 with PKCE, refresh-token rotation and logout.

use crate::common::{Harness, Reply, send};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use geopera_dev_server::DevConfig;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;

const REALM: &str = "/realms/public/protocol/openid-connect";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Harness {
    async fn form(&self, endpoint: &str, fields: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = self
            .http
            .post(self.url(&format!("{REALM}/{endpoint}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        send(request).await
    }

    async fn userinfo(&self, header: &str, value: &str) -> Reply {
        let request = self
            .http
            .get(self.url(&format!("{REALM}/userinfo")))
            .header(header, value);
        send(request).await
    }

    /// Starts a device login with the PKCE challenge of `VERIFIER`.
    async fn device(&self) -> Value {
        let reply = self
            .form(
                "auth/device",
                &[
                    ("client_id", "geopera-cli"),
                    ("scope", "openid profile"),
                    ("code_challenge", &challenge(VERIFIER)),
                    ("code_challenge_method", "S256"),
                ],
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()
    }

    async fn poll(&self, device_code: &str, verifier: &str) -> Reply {
        self.form(
            "token",
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", "geopera-cli"),
                ("device_code", device_code),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> Reply {
        self.form(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "geopera-cli"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// Whether `token` is accepted by an operation (the demo project is seeded).
    async fn op_accepts(&self, token: &str) -> bool {
        let reply = send(
            self.post("uploads.initiate")
                .bearer_auth(token)
                .json(&json!({"project_id": "prj_demo", "total_bytes": 1})),
        )
        .await;
        match reply.status {
            200 => true,
            401 => false,
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
}

fn oauth_error(reply: &Reply) -> String {
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn userinfo_answers_for_configured_tokens_as_api_keys() {
    let h = Harness::start().await;
    for header in ["x-api-key", "authorization"] {
        let value = if header == "authorization" {
            format!("Bearer {}", h.server.token())
        } else {
            h.server.token().to_owned()
        };
        let reply = h.userinfo(header, &value).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let info = reply.json();
        assert_eq!(info["geopera_principal_type"], "api_key");
        assert_eq!(info["geopera_org_id"], "org_dev");
        assert!(info["sub"].as_str().is_some_and(|s| s.starts_with("key_")));
        assert_eq!(info["scope"], "clip:read items:read uploads:write");
        assert!(!reply.text.contains(h.server.token()), "{}", reply.text);
    }
    let unknown = h.userinfo("x-api-key", "nope").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(oauth_error(&unknown), "invalid_token");
    assert!(unknown.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn a_device_login_with_pkce_issues_tokens_that_every_operation_accepts() {
    let h = Harness::with(DevConfig::default().device_poll_interval(Duration::ZERO)).await;
    h.demo();
    let device = h.device().await;
    let code = device["device_code"].as_str().expect("device_code");
    let user_code = device["user_code"].as_str().expect("user_code");
    assert_eq!(device["interval"], 0);
    assert_eq!(device["expires_in"], 600);
    let page = device["verification_uri"].as_str().expect("uri");
    assert_eq!(page, h.url("/realms/public/device"));
    assert_eq!(
        device["verification_uri_complete"],
        format!("{page}?user_code={user_code}")
    );
    assert_eq!(h.server.state().pending_device_codes(), vec![user_code]);

    let pending = h.poll(code, VERIFIER).await;
    assert_eq!(
        (pending.status, oauth_error(&pending)),
        (400, "authorization_pending".into())
    );
    assert!(!h.server.state().approve_device("ZZZZ-ZZZZ"));
    assert!(
        h.server
            .state()
            .approve_device(&user_code.to_lowercase().replace('-', ""))
    );
    assert!(h.server.state().pending_device_codes().is_empty());

    let wrong = h.poll(code, "another-verifier").await;
    assert_eq!(oauth_error(&wrong), "invalid_grant");
    let tokens = h.poll(code, VERIFIER).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let tokens = tokens.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 300);
    assert_eq!(tokens["scope"], "openid profile");
    let access = tokens["access_token"].as_str().expect("access");
    assert!(h.op_accepts(access).await);
    let info = h
        .userinfo("authorization", &format!("Bearer {access}"))
        .await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.json()["geopera_principal_type"], "user");
    assert_eq!(info.json()["sub"], "usr_dev");

    // A device code is used once.
    assert_eq!(oauth_error(&h.poll(code, VERIFIER).await), "invalid_grant");
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_told_to_slow_down() {
    let h = Harness::with(DevConfig::default().device_poll_interval(Duration::from_secs(60))).await;
    let device = h.device().await;
    let code = device["device_code"].as_str().expect("device_code");
    assert_eq!(device["interval"], 60);
    assert_eq!(oauth_error(&h.poll(code, VERIFIER).await), "slow_down");
    assert_eq!(oauth_error(&h.poll(code, VERIFIER).await), "slow_down");
}

#[tokio::test]
async fn denied_and_expired_device_logins_end_with_their_errors() {
    let h = Harness::with(DevConfig::default().device_poll_interval(Duration::ZERO)).await;
    let device = h.device().await;
    let code = device["device_code"].as_str().expect("device_code");
    assert!(
        h.server
            .state()
            .deny_device(device["user_code"].as_str().expect("user_code"))
    );
    assert_eq!(oauth_error(&h.poll(code, VERIFIER).await), "access_denied");
    assert_eq!(oauth_error(&h.poll(code, VERIFIER).await), "invalid_grant");

    let h = Harness::with(DevConfig::default().device_code_ttl(Duration::ZERO)).await;
    let device = h.device().await;
    let code = device["device_code"].as_str().expect("device_code");
    assert_eq!(oauth_error(&h.poll(code, VERIFIER).await), "expired_token");
}

#[tokio::test]
async fn auto_approval_answers_the_first_poll_and_a_missing_verifier_is_refused() {
    let config = DevConfig::default()
        .auto_approve_device(true)
        .device_poll_interval(Duration::ZERO);
    let h = Harness::with(config).await;
    let device = h.device().await;
    let code = device["device_code"].as_str().expect("device_code");
    let no_verifier = h
        .form(
            "token",
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", "geopera-cli"),
                ("device_code", code),
            ],
        )
        .await;
    assert_eq!(oauth_error(&no_verifier), "invalid_grant");
    assert_eq!(h.poll(code, VERIFIER).await.status, 200);
}

#[tokio::test]
async fn refresh_rotates_and_logout_ends_the_session() {
    let config = DevConfig::default()
        .auto_approve_device(true)
        .device_poll_interval(Duration::ZERO)
        .access_token_ttl(Duration::from_secs(42));
    let h = Harness::with(config).await;
    h.demo();
    let device = h.device().await;
    let first = h
        .poll(device["device_code"].as_str().expect("code"), VERIFIER)
        .await
        .json();
    assert_eq!(first["expires_in"], 42);
    let access = first["access_token"].as_str().expect("access");
    let refresh = first["refresh_token"].as_str().expect("refresh");

    h.server.state().expire_access_tokens();
    assert!(!h.op_accepts(access).await);
    let second = h.refresh(refresh).await;
    assert_eq!(second.status, 200, "{}", second.text);
    let second = second.json();
    let access2 = second["access_token"].as_str().expect("access");
    let refresh2 = second["refresh_token"].as_str().expect("refresh");
    assert_ne!(refresh2, refresh);
    assert!(h.op_accepts(access2).await);
    assert_eq!(second["scope"], "openid profile");
    // Rotation: the old refresh token is spent.
    assert_eq!(oauth_error(&h.refresh(refresh).await), "invalid_grant");

    let logout = h
        .form(
            "logout",
            &[("client_id", "geopera-cli"), ("refresh_token", refresh2)],
        )
        .await;
    assert_eq!(logout.status, 204, "{}", logout.text);
    assert!(!h.op_accepts(access2).await);
    assert_eq!(oauth_error(&h.refresh(refresh2).await), "invalid_grant");
}

#[tokio::test]
async fn other_clients_and_grants_are_refused() {
    let h = Harness::start().await;
    let other = h
        .form("auth/device", &[("client_id", "someone-else")])
        .await;
    assert_eq!(
        (other.status, oauth_error(&other)),
        (401, "invalid_client".into())
    );
    let plain = h
        .form(
            "auth/device",
            &[
                ("client_id", "geopera-cli"),
                ("code_challenge", "x"),
                ("code_challenge_method", "plain"),
            ],
        )
        .await;
    assert_eq!(oauth_error(&plain), "invalid_request");
    let grant = h
        .form(
            "token",
            &[("client_id", "geopera-cli"), ("grant_type", "password")],
        )
        .await;
    assert_eq!(oauth_error(&grant), "unsupported_grant_type");
}

#[tokio::test]
async fn the_verification_page_approves_a_code() {
    let h = Harness::with(DevConfig::default().device_poll_interval(Duration::ZERO)).await;
    let device = h.device().await;
    let user_code = device["user_code"].as_str().expect("user_code");
    let page = h
        .http
        .get(device["verification_uri_complete"].as_str().expect("uri"))
        .send()
        .await
        .expect("page");
    let html = page.text().await.expect("html");
    assert!(html.contains(&user_code.replace('-', "")), "{html}");
    let approve = send(
        h.http
            .post(h.url("/realms/public/device"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("user_code={user_code}&action=approve")),
    )
    .await;
    assert_eq!(approve.status, 200, "{}", approve.text);
    let code = device["device_code"].as_str().expect("device_code");
    assert_eq!(h.poll(code, VERIFIER).await.status, 200);
}
