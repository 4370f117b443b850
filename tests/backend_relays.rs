//! The core client against the simulator's relay profiles (`SIM_RELAY`): each
//! profile answers the way a real relay does (see `docs/relays.md`), and the
//! client is configured the way the README's dialect table says for it.

mod backend_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backend_support::*;
use serde_json::json;
use sorabot::backend::{
    is_policy_text, AuthStyle, Backend, BackendError, CharacterRequest, CharacterSource, Dialect,
    ImageRequest, JobSpec, MediaRef, Output, OutputKind, TaskStatus, Timestamps,
};
use sorabot_sim::{
    Fault, Relay, SimHandle, Style, BALANCE_WORD, CF_WORD, HELP_LINK, NOLINK_WORD, RETRY_WORD,
};

/// A simulator answering as `relay`, and a client set up for it.
async fn relay(relay: Relay, dialect: Dialect, model: &str) -> (SimHandle, Arc<dyn Backend>) {
    let sim = start_sim(Style::Native, |c| c.relay = relay).await;
    let config = client_config(&sim.base_url(), dialect, AuthStyle::Bearer).with_video_model(model);
    let backend = connect(&config);
    (sim, backend)
}

fn url_of(status: &TaskStatus) -> String {
    match status {
        TaskStatus::Succeeded(Output::Video(MediaRef::Url(url))) => url.clone(),
        other => panic!("expected a video link, got {other:?}"),
    }
}

fn reason_of(status: &TaskStatus) -> String {
    match status {
        TaskStatus::Failed { reason } => reason.clone(),
        other => panic!("expected a failure, got {other:?}"),
    }
}

async fn downloads_the_sample(
    backend: &dyn Backend,
    task: &sorabot::backend::TaskId,
    media: MediaRef,
) {
    let download = backend
        .download(task, &media)
        .await
        .expect("download starts");
    assert!(read_all(download).await == SAMPLE_MP4);
}

// --- sora2api: chat completions, reasoning_content, <video> in content -------------

async fn sora2api() -> (SimHandle, Arc<dyn Backend>) {
    relay(Relay::Sora2Api, Dialect::Chat, "sora2-landscape-10s").await
}

#[tokio::test]
async fn sora2api_progress_comes_from_reasoning_and_the_video_from_content() {
    // Slow enough (about half a second) that the running phase is seen: the
    // simulator's stream jumps to its end when its task is late to run.
    let sim = start_sim(Style::Native, |c| {
        c.relay = Relay::Sora2Api;
        c.time_scale = 300.0;
    })
    .await;
    let config = client_config(&sim.base_url(), Dialect::Chat, AuthStyle::Bearer)
        .with_video_model("sora2-landscape-10s");
    let backend = connect(&config);

    let (task, polled) = run_to_end(&*backend, &video_spec("a fox in snow")).await;

    let url = url_of(&polled.last);
    assert!(
        url.starts_with(&format!("{}/files/", sim.base_url())),
        "{url}"
    );
    assert!(
        polled.running_progress().iter().any(|p| p.is_some()),
        "{:?}",
        polled.seen
    );
    downloads_the_sample(&*backend, &task, MediaRef::Url(url)).await;
}

#[tokio::test]
async fn sora2api_help_link_in_a_retry_notice_is_not_the_video() {
    let (sim, backend) = sora2api().await;

    let (_, polled) = run_to_end(&*backend, &video_spec(&format!("a fox {RETRY_WORD}"))).await;

    let url = url_of(&polled.last);
    assert_ne!(url, HELP_LINK);
    assert!(
        url.starts_with(&format!("{}/files/", sim.base_url())),
        "{url}"
    );
}

#[tokio::test]
async fn sora2api_help_link_is_not_taken_when_the_retries_end_in_failure() {
    let (_sim, backend) = sora2api().await;

    let spec = video_spec(&format!("a fox {RETRY_WORD} [sim:fail]"));
    let (_, polled) = run_to_end(&*backend, &spec).await;

    // Only the reasoning held a link (the help page): the job failed, nothing to fetch.
    let reason = reason_of(&polled.last);
    assert!(!reason.contains(HELP_LINK), "{reason}");
    assert!(reason.starts_with("❌ 生成失败: "), "{reason}");
}

#[tokio::test]
async fn sora2api_policy_failure_ends_with_its_words() {
    let (_sim, backend) = sora2api().await;

    let (_, polled) = run_to_end(&*backend, &video_spec("a fox [sim:fail]")).await;

    let reason = reason_of(&polled.last);
    assert!(reason.starts_with("❌ 生成失败: "), "{reason}");
    assert!(is_policy_text(&reason), "{reason}");
}

