//! Historical Value-at-Risk and Expected Shortfall of per-bar returns.
//!
//! No distribution is assumed (REALISM.md: Cornish-Fisher breaks at crypto kurtosis, 99% CF VaR
//! 9.58% vs 2.61% historical). For a level `a` (0.95) and `n` returns sorted ascending `x`:
//! - `h = (n - 1)(1 - a)`, `lo = floor(h)`; VaR = -(x[lo] + (h - lo)(x[lo+1] - x[lo])), i.e. minus
//!   numpy's default (linear) quantile at `1 - a`, as empyrical's `value_at_risk`;
//! - ES = minus the mean of the `lo + 1` smallest returns, as empyrical's `conditional_value_at_risk`.
//!
//! Both are positive loss fractions (0.0113 = a 1.13% loss); a negative value means even that tail
//! is a gain. No full sort: the candidates below a threshold read off a sample are kept, then
//! two selections per level (x[lo + 1], then x[lo] inside the prefix) give VaR and the ES set.

/// VaR and ES at one confidence level, as positive loss fractions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TailRisk {
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// Historical VaR: the loss the returns exceed with probability `1 - level`.
    pub var: f64,
    /// Historical ES: the mean loss in that tail.
    pub es: f64,
}

impl TailRisk {
    pub fn undefined(level: f64) -> Self {
        TailRisk { level, var: f64::NAN, es: f64::NAN }
    }
}

/// Index `lo` and interpolation weight `t` of the `1 - level` quantile of `n >= 1` sorted values.
fn quantile_position(n: usize, level: f64) -> (usize, f64) {
    let h = (n - 1) as f64 * (1.0 - level);
    let lo = (h.floor() as usize).min(n - 1);
    (lo, h - lo as f64)
}

/// numpy's `_lerp`: exact at both ends, so a weight of 1 returns `b` itself.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// VaR and ES at each level; `scratch` is overwritten (reuse it to avoid allocating per path).
/// Levels must lie in (0, 1) (checked by `MetricsConfig::validate`); `returns` must hold no NaN.
pub fn tail_risk<const K: usize>(returns: &[f64], levels: [f64; K], scratch: &mut Vec<f64>) -> [TailRisk; K] {
    let n = returns.len();
    if n == 0 {
        return levels.map(TailRisk::undefined);
    }
    // the deepest order statistic any level needs is x[lo + 1]: the tail is x[0..=need]
    let need = levels.iter().map(|&a| (quantile_position(n, a).0 + 1).min(n - 1)).max().unwrap_or(0);
    let candidates = collect_candidates(returns, need + 1, scratch);
    let mut out = levels.map(TailRisk::undefined);
    // levels from the widest tail to the narrowest, each selection inside the previous prefix
    let mut order: [usize; K] = std::array::from_fn(|i| i);
    order.sort_by_key(|&i| std::cmp::Reverse(quantile_position(n, levels[i]).0));
    let mut end = candidates.len();
    for i in order {
        let (lo, t) = quantile_position(n, levels[i]);
        let hi = (lo + 1).min(n - 1);
        let Some(prefix) = candidates.get_mut(..end) else { break };
        let b = select(prefix, hi);
        let a = select(prefix.get_mut(..=hi).unwrap_or(&mut []), lo); // x[..lo] <= x[lo] now
        let tail = prefix.get(..=lo).unwrap_or(&[]);
        out[i] =
            TailRisk { level: levels[i], var: -lerp(a, b, t), es: -(tail.iter().sum::<f64>() / tail.len() as f64) };
        end = hi + 1; // x[..=hi] are the hi + 1 smallest: every narrower level lies inside
    }
    out
}

/// The value of rank `k` in `xs` (0 = smallest), moving every smaller value before it.
fn select(xs: &mut [f64], k: usize) -> f64 {
    if k >= xs.len() {
        return f64::NAN; // unreachable: callers pass k <= need < xs.len()
    }
    let cmp = |a: &f64, b: &f64| a.total_cmp(b); // a total order even for NaN: sorting never panics
    *xs.select_nth_unstable_by(k, cmp).1
}

/// A slice of `scratch` that holds (at least) the `k` smallest values of `returns`, found without
/// copying and selecting over all of them: a threshold is read off a strided sample with a wide
/// margin and only values at or below it are kept (a branch-free pass into a buffer of 4k + 1024).
/// When the sample is too small or the threshold is off (too few or too many kept), every value
/// is copied instead; the result is the same, only slower.
fn collect_candidates<'a>(returns: &[f64], k: usize, scratch: &'a mut Vec<f64>) -> &'a mut [f64] {
    match filter_below_sampled_threshold(returns, k, scratch) {
        Some(count) => scratch.get_mut(..count).unwrap_or(&mut []),
        None => {
            scratch.clear();
            scratch.extend_from_slice(returns);
            scratch.as_mut_slice()
        }
    }
}

