//! Small sums the benchmarks print: percentiles, the most events in any
//! window of a given length, and which metric families a `/metrics` text
//! lacks.

use std::time::Duration;

use tokio::time::Instant;

/// The `p`-th percentile (0 to 100) of `values` by nearest rank; `None`
/// for none.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The most of `times` that fall in any half-open window `[t, t + span)`.
pub fn peak_in_window(times: &[Instant], span: Duration) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    let mut start = 0;
    let mut peak = 0;
    for end in 0..sorted.len() {
        while sorted[end] - sorted[start] >= span {
            start += 1;
        }
        peak = peak.max(end - start + 1);
    }
    peak
}

/// The sample names of `wanted` that no sample line of a Prometheus or
/// OpenMetrics text starts with (followed by a label set or a value).
pub fn missing_metrics<'a>(text: &str, wanted: &[&'a str]) -> Vec<&'a str> {
    wanted
        .iter()
        .copied()
        .filter(|name| {
            !text.lines().filter(|l| !l.starts_with('#')).any(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(percentile(&values, 50.0), Some(3.0));
        assert_eq!(percentile(&values, 99.0), Some(5.0));
        assert_eq!(percentile(&values, 0.0), Some(1.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn the_peak_counts_a_window_that_is_open_at_its_end() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let times = [at(0), at(500), at(999), at(1000), at(1999), at(3000)];
        assert_eq!(peak_in_window(&times, Duration::from_secs(1)), 3);
        assert_eq!(peak_in_window(&[], Duration::from_secs(1)), 0);
    }

    #[test]
    fn a_metric_is_there_only_with_a_sample_of_its_own_name() {
        let text = "# TYPE sorabot_polls counter\nsorabot_polls_total 3\nsorabot_jobs{state=\"queued\"} 0\n";
        let missing = missing_metrics(
            text,
            &["sorabot_polls_total", "sorabot_jobs", "sorabot_job"],
        );
        assert_eq!(missing, ["sorabot_job"]);
    }
}
