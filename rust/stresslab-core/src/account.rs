//! Accounting: cash, signed positions per symbol, average entry, realized PnL, fees, slippage,
//! mark-to-market equity, and round-trip trades.
//!
//! A trade (round trip) opens when a symbol's position leaves zero and closes when it returns to
//! zero; a fill that flips the sign closes one trade and opens the next at the same price (fees
//! split pro rata). Trade PnL = realized price PnL of the round trip minus every fee paid in it,
//! which for a single symbol equals cash after the exit minus cash before the entry. A position
//! still open at the end is marked at the last close with no exit fee (`finish`).

use crate::orders::Fill;

/// Quantities below this (in units) are treated as flat: guards against float dust after
/// closing a position in several partial fills.
const QTY_EPS: f64 = 1e-12;

#[derive(Clone, Debug, PartialEq)]
pub struct Trade {
    pub symbol: usize,
    pub entry_bar: usize,
    pub exit_bar: usize,
    /// +1 long, -1 short.
    pub side: f64,
    /// Largest absolute position held during the trade.
    pub max_qty: f64,
    pub entry_price: f64,
    pub exit_price: f64,
    pub pnl: f64,
    pub fees: f64,
    /// False for a position still open at the end, marked at the last close.
    pub closed: bool,
}

#[derive(Clone, Debug)]
struct OpenTrade {
    entry_bar: usize,
    side: f64,
    max_qty: f64,
    entry_price: f64,
    pnl: f64,
    fees: f64,
}

#[derive(Clone, Debug)]
pub struct Account {
    pub initial_capital: f64,
    pub cash: f64,
    pub qty: Vec<f64>,
    pub avg_entry: Vec<f64>,
    pub realized: Vec<f64>,
    pub fees_paid: f64,
    pub slippage_paid: f64,
    /// Traded notional since the last `take_turnover` (for per-bar turnover).
    turnover: f64,
    open_trades: Vec<Option<OpenTrade>>,
    pub trades: Vec<Trade>,
    /// Keep closed trades in `trades` (off in sweeps: only the metrics see them).
    pub keep_trades: bool,
    /// Trades closed since the last `drain_closed` call (for the metrics accumulator).
    closed_since: Vec<(f64, u64)>,
}

impl Account {
    pub fn new(initial_capital: f64, n_symbols: usize) -> Self {
        Account {
            initial_capital,
            cash: initial_capital,
            qty: vec![0.0; n_symbols],
            avg_entry: vec![0.0; n_symbols],
            realized: vec![0.0; n_symbols],
            fees_paid: 0.0,
            slippage_paid: 0.0,
            turnover: 0.0,
            open_trades: vec![None; n_symbols],
            trades: Vec::new(),
            keep_trades: true,
            closed_since: Vec::new(),
        }
    }

    pub fn reset(&mut self) {
        let n = self.qty.len();
        let keep = self.keep_trades;
        *self = Account::new(self.initial_capital, n);
        self.keep_trades = keep;
    }

    /// Apply one fill: cash, position, average entry, realized PnL, fees and trades.
    pub fn apply_fill(&mut self, f: &Fill) {
        let s = f.symbol;
        let q0 = self.qty[s];
        let dq = f.qty;
        self.cash -= dq * f.price + f.fee;
        self.fees_paid += f.fee;
        self.slippage_paid += f.slippage_cost;
        self.turnover += (dq * f.price).abs();

        let q1 = q0 + dq;
        let same_dir = q0 == 0.0 || q0.signum() == dq.signum();
        if same_dir {
            // adding to (or opening) a position
            let new_abs = q1.abs();
            self.avg_entry[s] =
                if q0 == 0.0 { f.price } else { (self.avg_entry[s] * q0.abs() + f.price * dq.abs()) / new_abs };
            match &mut self.open_trades[s] {
                Some(t) => {
                    t.fees += f.fee;
                    t.max_qty = t.max_qty.max(new_abs);
                }
                None => {
                    self.open_trades[s] = Some(OpenTrade {
                        entry_bar: f.bar,
                        side: dq.signum(),
                        max_qty: new_abs,
                        entry_price: f.price,
                        pnl: 0.0,
                        fees: f.fee,
                    })
                }
            }
            self.qty[s] = q1;
            return;
        }
        // reducing, closing or flipping
        let closing = dq.abs().min(q0.abs());
        let pnl = (f.price - self.avg_entry[s]) * closing * q0.signum();
        self.realized[s] += pnl;
        let close_share = closing / dq.abs();
        let flat_after = q1.abs() <= QTY_EPS * q0.abs().max(1.0);
        if let Some(t) = &mut self.open_trades[s] {
            t.pnl += pnl;
            t.fees += f.fee * close_share;
        }
        if flat_after || q1.signum() != q0.signum() {
            if let Some(t) = self.open_trades[s].take() {
                self.record_trade(s, t, f.bar, f.price, true);
            }
        }
        if flat_after {
            self.qty[s] = 0.0;
            self.avg_entry[s] = 0.0;
        } else if q1.signum() != q0.signum() {
            // flipped: the remainder opens a new trade at the fill price
            self.qty[s] = q1;
            self.avg_entry[s] = f.price;
            self.open_trades[s] = Some(OpenTrade {
                entry_bar: f.bar,
                side: q1.signum(),
                max_qty: q1.abs(),
                entry_price: f.price,
                pnl: 0.0,
                fees: f.fee * (1.0 - close_share),
            });
        } else {
            self.qty[s] = q1;
        }
    }

