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

#[tokio::test]
async fn places_toward_the_service_never_pass_the_cap_and_go_oldest_first() {
    let (_store, c) = shared().await;
    let (a, b) = (alice(), bob());
    for (n, owner) in [(1, &a), (2, &b), (3, &a)] {
        let id = format!("j{n}");
        assert!(c
            .put_job(row(&id, owner, n, WAITING), fence("x", 1), LEASE, &job(&id))
            .await
            .unwrap());
    }
    assert_eq!(c.queue_position("j3").await.unwrap(), Some(3));
    // The youngest may not pass the two older ones waiting.
    assert!(!c.take_slot(fence("x", 1), "j3", 2).await.unwrap());
    assert!(c.take_slot(fence("x", 1), "j1", 2).await.unwrap());
    assert!(
        c.take_slot(fence("x", 1), "j1", 2).await.unwrap(),
        "holding one is holding one"
    );
    assert_eq!(c.queue_position("j1").await.unwrap(), None);
    assert_eq!(c.queue_position("j3").await.unwrap(), Some(2));
    assert!(c.take_slot(fence("x", 1), "j2", 2).await.unwrap());
    assert!(
        !c.take_slot(fence("x", 1), "j3", 2).await.unwrap(),
        "the cap is reached"
    );
    assert!(
        !c.take_slot(fence("y", 1), "j3", 9).await.unwrap(),
        "only the holder takes a place"
    );
    assert_eq!(c.queue_and_in_flight().await.unwrap(), (1, 2));
    c.release_slot(fence("x", 1), "j1").await.unwrap();
    assert!(c.take_slot(fence("x", 1), "j3", 2).await.unwrap());
    assert_eq!(c.active_of(&a).await.unwrap(), 2);
    assert_eq!(c.active_of(&b).await.unwrap(), 1);
}

#[tokio::test]
async fn concurrent_grants_over_many_connections_never_pass_the_cap() {
    let (_store, c) = shared().await;
    let owner = alice();
    let ids: Vec<String> = (0..24).map(|n| format!("j{n:02}")).collect();
    for (n, id) in ids.iter().enumerate() {
        let facts = WAITING;
        assert!(c
            .put_job(
                row(id, &owner, n as u64, facts),
                fence("x", 1),
                LEASE,
                &job(id)
            )
            .await
            .unwrap());
    }
    // Every job asks at once, as a crowd of instances would.
    let asks = ids.iter().map(|id| {
        let c = c.clone();
        let id = id.clone();
        async move { c.take_slot(fence("x", 1), &id, 5).await.unwrap() }
    });
    let granted = futures_count(asks).await;
    assert!(granted <= 5, "{granted} places granted with a cap of 5");
    assert_eq!(c.queue_and_in_flight().await.unwrap().1, granted);
}

async fn futures_count(
    asks: impl Iterator<Item = impl std::future::Future<Output = bool> + Send + 'static>,
) -> usize {
    let handles: Vec<_> = asks.map(tokio::spawn).collect();
    let mut granted = 0;
    for handle in handles {
        if handle.await.unwrap() {
            granted += 1;
        }
    }
    granted
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
