//! Everything the fake Bot API knows: chats and their topics, every message
//! (people's and the bot's) with its edits, stored files, the update queue,
//! callback queries, commands, the webhook, scripted faults and the record
//! of calls and requests. Messages are rendered as Telegram renders them.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use super::config::FakeConfig;
use super::model::{
    Call, CallbackAnswer, ChatMessage, Fault, FileKind, Posted, Push, RecordedRequest, SentFile,
    TgChat, TgUser, UserMedia, UserMessage,
};

/// First `update_id` handed out.
const FIRST_UPDATE_ID: i64 = 700_000_001;
/// The user Telegram shows as `from` of an anonymous group admin's messages.
const GROUP_ANONYMOUS_BOT: i64 = 1_087_968_824;

/// A file the fake serves through `getFile`.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub file_id: String,
    pub unique_id: String,
    pub path: String,
    pub kind: FileKind,
    pub data: Bytes,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    /// Video facts, remembered for re-sends by `file_id`.
    pub width: i64,
    pub height: i64,
    pub duration: i64,
}

/// A chat and what the fake keeps about it.
#[derive(Debug)]
pub struct ChatState {
    pub chat: TgChat,
    next_message_id: i64,
    /// Forum topics: thread id (its root message) → name.
    pub topics: HashMap<i64, String>,
    /// Administrators; the first is the creator.
    pub admins: Vec<TgUser>,
    /// People seen in the chat, by id.
    pub members: HashMap<i64, TgUser>,
}

/// An update waiting for the bot.
#[derive(Debug, Clone)]
pub struct PendingUpdate {
    pub id: i64,
    /// `message`, `callback_query`...
    pub kind: &'static str,
    pub body: Value,
}

#[derive(Debug)]
struct CallbackState {
    answer: Option<CallbackAnswer>,
}

/// A webhook the bot set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub secret_token: Option<String>,
}

/// The fake's whole state, behind one lock.
#[derive(Debug)]
pub struct World {
    pub config: FakeConfig,
    pub chats: HashMap<i64, ChatState>,
    pub messages: BTreeMap<(i64, i64), ChatMessage>,
    pub files: HashMap<String, StoredFile>,
    next_file: u64,
    updates: VecDeque<PendingUpdate>,
    next_update_id: i64,
    /// As the last `getUpdates`/`setWebhook` asked; `None`: the default set.
    pub allowed_updates: Option<Vec<String>>,
    callbacks: HashMap<String, CallbackState>,
    next_callback: u64,
    /// Commands by (scope, language_code); `""` is the default language.
    pub commands: BTreeMap<(String, String), Vec<(String, String)>>,
    pub webhook: Option<Webhook>,
    /// Every push to the webhook, in order, failed ones too.
    pub pushes: Vec<Push>,
    /// Updates the bot has taken, kept so a test can push one again.
    taken: HashMap<i64, PendingUpdate>,
    pub faults: HashMap<String, VecDeque<Fault>>,
    /// Faults every call of a method gets, once the queued ones are taken,
    /// until the test lifts them.
    pub standing_faults: HashMap<String, Fault>,
    pub calls: Vec<Call>,
    pub requests: Vec<RecordedRequest>,
    /// Bumped by every `getUpdates`: an older long poll sees it and ends with 409.
    pub poller: u64,
    /// Media groups the bot has been given an item of (privacy mode lets the rest in).
    delivered_groups: HashSet<String>,
}

impl World {
    pub fn new(config: FakeConfig) -> Self {
        World {
            config,
            chats: HashMap::new(),
            messages: BTreeMap::new(),
            files: HashMap::new(),
            next_file: 1,
            updates: VecDeque::new(),
            next_update_id: FIRST_UPDATE_ID,
            allowed_updates: None,
            callbacks: HashMap::new(),
            next_callback: 1,
            commands: BTreeMap::new(),
            webhook: None,
            pushes: Vec::new(),
            taken: HashMap::new(),
            faults: HashMap::new(),
            standing_faults: HashMap::new(),
            calls: Vec::new(),
            requests: Vec::new(),
            poller: 0,
            delivered_groups: HashSet::new(),
        }
    }

