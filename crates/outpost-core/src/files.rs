//! Files people attach: which kinds Outpost accepts, how a kind is recognised, and what a file's
//! name may be.
//!
//! A file's kind is decided by its first bytes (magic numbers), never by its name or the type a
//! browser declared: a customer's "invoice.pdf" that is really a PNG, or a program renamed to
//! look like a document, is refused with a sentence saying so. Names are reduced to something a
//! file system and a person can both read safely (no paths, no control characters, no
//! right-to-left override tricks). The server checks every upload with [`check_upload`]; the
//! desktop checks the same way before it stores anything, and `apply` refuses an attachment entry
//! whose name or type could not have come through here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::apply::{Rejection, MAX_ATTACHMENT_BYTES};
use crate::model::{named_enum, UnknownValue};

/// Longest file name, in characters (the extension is kept when a name is shortened).
pub const MAX_FILENAME_CHARS: usize = 120;
/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 8 * 1024;
/// Most attachments one message may carry, whatever the policy says.
pub const MAX_ATTACHMENTS_PER_MESSAGE: u32 = 20;
/// The name a file gets when nothing of its own name is left.
const FALLBACK_NAME: &str = "file";
/// Longest extension [`sanitise_filename`] keeps when it shortens a name.
const MAX_EXTENSION_CHARS: usize = 16;

named_enum! {
    /// A kind of file Outpost stores. Anything else (programs, scripts, HTML, SVG, office
    /// documents that are not plain ZIP archives…) is refused.
    pub enum FileType {
        Pdf => "pdf",
        Jpeg => "jpeg",
        Png => "png",
        Gif => "gif",
        Webp => "webp",
        Zip => "zip",
        Text => "text",
    }
}

impl FileType {
    /// The media type the file is served with.
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Gif => "image/gif",
            FileType::Webp => "image/webp",
            FileType::Zip => "application/zip",
            FileType::Text => "text/plain",
        }
    }

    /// The file-name extensions (lowercase, without the dot) a file of this kind may carry.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileType::Pdf => &["pdf"],
            FileType::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            FileType::Png => &["png"],
            FileType::Gif => &["gif"],
            FileType::Webp => &["webp"],
            FileType::Zip => &["zip"],
            FileType::Text => &["txt", "text", "csv", "tsv", "log", "md", "json"],
        }
    }

    /// The kind served as `mime`, if any.
    pub fn from_mime(mime: &str) -> Option<FileType> {
        FileType::ALL.iter().copied().find(|t| t.mime() == mime)
    }

    /// How a person calls this kind of file, for refusal messages.
    pub fn label(self) -> &'static str {
        match self {
            FileType::Pdf => "a PDF document",
            FileType::Jpeg => "a JPEG image",
            FileType::Png => "a PNG image",
            FileType::Gif => "a GIF image",
            FileType::Webp => "a WebP image",
            FileType::Zip => "a ZIP archive",
            FileType::Text => "a plain text file",
        }
    }

    /// Whether the desktop may preview it (decoded to pixels in Rust, never by the webview).
    pub fn is_image(self) -> bool {
        matches!(
            self,
            FileType::Jpeg | FileType::Png | FileType::Gif | FileType::Webp
        )
    }
}

/// The kind of file whose first bytes are `head` (up to [`SNIFF_BYTES`] are looked at), or
/// `None` when it is none Outpost accepts (or `head` is empty).
pub fn sniff(head: &[u8]) -> Option<FileType> {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    if head.starts_with(b"%PDF-") {
        Some(FileType::Pdf)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileType::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileType::Png)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(FileType::Gif)
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some(FileType::Webp)
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(FileType::Zip)
    } else if is_text(head) {
        Some(FileType::Text)
    } else {
        None
    }
}

