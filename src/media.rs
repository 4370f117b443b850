//! Facts about media files the bot handles, read so that no input can hang
//! or crash it: the type from the first bytes (the `infer` crate), whether
//! those bytes are the media a job asked for, an attached image's picture
//! size (the `imagesize` crate, header only), and an MP4's picture size and
//! length (Telegram shows them before the video plays), read from its `moov`
//! box by the fuzzed `mp4parse` crate.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::chat::MediaKind;

/// Largest `moov` box we read into memory.
const MAX_MOOV: u64 = 16 * 1024 * 1024;
/// Top-level boxes looked at before the search for `moov` gives up.
const MAX_TOP_BOXES: usize = 1024;
/// Bytes of a file's start kept to tell its type.
pub const HEAD_BYTES: usize = 512;

/// Video types a video job may deliver.
const VIDEO_TYPES: &[&str] = &["video/mp4", "video/quicktime", "video/webm"];
/// Image types an image job may deliver.
const IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/webp", "image/gif"];
/// Image types the service takes as input.
const INPUT_IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/webp"];

/// The MIME type of a file, from its first bytes.
pub fn sniff_mime(head: &[u8]) -> Option<&'static str> {
    let found = infer::get(head).map(|t| t.mime_type());
    match found {
        Some("video/x-m4v") => Some("video/mp4"),
        Some(mime) if VIDEO_TYPES.contains(&mime) || IMAGE_TYPES.contains(&mime) => Some(mime),
        // An ISO media file whose brand `infer` does not list (`iso8`,
        // `3gp5`, a relay's own) is still an MP4 box structure.
        None if is_iso_video(head) => Some("video/mp4"),
        other => other,
    }
}

/// `ftyp` at offset 4, with a brand that is not a still image format.
fn is_iso_video(head: &[u8]) -> bool {
    const STILL_BRANDS: &[&[u8; 4]] = &[
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"avif", b"avis",
    ];
    head.len() >= 12 && &head[4..8] == b"ftyp" && !STILL_BRANDS.iter().any(|b| &head[8..12] == *b)
}

/// Bytes that are not the media a job asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, got {found}")]
pub struct NotMedia {
    /// "a video" or "a picture".
    pub expected: &'static str,
    /// A MIME type (`text/html`), or "unknown bytes".
    pub found: String,
}

/// Checks that a result's first bytes are the kind of media asked for:
/// MP4, MOV or WebM for a video, PNG, JPEG, WebP or GIF for a picture.
/// Anything else (an HTML error page, JSON, nothing) is refused.
pub fn verify_head(kind: MediaKind, head: &[u8]) -> Result<&'static str, NotMedia> {
    let (allowed, expected) = match kind {
        MediaKind::Video => (VIDEO_TYPES, "a video"),
        MediaKind::Image => (IMAGE_TYPES, "a picture"),
    };
    match sniff_mime(head) {
        Some(mime) if allowed.contains(&mime) => Ok(mime),
        Some(mime) => Err(NotMedia {
            expected,
            found: mime.to_owned(),
        }),
        None => Err(NotMedia {
            expected,
            found: describe_unknown(head),
        }),
    }
}

/// What bytes `infer` does not know look like, for the log.
fn describe_unknown(head: &[u8]) -> String {
    let text = String::from_utf8_lossy(&head[..head.len().min(64)]).to_ascii_lowercase();
    let text = text.trim_start();
    if head.is_empty() {
        "nothing".to_owned()
    } else if text.starts_with("<!doctype html") || text.starts_with("<html") {
        "text/html".to_owned()
    } else if text.starts_with('{') || text.starts_with('[') {
        "application/json".to_owned()
    } else if text.starts_with('<') {
        "text/xml or html".to_owned()
    } else {
        "unknown bytes".to_owned()
    }
}

/// Whether the bytes are an image the service takes (JPEG, PNG, WebP).
pub fn is_supported_image(head: &[u8]) -> Option<&'static str> {
    sniff_mime(head).filter(|m| INPUT_IMAGE_TYPES.contains(m))
}

