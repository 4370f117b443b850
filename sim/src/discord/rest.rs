//! The REST API under `/api/v10`: one dispatcher that records the request,
//! counts it against the rate limits (`limits`: a 429, or the bucket's
//! headers on the answer), checks the token, the upload limit and the body
//! (against the OpenAPI description and the documented rules), then runs
//! the route.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::body::{self, BodyError, ParsedBody, Upload};
use super::errors::DiscordError;
use super::limits::{self, Place};
use super::objects;
use super::records::{
    CallbackRecord, Edit, FileInfo, MessageRecord, Origin, RegisteredCommand, RequestRecord, Via,
    EPHEMERAL, LOADING,
};
use super::rules;
use super::schema::{spec, Violation};
use super::state::{Blob, InteractionState, Shared, World};

type Answer = Result<(StatusCode, Option<Value>), DiscordError>;

/// A route of the API, with its parameters.
#[derive(Debug, Clone, PartialEq)]
enum Route {
    Gateway,
    GatewayBot,
    UserMe,
    ApplicationMe,
    Commands {
        app: u64,
        guild: Option<u64>,
    },
    Callback {
        interaction: u64,
        token: String,
    },
    Webhook {
        app: u64,
        token: String,
    },
    /// `None`: `@original`.
    WebhookMessage {
        app: u64,
        token: String,
        message: Option<u64>,
    },
    ChannelMessages {
        channel: u64,
    },
    ChannelMessage {
        channel: u64,
        message: u64,
    },
    Member {
        guild: u64,
        user: u64,
    },
    /// `POST /users/@me/channels`: the DM channel with a user.
    DmChannels,
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let id = |s: &str| s.parse::<u64>().ok();
        Some(match parts.as_slice() {
            ["gateway"] => Route::Gateway,
            ["gateway", "bot"] => Route::GatewayBot,
            ["users", "@me"] => Route::UserMe,
            ["users", "@me", "channels"] => Route::DmChannels,
            ["applications", "@me"] | ["oauth2", "applications", "@me"] => Route::ApplicationMe,
            ["applications", app, "commands"] => Route::Commands {
                app: id(app)?,
                guild: None,
            },
            ["applications", app, "guilds", guild, "commands"] => Route::Commands {
                app: id(app)?,
                guild: Some(id(guild)?),
            },
            ["interactions", interaction, token, "callback"] => Route::Callback {
                interaction: id(interaction)?,
                token: (*token).to_owned(),
            },
            ["webhooks", app, token] => Route::Webhook {
                app: id(app)?,
                token: (*token).to_owned(),
            },
            ["webhooks", app, token, "messages", message] => Route::WebhookMessage {
                app: id(app)?,
                token: (*token).to_owned(),
                message: if *message == "@original" {
                    None
                } else {
                    Some(id(message)?)
                },
            },
            ["channels", channel, "messages"] => Route::ChannelMessages {
                channel: id(channel)?,
            },
            ["channels", channel, "messages", message] => Route::ChannelMessage {
                channel: id(channel)?,
                message: id(message)?,
            },
            ["guilds", guild, "members", user] => Route::Member {
                guild: id(guild)?,
                user: id(user)?,
            },
            _ => return None,
        })
    }

    /// The path as the OpenAPI description spells it.
    fn template(&self) -> &'static str {
        match self {
            Route::Gateway => "/gateway",
            Route::GatewayBot => "/gateway/bot",
            Route::UserMe => "/users/@me",
            Route::DmChannels => "/users/@me/channels",
            Route::ApplicationMe => "/oauth2/applications/@me",
            Route::Commands { guild: None, .. } => "/applications/{application_id}/commands",
            Route::Commands { guild: Some(_), .. } => {
                "/applications/{application_id}/guilds/{guild_id}/commands"
            }
            Route::Callback { .. } => "/interactions/{interaction_id}/{interaction_token}/callback",
            Route::Webhook { .. } => "/webhooks/{webhook_id}/{webhook_token}",
            Route::WebhookMessage { message: None, .. } => {
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
            }
            Route::WebhookMessage { .. } => {
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
            }
            Route::ChannelMessages { .. } => "/channels/{channel_id}/messages",
            Route::ChannelMessage { .. } => "/channels/{channel_id}/messages/{message_id}",
            Route::Member { .. } => "/guilds/{guild_id}/members/{user_id}",
        }
    }

    /// Where it stands in the rate limits: its top-level resource (a
    /// channel, a guild, a webhook with its token) is counted apart, and
    /// interaction endpoints are not bound by the global limit.
    fn place(&self) -> Place {
        let major = match self {
            Route::ChannelMessages { channel } | Route::ChannelMessage { channel, .. } => {
                format!("channels/{channel}")
            }
            Route::Member { guild, .. } => format!("guilds/{guild}"),
            Route::Webhook { app, token } | Route::WebhookMessage { app, token, .. } => {
                format!("webhooks/{app}/{token}")
            }
            _ => String::new(),
        };
        Place {
            template: self.template(),
            major,
            global: self.needs_bot_token(),
        }
    }

    /// Interaction callbacks and webhooks authenticate by their token.
    fn needs_bot_token(&self) -> bool {
        !matches!(
            self,
            Route::Callback { .. } | Route::Webhook { .. } | Route::WebhookMessage { .. }
        )
    }
}

