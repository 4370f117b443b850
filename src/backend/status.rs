//! Where a task stands, and the tolerant reading of it from whatever shape a
//! service answers in: state words, progress as 0-100 or 0-1 or absent, the
//! result URL wherever the service put it, or inside chat text.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The service's id of a task (or, in the chat dialect, ours for a streamed answer).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskId(pub String);

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the bytes of a result are to be had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MediaRef {
    /// A URL the service gave (a CDN, its own file server, or a `data:` URL).
    Url(String),
    /// The service's content endpoint for the task (OpenAI `/videos/{id}/content`).
    Content,
}

/// A character the service made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharacterInfo {
    pub id: Option<String>,
    /// The name prompts use to cast it, without the `@`.
    pub username: Option<String>,
}

/// What a finished task produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Output {
    Video(MediaRef),
    Images(Vec<MediaRef>),
    Character(CharacterInfo),
}

/// A task's state as the engine sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskStatus {
    Queued,
    Running {
        /// 0.0 to 1.0, when the service says.
        progress: Option<f32>,
    },
    Succeeded(Output),
    Failed {
        reason: String,
    },
    Cancelled,
}

/// The coarse state a service's word stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateWord {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// Reads a state word in any of the spellings services use.
pub fn parse_state(word: &str) -> Option<StateWord> {
    let word = word.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    Some(match word.as_str() {
        "queued" | "queue" | "queueing" | "pending" | "waiting" | "submitted" | "created"
        | "not_start" | "not_started" | "notstarted" | "init" | "initial" | "preparing"
        | "starting" | "staged" | "in_queue" | "unknown" => StateWord::Queued,
        "processing" | "running" | "in_progress" | "inprogress" | "generating" | "started"
        | "progress" | "active" => StateWord::Running,
        "succeeded" | "success" | "successful" | "succeed" | "completed" | "complete" | "done"
        | "finished" => StateWord::Succeeded,
        "failed" | "failure" | "fail" | "error" | "errored" | "rejected" | "timeout"
        | "expired" => StateWord::Failed,
        "cancelled" | "canceled" | "cancel" => StateWord::Cancelled,
        _ => return None,
    })
}

/// Reads progress as a fraction from `45`, `45.5`, `0.45`, `"45%"` or `"0.45"`.
/// An integer is a percentage; a number with a fraction at or below 1 is a
/// fraction. The answer is clamped to 0..=1.
pub fn parse_progress(value: &Value) -> Option<f32> {
    let fraction = match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => n.as_f64()? / 100.0,
        Value::Number(n) => {
            let v = n.as_f64()?;
            if v <= 1.0 {
                v
            } else {
                v / 100.0
            }
        }
        Value::String(s) => {
            let s = s.trim();
            if let Some(percent) = s.strip_suffix('%') {
                percent.trim().parse::<f64>().ok()? / 100.0
            } else {
                let v: f64 = s.parse().ok()?;
                if v <= 1.0 && s.contains('.') {
                    v
                } else {
                    v / 100.0
                }
            }
        }
        _ => return None,
    };
    fraction
        .is_finite()
        .then(|| fraction.clamp(0.0, 1.0) as f32)
}

/// The first of several keys present with a value: null and blank strings
/// count as absent (relays send `"fail_reason": ""` and `"message": ""`).
pub fn field<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().filter_map(|k| value.get(*k)).find(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    })
}

/// A JSON string or number as text (ids come as either).
pub fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The objects a task answer may hold its fields in, most authoritative
/// first: the envelope's `data` (`{code, message, data}` of the gateways),
/// the answer itself, then `result`.
fn holders(answer: &Value) -> Vec<&Value> {
    let mut out = Vec::with_capacity(4);
    if let Some(data) = answer.get("data").filter(|d| d.is_object()) {
        out.push(data);
    }
    out.push(answer);
    for key in ["result", "task_result", "response"] {
        if let Some(result) = answer.get(key).filter(|d| d.is_object()) {
            out.push(result);
        }
    }
    out
}

