//! A user as a SCIM `User` resource and back: the one mapping between the two faces of the
//! directory. Core attributes map to native fields (`userName` → `username`, `name.givenName`
//! → `firstName`, `emails[work]` → `email`, `active` → `enabled`, …); every other native
//! field is an attribute of the service's extension schema, under its native name.

use serde_json::{json, Map, Value as Json};

use super::error::{ScimError, ScimType};
use crate::domain::{BubbleId, Kind, User, FIELDS};

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The service's extension: the native fields SCIM's core schema has no place for.
pub const EXTENSION: &str = "urn:users-api:scim:schemas:extension:2.0:User";
/// The prefix of the bubbleId a user created without `externalId` is given; SCIM shows
/// such a user with no `externalId`, and such an `externalId` cannot be sent.
pub const MADE_UP_PREFIX: &str = "scim:";

/// Native fields in the extension, and whether SCIM may write them. `lastConnexion` is the
/// native clients' record of a sign-in: SCIM reads it, never writes it.
pub const EXTENSION_FIELDS: [(&str, bool); 13] = [
    ("isMailConfirmed", true),
    ("language", true),
    ("lastConnexion", false),
    ("producerBubbleId", true),
    ("producerId", true),
    ("sellerBubbleId", true),
    ("sellerId", true),
    ("originBubbleId", true),
    ("originId", true),
    ("status", true),
    ("role", true),
    ("userSignedUp", true),
    ("isAlgorep", true),
];

/// Core attributes and the native field each one is: (SCIM path, native field).
pub const CORE_FIELDS: [(&str, &str); 8] = [
    ("userName", "username"),
    ("name.givenName", "firstName"),
    ("name.familyName", "lastName"),
    ("displayName", "displayName"),
    ("active", "enabled"),
    ("emails.value", "email"),
    ("phoneNumbers.value", "mobilePhone"),
    ("photos.value", "avatar"),
];

/// Whether a native field is a boolean.
pub fn is_boolean(native: &str) -> bool {
    FIELDS
        .iter()
        .any(|f| f.name == native && matches!(f.kind, Kind::Bool | Kind::Flag))
}

/// The SCIM path of a native field, for error details.
pub fn scim_path(native: &str) -> String {
    match CORE_FIELDS.iter().find(|(_, n)| *n == native) {
        Some((path, _)) => (*path).to_owned(),
        None => format!("{EXTENSION}:{native}"),
    }
}

/// The `externalId` a bubbleId shows as: none for one the service made up.
pub fn external_id(bubble_id: &BubbleId) -> Option<&str> {
    Some(bubble_id.as_str()).filter(|b| !b.starts_with(MADE_UP_PREFIX))
}

/// A bubbleId for a user that has no `externalId`.
pub fn made_up_bubble_id() -> BubbleId {
    BubbleId::parse(&format!("{MADE_UP_PREFIX}{}", uuid::Uuid::new_v4()))
        .expect("a made-up bubbleId is valid")
}

/// The user as a SCIM resource; `base` is the service's SCIM base URL (`…/scim/v2`).
pub fn to_resource(user: &User, base: &str) -> Json {
    let native = user.to_json();
    let text = |name: &str| native[name].as_str().map(str::to_owned);
    let stored = |name: &str| {
        let i = crate::domain::fields::field_index(name).expect("a native field");
        user.profile.get(i).map(|v| v.to_json())
    };
    let mut r = Map::new();
    r.insert("id".into(), json!(user.id.to_string()));
    if let Some(e) = external_id(&user.bubble_id) {
        r.insert("externalId".into(), json!(e));
    }
    r.insert("userName".into(), json!(user.login_name()));
    let mut name = Map::new();
    for (sub, field) in [("givenName", "firstName"), ("familyName", "lastName")] {
        if let Some(v) = text(field) {
            name.insert(sub.into(), json!(v));
        }
    }
    if !name.is_empty() {
        r.insert("name".into(), Json::Object(name));
    }
    if let Some(v) = text("displayName") {
        r.insert("displayName".into(), json!(v));
    }
    if let Some(active) = stored("enabled") {
        r.insert("active".into(), active);
    }
    // One entry each: the service keeps one address, number and photo. `primary` is read
    // when sent (to pick the entry kept) but not returned: it could not be kept as sent.
    let one = |value: String, kind: &str| json!([{"value": value, "type": kind}]);
    if let Some(v) = text("email") {
        r.insert("emails".into(), one(v, "work"));
    }
    if let Some(v) = text("mobilePhone") {
        r.insert("phoneNumbers".into(), one(v, "mobile"));
    }
    if let Some(v) = text("avatar") {
        r.insert("photos".into(), one(v, "photo"));
    }
    let mut ext = Map::new();
    for (field, _) in EXTENSION_FIELDS {
        if let Some(v) = stored(field) {
            ext.insert(field.into(), v);
        }
    }
    let mut schemas = vec![json!(USER_SCHEMA)];
    if !ext.is_empty() {
        schemas.push(json!(EXTENSION));
        r.insert(EXTENSION.into(), Json::Object(ext));
    }
    r.insert("schemas".into(), Json::Array(schemas));
    let location = format!("{base}/Users/{}", user.id);
    r.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": user.created_at.to_rfc3339(),
            "lastModified": user.updated_at.to_rfc3339(),
            "version": etag(user.version),
            "location": location,
        }),
    );
    Json::Object(r)
}