#[tokio::test]
async fn sora2api_cloudflare_failure_with_a_mangled_terminator_is_a_failure_not_a_lost_task() {
    let (_sim, backend) = sora2api().await;

    let (_, polled) = run_to_end(&*backend, &video_spec(&format!("a fox {CF_WORD}"))).await;

    let reason = reason_of(&polled.last);
    assert!(reason.contains("Cloudflare challenge"), "{reason}");
}

#[tokio::test]
async fn sora2api_without_tokens_is_a_used_up_balance() {
    let (_sim, backend) = sora2api().await;
    let task = backend
        .submit(&video_spec(&format!("a fox {BALANCE_WORD}")))
        .await
        .expect("the stream starts");

    let error = poll_to_error(&*backend, &task, OutputKind::Video).await;

    assert!(matches!(error, BackendError::Exhausted { .. }), "{error:?}");
}

#[tokio::test]
async fn sora2api_invalid_model_is_a_500_that_keeps_its_message() {
    let (_sim, backend) = relay(Relay::Sora2Api, Dialect::Chat, "sora-2").await;

    let error = backend.submit(&video_spec("a fox")).await.unwrap_err();

    assert_eq!(
        error,
        BackendError::Unavailable {
            reason: "HTTP 500: 400: Invalid model: sora-2".into()
        }
    );
}

#[tokio::test]
async fn sora2api_refusals_keep_the_services_words() {
    let sim = start_sim(Style::Native, |c| c.relay = Relay::Sora2Api).await;
    let raw = connect(
        &client_config(&sim.base_url(), Dialect::Chat, AuthStyle::Raw)
            .with_video_model("sora2-landscape-10s"),
    );
    assert_eq!(
        raw.submit(&video_spec("a fox")).await.unwrap_err(),
        BackendError::Unauthorized {
            status: 403,
            message: Some("Not authenticated".into())
        }
    );
    let mut config = client_config(&sim.base_url(), Dialect::Chat, AuthStyle::Bearer)
        .with_video_model("sora2-landscape-10s");
    config.api_key = "sk-wrong-0000".to_owned().into();
    assert_eq!(
        connect(&config)
            .submit(&video_spec("a fox"))
            .await
            .unwrap_err(),
        BackendError::Unauthorized {
            status: 401,
            message: Some("Invalid API key".into())
        }
    );
}

#[tokio::test]
async fn sora2api_pictures_come_as_markdown_images() {
    let sim = start_sim(Style::Native, |c| c.relay = Relay::Sora2Api).await;
    let mut config = client_config(&sim.base_url(), Dialect::Chat, AuthStyle::Bearer)
        .with_video_model("sora2-landscape-10s");
    config.image_model = "gpt-image".into();
    let backend = connect(&config);
    let spec = JobSpec::Image(ImageRequest {
        prompt: "a red panda".into(),
        n: 1,
        size: None,
        inputs: vec![],
    });

    let (_, polled) = run_to_end(&*backend, &spec).await;

    match &polled.last {
        TaskStatus::Succeeded(Output::Images(images)) => assert_eq!(images.len(), 1),
        other => panic!("{other:?}"),
    }
}

// --- new-api: OpenAI video objects, {code, message, data} envelopes -----------------

#[tokio::test]
async fn new_api_videos_complete_and_download_from_the_content_endpoint() {
    let (_sim, backend) = relay(Relay::NewApi, Dialect::OpenAi, "sora-2").await;

    let (task, polled) = run_to_end(&*backend, &video_spec("a fox")).await;

    assert_eq!(
        polled.last,
        TaskStatus::Succeeded(Output::Video(MediaRef::Content))
    );
    downloads_the_sample(&*backend, &task, MediaRef::Content).await;
}

#[tokio::test]
async fn new_api_failure_reason_is_read_from_error_message() {
    let (_sim, backend) = relay(Relay::NewApi, Dialect::OpenAi, "sora-2").await;

    let (_, polled) = run_to_end(&*backend, &video_spec("a fox [sim:fail]")).await;

    assert!(reason_of(&polled.last).contains("内容审核未通过"));
}

#[tokio::test]
async fn new_api_task_envelope_is_read_through_its_data() {
    let (_sim, backend) = relay(Relay::NewApi, Dialect::Native, "sora-2").await;

    let (task, polled) = run_to_end(&*backend, &video_spec("a fox")).await;

    let url = url_of(&polled.last);
    assert!(url.ends_with("/content"), "{url}");
    downloads_the_sample(&*backend, &task, MediaRef::Url(url)).await;
    // An envelope whose own message is "" takes its reason from data.fail_reason.
    let (_, failed) = run_to_end(&*backend, &video_spec("a fox [sim:fail]")).await;
    assert!(reason_of(&failed.last).contains("内容审核未通过"));
}

