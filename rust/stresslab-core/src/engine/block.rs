//! Blocks of bars: a block of decisions taken in one call, and runs of quiet bars marked in bulk.
//!
//! Most bars of a backtest change nothing: no target moves, nothing is pending at the open, no
//! order rests on the book. Such a bar only marks the account at its close and feeds the metrics.
//! [`Engine::run_block`] finds those runs in a block of decisions and marks them in a tight loop
//! per symbol ([`Engine::mark_quiet`]), keeping the metrics' running state in registers
//! ([`crate::metrics::MetricsAccumulator::on_bars`]); every other bar goes through
//! [`Engine::process_bar`] and [`Engine::apply_targets`] as before. The result is bit-identical
//! to bar-by-bar processing: the same additions in the same order, only fewer branches and stores.

use std::sync::Arc;

use super::{Engine, CORRUPTED_FLAG};
use crate::risk::QuietBook;

/// Bars marked per inner pass: the equity and exposure scratch rows stay in L1.
const CHUNK: usize = 256;

impl Engine {
    /// Process bars t0.. (one per decision row of `rows`, `n_symbols` targets each, NaN = keep):
    /// for each bar t, execute at the open, mark at the close, then take row t's decision.
    /// Equivalent to calling [`Engine::process_bar`] then [`Engine::apply_targets`] per bar.
    pub fn run_block(&mut self, t0: usize, rows: &[f64]) {
        let n = self.md.n_symbols();
        if n == 0 {
            return;
        }
        let end = t0 + rows.len() / n;
        let mut t = t0;
        while t < end {
            if !self.quiet() {
                if !self.any_pending && self.orders.is_empty() {
                    // quiet but for the risk stack's per-bar work
                    t = self.run_risk_stretch(t0, t, end, rows);
                    continue;
                }
                self.process_bar(t);
                self.apply_targets(&rows[(t - t0) * n..(t - t0 + 1) * n]);
                t += 1;
                continue;
            }
            // bars t..u-1 take decisions that change nothing; bar u's decision (if any) trades
            let u = t + self.unchanged_rows(&rows[(t - t0) * n..], n, t);
            let last = if u < end { u + 1 } else { end };
            self.mark_quiet(t, last);
            if u < end {
                self.apply_targets(&rows[(u - t0) * n..(u - t0 + 1) * n]);
            }
            t = last;
        }
    }

