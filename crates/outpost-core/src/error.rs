//! The one list of error codes that cross a boundary: the server's `{code, message}` bodies, the
//! per-mutation push rejections, and the desktop's `{code, message}` errors for the UI.
//!
//! Programs (the client, the store, the shell, the UI) match these variants, never strings. The
//! UI's `ErrorCode` union is generated from this type, and its tests require an `error.<code>`
//! text in every language for each variant, so a new code cannot reach a user untranslated.

use serde::{Deserialize, Serialize};

/// Declares the enum and its `ALL` list from one list of variants; the one after `;` receives
/// every code this build does not know.
macro_rules! error_codes {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident,)+
        ;
        $(#[$ometa:meta])* $other:ident $(,)?
    }) => {
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            $(#[$ometa])*
            #[serde(other)]
            $other,
        }

        impl $name {
            /// Every variant, `Unknown` last.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+ $name::$other];
        }
    };
}

error_codes! {
    /// A stable, machine-readable error code (snake_case on the wire).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    #[serde(rename_all = "snake_case")]
    pub enum ErrorCode {
        // The server's answers.
        /// The request was malformed: bad JSON, a wrong type, a missing field, a bad parameter.
        BadRequest,
        /// No valid access token.
        Unauthenticated,
        /// The e-mail or password is wrong.
        BadCredentials,
        /// The account uses TOTP and the sign-in carried no (or a wrong) code.
        TotpRequired,
        /// The organisation requires two-step sign-in and the user has not set it up: their
        /// session may only enrol an authenticator (TOTP setup and enable) until they do.
        TotpSetupRequired,
        /// The refresh token's session was ended (reuse, sign-out, a disabled user).
        SessionRevoked,
        /// The role or origin does not allow this (also a refused intent).
        Forbidden,
        /// The thing asked for does not exist.
        NotFound,
        /// The request conflicts with the server's state (e.g. a device id of another user).
        Conflict,
        /// The body is larger than the server accepts.
        PayloadTooLarge,
        /// Too many attempts in a short time.
        RateLimited,
        /// The request did not arrive in time (a stalled body), or the server could not answer
        /// it in time.
        Timeout,
        /// The server failed; its log has the details.
        Internal,

        // Per-mutation push rejections (`Rejection::code` and the server's own).
        /// The ticket does not exist or is not visible to the user.
        TicketNotFound,
        /// A ticket with this id exists already.
        TicketExists,
        /// The status machine does not allow the change.
        IllegalTransition,
        /// A field's value is not acceptable.
        Invalid,
        /// A risk action lacks the identity verification it needs.
        VerificationRequired,
        /// The account's state does not allow the risk action.
        RiskActionRefused,
        /// A device skipped a mutation id; it must push in order.
        MutationGap,
        /// A file may not be attached: its kind is not accepted, its name contradicts its
        /// content, or it is too large.
        FileRefused,
        /// An uploaded file's bytes do not have the SHA-256 the upload announced.
        HashMismatch,

        // The client's transport.
        /// The server answered with an error status but no `{code, message}` body (a proxy).
        Http,

        // The desktop (Desk errors and the shell's own).
        /// No profile is signed in.
        NotSignedIn,
        /// The profile is locked.
        Locked,
        /// The system keychain is missing or locked; a passphrase can be used instead.
        NoKeychain,
        /// The passphrase does not open the vault.
        WrongPassphrase,
        /// The vault (keychain or passphrase file) failed.
        Vault,
        /// The server cannot be reached.
        Offline,
        /// The server refused a request (the message has its reason).
        Server,
        /// The local cache refused a change.
        Rejected,
        /// The key does not open the local cache.
        WrongKey,
        /// The local cache failed.
        Cache,
        /// The session ended; the user must sign in again.
        SignInAgain,
        /// Synchronisation failed.
        Sync,
        /// Local changes have not reached the server.
        UnsentChanges,
        /// The ticket is not in the local cache.
        UnknownTicket,
        /// A file or directory could not be read or written.
        Io,
        /// A file or value is too large for the desktop to pass on.
        TooLarge,
        ;
        /// A code this build does not know (a newer server's): read as this, never a failure.
        Unknown,
    }
}

impl std::fmt::Display for ErrorCode {
    /// The wire name (`totp_required`), for logs and terminals.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => f.write_str(&name),
            _ => Err(std::fmt::Error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_on_the_wire_and_read_back() {
        for code in ErrorCode::ALL {
            let name = code.to_string();
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code:?} is {name:?}"
            );
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        }
        assert_eq!(ErrorCode::TotpRequired.to_string(), "totp_required");
        assert_eq!(
            ErrorCode::IllegalTransition.to_string(),
            "illegal_transition"
        );
    }

    #[test]
    fn a_code_from_a_newer_server_reads_as_unknown() {
        let body: crate::sync::ErrorBody =
            serde_json::from_str(r#"{"code":"quota_exceeded","message":"over quota"}"#).unwrap();
        assert_eq!(body.code, ErrorCode::Unknown);
        assert_eq!(body.message, "over quota");
        assert_eq!(
            serde_json::from_str::<ErrorCode>(r#""rate_limited""#).unwrap(),
            ErrorCode::RateLimited
        );
        // Not a string at all is still malformed, not "unknown".
        assert!(serde_json::from_str::<ErrorCode>("42").is_err());
    }

    #[test]
    fn every_variant_is_listed_once() {
        let mut names: Vec<String> = ErrorCode::ALL.iter().map(ToString::to_string).collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
        assert_eq!(ErrorCode::ALL.last(), Some(&ErrorCode::Unknown));
    }
}
