//! The commands by name: what each is called (and its aliases), its one-line
//! syntax, and its one-line description, the data `/help` is made of.

use std::fmt;

/// A command as `/help` lists it. Every [`super::Command`] belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommandName {
    Start,
    Help,
    Video,
    Image,
    Remix,
    Character,
    Tasks,
    Status,
    Cancel,
    Retry,
    Settings,
    Quota,
}

impl CommandName {
    /// Every command, in the order `/help` lists them.
    pub const ALL: [CommandName; 12] = [
        CommandName::Start,
        CommandName::Help,
        CommandName::Video,
        CommandName::Image,
        CommandName::Remix,
        CommandName::Character,
        CommandName::Tasks,
        CommandName::Status,
        CommandName::Cancel,
        CommandName::Retry,
        CommandName::Settings,
        CommandName::Quota,
    ];

    /// The name after the slash: `video`.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandName::Start => "start",
            CommandName::Help => "help",
            CommandName::Video => "video",
            CommandName::Image => "image",
            CommandName::Remix => "remix",
            CommandName::Character => "character",
            CommandName::Tasks => "tasks",
            CommandName::Status => "status",
            CommandName::Cancel => "cancel",
            CommandName::Retry => "retry",
            CommandName::Settings => "settings",
            CommandName::Quota => "quota",
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
            .find(|command| command.as_str() == name || command.aliases().contains(&name.as_str()))
    }

    /// The one-line syntax, as `/help` shows it and errors repeat it.
    pub fn usage(self) -> &'static str {
        match self {
            CommandName::Start => "/start",
            CommandName::Help => "/help [command]",
            CommandName::Video => {
                "/video PROMPT [--ar 16:9|9:16] [--dur 10|15|25] [--model sora-2|sora-2-pro] [--hd]"
            }
            CommandName::Image => "/image PROMPT [--n 1-4] [--size WxH]",
            CommandName::Remix => {
                "/remix [JOBID] PROMPT [--ar 16:9|9:16] [--dur 10|15|25] [--model sora-2|sora-2-pro] [--hd]"
            }
            CommandName::Character => {
                "/character add NAME [JOBID] [--at START,END] | /character list | /character remove NAME"
            }
            CommandName::Tasks => "/tasks",
            CommandName::Status => "/status [JOBID]",
            CommandName::Cancel => "/cancel [JOBID]",
            CommandName::Retry => "/retry [JOBID]",
            CommandName::Settings => {
                "/settings [--ar 16:9|9:16] [--dur 10|15|25] [--model sora-2|sora-2-pro] [--hd] [--lang en|zh] [--reset]"
            }
            CommandName::Quota => "/quota",
        }
    }

    /// What the command does, in one line of English (the doc comment of its
    /// [`super::Command`] variants says the same).
    pub fn summary(self) -> &'static str {
        match self {
            CommandName::Start => "Say hello and show what the bot can do.",
            CommandName::Help => "List the commands, or explain one.",
            CommandName::Video => "Make a video from a prompt, and from the images sent with it.",
            CommandName::Image => "Make images from a prompt, or edit the images sent with it.",
            CommandName::Remix => "Make a new video from one already made: reply to it or give its job id.",
            CommandName::Character => "Save a character from a video, list yours, or remove one; use it as @NAME in a prompt.",
            CommandName::Tasks => "List your recent jobs.",
            CommandName::Status => "Show how a job is going.",
            CommandName::Cancel => "Stop a job that has not finished.",
            CommandName::Retry => "Run a failed job again.",
            CommandName::Settings => "Show or change your default video options and language.",
            CommandName::Quota => "Show how many jobs you have left.",
        }
    }

    /// What the command does, in one line of Chinese.
    pub fn summary_zh(self) -> &'static str {
        match self {
            CommandName::Start => "打个招呼，看看机器人能做什么。",
            CommandName::Help => "列出所有命令，或说明某个命令。",
            CommandName::Video => "根据提示词（和随附的图片）生成视频。",
            CommandName::Image => "根据提示词生成图片，或编辑随附的图片。",
            CommandName::Remix => "在已生成的视频上再创作：回复该视频，或给出任务 ID。",
            CommandName::Character => "从视频中保存角色、查看或删除角色；在提示词中用 @名字 引用。",
            CommandName::Tasks => "列出你最近的任务。",
            CommandName::Status => "查看任务进度。",
            CommandName::Cancel => "取消尚未完成的任务。",
            CommandName::Retry => "重新运行失败的任务。",
            CommandName::Settings => "查看或修改默认视频选项和语言。",
            CommandName::Quota => "查看剩余额度。",
        }
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
        for command in CommandName::ALL {
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
        for command in CommandName::ALL {
            assert!(
                command.usage().starts_with(&format!("/{command}")),
                "{command}"
            );
            for summary in [command.summary(), command.summary_zh()] {
                assert!(!summary.is_empty() && !summary.contains('\n'), "{command}");
            }
        }
    }
}
