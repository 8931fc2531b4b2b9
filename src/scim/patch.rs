//! SCIM PATCH (RFC 7644 §3.5.2) applied to a user's resource as SCIM sees it; the result is
//! read back through the same mapping as a PUT body. Lenient in what real IdPs send: op
//! names in any case (`Replace`), a `replace`/`add` without a path whose value is an object
//! of paths (`{"active": false}`, `{"name.givenName": "Ann"}`), filtered paths
//! (`emails[type eq "work"].value`), extension attributes by URN, and attributes the
//! directory does not keep, in any form, passed over.

mod change;
mod path;

use serde_json::Value as Json;

use self::path::{Op, Path};
use super::error::{ScimError, ScimType};

/// The PatchOp message schema.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Applies the operations of a PatchOp body to `resource`.
pub fn apply(resource: &mut Json, body: &Json) -> Result<(), ScimError> {
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Json::as_array)
        .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "a PatchOp has Operations"))?;
    let obj = resource.as_object_mut().expect("a resource is an object");
    for operation in ops {
        let op = operation
            .get("op")
            .and_then(Json::as_str)
            .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "an operation has an op"))
            .and_then(Op::parse)?;
        let value = operation.get("value").cloned();
        let path = operation
            .get("path")
            .and_then(Json::as_str)
            .filter(|p| !p.is_empty());
        match (op, path, value) {
            (Op::Remove, None, _) => {
                return Err(ScimError::bad(ScimType::NoTarget, "remove needs a path"))
            }
            (Op::Remove, Some(p), _) => change::apply(obj, op, &Path::parse(p)?, None)?,
            (_, None, Some(Json::Object(pairs))) => {
                for (key, v) in pairs {
                    change::apply(obj, op, &Path::parse(&key)?, Some(v))?;
                }
            }
            (_, None, _) => {
                return Err(ScimError::bad(
                    ScimType::InvalidValue,
                    "an add or replace without a path takes an object",
                ))
            }
            (_, Some(p), Some(v)) => change::apply(obj, op, &Path::parse(p)?, Some(v))?,
            (_, Some(_), None) => {
                return Err(ScimError::bad(
                    ScimType::InvalidValue,
                    "the op needs a value",
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::resource::EXTENSION;
    use serde_json::json;

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
    fn an_unkept_attribute_beside_a_deprovisioning_is_passed_over() {
        let r = json!({"userName": "a", "active": true});
        let r = patched(
            r,
            json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Paris"},
                {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 rue"},
                {"op": "Replace", "path": "title", "value": "Boss"},
                {"op": "Add", "value": {"addresses[type eq \"work\"].formatted": "x", "name.formatted": "A"}},
            ]),
        );
        assert_eq!(r, json!({"userName": "a", "active": "False"}));
    }

    #[test]
    fn a_required_attribute_cannot_be_removed() {
        for path in ["active", "userName", "USERNAME"] {
            let mut r = json!({"userName": "a", "active": true});
            let ops = json!({"Operations": [{"op": "remove", "path": path}]});
            let e = apply(&mut r, &ops).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::Mutability), "{path}");
        }
    }

    #[test]
    fn read_only_and_unknown_paths_are_refused() {
        let mut r = json!({"userName": "a"});
        let e = apply(
            &mut r,
            &json!({"Operations": [{"op": "replace", "path": "id", "value": "x"}]}),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::Mutability));
        let e = apply(&mut r, &json!({"Operations": [{"op": "remove"}]})).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::NoTarget));
        let e = apply(
            &mut r,
            &json!({"Operations": [{"op": "move", "path": "userName"}]}),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    }
}
