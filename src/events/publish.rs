//! A batch of stream records → events on a sink, in order, with partial failures retried.
//!
//! Events go out in calls of at most [`MAX_ENTRIES`] (EventBridge's `PutEvents` limit), and
//! a call never holds two events of one user, so a user's events are put one call after the
//! other, in version order. The first record that cannot be published after retries stops
//! the batch: it is reported by sequence number, so Lambda redelivers from it (the records
//! before it are done; those after it in its call may be put again, with the same `eventId`).

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use super::change::{event_for, ChangeEvent};
use super::error::EventError;
use super::record::StreamRecord;

/// The most events in one call to a sink.
pub const MAX_ENTRIES: usize = 10;
/// Attempts at the failed entries of one call before the batch stops there.
const ATTEMPTS: u32 = 3;
/// The pause before the second attempt; it doubles after.
const FIRST_PAUSE: Duration = Duration::from_millis(100);

/// Where events go: the EventBridge bus, a local URL, or the log.
#[async_trait]
pub trait Sink: Send + Sync {
    /// Puts `events` (at most [`MAX_ENTRIES`]); one result per event, in order.
    async fn put(&self, events: &[ChangeEvent]) -> Vec<Result<(), EventError>>;
}

/// What became of a batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Events put.
    pub published: usize,
    /// Records that make no event (maintenance writes, the removal half of a move).
    pub quiet: usize,
    /// Calls made to the sink.
    pub calls: usize,
    /// The sequence number of the first record not published, and why.
    pub failure: Option<(String, EventError)>,
    /// The sequence numbers of the records whose events the sink took, in order.
    pub delivered: Vec<String>,
}

/// Lambda's partial batch response (`ReportBatchItemFailures`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// The record to redeliver from, if any.
    pub batch_item_failures: Vec<ItemFailure>,
}

/// One entry of [`BatchResponse`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    /// The record's sequence number.
    pub item_identifier: String,
}

impl From<&Outcome> for BatchResponse {
    fn from(outcome: &Outcome) -> Self {
        Self {
            batch_item_failures: outcome
                .failure
                .iter()
                .map(|(seq, _)| ItemFailure {
                    item_identifier: seq.clone(),
                })
                .collect(),
        }
    }
}

/// Publishes the events of `records` (oldest first) on `sink`.
pub async fn publish(records: &[StreamRecord], sink: &dyn Sink) -> Outcome {
    let mut outcome = Outcome::default();
    let mut events = Vec::new();
    for record in records {
        match event_for(record) {
            Ok(Some(event)) => events.push((record.sequence_number().to_owned(), event)),
            Ok(None) => outcome.quiet += 1,
            Err(reason) => {
                // Publish what comes before the poison record, then stop at it.
                outcome.failure = Some((record.sequence_number().to_owned(), reason));
                break;
            }
        }
    }
    let mut rest = events.as_slice();
    while !rest.is_empty() {
        let size = call_size(rest);
        let (call, after) = rest.split_at(size);
        if let Err(failed) = put_with_retries(call, sink, &mut outcome).await {
            outcome.failure = Some(failed);
            break;
        }
        rest = after;
    }
    outcome
}

/// How many of `events` the next call takes: up to [`MAX_ENTRIES`], no user twice.
fn call_size(events: &[(String, ChangeEvent)]) -> usize {
    let mut users: Vec<&str> = Vec::new();
    for (i, (_, e)) in events.iter().enumerate().take(MAX_ENTRIES) {
        if users.contains(&e.detail.id.as_str()) {
            return i;
        }
        users.push(&e.detail.id);
    }
    events.len().min(MAX_ENTRIES)
}

/// Puts one call's events, retrying the failed ones; the first that still fails, by
/// sequence number, is the error.
async fn put_with_retries(
    call: &[(String, ChangeEvent)],
    sink: &dyn Sink,
    outcome: &mut Outcome,
) -> Result<(), (String, EventError)> {
    let mut pending: Vec<&(String, ChangeEvent)> = call.iter().collect();
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
        let events: Vec<ChangeEvent> = pending.iter().map(|(_, e)| e.clone()).collect();
        let results = sink.put(&events).await;
        outcome.calls += 1;
        let mut failed = Vec::new();
        for (entry, result) in pending.iter().zip(results) {
            match result {
                Ok(()) => {
                    outcome.published += 1;
                    outcome.delivered.push(entry.0.clone());
                }
                Err(reason) => failed.push((*entry, reason)),
            }
        }
        let Some((first, reason)) = failed.first() else {
            return Ok(());
        };
        if attempt == ATTEMPTS {
            return Err((first.0.clone(), reason.clone()));
        }
        tracing::warn!(
            failed = failed.len(),
            attempt,
            "events not accepted; retrying"
        );
        pending = failed.into_iter().map(|(entry, _)| entry).collect();
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
    Ok(())
}
