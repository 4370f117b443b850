//! What messages mean, from the user's side of the chat.

use super::flags::{
    EXPECTED_ASPECT, EXPECTED_COUNT, EXPECTED_LANG, EXPECTED_MODEL, EXPECTED_SECONDS,
    EXPECTED_SIZE, EXPECTED_SWITCH,
};
use super::*;

const BOT: &str = "sorabot";

fn group() -> Context<'static> {
    Context {
        bot_username: Some(BOT),
        ..Context::default()
    }
}

fn private() -> Context<'static> {
    Context {
        is_private: true,
        ..group()
    }
}

fn reply() -> Context<'static> {
    Context {
        is_reply: true,
        ..group()
    }
}

fn with_images() -> Context<'static> {
    Context {
        has_images: true,
        ..group()
    }
}

fn command(text: &str, ctx: Context) -> Command {
    match parse(text, &ctx) {
        Parsed::Command(command) => command,
        other => panic!("{text:?} gave {other:?}"),
    }
}

fn error(text: &str, ctx: Context) -> ParseError {
    match parse(text, &ctx) {
        Parsed::Invalid(error) => error,
        other => panic!("{text:?} gave {other:?}"),
    }
}

fn job(id: &str) -> Target {
    Target::Job(JobId::parse(id).unwrap())
}

fn video(prompt: &str, flags: VideoFlags) -> Command {
    Command::Video {
        prompt: prompt.into(),
        flags,
    }
}

#[test]
fn video_with_flags_anywhere_in_the_prompt() {
    let parsed = command(
        "/video --ar 9:16 a cat --dur 15s surfing --model sora-2-pro --hd",
        group(),
    );
    let flags = VideoFlags {
        aspect: Some(AspectRatio::Portrait),
        seconds: Some(15),
        tier: Some(ModelTier::Pro),
        hd: true,
    };
    assert_eq!(parsed, video("a cat surfing", flags));
}

#[test]
fn flag_values_follow_a_space_or_an_equals_sign_and_names_ignore_case() {
    let parsed = command("/video a cat --AR=landscape --Duration 10 --pro", group());
    let flags = VideoFlags {
        aspect: Some(AspectRatio::Landscape),
        seconds: Some(10),
        tier: Some(ModelTier::Pro),
        hd: false,
    };
    assert_eq!(parsed, video("a cat", flags));
}

#[test]
fn every_spelling_of_duration_and_model_is_read() {
    let seconds = |text| match command(text, group()) {
        Command::Video { flags, .. } => flags.seconds,
        other => panic!("{other:?}"),
    };
    assert_eq!(seconds("/video x --dur 25"), Some(25));
    assert_eq!(seconds("/video x --seconds=15S"), Some(15));
    let tier = |text| match command(text, group()) {
        Command::Video { flags, .. } => flags.tier,
        other => panic!("{other:?}"),
    };
    assert_eq!(tier("/video x --model sora-2"), Some(ModelTier::Standard));
    assert_eq!(tier("/video x --model pro"), Some(ModelTier::Pro));
    assert_eq!(
        tier("/video x --model sora-2 --pro"),
        Some(ModelTier::Pro),
        "the last one wins"
    );
}

#[test]
fn command_for_another_bot_is_ignored() {
    assert_eq!(parse("/video@otherbot a cat", &group()), Parsed::Ignored);
    assert_eq!(parse("/video@otherbot a cat", &private()), Parsed::Ignored);
    assert_eq!(parse("/foo@otherbot", &private()), Parsed::Ignored);
}

#[test]
fn command_for_this_bot_is_ours_in_any_case() {
    assert_eq!(
        command("/VIDEO@SoraBot a cat", group()),
        video("a cat", VideoFlags::default())
    );
}

#[test]
fn aliases_name_the_same_commands() {
    let cat = video("a cat", VideoFlags::default());
    assert_eq!(command("/v a cat", group()), cat);
    assert_eq!(command("/Gen a cat", group()), cat);
    assert_eq!(
        command("/img a dog", group()),
        Command::Image {
            prompt: "a dog".into(),
            n: None,
            size: None
        }
    );
    assert_eq!(command("/jobs", group()), Command::Tasks);
    assert_eq!(command("/char list", group()), Command::CharacterList);
}

