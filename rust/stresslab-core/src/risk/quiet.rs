//! Quiet bars: the stack's after-mark work over a run of bars where nothing trades, in one call.
//!
//! Most bars of a run with a risk stack are quiet for it too: no stop fires, no mode changes, no
//! rebalancing. [`RiskStack::quiet_bars`] takes the engine's book for a run of bars (positions
//! fixed, one equity per bar) and advances every component's state bar by bar for as long as
//! [`RiskStack::after_mark`] would do nothing else. Each component says what it would do from
//! its state *before* a bar ([`SafetyGovernor::decide`], [`MetaStrategyController::decide`],
//! [`PortfolioBalancer::may_breach_at`]); only when none would act is the bar committed
//! (`advance`). The first bar where one may act is left untouched for the engine to run through
//! `after_mark` itself, so the rare branches (stops, re-arms, mode changes, rebalancing) keep one
//! implementation and the state is always exactly what bar-by-bar calls give.
//!
//! Before going bar by bar, a span of bars is tried whole: one-sided bounds over the span (its
//! lowest equity against the highest drawdown peak or loss reference it can meet, its highest
//! equity against the lowest peak the controller's window keeps, the volatility trackers run
//! over the span) can prove that no bar of it acts; then each component takes the span in one
//! go. A bound that cannot tell sends the span bar by bar, so a loose bound costs time, never a
//! different result. `engine/tests.rs` checks all of it against bar-by-bar runs.
//!
//! [`SafetyGovernor::decide`]: super::SafetyGovernor::decide
//! [`MetaStrategyController::decide`]: super::MetaStrategyController::decide
//! [`PortfolioBalancer::may_breach_at`]: super::PortfolioBalancer::may_breach_at

use super::indicators::VolRatio;
use super::policy::SpanVolatility;
use super::{GovernorEvent, RiskStack};
use crate::market::MarketData;

/// Bars a span bound tries to clear at once (short enough that a stop or a mode change inside
/// one costs little bar-by-bar work, long enough to pay for the bounds).
const SPAN: usize = 16;

/// The engine's book at the closes of bars `t0..t0 + equity.len()`, nothing traded in between.
pub struct QuietBook<'a> {
    pub t0: usize,
    pub equity: &'a [f64],
    /// What the balancer reads (only when [`RiskStack::reads_book`]): per bar, over every symbol
    /// in order with x = units x last clean close, the sum of |x|, the sum of x and the largest |x|.
    pub gross: &'a [f64],
    pub net: &'a [f64],
    pub big: &'a [f64],
}

impl RiskStack {
    /// Whether [`Self::quiet_bars`] needs the book's gross, net and largest position rows.
    pub fn reads_book(&self) -> bool {
        self.balancer.is_some()
    }

    /// Run the after-mark work of the book's bars while it changes nothing but the components'
    /// running state (no stop, re-arm, mode change or rebalancing can come of it). Returns how
    /// many bars it took; the state is as after that many [`Self::after_mark`] calls. A bar not
    /// taken is one where a component may act: the caller runs it through `after_mark`.
    /// `failure_streak` is the engine's count of consecutive rejections (fixed: nothing executes).
    ///
    /// Spans of [`SPAN`] bars are first tried whole ([`Self::quiet_span`]: bounds over the span
    /// prove that no bar of it can act, then every component takes the span in one go); a span
    /// the bounds cannot clear goes bar by bar.
    pub fn quiet_bars(&mut self, md: &MarketData, book: &QuietBook, failure_streak: u32) -> usize {
        let n = book.equity.len();
        if self.balancer.is_some() && (book.gross.len() < n || book.net.len() < n || book.big.len() < n) {
            return 0; // a caller without the rows: every bar goes through after_mark
        }
        let mut k = 0;
        while k < n {
            let end = (k + SPAN).min(n);
            if self.quiet_span(md, book, failure_streak, k, end) {
                k = end;
                continue;
            }
            let taken = self.quiet_one_by_one(md, book, failure_streak, k, end);
            if taken < end - k {
                return k + taken;
            }
            k = end;
        }
        n
    }

    /// Bars a..b of the book one at a time, each component deciding before it commits; returns
    /// how many it took.
    fn quiet_one_by_one(
        &mut self,
        md: &MarketData,
        book: &QuietBook,
        failure_streak: u32,
        a: usize,
        b: usize,
    ) -> usize {
        for k in a..b {
            let t = book.t0 + k;
            let e = book.equity[k];
            self.update_volatility(md, t);
            let corrupt = self.corrupt_per_bar.get(t).copied().unwrap_or(0);
            let mut acts = false;
            if let Some(g) = self.governor.as_ref() {
                acts |= g.decide(t, e, failure_streak, corrupt, self.gov_vol.as_ref()) != GovernorEvent::Nothing;
            }
            if let Some(m) = self.msc.as_ref() {
                let vol = if self.msc_shares_vol { self.gov_vol.as_ref() } else { self.msc_vol.as_ref() };
                acts |= m.decide(t, e, self.mode, vol).is_some();
            }
            if let Some(bal) = self.balancer.as_ref() {
                acts |= bal.may_breach_at(book.gross[k], book.net[k], book.big[k], e);
            }
            if acts {
                self.undo_volatility();
                return k - a;
            }
            if let Some(g) = self.guard.as_mut() {
                g.after_mark(md.timestamps[t], e);
            }
            if let Some(bal) = self.balancer.as_mut() {
                bal.after_mark(md, t);
            }
            if let Some(g) = self.governor.as_mut() {
                g.advance(e, failure_streak, corrupt);
            }
            if let Some(m) = self.msc.as_mut() {
                m.advance(e);
            }
        }
        b - a
    }

