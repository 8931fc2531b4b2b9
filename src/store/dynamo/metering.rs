//! Every DynamoDB request goes through [`metered`]: it asks for the capacity consumed and
//! records the request, its items and its capacity in the request's [`meter`].

use std::future::Future;
use std::time::Instant;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemError, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::get_item::{GetItemError, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::query::{QueryError, QueryOutput};
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsError, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity};

use crate::store::meter::{self, Capacity};

/// What a successful response says it read and consumed.
pub trait Consumed {
    /// Items read.
    fn items(&self) -> u64;
    /// Capacity units consumed.
    fn capacity(&self) -> Capacity;
}

/// What a failed request still costs. Error responses carry no `ConsumedCapacity`, but
/// DynamoDB bills a conditional write whose condition failed: the size of the item as it is,
/// in 1 KB write units, at least 1 (the item comes back with `ALL_OLD`).
pub trait Billed {
    /// Capacity units billed for this failure.
    fn billed(&self) -> Capacity {
        Capacity::default()
    }
}

impl<R> Billed for SdkError<GetItemError, R> {}
impl<R> Billed for SdkError<QueryError, R> {}
impl<R> Billed for SdkError<BatchGetItemError, R> {}
impl<R> Billed for SdkError<TransactWriteItemsError, R> {}

impl<R> Billed for SdkError<PutItemError, R> {
    fn billed(&self) -> Capacity {
        match self.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(e)) => failed_write(e.item.as_ref()),
            _ => Capacity::default(),
        }
    }
}

impl<R> Billed for SdkError<UpdateItemError, R> {
    fn billed(&self) -> Capacity {
        match self.as_service_error() {
            Some(UpdateItemError::ConditionalCheckFailedException(e)) => {
                failed_write(e.item.as_ref())
            }
            _ => Capacity::default(),
        }
    }
}

/// The write units of a conditional write that failed on `existing` (`None`: no item).
fn failed_write(existing: Option<&HashMap<String, AttributeValue>>) -> Capacity {
    let bytes = existing.map_or(0, super::item::item_size);
    Capacity {
        read: 0.0,
        write: bytes.div_ceil(1024).max(1) as f64,
    }
}

/// Runs one request and records it in the current meter, with what DynamoDB bills for it.
pub async fn metered<T: Consumed, E: Billed>(
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let out = fut.await;
    let (items, capacity) = match &out {
        Ok(o) => (o.items(), o.capacity()),
        Err(e) => (0, e.billed()),
    };
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
    fn a_failed_conditional_write_bills_the_existing_item_at_least_one_unit() {
        assert_eq!(failed_write(None).write, 1.0, "no item: 1 WCU");
        let small = HashMap::from([("bubbleId".to_owned(), AttributeValue::S("b1".into()))]);
        assert_eq!(failed_write(Some(&small)).write, 1.0);
        let big = HashMap::from([("avatar".to_owned(), AttributeValue::S("x".repeat(2000)))]);
        assert_eq!(failed_write(Some(&big)).write, 2.0, "2,006 bytes: 2 WCU");
    }

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