    /// The bot as a `User`.
    pub fn bot_json(&self) -> Value {
        json!({
            "id": self.config.bot_id,
            "is_bot": true,
            "first_name": self.config.bot_name,
            "username": self.config.bot_username,
        })
    }

    /// Registers (or refreshes) a chat.
    pub fn upsert_chat(&mut self, chat: &TgChat) -> &mut ChatState {
        let state = self.chats.entry(chat.id).or_insert_with(|| ChatState {
            chat: chat.clone(),
            next_message_id: 1,
            topics: HashMap::new(),
            admins: Vec::new(),
            members: HashMap::new(),
        });
        state.chat = chat.clone();
        state
    }

    fn next_message_id(&mut self, chat_id: i64) -> i64 {
        match self.chats.get_mut(&chat_id) {
            Some(state) => {
                let id = state.next_message_id;
                state.next_message_id += 1;
                id
            }
            None => 0,
        }
    }

    /// A live (not deleted) message.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<&ChatMessage> {
        self.messages
            .get(&(chat_id, message_id))
            .filter(|m| m.deleted_at.is_none())
    }

    pub fn message_mut(&mut self, chat_id: i64, message_id: i64) -> Option<&mut ChatMessage> {
        self.messages
            .get_mut(&(chat_id, message_id))
            .filter(|m| m.deleted_at.is_none())
    }

    /// A message as `reply_to_message` carries it: without its own reply.
    fn quoted(&self, chat_id: i64, message_id: i64) -> Option<Value> {
        let mut json = self.messages.get(&(chat_id, message_id))?.json.clone();
        if let Some(object) = json.as_object_mut() {
            object.remove("reply_to_message");
        }
        Some(json)
    }

    /// Renders a message the way Telegram does: in a topic, a message that
    /// replies to nothing else replies to the topic's root message.
    fn render(
        &self,
        chat_id: i64,
        message_id: i64,
        from: Value,
        thread: Option<i64>,
        reply_to: Option<i64>,
        content: Map<String, Value>,
    ) -> Value {
        let chat = self
            .chats
            .get(&chat_id)
            .map(|c| c.chat.json())
            .unwrap_or(Value::Null);
        let mut message = json!({
            "message_id": message_id,
            "from": from,
            "chat": chat,
            "date": unix_now(),
        });
        if let Some(thread) = thread {
            message["message_thread_id"] = json!(thread);
            message["is_topic_message"] = json!(true);
        }
        if let Some(quoted) = reply_to.or(thread).and_then(|id| self.quoted(chat_id, id)) {
            message["reply_to_message"] = quoted;
        }
        if let Some(object) = message.as_object_mut() {
            object.extend(content);
        }
        message
    }

    /// Opens a forum topic: its root message is a service message, and its
    /// id is the topic's `message_thread_id`.
    pub fn create_topic(&mut self, chat: &TgChat, by: &TgUser, name: &str) -> i64 {
        self.upsert_chat(chat);
        let id = self.next_message_id(chat.id);
        let mut content = Map::new();
        content.insert(
            "forum_topic_created".into(),
            json!({ "name": name, "icon_color": 7_322_096 }),
        );
        let mut json = self.render(chat.id, id, by.json(), None, None, content);
        json["message_thread_id"] = json!(id);
        json["is_topic_message"] = json!(true);
        self.messages.insert(
            (chat.id, id),
            ChatMessage {
                chat_id: chat.id,
                message_id: id,
                from_bot: false,
                thread: Some(id),
                reply_to: None,
                at: Instant::now(),
                json,
                method: None,
                params: Map::new(),
                file: None,
                edits: vec![],
                deleted_at: None,
            },
        );
        if let Some(state) = self.chats.get_mut(&chat.id) {
            state.topics.insert(id, name.to_owned());
        }
        id
    }

    /// Stores a file and gives it an id and a download path.
    pub fn store_file(
        &mut self,
        kind: FileKind,
        data: Bytes,
        file_name: Option<String>,
        mime_type: Option<String>,
    ) -> StoredFile {
        let n = self.next_file;
        self.next_file += 1;
        let (prefix, folder, extension) = match kind {
            FileKind::Photo => ("AgACAgIAAxkBAAI", "photos", "jpg"),
            FileKind::Video => ("BAACAgIAAxkBAAI", "videos", "mp4"),
            FileKind::Document => ("BQACAgIAAxkBAAI", "documents", "bin"),
        };
        let extension = file_name
            .as_deref()
            .and_then(|n| n.rsplit_once('.').map(|(_, e)| e.to_owned()))
            .unwrap_or_else(|| extension.to_owned());
        let file = StoredFile {
            file_id: format!("{prefix}{n:06}fake"),
            unique_id: format!("AQAD{n:06}"),
            path: format!("{folder}/file_{n}.{extension}"),
            kind,
            data,
            file_name,
            mime_type,
            width: 0,
            height: 0,
            duration: 0,
        };
        self.files.insert(file.file_id.clone(), file.clone());
        file
    }

    pub fn file_by_path(&self, path: &str) -> Option<&StoredFile> {
        self.files.values().find(|f| f.path == path)
    }

    /// Posts a person's message; queues it as an update unless privacy mode hides it.
    pub fn post(&mut self, message: UserMessage) -> Result<Posted, String> {
        let chat_id = message.chat.id;
        self.upsert_chat(&message.chat)
            .members
            .insert(message.from.id, message.from.clone());
        if let Some(thread) = message.thread {
            let known = self
                .chats
                .get(&chat_id)
                .is_some_and(|c| c.topics.contains_key(&thread));
            if !known {
                return Err(format!("chat {chat_id} has no topic {thread}"));
            }
        }
        if let Some(reply) = message.reply_to {
            if self.message(chat_id, reply).is_none() {
                return Err(format!("chat {chat_id} has no message {reply}"));
            }
        }
        let id = self.next_message_id(chat_id);
        let (mut content, file, file_ids) = self.user_content(&message);
        let from = if message.anonymous {
            content.insert("sender_chat".into(), message.chat.json());
            json!({
                "id": GROUP_ANONYMOUS_BOT,
                "is_bot": true,
                "first_name": "Group",
                "username": "GroupAnonymousBot",
            })
        } else {
            message.from.json()
        };
        let json = self.render(chat_id, id, from, message.thread, message.reply_to, content);
        let delivered = self.bot_sees(&message);
        if let (true, Some(group)) = (delivered, &message.media_group) {
            self.delivered_groups.insert(group.clone());
        }
        self.messages.insert(
            (chat_id, id),
            ChatMessage {
                chat_id,
                message_id: id,
                from_bot: false,
                thread: message.thread,
                reply_to: message.reply_to,
                at: Instant::now(),
                json: json.clone(),
                method: None,
                params: Map::new(),
                file,
                edits: vec![],
                deleted_at: None,
            },
        );
        let update_id = delivered.then(|| self.push_update("message", json));
        Ok(Posted {
            message_id: id,
            delivered,
            update_id,
            file_ids,
        })
    }

    /// The text, entities and media fields of a person's message.
    fn user_content(
        &mut self,
        message: &UserMessage,
    ) -> (Map<String, Value>, Option<SentFile>, Vec<String>) {
        let mut content = Map::new();
        let text = message.text.clone().unwrap_or_default();
        let (text_key, entities_key) = match message.media {
            None => ("text", "entities"),
            Some(_) => ("caption", "caption_entities"),
        };
        if !text.is_empty() {
            content.insert(text_key.into(), json!(text));
            let entities = entities(&text);
            if !entities.is_empty() {
                content.insert(entities_key.into(), Value::Array(entities));
            }
        }
        if let Some(group) = &message.media_group {
            content.insert("media_group_id".into(), json!(group));
        }
        let mut file_ids = Vec::new();
        let file = match &message.media {
            None => None,
            Some(UserMedia::Photo(data)) => {
                let (width, height) = image_size(data).unwrap_or((1280, 960));
                let small = self.store_file(FileKind::Photo, data.clone(), None, None);
                let large = self.store_file(FileKind::Photo, data.clone(), None, None);
                let (sw, sh) = (width.min(90), height.min(90));
                content.insert(
                    "photo".into(),
                    json!([
                        { "file_id": small.file_id, "file_unique_id": small.unique_id,
                          "file_size": data.len(), "width": sw, "height": sh },
                        { "file_id": large.file_id, "file_unique_id": large.unique_id,
                          "file_size": data.len(), "width": width, "height": height },
                    ]),
                );
                file_ids.extend([small.file_id.clone(), large.file_id.clone()]);
                Some(sent_file(&large, false))
            }
            Some(UserMedia::Video {
                data,
                width,
                height,
                duration,
            }) => {
                let stored = self.store_file(
                    FileKind::Video,
                    data.clone(),
                    Some("video.mp4".into()),
                    Some("video/mp4".into()),
                );
                content.insert(
                    "video".into(),
                    json!({ "file_id": stored.file_id, "file_unique_id": stored.unique_id,
                            "width": width, "height": height, "duration": duration,
                            "file_name": "video.mp4", "mime_type": "video/mp4",
                            "file_size": data.len() }),
                );
                file_ids.push(stored.file_id.clone());
                Some(sent_file(&stored, false))
            }
            Some(UserMedia::Document {
                data,
                file_name,
                mime_type,
            }) => {
                let stored = self.store_file(
                    FileKind::Document,
                    data.clone(),
                    Some(file_name.clone()),
                    Some(mime_type.clone()),
                );
                content.insert(
                    "document".into(),
                    json!({ "file_id": stored.file_id, "file_unique_id": stored.unique_id,
                            "file_name": file_name, "mime_type": mime_type,
                            "file_size": data.len() }),
                );
                file_ids.push(stored.file_id.clone());
                Some(sent_file(&stored, false))
            }
        };
        (content, file, file_ids)
    }

    /// Whether the bot gets a person's message: always in private chats and
    /// without privacy mode; otherwise commands for it, mentions of it,
    /// replies to it (and the rest of an album it got a part of).
    fn bot_sees(&self, message: &UserMessage) -> bool {
        if message.chat.is_private() || !self.config.privacy_mode {
            return true;
        }
        if let Some(group) = &message.media_group {
            if self.delivered_groups.contains(group) {
                return true;
            }
        }
        let replies_to_bot = message
            .reply_to
            .and_then(|id| self.message(message.chat.id, id))
            .is_some_and(|m| m.from_bot);
        let text = message.text.as_deref().unwrap_or_default();
        let ours = |name: &str| name.eq_ignore_ascii_case(&self.config.bot_username);
        let addressed = entities(text).iter().any(|e| {
            let Some(word) = entity_text(text, e) else {
                return false;
            };
            match e.get("type").and_then(Value::as_str) {
                Some("bot_command") => word.split_once('@').is_none_or(|(_, bot)| ours(bot)),
                Some("mention") => ours(word.trim_start_matches('@')),
                _ => false,
            }
        });
        replies_to_bot || addressed
    }

    /// Records a message the bot sent and returns it as the API returns it.
    #[allow(clippy::too_many_arguments)]
    pub fn bot_message(
        &mut self,
        chat_id: i64,
        thread: Option<i64>,
        reply_to: Option<i64>,
        content: Map<String, Value>,
        method: &str,
        params: &Map<String, Value>,
        file: Option<SentFile>,
    ) -> Value {
        let id = self.next_message_id(chat_id);
        let json = self.render(chat_id, id, self.bot_json(), thread, reply_to, content);
        self.messages.insert(
            (chat_id, id),
            ChatMessage {
                chat_id,
                message_id: id,
                from_bot: true,
                thread,
                reply_to,
                at: Instant::now(),
                json: json.clone(),
                method: Some(method.to_owned()),
                params: params.clone(),
                file,
                edits: vec![],
                deleted_at: None,
            },
        );
        json
    }

    /// A person presses an inline button under a message; returns the query id.
    pub fn press(
        &mut self,
        chat_id: i64,
        from: &TgUser,
        message_id: i64,
        data: &str,
    ) -> Result<String, String> {
        let message = self
            .message(chat_id, message_id)
            .ok_or_else(|| format!("chat {chat_id} has no message {message_id}"))?
            .json
            .clone();
        let id = format!("{}", 4_382_000_000_000_000_000u64 + self.next_callback);
        self.next_callback += 1;
        self.callbacks
            .insert(id.clone(), CallbackState { answer: None });
        let query = json!({
            "id": id,
            "from": from.json(),
            "message": message,
            "chat_instance": format!("{}", -(chat_id.unsigned_abs() as i64) * 7 - 1),
            "data": data,
        });
        self.push_update("callback_query", query);
        Ok(id)
    }

    /// Answers a callback query once; `false` if unknown or already answered.
    pub fn answer_callback(&mut self, id: &str, answer: CallbackAnswer) -> bool {
        match self.callbacks.get_mut(id) {
            Some(state) if state.answer.is_none() => {
                state.answer = Some(answer);
                true
            }
            _ => false,
        }
    }

    pub fn callback_answer(&self, id: &str) -> Option<CallbackAnswer> {
        self.callbacks.get(id).and_then(|s| s.answer.clone())
    }

    pub fn push_update(&mut self, kind: &'static str, body: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        self.updates.push_back(PendingUpdate { id, kind, body });
        id
    }

    /// Forgets the updates before `offset` (the bot has them).
    pub fn confirm(&mut self, offset: i64) {
        while self.updates.front().is_some_and(|u| u.id < offset) {
            if let Some(update) = self.updates.pop_front() {
                self.taken.insert(update.id, update);
            }
        }
    }

    /// Queues an update the bot already took to be sent again, first;
    /// `false` if there is none with that id.
    pub fn send_again(&mut self, update_id: i64) -> bool {
        match self.taken.get(&update_id) {
            Some(update) => {
                self.updates.push_front(update.clone());
                true
            }
            None => false,
        }
    }

    /// Drops every waiting update.
    pub fn drop_updates(&mut self) {
        self.updates.clear();
    }

    /// Up to `limit` waiting updates of the allowed kinds, as `Update` objects;
    /// those of other kinds are dropped, as Telegram drops them.
    pub fn pending(&mut self, limit: usize) -> Vec<(i64, Value)> {
        let allowed = |kind: &str, list: &Option<Vec<String>>| match list {
            Some(list) if !list.is_empty() => list.iter().any(|k| k == kind),
            _ => !matches!(
                kind,
                "chat_member" | "message_reaction" | "message_reaction_count"
            ),
        };
        let list = self.allowed_updates.clone();
        self.updates.retain(|u| allowed(u.kind, &list));
        self.updates
            .iter()
            .take(limit)
            .map(|u| {
                let mut update = json!({ "update_id": u.id });
                update[u.kind] = u.body.clone();
                (u.id, update)
            })
            .collect()
    }

    pub fn pending_count(&self) -> usize {
        self.updates.len()
    }

    /// The next scripted fault of `method`, if any.
    pub fn take_fault(&mut self, method: &str) -> Option<Fault> {
        self.faults
            .get_mut(method)
            .and_then(VecDeque::pop_front)
            .or_else(|| self.standing_faults.get(method).cloned())
    }
}

