//! Performance and risk metrics of an equity path, computed in one pass.
//!
//! The engine feeds a [`MetricsAccumulator`] once per bar (equity, gross exposure, traded
//! notional), once per closed trade and with the costs it paid; [`MetricsAccumulator::finish`]
//! returns [`Metrics`]. [`compute_series`] does the same for whole arrays (the Python binding).
//!
//! Conventions (REALISM.md "Metric conventions"):
//! - Returns are per-bar simple returns `r_t = e_t / e_(t-1) - 1` with `e_(-1)` = initial equity,
//!   so N bars give N returns (vectorbt's and W1's convention).
//! - Sharpe = mean(r) / std(r, ddof=1) x sqrt(periods_per_year) (8760 for 1h bars 24/7), risk-free
//!   0; volatility = std(r, ddof=1) x sqrt(periods_per_year). A std that is zero to float
//!   rounding ([`ZERO_VARIANCE_TOL`]) gives Sharpe NaN, volatility 0 and a flag.
//! - Sortino = mean(r) / sqrt(sum(min(r, 0)^2) / N) x sqrt(periods_per_year): the downside
//!   deviation is over all N returns (empyrical), NaN + flag when no return is negative.
//! - Max drawdown = max over bars of 1 - e_t / peak_t, peak_t the running max with the initial
//!   equity counted as a peak, reported as a positive percent (20.0 = equity fell 20% from its
//!   peak). Its duration is the longest span, in bars, from the bar a peak was set (-1 for the
//!   initial equity) to the first bar back at or above it (vectorbt's drawdown duration); a
//!   drawdown still open at the end runs to the last bar and, if it is the longest,
//!   `max_dd_duration_open` says so.
//! - CAGR = (final / initial)^(1 / years) - 1 with years = N / periods_per_year; Calmar = CAGR /
//!   (max_drawdown / 100), NaN + flag when there is no drawdown.
//! - VaR and ES are historical, of per-bar returns, positive loss fractions ([`tail`]).
//! - Trades: win rate in percent; profit factor = gross profit / gross loss, NaN + flag (not
//!   infinity) without a losing trade; a zero-PnL trade is neither a win nor a loss.
//! - Exposure = mean of gross exposure / equity (leverage; 1.0 = fully invested), time in market
//!   = share of bars with exposure, turnover = total traded notional / mean equity.
//! - Ruined: equity fell to or below `ruin_threshold` x initial equity at some bar.
//!
//! Undefined values are NaN and the cause is in [`Metrics::flags`] ([`Metrics::undefined`] lists
//! each NaN metric with its reason); nothing divides by zero and nothing is replaced by a made-up
//! number.

mod accumulator;
mod bars;
mod flags;
mod report;
mod returns;
pub mod tail;
mod trades;

pub use accumulator::MetricsAccumulator;
pub use flags::{MetricFlag, MetricFlags, FLAG_INFO};
pub use report::{tail_key, MetricInfo, MetricValue, Metrics, METRIC_INFO};
pub use returns::ZERO_VARIANCE_TOL;
pub use tail::TailRisk;

use crate::error::{check_positive, Result, StressError};

/// Settings of a [`MetricsAccumulator`]; checked by [`MetricsConfig::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsConfig {
    /// Bars per year for annualising: 8760 for 1h bars traded 24/7, 252 for daily equities.
    pub periods_per_year: f64,
    /// VaR/ES confidence levels, each in (0, 1), strictly increasing.
    pub var_levels: [f64; 2],
    /// Equity before the first bar (> 0).
    pub initial_equity: f64,
    /// Ruin = equity at or below this fraction of the initial equity, in [0, 1] (0.5 = half lost).
    pub ruin_threshold: f64,
    /// Whether `on_bar` receives real gross exposures; when false, exposure metrics are NaN + flag.
    pub exposure_input: bool,
    /// Whether `on_bar` receives real traded notionals; when false, turnover is NaN + flag.
    pub turnover_input: bool,
    /// Whether `on_trade` receives real holding times; when false, avg_bars_held is NaN + flag.
    pub holding_input: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            periods_per_year: 8760.0,
            var_levels: [0.95, 0.99],
            initial_equity: 100_000.0,
            ruin_threshold: 0.5,
            exposure_input: true,
            turnover_input: true,
            holding_input: true,
        }
    }
}

impl MetricsConfig {
    /// The defaults (1h bars 24/7) with the given initial equity.
    pub fn hourly(initial_equity: f64) -> Self {
        MetricsConfig { initial_equity, ..Default::default() }
    }

    pub fn validate(&self) -> Result<()> {
        check_positive("periods_per_year", self.periods_per_year)?;
        check_positive("initial_equity", self.initial_equity)?;
        for level in self.var_levels {
            if !(level.is_finite() && level > 0.0 && level < 1.0) {
                return Err(StressError::param(
                    "var_levels",
                    format!("each level must be a fraction in (0, 1) such as 0.95 (not 95), got {level}"),
                ));
            }
        }
        if self.var_levels[0] >= self.var_levels[1] {
            return Err(StressError::param(
                "var_levels",
                format!("must be two increasing levels such as (0.95, 0.99), got {:?}", self.var_levels),
            ));
        }
        let r = self.ruin_threshold;
        if !(r.is_finite() && (0.0..=1.0).contains(&r)) {
            return Err(StressError::param(
                "ruin_threshold",
                format!("must be a fraction of the initial equity in [0, 1] (0.5 = half the capital lost), got {r}"),
            ));
        }
        Ok(())
    }
}

