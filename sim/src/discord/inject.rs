//! What tests make happen: a person runs a slash command, opens a message's
//! context menu, presses a button, submits a modal or writes a message.
//! Each becomes the gateway event Discord would send, with a token for the
//! bot's answers.

use serde_json::{json, Map, Value};
use tokio::time::Instant;

use super::objects;
use super::records::{FileInfo, Injected, MessageRecord, Origin, Person};
use super::state::{InteractionState, Shared};

/// Options of a slash command (or of one of its sub-commands).
#[derive(Debug, Clone, Default)]
pub struct Options {
    list: Vec<Value>,
    attachments: Vec<FileInfo>,
}

impl Options {
    pub fn new() -> Self {
        Self::default()
    }

    /// A string option (type 3).
    pub fn string(mut self, name: &str, value: &str) -> Self {
        self.list
            .push(json!({"name": name, "type": 3, "value": value}));
        self
    }

    /// An integer option (type 4).
    pub fn integer(mut self, name: &str, value: i64) -> Self {
        self.list
            .push(json!({"name": name, "type": 4, "value": value}));
        self
    }

    /// A boolean option (type 5).
    pub fn boolean(mut self, name: &str, value: bool) -> Self {
        self.list
            .push(json!({"name": name, "type": 5, "value": value}));
        self
    }

    /// An attachment option (type 11), resolved in `data.resolved.attachments`.
    pub fn attachment(mut self, name: &str, file: &FileInfo) -> Self {
        self.list
            .push(json!({"name": name, "type": 11, "value": file.id.to_string()}));
        self.attachments.push(file.clone());
        self
    }
}

/// What the person does.
#[derive(Debug, Clone)]
enum Action {
    Slash {
        name: String,
        options: Options,
    },
    MessageCommand {
        name: String,
        target: u64,
    },
    Button {
        message: u64,
        custom_id: String,
    },
    Modal {
        custom_id: String,
        fields: Vec<(String, String)>,
        message: Option<u64>,
    },
}

/// An interaction to send to the bot.
#[derive(Debug, Clone)]
pub struct Call {
    by: Person,
    action: Action,
    channel: Option<u64>,
    dm: bool,
    attachment_size_limit: Option<u64>,
}

impl Call {
    fn new(by: &Person, action: Action) -> Call {
        Call {
            by: by.clone(),
            action,
            channel: None,
            dm: false,
            attachment_size_limit: None,
        }
    }

    /// `/name` with options.
    pub fn slash(by: &Person, name: &str, options: Options) -> Call {
        Call::new(
            by,
            Action::Slash {
                name: name.to_owned(),
                options,
            },
        )
    }

    /// `/name sub` with the sub-command's options.
    pub fn subcommand(by: &Person, name: &str, sub: &str, options: Options) -> Call {
        let attachments = options.attachments.clone();
        let nested = json!({"name": sub, "type": 1, "options": options.list});
        let options = Options {
            list: vec![nested],
            attachments,
        };
        Call::new(
            by,
            Action::Slash {
                name: name.to_owned(),
                options,
            },
        )
    }

    /// The message context-menu command `name` on `target`.
    pub fn message_command(by: &Person, name: &str, target: u64) -> Call {
        Call::new(
            by,
            Action::MessageCommand {
                name: name.to_owned(),
                target,
            },
        )
    }

    /// A press of the button `custom_id` under `message`.
    pub fn button(by: &Person, message: u64, custom_id: &str) -> Call {
        Call::new(
            by,
            Action::Button {
                message,
                custom_id: custom_id.to_owned(),
            },
        )
    }

    /// A modal submitted with text inputs `(custom_id, value)`.
    pub fn modal(by: &Person, custom_id: &str, fields: &[(&str, &str)]) -> Call {
        let fields = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Call::new(
            by,
            Action::Modal {
                custom_id: custom_id.to_owned(),
                fields,
                message: None,
            },
        )
    }

    /// The modal was opened from a button under `message`.
    pub fn from_message(mut self, message: u64) -> Call {
        if let Action::Modal { message: m, .. } = &mut self.action {
            *m = Some(message);
        }
        self
    }

    /// In another channel than the guild's default one.
    pub fn in_channel(mut self, channel: u64) -> Call {
        self.channel = Some(channel);
        self
    }

    /// In the person's DM with the bot.
    pub fn in_dm(mut self) -> Call {
        self.dm = true;
        self
    }

    /// The `attachment_size_limit` the interaction reports (else the fake's
    /// upload limit).
    pub fn size_limit(mut self, bytes: u64) -> Call {
        self.attachment_size_limit = Some(bytes);
        self
    }
}

