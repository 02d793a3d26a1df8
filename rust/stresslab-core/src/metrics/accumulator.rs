//! The one-pass metrics accumulator the engine feeds bar by bar.
//!
//! Per bar it does O(1) work and no allocation beyond pushing the bar's return onto a reused Vec
//! (historical VaR/ES need the whole sample). Moments are taken from that Vec at the end with a
//! compensated two-pass sum, which is both faster per bar than Welford (no division chain) and
//! more accurate than running sums of r and r^2.

use super::flags::{MetricFlag, MetricFlags};
use super::report::Metrics;
use super::tail::{tail_risk, TailRisk};
use super::MetricsConfig;
use crate::error::{Result, StressError};

/// Rounding of `e_t / e_(t-1) - 1` leaves about 1e-16 of noise on a constant-growth curve; a
/// standard deviation (or downside deviation) below `ZERO_VARIANCE_TOL * (1 + |mean|)` is that
/// noise, not risk, and is treated as zero (Sharpe or Sortino NaN with a flag, not 1e13).
pub const ZERO_VARIANCE_TOL: f64 = 64.0 * f64::EPSILON;

/// Neumaier-compensated sum: trade PnLs of both signs cancel, and plain sums lose digits there.
#[derive(Clone, Copy, Debug, Default)]
struct CompensatedSum {
    sum: f64,
    carry: f64,
}

impl CompensatedSum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.carry += if self.sum.abs() >= x.abs() { (self.sum - t) + x } else { (x - t) + self.sum };
        self.sum = t;
    }

    fn value(self) -> f64 {
        self.sum + self.carry
    }
}

fn compensated_sum(xs: impl Iterator<Item = f64>) -> f64 {
    let mut s = CompensatedSum::default();
    xs.for_each(|x| s.add(x));
    s.value()
}

/// Accumulates the metrics of one path; [`reset`](Self::reset) reuses it for the next path.
#[derive(Clone, Debug)]
pub struct MetricsAccumulator {
    cfg: MetricsConfig,
    returns: Vec<f64>,
    n_bars: u64,
    last_equity: f64,
    peak: f64,
    /// Bar at which the running peak was last reached; -1 is the initial equity (before bar 0).
    peak_bar: i64,
    in_drawdown: bool,
    /// Lowest equity since the running peak was set: the peak is constant within a drawdown, so
    /// its depth is 1 - trough / peak, one division per drawdown instead of one per bar (x -> 1 - x/p
    /// is monotone in floating point too, so this equals the per-bar maximum exactly).
    trough: f64,
    /// Deepest drawdown of the drawdowns already closed (fraction).
    max_closed_dd: f64,
    max_closed_dd_duration: u64,
    min_equity: f64,
    sum_equity: f64,
    sum_leverage: f64,
    max_leverage: f64,
    bars_in_market: u64,
    traded_notional: f64,
    trades: u64,
    wins: u64,
    losses: u64,
    gross_profit: CompensatedSum,
    gross_loss: CompensatedSum,
    pnl_sum: CompensatedSum,
    best: f64,
    worst: f64,
    bars_held: u64,
    fees: CompensatedSum,
    slippage: CompensatedSum,
    flags: MetricFlags,
}

impl MetricsAccumulator {
    /// Validate `cfg` and start an empty path.
    pub fn new(cfg: MetricsConfig) -> Result<Self> {
        cfg.validate()?;
        let e0 = cfg.initial_equity;
        Ok(MetricsAccumulator {
            cfg,
            returns: Vec::new(),
            n_bars: 0,
            last_equity: e0,
            peak: e0,
            peak_bar: -1,
            in_drawdown: false,
            trough: e0,
            max_closed_dd: 0.0,
            max_closed_dd_duration: 0,
            min_equity: e0,
            sum_equity: 0.0,
            sum_leverage: 0.0,
            max_leverage: 0.0,
            bars_in_market: 0,
            traded_notional: 0.0,
            trades: 0,
            wins: 0,
            losses: 0,
            gross_profit: CompensatedSum::default(),
            gross_loss: CompensatedSum::default(),
            pnl_sum: CompensatedSum::default(),
            best: f64::NEG_INFINITY,
            worst: f64::INFINITY,
            bars_held: 0,
            fees: CompensatedSum::default(),
            slippage: CompensatedSum::default(),
            flags: MetricFlags::empty(),
        })
    }

