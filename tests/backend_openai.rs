//! The OpenAI videos dialect (seed 001 §2-4, `/videos*` of the spec) against
//! the simulator: raw key, `/sora` prefix, JSON and multipart creates, remix,
//! retrieve, content, and the image endpoints.

mod backend_support;

use backend_support::*;
use serde_json::json;
use sorabot::backend::{
    AspectRatio, BackendError, CharacterInfo, CharacterRequest, CharacterSource, CharacterUse,
    ExtendRequest, Feature, ImageInput, ImageRequest, JobSpec, MediaRef, ModelTier, Output,
    OutputKind, RemixRequest, TaskStatus, Timestamps, Unsupported, VideoOptions,
};

fn assert_raw_key(request: &sorabot_sim::Recorded) {
    assert_eq!(
        request.header("authorization"),
        Some(KEY),
        "{} {}",
        request.method,
        request.path
    );
}

#[tokio::test]
async fn openai_json_create_sends_seconds_as_text_size_and_watermark_with_the_raw_key() {
    let (sim, backend) = openai(|_| {}).await;
    let spec = JobSpec::Video(video(
        "a paper boat",
        VideoOptions {
            aspect: Some(AspectRatio::Landscape),
            seconds: Some(8),
            watermark: Some(false),
            ..Default::default()
        },
    ));

    let task = backend.submit(&spec).await.expect("submitted");

    let sent = only_request(&sim, "POST", "/sora/v1/videos");
    assert_raw_key(&sent);
    assert!(!sent.is_multipart());
    assert_eq!(
        json_body(&sent),
        json!({"model": "sora-2", "prompt": "a paper boat", "seconds": "8",
               "size": "1280x720", "watermark": false})
    );
    assert!(task.0.starts_with("video_"), "{task}");
}

#[tokio::test]
async fn openai_hd_and_pro_pick_the_large_size_and_the_pro_model() {
    let (sim, backend) = openai(|_| {}).await;
    let spec = JobSpec::Video(video(
        "a paper boat",
        VideoOptions {
            aspect: Some(AspectRatio::Portrait),
            hd: true,
            tier: ModelTier::Pro,
            watermark: Some(true),
            ..Default::default()
        },
    ));

    backend.submit(&spec).await.expect("submitted");

    let body = json_body(&only_request(&sim, "POST", "/sora/v1/videos"));
    assert_eq!(
        body,
        json!({"model": "sora-2-pro", "prompt": "a paper boat",
               "size": "1024x1792", "watermark": true})
    );
}

#[tokio::test]
async fn openai_create_with_image_bytes_is_multipart_with_an_input_reference_file() {
    let (sim, backend) = openai(|_| {}).await;
    let mut request = video(
        "animate this",
        VideoOptions {
            seconds: Some(4),
            ..Default::default()
        },
    );
    request.images = vec![png_input()];

    let task = backend
        .submit(&JobSpec::Video(request))
        .await
        .expect("submitted");

    let sent = only_request(&sim, "POST", "/sora/v1/videos");
    assert_raw_key(&sent);
    assert!(sent.is_multipart());
    assert_eq!(form_text(&sent, "model"), "sora-2");
    assert_eq!(form_text(&sent, "prompt"), "animate this");
    assert_eq!(form_text(&sent, "seconds"), "4");
    let file = sent
        .part("input_reference")
        .expect("an input_reference part");
    assert!(file.is_file());
    assert_eq!(file.content_type.as_deref(), Some("image/png"));
    assert!(file.data == SAMPLE_PNG);
    let polled = poll_to_end(&*backend, &task, OutputKind::Video).await;
    assert!(matches!(polled.last, TaskStatus::Succeeded(_)));
}

#[tokio::test]
async fn openai_create_with_an_image_url_sends_it_as_a_json_reference() {
    let (sim, backend) = openai(|_| {}).await;
    let mut request = video("animate this", VideoOptions::default());
    request.images = vec![ImageInput::Url("https://example.com/ref.png".into())];

    backend
        .submit(&JobSpec::Video(request))
        .await
        .expect("submitted");

    let body = json_body(&only_request(&sim, "POST", "/sora/v1/videos"));
    assert_eq!(
        body["input_reference"],
        json!({"image_url": "https://example.com/ref.png"})
    );
}

