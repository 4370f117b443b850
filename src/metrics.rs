//! The bot's Prometheus metrics: one [`Metrics`] per engine, counted where
//! things happen (the engine's steps, the one call path to the service, the
//! rate limiter) and encoded in the OpenMetrics text format for a scrape.
//!
//! Every label takes its values from a small fixed set (a job state, a
//! failure kind, an endpoint kind), never an id or a path, so the number of
//! series stays bounded however many jobs and chats there are.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

use crate::backend::BackendError;
use crate::chat::MediaKind;
use crate::engine::Refusal;
use crate::job::{Failure, JobState};

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The states an unfinished job can be in, as `sorabot_jobs{state}` names them.
pub const UNFINISHED_STATES: [&str; 5] =
    ["queued", "submitting", "submitted", "running", "delivering"];

/// How a result reached the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The file itself was uploaded.
    Upload,
    /// Over the platform's limit: a message with a link was sent instead.
    Link,
}

impl Delivery {
    fn label(self) -> &'static str {
        match self {
            Delivery::Upload => "upload",
            Delivery::Link => "link",
        }
    }
}

/// What the engine knows of its jobs at the moment of a scrape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Unfinished jobs per state name (one of [`UNFINISHED_STATES`]).
    pub by_state: Vec<(&'static str, usize)>,
    /// Jobs waiting for a slot toward the service.
    pub queued: usize,
    /// Jobs holding a slot toward the service.
    pub in_flight: usize,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HowLabel {
    how: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MediaLabel {
    media: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabel {
    endpoint: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceErrorLabels {
    endpoint: &'static str,
    kind: &'static str,
}

type Seconds = Counter<f64, std::sync::atomic::AtomicU64>;
type Latencies = Family<EndpointLabel, Histogram, fn() -> Histogram>;

/// The bot's metrics. Cheap to clone; all clones count into the same
/// registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Families>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

struct Families {
    registry: Registry,
    jobs: Family<StateLabel, Gauge>,
    queued: Gauge,
    in_flight: Gauge,
    finished: Family<StateLabel, Counter>,
    submissions: Counter,
    polls: Counter,
    deliveries: Family<HowLabel, Counter>,
    failures: Family<KindLabel, Counter>,
    refusals: Family<KindLabel, Counter>,
    service_latency: Latencies,
    service_errors: Family<ServiceErrorLabels, Counter>,
    rate_limit_waits: Counter,
    rate_limit_waited: Seconds,
    uploads: Family<MediaLabel, Counter>,
    upload_bytes: Family<MediaLabel, Counter>,
    leases_taken_over: Counter,
}

/// Service latency buckets: 5 ms to about 80 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

impl Metrics {
    /// A fresh set of families, every fixed label value present at zero (so
    /// a rate over them starts from the first scrape).
    pub fn new() -> Self {
        let families = Families::registered();
        let metrics = Metrics {
            inner: Arc::new(families),
        };
        metrics.create_fixed_series();
        metrics
    }

    fn create_fixed_series(&self) {
        let m = &self.inner;
        for state in UNFINISHED_STATES {
            m.jobs.get_or_create_owned(&StateLabel { state });
        }
        for state in ["delivered", "failed", "cancelled"] {
            m.finished.get_or_create_owned(&StateLabel { state });
        }
        for how in [Delivery::Upload, Delivery::Link] {
            m.deliveries
                .get_or_create_owned(&HowLabel { how: how.label() });
        }
        for media in ["video", "image"] {
            m.uploads.get_or_create_owned(&MediaLabel { media });
            m.upload_bytes.get_or_create_owned(&MediaLabel { media });
        }
        for kind in FAILURE_KINDS {
            m.failures.get_or_create_owned(&KindLabel { kind });
        }
    }

    /// A job was sent to the service (each may cost a generation).
    pub fn submitted(&self) {
        self.inner.submissions.inc();
    }

    /// The service was asked where a job stands.
    pub fn polled(&self) {
        self.inner.polls.inc();
    }

    /// A job ended (delivered, failed or cancelled); a failure is also
    /// counted by its kind.
    pub fn job_finished(&self, state: &JobState) {
        self.inner
            .finished
            .get_or_create(&StateLabel {
                state: state.name(),
            })
            .inc();
        if let JobState::Failed(failure) = state {
            let kind = failure_kind(failure);
            self.inner.failures.get_or_create(&KindLabel { kind }).inc();
        }
    }

    /// A command was refused (not allowed, quota, queue full, bad input...).
    pub fn refused(&self, refusal: &Refusal) {
        let kind = refusal_kind(refusal);
        self.inner.refusals.get_or_create(&KindLabel { kind }).inc();
    }

    /// A result reached the chat as a link (an upload counts in [`Metrics::uploaded`]).
    pub fn delivered(&self, how: Delivery) {
        let how = how.label();
        self.inner.deliveries.get_or_create(&HowLabel { how }).inc();
    }

    /// A result was uploaded into a chat: a delivery, and its bytes.
    pub fn uploaded(&self, kind: MediaKind, bytes: u64) {
        self.delivered(Delivery::Upload);
        let media = match kind {
            MediaKind::Video => "video",
            MediaKind::Image => "image",
        };
        let label = MediaLabel { media };
        self.inner.uploads.get_or_create(&label).inc();
        self.inner.upload_bytes.get_or_create(&label).inc_by(bytes);
    }

    /// One request to the service took `elapsed` (to its answer's headers,
    /// or to its failure) and, if it failed, how.
    pub fn service_answered(
        &self,
        endpoint: &'static str,
        elapsed: Duration,
        error: Option<&BackendError>,
    ) {
        self.inner
            .service_latency
            .get_or_create(&EndpointLabel { endpoint })
            .observe(elapsed.as_secs_f64());
        if let Some(error) = error {
            self.service_failed(endpoint, error);
        }
    }

    /// A request to the service failed after its answer came (an unreadable body).
    pub fn service_failed(&self, endpoint: &'static str, error: &BackendError) {
        let kind = service_error_kind(error);
        self.inner
            .service_errors
            .get_or_create(&ServiceErrorLabels { endpoint, kind })
            .inc();
    }

    /// A call waited `waited` for its turn under the shared rate limit
    /// toward the service.
    pub fn rate_limit_waited(&self, waited: Duration) {
        self.inner.rate_limit_waits.inc();
        self.inner.rate_limit_waited.inc_by(waited.as_secs_f64());
    }

    /// A job's lease, held by another instance that stopped renewing it,
    /// was taken over by this one. Called by the lease code of the shared
    /// (PostgreSQL) store; nothing calls it while the store is sled, so the
    /// counter stays at zero on one machine.
    pub fn lease_taken_over(&self) {
        self.inner.leases_taken_over.inc();
    }

    /// The metrics in the OpenMetrics text format ([`CONTENT_TYPE`]), with
    /// the gauges of the moment set from `counts` first.
    pub fn encode(&self, counts: &JobCounts) -> String {
        let m = &self.inner;
        for state in UNFINISHED_STATES {
            let count = counts
                .by_state
                .iter()
                .find(|(s, _)| *s == state)
                .map_or(0, |(_, n)| *n);
            m.jobs
                .get_or_create(&StateLabel { state })
                .set(gauge(count));
        }
        m.queued.set(gauge(counts.queued));
        m.in_flight.set(gauge(counts.in_flight));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = text::encode(&mut out, &m.registry);
        out
    }
}

fn gauge(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl Families {
    fn registered() -> Families {
        let mut families = Families {
            registry: Registry::with_prefix("sorabot"),
            jobs: Family::default(),
            queued: Gauge::default(),
            in_flight: Gauge::default(),
            finished: Family::default(),
            submissions: Counter::default(),
            polls: Counter::default(),
            deliveries: Family::default(),
            failures: Family::default(),
            refusals: Family::default(),
            service_latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            service_errors: Family::default(),
            rate_limit_waits: Counter::default(),
            rate_limit_waited: Seconds::default(),
            uploads: Family::default(),
            upload_bytes: Family::default(),
            leases_taken_over: Counter::default(),
        };
        let mut registry = std::mem::take(&mut families.registry);
        families.register(&mut registry);
        families.registry = registry;
        families
    }

    fn register(&self, r: &mut Registry) {
        r.register(
            "jobs",
            "Unfinished jobs by state, at the time of the scrape",
            self.jobs.clone(),
        );
        r.register(
            "queued_jobs",
            "Jobs waiting for a slot toward the service",
            self.queued.clone(),
        );
        r.register(
            "in_flight_jobs",
            "Jobs holding a slot toward the service (submitting or generating)",
            self.in_flight.clone(),
        );
        r.register(
            "jobs_finished",
            "Jobs that ended, by how: delivered, failed or cancelled",
            self.finished.clone(),
        );
        r.register(
            "submissions",
            "Jobs sent to the service (each may cost a generation)",
            self.submissions.clone(),
        );
        r.register(
            "polls",
            "Questions to the service about where a job stands",
            self.polls.clone(),
        );
        r.register(
            "deliveries",
            "Results put into a chat, uploaded or as a link",
            self.deliveries.clone(),
        );
        r.register(
            "job_failures",
            "Jobs that failed, by the kind of failure their owner was told",
            self.failures.clone(),
        );
        r.register(
            "refusals",
            "Commands refused, by the reason the user was told",
            self.refusals.clone(),
        );
        r.register_with_unit(
            "service_request_duration",
            "Time from sending a request to the Sora service to its answer, by endpoint kind",
            Unit::Seconds,
            self.service_latency.clone(),
        );
        r.register(
            "service_errors",
            "Requests to the Sora service that failed, by endpoint kind and error kind",
            self.service_errors.clone(),
        );
        r.register(
            "rate_limit_waits",
            "Calls to the service that had to wait for the shared rate limit",
            self.rate_limit_waits.clone(),
        );
        r.register_with_unit(
            "rate_limit_wait",
            "Time calls to the service spent waiting for the shared rate limit",
            Unit::Seconds,
            self.rate_limit_waited.clone(),
        );
        r.register(
            "uploads",
            "Result files uploaded into a chat, by media",
            self.uploads.clone(),
        );
        r.register_with_unit(
            "upload",
            "Bytes of result files uploaded into a chat, by media",
            Unit::Bytes,
            self.upload_bytes.clone(),
        );
        r.register(
            "leases_taken_over",
            "Job leases of a stopped instance taken over by this one (shared store only)",
            self.leases_taken_over.clone(),
        );
    }
}

/// Every value of `sorabot_job_failures_total{kind}`.
pub const FAILURE_KINDS: [&str; 18] = [
    "content_policy",
    "rejected",
    "unsupported",
    "generation",
    "timeout",
    "unauthorized",
    "service_balance",
    "too_large",
    "delivery",
    "no_public_link",
    "not_media",
    "refused_link",
    "lost",
    "in_doubt",
    "download",
    "disk",
    "gave_up",
    "internal",
];

/// The label of a job's failure: its kind, never its words.
pub fn failure_kind(failure: &Failure) -> &'static str {
    match failure {
        Failure::ContentPolicy { .. } => "content_policy",
        Failure::Rejected { .. } => "rejected",
        Failure::Unsupported(_) => "unsupported",
        Failure::Generation { .. } => "generation",
        Failure::Timeout { .. } => "timeout",
        Failure::Unauthorized => "unauthorized",
        Failure::ServiceBalance => "service_balance",
        Failure::TooLarge { .. } => "too_large",
        Failure::Delivery => "delivery",
        Failure::NoPublicLink { .. } => "no_public_link",
        Failure::NotMedia { .. } => "not_media",
        Failure::RefusedLink { .. } => "refused_link",
        Failure::Lost => "lost",
        Failure::InDoubt => "in_doubt",
        Failure::Download { .. } => "download",
        Failure::Disk => "disk",
        Failure::GaveUp { .. } => "gave_up",
        Failure::Internal => "internal",
    }
}

/// The label of a refusal: its kind, never the ids or names it carries.
pub fn refusal_kind(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::NotAllowed => "not_allowed",
        Refusal::NotYours => "not_yours",
        Refusal::NoSuchJob(_) => "no_such_job",
        Refusal::NotAVideo(_) => "not_a_video",
        Refusal::NotReady(_) => "not_ready",
        Refusal::NeedVideoReply => "need_video_reply",
        Refusal::NeedShareableVideo => "need_shareable_video",
        Refusal::NothingRunning => "nothing_running",
        Refusal::NoJobs => "no_jobs",
        Refusal::AlreadyFinished(_) => "already_finished",
        Refusal::Unsupported(_) => "unsupported",
        Refusal::TooManyActive { .. } => "too_many_active",
        Refusal::QueueFull => "queue_full",
        Refusal::QuotaExhausted { .. } => "quota_exhausted",
        Refusal::ChatQuotaExhausted { .. } => "chat_quota_exhausted",
        Refusal::Banned => "banned",
        Refusal::OperatorsOnly(_) => "operators_only",
        Refusal::UnknownAuthor => "unknown_author",
        Refusal::InputGone { .. } => "input_gone",
        Refusal::BadImage { .. } => "bad_image",
        Refusal::ImageTooLarge { .. } => "image_too_large",
        Refusal::NoCharacter(_) => "no_character",
        Refusal::CharacterNotReady(_) => "character_not_ready",
        Refusal::CharacterExists(_) => "character_exists",
    }
}

/// The label of a service error: its kind, never its words.
pub fn service_error_kind(error: &BackendError) -> &'static str {
    match error {
        BackendError::Unauthorized { .. } => "unauthorized",
        BackendError::Exhausted { .. } => "exhausted",
        BackendError::RateLimited { .. } => "rate_limited",
        BackendError::Rejected { .. } => "rejected",
        BackendError::Unavailable { .. } => "unavailable",
        BackendError::Interrupted { .. } => "interrupted",
        BackendError::Broken { .. } => "broken",
        BackendError::Malformed { .. } => "malformed",
        BackendError::Unsupported(_) => "unsupported",
        BackendError::UnknownTask => "unknown_task",
        BackendError::Refused { .. } => "refused",
        BackendError::Failed { .. } => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample `name` (with its labels as written), if any.
    fn sample(text: &str, name: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn counts_show_under_their_prometheus_names_with_their_labels() {
        let metrics = Metrics::new();
        metrics.submitted();
        metrics.polled();
        metrics.polled();
        metrics.uploaded(MediaKind::Video, 1234);
        metrics.delivered(Delivery::Link);
        metrics.job_finished(&JobState::Failed(Failure::Disk));
        metrics.rate_limit_waited(Duration::from_millis(250));
        metrics.lease_taken_over();
        let counts = JobCounts {
            by_state: vec![("running", 2)],
            queued: 3,
            in_flight: 2,
        };

        let text = metrics.encode(&counts);

        assert_eq!(sample(&text, "sorabot_submissions_total"), Some(1.0));
        assert_eq!(sample(&text, "sorabot_polls_total"), Some(2.0));
        assert_eq!(
            sample(&text, r#"sorabot_deliveries_total{how="upload"}"#),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, r#"sorabot_deliveries_total{how="link"}"#),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, r#"sorabot_upload_bytes_total{media="video"}"#),
            Some(1234.0)
        );
        assert_eq!(
            sample(&text, r#"sorabot_job_failures_total{kind="disk"}"#),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, r#"sorabot_jobs_finished_total{state="failed"}"#),
            Some(1.0)
        );
        assert_eq!(sample(&text, r#"sorabot_jobs{state="running"}"#), Some(2.0));
        assert_eq!(sample(&text, r#"sorabot_jobs{state="queued"}"#), Some(0.0));
        assert_eq!(sample(&text, "sorabot_queued_jobs"), Some(3.0));
        assert_eq!(sample(&text, "sorabot_in_flight_jobs"), Some(2.0));
        assert_eq!(sample(&text, "sorabot_rate_limit_waits_total"), Some(1.0));
        assert_eq!(
            sample(&text, "sorabot_rate_limit_wait_seconds_total"),
            Some(0.25)
        );
        assert_eq!(sample(&text, "sorabot_leases_taken_over_total"), Some(1.0));
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn every_metric_family_has_a_dashboard_panel_and_a_line_in_the_readme() {
        let dashboard: serde_json::Value =
            serde_json::from_str(include_str!("../docs/grafana-sorabot.json"))
                .expect("the dashboard is JSON");
        let exprs: Vec<String> = dashboard["panels"]
            .as_array()
            .expect("panels")
            .iter()
            .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
            .filter_map(|target| target["expr"].as_str().map(str::to_owned))
            .collect();
        let readme = include_str!("../README.md");
        // A family with no series yet is not written: give each one.
        let metrics = Metrics::new();
        metrics.refused(&Refusal::QueueFull);
        let error = BackendError::UnknownTask;
        metrics.service_answered("status", Duration::from_millis(5), Some(&error));
        let text = metrics.encode(&JobCounts::default());
        let families: Vec<(&str, &str)> = text
            .lines()
            .filter_map(|line| line.strip_prefix("# TYPE ")?.split_once(' '))
            .collect();
        assert_eq!(families.len(), 16, "{text}");
        for (family, kind) in families {
            let sample = match kind {
                "counter" => format!("{family}_total"),
                "histogram" => format!("{family}_bucket"),
                _ => family.to_owned(),
            };
            assert!(
                exprs.iter().any(|e| e.contains(&format!("{sample}{{"))),
                "no panel shows {sample}"
            );
            let documented = match kind {
                "counter" => sample.clone(),
                _ => family.to_owned(),
            };
            assert!(
                readme.contains(&format!("`{documented}`")),
                "the README does not list {documented}"
            );
        }
        assert!(
            exprs.iter().any(|e| e.contains("histogram_quantile(0.95")),
            "latency quantiles"
        );
    }

    #[test]
    fn service_latency_is_a_histogram_by_endpoint_and_errors_count_by_kind() {
        let metrics = Metrics::new();
        let refused = BackendError::RateLimited { retry_after: None };
        metrics.service_answered("status", Duration::from_millis(20), None);
        metrics.service_answered("status", Duration::from_millis(40), Some(&refused));

        let text = metrics.encode(&JobCounts::default());

        assert_eq!(
            sample(
                &text,
                r#"sorabot_service_request_duration_seconds_count{endpoint="status"}"#
            ),
            Some(2.0)
        );
        let sum = sample(
            &text,
            r#"sorabot_service_request_duration_seconds_sum{endpoint="status"}"#,
        )
        .expect("a sum");
        assert!((sum - 0.06).abs() < 1e-9, "{sum}");
        assert_eq!(
            sample(
                &text,
                r#"sorabot_service_errors_total{endpoint="status",kind="rate_limited"}"#
            ),
            Some(1.0)
        );
    }
}
