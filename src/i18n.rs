//! Every text the bot shows a user, in English and Chinese, in one place.
//! The engine says what to tell (a [`Msg`]); this module says it in the
//! user's language.

use std::time::Duration;

use crate::backend::{Feature, Unsupported};
use crate::command::{CommandName, Lang, ParseError};
use crate::job::{Failure, JobState, Trouble};
use sorabot_storage::{Damage, DamageKind};

/// Something to tell a user.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg<'a> {
    /// To the operators: the service refuses the bot itself.
    OperatorAlert {
        /// The balance is used up (else: the key is refused).
        balance: bool,
        /// The service's own words, when it gave any.
        message: Option<&'a str>,
    },
    /// A step failed and will be tried again: what went wrong, which retry.
    Retrying {
        trouble: Trouble,
        text: &'a str,
        attempt: u32,
        limit: u32,
    },
    Welcome,
    Help,
    HelpFor(CommandName),
    NotAllowed,
    Invalid(&'a ParseError),
    QuotaExhausted {
        limit: u32,
        resets_in: Duration,
    },
    TooManyActive {
        max: usize,
    },
    QueueFull,
    Unsupported(&'a Unsupported),
    NoSuchJob(&'a str),
    NotAVideo(&'a str),
    NotReady(&'a str),
    NotYours,
    NeedVideoReply,
    NeedShareableVideo,
    NotAnImage,
    /// A form was submitted after what it was opened for was forgotten.
    FormExpired,
    /// A message menu used on a message it cannot act on.
    MenuNeedsVideo {
        remix: bool,
    },
    /// A retried job's input image was swept after `days`.
    InputGone {
        days: u64,
    },
    ImageTooLarge {
        max_mb: u64,
    },
    /// An image whose header cannot be read (a broken or disguised file).
    ImageUnreadable,
    /// An image too small or too large a picture.
    ImageDimensions {
        width: u32,
        height: u32,
        max_side: u32,
    },
    NoCharacter(&'a str),
    CharacterExists(&'a str),
    CharacterCreating(&'a str),
    CharacterReady(&'a str),
    CharacterFailed(&'a str),
    CharacterRemoved(&'a str),
    Characters(&'a [String]),
    NoCharacters,
    Cancelled(&'a str),
    AlreadyFinished(&'a str),
    Quota {
        used: u32,
        limit: u32,
        resets_in: Duration,
    },
    QuotaUnlimited {
        used: u32,
    },
    Settings(&'a str),
    SettingsSaved(&'a str),
    NoTasks,
    AskRemix(&'a str),
    AskCharacterName(&'a str),
    TooLargeLink {
        url: &'a str,
        mb: f64,
        limit_mb: f64,
    },
    TooLargeNoLink {
        mb: f64,
        limit_mb: f64,
    },
    Internal(&'a str),
    Failed(&'a Failure),
    /// A job delivered, `secs` after it was asked for.
    DoneIn {
        secs: u64,
    },
    /// The summary of settings when none is set.
    ServiceDefaults,
    /// After a character's name in a list: still being made, or failed.
    CharacterSaving,
    CharacterBroken,
    /// A console line whose bytes are not UTF-8 text.
    NotText,
    /// A console line over the longest the console reads.
    LineTooLong {
        max_kb: usize,
    },
    /// To the operators: the store opened older or emptier than its last flush.
    StoreDamaged(&'a Damage),
    /// `/cancel` with no job named, and none of the user's is running here.
    NothingRunning,
}

/// The label of a button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Remix,
    SaveCharacter,
    Retry,
    Cancel,
}

pub fn label(lang: Lang, label: Label) -> &'static str {
    match (lang, label) {
        (Lang::En, Label::Remix) => "🎬 Remix",
        (Lang::En, Label::SaveCharacter) => "👤 Save as character",
        (Lang::En, Label::Retry) => "🔁 Retry",
        (Lang::En, Label::Cancel) => "✖ Cancel",
        (Lang::Zh, Label::Remix) => "🎬 重绘",
        (Lang::Zh, Label::SaveCharacter) => "👤 存为角色",
        (Lang::Zh, Label::Retry) => "🔁 重试",
        (Lang::Zh, Label::Cancel) => "✖ 取消",
    }
}

/// A duration as a person says it: "about 3 min", "约 3 分钟".
pub fn about(lang: Lang, d: Duration) -> String {
    let secs = d.as_secs();
    match lang {
        Lang::En if secs < 60 => "under a minute".to_owned(),
        Lang::En if secs < 3600 => format!("about {} min", secs.div_ceil(60)),
        Lang::En => format!("about {} h", secs.div_ceil(3600)),
        Lang::Zh if secs < 60 => "不到 1 分钟".to_owned(),
        Lang::Zh if secs < 3600 => format!("约 {} 分钟", secs.div_ceil(60)),
        Lang::Zh => format!("约 {} 小时", secs.div_ceil(3600)),
    }
}

/// Where a job stands, in one line: `⚙ Generating ▓▓▓░░ 52% · ETA about 1 min`.
/// `progress` is the drawn bar, when the progress is known.
pub fn state_line(
    lang: Lang,
    state: &JobState,
    position: Option<usize>,
    progress: Option<&str>,
    eta: Option<Duration>,
) -> String {
    let eta = match (lang, eta) {
        (_, None) => String::new(),
        (Lang::En, Some(d)) => format!(" · ETA {}", about(lang, d)),
        (Lang::Zh, Some(d)) => format!(" · 预计{}", about(lang, d)),
    };
    let progress = progress.unwrap_or("…");
    match (state, lang) {
        (JobState::Queued, Lang::En) => match position {
            Some(p) => format!("⏳ Queued · position {p}{eta}"),
            None => "⏳ Starting…".to_owned(),
        },
        (JobState::Queued, Lang::Zh) => match position {
            Some(p) => format!("⏳ 排队中 · 第 {p} 位{eta}"),
            None => "⏳ 即将开始…".to_owned(),
        },
        (JobState::Submitting, Lang::En) => "⏳ Sending to the service…".to_owned(),
        (JobState::Submitting, Lang::Zh) => "⏳ 正在提交给服务…".to_owned(),
        (JobState::Submitted, Lang::En) => format!("⏳ Waiting for the service{eta}"),
        (JobState::Submitted, Lang::Zh) => format!("⏳ 等待服务开始{eta}"),
        (JobState::Running { .. }, Lang::En) => format!("⚙ Generating {progress}{eta}"),
        (JobState::Running { .. }, Lang::Zh) => format!("⚙ 生成中 {progress}{eta}"),
        (JobState::Delivering, Lang::En) => "📤 Uploading…".to_owned(),
        (JobState::Delivering, Lang::Zh) => "📤 正在上传…".to_owned(),
        (JobState::Delivered, Lang::En) => "✅ Done".to_owned(),
        (JobState::Delivered, Lang::Zh) => "✅ 完成".to_owned(),
        (JobState::Failed(_), Lang::En) => "❌ Failed".to_owned(),
        (JobState::Failed(_), Lang::Zh) => "❌ 失败".to_owned(),
        (JobState::Cancelled, Lang::En) => "✖ Cancelled".to_owned(),
        (JobState::Cancelled, Lang::Zh) => "✖ 已取消".to_owned(),
    }
}

/// Says `msg` in `lang`.
pub fn say(lang: Lang, msg: &Msg) -> String {
    match lang {
        Lang::En => english(msg),
        Lang::Zh => chinese(msg),
    }
}

fn help_list(lang: Lang) -> String {
    CommandName::ALL
        .iter()
        .map(|c| {
            let summary = match lang {
                Lang::En => c.summary(),
                Lang::Zh => c.summary_zh(),
            };
            format!("/{} — {}", c.as_str(), summary)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn english(msg: &Msg) -> String {
    match msg {
        Msg::OperatorAlert { balance, message } => {
            let what = if *balance {
                "⚠ The Sora service says the bot's balance is used up: jobs fail (their users are refunded) until it is topped up."
            } else {
                "⚠ The Sora service refuses the bot's API key: jobs fail (their users are refunded) until SORA_API_KEY is fixed."
            };
            match message {
                Some(m) => format!("{what}\nThe service said: {m}"),
                None => what.to_owned(),
            }
        }
        Msg::Retrying {
            trouble,
            text,
            attempt,
            limit,
        } => {
            let what = match trouble {
                Trouble::Service => format!("the service answered: {text}"),
                Trouble::Download => format!("the download failed: {text}"),
                Trouble::Disk => "the bot could not save the result to its disk".to_owned(),
                Trouble::Upload => "the upload into this chat failed".to_owned(),
            };
            format!("⚠ {what} · retrying {attempt}/{limit}")
        }
        Msg::Welcome => format!(
            "Hi! I make videos with Sora.\nTry: /video a red fox running through snow --ar 16:9\n\n{}",
            help_list(Lang::En)
        ),
        Msg::Help => format!(
            "{}\n\nSend a photo with /video in the caption to animate it; reply to one of my videos with /remix to change it; use @name in a prompt to cast a saved character.",
            help_list(Lang::En)
        ),
        Msg::HelpFor(c) => format!("/{} — {}\n{}", c.as_str(), c.summary(), c.usage()),
        Msg::NotAllowed => "Sorry, this bot is not enabled for you or this chat. Ask the bot's operator to add it.".into(),
        Msg::Invalid(e) => match e.usage() {
            Some(usage) => format!("⚠ {e}.\nUsage: {usage}"),
            None => format!("⚠ {e}. Send /help for the list of commands."),
        },
        Msg::QuotaExhausted { limit, resets_in } => format!(
            "You have used all {limit} of today's jobs. The quota resets in {}.",
            about(Lang::En, *resets_in)
        ),
        Msg::TooManyActive { max } => format!(
            "You already have {max} jobs in progress. Wait for one to finish, or /cancel one."
        ),
        Msg::QueueFull => "The queue is full right now. Please try again in a few minutes.".into(),
        Msg::Unsupported(u) => format!("⚠ {}.", unsupported_en(u)),
        Msg::NoSuchJob(id) => format!("I can't find job {id}. /tasks lists your jobs."),
        Msg::NotAVideo(id) => format!("Job {id} did not make a video, so it can't be used here."),
        Msg::NotReady(id) => format!("Job {id} has no finished video yet. Try again once it is delivered."),
        Msg::NotYours => "Only the person who made this, or a chat admin, can do that.".into(),
        Msg::NeedVideoReply => "Reply to a video (one of mine, or one with a public link) with this command.".into(),
        Msg::NeedShareableVideo => "I can only make characters from my own videos here, or from a video with a public link. Reply to one of my videos.".into(),
        Msg::NotAnImage => "That attachment is not an image. Attach a JPEG, PNG or WebP photo.".into(),
        Msg::FormExpired => "That form has expired. Open it again from the video.".into(),
        Msg::MenuNeedsVideo { remix: true } => "Remix works on the videos I made: use it on one of mine.".into(),
        Msg::MenuNeedsVideo { remix: false } => "Use this on a message with a video: one of mine, or one someone posted.".into(),
        Msg::InputGone { days } => format!("The image of that job is no longer kept (images are kept {days} days). Send the command again with the image attached."),
        Msg::ImageTooLarge { max_mb } => format!("That image is too large. Send one under {max_mb} MB."),
        Msg::ImageUnreadable => "That image cannot be read: the file is broken or not really a picture. Attach a JPEG, PNG or WebP photo.".into(),
        Msg::ImageDimensions { width, height, max_side } => format!("That image is {width}×{height} pixels. Send one whose sides are between 1 and {max_side} pixels."),
        Msg::NoCharacter(name) => format!("You have no character named @{name}. /character list shows yours; /character add NAME saves one."),
        Msg::CharacterExists(name) => format!("You already have a character named @{name}. Choose another name, or /character remove {name} first."),
        Msg::CharacterCreating(name) => format!("Saving character @{name}…"),
        Msg::CharacterReady(name) => format!("✅ Character @{name} is ready. Use @{name} in a /video prompt."),
        Msg::CharacterFailed(name) => format!("Character @{name} could not be saved."),
        Msg::CharacterRemoved(name) => format!("Character @{name} removed."),
        Msg::Characters(list) => format!("Your characters:\n{}", list.join("\n")),
        Msg::NoCharacters => "You have no characters yet. Reply to a video with /character add NAME --at 0,3".into(),
        Msg::Cancelled(id) => format!("Job {id} cancelled. It does not count against your quota."),
        Msg::AlreadyFinished(id) => format!("Job {id} has already finished."),
        Msg::Quota { used, limit, resets_in } => format!(
            "Today you have used {used} of {limit} jobs; {} left. Resets in {}.",
            limit.saturating_sub(*used),
            about(Lang::En, *resets_in)
        ),
        Msg::QuotaUnlimited { used } => format!("You have no daily limit. Jobs today: {used}."),
        Msg::Settings(s) => format!("Your defaults: {s}\nChange with /settings --ar 9:16 --dur 15 --model sora-2-pro --hd --lang zh, or /settings --reset"),
        Msg::SettingsSaved(s) => format!("Saved. Your defaults: {s}"),
        Msg::NoTasks => "You have no jobs yet. Try /video a cat playing piano".into(),
        Msg::AskRemix(id) => format!("What should change in {id}? Reply to this message with your prompt."),
        Msg::AskCharacterName(id) => format!("Name the character from {id}: reply to this message with a name (and --at START,END if not 0,3)."),
        Msg::TooLargeLink { url, mb, limit_mb } => format!(
            "The video is {mb:.1} MB, over this chat's {limit_mb:.0} MB upload limit. Download it here: {url}"
        ),
        Msg::TooLargeNoLink { mb, limit_mb } => format!(
            "The video is {mb:.1} MB, over this chat's {limit_mb:.0} MB upload limit, and the service gave no public link. Ask the operator to set PUBLIC_BASE_URL."
        ),
        Msg::Internal(reference) => format!("Something went wrong on my side (ref: {reference}). Your quota was not used. Please try again."),
        Msg::Failed(f) => failure_en(f),
        Msg::DoneIn { secs } => format!("✅ Done in {}:{:02}", secs / 60, secs % 60),
        Msg::ServiceDefaults => "the service's defaults".into(),
        Msg::CharacterSaving => " (saving…)".into(),
        Msg::CharacterBroken => " (failed)".into(),
        Msg::NotText => "That line is not text (it is not valid UTF-8), so I did nothing with it. Send /help for the commands.".into(),
        Msg::LineTooLong { max_kb } => format!("That line is longer than {max_kb} KB, so I did nothing with it."),
        Msg::StoreDamaged(d) => store_damaged_en(d),
        Msg::NothingRunning => "You have no job running here. /tasks lists your jobs; /cancel JOBID cancels one.".into(),
    }
}

fn store_damaged_en(d: &Damage) -> String {
    let then = match d.last_flushed {
        Some(t) => format!(
            "At its last save it held {} unfinished job(s) and {} quota charge(s); now {} and {}: {} job(s) and {} charge(s) lost.",
            t.unfinished_jobs, t.charges, d.found.unfinished_jobs, d.found.charges, d.lost_jobs(), d.lost_charges()
        ),
        None => "What it held before is unknown (there was no marker of its last save).".to_owned(),
    };
    let what = match &d.kind {
        DamageKind::RolledBack => "⚠ sorabot's database is older than its last save (restored from an old copy, deleted, or cut short when it was recovered). The bot carries on with what it has.".to_owned(),
        DamageKind::Unreadable { moved_to, .. } => format!(
            "⚠ sorabot's database could not be read. It was kept at {} and the bot started with an empty one.",
            moved_to.display()
        ),
    };
    format!("{what}\n{then}\nOwners of lost jobs were not told. See \"When the store is damaged\" in the README.")
}

fn chinese(msg: &Msg) -> String {
    match msg {
        Msg::OperatorAlert { balance, message } => {
            let what = if *balance {
                "⚠ Sora 服务表示机器人的余额已用完：充值前任务都会失败（已为用户退还额度）。"
            } else {
                "⚠ Sora 服务拒绝了机器人的 API 密钥：修正 SORA_API_KEY 前任务都会失败（已为用户退还额度）。"
            };
            match message {
                Some(m) => format!("{what}\n服务原话：{m}"),
                None => what.to_owned(),
            }
        }
        Msg::Retrying {
            trouble,
            text,
            attempt,
            limit,
        } => {
            let what = match trouble {
                Trouble::Service => format!("服务返回：{text}"),
                Trouble::Download => format!("下载失败：{text}"),
                Trouble::Disk => "机器人无法把结果保存到磁盘".to_owned(),
                Trouble::Upload => "上传到此聊天失败".to_owned(),
            };
            format!("⚠ {what} · 重试 {attempt}/{limit}")
        }
        Msg::Welcome => format!(
            "你好！我用 Sora 生成视频。\n试试：/video 一只红狐狸在雪地里奔跑 --ar 16:9\n\n{}",
            help_list(Lang::Zh)
        ),
        Msg::Help => format!(
            "{}\n\n发送图片并在说明里写 /video 可让图片动起来；回复我的视频并发送 /remix 可修改它；在提示词里用 @名字 可让已保存的角色出演。",
            help_list(Lang::Zh)
        ),
        Msg::HelpFor(c) => format!("/{} — {}\n{}", c.as_str(), c.summary_zh(), c.usage()),
        Msg::NotAllowed => "抱歉，你或本群尚未开通此机器人。请联系机器人管理员添加。".into(),
        Msg::Invalid(e) => match e.usage() {
            Some(usage) => format!("⚠ {}。\n用法：{usage}", parse_error_zh(e)),
            None => format!("⚠ {}。发送 /help 查看全部命令。", parse_error_zh(e)),
        },
        Msg::QuotaExhausted { limit, resets_in } => format!(
            "你今天的 {limit} 次额度已用完，{}后重置。",
            about(Lang::Zh, *resets_in)
        ),
        Msg::TooManyActive { max } => format!("你已有 {max} 个任务在进行中。请等其中一个完成，或用 /cancel 取消。"),
        Msg::QueueFull => "当前排队已满，请几分钟后再试。".into(),
        Msg::Unsupported(u) => format!("⚠ {}。", unsupported_zh(u)),
        Msg::NoSuchJob(id) => format!("找不到任务 {id}。/tasks 可查看你的任务。"),
        Msg::NotAVideo(id) => format!("任务 {id} 没有生成视频，不能用于此操作。"),
        Msg::NotReady(id) => format!("任务 {id} 的视频还没有完成，交付后再试。"),
        Msg::NotYours => "只有创建者或群管理员可以这样做。".into(),
        Msg::NeedVideoReply => "请用此命令回复一个视频（我的视频，或带公开链接的视频）。".into(),
        Msg::NeedShareableVideo => "这里只能从我生成的视频或带公开链接的视频创建角色。请回复我的视频。".into(),
        Msg::NotAnImage => "附件不是图片。请附上 JPEG、PNG 或 WebP 图片。".into(),
        Msg::FormExpired => "表单已过期。请从视频上重新打开。".into(),
        Msg::MenuNeedsVideo { remix: true } => "重绘只能用于我生成的视频：请在我的视频上使用。".into(),
        Msg::MenuNeedsVideo { remix: false } => "请在带视频的消息上使用：我的视频，或别人发的视频。".into(),
        Msg::InputGone { days } => format!("该任务的图片已不再保留（图片保留 {days} 天）。请附上图片重新发送命令。"),
        Msg::ImageTooLarge { max_mb } => format!("图片太大，请发送小于 {max_mb} MB 的图片。"),
        Msg::ImageUnreadable => "无法读取这张图片：文件已损坏或并不是真正的图片。请附上 JPEG、PNG 或 WebP 图片。".into(),
        Msg::ImageDimensions { width, height, max_side } => format!("这张图片为 {width}×{height} 像素。请发送边长在 1 到 {max_side} 像素之间的图片。"),
        Msg::NoCharacter(name) => format!("你没有名为 @{name} 的角色。/character list 查看你的角色；/character add 名字 可保存角色。"),
        Msg::CharacterExists(name) => format!("你已有名为 @{name} 的角色。请换个名字，或先 /character remove {name}。"),
        Msg::CharacterCreating(name) => format!("正在保存角色 @{name}…"),
        Msg::CharacterReady(name) => format!("✅ 角色 @{name} 已就绪。在 /video 提示词中使用 @{name}。"),
        Msg::CharacterFailed(name) => format!("角色 @{name} 保存失败。"),
        Msg::CharacterRemoved(name) => format!("已删除角色 @{name}。"),
        Msg::Characters(list) => format!("你的角色：\n{}", list.join("\n")),
        Msg::NoCharacters => "你还没有角色。回复一个视频并发送 /character add 名字 --at 0,3".into(),
        Msg::Cancelled(id) => format!("任务 {id} 已取消，不计入额度。"),
        Msg::AlreadyFinished(id) => format!("任务 {id} 已经结束。"),
        Msg::Quota { used, limit, resets_in } => format!(
            "今天已用 {used}/{limit} 次，剩余 {} 次，{}后重置。",
            limit.saturating_sub(*used),
            about(Lang::Zh, *resets_in)
        ),
        Msg::QuotaUnlimited { used } => format!("你没有每日限额。今天的任务数：{used}。"),
        Msg::Settings(s) => format!("你的默认设置：{s}\n修改：/settings --ar 9:16 --dur 15 --model sora-2-pro --hd --lang en，或 /settings --reset"),
        Msg::SettingsSaved(s) => format!("已保存。你的默认设置：{s}"),
        Msg::NoTasks => "你还没有任务。试试 /video 一只弹钢琴的猫".into(),
        Msg::AskRemix(id) => format!("{id} 要改成什么样？请回复这条消息写下提示词。"),
        Msg::AskCharacterName(id) => format!("给 {id} 中的角色起个名字：请回复这条消息（如不是 0,3 秒，可加 --at 开始,结束）。"),
        Msg::TooLargeLink { url, mb, limit_mb } => format!(
            "视频大小 {mb:.1} MB，超过本聊天 {limit_mb:.0} MB 的上传上限。请在此下载：{url}"
        ),
        Msg::TooLargeNoLink { mb, limit_mb } => format!(
            "视频大小 {mb:.1} MB，超过本聊天 {limit_mb:.0} MB 的上传上限，且服务没有提供公开链接。请管理员设置 PUBLIC_BASE_URL。"
        ),
        Msg::Internal(reference) => format!("我这边出了点问题（编号：{reference}）。未扣除额度，请重试。"),
        Msg::Failed(f) => failure_zh(f),
        Msg::DoneIn { secs } => format!("✅ 完成，用时 {}:{:02}", secs / 60, secs % 60),
        Msg::ServiceDefaults => "服务默认值".into(),
        Msg::CharacterSaving => "（保存中…）".into(),
        Msg::CharacterBroken => "（失败）".into(),
        Msg::NotText => "这一行不是文本（不是有效的 UTF-8），已忽略。发送 /help 查看命令。".into(),
        Msg::LineTooLong { max_kb } => format!("这一行超过 {max_kb} KB，已忽略。"),
        Msg::StoreDamaged(d) => store_damaged_zh(d),
        Msg::NothingRunning => "你在这里没有进行中的任务。/tasks 可查看你的任务；/cancel 任务ID 可取消。".into(),
    }
}

fn store_damaged_zh(d: &Damage) -> String {
    let then = match d.last_flushed {
        Some(t) => format!(
            "上次保存时有 {} 个未完成任务、{} 次额度扣除；现在是 {} 和 {}：丢失 {} 个任务、{} 次扣除。",
            t.unfinished_jobs, t.charges, d.found.unfinished_jobs, d.found.charges, d.lost_jobs(), d.lost_charges()
        ),
        None => "之前保存的内容未知（没有上次保存的标记）。".to_owned(),
    };
    let what = match &d.kind {
        DamageKind::RolledBack => "⚠ sorabot 的数据库比上次保存时旧（从旧副本恢复、被删除，或恢复时被截断）。机器人将用现有数据继续运行。".to_owned(),
        DamageKind::Unreadable { moved_to, .. } => format!(
            "⚠ sorabot 的数据库无法读取。已保留在 {}，机器人已用一个空数据库启动。",
            moved_to.display()
        ),
    };
    format!("{what}\n{then}\n丢失任务的用户未收到通知。请参阅 README 中的 \"When the store is damaged\"。")
}

fn unsupported_en(u: &Unsupported) -> String {
    match u {
        Unsupported::Feature(f) => format!("this Sora service does not offer {f}"),
        other => other.to_string(),
    }
}

fn feature_zh(f: &Feature) -> &'static str {
    match f {
        Feature::Characters => "角色",
        Feature::Remix => "重绘",
        Feature::ImageToVideo => "图生视频",
        Feature::Images => "图片生成",
        Feature::ImageEdits => "图片编辑",
        Feature::Hd => "高清",
        Feature::Pro => "pro 模型",
        Feature::AspectRatio => "选择画面比例",
        Feature::Duration => "选择时长",
        Feature::Watermark => "水印设置",
        Feature::RemixOptions => "在重绘中修改比例、时长或画质",
    }
}

fn unsupported_zh(u: &Unsupported) -> String {
    match u {
        Unsupported::Feature(f) => format!("当前 Sora 服务不支持{}", feature_zh(f)),
        Unsupported::Duration { requested, allowed } => format!(
            "不支持 {requested} 秒的视频（可选：{}）",
            allowed
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join("、")
        ),
        Unsupported::EmptyPrompt => "提示词为空".into(),
        Unsupported::PromptTooLong { len, max } => format!("提示词有 {len} 个字符，超过上限 {max}"),
        Unsupported::TooManyImages { given, max } => format!("给了 {given} 张图片，最多 {max} 张"),
        Unsupported::ImageCount { requested, max } => {
            format!("请求 {requested} 张图片，只能 1 到 {max} 张")
        }
        Unsupported::ImageSize => "图片尺寸每边须在 64 到 4096 像素之间".into(),
        Unsupported::Timestamps => {
            "角色时间范围须为 开始,结束，且 0 ≤ 开始 < 结束，最长 3 秒".into()
        }
    }
}

fn parse_error_zh(e: &ParseError) -> String {
    match e {
        ParseError::UnknownCommand { name } => format!("没有 /{name} 这个命令"),
        ParseError::MissingPrompt { command } => format!("/{command} 需要提示词"),
        ParseError::UnknownFlag { command, flag } => format!("/{command} 没有 --{flag} 选项"),
        ParseError::BadFlagValue {
            flag,
            value,
            expected,
            ..
        } => {
            format!("--{flag} {value}：应为 {expected}")
        }
        ParseError::MissingFlagValue { flag, .. } => format!("--{flag} 需要一个值"),
        ParseError::MissingTarget { command } => {
            format!("/{command} 需要指定任务：回复该任务的消息，或写上任务编号")
        }
        ParseError::BadCharacterName { name } => {
            format!("“{name}”不能作为角色名：请用 1 到 32 个字母、数字或 _")
        }
        ParseError::BadTimestamps { value } => {
            format!("--at {value}：应为 开始,结束（秒），按顺序，最长 3 秒")
        }
        ParseError::MissingSubcommand { command } => {
            format!("/{command} 需要子命令：add、list 或 remove")
        }
    }
}

fn failure_en(f: &Failure) -> String {
    let reason = match f {
        Failure::ContentPolicy { message } => {
            format!("the service's content policy refused it ({message}). Try rewording the prompt")
        }
        Failure::Rejected { message } => format!("the service refused the request: {message}"),
        Failure::Unsupported(u) => unsupported_en(u),
        Failure::Generation { message } => {
            format!("the generation failed on the service: {message}. Retry may work")
        }
        Failure::Timeout { minutes } => {
            format!("the service did not finish within {minutes} minutes")
        }
        Failure::Unauthorized => {
            "the bot's key for the Sora service was refused; the operator has to fix it".into()
        }
        Failure::ServiceBalance => {
            "the service's balance is used up; the operator has to top it up".into()
        }
        Failure::TooLarge { bytes } => {
            format!("the result is too large ({} MB)", bytes / (1024 * 1024))
        }
        Failure::Delivery => "the result could not be posted in this chat".into(),
        Failure::Lost => "the service's answer broke off, or it lost track of the job".into(),
        Failure::InDoubt => "I was interrupted while asking the service to start it, so it may or may not have started; I will not send it twice on my own. Press Retry to ask again".into(),
        Failure::Download { reason } => format!("the result could not be downloaded from the service ({reason})"),
        Failure::Disk => "the bot's disk is full or not writable; the operator has been told".into(),
        Failure::GaveUp { message } => format!("the service kept failing: {message}"),
        Failure::NotMedia { .. } => {
            "the service sent something that is not the video or picture asked for (an error page?)"
                .into()
        }
        Failure::RefusedLink { .. } => {
            "the service's result link points somewhere the bot does not fetch from; the operator has to check the service"
                .into()
        }
        Failure::Internal => "something went wrong on my side".into(),
    };
    format!("❌ Failed: {reason}. Your quota was not used.")
}

fn failure_zh(f: &Failure) -> String {
    let reason = match f {
        Failure::ContentPolicy { message } => {
            format!("内容未通过服务的审核（{message}），请修改提示词")
        }
        Failure::Rejected { message } => format!("服务拒绝了请求：{message}"),
        Failure::Unsupported(u) => unsupported_zh(u),
        Failure::Generation { message } => format!("服务端生成失败：{message}，可以重试"),
        Failure::Timeout { minutes } => format!("服务在 {minutes} 分钟内没有完成"),
        Failure::Unauthorized => "机器人的 Sora 密钥被拒绝，需要管理员处理".into(),
        Failure::ServiceBalance => "服务的余额已用完，需要管理员充值".into(),
        Failure::TooLarge { bytes } => format!("结果文件太大（{} MB）", bytes / (1024 * 1024)),
        Failure::Delivery => "结果无法发送到此聊天".into(),
        Failure::Lost => "服务的回答中断了，或服务丢失了该任务".into(),
        Failure::InDoubt => "向服务提交时被中断，无法确定任务是否已开始；为避免重复扣费不会自动重发。如需再试请点“重试”".into(),
        Failure::Download { reason } => format!("无法从服务下载结果（{reason}）"),
        Failure::Disk => "机器人的磁盘已满或无法写入，已通知管理员".into(),
        Failure::GaveUp { message } => format!("服务持续失败：{message}"),
        Failure::NotMedia { .. } => "服务返回的内容不是所要的视频或图片（可能是错误页面）".into(),
        Failure::RefusedLink { .. } => {
            "服务给出的结果链接指向机器人不会访问的地址，需要管理员检查服务".into()
        }
        Failure::Internal => "我这边出了点问题".into(),
    };
    format!("❌ 失败：{reason}。未扣除额度。")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_reads_in_both_languages() {
        let e = ParseError::MissingPrompt {
            command: CommandName::Video,
        };
        let u = Unsupported::EmptyPrompt;
        let f = Failure::Timeout { minutes: 30 };
        let balance = Failure::ServiceBalance;
        let names = vec!["@a".to_owned()];
        let damage = Damage {
            kind: DamageKind::RolledBack,
            last_flushed: Some(sorabot_storage::Tally {
                generation: 9,
                unfinished_jobs: 3,
                charges: 5,
            }),
            found: sorabot_storage::Tally::default(),
            marker: "data/db.marker".into(),
        };
        let unreadable = Damage {
            kind: DamageKind::Unreadable {
                moved_to: "data/db.unreadable-1".into(),
                error: "corrupt".into(),
            },
            last_flushed: None,
            ..damage.clone()
        };
        let msgs = [
            Msg::Welcome,
            Msg::Help,
            Msg::Invalid(&e),
            Msg::Unsupported(&u),
            Msg::Failed(&f),
            Msg::Failed(&balance),
            Msg::Characters(&names),
            Msg::QuotaExhausted {
                limit: 20,
                resets_in: Duration::from_secs(7200),
            },
            Msg::InputGone { days: 7 },
            Msg::FormExpired,
            Msg::MenuNeedsVideo { remix: true },
            Msg::MenuNeedsVideo { remix: false },
            Msg::NotText,
            Msg::OperatorAlert {
                balance: true,
                message: Some("quota exhausted"),
            },
            Msg::OperatorAlert {
                balance: false,
                message: None,
            },
            Msg::LineTooLong { max_kb: 64 },
            Msg::StoreDamaged(&damage),
            Msg::StoreDamaged(&unreadable),
            Msg::ImageUnreadable,
            Msg::ImageDimensions {
                width: 9000,
                height: 10,
                max_side: 8192,
            },
            Msg::Failed(&Failure::NotMedia {
                found: "text/html".into(),
            }),
            Msg::Failed(&Failure::RefusedLink {
                reason: "loopback".into(),
            }),
        ];
        for msg in &msgs {
            let en = say(Lang::En, msg);
            let zh = say(Lang::Zh, msg);
            assert!(!en.is_empty() && !zh.is_empty());
            assert_ne!(en, zh, "{msg:?}");
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{zh}"
            );
        }
    }

    #[test]
    fn a_parse_error_shows_the_right_form() {
        let e = ParseError::MissingPrompt {
            command: CommandName::Video,
        };
        let text = say(Lang::En, &Msg::Invalid(&e));
        assert!(
            text.contains("needs a prompt") && text.contains("/video PROMPT"),
            "{text}"
        );
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(about(Lang::En, Duration::from_secs(30)), "under a minute");
        assert_eq!(about(Lang::En, Duration::from_secs(150)), "about 3 min");
        assert_eq!(about(Lang::Zh, Duration::from_secs(7200)), "约 2 小时");
    }
}
