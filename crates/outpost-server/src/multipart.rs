//! Customer uploads in `multipart/form-data` bodies: the public form, the status page's reply
//! form and the intake API. A body is read part by part; a file part is checked by its first
//! bytes (the core's [`check_upload`] against the organisation's policy) before anything of it
//! is kept, then streamed into the blob store, and reading stops as soon as it passes the
//! policy's size. Text parts are small and read whole. The caller decides what the fields mean
//! and writes the attachment entries; when it gives up (a refused file, a refused form), the
//! files kept so far are handed back to the store to forget.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use futures_util::stream::{self, BoxStream, StreamExt};
use outpost_core::apply::Rejection;
use outpost_core::files::{
    check_upload, sanitise_filename, sniff, AttachmentPolicy, FileType, SNIFF_BYTES,
};

/// Room in a body beyond its files: the text fields (a description is at most 256 KiB) and
/// the multipart framing.
pub(crate) const FORM_SLACK_BYTES: u64 = 1024 * 1024;
/// Largest text part; a ticket's description is the longest text a form carries.
const MAX_TEXT_PART_BYTES: usize = outpost_core::apply::MAX_TEXT_BYTES + 4 * 1024;
/// Most text parts one body may carry (the forms have five).
const MAX_TEXT_PARTS: usize = 16;

/// The largest body a form or intake request with files may have under `policy`: every file
/// at its largest, plus [`FORM_SLACK_BYTES`].
pub(crate) fn body_limit(policy: &AttachmentPolicy) -> u64 {
    u64::from(policy.max_per_message) * policy.max_bytes + FORM_SLACK_BYTES
}

/// The boundary of a `multipart/form-data` request, or `None` for any other body.
pub(crate) fn boundary(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    multer::parse_boundary(content_type).ok()
}

/// A file's bytes as they arrive: failing with [`io::ErrorKind::FileTooLarge`] once they pass
/// the policy's size, and with the connection's error if it breaks.
pub(crate) type FileStream = BoxStream<'static, Result<Bytes, io::Error>>;

/// Why a sink did not keep a file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SinkError {
    /// The store's own check refused it (a sentence).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Where accepted files go: the blob store in the server.
pub(crate) trait FileSink {
    /// What the store keeps of a file (its hash, size and kind).
    type Stored;
    /// Keeps `file` named `filename`, whose kind was checked from its first bytes to be
    /// `kind`. An error from `file` must leave nothing behind.
    fn store(
        &mut self,
        filename: &str,
        file: FileStream,
        kind: FileType,
    ) -> impl std::future::Future<Output = Result<Self::Stored, SinkError>> + Send;
    /// Forgets files kept for a request that was then refused (those no entry references).
    fn discard(
        &mut self,
        stored: Vec<Self::Stored>,
    ) -> impl std::future::Future<Output = anyhow::Result<()>> + Send;
}

/// The parts of a body: its text fields in order and what the store kept of each file (its
/// name sanitised by the core), in order.
#[derive(Debug)]
pub(crate) struct Parts<S> {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) files: Vec<S>,
}

/// Why a file was refused, so each page can say it in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileProblem {
    Empty,
    /// Larger than the policy allows (`limit` bytes).
    TooLarge {
        limit: u64,
    },
    /// Not a kind of file Outpost accepts at all.
    UnknownKind,
    /// Its name says one kind, its bytes another.
    NameContradicts {
        actual: FileType,
    },
    /// A kind Outpost knows, but not one the organisation accepts from customers.
    KindNotAccepted {
        actual: FileType,
    },
}

