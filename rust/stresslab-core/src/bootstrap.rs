//! Stationary block bootstrap of real bars (Politis & Romano 1994): new paths made of blocks of
//! consecutive real bars, so a user can ask "what if 2021 happened in another order".
//!
//! # Resampling units
//! Every source bar `t >= 1` is one unit: its close-to-close gross return `C_t / C_{t-1}`, its
//! open, high and low relative to its own previous close (`O_t / C_{t-1}`, ...), its volume and
//! spread. A path is a sequence of units; its prices continue from the first source close `C_0`,
//! and each bar is the source bar scaled by the path's previous close over the source's
//! (`O = C_prev_path * O_t / C_{t-1}`, same for H, L, C). The path's close-to-close log returns
//! are therefore the resampled `ln(C_t / C_{t-1})` (up to rounding), intrabar ranges and opening
//! gaps are real, volume and spread are copied, and OHLC invariants hold exactly whenever they
//! hold in the source (scaling by one positive factor keeps the order, rounding included).
//!
//! Within a block the units are consecutive source bars, so the whole block is the source segment
//! times one factor (the path level over the source level at the block's start): a scaled copy
//! with no per-bar dependency chain. Each source bar keeps its fields in one cache line, because
//! with the short blocks real returns call for (automatic lengths of 2-15 h) reads are random.
//!
//! # Blocks
//! A path is filled block by block: a block starts at a uniform random unit and has a geometric
//! length with mean `L` (`P(len = k) = (1 - 1/L)^(k-1) / L`), wrapping around the end of the source
//! (circular, as in Politis & Romano). The same unit indices are used for every symbol, so the
//! cross-asset dependence of each real hour is kept. Blocks preserve the dependence within `L`
//! bars (volatility clustering over shorter spans, intraday patterns); across block joints it is
//! lost.
//!
//! # Randomness and parallelism
//! Path `p`'s unit indices come from `Stream::new(Domain::Bootstrap, seed, scenario, p, MARKET)`
//! alone, so paths are generated in parallel (rayon) with bit-identical results on any thread
//! count, and path `p` can be regenerated alone with `generate_range(p, 1)`.
//!
//! # Block length
//! [`optimal_block_length`] is the automatic rule of Politis & White (2004) for the stationary
//! bootstrap, with the correction of Patton, Politis & White (2009) (`D_SB = 2 g(0)^2`), as in
//! `np::b.star` and Patton's `opt_block_length_REV_dec07.m`. [`BootstrapSource::auto_block_length`]
//! applies it to each symbol's log returns and takes the **maximum**: the block must be long
//! enough for the most dependent symbol, and since all symbols share the blocks, a longer block
//! costs the others only some variance of the bootstrap, while a too-short one biases it.

use rayon::prelude::*;

use crate::error::{Result, StressError};
use crate::market::MarketData;
use crate::rng::{Domain, Stream, MARKET};
use crate::synth::{MarketPaths, PathView, BYTES_PER_BAR};

/// One source bar, with everything a path needs from it in one 64-byte cache line: short blocks
/// are random reads, and one line per bar (instead of one per column) is what makes them cheap.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct SourceBar {
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    spread: f64,
    /// 1 / close: a block's scale factor is then one multiply, not a division, on the path's
    /// serial chain (block start level -> block end level -> next block's scale).
    inv_close: f64,
}

