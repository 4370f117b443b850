//! The native dialect (seed 000 §3) against the simulator: what each call
//! sends, and how every shape of task answer is read.

mod backend_support;

use backend_support::*;
use serde_json::json;
use sorabot::backend::{
    AspectRatio, CharacterInfo, CharacterRequest, CharacterSource, CharacterUse, ImageInput,
    JobSpec, MediaRef, ModelTier, Output, OutputKind, RemixRequest, TaskStatus, Timestamps,
    VideoOptions,
};
use sorabot_sim::{ProgressShape, Shape, StateWords, UrlPlacement};

fn succeeded_url(status: &TaskStatus) -> String {
    match status {
        TaskStatus::Succeeded(Output::Video(MediaRef::Url(url))) => url.clone(),
        other => panic!("expected a video URL, got {other:?}"),
    }
}

#[tokio::test]
async fn native_generation_sends_the_seed_fields_with_bearer_auth() {
    let (sim, backend) = native(|_| {}).await;
    let spec = JobSpec::Video(video(
        "a cinematic drone shot",
        VideoOptions {
            aspect: Some(AspectRatio::Portrait),
            seconds: Some(15),
            tier: ModelTier::Pro,
            ..Default::default()
        },
    ));

    let task = backend.submit(&spec).await.expect("submitted");

    let sent = only_request(&sim, "POST", "/v1/videos/generations");
    assert_eq!(
        sent.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(
        json_body(&sent),
        json!({"model": "sora-2-pro", "prompt": "a cinematic drone shot",
               "aspect_ratio": "9:16", "duration": 15})
    );
    assert!(!task.0.is_empty());
}

#[tokio::test]
async fn native_generation_sends_image_urls_with_bytes_as_a_data_url() {
    let (sim, backend) = native(|_| {}).await;
    let mut request = video("animate these", VideoOptions::default());
    request.images = vec![
        ImageInput::Url("https://example.com/ref.jpg".into()),
        png_input(),
    ];

    backend
        .submit(&JobSpec::Video(request))
        .await
        .expect("submitted");

    let body = json_body(&only_request(&sim, "POST", "/v1/videos/generations"));
    let expected_data_url = png_input().to_url();
    assert!(expected_data_url.starts_with("data:image/png;base64,iVBOR"));
    assert_eq!(
        body["image_urls"],
        json!(["https://example.com/ref.jpg", expected_data_url])
    );
    assert_eq!(body["model"], "sora-2");
    assert!(body.get("aspect_ratio").is_none() && body.get("duration").is_none());
}

#[tokio::test]
async fn native_generation_casts_characters_by_url_and_by_task_with_timestamps() {
    let (sim, backend) = native(|_| {}).await;
    let (source, polled) = run_to_end(&*backend, &video_spec("the source clip")).await;
    assert!(matches!(polled.last, TaskStatus::Succeeded(_)));
    let mut request = video("@cameo dances on stage", VideoOptions::default());
    request.characters = vec![
        CharacterUse {
            source: CharacterSource::Url("https://example.com/character.mp4".into()),
            timestamps: Timestamps {
                start: 0.0,
                end: 3.0,
            },
            service_id: None,
            username: None,
        },
        CharacterUse {
            source: CharacterSource::FromTask(source.0.clone()),
            timestamps: Timestamps {
                start: 1.5,
                end: 3.0,
            },
            service_id: None,
            username: Some("cameo".into()),
        },
    ];

    let task = backend
        .submit(&JobSpec::Video(request))
        .await
        .expect("submitted");

    let generations = requests_to(&sim, "POST", "/v1/videos/generations");
    let body = json_body(generations.last().expect("a generation"));
    assert_eq!(
        body["characters"],
        json!([
            {"url": "https://example.com/character.mp4", "timestamps": "0,3"},
            {"from_task": source.0, "timestamps": "1.5,3"},
        ])
    );
    let polled = poll_to_end(&*backend, &task, OutputKind::Video).await;
    succeeded_url(&polled.last);
}

#[tokio::test]
async fn native_character_is_created_from_a_task_and_read_back_as_a_character() {
    let (sim, backend) = native(|_| {}).await;
    let (source, _) = run_to_end(&*backend, &video_spec("the source clip")).await;
    let spec = JobSpec::Character(CharacterRequest {
        source: CharacterSource::FromTask(source.0.clone()),
        timestamps: Timestamps {
            start: 0.0,
            end: 3.0,
        },
        name: "hero".into(),
    });

    let (task, polled) = run_to_end(&*backend, &spec).await;

    let sent = only_request(&sim, "POST", "/v1/characters");
    assert_eq!(
        sent.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(
        json_body(&sent),
        json!({"from_task": source.0, "timestamps": "0,3"})
    );
    assert!(!requests_to(&sim, "GET", &format!("/v1/videos/tasks/{task}")).is_empty());
    match polled.last {
        TaskStatus::Succeeded(Output::Character(CharacterInfo {
            id: Some(id),
            username: Some(username),
        })) => {
            assert!(id.starts_with("char_"), "{id}");
            assert!(username.starts_with("cameo_"), "{username}");
        }
        other => panic!("expected a character, got {other:?}"),
    }
}

#[tokio::test]
async fn native_character_from_a_url_sends_the_url() {
    let (sim, backend) = native(|_| {}).await;
    let spec = JobSpec::Character(CharacterRequest {
        source: CharacterSource::Url("https://example.com/character.mp4".into()),
        timestamps: Timestamps {
            start: 0.0,
            end: 3.0,
        },
        name: "hero".into(),
    });

    backend.submit(&spec).await.expect("submitted");

    assert_eq!(
        json_body(&only_request(&sim, "POST", "/v1/characters")),
        json!({"url": "https://example.com/character.mp4", "timestamps": "0,3"})
    );
}

#[tokio::test]
async fn native_remix_posts_to_the_source_video_with_its_options() {
    let (sim, backend) = native(|_| {}).await;
    let (source, _) = run_to_end(&*backend, &video_spec("daytime city")).await;
    let spec = JobSpec::Remix(RemixRequest {
        source: source.0.clone(),
        prompt: "将白天变成黑夜".into(),
        options: VideoOptions {
            aspect: Some(AspectRatio::Landscape),
            seconds: Some(15),
            ..Default::default()
        },
    });

    let (remix, polled) = run_to_end(&*backend, &spec).await;

    let sent = only_request(&sim, "POST", &format!("/v1/videos/{source}/remix"));
    assert_eq!(
        sent.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(
        json_body(&sent),
        json!({"model": "sora-2", "prompt": "将白天变成黑夜",
               "aspect_ratio": "16:9", "duration": 15})
    );
    assert_ne!(remix, source);
    succeeded_url(&polled.last);
}

#[tokio::test]
async fn native_task_is_queried_by_id_and_its_video_downloads_as_the_sample() {
    let (sim, backend) = native(|_| {}).await;

    let (task, polled) = run_to_end(&*backend, &video_spec("a cat")).await;

    let queries = requests_to(&sim, "GET", &format!("/v1/videos/tasks/{task}"));
    assert_eq!(queries.len(), polled.seen.len());
    assert!(queries
        .iter()
        .all(|q| q.header("authorization") == Some(&*format!("Bearer {KEY}"))));
    let url = succeeded_url(&polled.last);
    assert_eq!(url, format!("{}/files/{task}.mp4", sim.base_url()));
    let download = backend
        .download(&task, &MediaRef::Url(url))
        .await
        .expect("download starts");
    assert_eq!(download.content_type.as_deref(), Some("video/mp4"));
    assert_eq!(download.content_length, Some(SAMPLE_MP4.len() as u64));
    assert!(read_all(download).await == SAMPLE_MP4);
}

#[tokio::test]
async fn native_answers_of_every_shape_end_in_a_video_url_with_progress_in_range() {
    let mut shapes = Vec::new();
    for progress in [
        ProgressShape::Percent,
        ProgressShape::Fraction,
        ProgressShape::Absent,
    ] {
        for states in [StateWords::Seed, StateWords::Alt, StateWords::Caps] {
            for url_at in [UrlPlacement::DataVideos, UrlPlacement::TopLevel] {
                shapes.push(Shape {
                    progress,
                    states,
                    url_at,
                    ..Shape::default()
                });
            }
        }
    }
    let mut runs = tokio::task::JoinSet::new();
    for shape in shapes {
        runs.spawn(async move {
            // Slower than usual, so the running phase is seen for sure.
            let (sim, backend) = native(|c| {
                c.shape = shape;
                c.time_scale = 500.0;
            })
            .await;
            let (task, polled) = run_to_end(&*backend, &video_spec("a cat")).await;
            (shape, sim.base_url(), task, polled)
        });
    }

    while let Some(run) = runs.join_next().await {
        let (shape, base, task, polled) = run.expect("the run finished");
        assert_eq!(
            succeeded_url(&polled.last),
            format!("{base}/files/{task}.mp4"),
            "{shape:?}"
        );
        let progress = polled.running_progress();
        assert!(!progress.is_empty(), "{shape:?}: never seen running");
        for p in &progress {
            match (shape.progress, p) {
                (ProgressShape::Absent, None) => {}
                (ProgressShape::Absent, Some(p)) => panic!("{shape:?}: invented progress {p}"),
                (_, Some(p)) => assert!((0.0..=1.0).contains(p), "{shape:?}: {p}"),
                (_, None) => panic!("{shape:?}: progress lost"),
            }
        }
        if shape.progress != ProgressShape::Absent {
            assert!(
                progress.iter().flatten().any(|p| *p > 0.0 && *p < 1.0),
                "{shape:?}: {progress:?}"
            );
        }
    }
}

#[tokio::test]
async fn native_job_that_fails_on_the_service_ends_failed_with_its_reason() {
    for states in [StateWords::Seed, StateWords::Alt, StateWords::Caps] {
        let (_sim, backend) = native(|c| c.shape.states = states).await;

        let (_, polled) = run_to_end(&*backend, &video_spec("a cat [sim:fail] on a roof")).await;

        match polled.last {
            TaskStatus::Failed { reason } => {
                assert!(reason.contains("内容审核未通过"), "{states:?}: {reason}")
            }
            other => panic!("{states:?}: expected a failure, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn native_thumbnail_is_the_one_the_final_answer_links() {
    let (sim, backend) = native(|_| {}).await;
    let (task, polled) = run_to_end(&*backend, &video_spec("a lighthouse")).await;
    let TaskStatus::Succeeded(Output::Video(media)) = polled.last else {
        panic!("a video: {:?}", polled.last);
    };

    let thumbnail = backend
        .thumbnail(&task, &media)
        .await
        .expect("the thumbnail is fetched")
        .expect("the answer linked one");

    assert!(read_all(thumbnail).await == SAMPLE_THUMBNAIL);
    only_request(&sim, "GET", &format!("/files/{task}.jpg"));
    let unknown = sorabot::backend::TaskId("never-seen".into());
    assert!(backend
        .thumbnail(&unknown, &media)
        .await
        .expect("no call")
        .is_none());
}