/// The task id in a create answer: `task_id` (or `taskId`, `video_id`,
/// `generation_id`), at the top or under the envelope's `data`, before a
/// bare `id` (an envelope's `id` may be a database row, not the task).
pub fn find_task_id(answer: &Value) -> Option<String> {
    const KEYS: [&str; 5] = ["task_id", "taskId", "video_id", "generation_id", "id"];
    let data = answer.get("data").filter(|d| d.is_object());
    KEYS.iter()
        .find_map(|key| field(answer, &[key]).or_else(|| data.and_then(|d| field(d, &[key]))))
        .and_then(text_of)
}

/// The state of a task answer, under `state` or `status` (or `task_status`),
/// in the envelope's `data` first, then at the top.
pub fn find_state(answer: &Value) -> Option<StateWord> {
    const KEYS: [&str; 4] = ["state", "status", "task_status", "taskStatus"];
    holders(answer).into_iter().find_map(|holder| {
        KEYS.iter()
            .filter_map(|k| holder.get(*k))
            .filter_map(Value::as_str)
            .find_map(parse_state)
    })
}

/// The progress of a task answer, if it gives one.
pub fn find_progress(answer: &Value) -> Option<f32> {
    const KEYS: [&str; 4] = ["progress", "percent", "progress_pct", "percentage"];
    holders(answer)
        .into_iter()
        .find_map(|holder| field(holder, &KEYS).and_then(parse_progress))
}

/// Words an envelope's `message` says when all went well.
fn is_success_word(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "success" | "succeeded" | "succeed" | "ok" | "0" | "200" | "成功" | "操作成功" | "请求成功"
    )
}

/// The failure message of a task answer, wherever relays put it:
/// `fail_reason`, `error` (a string, or an object's `message`/`raw_message`),
/// `error_message`, `failMsg`, in the envelope's `data` or at the top, and
/// last the envelope's own `message`. Empty strings are absent.
pub fn find_failure(answer: &Value) -> Option<String> {
    const REASON_KEYS: [&str; 11] = [
        "fail_reason",
        "failure_reason",
        "failReason",
        "error_message",
        "errorMessage",
        "failMsg",
        "fail_msg",
        "error",
        "task_status_msg",
        "status_msg",
        "err_msg",
    ];
    let mut holders = holders(answer);
    if let Some(inner) = answer
        .get("data")
        .and_then(|d| d.get("data"))
        .filter(|d| d.is_object())
    {
        holders.push(inner);
    }
    let specific = holders.iter().find_map(|holder| {
        REASON_KEYS.iter().find_map(|key| {
            let value = field(holder, &[key])?;
            match value {
                Value::Object(_) => field(
                    value,
                    &["message", "raw_message", "msg", "reason", "detail"],
                )
                .and_then(text_of)
                .or_else(|| field(value, &["code"]).and_then(text_of))
                .filter(|t| t != "0"),
                other => text_of(other),
            }
        })
    });
    specific.or_else(|| {
        holders.iter().find_map(|holder| {
            field(holder, &["message", "msg", "reason", "detail"])
                .and_then(text_of)
                .filter(|t| !is_success_word(t))
        })
    })
}

/// An envelope that says the request itself failed: a `code` that is not a
/// success code, with a message. `(code, message)`.
pub fn find_envelope_error(answer: &Value) -> Option<(Option<String>, String)> {
    let code = field(answer, &["code", "error_code"]).and_then(text_of);
    let failed_code = code.as_deref().is_some_and(|c| !is_success_word(c));
    let message = match answer.get("error") {
        Some(error @ Value::Object(_)) => {
            field(error, &["message", "msg", "raw_message"]).and_then(text_of)
        }
        Some(other) => text_of(other),
        None => None,
    };
    if let Some(message) = message {
        return Some((code, message));
    }
    if !failed_code {
        return None;
    }
    let message = field(answer, &["message", "msg", "detail"]).and_then(text_of)?;
    Some((code, message))
}

