//! SCIM PATCH (RFC 7644 §3.5.2) applied to a user's resource as SCIM sees it; the result is
//! read back through the same mapping as a PUT body. Lenient in what real IdPs send: op
//! names in any case (`Replace`), a `replace`/`add` without a path whose value is an object
//! of paths (`{"active": false}`, `{"name.givenName": "Ann"}`), filtered paths
//! (`emails[type eq "work"].value`), extension attributes by URN.

use serde_json::{json, Map, Value as Json};

use super::error::ScimError;
use super::resource::{EXTENSION, EXTENSION_FIELDS, USER_SCHEMA};

/// The PatchOp message schema.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Core attributes a PATCH may name, in their canonical case, and the kind of value the
/// multi-valued ones keep.
const CORE: [&str; 9] = [
    "userName",
    "name",
    "displayName",
    "active",
    "emails",
    "phoneNumbers",
    "photos",
    "externalId",
    "password",
];
const MULTI: [(&str, &str); 3] = [
    ("emails", "work"),
    ("phoneNumbers", "mobile"),
    ("photos", "photo"),
];
const READ_ONLY: [&str; 4] = ["id", "meta", "schemas", "lastConnexion"];

/// A parsed PATCH path: `attr`, `attr.sub`, `attr[sub eq "v"]`, `attr[sub eq "v"].sub`, or
/// an extension attribute `urn:…:attr`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Path {
    extension: bool,
    attr: String,
    filter: Option<(String, String)>,
    sub: Option<String>,
}

/// Applies the operations of a PatchOp body to `resource`.
pub fn apply(resource: &mut Json, body: &Json) -> Result<(), ScimError> {
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Json::as_array)
        .ok_or_else(|| ScimError::bad("invalidSyntax", "a PatchOp has Operations"))?;
    let obj = resource.as_object_mut().expect("a resource is an object");
    for op in ops {
        let name = op
            .get("op")
            .and_then(Json::as_str)
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| ScimError::bad("invalidSyntax", "an operation has an op"))?;
        let value = op.get("value").cloned();
        let path = op
            .get("path")
            .and_then(Json::as_str)
            .filter(|p| !p.is_empty());
        match (name.as_str(), path) {
            ("add" | "replace", None) => {
                let Some(Json::Object(pairs)) = value else {
                    return Err(ScimError::bad(
                        "invalidValue",
                        "an add or replace without a path takes an object",
                    ));
                };
                for (key, v) in pairs {
                    change(obj, &name, &parse_path(&key)?, Some(v))?;
                }
            }
            ("add" | "replace", Some(p)) => {
                let v =
                    value.ok_or_else(|| ScimError::bad("invalidValue", "the op needs a value"))?;
                change(obj, &name, &parse_path(p)?, Some(v))?;
            }
            ("remove", Some(p)) => change(obj, "remove", &parse_path(p)?, None)?,
            ("remove", None) => return Err(ScimError::bad("noTarget", "remove needs a path")),
            (other, _) => {
                return Err(ScimError::bad(
                    "invalidSyntax",
                    format!("unknown op '{other}'"),
                ))
            }
        }
    }
    Ok(())
}

fn parse_path(raw: &str) -> Result<Path, ScimError> {
    let core_prefix = format!("{USER_SCHEMA}:");
    let ext_prefix = format!("{EXTENSION}:");
    let (extension, rest) = if starts_with_ignore_case(raw, &ext_prefix) {
        (true, &raw[ext_prefix.len()..])
    } else if starts_with_ignore_case(raw, &core_prefix) {
        (false, &raw[core_prefix.len()..])
    } else {
        (false, raw)
    };
    if raw.eq_ignore_ascii_case(EXTENSION) {
        // The extension as a whole.
        return Ok(Path {
            extension: true,
            attr: String::new(),
            filter: None,
            sub: None,
        });
    }
    if extension {
        return Ok(Path {
            extension,
            attr: extension_name(rest)?,
            filter: None,
            sub: None,
        });
    }
    let (head, sub_after_filter, filter) = match rest.split_once('[') {
        Some((attr, tail)) => {
            let (inner, after) = tail
                .split_once(']')
                .ok_or_else(|| ScimError::bad("invalidPath", format!("'{raw}' is not closed")))?;
            let filter = super::filter::sub_eq(inner).ok_or_else(|| {
                ScimError::bad("invalidPath", format!("'{raw}': only [sub eq \"value\"]"))
            })?;
            (attr, after.strip_prefix('.'), Some(filter))
        }
        None => (rest, None, None),
    };
    let (attr, sub) = match (head.split_once('.'), sub_after_filter) {
        (Some((a, s)), None) => (a, Some(s)),
        (None, s) => (head, s),
        (Some(_), Some(_)) => {
            return Err(ScimError::bad(
                "invalidPath",
                format!("'{raw}' is not a path"),
            ))
        }
    };
    if READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(attr)) {
        return Err(ScimError::bad("mutability", format!("{attr} is read-only")));
    }
    let attr = CORE
        .iter()
        .find(|c| c.eq_ignore_ascii_case(attr))
        .map_or_else(|| attr.to_owned(), |c| (*c).to_owned());
    Ok(Path {
        extension,
        attr,
        filter,
        sub: sub.map(canonical_sub),
    })
}