/// The `SentFile` of a stored file.
pub fn sent_file(file: &StoredFile, uploaded: bool) -> SentFile {
    SentFile {
        file_id: file.file_id.clone(),
        kind: file.kind,
        data: file.data.clone(),
        file_name: file.file_name.clone(),
        mime_type: file.mime_type.clone(),
        uploaded,
        thumbnail: None,
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(1)
}

/// Length in UTF-16 code units, as Telegram counts text and entity offsets.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The `bot_command` and `mention` entities Telegram finds in a text
/// (offsets and lengths in UTF-16 code units).
pub fn entities(text: &str) -> Vec<Value> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let starts_word = i == 0 || !is_word(chars[i - 1].1) && chars[i - 1].1 != '/';
        let run = |from: usize| {
            let mut end = from;
            while end < chars.len() && is_word(chars[end].1) {
                end += 1;
            }
            end
        };
        if c == '/' && starts_word {
            let end = run(i + 1);
            if (1..=32).contains(&(end - i - 1)) {
                let mut stop = end;
                if end < chars.len() && chars[end].1 == '@' {
                    let bot_end = run(end + 1);
                    if bot_end > end + 1 {
                        stop = bot_end;
                    }
                }
                found.push(entity("bot_command", text, at, byte_at(&chars, text, stop)));
                i = stop;
                continue;
            }
        }
        if c == '@' && starts_word {
            let end = run(i + 1);
            if (5..=32).contains(&(end - i - 1)) {
                found.push(entity("mention", text, at, byte_at(&chars, text, end)));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    found
}

fn byte_at(chars: &[(usize, char)], text: &str, index: usize) -> usize {
    chars.get(index).map_or(text.len(), |(at, _)| *at)
}

fn entity(kind: &str, text: &str, start: usize, end: usize) -> Value {
    json!({
        "type": kind,
        "offset": utf16_len(&text[..start]),
        "length": utf16_len(&text[start..end]),
    })
}

/// The text an entity covers.
pub fn entity_text<'a>(text: &'a str, entity: &Value) -> Option<&'a str> {
    let offset = entity.get("offset")?.as_u64()? as usize;
    let length = entity.get("length")?.as_u64()? as usize;
    let units: Vec<u16> = text.encode_utf16().collect();
    let start = String::from_utf16(units.get(..offset)?).ok()?.len();
    let end = String::from_utf16(units.get(..offset + length)?)
        .ok()?
        .len();
    text.get(start..end)
}

