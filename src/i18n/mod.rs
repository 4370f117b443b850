//! Every text the bot shows a user. The engine says what to tell (a typed
//! [`Msg`]); this module finds its words in the message catalogue
//! (`locales/*.ftl`, see [`catalogue`]) in the user's language. Each
//! variant is one message id and its values; a language is added by adding
//! its file.

pub mod catalogue;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::time::Duration;

use crate::backend::{Capabilities, Feature, Unsupported};
use crate::command::{CommandName, Expected, Lang, ParseError};
use crate::job::{Failure, JobState, Trouble};
use catalogue::Arg;
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
    /// The user's credits today do not cover `cost`.
    QuotaExhausted {
        limit: u32,
        used: u32,
        cost: u32,
        resets_in: Duration,
    },
    /// The group's shared budget today does not cover `cost`.
    ChatQuotaExhausted {
        limit: u32,
        used: u32,
        cost: u32,
        resets_in: Duration,
    },
    /// An operator banned this user.
    Banned,
    /// An operator's command from someone who is none.
    OperatorsOnly(CommandName),
    /// An operator command as a reply to a message whose author the bot
    /// does not know.
    UnknownAuthor,
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
    /// Over the upload limit: the bot's own link, working for `hours`.
    OwnLink {
        url: &'a str,
        mb: f64,
        limit_mb: f64,
        hours: u64,
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
    Extend,
    SaveCharacter,
    Retry,
    Cancel,
}

/// A button's label in `lang`.
pub fn label(lang: Lang, label: Label) -> String {
    let id = match label {
        Label::Remix => "label-remix",
        Label::Extend => "label-extend",
        Label::SaveCharacter => "label-save-character",
        Label::Retry => "label-retry",
        Label::Cancel => "label-cancel",
    };
    Words::one(lang, |w| w.get(id, &[]))
}

/// A duration as a person says it: "about 3 min", "约 3 分钟".
pub fn about(lang: Lang, d: Duration) -> String {
    Words::one(lang, |w| w.about(d))
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
    Words::one(lang, |w| w.state_line(state, position, progress, eta))
}

/// Says `msg` in `lang`.
pub fn say(lang: Lang, msg: &Msg) -> String {
    Words::one(lang, |w| w.msg(msg))
}

/// [`say`], with the usage lines showing only the video options the
/// service in `caps` offers (`--dur 4|8|12` for `sora-2` over openai).
pub fn say_for(lang: Lang, caps: &Capabilities, msg: &Msg) -> String {
    let mut words = Words::new(lang);
    words.options = option_syntax(Some(caps));
    let text = words.msg(msg);
    for problem in words.problems.take() {
        tracing::warn!(%problem, "a catalogue message did not render cleanly");
    }
    text
}

/// The video options as usage lines write them: `[--ar 16:9|9:16] [--dur
/// 10|15|25] [--model sora-2|sora-2-pro] [--hd]`; with a service, only
/// those it offers.
fn option_syntax(caps: Option<&Capabilities>) -> String {
    let offers = |yes: fn(&Capabilities) -> bool| caps.is_none_or(yes);
    let mut parts = Vec::new();
    if offers(|c| c.aspect_ratio) {
        parts.push("[--ar 16:9|9:16]".to_owned());
    }
    let durations: Vec<u32> = match caps {
        Some(c) => c.durations.clone(),
        None => vec![10, 15, 25],
    };
    if !durations.is_empty() {
        let list: Vec<String> = durations.iter().map(u32::to_string).collect();
        parts.push(format!("[--dur {}]", list.join("|")));
    }
    let tiers: Vec<&str> = crate::backend::ModelTier::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    if offers(|c| c.pro) {
        parts.push(format!("[--model {}]", tiers.join("|")));
    }
    if offers(|c| c.hd) {
        parts.push("[--hd]".to_owned());
    }
    parts.join(" ")
}

/// The catalogue's message `id` in `lang`, for words that are no [`Msg`]
/// (an adapter's labels): `text(lang, "embed-model", &[])`.
pub fn text(lang: Lang, id: &str, args: &[(&str, Arg)]) -> String {
    catalogue::text(lang.code(), id, args)
}

