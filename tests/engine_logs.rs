//! Every line the engine logs about a job carries the job (the spans of
//! `handle`, `press` and `step`, down to each call to the service), and the
//! reference a user is shown for a failure on our side is the one in the
//! log, with its cause. A binary of its own: the subscriber is global.

mod steps_support;

use std::sync::atomic::Ordering;

use sorabot::chat::{Button, ButtonAction};
use sorabot::engine::{Press, PressAnswer};
use steps_support::{harness, message, Logs};

#[tokio::test(start_paused = true)]
async fn every_line_about_a_job_names_it_and_a_failure_shows_the_logged_reference() {
    let logs = Logs::default();
    tracing_subscriber::fmt()
        .with_env_filter("sorabot=debug")
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .with_ansi(false)
        .init();
    let h = harness().await;

    h.engine.handle(&message("/video a paper boat")).await;
    let job = h.only_job().await;
    h.run_to_end(&job.id).await;

    let text = logs.text();
    let accepted = text
        .lines()
        .find(|l| l.contains("job accepted"))
        .expect("the acceptance is logged");
    let span = format!(
        "handle{{platform=test chat=chat-1 message_id=m-1 job={}}}",
        job.id
    );
    assert!(
        accepted.contains(&span),
        "the command's span names the job: {accepted}"
    );
    let calls: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("service answered"))
        .collect();
    assert!(calls.len() >= 2, "the calls are logged: {text}");
    let step = format!("step{{job={} platform=test chat=chat-1 state=", job.id);
    for line in &calls {
        assert!(
            line.contains(&step),
            "a service call logs inside its job's step: {line}"
        );
    }

    // A Remix press whose question cannot be posted: a failure on our side.
    h.chat.refuse_sends.store(true, Ordering::SeqCst);
    let button = Button {
        action: ButtonAction::Remix,
        job: job.id.clone(),
        label: String::new(),
    };
    let answer = h
        .engine
        .press(&Press {
            chat: message("").chat,
            user: message("").user,
            message_id: "video-9".into(),
            data: button.data(),
        })
        .await;
    let PressAnswer::Notice(notice) = answer else {
        panic!("the presser is told: {answer:?}");
    };
    let reference = regex::Regex::new(r"ref: ([0-9A-Z]{8})")
        .unwrap()
        .captures(&notice)
        .unwrap_or_else(|| panic!("a reference in {notice:?}"))[1]
        .to_owned();
    assert_ne!(
        reference,
        job.id.as_str(),
        "a fresh reference, not the job's id"
    );
    let logged = logs.text();
    let line = logged
        .lines()
        .find(|l| l.contains(&format!("reference={reference}")))
        .unwrap_or_else(|| panic!("{reference} is in the log: {logged}"));
    assert!(
        line.contains("ERROR") && line.contains("command failed"),
        "{line}"
    );
    assert!(line.contains("HTTP 500"), "with its cause: {line}");
    assert!(
        line.contains(&format!(
            "press{{platform=test chat=chat-1 data=remix:{}",
            job.id
        )),
        "inside the press's span: {line}"
    );
}