/// The source bars in resampling form. Build with [`BootstrapSource::new`] (validates the data).
#[derive(Clone, Debug)]
pub struct BootstrapSource {
    symbols: Vec<String>,
    /// Source bars per symbol (`n_units + 1`); unit u is source bar u + 1.
    n_src: usize,
    n_units: usize,
    start_ms: i64,
    interval_ms: i64,
    /// The validated source bars, symbol-major (`s * n_src + t`).
    bars: Vec<SourceBar>,
    /// Per symbol: lowest low and highest high, to bound a path's prices from its scale factors.
    lowest: Vec<f64>,
    highest: Vec<f64>,
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a UTC epoch-ms timestamp (for error messages).
pub fn fmt_utc_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // civil_from_days (H. Hinnant): proleptic Gregorian date of a day count since 1970-01-01
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

impl BootstrapSource {
    /// Check the bars and turn them into units. Errors (`StressError::Data`) name the column, the
    /// symbol and the bar: too few bars, unordered timestamps, a non-finite or non-positive price,
    /// a negative or non-finite volume, a negative spread, or a bar whose high/low do not enclose
    /// its open and close. A NaN spread means "unknown" and is copied as such.
    pub fn new(md: &MarketData) -> Result<Self> {
        let n = md.n_bars;
        let m = md.n_symbols();
        if n < 2 {
            return Err(StressError::Data(format!(
                "bars: the bootstrap resamples close-to-close returns and needs at least 2 bars per symbol, got {n}"
            )));
        }
        if let Some(t) = md.timestamps.windows(2).position(|w| w[1] <= w[0]) {
            return Err(StressError::Data(format!(
                "timestamp: bars must be in strictly increasing time order; bar {} ({}) does not follow bar {t} ({})",
                t + 1,
                fmt_utc_ms(md.timestamps[t + 1]),
                fmt_utc_ms(md.timestamps[t])
            )));
        }
        for s in 0..m {
            for t in 0..n {
                check_bar(md, s, t)?;
            }
        }
        let rows = |s: usize| md.idx(s, 0)..md.idx(s, 0) + n;
        let bars = (0..m * n)
            .map(|i| SourceBar {
                open: md.open[i],
                high: md.high[i],
                low: md.low[i],
                close: md.close[i],
                volume: md.volume[i],
                spread: md.spread[i],
                inv_close: 1.0 / md.close[i],
            })
            .collect();
        Ok(BootstrapSource {
            symbols: md.symbols.clone(),
            n_src: n,
            n_units: n - 1,
            start_ms: md.timestamps[1],
            interval_ms: md.interval_ms(),
            bars,
            lowest: (0..m).map(|s| md.low[rows(s)].iter().copied().fold(f64::INFINITY, f64::min)).collect(),
            highest: (0..m).map(|s| md.high[rows(s)].iter().copied().fold(0.0, f64::max)).collect(),
        })
    }

    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    pub fn n_symbols(&self) -> usize {
        self.symbols.len()
    }

    /// Number of resampling units (source bars - 1).
    pub fn n_units(&self) -> usize {
        self.n_units
    }

    /// Log returns `ln(C_t / C_{t-1})` of symbol `s` (one per unit).
    pub fn log_returns(&self, s: usize) -> Vec<f64> {
        let bars = &self.bars[s * self.n_src..(s + 1) * self.n_src];
        bars.windows(2).map(|w| (w[1].close / w[0].close).ln()).collect()
    }

    /// Politis-White block length of each symbol's log returns.
    pub fn block_lengths(&self) -> Vec<f64> {
        (0..self.n_symbols()).map(|s| optimal_block_length(&self.log_returns(s))).collect()
    }

