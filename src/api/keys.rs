//! The `/keys` routes: managed keys created, listed, rotated and revoked at run time. A
//! key manages only keys it could have made: no more scopes than it holds, and, when it is
//! bound, only keys of its own organization (any other key is 404 to it).

use axum::extract::{Extension, Path};
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::body::{parse_strict, JsonBody};
use super::reply::Reply;
use crate::domain::{Relation, Timestamp};
use crate::edge::auth::{Caller, Scope, Scopes};
use crate::edge::error::ApiError;
use crate::edge::view::View;
use crate::edge::AppState;
use crate::keys::managed::{DEFAULT_OVERLAP_HOURS, MAX_OVERLAP_HOURS};
use crate::keys::{Binding, KeyRecord, Secret};
use crate::store::StoreError;

/// The longest key name.
const MAX_NAME: usize = 100;

/// `POST /keys`: a new key, its secret shown this once.
pub async fn create(
    View(app): View,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<Reply, ApiError> {
    let asked = KeyRequest::parse(&body)?;
    if !caller.scopes.covers(asked.scopes) {
        return Err(ApiError::ForbiddenField(
            "scopes",
            "holds a scope the calling key does not",
        ));
    }
    let binding = match (caller.binding, asked.binding) {
        (Some(own), Some(b)) if b != own => {
            return Err(ApiError::ForbiddenField(
                b.field(),
                "a bound key creates keys of its own organization only",
            ))
        }
        (Some(own), _) => Some(own),
        (None, b) => b,
    };
    let now = app.keys.now();
    if asked.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiError::bad("expiresAt", "must be in the future"));
    }
    let (record, secret) = KeyRecord::create(
        asked.name,
        asked.scopes,
        binding,
        asked.expires_at,
        &caller.name,
        now,
    );
    app.keys.store().create(&record).await?;
    tracing::info!(actor = %caller.name, key_id = %record.id, action = "created", "key changed");
    Ok(with_secret(&record, &secret).with_status(StatusCode::CREATED))
}

/// `GET /keys`: the keys this key may see, oldest first.
pub async fn list(
    View(app): View,
    Extension(caller): Extension<Caller>,
) -> Result<Reply, ApiError> {
    let records = app.keys.store().list().await?;
    let data: Vec<Value> = records
        .iter()
        .filter(|r| visible(&caller, r))
        .map(KeyRecord::to_json)
        .collect();
    Ok(Reply::document(json!({ "data": data }), "keys"))
}