#[tokio::test]
async fn openai_video_is_retrieved_then_its_content_downloads_as_the_sample() {
    let (sim, backend) = openai(|_| {}).await;

    let (task, polled) = run_to_end(&*backend, &video_spec("a cat")).await;

    let retrieves = requests_to(&sim, "GET", &format!("/sora/v1/videos/{task}"));
    assert_eq!(retrieves.len(), polled.seen.len());
    retrieves.iter().for_each(assert_raw_key);
    for p in polled.running_progress() {
        let p = p.expect("the spec always gives progress");
        assert!((0.0..=1.0).contains(&p), "{p}");
    }
    assert_eq!(
        polled.last,
        TaskStatus::Succeeded(Output::Video(MediaRef::Content))
    );
    let download = backend
        .download(&task, &MediaRef::Content)
        .await
        .expect("download starts");
    assert_eq!(download.content_type.as_deref(), Some("video/mp4"));
    assert!(read_all(download).await == SAMPLE_MP4);
    assert_raw_key(&only_request(
        &sim,
        "GET",
        &format!("/sora/v1/videos/{task}/content"),
    ));
}

#[tokio::test]
async fn openai_remix_posts_the_prompt_and_model_to_the_source_video() {
    let (sim, backend) = openai(|_| {}).await;
    let (source, _) = run_to_end(&*backend, &video_spec("daytime city")).await;
    let spec = JobSpec::Remix(RemixRequest {
        source: source.0.clone(),
        prompt: "make it night".into(),
        options: VideoOptions {
            tier: ModelTier::Pro,
            ..Default::default()
        },
    });

    let (remix, polled) = run_to_end(&*backend, &spec).await;

    let sent = only_request(&sim, "POST", &format!("/sora/v1/videos/{source}/remix"));
    assert_raw_key(&sent);
    assert_eq!(
        json_body(&sent),
        json!({"prompt": "make it night", "model": "sora-2-pro"})
    );
    assert!(remix.0.starts_with("video_") && remix != source);
    assert_eq!(
        polled.last,
        TaskStatus::Succeeded(Output::Video(MediaRef::Content))
    );
}

