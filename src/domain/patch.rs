//! The merge patch that writes a user: per field, absent = unchanged, `null` = erase (for
//! a boolean with a default, `enabled`, back to that default), a value = set (JSON Merge
//! Patch, RFC 7396, on a flat object).

use serde_json::{Map, Value as Json};

use super::fields::{field_index, Value, FIELDS};
use super::ids::BubbleId;
use super::issue::FieldIssue;
use super::user::Profile;

/// A validated JSON Merge Patch for a user: per field absent, erase (`null`) or set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    slots: Vec<Option<Option<Value>>>,
    /// The `bubbleId` the body names, if it names one; it must match the user's.
    pub bubble_id: Option<BubbleId>,
}

/// Body fields the service owns: accepted and ignored (the seed's example sends them).
const IGNORED: [&str; 2] = ["createdAt", "updatedAt"];
/// Body fields a client may never write.
const FORBIDDEN: [&str; 4] = ["id", "version", "deletedAt", "erasedAt"];

impl Patch {
    /// Validates a request body; every problem found is reported, not just the first.
    pub fn from_json(body: &Json) -> Result<Self, Vec<FieldIssue>> {
        let Some(object) = body.as_object() else {
            return Err(vec![FieldIssue::new("body", "must be a JSON object")]);
        };
        Self::from_object(object)
    }

    fn from_object(object: &Map<String, Json>) -> Result<Self, Vec<FieldIssue>> {
        let mut patch = Patch {
            slots: vec![None; FIELDS.len()],
            bubble_id: None,
        };
        let mut issues = Vec::new();
        for (name, json) in object {
            let name = name.as_str();
            if FORBIDDEN.contains(&name) {
                issues.push(FieldIssue::new(
                    name,
                    "is owned by the service and cannot be written",
                ));
            } else if IGNORED.contains(&name) {
                continue;
            } else if name == "bubbleId" {
                match json.as_str().map(BubbleId::parse) {
                    Some(Ok(b)) => patch.bubble_id = Some(b),
                    Some(Err(why)) => issues.push(FieldIssue::new(name, why)),
                    None => issues.push(FieldIssue::new(name, "must be a string")),
                }
            } else if let Some(i) = field_index(name) {
                match json {
                    // `null` on a boolean with a default restores the default: what the
                    // field then reads as, so a `null` on an enabled user changes nothing.
                    Json::Null => patch.slots[i] = Some(Profile::default().reads_as(i)),
                    _ => match FIELDS[i].parse(json) {
                        Ok(v) => patch.slots[i] = Some(Some(v)),
                        Err(why) => issues.push(FieldIssue::new(name, why)),
                    },
                }
            } else {
                issues.push(FieldIssue::new(truncate(name), "is not a field of a user"));
            }
        }
        if issues.is_empty() {
            Ok(patch)
        } else {
            Err(issues)
        }
    }

    /// The fields the patch touches: `Some(value)` sets, `None` erases.
    pub fn changes(&self) -> impl Iterator<Item = (usize, Option<&Value>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|v| (i, v.as_ref())))
    }

    /// What the patch does to field `i`: `None` leaves it, `Some(None)` erases it,
    /// `Some(Some(v))` sets it.
    pub fn change(&self, i: usize) -> Option<Option<&Value>> {
        self.slots.get(i)?.as_ref().map(Option::as_ref)
    }

    /// Makes the patch set field `i` to `value` (`None`: erase it).
    pub fn set(&mut self, i: usize, value: Option<Value>) {
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = Some(value);
        }
    }

    /// The profile after merging this patch into `profile`.
    pub fn apply(&self, profile: &Profile) -> Profile {
        let mut out = profile.clone();
        for (i, v) in self.changes() {
            out.set(i, v.cloned());
        }
        out
    }
}

fn truncate(name: &str) -> String {
    name.chars().take(64).collect()
}
