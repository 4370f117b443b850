//! Interactions, each answered within Discord's 3 seconds: a slash command
//! or modal is deferred, read into the core's `Command` and run by the
//! engine; a Remix or Save-as-character button (or message context menu)
//! opens a modal once the engine says the user may act on that job, or
//! shows its refusal to the user alone; Retry and Cancel go to
//! `Engine::press`, whose notice comes back as an ephemeral follow-up.

use serenity::all::{
    ActionRowComponent, CommandInteraction, CommandType, ComponentInteraction, CreateActionRow,
    CreateInputText, CreateInteractionResponse, CreateInteractionResponseMessage, CreateModal,
    InputTextStyle, Interaction, InteractionId, Member, ModalInteraction, User,
};
use serenity::http::{LightMethod, Request, Route};
use sorabot::chat::{
    language_of, Attachment, AttachmentKind, Button, ButtonAction, ChatRef, Incoming, Outgoing,
    UserRef,
};
use sorabot::command::{Command, CommandName, Lang, ParseError, Target, VideoFlags};
use sorabot::engine::{Press, PressAnswer};
use sorabot::i18n::{say, text, Msg};
use sorabot::ids::JobId;
use sorabot::job::Job;
use sorabot::Engine;

use super::answers;
use super::commands::{self, Jobs, Refusal, CHARACTER_MENU, REMIX_MENU};
use super::rest::RestError;
use super::{Bot, PLATFORM};

/// Modal `custom_id`s are `modal:` and the button data of the job, or
/// `modal:posted:` and the id of a message whose video a character is cut from.
const MODAL_PREFIX: &str = "modal:";
const POSTED: &str = "posted:";

/// Handles one interaction.
pub async fn handle(bot: &Bot, interaction: Interaction) {
    match interaction {
        Interaction::Command(command) => match command.data.kind {
            CommandType::ChatInput => slash(bot, &command).await,
            CommandType::Message => context_menu(bot, &command).await,
            _ => {}
        },
        Interaction::Component(press) => button(bot, &press).await,
        Interaction::Modal(modal) => submitted(bot, &modal).await,
        _ => {}
    }
}

/// The channel an interaction happened in.
pub fn chat_of(channel: impl ToString, in_guild: bool) -> ChatRef {
    ChatRef {
        platform: PLATFORM.to_owned(),
        chat: channel.to_string(),
        thread: None,
        private: !in_guild,
    }
}

/// Who acted: a member with moderation rights counts as a chat admin.
fn person(user: &User, member: Option<&Member>, locale: &str) -> UserRef {
    let admin = member
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.administrator() || p.manage_guild() || p.manage_messages());
    UserRef {
        id: user.id.to_string(),
        name: user
            .global_name
            .clone()
            .unwrap_or_else(|| user.name.clone()),
        language: Some(locale.to_owned()).filter(|l| !l.is_empty()),
        chat_admin: admin,
    }
}

/// A slash command: defer, read, run.
async fn slash(bot: &Bot, call: &CommandInteraction) {
    let chat = chat_of(call.channel_id, call.guild_id.is_some());
    let user = person(&call.user, call.member.as_deref(), &call.locale);
    bot.limits
        .remember(&chat.chat, u64::from(call.attachment_size_limit));
    let personal = commands::is_personal(&call.data.name, &call.data.options);
    if let Err(error) = defer(bot, call.id, &call.token, personal).await {
        tracing::warn!(%error, command = %call.data.name, "could not defer a command");
        return;
    }
    bot.answers
        .open(call.id.get(), call.token.clone(), personal);
    let jobs = EngineJobs(&bot.engine);
    let read = commands::to_command(&call.data.name, &call.data.options, &jobs).await;
    let incoming = Incoming {
        chat,
        user,
        message_id: answers::message_ref(call.id.get()),
        text: format!("/{}", call.data.name),
        attachments: images(call),
        reply_to: None,
        reply_media: None,
        bot_username: Some(bot.name.clone()),
    };
    run(bot, &incoming, read).await;
    forget_unanswered(bot, call.id).await;
}

/// Runs a command read from an interaction, or shows why it was refused
/// (in the core's words, to whom the core answers).
async fn run(bot: &Bot, incoming: &Incoming, read: Result<Command, Refusal>) {
    match read {
        Ok(command) => bot.engine.execute(incoming, command).await,
        Err(refusal) => {
            let Some(text) = bot
                .engine
                .refusal(&incoming.chat, &incoming.user, &refusal.msg())
                .await
            else {
                return;
            };
            let reply = Outgoing::text(text).replying_to(Some(incoming.message_id.clone()));
            if let Err(error) =
                sorabot::chat::ChatPort::send(bot.port.as_ref(), &incoming.chat, &reply).await
            {
                tracing::warn!(%error, "could not show a refusal");
            }
        }
    }
}

