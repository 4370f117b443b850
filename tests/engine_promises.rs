//! The engine's promises under faults and crashes, on tokio's paused clock:
//! a job is submitted at most once unless the service provably dropped it,
//! a submission in doubt is told to its owner (and refunded) instead of
//! being sent again, every retry is bounded, a trickling download fails by
//! its pace, a full disk fails cleanly, `/cancel` is answered during a slow
//! upload, a reply to a video the instant it is posted works, and every kind
//! of failure ends its job within the deadline.
//!
//! The service is an in-memory fake whose behaviour each prompt names
//! (`submit-hang`, `poll-503`, `dl-trickle`, …), so many jobs with different
//! faults run side by side.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use sorabot::backend::{
    capabilities, Backend, BackendError, Capabilities, Dialect, Download, JobSpec, MediaRef,
    Output, OutputKind, TaskId, TaskStatus,
};
use sorabot::chat::{
    ChatError, ChatPort, ChatRef, Delivered, Incoming, MediaFile, Outgoing, UserRef,
};
use sorabot::job::{Failure, Job, JobState};
use sorabot::{Engine, Limits};
use sorabot_storage::{Store, UserKey};
use tokio::sync::Notify;
use tokio::time::Instant;

const SAMPLE_MP4: &[u8] = include_bytes!("../sim/assets/sample.mp4");

/// How long every healthy task of the fake takes.
const TASK_TIME: Duration = Duration::from_secs(60);

/// A service whose behaviour each prompt names.
struct FakeService {
    capabilities: Capabilities,
    state: Mutex<ServiceState>,
}

#[derive(Default)]
struct ServiceState {
    /// Submissions that reached the service, per prompt.
    submits: HashMap<String, u32>,
    /// task id → (prompt, when it started)
    tasks: HashMap<String, (String, Instant)>,
}

impl FakeService {
    fn new(capabilities: Capabilities) -> Arc<Self> {
        Arc::new(FakeService {
            capabilities,
            state: Mutex::default(),
        })
    }

    fn native() -> Arc<Self> {
        Self::new(capabilities(Dialect::Native, "sora-2"))
    }

    fn submits(&self, prompt: &str) -> u32 {
        let state = self.state.lock().unwrap();
        state.submits.get(prompt).copied().unwrap_or(0)
    }

    fn prompt_of(&self, task: &TaskId) -> Option<(String, Instant)> {
        self.state.lock().unwrap().tasks.get(&task.0).cloned()
    }
}

fn unavailable(reason: &str) -> BackendError {
    BackendError::Unavailable {
        reason: reason.into(),
    }
}

