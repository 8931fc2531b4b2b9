//! The route table: each route's handler and its description, side by side. The router and
//! the OpenAPI document are both built from it, so neither can list a route the other lacks.

use axum::routing::{delete, get, patch, post, put, MethodRouter};
use http::Method;

use serde_json::json;

use super::filter;
use super::handlers as h;
use super::params::{ref_schema, Param};
use crate::edge::auth::Scope;
use crate::edge::contract::{DEFAULT_PAGE_SIZE, MAX_CURSOR_PAGE_SIZE, MAX_PAGE_SIZE, PAGE_WINDOW};
use crate::edge::AppState;
use crate::store::Segment;

pub use super::route::{Access, BodyKind, Route};

const REF: Param = Param {
    name: "ref",
    location: "path",
    schema: ref_schema,
    doc: "The user's local id (UUID) or bubbleId; a UUID-shaped ref is looked up as id first. For the upsert it is the bubbleId.",
};
const PAGE_SIZE: Param = Param {
    name: "pageSize",
    location: "query",
    schema: || json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}),
    doc: "Items per page.",
};
const LIST_PAGE_SIZE: Param = Param {
    name: "pageSize",
    location: "query",
    schema: || json!({"type": "integer", "minimum": 1, "maximum": MAX_CURSOR_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}),
    doc: "Items per page: up to 1000 for the list and the change feed (updatedFrom) by cursor and on the first page; up to 100 with page=2 and beyond, and with every other filter.",
};
const SEGMENT: Param = Param {
    name: "segment",
    location: "query",
    schema: || json!({"type": "integer", "minimum": 0, "maximum": Segment::MOST - 1}),
    doc: "With segments: which part of the list or the change feed this walk reads, from 0 to segments - 1. A user is in segment (its id mod segments) for good; the segments' walks together return every user once, as one cursor's walk does. Not with another filter, nor for a key bound to an organization.",
};
const SEGMENTS: Param = Param {
    name: "segments",
    location: "query",
    schema: || json!({"type": "integer", "minimum": 1, "maximum": Segment::MOST}),
    doc: "With segment: how many parts the list or the change feed is split into, for a mirror's workers to walk in parallel (a power of two from 1 to 64). Each segment has its own cursors (nextPageUrl).",
};
const PAGE: Param = Param {
    name: "page",
    location: "query",
    schema: || json!({"type": "integer", "minimum": 1, "maximum": PAGE_WINDOW, "default": 1}),
    doc: "Page number, without a cursor, while (page - 1) x pageSize < 10000 (else 400: follow nextPageUrl). Page N reads the items before it in large chunks.",
};
const CURSOR: Param = Param {
    name: "cursor",
    location: "query",
    schema: || json!({"type": "string", "maxLength": 2048, "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"}),
    doc: "Opaque, signed position taken from nextPageUrl; costs about one page of reads. A page may hold fewer than pageSize items and still have a nextPageUrl.",
};
const UPSERT: Param = Param {
    name: "upsert",
    location: "query",
    schema: || json!({"type": "boolean", "default": false}),
    doc: "Upsert each item exactly as POST /users/{bubbleId} would (created, updated, unchanged or reactivated) instead of creating it; a bubbleId twice in one batch is 400 for the later item.",
};
const INCLUDE_DELETED: Param = Param {
    name: "includeDeleted",
    location: "query",
    schema: || json!({"type": "boolean", "default": false}),
    doc: "Also answer a soft-deleted user.",
};

/// `GET /users`'s parameters: paging, then every filter.
const LIST_PARAMS: [Param; 5 + filter::PARAMS.len()] = {
    let mut out = [LIST_PAGE_SIZE; 5 + filter::PARAMS.len()];
    out[1] = PAGE;
    out[2] = CURSOR;
    out[3] = SEGMENT;
    out[4] = SEGMENTS;
    let mut i = 0;
    while i < filter::PARAMS.len() {
        out[5 + i] = filter::PARAMS[i];
        i += 1;
    }
    out
};

/// `PUT` and `PATCH /users/{ref}`: the same merge under two methods.
fn merge_route(
    method: Method,
    operation_id: &'static str,
    summary: &'static str,
    handler: MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path: "/users/{ref}",
        operation_id,
        summary,
        access: Access::Key(Scope::Write),
        params: &[REF],
        body: Some(BodyKind::User),
        success: (200, "User"),
        errors: &[400, 404, 409, 412, 413, 415],
        if_match: true,
        handler,
    }
}

/// A bodiless write to one user (`DELETE /users/{ref}`, `POST /users/{ref}/restore`,
/// `…/erase`): `If-Match` honoured, the user answered.
fn user_action(
    method: Method,
    scope: Scope,
    path: &'static str,
    operation_id: &'static str,
    summary: &'static str,
    errors: &'static [u16],
    handler: MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path,
        operation_id,
        summary,
        access: Access::Key(scope),
        params: &[REF],
        body: None,
        success: (200, "User"),
        errors,
        if_match: true,
        handler,
    }
}