/// `ANY /api/v10/{*path}`.
pub async fn api(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    request: Request<Body>,
) -> Response {
    let (parts, raw) = request.into_parts();
    let method = parts.method.clone();
    let path = format!("/{}", path.trim_start_matches('/'));
    let bot_auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(format!("Bot {}", shared.config.token).as_str());
    let read = body::read(&parts, raw).await;
    let (files, json) = match &read {
        Ok(parsed) => (
            parsed
                .files
                .iter()
                .map(|f| (f.filename.clone(), f.data.len() as u64))
                .collect(),
            parsed.json.clone(),
        ),
        Err(_) => (vec![], None),
    };
    let place = Route::parse(&path).map(|route| route.place());
    let verdict = limits::admit(&shared, &method, &path, place.as_ref());
    let mut response = match (verdict.refused.clone(), read) {
        (Some(limited), _) => limited.into_response(),
        (None, Err(BodyError::TooLarge)) => DiscordError::too_large().into_response(),
        (None, Err(BodyError::Unreadable)) => DiscordError::unreadable_body().into_response(),
        (None, Ok(parsed)) => match handle(&shared, &method, &path, bot_auth, parsed) {
            Ok((status, Some(body))) => (status, Json(body)).into_response(),
            Ok((status, None)) => status.into_response(),
            Err(error) => error.into_response(),
        },
    };
    verdict.stamp(response.headers_mut());
    let hold = {
        let mut world = shared.world();
        let hold = if files.is_empty() || !response.status().is_success() {
            None
        } else {
            world.upload_holds.pop_front()
        };
        world.requests.push(RequestRecord {
            method: method.to_string(),
            path,
            status: response.status().as_u16(),
            at: Instant::now(),
            bot_auth,
            files,
            body: json,
        });
        hold
    };
    shared.touch();
    if let Some(delay) = hold {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shared.shutdown.cancelled() => {}
        }
    }
    response
}

