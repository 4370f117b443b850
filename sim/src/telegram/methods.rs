//! The Bot API methods the fake serves, run on checked parameters under the
//! world's lock. Each refuses what Telegram refuses, in Telegram's words:
//! unknown chats, threads and messages, empty or overlong texts and
//! captions, bad `callback_data`, identical edits, files over the limits.

use serde_json::{json, Map, Value};
use tokio::time::Instant;

use super::errors::{ApiError, NOT_MODIFIED};
use super::model::{CallbackAnswer, ChatType, Edit, FileKind, SentFile};
use super::spec::Params;
use super::world::{is_image, sent_file, utf16_len, Webhook, World};

const MAX_TEXT: usize = 4096;
const MAX_CAPTION: usize = 1024;
const MAX_CALLBACK_DATA: usize = 64;
const MAX_ALERT: usize = 200;
const CHAT_ACTIONS: &[&str] = &[
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];

/// Runs `method` (every method but `getUpdates`, which waits and lives in the server).
pub fn run(world: &mut World, method: &str, p: &Params) -> Result<Value, ApiError> {
    match method {
        "getMe" => Ok(get_me(world)),
        "logOut" | "close" => Ok(json!(true)),
        "getWebhookInfo" => Ok(webhook_info(world)),
        "setWebhook" => set_webhook(world, p),
        "deleteWebhook" => {
            world.webhook = None;
            if p.flag("drop_pending_updates") {
                world.drop_updates();
            }
            Ok(json!(true))
        }
        "setMyCommands" => set_commands(world, p),
        "getMyCommands" => Ok(get_commands(world, p)),
        "deleteMyCommands" => {
            let key = commands_key(p);
            world.commands.remove(&key);
            Ok(json!(true))
        }
        "sendMessage" => send_message(world, p),
        "editMessageText" => edit_text(world, p),
        "editMessageCaption" => edit_caption(world, p),
        "editMessageReplyMarkup" => edit_markup(world, p),
        "deleteMessage" => delete_message(world, p),
        "sendVideo" => send_media(world, p, FileKind::Video, "video"),
        "sendPhoto" => send_media(world, p, FileKind::Photo, "photo"),
        "sendDocument" => send_media(world, p, FileKind::Document, "document"),
        "getFile" => get_file(world, p),
        "answerCallbackQuery" => answer_callback(world, p),
        "sendChatAction" => send_chat_action(world, p),
        "getChatAdministrators" => chat_administrators(world, p),
        "getChatMember" => chat_member(world, p),
        other => Err(ApiError::bad(format!(
            "method {other} is not implemented by the fake Bot API"
        ))),
    }
}

fn get_me(world: &World) -> Value {
    let mut me = world.bot_json();
    me["can_join_groups"] = json!(true);
    me["can_read_all_group_messages"] = json!(!world.config.privacy_mode);
    me["supports_inline_queries"] = json!(false);
    me["can_connect_to_business"] = json!(false);
    me["has_main_web_app"] = json!(false);
    me
}

fn webhook_info(world: &World) -> Value {
    let mut info = json!({
        "url": world.webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default(),
        "has_custom_certificate": false,
        "pending_update_count": world.pending_count(),
    });
    // Telegram names the kinds only when the webhook was set with a list.
    if let (Some(_), Some(kinds)) = (&world.webhook, &world.allowed_updates) {
        info["allowed_updates"] = json!(kinds);
    }
    info
}

fn set_webhook(world: &mut World, p: &Params) -> Result<Value, ApiError> {
    let url = p.str("url").unwrap_or_default();
    if url.is_empty() {
        world.webhook = None;
        return Ok(json!(true));
    }
    let https = url.starts_with("https://");
    let loopback_http = world.config.allow_http_webhook && url.starts_with("http://");
    if !https && !loopback_http {
        return Err(ApiError::bad(
            "bad webhook: HTTPS url must be provided for webhook",
        ));
    }
    let secret = p.str("secret_token").map(str::to_owned);
    if let Some(secret) = &secret {
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if secret.is_empty() || secret.len() > 256 || !secret.chars().all(allowed) {
            return Err(ApiError::bad("secret token contains unallowed characters"));
        }
    }
    if let Some(Value::Array(kinds)) = p.get("allowed_updates") {
        world.allowed_updates = Some(
            kinds
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        );
    }
    if p.flag("drop_pending_updates") {
        world.drop_updates();
    }
    world.webhook = Some(Webhook {
        url: url.to_owned(),
        secret_token: secret,
    });
    Ok(json!(true))
}

