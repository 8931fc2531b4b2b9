//! The stream handler on the local engine: what Lambda's event source mapping does on AWS,
//! done by polling DynamoDB Local's Streams API (`GetRecords` answers the same record JSON
//! that Lambda hands the function).
//!
//! Each shard is read in order. Delivery is at least once and in order per user: a batch
//! that does not publish whole is tried again from the record that failed, after a backoff
//! that doubles up to [`MAX_BACKOFF`], for as long as it takes; nothing is dead-lettered, so
//! a listener that is down for a while misses nothing, as long as the stream still holds the
//! record (DynamoDB keeps stream records 24 hours). A record after the failed one waits for
//! it, and what the listener already took is not sent again. Only a record no retry can
//! read (a poison record) is logged as dead-lettered and passed.

use std::collections::{BTreeMap, HashSet};
use std::convert::Infallible;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::error::EventError;
use super::local_http::LocalHttp;
use super::publish::{publish, Sink, MAX_ENTRIES};
use super::record::StreamRecord;

/// The pause before a shard's batch is tried again after its first failure; it doubles.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest pause between two tries of a shard's batch.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How a follower paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// How often it asks the engine for new records.
    pub poll: Duration,
    /// How long records that would make a call of fewer than ten wait for more (as the
    /// event source mapping's `MaximumBatchingWindowInSeconds` gathers a batch); zero
    /// publishes what each poll got.
    pub window: Duration,
}

/// The most records published together, as the event source mapping's `BatchSize`.
pub const BATCH_SIZE: usize = 100;

/// Where a follower starts reading the shards that exist when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At the oldest record the stream keeps (tests: a new table, every change).
    Oldest,
    /// At the next change (`make run`: not what happened before it started).
    Latest,
}

/// The Streams API of a local engine.
#[derive(Clone)]
pub struct LocalStream {
    http: LocalHttp,
    endpoint: String,
    table: String,
}

#[derive(Default)]
struct Shard {
    iterator: Option<String>,
    pending: Vec<StreamRecord>,
    /// When the oldest pending record was read.
    since: Option<Instant>,
    /// Failed tries of the record at the head of `pending`.
    failures: u32,
    /// Not before this instant is the batch tried again.
    retry_at: Option<Instant>,
    /// Pending records whose events the sink already took (in a batch that then stopped).
    delivered: HashSet<String>,
    /// The sequence number of the last record read: where a lost iterator resumes.
    last_read: Option<String>,
}

impl Shard {
    /// The pause after `failures` failed tries in a row.
    fn backoff(failures: u32) -> Duration {
        FIRST_BACKOFF
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(MAX_BACKOFF)
    }
}

impl LocalStream {
    /// The stream of `table` on the engine at `endpoint`.
    pub fn new(endpoint: &str, table: &str) -> Self {
        Self {
            http: LocalHttp::new(),
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            table: table.to_owned(),
        }
    }

    async fn call(&self, action: &str, body: Value) -> Result<Value, EventError> {
        let target = format!("DynamoDBStreams_20120810.{action}");
        // The local engine reads the credential's shape, not its signature.
        let auth = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, \
                    SignedHeaders=host, Signature=0";
        let headers = [
            ("x-amz-target", target.as_str()),
            ("authorization", auth),
            ("content-type", "application/x-amz-json-1.0"),
        ];
        let (status, answer) = self
            .http
            .post(&self.endpoint, &headers, body.to_string())
            .await?;
        let answer: Value = serde_json::from_slice(&answer)
            .map_err(|e| EventError::Stream(format!("{action}: {e}")))?;
        if !status.is_success() {
            return Err(EventError::Stream(format!(
                "{action}: {status} {}",
                answer["__type"]
            )));
        }
        Ok(answer)
    }

    async fn stream_arn(&self) -> Result<Option<String>, EventError> {
        let answer = self
            .call("ListStreams", json!({"TableName": self.table}))
            .await?;
        Ok(answer["Streams"]
            .as_array()
            .and_then(|s| s.last())
            .and_then(|s| s["StreamArn"].as_str())
            .map(str::to_owned))
    }

    async fn shard_ids(&self, arn: &str) -> Result<Vec<String>, EventError> {
        let answer = self
            .call("DescribeStream", json!({"StreamArn": arn}))
            .await?;
        Ok(answer["StreamDescription"]["Shards"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["ShardId"].as_str().map(str::to_owned))
            .collect())
    }

    async fn iterator(&self, arn: &str, shard: &str, kind: &str) -> Result<String, EventError> {
        self.iterator_at(arn, shard, kind, None).await
    }

    /// An iterator of `kind`; `after` is the sequence number `AFTER_SEQUENCE_NUMBER` takes.
    async fn iterator_at(
        &self,
        arn: &str,
        shard: &str,
        kind: &str,
        after: Option<&str>,
    ) -> Result<String, EventError> {
        let mut body = json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": kind});
        if let Some(seq) = after {
            body["SequenceNumber"] = json!(seq);
        }
        let answer = self.call("GetShardIterator", body).await?;
        answer["ShardIterator"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| EventError::Stream("no shard iterator".into()))
    }

    async fn records(
        &self,
        iterator: &str,
    ) -> Result<(Vec<StreamRecord>, Option<String>), EventError> {
        let answer = self
            .call("GetRecords", json!({"ShardIterator": iterator}))
            .await?;
        let records = serde_json::from_value(answer["Records"].clone())
            .map_err(|e| EventError::Unreadable(format!("a stream record: {e}")))?;
        Ok((
            records,
            answer["NextShardIterator"].as_str().map(str::to_owned),
        ))
    }

