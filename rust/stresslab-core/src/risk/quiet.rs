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
//! [`SafetyGovernor::decide`]: super::SafetyGovernor::decide
//! [`MetaStrategyController::decide`]: super::MetaStrategyController::decide
//! [`PortfolioBalancer::may_breach_at`]: super::PortfolioBalancer::may_breach_at

use super::{GovernorEvent, RiskStack};
use crate::market::MarketData;

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
    pub fn quiet_bars(&mut self, md: &MarketData, book: &QuietBook, failure_streak: u32) -> usize {
        let n = book.equity.len();
        let with_book = self.balancer.is_some();
        if with_book && (book.gross.len() < n || book.net.len() < n || book.big.len() < n) {
            return 0; // a caller without the rows: every bar goes through after_mark
        }
        for k in 0..n {
            let t = book.t0 + k;
            let e = book.equity[k];
            if let Some(v) = self.gov_vol.as_mut() {
                v.update_bar(md, t);
            }
            if let Some(v) = self.msc_vol.as_mut() {
                v.update_bar(md, t);
            }
            let corrupt = self.corrupt_per_bar.get(t).copied().unwrap_or(0);
            let mut acts = false;
            if let Some(g) = self.governor.as_ref() {
                acts |= g.decide(t, e, failure_streak, corrupt, self.gov_vol.as_ref()) != GovernorEvent::Nothing;
            }
            if let Some(m) = self.msc.as_ref() {
                let vol = if self.msc_shares_vol { self.gov_vol.as_ref() } else { self.msc_vol.as_ref() };
                acts |= m.decide(t, e, self.mode, vol).is_some();
            }
            if let Some(b) = self.balancer.as_ref() {
                acts |= b.may_breach_at(book.gross[k], book.net[k], book.big[k], e);
            }
            if acts {
                self.undo_volatility();
                return k;
            }
            if let Some(g) = self.guard.as_mut() {
                g.after_mark(md.timestamps[t], e);
            }
            if let Some(b) = self.balancer.as_mut() {
                b.after_mark(md, t);
            }
            if let Some(g) = self.governor.as_mut() {
                g.advance(e, failure_streak, corrupt);
            }
            if let Some(m) = self.msc.as_mut() {
                m.advance(e);
            }
        }
        n
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
