//! The grammar of a PATCH operation: its op, and the path it names, parsed once into types.
//!
//! A path is `attr`, `attr.sub`, `attr[sub eq "v"]`, `attr[sub eq "v"].sub`, an extension
//! attribute `urn:…:attr`, or the extension itself. Attributes the directory does not keep
//! (`addresses`, `title`, `password`, `name.formatted`, another schema's URN, …) parse to
//! [`Path::Ignored`] whatever their form, so one of them never sinks the operations beside it.

use crate::scim::error::{clip, ScimError, ScimType};
use crate::scim::filter::sub_eq;
use crate::scim::resource::{EXTENSION, EXTENSION_FIELDS, USER_SCHEMA};

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Adds a value (to a multi-valued attribute, alongside the others).
    Add,
    /// Replaces the value.
    Replace,
    /// Removes the value.
    Remove,
}

impl Op {
    /// An op name, in any case (Entra sends `Replace`).
    pub fn parse(name: &str) -> Result<Self, ScimError> {
        match name.to_ascii_lowercase().as_str() {
            "add" => Ok(Op::Add),
            "replace" => Ok(Op::Replace),
            "remove" => Ok(Op::Remove),
            _ => Err(ScimError::bad(
                ScimType::InvalidSyntax,
                format!("unknown op '{}'", clip(name)),
            )),
        }
    }
}

/// Core attributes the directory keeps, in their canonical case.
const KEPT: [&str; 8] = [
    "userName",
    "name",
    "displayName",
    "active",
    "emails",
    "phoneNumbers",
    "photos",
    "externalId",
];
/// The ones every user always has (`required` in `/Schemas`): a PATCH cannot remove them.
pub const REQUIRED: [&str; 2] = ["userName", "active"];
/// The multi-valued ones, of which the directory keeps one entry each.
pub const MULTI: [&str; 3] = ["emails", "phoneNumbers", "photos"];
/// The sub-attributes of `name` the directory keeps.
const NAME_SUBS: [&str; 2] = ["givenName", "familyName"];
/// Sub-attributes of a multi-valued attribute's entries, in canonical case.
const ENTRY_SUBS: [&str; 4] = ["value", "type", "primary", "display"];
/// Attributes no client may write.
const READ_ONLY: [&str; 4] = ["id", "meta", "schemas", "lastConnexion"];

/// `[sub eq "value"]`: which entries of a multi-valued attribute an operation selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueFilter {
    /// The entries' sub-attribute compared (`type`, `value`, …).
    pub sub: String,
    /// The value it must equal, compared without regard to case.
    pub value: String,
}

/// A parsed PATCH path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Path {
    /// The extension schema as a whole.
    Extension,
    /// One writable attribute of the extension.
    ExtensionAttr(&'static str),
    /// A kept core attribute that is not multi-valued, or one of `name`'s kept parts.
    Single {
        /// The attribute (`userName`, `name`, `displayName`, `active`, `externalId`).
        attr: &'static str,
        /// `givenName` or `familyName`, for `name`.
        sub: Option<&'static str>,
    },
    /// A multi-valued attribute, its entries selected by a filter or all of them.
    Multi {
        /// `emails`, `phoneNumbers` or `photos`.
        attr: &'static str,
        /// Which entries.
        filter: Option<ValueFilter>,
        /// The entries' sub-attribute, or the entries themselves.
        sub: Option<String>,
    },
    /// An attribute the directory accepts and does not keep.
    Ignored,
}

impl Path {
    /// Parses a path as an IdP writes it (attribute names in any case).
    pub fn parse(raw: &str) -> Result<Self, ScimError> {
        if raw.eq_ignore_ascii_case(EXTENSION) {
            return Ok(Path::Extension);
        }
        if let Some(rest) = strip_prefix_ignore_case(raw, &format!("{EXTENSION}:")) {
            return extension_attr(rest).map(Path::ExtensionAttr);
        }
        let rest = strip_prefix_ignore_case(raw, &format!("{USER_SCHEMA}:")).unwrap_or(raw);
        let (head, filter, after) = split_filter(rest, raw)?;
        let (attr, sub) = match (head.split_once('.'), after) {
            (Some((a, s)), None) => (a, Some(s)),
            (None, s) => (head, s),
            (Some(_), Some(_)) => return Err(invalid_path(raw, "is not a path")),
        };
        if READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(attr)) {
            return Err(ScimError::bad(
                ScimType::Mutability,
                format!("{} is read-only", clip(attr)),
            ));
        }
        let Some(attr) = canonical(&KEPT, attr) else {
            return Ok(Path::Ignored);
        };
        if MULTI.contains(&attr) {
            let filter = match filter {
                None => None,
                Some(inner) => Some(parse_filter(inner, raw)?),
            };
            let sub =
                sub.map(|s| canonical(&ENTRY_SUBS, s).map_or_else(|| s.to_owned(), str::to_owned));
            return Ok(Path::Multi { attr, filter, sub });
        }
        if filter.is_some() {
            return Err(invalid_path(raw, &format!("{attr} is not multi-valued")));
        }
        match (attr, sub) {
            (_, None) => Ok(Path::Single { attr, sub: None }),
            ("name", Some(s)) => Ok(match canonical(&NAME_SUBS, s) {
                Some(sub) => Path::Single {
                    attr,
                    sub: Some(sub),
                },
                None => Path::Ignored,
            }),
            (_, Some(_)) => Err(invalid_path(raw, &format!("{attr} has no sub-attributes"))),
        }
    }
}

