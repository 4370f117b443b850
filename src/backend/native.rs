//! The native dialect (seed 000 §3): `POST /v1/videos/generations`,
//! `POST /v1/characters`, `POST /v1/videos/{id}/remix`, and
//! `GET /v1/videos/tasks/{id}` for every kind of task.

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
    find_task_id, looks_like_video, MediaRef, Output, StateWord, TaskId, TaskStatus,
};
use super::{Backend, Download, Feature};

pub(crate) struct NativeBackend {
    http: SoraHttp,
    model: String,
    capabilities: Capabilities,
}

impl NativeBackend {
    pub(crate) fn new(config: &SoraConfig) -> Result<Self, BackendError> {
        Ok(NativeBackend {
            http: SoraHttp::new(config)?,
            model: config.video_model.clone(),
            capabilities: capabilities(Dialect::Native, &config.video_model),
        })
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
            Some(status) => Ok(status),
            None => Err(self.http.malformed(&answer.to_string())),
        }
    }

    async fn download(&self, _task: &TaskId, media: &MediaRef) -> Result<Download, BackendError> {
        match media {
            MediaRef::Url(url) => self.http.download(url).await,
            MediaRef::Content => Err(self.http.malformed("no content endpoint in this dialect")),
        }
    }
}

/// The prefix of a task id that stands for a result the create answer
/// already held (a character a relay made synchronously): the status call
/// answers it from the id itself, with no request, also after a restart.
const READY_PREFIX: &str = "ready:";

/// A task id for a result already in hand.
fn ready_task(output: &Output) -> Option<TaskId> {
    use base64::Engine as _;
    let json = serde_json::to_vec(output).ok()?;
    Some(TaskId(format!(
        "{READY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    )))
}

/// The result a ready task id stands for.
fn ready_output(task: &TaskId) -> Option<Output> {
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
