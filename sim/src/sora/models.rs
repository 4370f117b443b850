//! Model names of every dialect and what they imply: duration, orientation, quality, pro.

use super::errors::ApiError;

/// Video durations the native dialect accepts (seed 000).
pub const NATIVE_DURATIONS: [u32; 3] = [10, 15, 25];
/// Video durations the OpenAI dialect accepts: the spec's, then seed 001's.
pub const OPENAI_SECONDS: [u32; 6] = [4, 8, 12, 10, 15, 25];

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Orientation {
    Portrait,
    Landscape,
}

/// The frame of a video: orientation and standard or high definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resolution {
    pub orientation: Orientation,
    pub hd: bool,
}

impl Resolution {
    pub const PORTRAIT: Self = Self {
        orientation: Orientation::Portrait,
        hd: false,
    };
    pub const LANDSCAPE: Self = Self {
        orientation: Orientation::Landscape,
        hd: false,
    };

    /// The OpenAI `size` of this frame.
    pub fn size(self) -> &'static str {
        match (self.orientation, self.hd) {
            (Orientation::Portrait, false) => "720x1280",
            (Orientation::Landscape, false) => "1280x720",
            (Orientation::Portrait, true) => "1024x1792",
            (Orientation::Landscape, true) => "1792x1024",
        }
    }

    /// Parses one of the OpenAI spec's sizes.
    pub fn from_size(size: &str) -> Option<Self> {
        [false, true]
            .into_iter()
            .flat_map(|hd| {
                [Orientation::Portrait, Orientation::Landscape]
                    .map(|orientation| Self { orientation, hd })
            })
            .find(|r| r.size() == size)
    }

    /// Parses a native `aspect_ratio`: `16:9` or `9:16`.
    pub fn from_aspect_ratio(ratio: &str) -> Option<Self> {
        match ratio.trim() {
            "16:9" => Some(Self::LANDSCAPE),
            "9:16" => Some(Self::PORTRAIT),
            _ => None,
        }
    }
}

/// What a video model name implies, before request parameters override it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoModel {
    pub seconds: u32,
    pub resolution: Resolution,
    /// The slower, better pro model.
    pub pro: bool,
}

/// What a chat model generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatModel {
    Video(VideoModel),
    Image,
}

/// The OpenAI spec's model names, dated snapshots included.
const OPENAI_NAMES: [&str; 5] = [
    "sora-2",
    "sora-2-pro",
    "sora-2-2025-10-06",
    "sora-2-pro-2025-10-06",
    "sora-2-2025-12-08",
];

/// `sora-2` / `sora-2-pro` as the native and chat dialects use them: 10 s, 16:9.
pub fn native_model(name: &str) -> Result<VideoModel, ApiError> {
    match name {
        "sora-2" | "sora-2-pro" => Ok(VideoModel {
            seconds: 10,
            resolution: Resolution::LANDSCAPE,
            pro: name == "sora-2-pro",
        }),
        _ => Err(unknown_model(name)),
    }
}

/// Models of the OpenAI video endpoints: the spec's (4 s portrait by default) and seed 001's
/// `sora_video2` with its options.
pub fn openai_model(name: &str) -> Result<VideoModel, ApiError> {
    if OPENAI_NAMES.contains(&name) {
        return Ok(VideoModel {
            seconds: 4,
            resolution: Resolution::PORTRAIT,
            pro: name.contains("-pro"),
        });
    }
    match name.split_once('-').unwrap_or((name, "")) {
        ("sora_video2", options) => sora_video2(name, options),
        _ => Err(unknown_model(name)),
    }
}

/// Models of the chat endpoint (seed 000 §2 and seed 001); only `sora_video2` takes options.
pub fn chat_model(name: &str) -> Result<ChatModel, ApiError> {
    let (base, options) = name.split_once('-').unwrap_or((name, ""));
    match base {
        "sora_image" | "sora_video" if !options.is_empty() => Err(ApiError::bad_value(
            "model",
            format!("The model `{base}` takes no options; only sora_video2 does."),
        )),
        "sora_image" => Ok(ChatModel::Image),
        "sora_video" | "sora_video2" => sora_video2(name, options).map(ChatModel::Video),
        _ => native_model(name).map(ChatModel::Video),
    }
}

/// Parses seed 001's `-`-joined options; default 10 s portrait SD.
fn sora_video2(name: &str, options: &str) -> Result<VideoModel, ApiError> {
    let mut model = VideoModel {
        seconds: 10,
        resolution: Resolution::PORTRAIT,
        pro: false,
    };
    let mut orientation = None;
    let mut seconds = None;
    let mut seen: Vec<&str> = Vec::new();
    let bad = |why: String| ApiError::bad_value("model", format!("Invalid model `{name}`: {why}."));
    for option in options.split('-').filter(|o| !o.is_empty()) {
        if seen.contains(&option) {
            return Err(bad(format!("option `{option}` given twice")));
        }
        seen.push(option);
        match option {
            "portrait" | "landscape" => {
                if orientation.is_some() {
                    return Err(bad("portrait and landscape are exclusive".into()));
                }
                orientation = Some(if option == "portrait" {
                    Orientation::Portrait
                } else {
                    Orientation::Landscape
                });
            }
            "15s" | "25s" => {
                if seconds.is_some() {
                    return Err(bad("15s and 25s are exclusive".into()));
                }
                seconds = Some(if option == "15s" { 15 } else { 25 });
            }
            "hd" => model.resolution.hd = true,
            "pro" => model.pro = true,
            other => return Err(bad(format!("unknown option `{other}`"))),
        }
    }
    if let Some(orientation) = orientation {
        model.resolution.orientation = orientation;
    }
    if let Some(seconds) = seconds {
        model.seconds = seconds;
    }
    Ok(model)
}

fn unknown_model(name: &str) -> ApiError {
    ApiError::invalid(
        "model",
        "model_not_found",
        format!("The model `{name}` does not exist or you do not have access to it."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sora_video2_options_in_any_order() {
        let ChatModel::Video(m) = chat_model("sora_video2-15s-hd-landscape").expect("valid") else {
            panic!("video model expected");
        };
        assert_eq!(m.seconds, 15);
        assert_eq!(m.resolution.size(), "1792x1024");
        assert!(!m.pro);
        let ChatModel::Video(m) = chat_model("sora_video2").expect("valid") else {
            panic!("video model expected");
        };
        assert_eq!((m.seconds, m.resolution), (10, Resolution::PORTRAIT));
        assert!(openai_model("sora_video2-pro-25s").expect("valid").pro);
    }

    #[test]
    fn bad_options_are_refused() {
        for name in [
            "sora_video2-portrait-landscape",
            "sora_video2-15s-25s",
            "sora_video2-hd-hd",
            "sora_video2-4k",
            "sora_video-hd",
            "sora-3",
        ] {
            let err = chat_model(name).expect_err(name);
            assert_eq!(err.param.as_deref(), Some("model"), "{name}");
        }
    }

    #[test]
    fn chat_models() {
        assert_eq!(chat_model("sora_image").expect("image"), ChatModel::Image);
        let ChatModel::Video(m) = chat_model("sora-2-pro").expect("valid") else {
            panic!("video model expected");
        };
        assert!(m.pro);
        assert_eq!(m.resolution, Resolution::LANDSCAPE);
    }

    #[test]
    fn sizes_round_trip() {
        for size in ["720x1280", "1280x720", "1024x1792", "1792x1024"] {
            assert_eq!(
                Resolution::from_size(size).map(Resolution::size),
                Some(size)
            );
        }
        assert_eq!(Resolution::from_size("1x1"), None);
    }
}
