//! The chat dialect (seed 000 §2, seed 001 §1) against a real simulator.

mod common;

use common::{assert_error, parse_sse, start, streamed_text, Api, Sse, SAMPLE_MP4, SAMPLE_PNG};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sorabot_sim::{ChatLink, ProgressShape, Style};

/// Posts a chat request and returns the raw answer text and content type.
async fn chat(api: &Api, body: Value) -> (StatusCode, String, String) {
    let response = api
        .post("/v1/chat/completions")
        .json(&body)
        .send()
        .await
        .expect("answer");
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    (status, content_type, response.text().await.expect("text"))
}

/// The URL inside `<video src='URL' controls></video>`.
fn html_video_url(text: &str) -> &str {
    let start = text.find("<video src='").expect("video tag") + "<video src='".len();
    let end = start + text[start..].find('\'').expect("closing quote");
    &text[start..end]
}

/// Chunks of a stream, with the shared checks of every stream.
fn checked_stream(text: &str, model: &str) -> Vec<Sse> {
    let items = parse_sse(text);
    let chunks: Vec<&Value> = items
        .iter()
        .filter_map(|i| match i {
            Sse::Data(v) => Some(v),
            _ => None,
        })
        .collect();
    let first = chunks.first().expect("chunks");
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], model);
        assert_eq!(chunk["id"], first["id"]);
    }
    let last = chunks.last().expect("chunks");
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(items.last(), Some(&Sse::Done));
    items
}

#[tokio::test]
async fn seed_stream_for_sora_2_reports_progress_then_the_video() {
    let api = start(Style::Chat, |c| c.time_scale = 500.0).await;
    // Seed 000 §2.1 (image to video), streamed.
    let (status, content_type, text) = chat(
        &api,
        json!({
            "model": "sora-2",
            "stream": true,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "让画面动起来"},
                {"type": "image_url", "image_url": {"url": "https://example.com/image.jpg"}}
            ]}]
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let items = checked_stream(&text, "sora-2");
    assert!(items.contains(&Sse::Comment("keep-alive".into())), "{text}");
    let content = streamed_text(&items);
    assert!(content.contains("排队中"), "{content}");
    let percents: Vec<u32> = content
        .lines()
        .filter_map(|l| l.strip_prefix("生成进度："))
        .map(|p| p.trim_end_matches('%').parse().expect("percent"))
        .collect();
    assert!(percents.len() >= 3, "{content}");
    assert!(percents.windows(2).all(|w| w[0] < w[1]), "{percents:?}");
    assert_eq!(percents.last(), Some(&100));
    let url = html_video_url(&content);
    let (status, _, bytes) = api.download(url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, SAMPLE_MP4);
}

