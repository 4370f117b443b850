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
use sorabot::backend::{AspectRatio, Capabilities, ModelTier, Timestamps};
use sorabot::command::{
    is_character_name, Command, CommandName, Lang, ParseError, Target, VideoFlags,
};
use sorabot::i18n::catalogue::{self, Arg};
use sorabot::i18n::{say, Msg};
use sorabot::ids::JobId;

use super::rest::Rest;

/// The message context-menu commands, as registered and read back (the
/// base catalogue's `discord-menu-*`).
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
                .add_string_choice("sora-2", "sora-2")
                .add_string_choice("sora-2-pro", "sora-2-pro"),
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
        "character" => !matches!(options.first(), Some(o) if o.name == "add"),
        _ => false,
    }
}

/// Which of the user's jobs a command falls back to without a job given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latest {
    /// The latest delivered video.
    Video,
    /// The latest job not yet finished.
    Unfinished,
    /// The latest job at all.
    Any,
}

/// The job look-ups reading a command needs.
pub trait Jobs {
    /// A job named by its id (`7QK3M2XD`, `#7QK3M2XD`) or by a link to one of the bot's messages.
    fn named(&self, text: &str) -> Option<JobId>;
    /// The user's latest job of a kind.
    fn latest(&self, which: Latest) -> Option<JobId>;
}

/// Reads a slash invocation as the core's command; `Err` is the refusal to show.
pub fn to_command(
    name: &str,
    options: &[CommandDataOption],
    lang: Lang,
    jobs: &dyn Jobs,
) -> Result<Command, String> {
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
            target: Target::Job(job(
                &get,
                "video",
                Latest::Video,
                CommandName::Remix,
                lang,
                jobs,
            )?),
            prompt: get.string("prompt").unwrap_or_default(),
            flags: VideoFlags::default(),
        },
        "character" => character(options, lang, jobs)?,
        "tasks" => Command::Tasks,
        "quota" => Command::Quota,
        "status" => Command::Status {
            target: Target::Job(job(
                &get,
                "job",
                Latest::Any,
                CommandName::Status,
                lang,
                jobs,
            )?),
        },
        "cancel" => Command::Cancel {
            target: Target::Job(job(
                &get,
                "job",
                Latest::Unfinished,
                CommandName::Cancel,
                lang,
                jobs,
            )?),
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

fn character(
    options: &[CommandDataOption],
    lang: Lang,
    jobs: &dyn Jobs,
) -> Result<Command, String> {
    let Some(first) = options.first() else {
        return Ok(Command::CharacterList);
    };
    let CommandDataOptionValue::SubCommand(inner) = &first.value else {
        return Ok(Command::CharacterList);
    };
    let get = Getter(inner);
    match first.name.as_str() {
        "add" => Ok(Command::CharacterAdd {
            name: character_name(&get.string("name").unwrap_or_default(), lang)?,
            at: match get.string("at") {
                Some(text) => Some(timestamps(&text, lang)?),
                None => None,
            },
            target: Target::Job(job(
                &get,
                "video",
                Latest::Video,
                CommandName::Character,
                lang,
                jobs,
            )?),
        }),
        "remove" => Ok(Command::CharacterRemove {
            name: character_name(&get.string("name").unwrap_or_default(), lang)?,
        }),
        _ => Ok(Command::CharacterList),
    }
}

/// A character name as typed (an `@` before it allowed), or the refusal.
pub fn character_name(text: &str, lang: Lang) -> Result<String, String> {
    let name = text.trim();
    let name = name.strip_prefix(['@', '＠']).unwrap_or(name);
    if is_character_name(name) {
        Ok(name.to_owned())
    } else {
        let error = ParseError::BadCharacterName {
            name: name.to_owned(),
        };
        Err(say(lang, &Msg::Invalid(&error)))
    }
}

/// `START,END` in seconds, or the refusal.
pub fn timestamps(text: &str, lang: Lang) -> Result<Timestamps, String> {
    let parsed = text.split_once([',', '，', '-']).and_then(|(a, b)| {
        let start = a.trim().parse::<f32>().ok()?;
        let end = b.trim().parse::<f32>().ok()?;
        Some(Timestamps { start, end })
    });
    match parsed {
        Some(at) if at.is_valid() => Ok(at),
        _ => {
            let error = ParseError::BadTimestamps {
                value: text.to_owned(),
            };
            Err(say(lang, &Msg::Invalid(&error)))
        }
    }
}

/// The job an option names, else the user's latest of a kind, else the refusal.
fn job(
    get: &Getter,
    option: &str,
    latest: Latest,
    command: CommandName,
    lang: Lang,
    jobs: &dyn Jobs,
) -> Result<JobId, String> {
    match get.string(option) {
        Some(text) => jobs
            .named(&text)
            .ok_or_else(|| say(lang, &Msg::NoSuchJob(text.trim()))),
        None => jobs
            .latest(latest)
            .ok_or_else(|| say(lang, &Msg::Invalid(&ParseError::MissingTarget { command }))),
    }
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
            tier: self.string("model").map(|m| {
                if m.ends_with("pro") {
                    ModelTier::Pro
                } else {
                    ModelTier::Standard
                }
            }),
            hd: self.boolean("hd").unwrap_or(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use sorabot::backend::{capabilities, Dialect};

    struct NoJobs;

    impl Jobs for NoJobs {
        fn named(&self, text: &str) -> Option<JobId> {
            JobId::parse(text)
        }
        fn latest(&self, _: Latest) -> Option<JobId> {
            None
        }
    }

    /// An option as the gateway sends it (`type` 3 string, 4 integer).
    fn opt(name: &str, value: serde_json::Value) -> CommandDataOption {
        let kind = if value.is_i64() { 4 } else { 3 };
        serde_json::from_value(serde_json::json!({"name": name, "type": kind, "value": value}))
            .expect("a valid option")
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

    #[test]
    fn video_options_become_typed_flags() {
        let options = [
            opt("prompt", serde_json::json!("a fox in snow")),
            opt("aspect", serde_json::json!("9:16")),
            opt("duration", serde_json::json!(15)),
            opt("model", serde_json::json!("sora-2-pro")),
        ];
        let command = to_command("video", &options, Lang::En, &NoJobs);
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

    #[test]
    fn a_remix_without_a_video_and_no_latest_is_refused() {
        let options = [opt("prompt", serde_json::json!("at night"))];
        let refused = to_command("remix", &options, Lang::En, &NoJobs);
        assert!(
            matches!(refused, Err(ref text) if text.contains("/remix")),
            "{refused:?}"
        );
    }

    #[test]
    fn character_names_and_spans_are_checked() {
        assert_eq!(character_name("@bob", Lang::En), Ok("bob".into()));
        assert!(character_name("bob smith", Lang::En).is_err());
        assert_eq!(
            timestamps("1,3", Lang::En),
            Ok(Timestamps {
                start: 1.0,
                end: 3.0
            })
        );
        assert!(timestamps("0,9", Lang::En).is_err());
    }
}
