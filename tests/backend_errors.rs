//! How every kind of bad answer maps to a `BackendError`, in every dialect,
//! and that requests the service cannot do never leave the client.

mod backend_support;

use std::sync::Arc;
use std::time::Duration;

use backend_support::*;
use sorabot::backend::{
    AspectRatio, AuthStyle, Backend, BackendError, CharacterRequest, CharacterSource, Dialect,
    Feature, ImageRequest, JobSpec, ModelTier, OutputKind, RemixRequest, TaskId, Timestamps,
    Unsupported, VideoOptions,
};
use sorabot_sim::{Fault, SimHandle, Style};

/// A simulator and client of each dialect, as the seeds configure them.
async fn every_dialect() -> Vec<(&'static str, SimHandle, Arc<dyn Backend>)> {
    let (native_sim, native_backend) = native(|_| {}).await;
    let (openai_sim, openai_backend) = openai(|_| {}).await;
    let (chat0_sim, chat0_backend) = chat_seed000(|_| {}).await;
    let (chat1_sim, chat1_backend) = chat_seed001(|_| {}).await;
    vec![
        ("native", native_sim, native_backend),
        ("openai", openai_sim, openai_backend),
        ("chat seed 000", chat0_sim, chat0_backend),
        ("chat seed 001", chat1_sim, chat1_backend),
    ]
}