/// Width and height of a PNG or JPEG, from its header.
pub fn image_size(data: &[u8]) -> Option<(u32, u32)> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") && data.len() >= 24 {
        let word =
            |at: usize| u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        return Some((word(16), word(20)));
    }
    if data.starts_with(&[0xFF, 0xD8]) {
        let mut at = 2;
        while at + 9 < data.len() {
            if data[at] != 0xFF {
                return None;
            }
            let marker = data[at + 1];
            let length = u16::from_be_bytes([data[at + 2], data[at + 3]]) as usize;
            if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                let height = u16::from_be_bytes([data[at + 5], data[at + 6]]) as u32;
                let width = u16::from_be_bytes([data[at + 7], data[at + 8]]) as u32;
                return Some((width, height));
            }
            at += 2 + length;
        }
    }
    None
}

/// Whether the bytes are a picture Telegram can process.
pub fn is_image(data: &[u8]) -> bool {
    data.starts_with(b"\x89PNG\r\n\x1a\n")
        || data.starts_with(&[0xFF, 0xD8, 0xFF])
        || data.starts_with(b"GIF8")
        || data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_mentions_are_found_with_utf16_offsets() {
        let text = "😀 /video@sorabot a cat @someone_else";
        let found = entities(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0],
            json!({"type": "bot_command", "offset": 3, "length": 14})
        );
        assert_eq!(entity_text(text, &found[0]), Some("/video@sorabot"));
        assert_eq!(entity_text(text, &found[1]), Some("@someone_else"));
        assert!(entities("a/b and x@y.com").is_empty());
    }
}
