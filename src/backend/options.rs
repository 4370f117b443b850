//! Typed requests to the Sora service, what a configured service can do, and the
//! check of one against the other before anything is sent.

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Longest prompt any dialect accepts (the OpenAI videos format's limit).
pub const MAX_PROMPT_CHARS: usize = 32_000;

/// Landscape or portrait; the only two framings Sora 2 renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AspectRatio {
    /// 16:9
    Landscape,
    /// 9:16
    Portrait,
}

impl AspectRatio {
    /// As the native dialect names it.
    pub fn as_ratio(self) -> &'static str {
        match self {
            AspectRatio::Landscape => "16:9",
            AspectRatio::Portrait => "9:16",
        }
    }

    /// Parses `16:9`, `9:16`, `landscape`, `portrait` (and `横屏`/`竖屏`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "16:9" | "landscape" | "horizontal" | "横屏" => Some(AspectRatio::Landscape),
            "9:16" | "portrait" | "vertical" | "竖屏" => Some(AspectRatio::Portrait),
            _ => None,
        }
    }
}

impl fmt::Display for AspectRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_ratio())
    }
}

/// Standard or pro model (`sora-2` / `sora-2-pro`, or seed 001's `-pro` suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ModelTier {
    #[default]
    Standard,
    Pro,
}

/// The options of one video. `None` everywhere means "the service's default",
/// so a service that takes no options still gets a valid request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoOptions {
    pub aspect: Option<AspectRatio>,
    /// Clip length in seconds.
    pub seconds: Option<u32>,
    pub tier: ModelTier,
    /// High definition (seed 001's `hd`; a larger `size` in the OpenAI format).
    pub hd: bool,
    /// Keep the service's watermark (seed 001's `watermark`, default false).
    pub watermark: Option<bool>,
}

/// An image given to the service: a URL it can fetch itself, or bytes we hold.
/// Bytes never leave as a URL that carries a secret (a Telegram file URL does).
#[derive(Clone, PartialEq, Eq)]
pub enum ImageInput {
    Url(String),
    Bytes { mime: String, data: Bytes },
}

impl ImageInput {
    /// A `data:` URL for dialects that only take URLs.
    pub fn to_url(&self) -> String {
        use base64::Engine as _;
        match self {
            ImageInput::Url(url) => url.clone(),
            ImageInput::Bytes { mime, data } => format!(
                "data:{mime};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(data)
            ),
        }
    }
}

impl fmt::Debug for ImageInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageInput::Url(url) => f.debug_tuple("Url").field(url).finish(),
            ImageInput::Bytes { mime, data } => f
                .debug_struct("Bytes")
                .field("mime", mime)
                .field("len", &data.len())
                .finish(),
        }
    }
}

/// Where a character comes from: a video the service made (its task id), or a
/// video anywhere else by URL (the service refuses real people in those).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CharacterSource {
    FromTask(String),
    Url(String),
}

/// The seconds of the source video in which the character appears.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timestamps {
    pub start: f32,
    pub end: f32,
}

impl Timestamps {
    /// Longest span the service accepts for a character.
    pub const MAX_SPAN: f32 = 3.0;

    /// As the service wants it: `"0,3"`.
    pub fn to_param(self) -> String {
        format!("{},{}", trim_float(self.start), trim_float(self.end))
    }

    /// Whether the range is well ordered and short enough.
    pub fn is_valid(self) -> bool {
        self.start >= 0.0 && self.end > self.start && self.end - self.start <= Self::MAX_SPAN
    }
}

fn trim_float(value: f32) -> String {
    if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A character cast into a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterUse {
    pub source: CharacterSource,
    pub timestamps: Timestamps,
    /// The name the service gave it (prompts mention it as `@username`).
    pub username: Option<String>,
    /// The service's id of it, where requests name characters by id (the
    /// OpenAI format's `characters: [{"id"}]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
}

/// Text (and optionally images) to video.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoRequest {
    pub prompt: String,
    pub options: VideoOptions,
    /// Reference images: their presence makes this image-to-video.
    pub images: Vec<ImageInput>,
    pub characters: Vec<CharacterUse>,
}

