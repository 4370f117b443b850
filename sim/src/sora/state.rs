//! Shared state of a running simulator: configuration, tasks, request log, faults, randomness.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::config::SimConfig;
use super::errors::ApiError;
use super::faults::FaultBook;
use super::keep::{Keep, KeptTask, Loaded};
use super::lifecycle::{Phase, Plan, Workload};
use super::media::Media;
use super::models::Resolution;
use super::record::{Recorded, RequestCounters, RequestCounts, RequestKind};

/// Message of jobs failed because their prompt holds a fail word.
const FAIL_WORD_MESSAGE: &str = "内容审核未通过：生成的视频被安全系统拦截 (simulated failure)";
/// Message of jobs failed at random per `fail_rate`.
const RANDOM_FAIL_MESSAGE: &str = "上游服务异常，生成中断 (simulated failure)";

/// The dialect a task was created through, which decides its id and how a remix answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Dialect {
    Native,
    OpenAi,
    Chat,
}

/// A video job's parameters.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VideoJob {
    /// The model name exactly as the client gave it.
    pub model: String,
    pub prompt: String,
    pub seconds: u32,
    pub resolution: Resolution,
    pub pro: bool,
    /// The task this one remixes.
    pub remixed_from: Option<String>,
}

/// A character (cameo) job's result, drawn at creation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CharacterJob {
    /// Like `char_0123abcd...`.
    pub character_id: String,
    /// A short handle like `cameo_3f9a`.
    pub username: String,
}

/// An image job's parameters.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageJob {
    pub prompt: String,
    /// Number of images, 1 to 4.
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TaskKind {
    Video(VideoJob),
    Character(CharacterJob),
    Image(ImageJob),
}

impl TaskKind {
    fn workload(&self) -> Workload {
        match self {
            Self::Video(v) => Workload::Video {
                seconds: v.seconds,
                hd: v.resolution.hd,
                pro: v.pro,
            },
            Self::Character(_) => Workload::Character,
            Self::Image(_) => Workload::Image,
        }
    }

    /// The prompt that fail words are looked for in.
    fn prompt(&self) -> &str {
        match self {
            Self::Video(v) => &v.prompt,
            Self::Image(i) => &i.prompt,
            Self::Character(_) => "",
        }
    }
}

/// What a created task was asked to do, for a caller that maps the service's
/// work (and what it would have cost) back to its own requests.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSummary {
    pub id: String,
    /// `video`, `character` or `image`.
    pub kind: &'static str,
    /// The prompt of a video or image task.
    pub prompt: Option<String>,
    /// The task a remix started from.
    pub remixed_from: Option<String>,
    /// When it was created (tokio's clock).
    pub created: Instant,
}

/// A job; immutable, its phase is computed from the time elapsed since creation.
#[derive(Debug)]
pub struct Task {
    pub id: String,
    pub dialect: Dialect,
    pub kind: TaskKind,
    created: Instant,
    /// Wall-clock creation time, Unix seconds.
    pub created_unix: u64,
    plan: Plan,
}

impl Task {
    pub fn video(&self) -> Option<&VideoJob> {
        match &self.kind {
            TaskKind::Video(v) => Some(v),
            _ => None,
        }
    }

