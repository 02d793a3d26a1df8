//! Column views of one (path, symbol) series and the two ways transforms move prices.
//!
//! - [`overlay_levels`]: multiply the window's prices by a level path (crash, pump and dump).
//!   Bar t's open takes the level at the end of bar t-1 and its close the level at the end of
//!   bar t, so `open = previous close` survives exactly; high and low keep their ratio to the
//!   body. Later bars are multiplied by the final level ([`shift_tail`]).
//! - [`rewrite_returns`]: replace the window's close-to-close log returns (volatility spike,
//!   correlation breakdown); the gap open/previous close and the wick ratios high/max(open,
//!   close), low/min(open, close) are kept (or raised to a power), and the last close is pinned
//!   to its original value so the bars after the window stay bit-identical.
//!
//! Both write `high = max(open, close) * up` with `up >= 1` and `low = min(open, close) * down`
//! with `down <= 1`, which keeps `low <= min(open, close) <= max(open, close) <= high` exactly in
//! floating point (rounding is monotone).

use crate::error::{Result, StressError};

/// Mutable columns of one (path, symbol) series, sorted by time.
pub struct Bars<'a> {
    pub timestamp: &'a [i64],
    pub open: &'a mut [f64],
    pub high: &'a mut [f64],
    pub low: &'a mut [f64],
    pub close: &'a mut [f64],
    pub volume: &'a mut [f64],
    /// Relative quoted spread (ask - bid) / mid as a fraction.
    pub spread: &'a mut [f64],
    /// Per-bar mask of the transforms that stressed the bar (see `TransformKind::flag`).
    pub flags: &'a mut [u32],
}

impl<'a> Bars<'a> {
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// Split into bars `..mid` and `mid..` (mid <= len). A value column may be empty (a column
    /// no step of the run touches, see `TransformKind::columns`): it splits into empty halves.
    pub fn split_at(self, mid: usize) -> (Bars<'a>, Bars<'a>) {
        fn col(c: &mut [f64], mid: usize) -> (&mut [f64], &mut [f64]) {
            if c.is_empty() {
                (Default::default(), Default::default())
            } else {
                c.split_at_mut(mid)
            }
        }
        let (t0, t1) = self.timestamp.split_at(mid);
        let (o0, o1) = col(self.open, mid);
        let (h0, h1) = col(self.high, mid);
        let (l0, l1) = col(self.low, mid);
        let (c0, c1) = col(self.close, mid);
        let (v0, v1) = col(self.volume, mid);
        let (s0, s1) = col(self.spread, mid);
        let (f0, f1) = self.flags.split_at_mut(mid);
        (
            Bars { timestamp: t0, open: o0, high: h0, low: l0, close: c0, volume: v0, spread: s0, flags: f0 },
            Bars { timestamp: t1, open: o1, high: h1, low: l1, close: c1, volume: v1, spread: s1, flags: f1 },
        )
    }

    /// The close before bar `t`: the previous close, or the first open for t = 0.
    #[inline]
    pub fn prev_close(&self, t: usize) -> f64 {
        if t == 0 {
            self.open[0]
        } else {
            self.close[t - 1]
        }
    }

    /// Set `flag` on bars `start..end`.
    pub fn mark(&mut self, start: usize, end: usize, flag: u32) {
        for f in &mut self.flags[start..end] {
            *f |= flag;
        }
    }

    /// Fail unless bars `start..end` (and the close before them) have finite, positive prices
    /// with low <= open, close <= high: price transforms work in log space.
    pub fn check_prices(&self, start: usize, end: usize, what: &str) -> Result<()> {
        let bad = |t: usize, why: &str| {
            Err(StressError::Data(format!(
                "{what}: bar {t} has {why} (open {}, high {}, low {}, close {}); price stresses need finite \
                 positive OHLC prices with low <= open, close <= high, so clean the data first",
                self.open[t], self.high[t], self.low[t], self.close[t]
            )))
        };
        // One branch-free pass over the window first (vectorised; windows are checked for every
        // series and step); the bar and the reason only when it finds a bad bar.
        let (o, h, l, c) =
            (&self.open[start..end], &self.high[start..end], &self.low[start..end], &self.close[start..end]);
        let all_ok = o.iter().zip(h).zip(l).zip(c).fold(true, |ok, (((&o, &h), &l), &c)| {
            ok & o.is_finite()
                & h.is_finite()
                & l.is_finite()
                & c.is_finite()
                & (l > 0.0)
                & (l <= o.min(c))
                & (o.max(c) <= h)
        });
        for t in (start..end).filter(|_| !all_ok) {
            let (o, h, l, c) = (self.open[t], self.high[t], self.low[t], self.close[t]);
            if !(o.is_finite() && h.is_finite() && l.is_finite() && c.is_finite()) {
                return bad(t, "a non-finite price");
            }
            if l <= 0.0 {
                return bad(t, "a price <= 0");
            }
            if l > o.min(c) || o.max(c) > h {
                return bad(t, "inconsistent OHLC");
            }
        }
        if start > 0 && !(self.close[start - 1].is_finite() && self.close[start - 1] > 0.0) {
            return bad(start - 1, "a non-finite or non-positive close before the stress window");
        }
        Ok(())
    }
}

