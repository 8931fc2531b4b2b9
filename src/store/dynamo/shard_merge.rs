//! One page of a list spread over shards, merged into one order in few storage rounds.
//!
//! Each shard is a partition sorted by a unique key. Round 1 asks every shard, in parallel,
//! for a chunk sized to the page: its fair share plus a margin for the random spread of
//! items over shards. The chunks are merged; a shard whose chunk runs out while it may hold
//! more blocks the merge, because its next item might come first. Then round 2 refills, in
//! parallel, every shard that could run dry before the page is full, each only up to the
//! key `K*` below which the other shards' buffers already hold the rest of the page, so a
//! refill reads little beyond what the page needs.
//!
//! [`Want::bounded`] pages (the first page and cursor pages) are held to hard limits: at most
//! 3 rounds (2 but for a rare skew), `2 × shards + 1` requests and `⌊1.5 × limit⌋ + shards`
//! items. When the limits stop the merge before the page is full (small pages over many
//! shards, now and then), the page is short and its cursor goes on from its last item, so a
//! walk still visits every item once. [`Want::window`] pages (`page=N`) go on with more
//! rounds until the page is exact.

use std::collections::VecDeque;
use std::future::Future;

use futures::future::try_join_all;

/// Where a shard's query starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start<T> {
    /// At the list's beginning (its floor, for the change feed).
    Beginning,
    /// Strictly after this key (a cursor's position).
    After(String),
    /// Strictly after this item, already read (DynamoDB's `ExclusiveStartKey`).
    Item(T),
}

/// One storage request: up to `limit` items of `shard` from `start`, none past `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask<T> {
    /// Which shard.
    pub shard: usize,
    /// Where to start.
    pub start: Start<T>,
    /// The last key wanted, inclusive (in list order); `None`: no bound.
    pub until: Option<String>,
    /// At most this many items.
    pub limit: usize,
}

/// What one request answered: items with their keys, in list order.
#[derive(Debug, Clone)]
pub struct Batch<T> {
    /// The items and their sort keys.
    pub items: Vec<(String, T)>,
    /// Storage stopped early (`Limit`, or its 1 MB page): more items may follow the last.
    pub more: bool,
}

/// What a page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    /// Items to pass over first (`page=N`).
    pub skip: usize,
    /// Items to return.
    pub limit: usize,
    /// Held to the round, request and item bounds (may come back short).
    pub bounded: bool,
}

impl Want {
    /// A page from a cursor (or the first page): bounded.
    pub fn bounded(limit: usize) -> Self {
        Self {
            skip: 0,
            limit,
            bounded: true,
        }
    }

    /// `limit` items after the first `skip`: exact, whatever it takes.
    pub fn window(skip: usize, limit: usize) -> Self {
        Self {
            skip,
            limit,
            bounded: false,
        }
    }

    fn total(&self) -> usize {
        self.skip + self.limit
    }

    /// The most requests a bounded page over `shards` may make: a first round over every
    /// shard, and as many refills again, and one more.
    pub fn request_budget(shards: usize) -> usize {
        2 * shards + 1
    }

    /// The most items a bounded page of `total` over `shards` may read.
    pub fn item_budget(total: usize, shards: usize) -> usize {
        total + total / 2 + shards
    }
}

/// A merged page.
#[derive(Debug, Clone)]
pub struct Merged<T> {
    /// The page's items, in list order (the skipped ones left out).
    pub items: Vec<T>,
    /// The key of the last item when more may follow; `None` on the last page.
    pub next: Option<String>,
    /// Sequential rounds of storage requests it took.
    pub rounds: usize,
}

/// The items each shard's first request asks for: the fair share of `total`, a margin of
/// two standard deviations of a random split (a binomial spread), and one to see past the
/// page; capped so that the first round reads at most `1.25 × total + shards`, which
/// leaves a refill room within the item budget.
pub fn chunk(total: usize, shards: usize) -> usize {
    let (n, s) = (total as f64, shards as f64);
    let share = total.div_ceil(shards);
    let sigma = (n * (1.0 / s) * (1.0 - 1.0 / s)).sqrt();
    let wanted = share + (2.0 * sigma).ceil() as usize + 1;
    let cap = (total + total / 4 + shards) / shards;
    wanted.min(cap).max(1)
}

