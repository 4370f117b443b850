//! The application commands: their definitions in English, simplified
//! (`zh-CN`) and traditional (`zh-TW`) Chinese, registered at start-up in
//! one bulk overwrite (per guild when `DISCORD_GUILD_ID` is set: instant;
//! else global); and a slash invocation's options read back into the
//! core's [`Command`], with no I/O but the job look-ups the caller gives.

use serenity::all::{
    CommandDataOption, CommandDataOptionValue, CommandOptionType, CommandType, CreateCommand,
    CreateCommandOption, GuildId,
};
use serenity::http::{LightMethod, Request, Route};
use sorabot::backend::{AspectRatio, ModelTier};
use sorabot::command::{
    parse_character_name, parse_timestamps, Command, CommandName, Lang, ParseError, Target,
    VideoFlags,
};
use sorabot::i18n::Msg;
use sorabot::ids::JobId;

use super::rest::Rest;

/// The message context-menu commands.
pub const REMIX_MENU: &str = "Remix";
pub const CHARACTER_MENU: &str = "Save as character";

/// The slash commands, in the order Discord lists them.
const SLASH: [CommandName; 10] = [
    CommandName::Video,
    CommandName::Image,
    CommandName::Remix,
    CommandName::Character,
    CommandName::Tasks,
    CommandName::Status,
    CommandName::Cancel,
    CommandName::Settings,
    CommandName::Quota,
    CommandName::Help,
];

/// A word in English, simplified and traditional Chinese.
#[derive(Clone, Copy)]
struct Tr {
    en: &'static str,
    cn: &'static str,
    tw: &'static str,
}

const fn tr(en: &'static str, cn: &'static str, tw: &'static str) -> Tr {
    Tr { en, cn, tw }
}

/// A command's name in Chinese, and its description in traditional Chinese
/// (the core has English and simplified Chinese).
fn command_words(name: CommandName) -> (Tr, &'static str) {
    match name {
        CommandName::Video => (
            tr("video", "视频", "影片"),
            "根據提示詞（和隨附的圖片）生成影片。",
        ),
        CommandName::Image => (
            tr("image", "图片", "圖片"),
            "根據提示詞生成圖片，或編輯隨附的圖片。",
        ),
        CommandName::Remix => (
            tr("remix", "重绘", "重繪"),
            "在已生成的影片上再創作：給出任務 ID 或訊息連結。",
        ),
        CommandName::Character => (
            tr("character", "角色", "角色"),
            "從影片中儲存角色、查看或刪除角色；在提示詞中用 @名字 引用。",
        ),
        CommandName::Tasks => (tr("tasks", "任务", "任務"), "列出你最近的任務。"),
        CommandName::Status => (tr("status", "状态", "狀態"), "查看任務進度。"),
        CommandName::Cancel => (tr("cancel", "取消", "取消"), "取消尚未完成的任務。"),
        CommandName::Settings => (
            tr("settings", "设置", "設定"),
            "查看或修改預設影片選項和語言。",
        ),
        CommandName::Quota => (tr("quota", "额度", "額度"), "查看剩餘額度。"),
        CommandName::Help => (tr("help", "帮助", "幫助"), "列出所有指令，或說明某個指令。"),
        CommandName::Start => (
            tr("start", "开始", "開始"),
            "打個招呼，看看機器人能做什麼。",
        ),
        CommandName::Retry => (tr("retry", "重试", "重試"), "重新執行失敗的任務。"),
    }
}

/// An option: its type, name and description in the three languages.
fn option(kind: CommandOptionType, name: Tr, description: Tr) -> CreateCommandOption {
    CreateCommandOption::new(kind, name.en, description.en)
        .name_localized("zh-CN", name.cn)
        .name_localized("zh-TW", name.tw)
        .description_localized("zh-CN", description.cn)
        .description_localized("zh-TW", description.tw)
}

fn prompt_option(what: Tr) -> CreateCommandOption {
    option(
        CommandOptionType::String,
        tr("prompt", "提示词", "提示詞"),
        what,
    )
    .required(true)
    .max_length(4000)
}

fn image_option(what: Tr) -> CreateCommandOption {
    option(
        CommandOptionType::Attachment,
        tr("image", "图片", "圖片"),
        what,
    )
}

