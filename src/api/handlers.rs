//! Route handlers: parse the request into domain values, ask the store, answer.

use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::{stream, StreamExt};
use http::{header, HeaderMap, HeaderValue};
use serde_json::{json, Value};
use std::sync::OnceLock;

use super::body::{JsonBody, PathRef};
use super::reply::Reply;
use crate::domain::{BubbleId, FieldIssue, Intent, Patch, UserRef};
use crate::edge::auth::Caller;
use crate::edge::conditional::if_match;
use crate::edge::contract::MAX_BATCH;
use crate::edge::error::ApiError;
use crate::edge::query::Params;
use crate::edge::view::View;
use crate::edge::AppState;
use crate::store::batch::{self, Outcome};

/// How many batch items are written at once.
const BATCH_PARALLELISM: usize = 8;

fn parse_ref(raw: &str) -> Result<UserRef, ApiError> {
    UserRef::parse(raw).map_err(|why| ApiError::bad("ref", why))
}

/// The user fields of a JSON body, by the one rule of what may be stored.
pub(super) fn parse_patch(body: &Value) -> Result<Patch, ApiError> {
    Patch::from_json(body).map_err(ApiError::BadRequest)
}

/// `GET /health`.
pub async fn health() -> Reply {
    Reply::document(json!({"status": "ok"}), "health")
}

