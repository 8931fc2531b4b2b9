//! Black-box tests through the router, on the embedded store.

use crate::common;

use common::{send, Client, READ_KEY, WRITE_KEY};
use serde_json::{json, Value};

const SEED_BUBBLE_ID: &str = "1708861331497x933611102973227500";

/// The request body of the first client's own curl example (README, "Try it").
fn seed_body() -> Value {
    json!({"bubbleId":"1708861331497x933611102973227500","isMailConfirmed":true,"language":"Français","lastConnexion":"2024-01-19T12:45:04.147Z","email":"algorep@algorep.ai","mobilePhone":"0609921214","producerBubbleId":"1708861331497x933611102973227500","producerId":"50658c1e-356e-4407-b120-d110552292d8","sellerBubbleId":"1708861331497x933611102973227500","sellerId":"50658c1e-356e-4407-b120-d110552292d8","originBubbleId":"1708861331497x933611102973227500","originId":"50658c1e-356e-4407-b120-d110552292d8","lastName":"Macron","firstName":"Emmanuel","status":"3 - ACTIF","role":"producerAdmin","userSignedUp":true,"avatar":"//15c83987ea78e6559235081e42c9135b.cdn.bubble.io/f1713427188226x475005611045967500/api","isAlgorep":false,"createdAt":"2024-01-19T12:45:04.147Z","updatedAt":"2024-01-19T12:45:04.147Z"})
}

fn client() -> Client {
    Client::new(common::memory_store())
}

fn seed_path() -> String {
    format!("/users/{SEED_BUBBLE_ID}")
}

fn assert_error(answer: &common::Answer, status: u16, code: &str) -> Value {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["error"], code, "{body}");
    assert_eq!(body["status"], status);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    body
}

#[tokio::test]
async fn the_seed_example_answers_200_with_every_field_echoed_and_a_new_id() {
    let c = client();
    let answer = c.call("POST", &seed_path(), Some(seed_body())).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let user = answer.json();
    for (k, v) in seed_body().as_object().unwrap() {
        if k != "createdAt" && k != "updatedAt" {
            assert_eq!(&user[k], v, "field {k}");
        }
    }
    let id = user["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_ne!(id, "50658c1e-356e-4407-b120-d110552292d8");
    assert_eq!(user["version"], 1);
    assert_eq!(user["deletedAt"], Value::Null);
    assert_eq!(user["username"], Value::Null, "an unset field is null");
    assert_ne!(
        user["createdAt"], "2024-01-19T12:45:04.147Z",
        "the service's clock owns createdAt"
    );
    assert_eq!(answer.header("etag"), Some("\"1\""));
    assert!(answer.header("x-request-id").is_some());
    assert!(answer
        .header("server-timing")
        .unwrap()
        .starts_with("db;dur="));
    assert_eq!(answer.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn a_user_is_found_by_id_and_by_bubble_id() {
    let c = client();
    let created = c.call("POST", &seed_path(), Some(seed_body())).await.json();
    let by_id = c
        .call(
            "GET",
            &format!("/users/{}", created["id"].as_str().unwrap()),
            None,
        )
        .await;
    let by_bubble = c.call("GET", &seed_path(), None).await;
    assert_eq!(by_id.json(), created);
    assert_eq!(by_bubble.json(), created);
    assert_eq!(by_bubble.header("etag"), Some("\"1\""));
    let missing = c.call("GET", "/users/nobody", None).await;
    assert_error(&missing, 404, "ALGOREP_029");
}

#[tokio::test]
async fn merge_semantics_hold_through_the_api() {
    let c = client();
    c.call(
        "POST",
        "/users/b1",
        Some(json!({"firstName": "Ada", "lastName": "L"})),
    )
    .await;
    let merged = c
        .call(
            "POST",
            "/users/b1",
            Some(json!({"lastName": null, "role": "r"})),
        )
        .await
        .json();
    assert_eq!(merged["firstName"], "Ada");
    assert_eq!(merged["lastName"], Value::Null);
    assert_eq!(merged["role"], "r");
    assert_eq!(merged["version"], 2);
    let same = c
        .call("POST", "/users/b1", Some(json!({"firstName": "Ada"})))
        .await;
    assert_eq!(
        same.json(),
        merged,
        "a write that changes nothing changes nothing"
    );
    assert_eq!(same.header("etag"), Some("\"2\""));
}

#[tokio::test]
async fn bad_fields_are_named_and_nothing_is_stored() {
    let c = client();
    let cases = [
        (json!({"nickname": "x"}), "nickname"),
        (json!({"id": "50658c1e-356e-4407-b120-d110552292d8"}), "id"),
        (json!({"version": 3}), "version"),
        (json!({"deletedAt": null}), "deletedAt"),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"isAlgorep": "yes"}), "isAlgorep"),
        (json!({"producerId": "42"}), "producerId"),
        (json!({"lastConnexion": "yesterday"}), "lastConnexion"),
        (json!({"sellerBubbleId": "a b"}), "sellerBubbleId"),
        (json!({"avatar": "x".repeat(2049)}), "avatar"),
        (json!({"firstName": 12}), "firstName"),
        (json!({"bubbleId": "other"}), "bubbleId"),
    ];
    for (body, name) in cases {
        let answer = c.call("POST", "/users/b1", Some(body)).await;
        let err = assert_error(&answer, 400, "ALGOREP_005");
        assert_eq!(err["details"][0]["field"], name, "{err}");
        assert_error(&c.call("GET", "/users/b1", None).await, 404, "ALGOREP_029");
    }
    let not_object = c.call("POST", "/users/b1", Some(json!([1]))).await;
    assert_error(&not_object, 400, "ALGOREP_005");
    let bad_path = c.call("POST", "/users/a%20b", Some(json!({}))).await;
    assert_eq!(
        assert_error(&bad_path, 400, "ALGOREP_005")["details"][0]["field"],
        "bubbleId"
    );
}