/// Keys that may hold a preview picture of a video result.
const THUMBNAIL_KEYS: [&str; 6] = [
    "thumbnail_url",
    "thumbnailUrl",
    "thumbnail",
    "cover_url",
    "coverUrl",
    "poster_url",
];

/// The http(s) link to a preview picture of the video in a task answer
/// (`thumbnail_url` and the like, at the top, under the envelope's `data`,
/// `result`, or on the first of its `videos`), if it names one.
pub fn find_thumbnail_url(answer: &Value) -> Option<String> {
    let first_video = |holder: &Value| holder.get("videos")?.as_array()?.first().cloned();
    let mut places: Vec<Value> = Vec::new();
    for holder in holders(answer) {
        places.push(holder.clone());
        places.extend(first_video(holder));
    }
    places.iter().find_map(|place| {
        THUMBNAIL_KEYS.iter().find_map(|key| {
            let url = place.get(*key)?.as_str()?.trim();
            (url.starts_with("https://") || url.starts_with("http://")).then(|| url.to_owned())
        })
    })
}

/// Keys whose subtree echoes the request (input images, parameters) or holds
/// pictures that are not the result; never searched for result links.
const NOT_RESULT_KEYS: [&str; 17] = [
    "input",
    "inputs",
    "request",
    "params",
    "param",
    "parameters",
    "properties",
    "metadata",
    "config",
    "image_urls",
    "input_reference",
    "reference",
    "references",
    "thumbnail_url",
    "avatar_url",
    "profile_url",
    "webhook",
];

/// Keys that hold a result link (a string) or an object holding one.
const URL_KEYS: [&str; 16] = [
    "url",
    "video_url",
    "videoUrl",
    "download_url",
    "downloadUrl",
    "result_url",
    "resultUrl",
    "output_url",
    "outputUrl",
    "media_url",
    "file_url",
    "image_url",
    "video",
    "image",
    "src",
    "uri",
];

/// Keys that hold a list of results (strings or objects with a link).
const LIST_KEYS: [&str; 10] = [
    "videos",
    "images",
    "results",
    "outputs",
    "urls",
    "result_urls",
    "resultUrls",
    "video_urls",
    "output",
    "generations",
];

