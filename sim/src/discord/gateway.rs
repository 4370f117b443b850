//! The WebSocket gateway at `/gateway`, after Discord's documented protocol:
//! HELLO (op 10) with the heartbeat interval; IDENTIFY (op 2) checked for
//! the token, privileged intents and the shard (close 4004, 4014, 4010),
//! its `shard` recorded; heartbeats (op 1)
//! acknowledged (op 11); READY and GUILD_CREATE (the guild only to its
//! shard), then the events tests inject, to the shard each belongs to
//! (`shards.rs`), as dispatches (op 0) with increasing `s`; RESUME (op 6) of a
//! known session answered with RESUMED, of an unknown one with
//! INVALID_SESSION (op 9).

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::{interval, Instant, MissedTickBehavior};

use super::objects;
use super::records::intents;
use super::shards::{self, Shard};
use super::state::{Session, Shared};

/// `GET /gateway`: upgrades to the gateway.
pub async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| connection(shared, socket))
}

/// Why a connection ends.
enum Close {
    /// The client went away.
    Gone,
    /// We close with a gateway close code.
    Code(u16, &'static str),
}

/// The state of one connection.
struct Connection {
    shared: Arc<Shared>,
    socket: WebSocket,
    seq: u64,
    /// Set once identified (or resumed).
    session: Option<(String, u64)>,
    events: Option<mpsc::UnboundedReceiver<(String, Value)>>,
    last_heartbeat: Instant,
}

async fn connection(shared: Arc<Shared>, socket: WebSocket) {
    let mut conn = Connection {
        shared,
        socket,
        seq: 0,
        session: None,
        events: None,
        last_heartbeat: Instant::now(),
    };
    let ended = conn.serve().await;
    if let Some((id, _)) = conn.session.take() {
        conn.shared.sessions().remove(&id);
    }
    if let Close::Code(code, reason) = ended {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = conn.socket.send(Message::Close(Some(frame))).await;
    }
}

impl Connection {
    async fn serve(&mut self) -> Close {
        let beat = self.shared.config.heartbeat_interval;
        let hello = json!({"op": 10, "d": {"heartbeat_interval": beat.as_millis() as u64}, "s": null, "t": null});
        if self.send(&hello).await.is_err() {
            return Close::Gone;
        }
        let mut watchdog = interval(beat);
        watchdog.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let shutdown = self.shared.shutdown.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Close::Code(1001, "going away"),
                frame = self.socket.recv() => {
                    let text = match frame {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Close::Gone,
                        Some(Ok(_)) => continue,
                    };
                    let Ok(payload) = serde_json::from_str::<Value>(text.as_str()) else {
                        return Close::Code(4002, "Error while decoding payload.");
                    };
                    if let Err(close) = self.on_payload(payload).await {
                        return close;
                    }
                }
                Some((event, data)) = next_event(&mut self.events) => {
                    if self.dispatch(&event, data).await.is_err() {
                        return Close::Gone;
                    }
                }
                _ = watchdog.tick() => {
                    // A client that stops heartbeating is dropped, as Discord does.
                    if self.last_heartbeat.elapsed() > beat * 3 {
                        return Close::Code(4009, "Session timed out.");
                    }
                }
            }
        }
    }

    async fn on_payload(&mut self, payload: Value) -> Result<(), Close> {
        let op = payload.get("op").and_then(Value::as_u64);
        let data = payload.get("d").cloned().unwrap_or(Value::Null);
        match op {
            Some(1) => {
                self.last_heartbeat = Instant::now();
                self.send(&json!({"op": 11, "d": null, "s": null, "t": null}))
                    .await
                    .map_err(|()| Close::Gone)
            }
            Some(2) => self.identify(&data).await,
            Some(6) => self.resume(&data).await,
            // Presence updates, member requests, voice: accepted, ignored.
            Some(3 | 4 | 8) => Ok(()),
            _ => Err(Close::Code(4001, "Unknown opcode.")),
        }
    }

    fn token_ok(&self, data: &Value) -> bool {
        let token = data
            .get("token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        token.strip_prefix("Bot ").unwrap_or(token) == self.shared.config.token
    }

    async fn identify(&mut self, data: &Value) -> Result<(), Close> {
        if self.session.is_some() {
            return Err(Close::Code(4005, "Already authenticated."));
        }
        if !self.token_ok(data) {
            return Err(Close::Code(4004, "Authentication failed."));
        }
        let wanted = data.get("intents").and_then(Value::as_u64).unwrap_or(0);
        if wanted & intents::MESSAGE_CONTENT != 0 && !self.shared.config.message_content_allowed {
            return Err(Close::Code(4014, "Disallowed intent(s)."));
        }
        let shard = identified_shard(data);
        if shard.is_some_and(|[id, total]| total == 0 || id >= total) {
            return Err(Close::Code(4010, "Invalid shard."));
        }
        let session_id = format!("{:032x}", self.shared.next_id());
        self.shared.count_identify(shard);
        let [shard_id, shards_total] = shard.unwrap_or([0, 1]);
        let has_guild = shards::of_guild(self.shared.guild_id, shards_total) == shard_id;
        let guilds: Vec<Value> = has_guild
            .then(|| json!({"id": self.shared.guild_id.to_string(), "unavailable": true}))
            .into_iter()
            .collect();
        let ready = {
            json!({
                "v": 10,
                "user": objects::bot_user(&self.shared),
                "guilds": guilds,
                "session_id": session_id,
                "resume_gateway_url": self.shared.gateway_url(),
                "shard": shard.unwrap_or([0, 1]),
                "application": {"id": self.shared.application_id.to_string(), "flags": objects::application(&self.shared)["flags"].clone()},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "user_settings": {},
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "_trace": ["fake-discord"],
            })
        };
        self.dispatch("READY", ready)
            .await
            .map_err(|()| Close::Gone)?;
        if wanted & intents::GUILDS != 0 && has_guild {
            let guild = objects::guild_create(&self.shared, &self.shared.world());
            self.dispatch("GUILD_CREATE", guild)
                .await
                .map_err(|()| Close::Gone)?;
        }
        self.start_session(session_id, wanted, shard);
        Ok(())
    }

    async fn resume(&mut self, data: &Value) -> Result<(), Close> {
        let session_id = data
            .get("session_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let known = self.shared.resumable().get(&session_id).copied();
        let Some(shard) = known.filter(|_| self.token_ok(data) && self.session.is_none()) else {
            return self
                .send(&json!({"op": 9, "d": false, "s": null, "t": null}))
                .await
                .map_err(|()| Close::Gone);
        };
        self.seq = data.get("seq").and_then(Value::as_u64).unwrap_or(0);
        let intents = intents::GUILDS | intents::GUILD_MESSAGES | intents::DIRECT_MESSAGES;
        self.dispatch("RESUMED", json!({"_trace": ["fake-discord"]}))
            .await
            .map_err(|()| Close::Gone)?;
        self.start_session(session_id, intents, shard);
        Ok(())
    }

    /// Registers the session, ready for events, and hands it what waited
    /// for its shard.
    fn start_session(&mut self, session_id: String, wanted: u64, shard: Option<Shard>) {
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut world = self.shared.world();
            let (mine, others) = std::mem::take(&mut world.pending)
                .into_iter()
                .partition(|(_, data)| shards::takes(shard, data));
            world.pending = others;
            for event in mine {
                let _ = tx.send(event);
            }
            self.shared.sessions().insert(
                session_id.clone(),
                Session {
                    ready: true,
                    shard,
                    events: tx,
                },
            );
        }
        self.shared.resumable().insert(session_id.clone(), shard);
        self.session = Some((session_id, wanted));
        self.events = Some(rx);
        self.shared.touch();
    }

    /// Sends one dispatch with the next sequence number, shaped by the
    /// session's intents (message content is privileged).
    async fn dispatch(&mut self, event: &str, mut data: Value) -> Result<(), ()> {
        if event == "MESSAGE_CREATE" {
            let wanted = self.session.as_ref().map_or(0, |(_, i)| *i);
            match self.visible(&data, wanted) {
                Visible::No => return Ok(()),
                Visible::WithoutContent => {
                    data["content"] = json!("");
                    for key in ["embeds", "attachments", "components"] {
                        data[key] = json!([]);
                    }
                }
                Visible::Whole => {}
            }
        }
        self.seq += 1;
        let frame = json!({"op": 0, "t": event, "s": self.seq, "d": data});
        self.send(&frame).await
    }

    fn visible(&self, message: &Value, wanted: u64) -> Visible {
        let in_guild = message.get("guild_id").is_some_and(|g| !g.is_null());
        let needed = if in_guild {
            intents::GUILD_MESSAGES
        } else {
            intents::DIRECT_MESSAGES
        };
        if wanted & needed == 0 {
            return Visible::No;
        }
        let bot = self.shared.bot_id.to_string();
        let by_bot = message.pointer("/author/id").and_then(Value::as_str) == Some(bot.as_str());
        let mentions_bot = message
            .get("content")
            .and_then(Value::as_str)
            .is_some_and(|c| c.contains(&format!("<@{bot}>")) || c.contains(&format!("<@!{bot}>")));
        if wanted & intents::MESSAGE_CONTENT != 0 || !in_guild || by_bot || mentions_bot {
            Visible::Whole
        } else {
            Visible::WithoutContent
        }
    }

    async fn send(&mut self, value: &Value) -> Result<(), ()> {
        let text = value.to_string();
        self.socket
            .send(Message::Text(Utf8Bytes::from(text)))
            .await
            .map_err(|_| ())
    }
}

/// IDENTIFY's `shard`: `[shard_id, num_shards]`, if it names one.
fn identified_shard(data: &Value) -> Option<[u64; 2]> {
    let pair = data.get("shard")?.as_array()?;
    match pair.as_slice() {
        [id, total] => Some([id.as_u64()?, total.as_u64()?]),
        _ => None,
    }
}

/// What a session may see of a message.
enum Visible {
    No,
    WithoutContent,
    Whole,
}

async fn next_event(
    events: &mut Option<mpsc::UnboundedReceiver<(String, Value)>>,
) -> Option<(String, Value)> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