#[test]
fn full_width_slash_starts_a_command() {
    assert_eq!(
        command("／video 一只猫", group()),
        video("一只猫", VideoFlags::default())
    );
}

#[test]
fn mention_then_command_is_that_command() {
    assert_eq!(command("@SoraBot /quota", group()), Command::Quota);
    assert_eq!(
        command("@sorabot /video a cat", group()),
        video("a cat", VideoFlags::default())
    );
}

#[test]
fn mention_then_plain_text_is_a_video_prompt_even_in_a_group() {
    let parsed = command("@sorabot, a cat on the moon --ar 16:9", group());
    let flags = VideoFlags {
        aspect: Some(AspectRatio::Landscape),
        ..VideoFlags::default()
    };
    assert_eq!(parsed, video("a cat on the moon", flags));
}

#[test]
fn mention_alone_asks_for_a_prompt_unless_images_came_with_it() {
    let missing = ParseError::MissingPrompt {
        command: CommandName::Video,
    };
    assert_eq!(error("@sorabot", group()), missing);
    assert_eq!(
        command("@sorabot", with_images()),
        video("", VideoFlags::default())
    );
}

#[test]
fn plain_text_in_a_private_chat_is_a_video_prompt() {
    assert_eq!(
        command("a cat --hd", private()),
        video(
            "a cat",
            VideoFlags {
                hd: true,
                ..VideoFlags::default()
            }
        )
    );
}

#[test]
fn plain_text_and_other_mentions_in_a_group_are_ignored() {
    assert_eq!(parse("a cat", &group()), Parsed::Ignored);
    assert_eq!(parse("@alice look at this", &group()), Parsed::Ignored);
    assert_eq!(parse("@sorabotfan hi", &group()), Parsed::Ignored);
}

#[test]
fn a_character_mention_in_a_private_chat_is_part_of_the_prompt() {
    assert_eq!(
        command("@alice dancing", private()),
        video("@alice dancing", VideoFlags::default())
    );
}

#[test]
fn empty_or_blank_text_is_ignored() {
    for text in ["", "   ", "\n\t", "\u{3000}"] {
        assert_eq!(parse(text, &private()), Parsed::Ignored, "{text:?}");
    }
}

#[test]
fn unknown_command_in_a_group_without_our_name_is_ignored() {
    assert_eq!(parse("/ban someone", &group()), Parsed::Ignored);
}

#[test]
fn unknown_command_addressed_to_us_is_reported() {
    let unknown = ParseError::UnknownCommand { name: "foo".into() };
    assert_eq!(error("/foo", private()), unknown);
    assert_eq!(error("/foo@sorabot", group()), unknown);
    assert_eq!(error("@sorabot /foo bar", group()), unknown);
    assert_eq!(
        error("/lang zh", private()),
        ParseError::UnknownCommand {
            name: "lang".into()
        }
    );
}

#[test]
fn a_slash_without_a_command_name_is_plain_text() {
    assert_eq!(
        command("/usr/bin in neon", private()),
        video("/usr/bin in neon", VideoFlags::default())
    );
    assert_eq!(parse("/ a cat", &group()), Parsed::Ignored);
}

#[test]
fn video_without_prompt_is_image_to_video_when_images_came() {
    assert_eq!(
        command("/video --ar 9:16", with_images()),
        video(
            "",
            VideoFlags {
                aspect: Some(AspectRatio::Portrait),
                ..VideoFlags::default()
            }
        )
    );
}

#[test]
fn image_edit_still_needs_a_prompt() {
    assert_eq!(
        error("/image --n 2", with_images()),
        ParseError::MissingPrompt {
            command: CommandName::Image
        }
    );
}

#[test]
fn image_takes_a_count_and_a_size() {
    assert_eq!(
        command("/image a red fox --n 3 --size 1536*1024", group()),
        Command::Image {
            prompt: "a red fox".into(),
            n: Some(3),
            size: Some((1536, 1024))
        }
    );
}

#[test]
fn double_dash_and_dashes_in_prose_are_not_flags() {
    let prose = "a cat -- the best -- of all — really —truly --> ok";
    assert_eq!(
        command(&format!("/video {prose}"), group()),
        video(prose, VideoFlags::default())
    );
}

