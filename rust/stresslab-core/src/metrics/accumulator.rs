//! The one-pass metrics accumulator the engine feeds bar by bar (or a batch of bars at a time).
//!
//! Per bar it does O(1) work with no allocation beyond storing the bar's return in a reused Vec
//! (historical VaR/ES need the whole sample). Moments are taken from that Vec at the end with a
//! corrected two-pass sum, which is both faster per bar than Welford (no division chain) and more
//! accurate than running sums of r and r^2.
//!
//! Speed (benches/benches/metrics.rs): [`MetricsAccumulator::on_bars`] keeps the running state in
//! registers for a whole batch and is the fast path; [`MetricsAccumulator::on_bar`] on an
//! accumulator that lives in memory pays a store-to-load round trip per running sum per bar.
//! Feeding the same bars one at a time or in batches of any size gives bit-identical metrics.

use super::bars::BarStats;
use super::flags::MetricFlag;
use super::report::Metrics;
use super::returns::return_statistics;
use super::tail::TailRisk;
use super::trades::TradeStats;
use super::MetricsConfig;
use crate::error::{Result, StressError};

/// Accumulates the metrics of one path; [`reset`](Self::reset) reuses it for the next path.
#[derive(Clone, Debug)]
pub struct MetricsAccumulator {
    cfg: MetricsConfig,
    returns: Vec<f64>,
    bars: BarStats,
    trades: TradeStats,
}

impl MetricsAccumulator {
    /// Validate `cfg` and start an empty path.
    pub fn new(cfg: MetricsConfig) -> Result<Self> {
        cfg.validate()?;
        let bars = BarStats::new(cfg.initial_equity);
        Ok(MetricsAccumulator { cfg, returns: Vec::new(), bars, trades: TradeStats::default() })
    }

    /// Like [`new`](Self::new), with room for `n_bars` returns so no bar reallocates.
    pub fn with_capacity(cfg: MetricsConfig, n_bars: usize) -> Result<Self> {
        let mut acc = Self::new(cfg)?;
        acc.returns.reserve(n_bars);
        Ok(acc)
    }

    /// Start a new path with the same configuration, keeping the returns buffer's capacity.
    pub fn reset(&mut self) {
        self.returns.clear();
        self.bars = BarStats::new(self.cfg.initial_equity);
        self.trades = TradeStats::default();
    }

    pub fn config(&self) -> &MetricsConfig {
        &self.cfg
    }

    pub fn n_bars(&self) -> u64 {
        self.bars.n_bars
    }

    /// Equity at the last bar (the initial equity before any bar).
    pub fn last_equity(&self) -> f64 {
        self.bars.last_equity
    }

    /// Highest equity so far, the initial equity included.
    pub fn peak_equity(&self) -> f64 {
        self.bars.peak
    }

    /// Deepest drawdown so far, positive percent.
    pub fn max_drawdown_pct(&self) -> f64 {
        100.0 * self.bars.max_drawdown()
    }

    /// Current drawdown below the running peak, positive percent (for drawdown stops).
    pub fn current_drawdown_pct(&self) -> f64 {
        100.0 * (1.0 - self.bars.last_equity / self.bars.peak)
    }

    /// Record one bar: mark-to-market equity at its close, gross exposure (sum of |position
    /// notional|) and the notional traded during it. Infallible: a non-finite value, or a negative
    /// exposure or turnover, skips the bar and voids the result ([`MetricFlag::InvalidInput`]).
    #[inline]
    pub fn on_bar(&mut self, equity: f64, gross_exposure: f64, turnover_notional: f64) {
        let r = self.bars.step(equity, gross_exposure, turnover_notional);
        self.returns.push(r);
    }

    /// [`on_bar`](Self::on_bar) for a batch of bars, faster per bar: the running state stays in
    /// registers for the whole batch. Slices of different lengths void the result.
    pub fn on_bars(&mut self, equity: &[f64], gross_exposure: &[f64], turnover_notional: &[f64]) {
        if gross_exposure.len() != equity.len() || turnover_notional.len() != equity.len() {
            self.bars.flags.set(MetricFlag::InvalidInput);
            return;
        }
        // returns go to a slice sized up front: pushing would keep the Vec's length in memory and
        // make every bar wait on the previous bar's store of it
        // (extend from an exact-size iterator writes through a local length, no zeroing first)
        let mut bars = self.bars;
        self.returns
            .extend(equity.iter().zip(gross_exposure).zip(turnover_notional).map(|((&e, &g), &v)| bars.step(e, g, v)));
        self.bars = bars;
    }

