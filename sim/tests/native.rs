//! The native dialect (seed 000 §3) against a real simulator.

mod common;

use common::{assert_error, start, SAMPLE_MP4};
use reqwest::StatusCode;
use serde_json::json;
use sorabot_sim::Style;

#[tokio::test]
async fn seed_text_generation_runs_to_a_downloadable_video() {
    let api = start(Style::Native, |_| {}).await;
    // Seed 000 §3.1, text to video.
    let (status, created) = api
        .post_json(
            "/v1/videos/generations",
            json!({
                "model": "sora-2",
                "prompt": "A cinematic drone shot of a futuristic city",
                "aspect_ratio": "16:9",
                "duration": 15
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["state"], "queued");
    assert_eq!(created["progress"], 0);
    let id = created["id"].as_str().expect("id");
    assert_eq!(id.len(), 36, "uuid-like task id: {id}");

    let seen = api
        .poll_all(&format!("/v1/videos/tasks/{id}"), |v| {
            v["state"] == "succeeded"
        })
        .await;
    assert!(seen.iter().any(|v| v["state"] == "processing"), "{seen:?}");
    let done = seen.last().expect("final answer");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["id"], id);
    let url = done["data"]["videos"][0]["url"]
        .as_str()
        .expect("video url");
    assert_eq!(url, format!("{}/files/{id}.mp4", api.sim.base_url()));

    let (status, content_type, bytes) = api.download(url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("video/mp4"));
    assert_eq!(bytes, SAMPLE_MP4);
    assert_eq!(api.sim.task_count(), 1);
}

#[tokio::test]
async fn seed_image_generation_accepts_urls_and_data_urls() {
    let api = start(Style::Native, |_| {}).await;
    // Seed 000 §3.1, image to video.
    let (status, created) = api
        .post_json(
            "/v1/videos/generations",
            json!({
                "model": "sora-2",
                "prompt": "Animate this image",
                "image_urls": ["https://example.com/reference_image.jpg"]
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_str().expect("id");
    assert_eq!(api.wait_native(id).await["state"], "succeeded");

    let (status, body) = api
        .post_json(
            "/v1/videos/generations",
            json!({
                "model": "sora-2-pro",
                "prompt": "Animate this image",
                "aspect_ratio": "9:16",
                "duration": 25,
                "image_urls": ["data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="]
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = api
        .post_json(
            "/v1/videos/generations",
            json!({"model": "sora-2", "prompt": "x", "image_urls": ["data:image/png;base64,%%%"]}),
        )
        .await;
    assert_error(status, &body, 400, "invalid_image_url");
    assert_eq!(body["error"]["param"], "image_urls[0]");
}

#[tokio::test]
async fn seed_character_by_url_yields_a_cameo() {
    let api = start(Style::Native, |_| {}).await;
    // Seed 000 §3.2.
    let (status, created) = api
        .post_json(
            "/v1/characters",
            json!({"url": "https://example.com/character_video.mp4", "timestamps": "0,3"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["state"], "queued");
    let done = api.wait_native(created["id"].as_str().expect("id")).await;
    assert_eq!(done["state"], "succeeded");
    let character = &done["data"]["characters"][0];
    assert!(character["id"].as_str().expect("id").starts_with("char_"));
    let username = character["username"].as_str().expect("username");
    assert!(
        username.starts_with("cameo_") && username.len() == 10,
        "{username}"
    );
}

#[tokio::test]
async fn character_from_task_needs_a_finished_video() {
    let api = start(Style::Native, |_| {}).await;
    let source = api.finished_native_video().await;
    let (status, body) = api
        .post_json(
            "/v1/characters",
            json!({"from_task": source, "timestamps": "1.5,3"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, pending) = api
        .post_json("/v1/videos/generations", common::slow_video())
        .await;
    let (status, body) = api
        .post_json(
            "/v1/characters",
            json!({"from_task": pending["id"], "timestamps": "0,3"}),
        )
        .await;
    assert_error(status, &body, 400, "video_not_completed");

    let (status, body) = api
        .post_json(
            "/v1/characters",
            json!({"from_task": "missing", "timestamps": "0,3"}),
        )
        .await;
    assert_error(status, &body, 404, "not_found");
}

#[tokio::test]
async fn character_requests_are_checked() {
    let api = start(Style::Native, |_| {}).await;
    let url = "https://example.com/c.mp4";
    let cases = [
        (json!({"timestamps": "0,3"}), "invalid_value"),
        (
            json!({"url": url, "from_task": "x", "timestamps": "0,3"}),
            "invalid_value",
        ),
        (json!({"url": url}), "missing_required_parameter"),
        (
            json!({"url": url, "timestamps": "3,1"}),
            "invalid_timestamps",
        ),
        (
            json!({"url": url, "timestamps": "0,4"}),
            "invalid_timestamps",
        ),
        (
            json!({"url": url, "timestamps": "-1,1"}),
            "invalid_timestamps",
        ),
        (
            json!({"url": url, "timestamps": "a,b"}),
            "invalid_timestamps",
        ),
        (
            json!({"url": "ftp://x/y.mp4", "timestamps": "0,3"}),
            "invalid_url",
        ),
    ];
    for (body, code) in cases {
        let (status, answer) = api.post_json("/v1/characters", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {answer}");
        assert_eq!(answer["error"]["code"], code, "{body} -> {answer}");
    }
    assert_eq!(api.sim.task_count(), 0);
}

#[tokio::test]
async fn seed_multi_character_generation() {
    let api = start(Style::Native, |_| {}).await;
    // Seed 000 §3.5.
    let (status, body) = api
        .post_json(
            "/v1/videos/generations",
            json!({
                "model": "sora-2",
                "prompt": "@user1 在舞台上跳舞",
                "characters": [{"url": "https://character-video-url.mp4", "timestamps": "0,3"}]
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = api
        .post_json(
            "/v1/videos/generations",
            json!({"model": "sora-2", "prompt": "p", "characters": [{"timestamps": "0,3"}]}),
        )
        .await;
    assert_error(status, &body, 400, "invalid_value");
    assert_eq!(body["error"]["param"], "characters[0].url");
}

#[tokio::test]
async fn seed_remix_of_a_finished_video() {
    let api = start(Style::Native, |_| {}).await;
    let source = api.finished_native_video().await;
    // Seed 000 §3.3.
    let (status, remix) = api
        .post_json(
            &format!("/v1/videos/{source}/remix"),
            json!({"model": "sora-2", "prompt": "将白天变成黑夜", "aspect_ratio": "16:9", "duration": 15}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{remix}");
    assert_eq!(remix["state"], "queued");
    let remix_id = remix["id"].as_str().expect("id");
    assert_ne!(remix_id, source);
    let done = api.wait_native(remix_id).await;
    assert!(done["data"]["videos"][0]["url"]
        .as_str()
        .is_some_and(|u| u.ends_with(&format!("{remix_id}.mp4"))));

    let (status, body) = api
        .post_json("/v1/videos/nope/remix", json!({"prompt": "x"}))
        .await;
    assert_error(status, &body, 404, "not_found");
    let (_, pending) = api
        .post_json("/v1/videos/generations", common::slow_video())
        .await;
    let (status, body) = api
        .post_json(
            &format!("/v1/videos/{}/remix", pending["id"].as_str().expect("id")),
            json!({"prompt": "x"}),
        )
        .await;
    assert_error(status, &body, 400, "video_not_completed");
}

#[tokio::test]
async fn fail_words_fail_mid_run_and_reject_words_at_creation() {
    let api = start(Style::Native, |_| {}).await;
    let (status, created) = api
        .post_json(
            "/v1/videos/generations",
            json!({"model": "sora-2", "prompt": "a cat [sim:fail]"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let done = api.wait_native(created["id"].as_str().expect("id")).await;
    assert_eq!(done["state"], "failed");
    assert_eq!(done["error"]["code"], "generation_failed");
    assert!(done["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert!(done["progress"].as_u64().is_some_and(|p| p < 100), "{done}");
    assert!(done.get("data").is_none());

    let (status, body) = api
        .post_json(
            "/v1/videos/generations",
            json!({"model": "sora-2", "prompt": "NSFW stuff"}),
        )
        .await;
    assert_error(status, &body, 400, "content_policy_violation");
}

#[tokio::test]
async fn bad_generation_requests_get_4xx_json() {
    let api = start(Style::Native, |_| {}).await;
    let cases = [
        (
            json!({"prompt": "p"}),
            "missing_required_parameter",
            "model",
        ),
        (
            json!({"model": "sora-2"}),
            "missing_required_parameter",
            "prompt",
        ),
        (
            json!({"model": "sora-2", "prompt": "  "}),
            "missing_required_parameter",
            "prompt",
        ),
        (
            json!({"model": "sora-9", "prompt": "p"}),
            "model_not_found",
            "model",
        ),
        (
            json!({"model": "sora-2", "prompt": "p", "aspect_ratio": "4:3"}),
            "invalid_value",
            "aspect_ratio",
        ),
        (
            json!({"model": "sora-2", "prompt": "p", "duration": 12}),
            "invalid_value",
            "duration",
        ),
        (
            json!({"model": "sora-2", "prompt": "p", "duration": "long"}),
            "invalid_value",
            "duration",
        ),
        (
            json!({"model": "sora-2", "prompt": 5}),
            "invalid_value",
            "prompt",
        ),
        (
            json!({"model": "sora-2", "prompt": "p", "image_urls": "x"}),
            "invalid_value",
            "image_urls",
        ),
    ];
    for (body, code, param) in cases {
        let (status, answer) = api.post_json("/v1/videos/generations", body.clone()).await;
        assert_error(status, &answer, 400, code);
        assert_eq!(answer["error"]["param"], param, "{body}");
    }
    let (status, answer) = common::send(
        api.post("/v1/videos/generations")
            .header("content-type", "application/json")
            .body("{\"model\": \"sora-2\","),
    )
    .await;
    assert_error(status, &answer, 400, "invalid_json");
    let (status, answer) = api.get_json("/v1/videos/tasks/unknown-task").await;
    assert_error(status, &answer, 404, "not_found");
    assert_eq!(api.sim.task_count(), 0);
}

#[tokio::test]
async fn json_is_read_whatever_the_content_type() {
    let api = start(Style::Native, |_| {}).await;
    // Seed 000 §3.5 uses curl -d without a JSON content type.
    let (status, body) = common::send(
        api.post("/v1/videos/generations")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(r#"{"model":"sora-2","prompt":"p"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