#[test]
fn a_phone_made_dash_before_a_known_flag_is_a_flag() {
    let parsed = command("/video a cat —ar 9:16 —hd", group());
    let flags = VideoFlags {
        aspect: Some(AspectRatio::Portrait),
        hd: true,
        ..VideoFlags::default()
    };
    assert_eq!(parsed, video("a cat", flags));
}

#[test]
fn remix_as_a_reply_targets_the_replied_video() {
    assert_eq!(
        command("/remix make it night --dur 10", reply()),
        Command::Remix {
            target: Target::Reply,
            prompt: "make it night".into(),
            flags: VideoFlags {
                seconds: Some(10),
                ..VideoFlags::default()
            },
        }
    );
}

#[test]
fn extend_as_a_reply_takes_the_seconds_before_the_prompt() {
    assert_eq!(
        command("/extend 8 the boat sails on", reply()),
        Command::Extend {
            target: Target::Reply,
            seconds: Some(8),
            prompt: "the boat sails on".into(),
        }
    );
    assert_eq!(
        command("/extend 12s and then it rains", reply()),
        Command::Extend {
            target: Target::Reply,
            seconds: Some(12),
            prompt: "and then it rains".into(),
        }
    );
}

#[test]
fn extend_without_seconds_leaves_them_to_the_default_and_names_a_job_first() {
    assert_eq!(
        command("/extend 7qk3m2xd the boat sails on", group()),
        Command::Extend {
            target: job("7QK3M2XD"),
            seconds: None,
            prompt: "the boat sails on".into(),
        }
    );
    assert_eq!(
        command("/extend the 3 boats sail on", group()),
        Command::Extend {
            target: Target::Latest,
            seconds: None,
            prompt: "the 3 boats sail on".into(),
        }
    );
}

#[test]
fn extend_needs_a_prompt() {
    assert_eq!(
        parse("/extend 8", &reply()),
        Parsed::Invalid(ParseError::MissingPrompt {
            command: CommandName::Extend
        })
    );
}

#[test]
fn remix_with_a_job_id_targets_that_job_even_as_a_reply() {
    let expected = Command::Remix {
        target: job("7QK3M2XD"),
        prompt: "make it night".into(),
        flags: VideoFlags::default(),
    };
    assert_eq!(command("/remix 7qk3m2xd make it night", group()), expected);
    assert_eq!(command("/remix #7QK3M2XD make it night", reply()), expected);
}

#[test]
fn a_command_with_no_job_named_and_no_reply_means_the_latest() {
    assert_eq!(
        command("/remix make it night", group()),
        Command::Remix {
            target: Target::Latest,
            prompt: "make it night".into(),
            flags: VideoFlags::default(),
        }
    );
    assert_eq!(
        command("/status", group()),
        Command::Status {
            target: Target::Latest
        }
    );
    assert_eq!(
        command("/character add bob", group()),
        Command::CharacterAdd {
            name: "bob".into(),
            at: None,
            target: Target::Latest,
        }
    );
}

#[test]
fn status_cancel_and_retry_take_a_job_id_or_a_reply() {
    assert_eq!(
        command("/status 7QK3M2XD", group()),
        Command::Status {
            target: job("7QK3M2XD")
        }
    );
    assert_eq!(
        command("/cancel", reply()),
        Command::Cancel {
            target: Target::Reply
        }
    );
    assert_eq!(
        command("/retry #7qk3m2xd", group()),
        Command::Retry {
            target: job("7QK3M2XD")
        }
    );
}

#[test]
fn character_add_as_a_reply_with_timestamps() {
    assert_eq!(
        command("/character add 小明 --at 1.5,4", reply()),
        Command::CharacterAdd {
            name: "小明".into(),
            at: Some(Timestamps {
                start: 1.5,
                end: 4.0
            }),
            target: Target::Reply,
        }
    );
}

#[test]
fn character_add_takes_the_job_id_before_or_after_the_name() {
    let expected = Command::CharacterAdd {
        name: "bob".into(),
        at: None,
        target: job("7QK3M2XD"),
    };
    assert_eq!(command("/character add bob 7QK3M2XD", group()), expected);
    assert_eq!(command("/char add 7QK3M2XD @bob", group()), expected);
}

#[test]
fn timestamps_out_of_order_are_refused() {
    assert_eq!(
        error("/character add bob --at 3,1", reply()),
        ParseError::BadTimestamps {
            value: "3,1".into()
        }
    );
}

