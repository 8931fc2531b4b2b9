//! `GET /Users`: a filter answered from an index in at most 2 storage requests, or a page of
//! active users in creation order (the native list's cost) by `startIndex`/`count` within
//! the 10,000-item window, or by RFC 9865 cursors beyond it. `count=0` answers the total
//! (of the matches, with a filter); `count` is clamped to 0–100, `startIndex` below 1 reads
//! as 1, and both apply to a filter's matches too.
//! `attributes` and `excludedAttributes` shape every resource.

use axum::extract::RawQuery;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

use super::error::{ScimError, ScimType};
use super::filter::{self, Clause, Target};
use super::resource::{external_id, to_resource, EXTENSION, USER_SCHEMA};
use super::wire::{base_url, respond};
use crate::domain::{BubbleId, UniqueField, User, UserRef};
use crate::edge::contract::{MAX_PAGE_SIZE, PAGE_WINDOW};
use crate::edge::query::Params;
use crate::edge::view::View;
use crate::edge::AppState;
use crate::store::{Lookup, Window};

const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The list a SCIM cursor belongs to.
const CURSOR_LIST: &str = "scim-users";

/// `GET /Users`. Query parameters SCIM does not define are ignored.
pub async fn list(
    View(app): View,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ScimError> {
    let base = base_url(&headers);
    let params = Params::parse(query.as_deref())
        .map_err(|_| ScimError::bad(ScimType::InvalidValue, "the query is not valid UTF-8"))?;
    let shape = Shape::of(&params);
    let count = integer(&params, "count")?.map_or(MAX_PAGE_SIZE, |c| {
        usize::try_from(c.clamp(0, MAX_PAGE_SIZE as i64)).unwrap_or(0)
    });
    // RFC 7644 §3.4.2.4: a startIndex below 1 is read as 1.
    let start = integer(&params, "startIndex")?
        .map_or(1, |s| usize::try_from(s.max(1)).unwrap_or(usize::MAX));
    if let Some(filter) = params.get("filter") {
        let clauses = filter::parse(filter)?;
        let found = lookup(&app, &clauses).await?;
        let resources = found
            .iter()
            .skip(start - 1)
            .take(count)
            .map(|u| shape.apply(to_resource(u, &base)))
            .collect();
        return Ok(page(found.len(), start, resources, None));
    }
    let total = app.store.count_active();
    if count == 0 {
        return Ok(page(total.await? as usize, 1, vec![], None));
    }
    let cursor = params.get("cursor");
    let (after, skip, start) = match cursor {
        None => {
            if start > PAGE_WINDOW {
                return Err(ScimError::bad(
                    ScimType::InvalidValue,
                    format!("startIndex reaches past {PAGE_WINDOW}: paginate with cursor"),
                ));
            }
            (None, start - 1, start)
        }
        Some("") => (None, 0, 1),
        Some(sealed) => {
            let after = app
                .cursors
                .open_position(CURSOR_LIST, sealed)
                .ok_or_else(|| {
                    ScimError::bad(
                        ScimType::InvalidValue,
                        "cursor is not one this service issued",
                    )
                })?;
            (Some(after), 0, 1)
        }
    };
    let window = Window {
        after: after.as_deref(),
        skip,
        limit: count,
        segment: crate::store::Segment::WHOLE,
    };
    let (slice, total) = tokio::join!(app.store.list_active(window), total);
    let slice = slice?;
    let resources = slice
        .items
        .iter()
        .map(|u| shape.apply(to_resource(u, &base)))
        .collect();
    let next = slice
        .next
        .filter(|_| cursor.is_some())
        .map(|n| app.cursors.seal_position(CURSOR_LIST, &n));
    Ok(page(total? as usize, start, resources, next))
}

/// A whole-number parameter: `None` when absent; one too large for 64 bits reads as the
/// largest (the caller clamps it, as RFC 7644 asks); anything else is 400 `invalidValue`.
fn integer(params: &Params, name: &str) -> Result<Option<i64>, ScimError> {
    let Some(raw) = params.get(name) else {
        return Ok(None);
    };
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            format!("{name} is a whole number"),
        ));
    }
    Ok(Some(raw.parse::<i64>().unwrap_or(
        if raw.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        },
    )))
}

fn page(total: usize, start: usize, resources: Vec<Json>, next: Option<String>) -> Response {
    let mut body = json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let Some(n) = next {
        body["nextCursor"] = json!(n);
    }
    respond(StatusCode::OK, body)
}

/// The user the clauses describe, found through the most selective one's index (`id`, then
/// `externalId`, then e-mail, then `userName`: the name a user shows is the username it
/// holds), then checked against every clause.
async fn lookup(app: &AppState, clauses: &[Clause]) -> Result<Vec<User>, ScimError> {
    let by = |t: Target| clauses.iter().find(|c| c.target == t);
    let found = if let Some(c) = by(Target::Id) {
        match Uuid::parse_str(&c.value) {
            Ok(id) => app.store.find_active(&Lookup::Id(id)).await?,
            Err(_) => None,
        }
    } else if let Some(c) = by(Target::ExternalId) {
        match BubbleId::parse(&c.value) {
            Ok(b) => app
                .store
                .get(&UserRef::Bubble(b))
                .await?
                .filter(User::is_active),
            Err(_) => None,
        }
    } else if let Some(c) = by(Target::Email) {
        match UniqueField::Email.parse(&c.value) {
            Ok(e) => {
                let key = UniqueField::Email.key(&e);
                app.store
                    .find_active(&Lookup::Unique(UniqueField::Email, key))
                    .await?
            }
            Err(_) => None,
        }
    } else {
        let c = by(Target::UserName).expect("a filter has a clause");
        let key = UniqueField::Username.key(&c.value);
        app.store
            .find_active(&Lookup::Unique(UniqueField::Username, key))
            .await?
    };
    Ok(found
        .into_iter()
        .filter(|u| clauses.iter().all(|c| holds(u, c)))
        .collect())
}

