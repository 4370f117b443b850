//! The engine's time-driven behaviour under tokio's paused clock: how often
//! it polls, how soon it delivers, how it spaces status edits, waits out a
//! 429, retries, and gives up at the deadline. The service here is an
//! in-memory fake whose tasks take exactly as long as the test says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use sorabot::backend::{
    capabilities, Backend, BackendError, Capabilities, Dialect, Download, JobSpec, MediaRef,
    Output, OutputKind, TaskId, TaskStatus,
};
use sorabot::chat::{
    ChatError, ChatPort, ChatRef, Delivered, Incoming, MediaFile, Outgoing, UserRef,
};
use sorabot::{Engine, Limits};
use sorabot_storage::{Store, UserKey};
use tokio::time::Instant;

/// A service whose every task takes `duration`, with scripted errors.
struct FakeService {
    duration: Duration,
    capabilities: Capabilities,
    state: Mutex<ServiceState>,
}

#[derive(Default)]
struct ServiceState {
    started: HashMap<String, Instant>,
    status_calls: Vec<Instant>,
    /// Errors returned by the next status calls, in order.
    status_errors: Vec<BackendError>,
}

impl FakeService {
    fn new(duration: Duration) -> Arc<Self> {
        Arc::new(FakeService {
            duration,
            capabilities: capabilities(Dialect::Native, "sora-2"),
            state: Mutex::default(),
        })
    }

    fn finished_at(&self, task: &str) -> Instant {
        self.state.lock().unwrap().started[task] + self.duration
    }

    fn status_calls(&self) -> Vec<Instant> {
        self.state.lock().unwrap().status_calls.clone()
    }

    fn fail_next_status(&self, errors: Vec<BackendError>) {
        self.state.lock().unwrap().status_errors = errors;
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

    async fn submit(&self, _spec: &JobSpec) -> Result<TaskId, BackendError> {
        let mut state = self.state.lock().unwrap();
        let id = format!("task-{}", state.started.len() + 1);
        state.started.insert(id.clone(), Instant::now());
        Ok(TaskId(id))
    }

    async fn status(&self, task: &TaskId, _kind: OutputKind) -> Result<TaskStatus, BackendError> {
        let mut state = self.state.lock().unwrap();
        state.status_calls.push(Instant::now());
        if !state.status_errors.is_empty() {
            return Err(state.status_errors.remove(0));
        }
        let elapsed = state.started[&task.0].elapsed();
        if elapsed >= self.duration {
            return Ok(TaskStatus::Succeeded(Output::Video(MediaRef::Url(
                "https://cdn.example/v.mp4".into(),
            ))));
        }
        let progress = elapsed.as_secs_f32() / self.duration.as_secs_f32();
        Ok(TaskStatus::Running {
            progress: Some(progress),
        })
    }

    async fn download(&self, _task: &TaskId, _media: &MediaRef) -> Result<Download, BackendError> {
        let bytes = Bytes::from_static(include_bytes!("../sim/assets/sample.mp4"));
        Ok(Download {
            content_type: Some("video/mp4".into()),
            content_length: Some(bytes.len() as u64),
            stream: Box::pin(futures::stream::iter([Ok(bytes)])),
        })
    }
}

/// What the chat saw, and when.
#[derive(Default)]
struct Recorder {
    next: Mutex<u64>,
    edits: Mutex<Vec<(Instant, String)>>,
    sent: Mutex<Vec<String>>,
    deliveries: Mutex<Vec<Instant>>,
}

#[async_trait]
impl ChatPort for Recorder {
    fn platform(&self) -> &str {
        "test"
    }

    fn upload_limit(&self, _chat: &ChatRef) -> u64 {
        50 * 1024 * 1024
    }

    async fn send(&self, _chat: &ChatRef, message: &Outgoing) -> Result<String, ChatError> {
        self.sent.lock().unwrap().push(message.text.clone());
        let mut next = self.next.lock().unwrap();
        *next += 1;
        Ok(next.to_string())
    }

    async fn edit(&self, _chat: &ChatRef, _id: &str, message: &Outgoing) -> Result<(), ChatError> {
        self.edits
            .lock()
            .unwrap()
            .push((Instant::now(), message.text.clone()));
        Ok(())
    }

    async fn delete(&self, _chat: &ChatRef, _id: &str) -> Result<(), ChatError> {
        Ok(())
    }

