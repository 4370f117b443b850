//! The native dialect (seed 000 §3): `POST /v1/videos/generations`,
//! `POST /v1/characters`, `POST /v1/videos/{id}/remix`, and
//! `GET /v1/videos/tasks/{id}` for every kind of task.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::config::{Dialect, SoraConfig};
use super::error::is_balance_text;
use super::error::BackendError;
use super::http::shorten;
use super::http::SoraHttp;
use super::models::{capabilities, model_for_request};
use super::options::{
    Capabilities, CharacterSource, CharacterUse, JobSpec, OutputKind, Unsupported, VideoOptions,
};
use super::status::{
    find_character, find_envelope_error, find_failure, find_media_urls, find_progress, find_state,
    find_task_id, find_thumbnail_url, looks_like_video, MediaRef, Output, StateWord, TaskId,
    TaskStatus,
};
use super::{Backend, Download, Feature};

pub(crate) struct NativeBackend {
    http: SoraHttp,
    model: String,
    capabilities: Capabilities,
    /// The preview links of the last finished videos (task id, URL), as
    /// their final answers gave them, newest last: a nicety, so it lives
    /// in memory only and is bounded.
    thumbnails: Mutex<VecDeque<(String, String)>>,
}

/// Preview links remembered at most.
const KEPT_THUMBNAILS: usize = 256;

impl NativeBackend {
    pub(crate) fn new(config: &SoraConfig) -> Result<Self, BackendError> {
        Ok(NativeBackend {
            http: SoraHttp::new(config)?,
            model: config.video_model.clone(),
            capabilities: capabilities(Dialect::Native, &config.video_model),
            thumbnails: Mutex::default(),
        })
    }

    /// Remembers the preview link of a finished video.
    fn remember_thumbnail(&self, task: &TaskId, url: String) {
        let mut kept = self.thumbnails.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|(id, _)| *id != task.0);
        if kept.len() >= KEPT_THUMBNAILS {
            kept.pop_front();
        }
        kept.push_back((task.0.clone(), url));
    }

    fn thumbnail_url(&self, task: &TaskId) -> Option<String> {
        let kept = self.thumbnails.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter()
            .find(|(id, _)| *id == task.0)
            .map(|(_, url)| url.clone())
    }

    /// The body shared by generations and remixes: model, prompt, options.
    fn video_body(&self, prompt: &str, options: &VideoOptions) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert(
            "model".into(),
            json!(model_for_request(&self.model, options)),
        );
        body.insert("prompt".into(), json!(prompt));
        if let Some(aspect) = options.aspect {
            body.insert("aspect_ratio".into(), json!(aspect.as_ratio()));
        }
        if let Some(seconds) = options.seconds {
            body.insert("duration".into(), json!(seconds));
        }
        body
    }

    async fn post(
        &self,
        path: &str,
        body: Map<String, Value>,
        kind: OutputKind,
    ) -> Result<TaskId, BackendError> {
        let answer = self
            .http
            .send_json(self.http.request(Method::POST, path).json(&body))
            .await?;
        read_created(&self.http, &answer, kind)
    }
}

fn character_param(character: &CharacterUse) -> Value {
    let mut param = source_param(&character.source);
    param.insert("timestamps".into(), json!(character.timestamps.to_param()));
    Value::Object(param)
}

fn source_param(source: &CharacterSource) -> Map<String, Value> {
    let mut param = Map::new();
    match source {
        CharacterSource::Url(url) => param.insert("url".into(), json!(url)),
        CharacterSource::FromTask(task) => param.insert("from_task".into(), json!(task)),
    };
    param
}

