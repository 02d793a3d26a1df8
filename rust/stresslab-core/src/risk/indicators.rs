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

/// Number of corrupt symbols ([`is_corrupt`]) at each bar, counted in one pass over the columns
/// (branch-free, so it vectorises: the governor's data-quality trigger reads it every bar).
pub fn corrupt_per_bar(md: &crate::market::MarketData) -> Vec<u32> {
    let n = md.n_bars;
    let mut out = vec![0u32; n];
    for s in 0..md.n_symbols() {
        let r = s * n..(s + 1) * n;
        let (o, h, l, c) = (&md.open[r.clone()], &md.high[r.clone()], &md.low[r.clone()], &md.close[r.clone()]);
        let (v, f) = (&md.volume[r.clone()], &md.flags[r]);
        let out = &mut out[..n];
        let (o, h, l, c, v, f) = (&o[..n], &h[..n], &l[..n], &c[..n], &v[..n], &f[..n]);
        for k in 0..n {
            // the tests of `is_corrupt`, each finite-and-positive one as two comparisons (NaN fails
            // both), combined with `&`: no branches
            let ok = (o[k] > 0.0)
                & (o[k] < f64::INFINITY)
                & (l[k] > 0.0)
                & (h[k] >= l[k])
                & (h[k] < f64::INFINITY)
                & (c[k].abs() < f64::INFINITY)
                & (v[k] >= 0.0)
                & (v[k] < f64::INFINITY)
                & (f[k] & CORRUPT_FLAG == 0);
            out[k] += u32::from(!ok);
        }
    }
    out
}

/// EWMA weight of a half-life in bars.
pub fn ewma_alpha(halflife_bars: f64) -> f64 {
    1.0 - 0.5f64.powf(1.0 / halflife_bars)
}

/// Peak equity over the last `window` bars (or the whole run when `window` is None); the
/// initial equity counts as a bar before the first.
///
/// Van Herk / Gil-Werman sliding maximum: the stream is cut into blocks of `window` values; the
/// window ending at a value covers a suffix of the previous block and a prefix of the current
/// one, so its maximum is max(suffix max of the previous block, running max of this block).
/// Suffix maxima are computed once per finished block: O(1) per bar, no allocation, and no
/// worst case in a falling market (where a deque-based maximum does the most work).
#[derive(Clone, Debug)]
pub struct RollingPeak {
    window: usize,
    /// Values of the current block, then (once it is full) its suffix maxima.
    cur: Vec<f64>,
    prev_suffix: Vec<f64>,
    cur_max: f64,
    /// Position in the current block.
    pos: usize,
    all_time: f64,
    bounded: bool,
}

impl RollingPeak {
    pub fn new(window: Option<usize>, initial_equity: f64) -> Self {
        let w = window.unwrap_or(0).max(1);
        let bounded = window.is_some();
        let n = if bounded { w } else { 0 };
        // the initial equity is value number 0 of the stream
        let mut cur = vec![f64::NEG_INFINITY; n];
        if bounded {
            cur[0] = initial_equity;
        }
        let mut p = RollingPeak {
            window: w,
            cur,
            prev_suffix: vec![f64::NEG_INFINITY; n],
            cur_max: initial_equity,
            pos: 1,
            all_time: initial_equity,
            bounded,
        };
        p.roll_if_full();
        p
    }

    /// The peak [`Self::push`] would return for `equity`, without adding it (a caller that
    /// decides whether a bar is quiet looks before it commits).
    #[inline]
    pub fn peek(&self, equity: f64) -> f64 {
        if !self.bounded {
            return if equity > self.all_time { equity } else { self.all_time };
        }
        let cur_max = if equity > self.cur_max { equity } else { self.cur_max };
        // the window of w values ending here: previous block from pos + 1, this block up to pos
        match self.prev_suffix.get(self.pos + 1) {
            Some(p) if *p > cur_max => *p,
            _ => cur_max,
        }
    }

    /// A value no peak of the next pushes can exceed, besides the values they push: the largest
    /// value they can still see (the current block's, and the previous block's suffix from the
    /// next position on, which only shrinks as the window moves).
    #[inline]
    pub fn upper_bound(&self) -> f64 {
        if !self.bounded {
            return self.all_time;
        }
        let prev = self.prev_suffix.get(self.pos + 1).copied().unwrap_or(f64::NEG_INFINITY);
        if prev > self.cur_max {
            prev
        } else {
            self.cur_max
        }
    }

