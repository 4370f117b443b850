//! Several instances on one PostgreSQL store: leases, fences, places toward
//! the service, the shared queue, the shared token bucket and turns.

use std::time::Duration;

use sorabot_storage::{Coordination, Fence, JobFacts, JobRow, Store, Turn, HOUSEKEEPING_TURN};

use crate::helpers::{alice, bob, job, postgres_store};

const LEASE: Duration = Duration::from_secs(30);

async fn shared() -> (Store, Coordination) {
    let store = postgres_store().await;
    let coordination = store.coordination().expect("PostgreSQL coordinates");
    (store, coordination)
}

fn row<'a>(
    id: &'a str,
    owner: &'a sorabot_storage::UserKey,
    created_ms: u64,
    facts: JobFacts,
) -> JobRow<'a> {
    JobRow {
        id,
        owner,
        created_ms,
        facts,
    }
}

const ACTIVE: JobFacts = JobFacts {
    active: true,
    holds_slot: false,
    waiting: false,
};

const WAITING: JobFacts = JobFacts {
    active: true,
    holds_slot: false,
    waiting: true,
};

fn fence(holder: &str, attempt: i64) -> Fence<'_> {
    Fence { holder, attempt }
}

#[tokio::test]
async fn sled_has_no_coordination() {
    assert!(Store::temporary().unwrap().coordination().is_none());
}

#[tokio::test]
async fn a_new_job_is_held_by_its_writer_and_nobody_else_can_claim_it() {
    let (store, c) = shared().await;
    let owner = alice();
    assert!(c
        .put_job(
            row("j1", &owner, 1, ACTIVE),
            fence("a", 1),
            LEASE,
            &job("j1")
        )
        .await
        .unwrap());
    assert!(c
        .claim_jobs("b", LEASE, 10, false)
        .await
        .unwrap()
        .is_empty());
    let stored: Option<crate::helpers::TestJob> = store.get_job("j1").await.unwrap();
    assert_eq!(stored, Some(job("j1")));
    assert_eq!(store.active_count().await.unwrap(), 1);
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_holder_writes_nothing() {
    let (store, c) = shared().await;
    let owner = alice();
    let short = Duration::from_millis(50);
    assert!(c
        .put_job(
            row("j1", &owner, 1, ACTIVE),
            fence("a", 1),
            short,
            &job("j1")
        )
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(120)).await;
    let claims = c.claim_jobs("b", LEASE, 10, false).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].job, "j1");
    assert_eq!(claims[0].attempt, 2);
    assert_eq!(claims[0].previous.as_deref(), Some("a"));
    assert!(claims[0]
        .overdue
        .is_some_and(|late| late >= Duration::from_millis(50)));
    let mut stale = job("j1");
    stale.prompt = "written by the instance that lost the job".into();
    assert!(!c
        .put_job(row("j1", &owner, 1, ACTIVE), fence("a", 1), LEASE, &stale)
        .await
        .unwrap());
    assert!(c
        .put_job(
            row("j1", &owner, 1, ACTIVE),
            fence("b", 2),
            LEASE,
            &job("j1")
        )
        .await
        .unwrap());
    let stored: Option<crate::helpers::TestJob> = store.get_job("j1").await.unwrap();
    assert_eq!(stored, Some(job("j1")));
    assert!(c.renew_leases("a", LEASE).await.unwrap().is_empty());
    let held = c.renew_leases("b", LEASE).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].attempt, 2);
}

#[tokio::test]
async fn a_finished_job_lets_its_lease_go_and_is_never_claimed() {
    let (store, c) = shared().await;
    let owner = alice();
    let done = JobFacts::default();
    assert!(c
        .put_job(
            row("j1", &owner, 1, ACTIVE),
            fence("a", 1),
            LEASE,
            &job("j1")
        )
        .await
        .unwrap());
    assert!(c
        .put_job(row("j1", &owner, 1, done), fence("a", 1), LEASE, &job("j1"))
        .await
        .unwrap());
    assert!(c.renew_leases("a", LEASE).await.unwrap().is_empty());
    assert!(c.claim_jobs("b", LEASE, 10, true).await.unwrap().is_empty());
    assert_eq!(store.active_count().await.unwrap(), 0);
    // The same holder may still write it (its end told), a taker may too.
    assert!(c
        .put_job(row("j1", &owner, 1, done), fence("a", 1), LEASE, &job("j1"))
        .await
        .unwrap());
    let attempt = c.take_job("j1", "b", LEASE).await.unwrap().unwrap();
    assert!(!c
        .put_job(row("j1", &owner, 1, done), fence("a", 1), LEASE, &job("j1"))
        .await
        .unwrap());
    assert!(c
        .put_job(
            row("j1", &owner, 1, done),
            fence("b", attempt),
            LEASE,
            &job("j1")
        )
        .await
        .unwrap());
}

