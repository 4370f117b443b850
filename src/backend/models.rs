//! Model names as users and each service spell them, and what each dialect
//! and model can do: the tiers as users name them (`sora-2`, `sora-2-pro`:
//! in options, choices, settings and captions), seed 000's `sora-2`/
//! `sora-2-pro`, seed 001's `sora_video2` whose options ride on the name
//! (`sora_video2-landscape-hd-15s`), and `sora_image`.

use std::fmt;

use super::config::Dialect;
use super::options::{AspectRatio, Capabilities, ModelTier, VideoOptions};

/// Seed 001's video model family, the one that takes name suffixes.
const SUFFIXED_FAMILY: &str = "sora_video2";
/// What the pro tier adds to a model's name, at the service and for users.
const PRO_SUFFIX: &str = "-pro";

/// The one mapping between tiers and their names.
impl ModelTier {
    /// Every tier, the default first: the choices a user is offered.
    pub const ALL: [ModelTier; 2] = [ModelTier::Standard, ModelTier::Pro];

    /// The tier as users name it: `sora-2`, `sora-2-pro`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelTier::Standard => "sora-2",
            ModelTier::Pro => "sora-2-pro",
        }
    }

    /// A tier as a user or a stored setting names it, with some slack in
    /// the spelling (`sora2`, `standard`, `pro`; any case).
    pub fn parse(text: &str) -> Option<ModelTier> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sora-2" | "sora2" | "standard" => Some(ModelTier::Standard),
            "sora-2-pro" | "sora2-pro" | "sora2pro" | "pro" => Some(ModelTier::Pro),
            _ => None,
        }
    }
}

impl fmt::Display for ModelTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the configured model is seed 001's `sora_video2` family.
pub fn is_suffixed_family(model: &str) -> bool {
    model == SUFFIXED_FAMILY || model.starts_with("sora_video2-")
}

/// The model name for a request in the native and OpenAI dialects: the pro
/// tier of `sora-2` is `sora-2-pro`; the `sora_video2` family gets suffixes.
pub fn model_for_request(base: &str, options: &VideoOptions) -> String {
    if is_suffixed_family(base) {
        return suffixed_model(base, options);
    }
    match options.tier {
        ModelTier::Pro if !base.ends_with(PRO_SUFFIX) => format!("{base}{PRO_SUFFIX}"),
        _ => base.to_owned(),
    }
}

/// Seed 001's model name with options as suffixes, in a fixed order:
/// orientation, `hd`, duration, `pro` (e.g. `sora_video2-landscape-hd-15s`).
/// The service's default (10 s, portrait, SD) adds nothing.
pub fn suffixed_model(base: &str, options: &VideoOptions) -> String {
    let mut name = SUFFIXED_FAMILY.to_owned();
    debug_assert!(is_suffixed_family(base));
    match options.aspect {
        Some(AspectRatio::Landscape) => name.push_str("-landscape"),
        Some(AspectRatio::Portrait) => name.push_str("-portrait"),
        None => {}
    }
    if options.hd {
        name.push_str("-hd");
    }
    match options.seconds {
        Some(15) => name.push_str("-15s"),
        Some(25) => name.push_str("-25s"),
        _ => {}
    }
    if options.tier == ModelTier::Pro {
        name.push_str(PRO_SUFFIX);
    }
    name
}

/// What a dialect offers with a given video model.
pub fn capabilities(dialect: Dialect, video_model: &str) -> Capabilities {
    let suffixed = is_suffixed_family(video_model);
    match dialect {
        Dialect::Native => Capabilities {
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
        },
        Dialect::OpenAi => Capabilities {
            characters: true,
            remix: true,
            extend: true,
            remix_options: false,
            max_input_images: 1,
            images: true,
            image_edits: true,
            max_images_out: 4,
            durations: if suffixed {
                vec![10, 15, 25]
            } else {
                vec![4, 8, 12]
            },
            aspect_ratio: true,
            hd: true,
            pro: true,
            watermark: true,
            resumable: true,
        },
        Dialect::Chat => Capabilities {
            characters: false,
            remix: false,
            extend: false,
            remix_options: false,
            max_input_images: 1,
            images: true,
            image_edits: true,
            max_images_out: 1,
            // Seed 000's chat endpoint takes no options; seed 001's takes
            // them as model-name suffixes.
            durations: if suffixed { vec![10, 15, 25] } else { vec![] },
            aspect_ratio: suffixed,
            hd: suffixed,
            pro: true,
            watermark: false,
            resumable: false,
        },
    }
}