    /// A value every peak of the next `n` pushes is at least, whatever they push: the values that
    /// stay in the window throughout (the current block's, while it rolls over at most once; the
    /// previous block's suffix that the last of the pushes still sees). NEG_INFINITY if none.
    pub fn lower_bound(&self, n: usize) -> f64 {
        if !self.bounded {
            return self.all_time;
        }
        if self.pos + n > self.window {
            return f64::NEG_INFINITY;
        }
        // the current block's value j is dropped (window - pos + j) pushes from now
        let prev = self.prev_suffix.get(self.pos + n).copied().unwrap_or(f64::NEG_INFINITY);
        if prev > self.cur_max {
            prev
        } else {
            self.cur_max
        }
    }

    /// Add the next bar's equity; returns the peak over the window.
    #[inline]
    pub fn push(&mut self, _t: usize, equity: f64) -> f64 {
        let peak = self.peek(equity);
        if !self.bounded {
            self.all_time = peak;
            return peak;
        }
        self.cur[self.pos] = equity;
        if equity > self.cur_max {
            self.cur_max = equity;
        }
        self.pos += 1;
        self.roll_if_full();
        peak
    }

    /// Once the current block is full: keep its suffix maxima, start the next one (done as soon
    /// as it fills, so that [`Self::peek`] never has to).
    #[inline]
    fn roll_if_full(&mut self) {
        if !self.bounded || self.pos < self.window {
            return;
        }
        let mut m = f64::NEG_INFINITY;
        for j in (0..self.window).rev() {
            if self.cur[j] > m {
                m = self.cur[j];
            }
            self.prev_suffix[j] = m;
        }
        self.pos = 0;
        self.cur_max = f64::NEG_INFINITY;
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

    /// Whether `equity` is more than `limit` (fraction) below the equity k bars ago (what
    /// [`Self::push_beyond`] returns, without recording it).
    #[inline]
    pub fn beyond(&self, equity: f64, limit: f64) -> bool {
        equity < self.buf[self.pos] * (1.0 - limit)
    }

    /// Record this bar's equity.
    #[inline]
    pub fn push(&mut self, equity: f64) {
        self.buf[self.pos] = equity;
        self.pos += 1;
        if self.pos == self.buf.len() {
            self.pos = 0;
        }
    }

    /// Record this bar's equity; returns whether it is more than `limit` (fraction) below the
    /// equity k bars ago.
    #[inline]
    pub fn push_beyond(&mut self, equity: f64, limit: f64) -> bool {
        let hit = self.beyond(equity, limit);
        self.push(equity);
        hit
    }

    pub fn reset(&mut self, equity: f64) {
        self.buf.iter_mut().for_each(|x| *x = equity);
    }

    /// The largest equity held (NaN if any held value is NaN).
    pub fn max(&self) -> f64 {
        let (mut m, mut nan) = (f64::NEG_INFINITY, false);
        for &x in &self.buf {
            m = if x > m { x } else { m };
            nan |= x.is_nan();
        }
        if nan {
            f64::NAN
        } else {
            m
        }
    }
}

/// Per-symbol short and long EWMA of squared simple close-to-close returns; the ratio
/// short/long says how far volatility is above its usual level.
#[derive(Clone, Debug)]
pub struct VolRatio {
    short_alpha: f64,
    long_alpha: f64,
    /// One symbol's state per entry (together, so an update touches one cache line and one
    /// bounds check: it runs on every bar of every path).
    sym: Vec<VolState>,
    /// The states before the last [`Self::update_bar`], for [`Self::undo_bar`].
    saved: Vec<VolState>,
    warmup: u32,
}

#[derive(Clone, Copy, Debug)]
struct VolState {
    short: f64,
    long: f64,
    last: f64,
    seen: u32,
}

impl VolState {
    /// One close: the squared simple return from the last valid close into both averages.
    /// Invalid closes are skipped (the next valid one is compared with the last valid one).
    #[inline(always)]
    fn step(&mut self, close: f64, short_alpha: f64, long_alpha: f64) {
        // finite and positive (one test: NaN fails both comparisons)
        if !(close > 0.0 && close < f64::INFINITY) {
            return;
        }
        let last = self.last;
        self.last = close;
        if !last.is_finite() {
            return;
        }
        let r = close / last - 1.0;
        let r2 = r * r;
        if self.seen == 0 {
            self.short = r2;
            self.long = r2;
        } else {
            self.short += short_alpha * (r2 - self.short);
            self.long += long_alpha * (r2 - self.long);
        }
        self.seen = self.seen.saturating_add(1);
    }
}

impl VolRatio {
    pub fn new(n_symbols: usize, short_halflife: f64, long_halflife: f64) -> Self {
        VolRatio {
            short_alpha: ewma_alpha(short_halflife),
            long_alpha: ewma_alpha(long_halflife),
            sym: vec![VolState { short: 0.0, long: 0.0, last: f64::NAN, seen: 0 }; n_symbols],
            saved: vec![VolState { short: 0.0, long: 0.0, last: f64::NAN, seen: 0 }; n_symbols],
            // the long average needs about one half-life of data before the ratio means anything
            warmup: long_halflife.ceil().min(u32::MAX as f64) as u32,
        }
    }

