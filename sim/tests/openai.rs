//! The OpenAI video dialect (spec `/videos*`, seed 001 §4) against a real simulator.

mod common;

use common::{assert_error, send, start, Api, SAMPLE_MP4, SAMPLE_PNG, SAMPLE_THUMBNAIL};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sorabot_sim::Style;

/// Every key of the spec's `VideoResource`.
const RESOURCE_KEYS: [&str; 13] = [
    "id",
    "object",
    "model",
    "status",
    "progress",
    "created_at",
    "completed_at",
    "expires_at",
    "prompt",
    "size",
    "seconds",
    "remixed_from_video_id",
    "error",
];

#[track_caller]
fn assert_resource(v: &Value) {
    for key in RESOURCE_KEYS {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["object"], "video");
    assert!(
        v["id"].as_str().is_some_and(|id| id.starts_with("video_")),
        "{v}"
    );
}

async fn create(api: &Api, body: Value) -> Value {
    let (status, created) = api.post_json("/v1/videos", body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_resource(&created);
    created
}

#[tokio::test]
async fn seed_create_retrieve_and_download() {
    // Slower, so the job is surely unfinished at the first checks.
    let api = start(Style::OpenAi, |c| c.time_scale = 1000.0).await;
    assert!(api.sim.base_url().ends_with("/sora"));
    // Seed 001 §4, create.
    let created = create(&api, json!({"prompt": "画小猫", "model": "sora_video2"})).await;
    assert_eq!(created["status"], "queued");
    assert_eq!(created["progress"], 0);
    assert_eq!(created["model"], "sora_video2");
    assert_eq!(created["prompt"], "画小猫");
    assert_eq!(created["seconds"], "10");
    assert_eq!(created["size"], "720x1280");
    assert_eq!(created["completed_at"], Value::Null);
    assert_eq!(created["expires_at"], Value::Null);
    assert_eq!(created["remixed_from_video_id"], Value::Null);
    assert_eq!(created["error"], Value::Null);
    let id = created["id"].as_str().expect("id");

    let (status, body) = api.get_json(&format!("/v1/videos/{id}/content")).await;
    assert_eq!(body["error"]["code"], "video_not_ready", "{body}");
    assert_eq!(status, StatusCode::CONFLICT);

    let seen = api
        .poll_all(&format!("/v1/videos/{id}"), |v| v["status"] == "completed")
        .await;
    assert!(seen.iter().any(|v| v["status"] == "in_progress"));
    let done = seen.last().expect("final");
    assert_resource(done);
    assert_eq!(done["progress"], 100);
    let created_at = done["created_at"].as_u64().expect("created_at");
    let completed_at = done["completed_at"].as_u64().expect("completed_at");
    assert!(completed_at >= created_at);
    assert!(done["expires_at"].as_u64().expect("expires_at") > completed_at);

    let response = api
        .get(&format!("/v1/videos/{id}/content"))
        .send()
        .await
        .expect("content");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "video/mp4");
    assert_eq!(
        response.headers()["content-length"],
        SAMPLE_MP4.len().to_string().as_str()
    );
    assert_eq!(response.bytes().await.expect("bytes"), SAMPLE_MP4);

    let response = api
        .get(&format!("/v1/videos/{id}/content?variant=thumbnail"))
        .send()
        .await
        .expect("thumbnail");
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.expect("bytes"), SAMPLE_THUMBNAIL);
}

#[tokio::test]
async fn spec_parameters_are_echoed() {
    let api = start(Style::OpenAi, |_| {}).await;
    let created = create(
        &api,
        json!({"model": "sora-2-pro", "prompt": "p", "seconds": "8", "size": "1792x1024", "watermark": false}),
    )
    .await;
    assert_eq!(created["model"], "sora-2-pro");
    assert_eq!(created["seconds"], "8");
    assert_eq!(created["size"], "1792x1024");
    let created = create(&api, json!({"prompt": "p", "seconds": 25})).await;
    assert_eq!(created["model"], "sora-2");
    assert_eq!(created["seconds"], "25");
    let created = create(
        &api,
        json!({"prompt": "p", "model": "sora_video2-landscape-hd-15s"}),
    )
    .await;
    assert_eq!(
        (created["seconds"].as_str(), created["size"].as_str()),
        (Some("15"), Some("1792x1024"))
    );
    let created = create(
        &api,
        json!({"prompt": "p", "input_reference": {"image_url": "data:image/jpeg;base64,/9j/4AAQ"}}),
    )
    .await;
    assert_eq!(created["seconds"], "4");
}