impl Shared {
    /// Sends an interaction to the bot; returns its id and token.
    pub fn inject(&self, call: Call) -> Injected {
        let id = self.next_id();
        let token = format!("aW50ZXJhY3Rpb246{id:x}{:x}", self.next_id());
        let channel_id = if call.dm {
            self.dm_channel(&call.by)
        } else {
            call.channel.unwrap_or(self.channel_id)
        };
        let mut world = self.world();
        let (kind, data, source_message) = match &call.action {
            Action::Slash { name, options } => {
                let command_id = world
                    .commands
                    .iter()
                    .find(|c| c.name() == name && c.kind() == 1)
                    .map_or_else(|| self.next_id(), |c| c.id);
                let resolved: Map<String, Value> = options
                    .attachments
                    .iter()
                    .map(|f| (f.id.to_string(), objects::attachment(f)))
                    .collect();
                let mut data = json!({"id": command_id.to_string(), "name": name, "type": 1, "options": options.list});
                if !resolved.is_empty() {
                    data["resolved"] = json!({"attachments": resolved});
                }
                (2, data, None)
            }
            Action::MessageCommand { name, target } => {
                let command_id = world
                    .commands
                    .iter()
                    .find(|c| c.name() == name && c.kind() == 3)
                    .map_or_else(|| self.next_id(), |c| c.id);
                let mut messages = Map::new();
                if let Some(message) = world.messages.get(target) {
                    messages.insert(target.to_string(), objects::message(self, &world, message));
                }
                let data = json!({
                    "id": command_id.to_string(),
                    "name": name,
                    "type": 3,
                    "target_id": target.to_string(),
                    "resolved": {"messages": messages},
                });
                (2, data, None)
            }
            Action::Button { message, custom_id } => (
                3,
                json!({"custom_id": custom_id, "component_type": 2}),
                Some(*message),
            ),
            Action::Modal {
                custom_id,
                fields,
                message,
            } => {
                let rows: Vec<Value> = fields
                    .iter()
                    .map(|(k, v)| json!({"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}))
                    .collect();
                (
                    5,
                    json!({"custom_id": custom_id, "components": rows}),
                    *message,
                )
            }
        };
        let guild_id = world.channels.get(&channel_id).and_then(|c| c.guild_id);
        let limit = call
            .attachment_size_limit
            .unwrap_or(self.config.upload_limit);
        let mut payload = json!({
            "id": id.to_string(),
            "application_id": self.application_id.to_string(),
            "type": kind,
            "data": data,
            "channel_id": channel_id.to_string(),
            "channel": {"id": channel_id.to_string(), "type": if guild_id.is_some() { 0 } else { 1 }},
            "token": token,
            "version": 1,
            "app_permissions": super::records::permissions::MEMBER.to_string(),
            "locale": call.by.locale,
            "entitlements": [],
            "attachment_size_limit": limit,
        });
        match guild_id {
            Some(guild_id) => {
                payload["guild_id"] = json!(guild_id.to_string());
                payload["guild_locale"] = json!("en-US");
                payload["member"] = objects::member(&call.by, true);
                payload["authorizing_integration_owners"] = json!({"0": guild_id.to_string()});
                payload["context"] = json!(0);
            }
            None => {
                payload["user"] = objects::user(&call.by);
                payload["authorizing_integration_owners"] = json!({"0": call.by.id.to_string()});
                payload["context"] = json!(1);
            }
        }
        if let Some(message) = source_message.and_then(|m| world.messages.get(&m)) {
            payload["message"] = objects::message(self, &world, message);
        }
        world
            .people
            .entry(call.by.id)
            .or_insert_with(|| call.by.clone());
        world.interactions.insert(
            id,
            InteractionState {
                id,
                token: token.clone(),
                kind,
                channel_id,
                created: Instant::now(),
                answered: None,
                original: None,
                source_message,
            },
        );
        self.dispatch(&mut world, "INTERACTION_CREATE", payload);
        drop(world);
        self.touch();
        Injected { id, token }
    }

    /// A person writes a message (replying to `reply_to`); returns its id.
    pub fn post(
        &self,
        by: &Person,
        channel_id: u64,
        content: &str,
        reply_to: Option<u64>,
        attachments: Vec<FileInfo>,
    ) -> u64 {
        let id = self.next_id();
        let mut world = self.world();
        world.people.entry(by.id).or_insert_with(|| by.clone());
        let record = MessageRecord {
            id,
            channel_id,
            author_id: by.id,
            content: content.to_owned(),
            embeds: vec![],
            components: vec![],
            attachments,
            flags: 0,
            reference: reply_to.filter(|r| world.messages.contains_key(r)),
            origin: Origin::User { user: by.id },
            created: Instant::now(),
            edits: vec![],
            deleted: None,
            nonce: None,
        };
        let mut event = objects::message(self, &world, &record);
        if world
            .channels
            .get(&channel_id)
            .is_some_and(|c| c.guild_id.is_some())
        {
            event["member"] = objects::member(by, false);
            if let Some(member) = event["member"].as_object_mut() {
                member.remove("user");
            }
        }
        world.messages.insert(id, record);
        self.dispatch(&mut world, "MESSAGE_CREATE", event);
        drop(world);
        self.touch();
        id
    }
}
