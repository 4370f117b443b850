//! The commands by name: what each is called, and its aliases. Its one-line
//! syntax and description, the rest of what `/help` shows, are in the
//! catalogue (`usage-NAME`, `summary-NAME`).

use std::fmt;

/// A command as `/help` lists it. Every [`super::Command`] belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommandName {
    Start,
    Help,
    Video,
    Image,
    Remix,
    Extend,
    Character,
    Tasks,
    Status,
    Cancel,
    Retry,
    Settings,
    Quota,
    Stats,
    Ban,
    Unban,
    Grant,
}

impl CommandName {
    /// Every command, in the order `/help` lists them.
    pub const ALL: [CommandName; 13] = [
        CommandName::Start,
        CommandName::Help,
        CommandName::Video,
        CommandName::Image,
        CommandName::Remix,
        CommandName::Extend,
        CommandName::Character,
        CommandName::Tasks,
        CommandName::Status,
        CommandName::Cancel,
        CommandName::Retry,
        CommandName::Settings,
        CommandName::Quota,
    ];

    /// The operators' commands (`ADMINS`), apart from [`Self::ALL`]: they
    /// are refused to everyone else, and listed only to operators.
    pub const OPERATOR: [CommandName; 4] = [
        CommandName::Stats,
        CommandName::Ban,
        CommandName::Unban,
        CommandName::Grant,
    ];

    /// Whether only operators may use this command.
    pub fn is_operator(self) -> bool {
        CommandName::OPERATOR.contains(&self)
    }

    /// The name after the slash: `video`.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandName::Start => "start",
            CommandName::Help => "help",
            CommandName::Video => "video",
            CommandName::Image => "image",
            CommandName::Remix => "remix",
            CommandName::Extend => "extend",
            CommandName::Character => "character",
            CommandName::Tasks => "tasks",
            CommandName::Status => "status",
            CommandName::Cancel => "cancel",
            CommandName::Retry => "retry",
            CommandName::Settings => "settings",
            CommandName::Quota => "quota",
            CommandName::Stats => "stats",
            CommandName::Ban => "ban",
            CommandName::Unban => "unban",
            CommandName::Grant => "grant",
        }
    }

    /// Other names the command answers to.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            CommandName::Video => &["v", "gen"],
            CommandName::Image => &["img"],
            CommandName::Character => &["char", "characters"],
            CommandName::Tasks => &["jobs"],
            _ => &[],
        }
    }

    /// The command a name or alias stands for, in any case, without the slash.
    pub fn from_name(name: &str) -> Option<CommandName> {
        let name = name.to_lowercase();
        CommandName::ALL
            .into_iter()
            .chain(CommandName::OPERATOR)
            .find(|command| command.as_str() == name || command.aliases().contains(&name.as_str()))
    }

    /// The one-line syntax in English, as `/help` shows it and errors
    /// repeat it (other languages: [`crate::i18n::usage`]).
    pub fn usage(self) -> String {
        crate::i18n::usage(super::Lang::En, self)
    }
}

impl fmt::Display for CommandName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_alias_reads_back_to_its_command() {
        for command in CommandName::ALL.into_iter().chain(CommandName::OPERATOR) {
            assert_eq!(CommandName::from_name(command.as_str()), Some(command));
            assert_eq!(
                CommandName::from_name(&command.as_str().to_uppercase()),
                Some(command)
            );
            for alias in command.aliases() {
                assert_eq!(CommandName::from_name(alias), Some(command), "{alias}");
            }
        }
        assert_eq!(CommandName::from_name("lang"), None);
    }

    #[test]
    fn every_usage_starts_with_its_command_and_every_summary_is_one_line() {
        for command in CommandName::ALL.into_iter().chain(CommandName::OPERATOR) {
            assert!(
                command.usage().starts_with(&format!("/{command}")),
                "{command}"
            );
            for lang in crate::command::Lang::ALL {
                let summary = crate::i18n::summary(lang, command);
                assert!(!summary.is_empty() && !summary.contains('\n'), "{command}");
                let usage = crate::i18n::usage(lang, command);
                assert!(usage.starts_with(&format!("/{command}")), "{usage}");
            }
        }
    }
}
