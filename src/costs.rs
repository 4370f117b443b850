//! Prices in credits (`COSTS`): what a job costs by model, length, HD and
//! picture count. The default is one credit a job, whatever it is, so
//! `DAILY_QUOTA` counts jobs unless prices are set.
//!
//! `COSTS` is a comma-separated list of entries:
//!
//! | entry | means |
//! | --- | --- |
//! | `sora-2=N` | a `sora-2` video (or remix) costs N credits |
//! | `sora-2-pro=N/Ss` | a `sora-2-pro` video costs N credits per started S seconds |
//! | `hd=xK` | an HD video costs K times as much |
//! | `image=N` | a picture job costs N credits; `image=N/each`: N per picture |
//! | `character=N` | saving a character costs N credits |
//!
//! A video without `--dur` is priced as [`UNSPECIFIED_SECONDS`] seconds.

use std::fmt;

use crate::backend::ModelTier;
use crate::job::JobRequest;

/// The length a video without a given duration is priced at.
pub const UNSPECIFIED_SECONDS: u32 = 10;

/// The price of a video of one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoPrice {
    pub credits: u32,
    /// Priced per started block of this many seconds; `None`: per video.
    pub per_secs: Option<u32>,
}

impl VideoPrice {
    fn of(self, seconds: u32) -> u64 {
        let blocks = match self.per_secs {
            Some(block) => u64::from(seconds.max(1).div_ceil(block)),
            None => 1,
        };
        u64::from(self.credits) * blocks
    }
}

/// What every kind of job costs, in whole credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Costs {
    pub standard: VideoPrice,
    pub pro: VideoPrice,
    /// What an HD video's price is multiplied by.
    pub hd_factor: u32,
    pub image: u32,
    /// `image` is per picture rather than per job.
    pub image_each: bool,
    pub character: u32,
}

impl Default for Costs {
    /// One credit a job, whatever it is.
    fn default() -> Self {
        let one = VideoPrice {
            credits: 1,
            per_secs: None,
        };
        Costs {
            standard: one,
            pro: one,
            hd_factor: 1,
            image: 1,
            image_each: false,
            character: 1,
        }
    }
}

/// What is wrong with a `COSTS` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostsError(pub String);

impl fmt::Display for CostsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CostsError {}

/// The largest price of one entry; keeps every product within a u32.
const MAX_CREDITS: u32 = 10_000;

impl Costs {
    /// Reads `sora-2=1/10s, sora-2-pro=3/10s, hd=x2, image=1`; entries not
    /// given keep their default. An empty text is the default.
    pub fn parse(text: &str) -> Result<Costs, CostsError> {
        let mut costs = Costs::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, value) = entry.split_once('=').ok_or_else(|| {
                CostsError(format!("`{entry}` is not NAME=PRICE (e.g. sora-2=1/10s)"))
            })?;
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            match name.as_str() {
                "hd" => costs.hd_factor = factor(value)?,
                "image" | "images" => match value.strip_suffix("/each") {
                    Some(each) => {
                        costs.image = credits(&name, each)?;
                        costs.image_each = true;
                    }
                    None => {
                        costs.image = credits(&name, value)?;
                        costs.image_each = false;
                    }
                },
                "character" => costs.character = credits(&name, value)?,
                model => match ModelTier::parse(model) {
                    Some(ModelTier::Standard) => costs.standard = video_price(model, value)?,
                    Some(ModelTier::Pro) => costs.pro = video_price(model, value)?,
                    None => {
                        return Err(CostsError(format!(
                            "unknown entry `{model}`: expected sora-2, sora-2-pro, hd, image or character"
                        )))
                    }
                },
            }
        }
        Ok(costs)
    }

    /// Whether these are the default prices (one credit a job).
    pub fn is_default(&self) -> bool {
        *self == Costs::default()
    }

    /// What `request` costs.
    pub fn price(&self, request: &JobRequest) -> u32 {
        let credits = match request {
            JobRequest::Video { options, .. } | JobRequest::Remix { options, .. } => {
                let price = match options.tier {
                    ModelTier::Standard => self.standard,
                    ModelTier::Pro => self.pro,
                };
                let factor = if options.hd { self.hd_factor } else { 1 };
                price.of(options.seconds.unwrap_or(UNSPECIFIED_SECONDS)) * u64::from(factor)
            }
            // The added segment, priced as a standard video of its length.
            JobRequest::Extend { seconds, .. } => self.standard.of(*seconds),
            JobRequest::Image { n, .. } if self.image_each => {
                u64::from(self.image) * u64::from((*n).max(1))
            }
            JobRequest::Image { .. } => u64::from(self.image),
            JobRequest::Character { .. } => u64::from(self.character),
        };
        u32::try_from(credits).unwrap_or(u32::MAX)
    }
}

