//! Native strategies: run inside the bar loop with no Python.
//!
//! A strategy sees bar t after its close and writes one target per symbol (a weight of equity,
//! or units, per the engine's target kind); NaN means "no opinion, keep the current target".
//! The engine executes a target set at bar t no earlier than bar t+1's open.

use crate::error::{check_range, Result, StressError};
use crate::market::MarketData;

pub trait Strategy: Send + Sync {
    /// Called once per bar, in order, after bar t closed. `targets` holds the previous targets.
    fn on_bar(&mut self, md: &MarketData, t: usize, targets: &mut [f64]);
    /// Decisions for bars t0, t0+1, ... in one call: `rows` holds one row of targets per bar
    /// (`n_symbols` each); on entry its first row holds the previous targets. Row k must end as
    /// `on_bar(t0 + k)` leaves a copy of row k-1, which is what this default does; a strategy may
    /// override it with a faster loop that gives the same rows.
    fn on_bars(&mut self, md: &MarketData, t0: usize, rows: &mut [f64]) {
        let n = md.n_symbols();
        if n == 0 {
            return;
        }
        for k in 0..rows.len() / n {
            if k > 0 {
                rows.copy_within((k - 1) * n..k * n, k * n);
            }
            self.on_bar(md, t0 + k, &mut rows[k * n..(k + 1) * n]);
        }
    }
    /// Forget all state (a new path).
    fn reset(&mut self);
    /// A fresh copy (one per worker thread in sweeps).
    fn boxed_clone(&self) -> Box<dyn Strategy>;
}

/// Hold `weight` of equity in every symbol from the first bar on (equal weights by default).
#[derive(Clone, Debug)]
pub struct BuyAndHold {
    pub weight: Option<f64>,
}

impl Strategy for BuyAndHold {
    fn on_bar(&mut self, md: &MarketData, _t: usize, targets: &mut [f64]) {
        let w = self.weight.unwrap_or(1.0 / md.n_symbols() as f64);
        targets.iter_mut().for_each(|x| *x = w);
    }
    fn reset(&mut self) {}
    fn boxed_clone(&self) -> Box<dyn Strategy> {
        Box::new(self.clone())
    }
}

/// Rolling sum over a fixed window in O(1) per bar.
#[derive(Clone, Debug, Default)]
struct Rolling {
    buf: Vec<f64>,
    pos: usize,
    n: usize,
    sum: f64,
    sum2: f64,
    /// Track the sum of squares (for the standard deviation); SMAs do not need it.
    squares: bool,
}

impl Rolling {
    fn new(window: usize) -> Self {
        Rolling { buf: vec![0.0; window], pos: 0, n: 0, sum: 0.0, sum2: 0.0, squares: false }
    }
    fn with_squares(window: usize) -> Self {
        Rolling { squares: true, ..Rolling::new(window) }
    }
    #[inline(always)]
    fn push(&mut self, x: f64) {
        let w = self.buf.len();
        if self.n == w {
            let old = self.buf[self.pos];
            self.sum -= old;
            if self.squares {
                self.sum2 -= old * old;
            }
        } else {
            self.n += 1;
        }
        self.buf[self.pos] = x;
        self.sum += x;
        if self.squares {
            self.sum2 += x * x;
        }
        self.pos += 1;
        if self.pos == w {
            self.pos = 0;
        }
    }
    #[inline(always)]
    fn full(&self) -> bool {
        self.n == self.buf.len()
    }
    #[inline(always)]
    fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }
    fn std(&self) -> f64 {
        let n = self.n as f64;
        ((self.sum2 - self.sum * self.sum / n) / (n - 1.0)).max(0.0).sqrt()
    }
    /// Set a full window to `last` (the window's values, oldest first) with running sum `sum`.
    fn refill(&mut self, last: &[f64], sum: f64) {
        debug_assert!(!self.squares, "refill keeps no sum of squares");
        self.buf.copy_from_slice(last);
        self.pos = 0;
        self.n = self.buf.len();
        self.sum = sum;
    }
    fn reset(&mut self) {
        let squares = self.squares;
        *self = Rolling { squares, ..Rolling::new(self.buf.len()) };
    }
}

/// Long (or short with `allow_short`) while SMA(fast) > SMA(slow) of the close, flat before
/// the slow average is defined: the W1 workload's strategy.
#[derive(Clone, Debug)]
pub struct SmaCross {
    fast: Vec<Rolling>,
    slow: Vec<Rolling>,
    pub weight: Option<f64>,
    pub allow_short: bool,
}

impl SmaCross {
    pub fn new(fast: usize, slow: usize, n_symbols: usize, weight: Option<f64>, allow_short: bool) -> Result<Self> {
        if fast == 0 || slow == 0 {
            return Err(StressError::param("fast", "moving-average windows must be >= 1"));
        }
        if fast >= slow {
            return Err(StressError::param("fast", format!("must be shorter than slow, got fast={fast} slow={slow}")));
        }
        check_weight(weight)?;
        Ok(SmaCross {
            fast: (0..n_symbols).map(|_| Rolling::new(fast)).collect(),
            slow: (0..n_symbols).map(|_| Rolling::new(slow)).collect(),
            weight,
            allow_short,
        })
    }
}