    /// Wall-clock end time, Unix seconds, given the time scale.
    pub fn finished_unix(&self, time_scale: f64) -> u64 {
        // Durations are finite and non-negative, so the cast saturates at worst.
        self.created_unix + (self.plan.end_secs() / time_scale).round() as u64
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct SimState {
    /// The configuration, prefix normalized.
    pub config: SimConfig,
    /// `http://127.0.0.1:PORT` plus the prefix.
    pub base_url: String,
    pub media: Media,
    /// Cancelled when the simulator shuts down, to release hanging and waiting requests.
    pub shutdown: CancellationToken,
    rng: Mutex<StdRng>,
    tasks: Mutex<HashMap<String, Arc<Task>>>,
    requests: Mutex<Vec<Recorded>>,
    /// Requests by kind, counted whether or not `config.record` keeps them.
    counts: RequestCounters,
    /// When each task was first asked about since
    /// [`SimState::watch_first_status`]; `None` while nobody watches.
    first_status: Mutex<Option<HashMap<String, Instant>>>,
    faults: Mutex<FaultBook>,
    /// Where tasks are kept across restarts, if anywhere.
    keep: Option<Keep>,
}

/// Locks a mutex, ignoring poisoning: every critical section leaves the data consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SimState {
    pub fn new(config: SimConfig, base_url: String, media: Media) -> Self {
        Self {
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            faults: Mutex::new(FaultBook::new(config.faults.clone())),
            config,
            base_url,
            media,
            shutdown: CancellationToken::new(),
            tasks: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            counts: RequestCounters::default(),
            keep: None,
            first_status: Mutex::new(None),
        }
    }

    /// Keeps every new task in `keep`, and knows again the tasks `loaded`
    /// from it, each as old as the wall clock says.
    pub fn keeping(mut self, keep: Keep, loaded: Loaded) -> Self {
        let now_ms = unix_now_ms();
        {
            let mut tasks = lock(&self.tasks);
            for kept in loaded.tasks {
                let task = self.restored(kept, now_ms);
                tasks.insert(task.id.clone(), Arc::new(task));
            }
        }
        self.keep = Some(keep);
        self
    }

    /// A kept task, its age taken from the wall clock: capped just past its
    /// end (a task ended long ago is simply ended), so the age always fits
    /// the monotonic clock.
    fn restored(&self, kept: KeptTask, now_ms: u64) -> Task {
        let age = Duration::from_millis(now_ms.saturating_sub(kept.created_unix_ms));
        let age = age.min(self.real_duration(kept.plan.end_secs()) + Duration::from_secs(1));
        let now = Instant::now();
        Task {
            id: kept.id,
            dialect: kept.dialect,
            kind: kept.kind,
            created: now.checked_sub(age).unwrap_or(now),
            created_unix: kept.created_unix_ms / 1000,
            plan: kept.plan,
        }
    }

    /// `len` random lowercase hex digits.
    pub fn random_hex(&self, len: usize) -> String {
        let mut rng = lock(&self.rng);
        (0..len)
            .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
            .collect()
    }

    /// Creates and stores a task, drawing its timeline and whether it fails.
    pub fn create_task(&self, dialect: Dialect, kind: TaskKind) -> Arc<Task> {
        let failure = self.failure_for(kind.prompt());
        let workload = kind.workload();
        let nominal =
            workload.nominal_secs(self.config.mean_job_secs, self.config.image_delay_secs);
        let spread = workload.spread(self.config.job_spread);
        let (id, plan) = {
            let mut rng = lock(&self.rng);
            let id = match (dialect, &kind) {
                (Dialect::OpenAi, TaskKind::Video(_)) => {
                    format!("video_{:032x}", rng.gen::<u128>())
                }
                (Dialect::OpenAi, TaskKind::Character(c)) => c.character_id.clone(),
                (Dialect::OpenAi, _) => format!("img_{:024x}", rng.gen::<u128>() >> 32),
                _ => uuid::Builder::from_random_bytes(rng.gen())
                    .into_uuid()
                    .to_string(),
            };
            let plan = Plan::draw(&mut *rng, nominal, spread, failure);
            (id, plan)
        };
        let created_unix_ms = unix_now_ms();
        if let Some(keep) = &self.keep {
            keep.append(&KeptTask {
                id: id.clone(),
                dialect,
                kind: kind.clone(),
                created_unix_ms,
                plan: plan.clone(),
            });
        }
        let task = Arc::new(Task {
            id: id.clone(),
            dialect,
            kind,
            created: Instant::now(),
            created_unix: created_unix_ms / 1000,
            plan,
        });
        lock(&self.tasks).insert(id, Arc::clone(&task));
        task
    }

    /// The failure message of a new job, if it is to fail.
    fn failure_for(&self, prompt: &str) -> Option<String> {
        if contains_any(prompt, &self.config.fail_words) {
            return Some(FAIL_WORD_MESSAGE.to_owned());
        }
        let rate = lock(&self.faults).rates().fail_rate;
        let fails = rate > 0.0 && lock(&self.rng).gen::<f64>() < rate;
        fails.then(|| RANDOM_FAIL_MESSAGE.to_owned())
    }

    pub fn task(&self, id: &str) -> Option<Arc<Task>> {
        lock(&self.tasks).get(id).cloned()
    }

    /// A task by id, or the 404 answer.
    pub fn task_or_404(&self, id: &str) -> Result<Arc<Task>, ApiError> {
        self.task(id)
            .ok_or_else(|| ApiError::not_found(format!("No task found with id '{id}'.")))
    }

    /// The job of a video task that has succeeded, as a remix or character source must be.
    pub fn succeeded_video(&self, id: &str, param: &str) -> Result<VideoJob, ApiError> {
        let task = self.task_or_404(id)?;
        let video = task.video().cloned().ok_or_else(|| {
            ApiError::bad_value(param, format!("Task '{id}' is not a video task."))
        })?;
        if self.phase(&task) != Phase::Succeeded {
            return Err(ApiError::invalid(
                param,
                "video_not_completed",
                format!("Video '{id}' has not completed successfully."),
            ));
        }
        Ok(video)
    }

    /// The video tasks of a dialect, newest first.
    pub fn videos_newest_first(&self, dialect: Dialect) -> Vec<Arc<Task>> {
        let mut tasks: Vec<Arc<Task>> = lock(&self.tasks)
            .values()
            .filter(|t| t.dialect == dialect && t.video().is_some())
            .cloned()
            .collect();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.created));
        tasks
    }

    pub fn task_count(&self) -> usize {
        lock(&self.tasks).len()
    }

    /// Every task, oldest first.
    pub fn task_summaries(&self) -> Vec<TaskSummary> {
        let mut tasks: Vec<TaskSummary> = lock(&self.tasks)
            .values()
            .map(|task| {
                let (kind, prompt, remixed_from) = match &task.kind {
                    TaskKind::Video(v) => ("video", Some(v.prompt.clone()), v.remixed_from.clone()),
                    TaskKind::Character(_) => ("character", None, None),
                    TaskKind::Image(i) => ("image", Some(i.prompt.clone()), None),
                };
                TaskSummary {
                    id: task.id.clone(),
                    kind,
                    prompt,
                    remixed_from,
                    created: task.created,
                }
            })
            .collect();
        tasks.sort_by_key(|t| t.created);
        tasks
    }

    /// Simulated seconds since the task was created.
    fn elapsed_secs(&self, task: &Task) -> f64 {
        task.created.elapsed().as_secs_f64() * self.config.time_scale
    }

    /// Where the task stands now.
    pub fn phase(&self, task: &Task) -> Phase {
        task.plan.phase_at(self.elapsed_secs(task))
    }

    /// The moment (tokio's clock) the task ends, succeeded or failed, by the timeline drawn
    /// at its creation: from then on [`SimState::phase`] reports it finished. `None` for an
    /// unknown id. The ground truth a client's delay in noticing the end is measured against.
    pub fn finished_at(&self, id: &str) -> Option<Instant> {
        let task = self.task(id)?;
        Some(task.created + self.real_duration(task.plan.end_secs()))
    }

    /// Waits until the task ends; `None` if the simulator shuts down first.
    pub async fn wait_finished(&self, task: &Task) -> Option<Phase> {
        loop {
            let phase = self.phase(task);
            if phase.is_finished() {
                return Some(phase);
            }
            let left = (task.plan.end_secs() - self.elapsed_secs(task)).max(0.0);
            let wait =
                Duration::from_secs_f64(left / self.config.time_scale) + Duration::from_millis(1);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.shutdown.cancelled() => return None,
            }
        }
    }

    /// Real time that `secs` simulated seconds take.
    pub fn real_duration(&self, secs: f64) -> Duration {
        Duration::from_secs_f64((secs / self.config.time_scale).max(0.0))
    }

    /// Whether the prompt holds a word that makes creation fail.
    pub fn is_rejected(&self, prompt: &str) -> bool {
        contains_any(prompt, &self.config.reject_words)
    }

    /// Counts a request and, when `config.record` is on, keeps it.
    pub fn log_request(&self, request: Recorded) {
        let kind = RequestKind::of(&request.method, &request.path);
        self.counts.add(kind);
        if kind == RequestKind::Status {
            self.note_status(&request.path, request.at);
        }
        if self.config.record {
            lock(&self.requests).push(request);
        }
    }

    /// Notes the first status request of a task, while someone watches.
    fn note_status(&self, path: &str, at: Instant) {
        let mut first = lock(&self.first_status);
        if let (Some(first), Some(task)) = (first.as_mut(), RequestKind::status_task(path)) {
            first.entry(task.to_owned()).or_insert(at);
        }
    }

    /// Forgets the first status requests noted so far and notes them from now on.
    pub fn watch_first_status(&self) {
        *lock(&self.first_status) = Some(HashMap::new());
    }

    /// Each task asked about since [`SimState::watch_first_status`], with the
    /// moment of its first status request.
    pub fn first_status(&self) -> HashMap<String, Instant> {
        lock(&self.first_status).clone().unwrap_or_default()
    }

    pub fn request_counts(&self) -> RequestCounts {
        self.counts.get()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.requests).clone()
    }

    /// Forgets the recorded requests and zeroes the counts.
    pub fn clear_requests(&self) {
        lock(&self.requests).clear();
        self.counts.clear();
        lock(&self.faults).clear_counts();
    }

    /// Runs `f` on the fault book and the random generator together.
    pub fn with_faults<T>(&self, f: impl FnOnce(&mut FaultBook, &mut StdRng) -> T) -> T {
        let mut book = lock(&self.faults);
        let mut rng = lock(&self.rng);
        f(&mut book, &mut rng)
    }
}

