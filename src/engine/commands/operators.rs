//! The operators' commands (`ADMINS`): `/ban` and `/unban` (kept in the
//! store), `/grant` (credits on top of today's quota), and `/stats`, a
//! typed [`Stats`] summary of the store's jobs rendered in one place.

use std::collections::{BTreeMap, HashMap};

use sorabot_storage::{BanRecord, MessageKey, UserKey};

use super::{Handled, Outcome, Refusal};
use crate::chat::{ChatRef, Incoming, UserRef};
use crate::clock::{now_ms, today};
use crate::command::{Lang, StatsWindow, UserTarget};
use crate::engine::alerts::ALERT_EVERY;
use crate::engine::{Engine, EngineError};
use crate::i18n::catalogue::Arg;
use crate::i18n::text;
use crate::ids::JobId;
use crate::job::{Job, JobState};

/// How many users and chats `/stats` names.
const TOP: usize = 5;

/// What `/stats` reports, before it is put in words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    pub window: StatsWindow,
    /// Jobs created in the window, by state (`queued`, `delivered`, …).
    pub states: BTreeMap<&'static str, usize>,
    /// Failed jobs by the kind of failure (the metrics' labels).
    pub failures: BTreeMap<&'static str, usize>,
    /// Credits charged and not given back.
    pub credits: u64,
    /// The users (`platform:id`) and chats with the most jobs, most first.
    pub top_users: Vec<(String, usize)>,
    pub top_chats: Vec<(String, usize)>,
    pub services: Vec<ServiceHealth>,
}

/// How one Sora service is doing, as this instance knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceHealth {
    pub name: String,
    pub state: Health,
    /// Jobs holding a place at the service, and waiting for one.
    pub in_flight: usize,
    pub queued: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Answering,
    /// The service said lately that the bot's balance is used up.
    BalanceUsedUp,
    /// The service refused the bot's key lately.
    KeyRefused,
}

impl Stats {
    /// Counts `jobs` (those created in `window`).
    pub fn of_jobs(window: StatsWindow, jobs: &[Job]) -> Stats {
        let mut stats = Stats {
            window,
            ..Stats::default()
        };
        let mut users: HashMap<String, usize> = HashMap::new();
        let mut chats: HashMap<String, usize> = HashMap::new();
        for job in jobs {
            *stats.states.entry(state_label(&job.state)).or_default() += 1;
            if let JobState::Failed(failure) = &job.state {
                *stats
                    .failures
                    .entry(crate::metrics::failure_kind(failure))
                    .or_default() += 1;
            }
            if job.charged_day.is_some() {
                stats.credits += u64::from(job.cost);
            }
            let platform = &job.chat.platform;
            *users
                .entry(format!("{platform}:{}", job.owner))
                .or_default() += 1;
            *chats
                .entry(format!("{platform}:{}", job.chat.chat))
                .or_default() += 1;
        }
        stats.top_users = top(users);
        stats.top_chats = top(chats);
        stats
    }

    fn total(&self) -> usize {
        self.states.values().sum()
    }

    /// The summary in `lang`, one line a part.
    pub fn render(&self, lang: Lang) -> String {
        let none = || text(lang, "stats-none", &[]);
        let counts = |map: &BTreeMap<&'static str, usize>| {
            if map.is_empty() {
                none()
            } else {
                let parts: Vec<String> = map.iter().map(|(k, n)| format!("{k} {n}")).collect();
                parts.join(", ")
            }
        };
        let ranked = |list: &[(String, usize)]| {
            if list.is_empty() {
                none()
            } else {
                let parts: Vec<String> = list.iter().map(|(k, n)| format!("{k} ({n})")).collect();
                parts.join(", ")
            }
        };
        let title = match self.window {
            StatsWindow::Today => "stats-title-today",
            StatsWindow::Week => "stats-title-week",
        };
        let mut lines = vec![
            text(lang, title, &[]),
            text(
                lang,
                "stats-jobs",
                &[
                    ("total", self.total().into()),
                    ("states", counts(&self.states).into()),
                ],
            ),
            text(
                lang,
                "stats-failures",
                &[("list", counts(&self.failures).into())],
            ),
            text(lang, "stats-credits", &[("credits", self.credits.into())]),
            text(
                lang,
                "stats-top-users",
                &[("list", ranked(&self.top_users).into())],
            ),
            text(
                lang,
                "stats-top-chats",
                &[("list", ranked(&self.top_chats).into())],
            ),
        ];
        for service in &self.services {
            let health = match service.state {
                Health::Answering => "stats-health-ok",
                Health::BalanceUsedUp => "stats-health-balance",
                Health::KeyRefused => "stats-health-key",
            };
            let args: [(&str, Arg); 4] = [
                ("name", service.name.as_str().into()),
                ("health", text(lang, health, &[]).into()),
                ("in_flight", service.in_flight.into()),
                ("queued", service.queued.into()),
            ];
            lines.push(text(lang, "stats-service", &args));
        }
        lines.join("\n")
    }
}

/// The `TOP` largest counts, ties by name.
fn top(counts: HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut list: Vec<(String, usize)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(TOP);
    list
}

fn state_label(state: &JobState) -> &'static str {
    match state {
        JobState::Queued => "queued",
        JobState::Submitting => "submitting",
        JobState::Submitted => "submitted",
        JobState::Running { .. } => "running",
        JobState::Delivering => "delivering",
        JobState::Delivered => "delivered",
        JobState::Failed(_) => "failed",
        JobState::Cancelled => "cancelled",
    }
}