fn credits(name: &str, value: &str) -> Result<u32, CostsError> {
    match value.parse::<u32>() {
        Ok(n) if n <= MAX_CREDITS => Ok(n),
        _ => Err(CostsError(format!(
            "`{name}={value}`: the price must be a whole number of credits, 0 to {MAX_CREDITS}"
        ))),
    }
}

fn factor(value: &str) -> Result<u32, CostsError> {
    let digits = value.strip_prefix(['x', 'X', '*', '×']).unwrap_or(value);
    match digits.parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err(CostsError(format!(
            "`hd={value}`: expected a whole factor from x1 to x100, e.g. hd=x2"
        ))),
    }
}

fn video_price(model: &str, value: &str) -> Result<VideoPrice, CostsError> {
    let Some((n, block)) = value.split_once('/') else {
        return Ok(VideoPrice {
            credits: credits(model, value)?,
            per_secs: None,
        });
    };
    let secs = block.trim().trim_end_matches(['s', 'S']);
    let per_secs = match secs.parse::<u32>() {
        Ok(s) if (1..=600).contains(&s) => s,
        _ => {
            return Err(CostsError(format!(
                "`{model}={value}`: expected CREDITS/SECONDSs, e.g. {model}=1/10s"
            )))
        }
    };
    Ok(VideoPrice {
        credits: credits(model, n.trim())?,
        per_secs: Some(per_secs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::VideoOptions;

    fn video(tier: ModelTier, seconds: Option<u32>, hd: bool) -> JobRequest {
        JobRequest::Video {
            prompt: "a fox".into(),
            options: VideoOptions {
                aspect: None,
                seconds,
                tier,
                hd,
                watermark: None,
            },
            images: vec![],
            characters: vec![],
            mentions: vec![],
        }
    }

    fn image(n: u8) -> JobRequest {
        JobRequest::Image {
            prompt: "a fox".into(),
            n,
            size: None,
            inputs: vec![],
        }
    }

    #[test]
    fn by_default_every_job_costs_one_credit() {
        let costs = Costs::default();

        assert_eq!(costs.price(&video(ModelTier::Pro, Some(25), true)), 1);
        assert_eq!(costs.price(&image(4)), 1);
        assert!(Costs::parse("").unwrap().is_default());
    }

    #[test]
    fn a_25_second_hd_pro_video_costs_three_blocks_doubled() {
        let costs = Costs::parse("sora-2=1/10s, sora-2-pro=3/10s, hd=x2, image=1").unwrap();

        assert_eq!(costs.price(&video(ModelTier::Pro, Some(25), true)), 18);
        assert_eq!(costs.price(&video(ModelTier::Pro, Some(10), false)), 3);
        assert_eq!(costs.price(&video(ModelTier::Standard, Some(15), false)), 2);
        assert_eq!(costs.price(&video(ModelTier::Standard, None, false)), 1);
    }

    #[test]
    fn an_extension_costs_its_added_seconds_as_a_standard_video() {
        let extend = |seconds| JobRequest::Extend {
            source_job: crate::ids::JobId::generate(),
            source_task: "video_1".into(),
            prompt: "and then it rains".into(),
            seconds,
            mentions: vec![],
        };
        let costs = Costs::parse("sora-2=1/4s, sora-2-pro=3/4s").unwrap();

        assert_eq!(costs.price(&extend(4)), 1);
        assert_eq!(costs.price(&extend(12)), 3);
        assert_eq!(Costs::default().price(&extend(12)), 1);
    }

    #[test]
    fn pictures_cost_per_job_or_per_picture() {
        assert_eq!(Costs::parse("image=2").unwrap().price(&image(4)), 2);
        assert_eq!(Costs::parse("image=2/each").unwrap().price(&image(3)), 6);
    }

    #[test]
    fn a_flat_video_price_ignores_the_length() {
        let costs = Costs::parse("sora-2-pro=5").unwrap();

        assert_eq!(costs.price(&video(ModelTier::Pro, Some(25), false)), 5);
        assert_eq!(costs.price(&video(ModelTier::Standard, Some(25), false)), 1);
    }

    #[test]
    fn a_bad_entry_is_refused_with_what_is_wrong() {
        for (text, says) in [
            ("sora-3=1", "unknown entry `sora-3`"),
            ("sora-2", "is not NAME=PRICE"),
            ("sora-2=-1", "whole number of credits"),
            ("sora-2=1/0s", "CREDITS/SECONDS"),
            ("hd=x0", "factor"),
            ("image=lots", "whole number"),
        ] {
            let error = Costs::parse(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
