//! Every limit and policy of the engine, with the defaults `.env.example`
//! documents. The binary fills this from the environment at start-up.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::command::Lang;
use crate::links::LinkSettings;

/// Who may use the bot, and who runs it.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Users allowed anywhere (`platform:id`); empty: everyone.
    pub users: HashSet<String>,
    /// Chats allowed (`platform:id`); empty: every chat.
    pub chats: HashSet<String>,
    /// Operators: no quota, may cancel or remix anything, and use the
    /// operator commands (`/stats`, `/ban`, `/unban`, `/grant`).
    pub admins: HashSet<String>,
}

impl Access {
    /// Whether this user in this chat may use the bot. An allowed chat lets
    /// all its members in; an allowed user may use the bot anywhere.
    pub fn allows(&self, user: &str, chat: &str) -> bool {
        let open = self.users.is_empty() && self.chats.is_empty();
        open || self.users.contains(user) || self.chats.contains(chat) || self.admins.contains(user)
    }

    pub fn is_admin(&self, user: &str) -> bool {
        self.admins.contains(user)
    }
}

/// The one store several instances share (`STORE_URL`), instead of sled in
/// `DATA_DIR`.
#[derive(Debug, Clone)]
pub struct SharedStore {
    /// `postgres://...`; holds a password, so it is never shown.
    pub url: secrecy::SecretString,
    /// Connections this instance keeps to the database at most.
    pub max_connections: u32,
    /// How long an operation waits for a connection before it fails.
    pub acquire_timeout: Duration,
}

/// The engine's settings.
#[derive(Debug, Clone)]
pub struct Limits {
    pub data_dir: PathBuf,
    pub access: Access,
    /// Credits one user may spend per day (UTC), besides operators' grants.
    pub daily_quota: u32,
    /// Credits all members of one group may spend together per day; `None`:
    /// no shared budget. Private chats have none.
    pub chat_daily_quota: Option<u32>,
    /// What each job costs in credits (`COSTS`).
    pub costs: crate::costs::Costs,
    /// Jobs one user may have unfinished at once.
    pub max_active_per_user: usize,
    /// Jobs in flight at the service at once; more wait in the queue.
    pub max_in_flight: usize,
    /// Jobs that may wait in the queue; beyond, new ones are refused.
    pub max_queue: usize,
    /// Requests per second toward the service, all jobs together: the rate
    /// the bot starts at and falls back to when the service says 429.
    pub service_rps: f64,
    /// The most requests per second the rate grows to while calls wait and
    /// the service answers them; never below `service_rps`.
    pub service_rps_max: f64,
    /// Bounds of the adaptive poll interval. The minimum is also the interval
    /// once a job may end any moment, so it bounds the wait after the result
    /// is ready; the maximum is how stale the progress shown may get.
    pub poll_min: Duration,
    pub poll_max: Duration,
    /// How long a generation may take before the job fails.
    pub job_deadline: Duration,
    /// The usual generation time before any has been measured.
    pub typical_generation: Duration,
    /// Shortest gap between two edits of a status message, private chats and groups.
    pub status_edit_private: Duration,
    pub status_edit_group: Duration,
    /// Largest result the bot downloads.
    pub max_result_bytes: u64,
    /// Downloads of a result that is not the media asked for (an HTML
    /// error page) before its job fails.
    pub result_check_attempts: u32,
    /// Longest side, in pixels, of an image a user may attach.
    pub max_image_side: u32,
    /// How long attached images are kept for `/retry` once their job is over.
    pub input_retention: Duration,
    /// Largest image a user may attach.
    pub max_input_image_bytes: u64,
    /// Whether anyone in a chat may remix a video there, not only its owner.
    pub open_remix: bool,
    /// Language when the platform does not say.
    pub default_lang: Lang,
    /// Steps of jobs run at once (polls, submissions, deliveries).
    pub workers: usize,
    /// Failed attempts in a row (of any step: submit, poll, download, disk,
    /// upload) after which a job fails instead of trying again.
    pub retry_limit: u32,
    /// Automatic submissions again of a job the service provably dropped
    /// before accepting it (a stream that broke before saying anything).
    pub resubmit_limit: u32,
    /// Attempts in a row answered with the very same error text after which
    /// that error counts as permanent.
    pub same_error_limit: u32,
    /// Longest a result download may take, start to end.
    pub download_deadline: Duration,
    /// Slowest a result download may be, bytes per second on average once
    /// `download_grace` has passed; a trickle below it fails the attempt.
    pub download_min_rate: u64,
    pub download_grace: Duration,
    /// How long stopping waits for steps in the middle of a call (and for
    /// chat handlers) before it stops them where they stand; their jobs
    /// resume from the store at the next start.
    pub shutdown_grace: Duration,
    /// Bytes of page cache the database keeps in memory; `None`: the
    /// store's default (see [`crate::engine::Engine::open`]).
    pub store_cache_bytes: Option<u64>,
    /// The store several instances share; `None`: sled under `data_dir`.
    pub shared_store: Option<SharedStore>,
    /// This instance's name among those sharing the store (`INSTANCE_ID`):
    /// the holder of the jobs it claims.
    pub instance: String,
    /// With a shared store: how long a job stays with an instance that
    /// stopped renewing its hold (it died) before another takes it over;
    /// renewed every third of it.
    pub lease: Duration,
    /// The bot's own signed links to results too large for a chat
    /// (`PUBLIC_BASE_URL`); `None`: no such links.
    pub links: Option<LinkSettings>,
}