    /// Bars t.. while nothing is pending, through a risk stack that acts after every mark: per bar
    /// the mark, the stack's after-mark checks and the decision (what `process_bar` then
    /// `apply_targets` do), a chunk at a time. Positions cannot change inside the stretch, so a
    /// chunk's marks are computed first, up to the first decision that sets a target; the stack
    /// takes the bars where it would do nothing in one call ([`RiskStack::quiet_bars`]) and the
    /// first bar where it may act goes through `after_mark` as usual. Metrics and the exchange's
    /// statistics are fed the chunk's bars in one go (nothing reads them in between: the stack
    /// keeps its own peaks, and nothing executes). Stops after the first bar that leaves work
    /// for the next open; returns the next bar.
    fn run_risk_stretch(&mut self, t0: usize, t: usize, end: usize, rows: &[f64]) -> usize {
        let md = Arc::clone(&self.md);
        let n = md.n_symbols();
        let mut scratch = self.take_scratch();
        let (eq, rest) = scratch.split_at_mut(CHUNK);
        let (gross, rest) = rest.split_at_mut(CHUNK);
        // (the zero-turnover row of `mark_chunks` stays as it is)
        let (_zero, rest) = rest.split_at_mut(CHUNK);
        let (book_gross, rest) = rest.split_at_mut(CHUNK);
        let (book_net, book_big) = rest.split_at_mut(CHUNK);
        let with_book = self.risk.as_ref().is_some_and(|r| r.reads_book());
        let mut u = t;
        while u < end {
            let e = (u + CHUNK).min(end);
            // the first decision that would set a target ends the chunk after its bar (the stack's
            // sizing is fixed while it does nothing)
            let j = match self.risk.as_ref() {
                Some(r) => u + r.unchanged_run(&rows[(u - t0) * n..(e - t0) * n], &self.targets, self.cfg.rebalance, u),
                None => e,
            };
            let limit = if j < e { j + 1 } else { e };
            let len = limit - u;
            self.book_rows(
                u,
                limit,
                &mut eq[..len],
                &mut gross[..len],
                with_book.then_some((&mut book_gross[..len], &mut book_net[..len], &mut book_big[..len])),
            );
            let taken = match self.risk.as_mut() {
                Some(r) => {
                    let book = QuietBook {
                        t0: u,
                        equity: &eq[..len],
                        gross: &book_gross[..len],
                        net: &book_net[..len],
                        big: &book_big[..len],
                    };
                    r.quiet_bars(&md, &book, self.failure_streak)
                }
                None => len,
            };
            // bars u..last are marked; the last one may still need the stack (taken < len)
            let last = u + (taken + 1).min(len);
            let k = last - u;
            for s in 0..n {
                let r = s * md.n_bars + u..s * md.n_bars + last;
                if let Some(c) = last_clean(&md.close[r.clone()], &md.flags[r]) {
                    self.last_price[s] = c;
                }
            }
            self.metrics.on_untraded_bars(eq[..k].iter().zip(&gross[..k]).map(|(&e, &g)| (e, g)));
            if self.cfg.keep_equity_curve {
                self.equity_curve.extend_from_slice(&eq[..k]);
            }
            self.last_equity = eq[k - 1];
            self.next_bar = last;
            // the exchange's statistics are read only when something executes, which cannot
            // happen inside the stretch: feed them the chunk's bars in one go
            self.observe_range(u, last);
            if let Some(r) = self.risk.as_mut() {
                r.note_unchanged(&rows[(u - t0) * n..(last - 1 - t0) * n], &self.targets, self.cfg.rebalance, u);
            }
            if taken < len {
                self.risk_after_mark(last - 1);
            }
            self.apply_targets(&rows[(last - 1 - t0) * n..(last - t0) * n]);
            u = last;
            if self.any_pending || !self.orders.is_empty() {
                break;
            }
        }
        self.scratch = scratch;
        self.any_traded = false;
        u
    }

    /// Equity and gross exposure at the closes of bars t0..t1 with the positions held now (what
    /// `mark_close` gives bar by bar), and with `book` the balancer's rows ([`QuietBook`]: every
    /// symbol, held or not, in the order and form of its own check; an unheld one adds 0, or NaN
    /// before its first clean close). Leaves the engine's marks as they are.
    fn book_rows(
        &self,
        t0: usize,
        t1: usize,
        eq: &mut [f64],
        gross: &mut [f64],
        book: Option<(&mut [f64], &mut [f64], &mut [f64])>,
    ) {
        let md = &*self.md;
        let cash = self.account.cash;
        // the first symbol that counts writes the rows, the others add to them (the same sums in
        // the same order as starting from cash and zero)
        let mut eq_started = false;
        match book {
            None => {
                for s in 0..md.n_symbols() {
                    let q = self.account.qty[s];
                    if q == 0.0 {
                        continue;
                    }
                    let (close, flags) = self.columns(s, t0, t1);
                    let mut lp = self.last_price[s];
                    for k in 0..eq.len().min(close.len()) {
                        lp = if clean(close[k], flags[k]) { close[k] } else { lp };
                        let x = q * lp;
                        (eq[k], gross[k]) =
                            if eq_started { (eq[k] + x, gross[k] + x.abs()) } else { (cash + x, 0.0 + x.abs()) };
                    }
                    eq_started = true;
                }
            }
            Some((bg, net, big)) => {
                let len = eq.len().min(bg.len()).min(net.len()).min(big.len());
                for s in 0..md.n_symbols() {
                    let q = self.account.qty[s];
                    let held = q != 0.0;
                    let (close, flags) = self.columns(s, t0, t1);
                    let mut lp = self.last_price[s];
                    let first = s == 0;
                    for k in 0..len.min(close.len()) {
                        lp = if clean(close[k], flags[k]) { close[k] } else { lp };
                        let x = q * lp;
                        if held {
                            (eq[k], gross[k]) =
                                if eq_started { (eq[k] + x, gross[k] + x.abs()) } else { (cash + x, 0.0 + x.abs()) };
                        }
                        // every symbol, held or not, as the balancer's own check sums them
                        (bg[k], net[k], big[k]) = if first {
                            (0.0 + x.abs(), 0.0 + x, 0.0f64.max(x.abs()))
                        } else {
                            (bg[k] + x.abs(), net[k] + x, big[k].max(x.abs()))
                        };
                    }
                    eq_started |= held;
                }
            }
        }
        if !eq_started {
            eq.fill(cash);
            gross.fill(0.0);
        }
    }