    /// Follows the stream for good, publishing on `sink`.
    pub async fn follow(&self, sink: &dyn Sink, start: Start, pace: Pace) -> Infallible {
        loop {
            if let Err(e) = self.follow_once(sink, start, pace).await {
                tracing::warn!(error = %e, "stream follower restarting");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn follow_once(
        &self,
        sink: &dyn Sink,
        start: Start,
        pace: Pace,
    ) -> Result<(), EventError> {
        let arn = loop {
            match self.stream_arn().await? {
                Some(arn) => break arn,
                // The API creates its tables when it starts: wait for them.
                None => tokio::time::sleep(pace.poll).await,
            }
        };
        let mut shards: BTreeMap<String, Shard> = BTreeMap::new();
        let first = match start {
            Start::Oldest => "TRIM_HORIZON",
            Start::Latest => "LATEST",
        };
        for id in self.shard_ids(&arn).await? {
            let iterator = self.iterator(&arn, &id, first).await?;
            shards.insert(
                id,
                Shard {
                    iterator: Some(iterator),
                    ..Shard::default()
                },
            );
        }
        tracing::info!(shards = shards.len(), "following the local stream");
        loop {
            for id in self.shard_ids(&arn).await? {
                if let std::collections::btree_map::Entry::Vacant(slot) = shards.entry(id) {
                    let iterator = self.iterator(&arn, slot.key(), "TRIM_HORIZON").await?;
                    slot.insert(Shard {
                        iterator: Some(iterator),
                        ..Shard::default()
                    });
                }
            }
            for (id, shard) in shards.iter_mut() {
                self.read(&arn, id, shard).await?;
                self.step(shard, sink, pace.window).await?;
            }
            tokio::time::sleep(pace.poll).await;
        }
    }

    /// Reads what a shard has next into its pending records. An iterator the engine no longer
    /// honours (the local engine answers `TrimmedDataAccessException` to a `LATEST` iterator
    /// taken on a shard made moments before, once its first record arrives) is replaced by one
    /// after the last record read, or, before any, from the oldest record the shard keeps: no
    /// record is lost to it, and one from before the follower started may come again (with
    /// the same `eventId`; delivery is at least once).
    async fn read(&self, arn: &str, id: &str, shard: &mut Shard) -> Result<(), EventError> {
        if shard.pending.len() >= BATCH_SIZE {
            return Ok(());
        }
        let Some(iterator) = shard.iterator.take() else {
            return Ok(());
        };
        let (records, next) = match self.records(&iterator).await {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(error = %e, shard = id, "shard iterator lost; resuming");
                let resumed = match shard.last_read.as_deref() {
                    Some(seq) => self.iterator_at(arn, id, "AFTER_SEQUENCE_NUMBER", Some(seq)),
                    None => self.iterator_at(arn, id, "TRIM_HORIZON", None),
                };
                shard.iterator = Some(resumed.await?);
                return Ok(());
            }
        };
        if let Some(last) = records.last() {
            shard.last_read = Some(last.sequence_number().to_owned());
        }
        if shard.pending.is_empty() && !records.is_empty() {
            shard.since = Some(Instant::now());
        }
        shard.pending.extend(records);
        shard.iterator = next;
        Ok(())
    }

    /// Publishes what a shard holds: whole calls at once, the
    /// rest once the window has passed (or the shard is closed); after a failure, not
    /// before the shard's backoff has passed.
    async fn step(
        &self,
        shard: &mut Shard,
        sink: &dyn Sink,
        window: Duration,
    ) -> Result<(), EventError> {
        if shard.retry_at.is_some_and(|t| Instant::now() < t) {
            return Ok(());
        }
        // Whole calls go at once; a part of a call waits for company until the window ends.
        let window_over =
            shard.iterator.is_none() || shard.since.is_none_or(|t| t.elapsed() >= window);
        let take = if window_over {
            shard.pending.len()
        } else {
            shard.pending.len() - shard.pending.len() % MAX_ENTRIES
        };
        if take == 0 {
            return Ok(());
        }
        let undelivered: Vec<StreamRecord> = shard.pending[..take]
            .iter()
            .filter(|r| !shard.delivered.contains(r.sequence_number()))
            .cloned()
            .collect();
        let outcome = publish(&undelivered, sink).await;
        let Some((seq, reason)) = outcome.failure else {
            shard.pending.drain(..take);
            shard.delivered.clear();
            if shard.pending.is_empty() {
                shard.since = None;
            }
            (shard.failures, shard.retry_at) = (0, None);
            return Ok(());
        };
        shard.delivered.extend(outcome.delivered);
        let at = shard
            .pending
            .iter()
            .position(|r| r.sequence_number() == seq)
            .unwrap_or(0);
        for done in shard.pending.drain(..at) {
            shard.delivered.remove(done.sequence_number());
        }
        if matches!(reason, EventError::Unreadable(_)) {
            // No retry can read it: passed over, as the on-failure destination takes it on AWS.
            tracing::error!(sequence = %seq, reason = %reason, "record dead-lettered");
            if !shard.pending.is_empty() {
                shard.pending.remove(0);
            }
            (shard.failures, shard.retry_at) = (0, None);
            return Ok(());
        }
        shard.failures = if at > 0 { 1 } else { shard.failures + 1 };
        let pause = Shard::backoff(shard.failures);
        shard.retry_at = Some(Instant::now() + pause);
        tracing::warn!(
            sequence = %seq,
            reason = %reason,
            failures = shard.failures,
            retry_in_ms = pause.as_millis() as u64,
            "events not delivered; trying again from this record"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let pauses: Vec<u128> = (1..=8).map(|n| Shard::backoff(n).as_millis()).collect();
        assert_eq!(pauses, [200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        assert_eq!(Shard::backoff(u32::MAX), MAX_BACKOFF);
    }
}
