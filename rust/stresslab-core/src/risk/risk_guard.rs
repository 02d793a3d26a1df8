//! Risk guard: pre-trade checks on each changed target, in symbol order.
//!
//! Conditions refuse the change (the target stays as it is):
//! - `block_corrupt_bars`: no trading on a symbol whose last bar is flagged corrupt by the stress
//!   transform or has unusable prices or volume (reductions are refused too: the price is unknown);
//! - `daily_loss_limit`: once equity is more than this fraction below the day's starting equity
//!   (equity at the last close before the UTC day began), no new risk until the next day.
//!
//! Size limits cut the target back to the limit (a partial denial, recorded with the allowed value):
//! - `max_position`: |weight| per symbol (fraction of equity);
//! - `max_notional`: |weight| x equity per symbol (currency);
//! - `max_order_volume`: the traded quantity |target units - position| over the last bar's volume;
//! - `max_leverage`: gross weight (sum of |weight| over symbols): symbols are checked in order,
//!   those before count with their decided targets, those after with their current ones.
//!
//! Weights are read at the last close (units x close / equity). A cut never increases risk.

use super::{adds_risk, gross_other, Reason, Recorder, RiskView};
use crate::error::{check_positive, Result};

const DAY_MS: i64 = 86_400_000;

#[derive(Clone, Debug, PartialEq)]
pub struct RiskGuardConfig {
    pub max_position: Option<f64>,
    pub max_notional: Option<f64>,
    pub max_leverage: Option<f64>,
    pub max_order_volume: Option<f64>,
    pub daily_loss_limit: Option<f64>,
    pub block_corrupt_bars: bool,
}

impl Default for RiskGuardConfig {
    fn default() -> Self {
        RiskGuardConfig {
            max_position: None,
            max_notional: None,
            max_leverage: None,
            max_order_volume: None,
            daily_loss_limit: None,
            block_corrupt_bars: true,
        }
    }
}

fn check_opt(field: &str, v: Option<f64>, hi: f64) -> Result<()> {
    if let Some(x) = v {
        check_positive(field, x)?;
        crate::error::check_range(field, x, 0.0, hi)?;
    }
    Ok(())
}

impl RiskGuardConfig {
    pub fn validate(&self) -> Result<()> {
        check_opt("max_position_pct", self.max_position, 10.0)?;
        check_opt("max_notional", self.max_notional, f64::MAX)?;
        check_opt("max_leverage", self.max_leverage, 1000.0)?;
        check_opt("max_order_volume_pct", self.max_order_volume, 1.0)?;
        check_opt("daily_loss_limit_pct", self.daily_loss_limit, 1.0)?;
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct RiskGuard {
    pub cfg: RiskGuardConfig,
    day_start_equity: f64,
    prev_equity: f64,
    next_day_ms: i64,
}

impl RiskGuard {
    pub fn new(cfg: RiskGuardConfig, initial_equity: f64) -> Self {
        RiskGuard { cfg, day_start_equity: initial_equity, prev_equity: initial_equity, next_day_ms: i64::MIN }
    }

    /// After bar t closed (timestamp = its open time): roll the trading day.
    #[inline]
    pub fn after_mark(&mut self, timestamp: i64, equity: f64) {
        if self.cfg.daily_loss_limit.is_some() {
            if timestamp >= self.next_day_ms {
                // the day this bar belongs to started with the equity of the previous close
                self.day_start_equity = self.prev_equity;
                self.next_day_ms = (timestamp.div_euclid(DAY_MS) + 1).saturating_mul(DAY_MS);
            }
            self.prev_equity = equity;
        }
    }

    pub fn day_start_equity(&self) -> f64 {
        self.day_start_equity
    }

    pub fn filter(&mut self, v: &RiskView, row: &mut [f64], rec: &mut Recorder) {
        let cfg = &self.cfg;
        let daily_stop = cfg.daily_loss_limit.is_some_and(|l| v.equity < self.day_start_equity * (1.0 - l));
        for s in 0..row.len() {
            let x = row[s];
            if x.is_nan() {
                continue;
            }
            let cur = v.current(s);
            if cfg.block_corrupt_bars && v.corrupt(s) {
                rec.deny(s, x, f64::NAN, Reason::CorruptData);
                row[s] = f64::NAN;
                continue;
            }
            if !adds_risk(cur, x) {
                continue; // reductions pass every size limit
            }
            if daily_stop {
                rec.deny(s, x, f64::NAN, Reason::DailyLossLimit);
                row[s] = f64::NAN;
                continue;
            }
            if !(v.equity > 0.0) {
                rec.deny(s, x, f64::NAN, Reason::NoEquity);
                row[s] = f64::NAN;
                continue;
            }
            let mut w = v.weight(s, x);
            let mut cut: Option<Reason> = None;
            if let Some(m) = cfg.max_position {
                if w.abs() > m {
                    w = m.copysign(w);
                    cut = Some(Reason::MaxPosition);
                }
            }
            if let Some(n) = cfg.max_notional {
                let m = n / v.equity;
                if w.abs() > m {
                    w = m.copysign(w);
                    cut = Some(Reason::MaxNotional);
                }
            }
            if let Some(f) = cfg.max_order_volume {
                let price = v.prices[s];
                let vol = v.md.volume[v.md.idx(s, v.t)];
                let cap = f * vol; // units tradeable
                let q = v.positions[s];
                let want = w * v.equity / price;
                if (want - q).abs() > cap {
                    let units = q + cap.copysign(want - q);
                    w = units * price / v.equity;
                    cut = Some(Reason::MaxOrderVolume);
                }
            }
            if let Some(l) = cfg.max_leverage {
                let room = (l - gross_other(v, row, s)).max(0.0);
                if w.abs() > room {
                    w = room.copysign(w);
                    cut = Some(Reason::MaxLeverage);
                }
            }
            if let Some(reason) = cut {
                let y = v.from_weight(s, w);
                // a cut that lands below the current exposure would be a reduction the strategy
                // did not ask for: keep the current target instead
                let y = if adds_risk(cur, y) { y } else { f64::NAN };
                rec.deny(s, x, y, reason);
                row[s] = y;
            }
        }
    }
}
