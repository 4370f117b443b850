//! The catalogue is whole and every message renders: each language file
//! has the base's messages (and no others), names only the values the base
//! names, every `Msg` renders cleanly in every language, and every setting a
//! text names exists.

use std::collections::BTreeSet;

use super::*;
use crate::job::Failure;
use sorabot_storage::Tally;

/// Which variant a message is; a new variant fails to compile here until it
/// gets a number and a sample in [`samples`].
fn variant(msg: &Msg) -> usize {
    match msg {
        Msg::OperatorAlert { .. } => 0,
        Msg::Retrying { .. } => 1,
        Msg::Welcome => 2,
        Msg::Help => 3,
        Msg::HelpFor(_) => 4,
        Msg::NotAllowed => 5,
        Msg::Invalid(_) => 6,
        Msg::QuotaExhausted { .. } => 7,
        Msg::TooManyActive { .. } => 8,
        Msg::QueueFull => 9,
        Msg::Unsupported(_) => 10,
        Msg::NoSuchJob(_) => 11,
        Msg::NotAVideo(_) => 12,
        Msg::NotReady(_) => 13,
        Msg::NotYours => 14,
        Msg::NeedVideoReply => 15,
        Msg::NeedShareableVideo => 16,
        Msg::NotAnImage => 17,
        Msg::FormExpired => 18,
        Msg::MenuNeedsVideo { .. } => 19,
        Msg::InputGone { .. } => 20,
        Msg::ImageTooLarge { .. } => 21,
        Msg::ImageUnreadable => 22,
        Msg::ImageDimensions { .. } => 23,
        Msg::NoCharacter(_) => 24,
        Msg::CharacterExists(_) => 25,
        Msg::CharacterCreating(_) => 26,
        Msg::CharacterReady(_) => 27,
        Msg::CharacterFailed(_) => 28,
        Msg::CharacterRemoved(_) => 29,
        Msg::Characters(_) => 30,
        Msg::NoCharacters => 31,
        Msg::Cancelled(_) => 32,
        Msg::AlreadyFinished(_) => 33,
        Msg::Quota { .. } => 34,
        Msg::QuotaUnlimited { .. } => 35,
        Msg::Settings(_) => 36,
        Msg::SettingsSaved(_) => 37,
        Msg::NoTasks => 38,
        Msg::AskRemix(_) => 39,
        Msg::AskCharacterName(_) => 40,
        Msg::TooLargeLink { .. } => 41,
        Msg::OwnLink { .. } => 42,
        Msg::Internal(_) => 43,
        Msg::Failed(_) => 44,
        Msg::DoneIn { .. } => 45,
        Msg::ServiceDefaults => 46,
        Msg::CharacterSaving => 47,
        Msg::CharacterBroken => 48,
        Msg::NotText => 49,
        Msg::LineTooLong { .. } => 50,
        Msg::StoreDamaged(_) => 51,
        Msg::NothingRunning => 52,
        Msg::ChatQuotaExhausted { .. } => 53,
        Msg::Banned => 54,
        Msg::OperatorsOnly(_) => 55,
        Msg::UnknownAuthor => 56,
    }
}
const VARIANTS: usize = 57;

/// The values the samples point at.
struct Data {
    parse_errors: Vec<ParseError>,
    unsupported: Vec<Unsupported>,
    failures: Vec<Failure>,
    names: Vec<String>,
    damages: Vec<Damage>,
}