/// `GET /keys/{keyId}`.
pub async fn get(
    View(app): View,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Reply, ApiError> {
    let record = find(&app, &caller, &id).await?;
    Ok(Reply::document(record.to_json(), "key"))
}

/// `POST /keys/{keyId}/rotate`: a new secret; the old one works for the overlap.
pub async fn rotate(
    View(app): View,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Reply, ApiError> {
    let body = match body.iter().all(u8::is_ascii_whitespace) {
        true => None,
        false => Some(parse_strict(&body)?),
    };
    let overlap = overlap_hours(body.as_ref())?;
    for _ in 0..3 {
        let record = find(&app, &caller, &id).await?;
        if !caller.scopes.covers(record.scopes) {
            return Err(ApiError::ForbiddenField(
                "scopes",
                "the key holds a scope the calling key does not",
            ));
        }
        if record.revoked_at.is_some() {
            return Err(ApiError::bad("keyId", "the key is revoked"));
        }
        let (next, secret) = record.rotated(overlap, app.keys.now());
        match app.keys.store().replace(&record, &next).await {
            Ok(()) => {
                app.keys.forget(&id);
                tracing::info!(actor = %caller.name, key_id = %id, overlap_hours = overlap, action = "rotated", "key changed");
                return Ok(with_secret(&next, &secret));
            }
            Err(StoreError::Domain(crate::domain::DomainError::PreconditionFailed)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Unavailable)
}

/// `DELETE /keys/{keyId}`: revoked, refused everywhere within 10 s.
pub async fn revoke(
    View(app): View,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Reply, ApiError> {
    for _ in 0..3 {
        let record = find(&app, &caller, &id).await?;
        let next = record.revoked(app.keys.now());
        if next == record {
            return Ok(Reply::document(record.to_json(), "key"));
        }
        match app.keys.store().replace(&record, &next).await {
            Ok(()) => {
                app.keys.forget(&id);
                tracing::info!(actor = %caller.name, key_id = %id, action = "revoked", "key changed");
                return Ok(Reply::document(next.to_json(), "key"));
            }
            Err(StoreError::Domain(crate::domain::DomainError::PreconditionFailed)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Unavailable)
}

/// Whether `caller` may see (and so manage) `record`: an unbound key sees every key, a
/// bound one its organization's.
fn visible(caller: &Caller, record: &KeyRecord) -> bool {
    caller.binding.is_none() || caller.binding == record.binding
}

async fn find(app: &AppState, caller: &Caller, id: &str) -> Result<KeyRecord, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::NoSuchKey);
    }
    match app.keys.store().get(id).await? {
        Some(r) if visible(caller, &r) => Ok(r),
        _ => Err(ApiError::NoSuchKey),
    }
}

fn with_secret(record: &KeyRecord, secret: &Secret) -> Reply {
    let mut body = record.to_json();
    body["secret"] = json!(secret.expose());
    Reply::document(body, "key")
}

fn overlap_hours(body: Option<&Value>) -> Result<u32, ApiError> {
    let Some(body) = body else {
        return Ok(DEFAULT_OVERLAP_HOURS);
    };
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::bad("body", "must be a JSON object"))?;
    if let Some(name) = object.keys().find(|k| *k != "overlapHours") {
        return Err(ApiError::bad(name, "is not a field of a rotation"));
    }
    match object.get("overlapHours") {
        None => Ok(DEFAULT_OVERLAP_HOURS),
        Some(v) => v
            .as_u64()
            .filter(|h| *h <= u64::from(MAX_OVERLAP_HOURS))
            .map(|h| h as u32)
            .ok_or_else(|| ApiError::bad("overlapHours", "must be a whole number from 0 to 168")),
    }
}

/// A `POST /keys` body, validated.
struct KeyRequest {
    name: String,
    scopes: Scopes,
    binding: Option<Binding>,
    expires_at: Option<Timestamp>,
}

impl KeyRequest {
    fn parse(body: &Value) -> Result<Self, ApiError> {
        let object: &Map<String, Value> = body
            .as_object()
            .ok_or_else(|| ApiError::bad("body", "must be a JSON object"))?;
        const FIELDS: [&str; 6] = [
            "name",
            "scopes",
            "producerId",
            "sellerId",
            "originId",
            "expiresAt",
        ];
        if let Some(name) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            let name: String = name.chars().take(64).collect();
            return Err(ApiError::bad(&name, "is not a field of a key"));
        }
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.chars().count() <= MAX_NAME)
            .ok_or_else(|| ApiError::bad("name", "must be a string of 1 to 100 characters"))?;
        let scopes = object
            .get("scopes")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .and_then(|a| {
                a.iter()
                    .map(|s| s.as_str().and_then(Scope::parse))
                    .collect::<Option<Vec<_>>>()
            })
            .map(Scopes::of)
            .ok_or_else(|| {
                ApiError::bad(
                    "scopes",
                    "must be a non-empty array of read, write, erase, keys",
                )
            })?;
        let mut binding = None;
        for r in Relation::ALL {
            let Some(v) = object.get(r.field()) else {
                continue;
            };
            let b = v
                .as_str()
                .and_then(|v| Binding::parse(r.field(), v))
                .ok_or_else(|| ApiError::bad(r.field(), "must be a UUID"))?;
            if binding.replace(b).is_some() {
                return Err(ApiError::bad(
                    r.field(),
                    "a key is bound to one organization",
                ));
            }
        }
        let expires_at = match object.get("expiresAt") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(Timestamp::parse_rfc3339)
                    .ok_or_else(|| ApiError::bad("expiresAt", "must be an RFC 3339 date-time"))?,
            ),
        };
        Ok(Self {
            name: name.to_owned(),
            scopes,
            binding,
            expires_at,
        })
    }
}
