//! The merge against shards held in memory, each answering like a DynamoDB Query: pages
//! are exact, walks visit every item once, and bounded pages keep their limits whatever the
//! spread of items over shards.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;

use super::*;

/// Shards of sorted keys that count the requests and items they serve.
struct Shards {
    keys: Vec<Vec<String>>,
    forward: bool,
    requests: AtomicUsize,
    items: AtomicUsize,
}

impl Shards {
    /// `spread[i]` is the shard of item `i`; keys are zero-padded positions.
    fn new(spread: &[usize], shards: usize, forward: bool) -> Self {
        let mut keys = vec![Vec::new(); shards];
        for (i, s) in spread.iter().enumerate() {
            keys[*s % shards].push(format!("{i:06}"));
        }
        if !forward {
            keys.iter_mut().for_each(|k| k.reverse());
        }
        Self {
            keys,
            forward,
            requests: AtomicUsize::new(0),
            items: AtomicUsize::new(0),
        }
    }

    fn all(&self) -> Vec<String> {
        let mut all: Vec<String> = self.keys.concat();
        all.sort();
        if !self.forward {
            all.reverse();
        }
        all
    }

    async fn query(&self, ask: Ask<String>) -> Result<Batch<String>, ()> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let order = Order(self.forward);
        let after = match &ask.start {
            Start::Beginning => None,
            Start::After(k) | Start::Item(k) => Some(k.clone()),
        };
        let matching: Vec<&String> = self.keys[ask.shard]
            .iter()
            .filter(|k| after.as_ref().is_none_or(|a| order.before(a, k)))
            .filter(|k| ask.until.as_ref().is_none_or(|u| !order.before(u, k)))
            .collect();
        let items: Vec<(String, String)> = matching
            .iter()
            .take(ask.limit)
            .map(|k| ((*k).clone(), (*k).clone()))
            .collect();
        self.items.fetch_add(items.len(), Ordering::Relaxed);
        Ok(Batch {
            more: matching.len() > ask.limit,
            items,
        })
    }

    async fn page(&self, after: Option<&str>, want: Want) -> Merged<String> {
        self.page_spread(Spread::Even, after, want).await
    }

    async fn page_spread(&self, spread: Spread, after: Option<&str>, want: Want) -> Merged<String> {
        page((self.keys.len(), spread), self.forward, after, want, |a| {
            self.query(a)
        })
        .await
        .unwrap()
    }

    fn reset(&self) -> (usize, usize) {
        (
            self.requests.swap(0, Ordering::Relaxed),
            self.items.swap(0, Ordering::Relaxed),
        )
    }
}

fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

/// Walks the whole list by cursor, checking every page's bounds; answers the items seen.
async fn walk(shards: &Shards, limit: usize) -> Vec<String> {
    let n = shards.keys.len();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = shards.page(after.as_deref(), Want::bounded(limit)).await;
        let (requests, items) = shards.reset();
        assert!(page.rounds <= 3, "{} rounds", page.rounds);
        assert!(
            requests <= Want::request_budget(n),
            "{requests} requests over {n} shards"
        );
        assert!(
            items <= Want::item_budget(limit, n),
            "{items} items read for a page of {limit} over {n} shards"
        );
        seen.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return seen,
        }
        assert!(seen.len() <= 100_000, "the walk ends");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_cursor_walk_visits_every_item_once_within_the_bounds(
        spread in prop::collection::vec(0usize..64, 0..400),
        shards in 1usize..9,
        limit in 1usize..120,
        forward: bool,
    ) {
        let s = Shards::new(&spread, shards, forward);
        let seen = run(walk(&s, limit));
        prop_assert_eq!(seen, s.all());
    }

    #[test]
    fn a_window_page_is_exactly_the_items_at_its_offset(
        spread in prop::collection::vec(0usize..64, 0..400),
        shards in 1usize..9,
        skip in 0usize..300,
        limit in 1usize..100,
        forward: bool,
    ) {
        let s = Shards::new(&spread, shards, forward);
        let page = run(s.page(None, Want::window(skip, limit)));
        let all = s.all();
        let expected: Vec<String> = all.iter().skip(skip).take(limit).cloned().collect();
        prop_assert_eq!(&page.items, &expected);
        let more = all.len() > skip + limit;
        prop_assert_eq!(page.next.is_some(), more);
    }
}

