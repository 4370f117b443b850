//! The chat command grammar both adapters share: a message's text plus a
//! little context becomes a typed [`Command`], an [`Invalid`](Parsed::Invalid)
//! input that says what was wrong and the right form, or nothing for us. No I/O.

mod flags;
mod lang;
mod lexer;
mod names;
mod prompt;
mod usage;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::backend::{AspectRatio, ModelTier, Timestamps, VideoOptions};
use crate::ids::JobId;

pub use flags::parse_timestamps;
pub use flags::Expected;
use flags::{Args, Flag};
pub use lang::Lang;
pub use names::{character_mentions, is_character_name, parse_character_name, MAX_CHARACTER_NAME};
pub use prompt::{
    clean_prompt, is_invisible, is_stripped_control, strip_controls, with_clean_prompt,
};
pub use usage::CommandName;

/// What the adapter knows about a message besides its text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context<'a> {
    /// The bot's username, without `@`: `/video@THIS` is ours, `/video@other`
    /// is not. `None` where the platform has no such names (any `@` suffix
    /// is then taken as ours).
    pub bot_username: Option<&'a str>,
    /// In a private chat, plain text (no command) is a video prompt.
    pub is_private: bool,
    /// The message replies to another message: the job a command is about.
    pub is_reply: bool,
    /// Image attachments came with the message (image to video needs no text).
    pub has_images: bool,
    /// The sender is one of the bot's operators. In a group, an operator
    /// command (`/ban`) not addressed to us is read only from an operator:
    /// from anyone else it is taken as another bot's.
    pub from_operator: bool,
}

/// What a message means to the bot.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Not addressed to us: group chatter, `/cmd@otherbot`, empty text.
    Ignored,
    Command(Command),
    /// Addressed to us but wrong; answer with what was wrong and the usage.
    Invalid(ParseError),
}

/// A command, ready to run. Each variant's doc is its help text.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Say hello and show what the bot can do.
    Start,
    /// List the commands, or explain one.
    Help { topic: Option<CommandName> },
    /// Make a video from a prompt, and from the images sent with it.
    Video { prompt: String, flags: VideoFlags },
    /// Make images from a prompt, or edit the images sent with it.
    Image {
        prompt: String,
        /// How many variants, 1 to 4.
        n: Option<u8>,
        /// `(width, height)`, 64 to 4096 each.
        size: Option<(u32, u32)>,
    },
    /// Make a new video from one already made: reply to it or give its job id.
    Remix {
        target: Target,
        prompt: String,
        flags: VideoFlags,
    },
    /// Make a finished video longer: reply to it or give its job id; the
    /// added seconds (4, 8 or 12) may come before the prompt.
    Extend {
        target: Target,
        seconds: Option<u32>,
        prompt: String,
    },
    /// Save a character from a video: reply to it or give its job id, and
    /// say when it appears with `--at START,END`.
    CharacterAdd {
        name: String,
        at: Option<Timestamps>,
        target: Target,
    },
    /// List your saved characters.
    CharacterList,
    /// Remove a saved character.
    CharacterRemove { name: String },
    /// List your recent jobs.
    Tasks,
    /// Show how a job is going.
    Status { target: Target },
    /// Stop a job that has not finished.
    Cancel { target: Target },
    /// Run a failed job again.
    Retry { target: Target },
    /// Show or change your default video options and language.
    Settings {
        flags: VideoFlags,
        lang: Option<Lang>,
        /// Back to the defaults (before `flags` and `lang` apply).
        reset: bool,
    },
    /// Show how many credits you have left today, and what a video costs.
    Quota,
    /// Operators: jobs by state, failures by kind, credits spent, the
    /// busiest users and chats, and the service's health.
    Stats { window: StatsWindow },
    /// Operators: refuse a user's commands from now on.
    Ban { user: UserTarget },
    /// Operators: let a banned user in again.
    Unban { user: UserTarget },
    /// Operators: give a user more credits for today.
    Grant { user: UserTarget, credits: u32 },
}

/// The time `/stats` covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatsWindow {
    /// Since midnight UTC.
    #[default]
    Today,
    /// The last seven days.
    Week,
}

impl StatsWindow {
    /// Reads `today`, `7d` (or `week`, `今天`, `7天`); empty is today.
    pub fn parse(text: &str) -> Option<StatsWindow> {
        match text.trim().to_lowercase().as_str() {
            "" | "today" | "day" | "1d" | "今天" | "今日" => Some(StatsWindow::Today),
            "7d" | "week" | "7days" | "7天" | "一周" => Some(StatsWindow::Week),
            _ => None,
        }
    }
}

