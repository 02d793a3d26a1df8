//! Per-bar state of a path: drawdown and its duration, equity extremes, exposure and turnover sums.
//!
//! [`BarStats`] is a small `Copy` struct so a batch loop can keep it in registers (a local copy
//! whose address never escapes) instead of storing every field back to memory each bar; the store
//! -> load round trip on each running sum would otherwise set the speed.

use super::flags::{MetricFlag, MetricFlags};

/// Plain min/max for values known to be finite: a single minsd/maxsd, without the NaN handling of
/// `f64::min`/`f64::max` (five extra instructions each on the per-bar path).
#[inline(always)]
fn min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

#[inline(always)]
fn max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct BarStats {
    pub n_bars: u64,
    pub last_equity: f64,
    pub peak: f64,
    /// Bar at which the running peak was last reached; -1 is the initial equity (before bar 0).
    pub peak_bar: i64,
    pub in_drawdown: bool,
    /// Lowest equity since the running peak was set: the peak is constant within a drawdown, so
    /// its depth is 1 - trough / peak, one division per drawdown instead of one per bar (x -> 1 - x/p
    /// is monotone in floating point too, so this equals the per-bar maximum exactly).
    pub trough: f64,
    /// Deepest and longest of the drawdowns already closed (fraction, bars).
    pub max_closed_dd: f64,
    pub max_closed_dd_duration: u64,
    pub min_equity: f64,
    pub sum_equity: f64,
    pub sum_leverage: f64,
    pub max_leverage: f64,
    pub bars_in_market: u64,
    pub traded_notional: f64,
    pub flags: MetricFlags,
}

impl BarStats {
    pub fn new(initial_equity: f64) -> Self {
        BarStats {
            n_bars: 0,
            last_equity: initial_equity,
            peak: initial_equity,
            peak_bar: -1,
            in_drawdown: false,
            trough: initial_equity,
            max_closed_dd: 0.0,
            max_closed_dd_duration: 0,
            min_equity: initial_equity,
            sum_equity: 0.0,
            sum_leverage: 0.0,
            max_leverage: 0.0,
            bars_in_market: 0,
            traded_notional: 0.0,
            flags: MetricFlags::empty(),
        }
    }

    /// Record one bar and return its simple return. An invalid input skips the bar, returns NaN
    /// and voids the result ([`MetricFlag::InvalidInput`]); a return taken from a zero or negative
    /// equity is meaningless and flagged ([`MetricFlag::ReturnsUndefined`]), which voids every
    /// return statistic. Either way the caller may store the value: it is never read then.
    #[inline(always)]
    pub fn step(&mut self, equity: f64, gross_exposure: f64, turnover_notional: f64) -> f64 {
        // x * 0 is NaN for an infinite or NaN x, so the sum is 0 only if all three are finite
        // (a few float ops instead of three bit-pattern tests)
        let finite = equity * 0.0 + gross_exposure * 0.0 + turnover_notional * 0.0;
        if !(finite == 0.0 && gross_exposure >= 0.0 && turnover_notional >= 0.0) {
            self.flags.set(MetricFlag::InvalidInput);
            return f64::NAN;
        }
        let bar = self.n_bars as i64;
        let prev = self.last_equity;
        if prev <= 0.0 {
            self.flags.set(MetricFlag::ReturnsUndefined);
        }
        // reaching the peak again (>=) ends a drawdown and moves the peak to this bar
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
            self.trough = min(self.trough, equity);
        }
        if equity > 0.0 {
            let leverage = gross_exposure / equity;
            self.sum_leverage += leverage;
            self.max_leverage = max(self.max_leverage, leverage);
        } else {
            self.flags.set(MetricFlag::NonPositiveEquity);
        }
        self.bars_in_market += u64::from(gross_exposure > 0.0);
        self.traded_notional += turnover_notional;
        self.sum_equity += equity;
        self.min_equity = min(self.min_equity, equity);
        self.last_equity = equity;
        self.n_bars += 1;
        equity / prev - 1.0
    }

    /// `out.len()` bars at one equity with zero exposure and zero turnover (nothing held, nothing
    /// traded), writing their returns to `out`: the same state and returns as calling
    /// [`step`](Self::step) per bar, without the per-bar work that cannot change anything after
    /// the first bar (leverage stays 0, the extremes and the drawdown state stay put, every
    /// later return is exactly 0). Only the sum of equity still needs one addition per bar, in
    /// order, to stay bit-identical.
    #[inline]
    pub fn flat(&mut self, equity: f64, out: &mut [f64]) {
        let Some((first, rest)) = out.split_first_mut() else { return };
        *first = self.step(equity, 0.0, 0.0);
        if rest.is_empty() {
            return;
        }
        if !(equity.is_finite() && equity > 0.0) {
            // garbage or a non-positive equity: keep every per-bar branch
            for r in rest.iter_mut() {
                *r = self.step(equity, 0.0, 0.0);
            }
            return;
        }
        let m = rest.len() as u64;
        if equity >= self.peak {
            // the first bar ended any drawdown: each later bar moves the peak to itself
            self.peak_bar = (self.n_bars + m - 1) as i64;
        }
        let mut sum = self.sum_equity;
        for r in rest.iter_mut() {
            sum += equity;
            *r = 0.0;
        }
        self.sum_equity = sum;
        self.n_bars += m;
    }

    /// Depth of the drawdown in progress (fraction; 0 at a peak). The peak is >= initial equity > 0.
    pub fn open_drawdown(&self) -> f64 {
        1.0 - self.trough / self.peak
    }

    /// Deepest drawdown so far (fraction).
    pub fn max_drawdown(&self) -> f64 {
        self.max_closed_dd.max(self.open_drawdown())
    }

    /// Longest peak-to-recovery span so far in bars, and whether it is the drawdown still open
    /// (which runs to the last bar; a tie goes to the open one, which may still grow).
    pub fn max_dd_duration(&self) -> (u64, bool) {
        if self.in_drawdown {
            let open = ((self.n_bars as i64 - 1) - self.peak_bar) as u64;
            (open.max(self.max_closed_dd_duration), open >= self.max_closed_dd_duration)
        } else {
            (self.max_closed_dd_duration, false)
        }
    }
}
