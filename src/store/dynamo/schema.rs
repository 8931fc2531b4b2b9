//! The tables, described once: local table creation reads this, and a test checks that
//! `template.yaml` declares the same keys and indexes.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodb::Client;

use crate::domain::Relation;

/// A secondary index: name, partition key, optional sort key (all string attributes), and
/// whether it projects only the keys (else every attribute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    /// Index name.
    pub name: &'static str,
    /// Partition key attribute.
    pub hash: &'static str,
    /// Sort key attribute.
    pub range: Option<&'static str>,
    /// `KEYS_ONLY`: rewritten only when its keys change, so an update that does not touch
    /// them costs the index nothing.
    pub keys_only: bool,
}

/// A table: its template logical id, keys and global secondary indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// The resource's logical id in `template.yaml`.
    pub logical_id: &'static str,
    /// Partition key attribute.
    pub hash: &'static str,
    /// Sort key attribute.
    pub range: Option<&'static str>,
    /// Global secondary indexes.
    pub indexes: Vec<IndexDef>,
    /// Whether the table has a `NEW_AND_OLD_IMAGES` stream (the change events' source).
    pub stream: bool,
}

/// Users table key.
pub const BUBBLE_ID: &str = "bubbleId";
/// Local id, the `by-id` index key.
pub const ID: &str = "id";
/// Service timestamps and version.
pub const CREATED_AT: &str = "createdAt";
/// See [`CREATED_AT`].
pub const UPDATED_AT: &str = "updatedAt";
/// Present while soft-deleted.
pub const DELETED_AT: &str = "deletedAt";
/// On a deleted user and a deletion record: when retention ends, in seconds since the epoch
/// (the tables' time-to-live attribute: DynamoDB removes the item some time after).
pub const EXPIRES_AT: &str = "expiresAt";
/// Present once the person's data is erased.
pub const ERASED_AT: &str = "erasedAt";
/// On the item a move puts under the new bubbleId: the public fields the move changed
/// (`bubbleId` first), so the stream handler makes one `UserUpdated` of the insert.
pub const MOVE_CHANGES: &str = "moveChanges";
/// See [`CREATED_AT`].
pub const VERSION: &str = "version";
/// While a scoped transaction reads back what it wrote: until when no other write may land,
/// in milliseconds since the epoch (see `lease`).
pub const LEASE_UNTIL: &str = "leaseUntil";
/// The token of the write holding the lease.
pub const LEASE_TOKEN: &str = "leaseToken";
/// Lowercased e-mail: what the e-mail guard is keyed by.
pub const EMAIL_KEY: &str = "emailKey";
/// Lowercased username: what the username guard is keyed by.
pub const USERNAME_KEY: &str = "usernameKey";
/// `active` index partition: only active users carry it (a sparse index).
pub const ACTIVE_SHARD: &str = "activeShard";
/// `active` index sort key: `createdAt#bubbleId`.
pub const ACTIVE_KEY: &str = "activeKey";
/// `feed` index partition.
pub const FEED_SHARD: &str = "feedShard";
/// `feed-segment` index partition: the id modulo [`crate::store::Segment::MOST`].
pub const FEED_SEGMENT: &str = "feedSegment";
/// `active-segment` index partition: as [`FEED_SEGMENT`], carried by active users only.
pub const ACTIVE_SEGMENT: &str = "activeSegment";
/// `feed` index sort key: `updatedAt#bubbleId`.
pub const FEED_KEY: &str = "feedKey";
/// Meta table keys.
pub const PK: &str = "pk";
/// See [`PK`].
pub const SK: &str = "sk";
/// A guard's owner (bubbleId).
pub const OWNER: &str = "owner";
/// A counter shard's value.
pub const COUNT: &str = "n";
/// On a counter shard: when it was first written, or its count then if older (`epoch.rs`).
pub const BORN: &str = "born";

/// Index of users by local id.
pub const BY_ID: &str = "by-id";
/// Sparse index of active users, write-sharded, by `createdAt#bubbleId`.
pub const ACTIVE: &str = "active";
/// Index of every user, write-sharded, by `updatedAt#bubbleId`: the change feed.
pub const FEED: &str = "feed";
/// The change feed again, in 64 partitions by id: what a segment of more than `SHARDS`
/// parts reads (`store::Segment`).
pub const FEED_SEGMENTS: &str = "feed-segment";
/// The active list again, in 64 partitions by id, sparse like [`ACTIVE`].
pub const ACTIVE_SEGMENTS: &str = "active-segment";