fn handle(
    shared: &Shared,
    method: &Method,
    path: &str,
    bot_auth: bool,
    body: ParsedBody,
) -> Answer {
    let failure = shared
        .world()
        .standing_failures
        .iter()
        .find(|(m, p, _)| m.eq_ignore_ascii_case(method.as_str()) && p == path)
        .map(|(_, _, status)| *status);
    if let Some(status) = failure {
        return Err(DiscordError::with_status(status));
    }
    let route = Route::parse(path).ok_or_else(DiscordError::not_found)?;
    if route.needs_bot_token() && !bot_auth {
        return Err(DiscordError::unauthorized());
    }
    check_files(shared, &body.files)?;
    check_body(&route, method, &body)?;
    let json = body.json.clone().unwrap_or(Value::Null);
    match (method.as_str(), &route) {
        ("GET", Route::Gateway) => Ok(ok(json!({"url": shared.gateway_url()}))),
        ("GET", Route::GatewayBot) => Ok(ok(json!({
            "url": shared.gateway_url(),
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
        }))),
        ("GET", Route::UserMe) => Ok(ok(objects::bot_user(shared))),
        ("GET", Route::ApplicationMe) => Ok(ok(objects::application(shared))),
        ("GET", Route::Commands { app, guild }) => list_commands(shared, *app, *guild),
        ("PUT", Route::Commands { app, guild }) => put_commands(shared, *app, *guild, &json),
        ("POST", Route::Callback { interaction, token }) => {
            callback(shared, *interaction, token, &json, &body.files)
        }
        ("POST", Route::Webhook { app, token }) => {
            followup(shared, *app, token, &json, &body.files)
        }
        (
            _,
            Route::WebhookMessage {
                app,
                token,
                message,
            },
        ) => webhook_message(shared, method, *app, token, *message, &json, &body.files),
        ("POST", Route::ChannelMessages { channel }) => {
            create_message(shared, *channel, &json, &body.files)
        }
        (_, Route::ChannelMessage { channel, message }) => {
            channel_message(shared, method, *channel, *message, &json, &body.files)
        }
        ("GET", Route::Member { guild, user }) => member(shared, *guild, *user),
        ("POST", Route::DmChannels) => dm_channel(shared, &json),
        _ => Err(DiscordError::method_not_allowed()),
    }
}

/// Opens (or finds) the DM channel with `recipient_id`.
fn dm_channel(shared: &Shared, body: &Value) -> Answer {
    let person = body
        .get("recipient_id")
        .and_then(snowflake)
        .and_then(|id| shared.world().people.get(&id).cloned())
        .ok_or_else(DiscordError::unknown_user)?;
    let channel = shared.dm_channel(&person);
    Ok(ok(json!({
        "id": channel.to_string(),
        "type": 1,
        "last_message_id": null,
        "flags": 0,
        "recipients": [objects::user(&person)],
    })))
}

fn ok(body: Value) -> (StatusCode, Option<Value>) {
    (StatusCode::OK, Some(body))
}

fn no_content() -> (StatusCode, Option<Value>) {
    (StatusCode::NO_CONTENT, None)
}

/// Per-file upload limit (413) and number of files.
fn check_files(shared: &Shared, files: &[Upload]) -> Result<(), DiscordError> {
    if files
        .iter()
        .any(|f| f.data.len() as u64 > shared.config.upload_limit)
    {
        return Err(DiscordError::too_large());
    }
    if files.len() > shared.config.max_files {
        return Err(DiscordError::too_many_files(shared.config.max_files));
    }
    Ok(())
}

/// The body against the description's schema and the documented rules.
fn check_body(route: &Route, method: &Method, body: &ParsedBody) -> Result<(), DiscordError> {
    let Some(schema) = spec().request_schema(route.template(), method.as_str()) else {
        return Ok(());
    };
    let value = body.json.clone().unwrap_or(Value::Null);
    let mut violations: Vec<Violation> = spec().validate(schema, &value);
    match route {
        Route::Commands { .. } => rules::commands(&value, &mut violations),
        Route::Callback { .. } => rules::callback(&value, &mut violations),
        _ => rules::message(&value, &mut violations),
    }
    if violations.is_empty() {
        Ok(())
    } else {
        tracing::debug!(?violations, "invalid form body");
        Err(DiscordError::invalid_body(&violations))
    }
}

fn list_commands(shared: &Shared, app: u64, guild: Option<u64>) -> Answer {
    check_scope(shared, app, guild)?;
    let world = shared.world();
    let list: Vec<Value> = world
        .commands
        .iter()
        .filter(|c| c.guild_id == guild)
        .map(|c| objects::command(shared, c))
        .collect();
    Ok(ok(Value::Array(list)))
}

