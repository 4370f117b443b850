//! Job timing: how long a job takes, its queued and running phases, and its uneven progress.
//!
//! A plan is drawn once at creation; the phase at any moment is then a pure function of the
//! simulated seconds elapsed since, so nothing has to run in the background.

use rand::Rng;

/// Share of a job spent queued, drawn uniformly in this range.
const QUEUED_SHARE: (f64, f64) = (0.05, 0.15);
/// Number of segments of the progress curve.
const SEGMENTS: (usize, usize) = (4, 8);
/// Chance that a segment is a plateau (no progress at all).
const PLATEAU_CHANCE: f64 = 0.3;
/// Where in the running phase a failing job fails, as a share of it.
const FAILURE_POINT: (f64, f64) = (0.3, 0.8);
/// Highest progress reported before the job is done.
const RUNNING_CAP: f64 = 0.99;

/// What a job produces, which decides its nominal duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Workload {
    Video { seconds: u32, hd: bool, pro: bool },
    Character,
    Image,
}

impl Workload {
    /// Nominal simulated duration, before the random spread.
    ///
    /// Videos take `mean_job_secs` for a 10 s standard clip, times a length factor (4 s: 0.6,
    /// 8 s: 0.8, 12 s: 1.1, 15 s: 1.4, 25 s: 2.2), times 1.8 for pro and 1.3 for HD sizes.
    /// Characters take 0.3 of the mean; images take `image_delay_secs`.
    pub fn nominal_secs(self, mean_job_secs: f64, image_delay_secs: f64) -> f64 {
        match self {
            Self::Video { seconds, hd, pro } => {
                let length = match seconds {
                    4 => 0.6,
                    8 => 0.8,
                    10 => 1.0,
                    12 => 1.1,
                    15 => 1.4,
                    25 => 2.2,
                    other => f64::from(other) / 10.0,
                };
                let pro = if pro { 1.8 } else { 1.0 };
                let hd = if hd { 1.3 } else { 1.0 };
                mean_job_secs * length * pro * hd
            }
            Self::Character => mean_job_secs * 0.3,
            Self::Image => image_delay_secs,
        }
    }

    /// The random spread of durations: images take exactly `image_delay_secs`.
    pub fn spread(self, job_spread: f64) -> f64 {
        match self {
            Self::Image => 0.0,
            Self::Video { .. } | Self::Character => job_spread,
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Queued,
    /// `progress` is in 0..=0.99.
    Running {
        progress: f64,
    },
    Succeeded,
    /// `progress` is where the job stopped.
    Failed {
        progress: f64,
        message: String,
    },
}

impl Phase {
    /// Progress as a fraction: 0 while queued, 1 once succeeded.
    pub fn fraction(&self) -> f64 {
        match self {
            Self::Queued => 0.0,
            Self::Running { progress } | Self::Failed { progress, .. } => *progress,
            Self::Succeeded => 1.0,
        }
    }

    /// Progress as a whole percentage, rounded down (so 99 at most before success).
    pub fn percent(&self) -> u8 {
        // The fraction is within 0..=1, so the cast cannot truncate.
        (self.fraction() * 100.0).floor().clamp(0.0, 100.0) as u8
    }

    pub fn is_finished(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed { .. })
    }
}

/// A failure planned at creation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Failure {
    /// Simulated seconds after creation.
    at_secs: f64,
    message: String,
}

/// The timeline of one job, in simulated seconds since its creation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    queued_secs: f64,
    /// Length of the running phase if the job succeeds.
    run_secs: f64,
    /// Knots `(share of the running phase, progress)` of a monotone piecewise-linear curve
    /// from (0, 0) to (1, 1).
    curve: Vec<(f64, f64)>,
    failure: Option<Failure>,
}

impl Plan {
    /// Draws a plan around `nominal_secs` (±`spread`), failing part-way if `failure` is set.
    pub fn draw(
        rng: &mut impl Rng,
        nominal_secs: f64,
        spread: f64,
        failure: Option<String>,
    ) -> Self {
        let spread = spread.clamp(0.0, 0.95);
        let total = (nominal_secs * rng.gen_range(1.0 - spread..=1.0 + spread)).max(0.0);
        let queued_secs = total * rng.gen_range(QUEUED_SHARE.0..=QUEUED_SHARE.1);
        let run_secs = total - queued_secs;
        let failure = failure.map(|message| Failure {
            at_secs: queued_secs + run_secs * rng.gen_range(FAILURE_POINT.0..=FAILURE_POINT.1),
            message,
        });
        Self {
            queued_secs,
            run_secs,
            curve: draw_curve(rng),
            failure,
        }
    }

    /// Simulated seconds after creation when the job ends, succeeded or failed.
    pub fn end_secs(&self) -> f64 {
        self.failure
            .as_ref()
            .map_or(self.queued_secs + self.run_secs, |f| f.at_secs)
    }

