//! `/openapi.json` describes exactly the routes the router serves, and any change to it is
//! reviewed: it is snapshotted in `tests/it/snapshots/` (`INSTA_UPDATE=always cargo test
//! openapi` writes the new one; read the diff before committing it).

use crate::common;

use common::{send, WRITE_KEY};
use serde_json::Value;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async fn spec(app: &axum::Router) -> Value {
    let answer = send(app, "GET", "/openapi.json", &[], None).await;
    assert_eq!(answer.status, 200);
    answer.json()
}

fn concrete(path: &str) -> String {
    path.replace("{ref}", "some-user")
        .replace("{keyId}", "key_00000000000000000000000000000000")
}

/// Whether the router has a handler for `method` on `path`.
async fn served(app: &axum::Router, method: &str, path: &str) -> bool {
    let answer = send(
        app,
        method,
        path,
        &[
            ("authorization", WRITE_KEY),
            ("content-type", "application/json"),
        ],
        Some("{}"),
    )
    .await;
    let body = answer.json();
    // 404 `ALGOREP_037` is "no such route", or, on a served `/keys/{keyId}`, "no such key".
    body["error"] != "ALGOREP_037" || body["message"] == "No such key"
}

#[tokio::test]
async fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let app = common::router(common::memory_store());
    let doc = spec(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut probes: Vec<String> = paths.keys().cloned().collect();
    probes.extend(
        [
            "/",
            "/users/a/b",
            "/deleted-users/x",
            "/users/some-user/delete",
            "/health/x",
        ]
        .map(String::from),
    );
    for path in probes {
        for method in METHODS {
            let documented = paths
                .get(&path)
                .is_some_and(|p| p.get(method.to_lowercase()).is_some());
            let is_served = served(&app, method, &concrete(&path)).await;
            assert_eq!(
                documented, is_served,
                "{method} {path}: documented {documented}, served {is_served}"
            );
        }
    }
}

#[tokio::test]
async fn every_reference_resolves_and_every_operation_documents_its_errors() {
    let app = common::router(common::memory_store());
    let doc = spec(&app).await;
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("500") && responses.contains_key("406"),
                "{method} {path}"
            );
            assert_gateway_bodies_documented(&doc, responses, &format!("{method} {path}"));
            if op["security"].as_array().unwrap().is_empty() {
                continue;
            }
            for status in ["401", "403", "429", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} documents {status}"
                );
            }
            let ok = &responses
                .get("200")
                .or_else(|| responses.get("201"))
                .expect("a success")["headers"];
            for header in ["X-Request-Id", "Server-Timing", "X-RateLimit-Limit"] {
                assert!(
                    ok.get(header).is_some(),
                    "{method} {path} documents {header}"
                );
            }
        }
    }
    let user = &doc["components"]["schemas"]["User"]["properties"];
    for field in users_api::domain::FIELDS.iter() {
        assert!(
            user.get(field.name).is_some(),
            "User schema has {}",
            field.name
        );
    }
}

/// API Gateway answers some statuses itself with `{"message": "…"}`: a generated client must
/// be told, or it fails to parse them. Each such status's JSON schema names `GatewayError`.
fn assert_gateway_bodies_documented(
    doc: &serde_json::Value,
    responses: &serde_json::Map<String, serde_json::Value>,
    operation: &str,
) {
    assert_eq!(
        doc["components"]["schemas"]["GatewayError"]["required"],
        serde_json::json!(["message"])
    );
    for status in ["429", "500", "502", "503", "504"] {
        let Some(response) = responses.get(status) else {
            assert!(
                status == "429" || status == "503",
                "{operation} documents {status}"
            );
            continue;
        };
        let schema = response["content"]["application/json"]["schema"].to_string();
        assert!(
            schema.contains("#/components/schemas/GatewayError"),
            "{operation} {status} allows API Gateway's body: {schema}"
        );
    }
}

#[tokio::test]
async fn the_served_document_is_the_committed_contract() {
    let app = common::router(common::memory_store());
    let document = serde_json::to_string_pretty(&spec(&app).await).unwrap();
    insta::assert_snapshot!("openapi", document);
}
