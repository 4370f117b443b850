//! The chat dialect (seed 000 §2, seed 001 §1) against the simulator: a
//! streamed `/v1/chat/completions` read in the background and reported on
//! through `status`, in both seeds' model naming and auth styles.

mod backend_support;

use backend_support::*;
use serde_json::json;
use sorabot::backend::{
    AspectRatio, AuthStyle, BackendError, Dialect, ImageRequest, JobSpec, MediaRef, ModelTier,
    Output, OutputKind, TaskStatus, VideoOptions,
};
use sorabot_sim::{ChatLink, ProgressShape};

fn video_url(status: &TaskStatus) -> String {
    match status {
        TaskStatus::Succeeded(Output::Video(MediaRef::Url(url))) => url.clone(),
        other => panic!("expected a video URL, got {other:?}"),
    }
}

#[tokio::test]
async fn chat_seed000_streams_sora_2_with_a_string_prompt_and_bearer_auth() {
    let (sim, backend) = chat_seed000(|_| {}).await;

    let (task, polled) = run_to_end(&*backend, &video_spec("a cat surfing")).await;

    let sent = only_request(&sim, "POST", "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(
        json_body(&sent),
        json!({"model": "sora-2", "stream": true,
               "messages": [{"role": "user", "content": "a cat surfing"}]})
    );
    let url = video_url(&polled.last);
    assert!(
        url.starts_with(&format!("{}/files/", sim.base_url())),
        "{url}"
    );
    let download = backend
        .download(&task, &MediaRef::Url(url))
        .await
        .expect("download starts");
    assert!(read_all(download).await == SAMPLE_MP4);
}

#[tokio::test]
async fn chat_seed000_asks_for_sora_2_pro_for_the_pro_tier() {
    let (sim, backend) = chat_seed000(|_| {}).await;
    let spec = JobSpec::Video(video(
        "a cat surfing",
        VideoOptions {
            tier: ModelTier::Pro,
            ..Default::default()
        },
    ));

    backend.submit(&spec).await.expect("submitted");

    let body = json_body(&only_request(&sim, "POST", "/v1/chat/completions"));
    assert_eq!(body["model"], "sora-2-pro");
}

#[tokio::test]
async fn chat_seed001_composes_the_options_into_the_model_name_under_the_prefix_with_the_raw_key() {
    let (sim, backend) = chat_seed001(|_| {}).await;
    let spec = JobSpec::Video(video(
        "a cat surfing",
        VideoOptions {
            aspect: Some(AspectRatio::Landscape),
            seconds: Some(15),
            hd: true,
            ..Default::default()
        },
    ));

    let (_, polled) = run_to_end(&*backend, &spec).await;

    let sent = only_request(&sim, "POST", "/sora/v1/chat/completions");
    assert_eq!(sent.header("authorization"), Some(KEY));
    assert_eq!(
        json_body(&sent),
        json!({"model": "sora_video2-landscape-hd-15s", "stream": true,
               "messages": [{"role": "user", "content": "a cat surfing"}]})
    );
    video_url(&polled.last);
}

#[tokio::test]
async fn chat_with_an_image_sends_content_parts_with_a_data_url() {
    let (sim, backend) = chat_seed001(|_| {}).await;
    let mut request = video("animate this", VideoOptions::default());
    request.images = vec![png_input()];

    let (_, polled) = run_to_end(&*backend, &JobSpec::Video(request)).await;

    let body = json_body(&only_request(&sim, "POST", "/sora/v1/chat/completions"));
    assert_eq!(body["model"], "sora_video2");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "animate this"},
            {"type": "image_url", "image_url": {"url": png_input().to_url()}},
        ]}])
    );
    video_url(&polled.last);
}

#[tokio::test]
async fn chat_reports_progress_while_the_stream_runs_then_the_video() {
    // Slow enough (about half a second) that the running phase is seen.
    let (_sim, backend) = chat_seed000(|c| c.time_scale = 300.0).await;

    let (task, polled) = run_to_end(&*backend, &video_spec("a cat surfing")).await;

    let progress: Vec<f32> = polled.running_progress().into_iter().flatten().collect();
    assert!(
        progress.iter().any(|p| *p > 0.0 && *p < 1.0),
        "no progress seen: {:?}",
        polled.seen
    );
    assert!(progress.iter().all(|p| (0.0..=1.0).contains(p)));
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress went back: {progress:?}"
    );
    let url = video_url(&polled.last);
    let download = backend
        .download(&task, &MediaRef::Url(url))
        .await
        .expect("download starts");
    assert!(read_all(download).await == SAMPLE_MP4);
}

