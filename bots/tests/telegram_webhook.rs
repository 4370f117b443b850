//! Telegram's webhook as several instances behind a load balancer use it:
//! the real adapter serving the webhook, the fake Bot API pushing to it
//! (with the secret it was given, retrying what is not answered 2xx), the
//! real engine and the Sora simulator, all on 127.0.0.1. A push is handled
//! once: after it is stored, whatever the number of times it comes; one
//! without the secret is refused; the webhook is set only when it changed,
//! and stays set when the bot stops.

mod telegram_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use secrecy::SecretString;
use serde_json::json;
use sorabot_sim::telegram::Push;
use telegram_support::*;

const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// The bot's status messages that answer message `command`.
fn statuses_for(bot: &Bot, command: i64) -> usize {
    bot.telegram
        .bot_messages(group().id)
        .iter()
        .filter(|m| m.reply_to == Some(command) && m.method.as_deref() == Some("sendMessage"))
        .count()
}

/// The pushes of one update, once one of them was answered 2xx.
async fn delivered_pushes(bot: &Bot, update_id: i64) -> Vec<Push> {
    bot.wait_for(
        &format!("a push of update {update_id} answered 2xx"),
        || {
            let pushes = bot.telegram.pushes_of(update_id);
            pushes.iter().any(Push::delivered).then_some(pushes)
        },
    )
    .await
}

/// Waits until the webhook is set and the bot is serving it.
async fn serving(bot: &Bot) -> String {
    bot.wait_for("the webhook to be set", || bot.telegram.webhook())
        .await
}

#[tokio::test]
async fn a_command_pushed_to_the_webhook_becomes_one_job_delivered_once() {
    let mut bot = Setup::new().webhook().start().await;
    let hook = serving(&bot).await;

    let command = bot.say(&group(), &alice(), "/video@sorabot a lighthouse at night");
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    bot.video_of(&group(), &job).await;

    assert!(hook.ends_with(HOOK_PATH), "{hook}");
    let pushes = bot
        .telegram
        .pushes_of(command.update_id.expect("an update"));
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0].status, Some(200));
    assert_eq!(pushes[0].secret.as_deref(), Some(WEBHOOK_SECRET));
    assert_eq!(bot.videos_sent(), 1);
    assert_eq!(statuses_for(&bot, command.message_id), 1);
    assert_eq!(bot.engine().pending_updates("telegram").await, 0);
    bot.stop().await;
    bot.assert_no_bad_requests();
    assert!(bot.telegram.calls_of("getUpdates").is_empty());
}

#[tokio::test]
async fn a_push_with_a_wrong_or_no_secret_is_refused_with_401_and_not_handled() {
    let bot = Setup::new().webhook().start().await;
    let hook = serving(&bot).await;
    let command = bot.say(&group(), &alice(), "/video@sorabot a quiet harbour");
    bot.status_of(&group(), command.message_id).await;
    let pushed = delivered_pushes(&bot, command.update_id.expect("an update")).await;
    // The same command as a new update, as someone who knows the URL but
    // not the secret would send it.
    let mut forged = pushed[0].update.clone();
    forged["update_id"] = json!(900_000_001_i64);
    let client = reqwest::Client::new();
    let push = |secret: Option<&str>| {
        let mut request = client.post(&hook).json(&forged);
        if let Some(secret) = secret {
            request = request.header(SECRET_HEADER, secret);
        }
        request.send()
    };

    let wrong = push(Some("not_the-secret")).await.expect("an answer");
    let missing = push(None).await.expect("an answer");
    let near = push(Some(&WEBHOOK_SECRET[..WEBHOOK_SECRET.len() - 1]))
        .await
        .expect("an answer");

    for answer in [&wrong, &missing, &near] {
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        bot.engine().pending_updates("telegram").await,
        0,
        "nothing stored"
    );
    // The same body with the secret is handled: it was refused for the
    // secret alone, and the refused ones never reached the inbox.
    let authentic = push(Some(WEBHOOK_SECRET)).await.expect("an answer");
    assert_eq!(authentic.status(), StatusCode::OK);
    bot.wait_for("the authentic push to be handled", || {
        (statuses_for(&bot, command.message_id) >= 2).then_some(())
    })
    .await;
    assert_eq!(statuses_for(&bot, command.message_id), 2);
}

/// A load balancer that forwards every push to the bot but answers the
/// first one 500, as one does when the instance answered too late: the
/// bot has stored the update, Telegram pushes it again.
struct FlakyBalancer {
    to: SocketAddr,
    client: reqwest::Client,
    seen: AtomicUsize,
}

async fn balance(
    State(balancer): State<Arc<FlakyBalancer>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut request = balancer
        .client
        .post(format!("http://{}{HOOK_PATH}", balancer.to))
        .header("content-type", "application/json")
        .body(body);
    if let Some(secret) = headers.get(SECRET_HEADER) {
        request = request.header(SECRET_HEADER, secret.as_bytes());
    }
    let answer = request.send().await;
    let first = balancer.seen.fetch_add(1, Ordering::SeqCst) == 0;
    match answer {
        Ok(_) if first => StatusCode::INTERNAL_SERVER_ERROR,
        Ok(answer) => StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::OK),
        Err(_) => StatusCode::BAD_GATEWAY,
    }
}

