//! Organizations racing on one table through two instances: a user moved while both write
//! it takes no write of the one it left after the move, and every organization's count
//! stays what its list holds.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_moved_between_organizations_takes_no_write_of_the_one_it_left() {
    let (one, two, a, b) = organizations_on_two_instances().await;
    let made = a
        .call("POST", "/users/mover", Some(json!({"firstName": "start"})))
        .await;
    assert_eq!(made.status, 200);
    let writes = |c: Client, org: &'static str| {
        tokio::spawn(async move {
            let mut shown = Vec::new();
            for i in 0..40 {
                let answer = c
                    .call(
                        "PATCH",
                        "/users/mover",
                        Some(json!({"firstName": format!("{org}-{i}")})),
                    )
                    .await;
                match answer.status.as_u16() {
                    200 => {
                        let user = answer.json();
                        assert_eq!(
                            user["producerId"],
                            org_id(org),
                            "{org} wrote outside its organization"
                        );
                        shown.push(user["version"].as_u64().unwrap());
                    }
                    404 => {}
                    other => panic!("{org}: {other} {}", answer.text),
                }
            }
            shown
        })
    };
    let (from_a, from_b) = (writes(a, "a"), writes(b, "b"));
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let moved = two
        .call("PATCH", "/users/mover", Some(json!({"producerId": ORG_B})))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let move_version = moved.json()["version"].as_u64().unwrap();
    let (a_versions, b_versions) = (from_a.await.unwrap(), from_b.await.unwrap());
    assert!(
        a_versions.iter().all(|v| *v < move_version),
        "A wrote after the move: {a_versions:?} vs {move_version}"
    );
    assert!(
        b_versions.iter().all(|v| *v > move_version),
        "B wrote before the move: {b_versions:?}"
    );
    let last = one.call("GET", "/users/mover", None).await.json();
    assert_eq!(last["producerId"], ORG_B);
    assert_eq!(
        last["version"].as_u64().unwrap(),
        1 + a_versions.len() as u64 + b_versions.len() as u64 + 1,
        "one version per applied write: A {a_versions:?}, B {b_versions:?}, move {move_version}"
    );
}

/// Two instances on one table (unbound clients), organization A's client on the first and
/// B's on the second.
async fn organizations_on_two_instances() -> (Client, Client, Client, Client) {
    let stores = common::dynamo_instances(2).await;
    let (one, two) = (
        Client::new(stores[0].clone()),
        Client::new(stores[1].clone()),
    );
    let (a, b) = two_organizations(&one).await;
    let b = two.with_key(b.auth_key());
    (one, two, a, b)
}

fn org_id(org: &str) -> &'static str {
    if org == "a" {
        ORG_A
    } else {
        ORG_B
    }
}

/// Users moved between organizations, deleted and restored at once through two instances:
/// each organization's count, kept in the writes' own transactions, is what its list holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizations_count_holds_through_concurrent_moves_and_deletes() {
    let (one, _, a, b) = organizations_on_two_instances().await;
    for i in 0..16 {
        let made = a
            .call("POST", &format!("/users/c{i}"), Some(json!({})))
            .await;
        assert_eq!(made.status, 200, "{}", made.text);
    }
    let moves = tokio::spawn(async move {
        for i in 0..10 {
            let path = format!("/users/c{i}");
            let moved = one
                .call("PATCH", &path, Some(json!({"producerId": ORG_B})))
                .await;
            // 404 while A holds it deleted.
            assert!(
                [200, 404].contains(&moved.status.as_u16()),
                "{}",
                moved.text
            );
        }
    });
    let a_deletes = a.with_key(a.auth_key());
    let deletes = tokio::spawn(async move {
        for i in 4..14 {
            // Racing the move: 404 once the user is B's.
            let path = format!("/users/c{i}");
            let gone = a_deletes.call("DELETE", &path, None).await;
            assert!([200, 404].contains(&gone.status.as_u16()), "{}", gone.text);
            if i % 2 == 0 && gone.status == 200 {
                let back = a_deletes
                    .call("POST", &format!("{path}/restore"), None)
                    .await;
                assert_eq!(back.status, 200, "{}", back.text);
            }
        }
    });
    moves.await.unwrap();
    deletes.await.unwrap();
    for org in [&a, &b] {
        let page = org.call("GET", "/users?pageSize=100", None).await.json();
        let held = page["data"].as_array().unwrap().len();
        assert_eq!(page["pagination"]["totalItems"], held, "{page}");
        let scim = org.scim_face().call("GET", "/Users?count=100", None).await;
        let scim = scim.json();
        assert_eq!(scim["totalResults"], held, "{scim}");
    }
}
