//! The finished metrics of one path: values, their names and units, and why any is undefined.
//!
//! [`METRIC_INFO`] is the one list of metric names, units and conventions; the Python binding
//! builds its result dict from [`Metrics::values`] and the docs table is checked against it.

use super::flags::{MetricFlag, MetricFlags};
use super::tail::TailRisk;

/// Performance and risk metrics of one equity path (conventions in [`crate::metrics`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    pub n_bars: u64,
    pub initial_equity: f64,
    pub final_equity: f64,
    /// Lowest equity seen, the initial equity included.
    pub min_equity: f64,
    /// final / initial - 1 (fraction).
    pub total_return: f64,
    pub total_return_pct: f64,
    /// (final / initial)^(periods_per_year / n_bars) - 1 (fraction).
    pub cagr: f64,
    /// Deepest fall below the running peak, positive percent (20.0 = equity fell 20%).
    pub max_drawdown: f64,
    /// Longest peak-to-recovery span in bars (an open drawdown runs to the last bar).
    pub max_dd_duration: u64,
    /// The longest drawdown is still open at the last bar (its true length is at least this).
    pub max_dd_duration_open: bool,
    /// How far the last bar sits below the running peak, positive percent (0 at a peak).
    pub final_drawdown: f64,
    /// Annualised sample std (ddof=1) of per-bar simple returns (fraction).
    pub volatility: f64,
    pub sharpe_ratio: f64,
    pub sortino: f64,
    pub calmar: f64,
    /// Historical VaR/ES at the configured levels (0.95, 0.99 by default).
    pub tail: [TailRisk; 2],
    pub total_trades: u64,
    pub winning_trades: u64,
    pub losing_trades: u64,
    /// Winning trades / all trades, percent (55.0).
    pub winrate: f64,
    pub profit_factor: f64,
    pub gross_profit: f64,
    /// Sum of losing trades' PnL as a positive number.
    pub gross_loss: f64,
    pub avg_trade_pnl: f64,
    pub avg_win: f64,
    /// Mean PnL of losing trades (negative).
    pub avg_loss: f64,
    pub best_trade: f64,
    pub worst_trade: f64,
    pub avg_bars_held: f64,
    /// Mean over bars of gross exposure / equity (fraction; 1.0 = fully invested, 2.0 = 2x levered).
    pub exposure: f64,
    /// Fraction of bars with a non-zero gross exposure.
    pub time_in_market: f64,
    /// Largest gross exposure / equity over bars.
    pub max_leverage: f64,
    /// Total traded notional / mean equity.
    pub turnover: f64,
    pub fees_paid: f64,
    pub slippage_paid: f64,
    /// Equity fell to or below ruin_threshold x initial equity.
    pub ruined: bool,
    pub flags: MetricFlags,
}

/// One metric value, typed for conversion to Python.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetricValue {
    Float(f64),
    Count(u64),
    Bool(bool),
}

/// Name, unit and convention of a metric.
#[derive(Clone, Copy, Debug)]
pub struct MetricInfo {
    pub name: &'static str,
    pub unit: &'static str,
    pub convention: &'static str,
}

const fn info(name: &'static str, unit: &'static str, convention: &'static str) -> MetricInfo {
    MetricInfo { name, unit, convention }
}

