//! The languages the bot speaks, and how users name them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A language of the bot's replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The short code, as `--lang` takes it: `en`, `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The language's name in itself, for a language picker (its file's
    /// `language-name`).
    pub fn native_name(self) -> String {
        crate::i18n::catalogue::text(self.code(), "language-name", &[])
    }

    /// Reads a language as users and clients name it: `en`, `english`,
    /// `zh`, `zh-CN`, `zh_Hans`, `中文`, `chinese`... (any case).
    pub fn parse(text: &str) -> Option<Lang> {
        let text = text.trim().to_lowercase().replace('_', "-");
        match text.as_str() {
            "english" | "eng" | "英文" | "英语" | "英語" => Some(Lang::En),
            "chinese" | "cn" | "中文" | "汉语" | "漢語" | "简体中文" | "繁體中文" | "繁体中文" => {
                Some(Lang::Zh)
            }
            // A language tag (Telegram's `language_code`): its first part.
            _ => match text.split('-').next() {
                Some("en") => Some(Lang::En),
                Some("zh") => Some(Lang::Zh),
                _ => None,
            },
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_read_by_code_tag_or_name() {
        for en in ["en", "EN", "en-US", "en_gb", "English", "英文"] {
            assert_eq!(Lang::parse(en), Some(Lang::En), "{en}");
        }
        for zh in [
            "zh",
            "zh-CN",
            "zh_Hans",
            "zh-tw",
            "中文",
            "Chinese",
            "简体中文",
        ] {
            assert_eq!(Lang::parse(zh), Some(Lang::Zh), "{zh}");
        }
        for other in ["", "fr", "e", "english please", "-"] {
            assert_eq!(Lang::parse(other), None, "{other}");
        }
    }
}
