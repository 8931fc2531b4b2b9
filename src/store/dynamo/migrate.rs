//! One-off migration of a table written before canonical identity keys and id guards:
//! `cargo run --release --example migrate_keys` (see the README, "Migrating a table").
//!
//! For every user it writes the `id#<id>` guard if missing, and for every active user whose
//! stored e-mail or username key is not the canonical one, moves the guard item to the
//! canonical key and rewrites the key attribute, in one transaction conditional on the
//! user's version, and gives every active user the relation index keys it lacks, and every
//! deleted user and deletion record the `expiresAt` it lacks (`expiry.rs`), and every active
//! user without a username the username guard of the name it shows (`User::login_name`), and
//! every organization the count of its active users (`recount.rs`), and every user the
//! segment index keys it lacks (`feedSegment`, and `activeSegment` if active). Two users whose keys
//! collapse into one are reported and left as they are.
//! Running it again changes nothing.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::errors::store_error;
use super::item::*;
use super::recount::Tally;
use super::transaction::{claim, release};
use super::{decode, DynamoStore};
use crate::domain::{Guard, UniqueField, User};
use crate::store::StoreError;

/// What a migration did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Users read.
    pub users: u64,
    /// `id#` guards written.
    pub ids_held: u64,
    /// Guards moved to their canonical key.
    pub rekeyed: u64,
    /// Usernames claimed for the name a user without one shows (its e-mail or bubbleId).
    pub names_held: u64,
    /// Relation index keys given to active users that lacked them.
    pub linked: u64,
    /// `expiresAt` given to deleted users and deletion records that lacked it.
    pub expiring: u64,
    /// Segment index keys given to users written before the segment indexes.
    pub segmented: u64,
    /// Organization counter shards set to the count of its active users the scan found.
    pub recounted: u64,
    /// The bubbleIds of users whose canonical key another user already holds.
    pub conflicts: Vec<String>,
}

impl DynamoStore {
    /// Brings every stored user to the current keys; see the module's documentation.
    pub async fn migrate_keys(&self) -> Result<Report, StoreError> {
        let mut report = Report::default();
        let mut tally = Tally::default();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.users)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            for item in page.items() {
                report.users += 1;
                let user = self.migrate_user(item, &mut report).await?;
                tally.count(&user, self.shards);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                self.expire_records(&mut report).await?;
                report.recounted = self.recount(tally).await?;
                return Ok(report);
            }
        }
    }

    /// Migrates one stored user; answers it as read.
    async fn migrate_user(&self, item: &Item, report: &mut Report) -> Result<User, StoreError> {
        let user = decode(item)?;
        let me = s(user.bubble_id.as_str());
        let mut held = id_guard_key(&user.id.to_string());
        held.insert(OWNER.into(), me.clone());
        let hold = self
            .client
            .put_item()
            .table_name(&self.meta)
            .set_item(Some(held))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match hold {
            Ok(_) => report.ids_held += 1,
            Err(e) if is_condition_failure(&e) => {}
            Err(e) => return Err(store_error(e)),
        }
        for g in user.guards() {
            let attr = guard_attr(g.field);
            let recorded = item.get(attr).and_then(|v| v.as_s().ok());
            let Some(value) = user.unique(g.field) else {
                // The name a user without a username shows, held as a username since
                // userName became an identity: claimed once, where the item records none.
                if recorded.is_none() {
                    match self.rekey(&user, &g, None).await? {
                        true => report.names_held += 1,
                        false => report.conflicts.push(user.bubble_id.to_string()),
                    }
                }
                continue;
            };
            // The guard is held under the key the item records when an earlier rule made it
            // (lowercase before case folding); before canonical keys, under the lowercased value.
            let old_key = match recorded {
                Some(recorded) if *recorded != g.key => recorded.clone(),
                _ => value.to_lowercase(),
            };
            let attr_current = recorded == Some(&g.key);
            if old_key == g.key || (attr_current && !self.guard_exists(&old_key, g.field).await?) {
                continue;
            }
            let legacy = Guard {
                field: g.field,
                key: old_key,
            };
            match self.rekey(&user, &g, Some(legacy)).await? {
                true => report.rekeyed += 1,
                false => report.conflicts.push(user.bubble_id.to_string()),
            }
        }
        let relations = super::schema::RELATIONS.map(|r| r.attribute);
        report.linked += self.link_missing(item, &user, &relations).await?;
        let segments = [FEED_SEGMENT, ACTIVE_SEGMENT];
        report.segmented += self.link_missing(item, &user, &segments).await?;
        self.expire_user(item, &user, report).await?;
        Ok(user)
    }
}

