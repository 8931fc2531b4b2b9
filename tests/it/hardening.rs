//! Rate limits and hostile input: every request gets a coded answer, never a 5xx or a panic.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{send, Client, WRITE_KEY};
use serde_json::json;
use users_api::edge::limits::RateLimits;
use users_api::{app, AppState};

#[tokio::test]
async fn a_key_over_its_rate_gets_429_with_retry_after_and_every_answer_says_its_allowance() {
    let mut state = AppState::new(common::memory_store(), &common::config());
    state.limits = Arc::new(RateLimits::per_period(Duration::from_secs(3600), 3));
    let app = app(state);
    let h = [("authorization", WRITE_KEY)];
    for remaining in ["2", "1", "0"] {
        let answer = send(&app, "GET", "/users", &h, None).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(answer.header("x-ratelimit-remaining"), Some(remaining));
        assert!(
            answer
                .header("x-ratelimit-reset")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                > 0
        );
    }
    let refused = send(&app, "GET", "/users/x", &h, None).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json()["error"], "ALGOREP_033");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry));
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    let other_key = send(
        &app,
        "GET",
        "/users",
        &[("authorization", common::READ_KEY)],
        None,
    )
    .await;
    assert_eq!(other_key.status, 200, "limits are per key");
    let health = send(&app, "GET", "/health", &[], None).await;
    assert_eq!(
        (health.status.as_u16(), health.header("x-ratelimit-limit")),
        (200, None)
    );
}

#[tokio::test]
async fn hostile_bodies_get_400_and_never_a_5xx() {
    let c = Client::new(common::memory_store());
    let h = [
        ("authorization", WRITE_KEY),
        ("content-type", "application/json"),
    ];
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
    let bodies = [
        deep.as_str(),
        deep_object.as_str(),
        r#"{"firstName":"a","firstName":"b"}"#,
        r#"{"firstName":"\ud800"}"#,
        "{\"firstName\":\"a\u{1}b\"}",
        r#"{"firstName":"a\u0000b"}"#,
        r#"{"isAlgorep":1e400}"#,
        r#"{"version":123456789012345678901234567890}"#,
        r#"{"lastName":12345678901234567890123}"#,
        "\u{feff}{}",
        "",
        "null",
        "\"string\"",
        r#"{"email":"a@b.c"#,
    ];
    for body in bodies {
        let answer = send(&c.app, "POST", "/users/hostile", &h, Some(body)).await;
        assert_eq!(answer.status, 400, "{body:.60}: {}", answer.text);
        assert_eq!(answer.json()["error"], "ALGOREP_005");
    }
    let long = json!({"firstName": "é".repeat(1025)});
    assert_eq!(
        c.call("POST", "/users/hostile", Some(long)).await.status,
        400
    );
    let fits = json!({"firstName": "é".repeat(1024), "lastName": "🦀".repeat(1024)});
    assert_eq!(
        c.call("POST", "/users/hostile", Some(fits)).await.status,
        200,
        "limits count characters, not bytes"
    );
}

#[tokio::test]
async fn odd_paths_get_a_coded_answer() {
    let c = Client::new(common::memory_store());
    let paths = [
        ("/users/%00", 400),
        ("/users/..%2F..%2Fetc", 400),
        ("/users/%F0%9F%A6%80", 400),
        ("/users/a%20b", 400),
        (&format!("/users/{}", "x".repeat(129)) as &str, 400),
        ("/users/ok.id_1:2-3", 404),
        ("/users/%ZZ", 400),
        ("/users//", 404),
        ("/users/a/b", 404),
    ];
    for (path, status) in paths {
        let answer = c.call("GET", path, None).await;
        assert_eq!(answer.status.as_u16(), status, "{path}: {}", answer.text);
        assert!(answer.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("ALGOREP_"));
    }
}

