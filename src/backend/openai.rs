//! The OpenAI videos dialect (seed 001 §4 and `/videos*` of the OpenAI spec):
//! `POST /v1/videos` (JSON, or multipart when a reference image is bytes),
//! `GET /v1/videos/{id}`, `POST /v1/videos/{id}/remix`,
//! `GET /v1/videos/{id}/content`, `POST /v1/videos/extensions`, characters
//! through `POST /v1/videos/characters` (multipart: the video and a name;
//! the answer is the character, made at once) and
//! `GET /v1/videos/characters/{id}`; and pictures through
//! `POST /v1/images/generations` and `/v1/images/edits` (seed 001 §2, §3).

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::config::{Dialect, SoraConfig};
use super::error::BackendError;
use super::http::shorten;
use super::http::SoraHttp;
use super::local::LocalTasks;
use super::models::{capabilities, model_for_request, openai_size};
use super::native::{path_segment, read_created, read_task, ready_output, ready_task};
use super::options::{
    Capabilities, CharacterRequest, CharacterSource, ExtendRequest, ImageInput, ImageRequest,
    JobSpec, OutputKind, Unsupported, VideoOptions, VideoRequest,
};
use super::status::{
    find_failure, find_media_urls, find_task_id, CharacterInfo, MediaRef, Output, TaskId,
    TaskStatus,
};
use super::status::{find_state, StateWord};
use super::{Backend, Download, Feature};

/// Largest image we fetch from a URL to pass on as bytes in an edit.
const MAX_INPUT_IMAGE_BYTES: usize = 20 * 1024 * 1024;
/// Largest video we fetch to upload as a character's source.
const MAX_CHARACTER_VIDEO_BYTES: usize = 100 * 1024 * 1024;

pub(crate) struct OpenAiBackend {
    http: SoraHttp,
    model: String,
    image_model: String,
    capabilities: Capabilities,
    /// Image calls answer only when done, so they run as local tasks.
    images: LocalTasks,
    generation_timeout: std::time::Duration,
    /// The operator's watermark choice, for requests that do not say.
    watermark: Option<bool>,
}

impl OpenAiBackend {
    pub(crate) fn new(config: &SoraConfig) -> Result<Self, BackendError> {
        Ok(OpenAiBackend {
            http: SoraHttp::new(config)?,
            model: config.video_model.clone(),
            image_model: config.image_model.clone(),
            capabilities: capabilities(Dialect::OpenAi, &config.video_model),
            images: LocalTasks::new("img"),
            generation_timeout: config.generation_timeout,
            watermark: config.watermark,
        })
    }

    async fn create_video(&self, request: &VideoRequest) -> Result<TaskId, BackendError> {
        let fields = self.video_fields(&request.prompt, &request.options);
        let builder = self.http.request(Method::POST, "v1/videos");
        let builder = match request.images.first() {
            Some(ImageInput::Bytes { mime, data }) => {
                let form = fields
                    .into_iter()
                    .fold(Form::new(), |form, (k, v)| form.text(k, form_text(&v)));
                builder.multipart(form.part("input_reference", image_part(mime, data)?))
            }
            Some(ImageInput::Url(url)) => {
                let mut body = fields;
                body.insert("input_reference".into(), json!({ "image_url": url }));
                builder.json(&body)
            }
            None => {
                let mut body = fields;
                // The guide's way to cast: the ids beside the names in the prompt.
                let ids: Vec<Value> = request
                    .characters
                    .iter()
                    .filter_map(|c| c.service_id.as_ref())
                    .map(|id| json!({ "id": id }))
                    .collect();
                if !ids.is_empty() {
                    body.insert("characters".into(), Value::Array(ids));
                }
                builder.json(&body)
            }
        };
        self.read_id(self.http.send_json(builder).await?)
    }