fn video_ref_option() -> CreateCommandOption {
    option(
        CommandOptionType::String,
        tr("video", "视频", "影片"),
        tr(
            "Job id or message link (default: your latest video)",
            "任务 ID 或消息链接（默认：你最新的视频）",
            "任務 ID 或訊息連結（預設：你最新的影片）",
        ),
    )
}

fn job_option(default: Tr) -> CreateCommandOption {
    option(
        CommandOptionType::String,
        tr("job", "任务", "任務"),
        default,
    )
}

/// The video options a user may pick, as choices (never free text).
fn video_flag_options() -> Vec<CreateCommandOption> {
    let aspect = option(
        CommandOptionType::String,
        tr("aspect", "画幅", "畫幅"),
        tr("Framing", "画幅", "畫幅"),
    )
    .add_string_choice_localized(
        "16:9 landscape",
        "16:9",
        [("zh-CN", "16:9 横屏"), ("zh-TW", "16:9 橫屏")],
    )
    .add_string_choice_localized(
        "9:16 portrait",
        "9:16",
        [("zh-CN", "9:16 竖屏"), ("zh-TW", "9:16 直屏")],
    );
    let mut duration = option(
        CommandOptionType::Integer,
        tr("duration", "时长", "時長"),
        tr("Length in seconds", "时长（秒）", "時長（秒）"),
    );
    for seconds in [10, 15, 25] {
        let cn = format!("{seconds} 秒");
        duration = duration.add_int_choice_localized(
            format!("{seconds} s"),
            seconds,
            [("zh-CN", cn.clone()), ("zh-TW", cn)],
        );
    }
    let mut model = option(
        CommandOptionType::String,
        tr("model", "模型", "模型"),
        tr("Model", "模型", "模型"),
    );
    for tier in ModelTier::ALL {
        model = model.add_string_choice(tier.as_str(), tier.as_str());
    }
    let hd = option(
        CommandOptionType::Boolean,
        tr("hd", "高清", "高畫質"),
        tr("High definition", "高清", "高畫質"),
    );
    vec![aspect, duration, model, hd]
}

fn sub(name: Tr, description: Tr, options: Vec<CreateCommandOption>) -> CreateCommandOption {
    option(CommandOptionType::SubCommand, name, description).set_sub_options(options)
}

fn character_name_option() -> CreateCommandOption {
    option(
        CommandOptionType::String,
        tr("name", "名字", "名字"),
        tr(
            "Character name: letters, digits or _",
            "角色名：字母、数字或 _",
            "角色名：字母、數字或 _",
        ),
    )
    .required(true)
    .max_length(32)
}

fn options_of(name: CommandName) -> Vec<CreateCommandOption> {
    match name {
        CommandName::Video => {
            let mut options = vec![
                prompt_option(tr("What the video shows", "视频内容描述", "影片內容描述")),
                image_option(tr(
                    "A picture to animate",
                    "要动起来的图片",
                    "要動起來的圖片",
                )),
            ];
            options.extend(video_flag_options());
            options
        }
        CommandName::Image => vec![
            prompt_option(tr("What the picture shows", "图片内容描述", "圖片內容描述")),
            image_option(tr("A picture to edit", "要编辑的图片", "要編輯的圖片")),
            option(
                CommandOptionType::Integer,
                tr("count", "数量", "數量"),
                tr("How many, 1 to 4", "数量，1 到 4", "數量，1 到 4"),
            )
            .min_int_value(1)
            .max_int_value(4),
        ],
        CommandName::Remix => vec![
            prompt_option(tr("What should change", "要改成什么样", "要改成什麼樣")),
            video_ref_option(),
        ],
        CommandName::Character => vec![
            sub(
                tr("add", "添加", "新增"),
                tr(
                    "Save a character from one of your videos",
                    "从你的视频中保存角色",
                    "從你的影片中儲存角色",
                ),
                vec![
                    character_name_option(),
                    video_ref_option(),
                    option(
                        CommandOptionType::String,
                        tr("at", "时间段", "時間段"),
                        tr(
                            "Seconds START,END, at most 3 apart (default 0,3)",
                            "起止秒数 开始,结束，最多相隔 3 秒（默认 0,3）",
                            "起止秒數 開始,結束，最多相隔 3 秒（預設 0,3）",
                        ),
                    )
                    .max_length(20),
                ],
            ),
            sub(
                tr("list", "列表", "列表"),
                tr("List your characters", "查看你的角色", "查看你的角色"),
                vec![],
            ),
            sub(
                tr("remove", "删除", "刪除"),
                tr(
                    "Remove one of your characters",
                    "删除你的一个角色",
                    "刪除你的一個角色",
                ),
                vec![character_name_option()],
            ),
        ],
        CommandName::Status => vec![job_option(tr(
            "Job id (default: your latest)",
            "任务 ID（默认：最新的）",
            "任務 ID（預設：最新的）",
        ))],
        CommandName::Cancel => vec![job_option(tr(
            "Job id (default: your latest unfinished one)",
            "任务 ID（默认：最新未完成的）",
            "任務 ID（預設：最新未完成的）",
        ))],
        CommandName::Settings => {
            let mut options = video_flag_options();
            options.push(
                option(
                    CommandOptionType::String,
                    tr("language", "语言", "語言"),
                    tr("Reply language", "回复语言", "回覆語言"),
                )
                .add_string_choice("English", "en")
                .add_string_choice("中文", "zh"),
            );
            options.push(option(
                CommandOptionType::Boolean,
                tr("reset", "重置", "重置"),
                tr("Back to the defaults first", "先恢复默认", "先恢復預設"),
            ));
            options
        }
        CommandName::Help => {
            let mut topic = option(
                CommandOptionType::String,
                tr("command", "命令", "指令"),
                tr("A command to explain", "要说明的命令", "要說明的指令"),
            );
            for command in SLASH {
                topic = topic.add_string_choice(command.as_str(), command.as_str());
            }
            vec![topic]
        }
        _ => vec![],
    }
}