/// Why a body was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    /// A file the policy refuses: its sanitised name, what is wrong, and the core's sentence
    /// (English).
    #[error("{message}")]
    File {
        filename: String,
        problem: FileProblem,
        message: String,
    },
    /// More files than the policy allows in one message.
    #[error("attach at most {limit} files to one message")]
    TooMany { limit: u32 },
    /// The whole body is larger than any message under the policy could be.
    #[error("the request body is too large")]
    TooLarge,
    /// Not a well-formed `multipart/form-data` body, or it broke off.
    #[error("the form could not be read: {0}")]
    Malformed(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Classifies the core's refusal of a file (the order `check_upload` decides in).
fn problem_of(policy: &AttachmentPolicy, name: &str, head: &[u8], size: u64) -> FileProblem {
    if size == 0 {
        return FileProblem::Empty;
    }
    if size > policy.max_bytes {
        return FileProblem::TooLarge {
            limit: policy.max_bytes,
        };
    }
    let Some(actual) = sniff(head) else {
        return FileProblem::UnknownKind;
    };
    let extension = name
        .rsplit_once('.')
        .filter(|(stem, ext)| !stem.is_empty() && !ext.is_empty())
        .map(|(_, ext)| ext.to_lowercase());
    match extension {
        Some(ext) if !actual.extensions().contains(&ext.as_str()) => {
            FileProblem::NameContradicts { actual }
        }
        _ => FileProblem::KindNotAccepted { actual },
    }
}

fn refused(
    policy: &AttachmentPolicy,
    name: &str,
    head: &[u8],
    size: u64,
    why: Rejection,
) -> UploadError {
    let filename = sanitise_filename(name);
    UploadError::File {
        problem: problem_of(policy, &filename, head, size),
        filename,
        message: match why {
            Rejection::FileRefused(message) => message,
            other => other.to_string(),
        },
    }
}

fn malformed(e: multer::Error) -> UploadError {
    match e {
        multer::Error::StreamSizeExceeded { .. } => UploadError::TooLarge,
        other => UploadError::Malformed(other.to_string()),
    }
}

/// A refused body: why, and the text fields read before the refusal (a form's fields come
/// before its files, so what the customer typed can be shown again).
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) error: UploadError,
    pub(crate) fields: Vec<(String, String)>,
}

