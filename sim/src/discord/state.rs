//! Shared state of a running fake Discord: who is who, every message and
//! interaction, the gateway sessions to dispatch events to, and the cues
//! tests script.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::config::DiscordConfig;
use super::limits::Limits;
use super::records::{
    permissions, CallbackRecord, FileInfo, MessageRecord, Person, RegisteredCommand, RequestRecord,
};
use super::shards::{self, Shard};

/// 2015-01-01T00:00:00Z, where snowflake time starts.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A text channel the fake knows.
#[derive(Debug, Clone)]
pub struct Channel {
    pub id: u64,
    /// `None`: a DM with `dm_with`.
    pub guild_id: Option<u64>,
    pub name: String,
    pub dm_with: Option<u64>,
}

/// An interaction sent to the bot and how it was answered.
#[derive(Debug, Clone)]
pub struct InteractionState {
    pub id: u64,
    pub token: String,
    /// 2 command, 3 component, 5 modal submit.
    pub kind: u64,
    pub channel_id: u64,
    pub created: Instant,
    /// The callback type it got, once answered.
    pub answered: Option<u64>,
    /// The message `@original` stands for: the response, or for a
    /// component the message the component sits on.
    pub original: Option<u64>,
    /// A component's message (or the message a modal was opened from).
    pub source_message: Option<u64>,
}

/// A file's bytes and what it is.
#[derive(Debug, Clone)]
pub struct Blob {
    pub info: FileInfo,
    pub data: Bytes,
}

/// Everything that changes, under one lock.
#[derive(Debug, Default)]
pub struct World {
    pub people: HashMap<u64, Person>,
    pub channels: HashMap<u64, Channel>,
    pub messages: BTreeMap<u64, MessageRecord>,
    pub interactions: HashMap<u64, InteractionState>,
    pub callbacks: Vec<CallbackRecord>,
    pub commands: Vec<RegisteredCommand>,
    pub requests: Vec<RequestRecord>,
    /// Buckets, the global limit and scripted 429s.
    pub limits: Limits,
    /// Holds scripted for the next requests that upload files: each is
    /// carried out at once, its answer sent that much later.
    pub upload_holds: std::collections::VecDeque<Duration>,
    /// Requests (method, exact path) answered with this error status every
    /// time, until the test lifts it.
    pub standing_failures: Vec<(String, String, u16)>,
    pub files: HashMap<u64, Blob>,
    /// Events sent while no session of their shard was ready, delivered
    /// to the next one that takes them.
    pub pending: Vec<(String, Value)>,
}

/// One open, identified gateway connection.
#[derive(Debug)]
pub struct Session {
    pub ready: bool,
    /// The shard it identified as (`None`: it named none, and takes all).
    pub shard: Option<Shard>,
    pub events: mpsc::UnboundedSender<(String, Value)>,
}

/// The state every handler shares.
#[derive(Debug)]
pub struct Shared {
    pub config: DiscordConfig,
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    pub application_id: u64,
    pub bot_id: u64,
    pub owner_id: u64,
    pub guild_id: u64,
    pub channel_id: u64,
    pub shutdown: CancellationToken,
    /// Woken on every change, for waiters.
    pub changed: Notify,
    ids: AtomicU64,
    world: Mutex<World>,
    sessions: Mutex<HashMap<String, Session>>,
    /// Session ids that may be resumed, with the shard each was.
    resumable: Mutex<HashMap<String, Option<Shard>>>,
    identifies: AtomicU64,
    /// The `shard` field of every successful IDENTIFY, in order (`None`:
    /// it had none).
    identified_shards: Mutex<Vec<Option<[u64; 2]>>>,
}

impl Shared {
    pub fn new(config: DiscordConfig, base_url: String) -> Shared {
        let ids = AtomicU64::new(0);
        let next = || next_snowflake(&ids);
        let (application_id, owner_id) = (next(), next());
        let guild_id = match config.guild_shard {
            Some(shard) => shards::mint_on(next(), shard),
            None => next(),
        };
        ids.fetch_max(guild_id, Ordering::Relaxed);
        let channel_id = next_snowflake(&ids);
        let shared = Shared {
            config,
            base_url,
            bot_id: application_id,
            application_id,
            owner_id,
            guild_id,
            channel_id,
            shutdown: CancellationToken::new(),
            changed: Notify::new(),
            ids,
            world: Mutex::default(),
            sessions: Mutex::default(),
            resumable: Mutex::default(),
            identifies: AtomicU64::new(0),
            identified_shards: Mutex::default(),
        };
        let channel = Channel {
            id: channel_id,
            guild_id: Some(guild_id),
            name: "general".to_owned(),
            dm_with: None,
        };
        shared.world().channels.insert(channel_id, channel);
        shared
    }

