//! The HTTP side: `/bot{TOKEN}/{method}` (GET or POST; query, JSON, form or
//! multipart), `/file/bot{TOKEN}/{path}` downloads, long polling for
//! `getUpdates`, the webhook pusher, and the record of every request (with
//! the token blanked out of the recorded path).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::body;
use super::errors::{ok, ApiError};
use super::methods;
use super::model::{Call, Fault, Push, RecordedRequest};
use super::spec::{spec, MethodSpec, Params};
use super::world::{Webhook, World};

/// The longest long poll Telegram holds.
const MAX_POLL_SECS: i64 = 50;

/// What the server and the test handle share.
pub struct Shared {
    world: Mutex<World>,
    /// Woken when an update is queued or a webhook changes.
    pub updates: Notify,
    pub shutdown: CancellationToken,
    pub token: String,
}

impl Shared {
    pub fn new(world: World) -> Self {
        let token = world.config.token.clone();
        Shared {
            world: Mutex::new(world),
            updates: Notify::new(),
            shutdown: CancellationToken::new(),
            token,
        }
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn redact(&self, path: &str) -> String {
        path.replace(&self.token, "<token>")
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// Every request: served, then recorded.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let at = Instant::now();
    let http_method = request.method().to_string();
    let path = shared.redact(request.uri().path());
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                shared.redact(&String::from_utf8_lossy(v.as_bytes())),
            )
        })
        .collect();
    let (response, body_bytes) = serve(&shared, request).await;
    shared.world().requests.push(RecordedRequest {
        at,
        http_method,
        path,
        headers,
        body_bytes,
        status: response.status().as_u16(),
    });
    response
}

async fn serve(shared: &Arc<Shared>, request: Request) -> (Response, usize) {
    let raw_path = request.uri().path().to_owned();
    let path = percent_decode(&raw_path);
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return (download(shared, rest), 0);
    }
    let Some(rest) = path.strip_prefix("/bot") else {
        return (ApiError::not_found().into_response(), 0);
    };
    let Some((token, method)) = rest.split_once('/') else {
        return (ApiError::not_found().into_response(), 0);
    };
    if token != shared.token {
        return (ApiError::unauthorized().into_response(), 0);
    }
    let Some((method, method_spec)) = spec().method(method) else {
        return (ApiError::not_found().into_response(), 0);
    };
    if !matches!(*request.method(), Method::GET | Method::POST) {
        return (ApiError::not_found().into_response(), 0);
    }
    let limit = shared.world().config.body_limit();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, limit).await else {
        return (ApiError::too_large().into_response(), limit);
    };
    let size = bytes.len();
    let fault = shared.world().take_fault(method);
    let error = match fault {
        None => {
            return (
                run_call(shared, method, method_spec, &parts, bytes).await,
                size,
            )
        }
        Some(Fault::Hold(delay)) => {
            let answer = run_call(shared, method, method_spec, &parts, bytes).await;
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = shared.shutdown.cancelled() => {}
            }
            return (answer, size);
        }
        Some(Fault::RetryAfter(seconds)) => ApiError::retry_after(seconds),
        Some(Fault::Error(code, description)) => ApiError::new(code, description),
    };
    record(shared, method, Map::new(), vec![], &Err(error.clone()));
    (error.into_response(), size)
}