    /// Symbol s's closes and flags over bars t0..t1.
    #[inline]
    fn columns(&self, s: usize, t0: usize, t1: usize) -> (&[f64], &[u32]) {
        let md = &*self.md;
        let base = s * md.n_bars;
        (&md.close[base + t0..base + t1], &md.flags[base + t0..base + t1])
    }

    /// Nothing to execute at the next open and no per-bar work besides marking.
    #[inline]
    fn quiet(&self) -> bool {
        !self.any_pending && self.orders.is_empty() && self.risk.as_ref().is_none_or(|r| !r.needs_after_mark())
    }

    /// How many rows at the start of `rows` (`n` targets each, the first for bar t) would set no
    /// target.
    #[inline]
    fn unchanged_rows(&mut self, rows: &[f64], n: usize, t: usize) -> usize {
        let total = rows.len() / n;
        if self.risk.is_none() && !self.cfg.rebalance {
            let targets = &self.targets;
            return match n {
                1 => rows.iter().position(|&x| sets_target(x, targets[0])),
                _ => rows.chunks_exact(n).position(|row| row_sets_target(row, targets)),
            }
            .unwrap_or(total);
        }
        rows.chunks_exact(n).enumerate().position(|(k, row)| self.changes_targets(row, t + k)).unwrap_or(total)
    }

    /// Whether taking `row` on bar t would set a target (what [`Engine::apply_targets`] does when
    /// it is not a no-op). A row the risk stack finds unchanged is recorded by it, as per bar.
    #[inline]
    fn changes_targets(&mut self, row: &[f64], t: usize) -> bool {
        match self.risk.as_mut() {
            Some(risk) => !risk.unchanged(row, &self.targets, self.cfg.rebalance, t, true),
            None => self.cfg.rebalance || row_sets_target(row, &self.targets),
        }
    }

    /// Mark bars t0..t1 at their closes, where nothing trades: what `process_bar` does for a quiet
    /// bar, symbol by symbol over a chunk of bars instead of bar by bar.
    pub(super) fn mark_quiet(&mut self, t0: usize, t1: usize) {
        // nothing held: equity is the cash on every bar, only the marks move
        let flat = self.account.qty.iter().all(|q| *q == 0.0);
        if self.md.n_symbols() == 1 && !flat && !self.cfg.keep_equity_curve {
            self.mark_one_held(t0, t1);
        } else {
            self.mark_chunks(t0, t1, flat);
        }
        self.observe_range(t0, t1);
        self.any_traded = false;
        self.next_bar = t1;
    }

    /// One symbol held (the common backtest): mark and feed the metrics in one loop.
    fn mark_one_held(&mut self, t0: usize, t1: usize) {
        let md = &*self.md;
        let (q, cash) = (self.account.qty[0], self.account.cash);
        let (close, flags) = (&md.close[t0..t1], &md.flags[t0..t1]);
        let mut lp = self.last_price[0];
        let mut eq = self.last_equity;
        self.metrics.on_untraded_bars(close.iter().zip(flags).map(|(&c, &f)| {
            lp = if clean(c, f) { c } else { lp };
            let v = q * lp;
            eq = cash + v;
            (eq, v.abs())
        }));
        self.last_price[0] = lp;
        self.last_equity = eq;
    }

