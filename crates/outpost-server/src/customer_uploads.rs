//! Customers' files on their way into the blob store: the sink [`crate::multipart`] streams
//! them into ([`crate::blobs::BlobStore::store_stream`], checked against the organisation's
//! policy), the files a request stored, and their withdrawal when the request is refused after
//! all. Shared by the customer pages and the intake API.

use axum::body::Body;
use outpost_core::files::{AttachmentPolicy, FileType};
use outpost_core::sync::Mutation;
use uuid::Uuid;

use crate::blobs::FinishError;
use crate::multipart::{self, FileSink, FileStream, Refusal, SinkError};
use crate::AppState;

/// A customer's file the blob store kept, ready to be attached.
#[derive(Debug, Clone)]
pub(crate) struct CustomerFile {
    /// Sanitised by the core.
    pub(crate) filename: String,
    pub(crate) sha256: String,
    pub(crate) size: u64,
    pub(crate) file_type: FileType,
}

impl CustomerFile {
    /// The intent that attaches this file to `ticket_id` (applied for the customer: no author).
    pub(crate) fn mutation(&self, ticket_id: Uuid) -> Mutation {
        Mutation::AddAttachment {
            entry_id: Uuid::now_v7(),
            ticket_id,
            attachment_id: Uuid::now_v7(),
            filename: self.filename.clone(),
            mime: self.file_type.mime().to_owned(),
            size: self.size,
            sha256: self.sha256.clone(),
        }
    }
}

/// The files one request stored.
#[derive(Debug, Default)]
pub(crate) struct StoredFiles(Vec<CustomerFile>);

impl StoredFiles {
    pub(crate) fn attachments(&self) -> Vec<CustomerFile> {
        self.0.clone()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Withdraws the files after the request was refused (nothing attached them). Failures are
    /// logged: an unused file expires with its upload row anyway.
    pub(crate) async fn discard(&self, state: &AppState) {
        for file in &self.0 {
            if let Err(e) = state.blobs.forget(&file.sha256).await {
                tracing::warn!(error = %e, "withdrawing a customer's refused file failed");
            }
        }
    }
}

/// The text fields of a form.
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// The field `name` (the first, when it came twice), or `""`.
    pub(crate) fn field(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

struct BlobSink<'a> {
    state: &'a AppState,
    policy: &'a AttachmentPolicy,
}

impl FileSink for BlobSink<'_> {
    type Stored = CustomerFile;

    async fn store(
        &mut self,
        filename: &str,
        file: FileStream,
        _: FileType,
    ) -> Result<CustomerFile, SinkError> {
        match self
            .state
            .blobs
            .store_stream(filename, file, self.policy)
            .await
        {
            Ok((sha256, size, file_type)) => Ok(CustomerFile {
                filename: filename.to_owned(),
                sha256,
                size,
                file_type,
            }),
            Err(FinishError::Refused(message)) => Err(SinkError::Refused(message)),
            Err(FinishError::Failed(e)) => Err(SinkError::Failed(e)),
            Err(e @ FinishError::HashMismatch { .. }) => Err(SinkError::Failed(e.into())),
        }
    }

    async fn discard(&mut self, stored: Vec<CustomerFile>) -> anyhow::Result<()> {
        for file in stored {
            self.state.blobs.forget(&file.sha256).await?;
        }
        Ok(())
    }
}

/// Reads a customer's `multipart/form-data` body: its text fields, and its files stored in the
/// blob store under `policy`. A refusal has discarded what was stored.
pub(crate) async fn read(
    state: &AppState,
    body: Body,
    boundary: String,
    policy: &AttachmentPolicy,
) -> Result<(Fields, StoredFiles), Refusal> {
    let mut sink = BlobSink { state, policy };
    let parts = multipart::read(body, boundary, policy, &mut sink).await?;
    Ok((Fields(parts.fields), StoredFiles(parts.files)))
}

/// Reads only the text fields of a body whose files are not wanted (a refused submission,
/// shown again with what the customer typed); files are read past, never stored.
pub(crate) async fn read_text(body: Body, boundary: String, policy: &AttachmentPolicy) -> Fields {
    match multipart::read(body, boundary, policy, &mut Drain).await {
        Ok(parts) => Fields(parts.fields),
        Err(refusal) => Fields(refusal.fields),
    }
}

/// Reads a file to its end and keeps nothing.
struct Drain;

impl FileSink for Drain {
    type Stored = ();

    async fn store(&mut self, _: &str, mut file: FileStream, _: FileType) -> Result<(), SinkError> {
        use futures_util::StreamExt;
        while let Some(piece) = file.next().await {
            piece.map_err(anyhow::Error::from)?;
        }
        Ok(())
    }

    async fn discard(&mut self, _: Vec<()>) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A stored file as a download nothing renders (the headers of the agents' download,
/// `uploads.rs`), or `None` when the store no longer has it.
pub(crate) async fn send_file(
    state: &AppState,
    sha256: &str,
    filename: &str,
) -> Result<Option<axum::response::Response>, crate::error::ApiError> {
    let Some(blob) = state.blobs.blob(sha256).await? else {
        return Ok(None);
    };
    Ok(Some(crate::uploads::file_response(state, &blob, filename)?))
}