    /// Bars with nothing traded, (equity, gross exposure) per bar from `bars`: the same metrics as
    /// [`on_bars`](Self::on_bars) with zero turnover, fed straight from the caller's loop (no
    /// intermediate rows).
    #[inline]
    pub fn on_untraded_bars(&mut self, bars: impl Iterator<Item = (f64, f64)>) {
        let mut state = self.bars;
        self.returns.extend(bars.map(|(e, g)| state.step(e, g, 0.0)));
        self.bars = state;
    }

    /// `n` bars at one equity with nothing held and nothing traded: the same metrics as
    /// [`on_bars`](Self::on_bars) with that equity and zero exposure and turnover, much cheaper.
    pub fn on_flat_bars(&mut self, equity: f64, n: usize) {
        let start = self.returns.len();
        self.returns.resize(start + n, 0.0);
        let out = self.returns.get_mut(start..).unwrap_or(&mut []);
        self.bars.flat(equity, out);
    }

    /// [`on_bar`](Self::on_bar) that refuses bad values with an error naming the field and bar.
    pub fn on_bar_checked(&mut self, equity: f64, gross_exposure: f64, turnover_notional: f64) -> Result<()> {
        let bar = self.bars.n_bars;
        check_finite("equity", bar, equity)?;
        check_size("gross_exposure", bar, gross_exposure)?;
        check_size("turnover_notional", bar, turnover_notional)?;
        self.on_bar(equity, gross_exposure, turnover_notional);
        Ok(())
    }

    /// Record a closed round trip: its PnL (after costs) and how many bars it was held.
    /// Infallible: a non-finite PnL is skipped and voids the result.
    pub fn on_trade(&mut self, pnl: f64, bars_held: u64) {
        if pnl.is_finite() {
            self.trades.add_trade(pnl, bars_held);
        } else {
            self.bars.flags.set(MetricFlag::InvalidInput);
        }
    }

    /// [`on_trade`](Self::on_trade) that refuses a non-finite PnL with an error.
    pub fn on_trade_checked(&mut self, pnl: f64, bars_held: u64) -> Result<()> {
        check_finite("pnl", self.trades.trades, pnl)?;
        self.on_trade(pnl, bars_held);
        Ok(())
    }

    /// Add fees and slippage paid (either may be negative: maker rebates, price improvement).
    /// Infallible: a non-finite value is skipped and voids the result.
    pub fn add_costs(&mut self, fees: f64, slippage: f64) {
        if fees.is_finite() && slippage.is_finite() {
            self.trades.add_costs(fees, slippage);
        } else {
            self.bars.flags.set(MetricFlag::InvalidInput);
        }
    }

    /// The metrics so far (allocates one scratch buffer for VaR/ES; see
    /// [`finish_with_scratch`](Self::finish_with_scratch) to reuse one across paths).
    pub fn finish(&self) -> Metrics {
        self.finish_with_scratch(&mut Vec::new())
    }

