//! SCIM discovery (RFC 7643 §5–7): what the service supports, its one resource type, and the
//! schemas of its attributes, written from the same tables the mapping uses.

use serde_json::{json, Value as Json};

use super::resource::{EXTENSION, EXTENSION_FIELDS, USER_SCHEMA};
use crate::domain::{Kind, FIELDS};
use crate::edge::contract::MAX_PAGE_SIZE;

const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// `GET /ServiceProviderConfig`.
pub fn service_provider_config(base: &str) -> Json {
    json!({
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_PAGE_SIZE},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "API key",
            "description": "Authorization: Bearer <an API key of the service>; read keys may GET, write keys may also write",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

/// The `User` resource type.
pub fn user_resource_type(base: &str) -> Json {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A person in the directory",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{"schema": EXTENSION, "required": false}],
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
    })
}

/// A list response of `resources`, all of them on one page.
pub fn list(resources: Vec<Json>) -> Json {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

fn attribute(name: &str, kind: &str, mutability: &str, extra: Json) -> Json {
    let mut a = json!({
        "name": name, "type": kind, "multiValued": false, "required": false,
        "caseExact": false, "mutability": mutability, "returned": "default", "uniqueness": "none",
        "description": name,
    });
    if let (Some(a), Some(extra)) = (a.as_object_mut(), extra.as_object()) {
        a.extend(extra.clone());
    }
    a
}

/// A multi-valued attribute of which the service keeps one entry, of type `kind`.
fn one_of(name: &str, kind: &str, value_type: &str) -> Json {
    let mut subs = vec![
        attribute("value", value_type, "readWrite", json!({})),
        attribute(
            "type",
            "string",
            "readWrite",
            json!({"canonicalValues": [kind]}),
        ),
    ];
    if value_type == "reference" {
        subs[0]["referenceTypes"] = json!(["external"]);
    }
    attribute(
        name,
        "complex",
        "readWrite",
        json!({"multiValued": true, "subAttributes": subs,
               "description": format!("{name}: the service keeps one, of type {kind}")}),
    )
}

/// The core User schema, as far as the service stores it.
pub fn user_schema(base: &str) -> Json {
    let attributes = vec![
        attribute(
            "userName",
            "string",
            "readWrite",
            json!({"required": true, "uniqueness": "server",
                   "description": "The username; for a user with none, its e-mail, else its externalId"}),
        ),
        attribute(
            "name",
            "complex",
            "readWrite",
            json!({"subAttributes": [
                attribute("givenName", "string", "readWrite", json!({})),
                attribute("familyName", "string", "readWrite", json!({})),
            ]}),
        ),
        attribute("displayName", "string", "readWrite", json!({})),
        attribute(
            "active",
            "boolean",
            "readWrite",
            json!({"required": true,
                   "description": "false disables the user: it stays, keeps its identity. Always assigned: true unless disabled, true when a create or replace leaves it out; removing it is 400 mutability"}),
        ),
        one_of("emails", "work", "string"),
        one_of("phoneNumbers", "mobile", "string"),
        one_of("photos", "photo", "reference"),
        attribute(
            "password",
            "string",
            "writeOnly",
            json!({"returned": "never", "description": "Accepted and ignored: never stored"}),
        ),
    ];
    schema(
        USER_SCHEMA,
        "User",
        "A person in the directory",
        attributes,
        base,
    )
}

/// The extension schema: every native field SCIM's core schema has no place for.
pub fn extension_schema(base: &str) -> Json {
    let attributes = EXTENSION_FIELDS
        .iter()
        .map(|(name, writable)| {
            let kind = match FIELDS.iter().find(|f| f.name == *name).map(|f| f.kind) {
                Some(Kind::Bool | Kind::Flag) => "boolean",
                Some(Kind::DateTime) => "dateTime",
                _ => "string",
            };
            let mutability = if *writable { "readWrite" } else { "readOnly" };
            attribute(name, kind, mutability, json!({}))
        })
        .collect();
    schema(
        EXTENSION,
        "UsersApiUser",
        "The directory's own fields of a user",
        attributes,
        base,
    )
}

fn schema(id: &str, name: &str, description: &str, attributes: Vec<Json>, base: &str) -> Json {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    })
}
