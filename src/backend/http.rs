//! The HTTP plumbing every dialect shares: base URL with its prefix, the auth
//! header in the configured style, a timeout on every call, the mapping of
//! answers to `BackendError`, and redaction of the key from anything we keep.

use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::config::{AuthStyle, SoraConfig};
use super::error::BackendError;
use super::fetch_guard::{refusal_in, FetchGuard};
use super::status::{field, text_of};
use super::Download;

/// How many characters of an unreadable answer we keep for the log.
const EXCERPT_CHARS: usize = 200;

/// A client for one Sora service.
#[derive(Clone)]
pub(crate) struct SoraHttp {
    /// For ordinary calls: a total timeout per request.
    client: reqwest::Client,
    /// For long answers (downloads, streamed chat): no total timeout, but a
    /// limit on silence between chunks.
    streaming: reqwest::Client,
    /// Always ends with `/`, so joining `v1/...` keeps a path prefix like `/sora`.
    base: Url,
    key: SecretString,
    auth: AuthStyle,
    /// Where a result link may point; also checks every redirect hop and
    /// every resolved address of both clients.
    guard: FetchGuard,
}

impl SoraHttp {
    pub(crate) fn new(config: &SoraConfig) -> Result<Self, BackendError> {
        let guard = FetchGuard::new(&config.base_url, &config.result_hosts);
        let build = |builder: reqwest::ClientBuilder| {
            builder
                .connect_timeout(config.connect_timeout)
                .dns_resolver(guard.resolver())
                .redirect(guard.redirect_policy())
                .user_agent(concat!("sorabot/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| BackendError::Unavailable {
                    reason: format!("cannot build the HTTP client: {e}"),
                })
        };
        let mut base = config.base_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(SoraHttp {
            client: build(reqwest::Client::builder().timeout(config.request_timeout))?,
            streaming: build(reqwest::Client::builder().read_timeout(config.stream_idle_timeout))?,
            base,
            key: config.api_key.clone(),
            auth: config.auth,
            guard,
        })
    }

    /// `path` below the base URL, e.g. `v1/videos/tasks/abc`.
    pub(crate) fn url(&self, path: &str) -> Url {
        // Joining a relative path onto a base ending in `/` cannot fail.
        self.base
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.base.clone())
    }

    /// A request to the service, with the auth header.
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.authed(self.client.request(method, self.url(path)))
    }

    /// A request whose answer may take long to arrive in full.
    pub(crate) fn streaming_request(&self, method: Method, path: &str) -> RequestBuilder {
        self.authed(self.streaming.request(method, self.url(path)))
    }

    fn authed(&self, request: RequestBuilder) -> RequestBuilder {
        let key = self.key.expose_secret();
        let value = match self.auth {
            AuthStyle::Bearer => format!("Bearer {key}"),
            AuthStyle::Raw => key.to_owned(),
        };
        request.header(AUTHORIZATION, value)
    }

    /// Sends and checks the status; a non-2xx answer becomes the matching error.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Response, BackendError> {
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Err(self.status_error(status, &headers, &body))
    }

    /// Sends and reads a JSON answer.
    pub(crate) async fn send_json(&self, request: RequestBuilder) -> Result<Value, BackendError> {
        let response = self.send(request).await?;
        let body = response
            .text()
            .await
            .map_err(|e| self.transport_error(&e))?;
        serde_json::from_str(&body).map_err(|_| self.malformed(&body))
    }

    /// Fetches media. The key goes along only to the service's own origin;
    /// a CDN or any other host never sees it.
    pub(crate) async fn download(&self, url: &str) -> Result<Download, BackendError> {
        if let Some(inline) = url.strip_prefix("data:") {
            return self.inline_download(inline);
        }
        let parsed = Url::parse(url).map_err(|_| self.malformed(url))?;
        self.guard
            .check_url(&parsed)
            .map_err(|refusal| BackendError::Refused {
                reason: self.redact(&refusal.0),
            })?;
        let mut request = self.streaming.get(parsed.clone());
        if parsed.origin() == self.base.origin() {
            request = self.authed(request);
        }
        self.download_response(self.send(request).await?)
    }

    /// The bytes of a `data:` URL (`MIME;base64,DATA`), as a one-chunk stream.
    fn inline_download(&self, inline: &str) -> Result<Download, BackendError> {
        use base64::Engine as _;
        let (meta, data) = inline
            .split_once(',')
            .ok_or_else(|| self.malformed("a data: URL without a comma"))?;
        let mime = meta.trim_end_matches(";base64");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| self.malformed("a data: URL that is not base64"))?;
        Ok(Download {
            content_type: (!mime.is_empty()).then(|| mime.to_owned()),
            content_length: Some(bytes.len() as u64),
            stream: futures::stream::iter([Ok(Bytes::from(bytes))]).boxed(),
        })
    }

    /// Turns an answer into a byte stream for the spool.
    pub(crate) fn download_response(&self, response: Response) -> Result<Download, BackendError> {
        let headers = response.headers();
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_length = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let this = self.clone();
        let stream = response
            .bytes_stream()
            .map_err(move |e| this.transport_error(&e))
            .boxed();
        Ok(Download {
            content_type,
            content_length,
            stream,
        })
    }

    pub(crate) fn transport_error(&self, error: &reqwest::Error) -> BackendError {
        if let Some(refusal) = refusal_in(error) {
            return BackendError::Refused {
                reason: shorten(&self.redact(&refusal.0)),
            };
        }
        let reason = if error.is_timeout() {
            "timed out".to_owned()
        } else if error.is_connect() {
            "could not connect".to_owned()
        } else if error.is_decode() || error.is_body() {
            "the answer broke off".to_owned()
        } else {
            // reqwest's message names the URL (never the key, which sits in a header).
            self.redact(&error.to_string())
        };
        BackendError::Unavailable { reason }
    }

    pub(crate) fn status_error(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &str,
    ) -> BackendError {
        let json: Option<Value> = serde_json::from_str(body).ok();
        match status.as_u16() {
            401 | 403 => BackendError::Unauthorized {
                status: status.as_u16(),
            },
            429 => BackendError::RateLimited {
                retry_after: retry_after(headers, json.as_ref()),
            },
            404 => BackendError::UnknownTask,
            code @ 400..=499 => {
                let (error_code, message) = json.as_ref().map(error_parts).unwrap_or((None, None));
                BackendError::Rejected {
                    status: code,
                    code: error_code,
                    message: shorten(
                        &self.redact(&message.unwrap_or_else(|| body_excerpt(body, status))),
                    ),
                }
            }
            _ => {
                // A server error that says the generation itself failed (or
                // was moderated) is final; any other is an outage.
                let (error_code, message) = json.as_ref().map(error_parts).unwrap_or((None, None));
                let code = error_code.unwrap_or_default().to_ascii_lowercase();
                match message {
                    Some(message) if code.contains("fail") || code.contains("policy") => {
                        BackendError::Failed {
                            reason: shorten(&self.redact(&message)),
                        }
                    }
                    _ => BackendError::Unavailable {
                        reason: format!("HTTP {}", status.as_u16()),
                    },
                }
            }
        }
    }

    pub(crate) fn malformed(&self, body: &str) -> BackendError {
        BackendError::Malformed {
            excerpt: shorten(&self.redact(body)),
        }
    }

    /// Removes the key from text that came from outside (an echoing service).
    pub(crate) fn redact(&self, text: &str) -> String {
        let key = self.key.expose_secret();
        if key.len() >= 4 && text.contains(key) {
            text.replace(key, "[redacted]")
        } else {
            text.to_owned()
        }
    }
}