    /// `POST /v1/videos/extensions`: `video: {id}`, `prompt`, `seconds` as text.
    async fn extend_video(&self, request: &ExtendRequest) -> Result<TaskId, BackendError> {
        let body = json!({
            "video": { "id": request.source },
            "prompt": request.prompt,
            "seconds": request.seconds.to_string(),
        });
        let builder = self
            .http
            .request(Method::POST, "v1/videos/extensions")
            .json(&body);
        self.read_id(self.http.send_json(builder).await?)
    }

    /// `POST /v1/videos/characters`: the source video's bytes and the name.
    /// The answer is the character itself, so the task is ready at once.
    async fn create_character(&self, request: &CharacterRequest) -> Result<TaskId, BackendError> {
        let video = self.source_video(&request.source).await?;
        let part = Part::bytes(video.to_vec())
            .file_name("video.mp4")
            .mime_str("video/mp4")
            .map_err(|_| BackendError::Unsupported(Unsupported::Feature(Feature::Characters)))?;
        let form = Form::new()
            .text("name", request.name.clone())
            .part("video", part);
        let builder = self
            .http
            .request(Method::POST, "v1/videos/characters")
            .multipart(form);
        let answer = self.http.send_json(builder).await?;
        read_character(&answer)
            .and_then(|info| ready_task(&Output::Character(info)))
            .ok_or_else(|| self.http.malformed(&answer.to_string()))
    }

    /// The bytes of a character's source: a video of this service where its
    /// resource says (the link a relay gives, else the content endpoint),
    /// or a posted video from its public link.
    async fn source_video(&self, source: &CharacterSource) -> Result<Bytes, BackendError> {
        let download = match source {
            CharacterSource::FromTask(id) => {
                let task = TaskId(id.clone());
                let media = match self.status(&task, OutputKind::Video).await? {
                    TaskStatus::Succeeded(Output::Video(media)) => media,
                    _ => MediaRef::Content,
                };
                self.download(&task, &media).await?
            }
            CharacterSource::Url(url) => self.http.download(url).await?,
        };
        read_all(
            download,
            MAX_CHARACTER_VIDEO_BYTES,
            "the source video is larger than 100 MB",
        )
        .await
    }

    fn video_fields(&self, prompt: &str, options: &VideoOptions) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert(
            "model".into(),
            json!(model_for_request(&self.model, options)),
        );
        body.insert("prompt".into(), json!(prompt));
        if let Some(seconds) = options.seconds {
            body.insert("seconds".into(), json!(seconds.to_string()));
        }
        if let Some(size) = openai_size(options) {
            body.insert("size".into(), json!(size));
        }
        if let Some(watermark) = options.watermark.or(self.watermark) {
            body.insert("watermark".into(), json!(watermark));
        }
        body
    }

    fn read_id(&self, answer: Value) -> Result<TaskId, BackendError> {
        if let Some(StateWord::Failed) = find_state(&answer) {
            return Err(BackendError::Failed {
                reason: shorten(&self.http.redact(
                    &find_failure(&answer).unwrap_or_else(|| "no reason given".to_owned()),
                )),
            });
        }
        if let Some(id) = find_task_id(&answer) {
            return Ok(TaskId(id));
        }
        read_created(&self.http, &answer, OutputKind::Video)
    }

    /// Starts an image call in the background; its answer holds the pictures.
    async fn start_images(&self, request: &ImageRequest) -> Result<TaskId, BackendError> {
        let mut form = Form::new()
            .text("prompt", request.prompt.clone())
            .text("model", self.image_model.clone())
            .text("n", request.n.to_string());
        if let Some((w, h)) = request.size {
            form = form.text("size", format!("{w}x{h}"));
        }
        let path = if request.inputs.is_empty() {
            "v1/images/generations"
        } else {
            for input in &request.inputs {
                let (mime, data) = self.image_bytes(input).await?;
                form = form.part("image[]", image_part(&mime, &data)?);
            }
            "v1/images/edits"
        };
        let builder = self
            .http
            .streaming_request(Method::POST, path)
            .timeout(self.generation_timeout)
            .multipart(form);
        let http = self.http.clone();
        Ok(self.images.spawn(self.generation_timeout, |_| async move {
            let answer = http.send_json(builder).await?;
            read_images(&answer).ok_or_else(|| http.malformed(&answer.to_string()))
        }))
    }

    /// The bytes of an input image: as given, or fetched from its URL.
    async fn image_bytes(&self, input: &ImageInput) -> Result<(String, Bytes), BackendError> {
        match input {
            ImageInput::Bytes { mime, data } => Ok((mime.clone(), data.clone())),
            ImageInput::Url(url) => {
                let download = self.http.download(url).await?;
                let mime = download
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "image/png".to_owned());
                let data = read_all(
                    download,
                    MAX_INPUT_IMAGE_BYTES,
                    "the input image is larger than 20 MB",
                )
                .await?;
                Ok((mime, data))
            }
        }
    }
}

