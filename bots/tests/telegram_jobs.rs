//! Telegram end to end: the real adapter (teloxide) against the fake Bot
//! API, the real engine, and the Sora simulator. People post in a group
//! (topics, photos, albums, replies) and in private; the bot answers,
//! edits its status, and delivers the video.

mod http_support;
mod telegram_support;

use std::time::Duration;

use serde_json::{json, Value};
use sorabot::job::{Failure, JobRequest, JobState};
use sorabot_sim::telegram::{Fault, TgChat, UserMessage};
use telegram_support::*;

fn images_of(request: &JobRequest) -> usize {
    match request {
        JobRequest::Video { images, .. } => images.len(),
        other => panic!("expected a video job, got {other:?}"),
    }
}

#[tokio::test]
async fn a_video_command_in_a_group_topic_is_answered_there_and_the_video_arrives() {
    let bot = Bot::start().await;
    let topic = bot.telegram.create_topic(&group(), &alice(), "Videos");

    let command = bot.post(
        UserMessage::text(
            &group(),
            &alice(),
            "/video@sorabot a red fox running through snow",
        )
        .in_topic(topic),
    );
    let (status, job) = bot.status_of(&group(), command.message_id).await;
    let video = bot.video_of(&group(), &job).await;

    assert_eq!(status.thread, Some(topic), "the status is in the topic");
    let status = bot
        .telegram
        .message(group().id, status.message_id)
        .expect("kept");
    assert!(
        !status.edits.is_empty(),
        "the status was edited as the job went on"
    );
    assert_eq!(video.thread, Some(topic), "the video is in the topic");
    assert_eq!(
        video.reply_to,
        Some(command.message_id),
        "the video replies to the command"
    );
    let file = video.file.as_ref().expect("a file");
    assert!(file.uploaded, "uploaded by multipart");
    assert_eq!(&file.data[..], SAMPLE_MP4);
    for fact in ["width", "height", "duration"] {
        assert!(
            video.param(fact).and_then(Value::as_i64).unwrap_or(0) > 0,
            "{fact} is set"
        );
    }
    assert_eq!(video.param("supports_streaming"), Some(&json!(true)));
    assert_eq!(
        file.thumbnail.as_deref(),
        Some(&bot.sim.thumbnail_bytes()[..]),
        "the service's thumbnail goes with the upload"
    );
    assert!(video.content().contains("a red fox running through snow"));
    assert!(video.content().ends_with(&format!("#{job}")));
    let labels: Vec<String> = video
        .buttons()
        .into_iter()
        .map(|(label, _)| label)
        .collect();
    assert!(labels.iter().any(|l| l.contains("Remix")), "{labels:?}");
    assert!(video.buttons().iter().all(|(_, data)| data.ends_with(&job)));
    assert_eq!(
        bot.delivered(&job).await.delivered[0].file_id.as_deref(),
        Some(file.file_id.as_str()),
        "the file_id is kept for re-sends"
    );
    bot.assert_no_bad_requests();
}

#[tokio::test]
async fn status_of_a_delivered_video_sends_it_again_by_file_id_without_uploading() {
    let bot = Bot::start().await;
    let command = bot.say(&group(), &alice(), "/video@sorabot a heron at dawn");
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    let first = bot.video_of(&group(), &job).await;
    let first_file = first.file.as_ref().expect("a file").file_id.clone();

    let asked = bot.say(&group(), &alice(), &format!("/status@sorabot {job}"));
    let again = bot
        .bot_message(&group(), "the video sent again", |m| {
            m.method.as_deref() == Some("sendVideo") && m.reply_to == Some(asked.message_id)
        })
        .await;

    let file = again.file.as_ref().expect("a file");
    assert!(!file.uploaded, "sent by file_id, not uploaded again");
    assert_eq!(file.file_id, first_file);
    assert!(again.content().ends_with(&format!("#{job}")));
    // The fake shows a message a moment before it records the call.
    bot.wait_for("the call that sent the video again", || {
        bot.telegram
            .calls_of("sendVideo")
            .into_iter()
            .find(|c| c.message_id() == Some(again.message_id))
    })
    .await;
    assert_eq!(bot.videos_sent(), 2);
    bot.assert_no_bad_requests();
}