#[test]
fn timestamps_longer_than_the_service_allows_are_refused() {
    assert_eq!(
        error("/character add bob --at 0-3.5", reply()),
        ParseError::BadTimestamps {
            value: "0-3.5".into()
        }
    );
}

#[test]
fn characters_are_listed_and_removed() {
    assert_eq!(command("/character list", group()), Command::CharacterList);
    assert_eq!(command("/characters", group()), Command::CharacterList);
    assert_eq!(
        command("/character rm @Bob", group()),
        Command::CharacterRemove { name: "Bob".into() }
    );
}

#[test]
fn settings_alone_shows_them_and_flags_change_them() {
    assert_eq!(
        command("/settings", group()),
        Command::Settings {
            flags: VideoFlags::default(),
            lang: None,
            reset: false
        }
    );
    assert_eq!(
        command("/settings --lang 中文 --ar portrait --reset", group()),
        Command::Settings {
            flags: VideoFlags {
                aspect: Some(AspectRatio::Portrait),
                ..VideoFlags::default()
            },
            lang: Some(Lang::Zh),
            reset: true,
        }
    );
}

#[test]
fn help_takes_a_command_with_or_without_its_slash() {
    assert_eq!(command("/help", group()), Command::Help { topic: None });
    assert_eq!(
        command("/help remix", group()),
        Command::Help {
            topic: Some(CommandName::Remix)
        }
    );
    assert_eq!(
        command("/help /V", group()),
        Command::Help {
            topic: Some(CommandName::Video)
        }
    );
}

#[test]
fn start_ignores_a_deep_link_payload() {
    assert_eq!(command("/start --ref-abc", private()), Command::Start);
}

#[test]
fn commands_without_arguments_ignore_words_but_refuse_options() {
    assert_eq!(command("/quota please", group()), Command::Quota);
    assert_eq!(
        error("/tasks --all", group()),
        ParseError::UnknownFlag {
            command: CommandName::Tasks,
            flag: "all".into()
        }
    );
}

#[test]
fn the_prompt_keeps_its_lines_and_its_unicode() {
    let text = "/video 🎬 שלום  world\n--ar 16:9\nline   two\n\nline\tthree --hd";
    let flags = VideoFlags {
        aspect: Some(AspectRatio::Landscape),
        hd: true,
        ..VideoFlags::default()
    };
    assert_eq!(
        command(text, group()),
        video("🎬 שלום world\nline two\n\nline three", flags)
    );
}

#[test]
fn a_very_long_prompt_parses_whole() {
    let words = "a very long prompt --hd ".repeat(20_000);
    let parsed = command(&format!("/video {words}"), group());
    let Command::Video { prompt, flags } = parsed else {
        panic!()
    };
    assert!(flags.hd);
    assert_eq!(prompt.len(), "a very long prompt ".len() * 20_000 - 1);
}

#[test]
fn character_mentions_come_from_the_prompt() {
    let Command::Video { prompt, .. } = command("/video @bob and @小明 meet bob@mail.com", group())
    else {
        panic!()
    };
    assert_eq!(character_mentions(&prompt), ["bob", "小明"]);
}

#[test]
fn each_error_points_at_the_usage_to_show() {
    let error = ParseError::BadTimestamps { value: "x".into() };
    assert_eq!(error.usage(), Some(CommandName::Character.usage()));
    assert_eq!(
        ParseError::UnknownCommand { name: "x".into() }.usage(),
        None
    );
    let error = ParseError::BadFlagValue {
        command: CommandName::Video,
        flag: "ar".into(),
        value: "4:3".into(),
        expected: EXPECTED_ASPECT,
    };
    assert_eq!(
        error.to_string(),
        format!("--ar 4:3: expected {EXPECTED_ASPECT}")
    );
}

#[test]
fn video_flags_fall_back_to_settings_and_become_service_options() {
    let given = VideoFlags {
        seconds: Some(10),
        ..VideoFlags::default()
    };
    let settings = VideoFlags {
        seconds: Some(15),
        tier: Some(ModelTier::Pro),
        ..VideoFlags::default()
    };
    let merged = given.or(settings);
    assert_eq!(
        (merged.seconds, merged.tier),
        (Some(10), Some(ModelTier::Pro))
    );
    assert!(VideoFlags::default().is_empty());
    assert_eq!(VideoFlags::default().to_options(), VideoOptions::default());
}