/// Write bar `t` from its new open and close, keeping the wick ratios `up >= 1 >= down`.
#[inline(always)]
fn write_bar(b: &mut Bars<'_>, t: usize, open: f64, close: f64, up: f64, down: f64) {
    b.open[t] = open;
    b.close[t] = close;
    b.high[t] = open.max(close) * up.max(1.0);
    b.low[t] = open.min(close) * down.min(1.0);
}

/// Wick ratios of bar t: high / max(open, close) >= 1 and low / min(open, close) <= 1.
#[inline(always)]
fn wicks(b: &Bars<'_>, t: usize) -> (f64, f64) {
    let (o, c) = (b.open[t], b.close[t]);
    (b.high[t] / o.max(c), b.low[t] / o.min(c))
}

/// Multiply bars `start..start + levels.len()` by a level path: `levels[j]` is the price factor
/// at the close of bar `start + j` (the level before the window is 1). Bars after the window are
/// multiplied by the last level (skipped when it is exactly 1, leaving them bit-identical).
pub fn overlay_levels(b: &mut Bars<'_>, start: usize, levels: &[f64]) {
    let mut level_open = 1.0;
    for (j, &level) in levels.iter().enumerate() {
        let t = start + j;
        let (up, down) = wicks(b, t);
        let open = b.open[t] * level_open;
        let close = b.close[t] * level;
        write_bar(b, t, open, close, up, down);
        level_open = level;
    }
    if let Some(&last) = levels.last() {
        shift_tail(b, start + levels.len(), last);
    }
}

/// Multiply the prices of bars `from..` by `factor` (the level change of a window before them).
pub fn shift_tail(b: &mut Bars<'_>, from: usize, factor: f64) {
    if factor == 1.0 || from >= b.len() {
        return;
    }
    for col in [&mut *b.open, &mut *b.high, &mut *b.low, &mut *b.close] {
        for x in &mut col[from..] {
            *x *= factor;
        }
    }
}

/// Close-to-close log returns of bars `start..start + len` (the first against [`Bars::prev_close`]).
pub fn log_returns(b: &Bars<'_>, start: usize, len: usize, out: &mut Vec<f64>) {
    out.clear();
    let mut prev = b.prev_close(start);
    for t in start..start + len {
        out.push((b.close[t] / prev).ln());
        prev = b.close[t];
    }
}

/// Replace the close-to-close log returns of bars `start..start + returns.len()`.
///
/// The new closes are `prev_close(start) * exp(cumsum(returns))` except the last, which keeps its
/// original value (callers pass returns with the original sum, so this only removes rounding and
/// leaves every later bar bit-identical). Each open keeps its gap to the previous close raised to
/// `gap_power`; the wick ratios are raised to `wick_power`.
pub fn rewrite_returns(b: &mut Bars<'_>, start: usize, returns: &[f64], gap_power: f64, wick_power: f64) {
    let n = returns.len();
    let base = b.prev_close(start);
    let mut prev_old = base;
    let mut prev_new = base;
    let mut cum = 0.0;
    for (j, &r) in returns.iter().enumerate() {
        let t = start + j;
        let (o, c) = (b.open[t], b.close[t]);
        let (up, down) = wicks(b, t);
        let gap = if t == 0 { 1.0 } else { o / prev_old };
        cum += r;
        let close = if j + 1 == n { c } else { base * cum.exp() };
        let open = if gap_power == 1.0 { prev_new * gap } else { prev_new * gap.powf(gap_power) };
        let (up, down) = if wick_power == 1.0 { (up, down) } else { (up.powf(wick_power), down.powf(wick_power)) };
        write_bar(b, t, open, close, up, down);
        prev_old = c;
        prev_new = close;
    }
}

