//! The `--name value` options of commands: which names each command takes,
//! taking them out of the argument text, and reading their values.

use super::lexer::{self, Dash, Word};
use super::{CommandName, Lang, ParseError, VideoFlags};
use crate::backend::{AspectRatio, ModelTier, Timestamps};
use crate::ids::JobId;

/// Every option any command knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    Aspect,
    Duration,
    Model,
    Pro,
    Hd,
    Count,
    Size,
    At,
    Lang,
    Reset,
}

impl Flag {
    /// The option a flag name (lowercase, without dashes) stands for.
    fn named(name: &str) -> Option<Flag> {
        Some(match name {
            "ar" | "aspect" => Flag::Aspect,
            "dur" | "duration" | "seconds" => Flag::Duration,
            "model" => Flag::Model,
            "pro" => Flag::Pro,
            "hd" => Flag::Hd,
            "n" => Flag::Count,
            "size" => Flag::Size,
            "at" => Flag::At,
            "lang" => Flag::Lang,
            "reset" => Flag::Reset,
            _ => return None,
        })
    }

    /// Switches (`--hd`) stand alone; the others need a value.
    fn takes_value(self) -> bool {
        !matches!(self, Flag::Pro | Flag::Hd | Flag::Reset)
    }
}

pub(crate) const NO_FLAGS: &[Flag] = &[];
pub(crate) const VIDEO_FLAGS: &[Flag] = &[
    Flag::Aspect,
    Flag::Duration,
    Flag::Model,
    Flag::Pro,
    Flag::Hd,
];
pub(crate) const IMAGE_FLAGS: &[Flag] = &[Flag::Count, Flag::Size];
pub(crate) const CHARACTER_FLAGS: &[Flag] = &[Flag::At];
pub(crate) const SETTINGS_FLAGS: &[Flag] = &[
    Flag::Aspect,
    Flag::Duration,
    Flag::Model,
    Flag::Pro,
    Flag::Hd,
    Flag::Lang,
    Flag::Reset,
];

/// What a flag's value should have looked like, for
/// [`ParseError::BadFlagValue`] (its words are in the catalogue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Aspect,
    Seconds,
    Model,
    Count,
    Size,
    Lang,
    /// A switch (`--hd`) given a value.
    Switch,
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::i18n::expected(Lang::En, *self))
    }
}

pub(crate) const EXPECTED_ASPECT: Expected = Expected::Aspect;
pub(crate) const EXPECTED_SECONDS: Expected = Expected::Seconds;
pub(crate) const EXPECTED_MODEL: Expected = Expected::Model;
pub(crate) const EXPECTED_COUNT: Expected = Expected::Count;
pub(crate) const EXPECTED_SIZE: Expected = Expected::Size;
pub(crate) const EXPECTED_LANG: Expected = Expected::Lang;
pub(crate) const EXPECTED_SWITCH: Expected = Expected::Switch;

/// One option as the user gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Given<'a> {
    pub flag: Flag,
    /// The name as typed (lowercased), so errors repeat the user's word.
    pub name: String,
    /// Empty for switches.
    pub value: &'a str,
}

impl Given<'_> {
    fn bad_value(&self, command: CommandName, expected: Expected) -> ParseError {
        ParseError::BadFlagValue {
            command,
            flag: self.name.clone(),
            value: self.value.to_owned(),
            expected,
        }
    }
}

/// The arguments of one command: its words, and which of them have been
/// taken (as flags, values, job ids, subcommands) so far.
pub(crate) struct Args<'a> {
    text: &'a str,
    words: Vec<Word<'a>>,
    /// `taken[i]` says whether `words[i]` was used up.
    taken: Vec<bool>,
}

impl<'a> Args<'a> {
    pub fn new(text: &'a str) -> Self {
        let words = lexer::words(text);
        let taken = vec![false; words.len()];
        Args { text, words, taken }
    }