/// Every metric, in the order of [`Metrics::values`] (tail keys shown for the default levels).
pub const METRIC_INFO: &[MetricInfo] = &[
    info("n_bars", "bars", "number of bars recorded"),
    info("initial_equity", "currency", "equity before the first bar"),
    info("final_equity", "currency", "equity at the last bar"),
    info("min_equity", "currency", "lowest equity, initial included"),
    info("total_return", "fraction", "final / initial - 1"),
    info("total_return_pct", "percent", "100 x total_return"),
    info("cagr", "fraction", "(final/initial)^(periods_per_year/n_bars) - 1"),
    info(
        "max_drawdown",
        "percent",
        "max over bars of 100 (1 - equity/running peak), positive; initial counts as a peak",
    ),
    info("max_dd_duration", "bars", "longest peak-to-recovery span; an open drawdown runs to the last bar"),
    info("max_dd_duration_open", "bool", "the longest drawdown had not recovered at the last bar"),
    info("final_drawdown", "percent", "100 (1 - final equity / running peak)"),
    info("volatility", "fraction", "std(returns, ddof=1) x sqrt(periods_per_year)"),
    info("sharpe_ratio", "ratio", "mean(returns) / std(returns, ddof=1) x sqrt(periods_per_year), risk-free 0"),
    info("sortino", "ratio", "mean(returns) / sqrt(sum(min(r,0)^2)/N) x sqrt(periods_per_year), N = all returns"),
    info("calmar", "ratio", "cagr / (max_drawdown/100)"),
    info("var_95", "fraction", "historical VaR: -quantile(returns, 0.05), linear interpolation; positive = loss"),
    info("es_95", "fraction", "historical ES: -mean of the floor((N-1)*0.05)+1 worst returns"),
    info("var_99", "fraction", "historical VaR: -quantile(returns, 0.01)"),
    info("es_99", "fraction", "historical ES: -mean of the floor((N-1)*0.01)+1 worst returns"),
    info("total_trades", "count", "closed round trips"),
    info("winning_trades", "count", "trades with pnl > 0"),
    info("losing_trades", "count", "trades with pnl < 0 (pnl == 0 is neither)"),
    info("winrate", "percent", "100 x winning_trades / total_trades"),
    info("profit_factor", "ratio", "gross_profit / gross_loss; NaN (not inf) without a losing trade"),
    info("gross_profit", "currency", "sum of winning trades' pnl"),
    info("gross_loss", "currency", "sum of |pnl| of losing trades (positive)"),
    info("avg_trade_pnl", "currency", "mean trade pnl"),
    info("avg_win", "currency", "mean pnl of winning trades"),
    info("avg_loss", "currency", "mean pnl of losing trades (negative)"),
    info("best_trade", "currency", "largest trade pnl"),
    info("worst_trade", "currency", "smallest trade pnl"),
    info("avg_bars_held", "bars", "mean holding time of trades"),
    info("exposure", "fraction", "mean over bars of gross exposure / equity (leverage)"),
    info("time_in_market", "fraction", "share of bars with non-zero gross exposure"),
    info("max_leverage", "ratio", "max over bars of gross exposure / equity"),
    info("turnover", "ratio", "total traded notional / mean equity"),
    info("fees_paid", "currency", "sum of fees"),
    info("slippage_paid", "currency", "sum of slippage costs"),
    info("ruined", "bool", "equity fell to or below ruin_threshold x initial equity"),
];

/// The key of a tail metric at `level`: ("var", 0.95) -> "var_95", ("es", 0.975) -> "es_97.5".
pub fn tail_key(prefix: &str, level: f64) -> String {
    let pct = (level * 100.0 * 1e6).round() / 1e6;
    format!("{prefix}_{pct}")
}

/// Flags that can make a metric NaN, the ones that always do first: the first that is set is the reason.
fn causes(name: &str) -> &'static [MetricFlag] {
    use MetricFlag::*;
    match name {
        "cagr" => &[InvalidInput, NoBars, NegativeFinalEquity, CagrOverflow],
        "calmar" => &[InvalidInput, NoBars, NegativeFinalEquity, CagrOverflow, NoDrawdown],
        "volatility" => &[InvalidInput, NoBars, ReturnsUndefined, TooFewReturns],
        "sharpe_ratio" => &[InvalidInput, NoBars, ReturnsUndefined, TooFewReturns, ZeroVariance],
        "sortino" => &[InvalidInput, NoBars, ReturnsUndefined, NoDownside],
        "winrate" | "avg_trade_pnl" | "best_trade" | "worst_trade" => &[InvalidInput, NoTrades],
        "avg_bars_held" => &[InvalidInput, NoTrades, NoHoldingInput],
        "profit_factor" | "avg_loss" => &[InvalidInput, NoTrades, NoLosingTrades],
        "avg_win" => &[InvalidInput, NoTrades, NoWinningTrades],
        "exposure" | "max_leverage" => &[InvalidInput, NoBars, NoExposureInput, NonPositiveEquity],
        "time_in_market" => &[InvalidInput, NoBars, NoExposureInput],
        "turnover" => &[InvalidInput, NoBars, NoTurnoverInput, NonPositiveEquity],
        n if n.starts_with("var_") || n.starts_with("es_") => &[InvalidInput, NoBars, ReturnsUndefined],
        _ => &[InvalidInput],
    }
}

