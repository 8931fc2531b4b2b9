//! The OpenAPI 3.1 document, generated from the route table and the field table.

use serde_json::{json, Map, Value};

use super::routes::{routes, Access, BodyKind, Route};
use crate::domain::{Kind, FIELDS};
use crate::edge::contract::{BUBBLE_ID_PATTERN, MAX_BATCH, MAX_CURSOR_PAGE_SIZE};
use crate::edge::error::CODES;

const EXTERNAL_ID: &str = BUBBLE_ID_PATTERN;
/// Statuses every route can answer (502 and 504 only ever come from API Gateway).
const ALWAYS: [u16; 4] = [406, 500, 502, 504];
/// Statuses every protected route can answer.
const PROTECTED: [u16; 4] = [401, 403, 429, 503];

fn field_schema(kind: Kind) -> Value {
    match kind {
        Kind::Bool => json!({"type": ["boolean", "null"]}),
        Kind::Flag => {
            json!({"type": "boolean", "description": "true unless the user is disabled; null in a body resets it to true"})
        }
        Kind::Text { max_chars } => json!({"type": ["string", "null"], "maxLength": max_chars}),
        Kind::Email => json!({"type": ["string", "null"], "format": "email", "maxLength": 254}),
        Kind::Username => {
            json!({"type": ["string", "null"], "minLength": 1, "maxLength": 128, "pattern": "^\\S+$"})
        }
        Kind::DateTime => json!({"type": ["string", "null"], "format": "date-time"}),
        Kind::ExternalId => json!({"type": ["string", "null"], "pattern": EXTERNAL_ID}),
        Kind::Uuid => json!({"type": ["string", "null"], "format": "uuid"}),
    }
}

/// A managed key's record, and the same with its one-time `secret`.
fn key_schemas() -> (Value, Value) {
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    let relation = json!({"type": ["string", "null"], "format": "uuid"});
    let key = json!({
        "type": "object", "xml": {"name": "key"},
        "required": ["id", "name", "scopes", "producerId", "sellerId", "originId", "createdAt", "createdBy", "expiresAt", "lastUsedAt", "revokedAt"],
        "properties": {
            "id": {"type": "string", "pattern": "^key_[0-9a-f]{32}$"},
            "name": {"type": "string"},
            "scopes": {"type": "array", "items": {"type": "string", "enum": ["read", "write", "erase", "keys"]}},
            "producerId": relation, "sellerId": relation, "originId": relation,
            "createdAt": {"type": "string", "format": "date-time"},
            "createdBy": {"type": "string", "description": "The name of the key that created it."},
            "expiresAt": time, "lastUsedAt": time, "revokedAt": time,
        }
    });
    let mut with_secret = key.clone();
    with_secret["properties"]["secret"] = json!({"type": "string", "pattern": "^uak_[A-Za-z0-9_-]{43}$", "description": "Shown in this answer only."});
    with_secret["required"]
        .as_array_mut()
        .expect("a list")
        .push(json!("secret"));
    (key, with_secret)
}

