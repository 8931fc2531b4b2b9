//! What `OIDC_*` configures: whose tokens are accepted and how a token names its user.

use crate::domain::fields::field_index;

/// How a token's claims name the user it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matching {
    /// The claim `claim` (default `sub`) is the user's `bubbleId`.
    BubbleId {
        /// The claim that holds it.
        claim: String,
    },
    /// The `email` claim, by the canonical e-mail key, only when `email_verified` is true.
    Email,
}

/// The accepted identity provider (`OIDC_ISSUER` and the rest).
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `OIDC_ISSUER`: the `iss` every token must carry, exactly (Auth0's ends in `/`).
    pub issuer: String,
    /// `OIDC_AUDIENCE`: the `aud` every token must hold (comma-separated: any of them).
    pub audience: Vec<String>,
    /// `OIDC_JWKS_URL`: the issuer's keys; when unset, found in its discovery document.
    pub jwks_url: Option<String>,
    /// `OIDC_MATCH` (`bubbleId` or `email`) and `OIDC_CLAIM`.
    pub matching: Matching,
    /// `OIDC_SCOPE`: a scope `PATCH /me` needs in the token's `scope` or `scp`; none by default.
    pub scope: Option<String>,
    /// `SELF_EDITABLE`: the user fields `PATCH /me` may change.
    pub self_editable: Vec<&'static str>,
}

/// The fields a person may edit on their own record unless `SELF_EDITABLE` says otherwise.
pub const DEFAULT_SELF_EDITABLE: &str =
    "firstName,lastName,displayName,language,mobilePhone,avatar";

/// Fields no token may change, whatever `SELF_EDITABLE` says: identity, organizations,
/// privileges and what the directory's owner attests.
const NEVER_SELF_EDITABLE: [&str; 13] = [
    "email",
    "username",
    "producerId",
    "producerBubbleId",
    "sellerId",
    "sellerBubbleId",
    "originId",
    "originBubbleId",
    "role",
    "status",
    "isAlgorep",
    "isMailConfirmed",
    "enabled",
];

impl OidcConfig {
    /// Reads `OIDC_*` and `SELF_EDITABLE` through `var`; `None` when `OIDC_ISSUER` is unset.
    pub fn read(var: &impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let Some(issuer) = var("OIDC_ISSUER") else {
            return Ok(None);
        };
        let audience: Vec<String> = var("OIDC_AUDIENCE")
            .ok_or("OIDC_AUDIENCE is required with OIDC_ISSUER")?
            .split(',')
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        if audience.is_empty() {
            return Err("OIDC_AUDIENCE names no audience".into());
        }
        let jwks_url = var("OIDC_JWKS_URL");
        for url in std::iter::once(&issuer).chain(jwks_url.as_ref()) {
            if !url.starts_with("https://") && !is_loopback(url) {
                return Err(format!(
                    "{url}: the issuer and its keys are fetched over https"
                ));
            }
        }
        let matching = match var("OIDC_MATCH").as_deref().unwrap_or("bubbleId") {
            "bubbleId" => Matching::BubbleId {
                claim: var("OIDC_CLAIM").unwrap_or_else(|| "sub".into()),
            },
            "email" => Matching::Email,
            other => return Err(format!("OIDC_MATCH must be bubbleId or email, not {other}")),
        };
        let editable = var("SELF_EDITABLE").unwrap_or_else(|| DEFAULT_SELF_EDITABLE.into());
        let mut self_editable = Vec::new();
        for name in editable.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let i = field_index(name).ok_or(format!("SELF_EDITABLE: no field {name}"))?;
            if NEVER_SELF_EDITABLE.contains(&name) {
                return Err(format!("SELF_EDITABLE: {name} is not a person's to change"));
            }
            self_editable.push(crate::domain::FIELDS[i].name);
        }
        Ok(Some(Self {
            issuer,
            audience,
            jwks_url,
            matching,
            scope: var("OIDC_SCOPE"),
            self_editable,
        }))
    }

    /// Where the issuer's keys are: `OIDC_JWKS_URL`, or its discovery document's `jwks_uri`.
    pub fn discovery_url(&self) -> String {
        let base = self.issuer.trim_end_matches('/');
        format!("{base}/.well-known/openid-configuration")
    }
}

/// Whether `url` is plain HTTP on this machine (a local issuer, as the tests run).
fn is_loopback(url: &str) -> bool {
    ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
        .iter()
        .any(|p| url.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<OidcConfig>, String> {
        OidcConfig::read(&|k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn an_issuer_needs_an_audience_https_and_editable_fields_that_exist() {
        assert!(read(&[]).unwrap().is_none());
        let iss = ("OIDC_ISSUER", "https://id.example.com/");
        assert!(read(&[iss]).is_err(), "no audience");
        let aud = ("OIDC_AUDIENCE", "app");
        let c = read(&[iss, aud]).unwrap().unwrap();
        assert_eq!(c.issuer, "https://id.example.com/");
        assert_eq!(
            c.discovery_url(),
            "https://id.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            c.matching,
            Matching::BubbleId {
                claim: "sub".into()
            }
        );
        assert_eq!(c.self_editable.len(), 6);
        assert!(read(&[("OIDC_ISSUER", "http://id.example.com"), aud]).is_err());
        assert!(read(&[("OIDC_ISSUER", "http://127.0.0.1:9/"), aud]).is_ok());
        assert!(read(&[iss, aud, ("SELF_EDITABLE", "email")]).is_err());
        assert!(read(&[iss, aud, ("SELF_EDITABLE", "nope")]).is_err());
        assert!(read(&[iss, aud, ("OIDC_MATCH", "phone")]).is_err());
    }
}