#[async_trait]
impl Backend for NativeBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Native
    }

    fn observe(&self, metrics: &crate::metrics::Metrics) {
        self.http.observe(metrics);
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn submit(&self, spec: &JobSpec) -> Result<TaskId, BackendError> {
        self.capabilities.check(spec)?;
        match spec {
            JobSpec::Video(request) => {
                let mut body = self.video_body(&request.prompt, &request.options);
                if !request.images.is_empty() {
                    let urls: Vec<String> = request.images.iter().map(|i| i.to_url()).collect();
                    body.insert("image_urls".into(), json!(urls));
                }
                if !request.characters.is_empty() {
                    let characters: Vec<Value> =
                        request.characters.iter().map(character_param).collect();
                    body.insert("characters".into(), Value::Array(characters));
                }
                self.post("v1/videos/generations", body, OutputKind::Video)
                    .await
            }
            JobSpec::Remix(request) => {
                let body = self.video_body(&request.prompt, &request.options);
                let path = format!("v1/videos/{}/remix", path_segment(&request.source));
                self.post(&path, body, OutputKind::Video).await
            }
            JobSpec::Character(request) => {
                let mut body = source_param(&request.source);
                body.insert("timestamps".into(), json!(request.timestamps.to_param()));
                self.post("v1/characters", body, OutputKind::Character)
                    .await
            }
            JobSpec::Image(_) => Err(Unsupported::Feature(Feature::Images).into()),
            JobSpec::Extend(_) => Err(Unsupported::Feature(Feature::Extend).into()),
        }
    }

    async fn status(&self, task: &TaskId, kind: OutputKind) -> Result<TaskStatus, BackendError> {
        if let Some(output) = ready_output(task) {
            return Ok(TaskStatus::Succeeded(output));
        }
        let path = format!("v1/videos/tasks/{}", path_segment(&task.0));
        let answer = self
            .http
            .send_json(self.http.request(Method::GET, &path))
            .await?;
        match read_task(&answer, kind) {
            Some(TaskStatus::Failed { reason }) => Ok(TaskStatus::Failed {
                reason: shorten(&self.http.redact(&reason)),
            }),
            Some(status) => {
                if let (TaskStatus::Succeeded(Output::Video(_)), Some(url)) =
                    (&status, find_thumbnail_url(&answer))
                {
                    self.remember_thumbnail(task, url);
                }
                Ok(status)
            }
            None => Err(self.http.malformed(&answer.to_string())),
        }
    }

    /// The preview link the task's final answer gave, fetched like a result.
    async fn thumbnail(
        &self,
        task: &TaskId,
        _media: &MediaRef,
    ) -> Result<Option<Download>, BackendError> {
        match self.thumbnail_url(task) {
            Some(url) => self.http.download_as(&url, "thumbnail").await.map(Some),
            None => Ok(None),
        }
    }

    async fn download(&self, _task: &TaskId, media: &MediaRef) -> Result<Download, BackendError> {
        match media {
            MediaRef::Url(url) => self.http.download(url).await,
            MediaRef::Content => Err(self.http.malformed("no content endpoint in this dialect")),
        }
    }

    fn download_asks_service(&self, media: &MediaRef) -> bool {
        match media {
            MediaRef::Url(url) => self.http.on_service_origin(url),
            MediaRef::Content => true,
        }
    }
}

/// The prefix of a task id that stands for a result the create answer
/// already held (a character a relay made synchronously): the status call
/// answers it from the id itself, with no request, also after a restart.
const READY_PREFIX: &str = "ready:";