#[tokio::test]
async fn a_photo_with_a_video_caption_animates_it_and_the_service_never_sees_the_token() {
    let bot = Bot::start().await;

    let photo = bot.post(
        UserMessage::photo(&group(), &alice(), SAMPLE_PNG).caption("/video make the fox wave"),
    );
    let (_, job) = bot.status_of(&group(), photo.message_id).await;
    bot.video_of(&group(), &job).await;

    assert_eq!(images_of(&bot.job(&job).await.request), 1);
    let got_file = bot
        .telegram
        .calls_of("getFile")
        .iter()
        .any(|c| c.ok() && photo.file_ids.iter().any(|id| c.str("file_id") == Some(id)));
    assert!(got_file, "the bot fetched the photo itself");
    let token = bot.telegram.token();
    let requests = bot.sim.requests();
    assert!(!requests.is_empty());
    for request in requests {
        let mut seen = vec![request.path.clone()];
        seen.extend(request.headers.iter().map(|(k, v)| format!("{k}: {v}")));
        seen.push(String::from_utf8_lossy(&request.body).into_owned());
        seen.extend(
            request
                .parts
                .iter()
                .map(|p| String::from_utf8_lossy(&p.data).into_owned()),
        );
        for text in seen {
            assert!(
                !text.contains(&token),
                "the token reached the service: {}",
                request.path
            );
            assert!(
                !text.contains("/file/bot"),
                "a Telegram file URL reached the service"
            );
        }
    }
}

#[tokio::test]
async fn an_album_of_two_photos_is_one_job_with_two_images() {
    let bot = Bot::start().await;

    let first = bot.post(
        UserMessage::photo(&group(), &alice(), SAMPLE_PNG)
            .caption("/video@sorabot these two cats dance")
            .album("album-1"),
    );
    let second = bot.post(UserMessage::photo(&group(), &alice(), SAMPLE_PNG).album("album-1"));
    assert!(second.delivered, "the rest of an album reaches the bot");
    let (_, job) = bot.status_of(&group(), first.message_id).await;
    bot.video_of(&group(), &job).await;

    assert_eq!(images_of(&bot.job(&job).await.request), 2);
    bot.assert_no_bad_requests();
    let statuses = bot
        .telegram
        .bot_messages(group().id)
        .into_iter()
        .filter(|m| m.content().contains(" · \"these two cats dance"))
        .count();
    assert_eq!(statuses, 1, "one job, one status:\n{}", bot.transcript());
}

#[tokio::test]
async fn a_video_command_replying_to_a_photo_uses_that_photo() {
    let bot = Bot::start().await;
    let photo = bot.post(UserMessage::photo(&group(), &bob(), SAMPLE_PNG));
    assert!(
        !photo.delivered,
        "privacy mode: the bot does not see the photo itself"
    );

    let command = bot.post(
        UserMessage::text(&group(), &alice(), "/video make it move").reply_to(photo.message_id),
    );
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    bot.video_of(&group(), &job).await;

    assert_eq!(images_of(&bot.job(&job).await.request), 1);
}

#[tokio::test]
async fn a_mention_of_the_bot_is_a_video_prompt() {
    let bot = Bot::start().await;

    let mention = bot.say(&group(), &alice(), "@sorabot a paper boat on a river");
    let (_, job) = bot.status_of(&group(), mention.message_id).await;

    assert!(bot.job(&job).await.request.prompt().contains("paper boat"));
}

#[tokio::test]
async fn a_result_over_the_upload_limit_is_delivered_as_a_link() {
    let bot = Setup::new()
        .upload_limit(100 * 1024)
        .sim(|sim| sim.video_bytes = Some(300 * 1024))
        .start()
        .await;

    let command = bot.say(&group(), &alice(), "/video@sorabot a very long take");
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    let link = bot
        .bot_message(&group(), "the link message", |m| {
            m.reply_to == Some(command.message_id) && m.content().contains(&format!("#{job}"))
        })
        .await;

    assert!(link.content().contains("http://"), "{}", link.content());
    assert_eq!(link.method.as_deref(), Some("sendMessage"));
    assert!(
        bot.telegram.calls_of("sendVideo").is_empty(),
        "nothing was uploaded"
    );
}

#[tokio::test]
async fn a_429_on_send_video_is_retried_after_retry_after() {
    let bot = Bot::start().await;
    bot.telegram.fail_next("sendVideo", Fault::RetryAfter(1));

    let command = bot.say(&group(), &alice(), "/video@sorabot rain on a window");
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    bot.video_of(&group(), &job).await;

    let calls = bot.telegram.calls_of("sendVideo");
    assert_eq!(calls.len(), 2, "{}", bot.transcript());
    assert_eq!(calls[0].status, 429);
    assert!(calls[1].ok());
    let waited = calls[1].at - calls[0].at;
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    assert_eq!(bot.videos_sent(), 1, "delivered once");
}

