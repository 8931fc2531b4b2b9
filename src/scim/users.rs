//! `/Users/{id}` and creation, over the same store and planner as the native API, and the
//! discovery documents.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::response::Response;
use axum::Extension;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::discovery;
use super::error::{ScimError, ScimType};
use super::resource::{
    changes, etag, external_id, made_up_bubble_id, native_view, scim_path, stored_view,
    to_resource, MADE_UP_PREFIX,
};
use super::search::Shape;
use super::wire::{base_url, respond};
use crate::domain::{BubbleId, Intent, Patch, User, UserRef};
use crate::edge::auth::Caller;
use crate::edge::conditional::if_match;
use crate::edge::contract::MAX_BODY_BYTES;
use crate::edge::query::Params;
use crate::edge::view::View;
use crate::edge::AppState;
use crate::store::Lookup;

type Answer = Result<Response, ScimError>;

/// `GET /ServiceProviderConfig`.
pub async fn service_provider_config(headers: HeaderMap) -> Answer {
    let base = base_url(&headers);
    Ok(respond(
        StatusCode::OK,
        discovery::service_provider_config(&base),
    ))
}

/// `GET /ResourceTypes`.
pub async fn resource_types(headers: HeaderMap) -> Answer {
    let base = base_url(&headers);
    let types = vec![discovery::user_resource_type(&base)];
    Ok(respond(StatusCode::OK, discovery::list(types)))
}

/// `GET /ResourceTypes/{id}`: only `User`.
pub async fn resource_type(headers: HeaderMap, Path(id): Path<String>) -> Answer {
    match id.as_str() {
        "User" => Ok(respond(
            StatusCode::OK,
            discovery::user_resource_type(&base_url(&headers)),
        )),
        _ => Err(ScimError::not_found("the only resource type is User")),
    }
}

/// `GET /Schemas`.
pub async fn schemas(headers: HeaderMap) -> Answer {
    let base = base_url(&headers);
    let all = vec![
        discovery::user_schema(&base),
        discovery::extension_schema(&base),
    ];
    Ok(respond(StatusCode::OK, discovery::list(all)))
}

/// `GET /Schemas/{urn}`.
pub async fn schema(headers: HeaderMap, Path(id): Path<String>) -> Answer {
    let base = base_url(&headers);
    [
        discovery::user_schema(&base),
        discovery::extension_schema(&base),
    ]
    .into_iter()
    .find(|s| s["id"] == id.as_str())
    .map(|s| respond(StatusCode::OK, s))
    .ok_or_else(|| ScimError::not_found("no such schema"))
}

/// Bulk and root-level search: not offered (`ServiceProviderConfig` says so).
pub async fn not_implemented() -> ScimError {
    ScimError::not_implemented("not supported by this service")
}

/// `POST /Users`: 201 with the resource. A new `externalId` makes a user; one a soft-deleted
/// user had brings that user back (same `id`) as the body describes it; one an active user
/// holds is 409 `uniqueness`, as are a taken `userName` or e-mail. Without `externalId` the
/// user gets a bubbleId of the service's making.
pub async fn create(View(app): View, headers: HeaderMap, body: Bytes) -> Answer {
    let base = base_url(&headers);
    let body = json_body(&headers, &body)?;
    let view = kept_in_organization(&app, native_view(&body)?);
    let bubble = match body.get("externalId") {
        None | Some(Json::Null) => made_up_bubble_id(),
        Some(v) => external(v)?,
    };
    let key = UserRef::Bubble(bubble.clone());
    let user = match app.store.get(&key).await? {
        Some(u) if u.is_active() => {
            return Err(ScimError::uniqueness("this externalId is already used"))
        }
        Some(deleted) => {
            let before = stored_view(&deleted, &base)?;
            let patch = to_patch(&changes(&before, &view))?;
            let intent = Intent::Upsert(&bubble, &patch);
            app.store
                .apply_from(&key, &intent, None, Some(deleted))
                .await?
        }
        None => {
            let patch = to_patch(&Json::Object(view))?;
            let intent = Intent::Create(&bubble, &patch);
            app.store.apply_from(&key, &intent, None, None).await?
        }
    };
    Ok(resource(
        StatusCode::CREATED,
        &user,
        &base,
        &Shape::default(),
        true,
    ))
}

/// A bound key's resource that leaves its organization's field out keeps the user in the
/// organization: an IdP does not send what it does not manage.
fn kept_in_organization(app: &AppState, mut view: Map<String, Json>) -> Map<String, Json> {
    if let Some(b) = app.binding {
        let field = view.entry(b.field()).or_insert(Json::Null);
        if field.is_null() {
            *field = Json::String(b.value());
        }
    }
    view
}

/// `GET /Users/{id}`: at most 2 storage requests (the id's guard, then the user), shaped by
/// `attributes` / `excludedAttributes`.
pub async fn read(
    View(app): View,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let user = find(&app, &id).await?;
    let params = Params::parse(query.as_deref())
        .map_err(|_| ScimError::bad(ScimType::InvalidValue, "the query is not valid UTF-8"))?;
    let shape = Shape::of(&params);
    Ok(resource(
        StatusCode::OK,
        &user,
        &base_url(&headers),
        &shape,
        false,
    ))
}

/// `PUT /Users/{id}`: the body replaces the resource; what it leaves out is erased, but for
/// `id` and `externalId` (a new `externalId` moves the user, same `id`).
pub async fn replace(
    View(app): View,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let (base, body, current) = arrive(&app, &headers, &id, &body).await?;
    let target = match body.get("externalId") {
        None | Some(Json::Null) => current.bubble_id.clone(),
        Some(v) => external(v)?,
    };
    let before = stored_view(&current, &base)?;
    let after = kept_in_organization(&app, native_view(&body)?);
    write(&app, &headers, current, &before, &after, target, &base).await
}