fn check_scope(shared: &Shared, app: u64, guild: Option<u64>) -> Result<(), DiscordError> {
    if app != shared.application_id {
        return Err(DiscordError::unknown_application());
    }
    if guild.is_some_and(|g| g != shared.guild_id) {
        return Err(DiscordError::not_found());
    }
    Ok(())
}

/// Bulk overwrite: the list replaces every command of that scope.
fn put_commands(shared: &Shared, app: u64, guild: Option<u64>, body: &Value) -> Answer {
    check_scope(shared, app, guild)?;
    let given = body.as_array().cloned().unwrap_or_default();
    let mut world = shared.world();
    let old: Vec<RegisteredCommand> = world
        .commands
        .iter()
        .filter(|c| c.guild_id == guild)
        .cloned()
        .collect();
    world.commands.retain(|c| c.guild_id != guild);
    let mut answer = Vec::new();
    for json in given {
        let kind = json.get("type").and_then(Value::as_u64).unwrap_or(1);
        let name = json.get("name").and_then(Value::as_str).unwrap_or_default();
        let id = old
            .iter()
            .find(|c| c.name() == name && c.kind() == kind)
            .map_or_else(|| shared.next_id(), |c| c.id);
        let command = RegisteredCommand {
            id,
            guild_id: guild,
            json,
        };
        answer.push(objects::command(shared, &command));
        world.commands.push(command);
    }
    Ok(ok(Value::Array(answer)))
}

fn member(shared: &Shared, guild: u64, user: u64) -> Answer {
    if guild != shared.guild_id {
        return Err(DiscordError::not_found());
    }
    let world = shared.world();
    let person = world
        .people
        .get(&user)
        .ok_or_else(DiscordError::unknown_member)?;
    Ok(ok(objects::member(person, false)))
}

/// An interaction's first answer.
fn callback(shared: &Shared, id: u64, token: &str, body: &Value, files: &[Upload]) -> Answer {
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(0);
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let mut world = shared.world();
    let interaction = world
        .interactions
        .get(&id)
        .filter(|i| i.token == token)
        .cloned()
        .ok_or_else(DiscordError::unknown_interaction)?;
    if interaction.answered.is_some() {
        return Err(DiscordError::already_acknowledged());
    }
    let after = interaction.created.elapsed();
    if after > shared.config.ack_deadline {
        return Err(DiscordError::unknown_interaction());
    }
    let from_message = interaction.source_message.filter(|_| interaction.kind != 2);
    let original = match kind {
        4 | 5 => {
            let mut flags = data.get("flags").and_then(Value::as_u64).unwrap_or(0) & EPHEMERAL;
            if kind == 5 {
                flags |= LOADING;
            }
            let message = new_message(
                shared,
                &mut world,
                interaction.channel_id,
                Origin::Response { interaction: id },
                &data,
                files,
                flags,
            );
            let message = if kind == 5 {
                MessageRecord {
                    content: String::new(),
                    embeds: vec![],
                    components: vec![],
                    ..message
                }
            } else {
                message
            };
            let message_id = message.id;
            store_message(shared, &mut world, message);
            Some(message_id)
        }
        6 | 7 => {
            let Some(source) = from_message else {
                return Err(bad_type(
                    &["type"],
                    "This interaction cannot update a message.",
                ));
            };
            if kind == 7 {
                if let Some(message) = world.messages.get(&source).cloned() {
                    let edited = apply_edit(
                        shared,
                        &mut world,
                        message,
                        &data,
                        files,
                        Via::InteractionToken,
                    );
                    world.messages.insert(source, edited);
                }
            }
            Some(source)
        }
        9 if interaction.kind == 5 => {
            return Err(bad_type(&["type"], "A modal cannot answer a modal submit."));
        }
        9 => None,
        _ => return Err(bad_type(&["type"], "Value must be one of {4, 5, 6, 7, 9}.")),
    };
    if let Some(state) = world.interactions.get_mut(&id) {
        state.answered = Some(kind);
        state.original = original;
    }
    world.callbacks.push(CallbackRecord {
        interaction: id,
        kind,
        data,
        at: Instant::now(),
        after,
    });
    Ok(no_content())
}

