//! The edge both faces of the directory stand on, the native API (`api`) and SCIM (`scim`):
//! the application state, the one gate every protected request passes ([`gate::admit`]: the
//! key check and the rate limit), a request's bookkeeping, the error and rendering types,
//! and the pieces of the wire both faces read (query strings, cursors, `If-Match`).

pub mod auth;
pub mod conditional;
pub mod contract;
pub mod cursor;
pub mod error;
pub(crate) mod exchange;
pub mod gate;
pub mod limits;
pub mod query;
pub(crate) mod record;
pub mod render;
pub mod state;
pub mod view;

pub use state::AppState;
