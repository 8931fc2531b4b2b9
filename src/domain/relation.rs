//! The relations a user can be listed by: its producer, seller and origin.

/// A relation of a user to another record, by that record's UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// `producerId`.
    Producer,
    /// `sellerId`.
    Seller,
    /// `originId`.
    Origin,
}

impl Relation {
    /// Every relation.
    pub const ALL: [Relation; 3] = [Relation::Producer, Relation::Seller, Relation::Origin];

    /// The user field that holds it, which is also its query parameter.
    pub const fn field(self) -> &'static str {
        match self {
            Relation::Producer => "producerId",
            Relation::Seller => "sellerId",
            Relation::Origin => "originId",
        }
    }

    /// The relation a user field holds, if it holds one.
    pub fn of_field(field: &str) -> Option<Relation> {
        Relation::ALL.into_iter().find(|r| r.field() == field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_relation_is_a_uuid_field_of_the_user() {
        for r in Relation::ALL {
            let i = crate::domain::fields::field_index(r.field()).expect("a user field");
            assert_eq!(crate::domain::FIELDS[i].kind, crate::domain::Kind::Uuid);
            assert_eq!(Relation::of_field(r.field()), Some(r));
        }
    }
}
