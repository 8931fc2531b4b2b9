//! Scopes: what a route needs, and the set a key holds.

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// GET routes.
    Read,
    /// Every write but erasure and keys.
    Write,
    /// `POST /users/{ref}/erase`.
    Erase,
    /// The `/keys` routes.
    Keys,
}

impl Scope {
    /// Every scope, in the order the API lists them.
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Erase, Scope::Keys];

    /// `read`, `write`, `erase` or `keys`, in any case.
    pub fn parse(s: &str) -> Option<Self> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.name().eq_ignore_ascii_case(s.trim()))
    }

    /// The scope's name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Erase => "erase",
            Scope::Keys => "keys",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The scopes a key holds. `write` includes `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope: what a bootstrap `write` key holds.
    pub const ALL: Scopes = Scopes(0b1111);
    /// `read` alone: a bootstrap `read` key.
    pub const READ: Scopes = Scopes(1);

    /// The set of `scopes`, with `read` added wherever `write` is.
    pub fn of(scopes: impl IntoIterator<Item = Scope>) -> Self {
        let mut bits = scopes.into_iter().fold(0, |bits, s| bits | s.bit());
        if bits & Scope::Write.bit() != 0 {
            bits |= Scope::Read.bit();
        }
        Scopes(bits)
    }

    /// Whether the set holds `scope`.
    pub fn holds(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `other` is in this set.
    pub fn covers(self, other: Scopes) -> bool {
        other.0 & !self.0 == 0
    }

    /// What a caller that says it means to use `asked` (`X-API-KEY-TYPE`) may do with
    /// these: `read` narrows to reading, `write` to reading and writing.
    pub fn narrowed_to(self, asked: Scope) -> Scopes {
        let allowed = match asked {
            Scope::Read => Scopes::READ,
            Scope::Write => Scopes::of([Scope::Write]),
            Scope::Erase | Scope::Keys => Scopes::of([asked]),
        };
        Scopes(self.0 & allowed.0)
    }

    /// The scopes held, in [`Scope::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.holds(*s))
    }

    /// The scopes' names.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Scope::name).collect()
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_includes_read_and_nothing_else() {
        let w = Scopes::of([Scope::Write]);
        assert_eq!(w.names(), ["read", "write"]);
        assert!(!w.holds(Scope::Erase) && !w.holds(Scope::Keys));
        assert!(Scopes::ALL.covers(w) && !w.covers(Scopes::ALL));
    }

    #[test]
    fn a_type_header_only_narrows() {
        assert_eq!(Scopes::ALL.narrowed_to(Scope::Read), Scopes::READ);
        assert_eq!(
            Scopes::ALL.narrowed_to(Scope::Write).names(),
            ["read", "write"]
        );
        assert!(Scopes::READ.narrowed_to(Scope::Write).covers(Scopes::READ));
        assert!(!Scopes::READ.narrowed_to(Scope::Write).holds(Scope::Write));
    }
}
