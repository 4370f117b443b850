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
        },
    )
}

/// A prompt the parser hands on is trimmed and holds no `--flag` of its own.
fn assert_clean_prompt(prompt: &str) {
    assert_eq!(prompt, prompt.trim());
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
