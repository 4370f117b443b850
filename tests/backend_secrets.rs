//! The API key stays with the service: never in an error's text, never sent
//! to another origin, not even through a redirect.

mod backend_support;

use std::time::Duration;

use backend_support::*;
use serde_json::json;
use sorabot::backend::{
    AuthStyle, BackendError, Dialect, JobSpec, MediaRef, OutputKind, TaskId, TaskStatus,
    VideoOptions,
};
use sorabot_sim::Fault;

/// `127.0.0.1:PORT` of a stub: a CDN on loopback is fetched only when the
/// operator lists it in `RESULT_HOSTS`.
fn host_of(stub: &Stub) -> String {
    stub.base_url.trim_start_matches("http://").to_owned()
}

fn assert_no_key(what: &str, text: &str) {
    assert!(!text.contains(KEY), "{what} shows the key: {text}");
}

fn assert_error_hides_the_key(what: &str, err: &BackendError) {
    assert_no_key(what, &err.to_string());
    assert_no_key(what, &format!("{err:?}"));
}

#[tokio::test]
async fn errors_from_the_simulator_never_show_the_key() {
    let (sim, backend) = native(|_| {}).await;
    let mut errors = Vec::new();
    errors.push(backend.submit(&video_spec("nsfw")).await.unwrap_err());
    for fault in [
        Fault::Status(502),
        Fault::Status(503),
        Fault::Malformed,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    ] {
        sim.push_fault(fault);
        errors.push(backend.submit(&video_spec("a cat")).await.unwrap_err());
    }
    errors.push(
        backend
            .status(&TaskId("nope".into()), OutputKind::Video)
            .await
            .unwrap_err(),
    );
    errors.push(
        backend
            .submit(&JobSpec::Video(video(
                "a cat",
                VideoOptions {
                    seconds: Some(12),
                    ..Default::default()
                },
            )))
            .await
            .unwrap_err(),
    );
    let mut slow = client_config(&sim.base_url(), Dialect::Native, AuthStyle::Bearer);
    slow.request_timeout = Duration::from_millis(200);
    sim.push_fault(Fault::Delay(Duration::from_secs(2)));
    errors.push(
        connect(&slow)
            .submit(&video_spec("a cat"))
            .await
            .unwrap_err(),
    );
    let mut wrong = client_config(&sim.base_url(), Dialect::Native, AuthStyle::Bearer);
    let wrong_key = format!("{KEY}-but-wrong");
    wrong.api_key = wrong_key.clone().into();
    let refused = connect(&wrong)
        .submit(&video_spec("a cat"))
        .await
        .unwrap_err();
    assert_no_key("a refused key", &format!("{refused} {refused:?}"));
    assert!(!format!("{refused} {refused:?}").contains(&wrong_key));

    assert_eq!(errors.len(), 8);
    for err in &errors {
        assert_error_hides_the_key("an error", err);
    }
}

#[tokio::test]
async fn a_service_echoing_the_key_has_it_redacted_from_every_error() {
    let relay = Stub::start(|request| {
        let echoed = request
            .header("authorization")
            .unwrap_or_default()
            .to_owned();
        match request.path.as_str() {
            "/v1/videos/generations" => StubResponse::json(
                400,
                &json!({"error": {"message": format!("bad header {echoed}"), "code": "invalid"}}),
            ),
            "/v1/videos/tasks/garbage" => {
                StubResponse::new(200, "application/json", format!("<html>{echoed}"))
            }
            "/v1/chat/completions" => StubResponse::json(
                200,
                &json!({"error": {"message": format!("quota of {echoed} exhausted")}}),
            ),
            _ => StubResponse::json(
                500,
                &json!({"error": {"message": format!("upstream said {echoed}")}}),
            ),
        }
    })
    .await;
    let native = connect(&client_config(
        &relay.base_url,
        Dialect::Native,
        AuthStyle::Bearer,
    ));
    let chat = connect(&client_config(
        &relay.base_url,
        Dialect::Chat,
        AuthStyle::Raw,
    ));

    let rejected = native.submit(&video_spec("a cat")).await.unwrap_err();
    let malformed = native
        .status(&TaskId("garbage".into()), OutputKind::Video)
        .await
        .unwrap_err();
    let server = native
        .status(&TaskId("other".into()), OutputKind::Video)
        .await
        .unwrap_err();
    let chat_task = chat.submit(&video_spec("a cat")).await.expect("submitted");
    let chat_end = poll_to_end(&*chat, &chat_task, OutputKind::Video).await;

    assert!(
        matches!(&rejected, BackendError::Rejected { message, .. } if message.contains("[redacted]")),
        "{rejected:?}"
    );
    assert!(matches!(malformed, BackendError::Malformed { .. }));
    assert!(matches!(server, BackendError::Unavailable { .. }));
    for err in [&rejected, &malformed, &server] {
        assert_error_hides_the_key("an echoed error", err);
    }
    match chat_end.last {
        TaskStatus::Failed { reason } => {
            assert!(reason.contains("[redacted]"), "{reason}");
            assert_no_key("a chat failure", &reason);
        }
        other => panic!("expected the chat task to fail, got {other:?}"),
    }
    let sent = relay.received();
    assert!(sent
        .iter()
        .any(|r| r.header("authorization") == Some(&*format!("Bearer {KEY}"))));
    assert!(sent.iter().any(|r| r.header("authorization") == Some(KEY)));
}