#[tokio::test]
async fn cors_is_closed_unless_origins_are_configured() {
    let closed = common::router(common::memory_store());
    let h = [
        ("authorization", WRITE_KEY),
        ("origin", "https://app.example.com"),
    ];
    let answer = send(&closed, "GET", "/users", &h, None).await;
    assert_eq!(answer.header("access-control-allow-origin"), None);

    let mut config = common::config();
    config.cors_origins = vec!["https://app.example.com".into()];
    let open = app(AppState::new(common::memory_store(), &config));
    let allowed = send(&open, "GET", "/users", &h, None).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let other = [
        ("authorization", WRITE_KEY),
        ("origin", "https://evil.example.com"),
    ];
    assert_eq!(
        send(&open, "GET", "/users", &other, None)
            .await
            .header("access-control-allow-origin"),
        None
    );
    let preflight = [
        ("origin", "https://app.example.com"),
        ("access-control-request-method", "POST"),
    ];
    let answer = send(&open, "OPTIONS", "/users/b1", &preflight, None).await;
    assert_eq!(answer.status, 200);
    assert!(answer
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
}

#[tokio::test]
async fn invalid_utf8_in_a_path_or_query_is_the_usual_coded_400_in_json_or_xml() {
    let c = Client::new(common::memory_store());
    for (path, field) in [
        ("/users/%FF", "ref"),
        ("/users/a%C3/restore", "ref"),
        ("/users?updatedFrom=%FF", "updatedFrom"),
        ("/users?%FF=1", "query"),
        ("/deleted-users?cursor=%E2%82", "cursor"),
    ] {
        let method = if path.ends_with("/restore") {
            "POST"
        } else {
            "GET"
        };
        let json = c.call(method, path, None).await;
        assert_eq!(json.status, 400, "{path}: {}", json.text);
        assert_eq!(
            json.header("content-type"),
            Some("application/json"),
            "{path}"
        );
        let body = json.json();
        assert_eq!(
            (body["error"].as_str(), body["details"][0]["field"].as_str()),
            (Some("ALGOREP_005"), Some(field)),
            "{path}"
        );
        let xml = c
            .call_with(method, path, &[("accept", "application/xml")], None)
            .await;
        assert_eq!(xml.status, 400, "{path}");
        assert!(
            xml.text.contains("<error>ALGOREP_005</error>"),
            "{path}: {}",
            xml.text
        );
    }
}

#[tokio::test]
async fn thousands_of_unknown_fields_get_a_short_error() {
    let c = Client::new(common::memory_store());
    let body: serde_json::Map<String, serde_json::Value> =
        (0..20_000).map(|i| (format!("f{i}"), json!(1))).collect();
    let answer = c
        .call("POST", "/users/many", Some(serde_json::Value::Object(body)))
        .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.text.len() <= 16 * 1024,
        "{} bytes",
        answer.text.len()
    );
    let body = answer.json();
    assert_eq!(body["details"].as_array().unwrap().len(), 20);
    assert!(body["message"].as_str().unwrap().contains("and 19980 more"));
}

#[tokio::test]
async fn text_xml_cannot_carry_is_refused_and_what_is_stored_renders_as_xml() {
    let c = Client::new(common::memory_store());
    for bad in ["a\u{FFFE}", "\u{FFFF}", "bell\u{7}"] {
        let answer = c
            .call("POST", "/users/xml", Some(json!({"lastName": bad})))
            .await;
        assert_eq!(answer.status, 400, "{bad:?}");
        assert_eq!(answer.json()["details"][0]["field"], "lastName");
    }
    let made = c
        .call("POST", "/users/xml", Some(json!({"lastName": "a\r\nb<&>"})))
        .await;
    assert_eq!(made.status, 200);
    let xml = c
        .call_with("GET", "/users/xml", &[("accept", "application/xml")], None)
        .await;
    assert!(
        xml.text
            .contains("<lastName>a&#13;\nb&lt;&amp;&gt;</lastName>"),
        "{}",
        xml.text
    );
}