/// An attached picture that passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFacts {
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Why an attached picture is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadImage {
    /// Not JPEG, PNG or WebP bytes.
    #[error("not a JPEG, PNG or WebP image")]
    NotAnImage,
    /// The right magic bytes, but no readable header behind them.
    #[error("the image header cannot be read")]
    Unreadable,
    /// Readable, but too small or too large a picture.
    #[error("the picture is {width}x{height}")]
    Dimensions { width: u32, height: u32 },
}

/// Checks an attached picture: real JPEG, PNG or WebP bytes whose header
/// reads, with each side from 1 to `max_side` pixels. Reads the header only.
pub fn check_image(data: &[u8], max_side: u32) -> Result<ImageFacts, BadImage> {
    let mime =
        is_supported_image(&data[..data.len().min(HEAD_BYTES)]).ok_or(BadImage::NotAnImage)?;
    let size = imagesize::blob_size(data).map_err(|_| BadImage::Unreadable)?;
    let side = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let (width, height) = (side(size.width), side(size.height));
    if !(1..=max_side).contains(&width) || !(1..=max_side).contains(&height) {
        return Err(BadImage::Dimensions { width, height });
    }
    Ok(ImageFacts {
        mime,
        width,
        height,
    })
}

/// Largest thumbnail a chat takes (Telegram's rule for `thumbnail`).
pub const MAX_THUMBNAIL_BYTES: usize = 200 * 1024;
/// Longest side of a thumbnail, in pixels (the same rule).
pub const MAX_THUMBNAIL_SIDE: u32 = 320;

/// Whether the bytes are a thumbnail Telegram takes: a JPEG whose header
/// reads, at most 200 kB and 320 pixels a side.
pub fn is_thumbnail(data: &[u8]) -> bool {
    data.len() <= MAX_THUMBNAIL_BYTES
        && sniff_mime(&data[..data.len().min(HEAD_BYTES)]) == Some("image/jpeg")
        && check_image(data, MAX_THUMBNAIL_SIDE).is_ok()
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
    let path: PathBuf = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(path).ok()?;
        probe_reader(std::io::BufReader::new(file))
    })
    .await
    .ok()
    .flatten()
}

/// The same, from bytes in memory.
pub fn probe_mp4_bytes(data: &[u8]) -> Option<VideoInfo> {
    probe_reader(std::io::Cursor::new(data))
}

/// Finds the top-level `moov` box (seeking over the others, so a large
/// `mdat` is never read) and hands it, at most `MAX_MOOV` bytes, to
/// `mp4parse`. Ends on any input: every step moves the offset forward by at
/// least a box header, with overflow checked, for at most `MAX_TOP_BOXES`.
fn probe_reader<R: Read + Seek>(mut file: R) -> Option<VideoInfo> {
    let len = file.seek(SeekFrom::End(0)).ok()?;
    let mut offset = 0u64;
    for _ in 0..MAX_TOP_BOXES {
        if offset.checked_add(8)? > len {
            return None;
        }
        file.seek(SeekFrom::Start(offset)).ok()?;
        let mut header = [0u8; 16];
        file.read_exact(&mut header[..8]).ok()?;
        let mut size = u64::from(u32::from_be_bytes(header[0..4].try_into().ok()?));
        let mut header_len = 8;
        if size == 1 {
            file.read_exact(&mut header[8..16]).ok()?;
            size = u64::from_be_bytes(header[8..16].try_into().ok()?);
            header_len = 16;
        } else if size == 0 {
            size = len - offset;
        }
        if size < header_len {
            return None;
        }
        if &header[4..8] == b"moov" {
            if size > MAX_MOOV || size > len - offset {
                return None;
            }
            file.seek(SeekFrom::Start(offset)).ok()?;
            let mut moov = Vec::new();
            file.by_ref().take(size).read_to_end(&mut moov).ok()?;
            return parse_moov(&moov);
        }
        offset = offset.checked_add(size)?;
    }
    None
}

