//! Delivery limits: a video over the chat's upload limit goes as a link, a
//! result over the bot's size cap fails clearly, and the downloaded file is
//! the service's own bytes whatever its size.

mod engine_support;

use engine_support::Setup;
use sorabot::job::{Failure, JobState};

const MIB: usize = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_over_the_upload_limit_arrives_as_a_link() {
    let mut bot = Setup::new()
        .sim(|sim| sim.video_bytes = Some(3 * MIB))
        .upload_limit(2 * MIB as u64)
        .start()
        .await;

    bot.say("/video a very large ocean").await;
    let job = bot.new_job("a very large ocean").await;

    let task = bot
        .wait_job(&job.id, "the job to reach the service", |job| job.task)
        .await
        .0;
    let link = bot
        .wait_line(
            0,
            r"^The video is 3\.0 MB, over this chat's 2 MB upload limit\. Download it here: ",
        )
        .await;
    assert!(
        link.text
            .ends_with(&format!("{}/files/{task}.mp4", bot.sim.base_url())),
        "{}",
        link.text
    );
    bot.wait_state(&job.id, "delivered", |s| *s == JobState::Delivered)
        .await;
    assert!(
        bot.deliveries(&job.id).is_empty(),
        "no upload was attempted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_over_the_size_cap_fails_clearly_and_costs_no_quota() {
    let mut bot = Setup::new()
        .sim(|sim| sim.video_bytes = Some(3 * MIB))
        .limits(|l| l.max_result_bytes = 2 * MIB as u64)
        .start()
        .await;

    bot.say("/video an enormous mountain").await;
    let job = bot.new_job("an enormous mountain").await;

    bot.expect_in(
        &job.status_msg,
        r"^❌ Failed: the result is too large \(3 MB\)\. Your quota was not used\.$",
    )
    .await;
    assert_eq!(
        bot.job(&job.id).await.state,
        JobState::Failed(Failure::TooLarge {
            bytes: 3 * MIB as u64
        })
    );
    bot.say("/quota").await;
    bot.expect(r"^Today you have used 0 of 20 credits").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_video_is_saved_byte_for_byte() {
    let mut bot = Setup::new()
        .sim(|sim| sim.video_bytes = Some(8 * MIB))
        .start()
        .await;

    let (_, file) = bot.video("a long panning shot").await;

    let saved = std::fs::read(&file.path).expect("the saved video");
    assert_eq!(saved.len(), 8 * MIB);
    assert_eq!(
        &saved[..engine_support::SAMPLE_MP4.len()],
        engine_support::SAMPLE_MP4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_past_its_deadline_fails_with_a_clear_message() {
    let mut bot = Setup::new()
        .time_scale(10.0)
        .limits(|l| l.job_deadline = std::time::Duration::from_millis(300))
        .start()
        .await;

    bot.say("/video a glacier that never finishes").await;
    let job = bot.new_job("a glacier that never finishes").await;

    bot.expect_in(
        &job.status_msg,
        r"^❌ Failed: the service did not finish within ",
    )
    .await;
    assert!(matches!(
        bot.job(&job.id).await.state,
        JobState::Failed(Failure::Timeout { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_service_is_waited_for_and_the_video_still_arrives() {
    let mut bot = Setup::new().start().await;
    bot.sim.push_fault(sorabot_sim::Fault::RateLimited {
        retry_after_secs: 1,
    });

    let started = std::time::Instant::now();
    let (job, _) = bot.video("a patient heron").await;

    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After obeyed"
    );
    assert_eq!(bot.sim_requests("POST", "/v1/videos/generations").len(), 2);
    assert_eq!(bot.deliveries(&job.id).len(), 1);
}
