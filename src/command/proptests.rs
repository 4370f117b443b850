//! The grammar holds up against anything a chat can send.

use proptest::prelude::*;

use super::lexer::{self, Dash};
use super::*;

/// Pieces of commands, flags, mentions and awkward text to build messages from.
const FRAGMENTS: &[&str] = &[
    "/video",
    "/v@sorabot",
    "/gen@other",
    "/remix",
    "/image",
    "/character",
    "/characters",
    "add",
    "list",
    "remove",
    "/status",
    "/cancel",
    "/retry",
    "/settings",
    "/help",
    "/start",
    "/foo",
    "/",
    "/@",
    "／",
    "@",
    "@sorabot",
    "@SoraBot,",
    "@bot",
    "@小明",
    "a@b.com",
    "--",
    "--ar",
    "--ar=16:9",
    "—ar",
    "–hd",
    "--dur",
    "15s",
    "--model",
    "pro",
    "--hd",
    "--hd=1",
    "--n",
    "--size",
    "1024x1024",
    "--at",
    "0,3",
    "3-1",
    "--lang",
    "中文",
    "--reset",
    "=",
    "16:9",
    "9:16",
    "7QK3M2XD",
    "#7qk3m2xd",
    "🎬",
    "👨‍👩‍👧",
    "שלום",
    "\u{202e}",
    "\u{0}",
    "\u{feff}",
    "\r\n",
    "\n",
    " ",
    "\u{3000}",
    "\u{200b}",
    "\u{200d}",
    "\u{2060}",
    "\u{1b}[31m",
    "\u{7}",
    "\u{9b}",
    "\u{202d}",
    "\u{2067}",
    "\u{301}",
    "\u{3164}",
    "—",
    "-",
];

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// A message stitched from fragments, with or without spaces between them.
fn message() -> impl Strategy<Value = String> {
    let separator = prop::sample::select(&[" ", " ", "", "\n", "="][..]);
    prop::collection::vec((fragment(), separator), 0..24)
        .prop_map(|parts| parts.into_iter().map(|(part, sep)| part + sep).collect())
}

fn context() -> impl Strategy<Value = Context<'static>> {
    let bot = prop::option::of(prop::sample::select(
        &["sorabot", "SoraBot", "other", ""][..],
    ));
    (bot, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(bot_username, is_private, is_reply, has_images)| Context {
            bot_username,
            is_private,
            is_reply,
            has_images,
            from_operator: false,
        },
    )
}

/// Characters that show nothing, controls among them.
const INVISIBLE: &[char] = &[
    ' ',
    '\t',
    '\n',
    '\r',
    '\u{0}',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{9b}',
    '\u{a0}',
    '\u{ad}',
    '\u{300}',
    '\u{301}',
    '\u{34f}',
    '\u{115f}',
    '\u{180e}',
    '\u{200b}',
    '\u{200c}',
    '\u{200d}',
    '\u{200e}',
    '\u{2028}',
    '\u{202a}',
    '\u{202e}',
    '\u{2060}',
    '\u{2066}',
    '\u{2069}',
    '\u{20dd}',
    '\u{2800}',
    '\u{3000}',
    '\u{3164}',
    '\u{fe0f}',
    '\u{feff}',
    '\u{fff9}',
    '\u{e0041}',
    '\u{e0100}',
];

fn invisible_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(INVISIBLE), 0..16)
        .prop_map(|chars| chars.into_iter().collect())
}

/// A prompt the parser hands on is trimmed, holds no `--flag` of its own,
/// no control character, and shows something (or is empty, for a video
/// made from images).
fn assert_clean_prompt(prompt: &str) {
    assert_eq!(prompt, prompt.trim());
    assert!(!prompt.chars().any(is_stripped_control), "{prompt:?}");
    assert!(
        prompt.is_empty() || !prompt.chars().all(is_invisible),
        "{prompt:?}"
    );
    for word in lexer::words(prompt) {
        let flag = lexer::flag_word(word.text);
        assert!(
            flag.is_none_or(|f| f.dash == Dash::Typographic),
            "{prompt:?}"
        );
    }
}

proptest! {
    #[test]
    fn parse_never_panics_on_any_text(text in any::<String>(), ctx in context()) {
        let _ = parse(&text, &ctx);
    }

    #[test]
    fn parse_never_panics_on_command_like_text(text in message(), ctx in context()) {
        if let Parsed::Command(
            Command::Video { prompt, .. } | Command::Remix { prompt, .. } | Command::Image { prompt, .. },
        ) = parse(&text, &ctx)
        {
            assert_clean_prompt(&prompt);
        }
    }

    #[test]
    fn parse_yields_clean_prompts_from_any_text(text in any::<String>(), ctx in context()) {
        if let Parsed::Command(
            Command::Video { prompt, .. } | Command::Remix { prompt, .. } | Command::Image { prompt, .. },
        ) = parse(&format!("/video {text}"), &ctx)
        {
            assert_clean_prompt(&prompt);
        }
    }

    #[test]
    fn a_prompt_of_only_invisible_characters_is_refused(
        command in prop::sample::select(&["/video", "/image", "/remix 7QK3M2XD", "@sorabot"][..]),
        invisible in invisible_text(),
        ctx in context(),
    ) {
        let ctx = Context { bot_username: Some("sorabot"), has_images: false, ..ctx };
        match parse(&format!("{command} {invisible}"), &ctx) {
            Parsed::Invalid(ParseError::MissingPrompt { .. }) | Parsed::Ignored => {}
            other => prop_assert!(false, "{command} {invisible:?} gave {other:?}"),
        }
    }

    #[test]
    fn controls_are_removed_and_everything_else_kept(text in any::<String>()) {
        let stripped = strip_controls(&text);
        prop_assert!(!stripped.chars().any(is_stripped_control));
        let kept: String = text.chars().filter(|c| !is_stripped_control(*c)).collect();
        prop_assert_eq!(&*stripped, kept.as_str());
        prop_assert_eq!(strip_controls(&stripped), stripped.clone());
    }

    #[test]
    fn typed_prompts_are_cleaned_like_parsed_ones(prompt in any::<String>(), images in any::<bool>()) {
        let typed = Command::Video { prompt: prompt.clone(), flags: VideoFlags::default() };
        match with_clean_prompt(typed, images) {
            Ok(Command::Video { prompt, .. }) => {
                prop_assert!(!prompt.chars().any(is_stripped_control));
                prop_assert!(prompt.is_empty() == prompt.chars().all(is_invisible));
                prop_assert!(images || !prompt.is_empty());
            }
            Ok(other) => prop_assert!(false, "became {other:?}"),
            Err(error) => {
                prop_assert!(!images);
                prop_assert_eq!(error, ParseError::MissingPrompt { command: CommandName::Video });
                prop_assert!(strip_controls(&prompt).chars().all(is_invisible));
            }
        }
    }

    #[test]
    fn character_mentions_never_panic_and_are_names(text in message()) {
        let mentions = character_mentions(&text);
        for name in &mentions {
            prop_assert!(is_character_name(name));
        }
        let mut lowered: Vec<_> = mentions.iter().map(|m| m.to_lowercase()).collect();
        lowered.sort();
        lowered.dedup();
        prop_assert_eq!(lowered.len(), mentions.len());
    }

    #[test]
    fn character_mentions_never_panic_on_any_text(text in any::<String>()) {
        let _ = character_mentions(&text);
    }
}
