//! Delivery: each result spooled (see `spool`), then put into the chat as an
//! upload or, over the platform's limit, as a link. An upload that failed is
//! retried from the spool file.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use sorabot_storage::{MessageKey, MessageRole};

use super::ratelimit::Priority;
use super::render::button;
use super::spool::{is_disk_full, SpoolError};
use super::{Engine, EngineError, Next};
use crate::backend::{BackendError, Download, MediaRef};
use crate::chat::{ButtonAction, ChatError, Delivered, MediaFile, MediaKind, Outgoing};
use crate::clock::now_ms;
use crate::i18n::{say, Msg};
use crate::job::{Failure, Job, JobRequest, JobState, Spooled, Trouble};
use crate::media;

/// Longest caption the core writes; adapters cut further to their platform's limit.
const MAX_CAPTION_CHARS: usize = 900;
/// Longest the fetch of a thumbnail may hold up an upload.
const THUMBNAIL_WITHIN: Duration = Duration::from_secs(20);

impl Engine {
    /// Puts every result not yet in the chat there, then ends the job. Each
    /// failing part (download, disk, upload) is retried a bounded number of
    /// times, within the delivery's deadline.
    pub(super) async fn deliver(&self, mut job: Job) -> Result<Next, EngineError> {
        if self.past_deadline(&job) {
            return self.time_out(job).await;
        }
        let port = self.port(&job.chat.platform)?.clone();
        let limit = port.upload_limit(&job.chat);
        while job.delivered.len() < job.results.len() {
            let index = job.delivered.len();
            if job.spooled.len() <= index {
                match self.spool(&job, index).await {
                    Ok(spooled) => {
                        job.spooled.push(spooled);
                        self.save(&job).await?;
                    }
                    Err(SpoolError::TooLarge(bytes)) => {
                        return self.fail(job, Failure::TooLarge { bytes }).await;
                    }
                    Err(SpoolError::Backend(error)) => {
                        return self.backend_trouble(job, error, "download").await;
                    }
                    Err(SpoolError::Stalled(stall)) => {
                        let reason = stall.words(job.lang);
                        return self
                            .trouble(
                                job,
                                "download",
                                Trouble::Download,
                                reason,
                                false,
                                |reason| Failure::Download { reason },
                            )
                            .await;
                    }
                    Err(SpoolError::NotMedia(found)) => return self.not_media(job, found).await,
                    Err(SpoolError::Io(error)) => return self.disk_trouble(job, error).await,
                }
            }
            let spooled = job.spooled[index].clone();
            // The intent, on disk before the upload: a crash after it is known
            // (a Discord upload is then answered by its nonce with the first
            // message; Telegram has no such thing, and may show it twice).
            job.upload_attempts += 1;
            self.save(&job).await?;
            let uploaded = if spooled.bytes > limit {
                Err(ChatError::TooLarge)
            } else {
                let _uploading = Uploading::new(self, &job.chat);
                let media = self.media_file(&job, &spooled, index).await;
                let uploaded = port.deliver(&job.chat, &media).await;
                if uploaded.is_ok() {
                    self.inner.metrics.uploaded(media.kind, spooled.bytes);
                }
                uploaded
            };
            let mut via_link = false;
            let outcome = match uploaded {
                Err(ChatError::TooLarge) => match self.link_to(&job, index, &spooled).await {
                    Ok(Some(link)) => {
                        via_link = true;
                        let _uploading = Uploading::new(self, &job.chat);
                        self.send_link(&job, &link, spooled.bytes, limit).await
                    }
                    Ok(None) => {
                        let failure = Failure::NoPublicLink {
                            bytes: spooled.bytes,
                            limit,
                        };
                        return self.fail(job, failure).await;
                    }
                    Err(error) => return self.disk_trouble(job, error).await,
                },
                other => other,
            };
            match outcome {
                Ok(delivered) => {
                    // As little as can be between the chat's answer and the
                    // stored delivery: one index entry, one stored job.
                    let key = MessageKey::new(
                        job.chat.platform.clone(),
                        job.chat.chat.clone(),
                        delivered.message_id.clone(),
                    );
                    self.inner
                        .store
                        .index_message(&key, job.id.as_str(), MessageRole::Result)
                        .await?;
                    job.delivered.push(delivered);
                    job.linked |= via_link;
                    super::trouble::clear_trouble(&mut job);
                    self.save(&job).await?;
                }
                Err(ChatError::RateLimited(wait)) => {
                    if self.past_deadline(&job) {
                        return self.time_out(job).await;
                    }
                    return Ok(Next::After(wait));
                }
                Err(ChatError::Gone) => return self.fail(job, Failure::Delivery).await,
                Err(error) => {
                    tracing::warn!(job = %job.id, %error, "delivery failed");
                    return self
                        .trouble(
                            job,
                            "upload",
                            Trouble::Upload,
                            error.to_string(),
                            false,
                            |_| Failure::Delivery,
                        )
                        .await;
                }
            }
        }
        self.delivered(job).await
    }