fn check_weight(weight: Option<f64>) -> Result<()> {
    if let Some(w) = weight {
        check_range("weight", w, 0.0, 100.0)?;
    }
    Ok(())
}

impl Strategy for SmaCross {
    #[inline]
    fn on_bar(&mut self, md: &MarketData, t: usize, targets: &mut [f64]) {
        let w = self.weight.unwrap_or(1.0 / md.n_symbols() as f64);
        let short = if self.allow_short { -w } else { 0.0 };
        for (s, target) in targets.iter_mut().enumerate() {
            let c = md.close[s * md.n_bars + t];
            *target = sma_step(&mut self.fast[s], &mut self.slow[s], c, *target, w, short);
        }
    }
    /// The same rows as bar-by-bar `on_bar`, one symbol at a time so that the running sums
    /// stay in registers.
    fn on_bars(&mut self, md: &MarketData, t0: usize, rows: &mut [f64]) {
        let n = md.n_symbols();
        if n == 0 {
            return;
        }
        let len = rows.len() / n;
        let w = self.weight.unwrap_or(1.0 / n as f64);
        let short = if self.allow_short { -w } else { 0.0 };
        for s in 0..n {
            let base = s * md.n_bars + t0;
            let close = &md.close[base..base + len];
            let (mut f, mut sl) = (std::mem::take(&mut self.fast[s]), std::mem::take(&mut self.slow[s]));
            let mut prev = rows[s];
            let (fw, sw) = (f.buf.len(), sl.buf.len());
            // warm-up through the ring buffers until the slow window is full
            let mut k = 0;
            while k < len && !sl.full() {
                prev = sma_step(&mut f, &mut sl, close[k], prev, w, short);
                rows[k * n + s] = prev;
                k += 1;
            }
            // then, if every close from the slow window's oldest value on is finite, the windows
            // are plain slices of the close column and no ring buffer is needed
            let all = &md.close[s * md.n_bars..base + len];
            let ts = t0 + k;
            if k < len && ts >= sw && all_finite(&all[ts - sw..]) {
                let (mut fs, mut ss) = (f.sum, sl.sum);
                let (fwf, swf) = (fw as f64, sw as f64);
                let end = t0 + len;
                // the value entering each window and the values leaving the fast and slow ones
                let bars = all[ts..end].iter().zip(&all[ts - fw..end - fw]).zip(&all[ts - sw..end - sw]);
                for (row, ((&c, &fast_out), &slow_out)) in rows[k * n..].chunks_mut(n).zip(bars) {
                    // the same operations in the same order as Rolling::push, so the sums (and
                    // the rows) are bit-identical to the ring-buffer path
                    fs -= fast_out;
                    fs += c;
                    ss -= slow_out;
                    ss += c;
                    prev = if fs / fwf > ss / swf { w } else { short };
                    row[s] = prev;
                }
                f.refill(&all[t0 + len - fw..], fs);
                sl.refill(&all[t0 + len - sw..], ss);
            } else {
                for (j, &c) in close.iter().enumerate().skip(k) {
                    prev = sma_step(&mut f, &mut sl, c, prev, w, short);
                    rows[j * n + s] = prev;
                }
            }
            (self.fast[s], self.slow[s]) = (f, sl);
        }
    }
    fn reset(&mut self) {
        self.fast.iter_mut().chain(self.slow.iter_mut()).for_each(Rolling::reset);
    }
    fn boxed_clone(&self) -> Box<dyn Strategy> {
        Box::new(self.clone())
    }
}

/// One bar of SmaCross through the ring buffers: the new target after close `c` (`prev` kept
/// on a corrupt close, which also stays out of the averages).
#[inline(always)]
fn sma_step(f: &mut Rolling, sl: &mut Rolling, c: f64, prev: f64, w: f64, short: f64) -> f64 {
    if !c.is_finite() {
        return prev;
    }
    f.push(c);
    sl.push(c);
    if !sl.full() {
        0.0
    } else if f.mean() > sl.mean() {
        w
    } else {
        short
    }
}

/// Whether every value is finite: one pass without early exit, which the compiler vectorises.
fn all_finite(xs: &[f64]) -> bool {
    const EXP: u64 = 0x7ff0_0000_0000_0000;
    !xs.iter().fold(false, |bad, x| bad | (x.to_bits() & EXP == EXP))
}

/// Long when the return over `lookback` bars exceeds `threshold`, short (if allowed) below
/// -threshold, flat otherwise.
#[derive(Clone, Debug)]
pub struct Momentum {
    pub lookback: usize,
    pub threshold: f64,
    pub weight: Option<f64>,
    pub allow_short: bool,
}