/// The image attachment option, as the engine takes it: its CDN URL, type and size.
fn images(call: &CommandInteraction) -> Vec<Attachment> {
    call.data
        .options
        .iter()
        .filter_map(|o| match o.value {
            serenity::all::CommandDataOptionValue::Attachment(id) => {
                call.data.resolved.attachments.get(&id)
            }
            _ => None,
        })
        .map(attachment)
        .collect()
}

/// A Discord attachment as the core takes it: its CDN URL, type, size and
/// picture size. Discord gives a picture's width and height only when it
/// could read the picture, so an "image" without them is not taken as one.
fn attachment(file: &serenity::all::Attachment) -> Attachment {
    let mime = file.content_type.clone();
    let pixels = file.width.zip(file.height);
    let kind = match mime.as_deref() {
        Some(m) if m.starts_with("image/") && pixels.is_some() => AttachmentKind::Image,
        Some(m) if m.starts_with("video/") => AttachmentKind::Video,
        _ => AttachmentKind::Other,
    };
    Attachment {
        kind,
        mime,
        size: Some(u64::from(file.size)),
        data: None,
        public_url: Some(file.url.clone()),
        pixels,
    }
}

/// The first video of the message a context menu was used on.
fn target_video(call: &CommandInteraction) -> Option<(u64, Attachment)> {
    let target = call.data.target_id?;
    let message = call.data.resolved.messages.get(&target.get().into())?;
    message
        .attachments
        .iter()
        .map(attachment)
        .find(|a| a.kind == AttachmentKind::Video)
        .map(|video| (target.get(), video))
}

/// Longest a message menu waits for a video being posted to be recorded.
const MENU_SETTLE: std::time::Duration = std::time::Duration::from_millis(1500);

/// "Remix" or "Save as character" on a message: its job, then the modal.
async fn context_menu(bot: &Bot, call: &CommandInteraction) {
    let chat = chat_of(call.channel_id, call.guild_id.is_some());
    let user = person(&call.user, call.member.as_deref(), &call.locale);
    bot.limits
        .remember(&chat.chat, u64::from(call.attachment_size_limit));
    let lang = language_of(&user, bot.engine.limits().default_lang);
    let action = match call.data.name.as_str() {
        REMIX_MENU => ButtonAction::Remix,
        CHARACTER_MENU => ButtonAction::SaveCharacter,
        _ => return,
    };
    // A video posted this very moment may not be recorded yet; Discord
    // wants the modal within 3 s, so the wait for it is short.
    let job = match call.data.target_id {
        Some(target) => {
            bot.engine
                .message_job(&chat, &target.to_string(), MENU_SETTLE)
                .await
        }
        None => None,
    };
    match (job, action, target_video(call)) {
        (Some(job), ..) => open_modal(bot, call.id, &call.token, &chat, &user, action, &job).await,
        // A video someone posted: a character may be cut from it by its URL.
        (None, ButtonAction::SaveCharacter, Some((message, video))) => {
            bot.answers.hold_video(message, video);
            let modal = character_modal(format!("{MODAL_PREFIX}{POSTED}{message}"), None, lang);
            let modal = CreateInteractionResponse::Modal(modal);
            if let Err(error) = respond(bot, call.id, &call.token, modal).await {
                tracing::warn!(%error, "could not open a modal");
            }
        }
        _ => {
            let remix = action == ButtonAction::Remix;
            notice(
                bot,
                call.id,
                &call.token,
                say(lang, &Msg::MenuNeedsVideo { remix }),
            )
            .await;
        }
    }
}

/// A button press.
async fn button(bot: &Bot, press: &ComponentInteraction) {
    let chat = chat_of(press.channel_id, press.guild_id.is_some());
    let user = person(&press.user, press.member.as_ref(), &press.locale);
    bot.limits
        .remember(&chat.chat, u64::from(press.attachment_size_limit));
    let lang = language_of(&user, bot.engine.limits().default_lang);
    let Some((action, job)) = Button::parse_data(&press.data.custom_id) else {
        notice(bot, press.id, &press.token, say(lang, &Msg::NoSuchJob("?"))).await;
        return;
    };
    match action {
        ButtonAction::Remix | ButtonAction::Extend | ButtonAction::SaveCharacter => {
            open_modal(bot, press.id, &press.token, &chat, &user, action, &job).await;
        }
        ButtonAction::Retry | ButtonAction::Cancel => {
            // Acknowledged without touching the message (an update would
            // drop the files of a video message).
            if let Err(error) = respond(
                bot,
                press.id,
                &press.token,
                CreateInteractionResponse::Acknowledge,
            )
            .await
            {
                tracing::warn!(%error, "could not acknowledge a press");
                return;
            }
            let press_in = Press {
                chat,
                user,
                message_id: press.message.id.to_string(),
                data: press.data.custom_id.clone(),
            };
            if let PressAnswer::Notice(text) = bot.engine.press(&press_in).await {
                follow_up(bot, &press.token, text).await;
            }
        }
    }
}