impl Engine {
    /// Whether an operator banned `user` (on `chat`'s platform).
    pub(super) async fn is_banned(&self, chat: &ChatRef, user: &UserRef) -> bool {
        let key = UserKey::new(chat.platform.clone(), user.id.clone());
        match self.inner.store.ban_of(&key).await {
            Ok(ban) => ban.is_some(),
            Err(error) => {
                tracing::error!(%error, "could not read the bans");
                false
            }
        }
    }

    /// `/ban USER`.
    pub(super) async fn ban(&self, msg: &Incoming, lang: Lang, target: &UserTarget) -> Handled {
        let Some(user) = self.user_named(msg, target).await? else {
            return Ok(Refusal::UnknownAuthor.into());
        };
        let record = BanRecord {
            by: format!("{}:{}", msg.chat.platform, msg.user.id),
            at_ms: now_ms(),
        };
        let new = self.inner.store.ban(&user, &record).await?;
        tracing::info!(%user, by = %record.by, new, "user banned");
        let id = if new {
            "user-banned"
        } else {
            "user-already-banned"
        };
        Ok(Outcome::Said(text(
            lang,
            id,
            &[("user", user.to_string().into())],
        )))
    }

    /// `/unban USER`.
    pub(super) async fn unban(&self, msg: &Incoming, lang: Lang, target: &UserTarget) -> Handled {
        let Some(user) = self.user_named(msg, target).await? else {
            return Ok(Refusal::UnknownAuthor.into());
        };
        let lifted = self.inner.store.unban(&user).await?;
        tracing::info!(%user, lifted, "user unbanned");
        let id = if lifted {
            "user-unbanned"
        } else {
            "user-not-banned"
        };
        Ok(Outcome::Said(text(
            lang,
            id,
            &[("user", user.to_string().into())],
        )))
    }

    /// `/grant USER CREDITS`: credits on top of the user's quota, today only.
    pub(super) async fn grant(
        &self,
        msg: &Incoming,
        lang: Lang,
        target: &UserTarget,
        credits: u32,
    ) -> Handled {
        let Some(user) = self.user_named(msg, target).await? else {
            return Ok(Refusal::UnknownAuthor.into());
        };
        let (day, _) = today();
        let total = self.inner.store.grant(&user, day, credits).await?;
        tracing::info!(%user, credits, total, "credits granted");
        Ok(Outcome::Said(text(
            lang,
            "user-granted",
            &[
                ("user", user.to_string().into()),
                ("credits", credits.into()),
                ("total", total.into()),
            ],
        )))
    }

    /// `/stats [today|7d]`.
    pub(super) async fn stats(&self, lang: Lang, window: StatsWindow) -> Handled {
        let stats = self.collect_stats(window).await?;
        Ok(Outcome::Said(stats.render(lang)))
    }

    /// The summary of the jobs created in `window`, and the service's health.
    pub async fn collect_stats(&self, window: StatsWindow) -> Result<Stats, EngineError> {
        const DAY_MS: u64 = 86_400_000;
        let (day, _) = today();
        let days_back = match window {
            StatsWindow::Today => 0,
            StatsWindow::Week => 6,
        };
        let since = u64::from(day.saturating_sub(days_back)) * DAY_MS;
        let jobs: Vec<Job> = self.inner.store.jobs_since(since).await?;
        let mut stats = Stats::of_jobs(window, &jobs);
        stats.services = vec![self.service_health()];
        Ok(stats)
    }

    /// The one service's health, as this instance knows it: what it
    /// refused lately (see `alerts.rs`), and the jobs at it and waiting.
    fn service_health(&self) -> ServiceHealth {
        let recent = |kind: &str| {
            let alerted = self.inner.alerted.lock().unwrap_or_else(|p| p.into_inner());
            alerted
                .get(kind)
                .is_some_and(|at| at.elapsed() < ALERT_EVERY)
        };
        let state = if recent("balance") {
            Health::BalanceUsedUp
        } else if recent("key") {
            Health::KeyRefused
        } else {
            Health::Answering
        };
        let (in_flight, queued) = {
            let slots = self.slots();
            (slots.in_flight.len(), slots.queue.len())
        };
        ServiceHealth {
            name: "sora".to_owned(),
            state,
            in_flight,
            queued,
        }
    }

    /// The user an operator command is about: as named, or the author of
    /// the replied-to message (a command that made a job, or one of the
    /// bot's messages about a job: its owner). `None` when unknown.
    async fn user_named(
        &self,
        msg: &Incoming,
        target: &UserTarget,
    ) -> Result<Option<UserKey>, EngineError> {
        match target {
            UserTarget::Named { platform, id } => Ok(Some(UserKey::new(platform, id))),
            UserTarget::Reply => {
                let Some(reply) = &msg.reply_to else {
                    return Ok(None);
                };
                let key = MessageKey::new(
                    msg.chat.platform.clone(),
                    msg.chat.chat.clone(),
                    reply.clone(),
                );
                let Some((id, _)) = self.inner.store.lookup_message(&key).await? else {
                    return Ok(None);
                };
                let Some(id) = JobId::parse(&id) else {
                    return Ok(None);
                };
                Ok(self
                    .load(&id)
                    .await?
                    .map(|job| UserKey::new(job.chat.platform, job.owner)))
            }
        }
    }
}