/// Starts the balancer in front of a bot that will listen on `to`; its URL.
async fn flaky_balancer(to: SocketAddr) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the balancer");
    let url = format!(
        "http://{}{HOOK_PATH}",
        listener.local_addr().expect("its address")
    );
    let balancer = Arc::new(FlakyBalancer {
        to,
        client: reqwest::Client::new(),
        seen: AtomicUsize::new(0),
    });
    let app = axum::Router::new()
        .route(HOOK_PATH, axum::routing::post(balance))
        .with_state(balancer);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn an_update_pushed_again_after_a_500_makes_one_job() {
    let listen = free_port();
    let url = flaky_balancer(listen).await;
    let bot = Setup::new().webhook_behind(&url, listen).start().await;
    serving(&bot).await;

    let command = bot.say(&group(), &alice(), "/video@sorabot rain on a tin roof");
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    let pushes = delivered_pushes(&bot, command.update_id.expect("an update")).await;
    bot.video_of(&group(), &job).await;

    let answers: Vec<Option<u16>> = pushes.iter().map(|p| p.status).collect();
    assert_eq!(answers, [Some(500), Some(200)], "retried after the 500");
    assert!(pushes[1].at > pushes[0].at);
    assert_eq!(
        statuses_for(&bot, command.message_id),
        1,
        "{}",
        bot.transcript()
    );
    assert_eq!(bot.videos_sent(), 1);
}

#[tokio::test]
async fn the_same_update_pushed_twice_on_purpose_makes_one_job() {
    let bot = Setup::new().webhook().start().await;
    serving(&bot).await;
    let command = bot.say(&group(), &alice(), "/video@sorabot a kite over dunes");
    let update_id = command.update_id.expect("an update");
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    bot.video_of(&group(), &job).await;

    assert!(bot.telegram.send_again(update_id));
    let pushes = bot
        .wait_for("the second push answered", || {
            let pushes = bot.telegram.pushes_of(update_id);
            (pushes.iter().filter(|p| p.delivered()).count() == 2).then_some(pushes)
        })
        .await;

    assert_eq!(pushes.len(), 2);
    // Answered only once the bot knew it for a repeat: it was not stored.
    assert_eq!(bot.engine().pending_updates("telegram").await, 0);
    assert_eq!(
        statuses_for(&bot, command.message_id),
        1,
        "{}",
        bot.transcript()
    );
    assert_eq!(bot.videos_sent(), 1);
}

#[tokio::test]
async fn a_restart_keeps_the_webhook_set_and_a_new_secret_sets_it_again() {
    let mut bot = Setup::new().webhook().start().await;
    serving(&bot).await;
    let first = bot.say(&group(), &alice(), "/video@sorabot before the restart");
    bot.status_of(&group(), first.message_id).await;
    assert_eq!(bot.telegram.calls_of("setWebhook").len(), 1);

    bot.restart().await;
    // A command handled means the start has compared the webhook.
    let second = bot.say(&group(), &alice(), "/video@sorabot after the restart");
    bot.status_of(&group(), second.message_id).await;

    assert_eq!(bot.telegram.calls_of("getWebhookInfo").len(), 2);
    assert_eq!(
        bot.telegram.calls_of("setWebhook").len(),
        1,
        "same URL and secret: not set again"
    );
    assert!(bot.telegram.calls_of("deleteWebhook").is_empty());

    let hook = bot.settings.webhook.as_mut().expect("a webhook");
    hook.secret = SecretString::from("a_new-secret_42");
    bot.restart().await;
    let third = bot.say(&group(), &alice(), "/video@sorabot with the new secret");
    bot.status_of(&group(), third.message_id).await;

    assert_eq!(bot.telegram.calls_of("setWebhook").len(), 2);
    assert_eq!(
        bot.telegram.webhook_secret().as_deref(),
        Some("a_new-secret_42")
    );
    // Pushed before the new start listened (no answer) or set the new
    // secret (401), then again with the new one.
    let pushed = delivered_pushes(&bot, third.update_id.expect("an update")).await;
    let (delivered, before) = pushed.split_last().expect("a push");
    assert_eq!(delivered.secret.as_deref(), Some("a_new-secret_42"));
    assert!(
        before.iter().all(|p| matches!(p.status, None | Some(401))),
        "{before:?}"
    );
    let set = &bot.telegram.calls_of("setWebhook")[1];
    assert_eq!(
        set.param("allowed_updates"),
        Some(&json!(["message", "callback_query"])),
        "{:?}",
        set.params
    );
}

#[tokio::test]
async fn stopping_leaves_the_webhook_set_and_never_deletes_it() {
    let mut bot = Setup::new().webhook().start().await;
    let hook = serving(&bot).await;
    let command = bot.say(&group(), &alice(), "/video@sorabot a red balloon");
    let (_, job) = bot.status_of(&group(), command.message_id).await;
    bot.video_of(&group(), &job).await;

    bot.stop().await;

    assert!(bot.telegram.calls_of("deleteWebhook").is_empty());
    assert_eq!(bot.telegram.webhook(), Some(hook));
}
