//! The command menu Telegram clients autocomplete: every command of the
//! shared grammar with its one-line summary from the catalogue, in the base
//! language (the default list) and in each other language the catalogue
//! has a file of (`language_code` `zh`: a new file is a new menu). Each
//! Telegram operator (`ADMINS`) gets, in their private chat with the bot,
//! the menu with the operators' commands too.

use sorabot::command::CommandName;
use sorabot::i18n::catalogue;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, BotCommandScope, Recipient};
use teloxide::RequestError;

/// Telegram's longest command description.
const MAX_DESCRIPTION: usize = 256;

/// The menu in the catalogue's language `tag`.
pub fn menu(tag: &str) -> Vec<BotCommand> {
    menu_of(tag, &CommandName::ALL)
}

/// The menu of an operator: every command, theirs last.
pub fn operator_menu(tag: &str) -> Vec<BotCommand> {
    let all: Vec<CommandName> = CommandName::ALL
        .into_iter()
        .chain(CommandName::OPERATOR)
        .collect();
    menu_of(tag, &all)
}

/// The Telegram user ids among `ADMINS` (`telegram:77`).
pub fn telegram_operators<'a>(admins: impl IntoIterator<Item = &'a String>) -> Vec<i64> {
    let mut ids: Vec<i64> = admins
        .into_iter()
        .filter_map(|admin| admin.strip_prefix("telegram:")?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

/// Sets the operators' menu in each operator's private chat.
pub async fn register_operators(bot: &Bot, operators: &[i64]) -> Result<(), RequestError> {
    for &id in operators {
        let scope = BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(id)),
        };
        bot.set_my_commands(operator_menu(catalogue::BASE))
            .scope(scope.clone())
            .await?;
        for tag in menu_languages() {
            bot.set_my_commands(operator_menu(tag))
                .scope(scope.clone())
                .language_code(tag)
                .await?;
        }
    }
    Ok(())
}

fn menu_of(tag: &str, commands: &[CommandName]) -> Vec<BotCommand> {
    commands
        .iter()
        .map(|command| {
            let summary = catalogue::text(tag, &format!("summary-{}", command.as_str()), &[]);
            BotCommand::new(
                command.as_str().to_lowercase(),
                summary.chars().take(MAX_DESCRIPTION).collect::<String>(),
            )
        })
        .filter(|c| (1..=32).contains(&c.command.len()))
        .collect()
}

/// The languages with a menu of their own: Telegram's `language_code` is a
/// two-letter ISO 639-1 code, so regional files (`zh-TW`) have none.
pub fn menu_languages() -> Vec<&'static str> {
    catalogue::tags()
        .into_iter()
        .filter(|tag| *tag != catalogue::BASE && tag.len() == 2)
        .collect()
}

/// Sets the default menu and one per language.
pub async fn register(bot: &Bot) -> Result<(), RequestError> {
    bot.set_my_commands(menu(catalogue::BASE)).await?;
    for tag in menu_languages() {
        bot.set_my_commands(menu(tag)).language_code(tag).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_every_menu_lowercase_and_short() {
        assert!(menu_languages().contains(&"zh"));
        for tag in [catalogue::BASE, "zh"] {
            let menu = menu(tag);
            assert_eq!(menu.len(), CommandName::ALL.len());
            for command in &menu {
                assert!(command.command.len() <= 32);
                assert_eq!(command.command, command.command.to_lowercase());
                assert!(!command.description.is_empty());
            }
        }
        assert_eq!(menu("zh")[2].command, "video");
        assert_ne!(
            menu("zh")[2].description,
            menu(catalogue::BASE)[2].description
        );
    }
}
