//! Bad input, each answered with what was wrong (and the right form), none
//! of it costing quota or reaching the service.

mod engine_support;

use engine_support::{Bot, Setup};
use sorabot::job::JobState;

/// What a user typed, and the words the answer must contain.
const TABLE: &[(&str, &[&str])] = &[
    (
        "/video",
        &[
            "⚠ /video needs a prompt.",
            "Usage: /video PROMPT [--ar 16:9|9:16]",
        ],
    ),
    (
        "/video a cat --ar 4:3",
        &["⚠ --ar 4:3: expected 16:9 or 9:16", "Usage: /video PROMPT"],
    ),
    (
        "/video a cat --dur abc",
        &[
            "⚠ --dur abc: expected whole seconds from 1 to 60",
            "Usage: /video PROMPT",
        ],
    ),
    (
        "/video a cat --dur 11",
        &["⚠ a 11 s video is not available (choose 10, 15, 25)."],
    ),
    (
        "/video a cat --bogus",
        &["⚠ /video has no option --bogus.", "Usage: /video PROMPT"],
    ),
    ("/video a cat --ar", &["⚠ --ar needs a value."]),
    (
        "/video a cat --hd",
        &["⚠ this Sora service does not offer HD."],
    ),
    (
        "/video @nobody dances",
        &["You have no character named @nobody. /character list shows yours"],
    ),
    (
        "/remix 7QK3M2XD make it night",
        &["I can't find job 7QK3M2XD. /tasks lists your jobs."],
    ),
    (
        // No job named, no reply, and no video of theirs yet.
        "/remix make it night",
        &["Reply to a video (one of mine, or one with a public link) with this command."],
    ),
    (
        "/character add bob --at 3,1",
        &[
            "⚠ --at 3,1: expected START,END in seconds, in order, at most 3 s apart.",
            "Usage: /character add NAME",
        ],
    ),
    (
        "/character add bob --at 0,5",
        &["⚠ --at 0,5: expected START,END"],
    ),
    (
        "/character add bob smith",
        &["⚠ \"bob smith\" cannot name a character"],
    ),
    (
        "/character",
        &["⚠ /character needs one of: add, list, remove."],
    ),
    ("/status", &["You have no jobs yet."]),
    ("/cancel", &["You have no job running here."]),
    (
        "/cancel 7QK3M2X",
        &["⚠ /cancel needs a job: reply to its message or give its job id."],
    ),
    ("/cancel 7QK3M2XD", &["I can't find job 7QK3M2XD."]),
    ("/retry 7QK3M2XD", &["I can't find job 7QK3M2XD."]),
    ("/settings --lang fr", &["⚠ --lang fr: expected en or zh"]),
    (
        "/image a fox --n 9",
        &["⚠ --n 9: expected a number from 1 to 4"],
    ),
    (
        "/frobnicate",
        &["⚠ there is no command /frobnicate. Send /help for the list of commands."],
    ),
    ("/help frobnicate", &["⚠ there is no command /frobnicate."]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_answered_with_what_was_wrong_and_the_right_form() {
    let mut bot = Bot::start().await;

    for (typed, words) in TABLE {
        bot.say(typed).await;
        for expected in *words {
            bot.expect(&format!("^{}", regex::escape(expected))).await;
        }
    }

    bot.say("/quota").await;
    bot.expect(r"^Today you have used 0 of 20 credits").await;
    assert!(bot.sim.requests().is_empty(), "nothing reached the service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_thousand_character_prompt_is_accepted_within_the_service_limit() {
    let mut bot = Bot::start().await;
    let prompt = "a very long prompt ".repeat(527)[..10_000]
        .trim_end()
        .to_owned();
    assert!(prompt.chars().count() > 9_990);

    bot.say(&format!("/video {prompt}")).await;
    let job = bot.new_job(&prompt).await;
    bot.delivered(&job.id).await;

    let sent = &bot.sim_bodies("POST", "/v1/videos/generations")[0]["prompt"];
    assert_eq!(
        sent.as_str(),
        Some(prompt.as_str()),
        "the prompt went whole"
    );
    let caption = bot
        .wait_line(0, &format!("^{}", regex::escape(&prompt[..900])))
        .await;
    assert!(caption.text.ends_with('…'), "the caption is cut short");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_over_the_service_limit_is_refused_before_it_is_sent() {
    let mut bot = Bot::start().await;
    let prompt = "x".repeat(sorabot::backend::MAX_PROMPT_CHARS + 1);

    bot.say(&format!("/video {prompt}")).await;

    bot.expect(r"^⚠ the prompt has 32001 characters, more than 32000\.$")
        .await;
    assert!(bot.sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_of_a_failed_job_is_refused_as_having_no_video() {
    let mut bot = Bot::start().await;
    bot.say("/video a [sim:fail] comet").await;
    let failed = bot.new_job("a [sim:fail] comet").await;
    bot.wait_state(&failed.id, "failed", |s| matches!(s, JobState::Failed(_)))
        .await;

    bot.say(&format!("/remix {} make it blue", failed.id)).await;

    bot.expect(&format!(
        r"^Job {} has no finished video yet\. Try again once it is delivered\.$",
        failed.id
    ))
    .await;
    assert!(bot.sim_requests("POST", "/remix").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_of_a_character_job_is_refused_as_not_a_video() {
    let mut bot = Bot::start().await;
    let (_, file) = bot.video("a chef tossing pizza").await;
    bot.say(&format!(">{} /character add chef", file.msg)).await;
    let character = bot.new_job("chef").await;
    bot.wait_state(&character.id, "delivered", |s| *s == JobState::Delivered)
        .await;

    bot.say(&format!("/remix {} make it spicy", character.id))
        .await;

    bot.expect(&format!(
        r"^Job {} did not make a video, so it can't be used here\.$",
        character.id
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_as_a_reply_to_a_message_that_is_no_video_asks_for_one() {
    let mut bot = Bot::start().await;
    bot.say("/help").await;
    let help = bot.expect(r"^/start — ").await;

    bot.say(&format!(">{} /remix make it rain", help.id)).await;

    bot.expect(
        r"^Reply to a video \(one of mine, or one with a public link\) with this command\.$",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_file_attached_to_video_is_refused_as_not_an_image() {
    let mut bot = Bot::start().await;
    let notes = bot.dir.path().join("notes.txt");
    std::fs::write(&notes, "this is not a picture\n").expect("a text file");

    bot.say(&format!("+{} /video animate this", notes.display()))
        .await;

    bot.expect(r"^That attachment is not an image\. Attach a JPEG, PNG or WebP photo\.$")
        .await;
    assert!(bot.sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_that_cannot_be_read_is_reported_by_the_console() {
    let mut bot = Bot::start().await;
    let missing = bot.dir.path().join("no-such-file.png");

    bot.say(&format!("+{} /video animate this", missing.display()))
        .await;

    let notice = bot.expect(r"^cannot read .*no-such-file\.png: ").await;
    assert_eq!(notice.id, "!");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_picture_is_refused_with_the_limit() {
    let mut bot = Setup::new()
        .limits(|l| l.max_input_image_bytes = 1024)
        .start()
        .await;

    bot.say(&format!(
        "+{} /video make it move",
        engine_support::sample_png_path().display()
    ))
    .await;

    bot.expect(r"^That image is too large\. Send one under ")
        .await;
    assert!(bot.sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_usage_shown_offers_what_the_service_can_do() {
    // The native service: its three lengths, and no HD.
    let mut bot = Bot::start().await;
    bot.say("/video").await;
    bot.expect(&format!(
        "^{}$",
        regex::escape(
            "Usage: /video PROMPT [--ar 16:9|9:16] [--dur 10|15|25] [--model sora-2|sora-2-pro]"
        )
    ))
    .await;

    // The openai dialect with sora-2 takes 4, 8 or 12 seconds.
    let mut bot = Setup::new()
        .sim(|sim| {
            let scale = sim.time_scale;
            *sim = sorabot_sim::SimConfig::for_style(sorabot_sim::Style::OpenAi);
            sim.time_scale = scale;
        })
        .start()
        .await;
    bot.say("/help video").await;
    bot.expect(r"^/video PROMPT .*\[--dur 4\|8\|12\]").await;
}