/// The weak entity tag of a version: `W/"3"`.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// What a resource says of each writable native field: its value, or `null` where the
/// resource leaves it out. `userName` is required.
pub fn native_view(resource: &Json) -> Result<Map<String, Json>, ScimError> {
    let obj = resource.as_object().ok_or_else(|| {
        ScimError::bad(ScimType::InvalidSyntax, "a User resource is a JSON object")
    })?;
    let mut view = Map::new();
    let user_name = obj
        .get("userName")
        .and_then(Json::as_str)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, "userName is required"))?;
    view.insert("username".into(), json!(user_name));
    let name = obj.get("name").filter(|n| !n.is_null());
    if name.is_some_and(|n| !n.is_object()) {
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            "name is an object: {\"givenName\": …, \"familyName\": …}",
        ));
    }
    for (sub, field) in [("givenName", "firstName"), ("familyName", "lastName")] {
        let v = name.and_then(|n| n.get(sub)).cloned().unwrap_or(Json::Null);
        view.insert(field.into(), v);
    }
    view.insert(
        "displayName".into(),
        obj.get("displayName").cloned().unwrap_or(Json::Null),
    );
    view.insert("enabled".into(), boolean(obj.get("active")));
    view.insert("email".into(), pick(obj, "emails", Keep::Any("work"))?);
    view.insert(
        "mobilePhone".into(),
        pick(obj, "phoneNumbers", Keep::Only("mobile"))?,
    );
    view.insert("avatar".into(), pick(obj, "photos", Keep::Any("photo"))?);
    let ext = obj.get(EXTENSION);
    for (field, writable) in EXTENSION_FIELDS {
        if !writable {
            continue;
        }
        let v = ext
            .and_then(|e| e.get(field))
            .cloned()
            .unwrap_or(Json::Null);
        let v = if is_boolean(field) {
            boolean(Some(&v))
        } else {
            v
        };
        view.insert(field.into(), v);
    }
    Ok(view)
}

/// A boolean as IdPs send it: `true`, or Entra ID's `"True"`/`"False"` strings.
pub fn boolean(v: Option<&Json>) -> Json {
    match v {
        Some(Json::String(s)) if s.eq_ignore_ascii_case("true") => json!(true),
        Some(Json::String(s)) if s.eq_ignore_ascii_case("false") => json!(false),
        Some(v) => v.clone(),
        None => Json::Null,
    }
}

/// Which entry of a multi-valued attribute the service keeps.
#[derive(Clone, Copy)]
enum Keep {
    /// The primary entry, else the one of this type, else the first (an e-mail or a photo
    /// is one whatever its type).
    Any(&'static str),
    /// The primary or first entry of this type or of none: a work number is not a mobile
    /// one, so it is accepted and not kept.
    Only(&'static str),
}

/// The value of the multi-valued attribute `attr` the service keeps one of; a value of the
/// wrong shape, or two primary entries, is 400 `invalidValue`.
fn pick(obj: &Map<String, Json>, attr: &str, keep: Keep) -> Result<Json, ScimError> {
    let items = match obj.get(attr) {
        None | Some(Json::Null) => return Ok(Json::Null),
        Some(Json::Array(items)) if items.iter().all(Json::is_object) => items,
        Some(_) => {
            return Err(ScimError::bad(
                ScimType::InvalidValue,
                format!("{attr} is a list of objects like [{{\"value\": …, \"type\": …}}]"),
            ))
        }
    };
    let primary = |i: &&Json| boolean(i.get("primary")) == json!(true);
    if items.iter().filter(primary).count() > 1 {
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            format!("{attr}: at most one entry is primary"),
        ));
    }
    let of_type = |i: &&Json, kind: &str| {
        i.get("type")
            .and_then(Json::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(kind))
    };
    let chosen = match keep {
        Keep::Any(kind) => items
            .iter()
            .find(primary)
            .or_else(|| items.iter().find(|i| of_type(i, kind)))
            .or(items.first()),
        Keep::Only(kind) => {
            let kept = |i: &&Json| of_type(i, kind) || i.get("type").is_none_or(Json::is_null);
            let mut candidates = items.iter().filter(kept);
            let first = candidates.clone().next();
            candidates.find(primary).or(first)
        }
    };
    Ok(chosen
        .and_then(|i| i.get("value"))
        .cloned()
        .unwrap_or(Json::Null))
}