fn data() -> Data {
    let command = CommandName::Video;
    let mut unsupported = vec![
        Unsupported::Duration {
            requested: 11,
            allowed: vec![4, 8, 12],
        },
        Unsupported::EmptyPrompt,
        Unsupported::PromptTooLong {
            len: 40000,
            max: 32000,
        },
        Unsupported::TooManyImages { given: 5, max: 4 },
        Unsupported::ImageCount {
            requested: 9,
            max: 4,
        },
        Unsupported::ImageSize,
        Unsupported::Timestamps,
    ];
    unsupported.extend(
        [
            Feature::Characters,
            Feature::Remix,
            Feature::ImageToVideo,
            Feature::Images,
            Feature::ImageEdits,
            Feature::Hd,
            Feature::Pro,
            Feature::AspectRatio,
            Feature::Duration,
            Feature::Watermark,
            Feature::RemixOptions,
        ]
        .map(Unsupported::Feature),
    );
    let mut parse_errors = vec![
        ParseError::UnknownCommand { name: "foo".into() },
        ParseError::MissingPrompt { command },
        ParseError::UnknownFlag {
            command,
            flag: "bogus".into(),
        },
        ParseError::MissingFlagValue {
            command,
            flag: "ar".into(),
        },
        ParseError::MissingTarget {
            command: CommandName::Remix,
        },
        ParseError::BadCharacterName { name: "a b".into() },
        ParseError::MissingUser {
            command: CommandName::Ban,
        },
        ParseError::BadCredits {
            value: "lots".into(),
        },
        ParseError::BadWindow {
            value: "forever".into(),
        },
        ParseError::BadTimestamps {
            value: "3,1".into(),
        },
        ParseError::MissingSubcommand {
            command: CommandName::Character,
        },
    ];
    parse_errors.extend(
        [
            Expected::Aspect,
            Expected::Seconds,
            Expected::Model,
            Expected::Count,
            Expected::Size,
            Expected::Lang,
            Expected::Switch,
        ]
        .map(|expected| ParseError::BadFlagValue {
            command,
            flag: "ar".into(),
            value: "4:3".into(),
            expected,
        }),
    );
    let mut failures = vec![
        Failure::ContentPolicy {
            message: "flagged".into(),
        },
        Failure::Rejected {
            message: "bad size".into(),
        },
        Failure::Generation {
            message: "oops".into(),
        },
        Failure::Timeout { minutes: 30 },
        Failure::Unauthorized,
        Failure::ServiceBalance,
        Failure::TooLarge { bytes: 600 << 20 },
        Failure::Delivery,
        Failure::NoPublicLink {
            bytes: 60 << 20,
            limit: 50 << 20,
        },
        Failure::NotMedia {
            found: "text/html".into(),
        },
        Failure::RefusedLink {
            reason: "loopback".into(),
        },
        Failure::Lost,
        Failure::InDoubt,
        Failure::Download {
            reason: "too slow".into(),
        },
        Failure::Disk,
        Failure::GaveUp {
            message: "502".into(),
        },
        Failure::Internal,
    ];
    failures.extend(unsupported.iter().cloned().map(Failure::Unsupported));
    let rolled_back = Damage {
        kind: DamageKind::RolledBack,
        last_flushed: Some(Tally {
            generation: 9,
            unfinished_jobs: 3,
            charges: 5,
        }),
        found: Tally::default(),
        marker: "data/db.marker".into(),
    };
    let unreadable = Damage {
        kind: DamageKind::Unreadable {
            moved_to: "data/db.unreadable-1".into(),
            error: "corrupt".into(),
        },
        last_flushed: None,
        ..rolled_back.clone()
    };
    Data {
        parse_errors,
        unsupported,
        failures,
        names: vec!["@a".to_owned(), "@b (saving…)".to_owned()],
        damages: vec![rolled_back, unreadable],
    }
}

