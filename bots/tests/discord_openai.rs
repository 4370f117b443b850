//! The rest of the OpenAI videos API on Discord, against the simulator in
//! the `openai` dialect: `/extend` (the slash command, and `!extend` as a
//! reply to the video) makes a delivered video longer through
//! `POST /videos/extensions`; `/character add` uploads the video to
//! `POST /videos/characters` and a prompt that names the character casts
//! it by its id. Every request to the service is held to the spec's schema.

mod discord_support;

use discord_support::{Setup, World};
use sorabot::job::{JobRequest, JobState};
use sorabot_sim::discord::{Call, Options};

async fn openai_world(message_content: bool) -> World {
    let setup = Setup::new().sim(|sim| {
        *sim = sorabot_sim::SimConfig::for_style(sorabot_sim::Style::OpenAi);
        sim.time_scale = discord_support::FAST;
    });
    let setup = if message_content {
        setup.message_content()
    } else {
        setup
    };
    setup.start().await
}

/// The requests the simulator got on `path` (prefix and all), each held to
/// the spec's schema of `template`.
fn checked_requests(world: &World, path: &str, template: &str) -> Vec<sorabot_sim::Recorded> {
    let sent: Vec<_> = world
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with(path))
        .collect();
    for request in &sent {
        let violations = sorabot_sim::openai_request_violations(template, request);
        assert!(violations.is_empty(), "{}: {violations:?}", request.path);
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slash_extend_makes_the_users_latest_video_longer() {
    let world = openai_world(false).await;
    let alice = world.person("alice");
    let (source, _) = world.video_by(&alice, "a paper boat").await;

    world.inject(Call::slash(
        &alice,
        "extend",
        Options::new()
            .string("prompt", "it sails into the sunset")
            .integer("duration", 8),
    ));
    let (extension, _) = world.status_message("it sails into the sunset").await;
    world.delivery(&extension).await;

    let job = world
        .wait_state(&extension, "delivered", |s| *s == JobState::Delivered)
        .await;
    assert!(
        matches!(job.request, JobRequest::Extend { ref source_job, seconds: 8, .. } if source_job.as_str() == source),
        "{:?}",
        job.request
    );
    let sent = checked_requests(&world, "/v1/videos/extensions", "/videos/extensions");
    assert_eq!(sent.len(), 1);
    let body = sent[0].json().expect("a JSON body");
    assert_eq!(body["seconds"], "8");
    assert_eq!(body["prompt"], "it sails into the sunset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bang_extend_reply_extends_the_replied_video() {
    let world = openai_world(true).await;
    let alice = world.person("alice");
    let (source, video) = world.video_by(&alice, "a red kite").await;
    world.video_by(&alice, "a blue kite").await;

    world.discord.post(
        &alice,
        world.channel(),
        "!extend 12 the kite climbs higher",
        Some(video.id),
    );
    let (extension, _) = world.status_message("the kite climbs higher").await;

    let job = world.job(&extension).await;
    assert!(
        matches!(job.request, JobRequest::Extend { ref source_job, seconds: 12, .. } if source_job.as_str() == source),
        "the replied video, not the latest: {:?}",
        job.request
    );
    world.delivery(&extension).await;
    checked_requests(&world, "/v1/videos/extensions", "/videos/extensions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extension_of_a_length_the_service_lacks_is_refused_with_the_lengths_it_has() {
    let world = openai_world(false).await;
    let alice = world.person("alice");
    world.video_by(&alice, "a paper boat").await;

    world.inject(Call::slash(
        &alice,
        "extend",
        Options::new()
            .string("prompt", "longer")
            .integer("duration", 20),
    ));

    let answer = world.message_saying("choose 4, 8, 12").await;
    assert!(answer.ephemeral(), "{}", answer.content);
    assert!(checked_requests(&world, "/v1/videos/extensions", "/videos/extensions").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_character_is_uploaded_to_the_service_and_cast_by_its_id() {
    let world = openai_world(false).await;
    let alice = world.person("alice");
    let (source, _) = world.video_by(&alice, "a fox in a hat").await;

    let options = Options::new()
        .string("name", "foxy")
        .string("video", &source);
    world.inject(Call::subcommand(&alice, "character", "add", options));
    world.message_saying("Character @foxy is ready").await;

    let uploads = checked_requests(&world, "/v1/videos/characters", "/videos/characters");
    assert_eq!(uploads.len(), 1);
    assert_eq!(
        uploads[0].part("name").map(|p| p.data.to_vec()),
        Some(b"foxy".to_vec())
    );
    assert!(uploads[0]
        .part("video")
        .is_some_and(|p| p.data == discord_support::SAMPLE_MP4));

    world.inject(Call::slash(
        &alice,
        "video",
        Options::new().string("prompt", "@foxy dances in the rain"),
    ));
    let (cast, _) = world.status_message("dances in the rain").await;
    world.delivery(&cast).await;
    let creates = checked_requests(&world, "/v1/videos", "/videos");
    let body = creates
        .iter()
        .filter_map(|r| r.json())
        .find(|b| b["prompt"] == "@foxy dances in the rain")
        .expect("the casting create");
    let id = body["characters"][0]["id"].as_str().unwrap_or_default();
    assert!(id.starts_with("char_"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_extend_button_asks_in_a_modal_and_extends_that_video() {
    let world = openai_world(false).await;
    let alice = world.person("alice");
    let (source, video) = world.video_by(&alice, "a green balloon").await;
    let data = format!("extend:{source}");
    assert!(
        video.custom_ids().contains(&data),
        "an Extend button under the video: {}",
        world.dump()
    );

    let press = world.inject(Call::button(&alice, video.id, &data));
    let callback = world.callback(&press).await;
    assert_eq!(callback.kind, 9, "a modal: {:?}", callback.data);
    let modal = callback.data["custom_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(modal, format!("modal:extend:{source}"));
    world.inject(
        Call::modal(
            &alice,
            &modal,
            &[("prompt", "it floats away"), ("seconds", "12")],
        )
        .from_message(video.id),
    );
    let (extension, _) = world.status_message("it floats away").await;
    world.delivery(&extension).await;

    assert!(matches!(
        world.job(&extension).await.request,
        JobRequest::Extend { ref source_job, seconds: 12, .. } if source_job.as_str() == source
    ));
    checked_requests(&world, "/v1/videos/extensions", "/videos/extensions");
}
