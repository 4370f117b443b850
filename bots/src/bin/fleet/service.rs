//! What the simulator's request log says of each task: who asked about it
//! (the instance whose key the request carried), when, and what: its
//! creation (matched by prompt), a status query or a result download.

use std::collections::HashMap;

use sorabot_sim::SimHandle;
use tokio::time::Instant;

/// What a request did with a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    Create,
    Status,
    Download,
}

/// One request about a task.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    pub at: Instant,
    /// The instance that sent it, if its key says.
    pub by: Option<usize>,
    pub what: Asked,
}

/// Every task's requests, oldest first, by task id; `who` names the
/// instance of an `authorization` header.
pub fn asks_by_task(
    sim: &SimHandle,
    who: impl Fn(Option<&str>) -> Option<usize>,
) -> HashMap<String, Vec<Ask>> {
    let mut by_prompt: HashMap<String, Vec<String>> = HashMap::new();
    for task in sim.tasks() {
        if let Some(prompt) = task.prompt {
            by_prompt.entry(prompt).or_default().push(task.id);
        }
    }
    let mut asks: HashMap<String, Vec<Ask>> = HashMap::new();
    for request in sim.requests() {
        let by = who(request.header("authorization"));
        let mut note = |task: &str, what| {
            asks.entry(task.to_owned()).or_default().push(Ask {
                at: request.at,
                by,
                what,
            });
        };
        if request.method == "POST" && request.path.contains("/v1/videos/generations") {
            let prompt = request
                .json()
                .and_then(|b| b["prompt"].as_str().map(str::to_owned));
            for task in prompt.and_then(|p| by_prompt.get(&p)).into_iter().flatten() {
                note(task, Asked::Create);
            }
        } else if request.path.contains("/v1/videos/tasks/") {
            if let Some(task) = task_in_path(&request.path) {
                note(task, Asked::Status);
            }
        } else if request.path.contains("/files/") {
            if let Some(task) = task_in_path(&request.path) {
                note(task, Asked::Download);
            }
        }
    }
    for list in asks.values_mut() {
        list.sort_by_key(|a| a.at);
    }
    asks
}

/// The task named at the end of a path (`…/tasks/ID`, `…/files/ID.mp4`).
pub fn task_in_path(path: &str) -> Option<&str> {
    let last = path.split('?').next()?.rsplit('/').next()?;
    last.split('.').next().filter(|id| !id.is_empty())
}

/// The tasks each instance held at `moment`: the last request about the
/// task before then was its own, and its job was not yet `delivered`
/// (told by task id).
pub fn held_at(
    asks: &HashMap<String, Vec<Ask>>,
    moment: Instant,
    instances: usize,
    delivered: impl Fn(&str) -> bool,
) -> Vec<Vec<String>> {
    let mut held = vec![Vec::new(); instances];
    for (task, list) in asks {
        let last = list.iter().rfind(|a| a.at <= moment);
        let Some(by) = last.and_then(|a| a.by).filter(|by| *by < instances) else {
            continue;
        };
        if !delivered(task) {
            held[by].push(task.clone());
        }
    }
    for list in &mut held {
        list.sort();
    }
    held
}

/// The first request about `task` after `moment` from an instance `by`
/// picks: how long after `moment` it came.
pub fn first_after(
    asks: &HashMap<String, Vec<Ask>>,
    task: &str,
    moment: Instant,
    by: impl Fn(usize) -> bool,
) -> Option<std::time::Duration> {
    asks.get(task)?
        .iter()
        .find(|a| a.at > moment && a.by.is_some_and(&by))
        .map(|a| a.at - moment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_is_the_last_part_of_a_path_without_its_extension_or_query() {
        assert_eq!(task_in_path("/v1/videos/tasks/abc?x=1"), Some("abc"));
        assert_eq!(task_in_path("/files/abc.mp4"), Some("abc"));
        assert_eq!(task_in_path("/files/"), None);
    }
}
