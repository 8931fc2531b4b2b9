//! The lease a scoped transaction holds while it reads back what it wrote.
//!
//! A scoped transaction ([`super::transaction::scoped_update`]) adds one to whatever version
//! is current, so its answer must be read back; a plain update landing in between would make
//! that answer a later writer's state. The transaction therefore also sets a short lease
//! (`leaseUntil`, `leaseToken`) that every write of an existing user is conditional on being
//! absent or past, and the read-back is the `UpdateItem` that removes the lease, answering
//! `ALL_NEW`: the version this request wrote, for the request a `GetItem` cost. A writer that
//! meets a live lease loses as it would to any concurrent write, and tries again. A holder
//! that dies leaves the lease to lapse after [`HOLD_MS`].

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};
use uuid::Uuid;

use super::errors::{other, service_error};
use super::expr::UpdateExpr;
use super::item::*;
use super::metering::metered;
use super::{decode, DynamoStore};
use crate::domain::{BubbleId, Timestamp, User};
use crate::store::StoreError;

/// How long a lease holds another write off: many round trips, so only a holder that
/// stalled lets it lapse, and short enough that one that died delays others little.
pub(super) const HOLD_MS: i64 = 2_000;

/// The condition placeholders a string-built condition uses for [`FREE`].
pub(super) const FREE_NAME: &str = "#lease";
/// See [`FREE_NAME`].
pub(super) const FREE_CLOCK: &str = ":clock";
/// No other write's lease is live at `:clock`: for conditions built as strings.
pub(super) const FREE: &str = "(attribute_not_exists(#lease) OR #lease < :clock)";

/// The value of [`FREE_CLOCK`] for a write at `now`.
pub(super) fn clock(now: Timestamp) -> AttributeValue {
    n(now.millis())
}

/// Makes `e` conditional on no lease being live at `now`.
pub(super) fn require_free(e: &mut UpdateExpr, now: Timestamp) {
    e.require_absent_or_below(LEASE_UNTIL, clock(now));
}

/// One scoped transaction's lease.
pub(super) struct Lease {
    token: String,
}

impl Lease {
    /// A lease with a fresh token.
    pub(super) fn new() -> Self {
        Self {
            token: Uuid::new_v4().to_string(),
        }
    }

    /// Takes the lease in `e`, a write at `at`.
    pub(super) fn take(&self, e: &mut UpdateExpr, at: Timestamp) {
        e.set(LEASE_UNTIL, n(at.millis() + HOLD_MS));
        e.set(LEASE_TOKEN, s(self.token.as_str()));
    }

    /// Removes the lease from the user `bubble_id`, answering the user as this lease's write
    /// left it. If the lease lapsed and another write replaced it, that write's state is all
    /// there is to answer.
    pub(super) async fn release(
        &self,
        store: &DynamoStore,
        bubble_id: &BubbleId,
    ) -> Result<User, StoreError> {
        let mut e = UpdateExpr::default();
        e.remove(LEASE_UNTIL);
        e.remove(LEASE_TOKEN);
        e.require_equal(LEASE_TOKEN, Some(s(self.token.as_str())));
        let result = metered(
            store
                .client
                .update_item()
                .table_name(&store.users)
                .key(BUBBLE_ID, s(bubble_id.as_str()))
                .update_expression(e.update())
                .set_condition_expression(e.condition())
                .set_expression_attribute_names(Some(e.names()))
                .set_expression_attribute_values(e.values())
                .return_values(ReturnValue::AllNew)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await;
        let item = match result {
            Ok(out) => out.attributes,
            Err(err) => match service_error(err)? {
                UpdateItemError::ConditionalCheckFailedException(e) => {
                    tracing::warn!("a write's lease lapsed before its read-back");
                    e.item
                }
                e => return Err(other(e)),
            },
        };
        match item {
            Some(item) => decode(&item),
            None => Err(StoreError::Backend("user gone after its write".into())),
        }
    }
}