/// Metrics of whole series at once, each value checked first (errors name the field and index).
///
/// `equity` holds one mark-to-market value per bar; with `initial_equity = None` its first value
/// is the starting equity instead (a point before the first bar), so it must hold at least two.
/// `exposure` (gross exposure notional) and `turnover` (traded notional) are per bar, i.e. as long
/// as the bars; `trade_bars_held` is as long as `trade_pnls` and holds whole numbers.
/// `cfg.initial_equity` and the `*_input` switches are overridden from the arguments.
#[allow(clippy::too_many_arguments)]
pub fn compute_series(
    mut cfg: MetricsConfig,
    equity: &[f64],
    initial_equity: Option<f64>,
    exposure: Option<&[f64]>,
    turnover: Option<&[f64]>,
    trade_pnls: &[f64],
    trade_bars_held: Option<&[f64]>,
    fees: f64,
    slippage: f64,
) -> Result<Metrics> {
    let (e0, bars) = match initial_equity {
        Some(e0) => (e0, equity),
        None => {
            match equity.split_first() {
                Some((&first, rest)) if !rest.is_empty() => {
                    if !(first.is_finite() && first > 0.0) {
                        return Err(StressError::param(
                        "equity",
                        format!("equity[0] is the starting equity when initial_equity is None and must be > 0, got {first}"),
                    ));
                    }
                    (first, rest)
                }
                _ => {
                    return Err(StressError::param(
                        "equity",
                        "needs at least 2 values when initial_equity is None (the start, then one per bar)",
                    ))
                }
            }
        }
    };
    if bars.is_empty() {
        return Err(StressError::param("equity", "needs at least one value (one per bar)"));
    }
    // report indices into the caller's array, which starts with the start value when e0 is None
    let offset = usize::from(initial_equity.is_none());
    check_values("equity", bars, f64::NEG_INFINITY, offset)?;
    for (field, series) in [("exposure", exposure), ("turnover", turnover)] {
        if let Some(s) = series {
            if s.len() != bars.len() {
                let hint = if initial_equity.is_none() { " (len(equity) - 1 when initial_equity is None)" } else { "" };
                return Err(StressError::param(
                    field,
                    format!("must hold one value per bar: {}{hint}, got {}", bars.len(), s.len()),
                ));
            }
            check_values(field, s, 0.0, 0)?;
        }
    }
    check_values("trade_pnls", trade_pnls, f64::NEG_INFINITY, 0)?;
    if let Some(held) = trade_bars_held {
        if held.len() != trade_pnls.len() {
            return Err(StressError::param(
                "trade_bars_held",
                format!("must hold one value per trade: {}, got {}", trade_pnls.len(), held.len()),
            ));
        }
        check_values("trade_bars_held", held, 0.0, 0)?;
        if let Some((i, h)) = held.iter().enumerate().find(|(_, h)| h.fract() != 0.0 || **h > 9.0e15) {
            return Err(StressError::param("trade_bars_held", format!("value {i} must be a whole number, got {h}")));
        }
    }
    for (field, x) in [("fees", fees), ("slippage", slippage)] {
        if !x.is_finite() {
            return Err(StressError::param(field, format!("must be a finite number, got {x}")));
        }
    }
    cfg.initial_equity = e0;
    cfg.exposure_input = exposure.is_some();
    cfg.turnover_input = turnover.is_some();
    cfg.holding_input = trade_bars_held.is_some();
    let mut acc = MetricsAccumulator::with_capacity(cfg, bars.len())?;
    // missing series are fed as zeros (their metrics are flagged undefined), a chunk at a time
    const CHUNK: usize = 4096;
    let zeros = [0.0; CHUNK];
    let zero_chunk = zeros.as_slice();
    for (i, e) in bars.chunks(CHUNK).enumerate() {
        let range = i * CHUNK..i * CHUNK + e.len();
        let pad = zero_chunk.get(..e.len()).unwrap_or(&[]);
        let g = exposure.and_then(|s| s.get(range.clone())).unwrap_or(pad);
        let v = turnover.and_then(|s| s.get(range)).unwrap_or(pad);
        acc.on_bars(e, g, v);
    }
    for (i, &pnl) in trade_pnls.iter().enumerate() {
        let held = trade_bars_held.and_then(|s| s.get(i).copied()).unwrap_or(0.0);
        acc.on_trade(pnl, held as u64);
    }
    acc.add_costs(fees, slippage);
    Ok(acc.finish())
}

/// Every value finite and >= `min`, or an error naming the field and the first bad index (+ `offset`).
fn check_values(field: &str, values: &[f64], min: f64, offset: usize) -> Result<()> {
    // a branch-free scan per chunk (vectorisable); the slow search runs only when something is wrong
    let good = |x: f64| (x >= min) & (x.abs() < f64::INFINITY);
    if values.chunks(1024).all(|c| c.iter().fold(true, |ok, &x| ok & good(x))) {
        return Ok(());
    }
    match values.iter().enumerate().find(|(_, x)| !(x.is_finite() && **x >= min)).map(|(i, x)| (i + offset, x)) {
        None => Ok(()),
        Some((i, x)) if !x.is_finite() => {
            Err(StressError::param(field, format!("value {i} must be a finite number, got {x}")))
        }
        Some((i, x)) => Err(StressError::param(field, format!("value {i} must be >= {min}, got {x}"))),
    }
}

#[cfg(test)]
mod tests;
