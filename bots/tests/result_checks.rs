//! What the service serves as a result is checked before it reaches the
//! chat: an HTML error page is never delivered (it is fetched again, then
//! the job fails with its quota back), and a result link that redirects to
//! the bot's own machine is refused without connecting there.

mod engine_support;

use engine_support::Setup;
use sorabot::job::{Failure, JobState};
use sorabot_sim::Fault;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_served_as_the_video_is_not_delivered_and_the_job_is_refunded() {
    let mut bot = Setup::new()
        .limits(|l| l.result_check_attempts = 1)
        .start()
        .await;
    bot.sim.push_fault_for("/files/", Fault::html_page());

    bot.say("/video a lighthouse at dusk").await;
    let job = bot.new_job("a lighthouse at dusk").await;

    bot.expect_in(
        &job.status_msg,
        r"^❌ Failed: the service sent something that is not the video or picture asked for \(an error page\?\)\. Your quota was not used\.$",
    )
    .await;
    assert_eq!(
        bot.job(&job.id).await.state,
        JobState::Failed(Failure::NotMedia {
            found: "text/html".into()
        })
    );
    assert!(bot.deliveries(&job.id).is_empty(), "nothing was delivered");
    let spooled: Vec<_> = std::fs::read_dir(bot.limits.spool_dir())
        .map(|dir| dir.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(spooled.is_empty(), "the page was not kept: {spooled:?}");
    bot.say("/quota").await;
    bot.expect(r"^Today you have used 0 of 20 credits").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_once_is_fetched_again_and_the_real_video_delivered() {
    let mut bot = Setup::new().start().await;
    bot.sim.push_fault_for("/files/", Fault::html_page());

    bot.say("/video a harbour in rain").await;
    let job = bot.new_job("a harbour in rain").await;

    let delivered = bot.delivered(&job.id).await;
    bot.wait_state(&job.id, "delivered", |s| *s == JobState::Delivered)
        .await;
    assert_eq!(bot.deliveries(&job.id).len(), 1);
    assert_eq!(
        std::fs::read(&delivered.path).expect("the delivered file"),
        engine_support::SAMPLE_MP4
    );
    assert_eq!(bot.sim_requests("GET", ".mp4").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_redirected_to_another_port_on_loopback_is_refused_unconnected() {
    let trap = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    trap.set_nonblocking(true).expect("non-blocking");
    let target = format!("http://{}/admin/dump", trap.local_addr().expect("address"));
    let mut bot = Setup::new().start().await;
    bot.sim.push_fault_for("/files/", Fault::Redirect(target));

    bot.say("/video a quiet library").await;
    let job = bot.new_job("a quiet library").await;

    bot.expect_in(
        &job.status_msg,
        r"^❌ Failed: the service's result link points somewhere the bot does not fetch from",
    )
    .await;
    assert!(matches!(
        bot.job(&job.id).await.state,
        JobState::Failed(Failure::RefusedLink { .. })
    ));
    assert!(bot.deliveries(&job.id).is_empty());
    assert!(trap.accept().is_err(), "something connected to the trap");
    assert_eq!(bot.sim_requests("GET", ".mp4").len(), 1, "not retried");
}
