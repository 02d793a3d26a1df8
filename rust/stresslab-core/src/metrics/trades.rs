//! Closed round trips and costs: counts, PnL sums and extremes.

/// Neumaier-compensated sum: trade PnLs of both signs cancel, and plain sums lose digits there.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CompensatedSum {
    sum: f64,
    carry: f64,
}

impl CompensatedSum {
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.carry += if self.sum.abs() >= x.abs() { (self.sum - t) + x } else { (x - t) + self.sum };
        self.sum = t;
    }

    pub fn value(self) -> f64 {
        self.sum + self.carry
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct TradeStats {
    pub trades: u64,
    pub wins: u64,
    pub losses: u64,
    pub gross_profit: CompensatedSum,
    /// Sum of |pnl| of losing trades.
    pub gross_loss: CompensatedSum,
    pub pnl_sum: CompensatedSum,
    pub best: f64,
    pub worst: f64,
    pub bars_held: u64,
    pub fees: CompensatedSum,
    pub slippage: CompensatedSum,
}

impl Default for TradeStats {
    fn default() -> Self {
        TradeStats {
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
        }
    }
}

impl TradeStats {
    /// Record a trade with a finite `pnl` (the caller checks); a zero PnL is neither win nor loss.
    pub fn add_trade(&mut self, pnl: f64, bars_held: u64) {
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

    pub fn add_costs(&mut self, fees: f64, slippage: f64) {
        self.fees.add(fees);
        self.slippage.add(slippage);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum_keeps_cancelled_digits() {
        let mut s = CompensatedSum::default();
        for x in [1e16, 1.0, -1e16, 1.0] {
            s.add(x);
        }
        assert_eq!(s.value(), 2.0); // a plain sum gives 1.0 or 0.0 here
    }
}