#[async_trait]
impl Backend for FakeService {
    fn dialect(&self) -> Dialect {
        Dialect::Native
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn submit(&self, spec: &JobSpec) -> Result<TaskId, BackendError> {
        let prompt = spec.prompt().unwrap_or_default().to_owned();
        let id = {
            let mut state = self.state.lock().unwrap();
            *state.submits.entry(prompt.clone()).or_default() += 1;
            let id = format!("task-{}", state.tasks.len() + 1);
            state
                .tasks
                .insert(id.clone(), (prompt.clone(), Instant::now()));
            id
        };
        match prompt.as_str() {
            p if p.contains("submit-hang") => std::future::pending().await,
            p if p.contains("submit-doubt") => Err(BackendError::Interrupted {
                reason: "timed out".into(),
            }),
            p if p.contains("submit-503") => Err(unavailable("HTTP 503")),
            p if p.contains("submit-invalid") => Err(unavailable("HTTP 500: Invalid model")),
            p if p.contains("submit-broke") => Err(BackendError::Exhausted {
                message: "该令牌额度已用尽".into(),
            }),
            p if p.contains("submit-refused") => Err(BackendError::Rejected {
                status: 400,
                code: None,
                message: "duration must be 10, 15 or 25".into(),
            }),
            _ => Ok(TaskId(id)),
        }
    }

    async fn status(&self, task: &TaskId, _kind: OutputKind) -> Result<TaskStatus, BackendError> {
        let Some((prompt, started)) = self.prompt_of(task) else {
            return Err(BackendError::UnknownTask);
        };
        let word = |w: &str| prompt.contains(w);
        if word("poll-503") {
            return Err(unavailable("HTTP 503"));
        }
        if word("poll-garbled") {
            return Err(BackendError::Malformed {
                excerpt: "<html><body>oops".into(),
            });
        }
        if word("poll-429") {
            return Err(BackendError::RateLimited {
                retry_after: Some(Duration::from_secs(30)),
            });
        }
        if word("poll-lost") {
            return Err(BackendError::UnknownTask);
        }
        if word("broke-early") {
            return Err(BackendError::Broken { accepted: false });
        }
        if word("broke-late") {
            return Err(BackendError::Broken { accepted: true });
        }
        if word("poll-failed") {
            return Ok(TaskStatus::Failed {
                reason: "GPU out of memory".into(),
            });
        }
        let elapsed = started.elapsed();
        if word("never-done") || elapsed < TASK_TIME {
            let progress = (elapsed.as_secs_f32() / TASK_TIME.as_secs_f32()).min(0.99);
            return Ok(TaskStatus::Running {
                progress: Some(progress),
            });
        }
        Ok(TaskStatus::Succeeded(Output::Video(MediaRef::Url(
            "https://cdn.example/v.mp4".into(),
        ))))
    }

    /// A service that can list its tasks finds those whose prompt says `listed`.
    async fn find_submitted(
        &self,
        spec: &JobSpec,
        _since_ms: u64,
    ) -> Result<Option<TaskId>, BackendError> {
        let prompt = spec.prompt().unwrap_or_default();
        if !prompt.contains("listed") {
            return Ok(None);
        }
        let state = self.state.lock().unwrap();
        let found = state
            .tasks
            .iter()
            .find(|(_, (p, _))| p == prompt)
            .map(|(id, _)| TaskId(id.clone()));
        Ok(found)
    }

    async fn download(&self, task: &TaskId, _media: &MediaRef) -> Result<Download, BackendError> {
        let prompt = self.prompt_of(task).map(|(p, _)| p).unwrap_or_default();
        if prompt.contains("dl-503") {
            return Err(unavailable("HTTP 503"));
        }
        if prompt.contains("dl-forbidden") {
            return Err(BackendError::Rejected {
                status: 403,
                code: None,
                message: "the link has expired".into(),
            });
        }
        if prompt.contains("dl-trickle") {
            // A byte every three seconds, for ever.
            let trickle = futures::stream::unfold((), |()| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                Some((Ok(Bytes::from_static(b"x")), ()))
            });
            return Ok(Download {
                content_type: Some("video/mp4".into()),
                content_length: None,
                stream: trickle.boxed(),
            });
        }
        let bytes = Bytes::from_static(SAMPLE_MP4);
        Ok(Download {
            content_type: Some("video/mp4".into()),
            content_length: Some(bytes.len() as u64),
            stream: futures::stream::iter([Ok(bytes)]).boxed(),
        })
    }
}

/// What the chat saw. Uploads behave as their caption (the prompt) says.
#[derive(Default)]
struct Recorder {
    next: Mutex<u64>,
    /// (message id, text) of every send and edit, in order.
    texts: Mutex<Vec<(String, String)>>,
    /// (chat, text) of every message sent.
    sent_to: Mutex<Vec<(String, String)>>,
    /// Captions of the uploads that reached the chat.
    uploads: Mutex<Vec<String>>,
    /// Set: edits that end a job (✅) never come back, as if the bot died there.
    stall_final_edits: Mutex<bool>,
    /// Set: an upload posts its message, then waits here before answering.
    hold_uploads: Mutex<Option<Arc<Notify>>>,
    posted: Notify,
}

impl Recorder {
    fn next_id(&self) -> String {
        let mut next = self.next.lock().unwrap();
        *next += 1;
        next.to_string()
    }

    fn texts_of(&self, message_id: &str) -> Vec<String> {
        let texts = self.texts.lock().unwrap();
        texts
            .iter()
            .filter(|(id, _)| id == message_id)
            .map(|(_, t)| t.clone())
            .collect()
    }

    fn all_texts(&self) -> Vec<String> {
        let texts = self.texts.lock().unwrap();
        texts.iter().map(|(_, t)| t.clone()).collect()
    }

