//! `DISCORD_SHARDS`: an instance connects exactly its range of the bot's
//! gateway shards (both ends included), and still serves commands.

mod discord_support;

use std::time::Duration;

use discord_support::Setup;
use sorabot_bots::config::ShardRange;

/// serenity waits five seconds between two shards' IDENTIFYs.
const BOTH_SHARDS_WITHIN: Duration = Duration::from_secs(20);
/// Past the gap after which a third shard would have identified.
const NO_THIRD_WITHIN: Duration = Duration::from_secs(7);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_one_to_two_of_four_identify_as_exactly_those_two_shards() {
    let range: ShardRange = "1-2/4".parse().expect("a shard range");

    let world = Setup::new().shards(range).start().await;
    let shards = world
        .discord
        .wait_for(BOTH_SHARDS_WITHIN, |discord| {
            let shards = discord.identified_shards();
            (shards.len() >= 2).then_some(shards)
        })
        .await
        .expect("two shards identify");

    assert_eq!(shards, [Some([1, 4]), Some([2, 4])]);
    // A third shard in the range would identify five seconds after the
    // second (serenity's gap between boots): none does within seven.
    let third = world
        .discord
        .wait_for(NO_THIRD_WITHIN, |discord| {
            let shards = discord.identified_shards();
            (shards.len() > 2).then_some(shards)
        })
        .await;
    assert_eq!(third, None, "only shards 1 and 2 connect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_shards_set_the_bot_identifies_once_as_discord_recommends() {
    let world = Setup::new().start().await;

    let shards = world.discord.identified_shards();

    assert_eq!(shards, [Some([0, 1])], "the fake recommends one shard");
}
