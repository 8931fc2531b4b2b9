//! The filters IdPs send to find a user (RFC 7644 §3.4.2.2, the part this service answers
//! from an index): `eq` on `userName`, `externalId`, `id`, `emails.value` or
//! `emails[type eq "work"].value`, joined by `and`. Attribute names and operators are
//! case-insensitive; anything else is a 400 `invalidFilter`.

use super::error::{clip, ScimError, ScimType};
use super::resource::USER_SCHEMA;

/// What a clause compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `userName`.
    UserName,
    /// `externalId`.
    ExternalId,
    /// `id`.
    Id,
    /// `emails.value`, or the work e-mail's value.
    Email,
}

/// One `attribute eq "value"` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The attribute.
    pub target: Target,
    /// The value it must equal.
    pub value: String,
}

fn invalid(why: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidFilter, why)
}

/// Parses a filter into its clauses, all of which must hold.
pub fn parse(filter: &str) -> Result<Vec<Clause>, ScimError> {
    let mut rest = filter.trim();
    let mut clauses = Vec::new();
    loop {
        let (path, after) = token(rest);
        let (op, after) = word(after);
        if !op.eq_ignore_ascii_case("eq") {
            return Err(invalid(format!(
                "only eq is supported, joined by and (found '{}')",
                clip(op)
            )));
        }
        let (value, after) = literal(after)?;
        clauses.push(Clause {
            target: target(path)?,
            value,
        });
        let (joiner, after) = word(after);
        match joiner {
            "" => return Ok(clauses),
            j if j.eq_ignore_ascii_case("and") => rest = after,
            other => {
                return Err(invalid(format!(
                    "only and joins clauses (found '{}')",
                    clip(other)
                )))
            }
        }
    }
}

/// The `sub eq "value"` inside a PATCH path's brackets, as (sub-attribute, value).
pub fn sub_eq(inner: &str) -> Option<(String, String)> {
    let (sub, rest) = word(inner);
    let (op, rest) = word(rest);
    let (value, rest) = literal(rest).ok()?;
    (op.eq_ignore_ascii_case("eq") && !sub.is_empty() && rest.trim().is_empty())
        .then(|| (sub.to_owned(), value))
}

/// An attribute path: up to the first space outside brackets.
fn token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let mut depth = 0u32;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            c if c.is_whitespace() && depth == 0 && !quoted => return (&s[..i], &s[i..]),
            _ => {}
        }
    }
    (s, "")
}

fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// A JSON string literal (escapes included), or a bare word (`true`, a number).
fn literal(s: &str) -> Result<(String, &str), ScimError> {
    let s = s.trim_start();
    if !s.starts_with('"') {
        let (w, rest) = word(s);
        if w.is_empty() {
            return Err(invalid("a comparison needs a value"));
        }
        return Ok((w.to_owned(), rest));
    }
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => {
                let value: String = serde_json::from_str(&s[..=i])
                    .map_err(|_| invalid("a value is not a valid string"))?;
                return Ok((value, &s[i + 1..]));
            }
            _ => escaped = false,
        }
    }
    Err(invalid("a string value is not closed"))
}

/// The attribute a path names, with or without the core schema's URN.
fn target(path: &str) -> Result<Target, ScimError> {
    let lower = path.to_ascii_lowercase();
    let core = format!("{}:", USER_SCHEMA.to_ascii_lowercase());
    let bare = lower.strip_prefix(&core).unwrap_or(&lower);
    let compact: String = bare.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.as_str() {
        "username" => Ok(Target::UserName),
        "externalid" => Ok(Target::ExternalId),
        "id" => Ok(Target::Id),
        "emails.value" | "emails" | "emails[typeeq\"work\"].value" => Ok(Target::Email),
        _ => Err(invalid(format!(
            "'{}' cannot be filtered: use userName, externalId, id or emails.value with eq",
            clip(path)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(target: Target, value: &str) -> Clause {
        Clause {
            target,
            value: value.into(),
        }
    }

    #[test]
    fn what_entra_and_okta_send_parses() {
        assert_eq!(
            parse(r#"userName eq "9c2b0c1a-6a53-4b3e-8a8e-0d2b1f1c2e3d""#).unwrap(),
            [clause(
                Target::UserName,
                "9c2b0c1a-6a53-4b3e-8a8e-0d2b1f1c2e3d"
            )]
        );
        assert_eq!(
            parse(r#"emails[type eq "work"].value eq "a@x.io" and externalId EQ "e-1""#).unwrap(),
            [
                clause(Target::Email, "a@x.io"),
                clause(Target::ExternalId, "e-1")
            ]
        );
        assert_eq!(
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a\"b""#).unwrap(),
            [clause(Target::UserName, "a\"b")]
        );
    }

    #[test]
    fn other_attributes_operators_and_joiners_are_invalid_filters() {
        for bad in [
            r#"displayName eq "x""#,
            r#"userName co "x""#,
            r#"userName eq "x" or id eq "y""#,
            r#"userName eq "x"#,
            "userName eq",
            r#"emails[type eq "home"].value eq "x""#,
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{bad}");
        }
    }
}