impl DynamoStore {
    /// In one transaction conditional on the user's version: claims `g` for the user, moves
    /// it off the `legacy` key if there is one, and records `g`'s key on the item. `false`
    /// when another user already holds `g`.
    async fn rekey(
        &self,
        user: &crate::domain::User,
        g: &Guard,
        legacy: Option<Guard>,
    ) -> Result<bool, StoreError> {
        let me = s(user.bubble_id.as_str());
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Backend(e.to_string());
        let record = Update::builder()
            .table_name(&self.users)
            .key(BUBBLE_ID, me.clone())
            .update_expression("SET #attr = :key")
            .condition_expression("#ver = :ver")
            .expression_attribute_names("#attr", guard_attr(g.field))
            .expression_attribute_names("#ver", VERSION)
            .expression_attribute_values(":key", s(g.key.clone()))
            .expression_attribute_values(":ver", n(user.version))
            .build()
            .map_err(build)?;
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(claim(&self.meta, g, &me)?);
        if let Some(legacy) = legacy {
            tx = tx.transact_items(release(&self.meta, &legacy, &me)?);
        }
        let done = tx
            .transact_items(TransactWriteItem::builder().update(record).build())
            .send()
            .await;
        match done {
            Ok(_) => Ok(true),
            Err(e) if is_cancelled(&e) => Ok(false),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Gives `item` those of `attrs` it lacks that the store writes for `user` now
    /// ([`user_item`]): index keys of users written before their index. Answers how many
    /// it set.
    async fn link_missing(
        &self,
        item: &Item,
        user: &crate::domain::User,
        attrs: &[&str],
    ) -> Result<u64, StoreError> {
        // The shard count only shapes the shard attributes, which are never missing.
        let now = user_item(user, 1);
        let mut set = 0;
        for attr in attrs.iter().filter(|a| !item.contains_key(**a)) {
            let Some(value) = now.get(*attr) else {
                continue;
            };
            if self.set_at_version(user, attr, value.clone()).await? {
                set += 1;
            }
        }
        Ok(set)
    }

    /// Sets one attribute of `user`'s item, conditional on its version still being the one
    /// read; `false` when a writer got there first (it wrote the item whole itself).
    pub(super) async fn set_at_version(
        &self,
        user: &crate::domain::User,
        attr: &str,
        value: aws_sdk_dynamodb::types::AttributeValue,
    ) -> Result<bool, StoreError> {
        let set = self
            .client
            .update_item()
            .table_name(&self.users)
            .key(BUBBLE_ID, s(user.bubble_id.as_str()))
            .update_expression("SET #attr = :value")
            .condition_expression("#ver = :ver")
            .expression_attribute_names("#attr", attr)
            .expression_attribute_names("#ver", VERSION)
            .expression_attribute_values(":value", value)
            .expression_attribute_values(":ver", n(user.version))
            .send()
            .await;
        match set {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error(e)),
        }
    }

    async fn guard_exists(&self, key: &str, field: UniqueField) -> Result<bool, StoreError> {
        let guard = guard_key(&Guard {
            field,
            key: key.to_owned(),
        });
        let out = self
            .client
            .get_item()
            .table_name(&self.meta)
            .set_key(Some(guard))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        Ok(out.item.is_some())
    }
}

fn is_condition_failure<R>(
    e: &aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError, R>,
) -> bool {
    matches!(
        e.as_service_error(),
        Some(
            aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(_)
        )
    )
}

fn is_cancelled<R>(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    matches!(
        e.as_service_error(),
        Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(_))
    )
}