struct Shard<T> {
    buf: VecDeque<(String, T)>,
    /// The last item read from this shard, where a refill starts.
    last: Option<(String, T)>,
    /// Items may exist after `known`.
    more: bool,
    /// Everything up to this key (inclusive) has been read; `None` with `more`: nothing yet.
    known: Option<String>,
}

/// How a list's items fall on its shards, which sizes each shard's first ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// At random (write sharding): each first ask is a fair share and a margin ([`chunk`]).
    Even,
    /// Unalike (an organization's feed beside its few departures): each shard is asked for
    /// the whole page and one more, so one round serves the page however its items fall;
    /// it reads at most `shards × (limit + 1)` items.
    Uneven,
}

/// Merges one page over `shards` shards from `after`, asking `fetch` for each request.
/// `forward` is the list's order: ascending keys, or descending (newest first).
pub async fn page<T, E, F, Fut>(
    (shards, spread): (usize, Spread),
    forward: bool,
    after: Option<&str>,
    want: Want,
    fetch: F,
) -> Result<Merged<T>, E>
where
    T: Clone,
    F: Fn(Ask<T>) -> Fut,
    Fut: Future<Output = Result<Batch<T>, E>>,
{
    let order = Order(forward);
    let total = want.total();
    let budget = match spread {
        Spread::Even => Want::item_budget(total, shards),
        Spread::Uneven => shards * (total + 1),
    };
    let start = after.map_or(Start::Beginning, |a| Start::After(a.to_owned()));
    let mut state: Vec<Shard<T>> = Vec::with_capacity(shards);
    let mut read = 0;
    let first = (0..shards).map(|shard| Ask {
        shard,
        start: start.clone(),
        until: None,
        limit: match spread {
            Spread::Even => chunk(total, shards),
            Spread::Uneven => total + 1,
        },
    });
    for (ask, batch) in try_join_all(first.map(|a| ask(&fetch, a))).await? {
        let mut shard = Shard {
            buf: VecDeque::new(),
            last: None,
            more: true,
            known: None,
        };
        read += batch.items.len();
        absorb(&mut shard, &ask, batch);
        state.push(shard);
    }
    let mut taken: Vec<(String, T)> = Vec::with_capacity(total.min(1024));
    let (mut rounds, mut requests) = (1, shards);
    loop {
        drain(&mut state, &mut taken, total, order);
        let blocked = state.iter().any(|s| s.more && s.buf.is_empty());
        if taken.len() == total || !blocked {
            break;
        }
        let mut asks = refills(&state, total - taken.len(), order, start.clone());
        if want.bounded {
            asks = ration(asks, &state, budget.saturating_sub(read));
            if rounds == 3 || requests + asks.len() > Want::request_budget(shards) {
                break;
            }
        }
        if asks.is_empty() {
            break;
        }
        requests += asks.len();
        for (ask, batch) in try_join_all(asks.into_iter().map(|a| ask(&fetch, a))).await? {
            read += batch.items.len();
            absorb(&mut state[ask.shard], &ask, batch);
        }
        rounds += 1;
    }
    let more = state.iter().any(|s| s.more || !s.buf.is_empty());
    let next = taken.last().filter(|_| more).map(|(key, _)| key.clone());
    Ok(Merged {
        items: taken.into_iter().skip(want.skip).map(|(_, t)| t).collect(),
        next,
        rounds,
    })
}

async fn ask<T, E, F, Fut>(fetch: &F, ask: Ask<T>) -> Result<(Ask<T>, Batch<T>), E>
where
    F: Fn(Ask<T>) -> Fut,
    Fut: Future<Output = Result<Batch<T>, E>>,
    T: Clone,
{
    let batch = fetch(ask.clone()).await?;
    Ok((ask, batch))
}

