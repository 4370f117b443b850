//! `GET /media/{job}/{n}.mp4?exp=..&sig=..` (and `HEAD`): a result too large
//! for its chat, served from `DATA_DIR/links` through the bot's own signed
//! link as `video/mp4`, with single byte ranges so that players seek. A
//! bad signature is 403, an expired link 410, a gone file 404. The file is
//! streamed, never read whole.

use std::io::SeekFrom;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sorabot::links::LinkError;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::Shared;

/// Bytes read from the file at a time.
const CHUNK: usize = 64 * 1024;

/// The query of a link.
#[derive(Debug, Deserialize)]
pub(super) struct LinkQuery {
    exp: Option<String>,
    sig: Option<String>,
}

/// Which bytes of the file a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    /// The whole file (no range, or one we do not serve: several ranges).
    All,
    /// Bytes `start..=end`, within the file.
    Part { start: u64, end: u64 },
    /// A range wholly past the end.
    Unsatisfiable,
}

pub(super) async fn serve(
    State(shared): State<Shared>,
    Path((job, file)): Path<(String, String)>,
    Query(query): Query<LinkQuery>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let Some(links) = &shared.links else {
        return refuse(StatusCode::NOT_FOUND, "no such file\n");
    };
    let linked = match links.verify(&job, &file, query.exp.as_deref(), query.sig.as_deref()) {
        Ok(linked) => linked,
        Err(LinkError::Malformed) => return refuse(StatusCode::NOT_FOUND, "no such file\n"),
        Err(LinkError::BadSignature) => {
            return refuse(StatusCode::FORBIDDEN, "this link is not valid\n")
        }
        Err(LinkError::Expired) => return refuse(StatusCode::GONE, "this link has expired\n"),
    };
    let mut opened = match tokio::fs::File::open(&linked.path).await {
        Ok(opened) => opened,
        Err(error) => {
            tracing::debug!(job = %linked.job, %error, "a linked file is gone");
            return refuse(StatusCode::NOT_FOUND, "no such file\n");
        }
    };
    let size = match opened.metadata().await {
        Ok(meta) => meta.len(),
        Err(error) => {
            tracing::warn!(job = %linked.job, %error, "a linked file cannot be read");
            return refuse(StatusCode::NOT_FOUND, "no such file\n");
        }
    };
    let wanted = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Wanted::All, |range| parse_range(range, size));
    let (status, start, length) = match wanted {
        Wanted::All => (StatusCode::OK, 0, size),
        Wanted::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        Wanted::Unsatisfiable => {
            let mut response = refuse(StatusCode::RANGE_NOT_SATISFIABLE, "");
            insert(
                &mut response,
                header::CONTENT_RANGE,
                format!("bytes */{size}"),
            );
            insert(&mut response, header::ACCEPT_RANGES, "bytes".to_owned());
            return response;
        }
    };
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        if let Err(error) = opened.seek(SeekFrom::Start(start)).await {
            tracing::warn!(job = %linked.job, %error, "a linked file cannot be read");
            return refuse(StatusCode::NOT_FOUND, "no such file\n");
        }
        Body::from_stream(ReaderStream::with_capacity(opened.take(length), CHUNK))
    };
    let mut response = (status, body).into_response();
    insert(&mut response, header::CONTENT_TYPE, "video/mp4".to_owned());
    insert(&mut response, header::ACCEPT_RANGES, "bytes".to_owned());
    insert(&mut response, header::CONTENT_LENGTH, length.to_string());
    insert(
        &mut response,
        header::CONTENT_DISPOSITION,
        format!("inline; filename=\"{}-{}.mp4\"", linked.job, linked.index),
    );
    insert(&mut response, header::CACHE_CONTROL, "private".to_owned());
    if status == StatusCode::PARTIAL_CONTENT {
        let end = start + length - 1;
        insert(
            &mut response,
            header::CONTENT_RANGE,
            format!("bytes {start}-{end}/{size}"),
        );
    }
    response
}

/// A short plain answer.
fn refuse(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn insert(response: &mut Response, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(name, value);
    }
}

/// Reads a `Range` header of one byte range (`bytes=START-END`,
/// `bytes=START-`, `bytes=-SUFFIX`) against a file of `size` bytes. Several
/// ranges, another unit or a malformed header: the whole file, as HTTP lets
/// a server answer.
fn parse_range(header: &str, size: u64) -> Wanted {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::All;
    };
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        let digits =
            !text.is_empty() && text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| text.parse().ok()).flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // The last SUFFIX bytes.
        (true, _, Some(suffix)) if suffix > 0 => {
            if size == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part {
                    start: size.saturating_sub(suffix),
                    end: size - 1,
                }
            }
        }
        (true, _, _) => Wanted::Unsatisfiable,
        (false, Some(start), end) if last.trim().is_empty() || end.is_some() => {
            if start >= size {
                return Wanted::Unsatisfiable;
            }
            let end = end.map_or(size - 1, |end| end.min(size - 1));
            if end < start {
                return Wanted::All;
            }
            Wanted::Part { start, end }
        }
        _ => Wanted::All,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges_are_read_and_anything_else_is_the_whole_file() {
        let part = |start, end| Wanted::Part { start, end };
        assert_eq!(parse_range("bytes=10-99", 1000), part(10, 99));
        assert_eq!(parse_range("bytes=10-", 1000), part(10, 999));
        assert_eq!(parse_range("bytes=-100", 1000), part(900, 999));
        assert_eq!(parse_range("bytes=-5000", 1000), part(0, 999));
        assert_eq!(parse_range("bytes=990-5000", 1000), part(990, 999));
        assert_eq!(parse_range("bytes=1000-", 1000), Wanted::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Wanted::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-9", 1000), Wanted::All);
        assert_eq!(parse_range("items=0-1", 1000), Wanted::All);
        assert_eq!(parse_range("bytes=50-10", 1000), Wanted::All);
        assert_eq!(parse_range("bytes=a-b", 1000), Wanted::All);
        assert_eq!(parse_range("bytes=+1-2", 1000), Wanted::All);
    }
}