#[tokio::test]
async fn chat_reads_every_link_style_and_progress_style() {
    for link in [ChatLink::Html, ChatLink::Markdown, ChatLink::Bare] {
        for shape in [
            ProgressShape::Percent,
            ProgressShape::Fraction,
            ProgressShape::Absent,
        ] {
            let (sim, backend) = chat_seed000(|c| {
                c.shape.chat_link = link;
                c.shape.progress = shape;
            })
            .await;

            let (_, polled) = run_to_end(&*backend, &video_spec("a cat")).await;

            let url = video_url(&polled.last);
            assert!(
                url.starts_with(&format!("{}/files/", sim.base_url())) && url.ends_with(".mp4"),
                "{link:?} {shape:?}: {url}"
            );
            let progress = polled.running_progress();
            assert!(
                progress.iter().flatten().all(|p| (0.0..=1.0).contains(p)),
                "{link:?} {shape:?}: {progress:?}"
            );
        }
    }
}

#[tokio::test]
async fn chat_picture_comes_back_as_an_image_link() {
    let (sim, backend) = chat_seed001(|_| {}).await;
    let spec = JobSpec::Image(ImageRequest {
        prompt: "a red fox".into(),
        n: 1,
        size: None,
        inputs: vec![png_input()],
    });

    let (task, polled) = run_to_end(&*backend, &spec).await;

    let body = json_body(&only_request(&sim, "POST", "/sora/v1/chat/completions"));
    assert_eq!(body["model"], "sora_image");
    assert_eq!(body["messages"][0]["content"][1]["type"], "image_url");
    let url = match polled.last {
        TaskStatus::Succeeded(Output::Images(refs)) => match refs.as_slice() {
            [MediaRef::Url(url)] => url.clone(),
            other => panic!("expected one image URL, got {other:?}"),
        },
        other => panic!("expected images, got {other:?}"),
    };
    let download = backend
        .download(&task, &MediaRef::Url(url))
        .await
        .expect("download starts");
    assert!(read_all(download).await == SAMPLE_PNG);
}

#[tokio::test]
async fn chat_job_that_fails_on_the_service_ends_failed_with_its_reason() {
    let (_sim, backend) = chat_seed000(|_| {}).await;

    let (_, polled) = run_to_end(&*backend, &video_spec("a cat [sim:fail]")).await;

    match polled.last {
        TaskStatus::Failed { reason } => assert!(reason.contains("内容审核未通过"), "{reason}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn chat_stream_cut_by_a_service_shutdown_makes_the_task_broken() {
    // Slow: the job would run for seconds.
    let (sim, backend) = chat_seed000(|c| c.time_scale = 20.0).await;
    let task = backend
        .submit(&video_spec("a cat surfing"))
        .await
        .expect("submitted");
    assert!(matches!(
        backend.status(&task, OutputKind::Video).await,
        Ok(TaskStatus::Queued | TaskStatus::Running { .. })
    ));

    drop(sim);

    assert!(matches!(
        poll_to_error(&*backend, &task, OutputKind::Video).await,
        BackendError::Broken { .. }
    ));
}

#[tokio::test]
async fn chat_stream_answered_with_a_truncated_body_was_never_taken() {
    let (sim, backend) = chat_seed000(|_| {}).await;
    sim.push_fault(sorabot_sim::Fault::Malformed);

    let task = backend
        .submit(&video_spec("a cat surfing"))
        .await
        .expect("the answer started");

    assert_eq!(
        poll_to_error(&*backend, &task, OutputKind::Video).await,
        BackendError::Broken { accepted: false }
    );
}

#[tokio::test]
async fn chat_answer_sent_whole_as_json_is_read_like_a_stream() {
    let relay = Stub::start(|request| {
        if request.path.ends_with(".mp4") {
            return StubResponse::new(200, "video/mp4", SAMPLE_MP4);
        }
        let host = request.header("host").unwrap_or_default().to_owned();
        StubResponse::json(
            200,
            &json!({"id": "chatcmpl-1", "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant",
                    "content": format!("生成完成\n<video src='http://{host}/files/v.mp4' controls></video>"),
                }}]}),
        )
    })
    .await;
    let backend = connect(&client_config(
        &relay.base_url,
        Dialect::Chat,
        AuthStyle::Bearer,
    ));

    let (task, polled) = run_to_end(&*backend, &video_spec("a cat surfing")).await;

    let url = video_url(&polled.last);
    assert_eq!(url, relay.url("/files/v.mp4"));
    let download = backend
        .download(&task, &MediaRef::Url(url))
        .await
        .expect("download starts");
    assert!(read_all(download).await == SAMPLE_MP4);
    let received = relay.received();
    assert_eq!(received[0].path, "/v1/chat/completions");
    assert_eq!(
        received[0].header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
}
