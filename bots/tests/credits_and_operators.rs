//! Credits and operators on Telegram, end to end: prices charged at submit
//! and given back on failure, a group's shared budget, and the operators'
//! `/stats`, `/ban`, `/unban` and `/grant` (refused to everyone else).

mod http_support;
mod telegram_support;

use sorabot::costs::Costs;
use sorabot::job::{Job, JobState};
use sorabot_sim::telegram::{TgChat, UserMessage};
use sorabot_storage::UserKey;
use telegram_support::*;

/// Alice runs the bot.
fn operated(limits: &mut sorabot::Limits) {
    limits.access.admins.insert("telegram:5001".to_owned());
}

fn private(user: &sorabot_sim::telegram::TgUser) -> TgChat {
    TgChat::private(user)
}

/// A message as the bot first sent it, before any edit.
fn first_text(message: &sorabot_sim::telegram::ChatMessage) -> String {
    message
        .params
        .get("text")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

async fn jobs_of(bot: &Bot, user: &str) -> Vec<Job> {
    bot.engine()
        .store()
        .jobs_of(&UserKey::new("telegram", user), 10)
        .await
        .expect("the store reads")
}

#[tokio::test]
async fn a_25_second_hd_pro_video_is_charged_its_price_and_a_failed_one_gets_it_back() {
    let bot = Setup::new()
        .sim(|sim| {
            *sim = sorabot_sim::SimConfig::for_style(sorabot_sim::Style::OpenAi);
            sim.time_scale = FAST;
        })
        .video_model("sora_video2")
        .limits(|l| {
            l.daily_quota = 40;
            l.costs = Costs::parse("sora-2=1/10s, sora-2-pro=3/10s, hd=x2").expect("prices");
        })
        .start()
        .await;
    let chat = private(&alice());

    let good = bot.say(
        &chat,
        &alice(),
        "/video a fox in snow --dur 25 --hd --model sora-2-pro",
    );
    let (status, job) = bot.status_of(&chat, good.message_id).await;
    let delivered = bot.delivered(&job).await;
    let bad = bot.say(
        &chat,
        &alice(),
        "/video a [sim:fail] fox --dur 25 --hd --model sora-2-pro",
    );
    let (bad_status, bad_job) = bot.status_of(&chat, bad.message_id).await;
    let failed = bot
        .wait_job(&bad_job, "the job to fail", |job| {
            matches!(job.state, JobState::Failed(_)).then_some(job)
        })
        .await;
    let quota = bot.say(&chat, &alice(), "/quota");
    let answer = bot.answer(&chat, quota.message_id, "credits").await;

    for status in [&status, &bad_status] {
        let queued = first_text(status);
        assert!(
            queued.contains("Cost: 18 credits, given back if the job fails"),
            "{queued}"
        );
    }
    assert_eq!(
        (delivered.cost, delivered.charged_day.is_some()),
        (18, true)
    );
    assert_eq!((failed.cost, failed.charged_day), (18, None), "refunded");
    assert!(
        answer.content().contains("used 18 of 40 credits; 22 left"),
        "{}",
        answer.content()
    );
    assert!(
        answer
            .content()
            .contains("A video with your settings costs 1 credit."),
        "{}",
        answer.content()
    );
}

#[tokio::test]
async fn a_price_over_what_is_left_is_refused_before_anything_is_charged() {
    let bot = Setup::new()
        .limits(|l| {
            l.daily_quota = 8;
            l.costs = Costs::parse("sora-2-pro=3/10s").expect("prices");
        })
        .start()
        .await;
    let chat = private(&alice());

    let first = bot.say(&chat, &alice(), "/video a fox --dur 15 --model sora-2-pro");
    bot.status_of(&chat, first.message_id).await;
    let second = bot.say(&chat, &alice(), "/video a fox --dur 15 --model sora-2-pro");
    let refused = bot.answer(&chat, second.message_id, "This costs").await;

    assert!(
        refused
            .content()
            .starts_with("This costs 6 credits and you have 2 of today's 8 left."),
        "{}",
        refused.content()
    );
    assert_eq!(jobs_of(&bot, "5001").await.len(), 1);
}

#[tokio::test]
async fn a_groups_budget_is_shared_by_its_members() {
    let bot = Setup::new()
        .limits(|l| {
            l.daily_quota = 20;
            l.chat_daily_quota = Some(2);
        })
        .start()
        .await;

    let a = bot.say(&group(), &alice(), "/video@sorabot a red fox");
    bot.status_of(&group(), a.message_id).await;
    let b = bot.say(&group(), &bob(), "/video@sorabot a blue fox");
    bot.status_of(&group(), b.message_id).await;
    let c = bot.say(&group(), &alice(), "/video@sorabot a green fox");
    let refused = bot.answer(&group(), c.message_id, "shared budget").await;
    let quota = bot.say(&group(), &bob(), "/quota@sorabot");
    let shown = bot
        .answer(&group(), quota.message_id, "shared budget")
        .await;
    let in_private = bot.say(&private(&bob()), &bob(), "/video a fox alone");
    bot.status_of(&private(&bob()), in_private.message_id).await;

    assert!(
        refused
            .content()
            .contains("This chat's shared budget has 0 of today's 2 credits left"),
        "{}",
        refused.content()
    );
    assert!(
        shown.content().contains("2 of 2 credits used today"),
        "{}",
        shown.content()
    );
    assert_eq!(
        jobs_of(&bot, "5001").await.len(),
        1,
        "no job for the refused one"
    );
}

#[tokio::test]
async fn a_failed_job_gives_the_groups_budget_back_too() {
    let bot = Setup::new()
        .limits(|l| l.chat_daily_quota = Some(1))
        .start()
        .await;

    let bad = bot.say(&group(), &alice(), "/video@sorabot a [sim:fail] fox");
    let (_, job) = bot.status_of(&group(), bad.message_id).await;
    bot.wait_job(&job, "the job to fail", |job| {
        matches!(job.state, JobState::Failed(_)).then_some(())
    })
    .await;
    let again = bot.say(&group(), &bob(), "/video@sorabot a fox");

    bot.status_of(&group(), again.message_id).await;
}

#[tokio::test]
async fn an_admin_bans_a_user_who_then_gets_no_job_until_unbanned() {
    let bot = Setup::new().limits(operated).start().await;

    let ban = bot.say(&private(&alice()), &alice(), "/ban telegram:5002");
    bot.answer(
        &private(&alice()),
        ban.message_id,
        "telegram:5002 is banned",
    )
    .await;
    let video = bot.say(&group(), &bob(), "/video@sorabot a fox");
    let refused = bot.answer(&group(), video.message_id, "banned").await;
    let in_chinese = bot.say(&private(&li()), &li(), "/stats");
    let li_refused = bot
        .answer(&private(&li()), in_chinese.message_id, "管理员")
        .await;
    let unban = bot.say(&group(), &alice(), "/unban telegram:5002");
    bot.answer(&group(), unban.message_id, "may use the bot again")
        .await;
    let again = bot.say(&group(), &bob(), "/video@sorabot a fox again");
    bot.status_of(&group(), again.message_id).await;

    assert!(
        refused
            .content()
            .starts_with("You are banned from using this bot"),
        "{}",
        refused.content()
    );
    assert!(
        li_refused.content().contains("/stats"),
        "{}",
        li_refused.content()
    );
    assert_eq!(
        jobs_of(&bot, "5002").await.len(),
        1,
        "only the job after the unban"
    );
    let ban = bot
        .engine()
        .store()
        .ban_of(&UserKey::new("telegram", "5002"))
        .await
        .expect("reads");
    assert_eq!(ban, None);
}

#[tokio::test]
async fn operator_commands_are_refused_to_everyone_else() {
    let bot = Setup::new().limits(operated).start().await;
    let chat = private(&bob());
    let menus = bot
        .wait_for("the operator's menu", || {
            let calls = bot.telegram.calls_of("setMyCommands");
            let scoped: Vec<_> = calls
                .into_iter()
                .filter(|c| c.params.contains_key("scope"))
                .collect();
            (scoped.len() == 2).then_some(scoped)
        })
        .await;
    for menu in &menus {
        assert_eq!(menu.status, 200, "{:?}", menu.params);
        assert_eq!(menu.params["scope"]["chat_id"], 5001);
        let names = menu.params["commands"].to_string();
        assert!(
            names.contains("\"grant\"") && names.contains("\"stats\""),
            "{names}"
        );
    }

    for command in [
        "/ban telegram:5001",
        "/unban telegram:5001",
        "/grant telegram:5002 50",
        "/stats 7d",
        "/ban",
    ] {
        let asked = bot.say(&chat, &bob(), command);
        let answer = bot.answer(&chat, asked.message_id, "operators").await;
        assert!(
            answer
                .content()
                .starts_with("Only the bot's operators may use /"),
            "{command}: {}",
            answer.content()
        );
    }
    let banned = bot
        .engine()
        .store()
        .ban_of(&UserKey::new("telegram", "5001"))
        .await
        .expect("reads");
    assert_eq!(banned, None);
}

#[tokio::test]
async fn grant_gives_a_user_more_credits_for_today_by_name_or_by_reply() {
    let bot = Setup::new()
        .limits(|l| {
            operated(l);
            l.daily_quota = 1;
        })
        .start()
        .await;

    let first = bot.say(&group(), &bob(), "/video@sorabot a fox");
    bot.status_of(&group(), first.message_id).await;
    let second = bot.say(&group(), &bob(), "/video@sorabot another fox");
    bot.answer(&group(), second.message_id, "used all 1 of today's credits")
        .await;
    let grant = bot.say(&private(&alice()), &alice(), "/grant telegram:5002 2");
    let granted = bot
        .answer(&private(&alice()), grant.message_id, "more credits")
        .await;
    let by_reply = bot
        .post(UserMessage::text(&group(), &alice(), "/grant@sorabot 1").reply_to(first.message_id));
    let granted_again = bot
        .answer(&group(), by_reply.message_id, "more credits")
        .await;
    let quota = bot.say(&group(), &bob(), "/quota@sorabot");
    let left = bot.answer(&group(), quota.message_id, "credits").await;
    let third = bot.say(&group(), &bob(), "/video@sorabot a third fox");
    bot.status_of(&group(), third.message_id).await;

    assert_eq!(
        granted.content(),
        "telegram:5002 got 2 more credits for today (2 granted today in all)."
    );
    assert!(
        granted_again.content().contains("(3 granted today in all)"),
        "{}",
        granted_again.content()
    );
    assert!(
        left.content().contains("used 1 of 4 credits; 3 left"),
        "{}",
        left.content()
    );
}

#[tokio::test]
async fn stats_show_jobs_failures_credits_and_the_busiest_to_an_admin() {
    let bot = Setup::new().limits(operated).start().await;

    let good = bot.say(&group(), &bob(), "/video@sorabot a fox");
    let (_, job) = bot.status_of(&group(), good.message_id).await;
    bot.delivered(&job).await;
    let bad = bot.say(&group(), &bob(), "/video@sorabot a [sim:fail] fox");
    let (_, bad_job) = bot.status_of(&group(), bad.message_id).await;
    bot.wait_job(&bad_job, "the job to fail", |job| {
        matches!(job.state, JobState::Failed(_)).then_some(())
    })
    .await;
    let asked = bot.say(&group(), &alice(), "/stats");
    let stats = bot.answer(&group(), asked.message_id, "Jobs:").await;
    let week = bot.say(&private(&alice()), &alice(), "/stats 7d");
    let weekly = bot
        .answer(&private(&alice()), week.message_id, "The last 7 days")
        .await;

    let text = stats.content();
    assert!(text.starts_with("📊 Today"), "{text}");
    assert!(text.contains("Jobs: 2 (delivered 1, failed 1)"), "{text}");
    assert!(text.contains("Credits spent: 1"), "{text}");
    assert!(text.contains("Top users: telegram:5002 (2)"), "{text}");
    assert!(
        text.contains("Top chats: telegram:-1001500000001 (2)"),
        "{text}"
    );
    assert!(text.contains("Service (sora): answering"), "{text}");
    assert!(!text.contains("Failures: none"), "{text}");
    assert!(weekly.content().contains("Jobs: 2"), "{}", weekly.content());
}