    /// The automatic mean block length: the maximum over symbols (see the module docs).
    pub fn auto_block_length(&self) -> f64 {
        self.block_lengths().into_iter().fold(1.0, f64::max)
    }
}

fn check_bar(md: &MarketData, s: usize, t: usize) -> Result<()> {
    let i = md.idx(s, t);
    let at = || format!("{} at bar {t} ({})", md.symbols[s], fmt_utc_ms(md.timestamps[t]));
    for (name, v) in [("open", md.open[i]), ("high", md.high[i]), ("low", md.low[i]), ("close", md.close[i])] {
        if !(v.is_finite() && v > 0.0) {
            return Err(StressError::Data(format!("{name}: prices must be finite and > 0, got {v} in {}", at())));
        }
    }
    let v = md.volume[i];
    if !(v.is_finite() && v >= 0.0) {
        return Err(StressError::Data(format!("volume: must be finite and >= 0, got {v} in {}", at())));
    }
    let sp = md.spread[i];
    if !(sp.is_nan() || (sp.is_finite() && sp >= 0.0)) {
        return Err(StressError::Data(format!("spread: must be >= 0 (or missing), got {sp} in {}", at())));
    }
    let (o, h, l, c) = (md.open[i], md.high[i], md.low[i], md.close[i]);
    if h < o.max(c) || l > o.min(c) {
        return Err(StressError::Data(format!(
            "high/low: must enclose open and close (low <= min(open, close) <= max(open, close) <= high), \
             got open {o} high {h} low {l} close {c} in {}",
            at()
        )));
    }
    Ok(())
}

/// A validated bootstrap request. Build with [`BlockBootstrap::new`].
#[derive(Clone, Debug)]
pub struct BlockBootstrap {
    source: BootstrapSource,
    block_length: f64,
    n_bars: usize,
    seed: u64,
    scenario: u64,
}

impl BlockBootstrap {
    /// `block_length`: mean block length `L >= 1` in bars (None: [`BootstrapSource::auto_block_length`]).
    /// `n_bars`: bars per path (None: the number of units, i.e. as long as the source's returns).
    pub fn new(
        source: BootstrapSource,
        block_length: Option<f64>,
        n_bars: Option<usize>,
        seed: u64,
        scenario: u64,
    ) -> Result<Self> {
        let block_length = match block_length {
            Some(l) if !(l.is_finite() && l >= 1.0) => {
                return Err(StressError::param(
                    "block_length",
                    format!("must be a finite number >= 1 (the mean block length in bars), got {l}"),
                ))
            }
            Some(l) => l,
            None => source.auto_block_length(),
        };
        let n_bars = n_bars.unwrap_or(source.n_units);
        if n_bars == 0 {
            return Err(StressError::param("n_bars", "must be >= 1, got 0"));
        }
        Ok(BlockBootstrap { source, block_length, n_bars, seed, scenario })
    }

    pub fn source(&self) -> &BootstrapSource {
        &self.source
    }

    pub fn block_length(&self) -> f64 {
        self.block_length
    }

    pub fn n_bars(&self) -> usize {
        self.n_bars
    }

    /// Open time of output bar `k`: the source's clock from its second bar on.
    pub fn timestamp(&self, k: usize) -> i64 {
        self.source.start_ms + self.source.interval_ms * k as i64
    }

    /// Memory of `n_paths` paths in bytes (None on overflow).
    pub fn bytes_needed(&self, n_paths: usize) -> Option<usize> {
        n_paths.checked_mul(self.source.n_symbols())?.checked_mul(self.n_bars)?.checked_mul(BYTES_PER_BAR)
    }

    /// The blocks of path `path` as `(first unit, length)` pieces, each contiguous in the source
    /// (a block running off the end of the source continues at its start, as a new piece).
    /// Lengths sum to `n_bars`. `out` is cleared first (a reusable buffer).
    pub fn blocks(&self, path: u64, out: &mut Vec<(usize, usize)>) {
        out.clear();
        let mut rng = Stream::new(Domain::Bootstrap, self.seed, self.scenario, path, MARKET);
        let n = self.source.n_units;
        let p = 1.0 / self.block_length;
        let mut k = 0;
        while k < self.n_bars {
            let start = rng.below(n as u64) as usize;
            // 1 + Geometric failures: a length >= 1 with mean 1/p = L
            let len = rng.geometric(p).saturating_add(1).min((self.n_bars - k) as u64) as usize;
            let first = len.min(n - start);
            out.push((start, first));
            let mut rest = len - first;
            while rest > 0 {
                let piece = rest.min(n);
                out.push((0, piece));
                rest -= piece;
            }
            k += len;
        }
    }

    /// The unit index (source bar - 1) of every bar of path `path`.
    pub fn fill_indices(&self, path: u64, out: &mut [usize]) {
        let mut blocks = Vec::new();
        self.blocks(path, &mut blocks);
        let mut k = 0;
        for (u, len) in blocks {
            for (slot, unit) in out[k..k + len].iter_mut().zip(u..) {
                *slot = unit;
            }
            k += len;
        }
    }

    /// Unit indices of paths `first..first + n_paths`, path-major (`n_paths * n_bars`).
    pub fn indices_range(&self, first: u64, n_paths: usize) -> Result<Vec<usize>> {
        let len = n_paths
            .checked_mul(self.n_bars)
            .ok_or_else(|| StressError::Memory("n_paths * n_bars overflows the address space".into()))?;
        let mut out = vec![0usize; len];
        out.par_chunks_mut(self.n_bars).enumerate().for_each(|(p, ch)| self.fill_indices(first + p as u64, ch));
        Ok(out)
    }

