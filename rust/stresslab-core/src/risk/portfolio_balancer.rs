//! Portfolio balancer: portfolio-wide constraints on the target weights, and rebalancing orders
//! when prices push the held portfolio past them.
//!
//! Constraints (weights = fractions of equity; the balancer only ever reduces exposure, it never
//! opens positions), applied in this order to the full target vector (the row's decisions where
//! given, the current targets elsewhere):
//! 1. `max_weight`: |weight| per symbol;
//! 2. net exposure in [`min_net`, `max_net`] (min <= 0 <= max): the longs (or the shorts) are
//!    scaled down together;
//! 3. `max_gross`: sum of |weight|; every position is scaled by the same factor;
//! 4. `max_concentration`: correlation-aware gross, sqrt(w' R w) with R the correlation of the
//!    symbols' returns over the last `correlation_window` bars (R = 1 with too little data, the
//!    conservative value); every position is scaled by the same factor.
//!
//! After each bar the held weights (units x close / equity) are checked against the same limits;
//! a breach by more than `rebalance_tolerance` (relative) issues rebalancing targets.

use super::indicators::RollingCorr;
use super::{Recorder, RiskView};
use crate::error::{check_range, Result, StressError};
use crate::market::MarketData;

#[derive(Clone, Debug, PartialEq)]
pub struct BalancerConfig {
    pub max_gross: Option<f64>,
    pub min_net: Option<f64>,
    pub max_net: Option<f64>,
    pub max_weight: Option<f64>,
    pub max_concentration: Option<f64>,
    pub correlation_window: usize,
    pub rebalance_tolerance: f64,
}

impl Default for BalancerConfig {
    fn default() -> Self {
        BalancerConfig {
            max_gross: None,
            min_net: None,
            max_net: None,
            max_weight: None,
            max_concentration: None,
            correlation_window: 168,
            rebalance_tolerance: 0.05,
        }
    }
}

