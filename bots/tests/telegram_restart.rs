//! Telegram end to end: the bot stopped mid-job (adapter and engine, as
//! Ctrl-C would) and started again on the same data directory delivers the
//! video once, in the topic it was asked in, replying to the command; and
//! the command itself is not taken again.

mod telegram_support;

use std::time::Duration;

use sorabot::job::JobState;
use sorabot_sim::telegram::UserMessage;
use telegram_support::*;

#[tokio::test]
async fn a_restart_mid_job_delivers_the_video_once_in_the_right_thread_and_reply() {
    let mut bot = Setup::new().sim(|sim| sim.time_scale = 40.0).start().await;
    let topic = bot.telegram.create_topic(&group(), &alice(), "Videos");
    let command = bot.post(
        UserMessage::text(
            &group(),
            &alice(),
            "/video@sorabot a train crossing a bridge",
        )
        .in_topic(topic),
    );
    let (status, job) = bot.status_of(&group(), command.message_id).await;
    bot.wait_job(&job, "the job to reach the service", |stored| {
        matches!(stored.state, JobState::Submitted | JobState::Running { .. }).then_some(())
    })
    .await;

    bot.stop().await;
    assert_eq!(bot.videos_sent(), 0, "stopped before the video was ready");
    tokio::time::sleep(Duration::from_millis(300)).await;
    bot.restart().await;
    // Once the status says done, the job has nothing left to send.
    let video = bot.video_of(&group(), &job).await;

    assert_eq!(
        bot.videos_sent(),
        1,
        "delivered exactly once:\n{}",
        bot.transcript()
    );
    assert_eq!(video.thread, Some(topic));
    assert_eq!(video.reply_to, Some(command.message_id));
    let statuses = bot
        .telegram
        .bot_messages(group().id)
        .into_iter()
        .filter(|m| {
            m.reply_to == Some(command.message_id) && m.method.as_deref() == Some("sendMessage")
        })
        .count();
    assert_eq!(
        statuses,
        1,
        "the command was not handled again:\n{}",
        bot.transcript()
    );
    let status = bot
        .telegram
        .message(group().id, status.message_id)
        .expect("kept");
    assert_eq!(status.thread, Some(topic));
    assert_eq!(bot.job(&job).await.state, JobState::Delivered);
}
