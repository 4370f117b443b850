//! The shapes in a message's text, before any meaning: a leading mention of
//! the bot, the `/name@bot` head of a command, whitespace-separated words
//! with their places, and words that look like `--flags`.

/// Longest command name Telegram lets a bot register.
const MAX_COMMAND_NAME: usize = 32;

/// One whitespace-separated word and where it sits in the text, so that
/// removing it leaves the rest of the text (and its line breaks) as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word<'a> {
    pub text: &'a str,
    /// Byte offset of the word's first character.
    pub start: usize,
    /// Byte offset just past the word.
    pub end: usize,
}

/// The words of `text`, in order.
pub(crate) fn words(text: &str) -> Vec<Word<'_>> {
    let mut found = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                found.push(Word {
                    text: &text[s..i],
                    start: s,
                    end: i,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        found.push(Word {
            text: &text[s..],
            start: s,
            end: text.len(),
        });
    }
    found
}

/// How a flag word began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dash {
    /// `--name`: always meant as a flag.
    Double,
    /// `—name` or `–name`: what phone keyboards make of `--`; a flag only when
    /// the command knows the name, prose otherwise.
    Typographic,
}

/// A word shaped like `--name` or `--name=value`, `name` being ASCII letters,
/// digits and `-`, starting with a letter (so `--`, `-- 5` and `--->` are prose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlagWord<'a> {
    pub name: &'a str,
    /// The part after `=`, when written `--name=value`.
    pub value: Option<&'a str>,
    pub dash: Dash,
}

/// Reads `word` as a flag, if it is shaped like one.
pub(crate) fn flag_word(word: &str) -> Option<FlagWord<'_>> {
    let (rest, dash) = if let Some(rest) = word.strip_prefix("--") {
        (rest, Dash::Double)
    } else if let Some(rest) = word.strip_prefix(['—', '–']) {
        (rest, Dash::Typographic)
    } else {
        return None;
    };
    let (name, value) = match rest.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (rest, None),
    };
    let starts_with_letter = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    let well_formed = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (starts_with_letter && well_formed).then_some(FlagWord { name, value, dash })
}

/// The head of a command: `/name` or `/name@bot`, then its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head<'a> {
    /// As typed, without the slash.
    pub name: &'a str,
    /// The bot named after `@`, if any.
    pub bot: Option<&'a str>,
    /// Everything after the head, untrimmed.
    pub args: &'a str,
}

/// Reads the command head at the start of `text` (already trimmed). Only a
/// slash followed by 1 to 32 letters, digits or `_` makes a command, so a
/// path like `/usr/bin` or a lone `/` is plain text.
pub(crate) fn command_head(text: &str) -> Option<Head<'_>> {
    let rest = text.strip_prefix(['/', '／'])?;
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (token, args) = rest.split_at(end);
    let (name, bot) = match token.split_once('@') {
        Some((name, bot)) => (name, Some(bot).filter(|bot| !bot.is_empty())),
        None => (token, None),
    };
    let length_ok = (1..=MAX_COMMAND_NAME).contains(&name.chars().count());
    let chars_ok = name.chars().all(is_name_char);
    (length_ok && chars_ok).then_some(Head { name, bot, args })
}

/// Strips a leading `@bot` (and a `,` or `:` after it) addressed to this
/// bot; `None` when the text does not start with this bot's mention.
pub(crate) fn strip_bot_mention<'a>(text: &'a str, bot: Option<&str>) -> Option<&'a str> {
    let bot = bot?.trim_start_matches('@');
    let rest = text.strip_prefix(['@', '＠'])?;
    let end = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    if bot.is_empty() || !same_name(name, bot) {
        return None;
    }
    let after = after.strip_prefix([',', ':', '，', '：']).unwrap_or(after);
    let ends_word = after.is_empty() || after.starts_with(char::is_whitespace);
    ends_word.then(|| after.trim_start())
}

/// Letters of any script, digits and `_`: what names of commands, bots and
/// characters are made of.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether two bot or command names are the same, ignoring case.
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_places_across_lines() {
        let text = " a\u{3000}cat\n--ar 9:16 ";
        let found: Vec<_> = words(text).iter().map(|w| w.text).collect();
        assert_eq!(found, ["a", "cat", "--ar", "9:16"]);
        for word in words(text) {
            assert_eq!(&text[word.start..word.end], word.text);
        }
    }

    #[test]
    fn only_dashes_followed_by_a_name_are_flags() {
        let flag = flag_word("--ar=16:9").unwrap();
        assert_eq!(
            (flag.name, flag.value, flag.dash),
            ("ar", Some("16:9"), Dash::Double)
        );
        assert_eq!(flag_word("—hd").map(|f| f.dash), Some(Dash::Typographic));
        for prose in ["--", "—", "--5", "--->", "-x", "--a!", "a--b", "--=x", "–"] {
            assert_eq!(flag_word(prose), None, "{prose}");
        }
    }

    #[test]
    fn command_heads_need_a_short_plain_name() {
        let head = command_head("/Video@SoraBot a cat").unwrap();
        assert_eq!(
            (head.name, head.bot, head.args),
            ("Video", Some("SoraBot"), " a cat")
        );
        assert_eq!(command_head("／视频 猫").map(|h| h.name), Some("视频"));
        assert_eq!(command_head("/video@ x").map(|h| h.bot), Some(None));
        for plain in [
            "/",
            "/@",
            "/ video",
            "/usr/bin",
            "/a-b",
            &format!("/{}", "x".repeat(33)),
        ] {
            assert_eq!(command_head(plain), None, "{plain}");
        }
    }

    #[test]
    fn only_this_bots_mention_is_stripped() {
        assert_eq!(
            strip_bot_mention("@SoraBot, a cat", Some("sorabot")),
            Some("a cat")
        );
        assert_eq!(strip_bot_mention("@sorabot", Some("@sorabot")), Some(""));
        assert_eq!(strip_bot_mention("@sorabotx a cat", Some("sorabot")), None);
        assert_eq!(strip_bot_mention("@sorabot's cat", Some("sorabot")), None);
        assert_eq!(strip_bot_mention("@sorabot a cat", None), None);
        assert_eq!(strip_bot_mention("@ a cat", Some("")), None);
    }
}