fn schemas() -> Value {
    let (key, key_with_secret) = key_schemas();
    let mut user = Map::new();
    user.insert("id".into(), json!({"type": "string", "format": "uuid"}));
    user.insert(
        "bubbleId".into(),
        json!({"type": "string", "pattern": EXTERNAL_ID}),
    );
    let mut write = Map::new();
    write.insert("bubbleId".into(), json!({"type": "string", "pattern": EXTERNAL_ID, "description": "Must equal the user's bubbleId."}));
    for f in &FIELDS {
        user.insert(f.name.into(), field_schema(f.kind));
        write.insert(f.name.into(), field_schema(f.kind));
    }
    for owned in ["createdAt", "updatedAt"] {
        user.insert(
            owned.into(),
            json!({"type": "string", "format": "date-time"}),
        );
        write.insert(
            owned.into(),
            json!({"description": "Accepted and ignored: the service's clock owns it."}),
        );
    }
    user.insert(
        "deletedAt".into(),
        json!({"type": ["string", "null"], "format": "date-time"}),
    );
    user.insert(
        "erasedAt".into(),
        json!({"type": ["string", "null"], "format": "date-time",
               "description": "Set once the person's data is erased: the user is a tombstone."}),
    );
    user.insert("version".into(), json!({"type": "integer", "minimum": 1}));
    let required: Vec<&String> = user.keys().collect();
    let pagination = json!({
        "type": "object",
        "required": ["totalItems", "itemsPerPage", "currentPage", "totalPages", "nextPageUrl"],
        "properties": {
            "totalItems": {"type": ["integer", "null"], "minimum": 0},
            "itemsPerPage": {"type": "integer", "minimum": 1, "maximum": MAX_CURSOR_PAGE_SIZE},
            "currentPage": {"type": "integer", "minimum": 1},
            "totalPages": {"type": ["integer", "null"], "minimum": 0},
            "nextPageUrl": {"type": ["string", "null"], "description": "The next page, null on the last. It carries the list's filter (updatedFrom, producerId, …), pageSize and a signed cursor: follow it as it is."},
            "unreadableItems": {"type": "array", "items": {"type": "string"}, "xml": {"wrapped": true, "name": "unreadableItems"}, "description": "Present only when a stored item in this page could not be read back: its bubbleId. The page still answers and the walk goes on; the operator's log names the cause."}
        }
    });
    let list = |item: &str| {
        json!({
            "type": "object",
            "required": ["data", "pagination"],
            "xml": {"name": "export"},
            "properties": {
                "data": {"type": "array", "xml": {"wrapped": true}, "items": {"$ref": format!("#/components/schemas/{item}"), "xml": {"name": "item"}}},
                "pagination": {"$ref": "#/components/schemas/Pagination"}
            }
        })
    };
    json!({
        "User": {"type": "object", "xml": {"name": "user"}, "required": required, "properties": user, "additionalProperties": false},
        "UserWrite": {
            "type": "object",
            "description": "JSON Merge Patch: an absent field stays, null erases, a value sets.",
            "properties": write,
            "additionalProperties": false
        },
        "BatchItem": {"allOf": [{"$ref": "#/components/schemas/UserWrite"}], "required": ["bubbleId"]},
        "Batch": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": {"$ref": "#/components/schemas/BatchItem"}},
        "BatchResult": {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"type": "array", "items": {
                "type": "object",
                "required": ["index", "status"],
                "properties": {
                    "index": {"type": "integer", "minimum": 0},
                    "status": {"type": "integer", "description": "This item's own HTTP status: 201 created; 200 (batch upsert) updated, unchanged or reactivated; 400, 409, 500, 503. More may be added: treat an unknown one by its class.", "minimum": 100, "maximum": 599},
                    "result": {"type": "string", "description": "Batch upsert only: what the upsert did. More may be added.", "examples": ["created", "updated", "unchanged", "reactivated"]},
                    "user": {"$ref": "#/components/schemas/User"},
                    "error": {"type": "string", "pattern": "^ALGOREP_[0-9]{3}$"},
                    "message": {"type": "string"},
                    "details": {"$ref": "#/components/schemas/Details"}
                }
            }}}
        },
        "Pagination": pagination,
        "UserList": list("User"),
        "DeletionRecord": {
            "type": "object",
            "required": ["id", "bubbleId", "email", "username", "deletedAt", "deletedBy"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "bubbleId": {"type": "string", "pattern": EXTERNAL_ID},
                "email": {"type": ["string", "null"]},
                "username": {"type": ["string", "null"]},
                "deletedAt": {"type": "string", "format": "date-time"},
                "deletedBy": {"type": "string", "description": "The name of the API key that deleted."}
            }
        },
        "DeletionList": list("DeletionRecord"),
        "Key": key.clone(),
        "KeyWithSecret": key_with_secret,
        "KeyList": {"type": "object", "xml": {"name": "keys"}, "required": ["data"], "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}}}},
        "KeyCreate": {
            "type": "object", "required": ["name", "scopes"], "additionalProperties": false,
            "description": "At most one of producerId, sellerId, originId: the organization the key is bound to.",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                "scopes": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["read", "write", "erase", "keys"]}},
                "producerId": {"type": "string", "format": "uuid"},
                "sellerId": {"type": "string", "format": "uuid"},
                "originId": {"type": "string", "format": "uuid"},
                "expiresAt": {"type": ["string", "null"], "format": "date-time"}
            }
        },
        "KeyRotation": {
            "type": "object", "additionalProperties": false,
            "properties": {"overlapHours": {"type": "integer", "minimum": 0, "maximum": 168, "default": 24}}
        },
        "Details": {"type": "array", "items": {
            "type": "object", "required": ["field", "reason"],
            "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}
        }},
        "Error": {
            "type": "object",
            "xml": {"name": "error"},
            "required": ["error", "message", "status"],
            "properties": {
                "error": {"type": "string", "pattern": "^ALGOREP_[0-9]{3}$"},
                "message": {"type": "string"},
                "status": {"type": "integer"},
                "details": {"$ref": "#/components/schemas/Details"}
            }
        },
        "GatewayError": {
            "type": "object",
            "required": ["message"],
            "description": "API Gateway's own body, sent when it throttles (429) or the function cannot answer (500, 502, 503, 504), e.g. {\"message\": \"Too Many Requests\"}. Always JSON.",
            "properties": {"message": {"type": "string"}}
        },
        "Health": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}},
        "Any": {}
    })
}