#[tokio::test]
async fn a_handed_back_job_is_claimed_at_once_and_a_restart_reclaims_its_own() {
    let (_store, c) = shared().await;
    let owner = alice();
    assert!(c
        .put_job(
            row("j1", &owner, 1, ACTIVE),
            fence("a", 1),
            LEASE,
            &job("j1")
        )
        .await
        .unwrap());
    assert!(c
        .put_job(
            row("j2", &owner, 2, ACTIVE),
            fence("a", 1),
            LEASE,
            &job("j2")
        )
        .await
        .unwrap());
    let mine = c.claim_jobs("a", LEASE, 10, true).await.unwrap();
    assert_eq!(
        mine.iter().map(|c| c.job.as_str()).collect::<Vec<_>>(),
        ["j1", "j2"]
    );
    assert!(mine.iter().all(|claim| claim.previous.is_none()));
    assert_eq!(c.hand_back("a").await.unwrap(), 2);
    let taken = c.claim_jobs("b", LEASE, 1, false).await.unwrap();
    assert_eq!(taken.len(), 1, "the limit bounds a claim");
    assert_eq!(taken[0].job, "j1");
}

fn granted(grants: Vec<sorabot_storage::Granted>) -> Vec<String> {
    grants.into_iter().map(|g| g.job).collect()
}

#[tokio::test]
async fn places_go_oldest_first_over_every_instance_and_never_pass_the_cap() {
    let (_store, c) = shared().await;
    let (a, b) = (alice(), bob());
    // j1, j3 and j4 are held by instance x, j2 by instance y.
    for (n, owner, holder) in [(1, &a, "x"), (2, &b, "y"), (3, &a, "x"), (4, &b, "x")] {
        let id = format!("j{n}");
        assert!(c
            .put_job(
                row(&id, owner, n, WAITING),
                fence(holder, 1),
                LEASE,
                &job(&id)
            )
            .await
            .unwrap());
    }
    assert_eq!(c.queue_position("j3").await.unwrap(), Some(3));
    // Two places: x gets j1; j2's place is y's to take, so j3 waits.
    assert_eq!(granted(c.grant_slots("x", 2).await.unwrap()), ["j1"]);
    assert_eq!(c.queue_position("j1").await.unwrap(), None);
    assert_eq!(c.queue_position("j3").await.unwrap(), Some(2));
    assert!(c.grant_slots("x", 2).await.unwrap().is_empty());
    assert_eq!(granted(c.grant_slots("y", 2).await.unwrap()), ["j2"]);
    assert!(
        c.grant_slots("x", 2).await.unwrap().is_empty(),
        "the cap is reached"
    );
    assert_eq!(c.queue_and_in_flight().await.unwrap(), (2, 2));
    // Writing a waiting job again keeps its place; a job past the queue
    // that leaves the service gives its place back.
    assert!(c
        .put_job(row("j1", &a, 1, WAITING), fence("x", 1), LEASE, &job("j1"))
        .await
        .unwrap());
    assert_eq!(c.queue_and_in_flight().await.unwrap(), (2, 2));
    c.release_slot(fence("x", 1), "j1").await.unwrap();
    assert_eq!(granted(c.grant_slots("x", 2).await.unwrap()), ["j3"]);
    let delivering = JobFacts {
        active: true,
        waiting: false,
        holds_slot: false,
    };
    assert!(c
        .put_job(
            row("j2", &b, 2, delivering),
            fence("y", 1),
            LEASE,
            &job("j2")
        )
        .await
        .unwrap());
    assert_eq!(granted(c.grant_slots("x", 2).await.unwrap()), ["j4"]);
    assert_eq!(c.active_of(&a).await.unwrap(), 2);
    assert_eq!(c.active_of(&b).await.unwrap(), 2);
}