#[tokio::test]
async fn new_api_success_without_a_link_fails_visibly() {
    let (_sim, backend) = relay(Relay::NewApi, Dialect::Native, "sora-2").await;

    let (_, polled) = run_to_end(&*backend, &video_spec(&format!("a fox {NOLINK_WORD}"))).await;

    assert!(reason_of(&polled.last).contains("no result link"));
}

#[tokio::test]
async fn new_api_used_up_quota_is_a_used_up_balance_in_both_dialects() {
    for dialect in [Dialect::OpenAi, Dialect::Native] {
        let (_sim, backend) = relay(Relay::NewApi, dialect, "sora-2").await;

        let error = backend
            .submit(&video_spec(&format!("a fox {BALANCE_WORD}")))
            .await
            .unwrap_err();

        assert_eq!(
            error,
            BackendError::Exhausted {
                message: "用户额度不足, 剩余额度: ＄0.000000".into()
            },
            "{dialect:?}"
        );
    }
}

#[tokio::test]
async fn new_api_refused_key_keeps_its_words_and_a_500_keeps_the_upstreams() {
    let sim = start_sim(Style::Native, |c| c.relay = Relay::NewApi).await;
    let mut config = client_config(&sim.base_url(), Dialect::OpenAi, AuthStyle::Bearer);
    config.api_key = "sk-wrong-0000".to_owned().into();
    match connect(&config)
        .submit(&video_spec("a fox"))
        .await
        .unwrap_err()
    {
        BackendError::Unauthorized {
            status: 401,
            message: Some(message),
        } => assert!(message.starts_with("无效的令牌 (request id: "), "{message}"),
        other => panic!("{other:?}"),
    }

    let backend = connect(&client_config(
        &sim.base_url(),
        Dialect::OpenAi,
        AuthStyle::Bearer,
    ));
    sim.push_fault(Fault::Status(500));
    match backend.submit(&video_spec("a fox")).await.unwrap_err() {
        BackendError::Unavailable { reason } => {
            assert!(reason.starts_with("HTTP 500: "), "{reason}");
            assert!(!reason.contains("fail_to_fetch_task"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

// --- go-sora2api: OpenAI video objects, {"error": {"message"}} ---------------------

#[tokio::test]
async fn go_sora2api_videos_complete_and_failures_say_why() {
    let (_sim, backend) = relay(Relay::GoSora2Api, Dialect::OpenAi, "sora-2").await;

    let (task, polled) = run_to_end(&*backend, &video_spec("a fox")).await;
    assert_eq!(
        polled.last,
        TaskStatus::Succeeded(Output::Video(MediaRef::Content))
    );
    downloads_the_sample(&*backend, &task, MediaRef::Content).await;

    let (_, failed) = run_to_end(&*backend, &video_spec("a fox [sim:fail]")).await;
    assert!(reason_of(&failed.last).contains("内容审核未通过"));
}

#[tokio::test]
async fn go_sora2api_says_it_needs_a_bearer_token() {
    let sim = start_sim(Style::Native, |c| c.relay = Relay::GoSora2Api).await;
    let backend = connect(&client_config(
        &sim.base_url(),
        Dialect::OpenAi,
        AuthStyle::Raw,
    ));

    let error = backend.submit(&video_spec("a fox")).await.unwrap_err();

    assert_eq!(
        error,
        BackendError::Unauthorized {
            status: 401,
            message: Some("Authorization 格式错误，需要 Bearer Token".into())
        }
    );
}

// --- Modified_Sora2api: `succeeded` with `url`, synchronous characters --------------

#[tokio::test]
async fn modified_sora2api_link_is_taken_from_url() {
    let (sim, backend) = relay(Relay::ModifiedSora2Api, Dialect::OpenAi, "sora-2").await;

    let (task, polled) = run_to_end(&*backend, &video_spec("a fox")).await;

    let url = url_of(&polled.last);
    assert!(
        url.starts_with(&format!("{}/files/", sim.base_url())),
        "{url}"
    );
    downloads_the_sample(&*backend, &task, MediaRef::Url(url)).await;
}

#[tokio::test]
async fn an_openai_character_of_a_relays_video_is_cut_from_the_link_the_relay_gave() {
    let (sim, backend) = relay(Relay::ModifiedSora2Api, Dialect::OpenAi, "sora-2").await;
    let (task, _) = run_to_end(&*backend, &video_spec("a fox")).await;
    let spec = JobSpec::Character(CharacterRequest {
        source: CharacterSource::FromTask(task.0.clone()),
        timestamps: Timestamps {
            start: 0.0,
            end: 3.0,
        },
        name: "foxy".into(),
    });

    backend.submit(&spec).await.expect("created");

    let requests = sim.requests();
    assert!(
        requests.iter().all(|r| !r.path.ends_with("/content")),
        "not from the content endpoint"
    );
    let upload = requests
        .iter()
        .find(|r| r.path.ends_with("/v1/videos/characters"))
        .expect("the upload");
    assert!(upload.part("video").is_some_and(|p| p.data == SAMPLE_MP4));
}

#[tokio::test]
async fn modified_sora2api_character_is_ready_without_polling() {
    let (sim, backend) = relay(Relay::ModifiedSora2Api, Dialect::Native, "sora-2").await;
    let spec = JobSpec::Character(CharacterRequest {
        source: CharacterSource::Url("https://example.com/cameo.mp4".into()),
        timestamps: Timestamps {
            start: 0.0,
            end: 3.0,
        },
        name: "hero".into(),
    });

    let task = backend.submit(&spec).await.expect("created");
    let status = backend
        .status(&task, OutputKind::Character)
        .await
        .expect("ready");

    match status {
        TaskStatus::Succeeded(Output::Character(info)) => {
            assert!(info.username.is_some_and(|u| u.starts_with("cameo_")));
            assert!(info.id.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        sim.requests().iter().all(|r| r.method == "POST"),
        "the character was polled: {:?}",
        sim.requests().iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}

// --- PiAPI: {code, data: {output, error}, message} ---------------------------------

#[tokio::test]
async fn piapi_output_is_the_video_and_its_error_says_why() {
    let (_sim, backend) = relay(Relay::PiApi, Dialect::Native, "sora-2").await;

    let (task, polled) = run_to_end(&*backend, &video_spec("a fox")).await;
    let url = url_of(&polled.last);
    downloads_the_sample(&*backend, &task, MediaRef::Url(url)).await;

    let (_, failed) = run_to_end(&*backend, &video_spec("a fox [sim:fail]")).await;
    assert!(reason_of(&failed.last).contains("内容审核未通过"));

    let (_, nolink) = run_to_end(&*backend, &video_spec(&format!("a fox {NOLINK_WORD}"))).await;
    assert!(reason_of(&nolink.last).contains("no result link"));
}

// --- unified-video gateways: `video_url`, text progress, no content endpoint -------

#[tokio::test]
async fn unified_video_url_is_the_result_not_the_echoed_input() {
    let (sim, backend) = relay(Relay::Unified, Dialect::OpenAi, "sora-2").await;

    let (task, polled) = run_to_end(&*backend, &video_spec("a fox")).await;

    assert!(task.0.starts_with("sora-2:task_"), "{task}");
    let url = url_of(&polled.last);
    assert!(
        url.starts_with(&format!("{}/files/", sim.base_url())),
        "{url}"
    );
    downloads_the_sample(&*backend, &task, MediaRef::Url(url)).await;
}

// --- the simulator's own profile --------------------------------------------------

#[tokio::test]
async fn openais_insufficient_quota_429_is_a_used_up_balance_not_a_rate_limit() {
    let (_sim, backend) = relay(Relay::Sim, Dialect::Native, "sora-2").await;

    let error = backend
        .submit(&video_spec(&format!("a fox {BALANCE_WORD}")))
        .await
        .unwrap_err();

    assert!(matches!(error, BackendError::Exhausted { .. }), "{error:?}");
    assert_eq!(error.retry_after(), None);
}

// --- seed 000 §2: a chat answer holding a task id --------------------------------

#[tokio::test]
async fn a_chat_answer_holding_a_task_id_is_followed_on_the_task_endpoint() {
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = polls.clone();
    let relay = Stub::start(move |request| {
        if request.path == "/v1/chat/completions" {
            return StubResponse::json(
                200,
                &json!({"id": "chatcmpl-1", "object": "chat.completion",
                    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
                        "content": "{\"task_id\": \"e2f5c9d1-c6f6-13f5-4f20-da9552f214a9\"}"}}]}),
            );
        }
        assert_eq!(request.path, "/v1/videos/tasks/e2f5c9d1-c6f6-13f5-4f20-da9552f214a9");
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            return StubResponse::json(200, &json!({"id": "e2f5", "state": "processing", "progress": 40}));
        }
        StubResponse::json(
            200,
            &json!({"id": "e2f5", "state": "succeeded", "progress": 100,
                "data": {"videos": [{"url": "https://video-url.com/result.mp4"}]}}),
        )
    })
    .await;
    let mut config = client_config(&relay.base_url, Dialect::Chat, AuthStyle::Bearer);
    config.task_poll = Duration::from_millis(5);
    let backend = connect(&config);

    let (_, polled) = run_to_end(&*backend, &video_spec("让画面动起来")).await;

    assert_eq!(url_of(&polled.last), "https://video-url.com/result.mp4");
    assert!(polls.load(Ordering::SeqCst) >= 2);
}
