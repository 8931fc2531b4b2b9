//! What a request carries: its JSON body (at most 256 KiB, no duplicate keys) and its `{ref}`.

use std::fmt;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use http::header;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::edge::contract::MAX_BODY_BYTES;
use crate::edge::error::ApiError;

/// A request body parsed as JSON.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let media = ct
                .to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let json = media == "application/json" || media.ends_with("+json");
            if !json {
                return Err(ApiError::UnsupportedMediaType);
            }
        }
        let bytes = read_limited(req.into_body()).await?;
        parse_strict(&bytes).map(JsonBody)
    }
}

async fn read_limited(body: Body) -> Result<bytes::Bytes, ApiError> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::TooLarge(
            format!("the body is larger than {} KiB", MAX_BODY_BYTES / 1024),
        )),
        Err(_) => Err(ApiError::MalformedJson("the body could not be read".into())),
    }
}

/// Parses JSON, refusing duplicate object keys (serde_json would keep the last silently).
pub fn parse_strict(bytes: &[u8]) -> Result<Value, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict::deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v.0))
        .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let shown: String = key.chars().take(64).collect();
                return Err(de::Error::custom(format!("duplicate key `{shown}`")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// The `{ref}` path segment, percent-decoded; one that is not valid UTF-8 is the usual
/// 400 naming `ref`, not the framework's plain-text rejection.
pub struct PathRef(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathRef {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(raw)| PathRef(raw))
            .map_err(|_| ApiError::bad("ref", "must be valid UTF-8 of A-Z a-z 0-9 . _ : -"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse_strict(br#"{"a":1,"a":2}"#).is_err());
        assert!(parse_strict(br#"[{"b":{"c":1,"c":1}}]"#).is_err());
        assert!(parse_strict(br#"{"a":1,"b":[1,2,{"c":null}]}"#).is_ok());
    }

    #[test]
    fn hostile_json_is_an_error_not_a_panic() {
        let deep = "[".repeat(100_000);
        assert!(parse_strict(deep.as_bytes()).is_err());
        assert!(parse_strict(br#"{"a":"\ud800"}"#).is_err());
        assert!(parse_strict(b"1e999").is_err());
        assert!(parse_strict(b"{} trailing").is_err());
        assert!(parse_strict(b"\xff").is_err());
    }
}
