//! Image endpoints (seed 001 §2-3) against a real simulator.

mod common;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{assert_error, send, start, SAMPLE_PNG};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::json;
use sorabot_sim::Style;

fn png(name: &str) -> Part {
    Part::bytes(SAMPLE_PNG.to_vec())
        .file_name(name.to_owned())
        .mime_str("image/png")
        .expect("mime")
}

#[tokio::test]
async fn seed_generation_multipart_waits_then_links_images() {
    // 15 simulated seconds at 100x: the answer takes 150 ms.
    let api = start(Style::OpenAi, |c| c.time_scale = 100.0).await;
    let started = tokio::time::Instant::now();
    // Seed 001 §2.
    let form = Form::new()
        .text("prompt", "画小猫")
        .text("model", "sora_image");
    let (status, body) = send(api.post("/v1/images/generations").multipart(form)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
    assert!(body["created"].as_u64().is_some());
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 1);
    let url = data[0]["url"].as_str().expect("url");
    assert!(
        url.starts_with(&format!("{}/files/", api.sim.base_url())),
        "{url}"
    );
    let (status, content_type, bytes) = api.download(url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("image/png"));
    assert_eq!(bytes, SAMPLE_PNG);
}

#[tokio::test]
async fn json_generation_with_n_and_b64() {
    let api = start(Style::OpenAi, |_| {}).await;
    let (status, body) = api
        .post_json(
            "/v1/images/generations",
            json!({"prompt": "画小猫", "n": 3, "size": "1024x1536", "response_format": "b64_json"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 3);
    for item in data {
        let decoded = STANDARD
            .decode(item["b64_json"].as_str().expect("b64_json"))
            .expect("base64");
        assert_eq!(decoded, SAMPLE_PNG);
    }
    let form = Form::new().text("prompt", "p").text("n", "4");
    let (status, body) = send(api.post("/v1/images/generations").multipart(form)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let urls: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|d| d["url"].as_str())
        .collect();
    assert_eq!(urls.len(), 4);
    let (status, _, _) = api.download(urls[3]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn seed_edits_with_image_files() {
    let api = start(Style::OpenAi, |_| {}).await;
    // Seed 001 §3.
    let form = Form::new()
        .part("image[]", png("example.jpg"))
        .text("prompt", "换一个风格")
        .text("model", "sora_image");
    let (status, body) = send(api.post("/v1/images/edits").multipart(form)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1));

    let form = Form::new()
        .part("image", png("a.png"))
        .part("image[]", png("b.png"))
        .text("prompt", "merge")
        .text("n", "2");
    let (status, body) = send(api.post("/v1/images/edits").multipart(form)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn bad_image_requests_get_4xx_json() {
    let api = start(Style::OpenAi, |_| {}).await;
    let cases = [
        (
            json!({"model": "sora_image"}),
            "missing_required_parameter",
            "prompt",
        ),
        (
            json!({"prompt": "p", "model": "dall-e-3"}),
            "model_not_found",
            "model",
        ),
        (json!({"prompt": "p", "n": 5}), "invalid_value", "n"),
        (json!({"prompt": "p", "n": 0}), "invalid_value", "n"),
        (
            json!({"prompt": "p", "size": "big"}),
            "invalid_value",
            "size",
        ),
        (
            json!({"prompt": "p", "response_format": "svg"}),
            "invalid_value",
            "response_format",
        ),
    ];
    for (body, code, param) in cases {
        let (status, answer) = api.post_json("/v1/images/generations", body.clone()).await;
        assert_error(status, &answer, 400, code);
        assert_eq!(answer["error"]["param"], param, "{body}");
    }

    let form = Form::new().text("prompt", "p");
    let (status, body) = send(api.post("/v1/images/edits").multipart(form)).await;
    assert_error(status, &body, 400, "missing_required_parameter");
    assert_eq!(body["error"]["param"], "image");

    let text = Part::bytes(b"hello".to_vec()).file_name("a.txt");
    let form = Form::new().part("image[]", text).text("prompt", "p");
    let (status, body) = send(api.post("/v1/images/edits").multipart(form)).await;
    assert_error(status, &body, 400, "invalid_image_format");

    let (status, body) = api
        .post_json("/v1/images/edits", json!({"prompt": "p"}))
        .await;
    assert_error(status, &body, 400, "invalid_json");
}

#[tokio::test]
async fn failing_image_jobs_answer_500() {
    let api = start(Style::OpenAi, |_| {}).await;
    let (status, body) = api
        .post_json(
            "/v1/images/generations",
            json!({"prompt": "cat [sim:fail]"}),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["code"], "generation_failed");
}