/// The links an `output`/`result`-like value holds: a URL string, an object
/// with a link key, or a list of either.
fn urls_in(value: &Value, depth: u8, out: &mut Vec<String>) {
    if depth > 4 {
        return;
    }
    match value {
        Value::String(s) => {
            let s = s.trim();
            if is_media_url(s) {
                out.push(s.to_owned());
            } else if s.starts_with('{') || s.starts_with('[') {
                // `resultJson`: a JSON document inside a string.
                if let Ok(inner) = serde_json::from_str::<Value>(s) {
                    urls_in(&inner, depth + 1, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| urls_in(v, depth + 1, out)),
        Value::Object(map) => {
            for key in URL_KEYS {
                if let Some(v) = map.get(key) {
                    urls_in(v, depth + 1, out);
                }
            }
            for key in LIST_KEYS {
                if let Some(v) = map.get(key) {
                    urls_in(v, depth + 1, out);
                }
            }
            for key in [
                "resultJson",
                "result_json",
                "result",
                "data",
                "task_result",
                "response",
            ] {
                if let Some(v) = map.get(key) {
                    urls_in(v, depth + 1, out);
                }
            }
        }
        _ => {}
    }
}

/// Every media URL in a task answer, best places first: the envelope's
/// `data`, the answer itself and `result`, each read for the keys relays use
/// (`data.videos[].url` of seed 000, `url`, `video_url`, `result_url`,
/// `output` as a string, object or list, `resultJson` as a string); then any
/// `http(s)` string under a key that names a URL, anywhere but in an echo of
/// the request.
pub fn find_media_urls(answer: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for holder in holders(answer) {
        if let Value::Object(map) = holder {
            for key in URL_KEYS.iter().chain(LIST_KEYS.iter()) {
                if let Some(v) = map.get(*key) {
                    urls_in(v, 0, &mut found);
                }
            }
            for key in ["resultJson", "result_json"] {
                if let Some(v) = map.get(key) {
                    urls_in(v, 0, &mut found);
                }
            }
        }
    }
    if found.is_empty() {
        collect_url_strings(answer, false, 0, &mut found);
    }
    let mut unique: Vec<String> = Vec::new();
    for url in found.into_iter().filter(|u| is_media_url(u)) {
        if !unique.contains(&url) {
            unique.push(url);
        }
    }
    unique
}

fn collect_url_strings(value: &Value, under_url_key: bool, depth: u8, out: &mut Vec<String>) {
    if depth > 8 {
        return;
    }
    match value {
        Value::String(s) if under_url_key => out.push(s.trim().to_owned()),
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_url_strings(v, under_url_key, depth + 1, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            if NOT_RESULT_KEYS.contains(&k.as_str()) {
                return;
            }
            let k = k.to_ascii_lowercase();
            let names_url = k.contains("url") || k == "src" || k == "video" || k == "output";
            collect_url_strings(v, under_url_key || names_url, depth + 1, out)
        }),
        _ => {}
    }
}

fn is_media_url(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://") || url.starts_with("data:")
}

/// Whether a URL's path names a video file.
pub fn looks_like_video(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    [".mp4", ".webm", ".mov", ".m3u8"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// A character in a task answer or a synchronous create answer:
/// `data.characters[0]`, `data.character`, `character`, or the character's
/// fields (`username`, `cameo_id`) right in `data` or at the top.
pub fn find_character(answer: &Value) -> Option<CharacterInfo> {
    let data = answer
        .get("data")
        .filter(|d| d.is_object())
        .unwrap_or(answer);
    let listed = data
        .get("characters")
        .and_then(|c| c.get(0))
        .or_else(|| data.get("character").filter(|c| c.is_object()))
        .or_else(|| answer.get("character").filter(|c| c.is_object()));
    const USERNAME: [&str; 4] = ["username", "character_username", "cameo_username", "handle"];
    const ID: [&str; 4] = ["character_id", "cameo_id", "id", "characterId"];
    let info = match listed {
        None if [data, answer].iter().all(|h| field(h, &USERNAME).is_none()) => {
            // Only an id, maybe inside a `resultJson` string (kie.ai).
            let inner = field(data, &["resultJson", "result_json"])
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str::<Value>(s).ok());
            let id = [Some(data), inner.as_ref()]
                .into_iter()
                .flatten()
                .find_map(|h| field(h, &["character_id", "cameo_id", "characterId"]))
                .and_then(text_of)?;
            CharacterInfo {
                id: Some(id),
                username: None,
            }
        }
        Some(item) => CharacterInfo {
            id: field(item, &ID).and_then(text_of),
            username: field(item, &["username", "name", "handle", "character_username"])
                .and_then(text_of),
        },
        None => {
            let holder = [data, answer]
                .into_iter()
                .find(|h| field(h, &USERNAME).is_some())?;
            CharacterInfo {
                id: field(holder, &ID)
                    .or_else(|| field(answer, &ID))
                    .and_then(text_of),
                username: field(holder, &USERNAME).and_then(text_of),
            }
        }
    };
    let info = CharacterInfo {
        username: info
            .username
            .map(|n| n.trim_start_matches('@').to_owned())
            .filter(|n| !n.is_empty()),
        ..info
    };
    (info.id.is_some() || info.username.is_some()).then_some(info)
}

static HTML_SRC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<(?:video|source|img)\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)"#).expect("valid regex")
});
static HTML_HREF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<a\b[^>]*?\bhref\s*=\s*["']?([^"'\s>]+)"#).expect("valid regex")
});
static MARKDOWN_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)").expect("valid regex"));
static BARE_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s"'<>()\[\]]+"#).expect("valid regex"));
static PERCENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{1,3}(?:\.\d+)?)\s*%").expect("valid regex"));
static FRACTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:progress|进度)\D{0,4}(0(?:\.\d+)?|1(?:\.0+)?)\b").expect("valid regex")
});