/// The OpenAI format's `size` for a framing: 720p, or 1024x1792 for HD.
pub fn openai_size(options: &VideoOptions) -> Option<&'static str> {
    let aspect = options
        .aspect
        .or(options.hd.then_some(AspectRatio::Portrait))?;
    Some(match (aspect, options.hd) {
        (AspectRatio::Landscape, false) => "1280x720",
        (AspectRatio::Portrait, false) => "720x1280",
        (AspectRatio::Landscape, true) => "1792x1024",
        (AspectRatio::Portrait, true) => "1024x1792",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(
        aspect: Option<AspectRatio>,
        seconds: Option<u32>,
        hd: bool,
        pro: bool,
    ) -> VideoOptions {
        VideoOptions {
            aspect,
            seconds,
            tier: if pro {
                ModelTier::Pro
            } else {
                ModelTier::Standard
            },
            hd,
            watermark: None,
        }
    }

    #[test]
    fn seed_001_options_compose_onto_the_model_name() {
        let landscape_hd_15 = opts(Some(AspectRatio::Landscape), Some(15), true, false);
        assert_eq!(
            suffixed_model("sora_video2", &landscape_hd_15),
            "sora_video2-landscape-hd-15s"
        );
        assert_eq!(
            suffixed_model(
                "sora_video2",
                &opts(Some(AspectRatio::Portrait), None, false, false)
            ),
            "sora_video2-portrait"
        );
        assert_eq!(
            suffixed_model("sora_video2", &opts(None, Some(25), false, true)),
            "sora_video2-25s-pro"
        );
        assert_eq!(
            suffixed_model("sora_video2", &opts(None, Some(10), false, false)),
            "sora_video2"
        );
    }

    #[test]
    fn the_pro_tier_of_sora_2_is_sora_2_pro() {
        let pro = opts(None, None, false, true);
        assert_eq!(model_for_request("sora-2", &pro), "sora-2-pro");
        assert_eq!(model_for_request("sora-2-pro", &pro), "sora-2-pro");
        assert_eq!(
            model_for_request("sora-2", &VideoOptions::default()),
            "sora-2"
        );
    }

    #[test]
    fn a_tier_reads_back_from_its_name() {
        for tier in ModelTier::ALL {
            assert_eq!(ModelTier::parse(tier.as_str()), Some(tier));
            assert_eq!(tier.to_string(), tier.as_str());
        }
        assert_eq!(ModelTier::parse(" Sora2Pro "), Some(ModelTier::Pro));
        assert_eq!(ModelTier::parse("sora-3"), None);
    }

    #[test]
    fn openai_sizes_follow_framing_and_hd() {
        assert_eq!(openai_size(&VideoOptions::default()), None);
        assert_eq!(
            openai_size(&opts(Some(AspectRatio::Landscape), None, false, false)),
            Some("1280x720")
        );
        assert_eq!(
            openai_size(&opts(Some(AspectRatio::Portrait), None, true, false)),
            Some("1024x1792")
        );
    }

    #[test]
    fn chat_without_suffixes_offers_no_options() {
        let caps = capabilities(Dialect::Chat, "sora-2");
        assert!(caps.durations.is_empty() && !caps.aspect_ratio && !caps.resumable);
        let caps = capabilities(Dialect::Chat, "sora_video2");
        assert_eq!(caps.durations, vec![10, 15, 25]);
    }
}