    /// Takes every flag out of the arguments, wherever it stands. A `--name`
    /// not in `allowed` is an error; a `—name` not in `allowed` is prose.
    pub fn take_flags(
        &mut self,
        command: CommandName,
        allowed: &[Flag],
    ) -> Result<Vec<Given<'a>>, ParseError> {
        let mut given = Vec::new();
        let mut i = 0;
        while i < self.words.len() {
            let word = self.words[i].text;
            let found = lexer::flag_word(word).filter(|_| !self.taken[i]);
            if let Some(flag_word) = found {
                let name = flag_word.name.to_ascii_lowercase();
                match Flag::named(&name).filter(|flag| allowed.contains(flag)) {
                    Some(flag) => {
                        self.taken[i] = true;
                        let value = self.take_value(i, flag, flag_word.value, command, &name)?;
                        if flag.takes_value() && flag_word.value.is_none() {
                            i += 1;
                        }
                        given.push(Given { flag, name, value });
                    }
                    None if flag_word.dash == Dash::Typographic => {}
                    None => {
                        return Err(ParseError::UnknownFlag {
                            command,
                            flag: name,
                        })
                    }
                }
            }
            i += 1;
        }
        Ok(given)
    }

    /// The value of the flag at `i`: after its `=`, or the next word.
    fn take_value(
        &mut self,
        i: usize,
        flag: Flag,
        inline: Option<&'a str>,
        command: CommandName,
        name: &str,
    ) -> Result<&'a str, ParseError> {
        let missing = || ParseError::MissingFlagValue {
            command,
            flag: name.to_owned(),
        };
        if !flag.takes_value() {
            return match inline {
                None => Ok(""),
                Some(value) => Err(ParseError::BadFlagValue {
                    command,
                    flag: name.to_owned(),
                    value: value.to_owned(),
                    expected: EXPECTED_SWITCH,
                }),
            };
        }
        if let Some(value) = inline {
            return if value.is_empty() {
                Err(missing())
            } else {
                Ok(value)
            };
        }
        match self.words.get(i + 1) {
            Some(next) if lexer::flag_word(next.text).is_none() => {
                self.taken[i + 1] = true;
                Ok(next.text)
            }
            _ => Err(missing()),
        }
    }

    /// Takes the first word not yet taken.
    pub fn take_word(&mut self) -> Option<&'a str> {
        let i = self.taken.iter().position(|taken| !taken)?;
        self.taken[i] = true;
        Some(self.words[i].text)
    }

    /// Takes the first word not yet taken if it is a job id.
    pub fn take_job_id(&mut self) -> Option<JobId> {
        let i = self.taken.iter().position(|taken| !taken)?;
        let id = JobId::parse(self.words[i].text)?;
        self.taken[i] = true;
        Some(id)
    }

    /// The words not yet taken, in order.
    pub fn free_words(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.words
            .iter()
            .zip(&self.taken)
            .filter(|(_, &taken)| !taken)
            .map(|(word, _)| word.text)
    }

    /// Whether any word is left.
    pub fn has_rest(&self) -> bool {
        self.taken.iter().any(|taken| !taken)
    }

    /// The words left, as the user wrote them: runs of spaces become one,
    /// line breaks stay, a blank line stays as one, and a line that held
    /// only flags disappears.
    pub fn rest(&self) -> String {
        let mut text = String::new();
        let mut line_break = false;
        let mut blank_line = false;
        let mut source_end = 0;
        for (word, &taken) in self.words.iter().zip(&self.taken) {
            let newlines = self.gap_newlines(source_end, word.start);
            line_break |= newlines > 0;
            blank_line |= newlines > 1;
            source_end = word.end;
            if taken {
                continue;
            }
            if !text.is_empty() {
                text.push_str(match (blank_line, line_break) {
                    (true, _) => "\n\n",
                    (false, true) => "\n",
                    (false, false) => " ",
                });
            }
            text.push_str(word.text);
            line_break = false;
            blank_line = false;
        }
        text
    }

    /// How many line breaks lie between two byte offsets of the text.
    fn gap_newlines(&self, from: usize, to: usize) -> usize {
        self.text[from..to].matches('\n').count()
    }
}

/// Reads the video options among `given` (others are left to the caller).
pub(crate) fn video_flags(command: CommandName, given: &[Given]) -> Result<VideoFlags, ParseError> {
    let mut flags = VideoFlags::default();
    for g in given {
        match g.flag {
            Flag::Aspect => {
                let aspect = AspectRatio::parse(g.value);
                flags.aspect = Some(aspect.ok_or_else(|| g.bad_value(command, EXPECTED_ASPECT))?);
            }
            Flag::Duration => {
                let seconds = parse_seconds(g.value);
                flags.seconds =
                    Some(seconds.ok_or_else(|| g.bad_value(command, EXPECTED_SECONDS))?);
            }
            Flag::Model => {
                let tier = ModelTier::parse(g.value);
                flags.tier = Some(tier.ok_or_else(|| g.bad_value(command, EXPECTED_MODEL))?);
            }
            Flag::Pro => flags.tier = Some(ModelTier::Pro),
            Flag::Hd => flags.hd = true,
            _ => {}
        }
    }
    Ok(flags)
}

/// Reads `--n` among `given`.
pub(crate) fn image_count(command: CommandName, given: &[Given]) -> Result<Option<u8>, ParseError> {
    last_value(given, Flag::Count, |g| {
        let n = g.value.parse::<u8>().ok().filter(|n| (1..=4).contains(n));
        n.ok_or_else(|| g.bad_value(command, EXPECTED_COUNT))
    })
}