impl BalancerConfig {
    pub fn validate(&self) -> Result<()> {
        for (f, v) in [
            ("max_gross_exposure_pct", self.max_gross),
            ("max_weight_pct", self.max_weight),
            ("max_concentration_pct", self.max_concentration),
        ] {
            if let Some(x) = v {
                if !(x > 0.0) {
                    return Err(StressError::param(f, format!("must be > 0 (or None for no limit), got {x}")));
                }
                check_range(f, x, 0.0, 10.0)?;
            }
        }
        if let Some(x) = self.min_net {
            check_range("min_net_exposure_pct", x, -10.0, 0.0)?;
        }
        if let Some(x) = self.max_net {
            check_range("max_net_exposure_pct", x, 0.0, 10.0)?;
        }
        if let (Some(lo), Some(hi)) = (self.min_net, self.max_net) {
            if lo > hi {
                return Err(StressError::param(
                    "min_net_exposure_pct",
                    format!("must not be above max_net_exposure_pct, got min {lo} > max {hi}"),
                ));
            }
        }
        if self.correlation_window < 2 {
            return Err(StressError::param(
                "correlation_window",
                format!("must be an integer >= 2 bars, got {}", self.correlation_window),
            ));
        }
        check_range("rebalance_tolerance_pct", self.rebalance_tolerance, 0.0, 10.0)?;
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct PortfolioBalancer {
    pub cfg: BalancerConfig,
    corr: Option<RollingCorr>,
    w: Vec<f64>,
}

/// Whether `x` is above `limit` by more than the tolerance (relative to the limit; the limit
/// itself counts at least 0.001 so that a zero net limit has a tolerance too).
#[inline]
fn over(x: f64, limit: f64, tol: f64) -> bool {
    x > limit + tol * limit.abs().max(1e-3)
}

fn scale_into(w: &mut [f64], f: f64) {
    w.iter_mut().for_each(|x| *x *= f);
}

impl PortfolioBalancer {
    pub fn new(cfg: BalancerConfig, n_symbols: usize) -> Self {
        let corr = cfg.max_concentration.map(|_| RollingCorr::new(n_symbols, cfg.correlation_window));
        PortfolioBalancer { cfg, corr, w: vec![0.0; n_symbols] }
    }

    /// After bar t: feed the correlation estimate.
    #[inline]
    pub fn after_mark(&mut self, md: &MarketData, t: usize) {
        if let Some(c) = self.corr.as_mut() {
            c.update((0..md.n_symbols()).map(|s| md.close[md.idx(s, t)]));
        }
    }

    /// Apply the constraints to `w` in place; returns the reason of the last constraint that bound.
    fn constrain(&self, w: &mut [f64], tol: f64) -> Option<&'static str> {
        let cfg = &self.cfg;
        let mut why = None;
        if let Some(m) = cfg.max_weight {
            for x in w.iter_mut() {
                if over(x.abs(), m, tol) {
                    *x = m.copysign(*x);
                    why = Some("max_weight");
                }
            }
        }
        if cfg.max_net.is_some() || cfg.min_net.is_some() {
            let longs: f64 = w.iter().filter(|x| **x > 0.0).sum();
            let shorts: f64 = w.iter().filter(|x| **x < 0.0).sum();
            let net = longs + shorts;
            if let Some(hi) = cfg.max_net {
                if over(net, hi, tol) && longs > 0.0 {
                    let f = ((hi - shorts) / longs).clamp(0.0, 1.0);
                    w.iter_mut().filter(|x| **x > 0.0).for_each(|x| *x *= f);
                    why = Some("net_exposure");
                }
            }
            if let Some(lo) = cfg.min_net {
                if over(-net, -lo, tol) && shorts < 0.0 {
                    let f = ((lo - longs) / shorts).clamp(0.0, 1.0);
                    w.iter_mut().filter(|x| **x < 0.0).for_each(|x| *x *= f);
                    why = Some("net_exposure");
                }
            }
        }
        if let Some(g) = cfg.max_gross {
            let gross: f64 = w.iter().map(|x| x.abs()).sum();
            if over(gross, g, tol) {
                scale_into(w, g / gross);
                why = Some("gross_exposure");
            }
        }
        if let (Some(c), Some(corr)) = (cfg.max_concentration, self.corr.as_ref()) {
            let n = w.len();
            let mut q = 0.0;
            for i in 0..n {
                if w[i] == 0.0 {
                    continue;
                }
                for j in 0..n {
                    q += w[i] * w[j] * corr.corr(i, j);
                }
            }
            let conc = q.max(0.0).sqrt();
            if over(conc, c, tol) {
                scale_into(w, c / conc);
                why = Some("concentration");
            }
        }
        why
    }

    /// Decision time: constrain the targets the row leads to; moved entries become decisions.
    pub fn filter(&mut self, v: &RiskView, row: &mut [f64], rec: &mut Recorder) {
        if !(v.equity > 0.0) {
            return;
        }
        let mut w = std::mem::take(&mut self.w);
        for s in 0..row.len() {
            let y = if row[s].is_nan() { v.current(s) } else { row[s] };
            w[s] = v.weight(s, y);
        }
        if let Some(why) = self.constrain(&mut w, 0.0) {
            for s in 0..row.len() {
                let before = if row[s].is_nan() { v.current(s) } else { row[s] };
                let after = v.from_weight(s, w[s]);
                if (v.weight(s, before) - w[s]).abs() > 1e-12 * (1.0 + w[s].abs()) {
                    rec.rebalance(s, before, after, why);
                    row[s] = after;
                }
            }
        }
        self.w = w;
    }

    /// Quick check on every bar, without dividing: can the held notionals breach a limit by
    /// more than the tolerance? (The concentration is at most the gross, |correlations| <= 1.)
    #[inline]
    pub fn may_breach(&self, v: &RiskView) -> bool {
        let (mut gross, mut net, mut big) = (0.0f64, 0.0f64, 0.0f64);
        for s in 0..v.positions.len() {
            let x = v.positions[s] * v.prices[s];
            gross += x.abs();
            net += x;
            big = big.max(x.abs());
        }
        self.may_breach_at(gross, net, big, v.equity)
    }

    /// [`Self::may_breach`] from the held book's gross and net value and its largest |value|.
    #[inline]
    pub fn may_breach_at(&self, gross: f64, net: f64, big: f64, equity: f64) -> bool {
        if gross == 0.0 {
            return false;
        }
        let cfg = &self.cfg;
        let e = equity;
        let tol = cfg.rebalance_tolerance;
        // the exact test in weights is x / e > limit + tol * max(|limit|, 0.001); a hair looser here
        let over_n = |x: f64, limit: f64| x > e * (limit + tol * limit.abs().max(1e-3)) * (1.0 - 1e-9);
        cfg.max_weight.is_some_and(|m| over_n(big, m))
            || cfg.max_net.is_some_and(|m| over_n(net, m))
            || cfg.min_net.is_some_and(|m| over_n(-net, -m))
            || cfg.max_gross.is_some_and(|m| over_n(gross, m))
            || cfg.max_concentration.is_some_and(|m| over_n(gross, m))
    }

    /// Whether the balancer reads per-bar market state (the correlation estimate).
    pub fn tracks_correlation(&self) -> bool {
        self.corr.is_some()
    }

    /// After the mark: rebalancing targets if the held weights breach a limit by more than the
    /// tolerance. Writes the targets into `out` (NaN = unchanged) and returns whether any.
    pub fn drift(&mut self, v: &RiskView, out: &mut [f64]) -> Option<&'static str> {
        if !(v.equity > 0.0) || !self.may_breach(v) {
            return None;
        }
        let mut w = std::mem::take(&mut self.w);
        for s in 0..out.len() {
            w[s] = v.positions[s] * v.prices[s] / v.equity;
        }
        let held: f64 = w.iter().map(|x| x.abs()).sum();
        let why = if held > 0.0 { self.constrain(&mut w, self.cfg.rebalance_tolerance) } else { None };
        if why.is_some() {
            for s in 0..out.len() {
                let held_w = v.positions[s] * v.prices[s] / v.equity;
                out[s] =
                    if (held_w - w[s]).abs() > 1e-12 * (1.0 + w[s].abs()) { v.from_weight(s, w[s]) } else { f64::NAN };
            }
        }
        self.w = w;
        why
    }
}