/// A pseudo-random spread of `n` items over `shards`, as ids spread them, the same every run.
fn seeded_spread(n: usize, shards: usize) -> Vec<usize> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % shards as u64) as usize
        })
        .collect()
}

/// Walks 20,000 items by pages of `limit`; answers (pages, pages in 1 round, in 2 rounds,
/// short pages).
fn rounds_of_a_walk(shards: usize, limit: usize) -> (usize, usize, usize, usize) {
    let s = Shards::new(&seeded_spread(20_000, shards), shards, true);
    let (mut after, mut pages, mut one, mut two, mut short) = (None::<String>, 0, 0, 0, 0);
    loop {
        let page = run(s.page(after.as_deref(), Want::bounded(limit)));
        s.reset();
        pages += 1;
        one += usize::from(page.rounds == 1);
        two += usize::from(page.rounds <= 2);
        short += usize::from(page.next.is_some() && page.items.len() < limit);
        match page.next {
            Some(n) => after = Some(n),
            None => return (pages, one, two, short),
        }
    }
}

#[test]
fn pages_of_100_take_one_or_two_rounds_in_the_common_case_and_are_full() {
    let (pages, one, two, short) = rounds_of_a_walk(4, 100);
    assert_eq!((pages, short), (200, 0));
    assert!(one >= 160, "4 shards: {one} of {pages} pages in one round");
    assert_eq!(two, pages, "4 shards: every page within 2 rounds");
    let (pages, _, two, short) = rounds_of_a_walk(8, 100);
    assert_eq!((pages, short), (200, 0));
    assert!(
        two >= 180,
        "8 shards: {two} of {pages} pages within 2 rounds"
    );
}

#[test]
fn small_pages_over_many_shards_are_what_the_item_budget_squeezes() {
    // 1.5 × 10 + 8 = 23 items for a page of 10 over 8 shards: a first round of 2 per shard
    // leaves 7 for refills, so many pages take a third round, and a few come back short.
    let (pages, _, two, short) = rounds_of_a_walk(8, 10);
    assert!(two * 3 >= pages, "{two} of {pages} within 2 rounds");
    assert!(short * 20 <= pages, "{short} of {pages} short");
    let (pages, _, two, short) = rounds_of_a_walk(4, 10);
    assert!(two * 50 >= pages * 49, "{two} of {pages} within 2 rounds");
    assert!(short * 100 <= pages, "{short} of {pages} short");
}

#[test]
fn a_skewed_shard_is_refilled_up_to_where_the_page_ends() {
    // Shard 0 holds the first 150 items, the others one each after them.
    let mut spread = vec![0; 150];
    spread.extend([1, 2, 3]);
    let s = Shards::new(&spread, 4, true);
    let page = run(s.page(None, Want::bounded(100)));
    let (requests, items) = s.reset();
    assert_eq!(page.items.len(), 100);
    assert_eq!(page.rounds, 2);
    assert_eq!(
        requests, 5,
        "four chunks, then one refill of the shard that ran dry"
    );
    assert!(items <= Want::item_budget(100, 4), "{items}");
    assert_eq!(page.items, s.all()[..100]);
}

#[test]
fn the_first_chunk_is_the_share_plus_a_margin_within_the_budget() {
    assert_eq!(
        chunk(100, 1),
        101,
        "one shard: the page and one to see past it"
    );
    assert_eq!(chunk(100, 4), 32);
    assert_eq!(chunk(10, 8), 2);
    for (total, shards) in [(10, 1), (10, 8), (100, 4), (100, 8), (10_000, 64)] {
        assert!(chunk(total, shards) * shards <= Want::item_budget(total, shards));
        assert!(chunk(total, shards) >= total.div_ceil(shards));
    }
}

/// An organization's feed beside its departures: one partition holds nearly every item.
/// Asked for whole pages, every page is one round of two requests, and the walk sees each
/// item once.
#[test]
fn uneven_shards_serve_each_page_in_one_round() {
    let spread: Vec<usize> = (0..1_003).map(|i| usize::from(i % 300 == 7)).collect();
    let shards = Shards::new(&spread, 2, true);
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = run(shards.page_spread(Spread::Uneven, after.as_deref(), Want::bounded(100)));
        let (requests, items) = shards.reset();
        assert_eq!((page.rounds, requests), (1, 2));
        assert!(items <= 2 * 101, "{items} items");
        seen.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, shards.all());
}
