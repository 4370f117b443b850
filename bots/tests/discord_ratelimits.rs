//! Discord's rate limits, obeyed by the adapter's one REST path (the one
//! production uses) against the fake Discord: a 429 waits its
//! `retry_after` before the same request goes again, a bucket with nothing
//! remaining holds the next request until its reset (and only in its own
//! channel), a global 429 holds every other route, and the tries and the
//! waits are bounded. Under tokio's paused clock: the fake's records carry
//! exact times, and time moves only when every task waits.

mod discord_support;

use std::sync::Arc;
use std::time::Duration;

use sorabot::chat::{ChatError, ChatPort, ChatRef, Outgoing};
use sorabot_sim::discord::{
    DiscordConfig, DiscordHandle, FakeDiscord, RequestRecord, TooManyRequests,
};
use tokio::time::Instant;

use discord_support::WAIT;

/// The fake Discord and the adapter's port on it (connected as the binary
/// connects: token checked, application read, commands registered).
struct Connected {
    discord: DiscordHandle,
    port: Arc<dyn ChatPort>,
}

impl Connected {
    async fn start() -> Connected {
        let discord = FakeDiscord::start(DiscordConfig::default())
            .await
            .expect("the fake Discord starts");
        let adapter = sorabot_bots::discord::connect(&discord_support::settings(&discord, false))
            .await
            .expect("the adapter connects to the fake");
        Connected {
            port: adapter.port(),
            discord,
        }
    }

    /// The guild's channel, as the engine names it.
    fn chat(&self) -> ChatRef {
        ChatRef {
            platform: "discord".to_owned(),
            chat: self.discord.channel_id().to_string(),
            thread: None,
            private: false,
        }
    }

    /// `/channels/{channel}/messages` of the guild's channel.
    fn messages_path(&self) -> String {
        format!("/channels/{}/messages", self.discord.channel_id())
    }

    async fn say(&self, text: &str) -> Result<String, ChatError> {
        self.port.send(&self.chat(), &Outgoing::text(text)).await
    }

