//! The application commands: their definitions, registered at start-up in
//! one bulk overwrite (per guild when `DISCORD_GUILD_ID` is set: instant;
//! else global); and a slash invocation's options read back into the
//! core's [`Command`], with no I/O but the job look-ups the caller gives.
//!
//! Every name, description and choice label comes from the catalogue, in
//! each Discord locale a catalogue file serves (`zh.ftl` → `zh-CN`,
//! `zh-TW.ftl` → `zh-TW`; a new file is a new localization). The options
//! and choices are the ones the configured service can do (its
//! [`Capabilities`]): the durations it takes, framing, HD and the pro model
//! where it has them, as many images as it makes.

use serenity::all::{
    CommandDataOption, CommandDataOptionValue, CommandOptionType, CommandType, CreateCommand,
    CreateCommandOption, GuildId,
};
use serenity::http::{LightMethod, Request, Route};
use sorabot::backend::{AspectRatio, Capabilities, ModelTier, EXTEND_SECONDS};
use sorabot::command::{
    parse_character_name, parse_timestamps, Command, CommandName, Lang, ParseError, StatsWindow,
    Target, UserTarget, VideoFlags,
};
use sorabot::i18n::catalogue::{self, Arg};
use sorabot::i18n::Msg;
use sorabot::ids::JobId;

use super::rest::Rest;

/// The message context-menu commands, as registered and read back (the
/// base catalogue's `discord-menu-*`).
pub const REMIX_MENU: &str = "Remix";
pub const CHARACTER_MENU: &str = "Save as character";

/// The slash commands, in the order Discord lists them; the operators'
/// ones last (the core refuses them to everyone but `ADMINS`).
const SLASH: [CommandName; 15] = [
    CommandName::Video,
    CommandName::Image,
    CommandName::Remix,
    CommandName::Extend,
    CommandName::Character,
    CommandName::Tasks,
    CommandName::Status,
    CommandName::Cancel,
    CommandName::Settings,
    CommandName::Quota,
    CommandName::Help,
    CommandName::Stats,
    CommandName::Ban,
    CommandName::Unban,
    CommandName::Grant,
];

/// Discord's locales (its `Locale` list).
const DISCORD_LOCALES: [&str; 34] = [
    "ar", "bg", "cs", "da", "de", "el", "en-GB", "en-US", "es-419", "es-ES", "fi", "fr", "he",
    "hi", "hr", "hu", "id", "it", "ja", "ko", "lt", "nl", "no", "pl", "pt-BR", "ro", "ru", "sv-SE",
    "th", "tr", "uk", "vi", "zh-CN", "zh-TW",
];

/// Most choices Discord takes on one option.
const MAX_CHOICES: usize = 25;

/// Each Discord locale the catalogue has words for, with the catalogue
/// language serving it: its own file (`zh-TW`), else its language's (`zh`
/// for `zh-CN`). The base language is Discord's default text, no locale.
pub fn locales() -> Vec<(&'static str, &'static str)> {
    DISCORD_LOCALES
        .into_iter()
        .filter_map(|locale| {
            let language = locale.split('-').next().unwrap_or(locale);
            let tag = [locale, language]
                .into_iter()
                .find(|tag| catalogue::has_language(tag))?;
            (tag != catalogue::BASE).then_some((locale, tag))
        })
        .collect()
}

