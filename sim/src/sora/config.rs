//! Configuration of a simulated Sora relay: dialect defaults, auth, timing and answer shapes.

use std::fmt;
use std::str::FromStr;

use super::faults::Faults;

/// Which relay the simulator primarily impersonates.
///
/// Only decides the defaults of [`SimConfig::for_style`] and the banner: the server always
/// serves the routes of every dialect at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// The native relay of seed 000 (`/v1/videos/generations`, `/v1/videos/tasks/{id}`).
    #[default]
    Native,
    /// The OpenAI-compatible relay of seed 001 (`/sora/v1/videos`, images, chat).
    OpenAi,
    /// A NewAPI-style chat relay (`/v1/chat/completions` only, seed 000 §2).
    Chat,
}

/// How the API key must be presented in the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// `Authorization: Bearer KEY`.
    #[default]
    Bearer,
    /// `Authorization: KEY` (seed 001's "许可证").
    Raw,
}

/// How progress is reported on the native task endpoint and in chat streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressShape {
    /// An integer percentage, 0 to 100.
    #[default]
    Percent,
    /// A float between 0 and 1.
    Fraction,
    /// No progress at all.
    Absent,
}

/// The key and the words used for a task's state on the native task endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateWords {
    /// Key `state`: queued / processing / succeeded / failed (seed 000).
    #[default]
    Seed,
    /// Key `status`: pending / in_progress / completed / error.
    Alt,
    /// Key `status`: QUEUED / RUNNING / SUCCESS / FAILURE.
    Caps,
}

/// Where the result URL sits in a native task answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UrlPlacement {
    /// `data.videos[0].url`, as in seed 000 §3.4.
    #[default]
    DataVideos,
    /// A top-level `url` key.
    TopLevel,
}

/// How a chat answer links the finished video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChatLink {
    /// `<video src='URL' controls></video>`.
    #[default]
    Html,
    /// `[下载视频](URL)`.
    Markdown,
    /// The URL alone on its own line.
    Bare,
}

/// A real relay whose answers the simulator imitates (`SIM_RELAY`, `--relay`); see
/// `docs/relays.md` of the project for each one's shapes and sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Relay {
    /// The simulator's own answers, per [`Shape`].
    #[default]
    Sim,
    /// TheSmallHanCat/sora2api: chat completions, progress in `reasoning_content`, the
    /// video as an HTML `<video>` in `content`, `finish_reason: "STOP"`.
    Sora2Api,
    /// QuantumNous/new-api: `{code, message, data}` task envelopes, OpenAI video objects,
    /// `new_api_error` bodies.
    NewApi,
    /// DouDOU-start/go-sora2api: OpenAI video objects, `{"error": {"message"}}` bodies.
    GoSora2Api,
    /// zhu88cc/Modified_Sora2api: `succeeded` with `url`, synchronous characters, and
    /// sora2api's chat.
    ModifiedSora2Api,
    /// PiAPI: `{code, data: {output, error}, message}` tasks.
    PiApi,
    /// Unified-video gateways (octopusx, anyfast): `sora-2:task_…` ids, text progress,
    /// `video_url`, no content endpoint.
    Unified,
}

/// The variable parts of the native task and chat answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    pub progress: ProgressShape,
    pub states: StateWords,
    pub url_at: UrlPlacement,
    pub chat_link: ChatLink,
}

/// Everything that decides how a simulator behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub style: Style,
    pub auth: AuthMode,
    pub key: String,
    /// More keys the service accepts besides `key`, each as good as it: a
    /// bot run as several instances, each with a key of its own, so the
    /// request log (its `authorization` header) tells who asked.
    pub extra_keys: Vec<String>,
    /// Path prefix of every route, like `/sora`; empty for none.
    pub prefix: String,
    /// Port to bind on 127.0.0.1; 0 picks any free port.
    pub port: u16,
    /// Simulated seconds per real second; tests use about 1000.
    pub time_scale: f64,
    /// Mean simulated duration of a 10 s standard video job.
    pub mean_job_secs: f64,
    /// Relative spread of job durations: 0.3 draws uniformly within ±30 % of the mean.
    pub job_spread: f64,
    /// Seed of the random generator, so runs are reproducible.
    pub seed: u64,
    /// Initial random fault rates; see [`SimHandle::set_faults`](super::SimHandle::set_faults).
    pub faults: Faults,
    pub shape: Shape,
    /// The real relay imitated; [`Relay::Sim`] answers per `shape`.
    pub relay: Relay,
    /// A prompt containing one of these (case-insensitive) is refused at creation with 400.
    pub reject_words: Vec<String>,
    /// A prompt containing one of these (case-insensitive) is accepted, then fails mid-run.
    pub fail_words: Vec<String>,
    /// Serve result videos padded to exactly this many bytes (with a trailing MP4 `free` box).
    pub video_bytes: Option<usize>,
    /// Simulated seconds an image generation takes.
    pub image_delay_secs: f64,
    /// Keep every request (headers and body) for [`SimHandle::requests`](super::SimHandle::requests).
    /// Default true; load runs turn it off so the log does not grow without bound, and
    /// read the cheap [`SimHandle::request_counts`](super::SimHandle::request_counts) instead.
    pub record: bool,
    /// A file to keep tasks in across restarts (JSON lines, the newest
    /// 10,000): a simulator started again over it still knows its videos
    /// and characters. None: tasks live in memory only.
    pub keep_file: Option<std::path::PathBuf>,
}