/// A task id for a result already in hand.
pub(crate) fn ready_task(output: &Output) -> Option<TaskId> {
    use base64::Engine as _;
    let json = serde_json::to_vec(output).ok()?;
    Some(TaskId(format!(
        "{READY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    )))
}

/// The result a ready task id stands for.
pub(crate) fn ready_output(task: &TaskId) -> Option<Output> {
    use base64::Engine as _;
    let encoded = task.0.strip_prefix(READY_PREFIX)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// Reads a create answer: a task id to poll, or a result already made (a
/// synchronous character: `username` in the answer), or the refusal an
/// envelope carries with HTTP 200.
pub(crate) fn read_created(
    http: &SoraHttp,
    answer: &Value,
    kind: OutputKind,
) -> Result<TaskId, BackendError> {
    if kind == OutputKind::Character {
        let settled = matches!(find_state(answer), None | Some(StateWord::Succeeded));
        if let Some(info) = find_character(answer).filter(|i| i.username.is_some() && settled) {
            if let Some(task) = ready_task(&Output::Character(info)) {
                return Ok(task);
            }
        }
    }
    match find_state(answer) {
        Some(StateWord::Failed) => {
            return Err(BackendError::Failed {
                reason: shorten(
                    &http.redact(
                        &find_failure(answer).unwrap_or_else(|| "no reason given".to_owned()),
                    ),
                ),
            })
        }
        Some(StateWord::Succeeded) if kind != OutputKind::Character => {
            if let Some(task) = output(answer, kind).as_ref().and_then(ready_task) {
                return Ok(task);
            }
        }
        _ => {}
    }
    if let Some(id) = find_task_id(answer) {
        return Ok(TaskId(id));
    }
    match find_envelope_error(answer) {
        Some((code, message)) => {
            let message = shorten(&http.redact(&message));
            let code_text = code.clone().unwrap_or_default();
            if is_balance_text(&message) || is_balance_text(&code_text) {
                Err(BackendError::Exhausted { message })
            } else {
                Err(BackendError::Rejected {
                    status: 200,
                    code,
                    message,
                })
            }
        }
        None => Err(http.malformed(&answer.to_string())),
    }
}

/// Why a task that says it succeeded cannot be delivered.
fn no_result(kind: OutputKind) -> String {
    match kind {
        OutputKind::Character => "the service reported success but sent no character".to_owned(),
        _ => "the service reported success but sent no result link".to_owned(),
    }
}

/// Reads a task answer; `None` when it says nothing we can use.
pub(crate) fn read_task(answer: &Value, kind: OutputKind) -> Option<TaskStatus> {
    let state = find_state(answer);
    let progress = find_progress(answer);
    Some(match state {
        Some(StateWord::Queued) => TaskStatus::Queued,
        Some(StateWord::Running) => TaskStatus::Running { progress },
        Some(StateWord::Cancelled) => TaskStatus::Cancelled,
        Some(StateWord::Failed) => TaskStatus::Failed {
            reason: find_failure(answer).unwrap_or_else(|| "no reason given".to_owned()),
        },
        // Succeeded without a link is final: polling again will not make one.
        Some(StateWord::Succeeded) => match output(answer, kind) {
            Some(out) => TaskStatus::Succeeded(out),
            None => TaskStatus::Failed {
                reason: no_result(kind),
            },
        },
        // No state word: a result means done, a progress means running.
        None => match output(answer, kind) {
            Some(out) => TaskStatus::Succeeded(out),
            None => TaskStatus::Running {
                progress: Some(progress?),
            },
        },
    })
}

fn output(answer: &Value, kind: OutputKind) -> Option<Output> {
    match kind {
        OutputKind::Character => find_character(answer).map(Output::Character),
        OutputKind::Video => {
            let urls = find_media_urls(answer);
            urls.iter()
                .find(|u| looks_like_video(u))
                .or(urls.first())
                .map(|url| Output::Video(MediaRef::Url(url.clone())))
        }
        OutputKind::Images => {
            let urls = find_media_urls(answer);
            (!urls.is_empty())
                .then(|| Output::Images(urls.into_iter().map(MediaRef::Url).collect()))
        }
    }
}

/// A task id as one URL path segment: only characters that need no escaping.
pub(crate) fn path_segment(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '~' | ':'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CharacterInfo;

    fn http() -> SoraHttp {
        let config = crate::backend::SoraConfig::new(
            url::Url::parse("http://127.0.0.1:9").unwrap(),
            "sk-test-key",
        );
        SoraHttp::new(&config).unwrap()
    }

    #[test]
    fn only_fetches_from_the_service_origin_are_requests_to_the_service() {
        let config = crate::backend::SoraConfig::new(
            url::Url::parse("http://127.0.0.1:9/sora").unwrap(),
            "sk-test-key",
        );
        let backend = NativeBackend::new(&config).unwrap();
        let asks = |url: &str| backend.download_asks_service(&MediaRef::Url(url.into()));

        assert!(asks("http://127.0.0.1:9/sora/files/a.mp4"));
        assert!(asks("http://127.0.0.1:9/elsewhere/a.mp4"));
        assert!(!asks("http://127.0.0.1:10/files/a.mp4"), "another port");
        assert!(!asks("https://cdn.example/a.mp4"), "a CDN");
        assert!(!asks("data:video/mp4;base64,AAAA"), "inline bytes");
    }

    fn video(url: &str) -> Option<TaskStatus> {
        Some(TaskStatus::Succeeded(Output::Video(MediaRef::Url(
            url.into(),
        ))))
    }

    /// new-api's generic task fetch: `{code, message, data: TaskDto}`.
    #[test]
    fn the_new_api_envelope_is_read_through_its_data() {
        let done = json!({"code": "success", "message": "", "data": {
            "id": 31, "created_at": 1761000000, "updated_at": 1761000100,
            "task_id": "task_5s8zXW6bB7pVq3", "platform": "55", "user_id": 1, "group": "default",
            "channel_id": 4, "quota": 0, "action": "generate", "status": "SUCCESS",
            "fail_reason": "", "result_url": "https://gw.example/v1/videos/task_5s8zXW6bB7pVq3/content",
            "submit_time": 1761000000, "start_time": 1761000005, "finish_time": 1761000100,
            "progress": "100%", "properties": {"input": "a cat", "upstream_model_name": "sora-2"},
            "data": {"id": "video_68f0", "object": "video", "status": "queued", "progress": 0}}});
        assert_eq!(
            read_task(&done, OutputKind::Video),
            video("https://gw.example/v1/videos/task_5s8zXW6bB7pVq3/content")
        );
        let running = json!({"code": "success", "message": "", "data": {
            "task_id": "task_5s8", "status": "IN_PROGRESS", "fail_reason": "", "progress": "30%",
            "data": {"status": "queued"}}});
        assert_eq!(
            read_task(&running, OutputKind::Video),
            Some(TaskStatus::Running {
                progress: Some(0.3)
            })
        );
        let failed = json!({"code": "success", "message": "", "data": {
            "task_id": "task_5s8", "status": "FAILURE",
            "fail_reason": "Your request was blocked by our moderation system.",
            "progress": "100%", "data": null}});
        assert_eq!(
            read_task(&failed, OutputKind::Video),
            Some(TaskStatus::Failed {
                reason: "Your request was blocked by our moderation system.".into()
            })
        );
        let queued = json!({"code": "success", "message": "", "data": {"status": "NOT_START", "progress": ""}});
        assert_eq!(
            read_task(&queued, OutputKind::Video),
            Some(TaskStatus::Queued)
        );
    }

    /// An envelope whose own message is empty: the reason sits deeper.
    #[test]
    fn an_empty_envelope_message_is_absent() {
        let answer = json!({"code": 500, "message": "", "data": {"status": "failed",
            "fail_reason": "upstream: Invalid model"}});
        assert_eq!(
            read_task(&answer, OutputKind::Video),
            Some(TaskStatus::Failed {
                reason: "upstream: Invalid model".into()
            })
        );
        let nested = json!({"code": 0, "msg": "", "data": {"state": "failed",
            "error": {"code": "", "message": "", "raw_message": "gpu quota"}}});
        assert_eq!(
            read_task(&nested, OutputKind::Video),
            Some(TaskStatus::Failed {
                reason: "gpu quota".into()
            })
        );
        let envelope_only =
            json!({"code": 1, "message": "生成失败：内容违规", "data": {"status": "FAILURE"}});
        assert_eq!(
            read_task(&envelope_only, OutputKind::Video),
            Some(TaskStatus::Failed {
                reason: "生成失败：内容违规".into()
            })
        );
    }

    /// PiAPI's task: `data.output.video`, and an `error` object that is empty on success.
    #[test]
    fn piapi_output_and_its_empty_error_are_read() {
        let done = json!({"code": 200, "data": {"task_id": "4eba5893-2a39-4218-b5aa-bb9f3c4a26b2",
            "model": "sora2", "task_type": "sora2-video", "status": "completed",
            "input": {"aspect_ratio": "16:9", "duration": 4, "prompt": "street interview",
                      "image_urls": ["https://in.example/ref.png"]},
            "output": {"video": "https://img.theapi.app/ephemeral/6147ebfc.mp4"},
            "meta": {"usage": {"type": "llm", "frozen": 0, "consume": 3200000}},
            "detail": null, "logs": [],
            "error": {"code": 0, "raw_message": "", "message": "", "detail": null}},
            "message": "success"});
        assert_eq!(
            read_task(&done, OutputKind::Video),
            video("https://img.theapi.app/ephemeral/6147ebfc.mp4")
        );
        let failed = json!({"code": 200, "data": {"task_id": "4eba", "status": "failed",
            "output": {}, "error": {"code": 10000, "raw_message": "moderation blocked",
            "message": "failed to generate video", "detail": null}}, "message": "success"});
        assert_eq!(
            read_task(&failed, OutputKind::Video),
            Some(TaskStatus::Failed {
                reason: "failed to generate video".into()
            })
        );
    }

    #[test]
    fn output_in_every_form_is_a_result() {
        for answer in [
            json!({"status": "succeeded", "output": "https://cdn/a.mp4"}),
            json!({"status": "succeeded", "output": ["https://cdn/a.mp4"]}),
            json!({"status": "succeeded", "output": [{"url": "https://cdn/a.mp4"}]}),
            json!({"data": {"status": "success", "output": {"video_url": "https://cdn/a.mp4"}}}),
            json!({"status": "completed", "video_url": "https://cdn/a.mp4", "thumbnail_url": "https://cdn/a.jpg"}),
            json!({"status": "SUCCESS", "result_url": "https://cdn/a.mp4"}),
            json!({"state": "succeeded", "result": {"videos": [{"url": "https://cdn/a.mp4"}]}}),
            json!({"code": 200, "msg": "success", "data": {"taskId": "k1", "state": "success",
                "resultJson": "{\"resultUrls\":[\"https://cdn/a.mp4\"]}"}}),
            json!({"status": "completed", "urls": ["https://cdn/a.mp4"]}),
        ] {
            assert_eq!(
                read_task(&answer, OutputKind::Video),
                video("https://cdn/a.mp4"),
                "{answer}"
            );
        }
    }

    #[test]
    fn echoed_inputs_are_never_results() {
        let answer = json!({"id": "sora-2:task_01k9008rhbefnt3rb1g9szxdwr", "object": "video",
            "status": "completed", "progress": "100",
            "detail": {"input": {"prompt": "make animate", "images": ["https://in.example/a.png"]}}});
        assert!(matches!(
            read_task(&answer, OutputKind::Video),
            Some(TaskStatus::Failed { .. })
        ));
    }

    #[test]
    fn a_success_without_a_character_is_a_final_failure() {
        let answer = json!({"id": "t", "state": "succeeded", "data": {}});
        assert!(matches!(
            read_task(&answer, OutputKind::Character),
            Some(TaskStatus::Failed { reason }) if reason.contains("no character")
        ));
    }

    /// Modified_Sora2api's `/v1/characters` answers once the character exists.
    #[test]
    fn a_synchronous_character_is_ready_without_polling() {
        let answer = json!({"id": "char_5f1c0e2b9d7a4c3e8b6f1a20", "object": "character",
            "created": 1702388400, "model": "sora-video-10s",
            "data": {"cameo_id": "ch_68f2a1b3c4d5", "username": "my_character",
                     "display_name": "My Character", "message": "Character created successfully"}});
        let task = read_created(&http(), &answer, OutputKind::Character).unwrap();
        assert!(task.0.starts_with(READY_PREFIX), "{task}");
        assert_eq!(
            ready_output(&task),
            Some(Output::Character(CharacterInfo {
                id: Some("ch_68f2a1b3c4d5".into()),
                username: Some("my_character".into())
            }))
        );
        // A task to poll stays one.
        let queued = json!({"id": "char_2f7a568b", "object": "character", "status": "queued",
            "progress": 0, "username": null, "avatar_url": null});
        assert_eq!(
            read_created(&http(), &queued, OutputKind::Character),
            Ok(TaskId("char_2f7a568b".into()))
        );
    }

    #[test]
    fn a_create_answer_envelope_with_an_error_is_refused() {
        let quota = json!({"code": "insufficient_user_quota", "message": "用户额度不足, 剩余额度: ＄0.000000", "data": null});
        assert!(matches!(
            read_created(&http(), &quota, OutputKind::Video),
            Err(BackendError::Exhausted { .. })
        ));
        let refused = json!({"code": 400, "msg": "prompt contains sensitive words", "data": null});
        assert!(matches!(
            read_created(&http(), &refused, OutputKind::Video),
            Err(BackendError::Rejected { status: 200, .. })
        ));
        let piapi = json!({"code": 200, "data": {"task_id": "4eba5893", "status": "pending"}, "message": "success"});
        assert_eq!(
            read_created(&http(), &piapi, OutputKind::Video),
            Ok(TaskId("4eba5893".into()))
        );
        let kie = json!({"code": 200, "msg": "success", "data": {"taskId": "281e5b0a"}});
        assert_eq!(
            read_created(&http(), &kie, OutputKind::Video),
            Ok(TaskId("281e5b0a".into()))
        );
    }

    #[test]
    fn the_seed_success_answer_reads_as_a_video() {
        let answer = json!({"id": "t1", "state": "succeeded", "progress": 100,
            "data": {"videos": [{"url": "https://video-url.com/result.mp4"}]}});
        assert_eq!(
            read_task(&answer, OutputKind::Video),
            Some(TaskStatus::Succeeded(Output::Video(MediaRef::Url(
                "https://video-url.com/result.mp4".into()
            ))))
        );
    }

    #[test]
    fn a_success_without_a_result_is_a_final_failure() {
        let answer = json!({"id": "t1", "state": "succeeded"});
        assert!(matches!(
            read_task(&answer, OutputKind::Video),
            Some(TaskStatus::Failed { reason }) if reason.contains("no result link")
        ));
    }

    #[test]
    fn a_stateless_answer_is_judged_by_what_it_holds() {
        assert_eq!(
            read_task(&json!({"progress": 0.5}), OutputKind::Video),
            Some(TaskStatus::Running {
                progress: Some(0.5)
            })
        );
        assert_eq!(read_task(&json!({"hello": 1}), OutputKind::Video), None);
    }

    #[test]
    fn path_segments_cannot_escape_the_path() {
        assert_eq!(path_segment("../../admin?x=1"), "adminx1");
        assert_eq!(path_segment("e2f5c9d1-c6f6"), "e2f5c9d1-c6f6");
    }
}