/// The longest run of the key's characters found in `text`.
fn longest_key_fragment(text: &str) -> usize {
    (1..=KEY.len())
        .rev()
        .find(|len| (0..=KEY.len() - len).any(|start| text.contains(&KEY[start..start + len])))
        .unwrap_or(0)
}

#[tokio::test]
async fn a_long_echoed_message_keeps_no_part_of_the_key() {
    // The key starts at character 170, so a 200-character cut splits it.
    let relay = Stub::start(|request| {
        let echoed = request
            .header("authorization")
            .unwrap_or_default()
            .to_owned();
        let message = format!("{}{echoed} is not valid", "x".repeat(170 - "Bearer ".len()));
        StubResponse::json(400, &json!({"error": {"message": message}}))
    })
    .await;
    let backend = connect(&client_config(
        &relay.base_url,
        Dialect::Native,
        AuthStyle::Bearer,
    ));

    let err = backend.submit(&video_spec("a cat")).await.unwrap_err();

    let shown = format!("{err} {err:?}");
    assert!(
        longest_key_fragment(&shown) < 8,
        "{} characters of the key leak: {shown}",
        longest_key_fragment(&shown)
    );
}

#[tokio::test]
async fn a_result_on_another_origin_is_fetched_without_the_key() {
    let sim = start_sim(sorabot_sim::Style::Native, |_| {}).await;
    let cdn = Stub::start(|_| StubResponse::new(200, "video/mp4", SAMPLE_MP4)).await;
    let mut config = client_config(&sim.base_url(), Dialect::Native, AuthStyle::Bearer);
    config.result_hosts = vec![host_of(&cdn)];
    let backend = connect(&config);
    let (task, polled) = run_to_end(&*backend, &video_spec("a cat")).await;
    let TaskStatus::Succeeded(sorabot::backend::Output::Video(own)) = polled.last else {
        panic!("expected a video, got {:?}", polled.last);
    };

    let from_cdn = backend
        .download(&task, &MediaRef::Url(cdn.url("/cdn/result.mp4")))
        .await
        .expect("the CDN answers");
    let from_service = backend
        .download(&task, &own)
        .await
        .expect("the sim answers");

    assert!(read_all(from_cdn).await == SAMPLE_MP4);
    assert!(read_all(from_service).await == SAMPLE_MP4);
    let cdn_got = cdn.received();
    assert_eq!(cdn_got.len(), 1);
    assert_eq!(cdn_got[0].path, "/cdn/result.mp4");
    assert_eq!(cdn_got[0].header("authorization"), None);
    assert!(cdn_got
        .iter()
        .all(|r| r.headers.iter().all(|(_, v)| !v.contains(KEY))));
    let service_got = only_request(&sim, "GET", &format!("/files/{task}.mp4"));
    assert_eq!(
        service_got.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
}

#[tokio::test]
async fn a_redirect_from_the_service_to_another_origin_drops_the_key() {
    let cdn = Stub::start(|_| StubResponse::new(200, "video/mp4", SAMPLE_MP4)).await;
    let cdn_url = cdn.url("/signed/result.mp4");
    let service = Stub::start(move |_| {
        StubResponse::new(302, "text/plain", "moved").with_header("location", &cdn_url)
    })
    .await;
    let mut config = client_config(&service.base_url, Dialect::OpenAi, AuthStyle::Raw);
    config.result_hosts = vec![host_of(&cdn)];
    let backend = connect(&config);

    let download = backend
        .download(
            &TaskId("video_1".into()),
            &MediaRef::Url(service.url("/files/video_1.mp4")),
        )
        .await
        .expect("the redirect is followed");

    assert!(read_all(download).await == SAMPLE_MP4);
    assert_eq!(service.received()[0].header("authorization"), Some(KEY));
    let cdn_got = cdn.received();
    assert_eq!(cdn_got.len(), 1);
    assert_eq!(cdn_got[0].header("authorization"), None);
}