    /// The result could not be written to our disk: the operator hears of it
    /// (a full disk at ERROR), the job tries again a bounded number of times.
    async fn disk_trouble(&self, job: Job, error: std::io::Error) -> Result<Next, EngineError> {
        let dir = self.inner.limits.spool_dir();
        if is_disk_full(&error) {
            tracing::error!(job = %job.id, dir = %dir.display(), %error, "the disk is full: a result cannot be saved; free space under DATA_DIR");
        } else {
            tracing::error!(job = %job.id, dir = %dir.display(), %error, "a result cannot be written to disk");
        }
        self.trouble(job, "disk", Trouble::Disk, error.to_string(), false, |_| {
            Failure::Disk
        })
        .await
    }

    /// All results are in the chat: the job is done.
    async fn delivered(&self, mut job: Job) -> Result<Next, EngineError> {
        job.state = JobState::Delivered;
        job.finished_ms = Some(now_ms());
        job.untold = true;
        self.save(&job).await?;
        self.finish(&job);
        for spooled in &job.spooled {
            if let Err(error) = tokio::fs::remove_file(&spooled.path).await {
                tracing::debug!(%error, "spool file already gone");
            }
        }
        self.tell_end(&mut job).await?;
        Ok(Next::Idle)
    }

    /// The upload of a spooled result, with caption, buttons and video facts.
    async fn media_file(&self, job: &Job, spooled: &Spooled, index: usize) -> MediaFile {
        let kind = media_kind(job);
        let info = match kind {
            MediaKind::Video => media::probe_mp4(&spooled.path).await,
            MediaKind::Image => None,
        };
        let buttons = self.result_buttons(job, kind);
        MediaFile {
            kind,
            path: spooled.path.clone(),
            bytes: spooled.bytes,
            mime: spooled.mime.clone(),
            caption: caption(job),
            reply_to: job.command_message.clone(),
            buttons,
            job: job.id.clone(),
            idempotency_key: Some(format!("{}-{index}", job.id)),
            width: info.map(|i| i.width),
            height: info.map(|i| i.height),
            duration: info.map(|i| i.seconds),
            thumbnail: match kind {
                MediaKind::Video => self.thumbnail(job, index).await,
                MediaKind::Image => None,
            },
            file_id: None,
            lang: job.lang,
            options: job.request.options().cloned(),
        }
    }

    /// The service's preview picture of result `index`, when it offers one
    /// that a chat takes as a thumbnail; anything else (none, an error, too
    /// large, not a small JPEG, too slow) is no thumbnail.
    async fn thumbnail(&self, job: &Job, index: usize) -> Option<Bytes> {
        let task = job.task.as_ref()?;
        let media = &job.results[index];
        let fetch = async {
            if self.inner.backend.download_asks_service(media) {
                self.inner.limiter.acquire(Priority::Deliver).await;
            }
            let download = self.inner.backend.thumbnail(task, media).await?;
            match download {
                Some(download) => read_capped(download, media::MAX_THUMBNAIL_BYTES).await,
                None => Ok(None),
            }
        };
        let bytes = match tokio::time::timeout(THUMBNAIL_WITHIN, fetch).await {
            Ok(Ok(bytes)) => bytes?,
            Ok(Err(error)) => {
                tracing::debug!(job = %job.id, %error, "no thumbnail: the fetch failed");
                return None;
            }
            Err(_) => {
                tracing::debug!(job = %job.id, "no thumbnail: the fetch took too long");
                return None;
            }
        };
        if !media::is_thumbnail(&bytes) {
            tracing::debug!(job = %job.id, bytes = bytes.len(), "no thumbnail: not a small JPEG");
            return None;
        }
        Some(bytes)
    }