fn bad_type(path: &[&str], message: &str) -> DiscordError {
    let path: Vec<String> = path.iter().map(|p| (*p).to_owned()).collect();
    DiscordError::invalid_body(&[Violation::new(
        &path,
        "INTERACTION_RESPONSE_TYPE_INVALID",
        message,
    )])
}

/// The interaction behind a webhook token, if the token still works.
fn by_token(
    shared: &Shared,
    world: &World,
    app: u64,
    token: &str,
) -> Result<InteractionState, DiscordError> {
    let interaction = world
        .interactions
        .values()
        .find(|i| i.token == token)
        .filter(|_| app == shared.application_id)
        .cloned()
        .ok_or_else(DiscordError::unknown_webhook)?;
    if interaction.created.elapsed() > shared.config.token_lifetime {
        return Err(DiscordError::invalid_webhook_token());
    }
    if interaction.answered.is_none() {
        return Err(DiscordError::unknown_webhook());
    }
    Ok(interaction)
}

/// `POST /webhooks/{app}/{token}`: a follow-up message.
fn followup(shared: &Shared, app: u64, token: &str, body: &Value, files: &[Upload]) -> Answer {
    let mut world = shared.world();
    let interaction = by_token(shared, &world, app, token)?;
    if rules::is_empty_message(body, files.len()) {
        return Err(DiscordError::empty_message());
    }
    let flags = body.get("flags").and_then(Value::as_u64).unwrap_or(0) & EPHEMERAL;
    let message = new_message(
        shared,
        &mut world,
        interaction.channel_id,
        Origin::Followup {
            interaction: interaction.id,
        },
        body,
        files,
        flags,
    );
    let answer = objects::message(shared, &world, &message);
    store_message(shared, &mut world, message);
    Ok(ok(answer))
}

/// `GET/PATCH/DELETE /webhooks/{app}/{token}/messages/{@original|id}`.
fn webhook_message(
    shared: &Shared,
    method: &Method,
    app: u64,
    token: &str,
    message: Option<u64>,
    body: &Value,
    files: &[Upload],
) -> Answer {
    let mut world = shared.world();
    let interaction = by_token(shared, &world, app, token)?;
    let target = match message {
        None => interaction.original,
        Some(id) => world
            .messages
            .get(&id)
            .filter(|m| {
                m.origin
                    == Origin::Followup {
                        interaction: interaction.id,
                    }
                    || Some(id) == interaction.original
            })
            .map(|m| m.id),
    };
    let record = target
        .and_then(|id| world.messages.get(&id).cloned())
        .filter(|m| m.deleted.is_none())
        .ok_or_else(DiscordError::unknown_message)?;
    match method.as_str() {
        "GET" => Ok(ok(objects::message(shared, &world, &record))),
        "PATCH" => {
            let id = record.id;
            let mut edited = apply_edit(
                shared,
                &mut world,
                record,
                body,
                files,
                Via::InteractionToken,
            );
            edited.flags &= !LOADING;
            let answer = objects::message(shared, &world, &edited);
            world.messages.insert(id, edited);
            Ok(ok(answer))
        }
        "DELETE" => {
            if let Some(m) = world.messages.get_mut(&record.id) {
                m.deleted = Some(Instant::now());
            }
            Ok(no_content())
        }
        _ => Err(DiscordError::method_not_allowed()),
    }
}