    /// A new snowflake, later than every one before.
    pub fn next_id(&self) -> u64 {
        next_snowflake(&self.ids)
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn sessions(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn resumable(&self) -> MutexGuard<'_, HashMap<String, Option<Shard>>> {
        self.resumable.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells waiters something changed.
    pub fn touch(&self) {
        self.changed.notify_waiters();
    }

    /// A gateway IDENTIFY succeeded, for this shard.
    pub fn count_identify(&self, shard: Option<[u64; 2]>) {
        self.identified_shards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(shard);
        self.identifies.fetch_add(1, Ordering::Relaxed);
    }

    /// The shards IDENTIFY named, in order.
    pub fn identified_shards(&self) -> Vec<Option<[u64; 2]>> {
        self.identified_shards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn identifies(&self) -> u64 {
        self.identifies.load(Ordering::Relaxed)
    }

    /// `ws://127.0.0.1:PORT/gateway`
    pub fn gateway_url(&self) -> String {
        format!("{}/gateway", self.base_url.replacen("http://", "ws://", 1))
    }

    /// Adds a member to the guild.
    pub fn add_person(&self, name: &str) -> Person {
        let person = Person {
            id: self.next_id(),
            name: name.to_owned(),
            locale: "en-US".to_owned(),
            permissions: permissions::MEMBER,
        };
        self.world().people.insert(person.id, person.clone());
        person
    }

    /// The DM channel between the bot and `person`, made on first use.
    pub fn dm_channel(&self, person: &Person) -> u64 {
        let existing = self
            .world()
            .channels
            .values()
            .find(|c| c.dm_with == Some(person.id))
            .map(|c| c.id);
        if let Some(id) = existing {
            return id;
        }
        let id = self.next_id();
        let channel = Channel {
            id,
            guild_id: None,
            name: String::new(),
            dm_with: Some(person.id),
        };
        self.world().channels.insert(id, channel);
        id
    }

    /// Sends a dispatch to every ready session of its shard, or keeps it
    /// for the next. Takes the world (locked by the caller) so no event
    /// slips between a new session taking the waiting ones and registering
    /// itself.
    pub fn dispatch(&self, world: &mut World, event: &str, data: Value) {
        let mut sent = false;
        let sessions = self.sessions();
        let takers = sessions
            .values()
            .filter(|s| s.ready && shards::takes(s.shard, &data));
        for session in takers {
            sent |= session
                .events
                .send((event.to_owned(), data.clone()))
                .is_ok();
        }
        if !sent {
            world.pending.push((event.to_owned(), data));
        }
    }
}

/// `(ms since the Discord epoch) << 22 | counter`, strictly increasing.
fn next_snowflake(last: &AtomicU64) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(DISCORD_EPOCH_MS);
    let fresh = now.saturating_sub(DISCORD_EPOCH_MS) << 22;
    let mut current = last.load(Ordering::Relaxed);
    loop {
        let next = fresh.max(current + 1);
        match last.compare_exchange(current, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => current = seen,
        }
    }
}

/// The moment a snowflake was made, as ISO 8601.
pub fn snowflake_time(id: u64) -> String {
    iso8601((id >> 22) + DISCORD_EPOCH_MS)
}

/// Now, as ISO 8601.
pub fn now_iso() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    iso8601(ms)
}

/// Milliseconds since the Unix epoch as `2024-05-01T12:00:00.000000+00:00`.
fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}000+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Howard Hinnant's days-to-date algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(
            iso8601(1_714_564_800_123),
            "2024-05-01T12:00:00.123000+00:00"
        );
    }

    #[test]
    fn snowflakes_increase_and_carry_their_time() {
        let ids = AtomicU64::new(0);
        let a = next_snowflake(&ids);
        let b = next_snowflake(&ids);
        assert!(b > a);
        assert!(snowflake_time(a).starts_with("20"));
    }
}
