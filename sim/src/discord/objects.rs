//! Discord's objects as JSON, shaped as the real API sends them (users,
//! members, messages, the guild, commands, the application), complete
//! enough for a client library to read.

use serde_json::{json, Value};

use super::records::{permissions, FileInfo, MessageRecord, Origin, Person, RegisteredCommand};
use super::state::{now_iso, snowflake_time, Channel, Shared, World};

/// A person as a user object.
pub fn user(person: &Person) -> Value {
    json!({
        "id": person.id.to_string(),
        "username": person.name,
        "global_name": person.name,
        "discriminator": "0",
        "avatar": null,
        "bot": false,
        "public_flags": 0,
        "flags": 0,
        "banner": null,
        "accent_color": null,
        "avatar_decoration_data": null,
    })
}

/// The bot's user object.
pub fn bot_user(shared: &Shared) -> Value {
    json!({
        "id": shared.bot_id.to_string(),
        "username": shared.config.bot_name,
        "global_name": null,
        "discriminator": "0",
        "avatar": null,
        "bot": true,
        "system": false,
        "mfa_enabled": false,
        "verified": true,
        "email": null,
        "locale": "en-US",
        "public_flags": 0,
        "flags": 0,
        "banner": null,
        "accent_color": null,
        "avatar_decoration_data": null,
    })
}

/// A guild member; `with_permissions` as interactions carry them.
pub fn member(person: &Person, with_permissions: bool) -> Value {
    // A person's rights come from the guild's roles, as on Discord.
    let roles: Vec<String> = [
        (MODERATORS_ROLE, permissions::MANAGE_MESSAGES),
        (ADMINS_ROLE, permissions::ADMINISTRATOR),
    ]
    .iter()
    .filter(|(_, right)| person.permissions & right != 0)
    .map(|(role, _)| role.to_string())
    .collect();
    let mut member = json!({
        "user": user(person),
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": roles,
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
        "unusual_dm_activity_until": null,
    });
    if with_permissions {
        member["permissions"] = json!(person.permissions.to_string());
    }
    member
}

/// The author of a message, as a user object.
fn author(shared: &Shared, world: &World, record: &MessageRecord) -> Value {
    match world.people.get(&record.author_id) {
        Some(person) => user(person),
        None => bot_user(shared),
    }
}

/// An attachment object.
pub fn attachment(file: &FileInfo) -> Value {
    json!({
        "id": file.id.to_string(),
        "filename": file.filename,
        "size": file.size,
        "url": file.url,
        "proxy_url": file.url,
        "content_type": file.content_type,
        "width": file.pixels.map(|(w, _)| w),
        "height": file.pixels.map(|(_, h)| h),
        "ephemeral": false,
    })
}

/// A message object, with the message it replies to.
pub fn message(shared: &Shared, world: &World, record: &MessageRecord) -> Value {
    message_at_depth(shared, world, record, 0)
}

fn message_at_depth(shared: &Shared, world: &World, record: &MessageRecord, depth: u8) -> Value {
    let guild_id = world
        .channels
        .get(&record.channel_id)
        .and_then(|c| c.guild_id);
    let kind = match (record.origin, record.reference) {
        (Origin::Response { .. }, _) => 20,
        (_, Some(_)) => 19,
        _ => 0,
    };
    let embeds: Vec<Value> = record
        .embeds
        .iter()
        .map(|e| {
            let mut e = e.clone();
            if e.get("type").is_none_or(Value::is_null) {
                e["type"] = json!("rich");
            }
            e
        })
        .collect();
    let mut value = json!({
        "id": record.id.to_string(),
        "channel_id": record.channel_id.to_string(),
        "author": author(shared, world, record),
        "content": record.content,
        "timestamp": snowflake_time(record.id),
        "edited_timestamp": if record.edits.is_empty() { Value::Null } else { json!(now_iso()) },
        "tts": false,
        "mention_everyone": false,
        "mentions": mentions(world, &record.content),
        "mention_roles": [],
        "attachments": record.attachments.iter().map(attachment).collect::<Vec<_>>(),
        "embeds": embeds,
        "pinned": false,
        "type": kind,
        "flags": record.flags,
        "components": record.components,
    });
    if let Some(guild_id) = guild_id {
        value["guild_id"] = json!(guild_id.to_string());
    }
    if let Some(nonce) = &record.nonce {
        value["nonce"] = nonce.clone();
    }
    if let Origin::Response { .. } | Origin::Followup { .. } = record.origin {
        value["webhook_id"] = json!(shared.application_id.to_string());
        value["application_id"] = json!(shared.application_id.to_string());
    }
    if let Some(reference) = record.reference {
        let mut link = json!({
            "type": 0,
            "message_id": reference.to_string(),
            "channel_id": record.channel_id.to_string(),
        });
        if let Some(guild_id) = guild_id {
            link["guild_id"] = json!(guild_id.to_string());
        }
        value["message_reference"] = link;
        value["referenced_message"] = match world.messages.get(&reference) {
            Some(target) if depth == 0 && target.deleted.is_none() => {
                message_at_depth(shared, world, target, depth + 1)
            }
            _ => Value::Null,
        };
    }
    value
}

