//! A user moved between organizations while both write it, through two instances on one
//! table: no write of the organization it left lands after the move.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_moved_between_organizations_takes_no_write_of_the_one_it_left() {
    let stores = common::dynamo_instances(2).await;
    let (one, two) = (
        Client::new(stores[0].clone()),
        Client::new(stores[1].clone()),
    );
    let (a, b) = two_organizations(&one).await;
    let b = two.with_key(b.auth_key());
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

fn org_id(org: &str) -> &'static str {
    if org == "a" {
        ORG_A
    } else {
        ORG_B
    }
}