impl Refusal {
    /// The text field `name` read before the refusal, or `""`.
    pub(crate) fn field(&self, name: &str) -> &str {
        field(&self.fields, name)
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Reads a `multipart/form-data` `body` with `boundary`: text parts whole, each file part
/// (a part with a file name; an empty file input sends one with an empty name and no bytes,
/// which is skipped) checked against `policy` and streamed into `sink`. On any refusal the
/// files already kept are discarded before the refusal is returned.
pub(crate) async fn read<K: FileSink + Send>(
    body: Body,
    boundary: String,
    policy: &AttachmentPolicy,
    sink: &mut K,
) -> Result<Parts<K::Stored>, Refusal>
where
    K::Stored: Send,
{
    let mut parts = Parts {
        fields: Vec::new(),
        files: Vec::new(),
    };
    match read_parts(body, boundary, policy, sink, &mut parts).await {
        Ok(()) => Ok(parts),
        Err(mut error) => {
            if !parts.files.is_empty() {
                if let Err(e) = sink.discard(parts.files).await {
                    error = UploadError::Internal(e);
                }
            }
            Err(Refusal {
                error,
                fields: parts.fields,
            })
        }
    }
}

async fn read_parts<K: FileSink + Send>(
    body: Body,
    boundary: String,
    policy: &AttachmentPolicy,
    sink: &mut K,
    parts: &mut Parts<K::Stored>,
) -> Result<(), UploadError>
where
    K::Stored: Send,
{
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(body_limit(policy)));
    let mut multipart =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_owned();
        let Some(filename) = field.file_name().map(browser_filename) else {
            if parts.fields.len() == MAX_TEXT_PARTS {
                return Err(UploadError::Malformed("too many fields".into()));
            }
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                if text.len() + chunk.len() > MAX_TEXT_PART_BYTES {
                    return Err(UploadError::Malformed(format!(
                        "the field {name} is too long"
                    )));
                }
                text.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(text)
                .map_err(|_| UploadError::Malformed(format!("the field {name} is not UTF-8")))?;
            parts.fields.push((name, text));
            continue;
        };
        // The first bytes decide the kind before anything is kept.
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        let mut first = Vec::new();
        while head.len() < SNIFF_BYTES {
            match field.chunk().await.map_err(malformed)? {
                Some(chunk) => {
                    head.extend_from_slice(&chunk[..chunk.len().min(SNIFF_BYTES - head.len())]);
                    first.push(chunk);
                }
                None => break,
            }
        }
        let seen: u64 = first.iter().map(|c| c.len() as u64).sum();
        if filename.is_empty() && seen == 0 {
            // An empty file input.
            continue;
        }
        if parts.files.len() as u64 >= u64::from(policy.max_per_message) {
            return Err(UploadError::TooMany {
                limit: policy.max_per_message,
            });
        }
        if seen > policy.max_bytes {
            return Err(refused(
                policy,
                &filename,
                &head,
                seen,
                too_large(policy, &filename, seen),
            ));
        }
        let kind = check_upload(Some(policy), &filename, &head, seen)
            .map_err(|why| refused(policy, &filename, &head, seen, why))?;
        let over = Arc::new(AtomicBool::new(false));
        let broken = Arc::new(AtomicBool::new(false));
        let file = limited(first, field, policy.max_bytes, over.clone(), broken.clone());
        match sink.store(&sanitise_filename(&filename), file, kind).await {
            Ok(stored) => parts.files.push(stored),
            Err(_) if over.load(Ordering::Relaxed) => {
                let size = policy.max_bytes + 1;
                return Err(refused(
                    policy,
                    &filename,
                    &head,
                    size,
                    too_large(policy, &filename, size),
                ));
            }
            Err(e) if broken.load(Ordering::Relaxed) => {
                return Err(UploadError::Malformed(e.to_string()))
            }
            Err(SinkError::Refused(message)) => {
                return Err(refused(
                    policy,
                    &filename,
                    &head,
                    seen,
                    Rejection::FileRefused(message),
                ))
            }
            Err(SinkError::Failed(e)) => return Err(UploadError::Internal(e)),
        }
    }
    Ok(())
}

/// A part's file name as the browser meant it: HTML's form encoding writes `"`, line feed and
/// carriage return in it as `%22`, `%0A` and `%0D` (and nothing else).
fn browser_filename(name: &str) -> String {
    name.replace("%22", "\"")
        .replace("%0A", "\n")
        .replace("%0D", "\r")
}

/// The core's refusal of a file of `size` bytes (past the policy's size).
fn too_large(policy: &AttachmentPolicy, filename: &str, size: u64) -> Rejection {
    match check_upload(Some(policy), filename, b"", size) {
        Err(rejection) => rejection,
        // `size` is past the policy's limit, which the core checks before the kind.
        Ok(_) => Rejection::FileRefused(format!("{filename} is too large")),
    }
}

