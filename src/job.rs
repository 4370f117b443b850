//! A job: one thing a user asked for, from the command to the delivered file.
//! It is stored whole after every change, so a restart carries it on.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::backend::{
    CharacterRequest, CharacterSource, CharacterUse, ExtendRequest, ImageInput, ImageRequest,
    JobSpec, MediaRef, OutputKind, RemixRequest, TaskId, Timestamps, Unsupported, VideoOptions,
    VideoRequest,
};
use crate::chat::{ChatRef, Delivered};
use crate::command::Lang;
use crate::ids::JobId;

/// How many progress samples a job keeps for planning its polls.
pub const MAX_SAMPLES: usize = 24;

/// An input image kept for a job: a public URL, a file under `DATA_DIR`
/// (a sled store: one machine), or a blob in the store (PostgreSQL: any
/// instance may submit or retry the job).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredImage {
    Url(String),
    File {
        path: PathBuf,
        mime: String,
    },
    /// The bytes under `key` in the store; see [`StoredImage::blob_key`].
    Blob {
        key: String,
        mime: String,
    },
}

/// The prefix of every input image's blob key; swept by age like the
/// files under `DATA_DIR/inputs`.
pub const INPUT_BLOB_PREFIX: &str = "input/";

impl StoredImage {
    /// The blob key of an input image: [`INPUT_BLOB_PREFIX`] and the name
    /// its file has or would have under `DATA_DIR/inputs` (`ID-N.EXT`: a
    /// fresh random id, the image's place among the job's, its type), so a
    /// file moved into the store keeps its name.
    pub fn blob_key(file_name: &str) -> String {
        format!("{INPUT_BLOB_PREFIX}{file_name}")
    }
}

/// A character a prompt names: `@name` as the user wrote it, sent to the
/// service as `@service_name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    pub name: String,
    pub service_name: String,
}

/// What the job asks of the service, in a form that survives a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JobRequest {
    Video {
        prompt: String,
        options: VideoOptions,
        images: Vec<StoredImage>,
        characters: Vec<CharacterUse>,
        /// The characters the prompt names, as the user named them and as
        /// the service knows them (the prompt stays as the user wrote it).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<Mention>,
    },
    Remix {
        /// The job whose video is remixed.
        source_job: JobId,
        /// The service's id of that video.
        source_task: String,
        prompt: String,
        options: VideoOptions,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<Mention>,
    },
    /// A finished video made longer.
    Extend {
        /// The job whose video is extended.
        source_job: JobId,
        /// The service's id of that video.
        source_task: String,
        prompt: String,
        /// Length of the added segment.
        seconds: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<Mention>,
    },
    Character {
        name: String,
        source: CharacterSource,
        timestamps: Timestamps,
    },
    Image {
        prompt: String,
        n: u8,
        size: Option<(u32, u32)>,
        inputs: Vec<StoredImage>,
    },
}

impl JobRequest {
    pub fn output_kind(&self) -> OutputKind {
        match self {
            JobRequest::Video { .. } | JobRequest::Remix { .. } | JobRequest::Extend { .. } => {
                OutputKind::Video
            }
            JobRequest::Character { .. } => OutputKind::Character,
            JobRequest::Image { .. } => OutputKind::Images,
        }
    }

    pub fn prompt(&self) -> &str {
        match self {
            JobRequest::Video { prompt, .. }
            | JobRequest::Remix { prompt, .. }
            | JobRequest::Extend { prompt, .. }
            | JobRequest::Image { prompt, .. } => prompt,
            JobRequest::Character { name, .. } => name,
        }
    }

    /// The video options, for videos and remixes.
    pub fn options(&self) -> Option<&VideoOptions> {
        match self {
            JobRequest::Video { options, .. } | JobRequest::Remix { options, .. } => Some(options),
            _ => None,
        }
    }

    /// The images the request carries (reference images, or pictures to edit).
    pub fn stored_images(&self) -> &[StoredImage] {
        match self {
            JobRequest::Video { images, .. } => images,
            JobRequest::Image { inputs, .. } => inputs,
            _ => &[],
        }
    }

