//! Attached pictures are checked before a job takes them: real JPEG, PNG or
//! WebP bytes, a header that reads, sides within `MAX_IMAGE_SIDE`. Each
//! refusal says what was wrong, and the service is never asked.

mod engine_support;

use engine_support::{Bot, Setup, SAMPLE_PNG};

/// Writes `data` as a file in the bot's data dir, for a `+PATH` attachment.
fn attach(bot: &Bot, name: &str, data: &[u8]) -> String {
    let path = bot.dir.path().join(name);
    std::fs::write(&path, data).expect("a file to attach");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_named_like_a_picture_is_not_an_image() {
    let mut bot = Bot::start().await;
    let page = attach(
        &bot,
        "photo.png",
        b"<!DOCTYPE html><html><body>404</body></html>",
    );

    bot.say(&format!("+{page} /video animate this")).await;

    bot.expect(r"^That attachment is not an image\. Attach a JPEG, PNG or WebP photo\.$")
        .await;
    assert!(bot.sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_whose_header_is_cut_off_is_refused_as_unreadable() {
    let mut bot = Bot::start().await;
    let broken = attach(&bot, "broken.png", &SAMPLE_PNG[..14]);

    bot.say(&format!("+{broken} /video animate this")).await;

    bot.expect(r"^That image cannot be read: the file is broken or not really a picture\.")
        .await;
    assert!(bot.sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_with_a_side_over_the_limit_is_refused_with_its_size() {
    let mut bot = Setup::new()
        .limits(|l| l.max_image_side = 256)
        .start()
        .await;
    let picture = engine_support::sample_png_path().display().to_string();

    bot.say(&format!("+{picture} /image a poster of this"))
        .await;

    bot.expect(
        r"^That image is 512×512 pixels\. Send one whose sides are between 1 and 256 pixels\.$",
    )
    .await;
    assert!(bot.sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_claiming_zero_width_is_refused() {
    let mut bot = Bot::start().await;
    let mut flat = SAMPLE_PNG.to_vec();
    // IHDR's width: bytes 16..20 of a PNG.
    flat[16..20].fill(0);
    let flat = attach(&bot, "flat.png", &flat);

    bot.say(&format!("+{flat} /video animate this")).await;

    bot.expect(r"^That image is 0×512 pixels\.").await;
    assert!(bot.sim.requests().is_empty());
}
