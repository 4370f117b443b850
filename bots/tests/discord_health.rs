//! `/healthz` over the Discord adapter: the fake Discord's `/users/@me`
//! answers, then fails, and the health check says so, naming Discord.

mod discord_support;
mod http_support;

use std::time::Duration;

use discord_support::World;
use http_support::{settings, Server};

#[tokio::test]
async fn health_is_503_naming_discord_when_its_users_me_fails() {
    let world = World::start().await;
    let server = Server::start(
        world.engine(),
        world.ports(),
        settings(Duration::ZERO, Duration::from_secs(2)),
    )
    .await;
    let (status, _, body) = server.get("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));

    world.discord.fail_always("GET", "/users/@me", 500);
    let (status, _, body) = server.get("/healthz").await;

    assert_eq!(status, 503, "{body}");
    assert_eq!(body, "discord: does not answer (the log says why)\n");
    assert!(!body.contains(world.discord.token()), "{body}");
    let asked = world
        .discord
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/users/@me" && r.status == 500)
        .count();
    assert_eq!(asked, 1, "the probe went through the REST client");
    server.stop().await;
}