/// Where a relation is indexed. Its list index is sparse: keyed by an attribute holding the
/// field's value only while the user is active, so it holds no deleted user, in creation
/// order. Its feed index is keyed by the field itself, so it holds deleted users too, in
/// feed order: an organization's change feed. Both project every attribute, so a page of an
/// organization's users is one query (see docs/PERFORMANCE.md for the measurement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelationDef {
    /// The relation.
    pub relation: Relation,
    /// The list index.
    pub index: &'static str,
    /// The list index's partition key attribute.
    pub attribute: &'static str,
    /// The feed index, keyed by the relation's field (`relation.field()`) and `feedKey`.
    pub feed_index: &'static str,
}

/// The indexes of `relation`.
pub const fn relation_def(relation: Relation) -> RelationDef {
    let (index, attribute, feed_index) = match relation {
        Relation::Producer => ("by-producer", "activeProducerId", "feed-by-producer"),
        Relation::Seller => ("by-seller", "activeSellerId", "feed-by-seller"),
        Relation::Origin => ("by-origin", "activeOriginId", "feed-by-origin"),
    };
    RelationDef {
        relation,
        index,
        attribute,
        feed_index,
    }
}

/// Every relation's index.
pub const RELATIONS: [RelationDef; 3] = [
    relation_def(Relation::ALL[0]),
    relation_def(Relation::ALL[1]),
    relation_def(Relation::ALL[2]),
];

/// The index of the relation `field` holds, if it holds one.
pub fn relation(field: &str) -> Option<RelationDef> {
    Relation::of_field(field).map(relation_def)
}

/// The users table: keyed by `bubbleId`.
pub fn users_table() -> TableDef {
    TableDef {
        logical_id: "UsersTable",
        hash: BUBBLE_ID,
        range: None,
        indexes: vec![
            IndexDef {
                name: BY_ID,
                hash: ID,
                range: None,
                keys_only: false,
            },
            IndexDef {
                name: ACTIVE,
                hash: ACTIVE_SHARD,
                range: Some(ACTIVE_KEY),
                keys_only: false,
            },
            IndexDef {
                name: FEED,
                hash: FEED_SHARD,
                range: Some(FEED_KEY),
                keys_only: false,
            },
            IndexDef {
                name: FEED_SEGMENTS,
                hash: FEED_SEGMENT,
                range: Some(FEED_KEY),
                keys_only: false,
            },
            IndexDef {
                name: ACTIVE_SEGMENTS,
                hash: ACTIVE_SEGMENT,
                range: Some(ACTIVE_KEY),
                keys_only: false,
            },
        ]
        .into_iter()
        .chain(RELATIONS.iter().flat_map(|r| {
            [
                IndexDef {
                    name: r.index,
                    hash: r.attribute,
                    range: Some(ACTIVE_KEY),
                    keys_only: false,
                },
                IndexDef {
                    name: r.feed_index,
                    hash: r.relation.field(),
                    range: Some(FEED_KEY),
                    keys_only: false,
                },
            ]
        }))
        .collect(),
        stream: true,
    }
}

/// The meta table: e-mail and username guards, active-count shards, deleted history,
/// departures from organizations, managed keys.
pub fn meta_table() -> TableDef {
    TableDef {
        logical_id: "MetaTable",
        hash: PK,
        range: Some(SK),
        indexes: vec![],
        stream: false,
    }
}

impl TableDef {
    /// Every attribute used in a key, once.
    pub fn key_attributes(&self) -> Vec<&'static str> {
        let mut names = vec![self.hash];
        names.extend(self.range);
        for i in &self.indexes {
            names.push(i.hash);
            names.extend(i.range);
        }
        let mut seen = Vec::new();
        names.retain(|n| {
            let fresh = !seen.contains(n);
            seen.push(*n);
            fresh
        });
        names
    }

    /// Creates the table named `name` unless it exists (local runs and tests).
    pub async fn create_if_missing(&self, client: &Client, name: &str) -> Result<(), String> {
        if client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        let key = |hash: &str, range: Option<&str>| {
            let mut k = vec![key_element(hash, KeyType::Hash)];
            k.extend(range.map(|r| key_element(r, KeyType::Range)));
            k
        };
        let mut req = client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key(self.hash, self.range)));
        if self.stream {
            req = req.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        for a in self.key_attributes() {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(a)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        for i in &self.indexes {
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(i.name)
                    .set_key_schema(Some(key(i.hash, i.range)))
                    .projection(
                        Projection::builder()
                            .projection_type(if i.keys_only {
                                ProjectionType::KeysOnly
                            } else {
                                ProjectionType::All
                            })
                            .build(),
                    )
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        match req.send().await {
            Ok(_) => Ok(()),
            // Another instance starting beside this one created it first.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(format!("create table {name}: {e:?}")),
        }
    }
}

fn key_element(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("name and key type are set")
}