#[test]
fn every_command_names_its_help_entry() {
    assert_eq!(
        command("/character list", group()).name(),
        CommandName::Character
    );
    assert_eq!(command("/v x", group()).name(), CommandName::Video);
}

#[test]
fn bad_inputs_map_to_exact_errors() {
    use CommandName as C;
    use ParseError as E;
    let bad_value = |command, flag: &str, value: &str, expected| E::BadFlagValue {
        command,
        flag: flag.into(),
        value: value.into(),
        expected,
    };
    let unknown_flag = |command, flag: &str| E::UnknownFlag {
        command,
        flag: flag.into(),
    };
    let missing_value = |command, flag: &str| E::MissingFlagValue {
        command,
        flag: flag.into(),
    };
    let bad_name = |name: &str| E::BadCharacterName { name: name.into() };
    let table: Vec<(&str, Context, ParseError)> = vec![
        ("/foo", private(), E::UnknownCommand { name: "foo".into() }),
        (
            "/Foo@SORABOT",
            group(),
            E::UnknownCommand { name: "Foo".into() },
        ),
        (
            "/help foo",
            group(),
            E::UnknownCommand { name: "foo".into() },
        ),
        ("/video", group(), E::MissingPrompt { command: C::Video }),
        (
            "/video --ar 16:9 --hd",
            group(),
            E::MissingPrompt { command: C::Video },
        ),
        (
            "/image",
            with_images(),
            E::MissingPrompt { command: C::Image },
        ),
        (
            "/remix 7QK3M2XD --hd",
            group(),
            E::MissingPrompt { command: C::Remix },
        ),
        (
            "/video a cat --fps 30",
            group(),
            unknown_flag(C::Video, "fps"),
        ),
        ("/video a cat --N 2", group(), unknown_flag(C::Video, "n")),
        ("/image a cat --hd", group(), unknown_flag(C::Image, "hd")),
        ("/status --all", reply(), unknown_flag(C::Status, "all")),
        (
            "/character list --at 1,2",
            group(),
            unknown_flag(C::Character, "at"),
        ),
        (
            "/video a cat --ar 4:3",
            group(),
            bad_value(C::Video, "ar", "4:3", EXPECTED_ASPECT),
        ),
        (
            "/video a cat --dur 0",
            group(),
            bad_value(C::Video, "dur", "0", EXPECTED_SECONDS),
        ),
        (
            "/video a cat --duration=90s",
            group(),
            bad_value(C::Video, "duration", "90s", EXPECTED_SECONDS),
        ),
        (
            "/video a cat --model sora-3",
            group(),
            bad_value(C::Video, "model", "sora-3", EXPECTED_MODEL),
        ),
        (
            "/video a cat --hd=yes",
            group(),
            bad_value(C::Video, "hd", "yes", EXPECTED_SWITCH),
        ),
        (
            "/image a cat --n 5",
            group(),
            bad_value(C::Image, "n", "5", EXPECTED_COUNT),
        ),
        (
            "/image a cat --size 10x10",
            group(),
            bad_value(C::Image, "size", "10x10", EXPECTED_SIZE),
        ),
        (
            "/settings --lang fr",
            group(),
            bad_value(C::Settings, "lang", "fr", EXPECTED_LANG),
        ),
        (
            "/remix 7QK3M2XD x --ar square",
            group(),
            bad_value(C::Remix, "ar", "square", EXPECTED_ASPECT),
        ),
        ("/video a cat --ar", group(), missing_value(C::Video, "ar")),
        (
            "/video a cat --ar --hd",
            group(),
            missing_value(C::Video, "ar"),
        ),
        ("/video a cat --ar=", group(), missing_value(C::Video, "ar")),
        (
            "/settings --lang",
            group(),
            missing_value(C::Settings, "lang"),
        ),
        (
            "/character add bob --at",
            reply(),
            missing_value(C::Character, "at"),
        ),
        (
            "/cancel 7QK3M2X",
            group(),
            E::MissingTarget { command: C::Cancel },
        ),
        (
            "/retry sunshine",
            group(),
            E::MissingTarget { command: C::Retry },
        ),
        ("/character add", reply(), bad_name("")),
        ("/character add bob smith", reply(), bad_name("bob smith")),
        ("/character add bob-smith", reply(), bad_name("bob-smith")),
        ("/character remove", group(), bad_name("")),
        ("/character remove 😀", group(), bad_name("😀")),
        (
            "/character add bob --at 3,1",
            reply(),
            E::BadTimestamps {
                value: "3,1".into(),
            },
        ),
        (
            "/character add bob --at 0,5",
            reply(),
            E::BadTimestamps {
                value: "0,5".into(),
            },
        ),
        (
            "/character add bob --at soon",
            reply(),
            E::BadTimestamps {
                value: "soon".into(),
            },
        ),
        (
            "/character",
            group(),
            E::MissingSubcommand {
                command: C::Character,
            },
        ),
        (
            "/character foo",
            group(),
            E::MissingSubcommand {
                command: C::Character,
            },
        ),
        (
            "/char --at 1,2 add bob",
            reply(),
            E::MissingSubcommand {
                command: C::Character,
            },
        ),
    ];
    for (text, ctx, expected) in table {
        assert_eq!(parse(text, &ctx), Parsed::Invalid(expected), "{text:?}");
    }
}

