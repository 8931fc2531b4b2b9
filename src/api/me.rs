//! `/me`: a signed-in person's own record, opened by their identity provider's token (the
//! gate's [`admit_person`](crate::edge::gate::admit_person)), never by an API key. The token
//! names the user by a claim matched to `bubbleId`, or by a verified e-mail; a person reads
//! their record and edits only the fields `SELF_EDITABLE` lists.

use axum::routing::{get, patch};
use axum::Extension;
use http::{HeaderMap, Method};

use super::body::JsonBody;
use super::handlers::parse_patch;
use super::reply::Reply;
use super::route::{Access, BodyKind, Route};
use crate::domain::{identity, BubbleId, DomainError, Intent, UniqueField, User, UserRef, FIELDS};
use crate::edge::conditional::if_match;
use crate::edge::error::ApiError;
use crate::edge::view::View;
use crate::edge::AppState;
use crate::oidc::{Matching, Oidc, Person};
use crate::store::retry::Backoff;
use crate::store::{Lookup, StoreError};

/// The routes of `/me`.
pub fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::GET,
            path: "/me",
            operation_id: "getMe",
            summary: "The signed-in person's own record (a sign-in token, never an API key)",
            access: Access::Token,
            params: &[],
            body: None,
            success: (200, "User"),
            errors: &[404],
            if_match: false,
            handler: get(get_me),
        },
        Route {
            method: Method::PATCH,
            path: "/me",
            operation_id: "updateMe",
            summary: "Merge into the signed-in person's own record: only the fields SELF_EDITABLE lists (another is 403 naming it)",
            access: Access::Token,
            params: &[],
            body: Some(BodyKind::User),
            success: (200, "User"),
            errors: &[400, 404, 412, 413, 415],
            if_match: true,
            handler: patch(update_me),
        },
    ]
}

/// `GET /me`.
pub async fn get_me(
    View(app): View,
    Extension(person): Extension<Person>,
) -> Result<Reply, ApiError> {
    let oidc = issuer(&app)?;
    Ok(Reply::user(&own_user(&app, oidc, &person).await?))
}

/// `PATCH /me`: merge semantics, `If-Match`, only self-editable fields.
pub async fn update_me(
    View(app): View,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Reply, ApiError> {
    let oidc = issuer(&app)?;
    let patch = parse_patch(&body)?;
    if patch.bubble_id.is_some() {
        return Err(not_editable("bubbleId"));
    }
    if let Some((i, _)) = patch
        .changes()
        .find(|(i, _)| !oidc.config.self_editable.contains(&FIELDS[*i].name))
    {
        return Err(not_editable(FIELDS[i].name));
    }
    let expect = if_match(&headers)?;
    let mut backoff = Backoff::for_writes();
    loop {
        let user = own_user(&app, oidc, &person).await?;
        // Pinned to the version checked: a record disabled or deleted since is checked again.
        let pinned = expect.or(Some(user.version));
        let key = UserRef::Bubble(user.bubble_id.clone());
        let intent = Intent::Update(&patch);
        match app
            .store
            .apply_from(&key, &intent, pinned, Some(user))
            .await
        {
            Err(StoreError::Domain(DomainError::PreconditionFailed)) if expect.is_none() => {}
            result => return Ok(Reply::user(&result?)),
        }
        if !backoff.lost().await {
            return Err(ApiError::Unavailable);
        }
    }
}

fn issuer(app: &AppState) -> Result<&Oidc, ApiError> {
    app.oidc.as_deref().ok_or(ApiError::InvalidToken)
}

fn not_editable(field: &'static str) -> ApiError {
    ApiError::ForbiddenField(
        field,
        "is not a field a person may change on their own record",
    )
}

/// The user the token names: by its claim as `bubbleId`, or by its e-mail when verified.
/// None is 404; a disabled, deleted or erased one is 403.
async fn own_user(app: &AppState, oidc: &Oidc, person: &Person) -> Result<User, ApiError> {
    let found = match &oidc.config.matching {
        Matching::BubbleId { claim } => match person.text(claim).map(BubbleId::parse) {
            Some(Ok(b)) => app.store.get(&UserRef::Bubble(b)).await?,
            _ => None,
        },
        Matching::Email => {
            let verified = person
                .claims
                .get("email_verified")
                .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
            match person.text("email").filter(|_| verified) {
                Some(email) => {
                    let key = identity::email_key(email);
                    let lookup = Lookup::Unique(UniqueField::Email, key);
                    app.store.find_active(&lookup).await?
                }
                None => None,
            }
        }
    };
    let user = found.ok_or(ApiError::NotFound)?;
    if !user.is_active() || user.erased_at.is_some() || !user.is_enabled() {
        return Err(ApiError::Inactive);
    }
    Ok(user)
}
