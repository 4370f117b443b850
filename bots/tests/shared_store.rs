//! Several instances on one PostgreSQL store, in one process: one queue
//! and one in-flight cap over all of them, jobs handed over when an
//! instance stops, and a command on one instance about a job another holds.

mod engine_support;

use std::time::Duration;

use engine_support::{postgres_store, Bot, Setup};
use sorabot::job::JobState;

/// Simulated seconds per real second: a 120 s job takes 2.4 s, long enough
/// to act while it runs.
const SLOW: f64 = 50.0;

async fn first_instance(scale: f64, tweak: impl FnOnce(&mut sorabot::Limits) + 'static) -> Bot {
    Setup::new()
        .time_scale(scale)
        // Every job takes the mean: 120 simulated seconds.
        .sim(|sim| sim.job_spread = 0.0)
        .shared_store(postgres_store().await, "alpha")
        .limits(tweak)
        .start()
        .await
}

async fn second_instance(beside: &Bot, tweak: impl FnOnce(&mut sorabot::Limits) + 'static) -> Bot {
    Setup::beside(beside, "beta").limits(tweak).start().await
}

fn short_lease(limits: &mut sorabot::Limits) {
    limits.lease = Duration::from_millis(1500);
    limits.max_active_per_user = 10;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_keep_one_queue_and_one_in_flight_cap() {
    let cap_of_one = |limits: &mut sorabot::Limits| {
        short_lease(limits);
        limits.max_in_flight = 1;
    };
    let mut alpha = first_instance(SLOW, cap_of_one).await;
    let mut beta = second_instance(&alpha, cap_of_one).await;

    alpha.say("/video the first in line").await;
    let first = alpha.new_job("the first in line").await;
    alpha
        .wait_state(&first.id, "at the service", |s| {
            matches!(s, JobState::Submitted | JobState::Running { .. })
        })
        .await;
    beta.say("/video the second in line").await;
    let second = beta.new_job("the second in line").await;
    beta.expect_in(&second.status_msg, r"Queued · position 1")
        .await;
    alpha.say("/video the third in line").await;
    let third = alpha.new_job("the third in line").await;
    alpha
        .expect_in(&third.status_msg, r"Queued · position 2")
        .await;

    alpha.delivered(&first.id).await;
    beta.delivered(&second.id).await;
    alpha.delivered(&third.id).await;
    let jobs = [
        alpha.job(&first.id).await,
        alpha.job(&second.id).await,
        alpha.job(&third.id).await,
    ];
    for pair in jobs.windows(2) {
        let done = pair[0].done_seen_ms.expect("seen done");
        let next = pair[1].submitted_ms.expect("submitted");
        assert!(
            next >= done,
            "job {} was submitted at {next} while job {} held the one place until {done}",
            pair[1].id,
            pair[0].id
        );
    }
    assert_eq!(
        alpha.sim_requests("POST", "/v1/videos/generations").len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_instances_job_is_carried_on_and_delivered_once_by_the_other() {
    let mut alpha = first_instance(SLOW, short_lease).await;
    let beta = second_instance(&alpha, short_lease).await;

    alpha.say("/video a lighthouse in a storm").await;
    let job = alpha.new_job("a lighthouse in a storm").await;
    alpha
        .wait_state(&job.id, "at the service", |s| {
            matches!(s, JobState::Submitted | JobState::Running { .. })
        })
        .await;
    alpha.stop().await;

    beta.delivered(&job.id).await;
    beta.wait_told(&job.id).await;
    assert!(
        alpha.deliveries(&job.id).is_empty(),
        "the stopped instance delivered"
    );
    assert_eq!(beta.deliveries(&job.id).len(), 1);
    assert_eq!(beta.sim_requests("POST", "/v1/videos/generations").len(), 1);
    let metrics = beta.engine().scrape_metrics().await.expect("metrics");
    assert!(
        metrics.contains("sorabot_leases_taken_over_total 1"),
        "the takeover is counted:\n{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_on_one_instance_ends_a_job_the_other_holds() {
    // A 120 s job takes 12 s here: it is still at the service when cancelled.
    let mut alpha = first_instance(10.0, short_lease).await;
    let mut beta = second_instance(&alpha, short_lease).await;

    alpha.say("/video a glacier calving").await;
    let job = alpha.new_job("a glacier calving").await;
    alpha
        .wait_state(&job.id, "at the service", |s| {
            matches!(s, JobState::Submitted | JobState::Running { .. })
        })
        .await;
    beta.say(&format!("/cancel {}", job.id)).await;
    beta.expect(r"^Job \w+ cancelled\.").await;

    let cancelled = beta
        .wait_state(&job.id, "cancelled", |s| *s == JobState::Cancelled)
        .await;
    assert!(!cancelled.untold);
    // The instance that held it lets it go at its next write or renewal,
    // and writes nothing after the cancel.
    alpha
        .wait_for("the first instance to let the job go", || {
            (alpha.engine().active_jobs() == 0).then_some(())
        })
        .await;
    assert_eq!(alpha.job(&job.id).await.state, JobState::Cancelled);
    assert!(alpha.deliveries(&job.id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_handled_again_by_another_instance_makes_no_second_job() {
    let alpha = first_instance(SLOW, short_lease).await;
    let beta = second_instance(&alpha, short_lease).await;
    // One Telegram message, taken again by a second instance after the
    // first died before marking it handled.
    let msg = sorabot::chat::Incoming {
        chat: engine_support::group(),
        user: engine_support::person("77", false),
        message_id: "4242".to_owned(),
        text: "/video a harbour at dawn".to_owned(),
        attachments: vec![],
        reply_to: None,
        reply_media: None,
        bot_username: Some(sorabot_bots::console::BOT_NAME.to_owned()),
    };

    alpha.engine().handle(&msg).await;
    let job = alpha.new_job("a harbour at dawn").await;
    beta.engine().handle(&msg).await;

    beta.expect(&format!(r"^🎬 {} · ", job.id)).await;
    alpha.delivered(&job.id).await;
    assert_eq!(
        alpha.sim_requests("POST", "/v1/videos/generations").len(),
        1
    );
    let jobs = alpha
        .engine()
        .jobs_of(&msg.chat.platform, &msg.user.id, 10)
        .await
        .expect("the store reads");
    assert_eq!(jobs.len(), 1, "one job for one message");
}