impl Metrics {
    /// Every metric as (name, value), in [`METRIC_INFO`] order (tail keys named by level).
    pub fn values(&self) -> Vec<(String, MetricValue)> {
        use MetricValue::{Bool, Count, Float};
        let mut v: Vec<(String, MetricValue)> = Vec::with_capacity(METRIC_INFO.len());
        let mut push = |name: &str, value: MetricValue| v.push((name.to_string(), value));
        push("n_bars", Count(self.n_bars));
        push("initial_equity", Float(self.initial_equity));
        push("final_equity", Float(self.final_equity));
        push("min_equity", Float(self.min_equity));
        push("total_return", Float(self.total_return));
        push("total_return_pct", Float(self.total_return_pct));
        push("cagr", Float(self.cagr));
        push("max_drawdown", Float(self.max_drawdown));
        push("max_dd_duration", Count(self.max_dd_duration));
        push("max_dd_duration_open", Bool(self.max_dd_duration_open));
        push("final_drawdown", Float(self.final_drawdown));
        push("volatility", Float(self.volatility));
        push("sharpe_ratio", Float(self.sharpe_ratio));
        push("sortino", Float(self.sortino));
        push("calmar", Float(self.calmar));
        for t in &self.tail {
            push(&tail_key("var", t.level), Float(t.var));
            push(&tail_key("es", t.level), Float(t.es));
        }
        push("total_trades", Count(self.total_trades));
        push("winning_trades", Count(self.winning_trades));
        push("losing_trades", Count(self.losing_trades));
        push("winrate", Float(self.winrate));
        push("profit_factor", Float(self.profit_factor));
        push("gross_profit", Float(self.gross_profit));
        push("gross_loss", Float(self.gross_loss));
        push("avg_trade_pnl", Float(self.avg_trade_pnl));
        push("avg_win", Float(self.avg_win));
        push("avg_loss", Float(self.avg_loss));
        push("best_trade", Float(self.best_trade));
        push("worst_trade", Float(self.worst_trade));
        push("avg_bars_held", Float(self.avg_bars_held));
        push("exposure", Float(self.exposure));
        push("time_in_market", Float(self.time_in_market));
        push("max_leverage", Float(self.max_leverage));
        push("turnover", Float(self.turnover));
        push("fees_paid", Float(self.fees_paid));
        push("slippage_paid", Float(self.slippage_paid));
        push("ruined", Bool(self.ruined));
        v
    }

    /// Each NaN metric with the reason it is undefined.
    pub fn undefined(&self) -> Vec<(String, &'static str)> {
        self.values()
            .into_iter()
            .filter_map(|(name, value)| match value {
                MetricValue::Float(x) if x.is_nan() => {
                    let reason = self.flags.first_of(causes(&name)).map_or("undefined", MetricFlag::reason);
                    Some((name, reason))
                }
                _ => None,
            })
            .collect()
    }

    /// Set every float metric but the initial equity to NaN (an invalid input voided the run).
    pub(crate) fn void_floats(&mut self) {
        for x in [
            &mut self.final_equity,
            &mut self.min_equity,
            &mut self.total_return,
            &mut self.total_return_pct,
            &mut self.cagr,
            &mut self.max_drawdown,
            &mut self.final_drawdown,
            &mut self.volatility,
            &mut self.sharpe_ratio,
            &mut self.sortino,
            &mut self.calmar,
            &mut self.winrate,
            &mut self.profit_factor,
            &mut self.gross_profit,
            &mut self.gross_loss,
            &mut self.avg_trade_pnl,
            &mut self.avg_win,
            &mut self.avg_loss,
            &mut self.best_trade,
            &mut self.worst_trade,
            &mut self.avg_bars_held,
            &mut self.exposure,
            &mut self.time_in_market,
            &mut self.max_leverage,
            &mut self.turnover,
            &mut self.fees_paid,
            &mut self.slippage_paid,
        ] {
            *x = f64::NAN;
        }
        for t in self.tail.iter_mut() {
            *t = TailRisk::undefined(t.level);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keys() {
        assert_eq!(tail_key("var", 0.95), "var_95");
        assert_eq!(tail_key("es", 0.99), "es_99");
        assert_eq!(tail_key("var", 0.975), "var_97.5");
    }

    #[test]
    fn info_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for m in METRIC_INFO {
            assert!(seen.insert(m.name), "{} twice", m.name);
            assert!(!m.unit.is_empty() && !m.convention.is_empty());
        }
    }
}
