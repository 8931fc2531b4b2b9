//! What counts as the same e-mail or username: canonical keys, never raw strings, so that
//! two spellings a person cannot tell apart are one identity (PRECIS, RFC 8264/8265; IDNA).
//!
//! The service stores the NFC form of what was sent; the keys here are what uniqueness
//! compares (the guard items are keyed by them).

use std::borrow::Cow;

use precis_core::profile::Profile;
use precis_core::{IdentifierClass, StringClass};
use precis_profiles::UsernameCaseMapped;
use unicode_normalization::UnicodeNormalization;

const EMAIL_WHY: &str = "must be an e-mail address like name@example.com";

/// A username as it is stored (NFC), or why it is refused: RFC 8265 `UsernameCaseMapped`
/// must accept it, so spaces, controls, and invisible and bidi characters are refused.
pub fn parse_username(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    if n == 0 || n > 128 {
        return Err("must be 1-128 characters".into());
    }
    UsernameCaseMapped::new().enforce(s).map_err(|_| {
        "must be letters, digits and symbols, without spaces, controls or invisible characters"
    })?;
    Ok(s.nfc().collect())
}

/// A username's key: RFC 8265 `UsernameCaseMapped` (width mapping, NFC), then Unicode case
/// folding. A value stored before these rules that the profile refuses is folded as it is.
pub fn username_key(stored: &str) -> String {
    let mapped = UsernameCaseMapped::new()
        .enforce(stored)
        .unwrap_or(Cow::Borrowed(stored));
    fold(&mapped)
}

/// Caseless matching as the Unicode Standard recommends it (§3.13): full case folding, then
/// NFC. Lowercasing is context-sensitive (a final `Σ` becomes `ς`, elsewhere `σ`), so two
/// spellings of one name could key apart; folding maps `Σ`, `σ` and `ς` alike.
fn fold(s: &str) -> String {
    caseless::default_case_fold_str(s).nfc().collect()
}

/// An e-mail address as it is stored (NFC), or why it is refused. Every code point must
/// be one PRECIS `IdentifierClass` allows (no spaces, controls, invisible or bidi
/// characters), and the domain must convert to ASCII (IDNA).
pub fn parse_email(s: &str) -> Result<String, String> {
    if s.len() > 254 {
        return Err(EMAIL_WHY.into());
    }
    if IdentifierClass::default().allows(s).is_err() {
        return Err(
            "must not contain spaces, controls or invisible characters (an e-mail address)".into(),
        );
    }
    let (local, domain) = s.rsplit_once('@').ok_or(EMAIL_WHY)?;
    let ascii = idna::domain_to_ascii(domain).map_err(|_| EMAIL_WHY)?;
    let domain_ok = ascii.contains('.')
        && !ascii.starts_with('.')
        && !ascii.ends_with('.')
        && !ascii.contains("..");
    if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
        return Err(EMAIL_WHY.into());
    }
    Ok(s.nfc().collect())
}

/// An e-mail address's key: the local part NFC and case-folded, the domain in its ASCII
/// (IDNA) form, lowercased, so `bücher.de` and `xn--bcher-kva.de` are one domain.
pub fn email_key(stored: &str) -> String {
    let Some((local, domain)) = stored.rsplit_once('@') else {
        return fold(stored);
    };
    let local = fold(&local.nfc().collect::<String>());
    let domain = idna::domain_to_ascii(domain)
        .unwrap_or_else(|_| domain.to_owned())
        .to_lowercase();
    format!("{local}@{domain}")
}

/// A field whose value two active users may not share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UniqueField {
    /// `email`.
    Email,
    /// `username`.
    Username,
}

impl UniqueField {
    /// Both unique fields.
    pub const ALL: [UniqueField; 2] = [UniqueField::Email, UniqueField::Username];

    /// The JSON name, which a 409 names.
    pub const fn name(self) -> &'static str {
        match self {
            UniqueField::Email => "email",
            UniqueField::Username => "username",
        }
    }

    /// The canonical key of a stored value of this field.
    pub fn key(self, stored: &str) -> String {
        match self {
            UniqueField::Email => email_key(stored),
            UniqueField::Username => username_key(stored),
        }
    }

    /// A value as it is stored, or why it is refused.
    pub fn parse(self, s: &str) -> Result<String, String> {
        match self {
            UniqueField::Email => parse_email(s),
            UniqueField::Username => parse_username(s),
        }
    }
}

/// A unique value an active user holds: the field and its canonical key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Guard {
    /// Which field.
    pub field: UniqueField,
    /// The canonical key that two active users may not share.
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> String {
        email_key(&parse_email(s).unwrap())
    }

    fn username(s: &str) -> String {
        username_key(&parse_username(s).unwrap())
    }

    #[test]
    fn spellings_a_person_cannot_tell_apart_are_one_email() {
        assert_eq!(email("Café@Example.com"), email("cafe\u{301}@example.COM"));
        assert_eq!(email("anna@bücher.de"), email("Anna@xn--bcher-kva.de"));
        assert_eq!(email("anna@BÜCHER.de"), "anna@xn--bcher-kva.de");
        assert_ne!(email("anna@bucher.de"), email("anna@bücher.de"));
    }

    #[test]
    fn invisible_and_control_characters_are_refused_in_emails() {
        for bad in [
            "bob\u{200B}@x.io",
            "bob@x\u{200B}.io",
            "\u{202E}bob@x.io",
            "\u{FEFF}bob@x.io",
            "bob @x.io",
            "bob\u{7}@x.io",
            "bob@x",
            "@x.io",
            "bob",
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_email("o'neil+tag@example.co.uk").is_ok());
    }

    #[test]
    fn usernames_compare_width_mapped_normalised_and_case_folded() {
        assert_eq!(username("Ｂｏｂ"), username("bob"), "full-width letters");
        assert_eq!(username("Zoë"), username("zoe\u{308}"));
        assert_eq!(
            parse_username("zoe\u{308}").unwrap(),
            "zoë",
            "stored as NFC"
        );
        for bad in ["bob\u{200B}", "b\u{202E}ob", "bo b", "\u{FEFF}bob", ""] {
            assert!(parse_username(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn every_spelling_of_sigma_is_one_identity() {
        let emails = ["ΟΔΟΣ1@x.io", "οδος1@x.io", "οδοσ1@x.io"].map(email);
        assert!(emails.iter().all(|k| *k == emails[0]), "{emails:?}");
        let names = ["ΟΔΟΣ", "οδος", "οδοσ", "Οδος"].map(username);
        assert!(names.iter().all(|k| *k == names[0]), "{names:?}");
    }

    #[test]
    fn a_value_stored_before_the_rules_still_has_a_key() {
        assert_eq!(username_key("Bob\u{200B}"), "bob\u{200B}");
        assert_eq!(email_key("Bob@X.io"), "bob@x.io");
    }
}