/// The (scope, language) commands are stored under.
fn commands_key(p: &Params) -> (String, String) {
    let scope = p
        .get("scope")
        .map(|s| s.to_string())
        .unwrap_or_else(|| json!({ "type": "default" }).to_string());
    let lang = p.str("language_code").unwrap_or_default().to_owned();
    (scope, lang)
}

fn set_commands(world: &mut World, p: &Params) -> Result<Value, ApiError> {
    let lang = p.str("language_code").unwrap_or_default();
    let valid_lang =
        lang.is_empty() || lang.len() == 2 && lang.chars().all(|c| c.is_ascii_lowercase());
    if !valid_lang {
        return Err(ApiError::bad("invalid language code specified"));
    }
    let commands = p
        .get("commands")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if commands.len() > 100 {
        return Err(ApiError::bad("too many commands specified"));
    }
    let mut list = Vec::new();
    for command in &commands {
        let name = command
            .get("command")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let valid_name = (1..=32).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            return Err(ApiError::bad("BOT_COMMAND_INVALID"));
        }
        let description = command
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !(1..=256).contains(&description.chars().count()) {
            return Err(ApiError::bad("command description is invalid"));
        }
        list.push((name.to_owned(), description.to_owned()));
    }
    world.commands.insert(commands_key(p), list);
    Ok(json!(true))
}

fn get_commands(world: &World, p: &Params) -> Value {
    let list = world
        .commands
        .get(&commands_key(p))
        .cloned()
        .unwrap_or_default();
    Value::Array(
        list.into_iter()
            .map(|(command, description)| json!({ "command": command, "description": description }))
            .collect(),
    )
}

/// The chat a call names (by id or `@username`).
fn chat_id(world: &World, p: &Params) -> Result<i64, ApiError> {
    match p.get("chat_id") {
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|id| world.chats.contains_key(id))
            .ok_or_else(ApiError::chat_not_found),
        Some(Value::String(name)) => {
            let name = name.trim_start_matches('@');
            world
                .chats
                .values()
                .find(|c| c.chat.username.as_deref() == Some(name))
                .map(|c| c.chat.id)
                .ok_or_else(ApiError::chat_not_found)
        }
        _ => Err(ApiError::bad("chat_id is empty")),
    }
}

/// The topic a message goes to: it must exist in a forum.
fn thread(world: &World, chat: i64, p: &Params) -> Result<Option<i64>, ApiError> {
    let Some(thread) = p.int("message_thread_id") else {
        return Ok(None);
    };
    let exists = world
        .chats
        .get(&chat)
        .is_some_and(|c| c.chat.is_forum && c.topics.contains_key(&thread));
    if exists {
        Ok(Some(thread))
    } else {
        Err(ApiError::bad("message thread not found"))
    }
}

/// The message a new one replies to.
fn reply_to(world: &World, chat: i64, p: &Params) -> Result<Option<i64>, ApiError> {
    let Some(reply) = p.get("reply_parameters") else {
        return Ok(None);
    };
    let id = reply.get("message_id").and_then(Value::as_i64).unwrap_or(0);
    let other_chat = reply
        .get("chat_id")
        .and_then(Value::as_i64)
        .is_some_and(|c| c != chat);
    if !other_chat && world.message(chat, id).is_some() {
        return Ok(Some(id));
    }
    let lenient = reply
        .get("allow_sending_without_reply")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if lenient {
        Ok(None)
    } else {
        Err(ApiError::bad("message to be replied not found"))
    }
}

/// Checks a reply markup beyond its shape: button data and actions.
fn markup(p: &Params) -> Result<Option<Value>, ApiError> {
    let Some(markup) = p.get("reply_markup") else {
        return Ok(None);
    };
    if let Some(rows) = markup.get("inline_keyboard").and_then(Value::as_array) {
        for button in rows.iter().filter_map(Value::as_array).flatten() {
            if button
                .get("text")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(ApiError::bad("BUTTON_TEXT_INVALID"));
            }
            let actions = [
                "url",
                "callback_data",
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            ];
            if !actions.iter().any(|a| button.get(a).is_some()) {
                return Err(ApiError::bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                ));
            }
            if let Some(data) = button.get("callback_data").and_then(Value::as_str) {
                if !(1..=MAX_CALLBACK_DATA).contains(&data.len()) {
                    return Err(ApiError::bad("BUTTON_DATA_INVALID"));
                }
            }
        }
    }
    Ok(Some(markup.clone()))
}