/// What each route declares, by method and path, as the edge enforces it: the key scope it
/// needs and the query parameters it takes.
#[derive(Debug, Clone, Default)]
pub struct RouteRules(Vec<(Method, &'static str, Rule)>);

#[derive(Debug, Clone)]
struct Rule {
    access: Access,
    query: Vec<&'static str>,
}

impl RouteRules {
    /// The rules of every route in `routes`.
    pub fn of(routes: &[Route]) -> Self {
        Self(
            routes
                .iter()
                .map(|r| {
                    let query = r
                        .params
                        .iter()
                        .filter(|p| p.location == "query")
                        .map(|p| p.name)
                        .collect();
                    let rule = Rule {
                        access: r.access,
                        query,
                    };
                    (r.method.clone(), r.path, rule)
                })
                .collect(),
        )
    }

    fn rule(&self, method: &Method, path: Option<&str>) -> Option<&Rule> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let path = path?;
        self.0
            .iter()
            .find(|(m, p, _)| m == method && *p == path)
            .map(|(_, _, rule)| rule)
    }

    /// What a request for `method` on the route template `path` needs: the route's declared
    /// access (`HEAD` as `GET`). A request no route takes (404, 405) needs any valid key, so
    /// that the API's shape is not shown to strangers.
    pub fn needed(&self, method: &Method, path: Option<&str>) -> Access {
        match self.rule(method, path) {
            Some(rule) => rule.access,
            None => Access::Key(Scope::Read),
        }
    }

    /// The first query parameter `names` holds that the route does not take: a misspelt
    /// filter must never answer everyone.
    pub fn unknown_query<'a>(
        &self,
        method: &Method,
        path: Option<&str>,
        mut names: impl Iterator<Item = &'a str>,
    ) -> Option<&'a str> {
        let rule = self.rule(method, path)?;
        names.find(|n| !rule.query.contains(n))
    }
}

/// Every route of the API.
pub fn routes() -> Vec<Route> {
    let write = Access::Key(Scope::Write);
    let read = Access::Key(Scope::Read);
    vec![
        Route {
            method: Method::GET,
            path: "/health",
            operation_id: "health",
            summary: "Liveness check",
            access: Access::Public,
            params: &[],
            body: None,
            success: (200, "Health"),
            errors: &[],
            if_match: false,
            handler: get(h::health),
        },
        Route {
            method: Method::GET,
            path: "/openapi.json",
            operation_id: "openapi",
            summary: "This OpenAPI 3.1 description",
            access: Access::Public,
            params: &[],
            body: None,
            success: (200, "Any"),
            errors: &[],
            if_match: false,
            handler: get(h::openapi_json),
        },
        Route {
            method: Method::GET,
            path: "/users",
            operation_id: "listUsers",
            summary: "Active users a page at a time, or with updatedFrom the change feed",
            access: read,
            params: &LIST_PARAMS,
            body: None,
            success: (200, "UserList"),
            errors: &[400, 410],
            if_match: false,
            handler: get(super::lists::list_users),
        },
        Route {
            method: Method::POST,
            path: "/users",
            operation_id: "batchCreateUsers",
            summary: "Create 1-100 users, each created or refused on its own; with upsert=true, upsert them (one read for the batch, a write only for each user that changes)",
            access: write,
            params: &[UPSERT],
            body: Some(BodyKind::Batch),
            success: (200, "BatchResult"),
            errors: &[400, 413, 415],
            if_match: false,
            handler: post(h::batch_create),
        },
        Route {
            method: Method::POST,
            path: "/users/{ref}",
            operation_id: "upsertUser",
            summary: "Create the user with this bubbleId, or merge the body into it (reactivating a deleted one)",
            access: write,
            params: &[REF],
            body: Some(BodyKind::User),
            success: (200, "User"),
            errors: &[400, 409, 412, 413, 415],
            if_match: true,
            handler: post(h::upsert),
        },
        Route {
            method: Method::GET,
            path: "/users/{ref}",
            operation_id: "getUser",
            summary: "One user by local id or bubbleId",
            access: read,
            params: &[REF, INCLUDE_DELETED],
            body: None,
            success: (200, "User"),
            errors: &[400, 404],
            if_match: false,
            handler: get(h::get_user),
        },
        merge_route(Method::PUT, "updateUser", "Merge the body into an existing active user", put(h::update)),
        merge_route(
            Method::PATCH,
            "patchUser",
            "Merge the body into an existing active user (JSON Merge Patch)",
            patch(h::update),
        ),
        user_action(
            Method::DELETE,
            Scope::Write,
            "/users/{ref}",
            "deleteUser",
            "Soft delete: frees e-mail and username, records the deletion",
            &[400, 404, 412],
            delete(h::delete),
        ),
        user_action(
            Method::POST,
            Scope::Write,
            "/users/{ref}/restore",
            "restoreUser",
            "Reactivate a soft-deleted user (same id); 409 if its identity is taken or it was erased",
            &[400, 404, 409, 412],
            post(h::restore),
        ),
        user_action(
            Method::POST,
            Scope::Erase,
            "/users/{ref}/erase",
            "eraseUser",
            "Erase a person: every personal field removed for good, identity freed, a tombstone left",
            &[400, 404, 412],
            post(h::erase),
        ),
        Route {
            method: Method::GET,
            path: "/deleted-users",
            operation_id: "listDeletions",
            summary: "The deleted history, newest first",
            access: read,
            params: &[PAGE_SIZE, PAGE, CURSOR],
            body: None,
            success: (200, "DeletionList"),
            errors: &[400],
            if_match: false,
            handler: get(super::lists::deleted_users),
        },
    ]
    .into_iter()
    .chain(super::key_routes::routes())
    .chain(super::me::routes())
    .collect()
}