/// Reads, checks and carries out one call of `method`; records it.
async fn run_call(
    shared: &Arc<Shared>,
    method: &str,
    method_spec: &MethodSpec,
    parts: &Parts,
    bytes: Bytes,
) -> Response {
    let is_field = |name: &str| method_spec.fields.iter().any(|f| f.name == name);
    let raw = match body::read(parts, bytes, is_field).await {
        Ok(raw) => raw,
        Err(error) => {
            record(shared, method, Map::new(), vec![], &Err(error.clone()));
            return error.into_response();
        }
    };
    let as_received: Map<String, Value> = raw
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    let params = match spec().check(method_spec, raw.fields, &raw.attachments) {
        Ok(params) => params,
        Err(error) => {
            record(shared, method, as_received, vec![], &Err(error.clone()));
            return error.into_response();
        }
    };
    let files = || {
        params
            .files
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let result = if method == "getUpdates" {
        let result = get_updates(shared, &params).await;
        record(shared, method, params.values.clone(), files(), &result);
        result
    } else {
        // What the call did and its record appear together: a test that
        // sees the message it made also finds the call.
        let mut world = shared.world();
        let result = methods::run(&mut world, method, &params);
        record_in(&mut world, method, params.values.clone(), files(), &result);
        drop(world);
        shared.updates.notify_waiters();
        result
    };
    match result {
        Ok(value) => Json(ok(value)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn record(
    shared: &Shared,
    method: &str,
    params: Map<String, Value>,
    files: Vec<(String, super::spec::Upload)>,
    result: &Result<Value, ApiError>,
) {
    record_in(&mut shared.world(), method, params, files, result);
}

fn record_in(
    world: &mut World,
    method: &str,
    params: Map<String, Value>,
    files: Vec<(String, super::spec::Upload)>,
    result: &Result<Value, ApiError>,
) {
    let (status, error, result) = match result {
        Ok(value) => (200, None, Some(value.clone())),
        Err(e) => (e.code, Some(e.description.clone()), None),
    };
    world.calls.push(Call {
        at: Instant::now(),
        method: method.to_owned(),
        params,
        files,
        status,
        error,
        result,
    });
}

/// `GET /file/bot{TOKEN}/{path}`.
fn download(shared: &Shared, rest: &str) -> Response {
    let Some((token, path)) = rest.split_once('/') else {
        return ApiError::not_found().into_response();
    };
    if token != shared.token {
        return ApiError::unauthorized().into_response();
    }
    let world = shared.world();
    match world.file_by_path(path) {
        Some(file) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            Body::from(file.data.clone()),
        )
            .into_response(),
        None => ApiError::not_found().into_response(),
    }
}

/// Long polling: answers at once when updates wait, else holds the request
/// until one is queued or `timeout` passes. A newer `getUpdates` ends an
/// older one with 409, as Telegram does.
async fn get_updates(shared: &Shared, p: &Params) -> Result<Value, ApiError> {
    let timeout = p.int("timeout").unwrap_or(0).clamp(0, MAX_POLL_SECS);
    let limit = p.int("limit").unwrap_or(100).clamp(1, 100) as usize;
    let turn = {
        let mut world = shared.world();
        if world.webhook.is_some() {
            return Err(ApiError::conflict(
                "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ));
        }
        if let Some(offset) = p.int("offset") {
            world.confirm(offset);
        }
        if let Some(Value::Array(kinds)) = p.get("allowed_updates") {
            world.allowed_updates = Some(
                kinds
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            );
        }
        world.poller += 1;
        world.poller
    };
    shared.updates.notify_waiters();
    let deadline = Instant::now() + Duration::from_secs(timeout as u64);
    loop {
        let woken = shared.updates.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        {
            let mut world = shared.world();
            if world.poller != turn {
                return Err(ApiError::conflict(
                    "terminated by other getUpdates request; make sure that only one bot instance is running",
                ));
            }
            let batch = world.pending(limit);
            if !batch.is_empty() || Instant::now() >= deadline {
                return Ok(Value::Array(batch.into_iter().map(|(_, u)| u).collect()));
            }
        }
        tokio::select! {
            _ = &mut woken => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = shared.shutdown.cancelled() => return Ok(Value::Array(vec![])),
        }
    }
}

/// Pushes waiting updates to the webhook, one at a time and in order,
/// while one is set, with the secret `setWebhook` was given. A push not
/// answered with a 2xx (an error status, a refused or broken connection, a
/// timeout) is retried after a backoff that doubles up to
/// `push_backoff_max`; after `push_attempts` the update is given up, as
/// Telegram gives up on a webhook that keeps failing. Every push is
/// recorded.
pub async fn push_webhook(shared: Arc<Shared>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(%error, "fake telegram: no webhook client");
            return;
        }
    };
    // The update being retried, and how many pushes it has had.
    let mut attempts: Option<(i64, u32)> = None;
    loop {
        let woken = shared.updates.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let next = {
            let mut world = shared.world();
            match world.webhook.clone() {
                Some(hook) => world.pending(1).into_iter().next().map(|u| (hook, u)),
                None => None,
            }
        };
        let Some((hook, (id, update))) = next else {
            tokio::select! {
                _ = &mut woken => continue,
                _ = shared.shutdown.cancelled() => return,
            }
        };
        let attempt = match attempts {
            Some((retried, made)) if retried == id => made + 1,
            _ => 1,
        };
        let status = push_once(&client, &hook, &update).await;
        let push = Push {
            at: Instant::now(),
            update_id: id,
            attempt,
            secret: hook.secret_token.clone(),
            status,
            update,
        };
        let delivered = push.delivered();
        let config = {
            let mut world = shared.world();
            world.pushes.push(push);
            world.config.clone()
        };
        if delivered || attempt >= config.push_attempts.max(1) {
            if !delivered {
                tracing::warn!(
                    update_id = id,
                    attempt,
                    "fake telegram: giving up on an update"
                );
            }
            shared.world().confirm(id + 1);
            attempts = None;
            continue;
        }
        attempts = Some((id, attempt));
        let backoff = config
            .push_backoff
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(config.push_backoff_max);
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shared.shutdown.cancelled() => return,
        }
    }
}

/// One push; the status answered, or `None` when none came.
async fn push_once(client: &reqwest::Client, hook: &Webhook, update: &Value) -> Option<u16> {
    let mut request = client.post(&hook.url).json(update);
    if let Some(secret) = &hook.secret_token {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    request.send().await.ok().map(|r| r.status().as_u16())
}

/// `%2F` and friends back to text (teloxide escapes a file path's slashes).
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_paths_are_read_back() {
        assert_eq!(
            percent_decode("/file/bot1:a/photos%2Ffile_1.jpg"),
            "/file/bot1:a/photos/file_1.jpg"
        );
        assert_eq!(percent_decode("/100%"), "/100%");
    }
}
