//! Prompts as the service and the chat get them: control characters and
//! bidirectional overrides removed, and a prompt that shows nothing refused
//! as no prompt at all.

mod engine_support;

use engine_support::Bot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_of_zero_width_characters_is_refused_as_missing() {
    let mut bot = Bot::start().await;

    bot.say("/video \u{200b}\u{200d}\u{2060}\u{feff} \u{3164}")
        .await;

    bot.expect(r"^⚠ /video needs a prompt\.$").await;
    assert!(bot.sim.requests().is_empty(), "the service was not asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controls_and_bidi_overrides_never_reach_the_service_or_the_chat() {
    let mut bot = Bot::start().await;

    bot.say("/video a red\u{1b}[2J fox\u{0} in \u{202e}snow\u{2066}")
        .await;
    let job = bot.new_job("a red[2J fox in snow").await;
    bot.delivered(&job.id).await;

    let sent = bot.sim_bodies("POST", "/v1/videos/generations");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["prompt"], "a red[2J fox in snow");
    let shown = bot.transcript.lines();
    assert!(
        shown
            .iter()
            .all(|line| !line.text.chars().any(sorabot::command::is_stripped_control)),
        "{shown:?}"
    );
}
