//! Two `sorabot` processes sharing one PostgreSQL, as a deployment runs
//! them: the fake Bot API pushes every update to one webhook URL, a
//! round-robin balancer spreads the pushes over both instances, and both
//! talk to the Sora simulator (each with a key of its own, so the service's
//! log tells them apart). Several users send `/video` jobs; while some are
//! at the service, one instance is killed with SIGKILL. The survivor takes
//! over the jobs the killed one held once their leases run out: every job
//! is created once at the service and delivered once, each owner charged
//! for what was delivered. A job whose submission was in flight at the kill
//! may instead be told it is in doubt (failed, refunded, created at most
//! once), and a video whose upload was in flight when its sender died may
//! come twice, as the engine promises.

#[path = "../src/bin/fleet/mod.rs"]
mod fleet;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use fleet::cluster::{Cluster, ClusterConfig, TICK};
use fleet::commands::{Chats, Platform, Takes, VideoCommand};
use fleet::service::{asks_by_task, first_after, held_at};
use sorabot::engine::Records;
use sorabot::ids::JobId;
use sorabot::job::{Job, JobState};
use sorabot_sim::telegram::TgUser;
use tokio::time::Instant;

/// Users, each sending this many jobs before the kill.
const USERS: usize = 4;
const JOBS_EACH: usize = 2;
/// Jobs sent after the kill, through the balancer that then skips the
/// dead instance (two, so one of them is first offered to it).
const JOBS_AFTER: usize = 2;
/// The longest any one awaited thing may take.
const WAIT: Duration = Duration::from_secs(40);

fn config() -> ClusterConfig {
    ClusterConfig {
        instances: 2,
        discord: false,
        lease_secs: 2.0,
        service_rps: 50.0,
        max_in_flight: 16,
        // Jobs of about 4 s (120 simulated seconds at ×30): long enough for
        // the kill to find some at the service.
        time_scale: 30.0,
        job_secs: 120.0,
        seed: 21,
        bot_log: "warn".to_owned(),
    }
}

/// Waits until `probe` gives something, looking every tick; panics naming
/// `what` after `within`.
async fn until<T>(what: &str, within: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {within:?} for {what}");
        tokio::time::sleep(TICK).await;
    }
}

/// The job each command's status names (one each, once all are shown).
fn jobs_shown(cluster: &Cluster, takes: &Takes, commands: &[VideoCommand]) -> Option<Vec<String>> {
    let chats = Chats::new(&cluster.telegram, None, takes);
    commands
        .iter()
        .map(|c| chats.job_ids_shown(c).first().cloned())
        .collect()
}

/// The stored jobs, by id, once every one of them is finished.
async fn all_finished(records: &Records, ids: &[String]) -> Option<HashMap<String, Job>> {
    let mut jobs = HashMap::new();
    for id in ids {
        let job = records.job(&JobId::parse(id)?).await.ok()??;
        if !job.state.is_finished() {
            return None;
        }
        jobs.insert(id.clone(), job);
    }
    Some(jobs)
}