/// `POST /channels/{id}/messages` with the bot token.
fn create_message(shared: &Shared, channel: u64, body: &Value, files: &[Upload]) -> Answer {
    let mut world = shared.world();
    if !world.channels.contains_key(&channel) {
        return Err(DiscordError::unknown_channel());
    }
    if rules::is_empty_message(body, files.len()) {
        return Err(DiscordError::empty_message());
    }
    let reference = body.get("message_reference").filter(|r| r.is_object());
    if let Some(reference) = reference {
        let target = reference.get("message_id").and_then(snowflake);
        let known = target
            .and_then(|t| world.messages.get(&t))
            .is_some_and(|m| m.channel_id == channel && m.deleted.is_none() && !m.ephemeral());
        let strict = reference.get("fail_if_not_exists").and_then(Value::as_bool) != Some(false);
        if !known && strict {
            let path = vec!["message_reference".to_owned()];
            return Err(DiscordError::invalid_body(&[Violation::new(
                &path,
                "REPLIES_UNKNOWN_MESSAGE",
                "Unknown message",
            )]));
        }
    }
    if let Some(first) = enforced_nonce(shared, &world, channel, body) {
        return Ok(ok(objects::message(shared, &world, first)));
    }
    let message = new_message(shared, &mut world, channel, Origin::Bot, body, files, 0);
    let answer = objects::message(shared, &world, &message);
    store_message(shared, &mut world, message);
    Ok(ok(answer))
}

/// With `enforce_nonce`, the bot's message created in this channel with the
/// same `nonce` within the nonce window: Discord returns it and creates
/// nothing (a message deleted since does not count).
fn enforced_nonce<'w>(
    shared: &Shared,
    world: &'w World,
    channel: u64,
    body: &Value,
) -> Option<&'w MessageRecord> {
    if body.get("enforce_nonce").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let nonce = body.get("nonce").filter(|n| !n.is_null())?;
    world.messages.values().rev().find(|m| {
        m.channel_id == channel
            && m.author_id == shared.bot_id
            && m.nonce.as_ref() == Some(nonce)
            && m.deleted.is_none()
            && m.created.elapsed() <= shared.config.nonce_window
    })
}

/// `GET/PATCH/DELETE /channels/{id}/messages/{id}` with the bot token.
fn channel_message(
    shared: &Shared,
    method: &Method,
    channel: u64,
    id: u64,
    body: &Value,
    files: &[Upload],
) -> Answer {
    let mut world = shared.world();
    if !world.channels.contains_key(&channel) {
        return Err(DiscordError::unknown_channel());
    }
    // Ephemeral messages exist only for their interaction's token.
    let record = world
        .messages
        .get(&id)
        .filter(|m| m.channel_id == channel && m.deleted.is_none() && !m.ephemeral())
        .cloned()
        .ok_or_else(DiscordError::unknown_message)?;
    match method.as_str() {
        "GET" => Ok(ok(objects::message(shared, &world, &record))),
        "PATCH" => {
            if record.author_id != shared.bot_id {
                return Err(DiscordError::not_authored());
            }
            let edited = apply_edit(shared, &mut world, record, body, files, Via::BotToken);
            let answer = objects::message(shared, &world, &edited);
            world.messages.insert(id, edited);
            Ok(ok(answer))
        }
        "DELETE" => {
            if let Some(m) = world.messages.get_mut(&id) {
                m.deleted = Some(Instant::now());
            }
            Ok(no_content())
        }
        _ => Err(DiscordError::method_not_allowed()),
    }
}

fn snowflake(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| value.as_str()?.parse().ok())
}

/// A new message from a body (not yet stored).
fn new_message(
    shared: &Shared,
    world: &mut World,
    channel: u64,
    origin: Origin,
    body: &Value,
    files: &[Upload],
    flags: u64,
) -> MessageRecord {
    let id = shared.next_id();
    let reference = body
        .get("message_reference")
        .and_then(|r| r.get("message_id"))
        .and_then(snowflake)
        .filter(|t| world.messages.contains_key(t));
    MessageRecord {
        id,
        channel_id: channel,
        author_id: shared.bot_id,
        content: text(body, "content"),
        embeds: list(body, "embeds"),
        components: list(body, "components"),
        attachments: keep_files(shared, world, channel, body, files),
        flags,
        reference,
        origin,
        created: Instant::now(),
        edits: vec![],
        deleted: None,
        nonce: body.get("nonce").filter(|n| !n.is_null()).cloned(),
    }
}

