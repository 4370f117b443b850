//! Downloads: a result streamed from the service into a spool file,
//! size-capped (memory stays flat), within a deadline and above a minimum
//! pace, and checked to be the media asked for before it is kept.

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::deliver::media_kind;
use super::ratelimit::Priority;
use super::Engine;
use crate::backend::BackendError;
use crate::job::{Job, Spooled};
use crate::media;

/// Why a result could not be spooled.
pub(super) enum SpoolError {
    TooLarge(u64),
    Backend(BackendError),
    /// The download was too slow, or ran past its deadline.
    Stalled(Stall),
    /// The bytes were not the media asked for (an error page).
    NotMedia(media::NotMedia),
    Io(std::io::Error),
}

/// How a download fell short of its deadline or pace.
#[derive(Debug, Clone, Copy)]
pub(super) enum Stall {
    Deadline { secs: u64 },
    TooSlow { bytes: u64, secs: u64 },
}

impl Stall {
    /// The reason, in `lang`.
    pub(super) fn words(self, lang: crate::command::Lang) -> String {
        match self {
            Stall::Deadline { secs } => {
                crate::i18n::text(lang, "download-deadline", &[("secs", secs.into())])
            }
            Stall::TooSlow { bytes, secs } => crate::i18n::text(
                lang,
                "download-too-slow",
                &[("bytes", bytes.into()), ("secs", secs.into())],
            ),
        }
    }
}

impl Engine {
    /// Streams result `index` into the spool directory, within the
    /// download's deadline and above its minimum rate.
    pub(super) async fn spool(&self, job: &Job, index: usize) -> Result<Spooled, SpoolError> {
        let limits = &self.inner.limits;
        let deadline = limits.download_deadline;
        match tokio::time::timeout(deadline, self.spool_unbounded(job, index)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(SpoolError::Stalled(Stall::Deadline {
                secs: deadline.as_secs(),
            })),
        }
    }

    async fn spool_unbounded(&self, job: &Job, index: usize) -> Result<Spooled, SpoolError> {
        let max = self.inner.limits.max_result_bytes;
        let task = job
            .task
            .clone()
            .ok_or(SpoolError::Backend(BackendError::UnknownTask))?;
        let media = &job.results[index];
        if self.inner.backend.download_asks_service(media) {
            // A download from elsewhere (a CDN) costs the service nothing.
            self.inner.limiter.acquire(Priority::Deliver).await;
        }
        let download = self
            .inner
            .backend
            .download(&task, media)
            .await
            .map_err(SpoolError::Backend)?;
        if let Some(length) = download.content_length.filter(|l| *l > max) {
            return Err(SpoolError::TooLarge(length));
        }
        let dir = self.inner.limits.spool_dir();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(SpoolError::Io)?;
        let kind = media_kind(job);
        let partial = dir.join(format!("{}-{index}.part", job.id));
        let pace = Pace {
            min_rate: self.inner.limits.download_min_rate,
            window: self.inner.limits.download_grace,
        };
        let written = write_capped(&partial, download.stream, max, pace).await;
        let (bytes, head) = match written {
            Ok(written) => written,
            Err(error) => {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(error);
            }
        };
        let mime = match media::verify_head(kind, &head) {
            Ok(mime) => mime.to_owned(),
            Err(not_media) => {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(SpoolError::NotMedia(not_media));
            }
        };
        let path = dir.join(format!("{}-{index}.{}", job.id, media::extension(&mime)));
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(SpoolError::Io)?;
        Ok(Spooled { path, bytes, mime })
    }
}

/// How fast a download must go: at least `min_rate` bytes a second over
/// each `window` (a trickle is no download).
#[derive(Debug, Clone, Copy)]
struct Pace {
    min_rate: u64,
    window: Duration,
}

/// Writes a stream to `path`, refusing more than `max` bytes and a pace
/// below `pace`; returns the size and the first bytes (to tell the file type).
async fn write_capped(
    path: &Path,
    mut stream: futures::stream::BoxStream<'static, Result<bytes::Bytes, BackendError>>,
    max: u64,
    pace: Pace,
) -> Result<(u64, Vec<u8>), SpoolError> {
    let file = tokio::fs::File::create(path)
        .await
        .map_err(SpoolError::Io)?;
    let mut file = tokio::io::BufWriter::new(file);
    let mut written: u64 = 0;
    let mut head = Vec::with_capacity(media::HEAD_BYTES);
    let window = pace.window.max(Duration::from_millis(100));
    let mut window_start = (Instant::now(), 0u64);
    let mut check = tokio::time::interval_at(Instant::now() + window, window);
    loop {
        let chunk = tokio::select! {
            chunk = stream.next() => chunk,
            _ = check.tick() => {
                let (since, at) = window_start;
                let got = written - at;
                let needed = (pace.min_rate as f64 * since.elapsed().as_secs_f64()) as u64;
                if got < needed {
                    return Err(SpoolError::Stalled(Stall::TooSlow {
                        bytes: got,
                        secs: since.elapsed().as_secs(),
                    }));
                }
                window_start = (Instant::now(), written);
                continue;
            }
        };
        let Some(chunk) = chunk else { break };
        let chunk = chunk.map_err(SpoolError::Backend)?;
        written += chunk.len() as u64;
        if written > max {
            return Err(SpoolError::TooLarge(written));
        }
        if head.len() < media::HEAD_BYTES {
            let take = (media::HEAD_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        file.write_all(&chunk).await.map_err(SpoolError::Io)?;
    }
    file.flush().await.map_err(SpoolError::Io)?;
    file.get_ref().sync_all().await.map_err(SpoolError::Io)?;
    Ok((written, head))
}

/// Whether an I/O error means the disk (or the user's share of it) is full.
pub(super) fn is_disk_full(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || error.raw_os_error() == Some(28)
}
