//! A bound key's `page=N` counts only its organization's users: on a list filtered by a
//! second relation, and on the deleted list, where other organizations' users are
//! interleaved with its own.

use crate::common;

use std::sync::Arc;

use common::Client;
use serde_json::{json, Value};
use users_api::store::UserStore;

use super::{two_organizations, ORG_A, ORG_B};

const SELLER: &str = "5e5e5e5e-0000-4000-8000-00000000005e";

fn bubble_ids(answer: &Value) -> Vec<String> {
    answer["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|u| u["bubbleId"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_bound_keys_offsets_count_only_its_organizations_users(store: Arc<dyn UserStore>) {
    let admin = Client::new(store);
    let (a, _) = two_organizations(&admin).await;
    // B's and A's users alternate, all sold by one seller.
    for i in 0..6 {
        for (org, name) in [(ORG_B, "b"), (ORG_A, "a")] {
            let body = json!({"producerId": org, "sellerId": SELLER});
            let made = admin
                .call("POST", &format!("/users/{name}{i}"), Some(body))
                .await;
            assert_eq!(made.status, 200, "{}", made.text);
        }
    }
    for page in 1..=3 {
        let got = a
            .call(
                "GET",
                &format!("/users?sellerId={SELLER}&pageSize=2&page={page}"),
                None,
            )
            .await;
        assert_eq!(got.status, 200, "{}", got.text);
        let want: Vec<String> = (0..2).map(|j| format!("a{}", (page - 1) * 2 + j)).collect();
        assert_eq!(
            bubble_ids(&got.json()),
            want,
            "page {page} of A's seller list"
        );
    }
    for i in 0..6 {
        for name in ["b", "a"] {
            let gone = admin
                .call("DELETE", &format!("/users/{name}{i}"), None)
                .await;
            assert_eq!(gone.status, 200, "{}", gone.text);
        }
    }
    // Newest first: a5, a4 | a3, a2 | a1, a0.
    for page in 1..=3 {
        let got = a
            .call(
                "GET",
                &format!("/deleted-users?pageSize=2&page={page}"),
                None,
            )
            .await;
        assert_eq!(got.status, 200, "{}", got.text);
        let want: Vec<String> = (0..2)
            .map(|j| format!("a{}", 5 - (page - 1) * 2 - j))
            .collect();
        assert_eq!(
            bubble_ids(&got.json()),
            want,
            "page {page} of A's deleted list"
        );
    }
}

on_both_stores!(a_bound_keys_offsets_count_only_its_organizations_users);
