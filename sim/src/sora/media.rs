//! The result files: an embedded real MP4, PNG and JPEG thumbnail, the video optionally padded
//! to a set size.

use anyhow::bail;
use bytes::{BufMut, Bytes, BytesMut};

/// A real H.264 MP4, 640x360, 5 s.
const SAMPLE_MP4: &[u8] = include_bytes!("../../assets/sample.mp4");
/// A real 512x512 PNG, served for images and thumbnails.
const SAMPLE_PNG: &[u8] = include_bytes!("../../assets/sample.png");
/// A real 160x90 baseline JPEG of 502 bytes, served as a video's thumbnail (within
/// Telegram's rule for one: JPEG, at most 200 kB and 320 px a side).
pub const SAMPLE_THUMBNAIL: &[u8] = include_bytes!("../../assets/thumbnail.jpg");

/// Size of a plain MP4 box header: 32-bit size and type.
const BOX_HEADER: usize = 8;

/// The bytes served as results.
#[derive(Debug, Clone)]
pub struct Media {
    pub video: Bytes,
    pub image: Bytes,
    /// A video's preview picture (`?variant=thumbnail`, `thumbnail_url`).
    pub thumbnail: Bytes,
}

impl Media {
    /// The embedded media, the video padded to `video_bytes` if set.
    pub fn new(video_bytes: Option<usize>) -> anyhow::Result<Self> {
        let video = match video_bytes {
            Some(target) => pad_mp4(SAMPLE_MP4, target)?,
            None => Bytes::from_static(SAMPLE_MP4),
        };
        Ok(Self {
            video,
            image: Bytes::from_static(SAMPLE_PNG),
            thumbnail: Bytes::from_static(SAMPLE_THUMBNAIL),
        })
    }
}

/// Appends a `free` box so the file is exactly `target` bytes and still a valid MP4.
fn pad_mp4(original: &'static [u8], target: usize) -> anyhow::Result<Bytes> {
    let Some(extra) = target.checked_sub(original.len()) else {
        bail!(
            "video_bytes {target} is smaller than the sample video ({} bytes)",
            original.len()
        );
    };
    if extra == 0 {
        return Ok(Bytes::from_static(original));
    }
    if extra < BOX_HEADER {
        bail!(
            "video_bytes {target} leaves {extra} bytes, too few for an MP4 box (0 or at least {BOX_HEADER})"
        );
    }
    let mut out = BytesMut::with_capacity(target);
    out.extend_from_slice(original);
    match u32::try_from(extra) {
        Ok(size) => out.put_u32(size),
        // Size 1 announces a 64-bit size right after the type (extra is then far above 16).
        Err(_) => out.put_u32(1),
    }
    out.extend_from_slice(b"free");
    if u32::try_from(extra).is_err() {
        out.put_u64(extra as u64);
    }
    out.resize(target, 0);
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_appends_a_free_box() {
        let target = SAMPLE_MP4.len() + 1000;
        let padded = pad_mp4(SAMPLE_MP4, target).expect("pads");
        assert_eq!(padded.len(), target);
        assert_eq!(&padded[..SAMPLE_MP4.len()], SAMPLE_MP4);
        let tail = &padded[SAMPLE_MP4.len()..];
        assert_eq!(&tail[..4], &1000u32.to_be_bytes());
        assert_eq!(&tail[4..8], b"free");
    }

    #[test]
    fn impossible_sizes_are_refused() {
        assert!(pad_mp4(SAMPLE_MP4, 10).is_err());
        assert!(pad_mp4(SAMPLE_MP4, SAMPLE_MP4.len() + 3).is_err());
        assert_eq!(
            pad_mp4(SAMPLE_MP4, SAMPLE_MP4.len())
                .expect("same size")
                .len(),
            SAMPLE_MP4.len()
        );
    }

    #[test]
    fn samples_are_real_media() {
        assert_eq!(&SAMPLE_MP4[4..8], b"ftyp");
        assert_eq!(&SAMPLE_PNG[..8], b"\x89PNG\r\n\x1a\n");
    }
}
