//! Telegram end to end: building on delivered videos. Remix by replying to
//! the bot's video or by its button (a `ForceReply` question, answered by a
//! reply), refusals for someone else's video, and the character library
//! (add by reply, use as `@name`, list, remove).

mod telegram_support;

use sorabot::job::JobRequest;
use sorabot_sim::telegram::{ChatMessage, Fault, UserMessage};
use telegram_support::*;

/// Alice makes a video in the group; returns the video message and its job.
async fn alices_video(bot: &Bot, prompt: &str) -> (ChatMessage, String) {
    let command = bot.say(&group(), &alice(), &format!("/video@sorabot {prompt}"));
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    (bot.video_of(&group(), &job).await, job)
}

fn remix_source(request: &JobRequest) -> String {
    match request {
        JobRequest::Remix { source_job, .. } => source_job.to_string(),
        other => panic!("expected a remix, got {other:?}"),
    }
}

#[tokio::test]
async fn a_remix_command_replying_to_the_bots_video_remixes_it() {
    let bot = Bot::start().await;
    let (video, source) = alices_video(&bot, "a cat on a piano").await;

    let remix = bot.post(
        UserMessage::text(&group(), &alice(), "/remix make it snow").reply_to(video.message_id),
    );
    let (_, job) = bot.status_of(&group(), remix.message_id).await;
    let remixed = bot.video_of(&group(), &job).await;

    assert_eq!(remix_source(&bot.job(&job).await.request), source);
    assert_eq!(remixed.reply_to, Some(remix.message_id));
}

#[tokio::test]
async fn a_remix_with_no_reply_and_no_job_remixes_the_senders_latest_video_here() {
    let bot = Bot::start().await;
    let (_, older) = alices_video(&bot, "a kite at noon").await;
    let (_, latest) = alices_video(&bot, "a kite at dusk").await;
    assert_ne!(older, latest);

    let remix = bot.say(&group(), &alice(), "/remix@sorabot add fireworks");
    let (_, job) = bot.status_of(&group(), remix.message_id).await;

    assert_eq!(remix_source(&bot.job(&job).await.request), latest);
}

#[tokio::test]
async fn a_remix_with_no_video_of_ones_own_here_asks_for_a_reply() {
    let bot = Bot::start().await;
    alices_video(&bot, "a sailboat").await;

    let remix = bot.say(&group(), &bob(), "/remix@sorabot make it stormy");
    let answer = bot
        .bot_message(&group(), "the answer to bob", |m| {
            m.reply_to == Some(remix.message_id)
        })
        .await;

    assert!(
        answer.content().starts_with("Reply to a video"),
        "{}",
        answer.content()
    );
}

#[tokio::test]
async fn the_remix_button_asks_with_force_reply_and_the_answer_starts_the_remix() {
    let bot = Bot::start().await;
    let (video, source) = alices_video(&bot, "a dog surfing").await;

    let answer = bot.press(&group(), &alice(), &video, "Remix").await;
    assert_eq!(answer.text, None, "no alert for the owner");
    let question = bot
        .bot_message(&group(), "the remix question", |m| m.asks_reply())
        .await;
    assert_eq!(question.reply_to, Some(video.message_id));
    assert_eq!(
        question
            .param("reply_markup")
            .and_then(|m| m.get("selective")),
        Some(&serde_json::json!(true))
    );
    assert!(
        question.content().starts_with("Alice, "),
        "{}",
        question.content()
    );
    let mention = &question.param("entities").expect("a mention")[0];
    assert_eq!(mention["type"], "text_mention");
    assert_eq!(mention["user"]["id"], alice().id);

    let reply = bot.post(
        UserMessage::text(&group(), &alice(), "make it sunset").reply_to(question.message_id),
    );
    let (_, job) = bot.status_of(&group(), reply.message_id).await;
    bot.video_of(&group(), &job).await;

    assert_eq!(remix_source(&bot.job(&job).await.request), source);
    assert!(bot
        .job(&job)
        .await
        .request
        .prompt()
        .contains("make it sunset"));
    bot.assert_no_bad_requests();
}

#[tokio::test]
async fn a_remix_of_someone_elses_video_is_refused_with_an_alert_and_a_message() {
    let bot = Bot::start().await;
    let (video, _) = alices_video(&bot, "a kite in the wind").await;

    let alert = bot.press(&group(), &bob(), &video, "Remix").await;
    assert!(alert.show_alert);
    assert!(alert
        .text
        .as_deref()
        .unwrap_or_default()
        .contains("Only the person who made this"));

    let command = bot.post(
        UserMessage::text(&group(), &bob(), "/remix make it mine").reply_to(video.message_id),
    );
    bot.answer(
        &group(),
        command.message_id,
        "Only the person who made this",
    )
    .await;
    assert!(
        !bot.telegram
            .bot_messages(group().id)
            .iter()
            .any(|m| m.asks_reply()),
        "no question was asked"
    );
}

