//! What the commands of `command_table.rs` are made of: the names and helpers their bodies use
//! ([`prelude`]), the channel type ([`Events`]), the name list ([`COMMAND_NAMES`]), and the
//! readers the library needs: with `dev-bridge`, [`dispatch`] (the development bridge serves
//! commands through it); with `ts`, [`command_specs`] (the TypeScript generator reads it). The
//! desktop binary expands the same table into its `#[tauri::command]`s (main.rs).

use std::sync::{Mutex, PoisonError};

use outpost_client::desk::{DeskError, ErrorDto, Unlock};
use outpost_core::error::ErrorCode;
use serde::Deserialize;

/// Everything a command body may name. Each expansion of the table imports it.
pub mod prelude {
    pub use super::{
        check_key_lookups, check_size, dto, log_startup_mark, preview_image, unlock_with, Events,
        StartupMark, MAX_HITS, MAX_PAGE,
    };
    pub use crate::shell::Shell;
    pub use outpost_client::admin::{
        AddedUser, AdminUser, CreatedIntakeKey, Credentials, IntakeKeyInfo, InviteKind, MonthDay,
        NewUser, UserPatch,
    };
    pub use outpost_client::api::TotpSecret;
    pub use outpost_client::app::{DeskEvent, Settings, StartInfo};
    pub use outpost_client::attachments::ImagePreview;
    pub use outpost_client::desk::{AssigneeOption, Desk, ErrorDto, Me};
    pub use outpost_client::supervisor::{
        check_export, ChainCheck, ExportCheck, ExportFormat, SavedExport, SavedFile, VerifyProgress,
    };
    pub use outpost_client::sync::SyncStatus;
    pub use outpost_core::audit_export::{AuditPage, AuditQuery};
    pub use outpost_core::model::{Department, Status, Template, TicketId, User, UserId};
    pub use outpost_core::rules::{Classification, RuleSet};
    pub use outpost_core::settings::SettingsDoc;
    pub use outpost_core::sla::{BusinessCalendar, SlaSettings};
    pub use outpost_core::sync::Mutation;
    pub use outpost_store::{
        AttachmentView, CalendarEffect, ConflictRecord, Directory, LocalChange, OrgSettingsView,
        QueueCursor, QueueFilter, QueuePage, QueueSort, Report, ReportParams, SearchHit,
        SyncProblem, TicketDetail,
    };
}

/// The largest queue page the UI may ask for (it asks for ~100 rows at a time).
pub const MAX_PAGE: u32 = 500;
/// The most search hits per query.
pub const MAX_HITS: u32 = 200;
/// The largest file the page may hand over for saving (a report table as CSV) or checking (an
/// audit export), in bytes.
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;
/// The most ids one `ticket_keys` call may look up (the audit table asks per page).
pub const MAX_KEY_LOOKUPS: usize = 1_000;

pub fn dto(e: DeskError) -> ErrorDto {
    ErrorDto::from(&e)
}

pub fn unlock_with(passphrase: Option<String>) -> Unlock {
    passphrase.map_or(Unlock::Keychain, Unlock::Passphrase)
}

fn too_large(message: String) -> ErrorDto {
    ErrorDto {
        code: ErrorCode::TooLarge,
        message,
    }
}

/// Refuses file contents larger than [`MAX_FILE_BYTES`].
pub fn check_size(text: &str) -> Result<(), ErrorDto> {
    if text.len() > MAX_FILE_BYTES {
        return Err(too_large(format!(
            "the file is larger than {} MiB",
            MAX_FILE_BYTES >> 20
        )));
    }
    Ok(())
}

/// Refuses more than [`MAX_KEY_LOOKUPS`] ids.
pub fn check_key_lookups<T>(ids: &[T]) -> Result<(), ErrorDto> {
    if ids.len() > MAX_KEY_LOOKUPS {
        return Err(too_large(format!(
            "at most {MAX_KEY_LOOKUPS} tickets per lookup"
        )));
    }
    Ok(())
}

/// Decodes an image attachment into a PNG preview, off the async threads.
pub async fn preview_image(filename: String, data: Vec<u8>) -> Result<ImagePreviewDto, ErrorDto> {
    tokio::task::spawn_blocking(move || crate::preview::preview(&filename, &data))
        .await
        .map_err(|e| ErrorDto {
            code: ErrorCode::Internal,
            message: format!("the preview failed: {e}"),
        })?
        .map_err(|e| e.dto())
}

type ImagePreviewDto = outpost_client::attachments::ImagePreview;