    /// Like [`new`](Self::new), with room for `n_bars` returns so no bar reallocates.
    pub fn with_capacity(cfg: MetricsConfig, n_bars: usize) -> Result<Self> {
        let mut acc = Self::new(cfg)?;
        acc.returns.reserve(n_bars);
        Ok(acc)
    }

    /// Start a new path with the same configuration, keeping the returns buffer's capacity.
    pub fn reset(&mut self) {
        let returns = std::mem::take(&mut self.returns);
        let cfg = self.cfg.clone();
        // the config was validated when self was built; rebuilding cannot fail
        if let Ok(fresh) = Self::new(cfg) {
            *self = fresh;
        }
        self.returns = returns;
        self.returns.clear();
    }

    pub fn config(&self) -> &MetricsConfig {
        &self.cfg
    }

    pub fn n_bars(&self) -> u64 {
        self.n_bars
    }

    /// Equity at the last bar (the initial equity before any bar).
    pub fn last_equity(&self) -> f64 {
        self.last_equity
    }

    /// Highest equity so far, the initial equity included.
    pub fn peak_equity(&self) -> f64 {
        self.peak
    }

    /// Depth of the drawdown in progress (fraction; 0 at a peak). The peak is >= initial equity > 0.
    fn open_drawdown(&self) -> f64 {
        1.0 - self.trough / self.peak
    }

    /// Deepest drawdown so far, positive percent.
    pub fn max_drawdown_pct(&self) -> f64 {
        100.0 * self.max_closed_dd.max(self.open_drawdown())
    }

    /// Current drawdown below the running peak, positive percent (for drawdown stops).
    pub fn current_drawdown_pct(&self) -> f64 {
        100.0 * (1.0 - self.last_equity / self.peak)
    }

    /// Record one bar: mark-to-market equity at its close, gross exposure (sum of |position
    /// notional|) and the notional traded during it. Infallible: a non-finite value, or a negative
    /// exposure or turnover, skips the bar and voids the result ([`MetricFlag::InvalidInput`]).
    #[inline]
    pub fn on_bar(&mut self, equity: f64, gross_exposure: f64, turnover_notional: f64) {
        let valid = equity.is_finite()
            && gross_exposure.is_finite()
            && gross_exposure >= 0.0
            && turnover_notional.is_finite()
            && turnover_notional >= 0.0;
        if !valid {
            self.flags.set(MetricFlag::InvalidInput);
            return;
        }
        let bar = self.n_bars as i64;
        let prev = self.last_equity;
        if prev > 0.0 {
            self.returns.push(equity / prev - 1.0);
        } else {
            self.flags.set(MetricFlag::ReturnsUndefined);
        }
        // drawdown: reaching the peak again (>=) ends a drawdown and moves the peak to this bar
        if equity >= self.peak {
            if self.in_drawdown {
                self.max_closed_dd_duration = self.max_closed_dd_duration.max((bar - self.peak_bar) as u64);
                self.max_closed_dd = self.max_closed_dd.max(self.open_drawdown());
                self.in_drawdown = false;
            }
            self.peak = equity;
            self.peak_bar = bar;
            self.trough = equity;
        } else {
            self.in_drawdown = true;
            if equity < self.trough {
                self.trough = equity;
            }
        }
        if equity > 0.0 {
            let leverage = gross_exposure / equity;
            self.sum_leverage += leverage;
            if leverage > self.max_leverage {
                self.max_leverage = leverage;
            }
        } else {
            self.flags.set(MetricFlag::NonPositiveEquity);
        }
        self.bars_in_market += u64::from(gross_exposure > 0.0);
        self.traded_notional += turnover_notional;
        self.sum_equity += equity;
        if equity < self.min_equity {
            self.min_equity = equity;
        }
        self.last_equity = equity;
        self.n_bars += 1;
    }

