//! The Sora service behind one trait, with one implementation per dialect of
//! the seeds (`native`, `openai`, `chat`), chosen by configuration.
//!
//! Every dialect is driven the same way: `submit` a [`JobSpec`], then ask for
//! its [`TaskStatus`] until it ends, then `download` what it made. Dialects
//! whose service answers synchronously (image endpoints, streamed chat) run
//! that answer in the background and report on it through the same calls.

mod chat;
mod config;
mod endpoint;
mod error;
mod fetch_guard;
mod http;
mod local;
mod models;
mod native;
mod openai;
mod options;
mod status;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

pub use config::{AuthStyle, Dialect, SoraConfig};
pub use endpoint::{endpoint_kind, ENDPOINT_KINDS};
pub use error::{is_balance_text, is_policy_text, BackendError};
pub use fetch_guard::{is_host_entry, non_public, Refusal};
pub use models::{capabilities, is_suffixed_family, model_for_request, suffixed_model};
pub use options::{
    AspectRatio, Capabilities, CharacterRequest, CharacterSource, CharacterUse, ExtendRequest,
    Feature, ImageInput, ImageRequest, JobSpec, ModelTier, OutputKind, RemixRequest, Timestamps,
    Unsupported, VideoOptions, VideoRequest, EXTEND_SECONDS, MAX_PROMPT_CHARS,
};
pub use status::{
    find_character, find_envelope_error, find_failure, find_media_urls, find_progress, find_state,
    find_task_id, find_thumbnail_url, looks_like_video, media_urls_in_text, parse_progress,
    parse_state, progress_in_text, result_urls_in_text, CharacterInfo, MediaRef, Output, StateWord,
    TaskId, TaskStatus,
};

/// Reads a task-status answer of any relay (the native reader, which the
/// other dialects share): `None` when it says nothing usable.
pub fn read_task_answer(answer: &serde_json::Value, kind: OutputKind) -> Option<TaskStatus> {
    native::read_task(answer, kind)
}

/// The bytes of a result, as they arrive.
pub struct Download {
    pub content_type: Option<String>,
    /// When the service said; the spool still enforces its own cap.
    pub content_length: Option<u64>,
    pub stream: BoxStream<'static, Result<Bytes, BackendError>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

/// One Sora service.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The dialect this backend speaks.
    fn dialect(&self) -> Dialect;

    /// What the configured service can do.
    fn capabilities(&self) -> &Capabilities;

    /// Counts every request this backend sends to the service in `metrics`
    /// (its latency and errors, by endpoint kind). The engine that owns the
    /// backend calls it when it is made; a later call moves the counting to
    /// the newer engine. By default nothing is counted.
    fn observe(&self, _metrics: &crate::metrics::Metrics) {}

    /// Starts a task. Checks the request against `capabilities()` first, so
    /// an unsupported request never reaches the service.
    async fn submit(&self, spec: &JobSpec) -> Result<TaskId, BackendError>;

    /// Where a task stands now. `kind` is what the task was submitted to
    /// make, so a success is read as the right kind of output.
    async fn status(&self, task: &TaskId, kind: OutputKind) -> Result<TaskStatus, BackendError>;

    /// The bytes of a finished task's media.
    async fn download(&self, task: &TaskId, media: &MediaRef) -> Result<Download, BackendError>;

    /// Whether fetching `media` is a request to the service itself, and so
    /// counts against its rate: a download from another host (a CDN, a
    /// `data:` URL) costs the service nothing. By default, every one does.
    fn download_asks_service(&self, _media: &MediaRef) -> bool {
        true
    }

    /// A preview picture of a finished task's video, where the service
    /// offers one, fetched as results are (same checks on the URL); `None`
    /// when it offers none. The caller checks the bytes. By default: none.
    async fn thumbnail(
        &self,
        _task: &TaskId,
        _media: &MediaRef,
    ) -> Result<Option<Download>, BackendError> {
        Ok(None)
    }

    /// The task the service made for `spec` since `since_ms` (milliseconds
    /// since the epoch), for a submission whose answer never came. `None`
    /// when there is none, or when the service cannot be asked (most
    /// dialects have no way to list tasks).
    async fn find_submitted(
        &self,
        _spec: &JobSpec,
        _since_ms: u64,
    ) -> Result<Option<TaskId>, BackendError> {
        Ok(None)
    }
}

/// The backend for a configuration.
pub fn connect(config: &SoraConfig) -> Result<Arc<dyn Backend>, BackendError> {
    Ok(match config.dialect {
        Dialect::Native => Arc::new(native::NativeBackend::new(config)?),
        Dialect::OpenAi => Arc::new(openai::OpenAiBackend::new(config)?),
        Dialect::Chat => Arc::new(chat::ChatBackend::new(config)?),
    })
}