    /// Fill one path's columns (each `n_symbols * n_bars`, symbol-major) from its blocks.
    /// Returns false if a price left the normal f64 range (under- or overflow on very long paths).
    pub fn fill_path(&self, blocks: &[(usize, usize)], out: &mut PathView<'_>) -> bool {
        let src = &self.source;
        let (nb, ns) = (self.n_bars, src.n_src);
        let mut ok = true;
        for s in 0..src.n_symbols() {
            let bars = &src.bars[s * ns..(s + 1) * ns];
            let row = s * nb..(s + 1) * nb;
            let (open, high, low, close) = (
                &mut out.open[row.clone()],
                &mut out.high[row.clone()],
                &mut out.low[row.clone()],
                &mut out.close[row.clone()],
            );
            let (volume, spread) = (&mut out.volume[row.clone()], &mut out.spread[row]);
            let mut prev = bars[0].close;
            let (mut min_scale, mut max_scale) = (1.0f64, 1.0f64);
            let mut k = 0;
            for &(u, len) in blocks {
                // unit u is source bar u + 1, whose previous close is source bar u's
                let scale = prev * bars[u].inv_close;
                min_scale = min_scale.min(scale);
                max_scale = max_scale.max(scale);
                let seg = &bars[u + 1..u + 1 + len];
                let dst = k..k + len;
                let (o, h, l, c) =
                    (&mut open[dst.clone()], &mut high[dst.clone()], &mut low[dst.clone()], &mut close[dst.clone()]);
                let (v, sp) = (&mut volume[dst.clone()], &mut spread[dst]);
                for (j, b) in seg.iter().enumerate() {
                    o[j] = scale * b.open;
                    h[j] = scale * b.high;
                    l[j] = scale * b.low;
                    c[j] = scale * b.close;
                    v[j] = b.volume;
                    sp[j] = b.spread;
                }
                prev = scale * bars[u + len].close; // = close[k + len - 1], without reading it back
                k += len;
            }
            // every price is a scale times a source price in [lowest low, highest high]
            ok &= (min_scale * src.lowest[s]).is_normal() && (max_scale * src.highest[s]).is_finite();
        }
        ok
    }