/// Size and length from a whole `moov` box (header included).
fn parse_moov(moov: &[u8]) -> Option<VideoInfo> {
    let context = mp4parse::read_mp4(&mut std::io::Cursor::new(moov)).ok()?;
    let movie_scale = context.timescale.map(|t| t.0).filter(|t| *t > 0);
    let track = context.tracks.iter().find(|t| {
        t.track_type == mp4parse::TrackType::Video
            && t.tkhd
                .as_ref()
                .is_some_and(|h| h.width >> 16 > 0 && h.height >> 16 > 0)
    })?;
    let tkhd = track.tkhd.as_ref()?;
    let from_movie = movie_scale.map(|scale| (tkhd.duration, scale));
    let from_media = track
        .duration
        .zip(track.timescale)
        .map(|(d, s)| (d.0, s.0))
        .filter(|(_, s)| *s > 0);
    let seconds = from_movie
        .filter(|(d, _)| *d > 0 && *d != u64::from(u32::MAX) && *d != u64::MAX)
        .or(from_media)
        .map_or(0, |(duration, scale)| {
            (duration as f64 / scale as f64)
                .round()
                .min(f64::from(u32::MAX)) as u32
        });
    Some(VideoInfo {
        width: tkhd.width >> 16,
        height: tkhd.height >> 16,
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    const SAMPLE_MP4: &[u8] = include_bytes!("../sim/assets/sample.mp4");
    const SAMPLE_PNG: &[u8] = include_bytes!("../sim/assets/sample.png");
    const SAMPLE_THUMBNAIL: &[u8] = include_bytes!("../sim/assets/thumbnail.jpg");

    #[test]
    fn a_thumbnail_is_a_small_jpeg_and_nothing_else() {
        assert!(is_thumbnail(SAMPLE_THUMBNAIL));
        assert!(!is_thumbnail(SAMPLE_PNG), "a PNG is not taken");
        assert!(
            !is_thumbnail(&SAMPLE_THUMBNAIL[..20]),
            "a cut header is not"
        );
        let mut padded = SAMPLE_THUMBNAIL.to_vec();
        padded.resize(MAX_THUMBNAIL_BYTES + 1, 0);
        assert!(!is_thumbnail(&padded), "over 200 kB is not");
        // The same JPEG claiming 640x360: over 320 px a side.
        let mut wide = SAMPLE_THUMBNAIL.to_vec();
        let sof = wide
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("SOF0");
        wide[sof + 5..sof + 9].copy_from_slice(&[0x01, 0x68, 0x02, 0x80]);
        assert!(!is_thumbnail(&wide));
    }

    #[test]
    fn types_are_told_by_their_first_bytes() {
        assert_eq!(
            sniff_mime(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41"),
            Some("video/mp4")
        );
        assert_eq!(
            sniff_mime(b"\0\0\0\x18ftypiso8\0\0\0\0iso8"),
            Some("video/mp4")
        );
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_mime(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_mime(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_mime(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(is_supported_image(b"GIF89a......"), None);
    }

    #[test]
    fn a_result_must_be_the_media_the_job_asked_for() {
        assert_eq!(verify_head(MediaKind::Video, SAMPLE_MP4), Ok("video/mp4"));
        assert_eq!(verify_head(MediaKind::Image, SAMPLE_PNG), Ok("image/png"));
        let html = b"<html>\r\n<head><title>502 Bad Gateway</title></head>";
        assert_eq!(
            verify_head(MediaKind::Video, html),
            Err(NotMedia {
                expected: "a video",
                found: "text/html".into()
            })
        );
        let json = br#"{"error":{"message":"expired"}}"#;
        assert_eq!(
            verify_head(MediaKind::Image, json).unwrap_err().found,
            "application/json"
        );
        assert_eq!(
            verify_head(MediaKind::Video, SAMPLE_PNG).unwrap_err().found,
            "image/png"
        );
        assert_eq!(
            verify_head(MediaKind::Image, SAMPLE_MP4).unwrap_err().found,
            "video/mp4"
        );
        assert_eq!(
            verify_head(MediaKind::Video, b"").unwrap_err().found,
            "nothing"
        );
        assert!(verify_head(MediaKind::Video, b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").is_err());
    }

    #[test]
    fn an_attached_picture_must_read_and_have_sane_sides() {
        assert_eq!(
            check_image(SAMPLE_PNG, 8192),
            Ok(ImageFacts {
                mime: "image/png",
                width: 512,
                height: 512
            })
        );
        assert_eq!(
            check_image(SAMPLE_PNG, 256),
            Err(BadImage::Dimensions {
                width: 512,
                height: 512
            })
        );
        assert_eq!(
            check_image(b"<html></html>", 8192),
            Err(BadImage::NotAnImage)
        );
        assert_eq!(
            check_image(&SAMPLE_PNG[..12], 8192),
            Err(BadImage::Unreadable)
        );
        let mut zero = SAMPLE_PNG[..64].to_vec();
        zero[16..24].fill(0);
        assert!(check_image(&zero, 8192).is_err());
    }

    #[tokio::test]
    async fn the_sample_video_reads_as_640_by_360_for_5_seconds() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/assets/sample.mp4");
        let expected = Some(VideoInfo {
            width: 640,
            height: 360,
            seconds: 5,
        });
        assert_eq!(probe_mp4(&path).await, expected);
        assert_eq!(probe_mp4_bytes(SAMPLE_MP4), expected);
    }

    #[tokio::test]
    async fn a_file_that_is_not_mp4_reads_as_nothing() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/assets/sample.png");
        assert_eq!(probe_mp4(&path).await, None);
        assert_eq!(probe_mp4(Path::new("/nonexistent/x.mp4")).await, None);
    }

    /// Runs the probe on another thread and says how long it took, or
    /// `None` if it did not end within a second (the old walk never did).
    fn timed_probe(data: Vec<u8>) -> Option<(Option<VideoInfo>, Duration)> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let start = Instant::now();
            let info = probe_mp4_bytes(&data);
            let _ = tx.send((info, start.elapsed()));
        });
        rx.recv_timeout(Duration::from_secs(1)).ok()
    }

    /// A box of 64-bit size chosen so that `offset + size` wraps back to 0:
    /// a walk that adds without checking starts over for ever.
    fn wrapping_mp4() -> Vec<u8> {
        let mut data = Vec::new();
        data.extend_from_slice(&24u32.to_be_bytes());
        data.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
        let offset = data.len() as u64;
        data.extend_from_slice(&1u32.to_be_bytes());
        data.extend_from_slice(b"free");
        data.extend_from_slice(&(0u64.wrapping_sub(offset)).to_be_bytes());
        data.extend_from_slice(&[0u8; 64]);
        data
    }

    #[test]
    fn a_64_bit_box_size_that_wraps_the_offset_ends_within_milliseconds() {
        let (info, took) = timed_probe(wrapping_mp4()).expect("the probe ends");
        assert_eq!(info, None);
        assert!(took < Duration::from_millis(50), "took {took:?}");
    }

    #[test]
    fn boxes_of_size_zero_or_too_small_end_the_walk() {
        let mut tiny = 4u32.to_be_bytes().to_vec();
        tiny.extend_from_slice(b"free\0\0\0\0");
        let mut zero = 0u32.to_be_bytes().to_vec();
        zero.extend_from_slice(b"mdat\0\0\0\0");
        let mut huge_moov = 1u32.to_be_bytes().to_vec();
        huge_moov.extend_from_slice(b"moov");
        huge_moov.extend_from_slice(&u64::MAX.to_be_bytes());
        for data in [tiny, zero, huge_moov, Vec::new(), vec![0; 7]] {
            let (info, _) = timed_probe(data).expect("the probe ends");
            assert_eq!(info, None);
        }
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// A change to the sample: bytes overwritten, cut, or a 32- or
        /// 64-bit big-endian number (box sizes above all) written somewhere.
        #[derive(Debug, Clone)]
        enum Mutation {
            Byte(usize, u8),
            Cut(usize),
            U32(usize, u32),
            U64(usize, u64),
        }

        fn mutation() -> impl Strategy<Value = Mutation> {
            let at = 0..SAMPLE_MP4.len();
            let size = prop_oneof![
                Just(0u32),
                Just(1u32),
                Just(7u32),
                Just(8u32),
                Just(u32::MAX),
                any::<u32>()
            ];
            let large = prop_oneof![Just(0u64), Just(u64::MAX), Just(1u64 << 63), any::<u64>()];
            prop_oneof![
                (at.clone(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
                at.clone().prop_map(Mutation::Cut),
                (at.clone(), size).prop_map(|(i, v)| Mutation::U32(i, v)),
                (at, large).prop_map(|(i, v)| Mutation::U64(i, v)),
            ]
        }

        fn apply(data: &mut Vec<u8>, mutation: &Mutation) {
            let put = |data: &mut Vec<u8>, at: usize, bytes: &[u8]| {
                let end = (at + bytes.len()).min(data.len());
                if at < end {
                    data[at..end].copy_from_slice(&bytes[..end - at]);
                }
            };
            match *mutation {
                Mutation::Byte(at, byte) => put(data, at, &[byte]),
                Mutation::Cut(at) => data.truncate(at),
                Mutation::U32(at, value) => put(data, at, &value.to_be_bytes()),
                Mutation::U64(at, value) => put(data, at, &value.to_be_bytes()),
            }
        }

        /// Offsets of the sample's box headers, where a mutation bites most.
        fn box_starts() -> Vec<usize> {
            let mut starts = Vec::new();
            let mut stack = vec![(0usize, SAMPLE_MP4.len())];
            while let Some((mut at, end)) = stack.pop() {
                while at + 8 <= end {
                    let size =
                        u32::from_be_bytes(SAMPLE_MP4[at..at + 4].try_into().unwrap()) as usize;
                    let kind = &SAMPLE_MP4[at + 4..at + 8];
                    if size < 8 || at + size > end {
                        break;
                    }
                    starts.push(at);
                    if [&b"moov"[..], b"trak", b"mdia", b"minf", b"stbl"].contains(&kind) {
                        stack.push((at + 8, at + size));
                    }
                    at += size;
                }
            }
            starts
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            #[test]
            fn random_bytes_never_hang_or_panic(data in prop::collection::vec(any::<u8>(), 0..4096)) {
                let ended = timed_probe(data);
                prop_assert!(ended.is_some());
            }

            #[test]
            fn a_mutated_sample_never_hangs_or_panics(mutations in prop::collection::vec(mutation(), 1..6)) {
                let mut data = SAMPLE_MP4.to_vec();
                for mutation in &mutations {
                    apply(&mut data, mutation);
                }
                prop_assert!(timed_probe(data).is_some());
            }

            #[test]
            fn a_mutated_box_header_never_hangs_or_panics(
                pick in any::<prop::sample::Index>(),
                size in any::<u32>(),
                large in any::<u64>(),
                wide in any::<bool>(),
            ) {
                let starts = box_starts();
                let at = starts[pick.index(starts.len())];
                let mut data = SAMPLE_MP4.to_vec();
                if wide {
                    data[at..at + 4].copy_from_slice(&1u32.to_be_bytes());
                    data[at + 8..at + 16].copy_from_slice(&large.to_be_bytes());
                } else {
                    data[at..at + 4].copy_from_slice(&size.to_be_bytes());
                }
                prop_assert!(timed_probe(data).is_some());
            }
        }
    }
}