/// The filtering pass of [`collect_candidates`]: how many values it left at the front of
/// `scratch`, or None when the caller must fall back to all values.
fn filter_below_sampled_threshold(returns: &[f64], k: usize, scratch: &mut Vec<f64>) -> Option<usize> {
    const SAMPLE: usize = 512;
    let n = returns.len();
    if n < 4 * SAMPLE || k > n / 8 {
        return None;
    }
    // layout [candidates: room][sample: SAMPLE]; grown once and reused, stale values overwritten
    let room = 4 * k + 1024;
    if scratch.len() < room + SAMPLE {
        scratch.resize(room + SAMPLE, 0.0);
    }
    let (buf, sample) = scratch.split_at_mut(room);
    let mut m = 0;
    for (slot, &x) in sample.iter_mut().zip(returns.iter().step_by(n / SAMPLE)) {
        *slot = x;
        m += 1;
    }
    // expected rank of the k-th smallest in the sample, plus 50% and ~4 binomial sd of margin
    let expect = k as f64 * m as f64 / n as f64;
    let j = (1.5 * expect + 4.0 * expect.sqrt() + 8.0) as usize;
    if j >= m {
        return None;
    }
    let threshold = select(sample.get_mut(..m).unwrap_or(&mut []), j);
    let mut count = 0;
    for &x in returns {
        if let Some(slot) = buf.get_mut(count) {
            *slot = x; // past `room` the value is dropped, and the count says so below
        }
        count += usize::from(x <= threshold);
    }
    (k..=room).contains(&count).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_closed_form_on_a_ramp() {
        // returns -0.10, -0.09, ..., +0.09 (20 values, shuffled): h = 19 * 0.05 = 0.95
        let mut r: Vec<f64> = (0..20).map(|i| (i as f64 - 10.0) / 100.0).collect();
        r.reverse();
        r.swap(3, 17);
        let mut s = Vec::new();
        let [t95, t99] = tail_risk(&r, [0.95, 0.99], &mut s);
        // VaR95 = -(x0 + 0.95 (x1 - x0)) = -(-0.10 + 0.0095) = 0.0905; ES95 = -x0 = 0.10
        assert!((t95.var - 0.0905).abs() < 1e-15, "{}", t95.var);
        assert!((t95.es - 0.10).abs() < 1e-15);
        // h = 19 * 0.01 = 0.19 -> VaR99 = 0.10 - 0.0019
        assert!((t99.var - 0.0981).abs() < 1e-15, "{}", t99.var);
        assert!((t99.es - 0.10).abs() < 1e-15);
    }

    #[test]
    fn es_averages_the_tail_and_is_at_least_var() {
        // 201 returns: h = 200 * 0.05 = 10 exactly -> VaR = -x[10], ES = -mean(x[0..=10])
        let r: Vec<f64> = (0..201).map(|i| ((i * 37) % 201) as f64 * 1e-3 - 0.1).collect();
        let mut sorted = r.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let [t, _] = tail_risk(&r, [0.95, 0.99], &mut Vec::new());
        assert!((t.var + sorted[10]).abs() < 1e-15);
        let es = -sorted[..=10].iter().sum::<f64>() / 11.0;
        assert!((t.es - es).abs() < 1e-15);
        assert!(t.es >= t.var);
    }

    fn sorted_reference(r: &[f64], level: f64) -> (f64, f64) {
        let mut x = r.to_vec();
        x.sort_by(|a, b| a.total_cmp(b));
        let h = (x.len() - 1) as f64 * (1.0 - level);
        let lo = h.floor() as usize;
        (-lerp(x[lo], x[lo + 1], h - lo as f64), -x[..=lo].iter().sum::<f64>() / (lo + 1) as f64)
    }

    #[test]
    fn unrepresentative_sample_falls_back_to_all_values() {
        // the sampled positions (every 17th of 9000) hold the smallest values, so the threshold read
        // off the sample keeps too few candidates and the full copy must take over
        let n = 9000;
        let stride = n / 512;
        let r: Vec<f64> =
            (0..n).map(|i| if i % stride == 0 { -1.0 - i as f64 * 1e-4 } else { (i % 97) as f64 * 1e-4 }).collect();
        let mut scratch = Vec::new();
        assert_eq!(filter_below_sampled_threshold(&r, 451, &mut scratch), None);
        assert_eq!(collect_candidates(&r, 451, &mut scratch).len(), n);
        let got = tail_risk(&r, [0.95, 0.99], &mut scratch);
        for t in got {
            let (var, es) = sorted_reference(&r, t.level);
            assert!((t.var - var).abs() < 1e-12 && (t.es - es).abs() < 1e-12, "{t:?}");
        }
        // a representative sample keeps far fewer candidates than n, and the same answer
        let r2: Vec<f64> = (0..n).map(|i| ((i * 7919) % 9001) as f64 * 1e-5 - 0.04).collect();
        let kept = collect_candidates(&r2, 451, &mut scratch).len();
        assert!((451..=4 * 451 + 1024).contains(&kept), "{kept}");
        for t in tail_risk(&r2, [0.95, 0.99], &mut scratch) {
            let (var, es) = sorted_reference(&r2, t.level);
            assert!((t.var - var).abs() < 1e-12 && (t.es - es).abs() < 1e-12, "{t:?}");
        }
    }

    #[test]
    fn single_return_and_empty() {
        let [t, u] = tail_risk(&[-0.02], [0.95, 0.99], &mut Vec::new());
        assert_eq!((t.var, t.es, u.var, u.es), (0.02, 0.02, 0.02, 0.02));
        let [e, _] = tail_risk(&[], [0.95, 0.99], &mut Vec::new());
        assert!(e.var.is_nan() && e.es.is_nan());
    }

    #[test]
    fn all_gains_give_a_negative_loss() {
        let [t, _] = tail_risk(&[0.01, 0.02, 0.03], [0.95, 0.99], &mut Vec::new());
        assert!(t.var < 0.0 && t.es < 0.0);
    }
}