/// Every command the bot registers.
pub fn definitions() -> Vec<CreateCommand> {
    let mut all: Vec<CreateCommand> = SLASH
        .into_iter()
        .map(|name| {
            let (words, description_tw) = command_words(name);
            CreateCommand::new(name.as_str())
                .description(name.summary())
                .name_localized("zh-CN", words.cn)
                .name_localized("zh-TW", words.tw)
                .description_localized("zh-CN", name.summary_zh())
                .description_localized("zh-TW", description_tw)
                .set_options(options_of(name))
        })
        .collect();
    for (name, cn, tw) in [
        (REMIX_MENU, "重绘", "重繪"),
        (CHARACTER_MENU, "存为角色", "存為角色"),
    ] {
        all.push(
            CreateCommand::new(name)
                .kind(CommandType::Message)
                .name_localized("zh-CN", cn)
                .name_localized("zh-TW", tw),
        );
    }
    all
}

/// Registers every command (one bulk overwrite); returns how many.
pub async fn register(rest: &Rest, guild: Option<u64>) -> anyhow::Result<usize> {
    let Some(application_id) = rest.application_id() else {
        anyhow::bail!("the application id is unknown");
    };
    let commands = definitions();
    let body = serde_json::to_vec(&commands)?;
    let route = match guild.filter(|g| *g != 0) {
        Some(guild) => Route::GuildCommands {
            application_id,
            guild_id: GuildId::new(guild),
        },
        None => Route::Commands { application_id },
    };
    rest.call(
        "PUT commands",
        Request::new(route, LightMethod::Put).body(Some(body)),
    )
    .await
    .map_err(|e| anyhow::anyhow!("Discord refused the commands: {e}"))?;
    Ok(commands.len())
}

/// Whether a slash command's answer is for the user alone (ephemeral).
pub fn is_personal(name: &str, options: &[CommandDataOption]) -> bool {
    match name {
        "tasks" | "status" | "quota" | "settings" | "help" | "cancel" => true,
        "character" => !matches!(options.first(), Some(o) if o.name == "add"),
        _ => false,
    }
}

/// Why an invocation or a form was not read as a command; the core says
/// it to the user ([`Refusal::msg`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// What the core's grammar finds wrong with it.
    Invalid(ParseError),
    /// The job option names no job of ours (neither an id nor a link to
    /// one of the bot's messages).
    NoSuchJob(String),
    /// The form was about a video the bot no longer holds (a restart).
    FormExpired,
}

impl From<ParseError> for Refusal {
    fn from(error: ParseError) -> Self {
        Refusal::Invalid(error)
    }
}