    /// The buttons under a result: Remix, Extend and Save as character (for
    /// videos, where the service can), Retry.
    fn result_buttons(&self, job: &Job, kind: MediaKind) -> Vec<crate::chat::Button> {
        let capabilities = self.inner.backend.capabilities();
        let mut buttons = Vec::new();
        if kind == MediaKind::Video && capabilities.remix {
            buttons.push(button(job, ButtonAction::Remix));
        }
        if kind == MediaKind::Video && capabilities.extend {
            buttons.push(button(job, ButtonAction::Extend));
        }
        if kind == MediaKind::Video && capabilities.characters {
            buttons.push(button(job, ButtonAction::SaveCharacter));
        }
        buttons.push(button(job, ButtonAction::Retry));
        buttons
    }

    /// Shows a delivered job's results again in the chat of `reply_to`, by
    /// the file ids the platform gave at the first upload: nothing is
    /// uploaded again. Says whether it did (no file ids: it cannot).
    pub(super) async fn resend(
        &self,
        job: &Job,
        chat: &crate::chat::ChatRef,
        reply_to: &str,
    ) -> bool {
        let file_ids: Vec<String> = job
            .delivered
            .iter()
            .filter_map(|d| d.file_id.clone())
            .collect();
        if job.state != JobState::Delivered
            || job.chat.platform != chat.platform
            || file_ids.is_empty()
        {
            return false;
        }
        let Ok(port) = self.port(&chat.platform) else {
            return false;
        };
        let kind = media_kind(job);
        for file_id in file_ids {
            let media = MediaFile {
                kind,
                path: Default::default(),
                bytes: 0,
                mime: String::new(),
                caption: caption(job),
                reply_to: Some(reply_to.to_owned()),
                buttons: self.result_buttons(job, kind),
                job: job.id.clone(),
                idempotency_key: None,
                width: None,
                height: None,
                duration: None,
                thumbnail: None,
                file_id: Some(file_id),
                lang: job.lang,
                options: job.request.options().cloned(),
            };
            match port.deliver(chat, &media).await {
                Ok(sent) => {
                    let key =
                        MessageKey::new(chat.platform.clone(), chat.chat.clone(), sent.message_id);
                    if let Err(error) = self
                        .inner
                        .store
                        .index_message(&key, job.id.as_str(), MessageRole::Result)
                        .await
                    {
                        tracing::warn!(job = %job.id, %error, "could not index a re-sent result");
                    }
                }
                Err(error) => {
                    tracing::warn!(job = %job.id, %error, "could not re-send a result");
                    return false;
                }
            }
        }
        true
    }

    /// The link that goes instead of an upload over the chat's limit, in
    /// order of preference: the bot's own (its file kept under
    /// `DATA_DIR/links` until the link expires), the service's when a chat
    /// member can open it; `None` when there is neither.
    async fn link_to(
        &self,
        job: &Job,
        index: usize,
        spooled: &Spooled,
    ) -> Result<Option<Link>, std::io::Error> {
        if let Some(links) = self.inner.limits.links().filter(|_| is_mp4(spooled)) {
            let exp = links.expiry_from_now();
            keep_linked(&spooled.path, &links.file_path(&job.id, index, exp)).await?;
            let hours = links.ttl().as_secs().div_ceil(3600);
            tracing::info!(job = %job.id, index, exp, "over the upload limit: the bot's own link");
            return Ok(Some(Link::Own {
                url: links.url(&job.id, index, exp),
                hours,
            }));
        }
        Ok(public_link(&job.results[index]).map(|url| Link::Service(url.to_owned())))
    }