    /// Feed symbol s's close; invalid closes are skipped (the next valid one is compared with
    /// the last valid one).
    #[inline]
    pub fn update(&mut self, s: usize, close: f64) {
        let (sa, la) = (self.short_alpha, self.long_alpha);
        if let Some(v) = self.sym.get_mut(s) {
            v.step(close, sa, la);
        }
    }

    /// Feed every symbol's close of bar t, keeping the previous states for [`Self::undo_bar`].
    #[inline]
    pub fn update_bar(&mut self, md: &crate::market::MarketData, t: usize) {
        self.save();
        for s in 0..md.n_symbols() {
            self.update(s, md.close[md.idx(s, t)]);
        }
    }

    /// Feed bars t_a..t_b (kept for [`Self::undo_bar`], which takes the whole range back); returns
    /// false when on any of them a warmed-up symbol's short variance is above `above` or at least
    /// `at_least` times its long one (INFINITY: no such test), or, with `hold`, no warmed-up
    /// symbol's is at least `hold` times its long one. `held` is scratch (one entry per bar).
    #[allow(clippy::too_many_arguments)]
    pub fn quiet_range(
        &mut self,
        md: &crate::market::MarketData,
        t_a: usize,
        t_b: usize,
        above: f64,
        at_least: f64,
        hold: Option<f64>,
        held: &mut [bool],
    ) -> bool {
        let Some(held) = held.get_mut(..t_b - t_a) else {
            return false; // scratch too short: the caller goes bar by bar
        };
        self.save();
        held.fill(false);
        let h = hold.unwrap_or(f64::INFINITY);
        let (sa, la, warmup) = (self.short_alpha, self.long_alpha, self.warmup);
        let mut fires = false;
        for s in 0..md.n_symbols().min(self.sym.len()) {
            let base = md.idx(s, 0);
            // the symbol's state in registers over the range (`&`/`|`: no branches per bar)
            let mut v = self.sym[s];
            for (x, &c) in held.iter_mut().zip(&md.close[base + t_a..base + t_b]) {
                v.step(c, sa, la);
                let warm = v.seen >= warmup;
                fires |= warm & ((v.short > above * v.long) | (v.short >= at_least * v.long));
                *x |= warm & (v.short >= h * v.long);
            }
            self.sym[s] = v;
        }
        if hold.is_some() {
            fires |= held.iter().any(|x| !x);
        }
        if fires {
            self.undo_bar();
        }
        !fires
    }

    /// Keep the states for [`Self::undo_bar`].
    #[inline]
    fn save(&mut self) {
        // an element-wise copy: a handful of symbols, where a memcpy call costs more
        for (d, s) in self.saved.iter_mut().zip(&self.sym) {
            *d = *s;
        }
    }

    /// Take back the last [`Self::update_bar`] (or [`Self::quiet_range`]).
    #[cold]
    pub fn undo_bar(&mut self) {
        for (d, s) in self.sym.iter_mut().zip(&self.saved) {
            *d = *s;
        }
    }

    /// Whether any warmed-up symbol's short variance is at least `mult_sq` times its long one
    /// (a threshold reached; compared without dividing).
    #[inline]
    pub fn reaches(&self, mult_sq: f64) -> bool {
        self.sym.iter().any(|v| v.seen >= self.warmup && v.short >= mult_sq * v.long)
    }