/// Adds what `ask` brought to `shard`.
fn absorb<T: Clone>(shard: &mut Shard<T>, ask: &Ask<T>, batch: Batch<T>) {
    if let Some(last) = batch.items.last() {
        shard.last = Some(last.clone());
    }
    shard.buf.extend(batch.items);
    let read_to = shard.last.as_ref().map(|(k, _)| k.clone());
    (shard.more, shard.known) = match (batch.more, &ask.until) {
        (true, _) => (true, read_to),
        // Read to the bound: what lies beyond it is still unknown.
        (false, Some(until)) => (true, Some(until.clone())),
        (false, None) => (false, read_to),
    };
}

/// Takes items in list order while no shard that may hold an earlier one is out of items.
fn drain<T>(state: &mut [Shard<T>], taken: &mut Vec<(String, T)>, total: usize, order: Order) {
    while taken.len() < total {
        let Some(i) = state
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.buf.front().map(|(k, _)| (i, k)))
            .reduce(|a, b| if order.before(b.1, a.1) { b } else { a })
            .map(|(i, _)| i)
        else {
            return;
        };
        let head = &state[i].buf[0].0;
        let blocked = state.iter().any(|s| {
            s.more && s.buf.is_empty() && s.known.as_ref().is_none_or(|k| order.before(k, head))
        });
        if blocked {
            return;
        }
        let item = state[i].buf.pop_front().expect("a head was found");
        taken.push(item);
    }
}

/// The refills that let the merge finish `remaining` more items: `K*` is the
/// `remaining`-th key among the items already buffered, so the page ends at or before it;
/// every shard that may hold items before `K*` that were not read is asked up to `K*`.
/// Without enough buffered items there is no `K*`, and every shard that may hold more is
/// asked for `remaining`.
fn refills<T: Clone>(
    state: &[Shard<T>],
    remaining: usize,
    order: Order,
    start: Start<T>,
) -> Vec<Ask<T>> {
    let mut buffered: Vec<&String> = state
        .iter()
        .flat_map(|s| s.buf.iter().map(|(k, _)| k))
        .collect();
    let bound = (buffered.len() >= remaining).then(|| {
        buffered.sort_by(|a, b| order.cmp(a, b));
        buffered[remaining - 1].clone()
    });
    state
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.more
                && match (&s.known, &bound) {
                    (Some(k), Some(b)) => order.before(k, b),
                    _ => true,
                }
        })
        .map(|(shard, s)| match &s.last {
            Some((_, t)) => Ask {
                shard,
                start: Start::Item(t.clone()),
                until: bound.clone(),
                limit: remaining,
            },
            // Nothing read yet: start where the page does, unbounded (a cursor's position
            // and a bound would be two conditions on one key).
            None => Ask {
                shard,
                start: start.clone(),
                until: None,
                limit: remaining,
            },
        })
        .collect()
}

/// Shares what is left of the item budget among `asks`: first the shards that block the
/// merge now (out of items), then the others, each share at most what it asked for; an ask
/// that would get nothing is dropped.
fn ration<T>(asks: Vec<Ask<T>>, state: &[Shard<T>], mut left: usize) -> Vec<Ask<T>> {
    let (now, later): (Vec<_>, Vec<_>) = asks
        .into_iter()
        .partition(|a| state[a.shard].buf.is_empty());
    let mut out = Vec::new();
    for group in [now, later] {
        let n = group.len();
        for (i, mut a) in group.into_iter().enumerate() {
            a.limit = a.limit.min(left.div_ceil(n - i));
            left -= a.limit;
            if a.limit > 0 {
                out.push(a);
            }
        }
    }
    out
}

#[derive(Clone, Copy)]
struct Order(bool);

impl Order {
    fn before(self, a: &str, b: &str) -> bool {
        if self.0 {
            a < b
        } else {
            a > b
        }
    }

    fn cmp(self, a: &str, b: &str) -> std::cmp::Ordering {
        if self.0 {
            a.cmp(b)
        } else {
            b.cmp(a)
        }
    }
}

#[cfg(test)]
mod tests;
