//! Copying a sled store into PostgreSQL: every kind of record reads back
//! the same from the copy; a database in use is refused; a copy cut short
//! runs again to the end without counting anything twice.

use std::collections::HashSet;

use sorabot_storage::migrate::{self, CarriedJob, Copied, CopyError, IN_PROGRESS_KEY};
use sorabot_storage::{
    BlobExport, CharacterRecord, CharacterSourceRecord, CharacterState, MessageKey, MessageRole,
    Store, UserSettings,
};

use crate::helpers::{alice, bob, ids, job, postgres_store, sled_store, TestJob};

const TG: &str = "telegram";
const TODAY: u32 = 20_000;

fn status_message() -> MessageKey {
    MessageKey::new(TG, "-100", "7")
}

/// A chat id with a NUL in it: the sled key escapes it, the copy must not.
fn odd_message() -> MessageKey {
    MessageKey::new("discord", "chan\u{0}nel", "8")
}

fn hero() -> CharacterRecord {
    CharacterRecord {
        name: "Hero".to_owned(),
        owner: alice(),
        source: CharacterSourceRecord::FromTask {
            task_id: "task-1".into(),
            job_id: "done".into(),
        },
        start: 1.0,
        end: 3.5,
        state: CharacterState::Ready,
        service_id: Some("char_1".into()),
        username: Some("alice.hero".into()),
        created_ms: 1_700_000_000_000,
    }
}

fn alices_settings() -> UserSettings {
    UserSettings {
        aspect: Some("9:16".into()),
        lang: Some("zh".into()),
        hd: Some(true),
        ..UserSettings::default()
    }
}

/// A sled store holding at least one record of every kind.
async fn filled_sled() -> Store {
    let sled = sled_store();
    sled.put_job("running", &alice(), 200, true, &job("running"))
        .await
        .unwrap();
    sled.put_job("done", &alice(), 100, false, &job("done"))
        .await
        .unwrap();
    sled.put_job("bobs", &bob(), 150, false, &job("bobs"))
        .await
        .unwrap();
    sled.index_message(&status_message(), "running", MessageRole::Status)
        .await
        .unwrap();
    sled.index_message(&odd_message(), "bobs", MessageRole::Result)
        .await
        .unwrap();
    sled.put_character(&hero()).await.unwrap();
    sled.put_settings(&alice(), &alices_settings())
        .await
        .unwrap();
    sled.try_charge(&alice(), TODAY, 10).await.unwrap();
    sled.try_charge(&alice(), TODAY, 10).await.unwrap();
    sled.try_charge(&bob(), TODAY - 1, 10).await.unwrap();
    sled.record_duration("video/10/std", 61.5).await.unwrap();
    sled.record_duration("video/10/std", 70.25).await.unwrap();
    sled.put_blob_at("input/ABCD2345-0.png", b"\x89PNG one", 12_345)
        .await
        .unwrap();
    sled.put_update(TG, 5, b"{\"update_id\":5}", 1_000)
        .await
        .unwrap();
    sled.put_update(TG, -3, b"{\"update_id\":-3}", 900)
        .await
        .unwrap();
    sled.finish_update(TG, -3).await.unwrap();
    sled.set_webhook_fingerprint(TG, "f1ng3rpr1nt")
        .await
        .unwrap();
    let ban = sorabot_storage::BanRecord {
        by: "telegram:1".into(),
        at_ms: 7,
    };
    sled.ban(&bob(), &ban).await.unwrap();
    sled.grant(&alice(), TODAY, 5).await.unwrap();
    sled
}

async fn copy_unchanged(from: &Store, to: &Store) -> Result<Copied, CopyError> {
    let sled = from.as_sled().expect("a sled store");
    migrate::copy_sled_to_postgres(sled, to, |export| Ok(CarriedJob::unchanged(export))).await
}

#[tokio::test]
async fn every_kind_of_record_reads_back_the_same_from_the_copy() {
    let sled = filled_sled().await;
    let pg = postgres_store().await;

    let copied = copy_unchanged(&sled, &pg).await.unwrap();

    assert_eq!(
        copied,
        Copied {
            jobs: 3,
            active_jobs: 1,
            messages: 2,
            characters: 1,
            settings: 1,
            usage: 2,
            durations: 1,
            blobs: 1,
            updates: 2,
            webhooks: 1,
            bans: 1,
            grants: 1,
            resumed: false,
        }
    );
    assert!(pg.ban_of(&bob()).await.unwrap().is_some());
    assert_eq!(pg.granted(&alice(), TODAY).await.unwrap(), 5);
    for id in ["running", "done", "bobs"] {
        assert_eq!(pg.get_job::<TestJob>(id).await.unwrap(), Some(job(id)));
    }
    let alices = pg.jobs_of::<TestJob>(&alice(), 10).await.unwrap();
    assert_eq!(
        ids(&alices),
        ["running", "done"],
        "owner and created time kept"
    );
    let active = pg.active_jobs::<TestJob>().await.unwrap();
    assert_eq!(ids(&active), ["running"], "the active flag kept");
    assert_eq!(
        pg.lookup_message(&status_message()).await.unwrap(),
        Some(("running".to_owned(), MessageRole::Status))
    );
    assert_eq!(
        pg.lookup_message(&odd_message()).await.unwrap(),
        Some(("bobs".to_owned(), MessageRole::Result))
    );
    assert_eq!(pg.character(&alice(), "hero").await.unwrap(), Some(hero()));
    assert_eq!(pg.settings(&alice()).await.unwrap(), alices_settings());
    assert_eq!(pg.usage(&alice(), TODAY).await.unwrap(), 2);
    assert_eq!(pg.usage(&bob(), TODAY - 1).await.unwrap(), 1);
    assert_eq!(
        pg.try_charge(&alice(), TODAY, 2).await.unwrap(),
        None,
        "the copied count is at the limit"
    );
    assert_eq!(pg.durations("video/10/std").await.unwrap(), [61.5, 70.25]);
    assert_eq!(
        pg.blob("input/ABCD2345-0.png").await.unwrap().as_deref(),
        Some(&b"\x89PNG one"[..])
    );
    assert_eq!(
        pg.sweep_blobs("input/", 12_345, &HashSet::new())
            .await
            .unwrap(),
        0,
        "the blob's age is kept: not older than itself"
    );
    assert_eq!(pg.pending_updates(TG).await.unwrap(), 1);
    assert_eq!(
        pg.take_updates(TG, "a", 2_000, 1_000, 10).await.unwrap(),
        vec![(5, b"{\"update_id\":5}".to_vec())]
    );
    assert!(
        !pg.put_update(TG, -3, b"again", 2_000).await.unwrap(),
        "a finished update is still known"
    );
    assert_eq!(
        pg.webhook_fingerprint(TG).await.unwrap().as_deref(),
        Some("f1ng3rpr1nt")
    );
    assert!(
        !pg.has_blob(IN_PROGRESS_KEY).await.unwrap(),
        "the copy is over"
    );
    assert_eq!(
        pg.sweep_blobs("input/", 12_346, &HashSet::new())
            .await
            .unwrap(),
        1,
        "and it is older than what came after it"
    );
}