/// Valid UTF-8 without control characters other than tab, carriage return and line feed; the
/// last character may be cut short (`head` can end inside it).
fn is_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // `error_len() == None`: the bytes end inside a character that may well be complete
        // further on.
        Err(e) if e.error_len().is_none() => {
            // The prefix up to the error is valid UTF-8 by definition.
            match std::str::from_utf8(&head[..e.valid_up_to()]) {
                Ok(text) => text,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'))
}

/// Characters that reorder or hide text in a name: bidirectional embeddings, overrides and
/// isolates, and the invisible direction marks ("invoice\u{202E}fdp.exe" shows as "invoiceexe.pdf").
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Characters Windows does not allow in a file name; replaced so a saved file keeps its name.
fn is_reserved_on_windows(c: char) -> bool {
    matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|')
}

fn trim_name(name: &str) -> &str {
    name.trim_matches(|c: char| c == '.' || c.is_whitespace())
}

/// A file name safe to store, show and save: the last path component only (`/` and `\` both
/// separate), without control or bidirectional formatting characters, characters Windows
/// forbids replaced by `_`, without dots or spaces at either end, at most
/// [`MAX_FILENAME_CHARS`] characters (a shortened name keeps its extension), and never empty,
/// `.` or `..` (those become `file`). Applying it twice changes nothing more.
pub fn sanitise_filename(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c))
        .map(|c| if is_reserved_on_windows(c) { '_' } else { c })
        .collect();
    let last = cleaned
        .rsplit(['/', '\\'])
        .map(trim_name)
        .find(|part| !part.is_empty())
        .unwrap_or("");
    let shortened = shorten(last);
    let name = trim_name(&shortened);
    if name.is_empty() {
        FALLBACK_NAME.to_owned()
    } else {
        name.to_owned()
    }
}

/// `name` cut to [`MAX_FILENAME_CHARS`] characters, keeping a short extension.
fn shorten(name: &str) -> String {
    let count = name.chars().count();
    if count <= MAX_FILENAME_CHARS {
        return name.to_owned();
    }
    if let Some((stem, extension)) = name.rsplit_once('.') {
        let extension_chars = extension.chars().count();
        let stem = trim_name(stem);
        if (1..=MAX_EXTENSION_CHARS).contains(&extension_chars) && !stem.is_empty() {
            let keep = MAX_FILENAME_CHARS - extension_chars - 1;
            let stem: String = stem.chars().take(keep).collect();
            let stem = trim_name(&stem);
            if !stem.is_empty() {
                return format!("{stem}.{extension}");
            }
        }
    }
    name.chars().take(MAX_FILENAME_CHARS).collect()
}

/// What the organisation accepts from customers (the public form, the status page, the intake
/// API). Agents are held only to the kinds in [`FileType`] and [`MAX_ATTACHMENT_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct AttachmentPolicy {
    /// The kinds customers may attach.
    pub types: Vec<FileType>,
    /// The largest file, in bytes (at most [`MAX_ATTACHMENT_BYTES`]).
    pub max_bytes: u64,
    /// The most files one message may carry (1 to [`MAX_ATTACHMENTS_PER_MESSAGE`]).
    pub max_per_message: u32,
}

impl Default for AttachmentPolicy {
    /// PDF, JPEG and PNG up to 5 MiB, ten per message: what the account-opening guide asks of
    /// customers (licences, ID scans, statements).
    fn default() -> Self {
        AttachmentPolicy {
            types: vec![FileType::Pdf, FileType::Jpeg, FileType::Png],
            max_bytes: 5 * 1024 * 1024,
            max_per_message: 10,
        }
    }
}

impl AttachmentPolicy {
    /// Why the policy cannot be used, as a sentence, if it cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.types.is_empty() {
            return Err("allow at least one kind of file".into());
        }
        let mut seen = Vec::with_capacity(self.types.len());
        for t in &self.types {
            if seen.contains(t) {
                return Err(format!("{t} is listed twice"));
            }
            seen.push(*t);
        }
        if self.max_bytes == 0 || self.max_bytes > MAX_ATTACHMENT_BYTES {
            return Err(format!(
                "the largest file must be between 1 byte and {} ({MAX_ATTACHMENT_BYTES} bytes)",
                human_size(MAX_ATTACHMENT_BYTES)
            ));
        }
        if !(1..=MAX_ATTACHMENTS_PER_MESSAGE).contains(&self.max_per_message) {
            return Err(format!(
                "files per message must be between 1 and {MAX_ATTACHMENTS_PER_MESSAGE}"
            ));
        }
        Ok(())
    }
}

