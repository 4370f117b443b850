//! The adapter's start-up and its contract with Discord: commands registered
//! in the guild with Chinese localizations, a bad token refused by name, the
//! fake's payloads readable by serenity and its bodies checked like
//! Discord's, personal answers shown to their user alone, in their language.

mod discord_support;

use discord_support::{Setup, World};
use secrecy::SecretString;
use serde_json::json;
use serenity::all::ChannelId;
use serenity::http::{HttpBuilder, HttpError};
use sorabot::command::{CommandName, Lang};
use sorabot::i18n;
use sorabot_bots::discord;
use sorabot_sim::discord::{Call, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_in_the_guild_with_chinese_localizations() {
    let world = World::start().await;

    let commands = world.discord.commands();

    assert_eq!(commands.len(), 16);
    assert!(commands
        .iter()
        .all(|c| c.guild_id == Some(world.discord.guild_id())));
    let video = commands
        .iter()
        .find(|c| c.name() == "video")
        .expect("/video");
    assert_eq!(video.name_in("zh-CN"), Some("视频"));
    assert_eq!(video.name_in("zh-TW"), Some("影片"));
    assert_eq!(
        video.description(),
        i18n::summary(Lang::En, CommandName::Video)
    );
    assert_eq!(
        video.description_in("zh-CN"),
        Some(i18n::summary(Lang::Zh, CommandName::Video).as_str())
    );
    assert_eq!(
        video.description_in("zh-TW"),
        Some("根據提示詞（和隨附的圖片）生成影片。")
    );
    let options: Vec<String> = video
        .options()
        .iter()
        .map(|o| o["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    // The native service takes no HD: /video does not offer it.
    assert_eq!(options, ["prompt", "image", "aspect", "duration", "model"]);
    assert_eq!(video.options()[2]["choices"][0]["value"], "16:9");
    for slash in [
        "image",
        "remix",
        "character",
        "tasks",
        "status",
        "cancel",
        "settings",
        "quota",
        "help",
        "stats",
        "ban",
        "unban",
        "grant",
    ] {
        let command = commands
            .iter()
            .find(|c| c.name() == slash)
            .unwrap_or_else(|| panic!("/{slash}"));
        assert!(
            command.name_in("zh-CN").is_some() && command.description_in("zh-CN").is_some(),
            "/{slash}"
        );
    }
    let menus: Vec<(&str, Option<&str>)> = commands
        .iter()
        .filter(|c| c.kind() == 3)
        .map(|c| (c.name(), c.name_in("zh-CN")))
        .collect();
    assert_eq!(
        menus,
        [
            (discord::REMIX_MENU, Some("重绘")),
            (discord::CHARACTER_MENU, Some("存为角色"))
        ]
    );
}

/// The values of the choices of `/command`'s option `option`, as registered.
fn choices(world: &World, command: &str, option: &str) -> Vec<serde_json::Value> {
    let commands = world.discord.commands();
    let command = commands
        .iter()
        .find(|c| c.name() == command)
        .unwrap_or_else(|| panic!("/{command}"));
    command
        .options()
        .iter()
        .find(|o| o["name"] == option)
        .and_then(|o| o["choices"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|c| c["value"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_durations_offered_are_the_ones_the_openai_service_takes() {
    let world = Setup::new()
        .sim(|sim| *sim = sorabot_sim::SimConfig::for_style(sorabot_sim::Style::OpenAi))
        .start()
        .await;

    let durations = choices(&world, "video", "duration");

    assert_eq!(durations, [json!(4), json!(8), json!(12)]);
    assert_eq!(world.engine().capabilities().durations, [4, 8, 12]);
    assert_eq!(choices(&world, "settings", "duration"), durations);
    let models = choices(&world, "video", "model");
    assert_eq!(models, [json!("sora-2"), json!("sora-2-pro")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_choices_of_the_native_service_follow_its_capabilities() {
    let world = World::start().await;
    let capabilities = world.engine().capabilities().clone();

    let durations = choices(&world, "video", "duration");

    let expected: Vec<serde_json::Value> =
        capabilities.durations.iter().map(|&s| json!(s)).collect();
    assert_eq!(durations, expected);
    assert_eq!(
        choices(&world, "video", "aspect").len(),
        if capabilities.aspect_ratio { 2 } else { 0 }
    );
    let commands = world.discord.commands();
    let video = commands
        .iter()
        .find(|c| c.name() == "video")
        .expect("/video");
    let has = |name: &str| video.options().iter().any(|o| o["name"] == name);
    assert_eq!(has("hd"), capabilities.hd);
    assert_eq!(has("model"), capabilities.pro);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_at_start_up_by_its_variable_name() {
    let world = World::start().await;
    let mut settings = world.settings();
    settings.token = SecretString::from("not-the-token".to_owned());

    let refused = discord::connect(&settings).await.err().expect("a refusal");

    let text = format!("{refused:#}");
    assert!(text.contains("DISCORD_BOT_TOKEN"), "{text}");
    assert!(
        !text.contains("not-the-token"),
        "the token is never shown: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fakes_guild_create_is_read_by_serenity() {
    let world = World::start().await;

    let guild: serenity::all::Guild = serde_json::from_value(world.discord.guild_create_payload())
        .expect("serenity reads the guild");

    assert_eq!(guild.id.get(), world.discord.guild_id());
    assert!(guild
        .channels
        .contains_key(&ChannelId::new(world.channel())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_refuses_invalid_bodies_from_serenity_with_50035() {
    let world = World::start().await;
    let http = HttpBuilder::new(world.discord.token())
        .proxy(world.discord.api_url())
        .ratelimiter_disabled(true)
        .build();
    let channel = ChannelId::new(world.channel());
    let long_id = json!({"content": "x", "components": [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Remix", "custom_id": "x".repeat(101)}
    ]}]});
    let long_text = json!({"content": "x".repeat(2001)});

    for (body, field) in [
        (long_id, "components.0.components.0.custom_id"),
        (long_text, "content"),
    ] {
        let refused = http
            .send_message(channel, vec![], &body)
            .await
            .expect_err("refused");
        let serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) = refused else {
            panic!("an HTTP error: {refused:?}");
        };
        assert_eq!(response.status_code.as_u16(), 400);
        assert_eq!(response.error.code, 50035);
        assert_eq!(
            response.error.errors.first().map(|e| e.path.as_str()),
            Some(field)
        );
    }
    assert!(world.discord.messages(world.channel()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_commands_answer_only_their_user_in_their_language() {
    let world = World::start().await;
    let li = world.person("li").speaking("zh-CN");

    let quota = world.inject(Call::slash(&li, "quota", Options::new()));
    let answer = world.answer(&quota).await;

    assert!(answer.ephemeral());
    assert!(
        answer.content.starts_with("今天已用 0/20 点"),
        "{}",
        answer.content
    );
    assert_eq!(world.callback(&quota).await.data["flags"], 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_lists_the_users_jobs_and_help_explains_a_command() {
    let world = World::start().await;
    let alice = world.person("alice");
    let (job, _) = world.video_by(&alice, "a quiet forest").await;

    let tasks = world.inject(Call::slash(&alice, "tasks", Options::new()));
    let listed = world.answer(&tasks).await;
    assert!(
        listed.content.contains(&job) && listed.content.contains("a quiet forest"),
        "{}",
        listed.content
    );

    let help = world.inject(Call::slash(
        &alice,
        "help",
        Options::new().string("command", "video"),
    ));
    assert!(world
        .answer(&help)
        .await
        .content
        .starts_with("/video — Make a video"));
}
