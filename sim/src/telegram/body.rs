//! Reads a request's parameters the four ways the Bot API takes them: the
//! query string, a JSON body, a form-urlencoded body and a multipart body
//! (where file parts are uploads, named by their parameter or by the id an
//! `attach://ID` value points at).

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::Form;
use bytes::Bytes;
use serde_json::Value;

use super::errors::ApiError;
use super::spec::{Raw, Upload};

/// A request's parameters before the check.
#[derive(Debug, Default)]
pub struct RawRequest {
    pub fields: Vec<(String, Raw)>,
    /// File parts by part name.
    pub attachments: HashMap<String, Upload>,
    pub multipart: bool,
}

/// Reads the parameters of a buffered request. `is_field` says whether a
/// part name is a parameter of the method (a file part under a parameter's
/// name is that parameter; any other file part is an attachment).
pub async fn read(
    parts: &Parts,
    body: Bytes,
    is_field: impl Fn(&str) -> bool,
) -> Result<RawRequest, ApiError> {
    let mut raw = RawRequest::default();
    if let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri) {
        raw.fields
            .extend(pairs.into_iter().map(|(k, v)| (k, Raw::Text(v))));
    }
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        raw.multipart = true;
        read_multipart(parts, body, &is_field, &mut raw).await?;
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let request = Request::from_parts(parts.clone(), Body::from(body));
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(request, &())
            .await
            .map_err(|_| ApiError::bad("can't parse form body"))?;
        raw.fields
            .extend(pairs.into_iter().map(|(k, v)| (k, Raw::Text(v))));
    } else if !body.iter().all(u8::is_ascii_whitespace) {
        let value: Value =
            serde_json::from_slice(&body).map_err(|_| ApiError::bad("can't parse JSON object"))?;
        let Value::Object(object) = value else {
            return Err(ApiError::bad("can't parse JSON object"));
        };
        raw.fields
            .extend(object.into_iter().map(|(k, v)| (k, Raw::Json(v))));
    }
    Ok(raw)
}

async fn read_multipart(
    parts: &Parts,
    body: Bytes,
    is_field: &impl Fn(&str) -> bool,
    raw: &mut RawRequest,
) -> Result<(), ApiError> {
    let request = Request::from_parts(parts.clone(), Body::from(body));
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|_| ApiError::bad("can't parse multipart/form-data body"))?;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| ApiError::bad("can't parse multipart/form-data body"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let data = field
            .bytes()
            .await
            .map_err(|_| ApiError::bad("can't parse multipart/form-data body"))?;
        match filename {
            Some(filename) => {
                let upload = Upload {
                    part: name.clone(),
                    filename: Some(filename),
                    content_type,
                    data,
                };
                if is_field(&name) {
                    raw.fields.push((name, Raw::File(upload)));
                } else {
                    raw.attachments.insert(name, upload);
                }
            }
            None => {
                let text = String::from_utf8(data.to_vec())
                    .map_err(|_| ApiError::bad(format!("parameter \"{name}\" is not UTF-8")))?;
                raw.fields.push((name, Raw::Text(text)));
            }
        }
    }
    Ok(())
}
