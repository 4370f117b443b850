//! The Telegram adapter on tokio's paused clock: the fake Bot API, the
//! simulator and the bot all on loopback in one runtime, with the service
//! taking its real two minutes, which pass in virtual time. What the clock
//! drives (the planner's polls, the status edits, the delivery right after
//! the service is done) is seen as it would be in production, without
//! waiting for it.

mod telegram_support;

use std::time::Duration;

use sorabot::job::JobState;
use sorabot_sim::telegram::UserMessage;
use telegram_support::*;
use tokio::time::Instant;

/// The longest the job may take, in virtual time.
const VIRTUAL_LIMIT: Duration = Duration::from_secs(600);

#[tokio::test(start_paused = true)]
async fn a_two_minute_job_is_polled_sparingly_and_delivered_as_soon_as_it_is_done() {
    let bot = Setup::new()
        .sim(|sim| {
            sim.time_scale = 1.0;
            sim.mean_job_secs = 120.0;
            sim.job_spread = 0.0;
        })
        .limits(|limits| {
            // The engine's own timings, as in production.
            let production = sorabot::Limits::new(std::path::Path::new("."));
            limits.poll_min = production.poll_min;
            limits.poll_max = production.poll_max;
            limits.typical_generation = production.typical_generation;
            limits.job_deadline = production.job_deadline;
            limits.service_rps = production.service_rps;
        })
        .start()
        .await;
    // A learned kind: one job of it took two minutes before (a first job is
    // planned from its own pace, and polled more; see the planner's tests).
    bot.engine()
        .store()
        .record_duration("video/default/std", 120.0)
        .await
        .unwrap();
    let mut events = bot.engine().subscribe();
    let started = Instant::now();

    let command = bot.post(UserMessage::text(
        &group(),
        &alice(),
        "/video@sorabot a slow river at dawn",
    ));
    let delivered = tokio::time::timeout(VIRTUAL_LIMIT, async {
        loop {
            let event = events.recv().await.expect("the engine runs");
            if event.state == JobState::Delivered {
                return event;
            }
        }
    })
    .await
    .unwrap_or_else(|_| {
        let sim: Vec<String> = bot
            .sim
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        panic!("not delivered: {}\nsim: {sim:?}", bot.transcript())
    });
    let took = started.elapsed();

    let job = bot.delivered(delivered.job.as_str()).await;
    let video = bot.video_of(&group(), job.id.as_str()).await;
    assert_eq!(video.reply_to, Some(command.message_id));
    assert_eq!(&video.file.as_ref().expect("a file").data[..], SAMPLE_MP4);

    let polls = bot
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/v1/videos/tasks/"))
        .count();
    assert!(
        took >= Duration::from_secs(120),
        "the service took its two minutes: {took:?}"
    );
    assert!(
        took <= Duration::from_secs(126),
        "delivered within seconds of the end, not a poll interval later: {took:?}"
    );
    assert!(
        (2..=12).contains(&polls),
        "a two-minute job costs at most a dozen polls, not one a second: {polls}"
    );
    bot.assert_no_bad_requests();
}