    /// The request's images, to rewrite where they are kept.
    pub fn stored_images_mut(&mut self) -> &mut [StoredImage] {
        match self {
            JobRequest::Video { images, .. } => images,
            JobRequest::Image { inputs, .. } => inputs,
            _ => &mut [],
        }
    }

    /// The files under `DATA_DIR` holding the request's images.
    pub fn kept_files(&self) -> impl Iterator<Item = &std::path::Path> {
        self.stored_images().iter().filter_map(|image| match image {
            StoredImage::File { path, .. } => Some(path.as_path()),
            _ => None,
        })
    }

    /// The keys of the blobs in the store holding the request's images.
    pub fn kept_blobs(&self) -> impl Iterator<Item = &str> {
        self.stored_images().iter().filter_map(|image| match image {
            StoredImage::Blob { key, .. } => Some(key.as_str()),
            _ => None,
        })
    }

    /// The request as the service takes it, with `images` standing for
    /// [`JobRequest::stored_images`] (read back, or placeholders for a check).
    pub fn to_spec(&self, images: Vec<ImageInput>) -> JobSpec {
        match self {
            JobRequest::Video {
                prompt,
                options,
                characters,
                mentions,
                ..
            } => JobSpec::Video(VideoRequest {
                prompt: service_prompt(prompt, mentions),
                options: options.clone(),
                images,
                characters: characters.clone(),
            }),
            JobRequest::Remix {
                source_task,
                prompt,
                options,
                mentions,
                ..
            } => JobSpec::Remix(RemixRequest {
                source: source_task.clone(),
                prompt: service_prompt(prompt, mentions),
                options: options.clone(),
            }),
            JobRequest::Extend {
                source_task,
                prompt,
                seconds,
                mentions,
                ..
            } => JobSpec::Extend(ExtendRequest {
                source: source_task.clone(),
                prompt: service_prompt(prompt, mentions),
                seconds: *seconds,
            }),
            JobRequest::Character {
                name,
                source,
                timestamps,
            } => JobSpec::Character(CharacterRequest {
                source: source.clone(),
                timestamps: *timestamps,
                name: name.clone(),
            }),
            JobRequest::Image {
                prompt, n, size, ..
            } => JobSpec::Image(ImageRequest {
                prompt: prompt.clone(),
                n: *n,
                size: *size,
                inputs: images,
            }),
        }
    }

    /// The key under which durations of such jobs are remembered, e.g. `video/10/std`.
    pub fn duration_key(&self) -> String {
        if let JobRequest::Extend { seconds, .. } = self {
            return format!("extend/{seconds}");
        }
        match self.options() {
            Some(o) => format!(
                "video/{}/{}{}",
                o.seconds.map_or("default".to_owned(), |s| s.to_string()),
                if o.tier == crate::backend::ModelTier::Pro {
                    "pro"
                } else {
                    "std"
                },
                if o.hd { "-hd" } else { "" }
            ),
            None => match self.output_kind() {
                OutputKind::Character => "character".to_owned(),
                _ => "image".to_owned(),
            },
        }
    }
}