/// A catalogue message in the base language and in each Discord locale.
struct Words {
    base: String,
    localized: Vec<(&'static str, String)>,
}

fn words(id: &str, args: &[(&str, Arg)]) -> Words {
    Words {
        base: catalogue::text(catalogue::BASE, id, args),
        localized: locales()
            .into_iter()
            .map(|(locale, tag)| (locale, catalogue::text(tag, id, args)))
            .collect(),
    }
}

/// The localized names of a command or option: lowercase, as Discord wants
/// them.
fn names(id: &str) -> Vec<(&'static str, String)> {
    words(id, &[])
        .localized
        .into_iter()
        .map(|(locale, name)| (locale, name.to_lowercase()))
        .collect()
}

/// An option named `name` (as the bot reads it back), described by the
/// catalogue's `description`.
fn option(kind: CommandOptionType, name: &str, description: Words) -> CreateCommandOption {
    let mut option = CreateCommandOption::new(kind, name, description.base);
    for (locale, text) in names(&format!("discord-option-{name}")) {
        option = option.name_localized(locale, text);
    }
    for (locale, text) in description.localized {
        option = option.description_localized(locale, text);
    }
    option
}

fn described(kind: CommandOptionType, name: &str, description: &str) -> CreateCommandOption {
    option(
        kind,
        name,
        words(&format!("discord-describe-{description}"), &[]),
    )
}

fn string_choice(option: CreateCommandOption, label: Words, value: &str) -> CreateCommandOption {
    option.add_string_choice_localized(label.base, value, label.localized)
}

fn prompt_option(description: &str) -> CreateCommandOption {
    described(CommandOptionType::String, "prompt", description)
        .required(true)
        .max_length(4000)
}

fn image_option(description: &str) -> CreateCommandOption {
    described(CommandOptionType::Attachment, "image", description)
}

fn video_ref_option() -> CreateCommandOption {
    described(CommandOptionType::String, "video", "video-ref")
}

fn job_option(description: &str) -> CreateCommandOption {
    described(CommandOptionType::String, "job", description)
}

/// The video options a user may pick, as choices (never free text): only
/// what the service can do.
fn video_flag_options(caps: &Capabilities) -> Vec<CreateCommandOption> {
    let mut options = Vec::new();
    if caps.aspect_ratio {
        let aspect = described(CommandOptionType::String, "aspect", "aspect");
        let aspect = string_choice(aspect, words("discord-choice-landscape", &[]), "16:9");
        options.push(string_choice(
            aspect,
            words("discord-choice-portrait", &[]),
            "9:16",
        ));
    }
    if !caps.durations.is_empty() {
        let mut duration = described(CommandOptionType::Integer, "duration", "duration");
        for &seconds in caps.durations.iter().take(MAX_CHOICES) {
            let Ok(value) = i32::try_from(seconds) else {
                continue;
            };
            let label = words("discord-choice-seconds", &[("seconds", seconds.into())]);
            duration = duration.add_int_choice_localized(label.base, value, label.localized);
        }
        options.push(duration);
    }
    // One model is no choice: the option is there when the pro one is.
    if caps.pro {
        options.push(
            described(CommandOptionType::String, "model", "model")
                .add_string_choice(ModelTier::Standard.as_str(), ModelTier::Standard.as_str())
                .add_string_choice(ModelTier::Pro.as_str(), ModelTier::Pro.as_str()),
        );
    }
    if caps.hd {
        options.push(described(CommandOptionType::Boolean, "hd", "hd"));
    }
    options
}

fn sub(name: &str, description: &str, options: Vec<CreateCommandOption>) -> CreateCommandOption {
    described(CommandOptionType::SubCommand, name, description).set_sub_options(options)
}

/// The user an operator command is about, written as in `ALLOWED_USERS`.
fn operator_user_option() -> CreateCommandOption {
    described(CommandOptionType::String, "user", "operator-user")
        .required(true)
        .max_length(100)
}

fn character_name_option() -> CreateCommandOption {
    described(CommandOptionType::String, "name", "character-name")
        .required(true)
        .max_length(32)
}

fn options_of(name: CommandName, caps: &Capabilities) -> Vec<CreateCommandOption> {
    match name {
        CommandName::Video => {
            let mut options = vec![prompt_option("video-prompt")];
            if caps.max_input_images > 0 {
                options.push(image_option("video-image"));
            }
            options.extend(video_flag_options(caps));
            options
        }
        CommandName::Image => {
            let mut options = vec![prompt_option("image-prompt")];
            if caps.image_edits {
                options.push(image_option("image-image"));
            }
            if caps.max_images_out > 1 {
                let max = caps.max_images_out;
                let count = words("discord-describe-count", &[("max", max.into())]);
                options.push(
                    option(CommandOptionType::Integer, "count", count)
                        .min_int_value(1)
                        .max_int_value(u64::from(max)),
                );
            }
            options
        }
        CommandName::Remix => vec![prompt_option("remix-prompt"), video_ref_option()],
        CommandName::Extend => {
            let mut seconds = described(CommandOptionType::Integer, "duration", "extend-seconds");
            for seconds_added in EXTEND_SECONDS {
                let label = words(
                    "discord-choice-seconds",
                    &[("seconds", seconds_added.into())],
                );
                seconds = seconds.add_int_choice_localized(
                    label.base,
                    seconds_added as i32,
                    label.localized,
                );
            }
            vec![prompt_option("extend-prompt"), seconds, video_ref_option()]
        }
        CommandName::Character => vec![
            sub(
                "add",
                "character-add",
                vec![
                    character_name_option(),
                    video_ref_option(),
                    described(CommandOptionType::String, "at", "character-at").max_length(20),
                ],
            ),
            sub("list", "character-list", vec![]),
            sub("remove", "character-remove", vec![character_name_option()]),
        ],
        CommandName::Stats => {
            let window = described(CommandOptionType::String, "window", "stats-window");
            let window = string_choice(window, words("discord-choice-today", &[]), "today");
            vec![string_choice(
                window,
                words("discord-choice-week", &[]),
                "7d",
            )]
        }
        CommandName::Ban | CommandName::Unban => vec![operator_user_option()],
        CommandName::Grant => vec![
            operator_user_option(),
            described(CommandOptionType::Integer, "credits", "grant-credits")
                .required(true)
                .min_int_value(1)
                .max_int_value(u64::from(sorabot::command::MAX_GRANT)),
        ],
        CommandName::Status => vec![job_option("status-job")],
        CommandName::Cancel => vec![job_option("cancel-job")],
        CommandName::Settings => {
            let mut options = video_flag_options(caps);
            let mut language = described(CommandOptionType::String, "language", "language");
            for lang in Lang::ALL {
                language = language.add_string_choice(lang.native_name(), lang.code());
            }
            options.push(language);
            options.push(described(CommandOptionType::Boolean, "reset", "reset"));
            options
        }
        CommandName::Help => {
            let mut topic = described(CommandOptionType::String, "command", "help-command");
            for command in SLASH {
                let name = command.as_str();
                let label = Words {
                    base: name.to_owned(),
                    localized: names(&format!("discord-command-{name}")),
                };
                topic = string_choice(topic, label, name);
            }
            vec![topic]
        }
        _ => vec![],
    }
}

/// Every command the bot registers, with the options `caps` allow.
pub fn definitions(caps: &Capabilities) -> Vec<CreateCommand> {
    let mut all: Vec<CreateCommand> = SLASH
        .into_iter()
        // A service that cannot extend videos gets no /extend to offer.
        .filter(|name| *name != CommandName::Extend || caps.extend)
        .map(|name| {
            let summary = words(&format!("summary-{}", name.as_str()), &[]);
            let mut command = CreateCommand::new(name.as_str()).description(summary.base);
            for (locale, text) in names(&format!("discord-command-{}", name.as_str())) {
                command = command.name_localized(locale, text);
            }
            for (locale, text) in summary.localized {
                command = command.description_localized(locale, text);
            }
            command.set_options(options_of(name, caps))
        })
        .collect();
    for (name, id) in [
        (REMIX_MENU, "discord-menu-remix"),
        (CHARACTER_MENU, "discord-menu-character"),
    ] {
        let mut menu = CreateCommand::new(name).kind(CommandType::Message);
        for (locale, text) in words(id, &[]).localized {
            menu = menu.name_localized(locale, text);
        }
        all.push(menu);
    }
    all
}

/// Registers every command (one bulk overwrite); returns how many.
pub async fn register(
    rest: &Rest,
    guild: Option<u64>,
    caps: &Capabilities,
) -> anyhow::Result<usize> {
    let Some(application_id) = rest.application_id() else {
        anyhow::bail!("the application id is unknown");
    };
    let commands = definitions(caps);
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
        "stats" | "ban" | "unban" | "grant" => true,
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
        "extend" => Command::Extend {
            target: target(&get, "video", jobs).await?,
            seconds: get.integer("duration").and_then(|n| u32::try_from(n).ok()),
            prompt: get.string("prompt").unwrap_or_default(),
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
        "stats" => Command::Stats {
            window: get
                .string("window")
                .and_then(|w| StatsWindow::parse(&w))
                .unwrap_or_default(),
        },
        "ban" => Command::Ban {
            user: operator_user(&get, CommandName::Ban)?,
        },
        "unban" => Command::Unban {
            user: operator_user(&get, CommandName::Unban)?,
        },
        "grant" => Command::Grant {
            user: operator_user(&get, CommandName::Grant)?,
            credits: match get.integer("credits") {
                Some(n) if (1..=i64::from(sorabot::command::MAX_GRANT)).contains(&n) => n as u32,
                other => {
                    return Err(ParseError::BadCredits {
                        value: other.map_or_else(String::new, |n| n.to_string()),
                    }
                    .into())
                }
            },
        },
        "help" => Command::Help {
            topic: get
                .string("command")
                .and_then(|c| CommandName::from_name(&c)),
        },
        _ => Command::Help { topic: None },
    })
}

