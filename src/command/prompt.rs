//! What a prompt may hold. Control characters (NUL, ESC and the other C0 and
//! C1 controls but line breaks and tabs; bidirectional embeddings, overrides
//! and isolates, which can make a prompt or a caption read backwards) are
//! removed before a prompt is sent to the service or shown in a chat. A
//! prompt made only of what shows nothing (spaces, zero-width characters,
//! combining marks with no letter, fillers) is no prompt.

use std::borrow::Cow;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::{Command, CommandName, ParseError};

/// Whether `c` is removed from any text the bot reads as a command.
pub fn is_stripped_control(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // Embeddings and overrides (LRE, RLE, PDF, LRO, RLO), isolates
        // (LRI, RLI, FSI, PDI), deprecated format controls, interlinear
        // annotation controls.
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{206f}' | '\u{fff9}'..='\u{fffb}'
    )
}

/// The text without control characters (borrowed when it had none).
pub fn strip_controls(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_stripped_control) {
        Cow::Owned(text.chars().filter(|c| !is_stripped_control(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `c` shows nothing by itself.
pub fn is_invisible(c: char) -> bool {
    if c.is_whitespace() || c.is_control() || is_stripped_control(c) {
        return true;
    }
    matches!(
        c,
        // Hangul fillers, the braille blank, the Mongolian vowel separator
        // and variation selectors: drawn as nothing.
        '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' | '\u{2800}' | '\u{180e}'
    ) || matches!(
        c.general_category(),
        GeneralCategory::Format
            | GeneralCategory::NonspacingMark
            | GeneralCategory::EnclosingMark
            | GeneralCategory::SpacingMark
            | GeneralCategory::SpaceSeparator
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// A prompt as it is sent and shown: controls removed, trimmed; empty when
/// nothing in it shows.
pub fn clean_prompt(prompt: &str) -> String {
    let stripped = strip_controls(prompt);
    if stripped.chars().all(is_invisible) {
        String::new()
    } else {
        stripped.trim().to_owned()
    }
}

/// A command's prompt cleaned, for commands that came typed (a Discord
/// slash command, a form) as well as parsed: a prompt that shows nothing is
/// refused as missing, except a video's when images came with it.
pub fn with_clean_prompt(command: Command, has_images: bool) -> Result<Command, ParseError> {
    let missing = |command| Err(ParseError::MissingPrompt { command });
    match command {
        Command::Video { prompt, flags } => {
            let prompt = clean_prompt(&prompt);
            if prompt.is_empty() && !has_images {
                return missing(CommandName::Video);
            }
            Ok(Command::Video { prompt, flags })
        }
        Command::Image { prompt, n, size } => match clean_prompt(&prompt) {
            prompt if prompt.is_empty() => missing(CommandName::Image),
            prompt => Ok(Command::Image { prompt, n, size }),
        },
        Command::Remix {
            target,
            prompt,
            flags,
        } => match clean_prompt(&prompt) {
            prompt if prompt.is_empty() => missing(CommandName::Remix),
            prompt => Ok(Command::Remix {
                target,
                prompt,
                flags,
            }),
        },
        Command::Extend {
            target,
            seconds,
            prompt,
        } => match clean_prompt(&prompt) {
            prompt if prompt.is_empty() => missing(CommandName::Extend),
            prompt => Ok(Command::Extend {
                target,
                seconds,
                prompt,
            }),
        },
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::VideoFlags;

    #[test]
    fn controls_and_bidi_overrides_are_removed_and_the_rest_kept() {
        assert_eq!(strip_controls("a\u{0}b\u{1b}[31mc\u{7}\u{9b}d"), "ab[31mcd");
        assert_eq!(
            strip_controls("evil\u{202e}gpj.exe\u{2066}x\u{2069}"),
            "evilgpj.exex"
        );
        assert_eq!(strip_controls("line\r\nnext\ttab"), "line\nnext\ttab");
        assert!(matches!(strip_controls("猫 👨‍👩‍👧 café"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_prompt_of_only_invisible_characters_is_empty() {
        for prompt in [
            " \t\n",
            "\u{200b}\u{200c}\u{200d}",
            "\u{2060}\u{feff}",
            "\u{3000}\u{a0}",
            "\u{301}\u{302}\u{20dd}",
            "\u{115f}\u{3164}\u{2800}",
            "\u{fe0f}\u{e0041}",
            "\u{202e}\u{0}\u{1b}",
            "\u{ad}\u{34f}\u{180e}",
        ] {
            assert_eq!(clean_prompt(prompt), "", "{prompt:?}");
        }
        assert_eq!(clean_prompt(" a\u{200b}cat "), "a\u{200b}cat");
        assert_eq!(clean_prompt("👨‍👩‍👧"), "👨‍👩‍👧");
        assert_eq!(clean_prompt("é"), "é");
    }

    #[test]
    fn typed_commands_get_the_same_treatment() {
        let video = |prompt: &str| Command::Video {
            prompt: prompt.into(),
            flags: VideoFlags::default(),
        };
        assert_eq!(
            with_clean_prompt(video("\u{200b}"), false),
            Err(ParseError::MissingPrompt {
                command: CommandName::Video
            })
        );
        assert_eq!(with_clean_prompt(video("\u{200b}"), true), Ok(video("")));
        assert_eq!(
            with_clean_prompt(video("a\u{202e}cat\u{0}"), false),
            Ok(video("acat"))
        );
        let image = Command::Image {
            prompt: "\u{feff} ".into(),
            n: None,
            size: None,
        };
        assert_eq!(
            with_clean_prompt(image, true),
            Err(ParseError::MissingPrompt {
                command: CommandName::Image
            })
        );
        assert_eq!(with_clean_prompt(Command::Quota, false), Ok(Command::Quota));
    }
}
