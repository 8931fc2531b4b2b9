//! Lifecycle races, on both stores: whatever the interleaving, never two active owners of an
//! e-mail, never a half-deleted user, never a history record without its deletion.

use crate::common;

use std::sync::Arc;

use common::invariants;
use common::Client;
use serde_json::json;
use users_api::store::UserStore;

const ROUNDS: usize = 4;

async fn a_delete_racing_an_update_leaves_a_whole_user(store: Arc<dyn UserStore>) {
    let c = Arc::new(Client::new(store.clone()));
    for round in 0..ROUNDS {
        let path = format!("/users/r{round}");
        let email = format!("r{round}@x.io");
        assert_eq!(
            c.call(
                "POST",
                &path,
                Some(json!({"email": email, "username": format!("u{round}")}))
            )
            .await
            .status,
            200
        );
        let (a, b) = (c.clone(), c.clone());
        let (p1, p2) = (path.clone(), path.clone());
        let delete = tokio::spawn(async move { a.call("DELETE", &p1, None).await.status.as_u16() });
        let update = tokio::spawn(async move {
            b.call(
                "PUT",
                &p2,
                Some(json!({"email": format!("moved{round}@x.io")})),
            )
            .await
            .status
            .as_u16()
        });
        let (d, u) = (delete.await.unwrap(), update.await.unwrap());
        assert_eq!(d, 200, "the delete always finds the user");
        assert!(
            u == 200 || u == 404,
            "the update either ran first or found the user deleted: {u}"
        );
    }
    invariants::check(&store).await;
}

async fn two_restores_racing_for_one_email_make_one_owner(store: Arc<dyn UserStore>) {
    let c = Arc::new(Client::new(store.clone()));
    for round in 0..ROUNDS {
        let email = format!("shared{round}@x.io");
        let (a, b) = (format!("/users/a{round}"), format!("/users/b{round}"));
        for p in [&a, &b] {
            assert_eq!(
                c.call("POST", p, Some(json!({"email": email})))
                    .await
                    .status
                    .as_u16(),
                if p == &a { 200 } else { 409 }
            );
        }
        // b takes the e-mail once a is deleted; then both are deleted and race to come back.
        c.call("DELETE", &a, None).await;
        assert_eq!(
            c.call("POST", &b, Some(json!({"email": email})))
                .await
                .status,
            200
        );
        c.call("DELETE", &b, None).await;
        let (c1, c2) = (c.clone(), c.clone());
        let (ra, rb) = (format!("{a}/restore"), format!("{b}/restore"));
        let t1 = tokio::spawn(async move { c1.call("POST", &ra, None).await.status.as_u16() });
        let t2 = tokio::spawn(async move { c2.call("POST", &rb, None).await.status.as_u16() });
        let mut outcomes = [t1.await.unwrap(), t2.await.unwrap()];
        outcomes.sort();
        assert_eq!(outcomes, [200, 409], "exactly one restore wins the e-mail");
    }
    invariants::check(&store).await;
}

async fn a_batch_racing_single_upserts_for_one_email_makes_one_owner(store: Arc<dyn UserStore>) {
    let c = Arc::new(Client::new(store.clone()));
    for round in 0..ROUNDS {
        let email = format!("contested{round}@x.io");
        let batch: Vec<_> = (0..4)
            .map(|i| json!({"bubbleId": format!("batch{round}-{i}"), "email": email}))
            .collect();
        let cb = c.clone();
        let batch =
            tokio::spawn(async move { cb.call("POST", "/users", Some(json!(batch))).await });
        let singles: Vec<_> = (0..4)
            .map(|i| {
                let ci = c.clone();
                let email = email.clone();
                tokio::spawn(async move {
                    ci.call(
                        "POST",
                        &format!("/users/single{round}-{i}"),
                        Some(json!({"email": email})),
                    )
                    .await
                    .status
                    .as_u16()
                })
            })
            .collect();
        let batch = batch.await.unwrap();
        assert_eq!(batch.status, 200, "{}", batch.text);
        let mut created = batch.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == 201)
            .count();
        for s in singles {
            let status = s.await.unwrap();
            assert!(status == 200 || status == 409, "{status}");
            created += usize::from(status == 200);
        }
        assert_eq!(created, 1, "one owner of {email}");
    }
    invariants::check(&store).await;
}

on_both_stores!(
    a_delete_racing_an_update_leaves_a_whole_user,
    two_restores_racing_for_one_email_make_one_owner,
    a_batch_racing_single_upserts_for_one_email_makes_one_owner,
);

/// Races between function instances on one table: DynamoDB only.
mod dynamodb_only {
    use super::*;

