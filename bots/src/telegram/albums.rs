//! Albums: Telegram sends each photo of an album as its own message sharing
//! a `media_group_id` (the caption rides on one of them). The parts are held
//! until no new one came for a short while, then handed on together, so that
//! "several photos with `/video …`" is one job with several images.

use std::collections::HashMap;
use std::time::Duration;

use teloxide::types::{ChatId, Message};
use tokio::time::Instant;

/// Albums being collected.
pub struct Albums {
    /// How long after its latest part an album is taken as complete.
    wait: Duration,
    open: HashMap<(ChatId, String), Album>,
}

struct Album {
    parts: Vec<Message>,
    due: Instant,
}

impl Albums {
    pub fn new(wait: Duration) -> Self {
        Albums {
            wait,
            open: HashMap::new(),
        }
    }

    /// Keeps a part of an album; a message that is not one comes back.
    pub fn add(&mut self, message: Message) -> Option<Message> {
        let Some(group) = message.media_group_id() else {
            return Some(message);
        };
        let key = (message.chat.id, group.0.clone());
        let due = Instant::now() + self.wait;
        let album = self.open.entry(key).or_insert_with(|| Album {
            parts: Vec::new(),
            due,
        });
        album.due = due;
        album.parts.push(message);
        None
    }

    /// When the next album is complete.
    pub fn next_due(&self) -> Option<Instant> {
        self.open.values().map(|a| a.due).min()
    }

    /// The albums complete by `now`, each in message order.
    pub fn take_due(&mut self, now: Instant) -> Vec<Vec<Message>> {
        let due: Vec<_> = self
            .open
            .iter()
            .filter(|(_, a)| a.due <= now)
            .map(|(k, _)| k.clone())
            .collect();
        due.into_iter()
            .filter_map(|key| self.open.remove(&key))
            .map(ordered)
            .collect()
    }

    /// Every album, complete or not (at shutdown).
    pub fn take_all(&mut self) -> Vec<Vec<Message>> {
        self.open.drain().map(|(_, a)| ordered(a)).collect()
    }
}

fn ordered(album: Album) -> Vec<Message> {
    let mut parts = album.parts;
    parts.sort_by_key(|m| m.id.0);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(id: i32, group: Option<&str>) -> Message {
        let mut json = serde_json::json!({
            "message_id": id,
            "date": 1_700_000_000,
            "chat": {"id": -100, "type": "supergroup", "title": "g"},
            "from": {"id": 1, "is_bot": false, "first_name": "A"},
            "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1, "file_size": 1}],
        });
        if let Some(group) = group {
            json["media_group_id"] = serde_json::json!(group);
        }
        serde_json::from_value(json).expect("a message")
    }

    #[tokio::test(start_paused = true)]
    async fn parts_are_held_until_the_album_is_quiet() {
        let mut albums = Albums::new(Duration::from_secs(1));
        assert!(albums.add(photo(1, None)).is_some(), "a lone photo passes");
        assert!(albums.add(photo(3, Some("g1"))).is_none());
        tokio::time::advance(Duration::from_millis(600)).await;
        assert!(albums.add(photo(2, Some("g1"))).is_none());
        tokio::time::advance(Duration::from_millis(600)).await;
        assert!(
            albums.take_due(Instant::now()).is_empty(),
            "the last part reset the wait"
        );
        tokio::time::advance(Duration::from_millis(500)).await;
        let done = albums.take_due(Instant::now());
        assert_eq!(done.len(), 1);
        let ids: Vec<i32> = done[0].iter().map(|m| m.id.0).collect();
        assert_eq!(ids, [2, 3]);
        assert!(albums.next_due().is_none());
    }
}
