//! Loading a table for a benchmark, faster than the store's own writes: `BatchWriteItem`s of
//! up to 25 items (the items the store writes, built by the same code), with whatever
//! DynamoDB leaves unprocessed sent again.

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use users_api::store::dynamo::item::Item;

/// Puts `items` (at most 25) into `table`, sending again what comes back unprocessed.
pub async fn put_batch(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    items: &[Item],
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut pending = items
        .iter()
        .map(|item| {
            let put = PutRequest::builder().set_item(Some(item.clone())).build()?;
            Ok(WriteRequest::builder().put_request(put).build())
        })
        .collect::<Result<Vec<_>, aws_sdk_dynamodb::error::BuildError>>()?;
    while !pending.is_empty() {
        let out = client
            .batch_write_item()
            .request_items(table, pending)
            .send()
            .await?;
        pending = out
            .unprocessed_items
            .and_then(|mut u| u.remove(table))
            .unwrap_or_default();
    }
    Ok(())
}
