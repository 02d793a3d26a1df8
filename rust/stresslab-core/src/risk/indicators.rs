//! Running indicators the risk components read after each bar: the peak equity over a window,
//! the loss over the last k bars, a short/long volatility ratio, a windowed count of corrupt bars
//! and rolling return correlations.
//!
//! Each update is O(1) per symbol (correlations O(n^2)) and allocation-free after construction:
//! they run on every bar of every path. Thresholds are compared in forms that avoid divisions and
//! square roots (`eq < peak * (1 - limit)`, `short_var > mult^2 * long_var`).

use crate::market::Bar;

/// Bit of the `flags` column that the data-corruption transform sets (`stress_flags` = 16).
pub const CORRUPT_FLAG: u32 = 16;

/// A bar that must not be traded on: flagged as corrupt by the stress transform, or with prices
/// that are not usable (NaN, non-positive, high below low) or a volume that is not a number >= 0.
#[inline]
pub fn is_corrupt(bar: &Bar) -> bool {
    bar.flags & CORRUPT_FLAG != 0 || !bar.is_tradeable() || !(bar.volume >= 0.0) || !bar.volume.is_finite()
}

/// EWMA weight of a half-life in bars.
pub fn ewma_alpha(halflife_bars: f64) -> f64 {
    1.0 - 0.5f64.powf(1.0 / halflife_bars)
}

/// Peak equity over the last `window` bars (monotonic deque, O(1) amortized per bar), or over
/// the whole run when `window` is None.
#[derive(Clone, Debug)]
pub struct RollingPeak {
    window: Option<usize>,
    deque: std::collections::VecDeque<(usize, f64)>,
}

impl RollingPeak {
    pub fn new(window: Option<usize>, initial_equity: f64) -> Self {
        let mut deque = std::collections::VecDeque::with_capacity(window.unwrap_or(1).min(1 << 16) + 1);
        deque.push_back((0, initial_equity));
        RollingPeak { window, deque }
    }

    /// Add bar t's equity; returns the peak over the window.
    #[inline]
    pub fn push(&mut self, t: usize, equity: f64) -> f64 {
        match self.window {
            None => {
                if let Some(front) = self.deque.front_mut() {
                    if equity > front.1 {
                        *front = (t, equity);
                    }
                }
            }
            Some(w) => {
                while self.deque.back().is_some_and(|b| b.1 <= equity) {
                    self.deque.pop_back();
                }
                self.deque.push_back((t, equity));
                while self.deque.front().is_some_and(|f| f.0 + w <= t) {
                    self.deque.pop_front();
                }
            }
        }
        self.deque.front().map_or(equity, |f| f.1)
    }
}

/// Equity k bars ago (a ring of the last k + 1 closes), for the loss over the last k bars.
#[derive(Clone, Debug)]
pub struct LossWindow {
    buf: Vec<f64>,
    pos: usize,
}

impl LossWindow {
    /// Filled with `equity`: before k bars have passed the loss is measured from the start.
    pub fn new(k: usize, equity: f64) -> Self {
        LossWindow { buf: vec![equity; k.max(1)], pos: 0 }
    }

    /// Record this bar's equity; returns whether it is more than `limit` (fraction) below the
    /// equity k bars ago.
    #[inline]
    pub fn push_beyond(&mut self, equity: f64, limit: f64) -> bool {
        let old = self.buf[self.pos];
        self.buf[self.pos] = equity;
        self.pos += 1;
        if self.pos == self.buf.len() {
            self.pos = 0;
        }
        equity < old * (1.0 - limit)
    }

    pub fn reset(&mut self, equity: f64) {
        self.buf.iter_mut().for_each(|x| *x = equity);
    }
}

/// Per-symbol short and long EWMA of squared simple close-to-close returns; the ratio
/// short/long says how far volatility is above its usual level.
#[derive(Clone, Debug)]
pub struct VolRatio {
    short_alpha: f64,
    long_alpha: f64,
    short: Vec<f64>,
    long: Vec<f64>,
    last: Vec<f64>,
    seen: Vec<u32>,
    warmup: u32,
}

