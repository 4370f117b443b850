//! A restart carries every unfinished job on from its stored state: polling
//! resumes, a queued job still gets its turn, a job that was delivering is
//! delivered from its spool file, and nothing arrives twice.

mod engine_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use engine_support::{FlakyUploads, Setup};
use sorabot::job::JobState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_while_polling_delivers_each_job_exactly_once() {
    // About 600 ms a job, one at a time: the restart falls in the middle.
    let mut bot = Setup::new()
        .time_scale(200.0)
        .limits(|l| l.max_in_flight = 1)
        .start()
        .await;
    bot.say("/video polled before the restart").await;
    let running = bot.new_job("polled before the restart").await;
    bot.say("/video queued before the restart").await;
    let queued = bot.new_job("queued before the restart").await;
    bot.wait_state(&running.id, "at the service", JobState::holds_slot)
        .await;
    assert_eq!(bot.job(&queued.id).await.state, JobState::Queued);

    bot.stop().await;
    assert!(
        bot.sim_requests("GET", ".mp4").is_empty(),
        "stopped before anything was ready"
    );
    bot.restart().await;
    bot.set_mark();

    for job in [&running, &queued] {
        bot.wait_state(&job.id, "delivered", |s| *s == JobState::Delivered)
            .await;
        assert_eq!(bot.deliveries(&job.id).len(), 1, "job {} once", job.id);
        let headlines: Vec<_> = bot
            .transcript
            .lines()
            .into_iter()
            .filter(|l| l.text.starts_with(&format!("🎬 {} · ", job.id)))
            .map(|l| l.id)
            .collect();
        assert!(
            headlines.iter().all(|id| *id == job.status_msg),
            "one status message per job, edited in place: {headlines:?}"
        );
    }
    // The job is stored as delivered before its status message is edited.
    for job in [&running, &queued] {
        bot.wait_for(
            &format!("the status message of {} edited after the restart", job.id),
            || {
                bot.transcript.lines()[bot.mark()..]
                    .iter()
                    .any(|l| l.id == job.status_msg && l.text.starts_with("✅ Done in "))
                    .then_some(())
            },
        )
        .await;
    }
    assert_eq!(
        bot.sim_requests("GET", ".mp4").len(),
        2,
        "one download per job"
    );
    assert_eq!(
        bot.sim_requests("POST", "/v1/videos/generations").len(),
        2,
        "no job submitted twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_a_failed_upload_delivers_once_without_downloading_again() {
    let failed = Arc::new(AtomicUsize::new(0));
    let mut bot = Setup::new()
        .port({
            let failed = failed.clone();
            move |console| Arc::new(FlakyUploads::new(console, 1, failed))
        })
        .start()
        .await;
    bot.say("/video uploaded after the restart").await;
    let job = bot.new_job("uploaded after the restart").await;
    bot.wait_for("the first upload to fail", || {
        (failed.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    let stored = bot
        .wait_job(&job.id, "the failure to be stored", |stored| {
            (stored.errors == 1).then_some(stored)
        })
        .await;
    assert_eq!(stored.state, JobState::Delivering);
    let spooled = stored.spooled[0].path.clone();
    assert!(spooled.exists(), "the result waits in the spool");

    bot.stop().await;
    bot.restart().await;

    bot.delivered(&job.id).await;
    bot.wait_state(&job.id, "delivered", |s| *s == JobState::Delivered)
        .await;
    assert_eq!(bot.deliveries(&job.id).len(), 1);
    assert_eq!(
        bot.sim_requests("GET", ".mp4").len(),
        1,
        "no second download"
    );
    bot.wait_for("the spool file to be removed once delivered", || {
        (!spooled.exists()).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_from_before_a_restart_still_work() {
    let mut bot = Setup::new().start().await;
    let (job, _) = bot.video("a button that outlives the process").await;

    bot.restart().await;
    bot.say(&format!("!retry:{}", job.id)).await;

    let again = bot.new_job("a button that outlives the process").await;
    bot.delivered(&again.id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_to_a_video_from_before_a_restart_still_remixes_it() {
    let mut bot = Setup::new().start().await;
    let (_, file) = bot.video("a bridge in fog").await;

    bot.restart().await;
    bot.say(&format!(">{} /remix lift the fog", file.msg)).await;

    let remix = bot.new_job("lift the fog").await;
    bot.delivered(&remix.id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_a_failed_download_downloads_again_and_delivers_once() {
    let mut bot = Setup::new().start().await;
    bot.sim
        .push_fault_for("/files/", sorabot_sim::Fault::Status(500));
    bot.say("/video downloaded after the restart").await;
    let job = bot.new_job("downloaded after the restart").await;
    bot.wait_job(&job.id, "the failed download to be stored", |stored| {
        (stored.state == JobState::Delivering && stored.errors == 1).then_some(())
    })
    .await;

    bot.restart().await;

    bot.delivered(&job.id).await;
    bot.wait_state(&job.id, "delivered", |s| *s == JobState::Delivered)
        .await;
    assert_eq!(bot.deliveries(&job.id).len(), 1);
    assert_eq!(
        bot.sim_requests("GET", ".mp4").len(),
        2,
        "the failed download, then one more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_message_ids_stay_unique_across_a_restart() {
    let mut bot = Setup::new().start().await;
    let (_, before) = bot.video("a video from the first run").await;
    let ids_before: Vec<String> = bot.transcript.lines().into_iter().map(|l| l.id).collect();

    bot.restart_with_new_terminal().await;
    bot.say("/help").await;
    let help = bot.expect(r"^/start — ").await;
    bot.say(&format!(">{} /remix make it night", help.id)).await;

    bot.expect(r"^Reply to a video").await;
    assert!(
        !ids_before.contains(&help.id),
        "message {} of the new run reuses an id of the first run (its video was {})",
        help.id,
        before.msg
    );
}