#[tokio::test]
async fn progress_edits_in_a_group_keep_the_configured_spacing() {
    let spacing = Duration::from_millis(300);
    let bot = Setup::new()
        .sim(|sim| sim.time_scale = 60.0)
        .limits(move |limits| limits.status_edit_group = spacing)
        .start()
        .await;

    let command = bot.say(&group(), &alice(), "/video@sorabot a slow sunrise");
    let (status, job) = bot.status_of(&group(), command.message_id).await;
    bot.video_of(&group(), &job).await;

    let status = bot
        .telegram
        .message(group().id, status.message_id)
        .expect("kept");
    let mut previous = status.at;
    let mut progress_edits = 0;
    for edit in &status.edits {
        let text = edit.text.as_deref().unwrap_or_default();
        if text.contains('⚙') {
            progress_edits += 1;
            let gap = edit.at - previous;
            assert!(
                gap >= spacing,
                "a progress edit came {gap:?} after the previous one"
            );
        }
        previous = edit.at;
    }
    assert!(progress_edits >= 2, "the status moved: {:?}", status.edits);
}

#[tokio::test]
async fn a_chinese_speaker_is_answered_in_chinese() {
    let bot = Bot::start().await;
    let private = TgChat::private(&li());

    let list = bot.say(&private, &li(), "/character list");
    let answer = bot.answer(&private, list.message_id, "你还没有角色").await;
    assert!(answer.thread.is_none());

    let command = bot.say(&private, &li(), "/video 一只在雪地里奔跑的狐狸");
    let (status, job) = bot.status_of(&private, command.message_id).await;
    bot.video_of(&private, &job).await;
    bot.wait_for("the status to say it is done, in Chinese", || {
        let status = bot.telegram.message(private.id, status.message_id)?;
        status.content().contains("完成").then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_command_menus_are_set_in_english_and_chinese() {
    let bot = Bot::start().await;

    let english = bot.telegram.commands(None).expect("the default menu");
    let chinese = bot.telegram.commands(Some("zh")).expect("the Chinese menu");

    let video = |menu: &[(String, String)]| {
        menu.iter()
            .find(|(command, _)| command == "video")
            .map(|(_, description)| description.clone())
            .expect("/video is in the menu")
    };
    assert!(video(&english).starts_with("Make a video"));
    assert!(video(&chinese).contains("视频"));
    assert_eq!(english.len(), chinese.len());
    let calls = bot.telegram.calls_of("setMyCommands");
    assert!(calls.iter().any(|c| c.str("language_code") == Some("zh")));
    assert!(calls.iter().any(|c| c.param("language_code").is_none()));
}

#[tokio::test]
async fn a_wrong_token_stops_the_start_naming_the_variable_but_not_the_token() {
    let bot = Bot::start().await;
    let mut settings = bot.settings.clone();
    settings.token = secrecy::SecretString::from("987654:wrong-secret-token".to_owned());

    let error = match sorabot_bots::telegram::connect_with(&settings, fast_tuning()).await {
        Ok(_) => panic!("a wrong token must not connect"),
        Err(error) => format!("{error:#}"),
    };

    assert!(error.contains("TELEGRAM_BOT_TOKEN"), "{error}");
    assert!(!error.contains("wrong-secret-token"), "{error}");
}

#[tokio::test]
async fn the_fake_refuses_an_unknown_or_a_missing_field_as_telegram_would() {
    let bot = Bot::start().await;
    let url = format!(
        "{}/bot{}/sendMessage",
        bot.telegram.api_url(),
        bot.telegram.token()
    );
    let client = reqwest::Client::new();

    let unknown: Value = client
        .post(&url)
        .json(&json!({"chat_id": alice().id, "text": "hi", "reply_to_message_idx": 1}))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("json");
    let missing: Value = client
        .post(&url)
        .json(&json!({"chat_id": alice().id}))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("json");

    assert_eq!(unknown["ok"], false);
    assert_eq!(unknown["error_code"], 400);
    assert!(unknown["description"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Bad Request: "));
    assert_eq!(
        missing,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"})
    );
}

#[tokio::test]
async fn a_photo_over_the_image_limit_is_refused_before_it_is_downloaded() {
    let bot = Setup::new()
        .limits(|l| l.max_input_image_bytes = 1024)
        .start()
        .await;

    let photo = bot.post(
        UserMessage::photo(&group(), &alice(), SAMPLE_PNG).caption("/video make the fox wave"),
    );

    bot.answer(&group(), photo.message_id, "That image is too large")
        .await;
    assert!(
        bot.telegram.calls_of("getFile").is_empty(),
        "the photo was not fetched"
    );
    assert!(bot.sim.requests().is_empty());
}

#[tokio::test]
async fn a_video_over_the_upload_limit_goes_as_the_bots_own_link_that_serves_it_until_it_expires() {
    let listen = http_support::free_listen();
    let bot = Setup::new()
        .upload_limit(100 * 1024)
        .sim(|sim| sim.video_bytes = Some(300 * 1024))
        .limits(move |limits| limits.links = Some(http_support::own_links(listen)))
        .start()
        .await;
    let _server = http_support::Server::start_on(bot.engine(), bot.ports(), listen).await;
    let video = bot.sim.video_bytes();

    let command = bot.say(&group(), &alice(), "/video@sorabot a very long take");
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    let message = bot
        .bot_message(&group(), "the link message", |m| {
            m.reply_to == Some(command.message_id) && m.content().contains(&format!("#{job}"))
        })
        .await;
    let link = http_support::link_in(message.content());
    let client = reqwest::Client::new();
    let get = |range: Option<&str>, url: &str| {
        let mut request = client.get(url);
        if let Some(range) = range {
            request = request.header(reqwest::header::RANGE, range);
        }
        request.send()
    };

    assert!(
        link.starts_with(&format!("http://{listen}/media/{job}/0.mp4?exp=")),
        "{link}"
    );
    assert!(
        message.content().contains("valid for 72 h"),
        "{}",
        message.content()
    );
    assert!(!link.contains(bot.sim.key()) && !link.contains(http_support::LINK_SECRET));
    assert!(!message.content().contains(&bot.telegram.token()));
    assert!(
        bot.telegram.calls_of("sendVideo").is_empty(),
        "nothing was uploaded"
    );
    let stored = bot.delivered(&job).await;
    let status = bot.status_done(&group(), &stored).await;
    assert!(
        status.content().contains("Sent as a link"),
        "the status says how it went: {}",
        status.content()
    );

    let whole = get(None, &link).await.expect("the link answers");
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(
        whole.bytes().await.expect("the bytes"),
        video,
        "the exact bytes"
    );

    let part = get(Some("bytes=10-99"), &link)
        .await
        .expect("the link answers");
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 10-99/{}", video.len()).as_str()
    );
    assert_eq!(part.bytes().await.expect("the bytes"), video.slice(10..100));

    let past = get(Some(&format!("bytes={}-", video.len())), &link).await;
    assert_eq!(past.expect("the link answers").status(), 416);

    let mut tampered = link.clone();
    let last = tampered.pop().expect("a signature");
    tampered.push(if last == '0' { '1' } else { '0' });
    assert_eq!(get(None, &tampered).await.expect("answers").status(), 403);
    let unsigned = link.split("&sig=").next().expect("a query").to_owned();
    assert_eq!(get(None, &unsigned).await.expect("answers").status(), 403);

    let head = client.head(&link).send().await.expect("the link answers");
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-length"],
        video.len().to_string().as_str()
    );

    // The link's lifetime passes.
    tokio::time::pause();
    tokio::time::advance(http_support::LINK_TTL + Duration::from_secs(1)).await;
    assert_eq!(get(None, &link).await.expect("answers").status(), 410);
    bot.engine().sweep().await.expect("the sweep runs");
    let kept = std::fs::read_dir(bot.limits.links_dir())
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(kept, 0, "the expired link's file is swept");
}

#[tokio::test]
async fn an_openai_video_over_the_limit_without_a_public_link_fails_refunded_naming_the_setting() {
    let bot = Setup::new()
        .upload_limit(100 * 1024)
        .sim(|sim| {
            *sim = sorabot_sim::SimConfig::for_style(sorabot_sim::Style::OpenAi);
            sim.time_scale = FAST;
            sim.video_bytes = Some(300 * 1024);
        })
        .start()
        .await;

    let command = bot.say(&group(), &alice(), "/video@sorabot a very long take");
    let (status, job) = bot.status_of(&group(), command.message_id).await;
    let failed = bot
        .wait_job(&job, "the job to fail", |job| {
            matches!(job.state, JobState::Failed(_)).then_some(job)
        })
        .await;
    let told = bot
        .wait_for("the status to say why", || {
            bot.telegram
                .message(group().id, status.message_id)
                .filter(|m| m.content().contains("PUBLIC_BASE_URL"))
        })
        .await;

    assert!(
        matches!(
            failed.state,
            JobState::Failed(Failure::NoPublicLink { bytes, .. }) if bytes == 300 * 1024
        ),
        "{:?}",
        failed.state
    );
    assert_eq!(failed.charged_day, None, "the quota is refunded");
    assert!(
        told.content().contains("over this chat's"),
        "{}",
        told.content()
    );
    assert!(told.content().contains("HTTP_LISTEN"), "{}", told.content());
    assert!(bot.telegram.calls_of("sendVideo").is_empty());
    assert!(
        !told.content().contains("/content"),
        "no link that needs the key: {}",
        told.content()
    );
}