    /// [`on_bar`](Self::on_bar) that refuses bad values with an error naming the field and bar.
    pub fn on_bar_checked(&mut self, equity: f64, gross_exposure: f64, turnover_notional: f64) -> Result<()> {
        let bar = self.n_bars;
        check_finite("equity", bar, equity)?;
        check_size("gross_exposure", bar, gross_exposure)?;
        check_size("turnover_notional", bar, turnover_notional)?;
        self.on_bar(equity, gross_exposure, turnover_notional);
        Ok(())
    }

    /// Record a closed round trip: its PnL (after costs) and how many bars it was held.
    /// Infallible: a non-finite PnL is skipped and voids the result.
    pub fn on_trade(&mut self, pnl: f64, bars_held: u64) {
        if !pnl.is_finite() {
            self.flags.set(MetricFlag::InvalidInput);
            return;
        }
        self.trades += 1;
        self.pnl_sum.add(pnl);
        if pnl > 0.0 {
            self.wins += 1;
            self.gross_profit.add(pnl);
        } else if pnl < 0.0 {
            self.losses += 1;
            self.gross_loss.add(-pnl);
        }
        self.best = self.best.max(pnl);
        self.worst = self.worst.min(pnl);
        self.bars_held = self.bars_held.saturating_add(bars_held);
    }

    /// [`on_trade`](Self::on_trade) that refuses a non-finite PnL with an error.
    pub fn on_trade_checked(&mut self, pnl: f64, bars_held: u64) -> Result<()> {
        check_finite("pnl", self.trades, pnl)?;
        self.on_trade(pnl, bars_held);
        Ok(())
    }

    /// Add fees and slippage paid (either may be negative: maker rebates, price improvement).
    /// Infallible: a non-finite value is skipped and voids the result.
    pub fn add_costs(&mut self, fees: f64, slippage: f64) {
        if !(fees.is_finite() && slippage.is_finite()) {
            self.flags.set(MetricFlag::InvalidInput);
            return;
        }
        self.fees.add(fees);
        self.slippage.add(slippage);
    }

    /// The metrics so far (allocates one scratch buffer for VaR/ES; see
    /// [`finish_with_scratch`](Self::finish_with_scratch) to reuse one across paths).
    pub fn finish(&self) -> Metrics {
        self.finish_with_scratch(&mut Vec::new())
    }