/// A new video made from one the service already made.
#[derive(Debug, Clone, PartialEq)]
pub struct RemixRequest {
    /// The service's id of the source video (task id or video id).
    pub source: String,
    pub prompt: String,
    pub options: VideoOptions,
}

/// A finished video made longer: the service adds `seconds` directed by
/// `prompt` (the OpenAI format's `POST /videos/extensions`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExtendRequest {
    /// The service's id of the video to extend.
    pub source: String,
    pub prompt: String,
    /// Length of the added segment.
    pub seconds: u32,
}

/// The lengths an extension may add (the spec's `VideoSeconds`).
pub const EXTEND_SECONDS: [u32; 3] = [4, 8, 12];

/// A reusable character cut from a video.
#[derive(Debug, Clone, PartialEq)]
pub struct CharacterRequest {
    pub source: CharacterSource,
    pub timestamps: Timestamps,
    /// The user's name for it; services that name characters take it.
    pub name: String,
}

/// Text to image, or an edit of the given images.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRequest {
    pub prompt: String,
    /// How many variants, 1 to 4.
    pub n: u8,
    /// `width x height`; the service picks 1:1, 3:2 or 2:3 from it.
    pub size: Option<(u32, u32)>,
    /// Images to edit; empty for text to image.
    pub inputs: Vec<ImageInput>,
}

/// One thing to ask of the service.
#[derive(Debug, Clone, PartialEq)]
pub enum JobSpec {
    Video(VideoRequest),
    Remix(RemixRequest),
    Extend(ExtendRequest),
    Character(CharacterRequest),
    Image(ImageRequest),
}

/// The kind of thing a job makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OutputKind {
    Video,
    Images,
    Character,
}

impl JobSpec {
    /// What the job will make.
    pub fn output_kind(&self) -> OutputKind {
        match self {
            JobSpec::Video(_) | JobSpec::Remix(_) | JobSpec::Extend(_) => OutputKind::Video,
            JobSpec::Image(_) => OutputKind::Images,
            JobSpec::Character(_) => OutputKind::Character,
        }
    }

    /// The prompt, where the job has one.
    pub fn prompt(&self) -> Option<&str> {
        match self {
            JobSpec::Video(r) => Some(&r.prompt),
            JobSpec::Remix(r) => Some(&r.prompt),
            JobSpec::Extend(r) => Some(&r.prompt),
            JobSpec::Image(r) => Some(&r.prompt),
            JobSpec::Character(_) => None,
        }
    }
}

/// A feature a service may lack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Feature {
    Characters,
    Remix,
    ImageToVideo,
    Images,
    ImageEdits,
    Hd,
    Pro,
    AspectRatio,
    Duration,
    Watermark,
    RemixOptions,
    Extend,
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::i18n::feature(crate::command::Lang::En, *self))
    }
}

/// Why a request cannot go to this service; each says what would work. Its
/// words are in the catalogue ([`crate::i18n::unsupported`]); `Display`
/// gives the English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unsupported {
    Feature(Feature),
    Duration { requested: u32, allowed: Vec<u32> },
    EmptyPrompt,
    PromptTooLong { len: usize, max: usize },
    TooManyImages { given: usize, max: usize },
    ImageCount { requested: u8, max: u8 },
    ImageSize,
    Timestamps,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::i18n::unsupported(crate::command::Lang::En, self))
    }
}

impl std::error::Error for Unsupported {}

