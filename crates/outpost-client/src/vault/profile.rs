//! Profile identity: which account on which server a local cache and its secrets belong to.

use std::fmt;

use sha2::{Digest, Sha256};
use url::Url;

use super::VaultError;

/// One account on one Outpost server.
///
/// Two profiles are the same when their normalised server URL and user are equal; everything
/// the vault stores (keychain entries, header) is keyed on the derived [`ProfileId`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Profile {
    server_url: String,
    user: String,
    id: ProfileId,
}

impl Profile {
    /// Normalises and checks both halves of the identity.
    ///
    /// The server URL must be `http` or `https`, name a host, and carry no credentials, query or
    /// fragment. Scheme and host are lower-cased (international names become punycode), a
    /// default port and trailing slashes are dropped, so `HTTPS://Desk.Example.com:443/` and
    /// `https://desk.example.com` are the same profile. The user (an e-mail address or a server
    /// user id) is trimmed and lower-cased, as the server does with e-mail addresses.
    pub fn new(server_url: &str, user: &str) -> Result<Profile, VaultError> {
        let server_url = normalise_server_url(server_url)?;
        let user = user.trim().to_lowercase();
        if user.is_empty() {
            return Err(invalid("the user is empty"));
        }
        if user.chars().any(char::is_control) {
            return Err(invalid("the user contains control characters"));
        }
        let id = ProfileId::derive(&server_url, &user);
        Ok(Profile {
            server_url,
            user,
            id,
        })
    }

    /// The normalised server URL, without a trailing slash.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The normalised (trimmed, lower-cased) user.
    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn id(&self) -> &ProfileId {
        &self.id
    }
}

/// A stable, filesystem-safe name for a [`Profile`]: 32 lower-case hex characters (the first
/// 128 bits of a SHA-256 over the normalised server URL and user). Safe as a directory name
/// and inside keychain account names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileId(String);

impl ProfileId {
    fn derive(server_url: &str, user: &str) -> ProfileId {
        let mut hash = Sha256::new();
        // Domain-separated and NUL-delimited: neither part can contain a NUL (URLs percent-encode
        // it, users reject control characters), so distinct pairs never hash the same input.
        hash.update(b"outpost-profile-v1\0");
        hash.update(server_url.as_bytes());
        hash.update(b"\0");
        hash.update(user.as_bytes());
        ProfileId(hex::encode(&hash.finalize()[..16]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn normalise_server_url(raw: &str) -> Result<String, VaultError> {
    let url = Url::parse(raw.trim())
        .map_err(|err| invalid(format!("the server URL {raw:?} is not a URL ({err})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "the server URL {raw:?} must start with https:// (or http://)"
        )));
    }
    let Some(host) = url.host_str() else {
        return Err(invalid(format!("the server URL {raw:?} names no host")));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "the server URL must not contain a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "the server URL {raw:?} must not have a query (?…) or fragment (#…)"
        )));
    }
    // `Url` already lower-cased the scheme and host and dropped the scheme's default port.
    let mut normalised = format!("{}://{host}", url.scheme());
    if let Some(port) = url.port() {
        normalised.push_str(&format!(":{port}"));
    }
    normalised.push_str(url.path().trim_end_matches('/'));
    Ok(normalised)
}

fn invalid(reason: impl Into<String>) -> VaultError {
    VaultError::InvalidProfile {
        reason: reason.into(),
    }
}
