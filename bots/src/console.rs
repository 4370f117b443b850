//! The console chat: the bot in a terminal, for a person or a script.
//!
//! One line in is one message from the local user. Each bot message prints
//! as `[ID] TEXT` (an edit prints again under the same id). `>ID TEXT`
//! replies to message ID; `+PATH TEXT` attaches the file at PATH; `!DATA`
//! presses a button (the data printed after `buttons:`). A delivered file is
//! copied under `DATA_DIR/media` and printed as `[ID] video: PATH`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use sorabot::chat::{
    Attachment, AttachmentKind, Button, ChatError, ChatPort, ChatRef, Delivered, Incoming,
    MediaFile, MediaKind, Outgoing, UserRef,
};
use sorabot::engine::{Press, PressAnswer};
use sorabot::{media, Engine};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The platform name of the console.
pub const PLATFORM: &str = "console";
/// The bot's name in the console (`/video@sorabot`).
pub const BOT_NAME: &str = "sorabot";

/// Where console output goes: stdout, or a buffer in tests.
pub type Sink = Arc<Mutex<dyn Write + Send>>;

/// The console as a chat platform.
pub struct ConsolePort {
    ids: AtomicU64,
    /// Where the next message id is kept, so ids stay unique across runs
    /// (replies by id reach stored jobs through the message index).
    ids_file: PathBuf,
    out: Sink,
    media_dir: PathBuf,
    upload_limit: u64,
    /// Files the user attached, by message id, for replies to them.
    posted: Mutex<HashMap<String, Attachment>>,
}

impl ConsolePort {
    /// A console keeping its files under `data_dir` (delivered media in
    /// `media/`, the message counter in `console-next-id`).
    pub fn new(out: Sink, data_dir: &Path, upload_limit: u64) -> Self {
        let ids_file = data_dir.join("console-next-id");
        let first = std::fs::read_to_string(&ids_file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(1);
        ConsolePort {
            ids: AtomicU64::new(first),
            ids_file,
            out,
            media_dir: data_dir.join("media"),
            upload_limit,
            posted: Mutex::default(),
        }
    }

    fn next_id(&self) -> String {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = std::fs::write(&self.ids_file, (id + 1).to_string()) {
            tracing::warn!(%error, "cannot keep the console's message counter");
        }
        id.to_string()
    }

    /// Prints every line of `text` as `[ID] line`.
    fn print(&self, id: &str, text: &str) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        for line in text.lines() {
            let _ = writeln!(out, "[{id}] {line}");
        }
        let _ = out.flush();
    }

    fn print_buttons(&self, id: &str, buttons: &[Button]) {
        if buttons.is_empty() {
            return;
        }
        let list: Vec<String> = buttons
            .iter()
            .map(|b| format!("{} !{}", b.label, b.data()))
            .collect();
        self.print(id, &format!("buttons: {}", list.join(" | ")));
    }
}

#[async_trait]
impl ChatPort for ConsolePort {
    fn platform(&self) -> &str {
        PLATFORM
    }

    fn upload_limit(&self, _chat: &ChatRef) -> u64 {
        self.upload_limit
    }

    async fn send(&self, _chat: &ChatRef, message: &Outgoing) -> Result<String, ChatError> {
        let id = self.next_id();
        self.print(&id, &message.text);
        self.print_buttons(&id, &message.buttons);
        if message.ask_reply {
            self.print(&id, &format!("(answer with: >{id} YOUR TEXT)"));
        }
        Ok(id)
    }

    async fn edit(&self, _chat: &ChatRef, id: &str, message: &Outgoing) -> Result<(), ChatError> {
        self.print(id, &message.text);
        self.print_buttons(id, &message.buttons);
        Ok(())
    }

    async fn delete(&self, _chat: &ChatRef, id: &str) -> Result<(), ChatError> {
        self.print(id, "(deleted)");
        Ok(())
    }

    async fn deliver(&self, _chat: &ChatRef, file: &MediaFile) -> Result<Delivered, ChatError> {
        if file.bytes > self.upload_limit {
            return Err(ChatError::TooLarge);
        }
        let name = file
            .path
            .file_name()
            .map(|n| n.to_owned())
            .unwrap_or_else(|| format!("{}.{}", file.job, media::extension(&file.mime)).into());
        let target = self.media_dir.join(name);
        copy(&file.path, &target)
            .await
            .map_err(|e| ChatError::Failed(format!("cannot save {}: {e}", target.display())))?;
        let id = self.next_id();
        let kind = match file.kind {
            MediaKind::Video => "video",
            MediaKind::Image => "image",
        };
        self.print(&id, &format!("{kind}: {}", target.display()));
        self.print(&id, &file.caption);
        self.print_buttons(&id, &file.buttons);
        Ok(Delivered {
            message_id: id,
            file_id: None,
        })
    }
}

async fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(dir) = to.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    tokio::fs::copy(from, to).await.map(|_| ())
}

/// The console's one chat and one user.
pub fn local_chat() -> ChatRef {
    ChatRef {
        platform: PLATFORM.to_owned(),
        chat: "local".to_owned(),
        thread: None,
        private: true,
    }
}

pub fn local_user(name: String, language: Option<String>) -> UserRef {
    UserRef {
        id: "local".to_owned(),
        name,
        language,
        chat_admin: true,
    }
}

/// One input line, read.
#[derive(Debug, Default, PartialEq)]
struct Line {
    reply_to: Option<String>,
    attach: Option<String>,
    text: String,
}

fn read_line(line: &str) -> Line {
    let mut parsed = Line::default();
    let mut rest = line.trim();
    loop {
        if let Some(after) = rest.strip_prefix('>') {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            parsed.reply_to = Some(after[..end].to_owned());
            rest = after[end..].trim_start();
        } else if let Some(after) = rest.strip_prefix('+') {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            parsed.attach = Some(after[..end].to_owned());
            rest = after[end..].trim_start();
        } else {
            break;
        }
    }
    parsed.text = rest.to_owned();
    parsed
}

/// Reads the file at `path` as an attachment; one over `max` bytes is only
/// described from its first bytes (the core answers "too large" from its
/// size), never read whole.
async fn attachment(path: &str, max: u64) -> std::io::Result<Attachment> {
    use tokio::io::AsyncReadExt;
    let size = tokio::fs::metadata(path).await?.len();
    let data = if size > max {
        let mut head = Vec::with_capacity(media::HEAD_BYTES);
        tokio::fs::File::open(path)
            .await?
            .take(media::HEAD_BYTES as u64)
            .read_to_end(&mut head)
            .await?;
        Err(head)
    } else {
        Ok(Bytes::from(tokio::fs::read(path).await?))
    };
    let head = match &data {
        Ok(data) => &data[..data.len().min(media::HEAD_BYTES)],
        Err(head) => &head[..],
    };
    let mime = media::sniff_mime(head);
    let kind = match mime {
        Some(m) if m.starts_with("image/") => AttachmentKind::Image,
        Some(m) if m.starts_with("video/") => AttachmentKind::Video,
        _ => AttachmentKind::Other,
    };
    Ok(Attachment {
        kind,
        mime: mime.map(str::to_owned),
        size: Some(size),
        data: data.ok(),
        public_url: None,
        pixels: None,
    })
}

/// Runs the console until the input ends and no job is unfinished.
pub async fn run(
    engine: Engine,
    port: Arc<ConsolePort>,
    input: impl AsyncBufRead + Unpin,
    user: UserRef,
) {
    let chat = local_chat();
    let mut lines = input.lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(data) = line.strip_prefix('!') {
            let press = Press {
                chat: chat.clone(),
                user: user.clone(),
                message_id: port.next_id(),
                data: data.trim().to_owned(),
            };
            if let PressAnswer::Notice(text) = engine.press(&press).await {
                port.print("!", &text);
            }
            continue;
        }
        let parsed = read_line(line);
        let message_id = port.next_id();
        let mut attachments = Vec::new();
        if let Some(path) = &parsed.attach {
            match attachment(path, engine.limits().max_input_image_bytes).await {
                Ok(file) => {
                    port.print(&message_id, &format!("(you attached {path})"));
                    port.posted
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(message_id.clone(), file.clone());
                    attachments.push(file);
                }
                Err(error) => {
                    port.print("!", &format!("cannot read {path}: {error}"));
                    continue;
                }
            }
        }
        let reply_media = parsed.reply_to.as_ref().and_then(|id| {
            port.posted
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(id)
                .cloned()
        });
        let incoming = Incoming {
            chat: chat.clone(),
            user: user.clone(),
            message_id,
            text: parsed.text,
            attachments,
            reply_to: parsed.reply_to,
            reply_media,
            bot_username: Some(BOT_NAME.to_owned()),
        };
        engine.handle(&incoming).await;
    }
    while engine.active_jobs() > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_lines_read_replies_attachments_and_text() {
        assert_eq!(
            read_line(">12 +/tmp/cat.png /video make it move"),
            Line {
                reply_to: Some("12".into()),
                attach: Some("/tmp/cat.png".into()),
                text: "/video make it move".into()
            }
        );
        assert_eq!(read_line("/tasks").text, "/tasks");
        assert_eq!(read_line(">3").reply_to.as_deref(), Some("3"));
    }
}