/// Whether `user` satisfies `clause` (`userName` and e-mails compare by canonical key, as
/// uniqueness does; `externalId` and `id` exactly).
fn holds(user: &User, clause: &Clause) -> bool {
    let same = |field: UniqueField, stored: Option<&str>| {
        stored.is_some_and(|s| field.key(s) == field.key(&clause.value))
    };
    match clause.target {
        Target::Id => user.id.to_string().eq_ignore_ascii_case(&clause.value),
        Target::ExternalId => external_id(&user.bubble_id) == Some(clause.value.as_str()),
        Target::Email => same(UniqueField::Email, user.email()),
        Target::UserName => same(UniqueField::Username, Some(user.login_name())),
    }
}

/// `attributes` / `excludedAttributes`: which attributes each resource keeps. `id` and
/// `schemas` are always returned.
#[derive(Debug, Default)]
pub struct Shape {
    only: Option<Vec<String>>,
    except: Vec<String>,
}

impl Shape {
    /// The shape a query asks for.
    pub fn of(params: &Params) -> Self {
        let split = |s: &str| -> Vec<String> {
            s.split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect()
        };
        Self {
            only: params.get("attributes").map(split),
            except: params
                .get("excludedAttributes")
                .map(split)
                .unwrap_or_default(),
        }
    }

    /// `resource` as this shape keeps it.
    pub fn apply(&self, resource: Json) -> Json {
        let Json::Object(mut all) = resource else {
            return resource;
        };
        if let Some(only) = &self.only {
            let mut kept = Map::new();
            for key in ["id", "schemas"] {
                if let Some(v) = all.get(key) {
                    kept.insert(key.into(), v.clone());
                }
            }
            for path in only {
                copy(&all, &mut kept, path);
            }
            all = kept;
        }
        for path in &self.except {
            remove(&mut all, path);
        }
        Json::Object(all)
    }
}

/// Splits `urn:…:attr.sub` into (the extension's key or none, attr, sub).
fn split(path: &str) -> (Option<&'static str>, String, Option<String>) {
    let lower = path.to_ascii_lowercase();
    let (ext, rest) = if let Some(r) =
        lower.strip_prefix(&format!("{}:", EXTENSION.to_ascii_lowercase()))
    {
        (Some(EXTENSION), r.to_owned())
    } else if let Some(r) = lower.strip_prefix(&format!("{}:", USER_SCHEMA.to_ascii_lowercase())) {
        (None, r.to_owned())
    } else {
        (None, lower)
    };
    match rest.split_once('.') {
        Some((a, s)) => (ext, a.to_owned(), Some(s.to_owned())),
        None => (ext, rest, None),
    }
}

fn key_of(obj: &Map<String, Json>, lower: &str) -> Option<String> {
    obj.keys()
        .find(|k| k.to_ascii_lowercase() == lower)
        .cloned()
}

fn copy(all: &Map<String, Json>, kept: &mut Map<String, Json>, path: &str) {
    if path.eq_ignore_ascii_case(EXTENSION) {
        if let Some(v) = all.get(EXTENSION) {
            kept.insert(EXTENSION.into(), v.clone());
        }
        return;
    }
    let (ext, attr, sub) = split(path);
    let (source, target) = match ext {
        Some(e) => match all.get(e).and_then(Json::as_object) {
            Some(src) => (
                src,
                kept.entry(e).or_insert_with(|| json!({})).as_object_mut(),
            ),
            None => return,
        },
        None => (all, Some(&mut *kept)),
    };
    let (Some(target), Some(key)) = (target, key_of(source, &attr)) else {
        return;
    };
    let value = &source[&key];
    match (sub, value) {
        (Some(sub), Json::Object(o)) => {
            if let Some(sk) = key_of(o, &sub) {
                let entry = target.entry(key).or_insert_with(|| json!({}));
                if let Some(e) = entry.as_object_mut() {
                    e.insert(sk.clone(), o[&sk].clone());
                }
            }
        }
        _ => {
            target.insert(key, value.clone());
        }
    }
}

fn remove(all: &mut Map<String, Json>, path: &str) {
    let (ext, attr, sub) = split(path);
    if matches!(attr.as_str(), "id" | "schemas") && ext.is_none() {
        return;
    }
    let target = match ext {
        Some(e) => match all.get_mut(e).and_then(Json::as_object_mut) {
            Some(t) => t,
            None => return,
        },
        None => all,
    };
    let Some(key) = key_of(target, &attr) else {
        return;
    };
    match sub {
        Some(sub) => {
            if let Some(o) = target.get_mut(&key).and_then(Json::as_object_mut) {
                if let Some(sk) = key_of(o, &sub) {
                    o.remove(&sk);
                }
            }
        }
        None => {
            target.remove(&key);
        }
    }
}
