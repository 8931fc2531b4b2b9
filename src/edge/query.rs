//! A request's query string, decoded once, with the checks every route's parameters share.

use std::collections::HashMap;

use super::error::ApiError;

/// A query string, decoded.
pub struct Params(HashMap<String, String>);

impl Params {
    /// Decodes a raw query string (a repeated parameter keeps its last value). A name or
    /// value that is not valid UTF-8 once percent-decoded is a 400 naming it.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let decode = |part: &str, name: &str| {
            let spaced = part.replace('+', " ");
            percent_encoding::percent_decode_str(&spaced)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| ApiError::bad(name, "is not valid UTF-8"))
        };
        let mut params = HashMap::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name, "query")?;
            let value = decode(value, &name)?;
            params.insert(name, value);
        }
        Ok(Self(params))
    }

    /// The parameters' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A whole number within `range`, or `default` when absent.
    pub fn number(
        &self,
        name: &str,
        default: usize,
        range: std::ops::RangeInclusive<usize>,
    ) -> Result<usize, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    ApiError::bad(
                        name,
                        format!(
                            "must be a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    )
                }),
        }
    }

    /// `true` or `false`, default `false`.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::bad(name, "must be true or false")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_decodes_strictly() {
        let p = Params::parse(Some("a=x+y%2Bz&b=%C3%A9&a=last&flag")).unwrap();
        assert_eq!(
            (p.get("a"), p.get("b"), p.get("flag")),
            (Some("last"), Some("é"), Some(""))
        );
        for bad in ["a=%FF", "%FF=1", "a=%C3"] {
            assert!(Params::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