    /// Bars a..b of the book in one go, if bounds over the span show that no component can act
    /// on any of them (then every state is as after the per-bar calls, and true); otherwise
    /// false with nothing changed. The bounds are exact one-sided tests: the lowest equity of the
    /// span against the highest reference it can meet (a product with a positive factor is
    /// monotone in the reference), so a span they clear is one where each per-bar test fails.
    fn quiet_span(&mut self, md: &MarketData, book: &QuietBook, failure_streak: u32, a: usize, b: usize) -> bool {
        let eq = &book.equity[a..b];
        let (t_a, t_b) = (book.t0 + a, book.t0 + b);
        let (mut lo, mut hi, mut nan) = (f64::INFINITY, f64::NEG_INFINITY, false);
        for &e in eq {
            lo = if e < lo { e } else { lo };
            hi = if e > hi { e } else { hi };
            nan |= e.is_nan();
        }
        // positive finite equity throughout (a NaN passes no comparison: tested apart)
        if !(lo > 0.0 && hi < f64::INFINITY) || nan {
            return false;
        }
        if self.balancer.as_ref().is_some_and(|bal| bal.tracks_correlation()) {
            return false;
        }
        let corrupt = self.corrupt_per_bar.get(t_a..t_b).unwrap_or(&[]);
        if let Some(g) = self.governor.as_ref() {
            if !g.quiet_span(t_b, lo, hi, failure_streak, corrupt) {
                return false;
            }
        }
        let msc_vol = match self.msc.as_ref() {
            Some(m) => match m.quiet_span(self.mode, lo, hi, t_b, b - a) {
                Some(v) => v,
                None => return false,
            },
            None => SpanVolatility { below: f64::INFINITY, hold: None },
        };
        if let Some(bal) = self.balancer.as_ref() {
            let rows = book.gross[a..b].iter().zip(&book.net[a..b]).zip(&book.big[a..b]).zip(eq);
            if rows.into_iter().any(|(((&g, &n), &big), &e)| bal.may_breach_at(g, n, big, e)) {
                return false;
            }
        }
        // market-only: the volatility trackers take the span (and give it back if it fires)
        let gov_vol = self.governor.as_ref().and_then(|g| g.volatility_limit()).unwrap_or(f64::INFINITY);
        // the controller's tests go to the governor's tracker when it shares it, else to its own
        let none = SpanVolatility { below: f64::INFINITY, hold: None };
        let (shared, own) = if self.msc_shares_vol { (msc_vol, None) } else { (none, Some(msc_vol)) };
        let mut held = [false; SPAN];
        if !quiet_volatility(&mut self.gov_vol, &mut self.msc_vol, md, (t_a, t_b), gov_vol, shared, own, &mut held) {
            return false;
        }
        if let Some(g) = self.guard.as_mut() {
            for (k, &e) in eq.iter().enumerate() {
                g.after_mark(md.timestamps[t_a + k], e);
            }
        }
        if let Some(g) = self.governor.as_mut() {
            g.advance_span(eq, failure_streak, corrupt);
        }
        if let Some(m) = self.msc.as_mut() {
            for &e in eq {
                m.advance(e);
            }
        }
        true
    }

    #[cold]
    fn undo_volatility(&mut self) {
        if let Some(v) = self.gov_vol.as_mut() {
            v.undo_bar();
        }
        if let Some(v) = self.msc_vol.as_mut() {
            v.undo_bar();
        }
    }
}

/// Feed the trackers bars t_a..t_b; false (and the trackers as before) when a warmed-up symbol's
/// variance ratio reaches a limit on any of those bars: the governor's tracker tests its limit
/// (`gov`, above) and, when shared, the controller's [`SpanVolatility`]; the controller's own
/// tracker (`msc`) tests the controller's.
#[allow(clippy::too_many_arguments)]
fn quiet_volatility(
    gov_vol: &mut Option<VolRatio>,
    msc_vol: &mut Option<VolRatio>,
    md: &MarketData,
    (t_a, t_b): (usize, usize),
    gov: f64,
    shared: SpanVolatility,
    msc: Option<SpanVolatility>,
    held: &mut [bool],
) -> bool {
    if let Some(v) = gov_vol.as_mut() {
        if !v.quiet_range(md, t_a, t_b, gov, shared.below, shared.hold, held) {
            return false;
        }
    } else if shared.hold.is_some() {
        return false;
    }
    if let Some(m) = msc {
        let ok = match msc_vol.as_mut() {
            Some(v) => v.quiet_range(md, t_a, t_b, f64::INFINITY, m.below, m.hold, held),
            None => m.hold.is_none(),
        };
        if !ok {
            if let Some(g) = gov_vol.as_mut() {
                g.undo_bar();
            }
            return false;
        }
    }
    true
}
