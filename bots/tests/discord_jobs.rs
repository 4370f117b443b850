//! A `/video` on Discord from the slash command to the file in the channel,
//! through serenity, the fake Discord and the Sora simulator: deferred at
//! once, progress in a channel message, the video uploaded with its embed
//! and buttons (or a link when the channel takes no file that large), and
//! delivered however long it takes, across a restart and a 429.

mod discord_support;
mod http_support;

use std::time::Duration;

use discord_support::{Setup, World, SAMPLE_MP4, SAMPLE_PNG};
use serde_json::Value;
use sorabot::chat::{Button, ButtonAction, ChatPort, ChatRef, MediaFile, MediaKind, Outgoing};
use sorabot::ids::JobId;
use sorabot::job::JobState;
use sorabot_sim::discord::{Call, Options, Origin, Via};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_is_deferred_then_delivered_as_an_attachment_with_embed_and_buttons() {
    let world = World::start().await;
    let alice = world.person("alice");

    let call = world.inject(Call::slash(
        &alice,
        "video",
        Options::new().string("prompt", "a red fox in snow"),
    ));

    let deferred = world.callback(&call).await;
    assert_eq!(deferred.kind, 5, "a slash command is deferred");
    assert!(deferred.after < Duration::from_secs(3));
    let (job, status) = world.status_message("a red fox in snow").await;
    let answer = world.answer(&call).await;
    assert!(
        answer.content.contains(&job),
        "the response names the job: {}",
        answer.content
    );
    assert_eq!(
        status.reference,
        Some(answer.id),
        "the status replies to the command's answer"
    );

    let video = world.delivery(&job).await;
    assert_eq!(video.origin, Origin::Bot, "uploaded with the bot token");
    assert_eq!(video.attachments.len(), 1);
    assert_eq!(video.attachments[0].size, SAMPLE_MP4.len() as u64);
    assert!(video.attachments[0].filename.ends_with(".mp4"));
    let embed = video.all_text();
    for shown in ["a red fox in snow", "sora-2", &job] {
        assert!(embed.contains(shown), "the embed shows {shown}: {embed}");
    }
    assert_eq!(
        video.custom_ids(),
        [
            format!("remix:{job}"),
            format!("character:{job}"),
            format!("retry:{job}")
        ]
    );
    assert_eq!(video.reference, Some(answer.id));
    world
        .wait_state(&job, "delivered", |s| *s == JobState::Delivered)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_shown_by_editing_the_status_message_with_the_bot_token() {
    let world = Setup::new().sim(|s| s.time_scale = 200.0).start().await;
    let alice = world.person("alice");

    world.inject(Call::slash(
        &alice,
        "video",
        Options::new().string("prompt", "waves at dusk"),
    ));
    let (job, status) = world.status_message("waves at dusk").await;
    world.delivery(&job).await;
    let status = world
        .wait("the final status", || {
            world
                .discord
                .message(status.id)
                .filter(|m| m.content.contains("Done"))
        })
        .await;

    assert!(status.edits.iter().all(|e| e.via == Via::BotToken));
    assert!(
        status
            .edits
            .iter()
            .any(|e| e.content.contains("Generating") && e.content.contains('%')),
        "a progress bar was shown: {:?}",
        status.edits.iter().map(|e| &e.content).collect::<Vec<_>>()
    );
    assert_eq!(
        status.custom_ids(),
        Vec::<String>::new(),
        "no Cancel once done"
    );
    assert!(status.edits.iter().any(|e| e
        .components
        .iter()
        .any(|row| row.to_string().contains(&format!("cancel:{job}")))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_with_an_image_option_passes_its_cdn_url_to_the_service() {
    let world = World::start().await;
    let alice = world.person("alice");
    let cat = world.discord.upload("cat.png", "image/png", SAMPLE_PNG);

    let options = Options::new()
        .string("prompt", "the cat waves")
        .attachment("image", &cat);
    world.inject(Call::slash(&alice, "video", options));
    let (job, _) = world.status_message("the cat waves").await;
    world.delivery(&job).await;

    let sent = world.sim_bodies("POST", "/v1/videos/generations");
    let urls: Vec<&str> = sent
        .iter()
        .flat_map(|b| b["image_urls"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(urls, [cat.url.as_str()]);
    assert!(cat.url.starts_with(&world.discord.api_url()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_over_the_channels_upload_limit_is_sent_as_a_link() {
    let world = Setup::new()
        .sim(|s| s.video_bytes = Some(300_000))
        .start()
        .await;
    let alice = world.person("alice");

    let options = Options::new().string("prompt", "a very long river");
    world.inject(Call::slash(&alice, "video", options).size_limit(200_000));
    let (job, _) = world.status_message("a very long river").await;
    let link = world.message_saying("over this chat's").await;
    world
        .wait_state(&job, "delivered", |s| *s == JobState::Delivered)
        .await;

    assert!(
        link.content.contains(&world.sim.base_url()),
        "{}",
        link.content
    );
    assert!(link.attachments.is_empty());
    assert_eq!(link.custom_ids(), [format!("retry:{job}")]);
    assert!(world.deliveries(&job).is_empty());
    assert!(
        world.discord.requests().iter().all(|r| r.files.is_empty()),
        "nothing was uploaded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_outliving_the_interaction_token_is_still_delivered_with_the_bot_token() {
    let world = Setup::new()
        .discord(|d| d.token_lifetime = Duration::from_millis(400))
        .sim(|s| s.time_scale = 100.0)
        .start()
        .await;
    let alice = world.person("alice");

    let call = world.inject(Call::slash(
        &alice,
        "video",
        Options::new().string("prompt", "a slow sunrise"),
    ));
    let (job, status) = world.status_message("a slow sunrise").await;
    let video = world.delivery(&job).await;
    // The last call of the job: every call it made is recorded by now.
    world.status_done(status.id).await;

    let lifetime = Duration::from_millis(400);
    let sent_at = world.callback(&call).await.at - world.callback(&call).await.after;
    assert!(
        video.created > sent_at + lifetime,
        "the job outlived the token"
    );
    assert_eq!(video.origin, Origin::Bot);
    let status = world.discord.message(status.id).expect("the status");
    assert!(status
        .edits
        .iter()
        .any(|e| e.at > sent_at + lifetime && e.via == Via::BotToken));
    let late_token_calls = world
        .discord
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/webhooks/") && r.at > sent_at + lifetime)
        .count();
    assert_eq!(
        late_token_calls, 0,
        "the expired interaction token was not used"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_job_delivers_it_exactly_once() {
    let mut world = Setup::new().sim(|s| s.time_scale = 100.0).start().await;
    let alice = world.person("alice");

    world.inject(Call::slash(
        &alice,
        "video",
        Options::new().string("prompt", "a lighthouse at night"),
    ));
    let (job, status) = world.status_message("a lighthouse at night").await;
    world
        .wait_state(&job, "at the service", |s| {
            matches!(s, JobState::Submitted | JobState::Running { .. })
        })
        .await;
    world.restart_bot().await;
    world.delivery(&job).await;
    world
        .wait_state(&job, "delivered", |s| *s == JobState::Delivered)
        .await;
    // Once the status says done, the job has nothing left to send.
    world.status_done(status.id).await;

    assert_eq!(world.deliveries(&job).len(), 1);
    assert_eq!(
        world.discord.identifies(),
        2,
        "a second gateway session after the restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_the_upload_is_obeyed_before_the_next_try() {
    let world = Setup::new().sim(|s| s.time_scale = 200.0).start().await;
    let alice = world.person("alice");
    let route = format!("/channels/{}/messages", world.channel());

    world.inject(Call::slash(
        &alice,
        "video",
        Options::new().string("prompt", "rain on glass"),
    ));
    let (job, _) = world.status_message("rain on glass").await;
    world
        .discord
        .rate_limit_next("POST", &route, Duration::from_secs(1));
    world.delivery(&job).await;

    // The fake shows the uploaded message a moment before it records the
    // request that made it.
    let (limited, next) = world
        .wait("a 429 on the upload and the try after it", || {
            let posts: Vec<_> = world
                .discord
                .requests()
                .into_iter()
                .filter(|r| r.method == "POST" && r.path == route)
                .collect();
            let limited = posts.iter().position(|r| r.status == 429)?;
            let next = posts.get(limited + 1)?.clone();
            Some((posts[limited].clone(), next))
        })
        .await;
    assert_eq!(next.status, 200);
    assert!(
        next.at - limited.at >= Duration::from_secs(1),
        "the next try waited out Retry-After: {:?}",
        next.at - limited.at
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cancel_button_stops_the_job_and_a_stranger_is_told_no_privately() {
    let world = Setup::new().sim(|s| s.time_scale = 20.0).start().await;
    let alice = world.person("alice");
    let bob = world.person("bob");
    world.inject(Call::slash(
        &alice,
        "video",
        Options::new().string("prompt", "a long slow river"),
    ));
    let (job, status) = world.status_message("a long slow river").await;

    let stranger = world.inject(Call::button(&bob, status.id, &format!("cancel:{job}")));
    assert_eq!(
        world.callback(&stranger).await.kind,
        6,
        "acknowledged without an update"
    );
    let refusal = world
        .wait("bob's notice", || {
            world.discord.followups(stranger.id).into_iter().next()
        })
        .await;
    assert!(refusal.ephemeral());
    assert_eq!(
        refusal.content,
        "Only the person who made this, or a chat admin, can do that."
    );

    let owner = world.inject(Call::button(&alice, status.id, &format!("cancel:{job}")));
    world
        .wait_state(&job, "cancelled", |s| *s == JobState::Cancelled)
        .await;
    let notice = world
        .wait("alice's notice", || {
            world.discord.followups(owner.id).into_iter().next()
        })
        .await;
    assert!(notice.ephemeral() && notice.content.starts_with(&format!("Job {job} cancelled.")));
    let status = world
        .wait("the status to say so", || {
            world
                .discord
                .message(status.id)
                .filter(|m| m.content.contains("cancelled"))
        })
        .await;
    assert_eq!(status.custom_ids(), [format!("retry:{job}")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_video_is_told_to_the_asker_alone() {
    let world = World::start().await;
    let alice = world.person("alice");
    let call = world.inject(Call::slash(
        &alice,
        "video",
        Options::new().string("prompt", "@nobody dances in the rain"),
    ));

    assert_eq!(world.callback(&call).await.kind, 5, "deferred in public");
    let refusal = world
        .wait("the refusal", || {
            world.discord.followups(call.id).into_iter().next()
        })
        .await;
    assert!(refusal.ephemeral(), "only alice sees it");
    assert!(refusal.content.contains("nobody"), "{}", refusal.content);
    let original = world
        .wait("the thinking response to go", || {
            world
                .discord
                .original_response(call.id)
                .filter(|m| m.deleted.is_some())
        })
        .await;
    assert!(
        original.content.is_empty(),
        "nothing was said in public: {original:?}"
    );
    assert!(
        world.sim.requests().is_empty(),
        "nothing reached the service"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_option_discord_could_not_read_as_a_picture_is_refused() {
    let world = World::start().await;
    let alice = world.person("alice");
    let fake = world.discord.upload(
        "cat.png",
        "image/png",
        &b"<!DOCTYPE html><html><body>not a cat</body></html>"[..],
    );

    let call = world.inject(Call::slash(
        &alice,
        "video",
        Options::new()
            .string("prompt", "the cat waves")
            .attachment("image", &fake),
    ));

    let refusal = world
        .wait("the refusal", || {
            world.discord.followups(call.id).into_iter().next()
        })
        .await;
    assert!(refusal.ephemeral(), "only alice sees it");
    assert!(
        refusal.content.contains("not an image"),
        "{}",
        refusal.content
    );
    assert!(world.sim.requests().is_empty(), "the service was not asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slash_prompt_of_invisible_characters_is_refused_as_missing() {
    let world = World::start().await;
    let alice = world.person("alice");

    let call = world.inject(Call::slash(
        &alice,
        "video",
        Options::new().string("prompt", "\u{200b}\u{2060}\u{202e}"),
    ));

    let refusal = world
        .wait("the refusal", || {
            world.discord.followups(call.id).into_iter().next()
        })
        .await;
    assert!(refusal.ephemeral(), "only alice sees it");
    assert!(
        refusal.content.contains("needs a prompt"),
        "{}",
        refusal.content
    );
    assert!(world.sim.requests().is_empty(), "the service was not asked");
}

/// The channel of the fake's guild, as the engine names it.
fn channel_chat(world: &World) -> ChatRef {
    ChatRef {
        platform: "discord".to_owned(),
        chat: world.channel().to_string(),
        thread: None,
        private: false,
    }
}

/// A second connection of the adapter to the fake, for its port alone: what
/// a restarted bot would deliver through.
async fn fresh_port(world: &World) -> std::sync::Arc<dyn ChatPort> {
    sorabot_bots::discord::connect(&world.settings())
        .await
        .expect("the adapter connects to the fake")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_uploaded_again_after_a_crash_is_posted_once() {
    // A crash between the upload and the stored delivery: the restarted
    // engine delivers the same result again, through a new port.
    let world = World::start().await;
    let job = JobId::generate();
    let path = world.dir.path().join(format!("{job}-0.mp4"));
    std::fs::write(&path, SAMPLE_MP4).expect("the spooled result is written");
    let media = MediaFile {
        kind: MediaKind::Video,
        path,
        bytes: SAMPLE_MP4.len() as u64,
        mime: "video/mp4".to_owned(),
        caption: format!("a quiet harbour\n#{job}"),
        reply_to: None,
        buttons: vec![],
        job: job.clone(),
        idempotency_key: Some(format!("{job}-0")),
        width: None,
        height: None,
        duration: None,
        thumbnail: None,
        file_id: None,
        lang: sorabot::command::Lang::En,
        options: None,
    };
    let chat = channel_chat(&world);

    let first = fresh_port(&world)
        .await
        .deliver(&chat, &media)
        .await
        .expect("the first upload");
    let again = fresh_port(&world)
        .await
        .deliver(&chat, &media)
        .await
        .expect("the upload after the restart");

    assert_eq!(again.message_id, first.message_id, "the first message back");
    assert_eq!(world.deliveries(job.as_str()).len(), 1, "{}", world.dump());
    let uploads: Vec<_> = world
        .discord
        .requests()
        .into_iter()
        .filter(|r| !r.files.is_empty())
        .collect();
    assert_eq!(uploads.len(), 2, "the file was sent twice");
    for upload in &uploads {
        let body = upload.body.as_ref().expect("a payload_json");
        assert_eq!(body["nonce"], format!("sb-{job}-0"));
        assert_eq!(body["enforce_nonce"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_linked_again_after_a_crash_is_posted_once() {
    let world = World::start().await;
    let job = JobId::generate();
    let link = |limit_mb: u32| Outgoing {
        text: format!(
            "a very long river\n#{job}\nToo large for this chat ({limit_mb} MB): {}/files/x.mp4",
            world.sim.base_url()
        ),
        buttons: vec![Button {
            action: ButtonAction::Retry,
            job: job.clone(),
            label: "Retry".to_owned(),
        }],
        ..Outgoing::default()
    };
    let chat = channel_chat(&world);

    let first = fresh_port(&world)
        .await
        .send(&chat, &link(10))
        .await
        .expect("the first link");
    // After the restart the channel's limit is not known yet: the text differs.
    let again = fresh_port(&world)
        .await
        .send(&chat, &link(25))
        .await
        .expect("the link after the restart");

    assert_eq!(again, first);
    let links: Vec<_> = world
        .discord
        .messages(world.channel())
        .into_iter()
        .filter(|m| m.content.contains("/files/x.mp4"))
        .collect();
    assert_eq!(links.len(), 1, "{}", world.dump());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_video_over_the_channels_limit_goes_as_the_bots_own_link() {
    let listen = http_support::free_listen();
    let world = Setup::new()
        .sim(|sim| {
            *sim = sorabot_sim::SimConfig::for_style(sorabot_sim::Style::OpenAi);
            sim.time_scale = discord_support::FAST;
            sim.video_bytes = Some(300_000);
        })
        .limits(move |limits| limits.links = Some(http_support::own_links(listen)))
        .start()
        .await;
    let _server = http_support::Server::start_on(world.engine(), world.ports(), listen).await;
    let alice = world.person("alice");

    let options = Options::new().string("prompt", "a very long river");
    world.inject(Call::slash(&alice, "video", options).size_limit(200_000));
    let (job, _) = world.status_message("a very long river").await;
    let message = world.message_saying("valid for 72 h").await;
    world
        .wait_state(&job, "delivered", |s| *s == JobState::Delivered)
        .await;
    let link = http_support::link_in(&message.content);
    let served = reqwest::get(&link).await.expect("the link answers");

    assert!(
        link.starts_with(&format!("http://{listen}/media/{job}/0.mp4?")),
        "{link}"
    );
    assert!(
        !message.content.contains(&world.sim.base_url()),
        "not the service's /content, which needs the key: {}",
        message.content
    );
    assert!(!link.contains(world.sim.key()));
    assert_eq!(message.custom_ids(), [format!("retry:{job}")]);
    assert!(
        world.discord.requests().iter().all(|r| r.files.is_empty()),
        "nothing was uploaded"
    );
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "video/mp4");
    let video = world.sim.video_bytes();
    assert_eq!(
        served.bytes().await.expect("the bytes"),
        video,
        "the exact bytes"
    );
    let client = reqwest::Client::new();
    let part = client
        .get(&link)
        .header(reqwest::header::RANGE, "bytes=10-99")
        .send()
        .await
        .expect("the link answers");
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.expect("the bytes"), video.slice(10..100));
    let forged = link.replace("/0.mp4?", "/1.mp4?");
    let refused = client.get(&forged).send().await.expect("the link answers");
    assert_eq!(refused.status(), 403, "a signature names one file");
}
