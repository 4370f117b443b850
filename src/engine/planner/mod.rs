//! When to ask the service about a job next: from the job's own progress
//! samples and from how long finished jobs of the same kind took. Polls are
//! sparse early and dense when the end is near, so the service is asked
//! little and the user waits little after the video is ready.
//!
//! The rule: poll next at the *soonest moment the job could plausibly be
//! done*, never later than `max` and never sooner than `min`.
//!
//! - History bounds it from below: jobs of a kind rarely end before the
//!   fastest recent ones did (with no history: `typical × (1 − SPREAD)`), so
//!   a job is never polled densely before that, nor far past it.
//! - Before progress is known, half the time history says is left.
//! - From progress: progress is a loose clock (stretches run at very
//!   different speeds, with plateaus), so the job is assumed able to finish
//!   faster than its average pace so far: twice as fast if it has moved
//!   steadily, up to `ERRATIC_SPEEDUP` times if its pace has varied; and never
//!   later than the history estimate allows, as a slow start often speeds up.
//! - Progress at `STALLED` or more that does not end: the job may end any
//!   moment, so it is polled at `min` (once history allows).
//! - Inside the window where such jobs end, the wait is capped to a share of
//!   the window; past it (overdue) the polls back off slowly.
//!
//! - The first job of a kind (nothing learned yet, only a guess of the
//!   typical duration) is planned from its own progress and age alone: the
//!   guess may be off many times over either way, so it bounds nothing. The
//!   job is assumed able to finish faster still (`FIRST_SPEEDUP`), and it is
//!   never left alone for more than `FIRST_SHARE` of its age, so an 8-second
//!   job is seen done within a few seconds and a 10-minute one is asked
//!   about a few dozen times.
//!
//! Measured with `loadgen --phase adaptive` (1000 jobs of 84–156 s against
//! the simulator, whose progress is uneven on purpose: plateaus, jumps, and
//! over a quarter of the jobs at 99% for their last 10 s or more), with the
//! default bounds of 2.5 and 30 s: 13.7 status requests per job and a p99
//! lag of 2.5 s; with durations spread ±60 % (36–192 s), 18.6 requests and
//! 2.7 s. The first ~170 jobs start before any has ended, so they are
//! planned as first jobs.
//!
//! Progress this uneven bounds what any schedule can do: a planner that
//! knew the simulator's own model and polled at a low quantile of the time
//! left given (progress, age) needed about 11 requests per job for a p99
//! lag of 2.5 s, and got down to 8 only with a 4 s lag. The lag is set by
//! `min` (a job that may end any moment is polled at `min`), the count by
//! how long such a job may end any moment.

use std::time::Duration;

/// What the planner knows about one job.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    /// Since the service accepted the job.
    pub elapsed: Duration,
    /// (ms since submission, progress 0..1), oldest first.
    pub samples: &'a [(u64, f32)],
    /// How long such jobs take, from history or the default.
    pub expected: Expected,
    pub min: Duration,
    pub max: Duration,
}

/// The plan: when to poll next, and the best guess of the time left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub wait: Duration,
    pub remaining: Duration,
}

/// How long jobs of one kind take: the middle, and the span where nearly
/// all of them end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expected {
    pub typical: Duration,
    pub earliest: Duration,
    pub latest: Duration,
    /// Whether any job of the kind has been measured: without that,
    /// `typical` is only a guess and bounds nothing.
    pub learned: bool,
}

/// Relative spread of durations assumed before enough are recorded: jobs
/// end within `typical × (1 ± SPREAD)`.
const SPREAD: f64 = 0.35;
/// Durations needed before their span is trusted over `SPREAD`.
const SPAN_SAMPLES: usize = 8;
/// Share of recorded durations left out at each end of the span (so one odd
/// job does not stretch it), and the margin added beyond it.
const SPAN_TRIM: f64 = 0.02;
const SPAN_MARGIN: f64 = 0.05;
/// Share of the time history says is left that the job is left alone for
/// while nothing better is known.
const HISTORY_SHARE: f64 = 0.5;
/// How much faster than its average pace so far a job may still finish: a
/// steady one, and (at most) one whose pace has varied.
const LEARNED_SPEEDUP: Speedup = Speedup {
    steady: 2.0,
    erratic: 1.0 / 0.35,
};
/// The same for the first job of a kind, whose pace is all there is to go by.
const FIRST_SPEEDUP: Speedup = Speedup {
    steady: 3.0,
    erratic: 4.0,
};
/// Longest wait for the first job of a kind, as a share of its age: the
/// polls thin out geometrically while nothing says the end is near.
const FIRST_SHARE: f64 = 0.3;
/// Slack over the history estimate that a slow-looking job gets, as a share
/// of the typical duration (relative, so the planner is the same at any
/// time scale).
const SLOW_SLACK: f64 = 0.08;
/// Progress at which a job that goes on is taken as "any moment now".
const STALLED: f32 = 0.99;
/// Longest wait inside the window where such jobs end, as a share of it,
/// and at most as a share of the typical duration (so a wide window, from
/// jobs of very different lengths, is not crossed in long strides).
const WINDOW_SHARE: f64 = 0.10;
const WINDOW_CAP: f64 = 0.05;
/// Past the latest plausible end, the wait grows by this share of the overrun.
const OVERDUE_BACKOFF: f64 = 0.25;

