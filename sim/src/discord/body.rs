//! Request bodies as Discord reads them: JSON, or multipart with a
//! `payload_json` part and `files[n]` uploads.

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequest, Multipart};
use axum::http::request::Parts;
use axum::http::Request;
use bytes::Bytes;
use serde_json::Value;

/// Largest body the fake reads at all (far above any upload limit, so the
/// per-file limit is what answers 413).
pub const READ_LIMIT: usize = 600 * 1024 * 1024;

/// One uploaded file.
#[derive(Debug, Clone)]
pub struct Upload {
    /// `files[0]`, `files[1]`...
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub data: Bytes,
}

impl Upload {
    /// The `n` of `files[n]`, which `attachments[].id` refers to.
    pub fn index(&self) -> Option<u64> {
        self.field
            .strip_prefix("files[")?
            .strip_suffix(']')?
            .parse()
            .ok()
    }
}

/// A parsed body.
#[derive(Debug, Clone, Default)]
pub struct ParsedBody {
    /// The JSON body, or the multipart `payload_json`.
    pub json: Option<Value>,
    pub files: Vec<Upload>,
}

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    Unreadable,
    TooLarge,
}

/// Reads the body of a request.
pub async fn read(parts: &Parts, body: Body) -> Result<ParsedBody, BodyError> {
    let bytes = to_bytes(body, READ_LIMIT)
        .await
        .map_err(|_| BodyError::TooLarge)?;
    let content_type = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return multipart(parts, bytes).await;
    }
    if bytes.is_empty() {
        return Ok(ParsedBody::default());
    }
    let json = serde_json::from_slice(&bytes).map_err(|_| BodyError::Unreadable)?;
    Ok(ParsedBody {
        json: Some(json),
        files: vec![],
    })
}

async fn multipart(parts: &Parts, bytes: Bytes) -> Result<ParsedBody, BodyError> {
    let request = Request::from_parts(parts.clone(), Body::from(bytes));
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|_| BodyError::Unreadable)?;
    let mut parsed = ParsedBody::default();
    while let Some(field) = form.next_field().await.map_err(|_| BodyError::Unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let data = field.bytes().await.map_err(|_| BodyError::Unreadable)?;
        match filename {
            Some(filename) => parsed.files.push(Upload {
                field: name,
                filename,
                content_type,
                data,
            }),
            None if name == "payload_json" => {
                let json = serde_json::from_slice(&data).map_err(|_| BodyError::Unreadable)?;
                parsed.json = Some(json);
            }
            None => {}
        }
    }
    Ok(parsed)
}