/// The most credits one `/grant` gives.
pub const MAX_GRANT: u32 = 100_000;

/// Whom an operator command is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserTarget {
    /// Written as in `ALLOWED_USERS`: `telegram:77`, `discord:6789`.
    Named { platform: String, id: String },
    /// The author of the replied-to message.
    Reply,
}

impl UserTarget {
    /// Reads `platform:id`: a platform of lowercase letters, an id with no spaces.
    pub fn parse(text: &str) -> Option<UserTarget> {
        let (platform, id) = text.trim().split_once(':')?;
        let platform_ok = !platform.is_empty() && platform.chars().all(|c| c.is_ascii_lowercase());
        let id_ok = !id.is_empty() && !id.contains(char::is_whitespace);
        (platform_ok && id_ok).then(|| UserTarget::Named {
            platform: platform.to_owned(),
            id: id.to_owned(),
        })
    }
}

impl Command {
    /// The name `/help` lists this command under.
    pub fn name(&self) -> CommandName {
        match self {
            Command::Start => CommandName::Start,
            Command::Help { .. } => CommandName::Help,
            Command::Video { .. } => CommandName::Video,
            Command::Image { .. } => CommandName::Image,
            Command::Remix { .. } => CommandName::Remix,
            Command::Extend { .. } => CommandName::Extend,
            Command::CharacterAdd { .. }
            | Command::CharacterList
            | Command::CharacterRemove { .. } => CommandName::Character,
            Command::Tasks => CommandName::Tasks,
            Command::Status { .. } => CommandName::Status,
            Command::Cancel { .. } => CommandName::Cancel,
            Command::Retry { .. } => CommandName::Retry,
            Command::Settings { .. } => CommandName::Settings,
            Command::Quota => CommandName::Quota,
            Command::Stats { .. } => CommandName::Stats,
            Command::Ban { .. } => CommandName::Ban,
            Command::Unban { .. } => CommandName::Unban,
            Command::Grant { .. } => CommandName::Grant,
        }
    }
}

/// Which job a command is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The job of the message this one replies to.
    Reply,
    Job(JobId),
    /// None named and no reply: the user's latest fitting job in this chat.
    Latest,
}

/// Video options given with a command; `None`/`false`: not given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VideoFlags {
    pub aspect: Option<AspectRatio>,
    pub seconds: Option<u32>,
    pub tier: Option<ModelTier>,
    pub hd: bool,
}

impl VideoFlags {
    /// Whether no option was given.
    pub fn is_empty(&self) -> bool {
        *self == VideoFlags::default()
    }

    /// These flags, with `defaults` (a user's settings) where one is not given.
    pub fn or(self, defaults: VideoFlags) -> VideoFlags {
        VideoFlags {
            aspect: self.aspect.or(defaults.aspect),
            seconds: self.seconds.or(defaults.seconds),
            tier: self.tier.or(defaults.tier),
            hd: self.hd || defaults.hd,
        }
    }

    /// As the service's options; what is not given is the service's default.
    pub fn to_options(self) -> VideoOptions {
        VideoOptions {
            aspect: self.aspect,
            seconds: self.seconds,
            tier: self.tier.unwrap_or_default(),
            hd: self.hd,
            watermark: None,
        }
    }
}

/// What was wrong with a command; each names the command whose usage to
/// show. Its words are in the catalogue ([`crate::i18n::parse_error`]);
/// `Display` gives the English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    UnknownCommand {
        name: String,
    },
    MissingPrompt {
        command: CommandName,
    },
    UnknownFlag {
        command: CommandName,
        flag: String,
    },
    BadFlagValue {
        command: CommandName,
        flag: String,
        value: String,
        expected: Expected,
    },
    MissingFlagValue {
        command: CommandName,
        flag: String,
    },
    MissingTarget {
        command: CommandName,
    },
    BadCharacterName {
        name: String,
    },
    BadTimestamps {
        value: String,
    },
    MissingSubcommand {
        command: CommandName,
    },
    /// An operator command with no `platform:id` and no reply.
    MissingUser {
        command: CommandName,
    },
    /// `/grant` without a whole number of credits from 1 to [`MAX_GRANT`].
    BadCredits {
        value: String,
    },
    /// `/stats` over a window other than `today` or `7d`.
    BadWindow {
        value: String,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::i18n::parse_error(Lang::En, self))
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// The command whose usage answers this error (none for an unknown one:
    /// answer with the list of commands).
    pub fn command(&self) -> Option<CommandName> {
        match self {
            ParseError::UnknownCommand { .. } => None,
            ParseError::MissingPrompt { command }
            | ParseError::UnknownFlag { command, .. }
            | ParseError::BadFlagValue { command, .. }
            | ParseError::MissingFlagValue { command, .. }
            | ParseError::MissingTarget { command }
            | ParseError::MissingSubcommand { command }
            | ParseError::MissingUser { command } => Some(*command),
            ParseError::BadCredits { .. } => Some(CommandName::Grant),
            ParseError::BadWindow { .. } => Some(CommandName::Stats),
            ParseError::BadCharacterName { .. } | ParseError::BadTimestamps { .. } => {
                Some(CommandName::Character)
            }
        }
    }

    /// The right form in English, to show under the error.
    pub fn usage(&self) -> Option<String> {
        self.command().map(CommandName::usage)
    }
}

