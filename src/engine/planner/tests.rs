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
fn a_steady_two_minute_job_costs_about_a_dozen_polls_and_is_seen_at_once() {
    // Progress moves evenly and the job takes exactly the typical 120 s.
    // Inside the window where such jobs end, waits stay within a twentieth
    // of the typical duration however steady the job looks (progress is a
    // loose clock), which is where the thirteenth poll comes from.
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
    assert!(polls <= 13, "{polls} polls");
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
        Expected::guess(fallback)
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
        learned: true,
    };
    let samples = [(10_000, 0.0), (90_000, 0.6)];
    let plan = plan(&PlanInput {
        expected,
        max: Duration::from_secs(60),
        ..input(90, &samples, 120)
    });
    assert!(plan.wait <= Duration::from_secs(14), "{plan:?}");
}

/// Polls a job whose progress runs evenly from 0 to 1 over `length`
/// seconds, as the planner says, until it is seen done; returns the polls
/// and the seconds between the end and the poll that saw it.
fn poll_job(length: f64, expected: Expected) -> (u32, f64) {
    let (min, max) = (Duration::from_millis(2500), Duration::from_secs(30));
    let mut samples: Vec<(u64, f32)> = Vec::new();
    let (mut now, mut polls) = (0.0_f64, 0_u32);
    loop {
        let plan = plan(&PlanInput {
            elapsed: Duration::from_secs_f64(now),
            samples: &samples,
            expected,
            min,
            max,
        });
        now += plan.wait.as_secs_f64();
        polls += 1;
        if now >= length {
            return (polls, now - length);
        }
        let progress = ((now / length * 100.0).floor() / 100.0) as f32;
        samples.push(((now * 1000.0) as u64, progress));
    }
}

#[test]
fn the_first_job_of_a_kind_is_seen_done_within_seconds_whatever_its_length() {
    let guess = Expected::guess(Duration::from_secs(120));
    for length in [8.0, 20.0, 50.0, 150.0, 600.0] {
        let (polls, lag) = poll_job(length, guess);
        let (learned_polls, _) =
            poll_job(length, Expected::around(Duration::from_secs_f64(length)));
        assert!(lag <= 5.0, "{length} s: seen {lag:.1} s late");
        // About twice the polls of a job whose length is known.
        assert!(
            polls <= 2 * learned_polls + 2,
            "{length} s: {polls} polls, {learned_polls} once learned"
        );
    }
}

#[test]
fn a_guessed_duration_does_not_hold_back_a_short_first_job() {
    let guess = Expected::guess(Duration::from_secs(120));
    let learned = Expected::around(Duration::from_secs(120));

    let (_, first_lag) = poll_job(8.0, guess);
    let (_, learned_lag) = poll_job(8.0, learned);

    // Where 120 s jobs are known, an 8 s one is an oddity left for later;
    // where nothing is known, it is caught at once.
    assert!(first_lag <= 2.5, "{first_lag:.1}");
    assert!(learned_lag > 10.0, "{learned_lag:.1}");
}

#[test]
fn a_first_job_showing_no_progress_is_left_alone_for_a_share_of_its_age() {
    let guess = Expected::guess(Duration::from_secs(120));
    let at = |elapsed: u64| {
        plan(&PlanInput {
            elapsed: Duration::from_secs(elapsed),
            samples: &[],
            expected: guess,
            min: Duration::from_secs(2),
            max: Duration::from_secs(20),
        })
        .wait
    };
    assert_eq!(at(0), Duration::from_secs(2));
    assert_eq!(at(10), Duration::from_secs(3));
    assert_eq!(at(200), Duration::from_secs(20));
}

#[test]
fn nothing_recorded_is_a_guess_and_anything_recorded_is_learned() {
    let fallback = Duration::from_secs(120);
    assert!(!Expected::from_history(&[], fallback).learned);
    assert!(Expected::from_history(&[40.0], fallback).learned);
    assert_eq!(
        Expected::from_history(&[40.0], fallback).typical,
        Duration::from_secs(40)
    );
}

#[test]
fn a_wide_window_is_not_crossed_in_long_strides() {
    // Jobs of this kind took from 48 s to 192 s: one at 10% after 60 s may
    // still end any moment (progress is a loose clock), so it is asked
    // about every few seconds, not every tenth of the window (15 s).
    let durations: Vec<f32> = (0..100).map(|i| 48.0 + 144.0 * i as f32 / 99.0).collect();
    let expected = Expected::from_history(&durations, Duration::from_secs(120));
    let samples = [(10_000, 0.0), (60_000, 0.1)];
    let plan = plan(&PlanInput {
        elapsed: Duration::from_secs(60),
        samples: &samples,
        expected,
        min: Duration::from_secs(2),
        max: Duration::from_secs(30),
    });
    let typical = expected.typical.as_secs_f64();
    assert!(
        plan.wait.as_secs_f64() <= 0.05 * typical + 1e-9,
        "{plan:?} with a typical {typical} s"
    );
    assert!(plan.wait > Duration::from_secs(2), "{plan:?}");
}
