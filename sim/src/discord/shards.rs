//! Which gateway shard an event goes to, by Discord's rule: a guild's
//! events to shard `(guild_id >> 22) % num_shards`, direct messages to
//! shard 0. A session that identified without a shard is shard 0 of 1 and
//! takes everything. So several processes that each connect some of a
//! bot's shards get each event once, as they do from Discord.

use serde_json::Value;

/// A shard as IDENTIFY names it: `[shard_id, num_shards]`.
pub type Shard = [u64; 2];

/// The shard of `num_shards` a guild's events go to.
pub fn of_guild(guild_id: u64, num_shards: u64) -> u64 {
    (guild_id >> 22) % num_shards.max(1)
}

/// Whether a session of `shard` gets an event with this payload.
pub fn takes(shard: Option<Shard>, data: &Value) -> bool {
    let [id, total] = shard.unwrap_or([0, 1]);
    let guild = data
        .get("guild_id")
        .and_then(Value::as_str)
        .and_then(|g| g.parse::<u64>().ok());
    match guild {
        Some(guild) => of_guild(guild, total) == id,
        None => id == 0,
    }
}

/// The smallest snowflake at or after `id` whose guild shard is `shard`
/// (the timestamp moved on by a few milliseconds at most).
pub fn mint_on(id: u64, [wanted, total]: Shard) -> u64 {
    let total = total.max(1);
    let millis = id >> 22;
    let ahead = (wanted % total + total - millis % total) % total;
    if ahead == 0 {
        id
    } else {
        (millis + ahead) << 22
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn guild_events_go_to_the_guilds_shard_and_direct_messages_to_shard_zero() {
        let guild = 7_u64 << 22 | 5;
        let in_guild = json!({"guild_id": guild.to_string()});
        let direct = json!({"channel_id": "1"});

        assert!(takes(Some([1, 2]), &in_guild));
        assert!(!takes(Some([0, 2]), &in_guild));
        assert!(takes(Some([0, 2]), &direct));
        assert!(!takes(Some([1, 2]), &direct));
        assert!(takes(None, &in_guild) && takes(None, &direct));
    }

    #[test]
    fn a_minted_id_lands_on_the_shard_asked_for_and_never_goes_back() {
        for id in [0, 1 << 22, (9 << 22) | 77, u64::from(u32::MAX) << 8] {
            for shard in [[0, 2], [1, 2], [2, 3], [0, 1]] {
                let minted = mint_on(id, shard);
                assert_eq!(of_guild(minted, shard[1]), shard[0], "{id} {shard:?}");
                assert!(minted >= id);
            }
        }
    }
}