/// Every message, each variant at least once (and each nested reason).
fn samples(d: &Data) -> Vec<Msg<'_>> {
    let hour = Duration::from_secs(3600);
    let mut msgs = vec![
        Msg::OperatorAlert {
            balance: true,
            message: Some("quota exhausted"),
        },
        Msg::OperatorAlert {
            balance: false,
            message: None,
        },
        Msg::Welcome,
        Msg::Help,
        Msg::NotAllowed,
        Msg::QuotaExhausted {
            limit: 20,
            used: 20,
            cost: 1,
            resets_in: hour * 2,
        },
        Msg::QuotaExhausted {
            limit: 20,
            used: 15,
            cost: 18,
            resets_in: hour * 2,
        },
        Msg::ChatQuotaExhausted {
            limit: 30,
            used: 28,
            cost: 3,
            resets_in: hour,
        },
        Msg::Banned,
        Msg::OperatorsOnly(CommandName::Ban),
        Msg::UnknownAuthor,
        Msg::TooManyActive { max: 3 },
        Msg::QueueFull,
        Msg::NoSuchJob("7QK3M2XD"),
        Msg::NotAVideo("7QK3M2XD"),
        Msg::NotReady("7QK3M2XD"),
        Msg::NotYours,
        Msg::NeedVideoReply,
        Msg::NeedShareableVideo,
        Msg::NotAnImage,
        Msg::FormExpired,
        Msg::MenuNeedsVideo { remix: true },
        Msg::MenuNeedsVideo { remix: false },
        Msg::InputGone { days: 7 },
        Msg::ImageTooLarge { max_mb: 20 },
        Msg::ImageUnreadable,
        Msg::ImageDimensions {
            width: 9000,
            height: 10,
            max_side: 8192,
        },
        Msg::NoCharacter("bob"),
        Msg::CharacterExists("bob"),
        Msg::CharacterCreating("bob"),
        Msg::CharacterReady("bob"),
        Msg::CharacterFailed("bob"),
        Msg::CharacterRemoved("bob"),
        Msg::Characters(&d.names),
        Msg::NoCharacters,
        Msg::Cancelled("7QK3M2XD"),
        Msg::AlreadyFinished("7QK3M2XD"),
        Msg::Quota {
            used: 3,
            limit: 20,
            resets_in: Duration::from_secs(90),
        },
        Msg::QuotaUnlimited { used: 4 },
        Msg::Settings("16:9 · 15 s"),
        Msg::SettingsSaved("16:9 · 15 s"),
        Msg::NoTasks,
        Msg::NothingRunning,
        Msg::AskRemix("7QK3M2XD"),
        Msg::AskCharacterName("7QK3M2XD"),
        Msg::TooLargeLink {
            url: "https://example.com/v.mp4",
            mb: 12.34,
            limit_mb: 10.0,
        },
        Msg::OwnLink {
            url: "https://bot.example.com/media/7QK3M2XD/0.mp4?exp=1&sig=00",
            mb: 12.34,
            limit_mb: 10.0,
            hours: 72,
        },
        Msg::Internal("7QK3M2XD"),
        Msg::DoneIn { secs: 125 },
        Msg::ServiceDefaults,
        Msg::CharacterSaving,
        Msg::CharacterBroken,
        Msg::NotText,
        Msg::LineTooLong { max_kb: 64 },
    ];
    for trouble in [
        Trouble::Service,
        Trouble::Download,
        Trouble::Disk,
        Trouble::Upload,
    ] {
        msgs.push(Msg::Retrying {
            trouble,
            text: "HTTP 502",
            attempt: 2,
            limit: 5,
        });
    }
    msgs.extend(CommandName::ALL.map(Msg::HelpFor));
    msgs.extend(CommandName::OPERATOR.map(Msg::HelpFor));
    msgs.extend(d.parse_errors.iter().map(Msg::Invalid));
    msgs.extend(d.unsupported.iter().map(Msg::Unsupported));
    msgs.extend(d.failures.iter().map(Msg::Failed));
    msgs.extend(d.damages.iter().map(Msg::StoreDamaged));
    msgs
}