    /// The metrics so far, using `scratch` (overwritten) for the VaR/ES selection.
    pub fn finish_with_scratch(&self, scratch: &mut Vec<f64>) -> Metrics {
        let cfg = &self.cfg;
        let mut flags = self.flags;
        let n = self.n_bars;
        let e0 = cfg.initial_equity;
        let nan = f64::NAN;
        if n == 0 {
            flags.set(MetricFlag::NoBars);
        }
        let final_equity = self.last_equity;
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

        let max_dd = self.max_closed_dd.max(self.open_drawdown());
        let (open_duration, open) = if self.in_drawdown {
            let d = ((n as i64 - 1) - self.peak_bar) as u64;
            (d.max(self.max_closed_dd_duration), d >= self.max_closed_dd_duration)
        } else {
            (self.max_closed_dd_duration, false)
        };
        if n > 0 && max_dd == 0.0 {
            flags.set(MetricFlag::NoDrawdown);
        }
        let calmar = if cagr.is_nan() || max_dd == 0.0 { nan } else { cagr / max_dd };

        let returns_ok = n > 0 && !flags.contains(MetricFlag::ReturnsUndefined);
        let (volatility, sharpe, sortino, tail) = if returns_ok {
            self.return_statistics(&mut flags, scratch)
        } else {
            (nan, nan, nan, cfg.var_levels.map(TailRisk::undefined))
        };

        let trades = self.trades;
        let per_trade = |x: f64, count: u64| if count > 0 { x / count as f64 } else { nan };
        if trades == 0 {
            flags.set(MetricFlag::NoTrades);
        } else {
            if self.losses == 0 {
                flags.set(MetricFlag::NoLosingTrades);
            }
            if self.wins == 0 {
                flags.set(MetricFlag::NoWinningTrades);
            }
        }
        let gross_profit = self.gross_profit.value();
        let gross_loss = self.gross_loss.value();
        let profit_factor = if trades > 0 && self.losses > 0 { gross_profit / gross_loss } else { nan };

        let avg_bars_held = if !cfg.holding_input {
            flags.set(MetricFlag::NoHoldingInput);
            nan
        } else {
            per_trade(self.bars_held as f64, trades)
        };

        let nonpositive = flags.contains(MetricFlag::NonPositiveEquity);
        let (exposure, time_in_market, max_leverage) = if !cfg.exposure_input {
            flags.set(MetricFlag::NoExposureInput);
            (nan, nan, nan)
        } else if n == 0 {
            (nan, nan, nan)
        } else {
            let tim = self.bars_in_market as f64 / n as f64;
            if nonpositive {
                (nan, tim, nan)
            } else {
                (self.sum_leverage / n as f64, tim, self.max_leverage)
            }
        };
        let mean_equity = self.sum_equity / n as f64;
        let turnover = if !cfg.turnover_input {
            flags.set(MetricFlag::NoTurnoverInput);
            nan
        } else if n == 0 || mean_equity <= 0.0 {
            nan
        } else {
            self.traded_notional / mean_equity
        };

        let mut m = Metrics {
            n_bars: n,
            initial_equity: e0,
            final_equity,
            min_equity: self.min_equity,
            total_return,
            total_return_pct: 100.0 * total_return,
            cagr,
            max_drawdown: 100.0 * max_dd,
            max_dd_duration: open_duration,
            max_dd_duration_open: open,
            final_drawdown: 100.0 * (1.0 - final_equity / self.peak),
            volatility,
            sharpe_ratio: sharpe,
            sortino,
            calmar,
            tail,
            total_trades: trades,
            winning_trades: self.wins,
            losing_trades: self.losses,
            winrate: per_trade(100.0 * self.wins as f64, trades),
            profit_factor,
            gross_profit,
            gross_loss,
            avg_trade_pnl: per_trade(self.pnl_sum.value(), trades),
            avg_win: per_trade(gross_profit, self.wins),
            avg_loss: per_trade(-gross_loss, self.losses),
            best_trade: if trades > 0 { self.best } else { nan },
            worst_trade: if trades > 0 { self.worst } else { nan },
            avg_bars_held,
            exposure,
            time_in_market,
            max_leverage,
            turnover,
            fees_paid: self.fees.value(),
            slippage_paid: self.slippage.value(),
            ruined: self.min_equity <= cfg.ruin_threshold * e0,
            flags,
        };
        if flags.contains(MetricFlag::InvalidInput) {
            m.void_floats();
        }
        m
    }

    /// Volatility, Sharpe, Sortino and VaR/ES of the recorded returns (at least one).
    fn return_statistics(&self, flags: &mut MetricFlags, scratch: &mut Vec<f64>) -> (f64, f64, f64, [TailRisk; 2]) {
        let r = &self.returns;
        let n = r.len() as f64;
        let ann = self.cfg.periods_per_year.sqrt();
        let mean = compensated_sum(r.iter().copied()) / n;
        let noise = ZERO_VARIANCE_TOL * (1.0 + mean.abs());
        let (mut sq, mut down) = (0.0, 0.0);
        for &x in r {
            let d = x - mean;
            sq += d * d;
            let neg = x.min(0.0);
            down += neg * neg;
        }
        let (volatility, sharpe) = if r.len() < 2 {
            flags.set(MetricFlag::TooFewReturns);
            (f64::NAN, f64::NAN)
        } else {
            let sd = (sq / (n - 1.0)).sqrt();
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
        (volatility, sharpe, sortino, tail_risk(r, self.cfg.var_levels, scratch))
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