/// Users mentioned as `<@ID>` in a text.
fn mentions(world: &World, content: &str) -> Vec<Value> {
    world
        .people
        .values()
        .filter(|p| {
            content.contains(&format!("<@{}>", p.id)) || content.contains(&format!("<@!{}>", p.id))
        })
        .map(user)
        .collect()
}

/// A text channel object.
pub fn channel(channel: &Channel) -> Value {
    json!({
        "id": channel.id.to_string(),
        "type": if channel.guild_id.is_some() { 0 } else { 1 },
        "guild_id": channel.guild_id.map(|g| g.to_string()),
        "name": channel.name,
        "position": 0,
        "permission_overwrites": [],
        "topic": null,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "parent_id": null,
        "flags": 0,
    })
}

/// The `@everyone` role of the guild.
/// The guild's roles besides @everyone: moderators may manage messages,
/// admins administer the guild.
pub const MODERATORS_ROLE: u64 = 1_150_000_000_000_000_001;
pub const ADMINS_ROLE: u64 = 1_150_000_000_000_000_002;

fn role(id: u64, name: &str, position: u64, permissions: u64) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions.to_string(),
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

fn roles(shared: &Shared) -> Vec<Value> {
    vec![
        role(shared.guild_id, "@everyone", 0, permissions::MEMBER),
        role(
            MODERATORS_ROLE,
            "Moderators",
            1,
            permissions::MEMBER | permissions::MANAGE_MESSAGES,
        ),
        role(
            ADMINS_ROLE,
            "Admins",
            2,
            permissions::MEMBER | permissions::ADMINISTRATOR,
        ),
    ]
}

/// The guild as GUILD_CREATE carries it.
pub fn guild_create(shared: &Shared, world: &World) -> Value {
    let channels: Vec<Value> = world
        .channels
        .values()
        .filter(|c| c.guild_id == Some(shared.guild_id))
        .map(channel)
        .collect();
    let bot = super::records::Person {
        id: shared.bot_id,
        name: shared.config.bot_name.clone(),
        locale: "en-US".to_owned(),
        permissions: 0,
    };
    let mut bot_member = member(&bot, false);
    bot_member["user"] = bot_user(shared);
    let mut guild = json!({
        "id": shared.guild_id.to_string(),
        "name": shared.config.guild_name,
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": shared.owner_id.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles(shared),
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": shared.channel_id.to_string(),
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "incidents_data": null,
    });
    // The fields only GUILD_CREATE carries.
    let extra = json!({
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "large": false,
        "unavailable": false,
        "member_count": world.people.len() + 1,
        "voice_states": [],
        "members": [bot_member],
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    if let (Some(guild), Value::Object(extra)) = (guild.as_object_mut(), extra) {
        guild.extend(extra);
    }
    guild
}

/// The application, as `GET /oauth2/applications/@me` answers.
pub fn application(shared: &Shared) -> Value {
    let owner = Person {
        id: shared.owner_id,
        name: "owner".to_owned(),
        locale: "en-US".to_owned(),
        permissions: 0,
    };
    json!({
        "id": shared.application_id.to_string(),
        "name": shared.config.bot_name,
        "icon": null,
        "description": "",
        "type": null,
        "bot": bot_user(shared),
        "bot_public": true,
        "bot_require_code_grant": false,
        "owner": user(&owner),
        "verify_key": "0".repeat(64),
        "team": null,
        "flags": if shared.config.message_content_allowed { 1 << 19 } else { 0 },
        "rpc_origins": [],
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
        "tags": [],
    })
}

/// A registered command as the API returns it.
pub fn command(shared: &Shared, command: &RegisteredCommand) -> Value {
    let mut value = command.json.clone();
    value["id"] = json!(command.id.to_string());
    value["application_id"] = json!(shared.application_id.to_string());
    value["version"] = json!(command.id.to_string());
    if value.get("type").is_none_or(Value::is_null) {
        value["type"] = json!(1);
    }
    for key in [
        "description",
        "name_localizations",
        "description_localizations",
    ] {
        if value.get(key).is_none() {
            value[key] = if key == "description" {
                json!("")
            } else {
                Value::Null
            };
        }
    }
    value["default_member_permissions"] = Value::Null;
    value["nsfw"] = json!(value.get("nsfw").and_then(Value::as_bool).unwrap_or(false));
    if let Some(guild_id) = command.guild_id {
        value["guild_id"] = json!(guild_id.to_string());
    }
    value
}
