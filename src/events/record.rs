//! DynamoDB stream records, as Lambda hands them over and as the Streams API's `GetRecords`
//! answers (the same JSON), and their images read back as table items.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::error::EventError;
use crate::store::dynamo::item::Item;

/// A batch of stream records (Lambda's DynamoDB event).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamEvent {
    /// The records, oldest first.
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

/// One change to one item.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamRecord {
    /// What happened to the item.
    #[serde(rename = "eventName")]
    pub kind: RecordKind,
    /// The images and the record's position in its shard.
    pub dynamodb: Change,
    /// Set on removals made by DynamoDB itself (time to live).
    #[serde(rename = "userIdentity", default)]
    pub user_identity: Option<Identity>,
}

/// What a record says happened to its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RecordKind {
    /// The item was put where there was none.
    #[serde(rename = "INSERT")]
    Insert,
    /// The item was changed.
    #[serde(rename = "MODIFY")]
    Modify,
    /// The item was deleted.
    #[serde(rename = "REMOVE")]
    Remove,
    /// A kind this code does not know: that record is unreadable, not its whole batch.
    #[serde(other)]
    Unknown,
}

/// The stream's view of the change (`NEW_AND_OLD_IMAGES`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Change {
    /// The item after the change (absent on `REMOVE`).
    #[serde(default)]
    pub new_image: Option<Map<String, Value>>,
    /// The item before the change (absent on `INSERT`).
    #[serde(default)]
    pub old_image: Option<Map<String, Value>>,
    /// The record's position in its shard: what a batch failure names.
    pub sequence_number: String,
    /// When the change was made, in seconds since the epoch.
    #[serde(default)]
    pub approximate_creation_date_time: Option<f64>,
}

/// Who made a change, when it was not a client.
#[derive(Debug, Clone, Deserialize)]
pub struct Identity {
    /// `Service` for a time-to-live removal.
    #[serde(rename = "type")]
    pub kind: String,
    /// `dynamodb.amazonaws.com` for a time-to-live removal.
    #[serde(rename = "principalId")]
    pub principal_id: String,
}

impl StreamRecord {
    /// Whether DynamoDB removed the item because its time to live passed.
    pub fn is_expiry(&self) -> bool {
        self.kind == RecordKind::Remove
            && self
                .user_identity
                .as_ref()
                .is_some_and(|i| i.kind == "Service" && i.principal_id == "dynamodb.amazonaws.com")
    }

    /// The sequence number, which Lambda's batch failure report names.
    pub fn sequence_number(&self) -> &str {
        &self.dynamodb.sequence_number
    }
}

/// An image in DynamoDB's JSON (`{"S": "…"}`, `{"N": "1"}`, …) as a table item.
pub fn image_item(image: &Map<String, Value>) -> Result<Item, EventError> {
    image
        .iter()
        .map(|(name, value)| Ok((name.clone(), attribute(value)?)))
        .collect::<Result<Item, String>>()
        .map_err(EventError::Unreadable)
}

/// A table item in DynamoDB's JSON, as a stream record carries it: the inverse of
/// [`image_item`] (sample events and tests are made with it).
pub fn item_image(item: &Item) -> Map<String, Value> {
    item.iter()
        .map(|(name, value)| (name.clone(), attribute_json(value)))
        .collect()
}

fn attribute_json(value: &AttributeValue) -> Value {
    let b64 = |b: &Blob| Value::from(base64::engine::general_purpose::STANDARD.encode(b.as_ref()));
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Ss(s) => json!({ "SS": s }),
        AttributeValue::Ns(n) => json!({ "NS": n }),
        AttributeValue::B(b) => json!({ "B": b64(b) }),
        AttributeValue::Bs(bs) => json!({ "BS": bs.iter().map(b64).collect::<Vec<_>>() }),
        AttributeValue::L(l) => json!({ "L": l.iter().map(attribute_json).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": item_image(m) }),
        _ => json!({ "NULL": true }),
    }
}

fn attribute(value: &Value) -> Result<AttributeValue, String> {
    let Some((kind, inner)) = value.as_object().and_then(|m| m.iter().next()) else {
        return Err("an attribute value is not a one-key object".into());
    };
    let text = || inner.as_str().map(str::to_owned).ok_or("not a string");
    let texts = || -> Result<Vec<String>, String> {
        inner
            .as_array()
            .ok_or("not a list")?
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or("not a string".into()))
            .collect()
    };
    let blob = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map(Blob::new)
            .map_err(|_| "a binary value is not base64".to_string())
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(text()?),
        "N" => AttributeValue::N(text()?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("not a boolean")?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(texts()?),
        "NS" => AttributeValue::Ns(texts()?),
        "B" => AttributeValue::B(blob(&text()?)?),
        "BS" => AttributeValue::Bs(texts()?.iter().map(|s| blob(s)).collect::<Result<_, _>>()?),
        "L" => AttributeValue::L(
            inner
                .as_array()
                .ok_or("not a list")?
                .iter()
                .map(attribute)
                .collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(
            image_item(inner.as_object().ok_or("not a map")?).map_err(|e| e.to_string())?,
        ),
        other => return Err(format!("unknown attribute type {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_type_reads_back() {
        let image = json!({
            "s": {"S": "x"}, "n": {"N": "7"}, "b": {"BOOL": false}, "z": {"NULL": true},
            "ss": {"SS": ["a", "b"]}, "bin": {"B": "AAE="},
            "l": {"L": [{"S": "y"}]}, "m": {"M": {"k": {"N": "1"}}}
        });
        let item = image_item(image.as_object().unwrap()).unwrap();
        assert_eq!(item["s"], AttributeValue::S("x".into()));
        assert_eq!(item["n"], AttributeValue::N("7".into()));
        assert_eq!(item["b"], AttributeValue::Bool(false));
        assert_eq!(item["ss"], AttributeValue::Ss(vec!["a".into(), "b".into()]));
        assert_eq!(item["bin"], AttributeValue::B(Blob::new(vec![0, 1])));
        assert_eq!(
            item["l"],
            AttributeValue::L(vec![AttributeValue::S("y".into())])
        );
        assert!(image_item(json!({"x": {"Q": 1}}).as_object().unwrap()).is_err());
        assert_eq!(Value::Object(item_image(&item)), image);
    }

    #[test]
    fn a_time_to_live_removal_is_told_from_a_client_removal() {
        let record = |identity: Value| -> StreamRecord {
            serde_json::from_value(json!({
                "eventName": "REMOVE", "userIdentity": identity,
                "dynamodb": {"SequenceNumber": "1", "OldImage": {}}
            }))
            .unwrap()
        };
        let ttl = json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"});
        assert!(record(ttl).is_expiry());
        assert!(!record(Value::Null).is_expiry());
    }
}