#[tokio::test]
async fn non_stream_sora_video2_options_answer_a_completion() {
    let api = start(Style::OpenAi, |_| {}).await;
    let (status, _, text) = chat(
        &api,
        json!({"model": "sora_video2-landscape-hd-15s", "messages": [{"role": "user", "content": "海边日落"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "sora_video2-landscape-hd-15s");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    let content = body["choices"][0]["message"]["content"]
        .as_str()
        .expect("content");
    let url = html_video_url(content);
    let task_id = url
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".mp4"))
        .expect("file name");
    assert_eq!(body["id"], format!("chatcmpl-{task_id}"));
    assert!(body["usage"]["total_tokens"]
        .as_u64()
        .is_some_and(|t| t > 0));
    // The task is visible to the other dialects: 15 s landscape HD.
    let (status, video) = api.get_json(&format!("/v1/videos/{task_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (video["seconds"].as_str(), video["size"].as_str()),
        (Some("15"), Some("1792x1024"))
    );
    // With seed 001's style, chat videos are remixed the OpenAI way.
    let (status, remix) = api
        .post_json(
            &format!("/v1/videos/{task_id}/remix"),
            json!({"prompt": "再加一只小狗", "model": "sora_video2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{remix}");
    assert_eq!(remix["remixed_from_video_id"], task_id);
    assert_eq!(remix["object"], "video");
}

#[tokio::test]
async fn seed_sora_image_stream_and_non_stream() {
    let api = start(Style::OpenAi, |_| {}).await;
    // Seed 001 §1, text to image.
    let (status, _, text) = chat(
        &api,
        json!({"messages": [{"role": "user", "content": "画小猫"}], "model": "sora_image", "stream": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let content = streamed_text(&checked_stream(&text, "sora_image"));
    let link = content.lines().last().expect("final line");
    let url = link
        .strip_prefix("![image](")
        .and_then(|l| l.strip_suffix(')'))
        .unwrap_or_else(|| panic!("image link expected: {content}"));
    let (status, _, bytes) = api.download(url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, SAMPLE_PNG);

    // Seed 001 §1, image to image, not streamed.
    let (status, _, text) = chat(
        &api,
        json!({
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "根据图片换个风格"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
            ]}],
            "model": "sora_image"
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let body: Value = serde_json::from_str(&text).expect("json");
    assert!(body["choices"][0]["message"]["content"]
        .as_str()
        .is_some_and(|c| c.starts_with("![image](http://127.0.0.1:")));
}

#[tokio::test]
async fn link_and_progress_shapes() {
    let cases = [
        (ChatLink::Markdown, ProgressShape::Fraction),
        (ChatLink::Bare, ProgressShape::Absent),
    ];
    for (link, progress) in cases {
        let api = start(Style::Chat, |c| {
            c.shape.chat_link = link;
            c.shape.progress = progress;
            c.time_scale = 1000.0;
        })
        .await;
        let (_, _, text) = chat(
            &api,
            json!({"model": "sora-2", "stream": true, "messages": [{"role": "user", "content": "go"}]}),
        )
        .await;
        let content = streamed_text(&checked_stream(&text, "sora-2"));
        let last = content.lines().last().expect("last line");
        match link {
            ChatLink::Markdown => {
                assert!(
                    last.starts_with("[下载视频](http://") && last.ends_with(".mp4)"),
                    "{last}"
                );
                let fractions: Vec<f64> = content
                    .lines()
                    .filter_map(|l| l.strip_prefix("progress "))
                    .map(|f| f.parse().expect("fraction"))
                    .collect();
                assert!(fractions.len() >= 2, "{content}");
                assert!(fractions.iter().all(|f| (0.0..=1.0).contains(f)));
                assert_eq!(fractions.last(), Some(&1.0));
                assert!(!content.contains('%'));
            }
            _ => {
                assert!(
                    last.starts_with("http://") && last.ends_with(".mp4"),
                    "{last}"
                );
                assert!(
                    content.contains("\n..") || content.contains(".\n"),
                    "{content}"
                );
                assert!(!content.contains("进度") && !content.contains("progress"));
            }
        }
    }
}

#[tokio::test]
async fn failures_end_with_a_reason_and_no_link() {
    let api = start(Style::Chat, |_| {}).await;
    let (_, _, text) = chat(
        &api,
        json!({"model": "sora-2", "stream": true, "messages": [{"role": "user", "content": "x [sim:fail]"}]}),
    )
    .await;
    let content = streamed_text(&checked_stream(&text, "sora-2"));
    let last = content.lines().last().expect("last line");
    assert!(last.starts_with("生成失败："), "{content}");
    assert!(!content.contains("/files/"));

    let (_, _, text) = chat(
        &api,
        json!({"model": "sora-2", "messages": [{"role": "user", "content": "y [sim:fail]"}]}),
    )
    .await;
    let body: Value = serde_json::from_str(&text).expect("json");
    assert!(body["choices"][0]["message"]["content"]
        .as_str()
        .is_some_and(|c| c.starts_with("生成失败：")));
}

#[tokio::test]
async fn bad_chat_requests_get_4xx_json() {
    let api = start(Style::Chat, |_| {}).await;
    let user = |content: Value| json!([{"role": "user", "content": content}]);
    let cases = [
        (
            json!({"messages": user(json!("p"))}),
            "missing_required_parameter",
            "model",
        ),
        (
            json!({"model": "sora-2"}),
            "missing_required_parameter",
            "messages",
        ),
        (
            json!({"model": "gpt-4o", "messages": user(json!("p"))}),
            "model_not_found",
            "model",
        ),
        (
            json!({"model": "sora_video2-portrait-landscape", "messages": user(json!("p"))}),
            "invalid_value",
            "model",
        ),
        (
            json!({"model": "sora_video2-15s-25s", "messages": user(json!("p"))}),
            "invalid_value",
            "model",
        ),
        (
            json!({"model": "sora_video-hd", "messages": user(json!("p"))}),
            "invalid_value",
            "model",
        ),
        (
            json!({"model": "sora-2", "messages": [{"role": "system", "content": "p"}]}),
            "invalid_value",
            "messages",
        ),
        (
            json!({"model": "sora-2", "messages": user(json!(""))}),
            "missing_required_parameter",
            "messages",
        ),
        (
            json!({"model": "sora-2", "messages": user(json!("nsfw"))}),
            "content_policy_violation",
            "messages",
        ),
        (
            json!({"model": "sora-2", "messages": user(json!([{"type": "text", "text": "t"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,!!"}}]))}),
            "invalid_image_url",
            "messages[0].content[1].image_url",
        ),
        (
            json!({"model": "sora-2", "messages": "hi"}),
            "invalid_value",
            "messages",
        ),
    ];
    for (body, code, param) in cases {
        let (status, _, text) = chat(&api, body.clone()).await;
        let answer: Value = serde_json::from_str(&text).expect("json");
        assert_error(status, &answer, 400, code);
        assert_eq!(answer["error"]["param"], param, "{body}");
    }
    assert_eq!(api.sim.task_count(), 0);
}
