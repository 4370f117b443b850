//! The engine driven one step at a time, the way a worker test drives its
//! queue: no driver runs, `run_due_steps` runs what is due, and tokio's
//! paused clock says when that is. The service is the simulator on loopback,
//! taking its real two minutes in virtual time; the chat is a recorder.
//!
//! `engine_logs.rs` shares this harness (the logs need a binary of their own).

mod steps_support;

use std::time::Duration;

use sorabot::engine::Next;
use sorabot::job::JobState;
use steps_support::{harness, message};
use tokio::time::Instant;

/// The kind (as the planner learns durations by) of a default `/video`.
const LEARNED_KIND: &str = "video/default/std";

#[tokio::test(start_paused = true)]
async fn a_job_goes_from_the_queue_to_the_chat_one_step_at_a_time() {
    let h = harness().await;
    // One job of the kind done before: a learned kind (a first job is
    // planned from its own pace, and polled more; see the planner's tests).
    h.store.record_duration(LEARNED_KIND, 120.0).await.unwrap();

    h.engine
        .handle(&message("/video a slow river at dawn"))
        .await;
    let job = h.only_job().await;
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(
        h.calls("POST", "/v1/videos/generations"),
        0,
        "nothing sent yet"
    );

    let ran = h.engine.run_due_steps().await;
    assert_eq!(ran.len(), 1, "one step: the submission");
    assert!(matches!(ran[0].1, Next::After(wait) if wait > Duration::ZERO));
    assert_eq!(h.job(&job.id).await.state, JobState::Submitted);
    assert_eq!(h.calls("POST", "/v1/videos/generations"), 1);
    assert!(
        h.engine.run_due_steps().await.is_empty(),
        "nothing is due until time passes"
    );

    let started = Instant::now();
    let steps = h.run_to_end(&job.id).await;
    let job = h.job(&job.id).await;
    assert_eq!(job.state, JobState::Delivered);
    assert_eq!(h.chat.uploads.lock().unwrap().len(), 1, "delivered once");
    let polls = h.calls("GET", "/v1/videos/tasks/");
    assert!(
        started.elapsed() >= Duration::from_secs(110),
        "the service took its time"
    );
    assert!(
        polls <= 12,
        "a two-minute job costs at most a dozen polls: {polls}"
    );
    assert!(steps >= polls, "every poll was a step of its own");
    assert!(h.engine.next_due().is_none(), "nothing left to do");
}

#[tokio::test(start_paused = true)]
async fn a_cancel_between_two_steps_ends_the_job_and_the_next_step_does_nothing() {
    let h = harness().await;
    h.engine.handle(&message("/video a long walk")).await;
    let job = h.only_job().await;
    h.engine.run_due_steps().await;
    assert_eq!(h.job(&job.id).await.state, JobState::Submitted);

    h.engine.handle(&message("/cancel")).await;
    assert_eq!(
        h.job(&job.id).await.state,
        JobState::Cancelled,
        "no job named: the running one"
    );

    let polls = h.calls("GET", "/v1/videos/tasks/");
    if h.engine.next_due().is_some() {
        h.next_steps().await;
    }
    assert_eq!(
        h.calls("GET", "/v1/videos/tasks/"),
        polls,
        "no poll after the cancel"
    );
    assert_eq!(h.job(&job.id).await.state, JobState::Cancelled);
}