impl Refusal {
    /// As the core's message.
    pub fn msg(&self) -> Msg<'_> {
        match self {
            Refusal::Invalid(error) => Msg::Invalid(error),
            Refusal::NoSuchJob(text) => Msg::NoSuchJob(text),
            Refusal::FormExpired => Msg::FormExpired,
        }
    }
}

/// The look-up reading a command needs: the job a message of the bot's
/// belongs to, for a job option given as a message link.
pub trait Jobs {
    fn of_message(
        &self,
        channel: &str,
        message: &str,
    ) -> impl std::future::Future<Output = Option<JobId>> + Send;
}

/// Reads a slash invocation as the core's command. A command about a job
/// that names none is about the user's latest fitting one
/// ([`Target::Latest`]), as the core decides on every platform.
pub async fn to_command(
    name: &str,
    options: &[CommandDataOption],
    jobs: &impl Jobs,
) -> Result<Command, Refusal> {
    let get = Getter(options);
    Ok(match name {
        "video" => Command::Video {
            prompt: get.string("prompt").unwrap_or_default(),
            flags: get.flags(),
        },
        "image" => Command::Image {
            prompt: get.string("prompt").unwrap_or_default(),
            n: get.integer("count").map(|n| n.clamp(1, 4) as u8),
            size: None,
        },
        "remix" => Command::Remix {
            target: target(&get, "video", jobs).await?,
            prompt: get.string("prompt").unwrap_or_default(),
            flags: VideoFlags::default(),
        },
        "character" => character(options, jobs).await?,
        "tasks" => Command::Tasks,
        "quota" => Command::Quota,
        "status" => Command::Status {
            target: target(&get, "job", jobs).await?,
        },
        "cancel" => Command::Cancel {
            target: target(&get, "job", jobs).await?,
        },
        "settings" => Command::Settings {
            flags: get.flags(),
            lang: get.string("language").and_then(|l| Lang::parse(&l)),
            reset: get.boolean("reset").unwrap_or(false),
        },
        "help" => Command::Help {
            topic: get
                .string("command")
                .and_then(|c| CommandName::from_name(&c)),
        },
        _ => Command::Help { topic: None },
    })
}

async fn character(options: &[CommandDataOption], jobs: &impl Jobs) -> Result<Command, Refusal> {
    let Some(first) = options.first() else {
        return Ok(Command::CharacterList);
    };
    let CommandDataOptionValue::SubCommand(inner) = &first.value else {
        return Ok(Command::CharacterList);
    };
    let get = Getter(inner);
    match first.name.as_str() {
        "add" => {
            let name = get.string("name").unwrap_or_default();
            let at = get.string("at");
            let target = target(&get, "video", jobs).await?;
            character_add(&name, at.as_deref(), target)
        }
        "remove" => Ok(Command::CharacterRemove {
            name: parse_character_name(&get.string("name").unwrap_or_default())?,
        }),
        _ => Ok(Command::CharacterList),
    }
}

/// A character from a name and span as a user typed them (into an option
/// or a form), read as the core reads `/character add NAME --at START,END`.
pub fn character_add(name: &str, at: Option<&str>, target: Target) -> Result<Command, Refusal> {
    // In the core's order: the span is checked before the name.
    let at = at.map(parse_timestamps).transpose()?;
    Ok(Command::CharacterAdd {
        name: parse_character_name(name)?,
        at,
        target,
    })
}

/// The job an option names (its id, or a link to one of the bot's
/// messages); none named: the user's latest fitting job.
async fn target(get: &Getter<'_>, option: &str, jobs: &impl Jobs) -> Result<Target, Refusal> {
    let Some(text) = get.string(option) else {
        return Ok(Target::Latest);
    };
    if let Some(id) = JobId::parse(&text) {
        return Ok(Target::Job(id));
    }
    let linked = match message_link(&text) {
        Some((channel, message)) => jobs.of_message(&channel, &message).await,
        None => None,
    };
    linked.map(Target::Job).ok_or(Refusal::NoSuchJob(text))
}

/// The channel and message of a Discord message link
/// (`https://discord.com/channels/GUILD/CHANNEL/MESSAGE`).
fn message_link(text: &str) -> Option<(String, String)> {
    let (_, path) = text.trim().split_once("/channels/")?;
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        [_, channel, message] if is_snowflake(channel) && is_snowflake(message) => {
            Some(((*channel).to_owned(), (*message).to_owned()))
        }
        _ => None,
    }
}