    /// Whether any warmed-up symbol's short variance exceeds `mult_sq` times its long variance.
    #[inline]
    pub fn exceeds(&self, mult_sq: f64) -> bool {
        self.sym.iter().any(|v| v.seen >= self.warmup && v.short > mult_sq * v.long)
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

    /// The sum [`Self::push`] would return for `count`, without adding it.
    #[inline]
    pub fn peek(&self, count: u32) -> u32 {
        self.sum - self.buf[self.pos] + count
    }

    #[inline]
    pub fn push(&mut self, count: u32) -> u32 {
        self.sum = self.peek(count);
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

    /// The current sum.
    pub fn sum(&self) -> u32 {
        self.sum
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
    fn corrupt_per_bar_agrees_with_is_corrupt() {
        // every special value in every column, one symbol per column under test
        let specials =
            [1.0, 2.0, 0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE, 1e300];
        let n = specials.len() * specials.len();
        let (mut o, mut h, mut l, mut c, mut v, mut f) = (vec![], vec![], vec![], vec![], vec![], vec![]);
        for col in 0..5 {
            for (i, &a) in specials.iter().enumerate() {
                for (j, &b) in specials.iter().enumerate() {
                    // column `col` takes a, high/low pairs take (a, b), flags every 7th bar
                    let mut bar = [1.5, 2.0, 1.0, 1.5, 10.0];
                    bar[col] = a;
                    if col == 1 {
                        bar[2] = b;
                    }
                    o.push(bar[0]);
                    h.push(bar[1]);
                    l.push(bar[2]);
                    c.push(bar[3]);
                    v.push(bar[4]);
                    f.push(if (i + j) % 7 == 0 { CORRUPT_FLAG } else { 0 });
                }
            }
        }
        let symbols = (0..5).map(|s| format!("S{s}")).collect();
        let ts = (0..n as i64).collect();
        let md = crate::market::MarketData::new(symbols, ts, o, h, l, c, v, None, Some(f));
        let md = match md {
            Ok(md) => md,
            Err(e) => panic!("market: {e}"),
        };
        let counts = corrupt_per_bar(&md);
        for (t, &got) in counts.iter().enumerate() {
            let want = (0..5).filter(|&s| is_corrupt(&md.bar(s, t))).count() as u32;
            assert_eq!(got, want, "bar {t}");
        }
    }

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
        assert_eq!(p.push(0, 90.0), 100.0); // initial, bar 0
        assert_eq!(p.push(1, 95.0), 100.0); // initial, bars 0..1
        assert_eq!(p.push(2, 80.0), 95.0); // bars 0..2
        assert_eq!(p.push(3, 85.0), 95.0); // bars 1..3
        assert_eq!(p.push(4, 70.0), 85.0); // bars 2..4
        let mut all = RollingPeak::new(None, 100.0);
        all.push(0, 120.0);
        assert_eq!(all.push(500, 50.0), 120.0);
    }

    #[test]
    fn rolling_peak_matches_brute_force() {
        let mut rng = crate::rng::Stream::from_u64(9);
        for w in [1usize, 2, 5, 17] {
            let vals: Vec<f64> = (0..300).map(|_| rng.normal()).collect();
            let mut p = RollingPeak::new(Some(w), 0.5);
            let stream: Vec<f64> = std::iter::once(0.5).chain(vals.iter().copied()).collect();
            for (t, v) in vals.iter().enumerate() {
                let end = t + 1; // index of v in the stream (initial first)
                let want = stream[(end + 1).saturating_sub(w)..=end].iter().copied().fold(f64::NEG_INFINITY, f64::max);
                assert_eq!(p.push(t, *v), want, "w={w} t={t}");
            }
        }
    }

    #[test]
    fn rolling_peak_peek_and_bounds_hold_for_the_next_pushes() {
        // peek = what push returns; upper_bound >= every peak of the next pushes but their own
        // values; lower_bound(n) <= every peak of the next n pushes, whatever is pushed
        let mut rng = crate::rng::Stream::from_u64(21);
        for w in [1usize, 3, 8, 30] {
            let mut p = RollingPeak::new(Some(w), 1.0);
            for t in 0..400 {
                let n = 1 + t % 11;
                let (up, low) = (p.upper_bound(), p.lower_bound(n));
                let mut q = p.clone();
                let mut pushed = f64::NEG_INFINITY;
                for k in 0..n {
                    let v = if k % 3 == 0 { -5.0 } else { rng.normal() };
                    pushed = pushed.max(v);
                    let peak = q.push(t + k, v);
                    assert!(peak <= up.max(pushed), "w={w} t={t} k={k}: {peak} > {up}");
                    assert!(peak >= low, "w={w} t={t} k={k}: {peak} < {low}");
                }
                let v = rng.normal();
                let seen = p.peek(v);
                assert_eq!(p.push(t, v), seen);
            }
        }
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