/// The value of the sample `series` in a metrics text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instances_jobs_are_each_created_once_and_delivered_once_by_the_survivor() {
    let bot = Path::new(env!("CARGO_BIN_EXE_sorabot"));
    let mut cluster = Cluster::start(config(), bot)
        .await
        .expect("the world starts");
    cluster.launch_all().await.expect("both instances serve");
    let takes = Takes::new("pair take");
    let mut commands: Vec<VideoCommand> = (0..USERS * JOBS_EACH + JOBS_AFTER)
        .map(|i| {
            // Four users send two each; after the kill two more send one.
            let user = match i.checked_sub(USERS * JOBS_EACH) {
                None => i % USERS,
                Some(later) => USERS + later,
            };
            let person = TgUser::new(8_000 + user as i64, format!("User {user}")).language("en");
            takes
                .command(i, Platform::Telegram, false, None)
                .sent_by(person)
        })
        .collect();
    let (before, after) = commands.split_at_mut(USERS * JOBS_EACH);
    for command in before.iter_mut() {
        Chats::new(&cluster.telegram, None, &takes)
            .send(command)
            .expect("a command is sent");
    }

    // The kill comes once every job is admitted and an instance holds a
    // job at the service; the one holding more is killed.
    let (victim, held) = until("an instance holding a job at the service", WAIT, || {
        jobs_shown(&cluster, &takes, before)?;
        let now = Instant::now();
        let asks = asks_by_task(&cluster.sim, |a| cluster.instance_of(a));
        let held = held_at(&asks, now, 2, |_| false);
        let victim = (0..2).max_by_key(|i| held[*i].len())?;
        (!held[victim].is_empty()).then(|| (victim, held[victim].clone()))
    })
    .await;
    let survivor = 1 - victim;
    let answered_before_kill = cluster.balancer.answered();
    cluster.kill(victim).await.expect("the victim is killed");
    let killed_at = Instant::now();
    // What the victim had put in the chats when it died: a video it sent
    // without yet saying done may be sent again by the survivor.
    let uploaded_unsaid: Vec<bool> = {
        let chats = Chats::new(&cluster.telegram, None, &takes);
        before
            .iter()
            .map(|c| {
                chats.job_ids_shown(c).iter().any(|job| {
                    chats.deliveries(c, job).messages > 0 && !chats.shows_final(c, "✅ ")
                })
            })
            .collect()
    };
    for command in after.iter_mut() {
        Chats::new(&cluster.telegram, None, &takes)
            .send(command)
            .expect("a command is sent");
    }

    let ids = until("every command's job shown", WAIT, || {
        jobs_shown(&cluster, &takes, &commands)
    })
    .await;
    let records = cluster.records().await.expect("the store opens");
    let deadline = Instant::now() + WAIT;
    let jobs = loop {
        if let Some(jobs) = all_finished(&records, &ids).await {
            break jobs;
        }
        assert!(Instant::now() < deadline, "the jobs never all finished");
        tokio::time::sleep(TICK).await;
    };
    let metrics = cluster
        .metrics(survivor)
        .await
        .expect("the survivor serves /metrics");

    let chats = Chats::new(&cluster.telegram, None, &takes);
    let tasks = cluster.sim.tasks();
    let asks = asks_by_task(&cluster.sim, |a| cluster.instance_of(a));
    let today = sorabot::clock::today().0;
    let mut delivered = 0;
    let mut in_doubt = 0;
    for (i, command) in commands.iter().enumerate() {
        let job = &jobs[&ids[i]];
        let creates = tasks
            .iter()
            .filter(|t| t.prompt.as_deref() == Some(command.prompt.as_str()))
            .count();
        let uploads = chats.deliveries(command, &ids[i]).messages;
        let transcript = || chats.status_texts(command).join("\n---\n");
        assert_eq!(
            chats.job_ids_shown(command).len(),
            1,
            "one job for command {i}"
        );
        if job.state == JobState::Delivered {
            delivered += 1;
            assert_eq!(creates, 1, "command {i}: {}", transcript());
            let allowed = 1 + usize::from(uploaded_unsaid.get(i) == Some(&true));
            assert!(
                (1..=allowed).contains(&uploads),
                "command {i}: {uploads} uploads, {allowed} allowed: {}",
                transcript()
            );
        } else {
            in_doubt += 1;
            assert!(
                matches!(job.state, JobState::Failed(_)) && chats.told_in_doubt(command, &ids[i]),
                "command {i} neither delivered nor told in doubt ({}): {}",
                job.state.name(),
                transcript()
            );
            assert!(creates <= 1, "command {i}: {creates} creates");
            assert_eq!(uploads, 0);
        }
    }
    // Every job the victim held at the service was carried on by the
    // survivor after the kill, and ended.
    let task_jobs: HashMap<String, &Job> = jobs
        .values()
        .filter_map(|job| Some((job.task.as_ref()?.to_string(), job)))
        .collect();
    for task in &held {
        let job = task_jobs.get(task).copied();
        assert!(
            first_after(&asks, task, killed_at, |by| by == survivor).is_some(),
            "task {task} of the victim was never asked about by the survivor"
        );
        assert!(job.is_some_and(|j| j.state.is_finished()), "task {task}");
    }
    let mut charged = 0;
    for user in (0..USERS + JOBS_AFTER).map(|u| (8_000 + u).to_string()) {
        charged += records
            .charged("telegram", &user, today)
            .await
            .expect("a usage count");
    }
    assert_eq!(
        charged as usize, delivered,
        "usage counted once per delivered job"
    );
    eprintln!("{delivered} delivered, {in_doubt} told in doubt; the victim held {held:?}");
    assert!(
        answered_before_kill.iter().all(|n| *n > 0),
        "the balancer spread the pushes: {answered_before_kill:?}"
    );
    assert!(
        cluster.balancer.refused()[victim] > 0,
        "a push after the kill was first offered to the dead instance"
    );
    assert!(
        sample(&metrics, "sorabot_leases_taken_over_total").is_some_and(|n| n >= 1.0),
        "the survivor counted its takeovers:\n{metrics}"
    );
    cluster.stop_all().await.expect("the survivor stops");
}