fn headers(route: &Route, status: u16) -> Value {
    let mut h = Map::new();
    h.insert(
        "X-Request-Id".into(),
        json!({"description": "The Lambda request id.", "schema": {"type": "string"}}),
    );
    h.insert("Server-Timing".into(), json!({"description": "db;dur=<ms>;desc=\"<n> requests, <r> RCU, <w> WCU\": storage requests for this request, their time, and the capacity units DynamoDB reported consumed (0 on the embedded store).", "schema": {"type": "string"}}));
    if route.access != Access::Public && status != 401 && status != 403 {
        for (name, doc) in [
            ("X-RateLimit-Limit", "The key's burst."),
            (
                "X-RateLimit-Remaining",
                "Requests left in the key's bucket.",
            ),
            (
                "X-RateLimit-Reset",
                "Seconds until the bucket is full again.",
            ),
        ] {
            h.insert(
                name.into(),
                json!({"description": doc, "schema": {"type": "integer", "minimum": 0}}),
            );
        }
    }
    if status == 429 || status == 503 {
        h.insert(
            "Retry-After".into(),
            json!({"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 1}}),
        );
    }
    if status == 200 && route.success.1 == "User" {
        h.insert(
            "ETag".into(),
            json!({"description": "\"<version>\", for If-Match.", "schema": {"type": "string"}}),
        );
    }
    Value::Object(h)
}

fn content(schema: &str) -> Value {
    let reference = json!({"$ref": format!("#/components/schemas/{schema}")});
    json!({"application/json": {"schema": reference}, "application/xml": {"schema": reference}})
}

/// An error's body: ours, or for the statuses API Gateway also sends, possibly its own.
fn error_content(status: u16) -> Value {
    match status {
        502 | 504 => {
            json!({"application/json": {"schema": {"$ref": "#/components/schemas/GatewayError"}}})
        }
        429 | 500 | 503 => {
            let mut media = content("Error");
            media["application/json"]["schema"] = json!({"anyOf": [
                {"$ref": "#/components/schemas/Error"},
                {"$ref": "#/components/schemas/GatewayError"}
            ]});
            media
        }
        _ => content("Error"),
    }
}

/// What an error status means: the codes the service answers it with, and what API Gateway
/// itself may answer.
fn error_meaning(status: u16) -> String {
    let ours: Vec<String> = CODES
        .iter()
        .filter(|c| c.status == status)
        .map(|c| format!("{} ({})", c.meaning, c.code))
        .collect();
    let gateway = match status {
        429 => Some("API Gateway's stage throttle (GatewayError)"),
        502 => Some("API Gateway: the function failed or its answer was malformed"),
        504 => Some("API Gateway: the function did not answer in time"),
        _ => None,
    };
    ours.into_iter()
        .chain(gateway.map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; or ")
}

fn operation(route: &Route) -> Value {
    let mut params: Vec<Value> = route
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name, "in": p.location, "required": p.location == "path",
                "description": p.doc, "schema": (p.schema)(),
            })
        })
        .collect();
    if route.if_match {
        params.push(
            json!({"name": "If-Match", "in": "header", "required": false,
            "description": "Apply only if the user is still at this version (\"3\", W/\"3\" or *).",
            "schema": {"type": "string", "pattern": "^(\\*|(W/)?\"[0-9]{1,19}\")$"}}),
        );
    }
    if let Access::Key(_) = route.access {
        params.push(
            json!({"name": "X-API-KEY-TYPE", "in": "header", "required": false,
            "description": "The scope the caller means to use; more than the key has is 403.",
            "schema": {"type": "string", "enum": ["read", "write"]}}),
        );
        params.push(
            json!({"name": "X-CLIENT-ID", "in": "header", "required": false,
            "description": "Logged with the request.", "schema": {"type": "string"}}),
        );
    }
    let mut responses = Map::new();
    let (ok, schema) = route.success;
    responses.insert(ok.to_string(), json!({"description": "Success", "headers": headers(route, ok), "content": content(schema)}));
    let mut errors: Vec<u16> = route.errors.iter().copied().chain(ALWAYS).collect();
    if route.access != Access::Public {
        errors.extend(PROTECTED);
    }
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        responses.insert(status.to_string(), json!({
            "description": error_meaning(status), "headers": headers(route, status), "content": error_content(status),
        }));
    }
    let mut op = json!({
        "operationId": route.operation_id,
        "summary": route.summary,
        "parameters": params,
        "responses": responses,
        "security": match route.access {
            Access::Key(s) => json!([{"authorization": [s.name()]}, {"apiKey": [s.name()]}]),
            Access::Token => json!([{"signIn": []}]),
            Access::Public => json!([]),
        },
    });
    if let Some(body) = route.body {
        let schema = match body {
            BodyKind::Batch => "Batch",
            BodyKind::User => "UserWrite",
            BodyKind::Key => "KeyCreate",
            BodyKind::Rotation => "KeyRotation",
        };
        let reference = json!({"$ref": format!("#/components/schemas/{schema}")});
        let mut media = json!({"application/json": {"schema": reference}});
        if body == BodyKind::User {
            media["application/merge-patch+json"] = json!({"schema": reference});
        }
        op["requestBody"] = json!({"required": body != BodyKind::Rotation, "content": media});
    }
    if let Access::Key(scope) = route.access {
        op["x-key-scope"] = json!(scope.name());
    }
    op
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in routes() {
        let entry = paths.entry(route.path).or_insert_with(|| json!({}));
        entry[route.method.as_str().to_lowercase()] = operation(&route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "users-api",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A user directory other systems sync their users into. Errors are {error: ALGOREP_nnn, message, status}. The API grows and never breaks: ignore fields you do not know.",
            "license": {"name": "MIT", "identifier": "MIT"}
        },
        "servers": [
            {"url": "http://localhost:9000", "description": "make run"},
            {"url": "https://{apiId}.execute-api.{region}.amazonaws.com", "description": "The deployed stack's ApiUrl output",
             "variables": {"apiId": {"default": "abc123"}, "region": {"default": "us-east-1"}}}
        ],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "authorization": {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "The key, or Bearer <key>."},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-KEY"},
                "signIn": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A sign-in token (OIDC access or ID token) of the configured issuer: /me only, never an API key."}
            }
        }
    })
}