/// A download's bytes, at most `max` of them (else refused with `too_large`).
async fn read_all(
    download: Download,
    max: usize,
    too_large: &'static str,
) -> Result<Bytes, BackendError> {
    let data = download
        .stream
        .try_fold(Vec::new(), |mut buf, chunk| async move {
            if buf.len() + chunk.len() > max {
                return Err(BackendError::Rejected {
                    status: 413,
                    code: None,
                    message: too_large.into(),
                });
            }
            buf.extend_from_slice(&chunk);
            Ok(buf)
        })
        .await?;
    Ok(Bytes::from(data))
}

/// The spec's `VideoCharacterResource` (`id`, `name`): prompts cast it by
/// its name.
fn read_character(answer: &Value) -> Option<CharacterInfo> {
    let text = |key: &str| {
        answer
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let id = text("id")?;
    Some(CharacterInfo {
        id: Some(id),
        username: text("name"),
    })
}

/// A multipart value as text: strings bare, other JSON as written.
fn form_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn image_part(mime: &str, data: &Bytes) -> Result<Part, BackendError> {
    let extension = mime.rsplit('/').next().unwrap_or("png");
    Part::bytes(data.to_vec())
        .file_name(format!("image.{extension}"))
        .mime_str(mime)
        .map_err(|_| BackendError::Unsupported(Unsupported::Feature(Feature::ImageToVideo)))
}

/// `{"data": [{"url"}|{"b64_json"}]}`; inline pictures become `data:` URLs.
fn read_images(answer: &Value) -> Option<Output> {
    let inline = answer
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("b64_json").and_then(Value::as_str))
        .map(|b64| format!("data:image/png;base64,{b64}"));
    let urls: Vec<MediaRef> = find_media_urls(answer)
        .into_iter()
        .chain(inline)
        .map(MediaRef::Url)
        .collect();
    (!urls.is_empty()).then_some(Output::Images(urls))
}

/// A video resource: the spec's status words and integer progress. The
/// bytes come from the link the relay gives (`video_url`, `url`), else from
/// the content endpoint.
fn read_video(answer: &Value) -> Option<TaskStatus> {
    let done = matches!(find_state(answer), Some(StateWord::Succeeded));
    match read_task(answer, OutputKind::Video) {
        Some(TaskStatus::Succeeded(output)) => Some(TaskStatus::Succeeded(output)),
        _ if done => Some(TaskStatus::Succeeded(Output::Video(MediaRef::Content))),
        other => other,
    }
}