fn is_snowflake(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Typed access to a list of options.
struct Getter<'a>(&'a [CommandDataOption]);

impl Getter<'_> {
    fn value(&self, name: &str) -> Option<&CommandDataOptionValue> {
        self.0.iter().find(|o| o.name == name).map(|o| &o.value)
    }

    fn string(&self, name: &str) -> Option<String> {
        match self.value(name)? {
            CommandDataOptionValue::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => None,
        }
    }

    fn integer(&self, name: &str) -> Option<i64> {
        match self.value(name)? {
            CommandDataOptionValue::Integer(n) => Some(*n),
            _ => None,
        }
    }

    fn boolean(&self, name: &str) -> Option<bool> {
        match self.value(name)? {
            CommandDataOptionValue::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    fn flags(&self) -> VideoFlags {
        VideoFlags {
            aspect: self.string("aspect").and_then(|a| AspectRatio::parse(&a)),
            seconds: self.integer("duration").and_then(|s| u32::try_from(s).ok()),
            tier: self.string("model").and_then(|m| ModelTier::parse(&m)),
            hd: self.boolean("hd").unwrap_or(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use sorabot::backend::Timestamps;
    use sorabot::command::{parse, Context, Parsed};

    /// No message of the bot's is known.
    struct NoMessages;

    impl Jobs for NoMessages {
        async fn of_message(&self, _: &str, _: &str) -> Option<JobId> {
            None
        }
    }

    /// An option as the gateway sends it (`type` 3 string, 4 integer).
    fn opt(name: &str, value: serde_json::Value) -> CommandDataOption {
        let kind = if value.is_i64() { 4 } else { 3 };
        serde_json::from_value(serde_json::json!({"name": name, "type": kind, "value": value}))
            .expect("a valid option")
    }

    /// `/character add` with these options, as the gateway sends it.
    fn character_add_options(options: serde_json::Value) -> Vec<CommandDataOption> {
        let add = serde_json::json!({"name": "add", "type": 1, "options": options});
        vec![serde_json::from_value(add).expect("a valid subcommand")]
    }

    #[test]
    fn every_command_has_chinese_names_and_descriptions_within_discords_limits() {
        let all = serde_json::to_value(definitions()).unwrap_or_default();
        let all = all.as_array().cloned().unwrap_or_default();
        assert_eq!(all.len(), 12);
        for command in &all {
            for locale in ["zh-CN", "zh-TW"] {
                let name = command["name_localizations"][locale]
                    .as_str()
                    .unwrap_or_default();
                assert!(!name.is_empty() && name.chars().count() <= 32, "{command}");
            }
            let description = command["description"].as_str().unwrap_or_default();
            assert!(description.chars().count() <= 100, "{description}");
            if command.get("type").and_then(Value::as_u64) != Some(3) {
                for locale in ["zh-CN", "zh-TW"] {
                    let text = command["description_localizations"][locale]
                        .as_str()
                        .unwrap_or_default();
                    assert!(!text.is_empty() && text.chars().count() <= 100, "{command}");
                }
            }
        }
    }

    #[tokio::test]
    async fn video_options_become_typed_flags() {
        let options = [
            opt("prompt", serde_json::json!("a fox in snow")),
            opt("aspect", serde_json::json!("9:16")),
            opt("duration", serde_json::json!(15)),
            opt("model", serde_json::json!("sora-2-pro")),
        ];
        let command = to_command("video", &options, &NoMessages).await;
        assert_eq!(
            command,
            Ok(Command::Video {
                prompt: "a fox in snow".into(),
                flags: VideoFlags {
                    aspect: Some(AspectRatio::Portrait),
                    seconds: Some(15),
                    tier: Some(ModelTier::Pro),
                    hd: false
                }
            })
        );
    }

    #[tokio::test]
    async fn every_model_choice_reads_back_as_its_tier() {
        for tier in ModelTier::ALL {
            let options = [
                opt("prompt", serde_json::json!("a fox")),
                opt("model", serde_json::json!(tier.as_str())),
            ];
            let command = to_command("video", &options, &NoMessages).await;
            assert!(
                matches!(command, Ok(Command::Video { flags, .. }) if flags.tier == Some(tier)),
                "{tier}"
            );
        }
    }

    #[tokio::test]
    async fn a_command_that_names_no_job_is_about_the_latest() {
        let remix = [opt("prompt", serde_json::json!("at night"))];
        assert_eq!(
            to_command("remix", &remix, &NoMessages).await,
            Ok(Command::Remix {
                target: Target::Latest,
                prompt: "at night".into(),
                flags: VideoFlags::default(),
            })
        );
        for name in ["status", "cancel"] {
            let command = to_command(name, &[], &NoMessages).await;
            let target = match command {
                Ok(Command::Status { target } | Command::Cancel { target }) => target,
                other => panic!("{name}: {other:?}"),
            };
            assert_eq!(target, Target::Latest, "{name}");
        }
    }

    #[tokio::test]
    async fn a_job_option_is_an_id_or_a_link_to_a_message_of_the_bots() {
        struct OneMessage(JobId);
        impl Jobs for OneMessage {
            async fn of_message(&self, channel: &str, message: &str) -> Option<JobId> {
                (channel == "22" && message == "333").then(|| self.0.clone())
            }
        }
        let job = JobId::generate();
        let jobs = OneMessage(job.clone());
        for given in [
            format!("#{job}"),
            "https://discord.com/channels/1/22/333".to_owned(),
        ] {
            let options = [opt("job", serde_json::json!(given))];
            assert_eq!(
                to_command("status", &options, &jobs).await,
                Ok(Command::Status {
                    target: Target::Job(job.clone())
                }),
                "{given}"
            );
        }
        for unknown in ["https://discord.com/channels/1/22/444", "my fox video"] {
            let options = [opt("job", serde_json::json!(unknown))];
            assert_eq!(
                to_command("status", &options, &jobs).await,
                Err(Refusal::NoSuchJob(unknown.to_owned()))
            );
        }
    }

    #[test]
    fn message_links_name_their_channel_and_message() {
        assert_eq!(
            message_link("https://discord.com/channels/1/22/333"),
            Some(("22".into(), "333".into()))
        );
        assert_eq!(
            message_link("https://ptb.discord.com/channels/@me/22/333/"),
            Some(("22".into(), "333".into()))
        );
        assert_eq!(message_link("https://example.com/channels/1/x/3"), None);
    }

    /// The span and name options are read as `/character add NAME JOB --at SPAN`:
    /// the same inputs taken, the same refused, with the same error.
    #[tokio::test]
    async fn the_character_options_take_and_refuse_exactly_what_the_command_text_does() {
        let job = JobId::generate();
        let spans = [
            "1,3", "0-3", "1.5，3", "0~2", "2.5,3", "3,1", "0,4", "-1,1", "1", "a,b", "inf,inf",
            "NaN,1", ",", "1e0,2", "+1,2", "0x1,2", "１,３",
        ];
        let names = ["bob", "@bob", "小明", "b.o.b", "@", &"x".repeat(33)];
        let (mut taken, mut refused) = (0, 0);
        for (name, span) in names
            .iter()
            .flat_map(|name| spans.iter().map(move |span| (*name, *span)))
        {
            let text = format!("/character add {name} {job} --at {span}");
            let core = match parse(&text, &Context::default()) {
                Parsed::Command(command) => Ok(command),
                Parsed::Invalid(error) => Err(Refusal::Invalid(error)),
                Parsed::Ignored => panic!("{text} is ignored"),
            };
            let options = character_add_options(serde_json::json!([
                {"name": "name", "type": 3, "value": name},
                {"name": "video", "type": 3, "value": job.to_string()},
                {"name": "at", "type": 3, "value": span},
            ]));
            let discord = to_command("character", &options, &NoMessages).await;
            assert_eq!(discord, core, "{text}");
            match discord {
                Ok(_) => taken += 1,
                Err(_) => refused += 1,
            }
        }
        assert_eq!((taken, refused), (3 * 5, 6 * 17 - 3 * 5));
        let latest = to_command(
            "character",
            &character_add_options(serde_json::json!([
                {"name": "name", "type": 3, "value": "@bob"},
                {"name": "at", "type": 3, "value": "1,3"},
            ])),
            &NoMessages,
        )
        .await;
        assert_eq!(
            latest,
            Ok(Command::CharacterAdd {
                name: "bob".into(),
                at: Some(Timestamps {
                    start: 1.0,
                    end: 3.0
                }),
                target: Target::Latest,
            })
        );
    }
}
