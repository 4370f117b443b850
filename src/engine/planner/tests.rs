//! The planner's promises, on made-up jobs.

use super::*;

fn input(elapsed: u64, samples: &[(u64, f32)], typical: u64) -> PlanInput<'_> {
    PlanInput {
        elapsed: Duration::from_secs(elapsed),
        samples,
        expected: Expected::around(Duration::from_secs(typical)),
        min: Duration::from_secs(2),
        max: Duration::from_secs(20),
    }
}

#[test]
fn a_fresh_job_waits_long_but_not_longer_than_the_maximum() {
    let plan = plan(&input(0, &[], 120));
    assert_eq!(plan.wait, Duration::from_secs(20));
    assert_eq!(plan.remaining, Duration::from_secs(120));
}

#[test]
fn a_job_near_its_end_is_polled_at_the_minimum() {
    // 90% after 90 s of running: about 10 s left.
    let samples = [(10_000, 0.0), (100_000, 0.9)];
    let plan = plan(&input(100, &samples, 120));
    assert!(plan.wait <= Duration::from_secs(6), "{plan:?}");
    assert!(plan.remaining < Duration::from_secs(20), "{plan:?}");
}

#[test]
fn a_fast_job_is_judged_by_its_own_pace_more_than_by_history() {
    // Half done after 20 s: it will take about 40 s, not the usual 120.
    let samples = [(0, 0.0), (20_000, 0.5)];
    let plan = plan(&input(20, &samples, 120));
    assert!(plan.remaining < Duration::from_secs(50), "{plan:?}");
}

#[test]
fn an_overdue_job_backs_off_slowly() {
    let soon = plan(&input(125, &[], 120)).wait;
    let later = plan(&input(300, &[], 120)).wait;
    assert_eq!(soon, Duration::from_secs(2));
    assert!(later > soon && later <= Duration::from_secs(20));
}

#[test]
fn no_job_is_polled_densely_before_its_kind_can_end() {
    // 90% after 25 s looks nearly done, but such jobs take 78 s or more.
    let samples = [(0, 0.0), (25_000, 0.9)];
    let plan = plan(&input(30, &samples, 120));
    assert_eq!(plan.wait, Duration::from_secs(20));
}

#[test]
fn a_job_stuck_at_99_percent_is_polled_at_the_minimum_once_history_allows() {
    let samples = [(10_000, 0.0), (50_000, 0.99), (60_000, 0.99)];
    let early = plan(&input(62, &samples, 120)).wait.as_secs_f64();
    assert!((early - 16.0).abs() < 0.01, "until 78 s: {early}");
    let samples = [(10_000, 0.0), (50_000, 0.99), (90_000, 0.99)];
    assert_eq!(plan(&input(90, &samples, 120)).wait, Duration::from_secs(2));
}

#[test]
fn a_slow_looking_job_is_still_polled_inside_the_window() {
    // 10% after 70 s of running would mean minutes more; history says
    // it may end any time now, so the wait stays short.
    let samples = [(10_000, 0.0), (80_000, 0.1)];
    let plan = plan(&input(80, &samples, 120));
    assert!(plan.wait <= Duration::from_secs(13), "{plan:?}");
    assert!(plan.wait > Duration::from_secs(2), "{plan:?}");
    assert!(plan.remaining > Duration::from_secs(60), "{plan:?}");
}

#[test]
fn a_steady_two_minute_job_costs_a_dozen_polls_and_is_seen_at_once() {
    // Progress moves evenly and the job takes exactly the typical 120 s.
    let mut samples = Vec::new();
    let mut t = Duration::ZERO;
    let mut polls = 0;
    loop {
        t += plan(&PlanInput {
            elapsed: t,
            samples: &samples,
            expected: Expected::around(Duration::from_secs(120)),
            min: Duration::from_secs(2),
            max: Duration::from_secs(20),
        })
        .wait;
        polls += 1;
        if t >= Duration::from_secs(120) {
            break;
        }
        samples.push((t.as_millis() as u64, t.as_secs_f32() / 120.0));
    }
    assert!(polls <= 12, "{polls} polls");
    assert!(t <= Duration::from_secs(122), "seen at {t:?}");
}

#[test]
fn the_wait_always_stays_within_the_bounds() {
    for elapsed in [0, 1, 30, 77, 78, 100, 130, 170, 400, 5_000] {
        for progress in [0.0, 0.01, 0.3, 0.9, 0.99, 1.0] {
            for typical in [1, 30, 120, 600] {
                let samples = [(0, 0.0), (elapsed * 500, progress)];
                let plan = plan(&input(elapsed, &samples, typical));
                assert!(
                    plan.wait >= Duration::from_secs(2) && plan.wait <= Duration::from_secs(20),
                    "{elapsed} {progress} {typical}: {plan:?}"
                );
            }
        }
    }
}

#[test]
fn typical_is_the_median_of_history() {
    let fallback = Duration::from_secs(120);
    assert_eq!(
        Expected::from_history(&[], fallback),
        Expected::around(fallback)
    );
    let few = Expected::from_history(&[90.0, 300.0, 100.0], Duration::ZERO);
    assert_eq!(few, Expected::around(Duration::from_secs(100)));
}

#[test]
fn the_span_where_jobs_end_is_learned_from_history() {
    // 100 jobs of 40 to 199 s, and one odd one of 2 s.
    let mut durations: Vec<f32> = (0..100).map(|i| 40.0 + 1.6 * i as f32).collect();
    durations.push(2.0);
    let expected = Expected::from_history(&durations, Duration::from_secs(120));
    let (lo, hi) = (
        expected.earliest.as_secs_f64(),
        expected.latest.as_secs_f64(),
    );
    assert!((38.0..44.0).contains(&lo), "the odd job is left out: {lo}");
    assert!((195.0..215.0).contains(&hi), "{hi}");

    // 90% after 45 s: with such a history it may be done any moment.
    let samples = [(5_000, 0.0), (45_000, 0.9)];
    let learned = plan(&PlanInput {
        expected,
        ..input(45, &samples, 120)
    });
    assert!(learned.wait <= Duration::from_secs(6), "{learned:?}");
    // Assuming ±35 % around 120 s, it would wait until 78 s.
    let assumed = plan(&input(45, &samples, 120));
    assert_eq!(assumed.wait, Duration::from_secs(20));
}

#[test]
fn a_job_is_not_left_alone_far_into_the_window() {
    // Nothing known but history: however long the wait may be, the next
    // poll falls shortly after the earliest end, not deep past it.
    let expected = Expected {
        typical: Duration::from_secs(120),
        earliest: Duration::from_secs(100),
        latest: Duration::from_secs(140),
    };
    let samples = [(10_000, 0.0), (90_000, 0.6)];
    let plan = plan(&PlanInput {
        expected,
        max: Duration::from_secs(60),
        ..input(90, &samples, 120)
    });
    assert!(plan.wait <= Duration::from_secs(14), "{plan:?}");
}