/// Reads one message.
pub fn parse(text: &str, ctx: &Context) -> Parsed {
    let text = strip_controls(text);
    let text = text.trim();
    if text.is_empty() {
        return Parsed::Ignored;
    }
    let (mentioned, text) = match lexer::strip_bot_mention(text, ctx.bot_username) {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    match lexer::command_head(text) {
        Some(head) => parse_command(head, mentioned, ctx),
        None if mentioned || ctx.is_private => finish(video(text, ctx)),
        None => Parsed::Ignored,
    }
}

fn parse_command(head: lexer::Head, mentioned: bool, ctx: &Context) -> Parsed {
    let named_us = match (head.bot, ctx.bot_username) {
        (None, _) => false,
        (Some(bot), Some(ours)) => {
            if !lexer::same_name(bot, ours.trim_start_matches('@')) {
                return Parsed::Ignored;
            }
            true
        }
        (Some(_), None) => true,
    };
    match CommandName::from_name(head.name) {
        Some(name)
            if name.is_operator()
                && !(mentioned || named_us || ctx.is_private || ctx.from_operator) =>
        {
            Parsed::Ignored
        }
        Some(name) => finish(command(name, head.name, head.args, ctx)),
        // In a group, an unknown `/foo` may be another bot's.
        None if mentioned || named_us || ctx.is_private => {
            Parsed::Invalid(ParseError::UnknownCommand {
                name: head.name.to_owned(),
            })
        }
        None => Parsed::Ignored,
    }
}

fn finish(result: Result<Command, ParseError>) -> Parsed {
    match result {
        Ok(command) => Parsed::Command(command),
        Err(error) => Parsed::Invalid(error),
    }
}

/// The command `name` (typed as `typed`) with its arguments.
fn command(
    name: CommandName,
    typed: &str,
    args: &str,
    ctx: &Context,
) -> Result<Command, ParseError> {
    match name {
        // A deep-link payload may follow `/start`; it is the adapter's.
        CommandName::Start => Ok(Command::Start),
        CommandName::Help => help(args),
        CommandName::Video => video(args, ctx),
        CommandName::Image => image(args),
        CommandName::Remix => remix(args, ctx),
        CommandName::Extend => extend(args, ctx),
        CommandName::Character => character(args, ctx, typed.eq_ignore_ascii_case("characters")),
        CommandName::Tasks => no_options(name, args).map(|()| Command::Tasks),
        CommandName::Quota => no_options(name, args).map(|()| Command::Quota),
        CommandName::Status => job(name, args, ctx).map(|target| Command::Status { target }),
        CommandName::Cancel => job(name, args, ctx).map(|target| Command::Cancel { target }),
        CommandName::Retry => job(name, args, ctx).map(|target| Command::Retry { target }),
        CommandName::Settings => settings(args),
        CommandName::Stats => stats(args),
        CommandName::Ban => user_only(name, args, ctx).map(|user| Command::Ban { user }),
        CommandName::Unban => user_only(name, args, ctx).map(|user| Command::Unban { user }),
        CommandName::Grant => grant(args, ctx),
    }
}

/// `/stats [today|7d]`.
fn stats(args: &str) -> Result<Command, ParseError> {
    let words = lexer::words(args);
    let word = words.first().map_or("", |w| w.text);
    match StatsWindow::parse(word) {
        Some(window) if words.len() <= 1 => Ok(Command::Stats { window }),
        _ => Err(ParseError::BadWindow {
            value: args.trim().to_owned(),
        }),
    }
}

/// The user an operator command names, or the replied-to message's author.
fn user_arg(
    command: CommandName,
    word: Option<&str>,
    ctx: &Context,
) -> Result<UserTarget, ParseError> {
    match word {
        Some(word) => UserTarget::parse(word).ok_or(ParseError::MissingUser { command }),
        None if ctx.is_reply => Ok(UserTarget::Reply),
        None => Err(ParseError::MissingUser { command }),
    }
}

/// `/ban USER`, `/unban USER`: one user, nothing else.
fn user_only(command: CommandName, args: &str, ctx: &Context) -> Result<UserTarget, ParseError> {
    let words = lexer::words(args);
    if words.len() > 1 {
        return Err(ParseError::MissingUser { command });
    }
    user_arg(command, words.first().map(|w| w.text), ctx)
}

/// `/grant USER CREDITS`, or `/grant CREDITS` as a reply.
fn grant(args: &str, ctx: &Context) -> Result<Command, ParseError> {
    let command = CommandName::Grant;
    let words: Vec<&str> = lexer::words(args).iter().map(|w| w.text).collect();
    let (user, amount) = match words[..] {
        [user, amount] => (Some(user), amount),
        [amount] => (None, amount),
        _ => return Err(ParseError::MissingUser { command }),
    };
    let user = user_arg(command, user, ctx)?;
    let credits = match amount.parse::<u32>() {
        Ok(n) if (1..=MAX_GRANT).contains(&n) => n,
        _ => {
            return Err(ParseError::BadCredits {
                value: amount.to_owned(),
            })
        }
    };
    Ok(Command::Grant { user, credits })
}

/// `/help [command]`, the command with or without its slash.
fn help(args: &str) -> Result<Command, ParseError> {
    let Some(word) = lexer::words(args).first().map(|word| word.text) else {
        return Ok(Command::Help { topic: None });
    };
    let name = word.trim_start_matches(['/', '／']);
    let name = name.split_once('@').map_or(name, |(name, _)| name);
    match CommandName::from_name(name) {
        Some(topic) => Ok(Command::Help { topic: Some(topic) }),
        None => Err(ParseError::UnknownCommand {
            name: name.to_owned(),
        }),
    }
}

/// `/video PROMPT [flags]`, or plain text where that means a video.
fn video(args: &str, ctx: &Context) -> Result<Command, ParseError> {
    let command = CommandName::Video;
    let mut args = Args::new(args);
    let given = args.take_flags(command, flags::VIDEO_FLAGS)?;
    let flags = flags::video_flags(command, &given)?;
    let prompt = clean_prompt(&args.rest());
    if prompt.is_empty() && !ctx.has_images {
        return Err(ParseError::MissingPrompt { command });
    }
    Ok(Command::Video { prompt, flags })
}

/// `/image PROMPT [--n N] [--size WxH]`; an edit needs a prompt too.
fn image(args: &str) -> Result<Command, ParseError> {
    let command = CommandName::Image;
    let mut args = Args::new(args);
    let given = args.take_flags(command, flags::IMAGE_FLAGS)?;
    let n = flags::image_count(command, &given)?;
    let size = flags::image_size(command, &given)?;
    let prompt = required_prompt(command, &args)?;
    Ok(Command::Image { prompt, n, size })
}

/// `/remix [JOBID] PROMPT [flags]`.
fn remix(args: &str, ctx: &Context) -> Result<Command, ParseError> {
    let command = CommandName::Remix;
    let mut args = Args::new(args);
    let given = args.take_flags(command, flags::VIDEO_FLAGS)?;
    let flags = flags::video_flags(command, &given)?;
    let target = target(&mut args, ctx);
    let prompt = required_prompt(command, &args)?;
    Ok(Command::Remix {
        target,
        prompt,
        flags,
    })
}

/// `/extend [JOBID] [SECONDS] PROMPT`: a number of seconds first is the
/// length to add (the service says which lengths it takes).
fn extend(args: &str, ctx: &Context) -> Result<Command, ParseError> {
    let command = CommandName::Extend;
    let mut args = Args::new(args);
    args.take_flags(command, flags::NO_FLAGS)?;
    let target = target(&mut args, ctx);
    let first = args
        .free_words()
        .next()
        .map(|w| w.trim_end_matches(['s', 'S']));
    let seconds = match first {
        Some(word) if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) => {
            let seconds = word.parse().ok();
            args.take_word();
            seconds
        }
        _ => None,
    };
    let prompt = required_prompt(command, &args)?;
    Ok(Command::Extend {
        target,
        seconds,
        prompt,
    })
}