#[tokio::test]
async fn seed_remix_of_a_completed_video() {
    // Slower, so the job is surely unfinished at the first checks.
    let api = start(Style::OpenAi, |c| c.time_scale = 1000.0).await;
    let source = create(
        &api,
        json!({"prompt": "画小猫", "model": "sora_video2", "seconds": 15}),
    )
    .await;
    let source_id = source["id"].as_str().expect("id");

    let (status, body) = api
        .post_json(
            &format!("/v1/videos/{source_id}/remix"),
            json!({"prompt": "再加一只小狗"}),
        )
        .await;
    assert_error(status, &body, 400, "video_not_completed");

    assert_eq!(api.wait_openai(source_id).await["status"], "completed");
    // Seed 001 §4, remix.
    let (status, remix) = api
        .post_json(
            &format!("/v1/videos/{source_id}/remix"),
            json!({"prompt": "再加一只小狗", "model": "sora_video2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{remix}");
    assert_resource(&remix);
    assert_eq!(remix["remixed_from_video_id"], source_id);
    assert_eq!(remix["seconds"], "15");
    assert_eq!(remix["prompt"], "再加一只小狗");
    assert_eq!(remix["status"], "queued");
    let done = api.wait_openai(remix["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["remixed_from_video_id"], source_id);

    let (status, body) = api
        .post_json("/v1/videos/video_nope/remix", json!({"prompt": "x"}))
        .await;
    assert_error(status, &body, 404, "not_found");
}

#[tokio::test]
async fn multipart_create_with_an_input_reference_file() {
    let api = start(Style::OpenAi, |_| {}).await;
    let form = Form::new()
        .text("model", "sora-2")
        .text("prompt", "A calico cat playing a piano on stage")
        .text("seconds", "12")
        .text("size", "1280x720")
        .text("watermark", "true")
        .part(
            "input_reference",
            Part::bytes(SAMPLE_PNG.to_vec())
                .file_name("ref.png")
                .mime_str("image/png")
                .expect("mime"),
        );
    let (status, created) = send(api.post("/v1/videos").multipart(form)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_resource(&created);
    assert_eq!(created["seconds"], "12");
    assert_eq!(created["size"], "1280x720");
    let recorded = api.sim.requests().pop().expect("recorded");
    let part = recorded.part("input_reference").expect("part");
    assert_eq!(part.filename.as_deref(), Some("ref.png"));
    assert_eq!(part.data.as_ref(), SAMPLE_PNG);
    assert_eq!(recorded.part("seconds").and_then(|p| p.text()), Some("12"));

    let form = Form::new().text("prompt", "p").part(
        "input_reference",
        Part::bytes(b"not an image".to_vec())
            .file_name("ref.png")
            .mime_str("image/png")
            .expect("mime"),
    );
    let (status, body) = send(api.post("/v1/videos").multipart(form)).await;
    assert_error(status, &body, 400, "invalid_image_format");
    assert_eq!(body["error"]["param"], "input_reference");
}

#[tokio::test]
async fn bad_create_requests_get_4xx_json() {
    let api = start(Style::OpenAi, |_| {}).await;
    let cases = [
        (
            json!({"model": "sora-2"}),
            "missing_required_parameter",
            "prompt",
        ),
        (
            json!({"prompt": "p", "model": "gpt-4o"}),
            "model_not_found",
            "model",
        ),
        (
            json!({"prompt": "p", "model": "sora_video2-square"}),
            "invalid_value",
            "model",
        ),
        (
            json!({"prompt": "p", "seconds": "5"}),
            "invalid_value",
            "seconds",
        ),
        (
            json!({"prompt": "p", "size": "100x100"}),
            "invalid_value",
            "size",
        ),
        (
            json!({"prompt": "p", "watermark": "maybe"}),
            "invalid_value",
            "watermark",
        ),
        (
            json!({"prompt": "p", "input_reference": {"image_url": "nope"}}),
            "invalid_url",
            "input_reference.image_url",
        ),
        (
            json!({"prompt": "p", "input_reference": {}}),
            "invalid_value",
            "input_reference",
        ),
        (
            json!({"prompt": "nsfw cat"}),
            "content_policy_violation",
            "prompt",
        ),
    ];
    for (body, code, param) in cases {
        let (status, answer) = api.post_json("/v1/videos", body.clone()).await;
        assert_error(status, &answer, 400, code);
        assert_eq!(answer["error"]["param"], param, "{body}");
    }
    let (status, answer) = api.get_json("/v1/videos/video_missing").await;
    assert_error(status, &answer, 404, "not_found");
    let (status, answer) = api.get_json("/v1/videos/video_missing/content").await;
    assert_error(status, &answer, 404, "not_found");
    assert_eq!(api.sim.task_count(), 0);
}

#[tokio::test]
async fn failed_videos_carry_an_error() {
    let api = start(Style::OpenAi, |_| {}).await;
    let created = create(&api, json!({"prompt": "a dog [sim:fail]"})).await;
    let id = created["id"].as_str().expect("id");
    let done = api.wait_openai(id).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["error"]["code"], "generation_failed");
    assert!(done["progress"].as_u64().is_some_and(|p| p < 100));
    assert!(done["completed_at"].is_u64());
    assert_eq!(done["expires_at"], Value::Null);
    let (status, body) = api.get_json(&format!("/v1/videos/{id}/content")).await;
    assert_error(status, &body, 409, "video_failed");
}

#[tokio::test]
async fn an_extension_of_a_completed_video_ends_as_the_stitched_total() {
    let api = start(Style::OpenAi, |c| c.time_scale = 1000.0).await;
    let source = create(&api, json!({"prompt": "a paper boat", "seconds": "8"})).await;
    let source_id = source["id"].as_str().expect("id");
    let extend = json!({"video": {"id": source_id}, "prompt": "it sails on", "seconds": "4"});

    let (status, body) = api.post_json("/v1/videos/extensions", extend.clone()).await;
    assert_error(status, &body, 400, "video_not_completed");
    assert_eq!(api.wait_openai(source_id).await["status"], "completed");
    let (status, extension) = api.post_json("/v1/videos/extensions", extend).await;

    assert_eq!(status, StatusCode::OK, "{extension}");
    assert_resource(&extension);
    assert_eq!(extension["prompt"], "it sails on");
    let done = api.wait_openai(extension["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["seconds"], "12");
}

#[tokio::test]
async fn extensions_and_edits_outside_the_spec_are_refused_by_field() {
    let api = start(Style::OpenAi, |_| {}).await;
    for (path, body, param, code) in [
        (
            "/v1/videos/extensions",
            json!({"video": {"id": "video_1"}, "prompt": "x"}),
            "seconds",
            "missing_required_parameter",
        ),
        (
            "/v1/videos/extensions",
            json!({"video": {"id": "video_1"}, "prompt": "x", "seconds": 4}),
            "seconds",
            "invalid_value",
        ),
        (
            "/v1/videos/edits",
            json!({"video": "video_1", "prompt": "x"}),
            "video",
            "invalid_value",
        ),
        (
            "/v1/videos/edits",
            json!({"video": {"id": "video_1"}}),
            "prompt",
            "missing_required_parameter",
        ),
    ] {
        let (status, answer) = api.post_json(path, body).await;
        assert_error(status, &answer, 400, code);
        assert_eq!(answer["error"]["param"], param, "{path}: {answer}");
    }
}

#[tokio::test]
async fn an_edit_of_a_completed_video_is_a_new_video_from_it() {
    let api = start(Style::OpenAi, |_| {}).await;
    let source = create(&api, json!({"prompt": "a red kite"})).await;
    let source_id = source["id"].as_str().expect("id");
    assert_eq!(api.wait_openai(source_id).await["status"], "completed");

    let (status, edit) = api
        .post_json(
            "/v1/videos/edits",
            json!({"video": {"id": source_id}, "prompt": "make it blue"}),
        )
        .await;

    assert_eq!(status, StatusCode::OK, "{edit}");
    assert_resource(&edit);
    assert_eq!(edit["remixed_from_video_id"], source_id);
}

#[tokio::test]
async fn a_character_is_made_at_once_from_an_uploaded_video_and_read_back() {
    let api = start(Style::OpenAi, |_| {}).await;
    let video = Part::bytes(SAMPLE_MP4.to_vec())
        .file_name("fox.mp4")
        .mime_str("video/mp4")
        .expect("mime");
    let form = Form::new().text("name", "foxy").part("video", video);

    let (status, created) = send(api.post("/v1/videos/characters").multipart(form)).await;

    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_str().expect("an id");
    assert!(id.starts_with("char_"), "{created}");
    assert_eq!(created["name"], "foxy");
    assert!(created["created_at"].is_u64(), "{created}");
    let (status, fetched) = api.get_json(&format!("/v1/videos/characters/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, created);
    let (status, missing) = api.get_json("/v1/videos/characters/char_nope").await;
    assert_error(status, &missing, 404, "not_found");
}

#[tokio::test]
async fn a_character_needs_a_name_and_an_mp4() {
    let api = start(Style::OpenAi, |_| {}).await;
    let png = Part::bytes(SAMPLE_PNG.to_vec())
        .file_name("a.png")
        .mime_str("image/png")
        .expect("mime");
    let no_name = Form::new().part("video", Part::bytes(SAMPLE_MP4.to_vec()).file_name("v.mp4"));

    let (status, body) = send(
        api.post("/v1/videos/characters")
            .multipart(Form::new().text("name", "x").part("video", png)),
    )
    .await;
    assert_error(status, &body, 400, "invalid_video_format");
    let (status, body) = send(api.post("/v1/videos/characters").multipart(no_name)).await;
    assert_error(status, &body, 400, "missing_required_parameter");
    assert_eq!(body["error"]["param"], "name");
}
