//! With a PostgreSQL store, an attached image is kept in the store as a
//! blob, not as a file under `DATA_DIR`: whichever instance submits or
//! retries the job reads it from there. The blob is swept after its
//! retention like a file, and a retry then asks for the image again.

mod steps_support;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use sorabot::chat::{Attachment, AttachmentKind, Incoming};
use sorabot::job::{Job, JobState, StoredImage};
use sorabot::{Engine, Limits};
use sorabot_storage::throwaway::Postgres;
use sorabot_storage::{PgOptions, Store, UserKey};
use steps_support::{message, Recorder};

const SAMPLE_PNG: &[u8] = include_bytes!("../sim/assets/sample.png");
/// The longest any one awaited event may take.
const WAIT: Duration = Duration::from_secs(10);

struct Shared {
    engine: Engine,
    store: Store,
    chat: Arc<Recorder>,
    sim: sorabot_sim::SimHandle,
    data: tempfile::TempDir,
    _server: Postgres,
}

/// An engine over a fresh PostgreSQL database and a fast simulator, its
/// driver running.
async fn shared_store_engine() -> Shared {
    let server =
        Postgres::start().unwrap_or_else(|error| panic!("no throwaway PostgreSQL: {error}"));
    let url = server.create_database("engine").unwrap();
    let store = Store::connect(&url, PgOptions::default()).await.unwrap();
    let (sim, backend) = steps_support::backend_support::native(|_| {}).await;
    let data = tempfile::tempdir().unwrap();
    let mut limits = Limits::new(data.path());
    limits.poll_min = Duration::from_millis(5);
    limits.poll_max = Duration::from_millis(50);
    limits.typical_generation = Duration::from_millis(200);
    limits.status_edit_private = Duration::ZERO;
    limits.service_rps = 1000.0;
    let chat = Arc::new(Recorder::default());
    let engine = Engine::new(backend, store.clone(), limits, vec![chat.clone()]);
    tokio::spawn({
        let engine = engine.clone();
        async move { engine.run().await }
    });
    Shared {
        engine,
        store,
        chat,
        sim,
        data,
        _server: server,
    }
}

fn with_picture(text: &str) -> Incoming {
    let mut msg = message(text);
    msg.attachments.push(Attachment {
        kind: AttachmentKind::Image,
        mime: Some("image/png".into()),
        size: Some(SAMPLE_PNG.len() as u64),
        data: Some(Bytes::from_static(SAMPLE_PNG)),
        public_url: None,
        pixels: None,
    });
    msg
}

impl Shared {
    async fn only_job(&self) -> Job {
        let jobs: Vec<Job> = self
            .store
            .jobs_of(&UserKey::new("test", "ada"), 2)
            .await
            .unwrap();
        assert_eq!(jobs.len(), 1, "one job");
        jobs.into_iter().next().unwrap()
    }

    /// Waits until the job is delivered and its end told (it is then no
    /// longer among the unfinished jobs a sweep spares).
    async fn wait_delivered(&self, job: &Job) -> Job {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let stored: Job = self.store.get_job(job.id.as_str()).await.unwrap().unwrap();
            if stored.state == JobState::Delivered && !stored.untold {
                return stored;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {} not delivered within {WAIT:?}: {:?}",
                job.id,
                stored.state
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The image bytes of each video submission, from its `data:` URL.
    fn submitted_images(&self) -> Vec<Vec<u8>> {
        self.sim
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.contains("/v1/videos/generations"))
            .filter_map(|r| r.json())
            .map(|body| {
                let url = body["image_urls"][0]
                    .as_str()
                    .expect("one image URL")
                    .to_owned();
                let data = url
                    .strip_prefix("data:image/png;base64,")
                    .expect("a PNG data: URL");
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .expect("base64")
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_to_video_job_sends_the_exact_bytes_from_a_blob_and_writes_no_file() {
    let bot = shared_store_engine().await;

    bot.engine
        .handle(&with_picture("/video make it move"))
        .await;
    let job = bot.only_job().await;
    let job = bot.wait_delivered(&job).await;

    let [StoredImage::Blob { key, mime }] = job.request.stored_images() else {
        panic!(
            "one image kept as a blob: {:?}",
            job.request.stored_images()
        );
    };
    assert!(
        key.starts_with("input/") && key.ends_with("-0.png"),
        "{key}"
    );
    assert_eq!(mime, "image/png");
    assert_eq!(
        bot.store.blob(key).await.unwrap().as_deref(),
        Some(SAMPLE_PNG)
    );
    assert_eq!(bot.submitted_images(), [SAMPLE_PNG.to_vec()]);
    let inputs = bot.engine.limits().inputs_dir();
    assert!(
        !inputs.exists(),
        "nothing written under {}",
        bot.data.path().display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_past_its_retention_is_swept_and_retry_asks_for_the_image_again() {
    let bot = shared_store_engine().await;
    bot.engine
        .handle(&with_picture("/video make it move"))
        .await;
    let job = bot.wait_delivered(&bot.only_job().await).await;
    let key = job.request.kept_blobs().next().expect("a blob").to_owned();

    let swept = bot.engine.sweep().await.expect("the sweep runs");
    assert_eq!(swept.inputs, 0, "a blob stored just now stays");
    let eight_days_ago = sorabot::clock::now_ms() - 8 * 24 * 3600 * 1000;
    bot.store
        .put_blob_at(&key, SAMPLE_PNG, eight_days_ago)
        .await
        .unwrap();
    let swept = bot.engine.sweep().await.expect("the sweep runs");
    assert_eq!(swept.inputs, 1, "past the week, the blob goes");
    assert!(!bot.store.has_blob(&key).await.unwrap());

    bot.engine
        .handle(&message(&format!("/retry {}", job.id)))
        .await;

    let sent = bot.chat.sent.lock().unwrap().clone();
    assert!(
        sent.iter()
            .any(|text| text.starts_with("The image of that job is no longer kept")),
        "{sent:#?}"
    );
    assert_eq!(
        bot.submitted_images().len(),
        1,
        "nothing submitted without its image"
    );
}
