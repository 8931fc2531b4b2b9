//! Every integration test in one binary, so the SDK and the crate are linked once.
//!
//! DynamoDB suites need a local server: `make test` starts DynamoDB Local (`scripts/with-dynamodb.sh`).

#[macro_use]
mod common;

mod api;
mod bad_data;
mod binary;
mod dependencies;
mod dynamo_costs;
mod events;
mod faults;
mod hardening;
mod lifecycle;
mod lists;
mod model;
mod openapi;
mod races;
mod store_contract;
mod template;