/// Case-insensitive search for any of the (non-empty) words.
fn contains_any(text: &str, words: &[String]) -> bool {
    let text = text.to_lowercase();
    words
        .iter()
        .filter(|w| !w.is_empty())
        .any(|w| text.contains(&w.to_lowercase()))
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> SimState {
        let media = Media::new(None).expect("media");
        SimState::new(SimConfig::default(), "http://127.0.0.1:1".into(), media)
    }

    fn video(prompt: &str) -> TaskKind {
        TaskKind::Video(VideoJob {
            model: "sora-2".into(),
            prompt: prompt.into(),
            seconds: 10,
            resolution: Resolution::LANDSCAPE,
            pro: false,
            remixed_from: None,
        })
    }

    #[test]
    fn ids_follow_the_dialect() {
        let state = state();
        let native = state.create_task(Dialect::Native, video("a"));
        assert_eq!(native.id.len(), 36);
        assert_eq!(native.id.matches('-').count(), 4);
        let openai = state.create_task(Dialect::OpenAi, video("a"));
        assert!(openai.id.starts_with("video_") && openai.id.len() == 38);
        assert_eq!(state.task_count(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn phases_follow_the_paused_clock() {
        let state = state();
        let task = state.create_task(Dialect::Native, video("a"));
        assert_eq!(state.phase(&task), Phase::Queued);
        // A 10 s video takes 84-156 simulated seconds, the first 5-15 % queued.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(matches!(state.phase(&task), Phase::Running { .. }));
        assert_eq!(state.wait_finished(&task).await, Some(Phase::Succeeded));
        assert!(task.created.elapsed() <= Duration::from_secs(157));
    }

    #[tokio::test(start_paused = true)]
    async fn finished_at_is_when_the_phase_turns_final() {
        let state = state();
        let task = state.create_task(Dialect::Native, video("a"));
        let end = state.finished_at(&task.id).expect("known task");
        assert_eq!(state.finished_at("no-such-task"), None);
        // A 10 s video takes 84-156 simulated seconds at time scale 1.
        let secs = (end - Instant::now()).as_secs_f64();
        assert!((84.0..=156.0).contains(&secs), "{secs}");
        tokio::time::advance(end - Instant::now() - Duration::from_millis(1)).await;
        assert!(!state.phase(&task).is_finished());
        tokio::time::advance(Duration::from_millis(2)).await;
        assert_eq!(state.phase(&task), Phase::Succeeded);
    }

    #[test]
    fn requests_are_counted_by_kind_even_when_not_kept() {
        let media = Media::new(None).expect("media");
        let config = SimConfig {
            record: false,
            ..SimConfig::default()
        };
        let state = SimState::new(config, "http://127.0.0.1:1".into(), media);
        let request = |method: &str, path: &str| Recorded {
            at: tokio::time::Instant::now(),
            method: method.into(),
            path: path.into(),
            headers: vec![],
            body: bytes::Bytes::new(),
            parts: vec![],
        };
        state.log_request(request("POST", "/v1/videos/generations"));
        state.log_request(request("GET", "/v1/videos/tasks/abc"));
        state.log_request(request("GET", "/sora/v1/videos/video_1?x=1"));
        state.log_request(request("GET", "/files/abc.mp4"));
        state.log_request(request("DELETE", "/nowhere"));
        assert!(state.requests().is_empty());
        let counts = state.request_counts();
        assert_eq!(
            (counts.create, counts.status, counts.download, counts.other),
            (1, 2, 1, 1)
        );
        assert_eq!(counts.total(), 5);
        state.clear_requests();
        assert_eq!(state.request_counts().total(), 0);
    }

    #[tokio::test]
    async fn a_simulator_started_again_over_its_file_knows_its_tasks_by_the_wall_clock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tasks.jsonl");
        let (keep, loaded) = Keep::open(&path).unwrap();
        let first = state().keeping(keep, loaded);
        let task = first.create_task(Dialect::Native, video("yesterday's harbour"));
        drop(first);

        // Kept as made now: still queued when read back at once...
        let (keep, loaded) = Keep::open(&path).unwrap();
        let mut kept = loaded.tasks.clone();
        let again = state().keeping(keep, loaded);
        let known = again.task(&task.id).expect("the task is known again");
        assert_eq!(known.kind, task.kind);
        assert!(!again.phase(&known).is_finished());

        // ...and done when it was made an hour ago, so it can be remixed.
        kept[0].created_unix_ms -= 3_600_000;
        let (keep, _) = Keep::open(&dir.path().join("other.jsonl")).unwrap();
        let later = state().keeping(
            keep,
            Loaded {
                tasks: kept,
                skipped: 0,
            },
        );
        assert!(later.succeeded_video(&task.id, "video_id").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_status_request_of_each_task_is_noted_once_watched() {
        let state = state();
        let request = |path: &str| Recorded {
            at: tokio::time::Instant::now(),
            method: "GET".into(),
            path: path.into(),
            headers: vec![],
            body: bytes::Bytes::new(),
            parts: vec![],
        };
        state.log_request(request("/v1/videos/tasks/before"));
        state.watch_first_status();
        let watched = Instant::now();
        state.log_request(request("/v1/videos/tasks/a"));
        tokio::time::advance(Duration::from_secs(1)).await;
        state.log_request(request("/v1/videos/tasks/a"));
        state.log_request(request("/sora/v1/videos/video_b?x=1"));
        state.log_request(request("/v1/videos/video_b/content"));
        state.log_request(request("/v1/videos"));
        let first = state.first_status();
        assert_eq!(first.len(), 2, "{first:?}");
        assert_eq!(first["a"], watched);
        assert_eq!(first["video_b"], watched + Duration::from_secs(1));
    }

    #[test]
    fn fail_words_plan_a_failure() {
        let state = state();
        let task = state.create_task(Dialect::Native, video("make it [SIM:FAIL] now"));
        assert!(matches!(
            task.plan.phase_at(task.plan.end_secs()),
            Phase::Failed { .. }
        ));
        assert!(state.is_rejected("Something NSFW"));
        assert!(!state.is_rejected("a cat"));
    }
}
