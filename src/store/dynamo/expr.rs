//! Update and condition expressions built as data: SET and REMOVE clauses, the conditions a
//! write depends on, and the `#name` / `:value` placeholders they use. Pure, so what a write
//! sends is unit-tested without DynamoDB.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// An `UpdateItem` (or a transaction's `Update`) under construction.
/// An attribute a write would set (`Some`) or remove (`None`), for
/// [`UpdateExpr::require_any_change`].
pub struct Change<'a> {
    /// The attribute's name.
    pub attr: &'a str,
    /// What it would become.
    pub value: Option<AttributeValue>,
    /// What it reads as while missing, if anything.
    pub unset_reads_as: Option<AttributeValue>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct UpdateExpr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    sets: Vec<String>,
    removes: Vec<String>,
    conditions: Vec<String>,
}

impl UpdateExpr {
    /// The placeholder of attribute `attr`, one per attribute however often it is used.
    pub fn name(&mut self, attr: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, a)| *a == attr) {
            return placeholder.clone();
        }
        let placeholder = format!("#a{}", self.names.len());
        self.names.insert(placeholder.clone(), attr.to_owned());
        placeholder
    }

    /// A new placeholder for `value`.
    pub fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// `SET attr = value`.
    pub fn set(&mut self, attr: &str, value: AttributeValue) {
        let (n, v) = (self.name(attr), self.value(value));
        self.sets.push(format!("{n} = {v}"));
    }

    /// `SET attr = attr + by`.
    pub fn add(&mut self, attr: &str, by: AttributeValue) {
        let (n, v) = (self.name(attr), self.value(by));
        self.sets.push(format!("{n} = {n} + {v}"));
    }

    /// `REMOVE attr`.
    pub fn remove(&mut self, attr: &str) {
        let n = self.name(attr);
        self.removes.push(n);
    }

    /// `SET attr = value`, or `REMOVE attr` for `None`.
    pub fn set_or_remove(&mut self, attr: &str, value: Option<AttributeValue>) {
        match value {
            Some(v) => self.set(attr, v),
            None => self.remove(attr),
        }
    }

    /// The write happens only if `attr` is `value` (`None`: absent).
    pub fn require_equal(&mut self, attr: &str, value: Option<AttributeValue>) {
        let n = self.name(attr);
        let condition = match value {
            Some(v) => format!("{n} = {}", self.value(v)),
            None => format!("attribute_not_exists({n})"),
        };
        self.conditions.push(condition);
    }

    /// The write happens only if `attr` exists.
    pub fn require_exists(&mut self, attr: &str) {
        let n = self.name(attr);
        self.conditions.push(format!("attribute_exists({n})"));
    }

    /// The write happens only if `present` exists or `attr` equals `value`.
    pub fn require_exists_or_equal(&mut self, present: &str, attr: &str, value: AttributeValue) {
        let (p, n, v) = (self.name(present), self.name(attr), self.value(value));
        self.conditions
            .push(format!("(attribute_exists({p}) OR {n} = {v})"));
    }

    /// The write happens only if `attr` is absent or less than `value`.
    pub fn require_absent_or_below(&mut self, attr: &str, value: AttributeValue) {
        let (n, v) = (self.name(attr), self.value(value));
        self.conditions
            .push(format!("(attribute_not_exists({n}) OR {n} < {v})"));
    }

    /// The write happens only if `attr` is less than `value`.
    pub fn require_below(&mut self, attr: &str, value: AttributeValue) {
        let (n, v) = (self.name(attr), self.value(value));
        self.conditions.push(format!("{n} < {v}"));
    }

    /// The write happens only if it changes at least one of `attrs`: an attribute differs
    /// from the value it would be set to, or (`None`) exists and would be removed. An
    /// attribute that reads as a default while missing (`enabled`), set to that default,
    /// changes only where it exists with another value.
    pub fn require_any_change(&mut self, attrs: Vec<Change<'_>>) {
        let parts: Vec<String> = attrs
            .into_iter()
            .map(|c| {
                let n = self.name(c.attr);
                match (c.value, c.unset_reads_as) {
                    (Some(v), Some(d)) if v == d => {
                        format!("attribute_exists({n}) AND {n} <> {}", self.value(v))
                    }
                    (Some(v), _) => format!("NOT {n} = {}", self.value(v)),
                    (None, _) => format!("attribute_exists({n})"),
                }
            })
            .collect();
        if !parts.is_empty() {
            self.conditions.push(format!("({})", parts.join(" OR ")));
        }
    }

    /// The update expression: `SET a, b REMOVE c`.
    pub fn update(&self) -> String {
        let mut out = String::new();
        if !self.sets.is_empty() {
            out.push_str("SET ");
            out.push_str(&self.sets.join(", "));
        }
        if !self.removes.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str("REMOVE ");
            out.push_str(&self.removes.join(", "));
        }
        out
    }

    /// The conditions joined by `AND`; `None` when the write depends on nothing.
    pub fn condition(&self) -> Option<String> {
        (!self.conditions.is_empty()).then(|| self.conditions.join(" AND "))
    }

    /// The `#name` placeholders, for `expression_attribute_names`.
    pub fn names(&self) -> HashMap<String, String> {
        self.names.clone()
    }

    /// The `:value` placeholders, for `expression_attribute_values`; `None` when there are
    /// none (DynamoDB refuses an empty map).
    pub fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn clauses_and_conditions_share_one_placeholder_per_attribute() {
        let mut e = UpdateExpr::default();
        e.set("email", s("a@x.io"));
        e.require_equal("email", Some(s("b@x.io")));
        e.add("version", AttributeValue::N("1".into()));
        e.remove("activeKey");
        e.require_equal("deletedAt", None);
        assert_eq!(
            e.update(),
            "SET #a0 = :v0, #a1 = #a1 + :v2 REMOVE #a2",
            "{e:?}"
        );
        assert_eq!(
            e.condition().as_deref(),
            Some("#a0 = :v1 AND attribute_not_exists(#a3)")
        );
        let names = e.names();
        assert_eq!(
            (names["#a0"].as_str(), names["#a3"].as_str()),
            ("email", "deletedAt")
        );
        assert_eq!(e.values().unwrap()[":v1"], s("b@x.io"));
    }

    #[test]
    fn a_remove_only_update_and_an_unconditional_one_are_well_formed() {
        let mut e = UpdateExpr::default();
        e.remove("a");
        assert_eq!(e.update(), "REMOVE #a0");
        assert_eq!((e.condition(), e.values()), (None, None));
    }
}