/// Stores a message and tells the gateway (unless only its author sees it).
fn store_message(shared: &Shared, world: &mut World, message: MessageRecord) {
    let event = (!message.ephemeral() && !message.loading())
        .then(|| objects::message(shared, world, &message));
    world.messages.insert(message.id, message);
    if let Some(event) = event {
        shared.dispatch(world, "MESSAGE_CREATE", event);
    }
}

/// Applies an edit as Discord does: fields present replace, `attachments`
/// (when present) lists the files to keep, new uploads are added.
fn apply_edit(
    shared: &Shared,
    world: &mut World,
    mut message: MessageRecord,
    body: &Value,
    files: &[Upload],
    via: Via,
) -> MessageRecord {
    if body.get("content").is_some() {
        message.content = text(body, "content");
    }
    if body.get("embeds").is_some() {
        message.embeds = list(body, "embeds");
    }
    if body.get("components").is_some() {
        message.components = list(body, "components");
    }
    if let Some(keep) = body.get("attachments").and_then(Value::as_array) {
        let kept: Vec<u64> = keep
            .iter()
            .filter_map(|a| a.get("id").and_then(snowflake))
            .collect();
        message.attachments.retain(|a| kept.contains(&a.id));
    }
    let added = keep_files(shared, world, message.channel_id, body, files);
    message.attachments.extend(added);
    message.edits.push(Edit {
        at: Instant::now(),
        via,
        content: message.content.clone(),
        attachments: message.attachments.len(),
        components: message.components.clone(),
    });
    message
}

/// Keeps uploaded files and serves them from the CDN; a file's name is
/// the one its `attachments[]` entry gives, else the part's.
fn keep_files(
    shared: &Shared,
    world: &mut World,
    channel: u64,
    body: &Value,
    files: &[Upload],
) -> Vec<FileInfo> {
    let described = body.get("attachments").and_then(Value::as_array);
    files
        .iter()
        .map(|upload| {
            let id = shared.next_id();
            let named = described
                .into_iter()
                .flatten()
                .find(|a| {
                    a.get("id").and_then(snowflake).is_some()
                        && a.get("id").and_then(snowflake) == upload.index()
                })
                .and_then(|a| a.get("filename").and_then(Value::as_str));
            let filename = named.unwrap_or(&upload.filename).to_owned();
            let info = FileInfo {
                id,
                filename: filename.clone(),
                content_type: upload.content_type.clone(),
                size: upload.data.len() as u64,
                url: format!("{}/attachments/{channel}/{id}/{filename}", shared.base_url),
                pixels: FileInfo::pixels_of(upload.content_type.as_deref(), &upload.data),
            };
            world.files.insert(
                id,
                Blob {
                    info: info.clone(),
                    data: upload.data.clone(),
                },
            );
            info
        })
        .collect()
}

fn text(body: &Value, key: &str) -> String {
    body.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn list(body: &Value, key: &str) -> Vec<Value> {
    body.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// `GET /attachments/{channel}/{id}/{name}`: the fake's CDN.
pub async fn cdn(
    State(shared): State<Arc<Shared>>,
    Path((_channel, id, _name)): Path<(u64, u64, String)>,
) -> Response {
    let blob = shared.world().files.get(&id).cloned();
    match blob {
        Some(blob) => {
            let content_type = blob
                .info
                .content_type
                .unwrap_or_else(|| "application/octet-stream".to_owned());
            ([(header::CONTENT_TYPE, content_type)], blob.data).into_response()
        }
        None => (StatusCode::NOT_FOUND, "404: Not Found").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_read_with_their_ids() {
        assert_eq!(Route::parse("/gateway/bot"), Some(Route::GatewayBot));
        assert_eq!(
            Route::parse("/webhooks/1/tok/messages/@original"),
            Some(Route::WebhookMessage {
                app: 1,
                token: "tok".into(),
                message: None
            })
        );
        assert_eq!(Route::parse("/channels/x/messages"), None);
        assert_eq!(
            Route::parse("/applications/5/guilds/6/commands").map(|r| r.template()),
            Some("/applications/{application_id}/guilds/{guild_id}/commands")
        );
    }
}