/// Opens the Remix or Save-as-character modal, if the user may act on the job.
async fn open_modal(
    bot: &Bot,
    id: InteractionId,
    token: &str,
    chat: &ChatRef,
    user: &UserRef,
    action: ButtonAction,
    job: &JobId,
) {
    let lang = language_of(user, bot.engine.limits().default_lang);
    match bot.engine.may_act_on(chat, user, job).await {
        Ok(job) => {
            let modal = CreateInteractionResponse::Modal(modal_for(action, &job, lang));
            if let Err(error) = respond(bot, id, token, modal).await {
                tracing::warn!(%error, "could not open a modal");
            }
        }
        Err(refusal) => notice(bot, id, token, refusal).await,
    }
}

/// The modal asking what to change, or the character's name and span.
fn modal_for(action: ButtonAction, job: &Job, lang: Lang) -> CreateModal {
    let data = Button {
        action,
        job: job.id.clone(),
        label: String::new(),
    }
    .data();
    let custom_id = format!("{MODAL_PREFIX}{data}");
    let row = |input: CreateInputText| CreateActionRow::InputText(input);
    match action {
        ButtonAction::Remix => {
            let title = text(
                lang,
                "modal-remix-title",
                &[("job", job.id.as_str().into())],
            );
            let label = text(lang, "modal-remix-prompt", &[]);
            let prompt = CreateInputText::new(InputTextStyle::Paragraph, label, "prompt")
                .required(true)
                .max_length(1000);
            CreateModal::new(custom_id, title).components(vec![row(prompt)])
        }
        ButtonAction::Extend => {
            let title = text(
                lang,
                "modal-extend-title",
                &[("job", job.id.as_str().into())],
            );
            let label = text(lang, "modal-extend-prompt", &[]);
            let prompt = CreateInputText::new(InputTextStyle::Paragraph, label, "prompt")
                .required(true)
                .max_length(1000);
            let label = text(lang, "modal-extend-seconds", &[]);
            let seconds = CreateInputText::new(InputTextStyle::Short, label, "seconds")
                .required(false)
                .max_length(3);
            CreateModal::new(custom_id, title).components(vec![row(prompt), row(seconds)])
        }
        _ => character_modal(custom_id, Some(&job.id), lang),
    }
}

/// The modal asking a character's name and span, from a job's video or
/// (without one) from a video someone posted.
fn character_modal(custom_id: String, job: Option<&JobId>, lang: Lang) -> CreateModal {
    let row = |input: CreateInputText| CreateActionRow::InputText(input);
    let title = match job {
        Some(job) => text(
            lang,
            "modal-character-title-from",
            &[("job", job.as_str().into())],
        ),
        None => text(lang, "modal-character-title", &[]),
    };
    let name_label = text(lang, "modal-character-name", &[]);
    let at_label = text(lang, "modal-character-at", &[]);
    let name = CreateInputText::new(InputTextStyle::Short, name_label, "name")
        .required(true)
        .max_length(32);
    let at = CreateInputText::new(InputTextStyle::Short, at_label, "at")
        .required(false)
        .max_length(20)
        .placeholder("0,3");
    CreateModal::new(custom_id, title).components(vec![row(name), row(at)])
}