    fn record_trade(&mut self, symbol: usize, t: OpenTrade, exit_bar: usize, exit_price: f64, closed: bool) {
        let net = t.pnl - t.fees;
        self.closed_since.push((net, (exit_bar.saturating_sub(t.entry_bar)) as u64));
        if self.keep_trades {
            self.trades.push(Trade {
                symbol,
                entry_bar: t.entry_bar,
                exit_bar,
                side: t.side,
                max_qty: t.max_qty,
                entry_price: t.entry_price,
                exit_price,
                pnl: net,
                fees: t.fees,
                closed,
            });
        }
    }

    /// Whether trades closed since the last `drain_closed`.
    #[inline(always)]
    pub fn has_closed(&self) -> bool {
        !self.closed_since.is_empty()
    }

    /// Trades closed since the last call, as (net pnl, bars held).
    pub fn drain_closed(&mut self) -> std::vec::Drain<'_, (f64, u64)> {
        self.closed_since.drain(..)
    }

    /// Traded notional since the last call.
    #[inline]
    pub fn take_turnover(&mut self) -> f64 {
        std::mem::take(&mut self.turnover)
    }

    /// Equity marked at the given prices (one per symbol), and the gross exposure.
    #[inline]
    pub fn mark(&self, prices: impl Iterator<Item = f64>) -> (f64, f64) {
        let mut eq = self.cash;
        let mut gross = 0.0;
        for (q, p) in self.qty.iter().zip(prices) {
            if *q != 0.0 {
                let v = q * p;
                eq += v;
                gross += v.abs();
            }
        }
        (eq, gross)
    }

    /// Close the books at the end: open positions become trades marked at `last_prices`, with
    /// no exit fee (they were not sold).
    pub fn finish(&mut self, last_bar: usize, last_prices: &[f64]) {
        for (s, last) in last_prices.iter().enumerate().take(self.qty.len()) {
            if let Some(mut t) = self.open_trades[s].take() {
                let q = self.qty[s];
                t.pnl += (last - self.avg_entry[s]) * q;
                self.record_trade(s, t, last_bar, *last, false);
            }
        }
    }

    /// Unrealized PnL of symbol s at price p.
    pub fn unrealized(&self, s: usize, p: f64) -> f64 {
        (p - self.avg_entry[s]) * self.qty[s]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::Liquidity;

    fn fill(symbol: usize, bar: usize, qty: f64, price: f64, fee: f64) -> Fill {
        Fill {
            order_id: 0,
            symbol,
            bar,
            qty,
            price,
            reference_price: price,
            fee,
            slippage_cost: 0.0,
            latency_ms: 0.0,
            liquidity: Liquidity::Taker,
        }
    }

    #[test]
    fn round_trip_pnl_is_cash_difference() {
        let mut a = Account::new(1000.0, 1);
        a.apply_fill(&fill(0, 1, 2.0, 100.0, 0.2));
        a.apply_fill(&fill(0, 2, 1.0, 110.0, 0.11)); // add: avg 103.333
        assert!((a.avg_entry[0] - 310.0 / 3.0).abs() < 1e-12);
        a.apply_fill(&fill(0, 5, -3.0, 120.0, 0.36));
        assert_eq!(a.qty[0], 0.0);
        assert_eq!(a.trades.len(), 1);
        let t = &a.trades[0];
        assert!((t.pnl - (a.cash - 1000.0)).abs() < 1e-9);
        assert!((t.pnl - (3.0 * 120.0 - 310.0 - 0.67)).abs() < 1e-9);
        assert_eq!((t.entry_bar, t.exit_bar, t.side), (1, 5, 1.0));
    }

    #[test]
    fn flip_closes_and_reopens() {
        let mut a = Account::new(1000.0, 1);
        a.apply_fill(&fill(0, 0, 1.0, 100.0, 0.0));
        a.apply_fill(&fill(0, 1, -3.0, 90.0, 3.0)); // close 1 (loss 10), open short 2
        assert_eq!(a.trades.len(), 1);
        assert!((a.trades[0].pnl - (-10.0 - 1.0)).abs() < 1e-12); // 1/3 of the fee
        assert_eq!(a.qty[0], -2.0);
        assert_eq!(a.avg_entry[0], 90.0);
        a.apply_fill(&fill(0, 3, 2.0, 80.0, 0.0)); // short profits 20
        assert!((a.trades[1].pnl - (20.0 - 2.0)).abs() < 1e-12);
        assert!((a.cash - (1000.0 - 10.0 + 20.0 - 3.0)).abs() < 1e-9);
    }

    #[test]
    fn open_position_marked_at_end_without_fee() {
        let mut a = Account::new(1000.0, 2);
        a.apply_fill(&fill(1, 0, -1.0, 50.0, 0.5));
        a.finish(9, &[0.0, 40.0]);
        let t = &a.trades[0];
        assert!(!t.closed);
        assert!((t.pnl - (10.0 - 0.5)).abs() < 1e-12);
        let (eq, gross) = a.mark([0.0, 40.0].into_iter());
        assert!((eq - (1000.0 + 50.0 - 0.5 - 40.0)).abs() < 1e-12);
        assert_eq!(gross, 40.0);
    }
}
