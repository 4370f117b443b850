//! Every command, typed into the console as a person or a script would,
//! answered by the engine against the Sora simulator.

mod engine_support;

use std::time::Duration;

use base64::Engine as _;
use engine_support::{sample_png_path, Bot, Setup, SAMPLE_MP4, SAMPLE_PNG};
use sorabot::job::JobState;
use sorabot_bots::console;
use sorabot_sim::Style;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_greets_and_lists_the_commands() {
    let mut bot = Bot::start().await;

    bot.say("/start").await;

    bot.expect(r"^Hi! I make videos with Sora\.$").await;
    bot.expect(r"^/video — Make a video from a prompt").await;
    bot.expect(r"^/quota — Show how many credits you have left today, and what a video costs\.$")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_lists_every_command_and_help_video_shows_its_usage() {
    let mut bot = Bot::start().await;

    bot.say("/help").await;
    for command in [
        "start",
        "help",
        "video",
        "image",
        "remix",
        "character",
        "tasks",
        "status",
        "cancel",
        "retry",
        "settings",
        "quota",
    ] {
        bot.expect(&format!("^/{command} — ")).await;
    }

    bot.say("/help video").await;
    bot.expect(r"^/video — Make a video").await;
    bot.expect(r"^/video PROMPT \[--ar 16:9\|9:16\] \[--dur 10\|15\|25\]")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_is_saved_under_the_data_dir_as_the_real_mp4() {
    let mut bot = Bot::start().await;

    bot.say("/video a red fox running through snow").await;
    let job = bot.new_job("a red fox running through snow").await;
    let file = bot.delivered(&job.id).await;

    assert_eq!(file.kind, "video");
    assert!(
        file.path.starts_with(bot.dir.path().join("media")),
        "{file:?}"
    );
    let bytes = std::fs::read(&file.path).expect("the saved video");
    assert_eq!(
        bytes, SAMPLE_MP4,
        "the file is the service's MP4, byte for byte"
    );
    let bodies = bot.sim_bodies("POST", "/v1/videos/generations");
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["prompt"], "a red fox running through snow");
    let edit = bot.wait_line(0, "^✅ Done in ").await;
    assert_eq!(
        edit.id, job.status_msg,
        "the status message itself ends as done"
    );
    bot.expect(&format!(
        r"^buttons: .*!remix:{0} .*!character:{0} .*!retry:{0}$",
        job.id
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_with_an_attached_picture_sends_it_to_the_service_as_a_data_url() {
    let mut bot = Bot::start().await;

    let png = sample_png_path();
    bot.say(&format!("+{} /video make it move", png.display()))
        .await;
    let job = bot.new_job("make it move").await;
    bot.delivered(&job.id).await;

    let bodies = bot.sim_bodies("POST", "/v1/videos/generations");
    let url = bodies[0]["image_urls"][0].as_str().expect("one image URL");
    let data = url
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data: URL");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64");
    assert_eq!(decoded, SAMPLE_PNG);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_on_a_native_service_is_answered_as_not_offered() {
    let mut bot = Bot::start().await;

    bot.say("/image a red fox").await;

    bot.expect(r"^⚠ this Sora service does not offer image generation\.$")
        .await;
    assert!(bot.sim.requests().is_empty(), "nothing reached the service");
    bot.say("/quota").await;
    bot.expect(r"^Today you have used 0 of 20 credits").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_on_an_openai_style_service_delivers_every_picture() {
    let mut bot = Setup::new()
        .sim(|sim| {
            let scale = sim.time_scale;
            *sim = sorabot_sim::SimConfig::for_style(Style::OpenAi);
            sim.time_scale = scale;
        })
        .start()
        .await;

    bot.say("/image a red fox --n 2").await;
    let job = bot.new_job("a red fox").await;
    bot.wait_for("two pictures", || {
        (bot.deliveries(&job.id).len() == 2).then_some(())
    })
    .await;

    for file in bot.deliveries(&job.id) {
        assert_eq!(file.kind, "image");
        assert_eq!(std::fs::read(&file.path).expect("a picture"), SAMPLE_PNG);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_as_a_reply_to_the_delivered_video_makes_a_new_video() {
    let mut bot = Bot::start().await;
    let (source, file) = bot.video("a quiet harbour").await;

    bot.say(&format!(">{} /remix make it snow", file.msg)).await;
    let remix = bot.new_job("make it snow").await;
    bot.delivered(&remix.id).await;

    let task = bot.task_of(&source.id).await;
    let bodies = bot.sim_bodies("POST", &format!("/v1/videos/{task}/remix"));
    assert_eq!(bodies.len(), 1, "one remix of the source's task");
    assert_eq!(bodies[0]["prompt"], "make it snow");
    assert!(matches!(
        bot.job(&remix.id).await.request,
        sorabot::job::JobRequest::Remix { ref source_job, .. } if source_job.as_str() == source.id
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remix_by_job_id_makes_a_new_video() {
    let mut bot = Bot::start().await;
    let (source, _) = bot.video("a lighthouse at dusk").await;

    bot.say(&format!("/remix {} make it night", source.id))
        .await;
    let remix = bot.new_job("make it night").await;
    bot.delivered(&remix.id).await;

    let task = bot.task_of(&source.id).await;
    assert_eq!(
        bot.sim_requests("POST", &format!("/v1/videos/{task}/remix"))
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn character_from_a_delivered_video_is_saved_listed_cast_and_removed() {
    let mut bot = Bot::start().await;
    let (source, file) = bot.video("a man in a yellow coat").await;
    let task = bot.task_of(&source.id).await;

    bot.say(&format!(">{} /character add bob", file.msg)).await;
    bot.new_job("bob").await;
    bot.expect(r"^✅ Character @bob is ready\.").await;
    let created = bot.sim_bodies("POST", "/v1/characters");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["from_task"], task.as_str());
    assert_eq!(created[0]["timestamps"], "0,3");

    bot.say("/character list").await;
    bot.expect(r"^Your characters:$").await;
    bot.expect(r"^@bob · 0–3 s$").await;

    bot.say("/video @bob dances in the rain").await;
    // The status names the character as the user did; the service gets its own name.
    let cast = bot.new_job("@bob dances in the rain").await;
    bot.delivered(&cast.id).await;
    bot.expect(r"^@bob dances in the rain$").await; // the caption
    let bodies = bot.sim_bodies("POST", "/v1/videos/generations");
    let body = bodies.last().expect("the cast video");
    assert_eq!(
        body["characters"],
        serde_json::json!([{ "from_task": task, "timestamps": "0,3" }])
    );
    let prompt = body["prompt"].as_str().expect("a prompt");
    assert!(
        regex::Regex::new(r"^@cameo_[0-9a-f]+ dances in the rain$")
            .expect("regex")
            .is_match(prompt),
        "the prompt names the service's username: {prompt}"
    );

    bot.say("/character rm bob").await;
    bot.expect(r"^Character @bob removed\.$").await;
    bot.say("/character list").await;
    bot.expect(r"^You have no characters yet\.").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_lists_my_jobs_and_status_shows_one() {
    let mut bot = Bot::start().await;
    bot.say("/tasks").await;
    bot.expect(r"^You have no jobs yet\.").await;
    let (job, _) = bot.video("a paper boat").await;
    bot.wait_state(&job.id, "delivered", |s| *s == JobState::Delivered)
        .await;

    bot.say("/tasks").await;
    bot.expect(&format!(r"^{} · ✅ Done · a paper boat$", job.id))
        .await;

    bot.say(&format!("/status {}", job.id)).await;
    let headline = bot
        .expect(&format!(r#"^🎬 {} · "a paper boat"$"#, job.id))
        .await;
    assert_ne!(
        headline.id, job.status_msg,
        "/status answers in a new message"
    );
    bot.expect(r"^✅ Done$").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_by_job_id_or_by_reply_stops_a_running_job() {
    // A 120 s job takes six real seconds here: time enough to cancel it.
    let mut bot = Setup::new().time_scale(20.0).start().await;

    bot.say("/video a slow sunrise").await;
    let first = bot.new_job("a slow sunrise").await;
    bot.say(&format!("/cancel {}", first.id)).await;
    bot.expect(&format!(
        r"^Job {} cancelled\. It does not count against your quota\.$",
        first.id
    ))
    .await;

    bot.say("/video a slow sunset").await;
    let second = bot.new_job("a slow sunset").await;
    bot.say(&format!(">{} /cancel", second.status_msg)).await;
    bot.expect(&format!(r"^Job {} cancelled\.", second.id))
        .await;

    for job in [&first, &second] {
        assert_eq!(bot.job(&job.id).await.state, JobState::Cancelled);
    }
    bot.say("/quota").await;
    bot.expect(r"^Today you have used 0 of 20 credits").await;
    bot.say(&format!("/cancel {}", first.id)).await;
    bot.expect(&format!(r"^Job {} has already finished\.$", first.id))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_of_a_failed_job_runs_it_again() {
    let mut bot = Bot::start().await;
    bot.say("/video a [sim:fail] cat").await;
    let failed = bot.new_job("a [sim:fail] cat").await;
    bot.expect_in(&failed.status_msg, r"^❌ Failed: ").await;

    bot.say(&format!("/retry {}", failed.id)).await;
    let again = bot.new_job("a [sim:fail] cat").await;

    assert_ne!(again.id, failed.id);
    bot.wait_state(&again.id, "failed", |s| matches!(s, JobState::Failed(_)))
        .await;
    assert_eq!(bot.sim_requests("POST", "/v1/videos/generations").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_become_the_defaults_of_new_videos() {
    let mut bot = Bot::start().await;

    bot.say("/settings --ar 9:16 --dur 15").await;
    bot.expect(r"^Saved\. Your defaults: 9:16 · 15s$").await;
    bot.say("/settings").await;
    bot.expect(r"^Your defaults: 9:16 · 15s$").await;
    bot.say("/video a tall waterfall").await;
    let job = bot.new_job("a tall waterfall").await;
    bot.delivered(&job.id).await;

    let body = &bot.sim_bodies("POST", "/v1/videos/generations")[0];
    assert_eq!(body["aspect_ratio"], "9:16");
    assert_eq!(body["duration"], 15);
    bot.wait_line(
        0,
        &format!(r#"^🎬 {} · "a tall waterfall" · 15s · 9:16$"#, job.id),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_lang_zh_makes_every_answer_chinese() {
    let mut bot = Bot::start().await;

    bot.say("/settings --lang zh").await;
    bot.expect(r"^已保存。你的默认设置：中文$").await;
    bot.say("/quota").await;
    bot.expect(r"^今天已用 0/20 点，剩余 20 点").await;
    bot.say("/help").await;
    bot.expect(r"^/video — 根据提示词").await;
    bot.say("/video 一只弹钢琴的猫").await;
    let job = bot.new_job("一只弹钢琴的猫").await;
    bot.delivered(&job.id).await;
    bot.wait_line(0, r"^✅ 完成，用时 ").await;
    bot.say("/video").await;
    bot.expect(r"^⚠ /video 需要提示词。$").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_counts_the_jobs_of_the_day() {
    let mut bot = Bot::start().await;
    bot.say("/quota").await;
    bot.expect(r"^Today you have used 0 of 20 credits; 20 left\. Resets in ")
        .await;

    bot.video("a spinning top").await;
    bot.say("/quota").await;

    bot.expect(r"^Today you have used 1 of 20 credits; 19 left\.")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_pressed_in_the_console_act_on_their_job() {
    let mut bot = Bot::start().await;
    let (job, file) = bot.video("a kite over a beach").await;
    let buttons = bot
        .wait_line(0, &format!("^buttons: 🎬 Remix !remix:{} ", job.id))
        .await;
    assert_eq!(buttons.id, file.msg, "the buttons sit under the video");

    bot.say(&format!("!remix:{}", job.id)).await;
    let question = bot
        .expect(&format!(r"^What should change in {}\?", job.id))
        .await;
    bot.expect(&format!(r"^\(answer with: >{} YOUR TEXT\)$", question.id))
        .await;
    bot.say(&format!(">{} make the kite red", question.id))
        .await;
    let remix = bot.new_job("make the kite red").await;
    bot.delivered(&remix.id).await;

    bot.say(&format!("!character:{}", job.id)).await;
    let question = bot
        .expect(&format!(r"^Name the character from {}:", job.id))
        .await;
    bot.say(&format!(">{} kiteflyer", question.id)).await;
    bot.expect(r"^✅ Character @kiteflyer is ready\.").await;

    bot.say(&format!("!retry:{}", job.id)).await;
    let again = bot.new_job("a kite over a beach").await;
    assert_ne!(again.id, job.id);
    bot.delivered(&again.id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_button_stops_a_running_job() {
    let mut bot = Setup::new().time_scale(20.0).start().await;
    bot.say("/video a very slow tide").await;
    let job = bot.new_job("a very slow tide").await;
    bot.expect(&format!(r"^buttons: ✖ Cancel !cancel:{}$", job.id))
        .await;

    bot.say(&format!("!cancel:{}", job.id)).await;

    bot.expect_in("!", &format!(r"^Job {} cancelled\.", job.id))
        .await;
    bot.expect_in(&job.status_msg, &format!(r"^Job {} cancelled\.", job.id))
        .await;
    assert_eq!(bot.job(&job.id).await.state, JobState::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_ends_with_its_input_once_nothing_is_in_flight() {
    let bot = Bot::start().await;
    let script: &[u8] = b"/video a script's cat\n";

    tokio::time::timeout(
        Duration::from_secs(5),
        console::run(
            bot.engine().clone(),
            bot.port.clone(),
            script,
            console::local_user("script".to_owned(), None),
        ),
    )
    .await
    .expect("the console returns once the input ends and the job is done");

    let job = bot.new_job("a script's cat").await;
    assert_eq!(
        bot.deliveries(&job.id).len(),
        1,
        "delivered before it returned"
    );
}