/// `PATCH /Users/{id}`: the operations apply to the resource as SCIM shows it, which is then
/// written as a `PUT` would be. Removing `externalId` gives the user a bubbleId of the
/// service's making.
pub async fn patch(
    View(app): View,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let (base, body, current) = arrive(&app, &headers, &id, &body).await?;
    let mut view = to_resource(&current, &base);
    let before = native_view(&view)?;
    super::patch::apply(&mut view, &body)?;
    let target = match view.get("externalId") {
        Some(v) if !v.is_null() => external(v)?,
        _ if external_id(&current.bubble_id).is_none() => current.bubble_id.clone(),
        _ => made_up_bubble_id(),
    };
    let after = native_view(&view)?;
    write(&app, &headers, current, &before, &after, target, &base).await
}

/// `DELETE /Users/{id}`: the soft delete; 204, then the user is 404 and its identity free.
pub async fn delete(
    View(app): View,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let current = find(&app, &id).await?;
    let expect = if_match(&headers)?;
    let key = UserRef::Bubble(current.bubble_id.clone());
    let intent = Intent::Delete(&caller.name);
    app.store
        .apply_from(&key, &intent, expect, Some(current))
        .await?;
    Ok(respond(StatusCode::NO_CONTENT, Json::Null).map_body_empty())
}

/// What a write to `/Users/{id}` starts from: the base URL, the body, the user.
async fn arrive(
    app: &AppState,
    headers: &HeaderMap,
    id: &str,
    body: &Bytes,
) -> Result<(String, Json, User), ScimError> {
    let body = json_body(headers, body)?;
    let current = find(app, id).await?;
    Ok((base_url(headers), body, current))
}

/// Writes what changed from `before` to `after`, moving the user to `target` if it differs.
async fn write(
    app: &AppState,
    headers: &HeaderMap,
    current: User,
    before: &Map<String, Json>,
    after: &Map<String, Json>,
    target: BubbleId,
    base: &str,
) -> Answer {
    let expect = if_match(headers)?;
    let patch = to_patch(&changes(before, after))?;
    let key = UserRef::Bubble(current.bubble_id.clone());
    let intent = if target == current.bubble_id {
        Intent::Update(&patch)
    } else {
        Intent::Move(&patch, &target)
    };
    let user = app
        .store
        .apply_from(&key, &intent, expect, Some(current))
        .await?;
    Ok(resource(
        StatusCode::OK,
        &user,
        base,
        &Shape::default(),
        false,
    ))
}

/// The active user with this `id`; 404 otherwise (a soft-deleted one included).
pub(super) async fn find(app: &AppState, id: &str) -> Result<User, ScimError> {
    let id = Uuid::parse_str(id).map_err(|_| ScimError::not_found("no such user"))?;
    app.store
        .find_active(&Lookup::Id(id))
        .await?
        .ok_or_else(|| ScimError::not_found("no such user"))
}

/// A user's resource as `shape` keeps it, with its `ETag` (and `Location` for a creation).
fn resource(status: StatusCode, user: &User, base: &str, shape: &Shape, created: bool) -> Response {
    let body = to_resource(user, base);
    let location = body["meta"]["location"].as_str().map(str::to_owned);
    let mut response = respond(status, shape.apply(body));
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag(user.version)) {
        headers.insert(header::ETAG, v);
    }
    if let Some(v) = location
        .filter(|_| created)
        .and_then(|l| HeaderValue::from_str(&l).ok())
    {
        headers.insert(header::LOCATION, v);
    }
    response
}

/// An `externalId` as a bubbleId: the charset's, and not of the service's making.
fn external(v: &Json) -> Result<BubbleId, ScimError> {
    let s = v
        .as_str()
        .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, "externalId must be a string"))?;
    if s.starts_with(MADE_UP_PREFIX) {
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            format!("externalId cannot start with {MADE_UP_PREFIX} (the service's own ids)"),
        ));
    }
    BubbleId::parse(s)
        .map_err(|why| ScimError::bad(ScimType::InvalidValue, format!("externalId {why}")))
}

/// The native merge patch; a field's problem names its SCIM attribute.
fn to_patch(fields: &Json) -> Result<Patch, ScimError> {
    Patch::from_json(fields).map_err(|issues| {
        let detail = issues
            .iter()
            .map(|i| format!("{} {}", scim_path(&i.field), i.reason))
            .collect::<Vec<_>>()
            .join("; ");
        ScimError::bad(ScimType::InvalidValue, detail)
    })
}

/// A JSON body of at most [`MAX_BODY_BYTES`], sent as `application/scim+json` or
/// `application/json`.
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Json, ScimError> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.to_ascii_lowercase().contains("json"));
    if !json_type {
        return Err(ScimError::status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send application/scim+json",
        ));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ScimError::status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {} KiB", MAX_BODY_BYTES / 1024),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|_| ScimError::bad(ScimType::InvalidSyntax, "the body is not valid JSON"))
        .and_then(|j: Json| {
            j.is_object()
                .then_some(j)
                .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "the body is a JSON object"))
        })
}

/// A 204 carries no body.
trait EmptyBody {
    fn map_body_empty(self) -> Response;
}

impl EmptyBody for Response {
    fn map_body_empty(self) -> Response {
        let (mut parts, _) = self.into_parts();
        parts.headers.remove(header::CONTENT_TYPE);
        Response::from_parts(parts, axum::body::Body::empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_external_id_of_the_services_making_is_refused() {
        let e = external(&json!("scim:123")).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        assert!(external(&json!("okta-00u1")).is_ok());
        assert!(external(&json!("has space")).is_err());
    }
}