    /// Over the upload limit: the link to the result, saying why and which.
    async fn send_link(
        &self,
        job: &Job,
        link: &Link,
        bytes: u64,
        limit: u64,
    ) -> Result<Delivered, ChatError> {
        let port = self
            .port(&job.chat.platform)
            .map_err(|e| ChatError::Failed(e.to_string()))?;
        let mb = bytes as f64 / 1_048_576.0;
        let limit_mb = limit as f64 / 1_048_576.0;
        let text = match link {
            Link::Own { url, hours } => say(
                job.lang,
                &Msg::OwnLink {
                    url,
                    mb,
                    limit_mb,
                    hours: *hours,
                },
            ),
            Link::Service(url) => say(job.lang, &Msg::TooLargeLink { url, mb, limit_mb }),
        };
        let message = Outgoing {
            text: format!("{}\n{text}", caption(job)),
            reply_to: job.command_message.clone(),
            buttons: vec![button(job, ButtonAction::Retry)],
            ask_reply: false,
        };
        let message_id = port.send(&job.chat, &message).await?;
        self.inner.metrics.delivered(crate::metrics::Delivery::Link);
        Ok(Delivered {
            message_id,
            file_id: None,
        })
    }
}

/// Reads a download into memory, up to `max` bytes; `None` when it is larger.
async fn read_capped(download: Download, max: usize) -> Result<Option<Bytes>, BackendError> {
    if download
        .content_length
        .is_some_and(|length| length > max as u64)
    {
        return Ok(None);
    }
    let mut stream = download.stream;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
        if bytes.len() > max {
            return Ok(None);
        }
    }
    Ok(Some(Bytes::from(bytes)))
}

/// A link that goes instead of an upload.
enum Link {
    /// The bot's own signed link, working for `hours`.
    Own { url: String, hours: u64 },
    /// The service's public URL of the result.
    Service(String),
}

/// Whether the bot may serve a spooled result as `video/mp4`.
fn is_mp4(spooled: &Spooled) -> bool {
    spooled.mime == "video/mp4"
}

/// Keeps the spool file at `kept` too (a hard link, else a copy), so it
/// outlives the spool's clean-up at delivery.
async fn keep_linked(spooled: &Path, kept: &Path) -> std::io::Result<()> {
    if let Some(dir) = kept.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    match tokio::fs::hard_link(spooled, kept).await {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => {
            tracing::debug!(%error, "no hard link for a linked result; copying it");
            tokio::fs::copy(spooled, kept).await.map(|_| ())
        }
    }
}

/// A link a chat member can open: the service's own http(s) URL, never a
/// `data:` URL or an endpoint that needs our key.
fn public_link(media: &MediaRef) -> Option<&str> {
    match media {
        MediaRef::Url(url) if url.starts_with("https://") || url.starts_with("http://") => {
            Some(url)
        }
        _ => None,
    }
}

pub(super) fn media_kind(job: &Job) -> MediaKind {
    match job.request {
        JobRequest::Image { .. } => MediaKind::Image,
        _ => MediaKind::Video,
    }
}

/// The prompt (shortened) and the job id.
pub(super) fn caption(job: &Job) -> String {
    let prompt = job.request.prompt();
    let mut text: String = prompt.chars().take(MAX_CAPTION_CHARS).collect();
    if prompt.chars().count() > MAX_CAPTION_CHARS {
        text.push('…');
    }
    format!("{text}\n#{}", job.id)
}

/// An upload into a chat under way, counted while it lasts (even when the
/// step is stopped mid-way by a cancel).
struct Uploading<'a> {
    engine: &'a Engine,
    chat: crate::chat::ChatRef,
}

impl<'a> Uploading<'a> {
    fn new(engine: &'a Engine, chat: &crate::chat::ChatRef) -> Self {
        engine.track_upload(chat, 1);
        Uploading {
            engine,
            chat: chat.clone(),
        }
    }
}

impl Drop for Uploading<'_> {
    fn drop(&mut self) {
        self.engine.track_upload(&self.chat, -1);
    }
}

impl Engine {
    /// Counts an upload into `chat` in (or out).
    fn track_upload(&self, chat: &crate::chat::ChatRef, delta: isize) {
        let key = format!("{}:{}", chat.platform, chat.chat);
        let mut uploading = self
            .inner
            .uploading
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let count = uploading.entry(key.clone()).or_default();
        *count = count.saturating_add_signed(delta);
        if *count == 0 {
            uploading.remove(&key);
        }
    }

    /// Whether something is being posted into `chat` right now.
    pub(super) fn uploading_into(&self, chat: &crate::chat::ChatRef) -> bool {
        let key = format!("{}:{}", chat.platform, chat.chat);
        self.inner
            .uploading
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&key)
    }
}
