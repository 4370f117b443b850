//! Admission: the daily quota (and its refunds), the per-user cap, and the
//! queue in front of the service with the place it tells the user.

mod engine_support;

use engine_support::Setup;
use sorabot::command::Lang;
use sorabot::job::JobState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_job_of_the_day_is_refused_when_the_quota_is_two() {
    let mut bot = Setup::new().limits(|l| l.daily_quota = 2).start().await;
    bot.video("first of the day").await;
    bot.video("second of the day").await;

    bot.say("/video third of the day").await;

    bot.expect(r"^You have used all 2 of today's credits\. The quota resets in ")
        .await;
    assert_eq!(bot.sim_requests("POST", "/v1/videos/generations").len(), 2);
    bot.say("/quota").await;
    bot.expect(r"^Today you have used 2 of 2 credits; 0 left\.")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_gives_its_quota_back() {
    let mut bot = Setup::new().limits(|l| l.daily_quota = 2).start().await;
    bot.video("a quiet pond").await;
    bot.say("/video a [sim:fail] pond").await;
    let failed = bot.new_job("a [sim:fail] pond").await;
    bot.expect(r"^❌ Failed: .*Your quota was not used\.$")
        .await;
    bot.wait_state(&failed.id, "failed", |s| matches!(s, JobState::Failed(_)))
        .await;

    bot.say("/quota").await;
    bot.expect(r"^Today you have used 1 of 2 credits; 1 left\.")
        .await;
    bot.video("a pond at night").await;
    bot.say("/video one too many").await;
    bot.expect(r"^You have used all 2 of today's credits\.")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_the_service_refuses_gives_its_quota_back() {
    let mut bot = Setup::new().limits(|l| l.daily_quota = 1).start().await;
    bot.say("/video something nsfw").await;
    let refused = bot.new_job("something nsfw").await;
    bot.expect(r"^❌ Failed: the service's content policy refused it")
        .await;
    bot.wait_state(&refused.id, "failed", |s| matches!(s, JobState::Failed(_)))
        .await;

    bot.say("/quota").await;
    bot.expect(r"^Today you have used 0 of 1 credits; 1 left\.")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_job_gives_its_quota_back() {
    let mut bot = Setup::new()
        .time_scale(20.0)
        .limits(|l| l.daily_quota = 1)
        .start()
        .await;
    bot.say("/video a glacier moving").await;
    let job = bot.new_job("a glacier moving").await;
    bot.say(&format!("/cancel {}", job.id)).await;
    bot.expect(r"cancelled\. It does not count against your quota\.$")
        .await;

    bot.say("/quota").await;
    bot.expect(r"^Today you have used 0 of 1 credits; 1 left\.")
        .await;
    bot.say("/video a glacier melting").await;
    bot.new_job("a glacier melting").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_at_the_active_cap_is_told_to_wait() {
    let mut bot = Setup::new()
        .time_scale(20.0)
        .limits(|l| l.max_active_per_user = 1)
        .start()
        .await;
    bot.say("/video a snail crossing a road").await;
    bot.new_job("a snail crossing a road").await;

    bot.say("/video a second snail").await;

    bot.expect(r"^You already have 1 jobs in progress\. Wait for one to finish, or /cancel one\.$")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_one_slot_the_second_job_waits_at_position_one_and_all_arrive_in_order() {
    // About 400 ms a job, so the later ones are admitted while the first runs.
    let mut bot = Setup::new()
        .time_scale(300.0)
        .limits(|l| l.max_in_flight = 1)
        .start()
        .await;

    bot.say("/video queue one").await;
    let one = bot.new_job("queue one").await;
    bot.say("/video queue two").await;
    let two = bot.new_job("queue two").await;
    bot.say("/video queue three").await;
    let three = bot.new_job("queue three").await;

    let lines = bot.transcript.lines();
    let first_text = |job: &engine_support::JobRef| {
        lines
            .iter()
            .filter(|l| l.id == job.status_msg)
            .nth(1)
            .map(|l| l.text.clone())
            .unwrap_or_default()
    };
    assert!(
        first_text(&two).starts_with("⏳ Queued · position 1"),
        "{}",
        first_text(&two)
    );
    assert!(
        first_text(&three).starts_with("⏳ Queued · position 2"),
        "{}",
        first_text(&three)
    );
    let mut order = Vec::new();
    for job in [&one, &two, &three] {
        order.push(
            bot.delivered(&job.id)
                .await
                .msg
                .parse::<u64>()
                .expect("a numeric id"),
        );
    }
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "delivered in order: {order:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_position_reads_in_chinese() {
    let mut bot = Setup::new()
        .time_scale(300.0)
        .limits(|l| {
            l.max_in_flight = 1;
            l.default_lang = Lang::Zh;
        })
        .start()
        .await;

    bot.say("/video 第一个视频").await;
    bot.new_job("第一个视频").await;
    bot.say("/video 第二个视频").await;
    let second = bot.new_job("第二个视频").await;

    let status = bot.wait_line(0, r"^⏳ 排队中 · 第 1 位").await;
    assert_eq!(status.id, second.status_msg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_job_is_told_when_it_moves_up_the_queue() {
    let mut bot = Setup::new()
        .time_scale(300.0)
        .limits(|l| l.max_in_flight = 1)
        .start()
        .await;
    bot.say("/video line one").await;
    let one = bot.new_job("line one").await;
    bot.say("/video line two").await;
    bot.new_job("line two").await;
    bot.say("/video line three").await;
    let three = bot.new_job("line three").await;
    bot.expect_in(&three.status_msg, r"^⏳ Queued · position 2")
        .await;

    bot.wait_state(&one.id, "delivered", |s| *s == JobState::Delivered)
        .await;

    bot.expect_in(&three.status_msg, r"^⏳ Queued · position 1")
        .await;
}