/// The markup a message keeps: only inline keyboards stay on a message.
fn kept_markup(markup: &Option<Value>) -> Option<Value> {
    markup
        .as_ref()
        .filter(|m| m.get("inline_keyboard").is_some())
        .cloned()
}

fn checked_text(p: &Params) -> Result<String, ApiError> {
    let text = p.str("text").unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::bad("message text is empty"));
    }
    if utf16_len(text) > MAX_TEXT {
        return Err(ApiError::bad("message is too long"));
    }
    Ok(text.to_owned())
}

fn checked_caption(p: &Params) -> Result<Option<String>, ApiError> {
    match p.str("caption") {
        Some(caption) if utf16_len(caption) > MAX_CAPTION => {
            Err(ApiError::bad("message caption is too long"))
        }
        Some(caption) if !caption.is_empty() => Ok(Some(caption.to_owned())),
        _ => Ok(None),
    }
}

fn send_message(world: &mut World, p: &Params) -> Result<Value, ApiError> {
    let chat = chat_id(world, p)?;
    let thread = thread(world, chat, p)?;
    let reply = reply_to(world, chat, p)?;
    let text = checked_text(p)?;
    let markup = markup(p)?;
    let mut content = Map::new();
    content.insert("text".into(), json!(text));
    if let Some(markup) = kept_markup(&markup) {
        content.insert("reply_markup".into(), markup);
    }
    Ok(world.bot_message(chat, thread, reply, content, "sendMessage", &p.values, None))
}

/// The bot's live message a call edits.
fn editable(world: &World, p: &Params) -> Result<(i64, i64), ApiError> {
    if p.get("inline_message_id").is_some() {
        return Err(ApiError::bad(
            "inline messages are not supported by the fake Bot API",
        ));
    }
    let chat = chat_id(world, p)?;
    let id = p.int("message_id").unwrap_or(0);
    let message = world
        .message(chat, id)
        .ok_or_else(|| ApiError::bad("message to edit not found"))?;
    if !message.from_bot {
        return Err(ApiError::bad("message can't be edited"));
    }
    Ok((chat, id))
}

/// Applies an edit to a stored message and returns it.
fn apply_edit(
    world: &mut World,
    (chat, id): (i64, i64),
    method: &str,
    change: impl FnOnce(&mut Map<String, Value>),
) -> Value {
    let Some(message) = world.message_mut(chat, id) else {
        return Value::Null;
    };
    if let Some(object) = message.json.as_object_mut() {
        change(object);
        object.insert("edit_date".into(), json!(super::world::unix_now()));
    }
    let edit = Edit {
        at: Instant::now(),
        method: method.to_owned(),
        text: message.text().map(str::to_owned),
        caption: message.caption().map(str::to_owned),
        reply_markup: message.reply_markup().cloned(),
    };
    message.edits.push(edit);
    message.json.clone()
}

fn edit_text(world: &mut World, p: &Params) -> Result<Value, ApiError> {
    let at = editable(world, p)?;
    let text = checked_text(p)?;
    let markup = markup(p)?;
    let current = world.message(at.0, at.1).map(|m| m.json.clone());
    let Some(current) = current else {
        return Err(ApiError::bad("message to edit not found"));
    };
    if current.get("text").is_none() {
        return Err(ApiError::bad("there is no text in the message to edit"));
    }
    let same_text = current.get("text").and_then(Value::as_str) == Some(text.as_str());
    if same_text && current.get("reply_markup") == markup.as_ref() {
        return Err(ApiError::bad(
            NOT_MODIFIED.trim_start_matches("Bad Request: "),
        ));
    }
    Ok(apply_edit(world, at, "editMessageText", |m| {
        m.insert("text".into(), json!(text));
        m.remove("entities");
        match markup {
            Some(markup) => m.insert("reply_markup".into(), markup),
            None => m.remove("reply_markup"),
        };
    }))
}

