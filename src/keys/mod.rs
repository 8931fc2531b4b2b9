//! Who a key is and what it may do: bootstrap keys configured as hashes (`API_KEYS`), managed
//! keys kept as records in storage, the scopes both carry and the organization a managed key
//! may be bound to. The edge's gate (`edge::gate`) asks [`Keys`] about every request.

mod binding;
mod cache;
pub mod managed;
mod ring;
mod scope;
pub mod store;

pub use binding::Binding;
pub use cache::{Caller, Keys, Refusal, MISSES_PER_SECOND};
pub use managed::{KeyRecord, Secret};
pub use ring::{hash_key, ApiKey, KeyRing};
pub use scope::{Scope, Scopes};
pub use store::{KeyStore, MemoryKeys};