#[tokio::test]
async fn a_granted_place_survives_its_holder_and_goes_with_the_job() {
    let (_store, c) = shared().await;
    let owner = alice();
    let short = Duration::from_millis(50);
    assert!(c
        .put_job(
            row("j1", &owner, 1, WAITING),
            fence("x", 1),
            short,
            &job("j1")
        )
        .await
        .unwrap());
    assert_eq!(granted(c.grant_slots("x", 1).await.unwrap()), ["j1"]);
    tokio::time::sleep(Duration::from_millis(120)).await;
    let claims = c.claim_jobs("y", LEASE, 10, false).await.unwrap();
    assert!(
        claims[0].holds_slot,
        "the place was granted before its holder died"
    );
}

#[tokio::test]
async fn concurrent_grants_from_many_instances_never_pass_the_cap() {
    let (_store, c) = shared().await;
    let owner = alice();
    let holders: Vec<String> = (0..8).map(|n| format!("i{n}")).collect();
    for n in 0..32u64 {
        let id = format!("j{n:02}");
        let holder = &holders[n as usize % holders.len()];
        assert!(c
            .put_job(
                row(&id, &owner, n, WAITING),
                fence(holder, 1),
                LEASE,
                &job(&id)
            )
            .await
            .unwrap());
    }
    // Every instance asks at once, twice.
    let asks: Vec<_> = holders
        .iter()
        .chain(&holders)
        .map(|holder| {
            let c = c.clone();
            let holder = holder.clone();
            tokio::spawn(async move { c.grant_slots(&holder, 5).await.unwrap().len() })
        })
        .collect();
    let mut total = 0;
    for ask in asks {
        total += ask.await.unwrap();
    }
    assert_eq!(total, 5, "every place is given, and no more");
    assert_eq!(c.queue_and_in_flight().await.unwrap(), (27, 5));
}

#[tokio::test]
async fn the_shared_bucket_spaces_turns_by_the_rate_and_a_pause_holds_everyone() {
    let (_store, c) = shared().await;
    assert_eq!(c.take_turn("svc", 2.0, 1.0).await.unwrap(), Turn::Now);
    let Turn::Wait(wait) = c.take_turn("svc", 2.0, 1.0).await.unwrap() else {
        panic!("a second turn at once beyond a burst of 1");
    };
    assert!(
        wait > Duration::from_millis(300) && wait <= Duration::from_millis(500),
        "{wait:?}"
    );
    c.pause_turns("svc", Duration::from_secs(20)).await.unwrap();
    c.pause_turns("svc", Duration::from_secs(1)).await.unwrap();
    let Turn::Wait(wait) = c.take_turn("svc", 1000.0, 10.0).await.unwrap() else {
        panic!("a paused bucket gave a turn");
    };
    assert!(
        wait > Duration::from_secs(18),
        "the longer pause stays: {wait:?}"
    );
    assert_eq!(
        c.take_turn("other", 1.0, 1.0).await.unwrap(),
        Turn::Now,
        "buckets are by name"
    );
}

#[tokio::test]
async fn one_instance_at_a_time_has_a_turn_and_release_passes_it_on() {
    let (_store, c) = shared().await;
    let first = c
        .try_exclusive(HOUSEKEEPING_TURN)
        .await
        .unwrap()
        .expect("a free turn");
    assert!(c.try_exclusive(HOUSEKEEPING_TURN).await.unwrap().is_none());
    first.release().await;
    let second = c
        .try_exclusive(HOUSEKEEPING_TURN)
        .await
        .unwrap()
        .expect("released");
    drop(second);
    // Dropped without release: its session ends, and so does the lock.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(third) = c.try_exclusive(HOUSEKEEPING_TURN).await.unwrap() {
            third.release().await;
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a dropped turn was never freed"
        );
        tokio::task::yield_now().await;
    }
}
