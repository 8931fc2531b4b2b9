//! Every DynamoDB request goes through [`metered`]: it asks for the capacity consumed and
//! records the request, its items and its capacity in the request's [`meter`].

use std::future::Future;
use std::time::Instant;

use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::ConsumedCapacity;

use crate::store::meter::{self, Capacity};

/// What a successful response says it read and consumed.
pub trait Consumed {
    /// Items read.
    fn items(&self) -> u64;
    /// Capacity units consumed.
    fn capacity(&self) -> Capacity;
}

/// Runs one request and records it in the current meter.
pub async fn metered<T: Consumed, E>(fut: impl Future<Output = Result<T, E>>) -> Result<T, E> {
    let started = Instant::now();
    let out = fut.await;
    let (items, capacity) = out
        .as_ref()
        .map_or((0, Capacity::default()), |o| (o.items(), o.capacity()));
    meter::record(started, items, capacity);
    out
}

/// The units of `consumed`; where DynamoDB reports only a total, it is a read for a read
/// request and a write for a write.
fn units<'a>(consumed: impl IntoIterator<Item = &'a ConsumedCapacity>, write: bool) -> Capacity {
    consumed.into_iter().fold(Capacity::default(), |acc, c| {
        let total = c.capacity_units.unwrap_or(0.0);
        let (read, written) = match (c.read_capacity_units, c.write_capacity_units) {
            (None, None) if write => (0.0, total),
            (None, None) => (total, 0.0),
            (r, w) => (r.unwrap_or(0.0), w.unwrap_or(0.0)),
        };
        Capacity {
            read: acc.read + read,
            write: acc.write + written,
        }
    })
}

impl Consumed for GetItemOutput {
    fn items(&self) -> u64 {
        u64::from(self.item.is_some())
    }
    fn capacity(&self) -> Capacity {
        units(&self.consumed_capacity, false)
    }
}

impl Consumed for QueryOutput {
    fn items(&self) -> u64 {
        self.scanned_count.max(0) as u64
    }
    fn capacity(&self) -> Capacity {
        units(&self.consumed_capacity, false)
    }
}

impl Consumed for BatchGetItemOutput {
    fn items(&self) -> u64 {
        self.responses
            .iter()
            .flat_map(|r| r.values())
            .map(|items| items.len() as u64)
            .sum()
    }
    fn capacity(&self) -> Capacity {
        units(self.consumed_capacity.iter().flatten(), false)
    }
}

impl Consumed for PutItemOutput {
    fn items(&self) -> u64 {
        0
    }
    fn capacity(&self) -> Capacity {
        units(&self.consumed_capacity, true)
    }
}

impl Consumed for UpdateItemOutput {
    fn items(&self) -> u64 {
        1
    }
    fn capacity(&self) -> Capacity {
        units(&self.consumed_capacity, true)
    }
}

impl Consumed for TransactWriteItemsOutput {
    fn items(&self) -> u64 {
        0
    }
    fn capacity(&self) -> Capacity {
        units(self.consumed_capacity.iter().flatten(), true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_total_counts_as_the_requests_kind_and_split_units_as_reported() {
        let total = ConsumedCapacity::builder().capacity_units(2.5).build();
        assert_eq!(units([&total], false).read, 2.5);
        assert_eq!(units([&total], true).write, 2.5);
        let split = ConsumedCapacity::builder()
            .capacity_units(3.0)
            .read_capacity_units(1.0)
            .write_capacity_units(2.0)
            .build();
        assert_eq!(
            units([&split, &split], true),
            Capacity {
                read: 2.0,
                write: 4.0
            }
        );
    }
}
