//! Departures from organizations in the meta table: one item per user that left one,
//! partitioned by the organization (`left#<field>#<value>`) and sorted by the feed position
//! of the write that took it out, so an organization's feed reads its users (from the
//! relation's feed index) and its departures (from this partition) as one merged list.
//! A departure is written in the transaction of the write that makes it, and expires with
//! the retention of deleted users.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use uuid::Uuid;

use super::item::*;
use super::store::DynamoStore;
use crate::domain::{BubbleId, Departure, Relation, Transition, User};
use crate::store::positions::feed_key_of;
use crate::store::StoreError;

/// The prefix of every departures partition.
const PREFIX: &str = "left#";
/// When the user left (its `updatedAt` then).
const LEFT_AT: &str = "leftAt";

/// The meta-table partition of the users that left `value` of `relation`.
pub fn departures_partition(relation: Relation, value: &str) -> String {
    format!("{PREFIX}{}#{value}", relation.field())
}

/// The meta-table item of a departure.
fn departure_item(d: &Departure, store: &DynamoStore) -> Item {
    Item::from([
        (
            PK.into(),
            s(departures_partition(d.relation, &d.organization)),
        ),
        (SK.into(), s(feed_key_of(d.left_at, &d.bubble_id))),
        (ID.into(), s(d.id.to_string())),
        (BUBBLE_ID.into(), s(d.bubble_id.as_str())),
        (CREATED_AT.into(), s(d.created_at.to_rfc3339())),
        (LEFT_AT.into(), s(d.left_at.to_rfc3339())),
        (VERSION.into(), n(d.version)),
        (
            EXPIRES_AT.into(),
            expiry_attr(store.retention.expiry(d.left_at)),
        ),
    ])
}

/// The tombstone a departure item shows in its organization's feed.
fn tombstone_from_item(item: &Item) -> Result<User, String> {
    let partition = text(item, PK)?;
    let rest = partition
        .strip_prefix(PREFIX)
        .ok_or("not a departure partition")?;
    let (field, organization) = rest.split_once('#').ok_or("no organization")?;
    let relation = Relation::of_field(field).ok_or("no such relation")?;
    let version = item
        .get(VERSION)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or("no version")?;
    let departure = Departure {
        relation,
        organization: organization.to_owned(),
        id: Uuid::parse_str(text(item, ID)?).map_err(|e| e.to_string())?,
        bubble_id: BubbleId::parse(text(item, BUBBLE_ID)?)?,
        created_at: timestamp(item, CREATED_AT)?,
        left_at: timestamp(item, LEFT_AT)?,
        version,
    };
    Ok(departure.tombstone())
}

/// Reads an item of an organization's feed: a user, or a departure as its tombstone.
pub fn organization_feed_item(item: &Item) -> Result<User, String> {
    let departed = item
        .get(PK)
        .and_then(|v| v.as_s().ok())
        .is_some_and(|pk| pk.starts_with(PREFIX));
    if departed {
        tombstone_from_item(item)
    } else {
        user_from_item(item)
    }
}

/// The `Put` of every departure `t` makes, for its transaction.
pub(super) fn puts(
    store: &DynamoStore,
    t: &Transition,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    t.departures()
        .iter()
        .map(|d| {
            let put = Put::builder()
                .table_name(&store.meta)
                .set_item(Some(departure_item(d, store)));
            let put = put
                .build()
                .map_err(|e| StoreError::Backend(format!("request build: {e:?}")))?;
            Ok(TransactWriteItem::builder().put(put).build())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_departures_partition_names_the_relation_and_the_organization() {
        assert_eq!(
            departures_partition(Relation::Seller, "s-1"),
            "left#sellerId#s-1"
        );
    }
}
