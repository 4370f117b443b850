//! Checks of request values shared by the dialects: prompts, URLs, uploaded images, timestamps.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::errors::ApiError;
use super::record::RecordedPart;
use super::state::SimState;

/// Longest span of a character's timestamps, in seconds.
const MAX_CHARACTER_SPAN: f64 = 3.0;

/// An image format recognized by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
    Gif,
}

impl ImageFormat {
    /// Recognizes an image by its first bytes.
    pub fn sniff(data: &[u8]) -> Option<Self> {
        if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else {
            None
        }
    }
}

/// A required prompt: present, not blank, and free of reject words.
pub fn prompt<'a>(
    state: &SimState,
    value: Option<&'a str>,
    param: &str,
) -> Result<&'a str, ApiError> {
    let prompt = value
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| ApiError::missing(param))?;
    if state.is_rejected(prompt) {
        return Err(ApiError::content_policy(param));
    }
    if prompt
        .to_ascii_lowercase()
        .contains(super::relays::BALANCE_WORD)
    {
        return Err(ApiError::balance());
    }
    Ok(prompt)
}

/// An absolute http(s) URL with a host.
pub fn http_url(url: &str, param: &str) -> Result<(), ApiError> {
    let valid = url
        .parse::<http::Uri>()
        .ok()
        .filter(|uri| matches!(uri.scheme_str(), Some("http" | "https")))
        .is_some_and(|uri| uri.host().is_some_and(|h| !h.is_empty()));
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(
            param,
            "invalid_url",
            format!("'{}' is not a valid http(s) URL.", abbreviate(url)),
        ))
    }
}

/// An image reference: an http(s) URL, or a `data:image/...;base64,` URL that decodes.
pub fn image_url(url: &str, param: &str) -> Result<(), ApiError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return http_url(url, param);
    };
    let bad = |why: &str| {
        ApiError::invalid(
            param,
            "invalid_image_url",
            format!("Invalid data URL: {why}."),
        )
    };
    let (meta, payload) = rest.split_once(',').ok_or_else(|| bad("no comma"))?;
    let mime = meta
        .strip_suffix(";base64")
        .ok_or_else(|| bad("only base64 data URLs are supported"))?;
    if !mime.starts_with("image/") {
        return Err(bad("the media type is not an image"));
    }
    let decoded = STANDARD
        .decode(payload.trim())
        .map_err(|_| bad("the payload is not valid base64"))?;
    if decoded.is_empty() {
        return Err(bad("the payload is empty"));
    }
    Ok(())
}

/// An uploaded image file: PNG, JPEG or WebP by magic bytes (GIF too if `allow_gif`).
pub fn image_file(part: &RecordedPart, allow_gif: bool) -> Result<ImageFormat, ApiError> {
    match ImageFormat::sniff(&part.data) {
        Some(ImageFormat::Gif) if !allow_gif => {}
        Some(format) => return Ok(format),
        None => {}
    }
    Err(ApiError::invalid(
        part.name.clone(),
        "invalid_image_format",
        format!(
            "Invalid file '{}' ({}): expected a PNG, JPEG or WebP image.",
            part.filename.as_deref().unwrap_or(&part.name),
            part.content_type.as_deref().unwrap_or("no content type"),
        ),
    ))
}

/// Character timestamps `"START,END"`: seconds, 0 <= START < END, END - START <= 3.
pub fn timestamps(value: Option<&str>, param: &str) -> Result<(f64, f64), ApiError> {
    let value = value.ok_or_else(|| ApiError::missing(param))?;
    let bad = |why: &str| {
        ApiError::invalid(
            param,
            "invalid_timestamps",
            format!("Invalid timestamps '{value}': {why}."),
        )
    };
    let (start, end) = value
        .split_once(',')
        .ok_or_else(|| bad("expected \"START,END\""))?;
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| bad("both bounds must be numbers of seconds"))
    };
    let (start, end) = (number(start)?, number(end)?);
    if start < 0.0 || start >= end {
        return Err(bad("expected 0 <= START < END"));
    }
    if end - start > MAX_CHARACTER_SPAN {
        return Err(bad("the span may not exceed 3 seconds"));
    }
    Ok((start, end))
}

/// A URL shortened for error messages (data: URLs are huge).
fn abbreviate(url: &str) -> String {
    const MAX: usize = 80;
    match url.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &url[..cut]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_urls() {
        assert!(image_url("https://example.com/a.jpg", "p").is_ok());
        assert!(image_url("data:image/png;base64,iVBORw0KGgo=", "p").is_ok());
        assert!(image_url("ftp://example.com/a.jpg", "p").is_err());
        assert!(image_url("data:image/png;base64,@@@", "p").is_err());
        assert!(image_url("data:text/plain;base64,aGVsbG8=", "p").is_err());
        assert!(image_url("data:image/png,raw", "p").is_err());
        assert!(image_url("not a url", "p").is_err());
    }

    #[test]
    fn timestamp_rules() {
        assert_eq!(timestamps(Some("0,3"), "t").ok(), Some((0.0, 3.0)));
        assert_eq!(timestamps(Some(" 1.5 , 2 "), "t").ok(), Some((1.5, 2.0)));
        for bad in ["3,1", "0,4", "-1,1", "a,b", "2", "1,1", "NaN,1"] {
            assert!(timestamps(Some(bad), "t").is_err(), "{bad}");
        }
        assert_eq!(
            timestamps(None, "t").map_err(|e| e.code),
            Err(Some("missing_required_parameter"))
        );
    }

    #[test]
    fn sniffing() {
        assert_eq!(
            ImageFormat::sniff(b"\x89PNG\r\n\x1a\nrest"),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            ImageFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageFormat::Webp)
        );
        assert_eq!(ImageFormat::sniff(b"\0\0\0 ftypisom"), None);
    }
}