/// `bytes` as people read it: "5 MiB", "300 KiB", "12 bytes".
pub fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{} KiB", bytes.div_ceil(KIB))
    } else if bytes == 1 {
        "1 byte".into()
    } else {
        format!("{bytes} bytes")
    }
}

fn refused(message: String) -> Rejection {
    Rejection::FileRefused(message)
}

/// Decides whether a file may be attached: `filename` as given (it is sanitised here for the
/// messages), `head` its first bytes (at least the first [`SNIFF_BYTES`] of the file, or all of
/// it), `size` its full length. Customers are held to the organisation's `policy`; agents
/// (`None`) may attach any [`FileType`] up to [`MAX_ATTACHMENT_BYTES`]. The kind comes from the
/// bytes; a name whose extension says otherwise is refused.
pub fn check_upload(
    policy: Option<&AttachmentPolicy>,
    filename: &str,
    head: &[u8],
    size: u64,
) -> Result<FileType, Rejection> {
    let name = sanitise_filename(filename);
    let limit = policy.map_or(MAX_ATTACHMENT_BYTES, |p| {
        p.max_bytes.min(MAX_ATTACHMENT_BYTES)
    });
    if size == 0 {
        return Err(refused(format!(
            "\u{201C}{name}\u{201D} is empty; attach a file with something in it."
        )));
    }
    if size > limit {
        return Err(refused(format!(
            "\u{201C}{name}\u{201D} is {}; files may be at most {}.",
            human_size(size),
            human_size(limit)
        )));
    }
    let Some(kind) = sniff(head) else {
        return Err(refused(format!(
            "\u{201C}{name}\u{201D} is not a kind of file Outpost accepts ({}); programs, \
             scripts and web pages are never accepted.",
            accepted_list(policy)
        )));
    };
    if let Some(extension) = extension_of(&name) {
        if !kind.extensions().contains(&extension.as_str()) {
            let named = FileType::ALL
                .iter()
                .find(|t| t.extensions().contains(&extension.as_str()));
            return Err(refused(match named {
                Some(named) => format!(
                    "\u{201C}{name}\u{201D} is named like {} but its content is {}; attach \
                     the right file or correct its name.",
                    named.label(),
                    kind.label()
                ),
                None => format!(
                    "\u{201C}{name}\u{201D} ends in .{extension}, but its content is {}; \
                     rename it to end in .{}.",
                    kind.label(),
                    kind.extensions()[0]
                ),
            }));
        }
    }
    if let Some(policy) = policy {
        if !policy.types.contains(&kind) {
            return Err(refused(format!(
                "\u{201C}{name}\u{201D} is {}; this organisation accepts {}.",
                kind.label(),
                accepted_list(Some(policy))
            )));
        }
    }
    Ok(kind)
}

/// The lowercase extension of a sanitised name, if it has one (`.profile` has none).
fn extension_of(name: &str) -> Option<String> {
    let (stem, extension) = name.rsplit_once('.')?;
    (!stem.is_empty() && !extension.is_empty()).then(|| extension.to_lowercase())
}

fn accepted_list(policy: Option<&AttachmentPolicy>) -> String {
    let types: Vec<FileType> = policy.map_or_else(|| FileType::ALL.to_vec(), |p| p.types.clone());
    let names: Vec<String> = types
        .iter()
        .map(|t| match t {
            FileType::Pdf => "PDF".to_owned(),
            FileType::Zip => "ZIP".to_owned(),
            FileType::Text => "plain text".to_owned(),
            image => image.as_str().to_uppercase(),
        })
        .collect();
    names.join(", ")
}

#[cfg(test)]
mod tests;