#[tokio::test]
async fn a_group_admin_may_remix_anyones_video() {
    let bot = Bot::start().await;
    bot.telegram.set_admins(&group(), &[&bob()]);
    let (video, source) = alices_video(&bot, "a bird on a wire").await;

    let command = bot
        .post(UserMessage::text(&group(), &bob(), "/remix two birds").reply_to(video.message_id));
    let (_, job) = bot.status_of(&group(), command.message_id).await;

    assert_eq!(remix_source(&bot.job(&job).await.request), source);
}

#[tokio::test]
async fn an_anonymous_admin_speaks_for_the_group_and_may_remix_anyones_video() {
    let bot = Bot::start().await;
    let (video, source) = alices_video(&bot, "a lamp at dusk").await;

    // Bob, posting as the group: Telegram shows the group, not Bob.
    let command = bot.post(
        UserMessage::text(&group(), &bob(), "/remix make it dawn")
            .reply_to(video.message_id)
            .anonymous(),
    );
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    bot.video_of(&group(), &job).await;

    let remix = bot.job(&job).await;
    assert_eq!(remix_source(&remix.request), source);
    assert_eq!(remix.owner, group().id.to_string(), "owned by the group");
    assert_eq!(remix.owner_name, "Sora fans");
}

#[tokio::test]
async fn a_character_is_added_by_reply_used_listed_and_removed() {
    let bot = Bot::start().await;
    let (video, _) = alices_video(&bot, "a wizard waving").await;

    let add = bot.post(
        UserMessage::text(&group(), &alice(), "/character add merlin").reply_to(video.message_id),
    );
    let (status, job) = bot.status_of(&group(), add.message_id).await;
    assert!(matches!(
        bot.job(&job).await.request,
        JobRequest::Character { .. }
    ));
    bot.wait_for("the character to be ready", || {
        let status = bot.telegram.message(group().id, status.message_id)?;
        status.content().contains("is ready").then_some(())
    })
    .await;

    let list = bot.say(&group(), &alice(), "/character list");
    bot.answer(&group(), list.message_id, "@merlin").await;

    let cast = bot.say(&group(), &alice(), "/video@sorabot @merlin casts a spell");
    let (_, job) = bot.status_of(&group(), cast.message_id).await;
    bot.video_of(&group(), &job).await;
    match &bot.job(&job).await.request {
        JobRequest::Video { characters, .. } => assert_eq!(characters.len(), 1),
        other => panic!("expected a video, got {other:?}"),
    }

    let remove = bot.say(&group(), &alice(), "/character remove merlin");
    bot.answer(&group(), remove.message_id, "@merlin").await;
    let list = bot.say(&group(), &alice(), "/character list");
    bot.answer(&group(), list.message_id, "no characters").await;
}

#[tokio::test]
async fn a_character_from_a_users_own_video_is_refused_clearly() {
    let bot = Bot::start().await;
    let clip = bot.post(UserMessage::video(&group(), &bob(), SAMPLE_MP4));

    let add = bot.post(
        UserMessage::text(&group(), &bob(), "/character add bobby").reply_to(clip.message_id),
    );

    bot.answer(&group(), add.message_id, "public link").await;
    assert!(
        bot.telegram.calls_of("getFile").is_empty(),
        "the video was not downloaded"
    );
}

#[tokio::test]
async fn a_remix_reply_the_instant_the_video_appears_is_carried_out() {
    let bot = Bot::start().await;
    // People see the video before the bot hears that its upload went through.
    bot.telegram.fail_next(
        "sendVideo",
        Fault::Hold(std::time::Duration::from_millis(1500)),
    );
    let command = bot.say(&group(), &alice(), "/video@sorabot a kite over the sea");
    let (_, source) = bot.status_of(&group(), command.message_id).await;
    let tag = format!("#{source}");
    let video = bot
        .bot_message(&group(), "the video, as it appears", |m| {
            m.method.as_deref() == Some("sendVideo") && m.content().contains(&tag)
        })
        .await;

    let remix = bot.post(
        UserMessage::text(&group(), &alice(), "/remix make it night").reply_to(video.message_id),
    );
    let (_, job) = bot.status_of(&group(), remix.message_id).await;
    bot.video_of(&group(), &job).await;

    assert_eq!(remix_source(&bot.job(&job).await.request), source);
    let remixes = bot
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.contains("/remix"))
        .count();
    assert_eq!(remixes, 1, "the remix reached the service once");
}