/// The media URLs in a chat answer's text: `<video src>`, Markdown links and
/// images, then bare URLs, in that order of trust, without duplicates.
pub fn media_urls_in_text(text: &str) -> Vec<String> {
    let mut urls: Vec<String> = HTML_SRC
        .captures_iter(text)
        .chain(MARKDOWN_LINK.captures_iter(text))
        .map(|c| c[1].to_owned())
        .collect();
    if urls.is_empty() {
        urls = BARE_URL
            .find_iter(text)
            .map(|m| {
                m.as_str()
                    .trim_end_matches(['.', ',', ';', '。'])
                    .to_owned()
            })
            .collect();
    }
    let mut unique = Vec::new();
    for url in urls.into_iter().filter(|u| is_media_url(u)) {
        if !unique.contains(&url) {
            unique.push(url);
        }
    }
    unique
}

/// Words of a chat text that reports a failure rather than a result.
pub(crate) fn reads_as_failure(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "❌", "失败", "错误", "fail", "error", "violat", "违规", "拒绝", "refused", "rejected",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Whether a URL's path names a picture file.
fn looks_like_image(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".webp", ".gif"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// The result links of a chat answer's final text. `<video>`/`<img>`
/// sources and Markdown images are results; Markdown links, `<a href>` and
/// bare URLs are too, except in a text that reports a failure, where only
/// links to media files count (a help page is not a result).
pub fn result_urls_in_text(text: &str) -> Vec<String> {
    let failed = reads_as_failure(text);
    let weak_ok = |u: &str| !failed || looks_like_video(u) || looks_like_image(u);
    let mut urls: Vec<String> = HTML_SRC
        .captures_iter(text)
        .map(|c| c[1].to_owned())
        .collect();
    for capture in MARKDOWN_LINK.captures_iter(text) {
        let image = capture[0].starts_with('!');
        if image || weak_ok(&capture[1]) {
            urls.push(capture[1].to_owned());
        }
    }
    urls.extend(
        HTML_HREF
            .captures_iter(text)
            .map(|c| c[1].to_owned())
            .filter(|u| weak_ok(u)),
    );
    urls.retain(|u| is_media_url(u));
    if urls.is_empty() {
        urls = media_urls_in_text(text)
            .into_iter()
            .filter(|u| weak_ok(u))
            .collect();
    }
    let mut unique = Vec::new();
    for url in urls {
        if !unique.contains(&url) {
            unique.push(url);
        }
    }
    unique
}

/// The last progress figure in a piece of chat text (`进度 45%`, `progress 0.45`).
pub fn progress_in_text(text: &str) -> Option<f32> {
    let percent = PERCENT
        .captures_iter(text)
        .last()
        .and_then(|c| c[1].parse::<f32>().ok())
        .map(|p| p / 100.0);
    percent
        .or_else(|| {
            FRACTION
                .captures_iter(text)
                .last()
                .and_then(|c| c[1].parse::<f32>().ok())
        })
        .map(|p| p.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_thumbnail_link_is_found_where_relays_put_it_and_is_no_result() {
        let top = json!({"status": "succeeded", "url": "https://x/v.mp4",
                         "thumbnail_url": "https://x/v.jpg"});
        let nested = json!({"data": {"videos": [{"url": "https://x/v.mp4",
                                                 "cover_url": "https://x/c.jpg"}]}});
        assert_eq!(find_thumbnail_url(&top).as_deref(), Some("https://x/v.jpg"));
        assert_eq!(
            find_thumbnail_url(&nested).as_deref(),
            Some("https://x/c.jpg")
        );
        assert_eq!(find_media_urls(&top), ["https://x/v.mp4"]);
        assert_eq!(find_thumbnail_url(&json!({"thumbnail": "data:x"})), None);
        assert_eq!(find_thumbnail_url(&json!({"url": "https://x/v.mp4"})), None);
    }

    #[test]
    fn state_words_of_every_spelling_are_read() {
        for (word, state) in [
            ("queued", StateWord::Queued),
            ("PENDING", StateWord::Queued),
            ("processing", StateWord::Running),
            ("in_progress", StateWord::Running),
            ("IN-PROGRESS", StateWord::Running),
            ("running", StateWord::Running),
            ("succeeded", StateWord::Succeeded),
            ("SUCCESS", StateWord::Succeeded),
            ("completed", StateWord::Succeeded),
            ("failed", StateWord::Failed),
            ("error", StateWord::Failed),
            ("FAILURE", StateWord::Failed),
            ("cancelled", StateWord::Cancelled),
            ("canceled", StateWord::Cancelled),
        ] {
            assert_eq!(parse_state(word), Some(state), "{word}");
        }
        assert_eq!(parse_state("bananas"), None);
    }

    #[test]
    fn progress_is_read_as_percent_or_fraction() {
        assert_eq!(parse_progress(&json!(45)), Some(0.45));
        assert_eq!(parse_progress(&json!(0.45)), Some(0.45));
        assert_eq!(parse_progress(&json!(45.5)), Some(0.455));
        assert_eq!(parse_progress(&json!(1.0)), Some(1.0));
        assert_eq!(parse_progress(&json!(100)), Some(1.0));
        assert_eq!(parse_progress(&json!("45%")), Some(0.45));
        assert_eq!(parse_progress(&json!("0.45")), Some(0.45));
        assert_eq!(parse_progress(&json!("45")), Some(0.45));
        assert_eq!(parse_progress(&json!(250)), Some(1.0));
        assert_eq!(parse_progress(&json!(null)), None);
        assert_eq!(parse_progress(&json!("soon")), None);
    }

    #[test]
    fn media_urls_are_found_where_the_seeds_put_them() {
        let seed = json!({"id": "t", "state": "succeeded", "progress": 100,
            "data": {"videos": [{"url": "https://video-url.com/result.mp4"}]}});
        assert_eq!(find_media_urls(&seed), ["https://video-url.com/result.mp4"]);
        let top = json!({"status": "success", "url": "https://cdn/x.mp4"});
        assert_eq!(find_media_urls(&top), ["https://cdn/x.mp4"]);
        let nested = json!({"result": {"output": {"video": {"src_url": "https://cdn/y.mp4"}}}});
        assert_eq!(find_media_urls(&nested), ["https://cdn/y.mp4"]);
        assert!(find_media_urls(&json!({"state": "queued"})).is_empty());
    }

    #[test]
    fn ids_states_and_failures_are_found_at_the_top_or_under_data() {
        let answer = json!({"data": {"task_id": 42, "status": "FAILURE", "fail_reason": "nope"}});
        assert_eq!(find_task_id(&answer).as_deref(), Some("42"));
        assert_eq!(find_state(&answer), Some(StateWord::Failed));
        assert_eq!(find_failure(&answer).as_deref(), Some("nope"));
        let openai = json!({"id": "video_1", "status": "failed",
            "error": {"code": "moderation", "message": "blocked"}});
        assert_eq!(find_failure(&openai).as_deref(), Some("blocked"));
    }

    #[test]
    fn a_task_id_beats_an_envelopes_row_id() {
        let answer = json!({"code": "success", "data": {"id": 31, "task_id": "task_5s8zXW"}});
        assert_eq!(find_task_id(&answer).as_deref(), Some("task_5s8zXW"));
        let top = json!({"id": 7, "task_id": "abc"});
        assert_eq!(find_task_id(&top).as_deref(), Some("abc"));
        let openai = json!({"id": "video_68f0", "object": "video"});
        assert_eq!(find_task_id(&openai).as_deref(), Some("video_68f0"));
    }

    #[test]
    fn kling_style_task_results_and_messages_are_read() {
        let done = json!({"code": 0, "message": "SUCCEED", "data": {"task_id": "k1",
            "task_status": "succeed", "task_status_msg": "",
            "task_result": {"videos": [{"id": "v1", "url": "https://cdn/k.mp4", "duration": "5"}]}}});
        assert_eq!(find_state(&done), Some(StateWord::Succeeded));
        assert_eq!(find_media_urls(&done), ["https://cdn/k.mp4"]);
        let failed = json!({"code": 0, "message": "SUCCEED", "data": {"task_id": "k1",
            "task_status": "failed", "task_status_msg": "Failure to pass the risk control system"}});
        assert_eq!(
            find_failure(&failed).as_deref(),
            Some("Failure to pass the risk control system")
        );
    }

    #[test]
    fn a_character_id_alone_is_a_character() {
        let kie = json!({"code": 200, "msg": "success", "data": {"taskId": "c1", "state": "success",
            "resultJson": "{\"character_id\":\"char_9a8b7c\"}"}});
        assert_eq!(
            find_character(&kie),
            Some(CharacterInfo {
                id: Some("char_9a8b7c".into()),
                username: None
            })
        );
    }

    #[test]
    fn characters_are_found_with_or_without_the_at_sign() {
        let answer = json!({"data": {"characters": [{"id": "char_1", "username": "@cameo_ab"}]}});
        assert_eq!(
            find_character(&answer),
            Some(CharacterInfo {
                id: Some("char_1".into()),
                username: Some("cameo_ab".into())
            })
        );
        assert_eq!(find_character(&json!({"data": {}})), None);
    }

    #[test]
    fn chat_text_yields_urls_in_order_of_trust() {
        let html = "生成完成\n<video src='http://h/v.mp4' controls></video>";
        assert_eq!(media_urls_in_text(html), ["http://h/v.mp4"]);
        let md = "done: [下载视频](https://h/v.mp4) and ![image](https://h/i.png)";
        assert_eq!(
            media_urls_in_text(md),
            ["https://h/v.mp4", "https://h/i.png"]
        );
        let bare = "视频地址：https://h/v.mp4。";
        assert_eq!(media_urls_in_text(bare), ["https://h/v.mp4"]);
        assert!(media_urls_in_text("生成失败：内容违规").is_empty());
    }

    #[test]
    fn help_links_in_failure_texts_are_not_results() {
        assert!(result_urls_in_text(
            "❌ 生成失败: see [docs](https://help.openai.com/en/articles/1)"
        )
        .is_empty());
        assert!(
            result_urls_in_text("生成失败 <a href='https://help.example/faq'>帮助</a>").is_empty()
        );
        assert!(result_urls_in_text("生成失败，详情 https://help.example/faq").is_empty());
        // A media link stays one, whatever the text says around it.
        assert_eq!(
            result_urls_in_text("生成完成（无错误）：[下载视频](https://h/v.mp4)"),
            ["https://h/v.mp4"]
        );
        assert_eq!(
            result_urls_in_text("<video src='https://h/v'></video> error-free"),
            ["https://h/v"]
        );
        assert_eq!(
            result_urls_in_text("done: [下载](https://h/v?id=1)"),
            ["https://h/v?id=1"]
        );
    }

    #[test]
    fn chat_text_yields_the_last_progress_figure() {
        assert_eq!(
            progress_in_text("生成进度：23%\n生成进度：45%\n"),
            Some(0.45)
        );
        assert_eq!(progress_in_text("progress 0.3"), Some(0.3));
        assert_eq!(progress_in_text("排队中..."), None);
    }
}
