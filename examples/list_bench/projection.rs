//! The relation index projected `ALL` (the design) against `KEYS_ONLY`, measured on the same
//! users: what an update that does not touch the relation costs in write units, and what a
//! page of a producer's users costs to read (`KEYS_ONLY`: the index query plus one
//! `BatchGetItem`; `ALL`: the index query alone).

use std::sync::Arc;

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use aws_sdk_dynamodb::Client;
use serde_json::json;
use users_api::domain::{BubbleId, Intent, Patch, Relation, UserRef};
use users_api::store::dynamo::schema::{self, RELATIONS};
use users_api::store::dynamo::DynamoStore;
use users_api::store::meter::{self, Meter};
use users_api::store::{UserStore, Window};

const PRODUCER: &str = "50658c1e-356e-4407-b120-d110552292d8";
const USERS: usize = 300;
const PAGE: usize = 100;

type Error = Box<dyn std::error::Error>;

/// Prints one row per projection.
pub async fn compare(client: &Client) -> Result<(), Error> {
    println!("\nrelation index projection: {USERS} users of one producer, page of {PAGE}");
    println!("| projection | WCU per update of another field | requests per page | RCU per page |");
    println!("|---|---|---|---|");
    for keys_only in [true, false] {
        let (store, users) = tables(client, keys_only).await?;
        for i in 0..USERS {
            upsert(
                &store,
                i,
                json!({"producerId": PRODUCER, "lastName": "Before"}),
            )
            .await?;
        }
        let m = Arc::new(Meter::default());
        for i in 0..USERS {
            meter::scope(m.clone(), upsert(&store, i, json!({"lastName": "After"}))).await?;
        }
        let wcu = m.capacity().write / USERS as f64;
        let (requests, rcu) = if keys_only {
            // The keys from the index, then the users in one strongly consistent BatchGetItem.
            let out = client
                .query()
                .table_name(&users)
                .index_name(RELATIONS[0].index)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", RELATIONS[0].attribute)
                .expression_attribute_values(":p", users_api::store::dynamo::item::s(PRODUCER))
                .limit(PAGE as i32)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            let index_rcu = out
                .consumed_capacity
                .as_ref()
                .and_then(|c| c.capacity_units)
                .unwrap_or(0.0);
            let ids: Vec<BubbleId> = out
                .items()
                .iter()
                .filter_map(|i| i.get("bubbleId").and_then(|v| v.as_s().ok()))
                .map(|b| BubbleId::parse(b))
                .collect::<Result<_, _>>()?;
            let m = Arc::new(Meter::default());
            let page = meter::scope(m.clone(), store.get_many(&ids)).await?;
            assert_eq!(page.items.len(), PAGE);
            (1 + m.requests(), index_rcu + m.capacity().read)
        } else {
            // With every attribute projected, one query answers the page (the design).
            let m = Arc::new(Meter::default());
            let page = meter::scope(
                m.clone(),
                store.list_related(Relation::Producer, PRODUCER, Window::after(None, PAGE)),
            )
            .await?;
            assert_eq!(page.items.len(), PAGE);
            (m.requests(), m.capacity().read)
        };
        let name = if keys_only {
            "KEYS_ONLY (the former design)"
        } else {
            "ALL (the design)"
        };
        println!("| {name} | {wcu:.2} | {requests} | {rcu:.1} |");
    }
    Ok(())
}

/// Fresh tables whose relation indexes are `KEYS_ONLY` or `ALL`; the store on them.
async fn tables(client: &Client, keys_only: bool) -> Result<(DynamoStore, String), Error> {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (users, meta) = (format!("proj-{suffix}"), format!("proj-meta-{suffix}"));
    let mut def = schema::users_table();
    for index in &mut def.indexes {
        if RELATIONS.iter().any(|r| r.index == index.name) {
            index.keys_only = keys_only;
        }
    }
    def.create_if_missing(client, &users).await?;
    schema::meta_table()
        .create_if_missing(client, &meta)
        .await?;
    Ok((DynamoStore::new(client.clone(), &users, &meta, 4), users))
}

async fn upsert(store: &DynamoStore, i: usize, body: serde_json::Value) -> Result<(), Error> {
    let b = BubbleId::parse(&format!("p{i:05}"))?;
    let patch = Patch::from_json(&body).map_err(|e| format!("{e:?}"))?;
    store
        .apply(
            &UserRef::Bubble(b.clone()),
            &Intent::Upsert(&b, &patch),
            None,
        )
        .await?;
    Ok(())
}
