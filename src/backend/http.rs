//! The HTTP plumbing every dialect shares: base URL with its prefix, the auth
//! header in the configured style, a timeout on every call, the mapping of
//! answers to `BackendError`, and redaction of the key from anything we keep.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::config::{AuthStyle, SoraConfig};
use super::endpoint::endpoint_kind;
use super::error::{is_balance_text, is_policy_text, BackendError};
use super::fetch_guard::{refusal_in, FetchGuard};
use super::status::{field, text_of};
use super::Download;
use crate::metrics::Metrics;

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
    /// Where each request's latency and error are counted, once an engine
    /// owns the backend (shared by every clone).
    metrics: Arc<RwLock<Option<Metrics>>>,
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
            metrics: Arc::default(),
        })
    }

    /// Counts every request from now on in `metrics`.
    pub(crate) fn observe(&self, metrics: &Metrics) {
        let mut slot = self.metrics.write().unwrap_or_else(|p| p.into_inner());
        *slot = Some(metrics.clone());
    }

    fn metrics(&self) -> Option<Metrics> {
        self.metrics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The path of `url` below the base URL, for its endpoint kind.
    fn relative_path<'u>(&self, url: &'u Url) -> &'u str {
        url.path()
            .strip_prefix(self.base.path())
            .unwrap_or(url.path())
    }

    /// Whether `url` is served by the service's own API origin (scheme, host
    /// and port of the base URL), as opposed to a CDN or a `data:` URL.
    pub(crate) fn on_service_origin(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|url| url.origin() == self.base.origin())
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
    /// Each call is logged (method, path without its query, status, time)
    /// inside the caller's span, which names the job.
    /// Each call's latency, and its error if any, is counted in the metrics
    /// under its endpoint kind.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Response, BackendError> {
        self.send_as(request, None).await
    }

    /// [`SoraHttp::send`], counted under `endpoint`.
    pub(crate) async fn send_counted(
        &self,
        request: RequestBuilder,
        endpoint: &'static str,
    ) -> Result<Response, BackendError> {
        self.send_as(request, Some(endpoint)).await
    }

    /// [`SoraHttp::send`], counted under `endpoint` when given, else under
    /// the kind its method and path name.
    async fn send_as(
        &self,
        request: RequestBuilder,
        endpoint: Option<&'static str>,
    ) -> Result<Response, BackendError> {
        let (client, request) = request.build_split();
        let request = request.map_err(|e| self.transport_error(&e))?;
        let (method, path) = (request.method().clone(), request.url().path().to_owned());
        let endpoint =
            endpoint.unwrap_or_else(|| endpoint_kind(&method, self.relative_path(request.url())));
        let metrics = self.metrics();
        let started = std::time::Instant::now();
        let sent = client.execute(request).await;
        let elapsed = started.elapsed();
        let ms = elapsed.as_millis() as u64;
        let response = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                tracing::debug!(%method, %path, status, ms, "service answered");
                response
            }
            Err(error) => {
                let error = self.transport_error(&error);
                tracing::debug!(%method, %path, ms, %error, "service call failed");
                if let Some(m) = &metrics {
                    m.service_answered(endpoint, elapsed, Some(&error));
                }
                return Err(error);
            }
        };
        if response.status().is_success() {
            if let Some(m) = &metrics {
                m.service_answered(endpoint, elapsed, None);
            }
            return Ok(response);
        }
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        let error = self.status_error(status, &headers, &body);
        if let Some(m) = &metrics {
            m.service_answered(endpoint, elapsed, Some(&error));
        }
        Err(error)
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
        self.download_as(url, "download").await
    }

    /// [`SoraHttp::download`], counted under `endpoint` (a thumbnail's
    /// fetch is not a result's download).
    pub(crate) async fn download_as(
        &self,
        url: &str,
        endpoint: &'static str,
    ) -> Result<Download, BackendError> {
        if let Some(inline) = url.strip_prefix("data:") {
            return self.inline_download(inline);
        }
        // A link that does not parse will not parse next time either.
        let parsed = Url::parse(url).map_err(|_| BackendError::Refused {
            reason: format!(
                "the result link is not a URL: {}",
                shorten(&self.redact(url))
            ),
        })?;
        self.guard
            .check_url(&parsed)
            .map_err(|refusal| BackendError::Refused {
                reason: self.redact(&refusal.0),
            })?;
        let mut request = self.streaming.get(parsed.clone());
        if parsed.origin() == self.base.origin() {
            request = self.authed(request);
        }
        self.download_response(self.send_as(request, Some(endpoint)).await?)
    }

    /// The bytes of a `data:` URL (`MIME;base64,DATA`), as a one-chunk stream.
    fn inline_download(&self, inline: &str) -> Result<Download, BackendError> {
        use base64::Engine as _;
        let (meta, data) = inline
            .split_once(',')
            .ok_or_else(|| BackendError::Refused {
                reason: "a data: URL without a comma".into(),
            })?;
        let mime = meta.trim_end_matches(";base64");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| BackendError::Refused {
                reason: "a data: URL that is not base64".into(),
            })?;
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

    /// A failed exchange, sorted by whether the request can have reached the
    /// service: only a failed connection proves it did not.
    pub(crate) fn transport_error(&self, error: &reqwest::Error) -> BackendError {
        if let Some(refusal) = refusal_in(error) {
            return BackendError::Refused {
                reason: shorten(&self.redact(&refusal.0)),
            };
        }
        if error.is_connect() {
            let reason = if error.is_timeout() {
                "timed out connecting"
            } else {
                "could not connect"
            };
            return BackendError::Unavailable {
                reason: reason.to_owned(),
            };
        }
        let reason = if error.is_timeout() {
            "timed out".to_owned()
        } else if error.is_decode() || error.is_body() {
            "the answer broke off".to_owned()
        } else {
            // reqwest's message names the URL (never the key, which sits in a header).
            self.redact(&error.to_string())
        };
        BackendError::Interrupted { reason }
    }

    pub(crate) fn status_error(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &str,
    ) -> BackendError {
        let json: Option<Value> = serde_json::from_str(body).ok();
        let (error_code, message) = json.as_ref().map(error_parts).unwrap_or((None, None));
        let message = message.map(|m| shorten(&self.redact(&m)));
        let code_text = error_code.clone().unwrap_or_default();
        let says_balance = |m: &Option<String>| {
            is_balance_text(&code_text) || m.as_deref().is_some_and(is_balance_text)
        };
        match status.as_u16() {
            402 => BackendError::Exhausted {
                message: message.unwrap_or_else(|| "HTTP 402 Payment Required".to_owned()),
            },
            401 | 403 | 429 if says_balance(&message) => BackendError::Exhausted {
                message: message.unwrap_or_else(|| code_text.clone()),
            },
            // Some relays refuse moderated prompts with a 403.
            code @ (401 | 403)
                if is_policy_text(&code_text) || message.as_deref().is_some_and(is_policy_text) =>
            {
                BackendError::Rejected {
                    status: code,
                    code: error_code,
                    message: message.unwrap_or_else(|| code_text.clone()),
                }
            }
            401 | 403 => BackendError::Unauthorized {
                status: status.as_u16(),
                message: message.or_else(|| plain_excerpt(&self.redact(body))),
            },
            429 => BackendError::RateLimited {
                retry_after: retry_after(headers, json.as_ref()),
            },
            404 => BackendError::UnknownTask,
            400..=499 if says_balance(&message) => BackendError::Exhausted {
                message: message.unwrap_or(code_text),
            },
            code @ 400..=499 => BackendError::Rejected {
                status: code,
                code: error_code,
                message: message
                    .unwrap_or_else(|| shorten(&self.redact(&body_excerpt(body, status)))),
            },
            code => {
                // A server error that says the generation itself failed (or
                // was moderated) is final; any other is an outage, which
                // keeps the service's words so a message repeated again and
                // again can be told from a passing fault.
                let lower = code_text.to_ascii_lowercase();
                let generation_failed = lower.contains("generation_failed")
                    || lower.contains("policy")
                    || lower.contains("moderation");
                match message {
                    Some(message) if generation_failed => BackendError::Failed { reason: message },
                    Some(message) if says_balance(&Some(message.clone())) => {
                        BackendError::Exhausted { message }
                    }
                    Some(message) => BackendError::Unavailable {
                        reason: shorten(&format!("HTTP {code}: {message}")),
                    },
                    None => BackendError::Unavailable {
                        reason: match plain_excerpt(&self.redact(body)) {
                            Some(text) => shorten(&format!("HTTP {code}: {text}")),
                            None => format!("HTTP {code}"),
                        },
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

/// The service's code and message in an error body, in every shape relays
/// use: OpenAI's `{"error": {"message", "code"|"type"}}`, `{"error": "text"}`,
/// FastAPI's `{"detail": "text"}` (or a list of validation errors), and the
/// task gateways' envelope `{"code", "message"|"msg", "data"}`, whose message
/// may itself be the upstream's JSON error. Empty strings count as absent.
pub(crate) fn error_parts(json: &Value) -> (Option<String>, Option<String>) {
    error_parts_at(json, 0)
}

fn error_parts_at(json: &Value, depth: u8) -> (Option<String>, Option<String>) {
    let (code, message) = match json.get("error") {
        Some(error @ Value::Object(_)) => (
            field(error, &["code", "type"]).and_then(text_of),
            field(
                error,
                &[
                    "message",
                    "msg",
                    "detail",
                    "raw_message",
                    "error_description",
                ],
            )
            .and_then(text_of),
        ),
        Some(Value::String(message)) if !message.trim().is_empty() => (
            field(json, &["code", "type"]).and_then(text_of),
            Some(message.trim().to_owned()),
        ),
        _ => {
            let detail = match json.get("detail") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|i| i.get("msg").and_then(text_of))
                    .reduce(|a, b| format!("{a}; {b}")),
                Some(other @ Value::Object(_)) => {
                    field(other, &["message", "msg"]).and_then(text_of)
                }
                Some(other) => text_of(other),
                None => None,
            };
            (
                field(json, &["code", "type", "error_code"]).and_then(text_of),
                field(json, &["message", "msg", "error_description", "error_msg"])
                    .and_then(text_of)
                    .or(detail),
            )
        }
    };
    // A gateway that wraps the upstream's answer as its message, whole or
    // after a prefix ("API request failed: 400 - {...}").
    if let Some(text) = &message {
        if depth < 2 {
            if let Some((prefix, inner)) = embedded_json(text) {
                let (inner_code, inner_message) = error_parts_at(&inner, depth + 1);
                if let Some(inner_message) = inner_message {
                    let message = if prefix.is_empty() {
                        inner_message
                    } else {
                        format!("{prefix} {inner_message}")
                    };
                    return (inner_code.or(code), Some(message));
                }
            }
        }
    }
    (code, message)
}

/// A JSON object inside a text, and the words before it.
fn embedded_json(text: &str) -> Option<(String, Value)> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    let inner = serde_json::from_str::<Value>(text.get(start..=end)?).ok()?;
    inner.is_object().then(|| {
        let prefix = text[..start].trim().trim_end_matches(['-', ':']).trim();
        (prefix.to_owned(), inner)
    })
}

/// The message of an error that may wrap the upstream's JSON error inside
/// its text; the text itself when it wraps nothing.
pub(crate) fn unwrap_error_text(text: &str) -> String {
    match error_parts(&serde_json::json!({ "message": text })) {
        (_, Some(message)) => message,
        _ => text.to_owned(),
    }
}

/// The start of a plain-text body worth keeping in a reason; none for an
/// empty body or an HTML page.
fn plain_excerpt(body: &str) -> Option<String> {
    let text = body.trim();
    let lower = text
        .get(..text.len().min(64))
        .unwrap_or(text)
        .to_ascii_lowercase();
    if text.is_empty() || lower.starts_with('<') || lower.contains("<html") {
        return None;
    }
    text.lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| shorten(l.trim()))
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
            BackendError::Unauthorized {
                status: 401,
                message: None
            }
        );
    }

    fn error_of(http: &SoraHttp, status: u16, body: &str) -> BackendError {
        http.status_error(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body,
        )
    }

    #[test]
    fn refused_keys_keep_the_services_words() {
        let http = client("sk-secret-key-123");
        // go-sora2api, given the key without "Bearer ".
        assert_eq!(
            error_of(
                &http,
                401,
                r#"{"error":{"message":"Authorization 格式错误，需要 Bearer Token"}}"#
            ),
            BackendError::Unauthorized {
                status: 401,
                message: Some("Authorization 格式错误，需要 Bearer Token".into())
            }
        );
        // sora2api (FastAPI HTTPBearer).
        assert_eq!(
            error_of(&http, 403, r#"{"detail":"Not authenticated"}"#),
            BackendError::Unauthorized {
                status: 403,
                message: Some("Not authenticated".into())
            }
        );
        // new-api, and an echo of our key.
        let echoed = error_of(
            &http,
            401,
            r#"{"error":{"message":"无效的令牌 sk-secret-key-123 (request id: 20251203083649)","type":"new_api_error"}}"#,
        );
        assert!(!format!("{echoed} {echoed:?}").contains("sk-secret-key-123"));
        assert!(format!("{echoed}").contains("无效的令牌"));
        // A bare string error.
        assert_eq!(
            error_of(&http, 401, r#"{"error":"Token 无效或已过期"}"#),
            BackendError::Unauthorized {
                status: 401,
                message: Some("Token 无效或已过期".into())
            }
        );
    }

    #[test]
    fn an_exhausted_balance_is_its_own_kind() {
        let http = client("k-1234");
        for (status, body) in [
            (
                401,
                r#"{"error":{"message":"该令牌额度已用尽 TokenStatusExhausted[sk-abc***xyz] (request id: 2025120308)","type":"new_api_error"}}"#,
            ),
            (
                403,
                r#"{"error":{"message":"用户额度不足, 剩余额度: ＄0.000000","type":"new_api_error","code":"insufficient_user_quota"}}"#,
            ),
            (
                403,
                r#"{"code":"pre_consume_token_quota_failed","message":"该令牌额度已用尽","data":null}"#,
            ),
            (
                429,
                r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
            ),
            (402, r#"{"code":402,"msg":"Insufficient credits"}"#),
            (
                400,
                r#"{"error":{"message":"余额不足，请充值","type":"invalid_request_error"}}"#,
            ),
        ] {
            assert!(
                matches!(
                    error_of(&http, status, body),
                    BackendError::Exhausted { .. }
                ),
                "{status} {body}"
            );
        }
        assert!(matches!(
            error_of(&http, 429, r#"{"error":{"message":"Rate limit reached"}}"#),
            BackendError::RateLimited { .. }
        ));
    }

    #[test]
    fn a_server_error_keeps_its_message() {
        let http = client("k-1234");
        // sora2api catches its own 400 and answers 500.
        assert_eq!(
            error_of(
                &http,
                500,
                r#"{"error": {"message": "400: Invalid model: sora-2", "type": "server_error", "param": null, "code": null}}"#
            ),
            BackendError::Unavailable {
                reason: "HTTP 500: 400: Invalid model: sora-2".into()
            }
        );
        // new-api wraps the upstream's body as its message.
        assert_eq!(
            error_of(
                &http,
                500,
                r#"{"code":"fail_to_fetch_task","message":"{\"error\":{\"message\":\"Invalid model\",\"type\":\"server_error\"}}","data":null}"#
            ),
            BackendError::Unavailable {
                reason: "HTTP 500: Invalid model".into()
            }
        );
        // go-sora2api with no account left.
        assert_eq!(
            error_of(
                &http,
                503,
                r#"{"error":{"message":"无可用账号: no available account"}}"#
            ),
            BackendError::Unavailable {
                reason: "HTTP 503: 无可用账号: no available account".into()
            }
        );
        // An HTML page says nothing worth keeping.
        assert_eq!(
            error_of(
                &http,
                502,
                "<html><head><title>502 Bad Gateway</title></head></html>"
            ),
            BackendError::Unavailable {
                reason: "HTTP 502".into()
            }
        );
        assert_eq!(
            error_of(&http, 500, "Internal Server Error"),
            BackendError::Unavailable {
                reason: "HTTP 500: Internal Server Error".into()
            }
        );
        // The simulator's own failed generation stays final.
        assert!(matches!(
            error_of(
                &http,
                500,
                r#"{"error":{"message":"boom","type":"server_error","code":"generation_failed"}}"#
            ),
            BackendError::Failed { .. }
        ));
    }

    #[test]
    fn a_moderation_refusal_sent_as_403_is_a_refusal_not_a_bad_key() {
        let http = client("k-1234");
        let refused = error_of(
            &http,
            403,
            r#"{"error":{"message":"Your prompt was flagged by our safety system","code":"content_policy_violation"}}"#,
        );
        assert!(refused.is_content_policy(), "{refused:?}");
        assert!(matches!(
            error_of(&http, 403, r#"{"error":{"message":"权限不足"}}"#),
            BackendError::Unauthorized { .. }
        ));
    }

    #[test]
    fn an_upstream_error_inside_a_message_is_unwrapped() {
        let text = "API request failed: 400 - {\n  \"error\": {\n    \"message\": \"Hmmm something didn't look right with your request.\",\n    \"type\": \"invalid_request_error\",\n    \"param\": null,\n    \"code\": \"sentinel_block\"\n  }\n}";
        assert_eq!(
            unwrap_error_text(text),
            "API request failed: 400 Hmmm something didn't look right with your request."
        );
        assert_eq!(unwrap_error_text("plain words"), "plain words");
    }

    #[test]
    fn fastapi_validation_errors_are_read() {
        let http = client("k-1234");
        assert_eq!(
            error_of(
                &http,
                422,
                r#"{"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]}"#
            ),
            BackendError::Rejected {
                status: 422,
                code: None,
                message: "field required".into()
            }
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