    /// Generate paths `first..first + n_paths` in parallel; bit-identical on any thread count.
    pub fn generate_range(&self, first: u64, n_paths: usize) -> Result<MarketPaths> {
        let m = self.source.n_symbols();
        let mut paths = MarketPaths::zeroed(n_paths, m, self.n_bars)?;
        let bad = paths
            .par_paths_mut()
            .enumerate()
            .map_init(Vec::new, |blocks, (p, mut view)| {
                let path = first + p as u64;
                self.blocks(path, blocks);
                if self.fill_path(blocks, &mut view) {
                    None
                } else {
                    Some(path)
                }
            })
            .flatten()
            .min();
        if let Some(path) = bad {
            return Err(StressError::Data(format!(
                "n_bars: path {path} left the floating-point range (prices under- or overflowed after {} bars); \
                 ask for fewer bars per path",
                self.n_bars
            )));
        }
        Ok(paths)
    }
}

/// Flat-top lag window of Politis & Romano (1995): 1 on [0, 1/2], falling linearly to 0 at 1.
fn flat_top(s: f64) -> f64 {
    let a = s.abs();
    if a < 0.5 {
        1.0
    } else if a <= 1.0 {
        2.0 * (1.0 - a)
    } else {
        0.0
    }
}

/// Politis-White (2004) optimal mean block length of the stationary bootstrap for series `x`, with
/// the Patton-Politis-White (2009) correction.
///
/// With n values, `R(k)` the sample autocovariance (demeaned, divided by n) and `rho(k) = R(k)/R(0)`:
/// `K_n = max(5, ceil(log10 n))`, `m_max = ceil(sqrt n) + K_n`, `B_max = ceil(min(3 sqrt n, n/3))`,
/// `c = 2`; `m_hat` is the first lag j such that `|rho(j..j+K_n-1)| < c sqrt(log10(n)/n)` (else the
/// largest significant lag), `M = min(2 m_hat, m_max)`, `G = sum_{|k|<=M} lam(k/M) |k| R(k)`,
/// `g0 = sum_{|k|<=M} lam(k/M) R(k)`, `D_SB = 2 g0^2` and `b = (2 G^2 / D_SB)^(1/3) n^(1/3)`,
/// capped at `B_max`. The result is floored at 1 (the smallest mean block); a constant or
/// too-short series (n < 3) gives 1. Lags are capped at n - 1.
pub fn optimal_block_length(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 3 || x.iter().any(|v| !v.is_finite()) {
        return 1.0;
    }
    let nf = n as f64;
    let mean = x.iter().sum::<f64>() / nf;
    let d: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let kn = (nf.log10().ceil() as usize).max(5);
    let m_max = (nf.sqrt().ceil() as usize + kn).min(n - 1);
    let b_max = (3.0 * nf.sqrt()).min(nf / 3.0).ceil().max(1.0);
    let acov: Vec<f64> =
        (0..=m_max).map(|k| d[k..].iter().zip(&d[..n - k]).map(|(a, b)| a * b).sum::<f64>() / nf).collect();
    if acov[0] <= 0.0 {
        return 1.0;
    }
    let crit = 2.0 * (nf.log10() / nf).sqrt();
    let insignificant = |k: usize| (acov[k] / acov[0]).abs() < crit;
    let first_quiet = (1..=m_max.saturating_sub(kn - 1)).find(|&j| (j..j + kn).all(insignificant));
    let m_hat = first_quiet.unwrap_or_else(|| (1..=m_max).rev().find(|&k| !insignificant(k)).unwrap_or(1));
    let big_m = (2 * m_hat).min(m_max);
    let mut g = 0.0;
    let mut g0 = acov[0];
    for (k, r) in acov.iter().enumerate().take(big_m + 1).skip(1) {
        let w = flat_top(k as f64 / big_m as f64);
        g += 2.0 * w * k as f64 * r;
        g0 += 2.0 * w * r;
    }
    if g0 == 0.0 || !g0.is_finite() {
        return 1.0;
    }
    let d_sb = 2.0 * g0 * g0;
    let b = (2.0 * g * g / d_sb).cbrt() * nf.cbrt();
    b.min(b_max).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market(closes: &[Vec<f64>]) -> MarketData {
        let n = closes[0].len();
        let symbols: Vec<String> = (0..closes.len()).map(|s| format!("S{s}")).collect();
        let mut open = Vec::new();
        let mut high = Vec::new();
        let mut low = Vec::new();
        let mut close = Vec::new();
        for c in closes {
            for t in 0..n {
                let o = if t == 0 { c[0] } else { c[t - 1] * 1.001 };
                open.push(o);
                close.push(c[t]);
                high.push(o.max(c[t]) * 1.01);
                low.push(o.min(c[t]) * 0.99);
            }
        }
        let ts = (0..n as i64).map(|t| t * 3_600_000).collect();
        let vol = (0..closes.len() * n).map(|i| i as f64).collect();
        MarketData::new(symbols, ts, open, high, low, close, vol, None, None).expect("market")
    }

    fn random_walk(n: usize, seed: u64) -> Vec<f64> {
        let mut r = Stream::from_u64(seed);
        let mut p = 100.0;
        (0..n)
            .map(|_| {
                p *= (0.01 * r.normal()).exp();
                p
            })
            .collect()
    }

    #[test]
    fn paths_are_made_of_source_units_and_keep_ohlc() {
        let md = market(&[random_walk(500, 1), random_walk(500, 2)]);
        let src = BootstrapSource::new(&md).expect("source");
        let bs = BlockBootstrap::new(src.clone(), Some(5.0), Some(2000), 7, 11).expect("bootstrap");
        let paths = bs.generate_range(3, 4).expect("paths");
        let idx = bs.indices_range(3, 4).expect("indices");
        for p in 0..4 {
            for s in 0..2 {
                let mut prev = md.close[md.idx(s, 0)];
                for k in 0..2000 {
                    let i = paths.index(p, s, k);
                    let u = idx[p * 2000 + k];
                    let (o, h, l, c) = (paths.open[i], paths.high[i], paths.low[i], paths.close[i]);
                    assert!(l <= o.min(c) && h >= o.max(c) && l > 0.0);
                    let want = md.close[md.idx(s, u + 1)] / md.close[md.idx(s, u)];
                    assert!((c / prev / want - 1.0).abs() < 1e-12);
                    assert_eq!(paths.volume[i], md.volume[md.idx(s, u + 1)]);
                    prev = c;
                }
            }
        }
    }

    #[test]
    fn thread_count_and_path_range_do_not_change_results() {
        let md = market(&[random_walk(300, 3)]);
        let bs = BlockBootstrap::new(BootstrapSource::new(&md).expect("src"), None, Some(777), 1, 2).expect("bs");
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
        let a = one.install(|| bs.generate_range(0, 6)).expect("a");
        let b = two.install(|| bs.generate_range(0, 6)).expect("b");
        assert_eq!(a.close, b.close);
        assert_eq!(a.high, b.high);
        let alone = bs.generate_range(4, 1).expect("alone");
        assert_eq!(alone.close[..], a.close[4 * 777..5 * 777]);
    }

    #[test]
    fn block_lengths_are_geometric_with_mean_l() {
        let md = market(&[random_walk(5000, 4)]);
        let bs =
            BlockBootstrap::new(BootstrapSource::new(&md).expect("src"), Some(8.0), Some(200_000), 5, 6).expect("bs");
        let idx = bs.indices_range(0, 1).expect("idx");
        let n = bs.source().n_units();
        let breaks = idx.windows(2).filter(|w| w[1] != (w[0] + 1) % n).count();
        // a new block continues the previous one by chance with probability 1/n
        let expect = (idx.len() - 1) as f64 / 8.0 * (1.0 - 1.0 / n as f64);
        let sd = (expect * (1.0 - 1.0 / 8.0)).sqrt();
        assert!((breaks as f64 - expect).abs() < 5.0 * sd, "breaks {breaks} expect {expect}");
    }

    #[test]
    fn bad_input_is_an_error_naming_the_field() {
        let mut md = market(&[random_walk(50, 5)]);
        md.close[10] = f64::NAN;
        let e = BootstrapSource::new(&md).expect_err("nan");
        assert!(e.to_string().starts_with("close:"), "{e}");
        let md1 = market(&[vec![100.0]]);
        assert!(BootstrapSource::new(&md1).expect_err("one bar").to_string().starts_with("bars:"));
        let src = BootstrapSource::new(&market(&[random_walk(50, 6)])).expect("src");
        for bad in [0.0, 0.5, -1.0, f64::NAN, f64::INFINITY] {
            let e = BlockBootstrap::new(src.clone(), Some(bad), None, 0, 0).expect_err("bad L");
            assert!(matches!(e, StressError::InvalidParam { ref field, .. } if field == "block_length"));
        }
        let bs = BlockBootstrap::new(src, Some(2.0), None, 0, 0).expect("bs");
        assert!(
            matches!(bs.generate_range(0, 0), Err(StressError::InvalidParam { ref field, .. }) if field == "n_paths")
        );
    }

    #[test]
    fn block_length_rule_reacts_to_dependence() {
        // white noise: no dependence, the rule gives a short block; an AR(1) with phi .9: a long one
        let mut r = Stream::from_u64(8);
        let wn: Vec<f64> = (0..5000).map(|_| r.normal()).collect();
        let mut ar = vec![0.0; 5000];
        for t in 1..5000 {
            ar[t] = 0.9 * ar[t - 1] + r.normal();
        }
        let (bw, ba) = (optimal_block_length(&wn), optimal_block_length(&ar));
        assert!(bw < 3.0, "white noise {bw}");
        assert!(ba > 15.0, "ar1 {ba}");
        assert_eq!(optimal_block_length(&[1.0; 100]), 1.0);
        assert_eq!(optimal_block_length(&[1.0, 2.0]), 1.0);
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(fmt_utc_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(fmt_utc_ms(1_583_316_000_000), "2020-03-04T10:00:00Z");
        assert_eq!(fmt_utc_ms(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