/// Plans the next poll.
pub fn plan(input: &PlanInput) -> Plan {
    if !input.expected.learned {
        return plan_first(input);
    }
    let elapsed = input.elapsed.as_secs_f64();
    let typical = input.expected.typical.as_secs_f64().max(1.0);
    let (lo, hi) = (
        input.expected.earliest.as_secs_f64(),
        input.expected.latest.as_secs_f64().max(typical),
    );
    let min = input.min.as_secs_f64();
    let max = input.max.as_secs_f64().max(min);
    let from_history = typical - elapsed;
    let pace = pace(input.samples);

    // The soonest the job could be done, from what it shows.
    let history_soonest = (from_history * HISTORY_SHARE).max(0.0);
    let soonest = match &pace {
        Some(pace) if pace.progress >= STALLED => 0.0,
        Some(pace) => {
            let left = 1.0 - f64::from(pace.progress);
            (left / pace.rate / pace.speedup(LEARNED_SPEEDUP))
                .min(history_soonest + SLOW_SLACK * typical)
        }
        None => history_soonest,
    };
    // Not before jobs of this kind end, and not far into their window.
    let earliest = lo - elapsed;
    let window = (hi - lo).max(0.0);
    let wait = soonest.max(earliest).clamp(min, max);
    let stride = (window * WINDOW_SHARE).min(typical * WINDOW_CAP);
    let mut wait = wait.min((earliest.max(0.0) + stride).max(min));
    // Overdue: keep close at first, then back off as the overrun grows.
    let overrun = elapsed - hi;
    if overrun > 0.0 {
        wait = wait.max((overrun * OVERDUE_BACKOFF).clamp(min, max));
    }

    Plan {
        wait: Duration::from_secs_f64(wait),
        remaining: remaining(pace.as_ref(), elapsed, from_history),
    }
}

/// Plans the next poll of the first job of a kind: from its pace and its
/// age, the guessed duration only shown to the user.
fn plan_first(input: &PlanInput) -> Plan {
    let elapsed = input.elapsed.as_secs_f64();
    let min = input.min.as_secs_f64();
    let max = input.max.as_secs_f64().max(min);
    let pace = pace(input.samples);
    let by_age = FIRST_SHARE * elapsed;
    let soonest = match &pace {
        Some(pace) if pace.progress >= STALLED => 0.0,
        Some(pace) => {
            let left = 1.0 - f64::from(pace.progress);
            (left / pace.rate / pace.speedup(FIRST_SPEEDUP)).min(by_age)
        }
        None => by_age,
    };
    let guessed = input.expected.typical.as_secs_f64() - elapsed;
    Plan {
        wait: Duration::from_secs_f64(soonest.clamp(min, max)),
        remaining: remaining(pace.as_ref(), elapsed, guessed),
    }
}

/// The time left to show the user: the job's own pace, trusted more as it
/// goes, blended with what history (or the guess) says is left.
fn remaining(pace: Option<&Pace>, elapsed: f64, from_history: f64) -> Duration {
    let left = match pace {
        Some(pace) if pace.progress < STALLED => {
            let own = (1.0 - f64::from(pace.progress)) / pace.rate - (elapsed - pace.moved);
            let weight = f64::from(pace.progress).clamp(0.0, 1.0).sqrt();
            weight * own + (1.0 - weight) * from_history
        }
        _ => from_history,
    };
    Duration::from_secs_f64(left.max(0.0))
}

/// How much faster than its average pace a job may still finish.
#[derive(Debug, Clone, Copy)]
struct Speedup {
    /// For a job that has moved steadily.
    steady: f64,
    /// At most, for a job whose pace has varied.
    erratic: f64,
}

