//! Files under `DATA_DIR` no job needs any more are swept: attached images
//! past their retention and result files left in the spool; what an
//! unfinished job needs stays, whatever its age.

mod engine_support;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use engine_support::{sample_png_path, Bot, Setup};
use sorabot::engine::Swept;
use sorabot::job::JobState;

const DAY: Duration = Duration::from_secs(24 * 3600);

async fn input_files(bot: &Bot, job: &str) -> Vec<PathBuf> {
    let job = bot.job(job).await;
    job.request.kept_files().map(|p| p.to_path_buf()).collect()
}

/// Makes `path` look last written `age` ago.
fn backdate(path: &PathBuf, age: Duration) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("the file opens");
    file.set_modified(SystemTime::now() - age)
        .expect("the time is set");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_past_its_retention_is_removed_and_retry_asks_for_it_again() {
    let mut bot = Bot::start().await;
    let png = sample_png_path();
    bot.say(&format!("+{} /video make it move", png.display()))
        .await;
    let job = bot.new_job("make it move").await;
    bot.wait_state(&job.id, "delivered", |s| *s == JobState::Delivered)
        .await;
    // Its inputs are kept while it is among the unfinished jobs, which it is
    // until its status says it ended: wait for that, not for the delivery.
    bot.wait_told(&job.id).await;
    let kept = input_files(&bot, &job.id).await;
    assert_eq!(kept.len(), 1);

    backdate(&kept[0], 6 * DAY);
    let swept = bot.engine().sweep().await.expect("the sweep runs");
    assert_eq!(swept, Swept::default(), "six days old is within the week");
    assert!(kept[0].exists());

    backdate(&kept[0], 8 * DAY);
    let swept = bot.engine().sweep().await.expect("the sweep runs");
    assert_eq!(swept.inputs, 1);
    assert!(!kept[0].exists(), "past the week, the image goes");

    let mark = bot.transcript.lines().len();
    bot.say(&format!("/retry {}", job.id)).await;
    bot.wait_line(
        mark,
        r"^The image of that job is no longer kept \(images are kept 7 days\)\. Send the command again with the image attached\.$",
    )
    .await;
    assert_eq!(
        bot.sim_requests("POST", "/v1/videos/generations").len(),
        1,
        "nothing submitted without its image"
    );
    bot.say("/quota").await;
    bot.wait_line(mark, r"^Today you have used 1 of 20 credits")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_an_unfinished_job_needs_stay_and_leftover_results_go() {
    // A job of two real minutes: unfinished while the sweep runs.
    let mut bot = Setup::new().time_scale(1.0).start().await;
    let png = sample_png_path();
    bot.say(&format!("+{} /video a slow one", png.display()))
        .await;
    let job = bot.new_job("a slow one").await;
    bot.wait_state(&job.id, "at the service", JobState::holds_slot)
        .await;
    let input = input_files(&bot, &job.id).await.remove(0);
    backdate(&input, 30 * DAY);

    let spool = bot.engine().limits().spool_dir();
    std::fs::create_dir_all(&spool).unwrap();
    let (stale, fresh) = (spool.join("OLD00000-0.mp4"), spool.join("NEW00000-0.part"));
    std::fs::write(&stale, b"left by a job that failed").unwrap();
    std::fs::write(&fresh, b"being downloaded").unwrap();
    backdate(&stale, Duration::from_secs(2 * 3600));

    let swept = bot.engine().sweep().await.expect("the sweep runs");
    assert_eq!(
        swept,
        Swept {
            inputs: 0,
            spool: 1,
            links: 0,
        }
    );
    assert!(input.exists(), "the unfinished job still needs its image");
    assert!(!stale.exists(), "a result no job needs goes after an hour");
    assert!(fresh.exists(), "a file being written stays");
}