fn canonical_sub(s: &str) -> String {
    ["givenName", "familyName", "value", "type", "primary"]
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(s))
        .map_or_else(|| s.to_owned(), str::to_owned)
}

fn extension_name(raw: &str) -> Result<String, ScimError> {
    match EXTENSION_FIELDS
        .iter()
        .find(|(f, _)| f.eq_ignore_ascii_case(raw))
    {
        Some((_, false)) => Err(ScimError::bad("mutability", format!("{raw} is read-only"))),
        Some((f, true)) => Ok((*f).to_owned()),
        None => Err(ScimError::bad(
            "invalidPath",
            format!("{raw} is not in {EXTENSION}"),
        )),
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn object_at<'a>(obj: &'a mut Map<String, Json>, key: &str) -> &'a mut Map<String, Json> {
    if !obj.get(key).is_some_and(Json::is_object) {
        obj.insert(key.to_owned(), json!({}));
    }
    obj.get_mut(key)
        .and_then(Json::as_object_mut)
        .expect("just made an object")
}

fn set(obj: &mut Map<String, Json>, key: &str, value: Json) {
    if value.is_null() {
        obj.remove(key);
    } else {
        obj.insert(key.to_owned(), value);
    }
}

/// One `add`, `replace` or `remove` (`value` is `None`) at `path`.
fn change(
    obj: &mut Map<String, Json>,
    op: &str,
    path: &Path,
    value: Option<Json>,
) -> Result<(), ScimError> {
    if path.extension && path.attr.is_empty() {
        match value {
            // Its attributes merge; read-only ones (sent back as read) are passed over.
            Some(Json::Object(attrs)) => {
                let ext = object_at(obj, EXTENSION);
                for (k, v) in attrs {
                    if let Some((name, true)) = EXTENSION_FIELDS
                        .iter()
                        .find(|(f, _)| f.eq_ignore_ascii_case(&k))
                    {
                        set(ext, name, v);
                    }
                }
            }
            Some(_) => {
                return Err(ScimError::bad(
                    "invalidValue",
                    "the extension takes an object",
                ))
            }
            None => {
                obj.remove(EXTENSION);
            }
        }
        return Ok(());
    }
    if path.extension {
        let ext = object_at(obj, EXTENSION);
        match value {
            Some(v) => set(ext, &path.attr, v),
            None => {
                ext.remove(&path.attr);
            }
        }
        return Ok(());
    }
    let kind = MULTI.iter().find(|(a, _)| *a == path.attr).map(|(_, k)| *k);
    match (kind, &path.filter, &path.sub) {
        (Some(kind), filter, sub) => change_multi(
            obj,
            op,
            &path.attr,
            kind,
            filter.as_ref(),
            sub.as_deref(),
            value,
        ),
        (None, Some(_), _) => Err(ScimError::bad(
            "invalidPath",
            format!("{} is not multi-valued", path.attr),
        )),
        (None, None, Some(sub)) => {
            let target = object_at(obj, &path.attr);
            match value {
                Some(v) => set(target, sub, v),
                None => {
                    target.remove(sub);
                }
            }
            if target.is_empty() {
                obj.remove(&path.attr);
            }
            Ok(())
        }
        (None, None, None) => {
            match value {
                // A complex attribute's sub-attributes merge, by add or replace alike.
                Some(Json::Object(subs)) if path.attr == "name" => {
                    let target = object_at(obj, "name");
                    for (k, v) in subs {
                        set(target, &canonical_sub(&k), v);
                    }
                }
                Some(v) => set(obj, &path.attr, v),
                None => {
                    obj.remove(&path.attr);
                }
            }
            Ok(())
        }
    }
}

