//! When to ask the service about a job next: from the job's own progress
//! samples and from how long finished jobs of the same kind took. Polls are
//! sparse early and dense when the end is near, so the service is asked
//! little and the user waits little after the video is ready.

use std::time::Duration;

/// What the planner knows about one job.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    /// Since the service accepted the job.
    pub elapsed: Duration,
    /// (ms since submission, progress 0..1), oldest first.
    pub samples: &'a [(u64, f32)],
    /// How long such jobs usually take, from history or the default.
    pub typical: Duration,
    pub min: Duration,
    pub max: Duration,
}

/// The plan: when to poll next, and the best guess of the time left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub wait: Duration,
    pub remaining: Duration,
}

/// Share of the estimated remaining time to wait before the next poll.
const APPROACH: f64 = 0.5;

/// Plans the next poll.
pub fn plan(input: &PlanInput) -> Plan {
    let elapsed = input.elapsed.as_secs_f64();
    let typical = input.typical.as_secs_f64().max(1.0);
    let from_history = typical - elapsed;
    let remaining = match from_progress(input.samples, elapsed) {
        Some((from_progress, progress)) => {
            let weight = f64::from(progress).clamp(0.0, 1.0).sqrt();
            weight * from_progress + (1.0 - weight) * from_history
        }
        None => from_history,
    };
    let min = input.min.as_secs_f64();
    let max = input.max.as_secs_f64();
    let wait = if remaining > 0.0 {
        (remaining * APPROACH).clamp(min, max)
    } else {
        // Overdue: keep close at first, then back off as the overrun grows.
        (-remaining * 0.25).clamp(min, max)
    };
    Plan {
        wait: Duration::from_secs_f64(wait),
        remaining: Duration::from_secs_f64(remaining.max(0.0)),
    }
}

/// Time left by the job's own pace: progress so far over the time since it
/// started moving. Also returns the latest progress.
fn from_progress(samples: &[(u64, f32)], elapsed: f64) -> Option<(f64, f32)> {
    let &(last_ms, last) = samples.iter().rev().find(|(_, p)| *p > 0.0)?;
    // The run started after the last sample that still showed no progress.
    let start_ms = samples
        .iter()
        .take_while(|(ms, _)| *ms < last_ms)
        .filter(|(_, p)| *p <= 0.0)
        .map(|(ms, _)| *ms)
        .last()
        .unwrap_or(0);
    let run = (last_ms.saturating_sub(start_ms)) as f64 / 1000.0;
    if run <= 0.0 || last >= 1.0 {
        return None;
    }
    let rate = f64::from(last) / run;
    let since_last = elapsed - last_ms as f64 / 1000.0;
    Some(((1.0 - f64::from(last)) / rate - since_last, last))
}

/// The middle of the recorded durations, or `fallback` with none recorded.
pub fn typical(durations: &[f32], fallback: Duration) -> Duration {
    if durations.is_empty() {
        return fallback;
    }
    let mut sorted: Vec<f32> = durations
        .iter()
        .copied()
        .filter(|d| d.is_finite())
        .collect();
    if sorted.is_empty() {
        return fallback;
    }
    sorted.sort_by(f32::total_cmp);
    Duration::from_secs_f32(sorted[sorted.len() / 2].max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(elapsed: u64, samples: &[(u64, f32)], typical: u64) -> PlanInput<'_> {
        PlanInput {
            elapsed: Duration::from_secs(elapsed),
            samples,
            typical: Duration::from_secs(typical),
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
    fn typical_is_the_median_of_history() {
        assert_eq!(
            typical(&[], Duration::from_secs(120)),
            Duration::from_secs(120)
        );
        assert_eq!(
            typical(&[90.0, 300.0, 100.0], Duration::ZERO),
            Duration::from_secs(100)
        );
    }
}
