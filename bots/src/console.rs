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
use sorabot::chat::language_of;
use sorabot::chat::{
    Attachment, AttachmentKind, Button, ChatError, ChatPort, ChatRef, Delivered, Incoming,
    MediaFile, MediaKind, Outgoing, UserRef,
};
use sorabot::command::Lang;
use sorabot::engine::{Press, PressAnswer};
use sorabot::i18n::catalogue::Arg;
use sorabot::i18n::{self, Msg};
use sorabot::{media, Engine};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::watch;

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
    /// Turns true when the output is gone (a closed pipe): the console stops.
    closed: watch::Sender<bool>,
    /// The language of the console's own lines (`buttons: …`); English
    /// unless [`ConsolePort::speaking`] says otherwise.
    lang: Lang,
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
            closed: watch::channel(false).0,
            lang: Lang::En,
        }
    }

    /// The console's own lines in `lang` (the bot's default language).
    pub fn speaking(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// One of the console's own lines, from the catalogue.
    fn words(&self, id: &str, args: &[(&str, Arg)]) -> String {
        i18n::text(self.lang, id, args)
    }

    /// Returns once the output is closed (the reader of a pipe went away).
    pub async fn closed(&self) {
        let mut closed = self.closed.subscribe();
        let _ = closed.wait_for(|closed| *closed).await;
    }

    fn next_id(&self) -> String {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = std::fs::write(&self.ids_file, (id + 1).to_string()) {
            tracing::warn!(%error, "cannot keep the console's message counter");
        }
        id.to_string()
    }

    /// Prints every line of `text` as `[ID] line`. An output that fails
    /// (a closed pipe: EPIPE) is the end of the console, not a panic.
    fn print(&self, id: &str, text: &str) {
        if *self.closed.borrow() {
            return;
        }
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let written = text
            .lines()
            .try_for_each(|line| writeln!(out, "[{id}] {line}"))
            .and_then(|()| out.flush());
        if let Err(error) = written {
            if error.kind() == std::io::ErrorKind::BrokenPipe {
                tracing::info!("console: the output is closed");
            } else {
                tracing::warn!(%error, "console: cannot write the output; stopping");
            }
            self.closed.send_replace(true);
        }
    }

    fn print_buttons(&self, id: &str, buttons: &[Button]) {
        if buttons.is_empty() {
            return;
        }
        let list: Vec<String> = buttons
            .iter()
            .map(|b| format!("{} !{}", b.label, b.data()))
            .collect();
        let line = self.words("console-buttons", &[("buttons", list.join(" | ").into())]);
        self.print(id, &line);
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
            self.print(
                &id,
                &self.words("console-answer-with", &[("id", id.as_str().into())]),
            );
        }
        Ok(id)
    }

    async fn edit(&self, _chat: &ChatRef, id: &str, message: &Outgoing) -> Result<(), ChatError> {
        self.print(id, &message.text);
        self.print_buttons(id, &message.buttons);
        Ok(())
    }

    async fn delete(&self, _chat: &ChatRef, id: &str) -> Result<(), ChatError> {
        self.print(id, &self.words("console-deleted", &[]));
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
        let saved = match file.kind {
            MediaKind::Video => "console-saved-video",
            MediaKind::Image => "console-saved-image",
        };
        let path = target.display().to_string();
        self.print(&id, &self.words(saved, &[("path", path.into())]));
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

/// Longest input line read; the rest of a longer one is skipped.
pub const MAX_LINE: usize = 64 * 1024;

/// One line of input as bytes.
#[derive(Debug, PartialEq)]
enum Read {
    Line(Vec<u8>),
    /// A line longer than [`MAX_LINE`], skipped to its end.
    TooLong,
    End,
}

/// Reads one line of at most `max` bytes (without its `\n`), whatever the
/// bytes are. An error reading is the end of the input.
async fn read_bytes(input: &mut (impl AsyncBufRead + Unpin), max: usize) -> Read {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = match input.fill_buf().await {
            Ok(available) => available,
            Err(error) => {
                tracing::warn!(%error, "console: cannot read the input");
                return Read::End;
            }
        };
        if available.is_empty() {
            return match (too_long, line.is_empty()) {
                (true, _) => Read::TooLong,
                (false, true) => Read::End,
                (false, false) => Read::Line(line),
            };
        }
        let (chunk, used, ended) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (&available[..at], at + 1, true),
            None => (available, available.len(), false),
        };
        if !too_long {
            if line.len() + chunk.len() > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        input.consume(used);
        if ended {
            return if too_long {
                Read::TooLong
            } else {
                Read::Line(line)
            };
        }
    }
}

