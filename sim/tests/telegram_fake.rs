//! The fake Bot API answered over real HTTP with plain reqwest: requests are
//! checked against the spec, limits are enforced, long polling holds, and
//! Telegram's error answers come back in Telegram's words.

// Inside a module named after the fake, so `cargo test -p sorabot-sim telegram` runs them.
mod telegram_bot_api {
    use std::time::Duration;

    use serde_json::{json, Value};
    use sorabot_sim::telegram::{
        FakeConfig, FakeTelegram, Fault, TelegramHandle, TgChat, TgUser, UserMessage, NOT_MODIFIED,
    };

    const PNG: &[u8] = include_bytes!("../assets/sample.png");

    async fn start() -> TelegramHandle {
        FakeTelegram::start(FakeConfig::default())
            .await
            .expect("the fake starts")
    }

    fn url(telegram: &TelegramHandle, method: &str) -> String {
        format!("{}/bot{}/{method}", telegram.api_url(), telegram.token())
    }

    async fn call(telegram: &TelegramHandle, method: &str, body: Value) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(url(telegram, method))
            .json(&body)
            .send()
            .await
            .expect("the fake answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON answer"))
    }

    fn group() -> TgChat {
        TgChat::supergroup(-1_001_234, "Friends")
    }

    fn alice() -> TgUser {
        TgUser::new(42, "Alice").username("alice").language("en")
    }

    #[tokio::test]
    async fn an_unknown_method_is_not_found_and_a_wrong_token_unauthorized() {
        let telegram = start().await;
        let (status, body) = call(&telegram, "sendTelepathy", json!({})).await;
        assert_eq!(status, 404);
        assert_eq!(
            body,
            json!({"ok": false, "error_code": 404, "description": "Not Found"})
        );

        let wrong = format!("{}/bot123:wrong/getMe", telegram.api_url());
        let response = reqwest::get(wrong).await.expect("an answer");
        assert_eq!(response.status().as_u16(), 401);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["description"], "Unauthorized");
        assert!(telegram
            .requests()
            .iter()
            .all(|r| !r.path.contains(&telegram.token())));
    }

    #[tokio::test]
    async fn unknown_missing_and_mistyped_fields_are_bad_requests() {
        let telegram = start().await;
        telegram
            .post(UserMessage::text(&group(), &alice(), "hello"))
            .expect("posted");

        let (status, body) = call(
            &telegram,
            "sendMessage",
            json!({"chat_id": group().id, "text": "hi", "colour": "red"}),
        )
        .await;
        assert_eq!(
            (status, body["description"].as_str()),
            (400, Some("Bad Request: unexpected parameter \"colour\""))
        );

        let (status, body) = call(&telegram, "sendMessage", json!({"text": "hi"})).await;
        assert_eq!(
            (status, body["description"].as_str()),
            (400, Some("Bad Request: chat_id is empty"))
        );

        let (status, body) = call(
            &telegram,
            "sendMessage",
            json!({"chat_id": group().id, "text": "hi", "disable_notification": "maybe"}),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["error_code"], 400);
        assert!(body["description"]
            .as_str()
            .unwrap_or_default()
            .contains("disable_notification"));

        let (status, body) = call(
            &telegram,
            "sendMessage",
            json!({"chat_id": 999, "text": "hi"}),
        )
        .await;
        assert_eq!(
            (status, body["description"].as_str()),
            (400, Some("Bad Request: chat not found"))
        );
    }

    #[tokio::test]
    async fn form_fields_are_coerced_and_limits_checked() {
        let telegram = start().await;
        telegram
            .post(UserMessage::text(&group(), &alice(), "hello"))
            .expect("posted");
        let client = reqwest::Client::new();
        let long_data = "x".repeat(65);
        let markup = json!({"inline_keyboard": [[{"text": "Go", "callback_data": long_data}]]});
        let response = client
            .post(url(&telegram, "sendMessage"))
            .form(&[
                ("chat_id", group().id.to_string()),
                ("text", "hi".to_owned()),
                ("reply_markup", markup.to_string()),
            ])
            .send()
            .await
            .expect("an answer");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["description"], "Bad Request: BUTTON_DATA_INVALID");

        let (_, body) = call(
            &telegram,
            "sendMessage",
            json!({"chat_id": group().id, "text": "é".repeat(4097)}),
        )
        .await;
        assert_eq!(body["description"], "Bad Request: message is too long");

        let response = client
            .get(url(&telegram, "sendMessage"))
            .query(&[
                ("chat_id", group().id.to_string()),
                ("text", "hi".to_owned()),
            ])
            .send()
            .await
            .expect("an answer");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["ok"], true, "{body}");
        assert_eq!(body["result"]["message_id"], 2);
    }

    #[tokio::test]
    async fn edits_of_unknown_or_unchanged_messages_are_refused() {
        let telegram = start().await;
        telegram
            .post(UserMessage::text(&group(), &alice(), "hello"))
            .expect("posted");
        let (_, sent) = call(
            &telegram,
            "sendMessage",
            json!({"chat_id": group().id, "text": "one"}),
        )
        .await;
        let id = sent["result"]["message_id"].clone();

        let (_, body) = call(
            &telegram,
            "editMessageText",
            json!({"chat_id": group().id, "message_id": 99, "text": "x"}),
        )
        .await;
        assert_eq!(
            body["description"],
            "Bad Request: message to edit not found"
        );
        let (_, body) = call(
            &telegram,
            "editMessageText",
            json!({"chat_id": group().id, "message_id": id, "text": "one"}),
        )
        .await;
        assert_eq!(body["description"], NOT_MODIFIED);
        let (_, body) = call(
            &telegram,
            "editMessageText",
            json!({"chat_id": group().id, "message_id": id, "text": "two"}),
        )
        .await;
        assert_eq!(body["result"]["text"], "two");
        let message = telegram.message(group().id, 2).expect("stored");
        assert_eq!(message.edits.len(), 1);
    }

    #[tokio::test]
    async fn uploads_over_the_limit_are_too_large_and_others_are_stored() {
        let config = FakeConfig {
            upload_limit: 1000,
            ..FakeConfig::default()
        };
        let telegram = FakeTelegram::start(config).await.expect("starts");
        telegram
            .post(UserMessage::text(&group(), &alice(), "hello"))
            .expect("posted");
        let send = |bytes: Vec<u8>| {
            let form = reqwest::multipart::Form::new()
                .text("chat_id", group().id.to_string())
                .text("video", "attach://f1")
                .text("supports_streaming", "true")
                .part(
                    "f1",
                    reqwest::multipart::Part::bytes(bytes).file_name("v.mp4"),
                );
            reqwest::Client::new()
                .post(url(&telegram, "sendVideo"))
                .multipart(form)
                .send()
        };
        let response = send(vec![0; 1001]).await.expect("an answer");
        assert_eq!(response.status().as_u16(), 413);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["description"], "Request Entity Too Large");

        let body: Value = send(vec![7; 1000])
            .await
            .expect("an answer")
            .json()
            .await
            .expect("json");
        let file_id = body["result"]["video"]["file_id"]
            .as_str()
            .expect("a file id");
        assert_eq!(telegram.file(file_id).map(|b| b.len()), Some(1000));
        let call = telegram.calls_of("sendVideo").pop().expect("recorded");
        assert!(call.flag("supports_streaming"));
        assert_eq!(call.upload("video").map(|u| u.data.len()), Some(1000));
    }

    #[tokio::test]
    async fn long_polling_holds_until_an_update_arrives() {
        let telegram = start().await;
        let poll = tokio::spawn({
            let url = url(&telegram, "getUpdates");
            async move {
                reqwest::Client::new()
                    .post(url)
                    .json(&json!({"timeout": 5}))
                    .send()
                    .await
                    .expect("an answer")
                    .json::<Value>()
                    .await
                    .expect("json")
            }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!poll.is_finished(), "the poll is held");
        let posted = telegram
            .post(
                UserMessage::photo(&group(), &alice(), PNG).caption("/video@sorabot make it move"),
            )
            .expect("posted");
        let body = tokio::time::timeout(Duration::from_secs(2), poll)
            .await
            .expect("answered at once")
            .expect("joined");
        let update = &body["result"][0];
        let message = &update["message"];
        assert_eq!(message["message_id"], posted.message_id);
        assert_eq!(message["caption_entities"][0]["type"], "bot_command");
        assert_eq!(message["from"]["language_code"], "en");

        // Confirming with the next offset empties the queue; the photo downloads.
        let next = update["update_id"].as_i64().expect("an id") + 1;
        let (_, body) = call(
            &telegram,
            "getUpdates",
            json!({"offset": next, "timeout": 0}),
        )
        .await;
        assert_eq!(body["result"], json!([]));
        let file_id = message["photo"][1]["file_id"].clone();
        let (_, file) = call(&telegram, "getFile", json!({"file_id": file_id})).await;
        let path = file["result"]["file_path"].as_str().expect("a path");
        let bytes = reqwest::get(format!(
            "{}/file/bot{}/{path}",
            telegram.api_url(),
            telegram.token()
        ))
        .await
        .expect("downloads")
        .bytes()
        .await
        .expect("bytes");
        assert_eq!(&bytes[..], PNG);
    }

    #[tokio::test]
    async fn privacy_mode_hides_group_chatter_but_not_commands_or_replies() {
        let telegram = start().await;
        let chatter = telegram
            .post(UserMessage::text(&group(), &alice(), "lunch?"))
            .expect("posted");
        assert!(!chatter.delivered);
        let other_bot = telegram
            .post(UserMessage::text(&group(), &alice(), "/video@otherbot x"))
            .expect("posted");
        assert!(!other_bot.delivered);
        let ours = telegram
            .post(UserMessage::text(&group(), &alice(), "/video@SoraBot x"))
            .expect("posted");
        assert!(ours.delivered);
        let private = telegram
            .post(UserMessage::text(
                &TgChat::private(&alice()),
                &alice(),
                "a cat",
            ))
            .expect("posted");
        assert!(private.delivered);
    }

    #[tokio::test]
    async fn a_scripted_429_answers_once_with_retry_after() {
        let telegram = start().await;
        telegram.fail_next("getMe", Fault::RetryAfter(3));
        let (status, body) = call(&telegram, "getMe", json!({})).await;
        assert_eq!(status, 429);
        assert_eq!(
            body,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": {"retry_after": 3}})
        );
        let (status, body) = call(&telegram, "getMe", json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(body["result"]["username"], "sorabot");
    }

    #[tokio::test]
    async fn commands_are_stored_per_language() {
        let telegram = start().await;
        let (status, _) = call(
            &telegram,
            "setMyCommands",
            json!({"commands": [{"command": "video", "description": "Make a video"}], "language_code": "zh"}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(telegram.commands(Some("zh")).map(|c| c.len()), Some(1));
        assert_eq!(telegram.commands(None), None);
        let (_, body) = call(
            &telegram,
            "setMyCommands",
            json!({"commands": [{"command": "Video", "description": "x"}]}),
        )
        .await;
        assert_eq!(body["description"], "Bad Request: BOT_COMMAND_INVALID");
        assert_eq!(telegram.api_version(), "Bot API 10.1");
    }

    /// A webhook that answers every push with 503.
    async fn refusing_webhook() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(|| async { axum::http::StatusCode::SERVICE_UNAVAILABLE }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test]
    async fn a_refused_push_is_retried_with_a_growing_bounded_backoff_then_given_up() {
        let telegram = FakeTelegram::start(FakeConfig {
            push_attempts: 4,
            push_backoff: Duration::from_millis(20),
            push_backoff_max: Duration::from_millis(50),
            ..FakeConfig::default()
        })
        .await
        .expect("the fake starts");
        let hook = refusing_webhook().await;
        let (status, _) = call(
            &telegram,
            "setWebhook",
            json!({"url": hook, "secret_token": "s3cret", "allowed_updates": ["message"]}),
        )
        .await;
        assert_eq!(status, 200);

        let posted = telegram
            .post(UserMessage::text(
                &group(),
                &alice(),
                "/video@sorabot a cat",
            ))
            .expect("posted");
        let update_id = posted.update_id.expect("an update");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while telegram.pending_updates() > 0 {
            assert!(tokio::time::Instant::now() < deadline, "never given up");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }

        let pushes = telegram.pushes_of(update_id);
        let attempts: Vec<u32> = pushes.iter().map(|p| p.attempt).collect();
        assert_eq!(attempts, [1, 2, 3, 4]);
        assert!(pushes
            .iter()
            .all(|p| p.status == Some(503) && !p.delivered()));
        assert!(pushes.iter().all(|p| p.secret.as_deref() == Some("s3cret")));
        assert_eq!(pushes[0].update["update_id"], json!(update_id));
        let gaps: Vec<Duration> = pushes.windows(2).map(|w| w[1].at - w[0].at).collect();
        for (gap, least) in gaps.iter().zip([20, 40, 50]) {
            assert!(*gap >= Duration::from_millis(least), "{gaps:?}");
        }
        let (_, info) = call(&telegram, "getWebhookInfo", json!({})).await;
        assert_eq!(info["result"]["url"], json!(hook));
        assert_eq!(info["result"]["allowed_updates"], json!(["message"]));
    }
}