    async fn deliver(&self, _chat: &ChatRef, _media: &MediaFile) -> Result<Delivered, ChatError> {
        self.deliveries.lock().unwrap().push(Instant::now());
        Ok(Delivered {
            message_id: "video".into(),
            file_id: None,
        })
    }
}

struct Harness {
    engine: Engine,
    service: Arc<FakeService>,
    chat: Arc<Recorder>,
    _dir: tempfile::TempDir,
}

fn harness(duration: Duration, tune: impl FnOnce(&mut Limits)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mut limits = Limits::new(dir.path());
    tune(&mut limits);
    let service = FakeService::new(duration);
    let chat = Arc::new(Recorder::default());
    let store = Store::open(&dir.path().join("db")).unwrap();
    let engine = Engine::new(service.clone(), store, limits, vec![chat.clone()]);
    tokio::spawn({
        let engine = engine.clone();
        async move { engine.run().await }
    });
    Harness {
        engine,
        service,
        chat,
        _dir: dir,
    }
}

fn message(text: &str, private: bool) -> Incoming {
    Incoming {
        chat: ChatRef {
            platform: "test".into(),
            chat: "chat-1".into(),
            thread: None,
            private,
        },
        user: UserRef {
            id: "user-1".into(),
            name: "Ada".into(),
            language: Some("en".into()),
            chat_admin: false,
        },
        message_id: "100".into(),
        text: text.into(),
        attachments: vec![],
        reply_to: None,
        reply_media: None,
        bot_username: Some("sorabot".into()),
    }
}

/// Lets the engine run until no job is left, advancing the paused clock.
async fn until_idle(engine: &Engine, limit: Duration) {
    let start = Instant::now();
    while engine.active_jobs() > 0 {
        assert!(
            start.elapsed() < limit,
            "jobs still active after {limit:?}: {} in flight, {} queued",
            engine.in_flight(),
            engine.queue_len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_two_minute_job_is_polled_sparingly_and_delivered_within_three_seconds() {
    let h = harness(Duration::from_secs(120), |_| {});
    // A learned kind: one job of it took two minutes before (a first job is
    // planned from its own pace, and polled more; see the planner's tests).
    h.engine
        .store()
        .record_duration("video/default/std", 120.0)
        .await
        .unwrap();

    h.engine
        .handle(&message("/video a fox in the snow", true))
        .await;
    until_idle(&h.engine, Duration::from_secs(600)).await;

    let polls = h.service.status_calls().len();
    let delivered = h.chat.deliveries.lock().unwrap()[0];
    let lag = delivered - h.service.finished_at("task-1");
    assert!(polls <= 12, "{polls} status requests");
    assert!(
        lag < Duration::from_secs(3),
        "delivered {lag:?} after the service finished"
    );
}

#[tokio::test(start_paused = true)]
async fn status_edits_in_a_group_are_spaced_by_the_group_interval() {
    let h = harness(Duration::from_secs(120), |limits| {
        limits.poll_max = Duration::from_secs(3);
        limits.status_edit_group = Duration::from_secs(10);
    });

    h.engine
        .handle(&message("/video a fox in the snow", false))
        .await;
    until_idle(&h.engine, Duration::from_secs(600)).await;

    let edits = h.chat.edits.lock().unwrap().clone();
    let progress_edits: Vec<Instant> = edits
        .iter()
        .filter(|(_, text)| text.contains("Generating"))
        .map(|(at, _)| *at)
        .collect();
    assert!(progress_edits.len() >= 3, "{edits:?}");
    for pair in progress_edits.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_secs(10),
            "{:?}",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_holds_back_the_next_poll_for_retry_after() {
    let h = harness(Duration::from_secs(60), |limits| {
        limits.poll_max = Duration::from_secs(5);
    });
    h.service.fail_next_status(vec![BackendError::RateLimited {
        retry_after: Some(Duration::from_secs(30)),
    }]);

    h.engine.handle(&message("/video a fox", true)).await;
    until_idle(&h.engine, Duration::from_secs(600)).await;

    let calls = h.service.status_calls();
    assert!(calls[1] - calls[0] >= Duration::from_secs(30), "{calls:?}");
    assert_eq!(h.chat.deliveries.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn passing_outages_are_retried_and_the_job_still_delivered() {
    let h = harness(Duration::from_secs(30), |_| {});
    let outage = || BackendError::Unavailable {
        reason: "HTTP 503".into(),
    };
    h.service
        .fail_next_status(vec![outage(), outage(), outage()]);

    h.engine.handle(&message("/video a fox", true)).await;
    until_idle(&h.engine, Duration::from_secs(600)).await;

    assert_eq!(h.chat.deliveries.lock().unwrap().len(), 1);
    assert!(h.service.status_calls().len() >= 4);
}

#[tokio::test(start_paused = true)]
async fn a_job_past_its_deadline_fails_and_gives_the_quota_back() {
    let h = harness(Duration::from_secs(7200), |limits| {
        limits.job_deadline = Duration::from_secs(30 * 60);
    });

    h.engine
        .handle(&message("/video a very slow fox", true))
        .await;
    until_idle(&h.engine, Duration::from_secs(3600)).await;

    assert!(h.chat.deliveries.lock().unwrap().is_empty());
    let last = h.chat.edits.lock().unwrap().last().unwrap().1.clone();
    assert!(last.contains("did not finish within 30 minutes"), "{last}");
    let (day, _) = sorabot::clock::today();
    let used = h
        .engine
        .store()
        .usage(&UserKey::new("test", "user-1"), day)
        .await
        .unwrap();
    assert_eq!(used, 0);
}
