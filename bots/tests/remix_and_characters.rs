//! Who may build on whose video: remixes by reply in a group, refused for
//! another member and allowed for a chat admin; characters that belong to
//! the one who saved them.

mod engine_support;

use engine_support::{group, person, Bot, Delivery, JobRef};
use sorabot::job::{JobRequest, JobState};

/// Alice's video in the group chat, delivered.
async fn alices_video(bot: &mut Bot, prompt: &str) -> (JobRef, Delivery) {
    let alice = person("alice", false);
    bot.send(&group(), &alice, &format!("/video@sorabot {prompt}"), None)
        .await;
    bot.finished_video(prompt).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_reply_to_someone_elses_video_is_refused() {
    let mut bot = Bot::start().await;
    let (_, file) = alices_video(&mut bot, "a dog surfing").await;

    let bob = person("bob", false);
    bot.send(&group(), &bob, "/remix make it night", Some(&file.msg))
        .await;

    bot.expect(r"^Only the person who made this, or a chat admin, can do that\.$")
        .await;
    assert!(bot.sim_requests("POST", "/remix").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_reply_by_a_chat_admin_is_allowed_and_the_remix_is_theirs() {
    let mut bot = Bot::start().await;
    let (_, file) = alices_video(&mut bot, "a cat on a skateboard").await;

    let carol = person("carol", true);
    bot.send(&group(), &carol, "/remix make it rain", Some(&file.msg))
        .await;
    let remix = bot.new_job("make it rain").await;
    bot.delivered(&remix.id).await;

    assert_eq!(bot.job(&remix.id).await.owner, "carol");
    assert_eq!(bot.sim_requests("POST", "/remix").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_reply_by_the_owner_in_a_group_is_allowed() {
    let mut bot = Bot::start().await;
    let (source, file) = alices_video(&mut bot, "a paper plane").await;

    let alice = person("alice", false);
    bot.send(
        &group(),
        &alice,
        "/remix@sorabot fold it twice",
        Some(&file.msg),
    )
    .await;
    let remix = bot.new_job("fold it twice").await;
    bot.delivered(&remix.id).await;

    assert!(matches!(
        bot.job(&remix.id).await.request,
        JobRequest::Remix { ref source_job, .. } if source_job.as_str() == source.id
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_with_no_reply_and_no_job_takes_the_senders_latest_video_in_this_chat() {
    let mut bot = Bot::start().await;
    let (source, _) = alices_video(&mut bot, "a lighthouse").await;

    let alice = person("alice", false);
    bot.send(&group(), &alice, "/remix@sorabot in the fog", None)
        .await;
    let remix = bot.new_job("in the fog").await;

    assert!(matches!(
        bot.job(&remix.id).await.request,
        JobRequest::Remix { ref source_job, .. } if source_job.as_str() == source.id
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_of_someone_elses_job_is_refused() {
    let mut bot = engine_support::Setup::new().time_scale(20.0).start().await;
    let alice = person("alice", false);
    bot.send(&group(), &alice, "/video a long slow river", None)
        .await;
    let job = bot.new_job("a long slow river").await;

    let bob = person("bob", false);
    bot.send(&group(), &bob, &format!("/cancel {}", job.id), None)
        .await;

    bot.expect(r"^Only the person who made this, or a chat admin, can do that\.$")
        .await;
    assert!(!bot.job(&job.id).await.state.is_finished());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_character_is_used_by_its_owner_and_refused_to_another_user() {
    let mut bot = Bot::start().await;
    let (source, file) = alices_video(&mut bot, "a woman in a red hat").await;
    let alice = person("alice", false);
    bot.send(&group(), &alice, "/character add ziggy", Some(&file.msg))
        .await;
    bot.new_job("ziggy").await;
    bot.expect(r"^✅ Character @ziggy is ready\.").await;

    let bob = person("bob", false);
    bot.send(&group(), &bob, "/video@sorabot @ziggy waves hello", None)
        .await;
    bot.expect(r"^You have no character named @ziggy\.").await;
    assert_eq!(
        bot.sim_requests("POST", "/v1/videos/generations").len(),
        1,
        "bob's video never reached the service"
    );

    bot.send(&group(), &alice, "/video@sorabot @ziggy waves hello", None)
        .await;
    let cast = bot.new_job("@ziggy waves hello").await;
    bot.delivered(&cast.id).await;
    let bodies = bot.sim_bodies("POST", "/v1/videos/generations");
    assert_eq!(
        bodies[1]["characters"][0]["from_task"],
        bot.task_of(&source.id).await.as_str()
    );
    let prompt = bodies[1]["prompt"].as_str().expect("a prompt");
    assert!(
        prompt.starts_with("@cameo_"),
        "the service's name: {prompt}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn character_names_are_each_users_own() {
    let mut bot = Bot::start().await;
    let (_, alice_file) = alices_video(&mut bot, "a juggler").await;
    let alice = person("alice", false);
    bot.send(
        &group(),
        &alice,
        "/character add max",
        Some(&alice_file.msg),
    )
    .await;
    bot.expect(r"^✅ Character @max is ready\.").await;

    bot.send(
        &group(),
        &alice,
        "/character add max",
        Some(&alice_file.msg),
    )
    .await;
    bot.expect(r"^You already have a character named @max\.")
        .await;

    let bob = person("bob", false);
    bot.send(&group(), &bob, "/video@sorabot a drummer", None)
        .await;
    let (_, bob_file) = bot.finished_video("a drummer").await;
    bot.send(&group(), &bob, "/character add max", Some(&bob_file.msg))
        .await;
    bot.expect(r"^✅ Character @max is ready\.").await;

    bot.send(&group(), &bob, "/character list", None).await;
    bot.expect(r"^@max · 0–3 s$").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_as_character_button_on_someone_elses_video_is_refused() {
    let mut bot = Bot::start().await;
    let (job, _) = alices_video(&mut bot, "a violinist").await;

    let press = sorabot::engine::Press {
        chat: group(),
        user: person("bob", false),
        message_id: "press-1".to_owned(),
        data: format!("character:{}", job.id),
    };
    let answer = bot.engine().press(&press).await;

    assert_eq!(
        answer,
        sorabot::engine::PressAnswer::Notice(
            "Only the person who made this, or a chat admin, can do that.".to_owned()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn character_add_as_a_reply_to_someone_elses_video_is_refused() {
    let mut bot = Bot::start().await;
    let (_, file) = alices_video(&mut bot, "a street dancer").await;

    let bob = person("bob", false);
    bot.send(&group(), &bob, "/character add dancer", Some(&file.msg))
        .await;

    bot.expect(r"^Only the person who made this, or a chat admin, can do that\.$")
        .await;
    assert!(bot.sim_requests("POST", "/v1/characters").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_character_still_saving_cannot_be_cast_yet() {
    // Characters take 36 simulated seconds: about 360 ms here.
    let mut bot = engine_support::Setup::new().time_scale(100.0).start().await;
    let (_, file) = bot.video("a sailor").await;

    bot.say(&format!(">{} /character add popeye", file.msg))
        .await;
    let saving = bot.new_job("popeye").await;
    bot.say("/video @popeye eats spinach").await;

    bot.expect(r"^Saving character @popeye…$").await;
    bot.wait_state(&saving.id, "delivered", |s| *s == JobState::Delivered)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_only_messages_for_this_bot_are_answered() {
    let mut bot = Bot::start().await;
    let alice = person("alice", false);

    for chatter in [
        "a cat on a piano",
        "/video@otherbot a cat",
        "/frobnicate",
        "/weather@otherbot",
    ] {
        bot.send(&group(), &alice, chatter, None).await;
    }
    assert!(
        bot.transcript.lines().is_empty(),
        "{}",
        bot.transcript.text()
    );

    bot.send(&group(), &alice, "@sorabot a cat on a piano", None)
        .await;
    let by_mention = bot.new_job("a cat on a piano").await;
    bot.send(&group(), &alice, "/frobnicate@sorabot", None)
        .await;
    bot.expect(r"^⚠ there is no command /frobnicate\.").await;
    bot.send(&group(), &alice, "/video@sorabot a dog on a drum", None)
        .await;
    let by_command = bot.new_job("a dog on a drum").await;

    bot.delivered(&by_mention.id).await;
    bot.delivered(&by_command.id).await;
}
