//! Why a metric is undefined: a small bitset, one bit per cause.
//!
//! A metric that cannot be computed honestly (a ratio with a zero denominator, a statistic of too few
//! values, a return taken from a non-positive equity) is reported as NaN, and the cause is a bit
//! here. [`crate::metrics::Metrics::undefined`] maps every NaN metric back to its cause.

/// A set of [`MetricFlag`]s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MetricFlags(u32);

/// One cause of an undefined (NaN) metric, or a note about the inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum MetricFlag {
    /// A non-finite (or negative where a size was expected) value reached the infallible
    /// `on_bar`/`on_trade`/`add_costs`; it was skipped and every float metric is NaN.
    InvalidInput = 1 << 0,
    /// No bar was recorded.
    NoBars = 1 << 1,
    /// Fewer than two returns: a sample standard deviation (ddof=1) needs two.
    TooFewReturns = 1 << 2,
    /// The per-bar returns have zero variance (to float rounding): Sharpe is undefined.
    ZeroVariance = 1 << 3,
    /// No return was negative (to float rounding): the downside deviation is zero, Sortino undefined.
    NoDownside = 1 << 4,
    /// Equity never fell below its running peak: Calmar (CAGR / MDD) is undefined.
    NoDrawdown = 1 << 5,
    /// Equity was zero or negative at some bar: leverage and exposure (notional / equity) are
    /// undefined, and turnover too when mean equity is not positive.
    NonPositiveEquity = 1 << 6,
    /// A return was taken from a zero or negative equity (the account was bust and kept going):
    /// every return-based statistic (volatility, Sharpe, Sortino, VaR, ES) is undefined.
    ReturnsUndefined = 1 << 7,
    /// Final equity is negative: CAGR (a root of a negative number) and Calmar are undefined.
    NegativeFinalEquity = 1 << 8,
    /// Annualising the total return overflows f64 (a big gain over a very short run).
    CagrOverflow = 1 << 9,
    /// No closed trade: win rate, average, best and worst trade are undefined.
    NoTrades = 1 << 10,
    /// Trades but none lost: profit factor (gross profit / gross loss) and average loss undefined.
    NoLosingTrades = 1 << 11,
    /// Trades but none won: average win undefined.
    NoWinningTrades = 1 << 12,
    /// No gross exposure series was given: exposure, time in market and leverage undefined.
    NoExposureInput = 1 << 13,
    /// No turnover series was given: turnover undefined.
    NoTurnoverInput = 1 << 14,
    /// No holding times were given with the trades: average bars held undefined.
    NoHoldingInput = 1 << 15,
}

/// Every flag with its stable snake_case name and the reason shown to users.
pub const FLAG_INFO: &[(MetricFlag, &str, &str)] = &[
    (MetricFlag::InvalidInput, "invalid_input", "a non-finite or negative input was skipped; results are void"),
    (MetricFlag::NoBars, "no_bars", "no bars"),
    (MetricFlag::TooFewReturns, "too_few_returns", "fewer than 2 returns (sample std needs ddof=1)"),
    (MetricFlag::ZeroVariance, "zero_variance", "returns have zero variance"),
    (MetricFlag::NoDownside, "no_downside", "no negative return (downside deviation is zero)"),
    (MetricFlag::NoDrawdown, "no_drawdown", "equity never fell below its peak (max drawdown is zero)"),
    (MetricFlag::NonPositiveEquity, "nonpositive_equity", "equity was zero or negative"),
    (MetricFlag::ReturnsUndefined, "returns_undefined", "a return was taken from zero or negative equity"),
    (MetricFlag::NegativeFinalEquity, "negative_final_equity", "final equity is negative"),
    (MetricFlag::CagrOverflow, "cagr_overflow", "annualised growth overflows (run too short)"),
    (MetricFlag::NoTrades, "no_trades", "no closed trades"),
    (MetricFlag::NoLosingTrades, "no_losing_trades", "no losing trade (gross loss is zero)"),
    (MetricFlag::NoWinningTrades, "no_winning_trades", "no winning trade"),
    (MetricFlag::NoExposureInput, "no_exposure_input", "no gross exposure series given"),
    (MetricFlag::NoTurnoverInput, "no_turnover_input", "no turnover series given"),
    (MetricFlag::NoHoldingInput, "no_holding_input", "no trade holding times given"),
];

impl MetricFlag {
    /// Stable snake_case name (used as the Python flag string).
    pub fn name(self) -> &'static str {
        FLAG_INFO.iter().find(|(f, _, _)| *f == self).map_or("unknown", |(_, n, _)| n)
    }

    /// Human-readable reason.
    pub fn reason(self) -> &'static str {
        FLAG_INFO.iter().find(|(f, _, _)| *f == self).map_or("unknown", |(_, _, r)| r)
    }
}

impl MetricFlags {
    pub const fn empty() -> Self {
        MetricFlags(0)
    }

    pub fn set(&mut self, flag: MetricFlag) {
        self.0 |= flag as u32;
    }

    pub fn contains(self, flag: MetricFlag) -> bool {
        self.0 & flag as u32 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The raw bits (stable: each flag's bit is fixed by its declaration).
    pub fn bits(self) -> u32 {
        self.0
    }

    /// The set flags, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = MetricFlag> {
        FLAG_INFO.iter().map(|(f, _, _)| *f).filter(move |f| self.contains(*f))
    }

    /// The first flag of `causes` that is set: the reason a metric with these possible causes is NaN.
    pub fn first_of(self, causes: &[MetricFlag]) -> Option<MetricFlag> {
        causes.iter().copied().find(|f| self.contains(*f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_has_a_distinct_bit_and_name() {
        let mut seen = 0u32;
        let mut names = std::collections::HashSet::new();
        for (f, name, reason) in FLAG_INFO {
            let bit = *f as u32;
            assert_eq!(bit.count_ones(), 1, "{name}");
            assert_eq!(seen & bit, 0, "{name} reuses a bit");
            seen |= bit;
            assert!(names.insert(*name), "{name} twice");
            assert!(!reason.is_empty());
            assert_eq!(f.name(), *name);
        }
        // every bit up to the highest is used: no flag was forgotten in FLAG_INFO
        assert_eq!(seen, (1u32 << FLAG_INFO.len()) - 1);
    }

    #[test]
    fn set_contains_iter() {
        let mut s = MetricFlags::empty();
        assert!(s.is_empty());
        s.set(MetricFlag::NoTrades);
        s.set(MetricFlag::ZeroVariance);
        assert!(s.contains(MetricFlag::NoTrades) && s.contains(MetricFlag::ZeroVariance));
        assert!(!s.contains(MetricFlag::NoBars));
        let v: Vec<_> = s.iter().collect();
        assert_eq!(v, vec![MetricFlag::ZeroVariance, MetricFlag::NoTrades]);
        assert_eq!(s.first_of(&[MetricFlag::NoBars, MetricFlag::NoTrades]), Some(MetricFlag::NoTrades));
        assert_eq!(s.first_of(&[MetricFlag::NoBars]), None);
    }
}