impl Momentum {
    pub fn new(lookback: usize, threshold: f64, weight: Option<f64>, allow_short: bool) -> Result<Self> {
        if lookback == 0 {
            return Err(StressError::param("lookback", "must be >= 1"));
        }
        check_range("threshold", threshold, 0.0, 10.0)?;
        check_weight(weight)?;
        Ok(Momentum { lookback, threshold, weight, allow_short })
    }
}

impl Strategy for Momentum {
    fn on_bar(&mut self, md: &MarketData, t: usize, targets: &mut [f64]) {
        let w = self.weight.unwrap_or(1.0 / md.n_symbols() as f64);
        for (s, target) in targets.iter_mut().enumerate() {
            if t < self.lookback {
                *target = 0.0;
                continue;
            }
            let c = md.close[s * md.n_bars + t];
            let c0 = md.close[s * md.n_bars + t - self.lookback];
            let r = c / c0 - 1.0;
            *target = if !r.is_finite() {
                f64::NAN // corrupt input: keep the previous target
            } else if r > self.threshold {
                w
            } else if r < -self.threshold && self.allow_short {
                -w
            } else {
                0.0
            };
        }
    }
    fn reset(&mut self) {}
    fn boxed_clone(&self) -> Box<dyn Strategy> {
        Box::new(self.clone())
    }
}

/// Bollinger-style mean reversion: z = (close - SMA) / sd over `lookback`; long below
/// -entry_z, short above +entry_z (if allowed), flat once |z| < exit_z, hold in between.
#[derive(Clone, Debug)]
pub struct MeanReversion {
    windows: Vec<Rolling>,
    pub entry_z: f64,
    pub exit_z: f64,
    pub weight: Option<f64>,
    pub allow_short: bool,
}

impl MeanReversion {
    pub fn new(
        lookback: usize,
        entry_z: f64,
        exit_z: f64,
        n_symbols: usize,
        weight: Option<f64>,
        allow_short: bool,
    ) -> Result<Self> {
        if lookback < 2 {
            return Err(StressError::param("lookback", "must be >= 2"));
        }
        check_range("entry_z", entry_z, 0.0, 100.0)?;
        check_range("exit_z", exit_z, 0.0, entry_z)?;
        check_weight(weight)?;
        Ok(MeanReversion {
            windows: (0..n_symbols).map(|_| Rolling::with_squares(lookback)).collect(),
            entry_z,
            exit_z,
            weight,
            allow_short,
        })
    }
}

impl Strategy for MeanReversion {
    fn on_bar(&mut self, md: &MarketData, t: usize, targets: &mut [f64]) {
        let w = self.weight.unwrap_or(1.0 / md.n_symbols() as f64);
        for (s, target) in targets.iter_mut().enumerate() {
            let c = md.close[s * md.n_bars + t];
            if !c.is_finite() {
                continue;
            }
            let win = &mut self.windows[s];
            win.push(c);
            if !win.full() {
                *target = 0.0;
                continue;
            }
            let sd = win.std();
            if !(sd > 0.0) {
                continue;
            }
            let z = (c - win.mean()) / sd;
            let current = if target.is_nan() { 0.0 } else { *target };
            *target = if z < -self.entry_z {
                w
            } else if z > self.entry_z && self.allow_short {
                -w
            } else if z.abs() < self.exit_z {
                0.0
            } else {
                current
            };
        }
    }
    fn reset(&mut self) {
        self.windows.iter_mut().for_each(Rolling::reset);
    }
    fn boxed_clone(&self) -> Box<dyn Strategy> {
        Box::new(self.clone())
    }
}

/// Precomputed targets, shape (n_bars, n_symbols) row-major; NaN = keep the previous target.
#[derive(Clone, Debug)]
pub struct TargetSignals {
    pub targets: Vec<f64>,
    pub n_symbols: usize,
}

impl TargetSignals {
    pub fn new(targets: Vec<f64>, n_bars: usize, n_symbols: usize) -> Result<Self> {
        if targets.len() != n_bars * n_symbols {
            return Err(StressError::param(
                "targets",
                format!("must have shape (n_bars, n_symbols) = ({n_bars}, {n_symbols}), got {} values", targets.len()),
            ));
        }
        if let Some(i) = targets.iter().position(|x| x.is_infinite()) {
            return Err(StressError::param("targets", format!("value at flat index {i} is infinite")));
        }
        Ok(TargetSignals { targets, n_symbols })
    }
}

impl Strategy for TargetSignals {
    #[inline]
    fn on_bar(&mut self, _md: &MarketData, t: usize, targets: &mut [f64]) {
        let row = &self.targets[t * self.n_symbols..(t + 1) * self.n_symbols];
        for (dst, src) in targets.iter_mut().zip(row) {
            if !src.is_nan() {
                *dst = *src;
            }
        }
    }
    fn reset(&mut self) {}
    fn boxed_clone(&self) -> Box<dyn Strategy> {
        Box::new(self.clone())
    }
}