/// Runs the console until the input ends and no job is unfinished. Any
/// bytes may come in: a line that is not UTF-8 text, or is too long, is
/// answered and skipped.
pub async fn run(
    engine: Engine,
    port: Arc<ConsolePort>,
    input: impl AsyncBufRead + Unpin,
    user: UserRef,
) {
    run_until(engine, port, input, user, std::future::pending::<()>()).await;
}

/// Like [`run`], until `stop` completes first: then no more input is read
/// (the line in hand is handled to its end) and its output is returned.
pub async fn run_until<T>(
    engine: Engine,
    port: Arc<ConsolePort>,
    mut input: impl AsyncBufRead + Unpin,
    user: UserRef,
    stop: impl std::future::Future<Output = T>,
) -> Option<T> {
    let mut stop = std::pin::pin!(stop);
    let chat = local_chat();
    let lang = language_of(&user, engine.limits().default_lang);
    // The stored unfinished jobs count as unfinished from the start, so an
    // input that ends at once still waits for them.
    if let Err(error) = engine.ensure_resumed().await {
        tracing::error!(%error, "console: cannot pick up the stored jobs");
    }
    loop {
        let read = tokio::select! {
            read = read_bytes(&mut input, MAX_LINE) => read,
            why = &mut stop => return Some(why),
        };
        let bytes = match read {
            Read::End => break,
            Read::TooLong => {
                port.print(
                    "!",
                    &i18n::say(
                        lang,
                        &Msg::LineTooLong {
                            max_kb: MAX_LINE / 1024,
                        },
                    ),
                );
                continue;
            }
            Read::Line(bytes) => bytes,
        };
        let Ok(line) = String::from_utf8(bytes) else {
            port.print("!", &i18n::say(lang, &Msg::NotText));
            continue;
        };
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
                    let attached = i18n::text(lang, "console-attached", &[("path", path.into())]);
                    port.print(&message_id, &attached);
                    port.posted
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(message_id.clone(), file.clone());
                    attachments.push(file);
                }
                Err(error) => {
                    let args = [("path", path.into()), ("error", error.to_string().into())];
                    port.print("!", &i18n::text(lang, "console-cannot-read", &args));
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
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            why = &mut stop => return Some(why),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(mut input: impl AsyncBufRead + Unpin) -> Vec<Read> {
        let mut read = Vec::new();
        loop {
            match read_bytes(&mut input, 8).await {
                Read::End => return read,
                other => read.push(other),
            }
        }
    }

    #[tokio::test]
    async fn lines_are_read_as_bytes_whatever_they_hold_and_bounded() {
        let bytes: &[u8] = b"\xff\xfe\nshort\n0123456789\nok\r\nlast";
        let expected = [
            Read::Line(b"\xff\xfe".to_vec()),
            Read::Line(b"short".to_vec()),
            Read::TooLong,
            Read::Line(b"ok\r".to_vec()),
            Read::Line(b"last".to_vec()),
        ];

        let whole = read_all(bytes).await;
        let in_pieces = read_all(tokio::io::BufReader::with_capacity(3, bytes)).await;

        assert_eq!(whole, expected);
        assert_eq!(in_pieces, expected);
    }

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