    fn uploads_of(&self, prompt: &str) -> usize {
        let uploads = self.uploads.lock().unwrap();
        uploads.iter().filter(|c| c.contains(prompt)).count()
    }
}

#[async_trait]
impl ChatPort for Recorder {
    fn platform(&self) -> &str {
        "test"
    }

    fn upload_limit(&self, _chat: &ChatRef) -> u64 {
        50 * 1024 * 1024
    }

    async fn send(&self, chat: &ChatRef, message: &Outgoing) -> Result<String, ChatError> {
        let id = self.next_id();
        let mut sent_to = self.sent_to.lock().unwrap();
        sent_to.push((chat.chat.clone(), message.text.clone()));
        drop(sent_to);
        let mut texts = self.texts.lock().unwrap();
        texts.push((id.clone(), message.text.clone()));
        Ok(id)
    }

    async fn edit(&self, _chat: &ChatRef, id: &str, message: &Outgoing) -> Result<(), ChatError> {
        let stall = *self.stall_final_edits.lock().unwrap();
        if stall && message.text.contains("✅") {
            return std::future::pending().await;
        }
        let mut texts = self.texts.lock().unwrap();
        texts.push((id.to_owned(), message.text.clone()));
        Ok(())
    }

    async fn delete(&self, _chat: &ChatRef, _id: &str) -> Result<(), ChatError> {
        Ok(())
    }

    async fn deliver(&self, _chat: &ChatRef, media: &MediaFile) -> Result<Delivered, ChatError> {
        if media.caption.contains("up-fail") {
            return Err(ChatError::Failed("HTTP 500".into()));
        }
        if media.caption.contains("up-429") {
            return Err(ChatError::RateLimited(Duration::from_secs(10)));
        }
        if media.caption.contains("up-hang") {
            return std::future::pending().await;
        }
        let id = format!("video-{}", self.next_id());
        self.uploads.lock().unwrap().push(media.caption.clone());
        let hold = self.hold_uploads.lock().unwrap().clone();
        if let Some(release) = hold {
            // Posted: people see it now, the engine hears of it later.
            self.posted.notify_one();
            release.notified().await;
        }
        Ok(Delivered {
            message_id: id,
            file_id: None,
        })
    }
}

struct Harness {
    engine: Engine,
    service: Arc<FakeService>,
    chat: Arc<Recorder>,
    store: Store,
    limits: Limits,
    dir: tempfile::TempDir,
}

fn test_limits(dir: &std::path::Path, tune: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::new(dir);
    limits.status_edit_private = Duration::ZERO;
    limits.status_edit_group = Duration::ZERO;
    limits.max_active_per_user = 50;
    limits.max_in_flight = 50;
    limits.daily_quota = 100;
    tune(&mut limits);
    limits
}

fn harness(service: Arc<FakeService>, tune: impl FnOnce(&mut Limits)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let limits = test_limits(dir.path(), tune);
    let chat = Arc::new(Recorder::default());
    let store = Store::open(&limits.db_dir()).unwrap();
    let engine = start_engine(service.clone(), store.clone(), &limits, chat.clone());
    Harness {
        engine,
        service,
        chat,
        store,
        limits,
        dir,
    }
}

fn start_engine(
    service: Arc<FakeService>,
    store: Store,
    limits: &Limits,
    chat: Arc<Recorder>,
) -> Engine {
    let engine = Engine::new(service, store, limits.clone(), vec![chat]);
    tokio::spawn({
        let engine = engine.clone();
        async move { engine.run().await }
    });
    engine
}

fn message(text: &str, user: &str) -> Incoming {
    Incoming {
        chat: ChatRef {
            platform: "test".into(),
            chat: "chat-1".into(),
            thread: None,
            private: true,
        },
        user: UserRef {
            id: user.into(),
            name: "Ada".into(),
            language: Some("en".into()),
            chat_admin: false,
        },
        message_id: format!("m-{user}"),
        text: text.into(),
        attachments: vec![],
        reply_to: None,
        reply_media: None,
        bot_username: Some("sorabot".into()),
    }
}

