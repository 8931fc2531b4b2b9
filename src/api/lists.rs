//! The list routes: active users, the change feed, finding users by identity or relation,
//! and the deleted history.

use axum::extract::RawQuery;
use serde_json::json;

use super::filter::Filter;
use super::paging::{paginate, segment, within_page_bytes, ListSpec};
use super::reply::Reply;
use crate::domain::{Relation, Timestamp, User, UserRef};
use crate::edge::contract::{DEFAULT_PAGE_SIZE, MAX_CURSOR_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::edge::error::ApiError;
use crate::edge::query::Params;
use crate::edge::view::View;
use crate::edge::AppState;
use crate::store::positions::{active_key, feed_key};
use crate::store::{Lookup, Segment, Window};

/// The window `paginate` asks a list for.
fn window(after: &Option<String>, skip: usize, limit: usize) -> Window<'_> {
    Window {
        after: after.as_deref(),
        skip,
        limit,
        segment: Segment::WHOLE,
    }
}

/// `GET /users`: active users; with a filter, the change feed, one user found by e-mail,
/// username or id, or the users of a producer, seller or origin.
pub async fn list_users(View(app): View, RawQuery(query): RawQuery) -> Result<Reply, ApiError> {
    let params = Params::parse(query.as_deref())?;
    let filter = Filter::parse(&params)?;
    let segment = segment(&params)?;
    if !segment.is_whole() {
        if matches!(filter, Some((f, _)) if f != Filter::UpdatedFrom) {
            return Err(ApiError::bad(
                "segment",
                "splits the list or the change feed (updatedFrom), with no other filter",
            ));
        }
        if !app.store.reads_segments() {
            return Err(ApiError::bad(
                "segment",
                "is not for a key bound to an organization: its directory is walked by one cursor",
            ));
        }
    }
    match filter {
        None => active(&app, &params, segment).await,
        Some((Filter::UpdatedFrom, from)) => feed(&app, &params, from, segment).await,
        Some((Filter::Unique(field), value)) => {
            let key = field
                .parse(value)
                .map(|stored| field.key(&stored))
                .map_err(|why| ApiError::bad(field.name(), why))?;
            let found = app.store.find_active(&Lookup::Unique(field, key)).await?;
            found_page(&params, found)
        }
        Some((Filter::Id, value)) => {
            let found = find_by_ref(&app, value).await?;
            found_page(&params, found)
        }
        Some((Filter::Related(relation), value)) => related(&app, &params, relation, value).await,
    }
}

/// The active list, or one segment of it (whose size is not counted: `totalItems` null).
async fn active(app: &AppState, params: &Params, segment: Segment) -> Result<Reply, ApiError> {
    let spec = ListSpec {
        segment,
        max_size: MAX_CURSOR_PAGE_SIZE,
        ..ListSpec::new("users", "/users", None)
    };
    let page = paginate(&app.cursors, &spec, params, |after, skip, limit| {
        let store = app.store.clone();
        async move {
            let window = window(&after, skip, limit).in_segment(segment);
            let page = store.list_active(window).await?;
            Ok(within_page_bytes(page, active_key))
        }
    });
    if !segment.is_whole() {
        return Ok(Reply::list(page.await?.envelope(User::to_json, None)));
    }
    // The count does not depend on the page: read both at once.
    let (page, total) = tokio::join!(page, app.store.count_active());
    Ok(Reply::list(page?.envelope(User::to_json, Some(total?))))
}

async fn feed(
    app: &AppState,
    params: &Params,
    from: &str,
    segment: Segment,
) -> Result<Reply, ApiError> {
    let from = Timestamp::parse(from)
        .filter(|t| t.is_within_years_1970_to_9999())
        .ok_or_else(|| {
            ApiError::bad(
                "updatedFrom",
                "must be RFC 3339 or YYYY-MM-DD, between 1970 and 9999",
            )
        })?;
    // Deletions older than retention are erased: a walk from before the horizon would miss
    // them. A walk from 1970, or from before the directory first held a user, is a full
    // sync, which needs none of them.
    if from.millis() > 0 && from < app.retention.horizon() {
        let before_any_user = app.store.epoch().await?.is_some_and(|epoch| from < epoch);
        if !before_any_user {
            return Err(ApiError::FeedHorizon(app.retention.period_days()));
        }
    }
    let floor = from.to_rfc3339();
    let spec = ListSpec {
        segment,
        max_size: MAX_CURSOR_PAGE_SIZE,
        ..ListSpec::new("feed", "/users", Some(("updatedFrom", &floor)))
    };
    let page = paginate(&app.cursors, &spec, params, |after, skip, limit| {
        let store = app.store.clone();
        let floor = floor.clone();
        async move {
            let window = window(&after, skip, limit).in_segment(segment);
            let page = store.changes(&floor, window).await?;
            Ok(within_page_bytes(page, feed_key))
        }
    })
    .await?;
    Ok(Reply::list(page.envelope(User::to_json, None)))
}

/// The active user with this id or bubbleId (as a `{ref}`): by id first when it is
/// UUID-shaped, through the id guard, else by bubbleId.
async fn find_by_ref(app: &AppState, value: &str) -> Result<Option<User>, ApiError> {
    let key = UserRef::parse(value).map_err(|why| ApiError::bad("id", why))?;
    if let UserRef::Id(id, _) = &key {
        if let Some(user) = app.store.find_active(&Lookup::Id(*id)).await? {
            return Ok(Some(user));
        }
    }
    let by_bubble_id = UserRef::Bubble(key.bubble_id().clone());
    Ok(app.store.get(&by_bubble_id).await?.filter(User::is_active))
}

/// A find's answer as a list of 0 or 1, compared by the canonical keys uniqueness uses;
/// at most 2 storage requests were spent on it.
fn found_page(params: &Params, found: Option<User>) -> Result<Reply, ApiError> {
    let size = params.number("pageSize", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?;
    if params.get("cursor").is_some() {
        return Err(ApiError::bad(
            "cursor",
            "a search by e-mail, username or id has one page",
        ));
    }
    let page = params.number("page", 1, 1..=usize::MAX)?;
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
async fn related(
    app: &AppState,
    params: &Params,
    relation: Relation,
    raw: &str,
) -> Result<Reply, ApiError> {
    let field = relation.field();
    let value = uuid::Uuid::parse_str(raw)
        .map_err(|_| ApiError::bad(field, "must be a UUID"))?
        .to_string();
    let spec = ListSpec::new(field, "/users", Some((field, &value)));
    let page = paginate(&app.cursors, &spec, params, |after, skip, limit| {
        let store = app.store.clone();
        let value = value.clone();
        async move {
            store
                .list_related(relation, &value, window(&after, skip, limit))
                .await
        }
    })
    .await?;
    Ok(Reply::list(page.envelope(User::to_json, None)))
}

/// `GET /deleted-users`: the deleted history, newest first.
pub async fn deleted_users(View(app): View, RawQuery(query): RawQuery) -> Result<Reply, ApiError> {
    let params = Params::parse(query.as_deref())?;
    let spec = ListSpec::new("deleted", "/deleted-users", None);
    let page = paginate(&app.cursors, &spec, &params, |before, skip, limit| {
        let store = app.store.clone();
        async move { store.deletions(window(&before, skip, limit)).await }
    })
    .await?;
    Ok(Reply::list(page.envelope(|d| d.to_json(), None)))
}
