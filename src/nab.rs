//! Numenta Anomaly Benchmark scoring for discrete alerts (NAB's `sweeper.py` and
//! `runner.normalize`, standard profile): the first detection inside a labelled window earns up
//! to 1 (more the earlier it comes), a window without detection costs 1, a detection outside
//! every window costs up to 0.11 (less right after a window), detections in the probationary
//! first 15 % of a series are ignored. Raw scores and window counts are summed over the corpus,
//! then normalised so the null detector scores 0 and a perfect one 100.

/// Cost weights of a NAB profile.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// Weight of a true positive.
    pub tp: f64,
    /// Cost of a missed window.
    pub fn_: f64,
    /// Cost of a false positive far from any window.
    pub fp: f64,
}

/// NAB's standard profile.
pub const STANDARD: Profile = Profile {
    tp: 1.0,
    fn_: 1.0,
    fp: 0.11,
};

fn scaled_sigmoid(position: f64) -> f64 {
    if position > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * position).exp()) - 1.0
    }
}

/// Rows at the start of a series of `rows` where detections are ignored.
pub fn probation(rows: usize) -> usize {
    ((0.15 * rows as f64).floor()).min(0.15 * 5000.0) as usize
}

/// What happened in one labelled window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowOutcome {
    /// First and last row of the window.
    pub rows: (usize, usize),
    /// Row of the first detection inside, if any.
    pub first_detection: Option<usize>,
    /// Score earned (negative when missed).
    pub score: f64,
}

/// The score of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct FileScore {
    /// Sum of true-positive, false-negative and false-positive scores.
    pub raw: f64,
    /// Windows scored (not entirely in the probation period).
    pub windows: Vec<WindowOutcome>,
    /// Detections outside every window (after probation).
    pub false_positives: usize,
    /// Their total (negative) score.
    pub fp_score: f64,
}

/// Scores detections (row indices) against windows (inclusive row ranges) in a series of `rows`.
pub fn score_file(
    rows: usize,
    detections: &[usize],
    windows: &[(usize, usize)],
    profile: Profile,
) -> FileScore {
    let max_tp = scaled_sigmoid(-1.0);
    let start = probation(rows);
    let mut detections: Vec<usize> = detections.iter().copied().filter(|d| *d >= start).collect();
    detections.sort_unstable();
    detections.dedup();
    // A window given backwards is read forwards (never an underflow).
    let mut windows: Vec<(usize, usize)> = windows.iter().map(|&(l, r)| (l.min(r), l.max(r))).collect();
    windows.sort_unstable();
    let mut out = FileScore {
        raw: 0.0,
        windows: Vec::new(),
        false_positives: 0,
        fp_score: 0.0,
    };
    for &(l, r) in &windows {
        if r < start {
            continue;
        }
        let width = (r - l + 1) as f64;
        let first = detections.iter().copied().find(|d| (l..=r).contains(d));
        let score = match first {
            Some(i) => scaled_sigmoid(-((r - i + 1) as f64) / width) * profile.tp / max_tp,
            None => -profile.fn_,
        };
        out.raw += score;
        out.windows.push(WindowOutcome {
            rows: (l, r),
            first_detection: first,
            score,
        });
    }
    for &d in &detections {
        if windows.iter().any(|(l, r)| (*l..=*r).contains(&d)) {
            continue;
        }
        let score = match windows.iter().rev().find(|(_, r)| *r < d) {
            None => -profile.fp,
            Some((l, r)) => scaled_sigmoid((d - r) as f64 / (r - l).max(1) as f64) * profile.fp,
        };
        out.false_positives += 1;
        out.fp_score += score;
        out.raw += score;
    }
    out
}

/// The corpus score, 0 (null detector) to 100 (perfect).
pub fn normalised(files: &[FileScore], profile: Profile) -> f64 {
    let raw: f64 = files.iter().map(|f| f.raw).sum();
    let windows: usize = files.iter().map(|f| f.windows.len()).sum();
    let null = -profile.fn_ * windows as f64;
    let perfect = profile.tp * windows as f64;
    100.0 * (raw - null) / (perfect - null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_perfect_detectors_score_0_and_100() {
        let windows = [(2000, 2400), (5000, 5400)];
        let null = score_file(10_000, &[], &windows, STANDARD);
        let perfect = score_file(10_000, &[2000, 5000], &windows, STANDARD);
        assert!(normalised(&[null], STANDARD).abs() < 1e-9);
        assert!((normalised(&[perfect], STANDARD) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn later_detections_earn_less_and_false_positives_cost() {
        let windows = [(2000, 2400)];
        let early = score_file(10_000, &[2000], &windows, STANDARD).raw;
        let middle = score_file(10_000, &[2200], &windows, STANDARD).raw;
        assert!(early > middle && middle > 0.8, "{early} {middle}");
        // Far from any window: the full 0.11; right after one: almost nothing.
        let far = score_file(10_000, &[1600], &windows, STANDARD);
        assert!((far.fp_score + 0.11).abs() < 1e-12);
        let after = score_file(10_000, &[2000, 2401], &windows, STANDARD);
        assert!(
            after.fp_score < 0.0 && after.fp_score > -0.01,
            "{}",
            after.fp_score
        );
        // The probation period (first 15 %) is not scored.
        assert_eq!(score_file(10_000, &[100], &windows, STANDARD).false_positives, 0);
    }
}
