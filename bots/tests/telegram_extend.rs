//! Telegram end to end: `/extend` as a reply to the bot's video and by its
//! Extend button (a `ForceReply` question, answered by a reply), with the
//! `openai` dialect of the simulator; and the clear refusal where the
//! service cannot extend videos.

mod telegram_support;

use sorabot::job::JobRequest;
use sorabot_sim::telegram::{ChatMessage, UserMessage};
use telegram_support::*;

async fn openai_bot() -> Bot {
    Setup::new()
        .sim(|sim| {
            *sim = sorabot_sim::SimConfig::for_style(sorabot_sim::Style::OpenAi);
            sim.time_scale = FAST;
        })
        .start()
        .await
}

/// Alice makes a video in the group; returns the video message and its job.
async fn alices_video(bot: &Bot, prompt: &str) -> (ChatMessage, String) {
    let command = bot.say(&group(), &alice(), &format!("/video@sorabot {prompt}"));
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    (bot.video_of(&group(), &job).await, job)
}

/// The source job and added seconds of an extension.
fn extension_of(request: &JobRequest) -> (String, u32) {
    match request {
        JobRequest::Extend {
            source_job,
            seconds,
            ..
        } => (source_job.to_string(), *seconds),
        other => panic!("expected an extension, got {other:?}"),
    }
}

#[tokio::test]
async fn an_extend_command_replying_to_the_bots_video_makes_it_longer() {
    let bot = openai_bot().await;
    let (video, source) = alices_video(&bot, "a cat on a piano").await;

    let extend = bot.post(
        UserMessage::text(&group(), &alice(), "/extend 8 the cat takes a bow")
            .reply_to(video.message_id),
    );
    let (_, job) = bot.status_of(&group(), extend.message_id).await;
    let extended = bot.video_of(&group(), &job).await;

    assert_eq!(extension_of(&bot.job(&job).await.request), (source, 8));
    assert_eq!(extended.reply_to, Some(extend.message_id));
    bot.assert_no_bad_requests();
}

#[tokio::test]
async fn the_extend_button_asks_with_force_reply_and_the_answer_extends_the_video() {
    let bot = openai_bot().await;
    let (video, source) = alices_video(&bot, "a dog surfing").await;

    let answer = bot.press(&group(), &alice(), &video, "Extend").await;
    assert_eq!(answer.text, None, "no alert for the owner");
    let question = bot
        .bot_message(&group(), "the extend question", |m| m.asks_reply())
        .await;
    assert_eq!(question.reply_to, Some(video.message_id));
    let reply = bot.post(
        UserMessage::text(&group(), &alice(), "12 the wave breaks").reply_to(question.message_id),
    );
    let (_, job) = bot.status_of(&group(), reply.message_id).await;
    bot.video_of(&group(), &job).await;

    let request = bot.job(&job).await.request;
    assert_eq!(extension_of(&request), (source, 12));
    assert_eq!(request.prompt(), "the wave breaks");
}

#[tokio::test]
async fn an_extend_where_the_service_cannot_is_refused_before_any_request() {
    let bot = Bot::start().await;
    let (video, _) = alices_video(&bot, "a sailboat").await;
    assert!(
        video
            .buttons()
            .iter()
            .all(|(label, _)| !label.contains("Extend")),
        "no Extend button: {:?}",
        video.buttons()
    );

    let extend = bot.post(
        UserMessage::text(&group(), &alice(), "/extend it sails on").reply_to(video.message_id),
    );

    bot.answer(
        &group(),
        extend.message_id,
        "does not offer making a finished video longer",
    )
    .await;
    assert!(bot
        .sim
        .requests()
        .iter()
        .all(|r| !r.path.contains("extensions")));
}
