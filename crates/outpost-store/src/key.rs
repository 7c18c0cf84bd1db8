//! The database key. Kept out of `Debug` output and wiped from memory when dropped.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// A raw 32-byte SQLCipher key (no KDF: the key is already random or passphrase-derived).
#[derive(Clone, PartialEq, Eq)]
pub struct DbKey([u8; 32]);

impl DbKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DbKey(bytes)
    }

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut key = DbKey([0; 32]);
        getrandom::fill(&mut key.0)?;
        Ok(key)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub(crate) fn apply(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        let pragma = Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", hex::encode(self.0)));
        conn.execute_batch(&pragma)
    }
}

impl Drop for DbKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for DbKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = DbKey::from_bytes([0xAB; 32]);
        assert_eq!(format!("{key:?}"), "DbKey(<redacted>)");
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(DbKey::generate().unwrap(), DbKey::generate().unwrap());
    }
}