#[tokio::test]
async fn a_prompt_the_service_moderates_is_rejected_as_content_policy_in_every_dialect() {
    for (name, sim, backend) in every_dialect().await {
        let err = backend
            .submit(&video_spec("something NSFW please"))
            .await
            .expect_err(name);

        assert!(
            matches!(
                &err,
                BackendError::Rejected { status: 400, code: Some(code), .. }
                    if code == "content_policy_violation"
            ),
            "{name}: {err:?}"
        );
        assert!(err.is_content_policy(), "{name}: {err:?}");
        assert!(!err.is_transient(), "{name}");
        assert_eq!(sim.task_count(), 0, "{name}");
    }
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_in_every_dialect() {
    for (name, sim, _) in every_dialect().await {
        let mut config = match name {
            "native" => client_config(&sim.base_url(), Dialect::Native, AuthStyle::Bearer),
            "openai" => client_config(&sim.base_url(), Dialect::OpenAi, AuthStyle::Raw),
            "chat seed 000" => client_config(&sim.base_url(), Dialect::Chat, AuthStyle::Bearer),
            _ => client_config(&sim.base_url(), Dialect::Chat, AuthStyle::Raw)
                .with_video_model("sora_video2"),
        };
        config.api_key = "sk-wrong-key-0000".to_owned().into();
        let backend = connect(&config);

        let err = backend.submit(&video_spec("a cat")).await.expect_err(name);

        assert_eq!(
            err,
            BackendError::Unauthorized {
                status: 401,
                message: Some("Invalid API key".into())
            },
            "{name}"
        );
        assert_eq!(sim.task_count(), 0, "{name}");
    }
}

#[tokio::test]
async fn the_right_key_in_the_wrong_style_is_unauthorized() {
    let sim = start_sim(Style::OpenAi, |_| {}).await;
    let backend = connect(&client_config(
        &sim.base_url(),
        Dialect::OpenAi,
        AuthStyle::Bearer,
    ));

    let err = backend.submit(&video_spec("a cat")).await.unwrap_err();

    assert_eq!(
        err,
        BackendError::Unauthorized {
            status: 401,
            message: Some("Invalid API key".into())
        }
    );
    let sent = only_request(&sim, "POST", "/sora/v1/videos");
    assert_eq!(
        sent.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
}

#[tokio::test]
async fn a_scripted_429_is_rate_limited_with_its_retry_after_in_every_dialect() {
    for (name, sim, backend) in every_dialect().await {
        sim.push_fault(Fault::RateLimited {
            retry_after_secs: 7,
        });

        let err = backend.submit(&video_spec("a cat")).await.expect_err(name);

        assert_eq!(
            err,
            BackendError::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            },
            "{name}"
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert!(err.is_transient());
    }
}

#[tokio::test]
async fn a_429_on_a_status_query_is_rate_limited_too() {
    let (sim, backend) = openai(|_| {}).await;
    let task = backend
        .submit(&video_spec("a cat"))
        .await
        .expect("submitted");
    sim.push_fault(Fault::RateLimited {
        retry_after_secs: 3,
    });

    let err = backend
        .status(&task, OutputKind::Video)
        .await
        .expect_err("limited");

    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
}

#[tokio::test]
async fn server_errors_and_gateway_pages_are_unavailable_in_every_dialect() {
    for code in [500, 502, 503, 504] {
        for (name, sim, backend) in every_dialect().await {
            sim.push_fault(Fault::Status(code));

            let err = backend.submit(&video_spec("a cat")).await.expect_err(name);

            // A JSON error keeps its message after the status; a gateway's
            // HTML page (502, 504) says nothing worth keeping.
            match &err {
                BackendError::Unavailable { reason } if matches!(code, 502 | 504) => {
                    assert_eq!(reason, &format!("HTTP {code}"), "{name}");
                }
                BackendError::Unavailable { reason } => {
                    assert!(
                        reason.starts_with(&format!("HTTP {code}: ")),
                        "{name}: {reason}"
                    );
                }
                other => panic!("{name}: {other:?}"),
            }
            assert!(err.is_transient());
        }
    }
}

#[tokio::test]
async fn a_server_error_on_a_status_query_is_unavailable_not_a_lost_task() {
    let (sim, backend) = native(|_| {}).await;
    let task = backend
        .submit(&video_spec("a cat"))
        .await
        .expect("submitted");
    sim.push_fault(Fault::Status(502));

    let err = backend.status(&task, OutputKind::Video).await.unwrap_err();

    assert!(matches!(err, BackendError::Unavailable { .. }), "{err:?}");
    assert!(backend.status(&task, OutputKind::Video).await.is_ok());
}

#[tokio::test]
async fn a_truncated_answer_is_malformed_on_create_and_on_query() {
    let (native_sim, native_backend) = native(|_| {}).await;
    let (openai_sim, openai_backend) = openai(|_| {}).await;
    for (name, sim, backend) in [
        ("native", &native_sim, &native_backend),
        ("openai", &openai_sim, &openai_backend),
    ] {
        sim.push_fault(Fault::Malformed);
        let on_create = backend.submit(&video_spec("a cat")).await.expect_err(name);
        let task = backend.submit(&video_spec("a cat")).await.expect(name);
        sim.push_fault(Fault::Malformed);
        let on_query = backend
            .status(&task, OutputKind::Video)
            .await
            .expect_err(name);

        for err in [on_create, on_query] {
            assert!(
                matches!(&err, BackendError::Malformed { excerpt } if excerpt.starts_with('{')),
                "{name}: {err:?}"
            );
            assert!(err.is_transient());
        }
    }
}

#[tokio::test]
async fn an_answer_slower_than_the_request_timeout_is_interrupted_and_timed_out() {
    let (native_sim, _) = native(|_| {}).await;
    let (openai_sim, _) = openai(|_| {}).await;
    for (sim, dialect, auth) in [
        (&native_sim, Dialect::Native, AuthStyle::Bearer),
        (&openai_sim, Dialect::OpenAi, AuthStyle::Raw),
    ] {
        let mut config = client_config(&sim.base_url(), dialect, auth);
        config.request_timeout = Duration::from_millis(300);
        let backend = connect(&config);
        let task = backend
            .submit(&video_spec("a cat"))
            .await
            .expect("submitted");
        sim.push_fault(Fault::Delay(Duration::from_secs(3)));
        let started = tokio::time::Instant::now();

        let err = backend.status(&task, OutputKind::Video).await.unwrap_err();

        assert_eq!(
            err,
            BackendError::Interrupted {
                reason: "timed out".into()
            },
            "{dialect}"
        );
        assert!(err.is_transient(), "{dialect}");
        assert!(started.elapsed() < Duration::from_secs(2), "{dialect}");
    }
}

#[tokio::test]
async fn a_create_slower_than_the_request_timeout_is_in_doubt() {
    let sim = start_sim(Style::Native, |_| {}).await;
    let mut config = client_config(&sim.base_url(), Dialect::Native, AuthStyle::Bearer);
    config.request_timeout = Duration::from_millis(300);
    let backend = connect(&config);
    sim.push_fault(Fault::Delay(Duration::from_secs(3)));

    let err = backend.submit(&video_spec("a cat")).await.unwrap_err();

    // The request went out: the service may have taken the job.
    assert_eq!(
        err,
        BackendError::Interrupted {
            reason: "timed out".into()
        }
    );
    assert!(err.leaves_submission_in_doubt());
}

#[tokio::test]
async fn a_service_that_is_not_there_is_unavailable() {
    let sim = start_sim(Style::Native, |_| {}).await;
    let base = sim.base_url();
    sim.shutdown().await;
    let backend = connect(&client_config(&base, Dialect::Native, AuthStyle::Bearer));

    let err = backend.submit(&video_spec("a cat")).await.unwrap_err();

    assert!(matches!(err, BackendError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_task_the_service_never_made_is_unknown_in_every_dialect() {
    for (name, sim, backend) in every_dialect().await {
        let task = match name {
            "native" => TaskId("e2f5c9d1-c6f6-13f5-4f20-da9552f214a9".into()),
            "openai" => TaskId("video_0123456789abcdef0123456789abcdef".into()),
            _ => TaskId("chat-0123456789abcdef".into()),
        };

        let err = backend
            .status(&task, OutputKind::Video)
            .await
            .expect_err(name);

        assert_eq!(err, BackendError::UnknownTask, "{name}");
        let expected_queries = match name {
            "native" => 1,
            "openai" => 1,
            _ => 0, // the chat dialect's tasks live in this process
        };
        assert_eq!(sim.requests().len(), expected_queries, "{name}");
    }
}

async fn assert_refused_before_sending(
    backend: &dyn Backend,
    sim: &SimHandle,
    spec: JobSpec,
    expected: Unsupported,
) {
    let err = backend.submit(&spec).await.unwrap_err();

    assert_eq!(
        err,
        BackendError::Unsupported(expected.clone()),
        "{}: {spec:?}",
        backend.dialect()
    );
    assert!(
        sim.requests().is_empty(),
        "{}: {spec:?} reached the service",
        backend.dialect()
    );
}

fn with_options(options: VideoOptions) -> JobSpec {
    JobSpec::Video(video("a cat", options))
}

fn character_spec() -> JobSpec {
    JobSpec::Character(CharacterRequest {
        source: CharacterSource::Url("https://example.com/c.mp4".into()),
        timestamps: Timestamps {
            start: 0.0,
            end: 3.0,
        },
        name: "hero".into(),
    })
}

fn remix_spec(options: VideoOptions) -> JobSpec {
    JobSpec::Remix(RemixRequest {
        source: "video_0123".into(),
        prompt: "at night".into(),
        options,
    })
}

fn image_spec(n: u8) -> JobSpec {
    JobSpec::Image(ImageRequest {
        prompt: "a fox".into(),
        n,
        size: None,
        inputs: vec![],
    })
}

#[tokio::test]
async fn native_refuses_what_seed_000_lacks_before_sending_anything() {
    let (sim, backend) = native(|_| {}).await;
    let cases = [
        (
            with_options(VideoOptions {
                seconds: Some(12),
                ..Default::default()
            }),
            Unsupported::Duration {
                requested: 12,
                allowed: vec![10, 15, 25],
            },
        ),
        (
            with_options(VideoOptions {
                hd: true,
                ..Default::default()
            }),
            Unsupported::Feature(Feature::Hd),
        ),
        (
            with_options(VideoOptions {
                watermark: Some(true),
                ..Default::default()
            }),
            Unsupported::Feature(Feature::Watermark),
        ),
        (image_spec(1), Unsupported::Feature(Feature::Images)),
        (video_spec("   "), Unsupported::EmptyPrompt),
    ];
    for (spec, expected) in cases {
        assert_refused_before_sending(&*backend, &sim, spec, expected).await;
    }
}

#[tokio::test]
async fn openai_refuses_what_the_videos_api_lacks_before_sending_anything() {
    let (sim, backend) = openai(|_| {}).await;
    let mut two_images = video("a cat", VideoOptions::default());
    two_images.images = vec![png_input(), png_input()];
    let cases = [
        (
            JobSpec::Extend(sorabot::backend::ExtendRequest {
                source: "video_0123".into(),
                prompt: "longer".into(),
                seconds: 16,
            }),
            Unsupported::Duration {
                requested: 16,
                allowed: vec![4, 8, 12],
            },
        ),
        (
            with_options(VideoOptions {
                seconds: Some(10),
                ..Default::default()
            }),
            Unsupported::Duration {
                requested: 10,
                allowed: vec![4, 8, 12],
            },
        ),
        (
            remix_spec(VideoOptions {
                aspect: Some(AspectRatio::Landscape),
                ..Default::default()
            }),
            Unsupported::Feature(Feature::RemixOptions),
        ),
        (
            JobSpec::Video(two_images),
            Unsupported::TooManyImages { given: 2, max: 1 },
        ),
        (
            image_spec(5),
            Unsupported::ImageCount {
                requested: 5,
                max: 4,
            },
        ),
    ];
    for (spec, expected) in cases {
        assert_refused_before_sending(&*backend, &sim, spec, expected).await;
    }
}

#[tokio::test]
async fn chat_refuses_what_a_chat_relay_lacks_before_sending_anything() {
    let (sim, backend) = chat_seed000(|_| {}).await;
    let cases = [
        (
            remix_spec(VideoOptions::default()),
            Unsupported::Feature(Feature::Remix),
        ),
        (character_spec(), Unsupported::Feature(Feature::Characters)),
        (
            with_options(VideoOptions {
                seconds: Some(15),
                ..Default::default()
            }),
            Unsupported::Feature(Feature::Duration),
        ),
        (
            with_options(VideoOptions {
                aspect: Some(AspectRatio::Portrait),
                ..Default::default()
            }),
            Unsupported::Feature(Feature::AspectRatio),
        ),
        (
            with_options(VideoOptions {
                hd: true,
                tier: ModelTier::Pro,
                ..Default::default()
            }),
            Unsupported::Feature(Feature::Hd),
        ),
        (
            image_spec(2),
            Unsupported::ImageCount {
                requested: 2,
                max: 1,
            },
        ),
    ];
    for (spec, expected) in cases {
        assert_refused_before_sending(&*backend, &sim, spec, expected).await;
    }
}

#[tokio::test]
async fn a_result_link_that_is_no_url_is_refused_at_once() {
    let (_sim, backend) = native(|_| {}).await;
    let task = sorabot::backend::TaskId("t".into());

    for link in [
        "ht!tp://bad link",
        "data:video/mp4;base64",
        "data:video/mp4;base64,@@@",
    ] {
        let error = backend
            .download(&task, &sorabot::backend::MediaRef::Url(link.into()))
            .await
            .unwrap_err();

        assert!(
            matches!(error, BackendError::Refused { .. }),
            "{link}: {error:?}"
        );
        assert!(!error.is_transient(), "{link}");
    }
}
