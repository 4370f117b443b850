//! The end-to-end harness of the job engine: a Sora simulator on loopback, a
//! fresh data directory, the engine, and the console chat whose printed
//! `[ID] TEXT` lines the tests read. Lines go in through the console (as the
//! local user, who is a chat admin) or straight to `Engine::handle` (as any
//! user, in any chat). Every wait has a deadline, so a broken engine fails a
//! test instead of hanging it.

#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)]
pub use common::{client_config, fast_limits, FAST, SAMPLE_MP4, SAMPLE_PNG};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use regex::Regex;
use sorabot::backend;
use sorabot::chat::{
    ChatError, ChatPort, ChatRef, Delivered, Incoming, MediaFile, Outgoing, UserRef,
};
use sorabot::job::{Job, JobState};
use sorabot::{Engine, EngineError, Limits};
use sorabot_bots::console::{self, ConsolePort, BOT_NAME, PLATFORM};
use sorabot_sim::{Recorded, SimConfig, SimHandle, SoraSim, Style};
use sorabot_storage::throwaway::Postgres;
use sorabot_storage::{PgOptions, Store};
use tempfile::TempDir;
use tokio::io::{AsyncWriteExt, BufReader, DuplexStream};
use tokio::task::JoinHandle;

/// A fresh, empty database on the throwaway PostgreSQL server this test
/// binary shares (started on first use, removed when the binary ends).
/// Panics when the server cannot start: a PostgreSQL test never skips.
pub async fn postgres_store() -> Store {
    static SERVER: std::sync::OnceLock<Postgres> = std::sync::OnceLock::new();
    static DATABASES: AtomicU64 = AtomicU64::new(0);
    let server = SERVER.get_or_init(|| {
        Postgres::start().unwrap_or_else(|error| panic!("no throwaway PostgreSQL: {error}"))
    });
    let name = format!("bot_{}", DATABASES.fetch_add(1, Ordering::Relaxed));
    let url = server.create_database(&name).expect("a database");
    Store::connect(&url, PgOptions::default())
        .await
        .expect("the database answers")
}

/// The longest any one expected answer may take before a test gives up.
pub const WAIT: Duration = Duration::from_secs(5);

/// The sample picture on disk, for `+PATH` attachments.
pub fn sample_png_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/assets/sample.png")
}

/// The status headline of a job: `🎬 7QK3M2XD · "a cat"`.
const HEADLINE: &str = r#"^(?:🎬|🔁|⏩|👤|🖼) ([0-9A-Z]{8}) · ""#;

/// One printed line: the message id it belongs to and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: String,
    pub text: String,
}

/// Everything the console printed, shared with the port that prints it.
#[derive(Clone, Default)]
pub struct Transcript(Arc<Mutex<Vec<u8>>>);

impl Transcript {
    pub fn sink(&self) -> console::Sink {
        self.0.clone()
    }

    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    pub fn lines(&self) -> Vec<Line> {
        let shape = Regex::new(r"^\[([^\]]+)\] ?(.*)$").expect("line regex");
        self.text()
            .lines()
            .filter_map(|line| {
                let caps = shape.captures(line)?;
                Some(Line {
                    id: caps[1].to_owned(),
                    text: caps[2].to_owned(),
                })
            })
            .collect()
    }
}

/// A job as the chat showed it: its id and its status message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRef {
    pub id: String,
    pub status_msg: String,
}

/// A file the console saved: the message that carried it and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub msg: String,
    pub kind: String,
    pub path: PathBuf,
}

type PortWrap = Box<dyn FnOnce(Arc<ConsolePort>) -> Arc<dyn ChatPort>>;

/// How a test wants its bot.
pub struct Setup {
    sim: SimConfig,
    /// A simulator already running (another instance's), instead of a new one.
    beside: Option<Arc<SimHandle>>,
    /// A store several instances share, instead of sled in the data dir.
    store: Option<Store>,
    limits: Box<dyn FnOnce(&mut Limits)>,
    port: Option<PortWrap>,
    upload_limit: u64,
}

