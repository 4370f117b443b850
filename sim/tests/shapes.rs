//! Answer shapes of the native task endpoint: progress, state words, URL placement.

mod common;

use common::{start, Api};
use serde_json::Value;
use sorabot_sim::{ProgressShape, StateWords, Style, UrlPlacement};

/// Creates a video and polls it to its end at a pace slow enough to see it run.
async fn run(api: &Api, key: &str, done_word: &str) -> Vec<Value> {
    let (status, created) = api
        .post_json(
            "/v1/videos/generations",
            serde_json::json!({"model": "sora-2", "prompt": "p"}),
        )
        .await;
    assert!(status.is_success(), "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let mut seen = vec![created];
    seen.extend(
        api.poll_all(&format!("/v1/videos/tasks/{id}"), |v| v[key] == done_word)
            .await,
    );
    seen
}

#[tokio::test]
async fn percent_progress_is_monotone_integers() {
    let api = start(Style::Native, |c| c.time_scale = 1000.0).await;
    let seen = run(&api, "state", "succeeded").await;
    let progress: Vec<u64> = seen
        .iter()
        .map(|v| v["progress"].as_u64().expect("int"))
        .collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert!(
        progress.iter().any(|p| (1..100).contains(p)),
        "{progress:?}"
    );
    assert_eq!(progress[0], 0);
    assert_eq!(progress.last(), Some(&100));
    assert!(seen[..seen.len() - 1]
        .iter()
        .all(|v| v["progress"].as_u64() < Some(100)));
    let words: Vec<&str> = seen.iter().filter_map(|v| v["state"].as_str()).collect();
    assert_eq!(words.first(), Some(&"queued"));
    assert!(words.contains(&"processing"));
}

#[tokio::test]
async fn fraction_progress_alt_words_top_level_url() {
    let api = start(Style::Native, |c| {
        c.time_scale = 1000.0;
        c.shape.progress = ProgressShape::Fraction;
        c.shape.states = StateWords::Alt;
        c.shape.url_at = UrlPlacement::TopLevel;
    })
    .await;
    let seen = run(&api, "status", "completed").await;
    assert!(seen.iter().all(|v| v.get("state").is_none()));
    assert_eq!(seen[0]["status"], "pending");
    assert!(seen.iter().any(|v| v["status"] == "in_progress"));
    let fractions: Vec<f64> = seen
        .iter()
        .map(|v| v["progress"].as_f64().expect("float"))
        .collect();
    assert!(
        fractions.iter().all(|f| (0.0..=1.0).contains(f)),
        "{fractions:?}"
    );
    assert!(
        fractions.iter().any(|f| *f > 0.0 && *f < 1.0),
        "{fractions:?}"
    );
    let done = seen.last().expect("final");
    assert_eq!(done["progress"], 1.0);
    assert!(done.get("data").is_none());
    assert!(done["url"].as_str().is_some_and(|u| u.ends_with(".mp4")));
}

#[tokio::test]
async fn absent_progress_caps_words() {
    let api = start(Style::Native, |c| {
        c.time_scale = 1000.0;
        c.shape.progress = ProgressShape::Absent;
        c.shape.states = StateWords::Caps;
    })
    .await;
    let seen = run(&api, "status", "SUCCESS").await;
    assert!(seen.iter().all(|v| v.get("progress").is_none()));
    assert_eq!(seen[0]["status"], "QUEUED");
    assert!(seen.iter().any(|v| v["status"] == "RUNNING"));

    let (_, created) = api
        .post_json(
            "/v1/videos/generations",
            serde_json::json!({"model": "sora-2", "prompt": "[sim:fail]"}),
        )
        .await;
    let failed = api
        .poll_all(
            &format!("/v1/videos/tasks/{}", created["id"].as_str().expect("id")),
            |v| v["status"] == "FAILURE",
        )
        .await;
    assert!(failed
        .last()
        .is_some_and(|v| v["error"]["message"].is_string()));
}
