//! Character names: what makes one, and the `@NAME` mentions of them in a
//! prompt.

use std::collections::HashSet;

use super::lexer::is_name_char;
use super::ParseError;

/// Longest character name.
pub const MAX_CHARACTER_NAME: usize = 32;

/// Whether `name` can name a character: 1 to 32 letters (any script),
/// digits or `_`.
pub fn is_character_name(name: &str) -> bool {
    let length = name.chars().count();
    (1..=MAX_CHARACTER_NAME).contains(&length) && name.chars().all(is_name_char)
}

/// A character's name as a user gives it (an `@` before it allowed, spaces
/// around it ignored), or why it cannot be one: the one reading of a name,
/// for the command text and for any form field that asks for a name.
pub fn parse_character_name(text: &str) -> Result<String, ParseError> {
    let name = text.trim();
    let name = name.strip_prefix(['@', '＠']).unwrap_or(name);
    if is_character_name(name) {
        Ok(name.to_owned())
    } else {
        Err(ParseError::BadCharacterName {
            name: name.to_owned(),
        })
    }
}

/// The characters a prompt mentions as `@NAME`, each once (ignoring case,
/// keeping the first spelling), in order. An `@` right after a letter or
/// digit is part of an address (`a@b.com`), not a mention.
pub fn character_mentions(prompt: &str) -> Vec<String> {
    let mut mentions = Vec::new();
    let mut seen = HashSet::new();
    let mut previous = None;
    for (i, c) in prompt.char_indices() {
        if c == '@' && !previous.is_some_and(is_name_char) {
            let name = name_at(&prompt[i + c.len_utf8()..]);
            if is_character_name(name) && seen.insert(name.to_lowercase()) {
                mentions.push(name.to_owned());
            }
        }
        previous = Some(c);
    }
    mentions
}

/// The run of name characters at the start of `text`.
fn name_at(text: &str) -> &str {
    let end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_words_in_any_script() {
        for good in ["bob", "Bob_2", "小明", "Алиса", "_", &"x".repeat(32)] {
            assert!(is_character_name(good), "{good}");
        }
        for bad in [
            "",
            "bob smith",
            "bob-smith",
            "@bob",
            "b.o.b",
            "😀",
            &"x".repeat(33),
        ] {
            assert!(!is_character_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_given_name_may_start_with_an_at_and_must_be_one_word() {
        assert_eq!(parse_character_name(" @bob "), Ok("bob".into()));
        assert_eq!(parse_character_name("＠小明"), Ok("小明".into()));
        assert_eq!(
            parse_character_name("@bob smith"),
            Err(ParseError::BadCharacterName {
                name: "bob smith".into()
            })
        );
        assert!(parse_character_name("@").is_err());
    }

    #[test]
    fn mentions_are_found_once_in_order_and_emails_are_not_mentions() {
        let prompt = "@Alice meets @小明 (@bob) at bob@example.com, then @alice waves. @";
        assert_eq!(character_mentions(prompt), ["Alice", "小明", "bob"]);
    }

    #[test]
    fn overlong_mentions_are_not_names() {
        let prompt = format!("@{} and @ok", "x".repeat(33));
        assert_eq!(character_mentions(&prompt), ["ok"]);
    }
}