impl VolRatio {
    pub fn new(n_symbols: usize, short_halflife: f64, long_halflife: f64) -> Self {
        VolRatio {
            short_alpha: ewma_alpha(short_halflife),
            long_alpha: ewma_alpha(long_halflife),
            short: vec![0.0; n_symbols],
            long: vec![0.0; n_symbols],
            last: vec![f64::NAN; n_symbols],
            seen: vec![0; n_symbols],
            // the long average needs about one half-life of data before the ratio means anything
            warmup: long_halflife.ceil().min(u32::MAX as f64) as u32,
        }
    }

    /// Feed symbol s's close; invalid closes are skipped (the next valid one is compared with
    /// the last valid one).
    #[inline]
    pub fn update(&mut self, s: usize, close: f64) {
        if !(close.is_finite() && close > 0.0) {
            return;
        }
        let last = self.last[s];
        self.last[s] = close;
        if !last.is_finite() {
            return;
        }
        let r = close / last - 1.0;
        let r2 = r * r;
        if self.seen[s] == 0 {
            self.short[s] = r2;
            self.long[s] = r2;
        } else {
            self.short[s] += self.short_alpha * (r2 - self.short[s]);
            self.long[s] += self.long_alpha * (r2 - self.long[s]);
        }
        self.seen[s] = self.seen[s].saturating_add(1);
    }

    /// Largest squared ratio short/long over the warmed-up symbols (0 before warm-up).
    #[inline]
    pub fn max_ratio_sq(&self) -> f64 {
        let mut m = 0.0f64;
        for s in 0..self.short.len() {
            if self.seen[s] >= self.warmup && self.long[s] > 0.0 {
                m = m.max(self.short[s] / self.long[s]);
            }
        }
        m
    }

    /// Whether any warmed-up symbol's short variance exceeds `mult_sq` times its long variance.
    #[inline]
    pub fn exceeds(&self, mult_sq: f64) -> bool {
        (0..self.short.len()).any(|s| self.seen[s] >= self.warmup && self.short[s] > mult_sq * self.long[s])
    }
}

/// Sum of per-bar counts over the last `window` bars.
#[derive(Clone, Debug)]
pub struct WindowCount {
    buf: Vec<u32>,
    pos: usize,
    sum: u32,
}

impl WindowCount {
    pub fn new(window: usize) -> Self {
        WindowCount { buf: vec![0; window.max(1)], pos: 0, sum: 0 }
    }

    #[inline]
    pub fn push(&mut self, count: u32) -> u32 {
        self.sum = self.sum - self.buf[self.pos] + count;
        self.buf[self.pos] = count;
        self.pos += 1;
        if self.pos == self.buf.len() {
            self.pos = 0;
        }
        self.sum
    }

    pub fn reset(&mut self) {
        self.buf.iter_mut().for_each(|x| *x = 0);
        self.sum = 0;
    }
}

/// Correlations of the symbols' simple returns over the last `window` bars (running sums; a
/// missing return counts as 0).
#[derive(Clone, Debug)]
pub struct RollingCorr {
    n: usize,
    ring: Vec<f64>,
    pos: usize,
    count: usize,
    window: usize,
    sum: Vec<f64>,
    cross: Vec<f64>,
    last: Vec<f64>,
    row: Vec<f64>,
}

impl RollingCorr {
    pub fn new(n_symbols: usize, window: usize) -> Self {
        let n = n_symbols;
        let window = window.max(2);
        RollingCorr {
            n,
            ring: vec![0.0; window * n],
            pos: 0,
            count: 0,
            window,
            sum: vec![0.0; n],
            cross: vec![0.0; n * n],
            last: vec![f64::NAN; n],
            row: vec![0.0; n],
        }
    }