    /// The metrics so far, using `scratch` (overwritten) for the VaR/ES selection.
    pub fn finish_with_scratch(&self, scratch: &mut Vec<f64>) -> Metrics {
        let (cfg, b, t) = (&self.cfg, &self.bars, &self.trades);
        let mut flags = b.flags;
        let n = b.n_bars;
        let e0 = cfg.initial_equity;
        let nan = f64::NAN;
        if n == 0 {
            flags.set(MetricFlag::NoBars);
        }
        let final_equity = b.last_equity;
        let total_return = final_equity / e0 - 1.0;

        let cagr = if n == 0 {
            nan
        } else if final_equity < 0.0 {
            flags.set(MetricFlag::NegativeFinalEquity);
            nan
        } else {
            let years = n as f64 / cfg.periods_per_year;
            let c = (final_equity / e0).powf(1.0 / years) - 1.0;
            if c.is_finite() {
                c
            } else {
                flags.set(MetricFlag::CagrOverflow);
                nan
            }
        };

        let max_dd = b.max_drawdown();
        let (max_dd_duration, max_dd_duration_open) = b.max_dd_duration();
        if n > 0 && max_dd == 0.0 {
            flags.set(MetricFlag::NoDrawdown);
        }
        let calmar = if cagr.is_nan() || max_dd == 0.0 { nan } else { cagr / max_dd };

        let returns_ok = !(flags.contains(MetricFlag::ReturnsUndefined) || flags.contains(MetricFlag::InvalidInput));
        let (volatility, sharpe, sortino, tail) = if n > 0 && returns_ok {
            let s = return_statistics(&self.returns, cfg.periods_per_year, cfg.var_levels, &mut flags, scratch);
            (s.volatility, s.sharpe, s.sortino, s.tail)
        } else {
            (nan, nan, nan, cfg.var_levels.map(TailRisk::undefined))
        };

        let trades = t.trades;
        let per_trade = |x: f64, count: u64| if count > 0 { x / count as f64 } else { nan };
        if trades == 0 {
            flags.set(MetricFlag::NoTrades);
        } else {
            if t.losses == 0 {
                flags.set(MetricFlag::NoLosingTrades);
            }
            if t.wins == 0 {
                flags.set(MetricFlag::NoWinningTrades);
            }
        }
        let gross_profit = t.gross_profit.value();
        let gross_loss = t.gross_loss.value();
        let profit_factor = if t.losses > 0 { gross_profit / gross_loss } else { nan };
        let avg_bars_held = if !cfg.holding_input {
            flags.set(MetricFlag::NoHoldingInput);
            nan
        } else {
            per_trade(t.bars_held as f64, trades)
        };

        let (exposure, time_in_market, max_leverage) = if !cfg.exposure_input {
            flags.set(MetricFlag::NoExposureInput);
            (nan, nan, nan)
        } else if n == 0 {
            (nan, nan, nan)
        } else {
            let tim = b.bars_in_market as f64 / n as f64;
            if flags.contains(MetricFlag::NonPositiveEquity) {
                (nan, tim, nan)
            } else {
                (b.sum_leverage / n as f64, tim, b.max_leverage)
            }
        };
        let mean_equity = b.sum_equity / n as f64;
        let turnover = if !cfg.turnover_input {
            flags.set(MetricFlag::NoTurnoverInput);
            nan
        } else if n == 0 || mean_equity <= 0.0 {
            nan
        } else {
            b.traded_notional / mean_equity
        };

        let mut m = Metrics {
            n_bars: n,
            initial_equity: e0,
            final_equity,
            min_equity: b.min_equity,
            total_return,
            total_return_pct: 100.0 * total_return,
            cagr,
            max_drawdown: 100.0 * max_dd,
            max_dd_duration,
            max_dd_duration_open,
            final_drawdown: 100.0 * (1.0 - final_equity / b.peak),
            volatility,
            sharpe_ratio: sharpe,
            sortino,
            calmar,
            tail,
            total_trades: trades,
            winning_trades: t.wins,
            losing_trades: t.losses,
            winrate: per_trade(100.0 * t.wins as f64, trades),
            profit_factor,
            gross_profit,
            gross_loss,
            avg_trade_pnl: per_trade(t.pnl_sum.value(), trades),
            avg_win: per_trade(gross_profit, t.wins),
            avg_loss: per_trade(-gross_loss, t.losses),
            best_trade: if trades > 0 { t.best } else { nan },
            worst_trade: if trades > 0 { t.worst } else { nan },
            avg_bars_held,
            exposure,
            time_in_market,
            max_leverage,
            turnover,
            fees_paid: t.fees.value(),
            slippage_paid: t.slippage.value(),
            ruined: b.min_equity <= cfg.ruin_threshold * e0,
            flags,
        };
        if flags.contains(MetricFlag::InvalidInput) {
            m.void_floats();
        }
        m
    }
}

fn check_finite(field: &str, index: u64, x: f64) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(StressError::param(field, format!("value {index} must be a finite number, got {x}")))
    }
}

fn check_size(field: &str, index: u64, x: f64) -> Result<()> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(StressError::param(field, format!("value {index} must be a finite number >= 0, got {x}")))
    }
}