/// Splits `attr[inner].sub` into (`attr`, the bracket's inside, `sub`). The closing bracket
/// is the first one outside a quoted string, so `emails[value eq "a]b"].value` reads whole.
fn split_filter<'a>(
    path: &'a str,
    raw: &str,
) -> Result<(&'a str, Option<&'a str>, Option<&'a str>), ScimError> {
    let Some(open) = path.find('[') else {
        return Ok((path, None, None));
    };
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in path[open + 1..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ']' if !quoted => {
                let close = open + 1 + i;
                let after = &path[close + 1..];
                let sub = match after {
                    "" => None,
                    _ => Some(
                        after
                            .strip_prefix('.')
                            .filter(|s| !s.is_empty())
                            .ok_or_else(|| invalid_path(raw, "is not a path"))?,
                    ),
                };
                return Ok((&path[..open], Some(&path[open + 1..close]), sub));
            }
            _ => {}
        }
    }
    Err(invalid_path(raw, "is not closed"))
}

fn parse_filter(inner: &str, raw: &str) -> Result<ValueFilter, ScimError> {
    let (sub, value) =
        sub_eq(inner).ok_or_else(|| invalid_path(raw, "takes only [sub eq \"value\"]"))?;
    let sub = canonical(&ENTRY_SUBS, &sub).map_or(sub, str::to_owned);
    Ok(ValueFilter { sub, value })
}

fn extension_attr(raw: &str) -> Result<&'static str, ScimError> {
    match EXTENSION_FIELDS
        .iter()
        .find(|(f, _)| f.eq_ignore_ascii_case(raw))
    {
        Some((_, false)) => Err(ScimError::bad(
            ScimType::Mutability,
            format!("{} is read-only", clip(raw)),
        )),
        Some((f, true)) => Ok(f),
        None => Err(ScimError::bad(
            ScimType::InvalidPath,
            format!("{} is not in {EXTENSION}", clip(raw)),
        )),
    }
}

/// The canonical spelling of `name` among `names`, compared without regard to case.
pub fn canonical(names: &[&'static str], name: &str) -> Option<&'static str> {
    names.iter().copied().find(|c| c.eq_ignore_ascii_case(name))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn invalid_path(raw: &str, why: &str) -> ScimError {
    ScimError::bad(ScimType::InvalidPath, format!("'{}' {why}", clip(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multi(attr: &'static str, filter: Option<(&str, &str)>, sub: Option<&str>) -> Path {
        Path::Multi {
            attr,
            filter: filter.map(|(s, v)| ValueFilter {
                sub: s.into(),
                value: v.into(),
            }),
            sub: sub.map(str::to_owned),
        }
    }

    #[test]
    fn paths_parse_into_what_they_name() {
        let cases = [
            (
                "active",
                Path::Single {
                    attr: "active",
                    sub: None,
                },
            ),
            (
                "NAME.givenname",
                Path::Single {
                    attr: "name",
                    sub: Some("givenName"),
                },
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                Path::Single {
                    attr: "userName",
                    sub: None,
                },
            ),
            ("emails", multi("emails", None, None)),
            (
                "emails[type eq \"work\"].value",
                multi("emails", Some(("type", "work")), Some("value")),
            ),
            (
                "emails[value eq \"a]b\"].value",
                multi("emails", Some(("value", "a]b")), Some("value")),
            ),
            (
                "phoneNumbers[Type eq \"mobile\"]",
                multi("phoneNumbers", Some(("type", "mobile")), None),
            ),
            (EXTENSION, Path::Extension),
            (&format!("{EXTENSION}:ROLE"), Path::ExtensionAttr("role")),
        ];
        for (raw, want) in cases {
            assert_eq!(Path::parse(raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn attributes_the_directory_does_not_keep_are_ignored_in_every_form() {
        for raw in [
            "addresses",
            "addresses[type eq \"work\"].locality",
            "addresses[type eq \"work\"].streetAddress",
            "addresses[type eq \"work\" and primary eq true].formatted",
            "title",
            "password",
            "name.formatted",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ] {
            assert_eq!(Path::parse(raw).unwrap(), Path::Ignored, "{raw}");
        }
    }

    #[test]
    fn malformed_and_read_only_paths_are_refused_with_their_type() {
        for (raw, kind) in [
            ("id", ScimType::Mutability),
            ("meta.created", ScimType::Mutability),
            (&format!("{EXTENSION}:lastConnexion"), ScimType::Mutability),
            (&format!("{EXTENSION}:nope"), ScimType::InvalidPath),
            ("emails[type eq \"work\"", ScimType::InvalidPath),
            ("emails[type eq \"a]b\"", ScimType::InvalidPath),
            ("emails[type co \"w\"].value", ScimType::InvalidPath),
            ("emails[type eq \"w\"]value", ScimType::InvalidPath),
            ("active[value eq \"x\"]", ScimType::InvalidPath),
            ("userName.first", ScimType::InvalidPath),
        ] {
            let e = Path::parse(raw).unwrap_err();
            assert_eq!(e.scim_type, Some(kind), "{raw}");
        }
        assert_eq!(
            Op::parse("move").unwrap_err().scim_type,
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(Op::parse("Replace").unwrap(), Op::Replace);
    }

    #[test]
    fn an_error_detail_echoes_at_most_200_characters_of_the_path() {
        let long = format!("emails[type eq \"{}", "x".repeat(5000));
        let e = Path::parse(&long).unwrap_err();
        assert!(e.detail.chars().count() < 260, "{}", e.detail.len());
    }
}