/// Why a job failed, in terms the user can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Failure {
    /// The service's moderation refused the prompt or the result.
    ContentPolicy { message: String },
    /// The service refused the request for another reason; its words.
    Rejected { message: String },
    /// The service cannot do what was asked.
    Unsupported(Unsupported),
    /// The generation itself failed on the service.
    Generation { message: String },
    /// The service did not finish within the deadline.
    Timeout { minutes: u64 },
    /// The service refused our key: an operator must act.
    Unauthorized,
    /// The account's balance or quota at the service is used up: an
    /// operator must top it up. The user is refunded like any failure.
    ServiceBalance,
    /// The result was over the size the bot accepts.
    TooLarge { bytes: u64 },
    /// The result could not be put into the chat.
    Delivery,
    /// The video is over the chat's upload limit and there is no link a
    /// chat member could open: the bot has none of its own
    /// (`PUBLIC_BASE_URL` unset) and the service's needs our key.
    NoPublicLink { bytes: u64, limit: u64 },
    /// The service's answer, fetched as the result, was not the media asked
    /// for (an HTML error page, a JSON error) every time it was tried.
    NotMedia {
        /// What it was instead, for the log: a MIME type or "unknown bytes".
        found: String,
    },
    /// The service's result link points where the bot does not fetch from
    /// (its own machine, a private network, a redirect loop).
    RefusedLink {
        /// Why, for the log; not shown in chats (it may name internal hosts).
        reason: String,
    },
    /// The service lost the task.
    Lost,
    /// The bot stopped while it was asking the service to start the job, and
    /// cannot tell whether the service started it: refunded, offered again.
    InDoubt,
    /// The result could not be fetched from the service (too slow, or kept
    /// breaking off); the reason says which.
    Download { reason: String },
    /// The bot's disk could not take the result (full, or not writable).
    Disk,
    /// The service kept failing the same way; its last words.
    GaveUp { message: String },
    /// A bug or an outage on our side; the log has the cause.
    Internal,
}

/// Which part of a job's way keeps failing, for the status while it retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trouble {
    /// The Sora service (submitting, polling, the download's answer).
    Service,
    /// The download of the result (too slow, cut off).
    Download,
    /// Our disk.
    Disk,
    /// The upload into the chat.
    Upload,
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JobState {
    /// Waiting for a free slot toward the service.
    Queued,
    /// The request is on its way to the service: the intent is stored before
    /// the call, so a crash here is known to leave the job in doubt.
    Submitting,
    /// Accepted by the service, no word on it yet.
    Submitted,
    Running {
        progress: Option<f32>,
    },
    /// Done on the service; the file is on its way into the chat.
    Delivering,
    Delivered,
    Failed(Failure),
    Cancelled,
}

impl JobState {
    /// The state's name, for logs: `queued`, `running`, `failed`...
    pub fn name(&self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Submitting => "submitting",
            JobState::Submitted => "submitted",
            JobState::Running { .. } => "running",
            JobState::Delivering => "delivering",
            JobState::Delivered => "delivered",
            JobState::Failed(_) => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Whether the job is over, one way or another.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            JobState::Delivered | JobState::Failed(_) | JobState::Cancelled
        )
    }

    /// Whether the job holds a slot toward the service.
    pub fn holds_slot(&self) -> bool {
        matches!(
            self,
            JobState::Submitting | JobState::Submitted | JobState::Running { .. }
        )
    }
}

/// The downloaded result, kept until the chat has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spooled {
    pub path: PathBuf,
    pub bytes: u64,
    pub mime: String,
}

/// One job, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub owner: String,
    pub owner_name: String,
    pub chat: ChatRef,
    pub lang: Lang,
    pub request: JobRequest,
    pub state: JobState,
    /// The message that asked for the job; answers reply to it.
    pub command_message: Option<String>,
    /// The one message that shows the job's progress.
    pub status_message: Option<String>,
    /// The text last put in the status message, to skip identical edits.
    pub status_text: Option<String>,
    pub status_edited_ms: Option<u64>,
    pub task: Option<TaskId>,
    pub created_ms: u64,
    pub submitted_ms: Option<u64>,
    pub finished_ms: Option<u64>,
    /// When the service was first seen done (for the delivery lag).
    pub done_seen_ms: Option<u64>,
    /// (ms since submission, progress 0..1), the latest last.
    pub samples: Vec<(u64, f32)>,
    pub polls: u32,
    /// Failed attempts in a row (submit, poll or delivery), for backoff.
    pub errors: u32,
    /// The last error of those attempts, in the service's words when it gave
    /// any; shown in the status while retrying.
    #[serde(default)]
    pub last_error: Option<String>,
    /// Where `last_error` came from.
    #[serde(default)]
    pub trouble: Option<Trouble>,
    /// How many attempts in a row ended with exactly `last_error`.
    #[serde(default)]
    pub same_errors: u32,
    /// Submissions sent to the service (each may have cost a generation).
    #[serde(default)]
    pub submit_attempts: u32,
    /// Automatic submissions again after the service provably dropped the job.
    #[serde(default)]
    pub resubmits: u32,
    /// Uploads into the chat started (each may have posted a message).
    #[serde(default)]
    pub upload_attempts: u32,
    /// The job is over but its status message does not say so yet: kept
    /// among the unfinished jobs until it does, so a crash in between is
    /// mended at the next start.
    #[serde(default)]
    pub untold: bool,
    /// The day (since the epoch) whose quota this job used, until refunded.
    pub charged_day: Option<u32>,
    /// The credits charged on `charged_day` (jobs stored before prices
    /// existed cost one).
    #[serde(default = "one_credit")]
    pub cost: u32,
    /// The cost was also charged to the chat's shared budget
    /// (`CHAT_DAILY_QUOTA`), and goes back there on a refund.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chat_charged: bool,
    /// What the service made, once it did.
    pub results: Vec<MediaRef>,
    /// Downloaded results not yet in the chat, in order.
    pub spooled: Vec<Spooled>,
    /// What is already in the chat, in order of `results`.
    pub delivered: Vec<Delivered>,
    /// Results too large to upload that went as links instead.
    pub linked: bool,
}