/// The arguments of a raw-body command, from its `x-outpost-<kebab-name>` headers
/// (percent-encoded UTF-8), as the JSON object a command's arguments are read from (camelCase
/// keys). Other headers are ignored.
pub fn args_from_headers<'a>(
    headers: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> Result<serde_json::Value, ErrorDto> {
    let bad = |message: String| ErrorDto {
        code: ErrorCode::BadRequest,
        message,
    };
    let mut args = serde_json::Map::new();
    for (name, value) in headers {
        let Some(kebab) = name
            .to_ascii_lowercase()
            .strip_prefix("x-outpost-")
            .map(str::to_owned)
        else {
            continue;
        };
        let value = percent_encoding::percent_decode(value)
            .decode_utf8()
            .map_err(|_| bad(format!("the {name} header is not percent-encoded UTF-8")))?;
        let mut key = String::with_capacity(kebab.len());
        let mut upper = false;
        for c in kebab.chars() {
            if c == '-' {
                upper = true;
            } else if upper {
                key.extend(c.to_uppercase());
                upper = false;
            } else {
                key.push(c);
            }
        }
        args.insert(key, serde_json::Value::String(value.into_owned()));
    }
    Ok(serde_json::Value::Object(args))
}

/// A raw-body command called with JSON instead of bytes.
pub fn not_raw(command: &str) -> ErrorDto {
    ErrorDto {
        code: ErrorCode::BadRequest,
        message: format!("`{command}` takes the file's bytes as the raw body of the call"),
    }
}

/// Where a command's channel messages go: a Tauri `Channel` in the desktop, the response stream
/// in the development bridge.
pub struct Events<T>(Box<dyn Fn(T) -> bool + Send + Sync>);

impl<T> Events<T> {
    /// `send` answers whether the message could be delivered (false once nobody listens).
    pub fn new(send: impl Fn(T) -> bool + Send + Sync + 'static) -> Events<T> {
        Events(Box::new(send))
    }

    /// Sends a message; false when the listener went away (a reloaded page).
    pub fn send(&self, message: T) -> bool {
        (self.0)(message)
    }
}

/// A start-up milestone the UI reports: the sign-in form, or the queue's first rows on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum StartupMark {
    SigninReady,
    QueueReady,
}

impl StartupMark {
    fn as_str(self) -> &'static str {
        match self {
            StartupMark::SigninReady => "signin-ready",
            StartupMark::QueueReady => "queue-ready",
        }
    }
}

/// Logs a start-up milestone once to standard error with the milliseconds since the process
/// started ([`crate::STARTED`]) — the app log marker the start-up benchmark reads.
pub fn log_startup_mark(mark: StartupMark) {
    static SEEN: Mutex<Vec<StartupMark>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    if seen.contains(&mark) {
        return;
    }
    seen.push(mark);
    let ms = crate::STARTED.get().map_or(0, |t| t.elapsed().as_millis());
    eprintln!("outpost-startup: {} {ms} ms", mark.as_str());
}

