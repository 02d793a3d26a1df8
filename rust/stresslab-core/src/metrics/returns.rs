//! Statistics of the per-bar returns: volatility, Sharpe, Sortino and historical VaR/ES.

use super::flags::{MetricFlag, MetricFlags};
use super::tail::{tail_risk, TailRisk};

/// Rounding of `e_t / e_(t-1) - 1` leaves about 1e-16 of noise on a constant-growth curve; a
/// standard deviation (or downside deviation) below `ZERO_VARIANCE_TOL * (1 + |mean|)` is that
/// noise, not risk, and is treated as zero (Sharpe or Sortino NaN with a flag, not 1e13).
pub const ZERO_VARIANCE_TOL: f64 = 64.0 * f64::EPSILON;

pub(crate) struct ReturnStats {
    pub volatility: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub tail: [TailRisk; 2],
}

/// Sum in 4 interleaved lanes (vectorisable; fixed order, so deterministic).
fn lane_sum(xs: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..4 {
            acc[i] += c[i]; // c.len() == 4: chunks_exact
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest.iter().sum::<f64>()
}

/// Sums of d, d^2 and min(x, 0)^2 with d = x - m0, in 4 interleaved lanes.
fn deviation_sums(xs: &[f64], m0: f64) -> (f64, f64, f64) {
    let (mut dev, mut sq, mut down) = ([0.0; 4], [0.0; 4], [0.0; 4]);
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..4 {
            let d = c[i] - m0; // c.len() == 4: chunks_exact
            let neg = if c[i] < 0.0 { c[i] } else { 0.0 };
            dev[i] += d;
            sq[i] += d * d;
            down[i] += neg * neg;
        }
    }
    let fold = |a: [f64; 4]| (a[0] + a[1]) + (a[2] + a[3]);
    let (mut dev, mut sq, mut down) = (fold(dev), fold(sq), fold(down));
    for &x in rest {
        let d = x - m0;
        let neg = if x < 0.0 { x } else { 0.0 };
        dev += d;
        sq += d * d;
        down += neg * neg;
    }
    (dev, sq, down)
}

/// Statistics of `returns` (at least one); undefined ones are NaN and their cause goes to `flags`.
pub(crate) fn return_statistics(
    returns: &[f64],
    periods_per_year: f64,
    levels: [f64; 2],
    flags: &mut MetricFlags,
    scratch: &mut Vec<f64>,
) -> ReturnStats {
    let n = returns.len() as f64;
    let ann = periods_per_year.sqrt();
    // corrected two-pass: the deviation pass also measures the rounding error of the first mean
    let m0 = lane_sum(returns) / n;
    let (dev, sq, down) = deviation_sums(returns, m0);
    let mean = m0 + dev / n;
    let noise = ZERO_VARIANCE_TOL * (1.0 + mean.abs());
    let (volatility, sharpe) = if returns.len() < 2 {
        flags.set(MetricFlag::TooFewReturns);
        (f64::NAN, f64::NAN)
    } else {
        let sd = ((sq - dev * dev / n) / (n - 1.0)).max(0.0).sqrt();
        if sd <= noise {
            flags.set(MetricFlag::ZeroVariance);
            (0.0, f64::NAN)
        } else {
            (sd * ann, mean / sd * ann)
        }
    };
    let downside = (down / n).sqrt();
    let sortino = if downside <= noise {
        flags.set(MetricFlag::NoDownside);
        f64::NAN
    } else {
        mean / downside * ann
    };
    ReturnStats { volatility, sharpe, sortino, tail: tail_risk(returns, levels, scratch) }
}