/// The operators' commands with what each does, for an operator's `/help`.
pub fn operator_help(lang: Lang) -> String {
    Words::one(lang, |w| {
        let commands = w.command_lines(&CommandName::OPERATOR);
        w.get("help-operators", &[("commands", commands.into())])
    })
}

/// What a command does, in one line of `lang` (`/help`, the platforms'
/// command menus).
pub fn summary(lang: Lang, command: CommandName) -> String {
    summary_in(lang.code(), command)
}

/// What a command does, in the catalogue's language `tag` (Discord's
/// regional localizations: `zh-TW`).
pub fn summary_in(tag: &str, command: CommandName) -> String {
    catalogue::text(tag, &format!("summary-{}", command.as_str()), &[])
}

/// A command's one-line syntax in `lang`, as `/help` shows it and errors
/// repeat it.
pub fn usage(lang: Lang, command: CommandName) -> String {
    Words::one(lang, |w| w.usage(command))
}

/// The message of a refused command (no `⚠`, no usage): `/video needs a prompt`.
pub fn parse_error(lang: Lang, error: &ParseError) -> String {
    Words::one(lang, |w| w.parse_error(error))
}

/// Why the service cannot do a request: `this Sora service does not offer HD`.
pub fn unsupported(lang: Lang, why: &Unsupported) -> String {
    Words::one(lang, |w| w.unsupported(why))
}

/// A feature of the service, as a refusal names it: `image generation`.
pub fn feature(lang: Lang, feature: Feature) -> String {
    Words::one(lang, |w| w.feature(feature))
}

/// What a flag's value should have been: `16:9 or 9:16 (or landscape, portrait)`.
pub fn expected(lang: Lang, expected: Expected) -> String {
    Words::one(lang, |w| w.expected(expected))
}

/// Messages of one language, put together from the catalogue; what did not
/// render cleanly is logged (and, in tests, looked at).
struct Words {
    tag: &'static str,
    /// The video options usage lines show: what the service offers, or
    /// (with no service in view) every option there is.
    options: String,
    problems: RefCell<Vec<String>>,
}

impl Words {
    fn new(lang: Lang) -> Words {
        Words {
            tag: lang.code(),
            options: option_syntax(None),
            problems: RefCell::new(Vec::new()),
        }
    }

    /// `render` in `lang`, with its problems logged.
    fn one(lang: Lang, render: impl FnOnce(&Words) -> String) -> String {
        let words = Words::new(lang);
        let text = render(&words);
        for problem in words.problems.take() {
            tracing::warn!(%problem, "a catalogue message did not render cleanly");
        }
        text
    }

    fn get(&self, id: &str, args: &[(&str, Arg)]) -> String {
        catalogue::lookup(self.tag, id, args, &mut self.problems.borrow_mut())
    }

    fn list(&self, items: impl IntoIterator<Item = String>) -> String {
        items
            .into_iter()
            .collect::<Vec<_>>()
            .join(&self.get("list-separator", &[]))
    }

    fn about(&self, d: Duration) -> String {
        let secs = d.as_secs();
        if secs < 60 {
            self.get("about-under-a-minute", &[])
        } else if secs < 3600 {
            self.get("about-minutes", &[("minutes", secs.div_ceil(60).into())])
        } else {
            self.get("about-hours", &[("hours", secs.div_ceil(3600).into())])
        }
    }

    fn state_line(
        &self,
        state: &JobState,
        position: Option<usize>,
        progress: Option<&str>,
        eta: Option<Duration>,
    ) -> String {
        let eta = match eta {
            Some(d) => self.get("state-eta", &[("about", self.about(d).into())]),
            None => String::new(),
        };
        let eta = ("eta", Arg::from(eta));
        match state {
            JobState::Queued => match position {
                Some(p) => self.get("state-queued", &[("position", p.into()), eta]),
                None => self.get("state-starting", &[]),
            },
            JobState::Submitting => self.get("state-submitting", &[]),
            JobState::Submitted => self.get("state-submitted", &[eta]),
            JobState::Running { .. } => self.get(
                "state-running",
                &[("progress", progress.unwrap_or("…").into()), eta],
            ),
            JobState::Delivering => self.get("state-delivering", &[]),
            JobState::Delivered => self.get("state-delivered", &[]),
            JobState::Failed(_) => self.get("state-failed", &[]),
            JobState::Cancelled => self.get("state-cancelled", &[]),
        }
    }

