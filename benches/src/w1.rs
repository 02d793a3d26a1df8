//! The W1 workload's std-only reference backtest, ported line for line from the speed-of-light
//! program in ../shared/bench/w1/sol (its `Bt` state machine: SMA ring sums, all-in entries and
//! exits at the open with fee and slippage, equity at the close, running drawdown with the
//! divide-only-below-the-floor trick, return sums, trade and win counts). The benches measure it
//! in the same run as the engine, on the same closes, as the speed reference of issue 6.

pub const FAST: usize = 24;
pub const SLOW: usize = 96;
pub const FEE: f64 = 0.001;
pub const SLIP: f64 = 0.0005;
pub const INIT: f64 = 100_000.0;
pub const S0: f64 = 30_000.0;
const ANN: f64 = 8760.0;

/// What the reference reports per path.
#[derive(Clone, Copy, Debug, Default)]
pub struct Out {
    pub total_return: f64,
    pub max_drawdown: f64,
    pub sharpe: f64,
    pub n_trades: f64,
    pub win_rate: f64,
}

struct Bt {
    t: usize,
    ring: [f64; 128],
    fsum: f64,
    ssum: f64,
    want: bool,
    pos: bool,
    cash: f64,
    units: f64,
    entry_eq: f64,
    eq: f64,
    eq_prev: f64,
    peak: f64,
    mdd: f64,
    dd_floor: f64,
    sum_r: f64,
    sum_r2: f64,
    ntr: u32,
    wins: u32,
}

impl Bt {
    fn new() -> Self {
        Bt {
            t: 0,
            ring: [0.0; 128],
            fsum: 0.0,
            ssum: 0.0,
            want: false,
            pos: false,
            cash: INIT,
            units: 0.0,
            entry_eq: 0.0,
            eq: INIT,
            eq_prev: INIT,
            peak: INIT,
            mdd: 0.0,
            dd_floor: INIT,
            sum_r: 0.0,
            sum_r2: 0.0,
            ntr: 0,
            wins: 0,
        }
    }

    #[inline(always)]
    fn step(&mut self, o: f64, c: f64) {
        if self.want != self.pos {
            if self.want {
                self.units = self.cash / (o * (1.0 + SLIP) * (1.0 + FEE));
                self.entry_eq = self.cash;
                self.cash = 0.0;
                self.ntr += 1;
            } else {
                self.cash = self.units * (o * (1.0 - SLIP)) * (1.0 - FEE);
                self.units = 0.0;
                self.wins += (self.cash > self.entry_eq) as u32;
            }
            self.pos = self.want;
        }
        let eq = self.cash + self.units * c;
        if eq != self.eq_prev {
            let r = eq / self.eq_prev - 1.0;
            self.sum_r += r;
            self.sum_r2 += r * r;
            if eq > self.peak {
                self.peak = eq;
                self.dd_floor = eq * (1.0 + self.mdd);
            } else if eq < self.dd_floor {
                self.mdd = eq / self.peak - 1.0;
                self.dd_floor = self.peak * (1.0 + self.mdd);
            }
        }
        self.eq_prev = eq;
        self.eq = eq;
        let t = self.t;
        self.fsum += c;
        self.ssum += c;
        if t >= FAST {
            self.fsum -= self.ring[(t - FAST) & 127];
        }
        if t >= SLOW {
            self.ssum -= self.ring[(t - SLOW) & 127];
        }
        self.ring[t & 127] = c;
        self.want = t + 1 >= SLOW && self.fsum / FAST as f64 > self.ssum / SLOW as f64;
        self.t = t + 1;
    }

    fn finish(&self) -> Out {
        let n = self.t as f64;
        let wins = self.wins + (self.pos && self.eq > self.entry_eq) as u32;
        let mean = self.sum_r / n;
        let var = (self.sum_r2 - self.sum_r * self.sum_r / n) / (n - 1.0);
        Out {
            total_return: self.eq / INIT - 1.0,
            max_drawdown: self.mdd,
            sharpe: if var > 0.0 { mean / var.sqrt() * ANN.sqrt() } else { f64::NAN },
            n_trades: self.ntr as f64,
            win_rate: if self.ntr > 0 { wins as f64 / self.ntr as f64 } else { f64::NAN },
        }
    }
}

/// Backtest one path of closes (the open of bar t is the close of bar t-1, S0 for bar 0).
pub fn bt_closes(closes: &[f64]) -> Out {
    let mut bt = Bt::new();
    let mut prev = S0;
    for &c in closes {
        bt.step(prev, c);
        prev = c;
    }
    bt.finish()
}