    /// Add the bar whose closes are given (one per symbol).
    pub fn update(&mut self, closes: impl Iterator<Item = f64>) {
        let n = self.n;
        for (s, c) in closes.enumerate().take(n) {
            let ok = c.is_finite() && c > 0.0;
            self.row[s] = if ok && self.last[s].is_finite() { c / self.last[s] - 1.0 } else { 0.0 };
            if ok {
                self.last[s] = c;
            }
        }
        let base = self.pos * n;
        if self.count == self.window {
            for i in 0..n {
                let oi = self.ring[base + i];
                self.sum[i] -= oi;
                for j in 0..n {
                    self.cross[i * n + j] -= oi * self.ring[base + j];
                }
            }
        } else {
            self.count += 1;
        }
        for i in 0..n {
            let xi = self.row[i];
            self.ring[base + i] = xi;
            self.sum[i] += xi;
            for j in 0..n {
                self.cross[i * n + j] += xi * self.row[j];
            }
        }
        self.pos += 1;
        if self.pos == self.window {
            self.pos = 0;
        }
    }

    /// Correlation of symbols i and j; 1 (the conservative value) with too little data or no
    /// variance.
    pub fn corr(&self, i: usize, j: usize) -> f64 {
        if i == j {
            return 1.0;
        }
        let k = self.count as f64;
        if self.count < 3 {
            return 1.0;
        }
        let n = self.n;
        let cov = self.cross[i * n + j] / k - self.sum[i] * self.sum[j] / (k * k);
        let vi = self.cross[i * n + i] / k - self.sum[i] * self.sum[i] / (k * k);
        let vj = self.cross[j * n + j] / k - self.sum[j] * self.sum[j] / (k * k);
        if vi > 0.0 && vj > 0.0 {
            (cov / (vi * vj).sqrt()).clamp(-1.0, 1.0)
        } else {
            1.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_window_compares_with_k_bars_ago() {
        let mut w = LossWindow::new(3, 100.0);
        assert!(!w.push_beyond(95.0, 0.1)); // vs 100
        assert!(!w.push_beyond(92.0, 0.1)); // vs 100
        assert!(w.push_beyond(89.0, 0.1)); // vs 100: 11% down
        assert!(!w.push_beyond(86.0, 0.1)); // vs 95: 9.5% down
    }

    #[test]
    fn rolling_peak_forgets_old_highs() {
        let mut p = RollingPeak::new(Some(3), 100.0);
        assert_eq!(p.push(0, 90.0), 100.0);
        assert_eq!(p.push(1, 95.0), 100.0);
        assert_eq!(p.push(2, 80.0), 100.0);
        assert_eq!(p.push(3, 85.0), 95.0); // bars 1..3
        assert_eq!(p.push(4, 70.0), 85.0); // bars 2..4
        let mut all = RollingPeak::new(None, 100.0);
        all.push(0, 120.0);
        assert_eq!(all.push(500, 50.0), 120.0);
    }

    #[test]
    fn rolling_corr_matches_direct_formula() {
        let a = [1.0, 1.02, 0.99, 1.05, 1.01, 1.08, 1.03];
        let b = [2.0, 2.01, 1.97, 2.1, 2.0, 2.2, 2.05];
        let mut rc = RollingCorr::new(2, 4);
        for t in 0..a.len() {
            rc.update([a[t], b[t]].into_iter());
        }
        // last 4 returns
        let ra: Vec<f64> = (3..7).map(|t| a[t] / a[t - 1] - 1.0).collect();
        let rb: Vec<f64> = (3..7).map(|t| b[t] / b[t - 1] - 1.0).collect();
        let m = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
        let (ma, mb) = (m(&ra), m(&rb));
        let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = ra.iter().map(|x| (x - ma) * (x - ma)).sum();
        let vb: f64 = rb.iter().map(|y| (y - mb) * (y - mb)).sum();
        let want = cov / (va * vb).sqrt();
        assert!((rc.corr(0, 1) - want).abs() < 1e-9, "{} vs {want}", rc.corr(0, 1));
    }

    #[test]
    fn vol_ratio_rises_with_a_volatility_burst() {
        let mut v = VolRatio::new(1, 3.0, 50.0);
        let mut p = 100.0;
        for t in 0..200 {
            p *= if t % 2 == 0 { 1.001 } else { 0.999 };
            v.update(0, p);
        }
        assert!(!v.exceeds(4.0));
        for t in 0..5 {
            p *= if t % 2 == 0 { 1.02 } else { 0.98 };
            v.update(0, p);
        }
        assert!(v.exceeds(4.0)); // volatility at least twice its usual level
    }
}