#[tokio::test]
async fn malformed_oversized_and_non_json_bodies_are_refused() {
    let c = client();
    let h = [
        ("authorization", WRITE_KEY),
        ("content-type", "application/json"),
    ];
    let malformed = send(&c.app, "POST", "/users/b1", &h, Some("{\"firstName\": ")).await;
    assert_error(&malformed, 400, "ALGOREP_005");
    let duplicate = send(
        &c.app,
        "POST",
        "/users/b1",
        &h,
        Some(r#"{"firstName":"a","firstName":"b"}"#),
    )
    .await;
    assert_error(&duplicate, 400, "ALGOREP_005");
    let huge = format!("{{\"firstName\": \"{}\"}}", "x".repeat(300 * 1024));
    assert_error(
        &send(&c.app, "POST", "/users/b1", &h, Some(&huge)).await,
        413,
        "ALGOREP_034",
    );
    let form = [
        ("authorization", WRITE_KEY),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    assert_error(
        &send(&c.app, "POST", "/users/b1", &form, Some("a=b")).await,
        415,
        "ALGOREP_038",
    );
    assert_error(&c.call("GET", "/users/b1", None).await, 404, "ALGOREP_029");
}

#[tokio::test]
async fn keys_are_required_and_scoped() {
    let c = client();
    let body = Some("{}");
    let json_ct = ("content-type", "application/json");
    assert_error(
        &send(&c.app, "POST", "/users/b1", &[json_ct], body).await,
        401,
        "ALGOREP_031",
    );
    assert_error(
        &send(
            &c.app,
            "GET",
            "/users/b1",
            &[("authorization", "wrong")],
            None,
        )
        .await,
        401,
        "ALGOREP_031",
    );
    let read = [("x-api-key", READ_KEY), json_ct];
    assert_error(
        &send(&c.app, "POST", "/users/b1", &read, body).await,
        403,
        "ALGOREP_032",
    );
    for auth in [
        ("authorization", WRITE_KEY.to_owned()),
        ("authorization", format!("Bearer {WRITE_KEY}")),
        ("x-api-key", WRITE_KEY.to_owned()),
    ] {
        let answer = send(
            &c.app,
            "POST",
            "/users/b1",
            &[(auth.0, &auth.1), json_ct],
            body,
        )
        .await;
        assert_eq!(answer.status, 200, "{auth:?}");
    }
    assert_eq!(
        send(&c.app, "GET", "/users/b1", &[("x-api-key", READ_KEY)], None)
            .await
            .status,
        200
    );
    let asks_more = [("x-api-key", READ_KEY), ("x-api-key-type", "write")];
    assert_error(
        &send(&c.app, "GET", "/users/b1", &asks_more, None).await,
        403,
        "ALGOREP_032",
    );
    let narrowed = [
        ("x-api-key", WRITE_KEY),
        ("x-api-key-type", "read"),
        json_ct,
    ];
    assert_error(
        &send(&c.app, "POST", "/users/b1", &narrowed, body).await,
        403,
        "ALGOREP_032",
    );
    let client_id = [
        ("x-api-key", WRITE_KEY),
        ("x-api-key-type", "write"),
        ("x-client-id", "app-1"),
    ];
    assert_eq!(
        send(&c.app, "GET", "/users/b1", &client_id, None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn with_no_keys_configured_every_protected_route_refuses() {
    let config = users_api::config::Config::from_vars(|_| None).unwrap();
    let app = users_api::app(users_api::AppState::new(common::memory_store(), &config));
    for key in [WRITE_KEY, READ_KEY, ""] {
        assert_error(
            &send(&app, "GET", "/users/b1", &[("authorization", key)], None).await,
            401,
            "ALGOREP_031",
        );
    }
    assert_eq!(send(&app, "GET", "/health", &[], None).await.status, 200);
}

#[tokio::test]
async fn health_needs_no_key() {
    let c = client();
    let answer = send(&c.app, "GET", "/health", &[], None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"status": "ok"}));
    assert!(answer.header("x-request-id").is_some());
}

#[tokio::test]
async fn unknown_routes_and_methods_have_their_codes() {
    let c = client();
    assert_error(&c.call("GET", "/nope", None).await, 404, "ALGOREP_037");
    assert_error(
        &c.call("GET", "/users/a/b/c", None).await,
        404,
        "ALGOREP_037",
    );
    assert_error(&c.call("DELETE", "/health", None).await, 405, "ALGOREP_037");
    assert_error(
        &c.call("PUT", "/users", Some(json!({}))).await,
        405,
        "ALGOREP_037",
    );
    for (method, path) in [("GET", "/nope"), ("DELETE", "/health")] {
        let answer = c.call(method, path, None).await;
        assert!(
            answer.header("x-request-id").is_some(),
            "{method} {path}: X-Request-Id"
        );
        assert!(
            answer.header("server-timing").is_some(),
            "{method} {path}: Server-Timing"
        );
    }
}

#[tokio::test]
async fn duplicates_are_409_naming_the_field() {
    let c = client();
    c.call(
        "POST",
        "/users/b1",
        Some(json!({"email": "a@x.io", "username": "ada"})),
    )
    .await;
    let email = c
        .call("POST", "/users/b2", Some(json!({"email": "A@X.IO"})))
        .await;
    assert_eq!(
        assert_error(&email, 409, "ALGOREP_030")["details"][0]["field"],
        "email"
    );
    let username = c
        .call("POST", "/users/b2", Some(json!({"username": "ADA"})))
        .await;
    assert_eq!(
        assert_error(&username, 409, "ALGOREP_030")["details"][0]["field"],
        "username"
    );
    assert_error(&c.call("GET", "/users/b2", None).await, 404, "ALGOREP_029");
}

#[tokio::test]
async fn if_match_guards_every_write() {
    let c = client();
    c.call("POST", "/users/b1", Some(json!({"firstName": "A"})))
        .await;
    let stale = [("if-match", "\"9\"")];
    assert_error(
        &c.call_with("POST", "/users/b1", &stale, Some(json!({"firstName": "B"})))
            .await,
        412,
        "ALGOREP_035",
    );
    assert_error(
        &c.call_with("PUT", "/users/b1", &stale, Some(json!({"firstName": "B"})))
            .await,
        412,
        "ALGOREP_035",
    );
    assert_error(
        &c.call_with("DELETE", "/users/b1", &stale, None).await,
        412,
        "ALGOREP_035",
    );
    assert_eq!(
        c.call("GET", "/users/b1", None).await.json()["firstName"],
        "A"
    );
    let fresh = c
        .call_with(
            "PATCH",
            "/users/b1",
            &[("if-match", "\"1\"")],
            Some(json!({"firstName": "B"})),
        )
        .await;
    assert_eq!(fresh.status, 200);
    assert_eq!(fresh.header("etag"), Some("\"2\""));
    let bad = c
        .call_with("PUT", "/users/b1", &[("if-match", "two")], Some(json!({})))
        .await;
    assert_eq!(
        assert_error(&bad, 400, "ALGOREP_005")["details"][0]["field"],
        "If-Match"
    );
}

#[tokio::test]
async fn xml_is_served_when_asked_for() {
    let c = client();
    c.call(
        "POST",
        "/users/b1",
        Some(json!({"lastName": "<Macron & co>"})),
    )
    .await;
    let xml = c
        .call_with("GET", "/users/b1", &[("accept", "application/xml")], None)
        .await;
    assert_eq!(xml.status, 200);
    assert!(xml
        .header("content-type")
        .unwrap()
        .starts_with("application/xml"));
    assert!(xml.text.contains("<user><id>"), "{}", xml.text);
    assert!(
        xml.text
            .contains("<lastName>&lt;Macron &amp; co&gt;</lastName>"),
        "{}",
        xml.text
    );
    let err = c
        .call_with("GET", "/users/zz", &[("accept", "application/xml")], None)
        .await;
    assert!(
        err.text
            .contains("<error><error>ALGOREP_029</error><message>"),
        "{}",
        err.text
    );
    assert!(err.text.contains("<status>404</status>"));
    let list = c
        .call_with("GET", "/users", &[("accept", "application/xml")], None)
        .await;
    assert!(list.text.contains("<export><data><item>"), "{}", list.text);
    assert!(
        list.text.contains("<pagination><totalItems>1</totalItems>"),
        "{}",
        list.text
    );
    let none = c
        .call_with("GET", "/users/b1", &[("accept", "text/html")], None)
        .await;
    assert_error(&none, 406, "ALGOREP_038");
}

#[tokio::test]
async fn every_route_enforces_the_scope_its_table_entry_declares() {
    use users_api::api::routes::Access;
    let app = common::router(common::memory_store());
    for r in users_api::api::routes::routes() {
        let path = r.path.replace("{ref}", "someone");
        let what = format!("{} {}", r.method, r.path);
        let without = send(&app, r.method.as_str(), &path, &[], None).await;
        let read = send(
            &app,
            r.method.as_str(),
            &path,
            &[("authorization", READ_KEY)],
            None,
        )
        .await;
        match r.access {
            Access::Public => {
                assert_eq!(without.status, 200, "{what} is public");
                assert_eq!(read.status, 200, "{what} is public");
            }
            // A person's route: no key opens it (its tokens have their own suite, `me`).
            Access::Token => {
                assert_error(&without, 401, "ALGOREP_031");
                assert_error(&read, 401, "ALGOREP_031");
                let write = send(
                    &app,
                    r.method.as_str(),
                    &path,
                    &[("authorization", WRITE_KEY)],
                    None,
                )
                .await;
                assert_error(&write, 401, "ALGOREP_031");
            }
            Access::Key(scope) => {
                assert_error(&without, 401, "ALGOREP_031");
                assert_eq!(
                    without.header("www-authenticate"),
                    Some("Bearer realm=\"users-api\""),
                    "{what}"
                );
                match scope {
                    users_api::edge::auth::Scope::Write
                    | users_api::edge::auth::Scope::Erase
                    | users_api::edge::auth::Scope::Keys => {
                        assert_error(&read, 403, "ALGOREP_032");
                    }
                    users_api::edge::auth::Scope::Read => assert!(
                        !matches!(read.status.as_u16(), 401 | 403),
                        "{what}: a read key may read ({})",
                        read.status
                    ),
                }
            }
        }
    }
}
