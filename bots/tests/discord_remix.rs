//! Building on a delivered video on Discord: Remix by its button or by the
//! message context menu, each through a modal; a button pressed by someone
//! who may not is refused to them alone; characters saved from a video,
//! cast with `@name`, listed and removed; and `!remix` replies when the
//! message-content intent is on.

mod discord_support;

use discord_support::{Setup, World};
use sorabot::backend::CharacterSource;
use sorabot::job::{JobRequest, JobState};
use sorabot_sim::discord::{Call, Options, EPHEMERAL};

/// The custom id of a modal a callback opened, and its title.
fn modal_of(world: &World, callback: &sorabot_sim::discord::CallbackRecord) -> (String, String) {
    assert_eq!(
        callback.kind,
        9,
        "a modal opened: {:?}\n{}",
        callback.data,
        world.dump()
    );
    let id = callback.data["custom_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let title = callback.data["title"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (id, title)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_by_button_opens_a_modal_and_makes_a_remix_of_that_video() {
    let world = World::start().await;
    let alice = world.person("alice");
    let (source, video) = world.video_by(&alice, "a paper plane").await;

    let press = world.inject(Call::button(&alice, video.id, &format!("remix:{source}")));
    let (modal, title) = modal_of(&world, &world.callback(&press).await);
    assert_eq!(modal, format!("modal:remix:{source}"));
    assert!(title.contains(&source) && title.chars().count() <= 45);

    let submit = world
        .inject(Call::modal(&alice, &modal, &[("prompt", "fold it twice")]).from_message(video.id));
    assert_eq!(world.callback(&submit).await.kind, 5);
    let (remix, _) = world.status_message("fold it twice").await;
    world.delivery(&remix).await;

    assert!(matches!(
        world.job(&remix).await.request,
        JobRequest::Remix { ref source_job, .. } if source_job.as_str() == source
    ));
    assert_eq!(world.sim_bodies("POST", "/remix").len(), 1);
    assert_eq!(
        world.discord.message(video.id).map(|m| m.attachments.len()),
        Some(1),
        "the video keeps its file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slash_remix_with_only_a_prompt_remixes_the_users_latest_video() {
    let world = World::start().await;
    let alice = world.person("alice");
    world.video_by(&alice, "an old tram").await;
    let (latest, _) = world.video_by(&alice, "a red tram").await;

    world.inject(Call::slash(
        &alice,
        "remix",
        Options::new().string("prompt", "in the snow"),
    ));
    let (remix, _) = world.status_message("in the snow").await;

    assert!(
        matches!(world.job(&remix).await.request, JobRequest::Remix { ref source_job, .. } if source_job.as_str() == latest),
        "{:?}",
        world.job(&remix).await.request
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_from_the_message_context_menu_finds_the_videos_job() {
    let world = World::start().await;
    let alice = world.person("alice");
    let (source, video) = world.video_by(&alice, "a cat on a skateboard").await;

    let menu = world.inject(Call::message_command(&alice, "Remix", video.id));
    let (modal, _) = modal_of(&world, &world.callback(&menu).await);
    assert_eq!(modal, format!("modal:remix:{source}"));
    world.inject(Call::modal(&alice, &modal, &[("prompt", "make it rain")]));
    let (remix, _) = world.status_message("make it rain").await;
    world.delivery(&remix).await;

    assert!(
        matches!(world.job(&remix).await.request, JobRequest::Remix { ref source_job, .. } if source_job.as_str() == source)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_remix_button_is_refused_to_them_alone() {
    let world = World::start().await;
    let alice = world.person("alice");
    let bob = world.person("bob");
    let (source, video) = world.video_by(&alice, "a dog surfing").await;

    let press = world.inject(Call::button(&bob, video.id, &format!("remix:{source}")));
    let answer = world.callback(&press).await;

    assert_eq!(answer.kind, 4, "a message, not a modal");
    assert_eq!(
        answer.data["flags"].as_u64().map(|f| f & EPHEMERAL),
        Some(EPHEMERAL)
    );
    assert_eq!(
        answer.data["content"],
        "Only the person who made this, or a chat admin, can do that."
    );
    assert!(world.sim_bodies("POST", "/remix").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_may_remix_someone_elses_video() {
    let world = World::start().await;
    let alice = world.person("alice");
    let carol = world.person("carol").moderator();
    let (source, video) = world.video_by(&alice, "a kite").await;

    let press = world.inject(Call::button(&carol, video.id, &format!("remix:{source}")));

    let (modal, _) = modal_of(&world, &world.callback(&press).await);
    assert_eq!(modal, format!("modal:remix:{source}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_character_is_saved_from_a_video_someone_posted_by_its_cdn_url() {
    let world = World::start().await;
    let alice = world.person("alice");
    let clip = world
        .discord
        .upload("me.mp4", "video/mp4", discord_support::SAMPLE_MP4);
    let posted = world
        .discord
        .post_files(&alice, world.channel(), "my clip", vec![clip.clone()]);

    let menu = world.inject(Call::message_command(&alice, "Save as character", posted));
    let (modal, title) = modal_of(&world, &world.callback(&menu).await);
    assert_eq!(modal, format!("modal:posted:{posted}"));
    assert_eq!(title, "Save a character");
    world.inject(Call::modal(
        &alice,
        &modal,
        &[("name", "me"), ("at", "1,3")],
    ));
    let (saving, _) = world.status_message("me").await;
    world.message_saying("Character @me is ready").await;

    let JobRequest::Character {
        source, timestamps, ..
    } = world.job(&saving).await.request
    else {
        panic!("a character job");
    };
    assert_eq!(source, CharacterSource::Url(clip.url.clone()));
    assert_eq!((timestamps.start, timestamps.end), (1.0, 3.0));
    let bodies = world.sim_bodies("POST", "/v1/characters");
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["url"], clip.url.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_menus_on_a_message_they_cannot_use_are_refused_privately() {
    let world = World::start().await;
    let alice = world.person("alice");
    let posted = world
        .discord
        .post(&alice, world.channel(), "just words", None);

    for (menu, answer) in [
        ("Save as character", "Use this on a message with a video"),
        ("Remix", "Remix works on the videos I made"),
    ] {
        let call = world.inject(Call::message_command(&alice, menu, posted));
        let callback = world.callback(&call).await;
        assert_eq!(callback.kind, 4, "{menu}: answered, no modal");
        assert_eq!(callback.data["flags"], EPHEMERAL);
        let text = callback.data["content"].as_str().unwrap_or_default();
        assert!(text.starts_with(answer), "{menu}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_character_is_saved_from_the_context_menu_cast_listed_and_removed() {
    let world = World::start().await;
    let alice = world.person("alice");
    let (source, video) = world.video_by(&alice, "a man in a red coat").await;

    let menu = world.inject(Call::message_command(&alice, "Save as character", video.id));
    let (modal, _) = modal_of(&world, &world.callback(&menu).await);
    assert_eq!(modal, format!("modal:character:{source}"));
    world.inject(Call::modal(
        &alice,
        &modal,
        &[("name", "bob"), ("at", "0,2")],
    ));
    let (saving, _) = world.status_message("bob").await;
    world.message_saying("Character @bob is ready").await;
    world
        .wait_state(&saving, "done", |s| *s == JobState::Delivered)
        .await;

    world.inject(Call::slash(
        &alice,
        "video",
        Options::new().string("prompt", "@bob dances in the rain"),
    ));
    let (cast, _) = world.status_message("dances in the rain").await;
    let JobRequest::Video {
        characters, prompt, ..
    } = world.job(&cast).await.request
    else {
        panic!("a video job");
    };
    assert_eq!(characters.len(), 1);
    assert_eq!(
        prompt, "@bob dances in the rain",
        "kept as the user wrote it"
    );

    let list = world.inject(Call::subcommand(
        &alice,
        "character",
        "list",
        Options::new(),
    ));
    let listed = world.answer(&list).await;
    assert!(
        listed.ephemeral() && listed.content.contains("@bob · 0–2 s"),
        "{}",
        listed.content
    );

    let remove = world.inject(Call::subcommand(
        &alice,
        "character",
        "remove",
        Options::new().string("name", "bob"),
    ));
    assert_eq!(
        world.answer(&remove).await.content,
        "Character @bob removed."
    );
    let again = world.inject(Call::subcommand(
        &alice,
        "character",
        "list",
        Options::new(),
    ));
    assert!(world
        .answer(&again)
        .await
        .content
        .starts_with("You have no characters yet."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_character_is_saved_with_the_slash_command_from_a_job_id() {
    let world = World::start().await;
    let alice = world.person("alice");
    let (source, _) = world.video_by(&alice, "a woman with a green hat").await;

    let options = Options::new()
        .string("name", "ann")
        .string("video", &source);
    world.inject(Call::subcommand(&alice, "character", "add", options));

    world.message_saying("Character @ann is ready").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bang_remix_reply_to_the_video_remixes_it_when_message_content_is_on() {
    let world = Setup::new().message_content().start().await;
    let alice = world.person("alice");
    let (source, video) = world.video_by(&alice, "a sailing boat").await;

    world
        .discord
        .post(&alice, world.channel(), "!remix in a storm", Some(video.id));
    let (remix, _) = world.status_message("in a storm").await;

    assert!(
        matches!(world.job(&remix).await.request, JobRequest::Remix { ref source_job, .. } if source_job.as_str() == source)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bang_remix_of_someone_elses_video_is_for_moderators_only() {
    let world = Setup::new().message_content().start().await;
    let alice = world.person("alice");
    let bob = world.person("bob");
    let carol = world.person("carol").moderator();
    let (source, video) = world.video_by(&alice, "a paper boat").await;

    world
        .discord
        .post(&bob, world.channel(), "!remix bob's boat", Some(video.id));
    world
        .message_saying("Only the person who made this, or a chat admin")
        .await;

    world.discord.post(
        &carol,
        world.channel(),
        "!remix a moderated boat",
        Some(video.id),
    );
    let (remix, _) = world.status_message("a moderated boat").await;
    let job = world.job(&remix).await;
    assert!(
        matches!(job.request, JobRequest::Remix { ref source_job, .. } if source_job.as_str() == source)
    );
    assert_eq!(job.owner, carol.id.to_string(), "the remix is carol's");
}

/// Alice's video as it appears in the channel, before the bot has heard that
/// its upload went through (the fake holds the upload's answer back).
async fn a_video_just_posted(
    world: &World,
    alice: &sorabot_sim::discord::Person,
    prompt: &str,
    hold_ms: u64,
) -> (String, u64) {
    world
        .discord
        .hold_next_upload(std::time::Duration::from_millis(hold_ms));
    world.inject(Call::slash(
        alice,
        "video",
        Options::new().string("prompt", prompt),
    ));
    let (job, _) = world.status_message(prompt).await;
    let video = world.delivery(&job).await;
    (job, video.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bang_remix_reply_the_instant_the_video_appears_is_carried_out() {
    let world = Setup::new().message_content().start().await;
    let alice = world.person("alice");
    let (source, video) = a_video_just_posted(&world, &alice, "a lantern at dusk", 1500).await;

    world
        .discord
        .post(&alice, world.channel(), "!remix at dawn", Some(video));
    let (remix, _) = world.status_message("at dawn").await;
    world.delivery(&remix).await;

    assert!(
        matches!(world.job(&remix).await.request, JobRequest::Remix { ref source_job, .. } if source_job.as_str() == source)
    );
    assert_eq!(world.sim_bodies("POST", "/remix").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remix_menu_the_instant_the_video_appears_opens_its_modal() {
    let world = World::start().await;
    let alice = world.person("alice");
    let (source, video) = a_video_just_posted(&world, &alice, "a kite in the wind", 1000).await;

    let menu = world.inject(Call::message_command(&alice, "Remix", video));
    let (modal, _) = modal_of(&world, &world.callback(&menu).await);

    assert_eq!(modal, format!("modal:remix:{source}"));
}