    /// The requests of `method` on exactly `path`, in order.
    fn requests(&self, method: &str, path: &str) -> Vec<RequestRecord> {
        self.discord
            .requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    fn statuses(&self) -> Vec<u16> {
        self.discord.requests().iter().map(|r| r.status).collect()
    }

    /// Waits until the fake has answered `count` requests of `method` on `path`.
    async fn wait_requests(&self, method: &str, path: &str, count: usize) -> Vec<RequestRecord> {
        self.discord
            .wait_for(WAIT, |_| {
                let seen = self.requests(method, path);
                (seen.len() >= count).then_some(seen)
            })
            .await
            .unwrap_or_else(|| panic!("{count} requests {method} {path}"))
    }
}

/// Under the paused clock, time moves on only once every task waits: this
/// returns when the adapter has handled every answer it was sent.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test(start_paused = true)]
async fn a_429_is_tried_again_after_its_retry_after_and_no_sooner() {
    let bot = Connected::start().await;
    let path = bot.messages_path();
    bot.discord
        .rate_limit_next("POST", &path, Duration::from_millis(2500));

    bot.say("hello").await.expect("posted after the wait");

    let posts = bot.requests("POST", &path);
    assert_eq!(
        posts.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 200]
    );
    let gap = posts[1].at - posts[0].at;
    assert!(gap >= Duration::from_millis(2500), "waited {gap:?}");
    assert!(
        gap < Duration::from_secs(3),
        "the body's 2.5 s, not the header's rounded 3: {gap:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_bucket_with_nothing_remaining_holds_the_next_request_until_its_reset() {
    let bot = Connected::start().await;
    let path = bot.messages_path();
    let window = Duration::from_secs(3);
    bot.discord
        .limit_route("POST", "/channels/{channel_id}/messages", 2, window);

    for text in ["one", "two", "three"] {
        bot.say(text).await.expect("posted");
    }

    let posts = bot.requests("POST", &path);
    assert_eq!(
        posts.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 200, 200],
        "never past the limit"
    );
    assert!(
        posts[1].at - posts[0].at < Duration::from_secs(1),
        "the second goes at once"
    );
    assert!(
        posts[2].at - posts[0].at >= window,
        "the third waits for the reset: {:?}",
        posts[2].at - posts[0].at
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_bucket_in_one_channel_does_not_hold_back_another() {
    let bot = Connected::start().await;
    let path = bot.messages_path();
    let window = Duration::from_secs(3);
    bot.discord
        .limit_route("POST", "/channels/{channel_id}/messages", 1, window);
    let alice = bot.discord.person("alice");
    let dm_path = format!("/channels/{}/messages", bot.discord.dm_channel(&alice));

    bot.say("one").await.expect("posted");
    bot.port
        .message_admin(&alice.id.to_string(), "a word in private")
        .await
        .expect("the DM is sent");
    bot.say("two").await.expect("posted");

    let posts = bot.requests("POST", &path);
    let dm = bot.requests("POST", &dm_path);
    assert_eq!(dm.len(), 1);
    assert!(
        dm[0].at - posts[0].at < Duration::from_secs(1),
        "another channel, another bucket"
    );
    assert!(posts[1].at - posts[0].at >= window);
    assert!(
        !bot.statuses().contains(&429),
        "{:?}",
        bot.discord.requests()
    );
}

#[tokio::test(start_paused = true)]
async fn a_global_429_holds_every_other_route_until_it_passes() {
    let bot = Connected::start().await;
    let path = bot.messages_path();
    let pause = Duration::from_millis(1500);
    bot.discord
        .rate_limit(TooManyRequests::next("POST", &path, pause).global());
    let alice = bot.discord.person("alice");

    let posting = tokio::spawn({
        let (port, chat) = (bot.port.clone(), bot.chat());
        async move { port.send(&chat, &Outgoing::text("hello")).await }
    });
    let limited = bot.wait_requests("POST", &path, 1).await[0].clone();
    assert_eq!(limited.status, 429);
    settle().await;
    bot.port
        .message_admin(&alice.id.to_string(), "a word in private")
        .await
        .expect("the DM is sent after the pause");
    posting
        .await
        .expect("the post did not panic")
        .expect("posted after the pause");

    let dm_channel = bot.requests("POST", "/users/@me/channels");
    assert_eq!(dm_channel.len(), 1);
    assert!(
        dm_channel[0].at - limited.at >= pause,
        "another route waited out the global pause: {:?}",
        dm_channel[0].at - limited.at
    );
    let posts = bot.requests("POST", &path);
    assert!(posts[1].at - limited.at >= pause);
    assert_eq!(
        bot.statuses().iter().filter(|s| **s == 429).count(),
        1,
        "nothing was sent into the pause"
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_answered_429_again_and_again_gives_up_after_three_retries() {
    let bot = Connected::start().await;
    let path = bot.messages_path();
    let wait = Duration::from_millis(500);
    bot.discord
        .rate_limit(TooManyRequests::next("POST", &path, wait).times(10));

    let outcome = bot.say("hello").await;

    assert_eq!(outcome, Err(ChatError::RateLimited(wait)));
    let posts = bot.requests("POST", &path);
    assert_eq!(
        posts.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 429, 429, 429],
        "the first try and three more"
    );
    for pair in posts.windows(2) {
        assert!(pair[1].at - pair[0].at >= wait);
    }
}

#[tokio::test(start_paused = true)]
async fn a_wait_past_the_cap_fails_at_once_and_says_how_long() {
    let bot = Connected::start().await;
    let path = bot.messages_path();
    let long = Duration::from_secs(90);
    bot.discord.rate_limit_next("POST", &path, long);
    let started = Instant::now();

    let outcome = bot.say("hello").await;
    let again = bot.say("hello again").await;

    assert_eq!(outcome, Err(ChatError::RateLimited(long)));
    assert!(
        matches!(again, Err(ChatError::RateLimited(wait)) if wait <= long && wait > Duration::from_secs(60)),
        "the bucket is still held: {again:?}"
    );
    assert_eq!(
        bot.requests("POST", &path).len(),
        1,
        "nothing sent into the wait"
    );
    assert!(started.elapsed() < Duration::from_secs(1), "no waiting");
}
