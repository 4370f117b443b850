//! An engine over the simulator that no driver runs, for tests that drive
//! it a step at a time on tokio's paused clock, and a chat that records.

#![allow(dead_code)]

#[path = "../backend_support/mod.rs"]
pub mod backend_support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use backend_support::native;
use sorabot::chat::{
    ChatError, ChatPort, ChatRef, Delivered, Incoming, MediaFile, Outgoing, UserRef,
};
use sorabot::engine::Next;
use sorabot::ids::JobId;
use sorabot::job::Job;
use sorabot::{Engine, Limits};
use sorabot_storage::{Store, UserKey};
use tokio::time::Instant;

/// A chat that records what the bot posts; sends can be made to fail.
#[derive(Default)]
pub struct Recorder {
    next: AtomicU64,
    pub sent: Mutex<Vec<String>>,
    pub uploads: Mutex<Vec<String>>,
    pub refuse_sends: AtomicBool,
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
        if self.refuse_sends.load(Ordering::SeqCst) {
            return Err(ChatError::Failed("HTTP 500".into()));
        }
        self.sent.lock().unwrap().push(message.text.clone());
        Ok(self.next.fetch_add(1, Ordering::SeqCst).to_string())
    }

    async fn edit(&self, _chat: &ChatRef, _id: &str, _message: &Outgoing) -> Result<(), ChatError> {
        Ok(())
    }

    async fn delete(&self, _chat: &ChatRef, _id: &str) -> Result<(), ChatError> {
        Ok(())
    }

    async fn deliver(&self, _chat: &ChatRef, media: &MediaFile) -> Result<Delivered, ChatError> {
        self.uploads.lock().unwrap().push(media.caption.clone());
        Ok(Delivered {
            message_id: format!("video-{}", self.next.fetch_add(1, Ordering::SeqCst)),
            file_id: None,
        })
    }
}

/// Log lines, as the bot's subscriber writes them.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct Harness {
    pub engine: Engine,
    pub store: Store,
    pub chat: Arc<Recorder>,
    pub sim: sorabot_sim::SimHandle,
    _dir: tempfile::TempDir,
}

/// An engine over the simulator (two-minute jobs) that no driver runs.
pub async fn harness() -> Harness {
    let (sim, backend) = native(|sim| {
        sim.time_scale = 1.0;
        sim.mean_job_secs = 120.0;
        sim.job_spread = 0.0;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut limits = Limits::new(dir.path());
    limits.status_edit_private = Duration::ZERO;
    let store = Store::open(&limits.db_dir()).unwrap();
    let chat = Arc::new(Recorder::default());
    let engine = Engine::new(backend, store.clone(), limits, vec![chat.clone()]);
    Harness {
        engine,
        store,
        chat,
        sim,
        _dir: dir,
    }
}

pub fn message(text: &str) -> Incoming {
    Incoming {
        chat: ChatRef {
            platform: "test".into(),
            chat: "chat-1".into(),
            thread: None,
            private: true,
        },
        user: UserRef {
            id: "ada".into(),
            name: "Ada".into(),
            language: Some("en".into()),
            chat_admin: false,
        },
        message_id: "m-1".into(),
        text: text.into(),
        attachments: vec![],
        reply_to: None,
        reply_media: None,
        bot_username: Some("sorabot".into()),
    }
}

impl Harness {
    pub async fn only_job(&self) -> Job {
        let jobs: Vec<Job> = self
            .store
            .jobs_of(&UserKey::new("test", "ada"), 2)
            .await
            .unwrap();
        assert_eq!(jobs.len(), 1, "one job");
        jobs.into_iter().next().unwrap()
    }

    pub async fn job(&self, id: &JobId) -> Job {
        self.store
            .get_job(id.as_str())
            .await
            .unwrap()
            .expect("stored")
    }

    pub fn calls(&self, method: &str, path: &str) -> usize {
        let requests = self.sim.requests();
        requests
            .iter()
            .filter(|r| r.method == method && r.path.contains(path))
            .count()
    }

    /// Lets virtual time run to the next timer, then runs what is due.
    pub async fn next_steps(&self) -> Vec<(JobId, Next)> {
        let at = self.engine.next_due().expect("a timer is set");
        tokio::time::advance(at.saturating_duration_since(Instant::now())).await;
        self.engine.run_due_steps().await
    }

    /// Runs steps until the job ends; returns how many steps it took.
    pub async fn run_to_end(&self, id: &JobId) -> usize {
        let mut steps = 0;
        while !self.job(id).await.state.is_finished() {
            steps += self.next_steps().await.len();
            assert!(steps < 100, "the job ends: {:?}", self.job(id).await.state);
        }
        steps
    }
}