/// A change to `emails`, `phoneNumbers` or `photos`, of which the service keeps one entry
/// (of type `kind`).
fn change_multi(
    obj: &mut Map<String, Json>,
    op: &str,
    attr: &str,
    kind: &str,
    filter: Option<&(String, String)>,
    sub: Option<&str>,
    value: Option<Json>,
) -> Result<(), ScimError> {
    let mut items = obj
        .get(attr)
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let matches = |item: &Json| match filter {
        Some((k, v)) => item
            .get(k)
            .and_then(Json::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case(v)),
        None => true,
    };
    match (sub, value) {
        (None, None) => items.retain(|i| !matches(i)),
        (Some("value"), None) => items.retain(|i| !matches(i)),
        (Some(s), None) => {
            for i in items.iter_mut().filter(|i| matches(i)) {
                if let Some(o) = i.as_object_mut() {
                    o.remove(s);
                }
            }
        }
        (None, Some(v)) => {
            let new: Vec<Json> = match v {
                Json::Array(list) => list,
                one => vec![one],
            };
            if op == "replace" || filter.is_some() {
                items.retain(|i| !matches(i));
            }
            items.extend(new);
        }
        (Some(s), Some(v)) => {
            let mut found = false;
            for i in items.iter_mut().filter(|i| matches(i)) {
                if let Some(o) = i.as_object_mut() {
                    o.insert(s.to_owned(), v.clone());
                    found = true;
                }
            }
            if !found {
                let mut item = Map::new();
                let (k, fv) = filter.cloned().unwrap_or(("type".into(), kind.into()));
                item.insert(k, json!(fv));
                item.insert(s.to_owned(), v);
                items.push(Json::Object(item));
            }
        }
    }
    if items.is_empty() {
        obj.remove(attr);
    } else {
        obj.insert(attr.to_owned(), Json::Array(items));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patched(resource: Json, ops: Json) -> Json {
        let mut r = resource;
        apply(
            &mut r,
            &json!({"schemas": [PATCH_SCHEMA], "Operations": ops}),
        )
        .unwrap();
        r
    }

    #[test]
    fn entra_id_shapes_apply() {
        let r = json!({"userName": "a", "active": true, "emails": [{"value": "a@x.io", "type": "work", "primary": true}]});
        let r = patched(
            r,
            json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "b@x.io"},
                {"op": "Add", "path": "name.givenName", "value": "Ann"},
                {"op": "replace", "value": {"displayName": "Ann B.", "name.familyName": "B"}},
            ]),
        );
        assert_eq!(r["active"], "False", "coerced when read back");
        assert_eq!(r["emails"][0]["value"], "b@x.io");
        assert_eq!(r["name"], json!({"givenName": "Ann", "familyName": "B"}));
        assert_eq!(r["displayName"], "Ann B.");
    }

    #[test]
    fn extension_attributes_by_urn_and_removals_apply() {
        let r = json!({"userName": "a", "phoneNumbers": [{"value": "1", "type": "mobile"}]});
        let r = patched(
            r,
            json!([
                {"op": "add", "path": format!("{EXTENSION}:role"), "value": "admin"},
                {"op": "remove", "path": "phoneNumbers[type eq \"mobile\"]"},
                {"op": "add", "value": {EXTENSION: {"status": "on"}}},
            ]),
        );
        assert_eq!(r[EXTENSION], json!({"role": "admin", "status": "on"}));
        assert!(r.get("phoneNumbers").is_none());
    }

    #[test]
    fn read_only_and_unknown_paths_are_refused() {
        let mut r = json!({"userName": "a"});
        let e = apply(
            &mut r,
            &json!({"Operations": [{"op": "replace", "path": "id", "value": "x"}]}),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some("mutability"));
        let e = apply(&mut r, &json!({"Operations": [{"op": "remove"}]})).unwrap_err();
        assert_eq!(e.scim_type, Some("noTarget"));
        let e = apply(
            &mut r,
            &json!({"Operations": [{"op": "move", "path": "userName"}]}),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some("invalidSyntax"));
    }
}