/// Cumulative level path from `from` to `to` (both factors) over `weights.len()` bars: the log
/// level moves by `ln(to / from) * w_j / sum(w)` per bar and ends exactly at `to`.
pub fn level_path(from: f64, to: f64, weights: &[f64], out: &mut Vec<f64>) {
    let total: f64 = weights.iter().sum();
    let log_move = (to / from).ln();
    let mut acc = 0.0;
    for (j, w) in weights.iter().enumerate() {
        acc += w;
        out.push(if j + 1 == weights.len() { to } else { from * (log_move * acc / total).exp() });
    }
}

/// `n` positive random weights (standard exponential): the shape of a crash or pump, so some bars
/// carry most of the move as in real cascades.
pub fn random_weights(rng: &mut crate::rng::Stream, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.exp1()).collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Owned test data: flat bars and random GBM-like bars with consistent OHLC.
    use super::Bars;
    use crate::rng::Stream;

    pub struct Owned {
        pub ts: Vec<i64>,
        pub o: Vec<f64>,
        pub h: Vec<f64>,
        pub l: Vec<f64>,
        pub c: Vec<f64>,
        pub v: Vec<f64>,
        pub s: Vec<f64>,
        pub f: Vec<u32>,
    }

    impl Owned {
        pub fn flat(n: usize, price: f64) -> Self {
            Owned {
                ts: (0..n as i64).map(|t| t * 3_600_000).collect(),
                o: vec![price; n],
                h: vec![price; n],
                l: vec![price; n],
                c: vec![price; n],
                v: vec![100.0; n],
                s: vec![1e-4; n],
                f: vec![0; n],
            }
        }

        pub fn random(n: usize, seed: u64) -> Self {
            let mut r = Stream::from_u64(seed);
            let mut x = Owned::flat(n, 0.0);
            let mut prev = 100.0;
            for t in 0..n {
                let close = prev * (0.01 * r.normal()).exp();
                x.o[t] = prev;
                x.c[t] = close;
                x.h[t] = prev.max(close) * (1.0 + 0.005 * r.uniform());
                x.l[t] = prev.min(close) * (1.0 - 0.005 * r.uniform());
                x.v[t] = 100.0 * (0.5 * r.normal()).exp();
                x.s[t] = 1e-4 * (0.3 * r.normal()).exp();
                prev = close;
            }
            x
        }

        pub fn bars(&mut self) -> Bars<'_> {
            Bars {
                timestamp: &self.ts,
                open: &mut self.o,
                high: &mut self.h,
                low: &mut self.l,
                close: &mut self.c,
                volume: &mut self.v,
                spread: &mut self.s,
                flags: &mut self.f,
            }
        }

        pub fn ohlc_ok(&self, t: usize) -> bool {
            self.l[t] <= self.o[t].min(self.c[t]) && self.o[t].max(self.c[t]) <= self.h[t] && self.l[t] > 0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Owned;
    use super::*;

    #[test]
    fn overlay_keeps_continuity_and_ohlc() {
        for seed in 0..20 {
            let mut x = Owned::random(200, seed);
            let orig = Owned::random(200, seed);
            let levels: Vec<f64> = (0..30).map(|j| 1.0 - 0.01 * j as f64).collect();
            overlay_levels(&mut x.bars(), 50, &levels);
            for t in 0..200 {
                assert!(x.ohlc_ok(t), "bar {t}");
            }
            for t in 0..50 {
                assert_eq!(x.c[t].to_bits(), orig.c[t].to_bits());
            }
            for t in 51..200 {
                assert_eq!(x.o[t], x.c[t - 1], "continuity at {t}");
            }
            let g = *levels.last().unwrap();
            for t in 80..200 {
                assert!((x.h[t] / orig.h[t] - g).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn rewrite_with_same_returns_is_identity_up_to_rounding() {
        let mut x = Owned::random(100, 3);
        let orig = Owned::random(100, 3);
        let mut r = Vec::new();
        log_returns(&x.bars(), 10, 40, &mut r);
        rewrite_returns(&mut x.bars(), 10, &r, 1.0, 1.0);
        for t in 0..100 {
            assert!((x.c[t] / orig.c[t] - 1.0).abs() < 1e-13);
            assert!((x.h[t] / orig.h[t] - 1.0).abs() < 1e-13);
            assert!(x.ohlc_ok(t));
        }
        assert_eq!(x.c[49].to_bits(), orig.c[49].to_bits(), "last window close pinned");
    }

    #[test]
    fn level_path_ends_exactly() {
        let mut out = Vec::new();
        level_path(1.0, 0.8, &[1.0, 3.0, 0.5], &mut out);
        assert_eq!(out[2], 0.8);
        assert!(out[0] > out[1] && out[1] > out[2]);
    }
}
