//! The filters of `GET /users`, one at a time: the change feed, a find by a unique field or
//! by id, or the users of a relation. One type parses them from the query and describes
//! them in the route table, so a filter is declared once.

use serde_json::{json, Value};

use super::params::{ref_schema, Param};
use crate::domain::{FieldIssue, Relation, UniqueField};
use crate::edge::error::ApiError;
use crate::edge::query::Params;

/// Which filter a query uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// `updatedFrom`: the change feed.
    UpdatedFrom,
    /// `email` or `username`: the active user holding it.
    Unique(UniqueField),
    /// `id`: the active user with this id or bubbleId.
    Id,
    /// `producerId`, `sellerId`, `originId`: the active users of a relation.
    Related(Relation),
}

impl Filter {
    /// Every filter, in the order the route table lists them.
    pub const ALL: [Filter; 7] = [
        Filter::UpdatedFrom,
        Filter::Unique(UniqueField::Email),
        Filter::Unique(UniqueField::Username),
        Filter::Id,
        Filter::Related(Relation::Producer),
        Filter::Related(Relation::Seller),
        Filter::Related(Relation::Origin),
    ];

    /// The query parameter and its description.
    pub const fn param(self) -> Param {
        const UUID: fn() -> Value = || json!({"type": "string", "format": "uuid"});
        match self {
            Filter::UpdatedFrom => Param {
                name: "updatedFrom",
                location: "query",
                schema: || json!({"type": "string", "anyOf": [{"format": "date-time"}, {"format": "date"}]}),
                doc: "Switches to the change feed: every user, deleted ones included, with updatedAt >= this (RFC 3339 or YYYY-MM-DD, years 1970 to 9999).",
            },
            Filter::Unique(UniqueField::Email) => Param {
                name: UniqueField::Email.name(),
                location: "query",
                schema: || json!({"type": "string", "maxLength": 254}),
                doc: "Find the active user with this e-mail address, compared by its canonical key (NFC, case-folded, IDNA domain): a list of 0 or 1. At most 2 storage requests. One filter at a time.",
            },
            Filter::Unique(UniqueField::Username) => Param {
                name: UniqueField::Username.name(),
                location: "query",
                schema: || json!({"type": "string", "maxLength": 128}),
                doc: "Find the active user with this username, compared by its canonical key (RFC 8265 UsernameCaseMapped, case-folded): a list of 0 or 1. One filter at a time.",
            },
            Filter::Id => Param {
                name: "id",
                location: "query",
                schema: ref_schema,
                doc: "Find the active user with this id or bubbleId (as {ref}): a list of 0 or 1. One filter at a time.",
            },
            Filter::Related(Relation::Producer) => Param {
                name: Relation::Producer.field(),
                location: "query",
                schema: UUID,
                doc: "The active users of this producer, in creation order, paginated like the list (totalItems null). One filter at a time.",
            },
            Filter::Related(Relation::Seller) => Param {
                name: Relation::Seller.field(),
                location: "query",
                schema: UUID,
                doc: "The active users of this seller, in creation order, paginated like the list (totalItems null). One filter at a time.",
            },
            Filter::Related(Relation::Origin) => Param {
                name: Relation::Origin.field(),
                location: "query",
                schema: UUID,
                doc: "The active users of this origin, in creation order, paginated like the list (totalItems null). One filter at a time.",
            },
        }
    }

    /// The query parameter's name.
    pub const fn name(self) -> &'static str {
        self.param().name
    }

    /// The filter the query uses, if any, with its raw value; two are a 400 naming both.
    pub fn parse(params: &Params) -> Result<Option<(Filter, &str)>, ApiError> {
        let used: Vec<(Filter, &str)> = Filter::ALL
            .into_iter()
            .filter_map(|f| params.get(f.name()).map(|v| (f, v)))
            .collect();
        if used.len() > 1 {
            let issues = used
                .iter()
                .map(|(f, _)| FieldIssue::new(f.name(), "only one filter at a time"))
                .collect();
            return Err(ApiError::BadRequest(issues));
        }
        Ok(used.into_iter().next())
    }
}

/// The filters' parameters, for the route table.
pub const PARAMS: [Param; Filter::ALL.len()] = {
    let mut out = [Filter::UpdatedFrom.param(); Filter::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = Filter::ALL[i].param();
        i += 1;
    }
    out
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_has_its_own_parameter() {
        let mut names: Vec<&str> = Filter::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Filter::ALL.len());
        for r in Relation::ALL {
            assert_eq!(Filter::Related(r).name(), r.field());
        }
        for u in UniqueField::ALL {
            assert_eq!(Filter::Unique(u).name(), u.name());
        }
    }
}