/// The bytes read so far (`first`) and the rest of `field`, failing once more than `limit`
/// bytes came (and setting `over`), so a file past the policy's size is never read further.
/// A body that breaks off sets `broken`.
fn limited(
    first: Vec<Bytes>,
    field: multer::Field<'static>,
    limit: u64,
    over: Arc<AtomicBool>,
    broken: Arc<AtomicBool>,
) -> FileStream {
    let rest = field.map(move |chunk| {
        chunk.map_err(|e| {
            broken.store(true, Ordering::Relaxed);
            io::Error::other(e.to_string())
        })
    });
    let mut total = 0u64;
    stream::iter(first.into_iter().map(Ok))
        .chain(rest)
        .map(move |chunk| {
            let chunk = chunk?;
            total += chunk.len() as u64;
            if total > limit {
                over.store(true, Ordering::Relaxed);
                return Err(io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    "the file is larger than the organisation allows",
                ));
            }
            Ok(chunk)
        })
        // Nothing is read after the first error.
        .scan(false, |failed, item| {
            if *failed {
                return std::future::ready(None);
            }
            *failed = item.is_err();
            std::future::ready(Some(item))
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps files in memory: enough to test the parsing, the checks and the clean-up (the
    /// server's sink is the blob store, tested in `tests/customer_files.rs`).
    #[derive(Default)]
    struct Memory {
        kept: Vec<Vec<u8>>,
        discarded: usize,
    }

    impl FileSink for Memory {
        type Stored = (String, FileType);
        async fn store(
            &mut self,
            name: &str,
            mut file: FileStream,
            kind: FileType,
        ) -> Result<Self::Stored, SinkError> {
            let mut bytes = Vec::new();
            while let Some(chunk) = file.next().await {
                bytes.extend_from_slice(&chunk.map_err(anyhow::Error::from)?);
            }
            self.kept.push(bytes);
            Ok((name.to_owned(), kind))
        }
        async fn discard(&mut self, stored: Vec<Self::Stored>) -> anyhow::Result<()> {
            self.discarded += stored.len();
            Ok(())
        }
    }

    const BOUNDARY: &str = "XyZ";

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Body {
        let mut out = Vec::new();
        for (name, filename, bytes) in parts {
            out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match filename {
                Some(f) => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        Body::from(out)
    }

    fn pdf(len: usize) -> Vec<u8> {
        let mut b = b"%PDF-1.7\n".to_vec();
        b.resize(len, b'x');
        b
    }

    #[tokio::test]
    async fn fields_and_files_come_apart_and_files_keep_every_byte() {
        let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &vec![7u8; 20_000]].concat();
        let mut sink = Memory::default();
        let parts = read(
            body(&[
                ("subject", None, "Account opening".as_bytes()),
                ("files", Some("id scan.jpg"), &jpeg),
                ("files", Some(""), b""),
                ("files", Some("../../licence.pdf"), &pdf(9000)),
                ("description", None, "营业执照".as_bytes()),
            ]),
            BOUNDARY.into(),
            &AttachmentPolicy::default(),
            &mut sink,
        )
        .await
        .unwrap();
        assert_eq!(field(&parts.fields, "subject"), "Account opening");
        assert_eq!(field(&parts.fields, "description"), "营业执照");
        assert_eq!(field(&parts.fields, "absent"), "");
        let names: Vec<&str> = parts.files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(names, ["id scan.jpg", "licence.pdf"]);
        assert_eq!(parts.files[0].1, FileType::Jpeg);
        assert_eq!(sink.kept[0], jpeg);
        assert_eq!(sink.kept[1], pdf(9000));
    }

    #[tokio::test]
    async fn refusals_name_the_file_and_discard_what_was_kept() {
        let policy = AttachmentPolicy {
            max_bytes: 64 * 1024,
            max_per_message: 2,
            ..AttachmentPolicy::default()
        };
        let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
        // (the body's files, the problem, the file named)
        type Case<'a> = (
            Vec<(&'a str, Option<&'a str>, Vec<u8>)>,
            FileProblem,
            &'a str,
        );
        let cases: Vec<Case<'_>> = vec![
            (
                vec![
                    ("f", Some("ok.pdf"), pdf(100)),
                    ("f", Some("invoice.pdf"), png.clone()),
                ],
                FileProblem::NameContradicts {
                    actual: FileType::Png,
                },
                "invoice.pdf",
            ),
            (
                vec![(
                    "f",
                    Some("setup.exe"),
                    b"MZ\x90\x00\x03\x00\x00\x00".to_vec(),
                )],
                FileProblem::UnknownKind,
                "setup.exe",
            ),
            (
                vec![
                    ("f", Some("ok.pdf"), pdf(100)),
                    ("f", Some("big.pdf"), pdf(64 * 1024 + 1)),
                ],
                FileProblem::TooLarge { limit: 64 * 1024 },
                "big.pdf",
            ),
            (
                vec![("f", Some("tiny.pdf"), pdf(64 * 1024 + 1))],
                FileProblem::TooLarge { limit: 64 * 1024 },
                "tiny.pdf",
            ),
            (
                vec![("f", Some("a.gif"), b"GIF89a....".to_vec())],
                FileProblem::KindNotAccepted {
                    actual: FileType::Gif,
                },
                "a.gif",
            ),
        ];
        for (files, expected, named) in cases {
            let parts: Vec<(&str, Option<&str>, &[u8])> = files
                .iter()
                .map(|(n, f, b)| (*n, *f, b.as_slice()))
                .collect();
            let mut sink = Memory::default();
            let kept_before_refusal = files.len() - 1;
            let mut parts = parts;
            parts.insert(0, ("text", None, "see the scan".as_bytes()));
            match read(body(&parts), BOUNDARY.into(), &policy, &mut sink).await {
                Err(refusal) => {
                    assert_eq!(refusal.field("text"), "see the scan", "the text is kept");
                    let UploadError::File {
                        filename,
                        problem,
                        message,
                    } = refusal.error
                    else {
                        panic!("expected a file refusal, got {:?}", refusal.error);
                    };
                    assert_eq!(problem, expected);
                    assert_eq!(filename, named);
                    assert!(message.contains(named), "{message}");
                }
                other => panic!("expected a refusal, got {other:?}"),
            }
            assert_eq!(sink.discarded, kept_before_refusal);
        }
        // One file too many.
        let mut sink = Memory::default();
        let three = [
            ("f", Some("1.pdf"), &pdf(10)[..]),
            ("f", Some("2.pdf"), &pdf(10)[..]),
            ("f", Some("3.pdf"), &pdf(10)[..]),
        ];
        assert!(matches!(
            read(body(&three), BOUNDARY.into(), &policy, &mut sink).await,
            Err(Refusal {
                error: UploadError::TooMany { limit: 2 },
                ..
            })
        ));
        assert_eq!(sink.discarded, 2);
    }

    #[tokio::test]
    async fn a_file_past_the_limit_is_not_read_further() {
        let policy = AttachmentPolicy {
            max_bytes: 1024,
            ..AttachmentPolicy::default()
        };
        let read_so_far = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = read_so_far.clone();
        let head =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.pdf\"\r\n\r\n%PDF-"
                .to_vec();
        // An endless file: the body never ends, so finishing at all proves reading stopped.
        let endless = stream::iter(std::iter::once(head).chain(std::iter::repeat(vec![b'x'; 512])))
            // Each piece arrives after a pause, as from a network: the parser buffers what is
            // ready, not more.
            .then(move |chunk| {
                let counter = counter.clone();
                async move {
                    tokio::task::yield_now().await;
                    counter.fetch_add(chunk.len(), Ordering::Relaxed);
                    Ok::<_, io::Error>(Bytes::from(chunk))
                }
            });
        let mut sink = Memory::default();
        let outcome = read(
            Body::from_stream(endless),
            BOUNDARY.into(),
            &policy,
            &mut sink,
        )
        .await;
        assert!(matches!(
            outcome,
            Err(Refusal {
                error: UploadError::File {
                    problem: FileProblem::TooLarge { limit: 1024 },
                    ..
                },
                ..
            })
        ));
        assert!(read_so_far.load(Ordering::Relaxed) < 64 * 1024);
    }

    #[tokio::test]
    async fn a_broken_body_is_malformed() {
        let mut sink = Memory::default();
        let outcome = read(
            Body::from("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.pdf\"\r\n\r\n%PDF-1.7 no end"),
            BOUNDARY.into(),
            &AttachmentPolicy::default(),
            &mut sink,
        )
        .await;
        assert!(
            matches!(
                outcome,
                Err(Refusal {
                    error: UploadError::Malformed(_),
                    ..
                })
            ),
            "{outcome:?}"
        );
    }
}