fn operator_in_group() -> Context<'static> {
    Context {
        from_operator: true,
        ..group()
    }
}

fn telegram(id: &str) -> UserTarget {
    UserTarget::Named {
        platform: "telegram".into(),
        id: id.into(),
    }
}

#[test]
fn an_operator_command_in_a_group_not_addressed_to_us_is_another_bots_unless_an_operator_sent_it() {
    assert_eq!(parse("/ban telegram:77", &group()), Parsed::Ignored);
    assert_eq!(
        parse("/ban telegram:77", &operator_in_group()),
        Parsed::Command(Command::Ban {
            user: telegram("77")
        })
    );
    assert_eq!(
        parse(&format!("/ban@{BOT} telegram:77"), &group()),
        Parsed::Command(Command::Ban {
            user: telegram("77")
        })
    );
}

#[test]
fn ban_and_unban_name_a_user_as_the_access_lists_do_or_take_the_replied_to_author() {
    let reply = Context {
        is_reply: true,
        ..private()
    };
    assert_eq!(
        parse("/unban discord:6789", &private()),
        Parsed::Command(Command::Unban {
            user: UserTarget::Named {
                platform: "discord".into(),
                id: "6789".into()
            }
        })
    );
    assert_eq!(
        parse("/ban", &reply),
        Parsed::Command(Command::Ban {
            user: UserTarget::Reply
        })
    );
    assert_eq!(
        parse("/ban", &private()),
        Parsed::Invalid(ParseError::MissingUser {
            command: CommandName::Ban
        })
    );
    assert_eq!(
        parse("/ban 77", &private()),
        Parsed::Invalid(ParseError::MissingUser {
            command: CommandName::Ban
        })
    );
}

#[test]
fn grant_takes_a_user_and_a_whole_number_of_credits() {
    let reply = Context {
        is_reply: true,
        ..private()
    };
    assert_eq!(
        parse("/grant telegram:77 5", &private()),
        Parsed::Command(Command::Grant {
            user: telegram("77"),
            credits: 5
        })
    );
    assert_eq!(
        parse("/grant 5", &reply),
        Parsed::Command(Command::Grant {
            user: UserTarget::Reply,
            credits: 5
        })
    );
    for bad in [
        "/grant telegram:77 0",
        "/grant telegram:77 lots",
        "/grant telegram:77 -3",
    ] {
        assert!(
            matches!(
                parse(bad, &private()),
                Parsed::Invalid(ParseError::BadCredits { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn stats_cover_today_by_default_or_the_last_seven_days() {
    let stats = |text| parse(text, &private());
    assert_eq!(
        stats("/stats"),
        Parsed::Command(Command::Stats {
            window: StatsWindow::Today
        })
    );
    assert_eq!(
        stats("/stats 7d"),
        Parsed::Command(Command::Stats {
            window: StatsWindow::Week
        })
    );
    assert!(matches!(
        stats("/stats forever"),
        Parsed::Invalid(ParseError::BadWindow { .. })
    ));
}