/// `render` in `lang`, with what went wrong.
fn rendered(lang: Lang, render: impl FnOnce(&Words) -> String) -> (String, Vec<String>) {
    let words = Words::new(lang);
    let text = render(&words);
    (text, words.problems.take())
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn every_catalogue_file_reads_cleanly() {
    assert_eq!(catalogue::problems(), Vec::<String>::new());
    assert!(catalogue::has_language(catalogue::BASE));
}

#[test]
fn every_language_file_has_every_message_of_the_base_and_no_other() {
    let base: BTreeSet<&str> = catalogue::ids(catalogue::BASE).into_iter().collect();
    for tag in catalogue::tags() {
        let ids: Vec<&str> = catalogue::ids(tag);
        let own: BTreeSet<&str> = ids.iter().copied().collect();
        let extra: Vec<&&str> = own.difference(&base).collect();
        assert!(
            extra.is_empty(),
            "{tag}.ftl has messages en.ftl lacks: {extra:?}"
        );
        // A regional file (zh-TW) holds what differs from its language's.
        let fallbacks = catalogue::fallbacks(tag);
        if let Some(language) = fallbacks.get(1).filter(|_| tag.contains('-')) {
            assert!(
                catalogue::has_language(language),
                "{tag}.ftl falls back to {language}.ftl, which is missing"
            );
            continue;
        }
        let missing: Vec<&&str> = base.difference(&own).collect();
        assert!(missing.is_empty(), "{tag}.ftl lacks {missing:?}");
    }
}

#[test]
fn translations_name_only_the_values_the_base_gives() {
    for tag in catalogue::tags() {
        for id in catalogue::ids(tag) {
            let names = catalogue::variables(tag, id);
            let base = catalogue::variables(catalogue::BASE, id);
            assert!(
                names.is_subset(&base),
                "{tag}.ftl {id} names {names:?}; en.ftl gives {base:?}"
            );
        }
    }
}

#[test]
fn every_reply_language_has_its_own_complete_file() {
    for lang in Lang::ALL {
        assert!(
            catalogue::tags().contains(&lang.code()),
            "no locales/{}.ftl",
            lang.code()
        );
    }
}

#[test]
fn every_message_renders_in_every_language_without_a_problem() {
    let d = data();
    let msgs = samples(&d);
    let covered: BTreeSet<usize> = msgs.iter().map(variant).collect();
    assert_eq!(covered.len(), VARIANTS, "a Msg variant has no sample");
    for msg in &msgs {
        let mut texts = Vec::new();
        for lang in Lang::ALL {
            let (text, problems) = rendered(lang, |w| w.msg(msg));
            assert!(problems.is_empty(), "{lang} {msg:?}: {problems:?}");
            assert!(!text.trim().is_empty(), "{lang} {msg:?}");
            assert!(!text.contains(['\u{2068}', '\u{2069}']), "{text:?}");
            texts.push(text);
        }
        let zh = say(Lang::Zh, msg);
        assert_ne!(say(Lang::En, msg), zh, "{msg:?}");
        assert!(has_chinese(&zh), "{zh}");
    }
}

#[test]
fn every_other_text_renders_in_every_language_without_a_problem() {
    let states = [
        JobState::Queued,
        JobState::Submitting,
        JobState::Submitted,
        JobState::Running {
            progress: Some(0.5),
        },
        JobState::Delivering,
        JobState::Delivered,
        JobState::Failed(Failure::Internal),
        JobState::Cancelled,
    ];
    for lang in Lang::ALL {
        for state in &states {
            for (position, eta) in [(Some(2), Some(Duration::from_secs(200))), (None, None)] {
                let (text, problems) =
                    rendered(lang, |w| w.state_line(state, position, Some("▓░ 50%"), eta));
                assert!(problems.is_empty() && !text.is_empty(), "{problems:?}");
            }
        }
        for label in [
            Label::Remix,
            Label::SaveCharacter,
            Label::Retry,
            Label::Cancel,
        ] {
            assert!(!super::label(lang, label).is_empty());
        }
        for secs in [5, 150, 7200] {
            let (text, problems) = rendered(lang, |w| w.about(Duration::from_secs(secs)));
            assert!(problems.is_empty() && !text.is_empty(), "{problems:?}");
        }
    }
}

#[test]
fn every_setting_a_text_names_exists() {
    let env_example = include_str!("../../.env.example");
    let setting = regex::Regex::new(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b").expect("a regex");
    for tag in catalogue::tags() {
        let source = catalogue::source(tag).unwrap_or_default();
        let texts = source.lines().filter(|l| !l.trim_start().starts_with('#'));
        for line in texts {
            for name in setting.find_iter(line).map(|m| m.as_str()) {
                let documented = env_example
                    .lines()
                    .any(|l| l.trim_start_matches('#').starts_with(&format!("{name}=")));
                assert!(
                    documented,
                    "{tag}.ftl names {name}, which .env.example lacks"
                );
            }
        }
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
    assert_eq!(e.to_string(), "/video needs a prompt");
}

#[test]
fn texts_read_as_before() {
    assert_eq!(say(Lang::En, &Msg::DoneIn { secs: 125 }), "✅ Done in 2:05");
    assert_eq!(
        say(
            Lang::Zh,
            &Msg::Quota {
                used: 3,
                limit: 20,
                resets_in: Duration::from_secs(7200)
            }
        ),
        "今天已用 3/20 点，剩余 17 点，约 2 小时后重置。"
    );
    assert_eq!(
        say(
            Lang::En,
            &Msg::TooLargeLink {
                url: "https://x/v.mp4",
                mb: 12.34,
                limit_mb: 10.0
            }
        ),
        "The video is 12.3 MB, over this chat's 10 MB upload limit. Download it here: https://x/v.mp4"
    );
    assert_eq!(
        Unsupported::Duration {
            requested: 11,
            allowed: vec![10, 15, 25]
        }
        .to_string(),
        "a 11 s video is not available (choose 10, 15, 25)"
    );
    assert_eq!(
        unsupported(
            Lang::Zh,
            &Unsupported::Duration {
                requested: 11,
                allowed: vec![4, 8, 12]
            }
        ),
        "不支持 11 秒的视频（可选：4、8、12）"
    );
    assert_eq!(
        state_line(
            Lang::En,
            &JobState::Queued,
            Some(2),
            None,
            Some(Duration::from_secs(150))
        ),
        "⏳ Queued · position 2 · ETA about 3 min"
    );
    assert_eq!(say(Lang::En, &Msg::CharacterSaving), " (saving…)");
    let help = say(Lang::En, &Msg::HelpFor(CommandName::Tasks));
    assert_eq!(help, "/tasks — List your recent jobs.\n/tasks");
}

#[test]
fn durations_read_as_people_say_them() {
    assert_eq!(about(Lang::En, Duration::from_secs(30)), "under a minute");
    assert_eq!(about(Lang::En, Duration::from_secs(150)), "about 3 min");
    assert_eq!(about(Lang::Zh, Duration::from_secs(7200)), "约 2 小时");
}

#[test]
fn usage_lines_show_the_options_the_service_offers() {
    use crate::backend::{capabilities, Dialect};
    let openai = capabilities(Dialect::OpenAi, "sora-2");
    let help = say_for(Lang::En, &openai, &Msg::HelpFor(CommandName::Video));
    assert!(help.contains("[--dur 4|8|12]"), "{help}");
    assert!(!help.contains("10|15|25"), "{help}");
    let mut bare = openai.clone();
    bare.durations.clear();
    bare.aspect_ratio = false;
    bare.pro = false;
    bare.hd = false;
    let help = say_for(Lang::Zh, &bare, &Msg::HelpFor(CommandName::Video));
    assert!(!help.contains("--"), "no options, no gap: {help}");
    assert!(!help.contains("  "), "{help}");
    let everything = say(Lang::En, &Msg::HelpFor(CommandName::Video));
    assert!(
        everything.contains("[--ar 16:9|9:16] [--dur 10|15|25] [--model sora-2|sora-2-pro] [--hd]"),
        "{everything}"
    );
}

#[test]
fn the_operators_summary_reads_in_every_language() {
    use crate::command::StatsWindow;
    use crate::engine::{Health, ServiceHealth, Stats};
    let stats = Stats {
        window: StatsWindow::Week,
        states: [("delivered", 3), ("failed", 1)].into_iter().collect(),
        failures: [("timeout", 1)].into_iter().collect(),
        credits: 21,
        top_users: vec![("telegram:77".into(), 3)],
        top_chats: vec![],
        services: vec![ServiceHealth {
            name: "sora".into(),
            state: Health::Answering,
            in_flight: 1,
            queued: 0,
        }],
    };

    let en = stats.render(Lang::En);
    let zh = stats.render(Lang::Zh);

    assert!(en.contains("Jobs: 4 (delivered 3, failed 1)"), "{en}");
    assert!(
        en.contains("Credits spent: 21") && en.contains("telegram:77 (3)"),
        "{en}"
    );
    assert!(en.contains("Top chats: none"), "{en}");
    assert!(has_chinese(&zh) && zh.contains("21"), "{zh}");
    assert!(operator_help(Lang::Zh).contains("/grant"));
}
