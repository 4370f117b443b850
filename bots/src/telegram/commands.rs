//! The command menu Telegram clients autocomplete: every command of the
//! shared grammar with its one-line summary, in English (the default list)
//! and in Chinese (`language_code` `zh`).

use sorabot::command::CommandName;
use teloxide::prelude::*;
use teloxide::types::BotCommand;
use teloxide::RequestError;

/// Telegram's longest command description.
const MAX_DESCRIPTION: usize = 256;

/// The menu in one language.
pub fn menu(chinese: bool) -> Vec<BotCommand> {
    CommandName::ALL
        .iter()
        .map(|command| {
            let summary = if chinese {
                command.summary_zh()
            } else {
                command.summary()
            };
            BotCommand::new(
                command.as_str().to_lowercase(),
                summary.chars().take(MAX_DESCRIPTION).collect::<String>(),
            )
        })
        .filter(|c| (1..=32).contains(&c.command.len()))
        .collect()
}

/// Sets both menus.
pub async fn register(bot: &Bot) -> Result<(), RequestError> {
    bot.set_my_commands(menu(false)).await?;
    bot.set_my_commands(menu(true)).language_code("zh").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_both_menus_lowercase_and_short() {
        for chinese in [false, true] {
            let menu = menu(chinese);
            assert_eq!(menu.len(), CommandName::ALL.len());
            for command in &menu {
                assert!(command.command.len() <= 32);
                assert_eq!(command.command, command.command.to_lowercase());
                assert!(!command.description.is_empty());
            }
        }
        assert_eq!(menu(true)[2].command, "video");
        assert_ne!(menu(true)[2].description, menu(false)[2].description);
    }
}