#[tokio::test]
async fn openai_video_that_fails_on_the_service_ends_failed_with_its_reason() {
    let (_sim, backend) = openai(|_| {}).await;

    let (_, polled) = run_to_end(&*backend, &video_spec("a cat [sim:fail]")).await;

    match polled.last {
        TaskStatus::Failed { reason } => assert!(reason.contains("内容审核未通过"), "{reason}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn image_urls(status: &TaskStatus) -> Vec<String> {
    match status {
        TaskStatus::Succeeded(Output::Images(refs)) => refs
            .iter()
            .map(|r| match r {
                MediaRef::Url(url) => url.clone(),
                other => panic!("expected an image URL, got {other:?}"),
            })
            .collect(),
        other => panic!("expected images, got {other:?}"),
    }
}

#[tokio::test]
async fn openai_image_generation_is_multipart_and_its_pictures_download() {
    let (sim, backend) = openai(|_| {}).await;
    let spec = JobSpec::Image(ImageRequest {
        prompt: "a red fox".into(),
        n: 2,
        size: Some((1024, 1536)),
        inputs: vec![],
    });

    let (task, polled) = run_to_end(&*backend, &spec).await;

    let sent = only_request(&sim, "POST", "/sora/v1/images/generations");
    assert_raw_key(&sent);
    assert_eq!(form_text(&sent, "prompt"), "a red fox");
    assert_eq!(form_text(&sent, "model"), "sora_image");
    assert_eq!(form_text(&sent, "n"), "2");
    assert_eq!(form_text(&sent, "size"), "1024x1536");
    let urls = image_urls(&polled.last);
    assert_eq!(urls.len(), 2);
    for url in urls {
        assert!(
            url.starts_with(&format!("{}/files/", sim.base_url())),
            "{url}"
        );
        let download = backend
            .download(&task, &MediaRef::Url(url))
            .await
            .expect("download starts");
        assert!(read_all(download).await == SAMPLE_PNG);
    }
}

#[tokio::test]
async fn openai_image_edit_uploads_each_input_as_an_image_array_part() {
    let (sim, backend) = openai(|_| {}).await;
    let spec = JobSpec::Image(ImageRequest {
        prompt: "add a hat".into(),
        n: 1,
        size: None,
        inputs: vec![png_input(), png_input()],
    });

    let (task, polled) = run_to_end(&*backend, &spec).await;

    let sent = only_request(&sim, "POST", "/sora/v1/images/edits");
    assert_raw_key(&sent);
    assert_eq!(form_text(&sent, "prompt"), "add a hat");
    assert_eq!(form_text(&sent, "model"), "sora_image");
    let images: Vec<_> = sent.parts.iter().filter(|p| p.name == "image[]").collect();
    assert_eq!(images.len(), 2);
    for image in images {
        assert!(image.is_file());
        assert_eq!(image.content_type.as_deref(), Some("image/png"));
        assert!(image.data == SAMPLE_PNG);
    }
    let urls = image_urls(&polled.last);
    assert_eq!(urls.len(), 1);
    let download = backend
        .download(&task, &MediaRef::Url(urls[0].clone()))
        .await
        .expect("download starts");
    assert!(read_all(download).await == SAMPLE_PNG);
}

#[tokio::test]
async fn openai_image_that_fails_on_the_service_ends_failed_with_its_reason() {
    let (_sim, backend) = openai(|_| {}).await;
    let spec = JobSpec::Image(ImageRequest {
        prompt: "a red fox [sim:fail]".into(),
        n: 1,
        size: None,
        inputs: vec![],
    });
    let task = backend.submit(&spec).await.expect("submitted");

    let status = loop {
        match backend.status(&task, OutputKind::Images).await {
            Ok(TaskStatus::Queued | TaskStatus::Running { .. }) => {
                tokio::time::sleep(std::time::Duration::from_millis(3)).await
            }
            other => break other,
        }
    };

    match status {
        Ok(TaskStatus::Failed { reason }) => assert!(reason.contains("内容审核未通过"), "{reason}"),
        other => panic!("expected a failure with the service's reason, got {other:?}"),
    }
}

#[tokio::test]
async fn a_create_whose_answer_never_came_is_found_in_the_list_of_videos() {
    let (sim, _) = openai(|_| {}).await;
    let mut config = client_config(
        &sim.base_url(),
        sorabot::backend::Dialect::OpenAi,
        sorabot::backend::AuthStyle::Raw,
    );
    // Long enough for the request to reach the service on a busy machine;
    // the answer comes far later.
    config.request_timeout = std::time::Duration::from_secs(1);
    let backend = connect(&config);
    let since_ms = sorabot::clock::now_ms();
    sim.push_fault(sorabot_sim::Fault::Hold(std::time::Duration::from_secs(10)));
    let spec = video_spec("a lighthouse in a storm");

    let lost = backend.submit(&spec).await.unwrap_err();
    assert!(lost.leaves_submission_in_doubt(), "{lost:?}");
    // The service took the job all the same.
    let made = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            if sim.task_count() > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(made.is_ok(), "the service made the video");

    let found = backend
        .find_submitted(&spec, since_ms)
        .await
        .expect("listed");
    let other = backend
        .find_submitted(&video_spec("never asked for"), since_ms)
        .await
        .expect("listed");

    let found = found.expect("the video is found by its prompt");
    assert!(found.0.starts_with("video_"), "{found}");
    assert_eq!(other, None);
    let listed = requests_to(&sim, "GET", "/sora/v1/videos");
    assert!(listed.iter().all(|r| r.path.contains("order=desc")));
}

#[tokio::test]
async fn a_native_service_cannot_be_asked_which_tasks_it_has() {
    let (sim, backend) = native(|_| {}).await;

    let found = backend
        .find_submitted(&video_spec("a lighthouse"), 0)
        .await
        .expect("no error");

    assert_eq!(found, None);
    assert!(sim.requests().is_empty(), "nothing is asked");
}

#[tokio::test]
async fn openai_thumbnail_is_the_content_endpoints_thumbnail_variant_with_the_raw_key() {
    let (sim, backend) = openai(|_| {}).await;
    let (task, _) = run_to_end(&*backend, &video_spec("a lighthouse")).await;

    let thumbnail = backend
        .thumbnail(&task, &MediaRef::Content)
        .await
        .expect("the thumbnail is fetched")
        .expect("the service offers one");

    assert_eq!(thumbnail.content_type.as_deref(), Some("image/jpeg"));
    assert!(read_all(thumbnail).await == SAMPLE_THUMBNAIL);
    assert_raw_key(&only_request(
        &sim,
        "GET",
        &format!("/sora/v1/videos/{task}/content?variant=thumbnail"),
    ));
    let linked = MediaRef::Url("https://cdn.example.com/v.mp4".into());
    assert!(
        backend
            .thumbnail(&task, &linked)
            .await
            .expect("no call")
            .is_none(),
        "a relay that links its videos elsewhere is not asked"
    );
}

/// Holds a request the client sent to the spec's schema of its route.
fn assert_fits_spec(template: &str, request: &sorabot_sim::Recorded) {
    let violations = sorabot_sim::openai_request_violations(template, request);
    assert!(
        violations.is_empty(),
        "{} {} breaks the spec's {template} schema: {violations:?}",
        request.method,
        request.path
    );
}

fn character_spec(source: CharacterSource, name: &str) -> JobSpec {
    JobSpec::Character(CharacterRequest {
        source,
        timestamps: Timestamps {
            start: 0.0,
            end: 3.0,
        },
        name: name.into(),
    })
}

#[tokio::test]
async fn openai_creates_and_remixes_fit_the_spec() {
    let (sim, backend) = openai(|_| {}).await;
    let json_create = JobSpec::Video(video(
        "a paper boat",
        VideoOptions {
            aspect: Some(AspectRatio::Landscape),
            seconds: Some(8),
            ..Default::default()
        },
    ));
    let (source, _) = run_to_end(&*backend, &json_create).await;
    let mut multipart = video("animate this", VideoOptions::default());
    multipart.images = vec![png_input()];
    backend
        .submit(&JobSpec::Video(multipart))
        .await
        .expect("submitted");
    let remix = JobSpec::Remix(RemixRequest {
        source: source.0.clone(),
        prompt: "make it night".into(),
        options: VideoOptions::default(),
    });
    backend.submit(&remix).await.expect("remixed");

    for sent in requests_to(&sim, "POST", "/sora/v1/videos") {
        assert_fits_spec("/videos", &sent);
    }
    let remixed = only_request(&sim, "POST", &format!("/sora/v1/videos/{source}/remix"));
    assert_fits_spec("/videos/{video_id}/remix", &remixed);
}

#[tokio::test]
async fn openai_extension_names_the_source_video_and_ends_as_a_longer_video() {
    let (sim, backend) = openai(|_| {}).await;
    let source_spec = JobSpec::Video(video(
        "a paper boat",
        VideoOptions {
            seconds: Some(8),
            ..Default::default()
        },
    ));
    let (source, _) = run_to_end(&*backend, &source_spec).await;
    let spec = JobSpec::Extend(ExtendRequest {
        source: source.0.clone(),
        prompt: "the boat sails into the sunset".into(),
        seconds: 4,
    });

    let (extended, polled) = run_to_end(&*backend, &spec).await;

    let sent = only_request(&sim, "POST", "/sora/v1/videos/extensions");
    assert_raw_key(&sent);
    assert!(!sent.is_multipart());
    assert_fits_spec("/videos/extensions", &sent);
    assert_eq!(
        json_body(&sent),
        json!({"video": {"id": source.0}, "prompt": "the boat sails into the sunset",
               "seconds": "4"})
    );
    assert!(extended.0.starts_with("video_") && extended != source);
    assert_eq!(
        polled.last,
        TaskStatus::Succeeded(Output::Video(MediaRef::Content))
    );
    let resource: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/videos/{extended}", sim.base_url()))
        .header("authorization", KEY)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(resource["seconds"], "12", "the stitched total: {resource}");
}

#[tokio::test]
async fn openai_extension_lengths_outside_the_spec_are_refused_before_sending() {
    let (sim, backend) = openai(|_| {}).await;
    let spec = JobSpec::Extend(ExtendRequest {
        source: "video_1".into(),
        prompt: "longer".into(),
        seconds: 20,
    });

    let error = backend.submit(&spec).await.expect_err("refused");

    assert_eq!(
        error,
        BackendError::Unsupported(Unsupported::Duration {
            requested: 20,
            allowed: vec![4, 8, 12]
        })
    );
    assert!(requests_to(&sim, "POST", "/sora/v1/videos/extensions").is_empty());
}

#[tokio::test]
async fn openai_character_uploads_the_source_video_with_its_name_and_is_ready_at_once() {
    let (sim, backend) = openai(|_| {}).await;
    let (source, _) = run_to_end(&*backend, &video_spec("a fox in a hat")).await;

    let task = backend
        .submit(&character_spec(
            CharacterSource::FromTask(source.0.clone()),
            "foxy",
        ))
        .await
        .expect("submitted");

    let fetched = only_request(&sim, "GET", &format!("/sora/v1/videos/{source}/content"));
    assert_raw_key(&fetched);
    let sent = only_request(&sim, "POST", "/sora/v1/videos/characters");
    assert_raw_key(&sent);
    assert!(sent.is_multipart());
    assert_fits_spec("/videos/characters", &sent);
    assert_eq!(form_text(&sent, "name"), "foxy");
    let file = sent.part("video").expect("a video part");
    assert!(file.is_file());
    assert_eq!(file.content_type.as_deref(), Some("video/mp4"));
    assert!(file.data == SAMPLE_MP4);
    let status = backend
        .status(&task, OutputKind::Character)
        .await
        .expect("status");
    let TaskStatus::Succeeded(Output::Character(CharacterInfo { id, username })) = status else {
        panic!("a ready character, got {status:?}");
    };
    assert!(
        id.as_deref().is_some_and(|id| id.starts_with("char_")),
        "{id:?}"
    );
    assert_eq!(username.as_deref(), Some("foxy"));
}

#[tokio::test]
async fn openai_character_is_read_back_from_its_get() {
    let (sim, backend) = openai(|_| {}).await;
    let (source, _) = run_to_end(&*backend, &video_spec("a fox in a hat")).await;
    let task = backend
        .submit(&character_spec(CharacterSource::FromTask(source.0), "foxy"))
        .await
        .expect("submitted");
    let TaskStatus::Succeeded(Output::Character(CharacterInfo { id: Some(id), .. })) = backend
        .status(&task, OutputKind::Character)
        .await
        .expect("status")
    else {
        panic!("a character with an id");
    };

    let again = backend
        .status(&sorabot::backend::TaskId(id.clone()), OutputKind::Character)
        .await
        .expect("status");

    only_request(&sim, "GET", &format!("/sora/v1/videos/characters/{id}"));
    assert_eq!(
        again,
        TaskStatus::Succeeded(Output::Character(CharacterInfo {
            id: Some(id),
            username: Some("foxy".into())
        }))
    );
}

#[tokio::test]
async fn openai_video_casting_a_character_names_its_id_beside_the_prompt() {
    let (sim, backend) = openai(|_| {}).await;
    let mut request = video("@foxy dances", VideoOptions::default());
    request.characters = vec![CharacterUse {
        source: CharacterSource::FromTask("video_1".into()),
        timestamps: Timestamps {
            start: 0.0,
            end: 3.0,
        },
        username: Some("foxy".into()),
        service_id: Some("char_123".into()),
    }];

    backend
        .submit(&JobSpec::Video(request))
        .await
        .expect("submitted");

    let sent = only_request(&sim, "POST", "/sora/v1/videos");
    assert_fits_spec("/videos", &sent);
    let body = json_body(&sent);
    assert_eq!(body["prompt"], "@foxy dances");
    assert_eq!(body["characters"], json!([{"id": "char_123"}]));
}

#[tokio::test]
async fn the_simulator_refuses_an_extension_that_breaks_the_spec() {
    let (sim, _backend) = openai(|_| {}).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/videos/extensions", sim.base_url());

    let answer = client
        .post(&url)
        .header("authorization", KEY)
        .json(&json!({"video": {"id": "video_1"}, "prompt": "longer", "seconds": "20"}))
        .send()
        .await
        .expect("answered");

    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["error"]["param"], "seconds");
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[test]
fn other_dialects_cannot_extend() {
    for dialect in [
        sorabot::backend::Dialect::Native,
        sorabot::backend::Dialect::Chat,
    ] {
        let caps = sorabot::backend::capabilities(dialect, "sora-2");
        let spec = JobSpec::Extend(ExtendRequest {
            source: "t".into(),
            prompt: "longer".into(),
            seconds: 4,
        });
        assert_eq!(
            caps.check(&spec),
            Err(Unsupported::Feature(Feature::Extend))
        );
    }
}
