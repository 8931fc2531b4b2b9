//! What a caller sees: the handlers' state as the gate's [`Caller`] may use it. An unbound
//! key sees the whole directory; a key bound to an organization sees that organization's
//! directory only (its store is a [`Bound`] view and its cursors are its own). Every
//! handler of both faces takes its state through [`View`], so no route can read around
//! the binding.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use http::request::Parts;

use super::auth::Caller;
use super::state::AppState;
use crate::store::bound::Bound;

/// The state a handler works with, as the caller may see it.
pub struct View(pub AppState);

impl FromRequestParts<AppState> for View {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Infallible> {
        Ok(View(app.seen_by(parts.extensions.get::<Caller>())))
    }
}

impl AppState {
    /// This state as `caller` may see it (`None`: a public route).
    pub fn seen_by(&self, caller: Option<&Caller>) -> AppState {
        let Some(binding) = caller.and_then(|c| c.binding) else {
            return self.clone();
        };
        let mut view = self.clone();
        view.store = Arc::new(Bound::new(self.store.clone(), binding));
        view.cursors = self
            .cursors
            .bound_to(&format!("{}={}", binding.field(), binding.id));
        view.binding = Some(binding);
        view
    }
}
