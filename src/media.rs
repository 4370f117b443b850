//! Facts about media files the bot handles: the type from the first bytes,
//! and an MP4's picture size and length from its `moov` box (Telegram shows
//! them before the video plays).

use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Largest `moov` box we read into memory.
const MAX_MOOV: u64 = 16 * 1024 * 1024;

/// The MIME type of a file, from its first bytes.
pub fn sniff_mime(head: &[u8]) -> Option<&'static str> {
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some(if &head[8..12] == b"qt  " {
            "video/quicktime"
        } else {
            "video/mp4"
        });
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some("image/gif");
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some("video/webm");
    }
    None
}

/// Whether the bytes are an image the service takes (JPEG, PNG, WebP).
pub fn is_supported_image(head: &[u8]) -> Option<&'static str> {
    sniff_mime(head).filter(|m| matches!(*m, "image/png" | "image/jpeg" | "image/webp"))
}

/// A file extension for a MIME type.
pub fn extension(mime: &str) -> &'static str {
    match mime {
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        _ => "bin",
    }
}

/// Picture size and length of a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoInfo {
    pub width: u32,
    pub height: u32,
    pub seconds: u32,
}

/// Reads an MP4's size and length; `None` for anything it cannot read.
pub async fn probe_mp4(path: &Path) -> Option<VideoInfo> {
    let mut file = tokio::fs::File::open(path).await.ok()?;
    let len = file.metadata().await.ok()?.len();
    let mut offset = 0u64;
    while offset + 8 <= len {
        file.seek(std::io::SeekFrom::Start(offset)).await.ok()?;
        let mut header = [0u8; 16];
        file.read_exact(&mut header[..8]).await.ok()?;
        let mut size = u64::from(u32::from_be_bytes(header[0..4].try_into().ok()?));
        let kind: [u8; 4] = header[4..8].try_into().ok()?;
        let mut header_len = 8;
        if size == 1 {
            file.read_exact(&mut header[8..16]).await.ok()?;
            size = u64::from_be_bytes(header[8..16].try_into().ok()?);
            header_len = 16;
        } else if size == 0 {
            size = len - offset;
        }
        if size < header_len {
            return None;
        }
        if &kind == b"moov" {
            let body = size - header_len;
            if body > MAX_MOOV {
                return None;
            }
            let mut moov = vec![0u8; body as usize];
            file.read_exact(&mut moov).await.ok()?;
            return parse_moov(&moov);
        }
        offset += size;
    }
    None
}

/// The children of a box body: (type, body).
fn boxes(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.len() < 8 {
            return None;
        }
        let size = u32::from_be_bytes(rest[0..4].try_into().ok()?) as usize;
        if size < 8 || size > rest.len() {
            return None;
        }
        let (this, tail) = rest.split_at(size);
        rest = tail;
        Some((&this[4..8], &this[8..]))
    })
}

fn parse_moov(moov: &[u8]) -> Option<VideoInfo> {
    let mvhd = boxes(moov).find(|(k, _)| *k == b"mvhd")?.1;
    let (timescale, duration) = match mvhd.first()? {
        1 => (
            be_u32(mvhd, 20)?,
            u64::from_be_bytes(mvhd.get(24..32)?.try_into().ok()?),
        ),
        _ => (be_u32(mvhd, 12)?, u64::from(be_u32(mvhd, 16)?)),
    };
    let (width, height) = boxes(moov)
        .filter(|(k, _)| *k == b"trak")
        .filter_map(|(_, trak)| boxes(trak).find(|(k, _)| *k == b"tkhd").map(|(_, b)| b))
        .filter_map(track_size)
        .find(|(w, h)| *w > 0 && *h > 0)?;
    let seconds = if timescale == 0 {
        0
    } else {
        (duration as f64 / f64::from(timescale)).round() as u32
    };
    Some(VideoInfo {
        width,
        height,
        seconds,
    })
}

/// Width and height of a track (16.16 fixed point at the end of `tkhd`).
fn track_size(tkhd: &[u8]) -> Option<(u32, u32)> {
    let at = if *tkhd.first()? == 1 { 88 } else { 76 };
    Some((be_u32(tkhd, at)? >> 16, be_u32(tkhd, at + 4)? >> 16))
}

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_told_by_their_first_bytes() {
        assert_eq!(
            sniff_mime(b"\0\0\0\x20ftypisom\0\0\x02\0"),
            Some("video/mp4")
        );
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_mime(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_mime(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_mime(b"%PDF-1.7"), None);
        assert_eq!(is_supported_image(b"GIF89a......"), None);
    }

    #[tokio::test]
    async fn the_sample_video_reads_as_640_by_360_for_5_seconds() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/assets/sample.mp4");
        assert_eq!(
            probe_mp4(&path).await,
            Some(VideoInfo {
                width: 640,
                height: 360,
                seconds: 5
            })
        );
    }

    #[tokio::test]
    async fn a_file_that_is_not_mp4_reads_as_nothing() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/assets/sample.png");
        assert_eq!(probe_mp4(&path).await, None);
    }
}