/// How a job moves, from its samples.
struct Pace {
    /// The latest progress.
    progress: f32,
    /// Seconds since submission when progress reached its latest value.
    moved: f64,
    /// Average progress per second since the job started moving.
    rate: f64,
    /// The fastest progress per second between two successive changes of
    /// progress, once there were two such stretches.
    fastest: Option<f64>,
}

impl Pace {
    /// How much faster than its average the job may yet go: its fastest
    /// stretch so far times the steady bound, within the steady and the
    /// erratic bound.
    fn speedup(&self, bounds: Speedup) -> f64 {
        match self.fastest {
            Some(fastest) => {
                (bounds.steady * fastest / self.rate).clamp(bounds.steady, bounds.erratic)
            }
            None => bounds.erratic,
        }
    }
}

/// The job's pace: progress so far over the time it took to get there
/// (from the last sample that still showed no progress to the first sample
/// at the latest progress, so a plateau now does not slow the pace down).
fn pace(samples: &[(u64, f32)]) -> Option<Pace> {
    let &(last_ms, last) = samples.iter().rev().find(|(_, p)| *p > 0.0)?;
    if last >= 1.0 {
        return None;
    }
    let moved_ms = samples
        .iter()
        .find(|(_, p)| *p == last)
        .map_or(last_ms, |(ms, _)| *ms);
    // The run started after the last sample that still showed no progress.
    let start_ms = samples
        .iter()
        .take_while(|(ms, _)| *ms < moved_ms)
        .filter(|(_, p)| *p <= 0.0)
        .map(|(ms, _)| *ms)
        .last()
        .unwrap_or(0);
    let run = moved_ms.saturating_sub(start_ms) as f64 / 1000.0;
    if run <= 0.0 {
        return None;
    }
    // The pace of each stretch between the first samples at successive
    // progress values.
    let mut changes: Vec<(u64, f32)> = Vec::new();
    for &(ms, p) in samples.iter().filter(|(ms, p)| *ms >= start_ms && *p > 0.0) {
        if changes
            .last()
            .is_none_or(|&(at, before)| p > before && ms > at)
        {
            changes.push((ms, p));
        }
    }
    let stretches = changes.windows(2).map(|pair| {
        let seconds = (pair[1].0 - pair[0].0) as f64 / 1000.0;
        f64::from(pair[1].1 - pair[0].1) / seconds
    });
    let fastest = (changes.len() >= 3).then(|| stretches.fold(0.0, f64::max));
    Some(Pace {
        progress: last,
        moved: moved_ms as f64 / 1000.0,
        rate: f64::from(last) / run,
        fastest,
    })
}

impl Expected {
    /// With few recorded: `typical`, ending within ±`SPREAD` of it.
    pub fn around(typical: Duration) -> Self {
        Expected {
            typical,
            earliest: typical.mul_f64(1.0 - SPREAD),
            latest: typical.mul_f64(1.0 + SPREAD),
            learned: true,
        }
    }

    /// With nothing recorded: `typical` is a guess (the operator's
    /// `TYPICAL_GENERATION_SECS`), shown to the user but bounding nothing.
    pub fn guess(typical: Duration) -> Self {
        Expected {
            learned: false,
            ..Self::around(typical)
        }
    }

    /// From recorded durations (seconds): their middle, and the span from
    /// nearly the fastest to nearly the slowest, with a margin; `fallback`
    /// with too few recorded.
    pub fn from_history(durations: &[f32], fallback: Duration) -> Self {
        let mut sorted: Vec<f64> = durations
            .iter()
            .map(|d| f64::from(*d))
            .filter(|d| d.is_finite() && *d >= 0.0)
            .collect();
        if sorted.is_empty() {
            return Self::guess(fallback);
        }
        sorted.sort_by(f64::total_cmp);
        let at = |share: f64| sorted[((sorted.len() - 1) as f64 * share).round() as usize];
        let typical = Duration::from_secs_f64(at(0.5).max(1.0));
        if sorted.len() < SPAN_SAMPLES {
            return Self::around(typical);
        }
        Expected {
            typical,
            earliest: Duration::from_secs_f64(at(SPAN_TRIM) * (1.0 - SPAN_MARGIN)),
            latest: Duration::from_secs_f64(at(1.0 - SPAN_TRIM) * (1.0 + SPAN_MARGIN)),
            learned: true,
        }
    }
}

#[cfg(test)]
mod tests;