    /// The phase `secs` simulated seconds after creation.
    pub fn phase_at(&self, secs: f64) -> Phase {
        if let Some(failure) = &self.failure {
            if secs >= failure.at_secs {
                return Phase::Failed {
                    progress: self.running_progress(failure.at_secs),
                    message: failure.message.clone(),
                };
            }
        }
        if secs >= self.queued_secs + self.run_secs {
            Phase::Succeeded
        } else if secs < self.queued_secs {
            Phase::Queued
        } else {
            Phase::Running {
                progress: self.running_progress(secs),
            }
        }
    }

    /// Progress along the curve, capped below completion.
    fn running_progress(&self, secs: f64) -> f64 {
        if self.run_secs <= 0.0 {
            return 0.0;
        }
        let x = ((secs - self.queued_secs) / self.run_secs).clamp(0.0, 1.0);
        interpolate(&self.curve, x).min(RUNNING_CAP)
    }
}

/// Random segments, some flat, the others rising by random amounts, normalized to end at 1.
fn draw_curve(rng: &mut impl Rng) -> Vec<(f64, f64)> {
    let count = rng.gen_range(SEGMENTS.0..=SEGMENTS.1);
    let widths: Vec<f64> = (0..count).map(|_| rng.gen_range(0.5..1.5)).collect();
    let mut rises: Vec<f64> = (0..count)
        .map(|_| {
            if rng.gen_bool(PLATEAU_CHANCE) {
                0.0
            } else {
                rng.gen_range(0.2..1.0)
            }
        })
        .collect();
    if rises.iter().all(|r| *r == 0.0) {
        rises[count - 1] = 1.0;
    }
    let width_sum: f64 = widths.iter().sum();
    let rise_sum: f64 = rises.iter().sum();
    let mut knots = Vec::with_capacity(count + 1);
    knots.push((0.0, 0.0));
    let (mut x, mut y) = (0.0, 0.0);
    for (width, rise) in widths.iter().zip(&rises) {
        x += width / width_sum;
        y += rise / rise_sum;
        knots.push((x, y));
    }
    // Pin the end exactly despite rounding.
    knots[count] = (1.0, 1.0);
    knots
}

/// Linear interpolation on monotone knots.
fn interpolate(knots: &[(f64, f64)], x: f64) -> f64 {
    knots
        .windows(2)
        .find(|pair| x <= pair[1].0)
        .map_or(1.0, |pair| {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            if x1 > x0 {
                y0 + (y1 - y0) * (x - x0) / (x1 - x0)
            } else {
                y1
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn sample(plan: &Plan, end: f64) -> Vec<Phase> {
        (0..=400)
            .map(|i| plan.phase_at(end * f64::from(i) / 400.0))
            .collect()
    }

    #[test]
    fn progress_is_monotone_capped_and_ends_succeeded() {
        for seed in 0..50 {
            let mut rng = StdRng::seed_from_u64(seed);
            let plan = Plan::draw(&mut rng, 120.0, 0.3, None);
            assert!((84.0..=156.0).contains(&plan.end_secs()), "{plan:?}");
            assert!(plan.queued_secs >= plan.end_secs() * 0.05 - 1e-9);
            assert_eq!(plan.phase_at(0.0), Phase::Queued);
            let phases = sample(&plan, plan.end_secs() * 1.01);
            let mut last = 0.0;
            for phase in &phases {
                if let Phase::Running { progress } = phase {
                    assert!(*progress >= last && *progress <= RUNNING_CAP);
                    last = *progress;
                }
            }
            assert_eq!(phases.last(), Some(&Phase::Succeeded));
            assert_eq!(plan.phase_at(plan.end_secs()).percent(), 100);
        }
    }

    #[test]
    fn curves_have_plateaus_sometimes() {
        let flat = (0..50).any(|seed| {
            let curve = draw_curve(&mut StdRng::seed_from_u64(seed));
            curve.windows(2).any(|p| p[0].1 == p[1].1)
        });
        assert!(flat);
    }

    #[test]
    fn failing_jobs_fail_mid_run() {
        let mut rng = StdRng::seed_from_u64(7);
        let plan = Plan::draw(&mut rng, 100.0, 0.0, Some("boom".into()));
        let end = plan.end_secs();
        assert!(end > plan.queued_secs + 0.29 * plan.run_secs);
        assert!(end < plan.queued_secs + 0.81 * plan.run_secs);
        assert!(matches!(plan.phase_at(end - 0.01), Phase::Running { .. }));
        match plan.phase_at(end) {
            Phase::Failed { message, progress } => {
                assert_eq!(message, "boom");
                assert!(progress < 1.0);
            }
            other => panic!("expected failure, got {other:?}"),
        }
    }

    #[test]
    fn durations_scale_with_length_and_quality() {
        let short = Workload::Video {
            seconds: 10,
            hd: false,
            pro: false,
        };
        let long = Workload::Video {
            seconds: 25,
            hd: true,
            pro: true,
        };
        assert_eq!(short.nominal_secs(120.0, 15.0), 120.0);
        assert!(long.nominal_secs(120.0, 15.0) > 600.0);
        assert_eq!(Workload::Image.nominal_secs(120.0, 15.0), 15.0);
    }
}