    fn summary(&self, command: CommandName) -> String {
        self.get(&format!("summary-{}", command.as_str()), &[])
    }

    fn usage(&self, command: CommandName) -> String {
        let options = ("options", Arg::from(self.options.clone()));
        let line = self.get(&format!("usage-{}", command.as_str()), &[options]);
        // A service with no options leaves no gap.
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// `/video — Make a video …`, one line a command.
    fn help_list(&self) -> String {
        self.command_lines(&CommandName::ALL)
    }

    /// One `help-line` for each of `commands`.
    fn command_lines(&self, commands: &[CommandName]) -> String {
        commands
            .iter()
            .map(|c| {
                self.get(
                    "help-line",
                    &[
                        ("command", c.as_str().into()),
                        ("summary", self.summary(*c).into()),
                    ],
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn msg(&self, msg: &Msg) -> String {
        match msg {
            Msg::OperatorAlert { balance, message } => {
                let alert = self.get(
                    if *balance {
                        "alert-balance"
                    } else {
                        "alert-key"
                    },
                    &[],
                );
                match message {
                    Some(m) => self.get(
                        "alert-with-message",
                        &[("alert", alert.into()), ("message", (*m).into())],
                    ),
                    None => alert,
                }
            }
            Msg::Retrying {
                trouble,
                text,
                attempt,
                limit,
            } => {
                let text = ("text", Arg::from(*text));
                let trouble = match trouble {
                    Trouble::Service => self.get("trouble-service", &[text]),
                    Trouble::Download => self.get("trouble-download", &[text]),
                    Trouble::Disk => self.get("trouble-disk", &[]),
                    Trouble::Upload => self.get("trouble-upload", &[]),
                };
                self.get(
                    "retrying",
                    &[
                        ("trouble", trouble.into()),
                        ("attempt", (*attempt).into()),
                        ("limit", (*limit).into()),
                    ],
                )
            }
            Msg::Welcome => self.get("welcome", &[("commands", self.help_list().into())]),
            Msg::Help => self.get("help", &[("commands", self.help_list().into())]),
            Msg::HelpFor(c) => self.get(
                "help-for",
                &[
                    ("command", c.as_str().into()),
                    ("summary", self.summary(*c).into()),
                    ("usage", self.usage(*c).into()),
                ],
            ),
            Msg::NotAllowed => self.get("not-allowed", &[]),
            Msg::Invalid(e) => {
                let error = ("error", Arg::from(self.parse_error(e)));
                match e.command() {
                    Some(c) => self.get(
                        "invalid-with-usage",
                        &[error, ("usage", self.usage(c).into())],
                    ),
                    None => self.get("invalid", &[error]),
                }
            }
            Msg::QuotaExhausted {
                limit,
                used,
                cost,
                resets_in,
            } if used < limit => self.get(
                "quota-short",
                &[
                    ("limit", (*limit).into()),
                    ("left", limit.saturating_sub(*used).into()),
                    ("cost", (*cost).into()),
                    ("resets_in", self.about(*resets_in).into()),
                ],
            ),
            Msg::ChatQuotaExhausted {
                limit,
                used,
                cost,
                resets_in,
            } => self.get(
                "chat-quota-exhausted",
                &[
                    ("limit", (*limit).into()),
                    ("left", limit.saturating_sub(*used).into()),
                    ("cost", (*cost).into()),
                    ("resets_in", self.about(*resets_in).into()),
                ],
            ),
            Msg::Banned => self.get("banned", &[]),
            Msg::OperatorsOnly(command) => {
                self.get("operators-only", &[("command", command.as_str().into())])
            }
            Msg::UnknownAuthor => self.get("unknown-author", &[]),
            Msg::QuotaExhausted {
                limit, resets_in, ..
            } => self.get(
                "quota-exhausted",
                &[
                    ("limit", (*limit).into()),
                    ("resets_in", self.about(*resets_in).into()),
                ],
            ),
            Msg::TooManyActive { max } => self.get("too-many-active", &[("max", (*max).into())]),
            Msg::QueueFull => self.get("queue-full", &[]),
            Msg::Unsupported(u) => {
                self.get("unsupported", &[("reason", self.unsupported(u).into())])
            }
            Msg::NoSuchJob(id) => self.get("no-such-job", &[("job", (*id).into())]),
            Msg::NotAVideo(id) => self.get("not-a-video", &[("job", (*id).into())]),
            Msg::NotReady(id) => self.get("not-ready", &[("job", (*id).into())]),
            Msg::NotYours => self.get("not-yours", &[]),
            Msg::NeedVideoReply => self.get("need-video-reply", &[]),
            Msg::NeedShareableVideo => self.get("need-shareable-video", &[]),
            Msg::NotAnImage => self.get("not-an-image", &[]),
            Msg::FormExpired => self.get("form-expired", &[]),
            Msg::MenuNeedsVideo { remix: true } => self.get("menu-needs-video-remix", &[]),
            Msg::MenuNeedsVideo { remix: false } => self.get("menu-needs-video", &[]),
            Msg::InputGone { days } => self.get("input-gone", &[("days", (*days).into())]),
            Msg::ImageTooLarge { max_mb } => {
                self.get("image-too-large", &[("max_mb", (*max_mb).into())])
            }
            Msg::ImageUnreadable => self.get("image-unreadable", &[]),
            Msg::ImageDimensions {
                width,
                height,
                max_side,
            } => self.get(
                "image-dimensions",
                &[
                    ("width", (*width).into()),
                    ("height", (*height).into()),
                    ("max_side", (*max_side).into()),
                ],
            ),
            Msg::NoCharacter(name) => self.get("no-character", &[("name", (*name).into())]),
            Msg::CharacterExists(name) => self.get("character-exists", &[("name", (*name).into())]),
            Msg::CharacterCreating(name) => {
                self.get("character-creating", &[("name", (*name).into())])
            }
            Msg::CharacterReady(name) => self.get("character-ready", &[("name", (*name).into())]),
            Msg::CharacterFailed(name) => self.get("character-failed", &[("name", (*name).into())]),
            Msg::CharacterRemoved(name) => {
                self.get("character-removed", &[("name", (*name).into())])
            }
            Msg::Characters(list) => self.get("characters", &[("list", list.join("\n").into())]),
            Msg::NoCharacters => self.get("no-characters", &[]),
            Msg::Cancelled(id) => self.get("cancelled", &[("job", (*id).into())]),
            Msg::AlreadyFinished(id) => self.get("already-finished", &[("job", (*id).into())]),
            Msg::Quota {
                used,
                limit,
                resets_in,
            } => self.get(
                "quota",
                &[
                    ("used", (*used).into()),
                    ("limit", (*limit).into()),
                    ("left", limit.saturating_sub(*used).into()),
                    ("resets_in", self.about(*resets_in).into()),
                ],
            ),
            Msg::QuotaUnlimited { used } => {
                self.get("quota-unlimited", &[("used", (*used).into())])
            }
            Msg::Settings(s) => self.get("settings", &[("settings", (*s).into())]),
            Msg::SettingsSaved(s) => self.get("settings-saved", &[("settings", (*s).into())]),
            Msg::NoTasks => self.get("no-tasks", &[]),
            Msg::AskRemix(id) => self.get("ask-remix", &[("job", (*id).into())]),
            Msg::AskCharacterName(id) => self.get("ask-character-name", &[("job", (*id).into())]),
            Msg::TooLargeLink { url, mb, limit_mb } => self.get(
                "too-large-link",
                &[
                    ("url", (*url).into()),
                    ("mb", format!("{mb:.1}").into()),
                    ("limit_mb", format!("{limit_mb:.0}").into()),
                ],
            ),
            Msg::OwnLink {
                url,
                mb,
                limit_mb,
                hours,
            } => self.get(
                "too-large-own-link",
                &[
                    ("url", (*url).into()),
                    ("mb", format!("{mb:.1}").into()),
                    ("limit_mb", format!("{limit_mb:.0}").into()),
                    ("hours", (*hours).into()),
                ],
            ),
            Msg::Internal(reference) => self.get("internal", &[("reference", (*reference).into())]),
            Msg::Failed(f) => self.get("failed", &[("reason", self.failure(f).into())]),
            Msg::DoneIn { secs } => self.get(
                "done-in",
                &[("time", format!("{}:{:02}", secs / 60, secs % 60).into())],
            ),
            Msg::ServiceDefaults => self.get("service-defaults", &[]),
            Msg::CharacterSaving => self.get("character-saving", &[]),
            Msg::CharacterBroken => self.get("character-broken", &[]),
            Msg::NotText => self.get("console-not-text", &[]),
            Msg::LineTooLong { max_kb } => {
                self.get("console-line-too-long", &[("max_kb", (*max_kb).into())])
            }
            Msg::StoreDamaged(d) => self.store_damaged(d),
            Msg::NothingRunning => self.get("nothing-running", &[]),
        }
    }

    fn store_damaged(&self, d: &Damage) -> String {
        let then = match d.last_flushed {
            Some(t) => self.get(
                "store-tally",
                &[
                    ("jobs_then", t.unfinished_jobs.into()),
                    ("charges_then", t.charges.into()),
                    ("jobs_now", d.found.unfinished_jobs.into()),
                    ("charges_now", d.found.charges.into()),
                    ("jobs_lost", d.lost_jobs().into()),
                    ("charges_lost", d.lost_charges().into()),
                ],
            ),
            None => self.get("store-tally-unknown", &[]),
        };
        let what = match &d.kind {
            DamageKind::RolledBack => self.get("store-rolled-back", &[]),
            DamageKind::Unreadable { moved_to, .. } => self.get(
                "store-unreadable",
                &[("moved_to", moved_to.display().to_string().into())],
            ),
        };
        self.get(
            "store-damaged",
            &[("what", what.into()), ("then", then.into())],
        )
    }

    fn feature(&self, f: Feature) -> String {
        let id = match f {
            Feature::Characters => "feature-characters",
            Feature::Remix => "feature-remix",
            Feature::ImageToVideo => "feature-image-to-video",
            Feature::Images => "feature-images",
            Feature::ImageEdits => "feature-image-edits",
            Feature::Hd => "feature-hd",
            Feature::Pro => "feature-pro",
            Feature::AspectRatio => "feature-aspect-ratio",
            Feature::Duration => "feature-duration",
            Feature::Watermark => "feature-watermark",
            Feature::RemixOptions => "feature-remix-options",
            Feature::Extend => "feature-extend",
        };
        self.get(id, &[])
    }

    fn unsupported(&self, u: &Unsupported) -> String {
        match u {
            Unsupported::Feature(f) => self.get(
                "unsupported-feature",
                &[("feature", self.feature(*f).into())],
            ),
            Unsupported::Duration { requested, allowed } => self.get(
                "unsupported-duration",
                &[
                    ("requested", (*requested).into()),
                    (
                        "allowed",
                        self.list(allowed.iter().map(u32::to_string)).into(),
                    ),
                ],
            ),
            Unsupported::EmptyPrompt => self.get("unsupported-empty-prompt", &[]),
            Unsupported::PromptTooLong { len, max } => self.get(
                "unsupported-prompt-too-long",
                &[("len", (*len).into()), ("max", (*max).into())],
            ),
            Unsupported::TooManyImages { given, max } => self.get(
                "unsupported-too-many-images",
                &[("given", (*given).into()), ("max", (*max).into())],
            ),
            Unsupported::ImageCount { requested, max } => self.get(
                "unsupported-image-count",
                &[("requested", (*requested).into()), ("max", (*max).into())],
            ),
            Unsupported::ImageSize => self.get("unsupported-image-size", &[]),
            Unsupported::Timestamps => self.get("unsupported-timestamps", &[]),
        }
    }

    fn expected(&self, expected: Expected) -> String {
        let id = match expected {
            Expected::Aspect => "expected-aspect",
            Expected::Seconds => "expected-seconds",
            Expected::Model => "expected-model",
            Expected::Count => "expected-count",
            Expected::Size => "expected-size",
            Expected::Lang => "expected-lang",
            Expected::Switch => "expected-switch",
        };
        self.get(id, &[])
    }

    fn parse_error(&self, e: &ParseError) -> String {
        match e {
            ParseError::UnknownCommand { name } => {
                self.get("parse-unknown-command", &[("name", name.into())])
            }
            ParseError::MissingPrompt { command } => self.get(
                "parse-missing-prompt",
                &[("command", command.as_str().into())],
            ),
            ParseError::UnknownFlag { command, flag } => self.get(
                "parse-unknown-flag",
                &[("command", command.as_str().into()), ("flag", flag.into())],
            ),
            ParseError::BadFlagValue {
                flag,
                value,
                expected,
                ..
            } => self.get(
                "parse-bad-flag-value",
                &[
                    ("flag", flag.into()),
                    ("value", value.into()),
                    ("expected", self.expected(*expected).into()),
                ],
            ),
            ParseError::MissingFlagValue { flag, .. } => {
                self.get("parse-missing-flag-value", &[("flag", flag.into())])
            }
            ParseError::MissingTarget { command } => self.get(
                "parse-missing-target",
                &[("command", command.as_str().into())],
            ),
            ParseError::BadCharacterName { name } => {
                self.get("parse-bad-character-name", &[("name", name.into())])
            }
            ParseError::BadTimestamps { value } => {
                self.get("parse-bad-timestamps", &[("value", value.into())])
            }
            ParseError::MissingSubcommand { command } => self.get(
                "parse-missing-subcommand",
                &[("command", command.as_str().into())],
            ),
            ParseError::MissingUser { command } => self.get(
                "parse-missing-user",
                &[("command", command.as_str().into())],
            ),
            ParseError::BadCredits { value } => {
                self.get("parse-bad-credits", &[("value", value.into())])
            }
            ParseError::BadWindow { value } => {
                self.get("parse-bad-window", &[("value", value.into())])
            }
        }
    }

    fn failure(&self, f: &Failure) -> String {
        match f {
            Failure::ContentPolicy { message } => {
                self.get("failure-content-policy", &[("message", message.into())])
            }
            Failure::Rejected { message } => {
                self.get("failure-rejected", &[("message", message.into())])
            }
            Failure::Unsupported(u) => self.unsupported(u),
            Failure::Generation { message } => {
                self.get("failure-generation", &[("message", message.into())])
            }
            Failure::Timeout { minutes } => {
                self.get("failure-timeout", &[("minutes", (*minutes).into())])
            }
            Failure::Unauthorized => self.get("failure-unauthorized", &[]),
            Failure::ServiceBalance => self.get("failure-service-balance", &[]),
            Failure::TooLarge { bytes } => self.get(
                "failure-too-large",
                &[("mb", (bytes / (1024 * 1024)).into())],
            ),
            Failure::Delivery => self.get("failure-delivery", &[]),
            Failure::NoPublicLink { bytes, limit } => self.get(
                "failure-no-public-link",
                &[
                    ("mb", format!("{:.1}", *bytes as f64 / 1_048_576.0).into()),
                    (
                        "limit_mb",
                        format!("{:.0}", *limit as f64 / 1_048_576.0).into(),
                    ),
                ],
            ),
            Failure::Lost => self.get("failure-lost", &[]),
            Failure::InDoubt => self.get("failure-in-doubt", &[]),
            Failure::Download { reason } => {
                self.get("failure-download", &[("reason", reason.into())])
            }
            Failure::Disk => self.get("failure-disk", &[]),
            Failure::GaveUp { message } => {
                self.get("failure-gave-up", &[("message", message.into())])
            }
            Failure::NotMedia { .. } => self.get("failure-not-media", &[]),
            Failure::RefusedLink { .. } => self.get("failure-refused-link", &[]),
            Failure::Internal => self.get("failure-internal", &[]),
        }
    }
}