/// What the stored `user` says of each writable native field, as [`native_view`] reads a
/// body: the base a `PUT` or a create over a deleted user is compared with. Its `username`
/// is the stored one, not the name the resource shows, so a `userName` that is sent is kept.
pub fn stored_view(user: &User, base: &str) -> Result<Map<String, Json>, ScimError> {
    let mut view = native_view(&to_resource(user, base))?;
    view.insert("username".into(), json!(user.username()));
    Ok(view)
}

/// The native fields whose value differs from `before` to `after`: the merge patch that
/// makes the stored user say what `after` says, touching nothing else.
pub fn changes(before: &Map<String, Json>, after: &Map<String, Json>) -> Json {
    let changed: Map<String, Json> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Json::Object(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Intent, Patch, Plan};

    fn user(body: Json) -> User {
        let b = BubbleId::parse("ext-1").unwrap();
        let p = Patch::from_json(&body).unwrap();
        match Intent::Upsert(&b, &p).plan(None, None).unwrap() {
            Plan::Write(t) => t.new,
            Plan::Unchanged(_) => unreachable!(),
        }
    }

    #[test]
    fn a_user_reads_back_through_its_resource_unchanged() {
        let u = user(
            json!({"email": "a@x.io", "firstName": "Ann", "role": "admin",
            "mobilePhone": "0609", "isAlgorep": true, "displayName": "Ann A."}),
        );
        let r = to_resource(&u, "/scim/v2");
        assert_eq!(r["externalId"], "ext-1");
        assert_eq!(r["userName"], "a@x.io", "no username: the e-mail");
        assert_eq!(r["emails"][0], json!({"value": "a@x.io", "type": "work"}));
        assert_eq!(r["active"], true);
        assert_eq!(r[EXTENSION]["role"], "admin");
        assert_eq!(r["meta"]["version"], "W/\"1\"");
        let view = native_view(&r).unwrap();
        let again = native_view(&to_resource(&u, "/scim/v2")).unwrap();
        assert_eq!(changes(&view, &again), json!({}));
    }

    #[test]
    fn entra_booleans_as_strings_are_booleans() {
        assert_eq!(boolean(Some(&json!("False"))), json!(false));
        assert_eq!(boolean(Some(&json!("TRUE"))), json!(true));
    }

    fn picked(attr: &str, list: Json, keep: Keep) -> Result<Json, ScimError> {
        let obj = json!({ attr: list });
        pick(obj.as_object().unwrap(), attr, keep)
    }

    #[test]
    fn the_primary_or_work_email_is_the_one_kept() {
        let emails =
            json!([{"value": "h@x.io", "type": "home"}, {"value": "w@x.io", "type": "work"}]);
        assert_eq!(
            picked("emails", emails, Keep::Any("work")).unwrap(),
            json!("w@x.io")
        );
        let primary = json!([{"value": "h@x.io", "type": "home", "primary": true}, {"value": "w@x.io", "type": "work"}]);
        assert_eq!(
            picked("emails", primary, Keep::Any("work")).unwrap(),
            json!("h@x.io")
        );
    }

    #[test]
    fn only_a_mobile_or_untyped_number_is_kept_as_the_mobile_phone() {
        let work = json!([{"value": "1", "type": "work"}]);
        assert_eq!(
            picked("phoneNumbers", work, Keep::Only("mobile")).unwrap(),
            Json::Null
        );
        let both = json!([{"value": "1", "type": "work", "primary": true}, {"value": "2", "type": "Mobile"}]);
        assert_eq!(
            picked("phoneNumbers", both, Keep::Only("mobile")).unwrap(),
            json!("2")
        );
        let untyped = json!([{"value": "3"}]);
        assert_eq!(
            picked("phoneNumbers", untyped, Keep::Only("mobile")).unwrap(),
            json!("3")
        );
    }

    #[test]
    fn a_value_of_the_wrong_shape_or_two_primaries_is_refused() {
        for (attr, list) in [
            ("emails", json!("a@x.io")),
            ("emails", json!(["a@x.io"])),
            ("emails", json!({"value": "a@x.io"})),
            (
                "emails",
                json!([{"value": "a@x.io", "primary": true}, {"value": "b@x.io", "primary": "True"}]),
            ),
        ] {
            let e = picked(attr, list.clone(), Keep::Any("work")).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{list}");
        }
        let r = json!({"userName": "a", "name": "Ann Lee"});
        assert_eq!(
            native_view(&r).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
    }

    #[test]
    fn a_made_up_bubble_id_shows_no_external_id() {
        assert_eq!(external_id(&made_up_bubble_id()), None);
    }
}
