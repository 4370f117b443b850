//! The fake Discord against plain HTTP and WebSocket clients: it answers
//! like Discord (tokens, invalid bodies, upload limits, 429s, interaction
//! tokens that expire) and speaks the gateway protocol. The tests sit in
//! `mod discord` so `cargo test -p sorabot-sim discord` picks them.

mod discord {
    use std::time::Duration;

    use futures::{SinkExt, StreamExt};
    use reqwest::StatusCode;
    use serde_json::{json, Value};
    use sorabot_sim::discord::{
        Call, DiscordConfig, DiscordHandle, FakeDiscord, Options, TooManyRequests,
    };
    use tokio_tungstenite::tungstenite::Message;

    const WAIT: Duration = Duration::from_secs(5);

    async fn start(tweak: impl FnOnce(&mut DiscordConfig)) -> (DiscordHandle, reqwest::Client) {
        let mut config = DiscordConfig::default();
        tweak(&mut config);
        let discord = FakeDiscord::start(config).await.expect("the fake starts");
        (discord, reqwest::Client::new())
    }

    fn url(discord: &DiscordHandle, path: &str) -> String {
        format!("{}/api/v10{path}", discord.api_url())
    }

    fn bot(discord: &DiscordHandle) -> String {
        format!("Bot {}", discord.token())
    }

    async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    #[tokio::test]
    async fn rest_calls_without_the_bot_token_are_unauthorized() {
        let (discord, http) = start(|_| {}).await;

        let (status, body) = json_of(
            http.get(url(&discord, "/users/@me"))
                .header("Authorization", "Bot wrong")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, json!({"message": "401: Unauthorized", "code": 0}));

        let (status, me) = json_of(
            http.get(url(&discord, "/users/@me"))
                .header("Authorization", bot(&discord))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["id"], discord.bot_id().to_string());
        assert_eq!(me["bot"], true);
    }