impl SimConfig {
    /// The defaults of a style: seed 000 uses Bearer keys at the root, seed 001 raw keys
    /// under `/sora`.
    pub fn for_style(style: Style) -> Self {
        let (auth, prefix) = match style {
            Style::Native | Style::Chat => (AuthMode::Bearer, ""),
            Style::OpenAi => (AuthMode::Raw, "/sora"),
        };
        Self {
            style,
            auth,
            key: "sim-key".to_owned(),
            extra_keys: Vec::new(),
            prefix: prefix.to_owned(),
            port: 0,
            time_scale: 1.0,
            mean_job_secs: 120.0,
            job_spread: 0.3,
            seed: 0,
            faults: Faults::default(),
            shape: Shape::default(),
            relay: Relay::default(),
            reject_words: vec!["nsfw".to_owned()],
            fail_words: vec!["[sim:fail]".to_owned()],
            video_bytes: None,
            image_delay_secs: 15.0,
            record: true,
            keep_file: None,
        }
    }

    /// The prefix with a leading slash and no trailing one, or empty.
    pub(crate) fn normalized_prefix(&self) -> String {
        let trimmed = self.prefix.trim_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self::for_style(Style::default())
    }
}

/// Implements `FromStr` and `Display` for a fieldless enum from a table of names, so the
/// command line and the banner spell values the same way.
macro_rules! named_enum {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.to_ascii_lowercase().as_str() {
                    $($name => Ok(Self::$variant),)+
                    other => Err(format!(
                        "unknown {} `{other}` (expected one of: {})",
                        stringify!($ty),
                        [$($name),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$variant => $name,)+ })
            }
        }
    };
}

named_enum!(Style { Native => "native", OpenAi => "openai", Chat => "chat" });
named_enum!(AuthMode { Bearer => "bearer", Raw => "raw" });
named_enum!(ProgressShape { Percent => "percent", Fraction => "fraction", Absent => "absent" });
named_enum!(StateWords { Seed => "seed", Alt => "alt", Caps => "caps" });
named_enum!(UrlPlacement { DataVideos => "data-videos", TopLevel => "top-level" });
named_enum!(ChatLink { Html => "html", Markdown => "markdown", Bare => "bare" });
named_enum!(Relay {
    Sim => "sim",
    Sora2Api => "sora2api",
    NewApi => "new-api",
    GoSora2Api => "go-sora2api",
    ModifiedSora2Api => "modified-sora2api",
    PiApi => "piapi",
    Unified => "unified",
});

impl Relay {
    /// Every profile, for help texts and tests.
    pub const ALL: [Relay; 7] = [
        Relay::Sim,
        Relay::Sora2Api,
        Relay::NewApi,
        Relay::GoSora2Api,
        Relay::ModifiedSora2Api,
        Relay::PiApi,
        Relay::Unified,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_pick_seed_defaults() {
        let openai = SimConfig::for_style(Style::OpenAi);
        assert_eq!(openai.auth, AuthMode::Raw);
        assert_eq!(openai.prefix, "/sora");
        let native = SimConfig::default();
        assert_eq!(native.auth, AuthMode::Bearer);
        assert_eq!(native.prefix, "");
        assert_eq!(native.key, "sim-key");
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(
            "top-level".parse::<UrlPlacement>(),
            Ok(UrlPlacement::TopLevel)
        );
        assert_eq!(UrlPlacement::TopLevel.to_string(), "top-level");
        assert_eq!("OpenAI".parse::<Style>(), Ok(Style::OpenAi));
        assert!("sideways".parse::<ChatLink>().is_err());
    }

    #[test]
    fn prefix_is_normalized() {
        let mut config = SimConfig {
            prefix: "sora/".into(),
            ..SimConfig::default()
        };
        assert_eq!(config.normalized_prefix(), "/sora");
        config.prefix = "/".into();
        assert_eq!(config.normalized_prefix(), "");
    }
}