fn edit_caption(world: &mut World, p: &Params) -> Result<Value, ApiError> {
    let at = editable(world, p)?;
    let caption = checked_caption(p)?;
    let markup = markup(p)?;
    let current = world.message(at.0, at.1).map(|m| m.json.clone());
    let Some(current) = current else {
        return Err(ApiError::bad("message to edit not found"));
    };
    if current.get("text").is_some() {
        return Err(ApiError::bad("there is no caption in the message to edit"));
    }
    let same = current.get("caption").and_then(Value::as_str) == caption.as_deref()
        && current.get("reply_markup") == markup.as_ref();
    if same {
        return Err(ApiError::bad(
            NOT_MODIFIED.trim_start_matches("Bad Request: "),
        ));
    }
    Ok(apply_edit(world, at, "editMessageCaption", |m| {
        match caption {
            Some(caption) => m.insert("caption".into(), json!(caption)),
            None => m.remove("caption"),
        };
        match markup {
            Some(markup) => m.insert("reply_markup".into(), markup),
            None => m.remove("reply_markup"),
        };
    }))
}

fn edit_markup(world: &mut World, p: &Params) -> Result<Value, ApiError> {
    let at = editable(world, p)?;
    let markup = markup(p)?;
    let current = world
        .message(at.0, at.1)
        .and_then(|m| m.reply_markup().cloned());
    if current == markup {
        return Err(ApiError::bad(
            NOT_MODIFIED.trim_start_matches("Bad Request: "),
        ));
    }
    Ok(apply_edit(world, at, "editMessageReplyMarkup", |m| {
        match markup {
            Some(markup) => m.insert("reply_markup".into(), markup),
            None => m.remove("reply_markup"),
        };
    }))
}

fn delete_message(world: &mut World, p: &Params) -> Result<Value, ApiError> {
    let chat = chat_id(world, p)?;
    let id = p.int("message_id").unwrap_or(0);
    let message = world
        .message_mut(chat, id)
        .ok_or_else(|| ApiError::bad("message to delete not found"))?;
    message.deleted_at = Some(Instant::now());
    Ok(json!(true))
}

