//! The relay profiles (`SimConfig::relay`) answer in each relay's own shapes, the hostile
//! ones included: what the client's contract tests lean on.

mod common;

use common::{start, Api};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sorabot_sim::{Relay, Style, BALANCE_WORD, CF_WORD, HELP_LINK, NOLINK_WORD, RETRY_WORD};

async fn api(relay: Relay) -> Api {
    start(Style::Native, |c| c.relay = relay).await
}

async fn chat_text(api: &Api, model: &str, prompt: &str) -> (StatusCode, String) {
    let response = api
        .post("/v1/chat/completions")
        .json(&json!({"model": model, "stream": true,
            "messages": [{"role": "user", "content": prompt}]}))
        .send()
        .await
        .expect("answer");
    let status = response.status();
    (status, response.text().await.expect("text"))
}

/// The JSON of every `data:` event that holds JSON.
fn events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect()
}

#[tokio::test]
async fn sora2api_streams_progress_as_reasoning_and_the_video_as_html_content() {
    // Slow enough (about half a second) that the stream meets the running
    // phase: a stream whose task is late to run jumps to its end.
    let api = start(Style::Native, |c| {
        c.relay = Relay::Sora2Api;
        c.time_scale = 300.0;
    })
    .await;

    let (status, text) =
        chat_text(&api, "sora2-landscape-10s", &format!("a fox {RETRY_WORD}")).await;

    assert_eq!(status, StatusCode::OK);
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let events = events(&text);
    let last = events.last().expect("a final chunk");
    let choice = &last["choices"][0];
    assert_eq!(choice["finish_reason"], "STOP");
    assert_eq!(choice["native_finish_reason"], "STOP");
    assert!(choice["delta"]["reasoning_content"].is_null());
    let content = choice["delta"]["content"].as_str().expect("content");
    assert!(content.starts_with("```html\n<video src='"), "{content}");
    let reasoning: String = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert!(
        reasoning.contains("**Video Generation Progress**"),
        "{reasoning}"
    );
    assert!(reasoning.contains(HELP_LINK), "{reasoning}");
    assert!(events[..events.len() - 1]
        .iter()
        .all(|e| e["choices"][0]["delta"]["content"].is_null()));
}

#[tokio::test]
async fn sora2api_cloudflare_failure_ends_with_the_mangled_terminator() {
    let api = api(Relay::Sora2Api).await;

    let (_, text) = chat_text(&api, "sora2-landscape-10s", &format!("a fox {CF_WORD}")).await;

    assert!(text.ends_with("data: [DONE]\\n\\n"), "{text}");
    assert!(text.contains("❌ Generation failed: Cloudflare"), "{text}");
}

#[tokio::test]
async fn sora2api_refuses_other_model_names_with_a_500() {
    let api = api(Relay::Sora2Api).await;

    let (status, text) = chat_text(&api, "sora-2", "a fox").await;

    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        body,
        json!({"error": {"message": "400: Invalid model: sora-2", "type": "server_error",
            "param": null, "code": null}})
    );
}

#[tokio::test]
async fn sora2api_auth_answers_as_fastapi() {
    let api = api(Relay::Sora2Api).await;
    let missing = api
        .http
        .post(api.url("/v1/chat/completions"))
        .send()
        .await
        .expect("answer");
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        missing.json::<Value>().await.expect("json"),
        json!({"detail": "Not authenticated"})
    );
}

#[tokio::test]
async fn new_api_wraps_tasks_in_its_envelope_with_an_empty_message() {
    let api = api(Relay::NewApi).await;
    let created: Value = api
        .post("/v1/videos/generations")
        .json(&json!({"model": "sora-2", "prompt": "a fox [sim:fail]"}))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    let id = created["task_id"].as_str().expect("task id").to_owned();
    assert_eq!(created["id"], id.as_str());

    let mut tries = 0;
    let answer = loop {
        tries += 1;
        assert!(tries < 2000, "the task never failed");
        let answer: Value = api
            .get(&format!("/v1/videos/tasks/{id}"))
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .expect("json");
        if answer["data"]["status"] == "FAILURE" {
            break answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    assert_eq!(answer["code"], "success");
    assert_eq!(answer["message"], "");
    assert!(answer["data"]["fail_reason"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    assert_eq!(answer["data"]["data"]["status"], "queued");
}

#[tokio::test]
async fn new_api_quota_and_key_errors_are_its_own() {
    let api = api(Relay::NewApi).await;
    let quota = api
        .post("/v1/videos")
        .json(&json!({"model": "sora-2", "prompt": format!("a fox {BALANCE_WORD}")}))
        .send()
        .await
        .expect("answer");
    assert_eq!(quota.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        quota.json::<Value>().await.expect("json"),
        json!({"code": "insufficient_user_quota", "message": "用户额度不足, 剩余额度: ＄0.000000", "data": null})
    );
    let wrong = api
        .http
        .get(api.url("/v1/videos/x"))
        .header("Authorization", "Bearer nope")
        .send()
        .await
        .expect("answer");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.expect("json");
    assert_eq!(body["error"]["type"], "new_api_error");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("无效的令牌 (request id: ")));
}

#[tokio::test]
async fn modified_sora2api_makes_characters_at_once() {
    let api = api(Relay::ModifiedSora2Api).await;
    let answer: Value = api
        .post("/v1/characters")
        .json(&json!({"url": "https://example.com/c.mp4", "timestamps": "0,3"}))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["object"], "character");
    assert!(answer["data"]["username"].is_string());
    assert_eq!(api.sim.task_count(), 0);
}

#[tokio::test]
async fn piapi_hides_the_link_on_cue_and_keeps_an_empty_error() {
    let api = api(Relay::PiApi).await;
    let created: Value = api
        .post("/v1/videos/generations")
        .json(&json!({"model": "sora-2", "prompt": format!("a fox {NOLINK_WORD}")}))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(created["code"], 200);
    assert_eq!(created["data"]["error"]["message"], "");
    let id = created["data"]["task_id"].as_str().expect("id").to_owned();
    let mut tries = 0;
    let done = loop {
        tries += 1;
        assert!(tries < 2000, "the task never completed");
        let answer: Value = api
            .get(&format!("/v1/videos/tasks/{id}"))
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .expect("json");
        if answer["data"]["status"] == "completed" {
            break answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    assert_eq!(done["data"]["output"], json!({}));
}

#[tokio::test]
async fn unified_ids_carry_a_colon_and_content_is_not_served() {
    let api = api(Relay::Unified).await;
    let created: Value = api
        .post("/v1/videos")
        .json(&json!({"model": "sora-2", "prompt": "a fox"}))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("sora-2:task_"), "{id}");
    assert_eq!(created["status"], "pending");
    assert_eq!(created["progress"], "0");
    let content = api
        .get(&format!("/v1/videos/{id}/content"))
        .send()
        .await
        .expect("answer");
    assert_eq!(content.status(), StatusCode::NOT_FOUND);
}