/// `/character add|list|remove ...`; `/characters` alone lists them.
fn character(args: &str, ctx: &Context, plural: bool) -> Result<Command, ParseError> {
    let command = CommandName::Character;
    let mut args = Args::new(args);
    if plural && !args.has_rest() {
        return Ok(Command::CharacterList);
    }
    match args.take_word().and_then(Subcommand::named) {
        Some(Subcommand::Add) => character_add(&mut args, ctx),
        Some(Subcommand::List) => {
            args.take_flags(command, flags::NO_FLAGS)?;
            Ok(Command::CharacterList)
        }
        Some(Subcommand::Remove) => {
            args.take_flags(command, flags::NO_FLAGS)?;
            let first = args.take_word();
            Ok(Command::CharacterRemove {
                name: character_name(first, &args)?,
            })
        }
        None => Err(ParseError::MissingSubcommand { command }),
    }
}

/// `/character add NAME [JOBID] [--at START,END]` (the job id may come first).
fn character_add(args: &mut Args, ctx: &Context) -> Result<Command, ParseError> {
    let command = CommandName::Character;
    let given = args.take_flags(command, flags::CHARACTER_FLAGS)?;
    let at = flags::timestamps(&given)?;
    let first_two: Vec<&str> = args.free_words().take(2).collect();
    let id_first =
        matches!(first_two[..], [a, b] if JobId::parse(a).is_some() && JobId::parse(b).is_none());
    let job_before = if id_first { args.take_job_id() } else { None };
    let first = args.take_word();
    let job = job_before.or_else(|| args.take_job_id());
    let name = character_name(first, args)?;
    let target = match job {
        Some(id) => Target::Job(id),
        None => target(args, ctx),
    };
    Ok(Command::CharacterAdd { name, at, target })
}

