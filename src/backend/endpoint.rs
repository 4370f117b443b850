//! The kind of endpoint a request to the service goes to, as the metrics
//! label it: from the method and the path below the base URL, with every id
//! left out, so the label takes one of a few fixed values.

use reqwest::Method;

/// Every value [`endpoint_kind`] gives, `download` for result fetches and
/// `thumbnail` for a video's preview picture.
pub const ENDPOINT_KINDS: [&str; 11] = [
    "create",
    "remix",
    "character",
    "image",
    "chat",
    "status",
    "list",
    "content",
    "download",
    "thumbnail",
    "other",
];

/// The endpoint kind of `method` on `path` (below the base URL, e.g.
/// `v1/videos/abc/remix`), for every dialect's paths.
pub fn endpoint_kind(method: &Method, path: &str) -> &'static str {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let below_v1 = match segments.split_first() {
        Some((&"v1", rest)) => rest,
        _ => &segments[..],
    };
    let post = *method == Method::POST;
    let get = *method == Method::GET;
    match below_v1 {
        ["videos", "generations"] | ["videos"] if post => "create",
        ["videos", _, "remix"] if post => "remix",
        ["characters"] | ["videos", "characters"] if post => "character",
        ["videos", "extensions" | "edits"] if post => "create",
        ["videos", "characters", _] if get => "status",
        ["images", _] if post => "image",
        ["chat", "completions"] if post => "chat",
        ["videos", "tasks", _] | ["videos", _] if get => "status",
        ["videos"] if get => "list",
        ["videos", _, "content"] if get => "content",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dialects_paths_get_a_kind_without_their_ids() {
        let cases = [
            (Method::POST, "v1/videos/generations", "create"),
            (Method::POST, "sora/v1/videos", "other"),
            (Method::POST, "v1/videos", "create"),
            (Method::POST, "v1/videos/task_1/remix", "remix"),
            (Method::POST, "v1/characters", "character"),
            (Method::POST, "v1/images/generations", "image"),
            (Method::POST, "v1/images/edits", "image"),
            (Method::POST, "v1/chat/completions", "chat"),
            (Method::GET, "v1/videos/tasks/task_1", "status"),
            (Method::GET, "/v1/videos/video_1", "status"),
            (Method::GET, "v1/videos", "list"),
            (Method::GET, "v1/videos/video_1/content", "content"),
            (Method::DELETE, "v1/videos/video_1", "other"),
        ];
        for (method, path, kind) in cases {
            assert_eq!(endpoint_kind(&method, path), kind, "{method} {path}");
            assert!(ENDPOINT_KINDS.contains(&kind));
        }
    }
}