#[tokio::test]
async fn a_target_that_holds_jobs_is_refused_and_left_as_it_was() {
    let sled = filled_sled().await;
    let pg = postgres_store().await;
    pg.put_job("theirs", &bob(), 5, true, &job("theirs"))
        .await
        .unwrap();

    let copied = copy_unchanged(&sled, &pg).await;

    assert!(
        matches!(copied, Err(CopyError::TargetHoldsJobs { jobs: 1 })),
        "{copied:?}"
    );
    assert_eq!(
        pg.settings(&alice()).await.unwrap(),
        UserSettings::default()
    );
    assert_eq!(pg.get_job::<TestJob>("running").await.unwrap(), None);
    assert!(!pg.has_blob(IN_PROGRESS_KEY).await.unwrap());
}

#[tokio::test]
async fn a_finished_copy_is_not_run_over_by_a_second_one() {
    let sled = filled_sled().await;
    let pg = postgres_store().await;
    copy_unchanged(&sled, &pg).await.unwrap();

    let again = copy_unchanged(&sled, &pg).await;

    assert!(
        matches!(again, Err(CopyError::TargetHoldsJobs { jobs: 3 })),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_copy_cut_short_runs_again_to_the_end_without_counting_twice() {
    let sled = filled_sled().await;
    let pg = postgres_store().await;
    let broken = migrate::copy_sled_to_postgres(sled.as_sled().unwrap(), &pg, |export| {
        if export.id == "done" {
            return Err("the disk went away".into());
        }
        Ok(CarriedJob::unchanged(export))
    })
    .await;
    assert!(
        matches!(&broken, Err(CopyError::Job { id, .. }) if id == "done"),
        "{broken:?}"
    );
    assert!(pg.has_blob(IN_PROGRESS_KEY).await.unwrap());

    let copied = copy_unchanged(&sled, &pg).await.unwrap();

    assert!(copied.resumed);
    assert_eq!((copied.jobs, copied.active_jobs), (3, 1));
    assert_eq!(
        pg.usage(&alice(), TODAY).await.unwrap(),
        2,
        "set, not added"
    );
    assert_eq!(pg.durations("video/10/std").await.unwrap(), [61.5, 70.25]);
    assert_eq!(
        pg.get_job::<TestJob>("done").await.unwrap(),
        Some(job("done"))
    );
    assert!(!pg.has_blob(IN_PROGRESS_KEY).await.unwrap());
}

#[tokio::test]
async fn a_job_rewritten_on_its_way_is_stored_with_the_blobs_it_was_given() {
    let sled = filled_sled().await;
    let pg = postgres_store().await;

    let copied = migrate::copy_sled_to_postgres(sled.as_sled().unwrap(), &pg, |export| {
        let mut carried = CarriedJob::unchanged(export.clone());
        if export.id == "running" {
            carried.job = serde_json::to_value(TestJob {
                prompt: "rewritten".into(),
                ..job("running")
            })?;
            carried.blobs.push(BlobExport {
                key: "input/FROMFILE-0.png".into(),
                bytes: b"file bytes".to_vec(),
                created_ms: 777,
            });
        }
        Ok(carried)
    })
    .await
    .unwrap();

    assert_eq!(copied.blobs, 2, "the one sled held and the one added");
    let running: TestJob = pg.get_job("running").await.unwrap().unwrap();
    assert_eq!(running.prompt, "rewritten");
    assert_eq!(
        pg.blob("input/FROMFILE-0.png").await.unwrap().as_deref(),
        Some(&b"file bytes"[..])
    );
    assert_eq!(
        pg.active_jobs::<TestJob>().await.unwrap().len(),
        1,
        "still unfinished"
    );
}

#[tokio::test]
async fn a_sled_target_is_refused() {
    let sled = filled_sled().await;
    let other = sled_store();

    let copied = copy_unchanged(&sled, &other).await;

    assert!(matches!(copied, Err(CopyError::NotPostgres)), "{copied:?}");
}