impl Default for Setup {
    fn default() -> Self {
        Setup::new()
    }
}

impl Setup {
    /// A native simulator on the fast clock, and the engine's defaults with
    /// fast polls and no throttle on edits or requests.
    pub fn new() -> Self {
        let mut sim = SimConfig::for_style(Style::Native);
        sim.time_scale = FAST;
        Setup {
            sim,
            beside: None,
            store: None,
            limits: Box::new(|_| {}),
            port: None,
            upload_limit: 50 * 1024 * 1024,
        }
    }

    /// Keeps the jobs in `store`, shared with other instances, as the
    /// instance named `instance`.
    pub fn shared_store(mut self, store: Store, instance: &str) -> Self {
        self.store = Some(store);
        let instance = instance.to_owned();
        self.limits(move |limits| limits.instance = instance)
    }

    /// A second instance of `bot`'s bot: its simulator and shared store,
    /// its own console, data dir and name.
    pub fn beside(bot: &Bot, instance: &str) -> Self {
        let store = bot
            .store
            .clone()
            .expect("the first instance shares a store");
        let mut setup = Setup::new().shared_store(store, instance);
        setup.beside = Some(bot.sim.clone());
        setup
    }

    pub fn time_scale(mut self, scale: f64) -> Self {
        self.sim.time_scale = scale;
        self
    }

    pub fn sim(mut self, tweak: impl FnOnce(&mut SimConfig)) -> Self {
        tweak(&mut self.sim);
        self
    }

    /// Changes the limits, after the changes asked for before.
    pub fn limits(mut self, tweak: impl FnOnce(&mut Limits) + 'static) -> Self {
        let before = std::mem::replace(&mut self.limits, Box::new(|_| {}));
        self.limits = Box::new(move |limits| {
            before(limits);
            tweak(limits);
        });
        self
    }

    /// The largest file the console takes as an upload.
    pub fn upload_limit(mut self, bytes: u64) -> Self {
        self.upload_limit = bytes;
        self
    }

    /// Puts the console port behind another port (for the first start only).
    pub fn port(
        mut self,
        wrap: impl FnOnce(Arc<ConsolePort>) -> Arc<dyn ChatPort> + 'static,
    ) -> Self {
        self.port = Some(Box::new(wrap));
        self
    }

    pub async fn start(self) -> Bot {
        let second_instance = self.beside.is_some();
        let sim = match self.beside {
            Some(sim) => sim,
            None => Arc::new(
                SoraSim::start(self.sim)
                    .await
                    .expect("the simulator starts"),
            ),
        };
        let dir = tempfile::tempdir().expect("a data dir");
        if second_instance {
            // Another console in the same chat: message ids of its own, as
            // two chat apps' messages never share one.
            std::fs::write(dir.path().join("console-next-id"), "1000000").expect("the counter");
        }
        let mut limits = fast_limits(dir.path());
        (self.limits)(&mut limits);
        let transcript = Transcript::default();
        let port = Arc::new(ConsolePort::new(
            transcript.sink(),
            dir.path(),
            self.upload_limit,
        ));
        let chat_port: Arc<dyn ChatPort> = match self.port {
            Some(wrap) => wrap(port.clone()),
            None => port.clone(),
        };
        let mut bot = Bot {
            sim,
            store: self.store,
            dir,
            transcript,
            port,
            limits,
            upload_limit: self.upload_limit,
            engine: None,
            driver: None,
            console: None,
            input: None,
            mark: 0,
            incoming: AtomicU64::new(1),
        };
        bot.launch(chat_port).await;
        bot
    }
}

/// The simulator, the engine and the console, running.
pub struct Bot {
    /// Shared by the instances of one bot (see [`Setup::beside`]).
    pub sim: Arc<SimHandle>,
    /// The store several instances share, if not sled in `dir`.
    pub store: Option<Store>,
    pub dir: TempDir,
    pub transcript: Transcript,
    /// The terminal: kept across restarts, so its numbering goes on and the
    /// transcript reads as one.
    pub port: Arc<ConsolePort>,
    pub limits: Limits,
    upload_limit: u64,
    engine: Option<Engine>,
    driver: Option<JoinHandle<Result<(), EngineError>>>,
    console: Option<JoinHandle<()>>,
    input: Option<DuplexStream>,
    /// Lines printed before the last message in; answers come after it.
    mark: usize,
    incoming: AtomicU64,
}