/// The command names: a reader of the table that keeps nothing but names.
macro_rules! command_names {
    ($( $(#[$meta:meta])* fn $name:ident $params:tt -> $ret:ty $body:block )*) => {
        /// Every command, in table order.
        pub const COMMAND_NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}
crate::for_each_command!(command_names);

#[cfg(feature = "dev-bridge")]
pub use bridge_dispatch::{dispatch, streams, takes_body, Sink};

/// The development bridge's reader of the table: commands by name, arguments from JSON.
#[cfg(feature = "dev-bridge")]
mod bridge_dispatch {
    use std::sync::Arc;

    use serde::Serialize;
    use serde_json::Value;

    use super::prelude::*;
    use super::ErrorCode;

    /// Where a streaming command's messages go, as JSON; false once nobody listens.
    pub type Sink = Arc<dyn Fn(Value) -> bool + Send + Sync>;

    fn events<T: Serialize>(sink: &Sink) -> Events<T> {
        let sink = Arc::clone(sink);
        Events::new(move |message: T| match serde_json::to_value(message) {
            Ok(value) => sink(value),
            Err(_) => false,
        })
    }

    fn internal(message: String) -> ErrorDto {
        ErrorDto {
            code: ErrorCode::Internal,
            message,
        }
    }

    /// The arguments as Tauri reads them: an object with camelCase keys (absent = no keys).
    fn parse_args<A: serde::de::DeserializeOwned>(
        command: &str,
        args: Value,
    ) -> Result<A, ErrorDto> {
        let args = if args.is_null() {
            Value::Object(Default::default())
        } else {
            args
        };
        serde_json::from_value(args)
            .map_err(|e| internal(format!("invalid args for command `{command}`: {e}")))
    }

    fn to_json<T: Serialize>(value: T) -> Result<Value, ErrorDto> {
        serde_json::to_value(value).map_err(|e| internal(format!("unserialisable result: {e}")))
    }

    macro_rules! dispatcher {
        ($(
            $(#[doc = $doc:literal])*
            $(#[ts($($hint:ident = $value:ident),*)])?
            fn $name:ident(
                $shell:ident $(, $arg:ident: $ty:ty)* $(, @$chan:ident: $msg:ty)?
                $(, #$raw:ident)? $(,)?
            ) -> $ret:ty $body:block
        )*) => {
            /// Whether `command` exists (`None` if not) and sends messages while it runs.
            pub fn streams(command: &str) -> Option<bool> {
                match command {
                    $(stringify!($name) => Some(false $(|| { let _ = stringify!($chan); true })?),)*
                    _ => None,
                }
            }

            /// Whether `command` takes a raw body (its arguments then come from headers).
            pub fn takes_body(command: &str) -> bool {
                match command {
                    $(stringify!($name) => false $(|| { let _ = stringify!($raw); true })?,)*
                    _ => false,
                }
            }

            /// Runs `command` with its JSON arguments (camelCase keys, as the page sends them to
            /// Tauri); a streaming command's messages go to `sink`; a raw-body command's bytes
            /// are `body`.
            pub async fn dispatch(
                shell: &Shell,
                command: &str,
                args: Value,
                sink: Sink,
                body: Option<Vec<u8>>,
            ) -> Result<Value, ErrorDto> {
                let mut body = body;
                match command {
                    $(stringify!($name) => {
                        #[derive(serde::Deserialize)]
                        #[serde(rename_all = "camelCase")]
                        struct Args { $($arg: $ty,)* }
                        async fn run(
                            $shell: &Shell,
                            $($arg: $ty,)*
                            $($chan: Events<$msg>,)?
                            $($raw: Vec<u8>,)?
                        ) -> Result<$ret, ErrorDto> {
                            let _ = &$shell;
                            $body
                        }
                        let Args { $($arg,)* } = parse_args(command, args)?;
                        $(let $raw = body.take().ok_or_else(|| super::not_raw(command))?;)?
                        drop(body.take());
                        to_json(
                            run(shell, $($arg,)* $(events::<$msg>(&sink),)? $($raw,)?).await?
                        )
                    })*
                    _ => {
                        drop(sink);
                        Err(internal(format!("no command `{command}`")))
                    }
                }
            }
        };
    }
    crate::for_each_command!(dispatcher);
}

#[cfg(feature = "ts")]
pub use ts_specs::{command_specs, CommandSpec};

/// The TypeScript generator's reader of the table (tests/commands.rs).
#[cfg(feature = "ts")]
mod ts_specs {
    #[allow(
        unused_imports,
        reason = "the table's bodies may name any of these; the specs read only the types"
    )]
    use super::prelude::*;

    /// One command as the TypeScript side sees it; types are ts-rs names.
    #[derive(Debug)]
    pub struct CommandSpec {
        pub name: &'static str,
        pub doc: Vec<&'static str>,
        /// `#[ts(key = value)]` hints.
        pub hints: Vec<(&'static str, &'static str)>,
        /// Rust name and TypeScript type of each argument, in order.
        pub args: Vec<(&'static str, String)>,
        /// The channel argument and its message type.
        pub channel: Option<(&'static str, String)>,
        /// The raw-body argument (the other arguments travel as headers).
        pub raw: Option<&'static str>,
        pub result: String,
    }

    macro_rules! specs {
        ($(
            $(#[doc = $doc:literal])*
            $(#[ts($($hint:ident = $value:ident),*)])?
            fn $name:ident(
                $shell:ident $(, $arg:ident: $ty:ty)* $(, @$chan:ident: $msg:ty)?
                $(, #$raw:ident)? $(,)?
            ) -> $ret:ty $body:block
        )*) => {
            /// Every command in table order, with TypeScript types rendered by ts-rs (large
            /// integers as `number`, like the DTOs in ui/src/backend/types).
            pub fn command_specs() -> Vec<CommandSpec> {
                let cfg = ts_rs::Config::new().with_large_int("number");
                vec![$(CommandSpec {
                    name: stringify!($name),
                    doc: vec![$($doc),*],
                    hints: vec![$($((stringify!($hint), stringify!($value))),*)?],
                    args: vec![$((stringify!($arg), <$ty as ts_rs::TS>::name(&cfg))),*],
                    channel: None $(.or(Some((stringify!($chan), <$msg as ts_rs::TS>::name(&cfg)))))?,
                    raw: None $(.or(Some(stringify!($raw))))?,
                    result: <$ret as ts_rs::TS>::name(&cfg),
                }),*]
            }
        };
    }
    crate::for_each_command!(specs);
}