    /// Any number of symbols: equity and exposure rows for a chunk of bars, then the metrics.
    fn mark_chunks(&mut self, t0: usize, t1: usize, flat: bool) {
        let md = Arc::clone(&self.md);
        let n = md.n_symbols();
        let mut scratch = self.take_scratch();
        let (eq, rest) = scratch.split_at_mut(CHUNK);
        let (gross, zero) = rest.split_at_mut(CHUNK);
        let mut t = t0;
        while t < t1 {
            let e = (t + CHUNK).min(t1);
            let len = e - t;
            if flat {
                for s in 0..n {
                    let base = s * md.n_bars;
                    if let Some(c) = last_clean(&md.close[base + t..base + e], &md.flags[base + t..base + e]) {
                        self.last_price[s] = c;
                    }
                }
                let cash = self.account.cash;
                self.metrics.on_flat_bars(cash, len);
                if self.cfg.keep_equity_curve {
                    self.equity_curve.resize(self.equity_curve.len() + len, cash);
                }
                self.last_equity = cash;
                t = e;
                continue;
            }
            let (eq, gross) = (&mut eq[..len], &mut gross[..len]);
            eq.fill(self.account.cash);
            gross.fill(0.0);
            for s in 0..n {
                let base = s * md.n_bars;
                let close = &md.close[base + t..base + e];
                let flags = &md.flags[base + t..base + e];
                let q = self.account.qty[s];
                let mut lp = self.last_price[s];
                if q == 0.0 {
                    // nothing held: only the mark at the end of the chunk matters
                    lp = last_clean(close, flags).unwrap_or(lp);
                } else {
                    for k in 0..len {
                        let c = close[k];
                        lp = if clean(c, flags[k]) { c } else { lp };
                        let v = q * lp;
                        eq[k] += v;
                        gross[k] += v.abs();
                    }
                }
                self.last_price[s] = lp;
            }
            self.metrics.on_bars(eq, gross, &zero[..len]);
            if self.cfg.keep_equity_curve {
                self.equity_curve.extend_from_slice(eq);
            }
            if let Some(&last) = eq.last() {
                self.last_equity = last;
            }
            t = e;
        }
        self.scratch = scratch;
    }

    /// The scratch rows of the chunked loops (equity, exposure, a row of zero turnover and the
    /// balancer's book rows),
    /// taken out of the engine while a loop borrows it; put back when done.
    fn take_scratch(&mut self) -> Vec<f64> {
        let mut scratch = std::mem::take(&mut self.scratch);
        if scratch.len() < 6 * CHUNK {
            scratch.resize(6 * CHUNK, 0.0);
        }
        scratch
    }

    /// Feed bars t0..t1 to the exchange's usual-volatility/volume statistics (when it keeps them).
    #[inline(always)]
    fn observe_range(&mut self, t0: usize, t1: usize) {
        if self.exchange.needs_stats() {
            self.observe_range_always(t0, t1);
        }
    }

    #[inline(never)]
    fn observe_range_always(&mut self, t0: usize, t1: usize) {
        let md = &*self.md;
        for s in 0..md.n_symbols() {
            self.exchange.observe_range(md, s, t0, t1);
        }
    }
}

/// Whether decision `x` sets a new target over the current one `c`: NaN keeps the target (and
/// x != c also holds for a NaN x, hence the second test).
#[inline(always)]
fn sets_target(x: f64, c: f64) -> bool {
    x != c && !x.is_nan()
}

#[inline(always)]
fn row_sets_target(row: &[f64], targets: &[f64]) -> bool {
    row.iter().zip(targets).any(|(&x, &c)| sets_target(x, c))
}

/// The last close of a chunk the account may be marked at, if any.
#[inline]
fn last_clean(close: &[f64], flags: &[u32]) -> Option<f64> {
    close.iter().zip(flags).rev().find(|&(&c, &f)| clean(c, f)).map(|(&c, _)| c)
}

/// A close the account may be marked at: finite, positive, and not a print the data-corruption
/// transform made (see `process_bar`).
#[inline(always)]
pub(super) fn clean(c: f64, flags: u32) -> bool {
    // finite and positive in two comparisons (NaN fails both)
    c > 0.0 && c < f64::INFINITY && flags & CORRUPTED_FLAG == 0
}