/// `POST /users/{bubbleId}`: create or merge.
pub async fn upsert(
    View(app): View,
    PathRef(raw): PathRef,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Reply, ApiError> {
    let bubble_id = BubbleId::parse(&raw).map_err(|why| ApiError::bad("bubbleId", why))?;
    let expect = if_match(&headers)?;
    let patch = parse_patch(&body)?;
    let key = UserRef::Bubble(bubble_id.clone());
    let user = app
        .store
        .apply(&key, &Intent::Upsert(&bubble_id, &patch), expect)
        .await?;
    Ok(Reply::user(&user))
}

/// `GET /users/{ref}`.
pub async fn get_user(
    View(app): View,
    PathRef(raw): PathRef,
    RawQuery(query): RawQuery,
) -> Result<Reply, ApiError> {
    let include_deleted = Params::parse(query.as_deref())?.flag("includeDeleted")?;
    let key = parse_ref(&raw)?;
    match app.store.get(&key).await? {
        Some(user) if user.is_active() || include_deleted => Ok(Reply::user(&user)),
        _ => Err(ApiError::NotFound),
    }
}

/// `PUT` and `PATCH /users/{ref}`: merge into an existing active user.
pub async fn update(
    View(app): View,
    PathRef(raw): PathRef,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Reply, ApiError> {
    let key = parse_ref(&raw)?;
    let expect = if_match(&headers)?;
    let patch = parse_patch(&body)?;
    let user = app
        .store
        .apply(&key, &Intent::Update(&patch), expect)
        .await?;
    Ok(Reply::user(&user))
}

/// `DELETE /users/{ref}`: soft delete.
pub async fn delete(
    View(app): View,
    Extension(caller): Extension<Caller>,
    PathRef(raw): PathRef,
    headers: HeaderMap,
) -> Result<Reply, ApiError> {
    act(&app, &raw, &headers, Intent::Delete(&caller.name)).await
}

/// `POST /users/{ref}/restore`.
pub async fn restore(
    View(app): View,
    PathRef(raw): PathRef,
    headers: HeaderMap,
) -> Result<Reply, ApiError> {
    act(&app, &raw, &headers, Intent::Restore).await
}

/// `POST /users/{ref}/erase`: erases the person, active or soft-deleted; a tombstone stays.
pub async fn erase(
    View(app): View,
    Extension(caller): Extension<Caller>,
    PathRef(raw): PathRef,
    headers: HeaderMap,
) -> Result<Reply, ApiError> {
    act(&app, &raw, &headers, Intent::Erase(&caller.name)).await
}

/// Carries out a bodiless `intent` on the user `{ref}` names, under its `If-Match`.
async fn act(
    app: &AppState,
    raw: &str,
    headers: &HeaderMap,
    intent: Intent<'_>,
) -> Result<Reply, ApiError> {
    let key = parse_ref(raw)?;
    let expect = if_match(headers)?;
    let user = app.store.apply(&key, &intent, expect).await?;
    Ok(Reply::user(&user))
}

/// `POST /users`: create 1–100 users, each on its own; with `?upsert=true`, upsert them.
pub async fn batch_create(
    View(app): View,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> Result<Reply, ApiError> {
    let upsert = Params::parse(query.as_deref())?.flag("upsert")?;
    let Value::Array(items) = body else {
        return Err(ApiError::bad("body", "must be a JSON array of users"));
    };
    if items.is_empty() {
        return Err(ApiError::bad("body", "must hold at least one user"));
    }
    if items.len() > MAX_BATCH {
        return Err(ApiError::TooLarge(format!(
            "a batch holds at most {MAX_BATCH} users"
        )));
    }
    if upsert {
        return Ok(Reply::list(
            json!({ "data": upsert_batch(&app, &items).await? }),
        ));
    }
    let results: Vec<Value> = stream::iter(items.into_iter().enumerate())
        .map(|(index, item)| create_one(app.clone(), index, item))
        .buffered(BATCH_PARALLELISM)
        .collect()
        .await;
    Ok(Reply::list(json!({ "data": results })))
}

/// A batch item: its fields and the bubbleId it must carry.
fn batch_item(item: &Value) -> Result<(BubbleId, Patch), ApiError> {
    let patch = parse_patch(item)?;
    let bubble_id = patch
        .bubble_id
        .clone()
        .ok_or_else(|| ApiError::BadRequest(vec![FieldIssue::new("bubbleId", "is required")]))?;
    Ok((bubble_id, patch))
}

/// A batch item's failure: its index and the error body it would have had alone.
fn item_error(index: usize, e: ApiError) -> Value {
    let mut out = json!({ "index": index });
    if let (Some(out), Value::Object(body)) = (out.as_object_mut(), e.body()) {
        out.extend(body);
    }
    out
}

async fn create_one(app: AppState, index: usize, item: Value) -> Value {
    let outcome = async {
        let (bubble_id, patch) = batch_item(&item)?;
        let key = UserRef::Bubble(bubble_id.clone());
        Ok::<_, ApiError>(
            app.store
                .apply(&key, &Intent::Create(&bubble_id, &patch), None)
                .await?,
        )
    }
    .await;
    match outcome {
        Ok(user) => json!({"index": index, "status": 201, "user": user.to_json()}),
        Err(e) => item_error(index, e),
    }
}

/// `POST /users?upsert=true`: every item upserted as `POST /users/{bubbleId}` would, after
/// one read of them all; a bubbleId seen earlier in the batch is a 400 for the later item.
async fn upsert_batch(app: &AppState, items: &[Value]) -> Result<Vec<Value>, ApiError> {
    let mut results: Vec<Option<Value>> = vec![None; items.len()];
    let (mut valid, mut positions) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    for (index, item) in items.iter().enumerate() {
        match batch_item(item) {
            Ok((b, _)) if seen.contains(&b) => {
                let e = ApiError::bad("bubbleId", "appears earlier in this batch");
                results[index] = Some(item_error(index, e));
            }
            Ok((b, p)) => {
                seen.insert(b.clone());
                valid.push((b, p));
                positions.push(index);
            }
            Err(e) => results[index] = Some(item_error(index, e)),
        }
    }
    let done = batch::upsert_all(&*app.store, &valid, BATCH_PARALLELISM).await?;
    for (index, result) in positions.into_iter().zip(done) {
        results[index] = Some(match result {
            Ok((user, outcome)) => {
                let status = if outcome == Outcome::Created {
                    201
                } else {
                    200
                };
                json!({"index": index, "status": status, "result": outcome.as_str(), "user": user.to_json()})
            }
            Err(e) => item_error(index, e.into()),
        });
    }
    Ok(results.into_iter().flatten().collect())
}

/// Any path no route matches.
pub async fn no_route() -> ApiError {
    ApiError::NoRoute
}

/// A known path with a method it does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Where [`openapi_json`] takes the document's text: registered once by the router, which
/// sits above both the route table and the document built from it.
static SPEC: OnceLock<fn() -> &'static str> = OnceLock::new();

/// Registers where the OpenAPI document's text comes from (the router does, once).
pub fn serve_spec_from(text: fn() -> &'static str) {
    let _ = SPEC.get_or_init(|| text);
}

/// `GET /openapi.json`: the document, from where the router registered it.
pub async fn openapi_json() -> Response {
    let Some(text) = SPEC.get() else {
        return ApiError::NoRoute.into_response();
    };
    let mut response = text().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