/// A submitted modal: the remix or the character, run like a command.
async fn submitted(bot: &Bot, modal: &ModalInteraction) {
    let chat = chat_of(modal.channel_id, modal.guild_id.is_some());
    let user = person(&modal.user, modal.member.as_ref(), &modal.locale);
    bot.limits
        .remember(&chat.chat, u64::from(modal.attachment_size_limit));
    let Some(data) = modal.data.custom_id.strip_prefix(MODAL_PREFIX) else {
        return;
    };
    let form = match data.strip_prefix(POSTED) {
        Some(message) => match message.parse::<u64>() {
            Ok(message) => Form::Posted(message),
            Err(_) => return,
        },
        None => match Button::parse_data(data) {
            Some((action, job)) => Form::Job(action, job),
            None => return,
        },
    };
    if let Err(error) = defer(bot, modal.id, &modal.token, false).await {
        tracing::warn!(%error, "could not defer a modal");
        return;
    }
    bot.answers.open(modal.id.get(), modal.token.clone(), false);
    let field = |name: &str| {
        modal
            .data
            .components
            .iter()
            .flat_map(|row| row.components.iter())
            .find_map(|c| match c {
                ActionRowComponent::InputText(input) if input.custom_id == name => {
                    input.value.clone()
                }
                _ => None,
            })
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut reply = None;
    let read = match form {
        Form::Posted(message) => match bot.answers.held_video(message) {
            Some(video) => {
                reply = Some((message.to_string(), video));
                character_from(field("name"), field("at"), Target::Reply)
            }
            None => Err(Refusal::FormExpired),
        },
        Form::Job(ButtonAction::Remix, job) => match field("prompt") {
            Some(prompt) => Ok(Command::Remix {
                target: Target::Job(job),
                prompt,
                flags: VideoFlags::default(),
            }),
            None => Err(Refusal::Invalid(ParseError::MissingPrompt {
                command: CommandName::Remix,
            })),
        },
        Form::Job(ButtonAction::Extend, job) => match field("prompt") {
            Some(prompt) => Ok(Command::Extend {
                target: Target::Job(job),
                seconds: field("seconds").and_then(|s| s.trim_end_matches(['s', 'S']).parse().ok()),
                prompt,
            }),
            None => Err(Refusal::Invalid(ParseError::MissingPrompt {
                command: CommandName::Extend,
            })),
        },
        Form::Job(_, job) => character_from(field("name"), field("at"), Target::Job(job)),
    };
    let (reply_to, reply_media) = reply.unzip();
    let incoming = Incoming {
        chat,
        user,
        message_id: answers::message_ref(modal.id.get()),
        text: String::new(),
        attachments: vec![],
        reply_to,
        reply_media,
        bot_username: Some(bot.name.clone()),
    };
    run(bot, &incoming, read).await;
    forget_unanswered(bot, modal.id).await;
}

/// What a submitted modal is about.
enum Form {
    /// A remix of a job, or a character from its video.
    Job(ButtonAction, JobId),
    /// A character from the video of someone's message.
    Posted(u64),
}

/// The character form's fields, read as `/character add` reads its options.
fn character_from(
    name: Option<String>,
    at: Option<String>,
    target: Target,
) -> Result<Command, Refusal> {
    commands::character_add(&name.unwrap_or_default(), at.as_deref(), target)
}

/// The first answer to an interaction.
async fn respond(
    bot: &Bot,
    id: InteractionId,
    token: &str,
    response: CreateInteractionResponse,
) -> Result<(), RestError> {
    let body = serde_json::to_vec(&response).map_err(|_| RestError::Unreadable)?;
    let route = Route::InteractionResponse {
        interaction_id: id,
        token,
    };
    bot.rest
        .call(
            "POST interactions/callback",
            Request::new(route, LightMethod::Post).body(Some(body)),
        )
        .await
        .map(drop)
}

/// "Thinking…": the answer follows (ephemeral for personal commands).
async fn defer(
    bot: &Bot,
    id: InteractionId,
    token: &str,
    ephemeral: bool,
) -> Result<(), RestError> {
    let message = CreateInteractionResponseMessage::new().ephemeral(ephemeral);
    respond(bot, id, token, CreateInteractionResponse::Defer(message)).await
}

/// A text for the user alone, as the interaction's answer.
async fn notice(bot: &Bot, id: InteractionId, token: &str, text: String) {
    let message = CreateInteractionResponseMessage::new()
        .content(super::port::fit(&text, super::port::MAX_CONTENT))
        .allowed_mentions(super::port::no_pings())
        .ephemeral(true);
    if let Err(error) = respond(bot, id, token, CreateInteractionResponse::Message(message)).await {
        tracing::warn!(%error, "could not show a notice");
    }
}

/// A text for the user alone, after the interaction was acknowledged.
async fn follow_up(bot: &Bot, token: &str, text: String) {
    if let Err(error) = bot.port.follow_up(token, &text).await {
        tracing::warn!(%error, "could not send a follow-up");
    }
}

/// The engine said nothing in answer: the "thinking…" response goes away.
async fn forget_unanswered(bot: &Bot, id: InteractionId) {
    let Some(claim) = bot.answers.claim(id.get()) else {
        return;
    };
    if let Err(error) = bot.port.remove_response(&claim.token).await {
        tracing::debug!(%error, "could not remove an unanswered response");
    }
}

/// The engine's answer to which job a message of the bot's belongs to.
struct EngineJobs<'a>(&'a Engine);

impl Jobs for EngineJobs<'_> {
    async fn of_message(&self, channel: &str, message: &str) -> Option<JobId> {
        // A link someone copied names a message already posted: the wait
        // is only for one being posted this very moment.
        self.0
            .message_job(&chat_of(channel, true), message, MENU_SETTLE)
            .await
    }
}