#[async_trait]
impl Backend for OpenAiBackend {
    fn dialect(&self) -> Dialect {
        Dialect::OpenAi
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
            JobSpec::Video(request) => self.create_video(request).await,
            JobSpec::Remix(request) => {
                let path = format!("v1/videos/{}/remix", path_segment(&request.source));
                let body = json!({
                    "prompt": request.prompt,
                    "model": model_for_request(&self.model, &request.options),
                });
                let answer = self
                    .http
                    .send_json(self.http.request(Method::POST, &path).json(&body))
                    .await?;
                self.read_id(answer)
            }
            JobSpec::Extend(request) => self.extend_video(request).await,
            JobSpec::Image(request) => self.start_images(request).await,
            JobSpec::Character(request) => self.create_character(request).await,
        }
    }

    async fn status(&self, task: &TaskId, kind: OutputKind) -> Result<TaskStatus, BackendError> {
        if kind == OutputKind::Images {
            return self.images.status(task);
        }
        if kind == OutputKind::Character {
            if let Some(output) = ready_output(task) {
                return Ok(TaskStatus::Succeeded(output));
            }
            let path = format!("v1/videos/characters/{}", path_segment(&task.0));
            let answer = self
                .http
                .send_json(self.http.request(Method::GET, &path))
                .await?;
            return read_character(&answer)
                .map(|info| TaskStatus::Succeeded(Output::Character(info)))
                .ok_or_else(|| self.http.malformed(&answer.to_string()));
        }
        let path = format!("v1/videos/{}", path_segment(&task.0));
        let answer = self
            .http
            .send_json(self.http.request(Method::GET, &path))
            .await?;
        match read_video(&answer) {
            Some(TaskStatus::Failed { reason }) => Ok(TaskStatus::Failed {
                reason: shorten(&self.http.redact(&reason)),
            }),
            Some(status) => Ok(status),
            None => Err(self.http.malformed(&answer.to_string())),
        }
    }

    /// Looks the job up in `GET /v1/videos` (newest first): a video with the
    /// same prompt created since the submission started. A service without
    /// the list answers an error, which means it cannot tell.
    async fn find_submitted(
        &self,
        spec: &JobSpec,
        since_ms: u64,
    ) -> Result<Option<TaskId>, BackendError> {
        let (JobSpec::Video(VideoRequest { prompt, .. })
        | JobSpec::Remix(super::RemixRequest { prompt, .. })
        | JobSpec::Extend(ExtendRequest { prompt, .. })) = spec
        else {
            return Ok(None);
        };
        let request = self
            .http
            .request(Method::GET, "v1/videos")
            .query(&[("limit", "100"), ("order", "desc")]);
        let answer = self.http.send_json(request).await?;
        // Clocks differ: a minute of slack before the submission started.
        let since = (since_ms / 1000).saturating_sub(60);
        let found = answer
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|video| video.get("created_at").and_then(Value::as_u64).unwrap_or(0) >= since)
            .find(|video| video.get("prompt").and_then(Value::as_str) == Some(prompt.as_str()))
            .and_then(|video| video.get("id").and_then(Value::as_str))
            .map(|id| TaskId(id.to_owned()));
        Ok(found)
    }

    async fn download(&self, task: &TaskId, media: &MediaRef) -> Result<Download, BackendError> {
        match media {
            MediaRef::Url(url) => self.http.download(url).await,
            MediaRef::Content => {
                let path = format!("v1/videos/{}/content", path_segment(&task.0));
                let request = self.http.streaming_request(Method::GET, &path);
                self.http.download_response(self.http.send(request).await?)
            }
        }
    }

    /// `GET /v1/videos/{id}/content?variant=thumbnail` (the spec's
    /// preview picture), for a video fetched from the content endpoint; a
    /// relay that links its videos elsewhere is not asked.
    async fn thumbnail(
        &self,
        task: &TaskId,
        media: &MediaRef,
    ) -> Result<Option<Download>, BackendError> {
        if *media != MediaRef::Content {
            return Ok(None);
        }
        let path = format!("v1/videos/{}/content", path_segment(&task.0));
        let request = self
            .http
            .streaming_request(Method::GET, &path)
            .query(&[("variant", "thumbnail")]);
        let response = self.http.send_counted(request, "thumbnail").await?;
        self.http.download_response(response).map(Some)
    }

    fn download_asks_service(&self, media: &MediaRef) -> bool {
        match media {
            MediaRef::Url(url) => self.http.on_service_origin(url),
            MediaRef::Content => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completed_video_is_fetched_from_the_content_endpoint() {
        let answer =
            json!({"id": "video_1", "object": "video", "status": "completed", "progress": 100});
        assert_eq!(
            read_video(&answer),
            Some(TaskStatus::Succeeded(Output::Video(MediaRef::Content)))
        );
        let running = json!({"id": "video_1", "status": "in_progress", "progress": 40});
        assert_eq!(
            read_video(&running),
            Some(TaskStatus::Running {
                progress: Some(0.4)
            })
        );
    }

    #[test]
    fn a_relay_link_is_preferred_to_the_content_endpoint() {
        // Modified_Sora2api: `succeeded` with a top-level `url`.
        let answer = json!({"id": "video_a1b2", "object": "video", "status": "succeeded",
            "progress": 100, "url": "https://videos.example/xxx/video.mp4",
            "remixed_from_video_id": null, "error": null});
        assert_eq!(
            read_video(&answer),
            Some(TaskStatus::Succeeded(Output::Video(MediaRef::Url(
                "https://videos.example/xxx/video.mp4".into()
            ))))
        );
        // A unified-video relay: `video_url`, progress as a string.
        let unified = json!({"id": "sora-2:task_01k9008r", "object": "video", "model": "sora-2",
            "status": "completed", "progress": "100", "video_url": "https://filesystem.site/cdn/x.mp4",
            "detail": {"input": {"images": ["https://in.example/a.png"]}}});
        assert_eq!(
            read_video(&unified),
            Some(TaskStatus::Succeeded(Output::Video(MediaRef::Url(
                "https://filesystem.site/cdn/x.mp4".into()
            ))))
        );
        let pending = json!({"id": "sora-2:task_01k9", "status": "pending", "progress": "0"});
        assert_eq!(read_video(&pending), Some(TaskStatus::Queued));
        // go-sora2api's failure: `error.message` only.
        let failed = json!({"id": "t", "object": "video", "status": "failed", "progress": 0,
            "error": {"message": "Content policy violation"}});
        assert_eq!(
            read_video(&failed),
            Some(TaskStatus::Failed {
                reason: "Content policy violation".into()
            })
        );
    }

    /// new-api's answer to `POST /v1/videos`, as pasted in QuantumNous/new-api#2860.
    #[test]
    fn new_apis_created_video_is_queued_under_its_id() {
        let answer = json!({"id": "video_6984d77f318481908e9ff63f81a7ffe6", "object": "video",
            "model": "sora-2", "status": "queued", "progress": 0, "created_at": 1770313599,
            "seconds": "4", "size": "1280x720"});
        assert_eq!(read_video(&answer), Some(TaskStatus::Queued));
        assert_eq!(
            find_task_id(&answer).as_deref(),
            Some("video_6984d77f318481908e9ff63f81a7ffe6")
        );
        // A gateway's own id beside the upstream's.
        let gateway = json!({"id": "task_Zx81", "task_id": "task_Zx81", "object": "video",
            "status": "in_progress", "progress": 37});
        assert_eq!(find_task_id(&gateway).as_deref(), Some("task_Zx81"));
        assert_eq!(
            read_video(&gateway),
            Some(TaskStatus::Running {
                progress: Some(0.37)
            })
        );
    }

    #[test]
    fn inline_images_become_data_urls() {
        let answer =
            json!({"created": 1, "data": [{"url": "http://h/a.png"}, {"b64_json": "iVBO"}]});
        assert_eq!(
            read_images(&answer),
            Some(Output::Images(vec![
                MediaRef::Url("http://h/a.png".into()),
                MediaRef::Url("data:image/png;base64,iVBO".into()),
            ]))
        );
        assert_eq!(read_images(&json!({"data": []})), None);
    }
}
