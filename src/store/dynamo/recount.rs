//! The migration's recount of every organization's active users: a table written before
//! organizations were counted has no counters (or, after writes since, only the changes
//! since), so the counts a scan finds are written where they differ.

use std::collections::HashMap;

use super::errors::store_error;
use super::item::*;
use super::DynamoStore;
use crate::domain::{Relation, User};
use crate::store::StoreError;

/// Active users per counter shard of each organization, as a scan finds them.
#[derive(Debug, Default)]
pub(super) struct Tally(HashMap<(Relation, String, u32), i64>);

impl Tally {
    /// Counts `user` in each organization it holds while active.
    pub(super) fn count(&mut self, user: &User, shards: u32) {
        if !user.is_active() {
            return;
        }
        let shard = shard_of(&user.id, shards);
        for r in Relation::ALL {
            if let Some(org) = user.text(r.field()) {
                *self.0.entry((r, org.to_owned(), shard)).or_default() += 1;
            }
        }
    }
}

impl DynamoStore {
    /// Writes each counter of `tally` whose stored value differs; answers how many it wrote.
    /// Writes that land during the scan can leave a count off by those in flight: run the
    /// migration at a quiet moment (running it again corrects it).
    pub(super) async fn recount(&self, tally: Tally) -> Result<u64, StoreError> {
        let mut written = 0;
        let counters: Vec<_> = tally.0.into_iter().collect();
        for chunk in counters.chunks(100) {
            let keys = chunk
                .iter()
                .map(|((r, org, shard), _)| organization_counter_key(*r, org, *shard))
                .collect();
            let stored = self.batch_get(&self.meta, keys).await?;
            for ((r, org, shard), count) in chunk {
                let mut item = organization_counter_key(*r, org, *shard);
                let now = stored
                    .iter()
                    .find(|s| same_key(s, &item))
                    .and_then(count_of);
                if now == Some(*count) {
                    continue;
                }
                item.insert(COUNT.into(), n(*count));
                self.client
                    .put_item()
                    .table_name(&self.meta)
                    .set_item(Some(item))
                    .send()
                    .await
                    .map_err(store_error)?;
                written += 1;
            }
        }
        Ok(written)
    }
}

fn same_key(a: &Item, b: &Item) -> bool {
    a.get(PK) == b.get(PK) && a.get(SK) == b.get(SK)
}

fn count_of(item: &Item) -> Option<i64> {
    item.get(COUNT)?.as_n().ok()?.parse().ok()
}