    #[tokio::test]
    async fn the_gateway_url_comes_from_gateway_bot() {
        let (discord, http) = start(|_| {}).await;

        let (status, body) = json_of(
            http.get(url(&discord, "/gateway/bot"))
                .header("Authorization", bot(&discord))
                .send()
                .await
                .unwrap(),
        )
        .await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["url"], discord.gateway_url());
        assert!(discord.gateway_url().starts_with("ws://127.0.0.1:"));
        assert_eq!(body["shards"], 1);
        assert_eq!(body["session_start_limit"]["max_concurrency"], 1);
    }

    #[tokio::test]
    async fn invalid_message_bodies_are_refused_with_50035_and_where() {
        let (discord, http) = start(|_| {}).await;
        let messages = url(
            &discord,
            &format!("/channels/{}/messages", discord.channel_id()),
        );
        let long_id = json!({"content": "hi", "components": [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "Remix", "custom_id": "x".repeat(101)}
        ]}]});
        let long_text = json!({"content": "x".repeat(2001)});

        let (status, body) = json_of(
            http.post(&messages)
                .header("Authorization", bot(&discord))
                .json(&long_id)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], 50035);
        assert_eq!(body["message"], "Invalid Form Body");
        assert_eq!(
            body["errors"]["components"]["0"]["components"]["0"]["custom_id"]["_errors"][0]["code"],
            "BASE_TYPE_BAD_LENGTH"
        );

        let (status, body) = json_of(
            http.post(&messages)
                .header("Authorization", bot(&discord))
                .json(&long_text)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["errors"]["content"]["_errors"][0]["code"],
            "BASE_TYPE_MAX_LENGTH"
        );

        assert!(discord.messages(discord.channel_id()).is_empty());
    }

    #[tokio::test]
    async fn an_upload_over_the_limit_is_413_and_one_under_it_is_served_from_the_cdn() {
        let (discord, http) = start(|c| c.upload_limit = 1000).await;
        let messages = url(
            &discord,
            &format!("/channels/{}/messages", discord.channel_id()),
        );
        let form = |size: usize| {
            reqwest::multipart::Form::new()
                .text(
                    "payload_json",
                    json!({"content": "clip", "attachments": [{"id": 0, "filename": "clip.mp4"}]})
                        .to_string(),
                )
                .part(
                    "files[0]",
                    reqwest::multipart::Part::bytes(vec![7u8; size]).file_name("clip.mp4"),
                )
        };

        let (status, body) = json_of(
            http.post(&messages)
                .header("Authorization", bot(&discord))
                .multipart(form(1001))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            body,
            json!({"code": 40005, "message": "Request entity too large"})
        );

        let (status, body) = json_of(
            http.post(&messages)
                .header("Authorization", bot(&discord))
                .multipart(form(1000))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let file_url = body["attachments"][0]["url"]
            .as_str()
            .expect("a CDN url")
            .to_owned();
        assert_eq!(body["attachments"][0]["size"], 1000);
        let served = http
            .get(&file_url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(served.len(), 1000);
    }

    async fn post_message(
        discord: &DiscordHandle,
        http: &reqwest::Client,
        channel: u64,
    ) -> reqwest::Response {
        http.post(url(discord, &format!("/channels/{channel}/messages")))
            .header("Authorization", bot(discord))
            .json(&json!({"content": "a"}))
            .send()
            .await
            .unwrap()
    }

    fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[tokio::test(start_paused = true)]
    async fn a_cued_429_carries_retry_after_and_holds_its_bucket_until_then() {
        let (discord, http) = start(|_| {}).await;
        let channel = discord.channel_id();
        discord.rate_limit(
            TooManyRequests::next("POST", "/messages", Duration::from_millis(2500)).times(2),
        );

        let limited = post_message(&discord, &http, channel).await;
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            header(&limited, "retry-after"),
            Some("3"),
            "whole seconds, rounded up"
        );
        assert_eq!(header(&limited, "x-ratelimit-scope"), Some("user"));
        assert_eq!(header(&limited, "x-ratelimit-remaining"), Some("0"));
        assert_eq!(header(&limited, "x-ratelimit-reset-after"), Some("2.500"));
        assert!(header(&limited, "x-ratelimit-bucket").is_some());
        assert_eq!(header(&limited, "x-ratelimit-global"), None);
        let (_, body) = json_of(limited).await;
        assert_eq!(
            body,
            json!({"message": "You are being rate limited.", "retry_after": 2.5, "global": false})
        );

        tokio::time::sleep(Duration::from_secs(1)).await;
        let early = post_message(&discord, &http, channel).await;
        assert_eq!(
            early.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "the bucket is held"
        );
        assert_eq!(json_of(early).await.1["retry_after"], 1.5);

        tokio::time::sleep(Duration::from_millis(1500)).await;
        let second = post_message(&discord, &http, channel).await;
        assert_eq!(
            second.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "the second of two"
        );
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(
            post_message(&discord, &http, channel).await.status(),
            StatusCode::OK
        );
    }

    #[tokio::test(start_paused = true)]
    async fn every_answer_carries_its_bucket_and_a_bucket_past_its_limit_answers_429() {
        let (discord, http) = start(|_| {}).await;
        let channel = discord.channel_id();
        let dm = discord.dm_channel(&discord.person("alice"));
        discord.limit_route(
            "POST",
            "/channels/{channel_id}/messages",
            2,
            Duration::from_secs(3),
        );

        let first = post_message(&discord, &http, channel).await;
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(header(&first, "x-ratelimit-limit"), Some("2"));
        assert_eq!(header(&first, "x-ratelimit-remaining"), Some("1"));
        assert_eq!(header(&first, "x-ratelimit-reset-after"), Some("3.000"));
        let reset: f64 = header(&first, "x-ratelimit-reset")
            .unwrap()
            .parse()
            .unwrap();
        assert!(reset > 1.4e9, "a Unix time: {reset}");
        let bucket = header(&first, "x-ratelimit-bucket").unwrap().to_owned();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let second = post_message(&discord, &http, channel).await;
        assert_eq!(header(&second, "x-ratelimit-remaining"), Some("0"));
        assert_eq!(header(&second, "x-ratelimit-reset-after"), Some("2.000"));

        let over = post_message(&discord, &http, channel).await;
        assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&over, "x-ratelimit-bucket"), Some(bucket.as_str()));
        assert_eq!(header(&over, "retry-after"), Some("2"));
        assert_eq!(json_of(over).await.1["retry_after"], 2.0);

        let elsewhere = post_message(&discord, &http, dm).await;
        assert_eq!(
            elsewhere.status(),
            StatusCode::OK,
            "each channel is counted apart"
        );
        assert_eq!(
            header(&elsewhere, "x-ratelimit-bucket"),
            Some(bucket.as_str())
        );
        assert_eq!(header(&elsewhere, "x-ratelimit-remaining"), Some("1"));
        let me = http
            .get(url(&discord, "/users/@me"))
            .header("Authorization", bot(&discord))
            .send()
            .await
            .unwrap();
        assert_ne!(header(&me, "x-ratelimit-bucket"), Some(bucket.as_str()));
        assert_eq!(
            header(&me, "x-ratelimit-limit"),
            Some("1000"),
            "the default"
        );

        tokio::time::sleep(Duration::from_secs(2)).await;
        let next = post_message(&discord, &http, channel).await;
        assert_eq!(next.status(), StatusCode::OK, "a new window");
        assert_eq!(header(&next, "x-ratelimit-remaining"), Some("1"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_global_429_holds_every_route_but_interaction_endpoints() {
        let (discord, http) = start(|_| {}).await;
        let alice = discord.person("alice");
        let call = discord.inject(Call::slash(&alice, "quota", Options::new()));
        discord.rate_limit(
            TooManyRequests::next("GET", "/users/@me", Duration::from_millis(1500)).global(),
        );
        let me = || {
            http.get(url(&discord, "/users/@me"))
                .header("Authorization", bot(&discord))
                .send()
        };

        let limited = me().await.unwrap();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&limited, "x-ratelimit-global"), Some("true"));
        assert_eq!(header(&limited, "x-ratelimit-scope"), Some("global"));
        assert_eq!(header(&limited, "retry-after"), Some("2"));
        assert_eq!(header(&limited, "x-ratelimit-bucket"), None);
        assert_eq!(
            json_of(limited).await.1,
            json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": true})
        );
        let other = post_message(&discord, &http, discord.channel_id()).await;
        assert_eq!(other.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(json_of(other).await.1["global"], true);
        let deferred = http
            .post(url(
                &discord,
                &format!("/interactions/{}/{}/callback", call.id, call.token),
            ))
            .json(&json!({"type": 5}))
            .send()
            .await
            .unwrap();
        assert!(deferred.status().is_success(), "{}", deferred.status());

        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(me().await.unwrap().status(), StatusCode::OK);
    }

    #[tokio::test(start_paused = true)]
    async fn the_global_limit_takes_so_many_requests_a_second() {
        let (discord, http) = start(|c| c.global_limit = Some(3)).await;
        let me = || {
            http.get(url(&discord, "/users/@me"))
                .header("Authorization", bot(&discord))
                .send()
        };
        for _ in 0..3 {
            assert_eq!(me().await.unwrap().status(), StatusCode::OK);
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        let over = me().await.unwrap();
        assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(json_of(over).await.1["retry_after"], 0.6);
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(me().await.unwrap().status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn an_interaction_is_answered_once_and_its_token_expires() {
        let (discord, http) = start(|c| c.token_lifetime = Duration::from_millis(300)).await;
        let alice = discord.person("alice");
        let call = discord.inject(Call::slash(&alice, "quota", Options::new()));
        let callback = url(
            &discord,
            &format!("/interactions/{}/{}/callback", call.id, call.token),
        );
        let original = url(
            &discord,
            &format!(
                "/webhooks/{}/{}/messages/@original",
                discord.application_id(),
                call.token
            ),
        );

        let deferred = http
            .post(&callback)
            .json(&json!({"type": 5, "data": {"flags": 64}}))
            .send()
            .await
            .unwrap();
        assert_eq!(deferred.status(), StatusCode::NO_CONTENT);
        let (status, body) = json_of(
            http.post(&callback)
                .json(&json!({"type": 5}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, body["code"].clone()),
            (StatusCode::BAD_REQUEST, json!(40060))
        );

        let (status, edited) = json_of(
            http.patch(&original)
                .json(&json!({"content": "3 of 20 used"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(edited["content"], "3 of 20 used");
        let shown = discord
            .original_response(call.id)
            .expect("an original response");
        assert!(shown.ephemeral() && !shown.loading());

        tokio::time::sleep(Duration::from_millis(400)).await;
        let (status, body) = json_of(
            http.patch(&original)
                .json(&json!({"content": "late"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            json!({"message": "Invalid Webhook Token", "code": 50027})
        );
    }

    #[tokio::test]
    async fn an_interaction_not_answered_within_the_deadline_is_unknown() {
        let (discord, http) = start(|c| c.ack_deadline = Duration::from_millis(100)).await;
        let alice = discord.person("alice");
        let call = discord.inject(Call::slash(&alice, "help", Options::new()));
        tokio::time::sleep(Duration::from_millis(200)).await;

        let callback = url(
            &discord,
            &format!("/interactions/{}/{}/callback", call.id, call.token),
        );
        let (status, body) = json_of(
            http.post(&callback)
                .json(&json!({"type": 5}))
                .send()
                .await
                .unwrap(),
        )
        .await;

        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["code"], 10062);
    }

    #[tokio::test]
    async fn an_update_message_callback_with_no_attachments_removes_the_files() {
        let (discord, http) = start(|_| {}).await;
        let messages = url(
            &discord,
            &format!("/channels/{}/messages", discord.channel_id()),
        );
        let form = reqwest::multipart::Form::new()
            .text("payload_json", json!({"components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Remix", "custom_id": "remix:7QK3M2XD"}]}]}).to_string())
            .part("files[0]", reqwest::multipart::Part::bytes(vec![1u8; 10]).file_name("v.mp4"));
        let (_, video) = json_of(
            http.post(&messages)
                .header("Authorization", bot(&discord))
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        let video_id: u64 = video["id"].as_str().unwrap().parse().unwrap();

        let alice = discord.person("alice");
        let press = discord.inject(Call::button(&alice, video_id, "remix:7QK3M2XD"));
        let callback = url(
            &discord,
            &format!("/interactions/{}/{}/callback", press.id, press.token),
        );
        let status = http
            .post(&callback)
            .json(&json!({"type": 7, "data": {"content": "pressed", "attachments": []}}))
            .send()
            .await
            .unwrap()
            .status();

        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(
            discord.message(video_id).unwrap().attachments.is_empty(),
            "Discord drops the files an update leaves out"
        );
    }

    #[tokio::test]
    async fn commands_are_stored_with_their_localizations_and_bad_locales_refused() {
        let (discord, http) = start(|_| {}).await;
        let commands = url(
            &discord,
            &format!(
                "/applications/{}/guilds/{}/commands",
                discord.application_id(),
                discord.guild_id()
            ),
        );
        let good = json!([
            {"name": "video", "description": "Make a video", "name_localizations": {"zh-CN": "视频"}, "description_localizations": {"zh-CN": "生成视频"},
             "options": [{"type": 3, "name": "prompt", "description": "What to see", "required": true}]},
            {"type": 3, "name": "Remix", "description": ""}
        ]);
        let bad =
            json!([{"name": "video", "description": "d", "name_localizations": {"zh": "视频"}}]);

        let (status, body) = json_of(
            http.put(&commands)
                .header("Authorization", bot(&discord))
                .json(&good)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body.as_array().map(Vec::len), Some(2));
        let video = discord
            .commands()
            .into_iter()
            .find(|c| c.name() == "video")
            .expect("registered");
        assert_eq!(video.name_in("zh-CN"), Some("视频"));
        assert_eq!(video.guild_id, Some(discord.guild_id()));

        let (status, body) = json_of(
            http.put(&commands)
                .header("Authorization", bot(&discord))
                .json(&bad)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["errors"]["0"]["name_localizations"]["zh"].is_object(),
            "{body}"
        );
    }

    type Socket = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    async fn next_json(socket: &mut Socket) -> Value {
        loop {
            let frame = tokio::time::timeout(WAIT, socket.next())
                .await
                .expect("a frame in time")
                .expect("the socket is open")
                .expect("a frame");
            match frame {
                Message::Text(text) => return serde_json::from_str(text.as_str()).expect("JSON"),
                Message::Close(frame) => return json!({"closed": frame.map(|f| u16::from(f.code))}),
                _ => continue,
            }
        }
    }

    async fn send(socket: &mut Socket, value: Value) {
        socket
            .send(Message::Text(value.to_string().into()))
            .await
            .expect("sent");
    }

    #[tokio::test]
    async fn the_gateway_says_hello_checks_the_token_and_numbers_its_dispatches() {
        let (discord, _) = start(|_| {}).await;
        let (mut socket, _) =
            tokio_tungstenite::connect_async(format!("{}?v=10", discord.gateway_url()))
                .await
                .expect("connects");

        let hello = next_json(&mut socket).await;
        assert_eq!(hello["op"], 10);
        assert_eq!(hello["d"]["heartbeat_interval"], 41_250);

        send(&mut socket, json!({"op": 2, "d": {"token": format!("Bot {}", discord.token()), "intents": 1, "properties": {}}})).await;
        let ready = next_json(&mut socket).await;
        assert_eq!(
            (ready["op"].clone(), ready["t"].clone(), ready["s"].clone()),
            (json!(0), json!("READY"), json!(1))
        );
        assert_eq!(
            ready["d"]["application"]["id"],
            discord.application_id().to_string()
        );
        let guild = next_json(&mut socket).await;
        assert_eq!(
            (guild["t"].clone(), guild["s"].clone()),
            (json!("GUILD_CREATE"), json!(2))
        );

        send(&mut socket, json!({"op": 1, "d": 2})).await;
        assert_eq!(next_json(&mut socket).await["op"], 11);

        let alice = discord.person("alice");
        let call = discord.inject(
            Call::slash(&alice, "video", Options::new().string("prompt", "a cat")).size_limit(1234),
        );
        let event = next_json(&mut socket).await;
        assert_eq!(
            (event["t"].clone(), event["s"].clone()),
            (json!("INTERACTION_CREATE"), json!(3))
        );
        assert_eq!(event["d"]["token"], call.token);
        assert_eq!(event["d"]["attachment_size_limit"], 1234);
        assert_eq!(event["d"]["member"]["user"]["id"], alice.id.to_string());
        assert_eq!(event["d"]["data"]["options"][0]["value"], "a cat");
    }

    #[tokio::test]
    async fn the_gateway_closes_on_a_wrong_token_and_on_a_privileged_intent_not_granted() {
        let (discord, _) = start(|_| {}).await;
        for (token, intents, code) in [
            ("Bot nope".to_owned(), 1u64, 4004u16),
            (format!("Bot {}", discord.token()), 1 | 1 << 15, 4014),
        ] {
            let (mut socket, _) = tokio_tungstenite::connect_async(discord.gateway_url())
                .await
                .expect("connects");
            next_json(&mut socket).await;
            send(
                &mut socket,
                json!({"op": 2, "d": {"token": token, "intents": intents, "properties": {}}}),
            )
            .await;
            assert_eq!(next_json(&mut socket).await, json!({"closed": code}));
        }
    }

    #[tokio::test]
    async fn a_known_session_resumes_and_an_unknown_one_is_invalid() {
        let (discord, _) = start(|_| {}).await;
        let identify =
            json!({"op": 2, "d": {"token": discord.token(), "intents": 1, "properties": {}}});
        let (mut first, _) = tokio_tungstenite::connect_async(discord.gateway_url())
            .await
            .expect("connects");
        next_json(&mut first).await;
        send(&mut first, identify).await;
        let ready = next_json(&mut first).await;
        let session = ready["d"]["session_id"]
            .as_str()
            .expect("a session id")
            .to_owned();
        drop(first);

        let (mut again, _) = tokio_tungstenite::connect_async(discord.gateway_url())
            .await
            .expect("connects");
        next_json(&mut again).await;
        let resume =
            json!({"op": 6, "d": {"token": discord.token(), "session_id": session, "seq": 2}});
        send(&mut again, resume).await;
        let resumed = next_json(&mut again).await;
        assert_eq!(
            (resumed["t"].clone(), resumed["s"].clone()),
            (json!("RESUMED"), json!(3))
        );

        let (mut stranger, _) = tokio_tungstenite::connect_async(discord.gateway_url())
            .await
            .expect("connects");
        next_json(&mut stranger).await;
        let resume =
            json!({"op": 6, "d": {"token": discord.token(), "session_id": "nope", "seq": 1}});
        send(&mut stranger, resume).await;
        assert_eq!(
            next_json(&mut stranger).await,
            json!({"op": 9, "d": false, "s": null, "t": null})
        );
    }

    /// A gateway connection identified as `shard`, past its READY; the READY.
    async fn identified(discord: &DiscordHandle, shard: [u64; 2]) -> (Socket, Value) {
        let (mut socket, _) = tokio_tungstenite::connect_async(discord.gateway_url())
            .await
            .expect("connects");
        next_json(&mut socket).await;
        let identify = json!({"op": 2, "d": {"token": discord.token(), "intents": 1, "properties": {}, "shard": shard}});
        send(&mut socket, identify).await;
        let ready = next_json(&mut socket).await;
        assert_eq!(ready["t"], "READY");
        (socket, ready)
    }

    #[tokio::test]
    async fn each_event_goes_to_its_shard_guild_events_by_the_guild_and_direct_ones_to_shard_zero()
    {
        let (discord, _) = start(|c| c.guild_shard = Some([1, 2])).await;
        let alice = discord.person("alice");
        let slash =
            |prompt: &str| Call::slash(&alice, "video", Options::new().string("prompt", prompt));
        let (mut zero, ready_zero) = identified(&discord, [0, 2]).await;

        // Shard 1 is not connected: its event waits for it.
        let waiting = discord.inject(slash("in the guild, early"));
        let direct = discord.inject(slash("in a DM").in_dm());
        let first_on_zero = next_json(&mut zero).await;
        let (mut one, ready_one) = identified(&discord, [1, 2]).await;
        let guild_on_one = next_json(&mut one).await;
        let waited_on_one = next_json(&mut one).await;
        let later = discord.inject(slash("in the guild, later"));
        let later_on_one = next_json(&mut one).await;
        let direct_again = discord.inject(slash("in a DM again").in_dm());
        let second_on_zero = next_json(&mut zero).await;

        let guild = discord.guild_id().to_string();
        assert_eq!(ready_zero["d"]["guilds"], json!([]));
        assert_eq!(ready_one["d"]["guilds"][0]["id"], guild);
        assert_eq!(guild_on_one["t"], "GUILD_CREATE");
        assert_eq!(first_on_zero["d"]["token"], direct.token, "{first_on_zero}");
        assert!(first_on_zero["d"].get("guild_id").is_none());
        assert_eq!(waited_on_one["d"]["token"], waiting.token);
        assert_eq!(later_on_one["d"]["token"], later.token);
        assert_eq!(later_on_one["d"]["guild_id"], guild);
        assert_eq!(second_on_zero["d"]["token"], direct_again.token);
        let mut shards = discord.session_shards();
        shards.sort();
        assert_eq!(shards, [Some([0, 2]), Some([1, 2])]);
    }

    #[tokio::test]
    async fn a_message_sent_again_with_an_enforced_nonce_returns_the_first() {
        let (discord, http) = start(|_| {}).await;
        let channel = discord.channel_id();
        let messages = url(&discord, &format!("/channels/{channel}/messages"));
        let post = |body: Value| {
            http.post(&messages)
                .header("Authorization", bot(&discord))
                .json(&body)
                .send()
        };
        let enforced =
            json!({"content": "the video", "nonce": "sb-7QK3M2XD-0", "enforce_nonce": true});

        let (status, first) = json_of(post(enforced.clone()).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(first["nonce"], "sb-7QK3M2XD-0");
        let (status, again) = json_of(post(enforced).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["id"], first["id"]);
        assert_eq!(discord.messages(channel).len(), 1);

        // Without enforce_nonce the nonce is only echoed; another nonce is
        // another message.
        let echoed = json!({"content": "the video", "nonce": "sb-7QK3M2XD-0"});
        let (_, plain) = json_of(post(echoed).await.unwrap()).await;
        assert_ne!(plain["id"], first["id"]);
        let other = json!({"content": "the video", "nonce": 42, "enforce_nonce": true});
        let (_, numbered) = json_of(post(other).await.unwrap()).await;
        assert_ne!(numbered["id"], first["id"]);
        assert_eq!(discord.messages(channel).len(), 3);

        let long = json!({"content": "x", "nonce": "n".repeat(26), "enforce_nonce": true});
        let (status, body) = json_of(post(long).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], 50035);
    }

    #[tokio::test]
    async fn an_enforced_nonce_is_forgotten_after_the_window() {
        let (discord, http) = start(|c| c.nonce_window = Duration::from_millis(50)).await;
        let channel = discord.channel_id();
        let messages = url(&discord, &format!("/channels/{channel}/messages"));
        let body = json!({"content": "late", "nonce": "sb-late", "enforce_nonce": true});
        let post = || {
            http.post(&messages)
                .header("Authorization", bot(&discord))
                .json(&body)
                .send()
        };

        let (_, first) = json_of(post().await.unwrap()).await;
        let first_created = discord.messages(channel)[0].created;
        discord
            .wait_for(WAIT, |_| {
                (first_created.elapsed() > Duration::from_millis(50)).then_some(())
            })
            .await
            .expect("the window passes");
        let (_, second) = json_of(post().await.unwrap()).await;

        assert_ne!(second["id"], first["id"]);
        assert_eq!(discord.messages(channel).len(), 2);
    }
}