impl Limits {
    /// The defaults, with data under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Limits {
            data_dir: data_dir.into(),
            access: Access::default(),
            daily_quota: 20,
            chat_daily_quota: None,
            costs: crate::costs::Costs::default(),
            max_active_per_user: 3,
            max_in_flight: 8,
            max_queue: 500,
            service_rps: 5.0,
            service_rps_max: 20.0,
            poll_min: Duration::from_millis(2500),
            poll_max: Duration::from_secs(30),
            job_deadline: Duration::from_secs(30 * 60),
            typical_generation: Duration::from_secs(120),
            status_edit_private: Duration::from_secs(3),
            status_edit_group: Duration::from_secs(8),
            max_result_bytes: 512 * 1024 * 1024,
            result_check_attempts: 3,
            max_image_side: 8192,
            max_input_image_bytes: 20 * 1024 * 1024,
            input_retention: Duration::from_secs(7 * 24 * 3600),
            open_remix: false,
            default_lang: Lang::En,
            workers: 32,
            retry_limit: 5,
            resubmit_limit: 1,
            same_error_limit: 3,
            download_deadline: Duration::from_secs(15 * 60),
            download_min_rate: 16 * 1024,
            download_grace: Duration::from_secs(20),
            shutdown_grace: Duration::from_secs(10),
            store_cache_bytes: None,
            shared_store: None,
            instance: default_instance(),
            lease: Duration::from_secs(30),
            links: None,
        }
    }

    pub fn spool_dir(&self) -> PathBuf {
        self.data_dir.join("spool")
    }

    pub fn inputs_dir(&self) -> PathBuf {
        self.data_dir.join("inputs")
    }

    /// Where the files of the bot's own links are kept until they expire.
    pub fn links_dir(&self) -> PathBuf {
        crate::links::links_dir(&self.data_dir)
    }

    /// The signer of the bot's own links, when they are configured.
    pub fn links(&self) -> Option<crate::links::Links> {
        let settings = self.links.clone()?;
        Some(crate::links::Links::new(settings, &self.data_dir))
    }

    pub fn db_dir(&self) -> PathBuf {
        self.data_dir.join("db")
    }
}

/// The machine's name and the process id: unique among the instances on
/// one network. The name is Linux's (in /proc), else `HOSTNAME`, else
/// `sorabot`.
pub fn default_instance() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "sorabot".to_owned());
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_lists_let_everyone_in_and_lists_let_only_their_members() {
        let open = Access::default();
        assert!(open.allows("telegram:1", "telegram:-100"));
        let mut closed = Access::default();
        closed.chats.insert("telegram:-100".into());
        closed.admins.insert("telegram:9".into());
        assert!(closed.allows("telegram:1", "telegram:-100"));
        assert!(!closed.allows("telegram:1", "telegram:-200"));
        assert!(closed.allows("telegram:9", "telegram:-200"));
    }
}
