//! Scripted and random faults, against a real simulator.

mod common;

use std::time::Duration;

use common::{send, start};
use reqwest::StatusCode;
use serde_json::json;
use sorabot_sim::{Fault, Faults, Style};

const CREATE: &str = "/v1/videos/generations";

fn body() -> serde_json::Value {
    json!({"model": "sora-2", "prompt": "p"})
}

#[tokio::test]
async fn scripted_faults_are_consumed_in_order() {
    let api = start(Style::Native, |_| {}).await;
    api.sim.push_fault(Fault::RateLimited {
        retry_after_secs: 7,
    });
    api.sim.push_fault(Fault::Status(503));
    api.sim.push_fault(Fault::Status(502));
    api.sim.push_fault(Fault::Malformed);

    let response = api.post(CREATE).json(&body()).send().await.expect("429");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
    let json: serde_json::Value = response.json().await.expect("json");
    assert_eq!(json["error"]["code"], "rate_limit_exceeded");

    let (status, json) = api.post_json(CREATE, body()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json["error"]["type"], "server_error");

    let response = api.post(CREATE).json(&body()).send().await.expect("502");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    let page = response.text().await.expect("page");
    assert!(
        page.contains("<title>502 Bad Gateway</title>") && page.contains("nginx"),
        "{page}"
    );

    let response = api
        .post(CREATE)
        .json(&body())
        .send()
        .await
        .expect("malformed");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    assert!(text.starts_with('{'), "{text}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );

    // Only the malformed answer really ran the handler; the queue is now empty.
    assert_eq!(api.sim.task_count(), 1);
    let (status, _) = api.post_json(CREATE, body()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn delay_then_answer_normally() {
    let api = start(Style::Native, |_| {}).await;
    api.sim.push_fault(Fault::Delay(Duration::from_millis(150)));
    let started = tokio::time::Instant::now();
    let (status, json) = api.post_json(CREATE, body()).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["state"], "queued");
}

#[tokio::test]
async fn a_held_creation_creates_its_task_before_the_answer_comes() {
    let api = start(Style::Native, |_| {}).await;
    api.sim
        .push_fault_for(CREATE, Fault::Hold(Duration::from_secs(30)));
    let body = json!({"model": "sora-2", "prompt": "held at the door"});

    let pending = tokio::spawn({
        let request = api.post(CREATE).json(&body);
        async move { request.send().await }
    });
    let created = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(task) = api.sim.tasks().into_iter().next() {
                break task;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the task is created while its answer is held");

    assert_eq!(created.prompt.as_deref(), Some("held at the door"));
    assert_eq!(created.kind, "video");
    assert!(!pending.is_finished(), "the answer is still held");
    pending.abort();
    api.sim.clear_faults();
    let (status, _) = api.post_json(CREATE, body).await;
    assert_eq!(status, StatusCode::OK, "a cleared fault takes nothing");
}

#[tokio::test]
async fn path_faults_wait_for_their_path() {
    let api = start(Style::Native, |_| {}).await;
    let id = api.finished_native_video().await;
    api.sim.push_fault_for("/tasks/", Fault::Status(500));
    api.sim.push_fault_for("/files/", Fault::Status(504));
    let (status, _) = api.post_json(CREATE, body()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, json) = api.get_json(&format!("/v1/videos/tasks/{id}")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{json}");
    let (status, _) = api.get_json(&format!("/v1/videos/tasks/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let url = api.url(&format!("/files/{id}.mp4"));
    let (status, _, _) = api.download(&url).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    let (status, _, _) = api.download(&url).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn hang_holds_until_shutdown() {
    let api = start(Style::Native, |_| {}).await;
    api.sim.push_fault(Fault::Hang);
    let result = api
        .post(CREATE)
        .json(&body())
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    let common::Api { sim, .. } = api;
    tokio::time::timeout(Duration::from_secs(3), sim.shutdown())
        .await
        .expect("shutdown is quick");
}

#[tokio::test]
async fn random_rates_apply_and_change_at_run_time() {
    let api = start(Style::Native, |c| {
        c.faults = Faults {
            error_rate: 1.0,
            ..Faults::default()
        };
    })
    .await;
    for _ in 0..5 {
        let response = api.post(CREATE).json(&body()).send().await.expect("answer");
        assert!(response.status().is_server_error(), "{}", response.status());
    }
    api.sim.set_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 3,
        ..Faults::default()
    });
    let response = api.post(CREATE).json(&body()).send().await.expect("answer");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "3");

    api.sim.set_faults(Faults {
        fail_rate: 1.0,
        ..Faults::default()
    });
    let (status, created) = api.post_json(CREATE, body()).await;
    assert_eq!(status, StatusCode::OK);
    let done = api.wait_native(created["id"].as_str().expect("id")).await;
    assert_eq!(done["state"], "failed");
    assert_eq!(api.sim.task_count(), 1);
}

#[tokio::test]
async fn faults_do_not_skip_auth() {
    let api = start(Style::Native, |_| {}).await;
    api.sim.push_fault(Fault::Status(503));
    let (status, _) = send(api.http.post(api.url(CREATE)).json(&body())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = api.post_json(CREATE, body()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_file_can_be_served_as_a_page_or_redirected() {
    let sim = sorabot_sim::SoraSim::start(sorabot_sim::SimConfig::for_style(
        sorabot_sim::Style::Native,
    ))
    .await
    .expect("the simulator starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let url = format!("{}/files/any.mp4", sim.base_url());
    sim.push_fault_for("/files/", sorabot_sim::Fault::html_page());
    sim.push_fault_for(
        "/files/",
        sorabot_sim::Fault::Redirect("http://127.0.0.1:9/elsewhere".into()),
    );

    let page = http.get(&url).send().await.expect("an answer");
    let moved = http.get(&url).send().await.expect("an answer");

    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("502 Bad Gateway"));
    assert_eq!(moved.status(), 302);
    assert_eq!(moved.headers()["location"], "http://127.0.0.1:9/elsewhere");
}

#[tokio::test(start_paused = true)]
async fn above_max_rps_the_service_answers_429_and_counts_the_refused_apart() {
    let api = start(Style::Native, |c| {
        c.faults = Faults {
            max_rps: Some(3.0),
            ..Faults::default()
        };
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = api.post(CREATE).json(&body()).send().await.expect("answer");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(response.headers()["retry-after"], "1");
        }
        statuses.push(response.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(
        api.sim.task_count(),
        3,
        "a refused creation creates nothing"
    );

    // A second later the window has room again.
    tokio::time::advance(Duration::from_secs(1)).await;
    let (status, _) = api.post_json(CREATE, body()).await;
    assert_eq!(status, StatusCode::OK);
    let counts = api.sim.api_counts();
    assert_eq!((counts.served, counts.refused), (4, 2));
    assert_eq!(
        api.sim.request_counts().create,
        6,
        "every request is received"
    );
    api.sim.clear_requests();
    assert_eq!(api.sim.api_counts(), sorabot_sim::ApiCounts::default());
}