/// Reads `--size` among `given`.
pub(crate) fn image_size(
    command: CommandName,
    given: &[Given],
) -> Result<Option<(u32, u32)>, ParseError> {
    last_value(given, Flag::Size, |g| {
        parse_size(g.value).ok_or_else(|| g.bad_value(command, EXPECTED_SIZE))
    })
}

/// Reads `--at` among `given`.
pub(crate) fn timestamps(given: &[Given]) -> Result<Option<Timestamps>, ParseError> {
    last_value(given, Flag::At, |g| parse_timestamps(g.value))
}

/// Reads `--lang` among `given`.
pub(crate) fn lang(command: CommandName, given: &[Given]) -> Result<Option<Lang>, ParseError> {
    last_value(given, Flag::Lang, |g| {
        Lang::parse(g.value).ok_or_else(|| g.bad_value(command, EXPECTED_LANG))
    })
}

/// Whether the switch `flag` is among `given`.
pub(crate) fn has(given: &[Given], flag: Flag) -> bool {
    given.iter().any(|g| g.flag == flag)
}

/// Reads every `flag` among `given` (so each is checked); the last one wins.
fn last_value<T>(
    given: &[Given],
    flag: Flag,
    read: impl Fn(&Given) -> Result<T, ParseError>,
) -> Result<Option<T>, ParseError> {
    let mut last = None;
    for g in given.iter().filter(|g| g.flag == flag) {
        last = Some(read(g)?);
    }
    Ok(last)
}

/// `10`, `15s`: whole seconds from 1 to 60.
fn parse_seconds(value: &str) -> Option<u32> {
    let digits = value.strip_suffix(['s', 'S']).unwrap_or(value);
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let seconds = all_digits.then(|| digits.parse::<u32>().ok()).flatten()?;
    (1..=60).contains(&seconds).then_some(seconds)
}

/// `1024x1024`, also with `X`, `*` or `×`; each side 64 to 4096.
fn parse_size(value: &str) -> Option<(u32, u32)> {
    let (width, height) = value.split_once(['x', 'X', '*', '×'])?;
    let side = |text: &str| {
        let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        let side = digits.then(|| text.parse::<u32>().ok()).flatten()?;
        (64..=4096).contains(&side).then_some(side)
    };
    Some((side(width)?, side(height)?))
}

/// A character's span, `START,END` (or `START-END`) in seconds, valid as
/// [`Timestamps`]: the value of `--at`, and of any form field that asks
/// for the span (so every platform takes and refuses the same).
pub fn parse_timestamps(value: &str) -> Result<Timestamps, ParseError> {
    span(value).ok_or_else(|| ParseError::BadTimestamps {
        value: value.to_owned(),
    })
}

fn span(value: &str) -> Option<Timestamps> {
    let (start, end) = value
        .split_once([',', '，'])
        .or_else(|| value.split_once(['-', '~']))?;
    let number = |text: &str| {
        let text = text.trim();
        let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        plain.then(|| text.parse::<f32>().ok()).flatten()
    };
    let timestamps = Timestamps {
        start: number(start)?,
        end: number(end)?,
    };
    timestamps.is_valid().then_some(timestamps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_accept_a_trailing_s_and_stay_in_range() {
        assert_eq!(parse_seconds("10"), Some(10));
        assert_eq!(parse_seconds("15s"), Some(15));
        for bad in ["0", "61", "s", "", "+5", "1.5", "ten", "99999999999"] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes_take_any_common_times_sign() {
        for good in ["1024x768", "1024X768", "1024*768", "1024×768"] {
            assert_eq!(parse_size(good), Some((1024, 768)), "{good}");
        }
        for bad in ["63x64", "64x4097", "1024", "x", "axb", "-64x64"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps_take_commas_or_dashes_and_must_be_valid() {
        assert_eq!(
            parse_timestamps("1.5,3"),
            Ok(Timestamps {
                start: 1.5,
                end: 3.0
            })
        );
        assert_eq!(
            parse_timestamps("0-3"),
            Ok(Timestamps {
                start: 0.0,
                end: 3.0
            })
        );
        for bad in ["3,1", "0,4", "-1,1", "1", "a,b", "inf,inf", "NaN,1", ","] {
            let refused = ParseError::BadTimestamps { value: bad.into() };
            assert_eq!(parse_timestamps(bad), Err(refused), "{bad}");
        }
    }

    #[test]
    fn the_rest_keeps_line_breaks_but_not_lines_of_flags() {
        let mut args = Args::new("  a   cat\n--ar 9:16\nin  the rain\n\n\nthe end --hd");
        args.take_flags(CommandName::Video, VIDEO_FLAGS).unwrap();
        assert_eq!(args.rest(), "a cat\nin the rain\n\nthe end");
    }
}
