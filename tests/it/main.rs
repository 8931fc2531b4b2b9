//! Every integration test in one binary, so the SDK and the crate are linked once.
//!
//! DynamoDB suites run on DynamoDB Local: the one `make test` starts, or, under plain
//! `cargo test`, one the suite starts itself (`common/engine.rs`).

#[macro_use]
mod common;

mod access;
mod api;
mod bad_data;
mod binary;
mod change_events;
mod dependencies;
mod dynamo_costs;
mod erasure;
mod event_publishing;
mod events;
mod faults;
mod feed_epoch;
mod follower_retries;
mod hardening;
mod lifecycle;
mod lists;
mod me;
mod model;
mod no_op_flags;
mod openapi;
mod races;
mod scim;
mod scim_identity;
mod scim_lists;
mod scim_patch;
mod segments;
mod store_contract;
mod stream_binary;
mod template;
