//! The request log, the admin view, padded videos and shutdown.

mod common;

use common::{send, start, SAMPLE_MP4};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::json;
use sorabot_sim::{SimConfig, SoraSim, Style};

#[tokio::test]
async fn requests_are_recorded_with_headers_bodies_and_parts() {
    let api = start(Style::OpenAi, |_| {}).await;
    let (status, _) = api
        .post_json(
            "/v1/videos?trace=1",
            json!({"prompt": "画小猫", "model": "sora_video2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let form = Form::new().text("prompt", "画小猫").part(
        "image[]",
        Part::bytes(b"not a picture".to_vec()).file_name("x.jpg"),
    );
    let (status, _) = send(api.post("/v1/images/edits").multipart(form)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let requests = api.sim.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/sora/v1/videos?trace=1");
    assert_eq!(first.header("AUTHORIZATION"), Some("sim-key"));
    assert_eq!(first.json().expect("json")["model"], "sora_video2");
    assert!(first.parts.is_empty());
    let second = &requests[1];
    assert_eq!(second.part("prompt").and_then(|p| p.text()), Some("画小猫"));
    let image = second.part("image[]").expect("image part");
    assert_eq!(image.filename.as_deref(), Some("x.jpg"));
    assert_eq!(image.data.as_ref(), b"not a picture");

    // The admin view lists them and is not itself recorded.
    let admin: serde_json::Value = api
        .http
        .get(api.url("/_sim/requests"))
        .send()
        .await
        .expect("admin")
        .json()
        .await
        .expect("json");
    let listed = admin.as_array().expect("array");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["path"], "/sora/v1/videos?trace=1");
    assert_eq!(listed[1]["parts"][1]["filename"], "x.jpg");
    assert_eq!(api.sim.requests().len(), 2);
    api.sim.clear_requests();
    assert!(api.sim.requests().is_empty());
}

#[tokio::test]
async fn padded_videos_have_the_exact_size_and_stay_mp4() {
    let size = 1_000_000;
    let api = start(Style::Native, |c| c.video_bytes = Some(size)).await;
    let id = api.finished_native_video().await;
    let (status, content_type, bytes) = api.download(&api.url(&format!("/files/{id}.mp4"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("video/mp4"));
    assert_eq!(bytes.len(), size);
    let ftyp_len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    assert_eq!(&bytes[4..8], b"ftyp");
    assert_eq!(&bytes[..ftyp_len], &SAMPLE_MP4[..ftyp_len]);
    assert_eq!(&bytes[..SAMPLE_MP4.len()], SAMPLE_MP4);
    let free = &bytes[SAMPLE_MP4.len()..];
    assert_eq!(&free[4..8], b"free");
    assert_eq!(
        u32::from_be_bytes([free[0], free[1], free[2], free[3]]) as usize,
        free.len()
    );
}

#[tokio::test]
async fn impossible_padding_is_refused_at_start() {
    let config = SimConfig {
        video_bytes: Some(100),
        ..SimConfig::default()
    };
    assert!(SoraSim::start(config).await.is_err());
    let config = SimConfig {
        time_scale: 0.0,
        ..SimConfig::default()
    };
    assert!(SoraSim::start(config).await.is_err());
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let api = start(Style::Native, |_| {}).await;
    let url = api.url("/v1/videos/tasks/x");
    let common::Api { sim, http, .. } = api;
    sim.shutdown().await;
    assert!(http.get(url).send().await.is_err());
}