fn one_credit() -> u32 {
    1
}

impl Job {
    /// Records a progress sample; keeps the last `MAX_SAMPLES`.
    pub fn sample(&mut self, now_ms: u64, progress: f32) {
        let since = now_ms.saturating_sub(self.submitted_ms.unwrap_or(now_ms));
        self.samples.push((since, progress));
        if self.samples.len() > MAX_SAMPLES {
            let excess = self.samples.len() - MAX_SAMPLES;
            self.samples.drain(..excess);
        }
    }

    /// Current progress, if any is known.
    pub fn progress(&self) -> Option<f32> {
        match self.state {
            JobState::Running { progress } => progress,
            JobState::Delivering | JobState::Delivered => Some(1.0),
            _ => None,
        }
    }
}

/// The prompt as the service takes it: each `@name` the user wrote becomes
/// the name the service knows the character by.
fn service_prompt(prompt: &str, mentions: &[Mention]) -> String {
    mentions.iter().fold(prompt.to_owned(), |prompt, mention| {
        replace_mention(&prompt, &mention.name, &mention.service_name)
    })
}

/// Replaces each whole `@name` (any case) with `@username`.
fn replace_mention(prompt: &str, name: &str, username: &str) -> String {
    let is_name_char = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(prompt.len());
    let mut rest = prompt;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .find(|c: char| !is_name_char(c))
            .unwrap_or(after.len());
        out.push('@');
        if after[..end].to_lowercase() == name.to_lowercase() {
            out.push_str(username);
        } else {
            out.push_str(&after[..end]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_rewritten_to_the_service_name() {
        assert_eq!(
            replace_mention("@Bob dances with @bob", "bob", "cameo_1"),
            "@cameo_1 dances with @cameo_1"
        );
        assert_eq!(
            replace_mention("小明 @小明 跳舞", "小明", "cameo_2"),
            "小明 @cameo_2 跳舞"
        );
        assert_eq!(
            replace_mention("@bobby and @bob.", "bob", "c"),
            "@bobby and @c."
        );
    }

    #[test]
    fn the_service_gets_its_names_and_the_job_keeps_the_users() {
        let request = JobRequest::Video {
            prompt: "@rex dancing with @Mia".into(),
            options: VideoOptions::default(),
            images: vec![],
            characters: vec![],
            mentions: vec![
                Mention {
                    name: "rex".into(),
                    service_name: "cameo_ba10".into(),
                },
                Mention {
                    name: "mia".into(),
                    service_name: "cameo_7f".into(),
                },
            ],
        };
        assert_eq!(request.prompt(), "@rex dancing with @Mia");
        let JobSpec::Video(spec) = request.to_spec(vec![]) else {
            panic!("a video request makes a video spec");
        };
        assert_eq!(spec.prompt, "@cameo_ba10 dancing with @cameo_7f");
    }
}
