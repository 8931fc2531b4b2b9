//! The list routes: active users, the change feed, finding users by identity or relation,
//! and the deleted history.

use axum::extract::{RawQuery, State};
use serde_json::json;

use super::error::ApiError;
use super::handlers::Reply;
use super::paging::{paginate, ListSpec, Params, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use super::AppState;
use crate::domain::{identity, FieldIssue, Timestamp, User, UserRef};
use crate::store::Window;

/// The filters of `GET /users`; at most one at a time.
pub const FILTERS: [&str; 7] = [
    "updatedFrom",
    "email",
    "username",
    "id",
    "producerId",
    "sellerId",
    "originId",
];

/// The window `paginate` asks a list for.
fn window(after: &Option<String>, skip: usize, limit: usize) -> Window<'_> {
    Window {
        after: after.as_deref(),
        skip,
        limit,
    }
}

/// `GET /users`: active users; with a filter, the change feed, one user found by e-mail,
/// username or id, or the users of a producer, seller or origin.
pub async fn list_users(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Reply, ApiError> {
    let params = Params::parse(query.as_deref())?;
    let filters: Vec<&'static str> = FILTERS
        .into_iter()
        .filter(|f| params.get(f).is_some())
        .collect();
    if filters.len() > 1 {
        let issues = filters
            .iter()
            .map(|f| FieldIssue::new(*f, "only one filter at a time"))
            .collect();
        return Err(ApiError::BadRequest(issues));
    }
    match filters.first().copied() {
        None => active(&app, &params).await,
        Some("updatedFrom") => feed(&app, &params).await,
        Some(f @ ("email" | "username" | "id")) => find(&app, &params, f).await,
        Some(relation) => related(&app, &params, relation).await,
    }
}

async fn active(app: &AppState, params: &Params) -> Result<Reply, ApiError> {
    let spec = ListSpec {
        name: "users",
        path: "/users",
        filter: None,
    };
    // The count does not depend on the page: read both at once.
    let page = paginate(&app.cursors, &spec, params, |after, skip, limit| {
        let store = app.store.clone();
        async move { store.list_active(window(&after, skip, limit)).await }
    });
    let (page, total) = tokio::join!(page, app.store.count_active());
    Ok(Reply::list(page?.envelope(User::to_json, Some(total?))))
}

async fn feed(app: &AppState, params: &Params) -> Result<Reply, ApiError> {
    let from = params.get("updatedFrom").unwrap_or_default();
    let floor = Timestamp::parse(from)
        .filter(|t| t.is_within_years_1970_to_9999())
        .ok_or_else(|| {
            ApiError::bad(
                "updatedFrom",
                "must be RFC 3339 or YYYY-MM-DD, between 1970 and 9999",
            )
        })?
        .to_rfc3339();
    let spec = ListSpec {
        name: "feed",
        path: "/users",
        filter: Some(("updatedFrom", &floor)),
    };
    let page = paginate(&app.cursors, &spec, params, |after, skip, limit| {
        let store = app.store.clone();
        let floor = floor.clone();
        async move { store.changes(&floor, window(&after, skip, limit)).await }
    })
    .await?;
    Ok(Reply::list(page.envelope(User::to_json, None)))
}

/// The active user with this e-mail, username or id (or bubbleId), as a list of 0 or 1,
/// compared by the canonical keys uniqueness uses; at most 2 storage requests.
async fn find(app: &AppState, params: &Params, field: &'static str) -> Result<Reply, ApiError> {
    let size = params.number("pageSize", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?;
    if params.get("cursor").is_some() {
        return Err(ApiError::bad(
            "cursor",
            "a search by e-mail, username or id has one page",
        ));
    }
    let page = params.number("page", 1, 1..=usize::MAX)?;
    let value = params.get(field).unwrap_or_default();
    let found = match field {
        "email" => {
            let email = identity::parse_email(value).map_err(|why| ApiError::bad(field, why))?;
            app.store
                .find_active(field, &identity::email_key(&email))
                .await?
        }
        "username" => {
            let name = identity::parse_username(value).map_err(|why| ApiError::bad(field, why))?;
            app.store
                .find_active(field, &identity::username_key(&name))
                .await?
        }
        _ => {
            let key = UserRef::parse(value).map_err(|why| ApiError::bad(field, why))?;
            let by_id = match &key {
                UserRef::Id(id, _) => app.store.find_active("id", &id.to_string()).await?,
                UserRef::Bubble(_) => None,
            };
            match by_id {
                Some(user) => Some(user),
                None => app
                    .store
                    .get(&UserRef::Bubble(key.bubble_id().clone()))
                    .await?
                    .filter(User::is_active),
            }
        }
    };
    let total = u64::from(found.is_some());
    let data: Vec<_> = found
        .iter()
        .filter(|_| page == 1)
        .map(User::to_json)
        .collect();
    Ok(Reply::list(json!({
        "data": data,
        "pagination": {
            "totalItems": total,
            "itemsPerPage": size,
            "currentPage": page,
            "totalPages": total,
            "nextPageUrl": null,
        }
    })))
}

/// The active users of a producer, seller or origin, in creation order, a page at a time.
async fn related(app: &AppState, params: &Params, field: &'static str) -> Result<Reply, ApiError> {
    let raw = params.get(field).unwrap_or_default();
    let value = uuid::Uuid::parse_str(raw)
        .map_err(|_| ApiError::bad(field, "must be a UUID"))?
        .to_string();
    let spec = ListSpec {
        name: field,
        path: "/users",
        filter: Some((field, &value)),
    };
    let page = paginate(&app.cursors, &spec, params, |after, skip, limit| {
        let store = app.store.clone();
        let value = value.clone();
        async move {
            store
                .list_related(field, &value, window(&after, skip, limit))
                .await
        }
    })
    .await?;
    Ok(Reply::list(page.envelope(User::to_json, None)))
}

/// `GET /deleted-users`: the deleted history, newest first.
pub async fn deleted_users(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Reply, ApiError> {
    let params = Params::parse(query.as_deref())?;
    let spec = ListSpec {
        name: "deleted",
        path: "/deleted-users",
        filter: None,
    };
    let page = paginate(&app.cursors, &spec, &params, |before, skip, limit| {
        let store = app.store.clone();
        async move { store.deletions(window(&before, skip, limit)).await }
    })
    .await?;
    Ok(Reply::list(page.envelope(|d| d.to_json(), None)))
}