/// What the configured service can do, so a command it cannot do gets a clear
/// message instead of a failed HTTP call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub characters: bool,
    pub remix: bool,
    /// Whether a finished video can be made longer ([`EXTEND_SECONDS`]).
    #[serde(default)]
    pub extend: bool,
    /// Whether a remix may change the framing, length or quality.
    pub remix_options: bool,
    /// Most reference images one video takes (0: no image to video).
    pub max_input_images: usize,
    pub images: bool,
    pub image_edits: bool,
    /// Most images one image request may ask for.
    pub max_images_out: u8,
    /// Selectable durations; empty: the service's default only.
    pub durations: Vec<u32>,
    /// Whether the aspect ratio can be chosen.
    pub aspect_ratio: bool,
    pub hd: bool,
    pub pro: bool,
    pub watermark: bool,
    /// Whether a task survives our restart (false when it lives in one
    /// streamed HTTP answer, as in the chat dialect).
    pub resumable: bool,
}

impl Capabilities {
    /// Checks a request against what the service can do, before any I/O.
    pub fn check(&self, spec: &JobSpec) -> Result<(), Unsupported> {
        if let Some(prompt) = spec.prompt() {
            check_prompt(prompt)?;
        }
        match spec {
            JobSpec::Video(r) => {
                self.check_video_options(&r.options)?;
                if !r.images.is_empty() {
                    self.require(self.max_input_images > 0, Feature::ImageToVideo)?;
                    if r.images.len() > self.max_input_images {
                        return Err(Unsupported::TooManyImages {
                            given: r.images.len(),
                            max: self.max_input_images,
                        });
                    }
                }
                if !r.characters.is_empty() {
                    self.require(self.characters, Feature::Characters)?;
                }
                r.characters
                    .iter()
                    .try_for_each(|c| check_timestamps(c.timestamps))
            }
            JobSpec::Remix(r) => {
                self.require(self.remix, Feature::Remix)?;
                let changes_options =
                    r.options.aspect.is_some() || r.options.seconds.is_some() || r.options.hd;
                if changes_options {
                    self.require(self.remix_options, Feature::RemixOptions)?;
                }
                self.check_video_options(&r.options)
            }
            JobSpec::Extend(r) => {
                self.require(self.extend, Feature::Extend)?;
                if EXTEND_SECONDS.contains(&r.seconds) {
                    Ok(())
                } else {
                    Err(Unsupported::Duration {
                        requested: r.seconds,
                        allowed: EXTEND_SECONDS.to_vec(),
                    })
                }
            }
            JobSpec::Character(r) => {
                self.require(self.characters, Feature::Characters)?;
                check_timestamps(r.timestamps)
            }
            JobSpec::Image(r) => {
                self.require(self.images, Feature::Images)?;
                if !r.inputs.is_empty() {
                    self.require(self.image_edits, Feature::ImageEdits)?;
                }
                if r.n == 0 || r.n > self.max_images_out {
                    return Err(Unsupported::ImageCount {
                        requested: r.n,
                        max: self.max_images_out,
                    });
                }
                match r.size {
                    Some((w, h)) if !(64..=4096).contains(&w) || !(64..=4096).contains(&h) => {
                        Err(Unsupported::ImageSize)
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    fn check_video_options(&self, options: &VideoOptions) -> Result<(), Unsupported> {
        if options.aspect.is_some() {
            self.require(self.aspect_ratio, Feature::AspectRatio)?;
        }
        if let Some(seconds) = options.seconds {
            if self.durations.is_empty() {
                return Err(Unsupported::Feature(Feature::Duration));
            }
            if !self.durations.contains(&seconds) {
                return Err(Unsupported::Duration {
                    requested: seconds,
                    allowed: self.durations.clone(),
                });
            }
        }
        if options.hd {
            self.require(self.hd, Feature::Hd)?;
        }
        if options.tier == ModelTier::Pro {
            self.require(self.pro, Feature::Pro)?;
        }
        if options.watermark.is_some() {
            self.require(self.watermark, Feature::Watermark)?;
        }
        Ok(())
    }

    fn require(&self, available: bool, feature: Feature) -> Result<(), Unsupported> {
        if available {
            Ok(())
        } else {
            Err(Unsupported::Feature(feature))
        }
    }
}

fn check_prompt(prompt: &str) -> Result<(), Unsupported> {
    let len = prompt.chars().count();
    if prompt.trim().is_empty() {
        Err(Unsupported::EmptyPrompt)
    } else if len > MAX_PROMPT_CHARS {
        Err(Unsupported::PromptTooLong {
            len,
            max: MAX_PROMPT_CHARS,
        })
    } else {
        Ok(())
    }
}

fn check_timestamps(timestamps: Timestamps) -> Result<(), Unsupported> {
    if timestamps.is_valid() {
        Ok(())
    } else {
        Err(Unsupported::Timestamps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn native_like() -> Capabilities {
        Capabilities {
            characters: true,
            remix: true,
            extend: false,
            remix_options: true,
            max_input_images: 4,
            images: false,
            image_edits: false,
            max_images_out: 0,
            durations: vec![10, 15, 25],
            aspect_ratio: true,
            hd: false,
            pro: true,
            watermark: false,
            resumable: true,
        }
    }

    fn video(prompt: &str, options: VideoOptions) -> JobSpec {
        JobSpec::Video(VideoRequest {
            prompt: prompt.into(),
            options,
            images: vec![],
            characters: vec![],
        })
    }

    #[test]
    fn a_duration_the_service_lacks_names_the_ones_it_has() {
        let spec = video(
            "a cat",
            VideoOptions {
                seconds: Some(12),
                ..Default::default()
            },
        );
        let err = native_like().check(&spec).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a 12 s video is not available (choose 10, 15, 25)"
        );
    }

    #[test]
    fn empty_and_overlong_prompts_are_refused() {
        let caps = native_like();
        assert_eq!(
            caps.check(&video("  ", VideoOptions::default())),
            Err(Unsupported::EmptyPrompt)
        );
        let long = "x".repeat(MAX_PROMPT_CHARS + 1);
        assert!(matches!(
            caps.check(&video(&long, VideoOptions::default())),
            Err(Unsupported::PromptTooLong { .. })
        ));
    }

    #[test]
    fn hd_and_images_are_refused_where_missing() {
        let caps = native_like();
        let hd = video(
            "a cat",
            VideoOptions {
                hd: true,
                ..Default::default()
            },
        );
        assert_eq!(caps.check(&hd), Err(Unsupported::Feature(Feature::Hd)));
        let image = JobSpec::Image(ImageRequest {
            prompt: "a cat".into(),
            n: 1,
            size: None,
            inputs: vec![],
        });
        assert_eq!(
            caps.check(&image),
            Err(Unsupported::Feature(Feature::Images))
        );
    }

    #[test]
    fn timestamps_must_be_ordered_and_short() {
        let ok = Timestamps {
            start: 0.0,
            end: 3.0,
        };
        assert!(ok.is_valid());
        assert_eq!(ok.to_param(), "0,3");
        assert_eq!(
            Timestamps {
                start: 1.5,
                end: 2.0
            }
            .to_param(),
            "1.5,2"
        );
        assert!(!Timestamps {
            start: 3.0,
            end: 1.0
        }
        .is_valid());
        assert!(!Timestamps {
            start: 0.0,
            end: 4.0
        }
        .is_valid());
        assert!(!Timestamps {
            start: -1.0,
            end: 1.0
        }
        .is_valid());
    }

    #[test]
    fn image_bytes_become_a_data_url_and_debug_hides_them() {
        let input = ImageInput::Bytes {
            mime: "image/png".into(),
            data: Bytes::from_static(b"\x89PNG"),
        };
        assert_eq!(input.to_url(), "data:image/png;base64,iVBORw==");
        assert_eq!(
            format!("{input:?}"),
            r#"Bytes { mime: "image/png", len: 4 }"#
        );
    }
}