/// What `/character` is asked to do.
enum Subcommand {
    Add,
    List,
    Remove,
}

impl Subcommand {
    fn named(word: &str) -> Option<Subcommand> {
        match word.to_lowercase().as_str() {
            "add" | "new" | "create" | "添加" => Some(Subcommand::Add),
            "list" | "ls" | "列表" => Some(Subcommand::List),
            "remove" | "rm" | "delete" | "del" | "删除" => Some(Subcommand::Remove),
            _ => None,
        }
    }
}

/// A character's name: `first` (an `@` before it is allowed), and nothing
/// else left in `args` (a name is one word).
fn character_name(first: Option<&str>, args: &Args) -> Result<String, ParseError> {
    let first = first.unwrap_or_default();
    if args.has_rest() {
        parse_character_name(&format!("{first} {}", args.rest()))
    } else {
        parse_character_name(first)
    }
}

/// `/status [JOBID]` and the like.
fn job(command: CommandName, args: &str, ctx: &Context) -> Result<Target, ParseError> {
    let mut args = Args::new(args);
    args.take_flags(command, flags::NO_FLAGS)?;
    match target(&mut args, ctx) {
        // Words that name no job are a mistyped id: never "your latest".
        Target::Latest if args.has_rest() => Err(ParseError::MissingTarget { command }),
        target => Ok(target),
    }
}

/// `/settings [video flags] [--lang L] [--reset]`; alone, it shows them.
fn settings(args: &str) -> Result<Command, ParseError> {
    let command = CommandName::Settings;
    let mut args = Args::new(args);
    let given = args.take_flags(command, flags::SETTINGS_FLAGS)?;
    Ok(Command::Settings {
        flags: flags::video_flags(command, &given)?,
        lang: flags::lang(command, &given)?,
        reset: flags::has(&given, Flag::Reset),
    })
}

/// Commands without arguments: words are ignored, options refused.
fn no_options(command: CommandName, args: &str) -> Result<(), ParseError> {
    Args::new(args)
        .take_flags(command, flags::NO_FLAGS)
        .map(drop)
}

/// The job named by the first word left, else the replied-to message, else
/// the user's latest fitting job (the same on every platform).
fn target(args: &mut Args, ctx: &Context) -> Target {
    match args.take_job_id() {
        Some(id) => Target::Job(id),
        None if ctx.is_reply => Target::Reply,
        None => Target::Latest,
    }
}

/// The words left, which must show something.
fn required_prompt(command: CommandName, args: &Args) -> Result<String, ParseError> {
    let prompt = clean_prompt(&args.rest());
    if prompt.is_empty() {
        Err(ParseError::MissingPrompt { command })
    } else {
        Ok(prompt)
    }
}
