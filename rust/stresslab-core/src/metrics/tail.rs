//! Historical Value-at-Risk and Expected Shortfall of per-bar returns.
//!
//! No distribution is assumed (REALISM.md: Cornish-Fisher breaks at crypto kurtosis, 99% CF VaR
//! 9.58% vs 2.61% historical). For a level `a` (0.95) and `n` returns sorted ascending `x`:
//! - `h = (n - 1)(1 - a)`, `lo = floor(h)`; VaR = -(x[lo] + (h - lo)(x[lo+1] - x[lo])), i.e. minus
//!   numpy's default (linear) quantile at `1 - a`, as empyrical's `value_at_risk`;
//! - ES = minus the mean of the `lo + 1` smallest returns, as empyrical's `conditional_value_at_risk`.
//!
//! Both are positive loss fractions (0.0113 = a 1.13% loss); a negative value means even that tail
//! is a gain. Only the tail is ordered: one O(n) selection, then a sort of the `lo + 2` smallest.

use std::cmp::Ordering;

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
    scratch.clear();
    scratch.extend_from_slice(returns);
    // the deepest order statistic any level needs: x[lo + 1]
    let need = levels.iter().map(|&a| (quantile_position(n, a).0 + 1).min(n - 1)).max().unwrap_or(0);
    let cmp = |a: &f64, b: &f64| a.partial_cmp(b).unwrap_or(Ordering::Equal);
    scratch.select_nth_unstable_by(need, cmp);
    if let Some(prefix) = scratch.get_mut(..need) {
        prefix.sort_unstable_by(cmp);
    }
    let sorted = scratch.get(..=need).unwrap_or(&[]); // need <= n - 1 < scratch.len()
    levels.map(|level| {
        let (lo, t) = quantile_position(n, level);
        let hi = (lo + 1).min(n - 1);
        match (sorted.get(lo), sorted.get(hi), sorted.get(..=lo)) {
            (Some(&a), Some(&b), Some(tail)) => {
                TailRisk { level, var: -lerp(a, b, t), es: -(tail.iter().sum::<f64>() / tail.len() as f64) }
            }
            _ => TailRisk::undefined(level), // unreachable: lo, hi <= need
        }
    })
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