/// `error.message`/`error.code` (OpenAI shape), or `message`/`msg`/`detail`/`code` at the top.
fn error_parts(json: &Value) -> (Option<String>, Option<String>) {
    let holder = match json.get("error") {
        Some(error @ Value::Object(_)) => error,
        Some(Value::String(message)) => return (None, Some(message.clone())),
        _ => json,
    };
    let code = field(holder, &["code", "type"]).and_then(text_of);
    let message =
        field(holder, &["message", "msg", "detail", "error_description"]).and_then(text_of);
    (code, message)
}

fn body_excerpt(body: &str, status: StatusCode) -> String {
    if body.trim().is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        body.to_owned()
    }
}

/// Cuts text to `EXCERPT_CHARS` characters on a character boundary.
pub(crate) fn shorten(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// The wait a 429 asks for: `Retry-After` in seconds (or a date we treat as
/// unknown), else a `retry_after` field in the body.
fn retry_after(headers: &HeaderMap, json: Option<&Value>) -> Option<Duration> {
    let from_header = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok());
    let from_body = || {
        let json = json?;
        let holder = json.get("error").filter(|e| e.is_object()).unwrap_or(json);
        field(holder, &["retry_after", "retryAfter"]).and_then(Value::as_f64)
    };
    from_header
        .or_else(from_body)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    fn client(key: &str) -> SoraHttp {
        let config = SoraConfig::new(Url::parse("http://127.0.0.1:9/sora").unwrap(), key);
        SoraHttp::new(&config).unwrap()
    }

    #[test]
    fn paths_join_below_the_prefix() {
        let http = client("k");
        assert_eq!(
            http.url("v1/videos/abc").as_str(),
            "http://127.0.0.1:9/sora/v1/videos/abc"
        );
        assert_eq!(
            http.url("/v1/videos").as_str(),
            "http://127.0.0.1:9/sora/v1/videos"
        );
    }

    #[test]
    fn answers_map_to_errors_by_status() {
        let http = client("secret-key-123");
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            http.status_error(StatusCode::TOO_MANY_REQUESTS, &headers, ""),
            BackendError::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        let body = json!({"error": {"message": "prompt violates policy", "code": "content_policy_violation"}});
        let rejected = http.status_error(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            &body.to_string(),
        );
        assert_eq!(
            rejected,
            BackendError::Rejected {
                status: 400,
                code: Some("content_policy_violation".into()),
                message: "prompt violates policy".into()
            }
        );
        assert!(matches!(
            http.status_error(
                StatusCode::BAD_GATEWAY,
                &HeaderMap::new(),
                "<html>502</html>"
            ),
            BackendError::Unavailable { .. }
        ));
        assert_eq!(
            http.status_error(StatusCode::UNAUTHORIZED, &HeaderMap::new(), ""),
            BackendError::Unauthorized { status: 401 }
        );
    }

    #[test]
    fn retry_after_can_come_from_the_body() {
        let body = json!({"error": {"message": "slow down", "retry_after": 2.5}});
        assert_eq!(
            retry_after(&HeaderMap::new(), Some(&body)),
            Some(Duration::from_millis(2500))
        );
    }

    #[test]
    fn an_echoed_key_is_redacted() {
        let http = client("secret-key-123");
        let body = json!({"error": {"message": "bad key secret-key-123"}});
        let err = http.status_error(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            &body.to_string(),
        );
        assert!(!format!("{err} {err:?}").contains("secret-key-123"));
        assert!(!format!("{:?}", http.malformed("xx secret-key-123")).contains("secret-key-123"));
    }

    #[test]
    fn long_text_is_shortened_on_a_char_boundary() {
        let text = "视".repeat(500);
        let short = shorten(&text);
        assert_eq!(short.chars().count(), EXCERPT_CHARS + 1);
    }
}
