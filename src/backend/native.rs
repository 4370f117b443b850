//! The native dialect (seed 000 §3): `POST /v1/videos/generations`,
//! `POST /v1/characters`, `POST /v1/videos/{id}/remix`, and
//! `GET /v1/videos/tasks/{id}` for every kind of task.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::config::{Dialect, SoraConfig};
use super::error::BackendError;
use super::http::SoraHttp;
use super::models::{capabilities, model_for_request};
use super::options::{
    Capabilities, CharacterSource, CharacterUse, JobSpec, OutputKind, Unsupported, VideoOptions,
};
use super::status::{
    find_character, find_failure, find_media_urls, find_progress, find_state, find_task_id,
    MediaRef, Output, StateWord, TaskId, TaskStatus,
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

    async fn post(&self, path: &str, body: Map<String, Value>) -> Result<TaskId, BackendError> {
        let answer = self
            .http
            .send_json(self.http.request(Method::POST, path).json(&body))
            .await?;
        find_task_id(&answer)
            .map(TaskId)
            .ok_or_else(|| self.http.malformed(&answer.to_string()))
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
                self.post("v1/videos/generations", body).await
            }
            JobSpec::Remix(request) => {
                let body = self.video_body(&request.prompt, &request.options);
                let path = format!("v1/videos/{}/remix", path_segment(&request.source));
                self.post(&path, body).await
            }
            JobSpec::Character(request) => {
                let mut body = source_param(&request.source);
                body.insert("timestamps".into(), json!(request.timestamps.to_param()));
                self.post("v1/characters", body).await
            }
            JobSpec::Image(_) => Err(Unsupported::Feature(Feature::Images).into()),
        }
    }

    async fn status(&self, task: &TaskId, kind: OutputKind) -> Result<TaskStatus, BackendError> {
        let path = format!("v1/videos/tasks/{}", path_segment(&task.0));
        let answer = self
            .http
            .send_json(self.http.request(Method::GET, &path))
            .await?;
        read_task(&answer, kind).ok_or_else(|| self.http.malformed(&answer.to_string()))
    }

    async fn download(&self, _task: &TaskId, media: &MediaRef) -> Result<Download, BackendError> {
        match media {
            MediaRef::Url(url) => self.http.download(url).await,
            MediaRef::Content => Err(self.http.malformed("no content endpoint in this dialect")),
        }
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
        Some(StateWord::Succeeded) => TaskStatus::Succeeded(output(answer, kind)?),
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
        OutputKind::Video => find_media_urls(answer)
            .into_iter()
            .next()
            .map(|url| Output::Video(MediaRef::Url(url))),
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
    fn a_success_without_a_result_is_unreadable() {
        let answer = json!({"id": "t1", "state": "succeeded"});
        assert_eq!(read_task(&answer, OutputKind::Video), None);
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
