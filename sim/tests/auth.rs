//! Key checks per auth mode, against a real simulator.

mod common;

use common::{send, start, Api};
use reqwest::StatusCode;
use serde_json::json;
use sorabot_sim::{AuthMode, Style};

/// Posts a valid generation with this `Authorization` value (or none).
async fn generate_with(api: &Api, authorization: Option<&str>) -> (StatusCode, serde_json::Value) {
    let mut request = api
        .http
        .post(api.url("/v1/videos/generations"))
        .json(&json!({"model": "sora-2", "prompt": "p"}));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    send(request).await
}

#[tokio::test]
async fn bearer_mode_wants_exactly_bearer_key() {
    let api = start(Style::Native, |c| c.key = "sk-test".into()).await;
    let unauthorized = json!({"error": {"message": "Invalid API key", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}});
    for bad in [
        None,
        Some("sk-test"),
        Some("Bearer sk-other"),
        Some("bearer sk-test"),
        Some("Bearer  sk-test"),
    ] {
        let (status, body) = generate_with(&api, bad).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad:?}");
        assert_eq!(body, unauthorized);
    }
    let (status, _) = generate_with(&api, Some("Bearer sk-test")).await;
    assert_eq!(status, StatusCode::OK);
    // Rejected requests are recorded too.
    assert_eq!(api.sim.requests().len(), 6);
    assert_eq!(api.sim.task_count(), 1);
}

#[tokio::test]
async fn raw_mode_wants_exactly_the_key() {
    let api = start(Style::OpenAi, |_| {}).await;
    let key = api.sim.key().to_owned();
    let (status, _) = send(
        api.http
            .get(api.url("/v1/videos/video_x"))
            .header("Authorization", format!("Bearer {key}")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = send(
        api.http
            .get(api.url("/v1/videos/video_x"))
            .header("Authorization", key),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn routes_live_under_the_prefix_and_files_need_no_key() {
    let api = start(Style::Native, |c| {
        c.prefix = "/relay".into();
        c.auth = AuthMode::Raw;
    })
    .await;
    assert!(api.sim.base_url().ends_with("/relay"));
    let id = api.finished_native_video().await;
    let bare = format!("http://{}", api.sim.addr());
    let (status, _) = send(
        api.http
            .post(format!("{bare}/v1/videos/generations"))
            .header("Authorization", api.authorization())
            .json(&json!({"model": "sora-2", "prompt": "p"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = api.download(&api.url(&format!("/files/{id}.mp4"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = api.download(&api.url("/files/nope.mp4")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_extra_key_is_as_good_as_the_key_and_the_log_says_which_came_in_order() {
    let api = start(Style::Native, |c| {
        c.key = "sk-first".into();
        c.extra_keys = vec!["sk-second".into()];
    })
    .await;

    let (first, _) = generate_with(&api, Some("Bearer sk-first")).await;
    let (second, _) = generate_with(&api, Some("Bearer sk-second")).await;
    let (third, _) = generate_with(&api, Some("Bearer sk-third")).await;

    assert_eq!(
        [first, second, third],
        [StatusCode::OK, StatusCode::OK, StatusCode::UNAUTHORIZED]
    );
    let requests = api.sim.requests();
    let keys: Vec<Option<&str>> = requests.iter().map(|r| r.header("authorization")).collect();
    assert_eq!(
        keys,
        [
            Some("Bearer sk-first"),
            Some("Bearer sk-second"),
            Some("Bearer sk-third")
        ]
    );
    assert!(requests.windows(2).all(|pair| pair[0].at <= pair[1].at));
    assert_eq!(api.sim.task_count(), 2);
}
