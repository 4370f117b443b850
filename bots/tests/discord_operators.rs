//! The operators' slash commands on Discord, against the fake Discord:
//! `/ban`, `/grant` and `/stats` for an operator, refused to everyone else.

mod discord_support;

use discord_support::*;
use sorabot_sim::discord::{Call, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_bans_grants_and_reads_stats_and_no_one_else_may() {
    let mut world = World::start().await;
    let op = world.person("op");
    let bob = world.person("bob");
    world
        .limits
        .access
        .admins
        .insert(format!("discord:{}", op.id));
    world.restart_bot().await;
    let bob_key = format!("discord:{}", bob.id);

    let by_bob = world.inject(Call::slash(
        &bob,
        "grant",
        Options::new()
            .string("user", &bob_key)
            .integer("credits", 50),
    ));
    let refused = world.answer(&by_bob).await;
    let ban = world.inject(Call::slash(
        &op,
        "ban",
        Options::new().string("user", &bob_key),
    ));
    let banned = world.answer(&ban).await;
    let _video = world.inject(Call::slash(
        &bob,
        "video",
        Options::new().string("prompt", "a fox"),
    ));
    // A /video is answered in the open; a refusal of it comes as a
    // follow-up for its user alone.
    let no_video = world.message_saying("You are banned").await;
    let grant = world.inject(Call::slash(
        &op,
        "grant",
        Options::new()
            .string("user", &bob_key)
            .integer("credits", 5),
    ));
    let granted = world.answer(&grant).await;
    let stats = world.inject(Call::slash(
        &op,
        "stats",
        Options::new().string("window", "7d"),
    ));
    let summary = world.answer(&stats).await;

    assert_eq!(refused.content, "Only the bot's operators may use /grant.");
    assert!(refused.ephemeral());
    assert_eq!(
        banned.content,
        format!("{bob_key} is banned: their commands are refused from now on.")
    );
    assert!(banned.ephemeral());
    assert!(
        no_video
            .content
            .starts_with("You are banned from using this bot"),
        "{}",
        no_video.content
    );
    assert!(
        granted.content.contains("got 5 more credits for today"),
        "{}",
        granted.content
    );
    assert!(
        summary.content.starts_with("📊 The last 7 days"),
        "{}",
        summary.content
    );
    assert!(summary.content.contains("Jobs: 0"), "{}", summary.content);
}