impl Bot {
    pub async fn start() -> Bot {
        Setup::new().start().await
    }

    pub fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("the engine is running")
    }

    /// Builds the engine over the store and the port, and runs the engine
    /// and the console.
    async fn launch(&mut self, chat_port: Arc<dyn ChatPort>) {
        let backend = backend::connect(&client_config(&self.sim)).expect("the backend is built");
        let engine = match &self.store {
            Some(store) => {
                Engine::new(backend, store.clone(), self.limits.clone(), vec![chat_port])
            }
            None => common::open_engine(backend, &self.limits, vec![chat_port]),
        };
        self.driver = Some(tokio::spawn({
            let engine = engine.clone();
            async move { engine.run().await }
        }));
        let (input, console_end) = tokio::io::duplex(1 << 20);
        self.console = Some(tokio::spawn(console::run(
            engine.clone(),
            self.port.clone(),
            BufReader::new(console_end),
            console::local_user("tester".to_owned(), None),
        )));
        self.input = Some(input);
        self.engine = Some(engine);
    }

    /// Stops the console and the engine as Ctrl-C would: jobs stay stored.
    pub async fn stop(&mut self) {
        if let Some(console) = self.console.take() {
            console.abort();
            let _ = console.await;
        }
        self.input = None;
        if let Some(engine) = self.engine.take() {
            engine.shutdown();
            if let Some(driver) = self.driver.take() {
                let ended = tokio::time::timeout(Duration::from_secs(15), driver)
                    .await
                    .expect("the engine stops within 15 s")
                    .expect("the engine task did not panic");
                ended.expect("the engine stopped cleanly");
            }
        }
    }

    /// A new process on the same data dir and the same service.
    pub async fn restart(&mut self) {
        let port = self.port.clone();
        self.restart_with(port).await;
    }

    /// A new process with a new terminal, as `sorabot console` started
    /// again: the same data dir and service, the same screen, but a port
    /// that numbers its messages afresh.
    pub async fn restart_with_new_terminal(&mut self) {
        self.stop().await;
        self.port = Arc::new(ConsolePort::new(
            self.transcript.sink(),
            self.dir.path(),
            self.upload_limit,
        ));
        let port = self.port.clone();
        self.launch(port).await;
    }

    pub async fn restart_with(&mut self, chat_port: Arc<dyn ChatPort>) {
        self.stop().await;
        self.launch(chat_port).await;
    }

    /// Types one line into the console.
    pub async fn say(&mut self, line: &str) {
        self.mark = self.transcript.lines().len();
        let input = self.input.as_mut().expect("the console is running");
        input
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("the console reads its input");
    }

    /// Sends a message as `user` in `chat`, straight to the engine, and waits
    /// until the engine has answered it.
    pub async fn send(
        &mut self,
        chat: &ChatRef,
        user: &UserRef,
        text: &str,
        reply_to: Option<&str>,
    ) {
        self.mark = self.transcript.lines().len();
        let n = self.incoming.fetch_add(1, Ordering::Relaxed);
        let msg = Incoming {
            chat: chat.clone(),
            user: user.clone(),
            message_id: format!("in-{n}"),
            text: text.to_owned(),
            attachments: vec![],
            reply_to: reply_to.map(str::to_owned),
            reply_media: None,
            bot_username: Some(BOT_NAME.to_owned()),
        };
        tokio::time::timeout(WAIT, self.engine().handle(&msg))
            .await
            .expect("the engine answers a message within the wait");
    }

    /// Where the next answers start.
    pub fn mark(&self) -> usize {
        self.mark
    }

    pub fn set_mark(&mut self) {
        self.mark = self.transcript.lines().len();
    }

    /// The first line at or after `from` matching `pattern`, waited for.
    pub async fn wait_line(&self, from: usize, pattern: &str) -> Line {
        let re = Regex::new(pattern).expect("a valid pattern");
        self.wait_for(&format!("a line matching {pattern}"), || {
            self.transcript
                .lines()
                .into_iter()
                .skip(from)
                .find(|l| re.is_match(&l.text))
        })
        .await
    }

    /// The first line matching `pattern` since the last message in.
    pub async fn expect(&self, pattern: &str) -> Line {
        self.wait_line(self.mark, pattern).await
    }

    /// The first line of message `id` matching `pattern` since the last message in.
    pub async fn expect_in(&self, id: &str, pattern: &str) -> Line {
        let re = Regex::new(pattern).expect("a valid pattern");
        self.wait_for(
            &format!("a line of message {id} matching {pattern}"),
            || {
                self.transcript
                    .lines()
                    .into_iter()
                    .skip(self.mark)
                    .find(|l| l.id == id && re.is_match(&l.text))
            },
        )
        .await
    }

    /// Waits until `probe` gives something, or fails the test with the transcript.
    pub async fn wait_for<T>(&self, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(found) = probe() {
                return found;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "waited {WAIT:?} for {what}; the console printed:\n{}",
                    self.transcript.text()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The job whose status message appeared since the last message in, for
    /// a prompt starting with `prompt`.
    pub async fn new_job(&self, prompt: &str) -> JobRef {
        let start: String = prompt.chars().take(60).collect();
        let re = Regex::new(&format!("{HEADLINE}{}", regex::escape(&start))).expect("regex");
        let from = self.mark;
        self.wait_for(&format!("a new status message for {prompt:?}"), || {
            let lines = self.transcript.lines();
            let seen: Vec<&str> = lines[..from.min(lines.len())]
                .iter()
                .map(|l| l.id.as_str())
                .collect();
            lines.iter().skip(from).find_map(|l| {
                let caps = re.captures(&l.text)?;
                (!seen.contains(&l.id.as_str())).then(|| JobRef {
                    id: caps[1].to_owned(),
                    status_msg: l.id.clone(),
                })
            })
        })
        .await
    }

    /// Every file delivered for `job` so far.
    pub fn deliveries(&self, job: &str) -> Vec<Delivery> {
        let lines = self.transcript.lines();
        let tag = format!("#{job}");
        let file = Regex::new(r"^(video|image): (.+)$").expect("regex");
        let mut found = Vec::new();
        for line in &lines {
            let Some(caps) = file.captures(&line.text) else {
                continue;
            };
            let ours = lines.iter().any(|l| l.id == line.id && l.text == tag);
            if ours {
                found.push(Delivery {
                    msg: line.id.clone(),
                    kind: caps[1].to_owned(),
                    path: PathBuf::from(&caps[2]),
                });
            }
        }
        found
    }

    /// The first file delivered for `job`, waited for.
    pub async fn delivered(&self, job: &str) -> Delivery {
        self.wait_for(&format!("the delivery of job {job}"), || {
            self.deliveries(job).into_iter().next()
        })
        .await
    }

    /// The job as stored.
    pub async fn job(&self, id: &str) -> Job {
        let job = sorabot::ids::JobId::parse(id).unwrap_or_else(|| panic!("{id} is a job id"));
        self.engine()
            .job(&job)
            .await
            .expect("the store reads")
            .unwrap_or_else(|| panic!("job {id} is stored"))
    }

    /// Waits until the stored job is in a state `wanted` accepts.
    pub async fn wait_state(
        &self,
        id: &str,
        what: &str,
        wanted: impl Fn(&JobState) -> bool,
    ) -> Job {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let job = self.job(id).await;
            if wanted(&job.state) {
                return job;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "waited {WAIT:?} for job {id} to be {what}; the console printed:\n{}",
                    self.transcript.text()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until `probe` finds what it wants in the stored job.
    pub async fn wait_job<T>(&self, id: &str, what: &str, probe: impl Fn(Job) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(found) = probe(self.job(id).await) {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {WAIT:?} for {what} (job {id})"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the stored job's end has been told in its status.
    pub async fn wait_told(&self, id: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.job(id).await.untold {
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {WAIT:?} for the end of job {id} to be told"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A job through the console, from `/video PROMPT` to its file.
    pub async fn video(&mut self, prompt: &str) -> (JobRef, Delivery) {
        self.say(&format!("/video {prompt}")).await;
        self.finished_video(prompt).await
    }

    /// The new job for `prompt`, once its file is in the chat, the job is
    /// stored as delivered and its status message says it is done (the file
    /// shows a moment before the job is stored, the status a moment after).
    pub async fn finished_video(&self, prompt: &str) -> (JobRef, Delivery) {
        let job = self.new_job(prompt).await;
        let file = self.delivered(&job.id).await;
        self.wait_state(&job.id, "delivered", |s| *s == JobState::Delivered)
            .await;
        self.status_done(&job).await;
        (job, file)
    }

    /// Waits until the status message of `job` is edited to its final ✅.
    pub async fn status_done(&self, job: &JobRef) -> Line {
        self.wait_for(
            &format!("the status message of job {} to say it is done", job.id),
            || {
                self.transcript
                    .lines()
                    .into_iter()
                    .find(|l| l.id == job.status_msg && l.text.starts_with("✅ "))
            },
        )
        .await
    }

    /// The JSON bodies of the requests whose path contains `path`.
    pub fn sim_bodies(&self, method: &str, path: &str) -> Vec<serde_json::Value> {
        self.sim_requests(method, path)
            .iter()
            .filter_map(Recorded::json)
            .collect()
    }

    pub fn sim_requests(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.contains(path))
            .collect()
    }

    /// The sim's task id of a stored job.
    pub async fn task_of(&self, job: &str) -> String {
        self.job(job)
            .await
            .task
            .expect("the job reached the service")
            .0
    }
}

/// A chat with several people, where commands name the bot.
pub fn group() -> ChatRef {
    ChatRef {
        platform: PLATFORM.to_owned(),
        chat: "group".to_owned(),
        thread: None,
        private: false,
    }
}

/// Someone in a chat.
pub fn person(id: &str, chat_admin: bool) -> UserRef {
    UserRef {
        id: id.to_owned(),
        name: id.to_owned(),
        language: None,
        chat_admin,
    }
}

/// The console's port, whose first `failures` uploads fail.
pub struct FlakyUploads {
    inner: Arc<ConsolePort>,
    failures_left: AtomicUsize,
    /// Uploads failed so far, for the test to watch.
    failed: Arc<AtomicUsize>,
}

impl FlakyUploads {
    pub fn new(inner: Arc<ConsolePort>, failures: usize, failed: Arc<AtomicUsize>) -> Self {
        FlakyUploads {
            inner,
            failures_left: AtomicUsize::new(failures),
            failed,
        }
    }
}

#[async_trait]
impl ChatPort for FlakyUploads {
    fn platform(&self) -> &str {
        self.inner.platform()
    }

    fn upload_limit(&self, chat: &ChatRef) -> u64 {
        self.inner.upload_limit(chat)
    }

    async fn send(&self, chat: &ChatRef, message: &Outgoing) -> Result<String, ChatError> {
        self.inner.send(chat, message).await
    }

    async fn edit(&self, chat: &ChatRef, id: &str, message: &Outgoing) -> Result<(), ChatError> {
        self.inner.edit(chat, id, message).await
    }

    async fn delete(&self, chat: &ChatRef, id: &str) -> Result<(), ChatError> {
        self.inner.delete(chat, id).await
    }

    async fn deliver(&self, chat: &ChatRef, media: &MediaFile) -> Result<Delivered, ChatError> {
        let fail = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            self.failed.fetch_add(1, Ordering::SeqCst);
            return Err(ChatError::Failed("the upload broke off".to_owned()));
        }
        self.inner.deliver(chat, media).await
    }
}
