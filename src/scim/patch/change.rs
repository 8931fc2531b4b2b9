//! One PATCH operation applied to a resource as SCIM sees it. What the directory keeps of
//! the result, and whether each value has the right type, is the mapping's to say when the
//! resource is read back (`resource::native_view`), as for a PUT body.

use serde_json::{json, Map, Value as Json};

use super::path::{canonical, Op, Path, ValueFilter, REQUIRED};
use crate::scim::error::{ScimError, ScimType};
use crate::scim::resource::{EXTENSION, EXTENSION_FIELDS};

/// Applies `op` at `path`; `value` is `None` for a removal.
pub fn apply(
    obj: &mut Map<String, Json>,
    op: Op,
    path: &Path,
    value: Option<Json>,
) -> Result<(), ScimError> {
    match path {
        Path::Ignored => Ok(()),
        // RFC 7644 §3.5.2.2: a required attribute cannot become unassigned.
        Path::Single { attr, sub: None } if op == Op::Remove && REQUIRED.contains(attr) => {
            Err(ScimError::bad(
                ScimType::Mutability,
                format!("{attr} is required: replace it instead"),
            ))
        }
        Path::Extension => extension(obj, value),
        Path::ExtensionAttr(attr) => {
            let ext = object_at(obj, EXTENSION);
            match value {
                Some(v) => set(ext, attr, v),
                None => {
                    ext.remove(*attr);
                }
            }
            Ok(())
        }
        Path::Single {
            attr,
            sub: Some(sub),
        } => {
            let target = object_at(obj, attr);
            match value {
                Some(v) => set(target, sub, v),
                None => {
                    target.remove(*sub);
                }
            }
            if target.is_empty() {
                obj.remove(*attr);
            }
            Ok(())
        }
        Path::Single { attr, sub: None } => {
            match value {
                // A complex attribute's sub-attributes merge, by add or replace alike.
                Some(Json::Object(subs)) if *attr == "name" => {
                    let target = object_at(obj, "name");
                    for (k, v) in subs {
                        let sub = canonical(&["givenName", "familyName"], &k).unwrap_or(&k);
                        set(target, sub, v);
                    }
                }
                Some(v) => set(obj, attr, v),
                None => {
                    obj.remove(*attr);
                }
            }
            Ok(())
        }
        Path::Multi { attr, filter, sub } => {
            multi(obj, op, attr, filter.as_ref(), sub.as_deref(), value);
            Ok(())
        }
    }
}

/// The extension as a whole: its attributes merge; read-only ones (sent back as they were
/// read) are passed over.
fn extension(obj: &mut Map<String, Json>, value: Option<Json>) -> Result<(), ScimError> {
    match value {
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
            Ok(())
        }
        Some(_) => Err(ScimError::bad(
            ScimType::InvalidValue,
            "the extension takes an object",
        )),
        None => {
            obj.remove(EXTENSION);
            Ok(())
        }
    }
}

/// A change to `emails`, `phoneNumbers` or `photos`: the entries the filter selects (all
/// of them without one) are removed, replaced, extended or given a sub-attribute.
fn multi(
    obj: &mut Map<String, Json>,
    op: Op,
    attr: &str,
    filter: Option<&ValueFilter>,
    sub: Option<&str>,
    value: Option<Json>,
) {
    let mut items = match obj.get(attr) {
        Some(Json::Array(list)) => list.clone(),
        // A value of the wrong shape stays for the mapping to refuse.
        Some(other) if !other.is_null() => vec![other.clone()],
        _ => Vec::new(),
    };
    let selected = |item: &Json| match filter {
        Some(f) => item
            .get(&f.sub)
            .and_then(Json::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case(&f.value)),
        None => true,
    };
    match (sub, value) {
        (None | Some("value"), None) => items.retain(|i| !selected(i)),
        (Some(s), None) => {
            for i in items.iter_mut().filter(|i| selected(i)) {
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
            if op == Op::Replace || filter.is_some() {
                items.retain(|i| !selected(i));
            }
            items.extend(new);
        }
        (Some(s), Some(v)) => {
            let mut found = false;
            for i in items.iter_mut().filter(|i| selected(i)) {
                if let Some(o) = i.as_object_mut() {
                    o.insert(s.to_owned(), v.clone());
                    found = true;
                }
            }
            if !found {
                let mut item = Map::new();
                if let Some(f) = filter {
                    item.insert(f.sub.clone(), json!(f.value));
                }
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