    /// Clients of `n` function instances on one DynamoDB table; request `i` goes to `i % n`.
    async fn instances(n: usize) -> (Vec<Arc<Client>>, Arc<dyn UserStore>) {
        let stores = common::dynamo_instances(n).await;
        let first = stores[0].clone();
        let clients = stores
            .into_iter()
            .map(|s| Arc::new(Client::new(s)))
            .collect();
        (clients, first)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sixteen_concurrent_updates_of_one_user_all_apply_in_turn() {
        let (clients, store) = instances(4).await;
        let made = clients[0]
            .call("POST", "/users/hot", Some(json!({"firstName": "start"})))
            .await;
        assert_eq!(made.status, 200);
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let c = clients[i % clients.len()].clone();
                tokio::spawn(async move {
                    let answer = c
                        .call(
                            "PUT",
                            "/users/hot",
                            Some(json!({"firstName": format!("w{i}")})),
                        )
                        .await;
                    (answer.status.as_u16(), answer.json()["version"].as_u64())
                })
            })
            .collect();
        let mut versions = Vec::new();
        for t in tasks {
            let (status, version) = t.await.unwrap();
            assert_eq!(status, 200, "every update applies");
            versions.push(version.unwrap());
        }
        versions.sort_unstable();
        assert_eq!(
            versions,
            (2..=17).collect::<Vec<u64>>(),
            "16 distinct versions"
        );
        invariants::check(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn thirty_two_concurrent_upserts_of_one_new_bubble_id_make_one_user() {
        let (clients, store) = instances(4).await;
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let c = clients[i % clients.len()].clone();
                tokio::spawn(async move {
                    let answer = c
                        .call(
                            "POST",
                            "/users/newcomer",
                            Some(json!({"lastName": format!("n{i}")})),
                        )
                        .await;
                    (
                        answer.status.as_u16(),
                        answer.json()["id"].as_str().map(str::to_owned),
                    )
                })
            })
            .collect();
        let mut ids = std::collections::HashSet::new();
        for t in tasks {
            let (status, id) = t.await.unwrap();
            assert_eq!(status, 200, "every upsert applies");
            ids.insert(id.unwrap());
        }
        assert_eq!(ids.len(), 1, "one user, one id");
        invariants::check(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_delete_racing_four_streams_of_updates_succeeds() {
        let (clients, store) = instances(5).await;
        let made = clients[0]
            .call("POST", "/users/busy", Some(json!({"email": "busy@x.io"})))
            .await;
        assert_eq!(made.status, 200);
        let streams: Vec<_> = (1..5)
            .map(|s| {
                let c = clients[s].clone();
                tokio::spawn(async move {
                    for i in 0..15 {
                        let body = json!({"firstName": format!("s{s}-{i}")});
                        let status = c.call("PUT", "/users/busy", Some(body)).await.status;
                        assert!(
                            status == 200 || status == 404,
                            "an update applies or finds the user deleted: {status}"
                        );
                    }
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let deleted = clients[0].call("DELETE", "/users/busy", None).await;
        assert_eq!(deleted.status, 200, "{}", deleted.text);
        for s in streams {
            s.await.unwrap();
        }
        invariants::check(&store).await;
    }

    /// E-mail changes and a delete are transactions; plain updates of other fields are single
    /// blind writes. Racing three update loops, the transactions must still get through (0 × 503),
    /// every field keeps the last value a 200 wrote to it, and each 200 answers the one version
    /// its request wrote: its own value, and a version no other answer shows.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn email_changes_and_a_delete_racing_three_update_loops_all_apply() {
        let (clients, store) = instances(4).await;
        let made = clients[0]
            .call(
                "POST",
                "/users/contended",
                Some(json!({"email": "c0@x.io"})),
            )
            .await;
        assert_eq!(made.status, 200);
        let loops: Vec<_> = ["lastName", "firstName", "status"]
            .into_iter()
            .enumerate()
            .map(|(s, field)| {
                let c = clients[s + 1].clone();
                tokio::spawn(async move {
                    let (mut versions, mut last) = (Vec::new(), None);
                    for i in 0..400 {
                        let value = format!("{field}-{i}");
                        let answer = c
                            .call("PATCH", "/users/contended", Some(json!({field: value})))
                            .await;
                        match answer.status.as_u16() {
                            200 => {
                                let shown = answer.json();
                                assert_eq!(shown[field], value.as_str(), "another write's answer");
                                versions.push(shown["version"].as_u64().unwrap());
                                last = Some(value);
                            }
                            404 => break,
                            other => panic!("an update answered {other}: {}", answer.text),
                        }
                    }
                    (field, versions, last)
                })
            })
            .collect();
        let mut applied = 1; // the creation
        let mut versions = vec![1];
        for i in 1..=12 {
            let email = format!("c{i}@x.io");
            let changed = clients[0]
                .call("PATCH", "/users/contended", Some(json!({"email": email})))
                .await;
            assert_eq!(changed.status, 200, "e-mail change {i}: {}", changed.text);
            let shown = changed.json();
            assert_eq!(shown["email"], email.as_str(), "another write's answer");
            versions.push(shown["version"].as_u64().unwrap());
            applied += 1;
        }
        let deleted = clients[0].call("DELETE", "/users/contended", None).await;
        assert_eq!(deleted.status, 200, "{}", deleted.text);
        applied += 1;
        let user = clients[0]
            .call("GET", "/users/contended?includeDeleted=true", None)
            .await
            .json();
        for l in loops {
            let (field, written, last) = l.await.unwrap();
            applied += written.len() as u64;
            versions.extend(written);
            assert_eq!(
                user[field].as_str(),
                last.as_deref(),
                "{field} lost a write"
            );
        }
        assert_eq!(user["email"], "c12@x.io");
        assert_eq!(user["version"], applied, "one version per change");
        versions.push(user["version"].as_u64().unwrap());
        let answered = versions.len();
        versions.sort_unstable();
        versions.dedup();
        assert_eq!(versions.len(), answered, "two answers showed one version");
        invariants::check(&store).await;
    }
}