/// `sendVideo`, `sendPhoto`, `sendDocument`: an upload, or a `file_id` re-sent.
fn send_media(
    world: &mut World,
    p: &Params,
    kind: FileKind,
    field: &str,
) -> Result<Value, ApiError> {
    let chat = chat_id(world, p)?;
    let thread = thread(world, chat, p)?;
    let reply = reply_to(world, chat, p)?;
    let caption = checked_caption(p)?;
    let markup = markup(p)?;
    let (mut file, uploaded) = match p.files.get(field) {
        Some(upload) => {
            let limit = match kind {
                FileKind::Photo => world.config.photo_limit,
                _ => world.config.upload_limit,
            };
            if upload.data.len() as u64 > limit {
                return Err(ApiError::too_large());
            }
            if kind == FileKind::Photo && !is_image(&upload.data) {
                return Err(ApiError::bad("IMAGE_PROCESS_FAILED"));
            }
            let mime = upload.content_type.clone().or_else(|| {
                Some(
                    match kind {
                        FileKind::Video => "video/mp4",
                        FileKind::Photo => "image/jpeg",
                        FileKind::Document => "application/octet-stream",
                    }
                    .to_owned(),
                )
            });
            let name = upload.filename.clone().filter(|n| !n.is_empty());
            (
                world.store_file(kind, upload.data.clone(), name, mime),
                true,
            )
        }
        None => {
            let id = p.str(field).unwrap_or_default();
            let known = world.files.get(id).cloned();
            match known {
                Some(file) if file.kind == kind || kind == FileKind::Document => (file, false),
                Some(file) => {
                    return Err(ApiError::bad(format!(
                        "can't use file of type {} as {}",
                        capitalized(file.kind.as_str()),
                        capitalized(kind.as_str())
                    )))
                }
                None => return Err(ApiError::bad("wrong file identifier/HTTP URL specified")),
            }
        }
    };
    if kind == FileKind::Video && uploaded {
        file.width = p.int("width").unwrap_or(0);
        file.height = p.int("height").unwrap_or(0);
        file.duration = p.int("duration").unwrap_or(0);
        world.files.insert(file.file_id.clone(), file.clone());
    }
    let size = file.data.len();
    let media = match kind {
        FileKind::Video => json!({
            "file_id": file.file_id, "file_unique_id": file.unique_id,
            "width": file.width, "height": file.height, "duration": file.duration,
            "mime_type": file.mime_type, "file_size": size,
        }),
        FileKind::Photo => {
            let (width, height) = super::world::image_size(&file.data).unwrap_or((1280, 720));
            json!([{
                "file_id": file.file_id, "file_unique_id": file.unique_id,
                "width": width, "height": height, "file_size": size,
            }])
        }
        FileKind::Document => json!({
            "file_id": file.file_id, "file_unique_id": file.unique_id,
            "file_name": file.file_name, "mime_type": file.mime_type, "file_size": size,
        }),
    };
    let mut content = Map::new();
    content.insert(kind.as_str().into(), media);
    if let Some(caption) = caption {
        content.insert("caption".into(), json!(caption));
    }
    if let Some(markup) = kept_markup(&markup) {
        content.insert("reply_markup".into(), markup);
    }
    let method = match kind {
        FileKind::Video => "sendVideo",
        FileKind::Photo => "sendPhoto",
        FileKind::Document => "sendDocument",
    };
    let mut sent: SentFile = sent_file(&file, uploaded);
    // Telegram ignores a thumbnail unless the file itself is uploaded.
    if uploaded {
        sent.thumbnail = p.files.get("thumbnail").map(|part| part.data.clone());
    }
    Ok(world.bot_message(chat, thread, reply, content, method, &p.values, Some(sent)))
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

fn get_file(world: &World, p: &Params) -> Result<Value, ApiError> {
    let id = p.str("file_id").unwrap_or_default();
    let file = world
        .files
        .get(id)
        .ok_or_else(|| ApiError::bad("invalid file_id"))?;
    if file.data.len() as u64 > world.config.download_limit {
        return Err(ApiError::bad("file is too big"));
    }
    Ok(json!({
        "file_id": file.file_id,
        "file_unique_id": file.unique_id,
        "file_size": file.data.len(),
        "file_path": file.path,
    }))
}

fn answer_callback(world: &mut World, p: &Params) -> Result<Value, ApiError> {
    let id = p.str("callback_query_id").unwrap_or_default();
    let text = p.str("text").map(str::to_owned);
    if text.as_ref().is_some_and(|t| t.chars().count() > MAX_ALERT) {
        return Err(ApiError::bad("MESSAGE_TOO_LONG"));
    }
    let answer = CallbackAnswer {
        text,
        show_alert: p.flag("show_alert"),
    };
    if world.answer_callback(id, answer) {
        Ok(json!(true))
    } else {
        Err(ApiError::bad(
            "query is too old and response timeout expired or query ID is invalid",
        ))
    }
}

fn send_chat_action(world: &World, p: &Params) -> Result<Value, ApiError> {
    let chat = chat_id(world, p)?;
    thread(world, chat, p)?;
    let action = p.str("action").unwrap_or_default();
    if !CHAT_ACTIONS.contains(&action) {
        return Err(ApiError::bad("wrong parameter action in request"));
    }
    Ok(json!(true))
}

fn admin_json(user: &super::model::TgUser, creator: bool) -> Value {
    if creator {
        return json!({ "status": "creator", "user": user.json(), "is_anonymous": false });
    }
    json!({
        "status": "administrator", "user": user.json(), "can_be_edited": false,
        "is_anonymous": false, "can_manage_chat": true, "can_delete_messages": true,
        "can_manage_video_chats": true, "can_restrict_members": true,
        "can_promote_members": false, "can_change_info": true, "can_invite_users": true,
        "can_post_stories": false, "can_edit_stories": false, "can_delete_stories": false,
        "can_pin_messages": true, "can_manage_topics": true,
    })
}

fn chat_administrators(world: &World, p: &Params) -> Result<Value, ApiError> {
    let chat = chat_id(world, p)?;
    let Some(state) = world.chats.get(&chat) else {
        return Err(ApiError::chat_not_found());
    };
    if state.chat.kind == ChatType::Private {
        return Err(ApiError::bad(
            "there are no administrators in the private chat",
        ));
    }
    Ok(Value::Array(
        state
            .admins
            .iter()
            .enumerate()
            .map(|(i, user)| admin_json(user, i == 0))
            .collect(),
    ))
}

fn chat_member(world: &World, p: &Params) -> Result<Value, ApiError> {
    let chat = chat_id(world, p)?;
    let user_id = p.int("user_id").unwrap_or(0);
    let Some(state) = world.chats.get(&chat) else {
        return Err(ApiError::chat_not_found());
    };
    if let Some(i) = state.admins.iter().position(|u| u.id == user_id) {
        return Ok(admin_json(&state.admins[i], i == 0));
    }
    match state.members.get(&user_id) {
        Some(user) => Ok(json!({ "status": "member", "user": user.json() })),
        None => Err(ApiError::bad("user not found")),
    }
}