impl Harness {
    /// Starts a video job as `user`; returns its stored id.
    async fn video(&self, prompt: &str, user: &str) -> String {
        self.engine
            .handle(&message(&format!("/video {prompt}"), user))
            .await;
        self.job_of(user).await.id.as_str().to_owned()
    }

    async fn job_of(&self, user: &str) -> Job {
        let jobs: Vec<Job> = self
            .store
            .jobs_of(&UserKey::new("test", user), 1)
            .await
            .unwrap();
        jobs.into_iter().next().expect("the user has a job")
    }

    async fn job(&self, id: &str) -> Job {
        self.store
            .get_job(id)
            .await
            .unwrap()
            .expect("the job is stored")
    }

    /// Lets virtual time pass until the job's stored state passes `done`.
    async fn until(&self, id: &str, limit: Duration, done: impl Fn(&JobState) -> bool) -> Job {
        let start = Instant::now();
        loop {
            let job = self.job(id).await;
            if done(&job.state) {
                return job;
            }
            assert!(
                start.elapsed() < limit,
                "job {id} still {:?} after {limit:?}",
                job.state
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Lets virtual time pass until `done` holds.
    async fn until_true(&self, what: &str, limit: Duration, done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < limit, "no {what} after {limit:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn until_finished(&self, id: &str, limit: Duration) -> Job {
        self.until(id, limit, JobState::is_finished).await
    }

    async fn used_quota(&self, user: &str) -> u32 {
        let (day, _) = sorabot::clock::today();
        self.store
            .usage(&UserKey::new("test", user), day)
            .await
            .unwrap()
    }

    /// The status message of the job once it says `needle` (the job is
    /// stored as ended a moment before its status is edited to say so).
    async fn told(&self, job: &Job, needle: &str) -> String {
        let id = job.status_message.clone().expect("a status message");
        let start = Instant::now();
        loop {
            if let Some(text) = self
                .chat
                .texts_of(&id)
                .into_iter()
                .rfind(|t| t.contains(needle))
            {
                return text;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the status of {} never said {needle:?}: {:?}",
                job.id,
                self.chat.texts_of(&id)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_crash_during_the_submission_leaves_the_job_in_doubt_and_it_is_never_sent_again() {
    let h = harness(FakeService::native(), |_| {});
    let id = h.video("a fox submit-hang", "ada").await;
    // The call is under way (and hangs): what it left stored is the intent.
    h.until_true(
        "the submission to reach the service",
        Duration::from_secs(10),
        || h.service.submits("a fox submit-hang") > 0,
    )
    .await;
    let job = h.job(&id).await;
    assert_eq!(job.state, JobState::Submitting);
    assert_eq!(
        job.submit_attempts, 1,
        "the intent is stored before the call"
    );
    assert_eq!(h.service.submits("a fox submit-hang"), 1);

    // The bot dies during the call; a new one starts on the same store.
    h.engine.shutdown();
    let after = FakeService::native();
    let _restarted = start_engine(after.clone(), h.store.clone(), &h.limits, h.chat.clone());

    let job = h.until_finished(&id, Duration::from_secs(60)).await;
    assert_eq!(job.state, JobState::Failed(Failure::InDoubt));
    assert_eq!(after.submits("a fox submit-hang"), 0, "not sent again");
    assert_eq!(h.used_quota("ada").await, 0, "refunded");
    h.told(&job, "may or may not have started").await;
}

#[tokio::test(start_paused = true)]
async fn a_crash_before_the_status_says_done_is_mended_at_the_next_start() {
    let h = harness(FakeService::native(), |_| {});
    *h.chat.stall_final_edits.lock().unwrap() = true;
    let id = h.video("a fox at dusk", "ada").await;
    let job = h
        .until(&id, Duration::from_secs(600), |s| *s == JobState::Delivered)
        .await;
    assert!(job.untold, "stored as delivered, the chat not told yet");

    // The bot dies while editing the status; a new one starts on the store.
    h.engine.shutdown();
    *h.chat.stall_final_edits.lock().unwrap() = false;
    let _restarted = start_engine(
        FakeService::native(),
        h.store.clone(),
        &h.limits,
        h.chat.clone(),
    );

    h.told(&job, "✅ Done in").await;
    assert_eq!(h.chat.uploads_of("a fox at dusk"), 1, "not delivered again");
    let start = Instant::now();
    while h.job(&id).await.untold {
        assert!(start.elapsed() < Duration::from_secs(10), "stored as told");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_submission_that_got_no_answer_is_in_doubt_and_not_sent_again() {
    let h = harness(FakeService::native(), |_| {});
    let id = h.video("a fox submit-doubt", "ada").await;

    let job = h.until_finished(&id, Duration::from_secs(60)).await;

    assert_eq!(job.state, JobState::Failed(Failure::InDoubt));
    assert_eq!(h.service.submits("a fox submit-doubt"), 1);
    assert_eq!(h.used_quota("ada").await, 0);
}

#[tokio::test(start_paused = true)]
async fn a_submission_in_doubt_found_at_the_service_goes_on_without_a_second_create() {
    let h = harness(FakeService::native(), |_| {});
    let id = h.video("a fox submit-doubt listed", "ada").await;

    let job = h.until_finished(&id, Duration::from_secs(600)).await;

    assert_eq!(job.state, JobState::Delivered);
    assert_eq!(h.service.submits("a fox submit-doubt listed"), 1);
    assert_eq!(h.chat.uploads_of("submit-doubt listed"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_refused_submission_is_retried_within_the_bound_and_each_retry_is_shown() {
    let h = harness(FakeService::native(), |l| l.retry_limit = 3);
    let id = h.video("a fox submit-503", "ada").await;

    let job = h.until_finished(&id, Duration::from_secs(600)).await;

    assert!(matches!(
        job.state,
        JobState::Failed(Failure::GaveUp { .. })
    ));
    assert_eq!(
        h.service.submits("a fox submit-503"),
        4,
        "one try and 3 retries"
    );
    assert_eq!(h.used_quota("ada").await, 0);
    let shown = h.chat.all_texts().join("\n");
    for n in 1..=3 {
        assert!(shown.contains(&format!("retrying {n}/3")), "{shown}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_same_answer_again_and_again_is_final_and_told_in_the_services_words() {
    let h = harness(FakeService::native(), |_| {});
    let id = h.video("a fox submit-invalid", "ada").await;

    let job = h.until_finished(&id, Duration::from_secs(600)).await;

    assert_eq!(
        job.state,
        JobState::Failed(Failure::GaveUp {
            message: "Invalid model".into()
        })
    );
    assert_eq!(h.service.submits("a fox submit-invalid"), 3);
    let shown = h.chat.all_texts().join("\n");
    assert!(
        shown.contains("the service answered: Invalid model · retrying 2/5"),
        "{shown}"
    );
    h.told(&job, "the service kept failing: Invalid model")
        .await;
}

#[tokio::test(start_paused = true)]
async fn a_job_dropped_before_the_service_said_a_word_is_sent_again_at_most_once() {
    let h = harness(FakeService::native(), |_| {});
    let id = h.video("a fox broke-early", "ada").await;

    let job = h.until_finished(&id, Duration::from_secs(600)).await;

    assert_eq!(job.state, JobState::Failed(Failure::Lost));
    assert_eq!(h.service.submits("a fox broke-early"), 2);
    assert_eq!(job.resubmits, 1);
    assert_eq!(h.used_quota("ada").await, 0);
}

#[tokio::test(start_paused = true)]
async fn a_job_whose_stream_broke_after_it_started_is_never_sent_again() {
    let h = harness(FakeService::native(), |_| {});
    let id = h.video("a fox broke-late", "ada").await;

    let job = h.until_finished(&id, Duration::from_secs(600)).await;

    assert_eq!(job.state, JobState::Failed(Failure::Lost));
    assert_eq!(h.service.submits("a fox broke-late"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_streamed_task_gone_with_an_earlier_run_is_in_doubt_not_resubmitted() {
    // In the chat dialect a task lives in its connection: after a restart
    // the service still has it, but the bot can no longer ask.
    let h = harness(
        FakeService::new(capabilities(Dialect::Chat, "sora-2")),
        |_| {},
    );
    let id = h.video("a fox poll-lost", "ada").await;

    let job = h.until_finished(&id, Duration::from_secs(600)).await;

    assert_eq!(job.state, JobState::Failed(Failure::InDoubt));
    assert_eq!(h.service.submits("a fox poll-lost"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_trickling_download_fails_by_its_pace_and_the_quota_is_given_back() {
    let h = harness(FakeService::native(), |l| l.retry_limit = 2);
    let id = h.video("a fox dl-trickle", "ada").await;

    let job = h.until_finished(&id, Duration::from_secs(600)).await;

    match &job.state {
        JobState::Failed(Failure::Download { reason }) => {
            assert!(reason.contains("too slow"), "{reason}")
        }
        other => panic!("expected a download failure, got {other:?}"),
    }
    assert_eq!(h.chat.uploads_of("dl-trickle"), 0);
    assert_eq!(h.used_quota("ada").await, 0);
    let finished = job.finished_ms.unwrap() - job.done_seen_ms.unwrap();
    assert!(
        finished < 3 * 60 * 1000,
        "gave up after {finished} ms of downloading"
    );
}

#[tokio::test(start_paused = true)]
async fn a_download_past_its_deadline_fails_even_at_a_good_pace() {
    let h = harness(FakeService::native(), |l| {
        l.retry_limit = 0;
        l.download_min_rate = 0;
        l.download_deadline = Duration::from_secs(45);
    });
    let id = h.video("a fox dl-trickle", "ada").await;

    let job = h.until_finished(&id, Duration::from_secs(600)).await;

    match &job.state {
        JobState::Failed(Failure::Download { reason }) => {
            assert!(reason.contains("within 45 s"), "{reason}")
        }
        other => panic!("expected a download failure, got {other:?}"),
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(start_paused = true)]
async fn a_full_disk_fails_the_job_cleanly_with_a_refund() {
    // No retry: the failed attempt removes its spool file, and with it the
    // way this test fills the disk.
    let h = harness(FakeService::native(), |l| l.retry_limit = 0);
    let id = h.video("a fox on a full disk", "ada").await;
    // Every write of this result's spool file meets a full disk.
    let spool = h.limits.spool_dir();
    std::fs::create_dir_all(&spool).unwrap();
    std::os::unix::fs::symlink("/dev/full", spool.join(format!("{id}-0.part"))).unwrap();

    let job = h.until_finished(&id, Duration::from_secs(600)).await;

    assert_eq!(job.state, JobState::Failed(Failure::Disk));
    assert_eq!(h.used_quota("ada").await, 0);
    h.told(&job, "disk is full").await;
    let _ = &h.dir;
}

#[tokio::test(start_paused = true)]
async fn cancel_is_answered_while_an_upload_hangs() {
    let h = harness(FakeService::native(), |_| {});
    let id = h.video("a fox up-hang", "ada").await;
    h.until(&id, Duration::from_secs(600), |s| {
        *s == JobState::Delivering
    })
    .await;

    let asked = Instant::now();
    let cancel = message(&format!("/cancel {id}"), "ada");
    tokio::time::timeout(Duration::from_secs(5), h.engine.handle(&cancel))
        .await
        .expect("the cancel is answered without waiting for the upload");

    assert!(asked.elapsed() < Duration::from_secs(5));
    assert_eq!(h.job(&id).await.state, JobState::Cancelled);
    assert_eq!(h.used_quota("ada").await, 0);
}

#[tokio::test(start_paused = true)]
async fn a_remix_reply_the_instant_the_video_appears_reaches_the_service() {
    let h = harness(FakeService::native(), |_| {});
    let release = Arc::new(Notify::new());
    *h.chat.hold_uploads.lock().unwrap() = Some(release.clone());
    let id = h.video("a fox by the river", "ada").await;
    tokio::time::timeout(Duration::from_secs(600), h.chat.posted.notified())
        .await
        .expect("the video is posted");

    // The video is in the chat; the engine has not heard back yet.
    let video_message = format!("video-{}", *h.chat.next.lock().unwrap());
    let mut reply = message("/remix make it night", "ada");
    reply.reply_to = Some(video_message);
    reply.message_id = "m-reply".into();
    let remix = tokio::spawn({
        let engine = h.engine.clone();
        async move { engine.handle(&reply).await }
    });
    tokio::task::yield_now().await;
    *h.chat.hold_uploads.lock().unwrap() = None;
    release.notify_one();
    tokio::time::timeout(Duration::from_secs(60), remix)
        .await
        .expect("the remix is answered")
        .unwrap();

    h.until(&id, Duration::from_secs(60), |s| *s == JobState::Delivered)
        .await;
    let remix_job = h.job_of("ada").await;
    assert_ne!(remix_job.id.as_str(), id, "a remix job was made");
    let remix_job = h
        .until(remix_job.id.as_str(), Duration::from_secs(600), |s| {
            s.is_finished()
        })
        .await;
    assert_eq!(remix_job.state, JobState::Delivered);
    assert_eq!(remix_job.submit_attempts, 1);
}

#[tokio::test(start_paused = true)]
async fn a_used_up_balance_is_told_as_such_refunded_and_the_operator_alerted_once() {
    let h = harness(FakeService::native(), |l| {
        l.access.admins.insert("test:boss".into());
    });
    let first = h.video("a fox submit-broke", "ada").await;
    let second = h.video("a cat submit-broke", "bob").await;

    for (id, user) in [(&first, "ada"), (&second, "bob")] {
        let job = h.until_finished(id, Duration::from_secs(60)).await;
        assert_eq!(job.state, JobState::Failed(Failure::ServiceBalance));
        assert_eq!(h.used_quota(user).await, 0);
        h.told(&job, "balance is used up").await;
    }
    let alerts = || -> Vec<String> {
        let sent = h.chat.sent_to.lock().unwrap();
        sent.iter()
            .filter(|(chat, _)| chat == "boss")
            .map(|(_, text)| text.clone())
            .collect()
    };
    let start = Instant::now();
    while alerts().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(10), "no alert");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let alerts = alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("该令牌额度已用尽"), "{}", alerts[0]);
}

/// Every way a job can go wrong, side by side: each job ends (delivered,
/// failed and refunded, or cancelled) within its deadline, none is left
/// retrying for ever, and no failed job keeps its quota.
#[tokio::test(start_paused = true)]
async fn every_failure_kind_ends_its_job_within_the_deadline() {
    let deadline = Duration::from_secs(10 * 60);
    let h = harness(FakeService::native(), |l| l.job_deadline = deadline);
    let kinds = [
        "healthy",
        "submit-doubt",
        "submit-503",
        "submit-invalid",
        "submit-refused",
        "submit-broke",
        "poll-503",
        "poll-garbled",
        "poll-429",
        "poll-lost",
        "broke-early",
        "broke-late",
        "poll-failed",
        "never-done",
        "dl-503",
        "dl-forbidden",
        "dl-trickle",
        "up-fail",
        "up-429",
        "up-hang",
    ];
    let mut jobs = Vec::new();
    for (n, kind) in kinds.iter().enumerate() {
        let user = format!("user-{n}");
        let id = h.video(&format!("a fox {kind}"), &user).await;
        jobs.push((kind, user, id));
    }
    // The hanging upload is ended by its owner.
    let (_, hang_user, hang_id) = jobs.last().unwrap().clone();
    h.until(&hang_id, deadline, |s| *s == JobState::Delivering)
        .await;
    h.engine
        .handle(&message(&format!("/cancel {hang_id}"), &hang_user))
        .await;

    // A job's deadline counts twice at most: once for the generation, once
    // for its delivery.
    for (kind, user, id) in &jobs {
        let job = h.until_finished(id, 2 * deadline + TASK_TIME).await;
        match (**kind, &job.state) {
            ("healthy", JobState::Delivered) => {}
            ("up-hang", JobState::Cancelled) => {}
            (_, JobState::Failed(_)) => {}
            (kind, state) => panic!("{kind}: ended {state:?}"),
        }
        if job.state != JobState::Delivered {
            assert_eq!(h.used_quota(user).await, 0, "{kind}: refunded");
        }
    }
    // A job is stored as ended a moment before its slot is given back.
    h.until_true("free slots", TASK_TIME, || h.engine.active_jobs() == 0)
        .await;
    assert_eq!(h.service.submits("a fox healthy"), 1);
    assert_eq!(h.chat.uploads_of("a fox healthy"), 1);
}