/// The `user` option of an operator command, as `platform:id`.
fn operator_user(get: &Getter, command: CommandName) -> Result<UserTarget, Refusal> {
    get.string("user")
        .and_then(|text| UserTarget::parse(&text))
        .ok_or_else(|| ParseError::MissingUser { command }.into())
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
    use sorabot::backend::{capabilities, Dialect, Timestamps};
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

    /// The commands as registered with a service of `dialect` and `model`.
    fn registered(dialect: Dialect, model: &str) -> Vec<Value> {
        let caps = capabilities(dialect, model);
        let all = serde_json::to_value(definitions(&caps)).unwrap_or_default();
        all.as_array().cloned().unwrap_or_default()
    }

    /// Every option (and sub-option) of every command, with where it is.
    fn all_options(items: &[Value], path: &str, out: &mut Vec<(String, Value)>) {
        for item in items {
            let here = format!("{path}/{}", item["name"].as_str().unwrap_or_default());
            out.push((here.clone(), item.clone()));
            let inner = item["options"].as_array().cloned().unwrap_or_default();
            all_options(&inner, &here, out);
        }
    }

    fn option_of<'a>(command: &'a Value, name: &str) -> Option<&'a Value> {
        command["options"]
            .as_array()?
            .iter()
            .find(|o| o["name"] == name)
    }

    fn command<'a>(all: &'a [Value], name: &str) -> &'a Value {
        all.iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("/{name}"))
    }

    #[test]
    fn every_command_has_chinese_names_and_descriptions_within_discords_limits() {
        let all = registered(Dialect::Native, "sora-2");
        assert_eq!(all.len(), 16);
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

    #[test]
    fn the_base_catalogues_names_are_the_ones_the_bot_reads_back() {
        let base = |id: &str| catalogue::text(catalogue::BASE, id, &[]);
        for (dialect, model) in [(Dialect::Native, "sora-2"), (Dialect::OpenAi, "sora-2")] {
            let all = registered(dialect, model);
            for command in &all {
                let name = command["name"].as_str().unwrap_or_default();
                match command.get("type").and_then(Value::as_u64) {
                    Some(3) => assert!(
                        [REMIX_MENU, CHARACTER_MENU].contains(&name)
                            && [base("discord-menu-remix"), base("discord-menu-character")]
                                .contains(&name.to_owned()),
                        "{name}"
                    ),
                    _ => assert_eq!(base(&format!("discord-command-{name}")), name),
                }
            }
            let mut options = Vec::new();
            for command in &all {
                let inner = command["options"].as_array().cloned().unwrap_or_default();
                all_options(
                    &inner,
                    command["name"].as_str().unwrap_or_default(),
                    &mut options,
                );
            }
            for (path, option) in options {
                let name = option["name"].as_str().unwrap_or_default();
                assert_eq!(base(&format!("discord-option-{name}")), name, "{path}");
            }
        }
    }

    #[test]
    fn every_localized_name_is_a_lowercase_discord_word_in_a_discord_locale() {
        let all = registered(Dialect::OpenAi, "sora-2");
        let mut items = Vec::new();
        all_options(&all, "", &mut items);
        for (path, item) in items {
            let menu = item.get("type").and_then(Value::as_u64) == Some(3);
            let localized = item["name_localizations"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            for (locale, name) in localized {
                assert!(
                    DISCORD_LOCALES.contains(&locale.as_str()),
                    "{path}: {locale}"
                );
                let name = name.as_str().unwrap_or_default();
                let word = (1..=32).contains(&name.chars().count())
                    && name
                        .chars()
                        .all(|c| c == '-' || c == '_' || c.is_alphanumeric())
                    && name == name.to_lowercase();
                assert!(menu || word, "{path} in {locale}: {name:?}");
            }
        }
    }

    #[test]
    fn every_catalogue_language_is_a_localization_and_the_base_is_none() {
        let served: Vec<&str> = locales().into_iter().map(|(_, tag)| tag).collect();
        for tag in catalogue::tags() {
            assert_eq!(
                served.contains(&tag),
                tag != catalogue::BASE,
                "{tag}.ftl serves {served:?}"
            );
        }
        assert!(locales().contains(&("zh-CN", "zh")));
        assert!(locales().contains(&("zh-TW", "zh-TW")));
    }

    #[test]
    fn the_video_choices_are_the_services() {
        let durations = |all: &[Value], name: &str| -> Vec<i64> {
            option_of(command(all, name), "duration")
                .and_then(|o| o["choices"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c["value"].as_i64())
                .collect()
        };
        let openai = registered(Dialect::OpenAi, "sora-2");
        assert_eq!(durations(&openai, "video"), [4, 8, 12]);
        assert_eq!(durations(&openai, "settings"), [4, 8, 12]);
        let label =
            &option_of(command(&openai, "video"), "duration").expect("duration")["choices"][0];
        assert_eq!(label["name"], "4 s");
        assert_eq!(label["name_localizations"]["zh-CN"], "4 秒");
        let native = registered(Dialect::Native, "sora-2");
        assert_eq!(durations(&native, "video"), [10, 15, 25]);
        assert!(
            option_of(command(&native, "video"), "hd").is_none(),
            "native has no HD"
        );
        assert!(option_of(command(&openai, "video"), "hd").is_some());
        // The chat dialect without options: no choice it would refuse.
        let plain = registered(Dialect::Chat, "sora-2");
        for flag in ["aspect", "duration", "hd"] {
            assert!(
                option_of(command(&plain, "video"), flag).is_none(),
                "{flag}"
            );
        }
        let count = option_of(command(&openai, "image"), "count").expect("count");
        assert_eq!(count["max_value"], 4);
        assert!(
            option_of(command(&plain, "image"), "count").is_none(),
            "one image"
        );
        assert!(
            option_of(command(&native, "image"), "image").is_none(),
            "no edits"
        );
    }

    #[test]
    fn a_service_without_the_pro_model_offers_no_model_choice() {
        let mut caps = capabilities(Dialect::OpenAi, "sora-2");
        caps.pro = false;
        let all = serde_json::to_value(definitions(&caps)).unwrap_or_default();
        let all = all.as_array().cloned().unwrap_or_default();
        assert!(option_of(command(&all, "video"), "model").is_none());
        let pro = registered(Dialect::OpenAi, "sora-2");
        let model = option_of(command(&pro, "video"), "model").expect("model");
        assert_eq!(model["choices"][1]["value"], "sora-2-pro");
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
    async fn operator_commands_read_their_user_credits_and_window() {
        let grant = [
            opt("user", serde_json::json!("telegram:77")),
            opt("credits", serde_json::json!(5)),
        ];
        let stats = [opt("window", serde_json::json!("7d"))];
        let bad = [opt("user", serde_json::json!("77"))];

        assert_eq!(
            to_command("grant", &grant, &NoMessages).await,
            Ok(Command::Grant {
                user: UserTarget::Named {
                    platform: "telegram".into(),
                    id: "77".into()
                },
                credits: 5
            })
        );
        assert_eq!(
            to_command("stats", &stats, &NoMessages).await,
            Ok(Command::Stats {
                window: StatsWindow::Week
            })
        );
        assert_eq!(
            to_command("ban", &bad, &NoMessages).await,
            Err(Refusal::Invalid(ParseError::MissingUser {
                command: CommandName::Ban
            }))
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
