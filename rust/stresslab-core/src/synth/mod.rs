//! Synthetic multi-symbol OHLCV + spread markets.
//!
//! Two models:
//! - [`Model::Realistic`]: the REALISM.md model (common calm/stress regime, GJR-GARCH with
//!   Student-t innovations sharing one mixing variable across symbols, regime-dependent
//!   correlation, market and idiosyncratic jumps, hour-of-day seasonality, MA(1) microstructure
//!   term, Brownian-bridge high/low, volume coupled to returns and to the latent volatility,
//!   spread widening with volatility and thin volume), see [`realistic`].
//! - [`Model::Gbm`]: plain Gaussian GBM with constant volatility, iid lognormal volume and a
//!   constant spread level; the simplest baseline, see [`gbm`].
//!
//! Output layout: one [`MarketPaths`] holding `n_paths * n_symbols * n_bars` values per column,
//! path-major then symbol then bar, i.e. the long format sorted by (path, symbol, timestamp).
//! Paths are generated in parallel with rayon, each from its own streams (see [`crate::rng`]).

mod draws;
mod fastmath;
pub mod gbm;
pub mod profile;
pub mod realistic;

use rayon::prelude::*;

use crate::error::{check_positive, check_range, Result, StressError};
use crate::linalg::cholesky_correlation;
pub use profile::{default_pair_correlation, SymbolProfile, HOUR_LOG_VOLUME, HOUR_VOL, PROFILE_FIELDS};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Which generator to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    Realistic,
    Gbm,
}

impl Model {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "realistic" => Ok(Model::Realistic),
            "gbm" => Ok(Model::Gbm),
            other => Err(StressError::param("model", format!("must be 'realistic' or 'gbm', got {other:?}"))),
        }
    }
}

/// Market-wide parameters shared by all symbols (per hour; rescaled to the bar interval).
#[derive(Clone, Debug, PartialEq)]
pub struct MarketParams {
    /// Regime switch probabilities per hour (REALISM: 1/3000 calm->stress, 1/1000 back).
    pub p_calm_to_stress: f64,
    pub p_stress_to_calm: f64,
    /// Volatility ratio stress / calm (3). The two levels are normalised so E m^2 = 1.
    pub stress_vol_ratio: f64,
    /// Cap on the GARCH variance (9): without it t-shocks sometimes cascade into 50-100% bars.
    pub garch_cap: f64,
    /// Common market jump: probability per hour, mean and sd of the log jump.
    pub market_jump_prob: f64,
    pub market_jump_mean: f64,
    pub market_jump_sd: f64,
    /// Idiosyncratic jump per symbol.
    pub idio_jump_prob: f64,
    pub idio_jump_mean: f64,
    pub idio_jump_sd: f64,
    /// Degrees of freedom of the mixing variable shared by all symbols (None: mean of profiles).
    pub nu: Option<f64>,
}

/// Names accepted by [`MarketParams::set`].
pub const MARKET_FIELDS: [&str; 11] = [
    "p_calm_to_stress",
    "p_stress_to_calm",
    "stress_vol_ratio",
    "garch_cap",
    "market_jump_prob",
    "market_jump_mean",
    "market_jump_sd",
    "idio_jump_prob",
    "idio_jump_mean",
    "idio_jump_sd",
    "nu",
];

impl MarketParams {
    /// Override one market-wide parameter by name (ranges are checked when the spec is built).
    pub fn set(&mut self, field: &str, value: f64) -> Result<()> {
        let slot = match field {
            "p_calm_to_stress" => &mut self.p_calm_to_stress,
            "p_stress_to_calm" => &mut self.p_stress_to_calm,
            "stress_vol_ratio" => &mut self.stress_vol_ratio,
            "garch_cap" => &mut self.garch_cap,
            "market_jump_prob" => &mut self.market_jump_prob,
            "market_jump_mean" => &mut self.market_jump_mean,
            "market_jump_sd" => &mut self.market_jump_sd,
            "idio_jump_prob" => &mut self.idio_jump_prob,
            "idio_jump_mean" => &mut self.idio_jump_mean,
            "idio_jump_sd" => &mut self.idio_jump_sd,
            "nu" => {
                self.nu = Some(value);
                return Ok(());
            }
            other => {
                return Err(StressError::param(
                    other,
                    format!("unknown market parameter; allowed: {}", MARKET_FIELDS.join(", ")),
                ))
            }
        };
        *slot = value;
        Ok(())
    }
}

impl Default for MarketParams {
    fn default() -> Self {
        MarketParams {
            p_calm_to_stress: 1.0 / 3000.0,
            p_stress_to_calm: 1.0 / 1000.0,
            stress_vol_ratio: 3.0,
            garch_cap: 9.0,
            market_jump_prob: 0.002,
            market_jump_mean: -0.012,
            market_jump_sd: 0.025,
            idio_jump_prob: 0.0005,
            idio_jump_mean: -0.005,
            idio_jump_sd: 0.03,
            nu: None,
        }
    }
}

/// A complete, validated request for synthetic paths. Build with [`MarketSpec::new`].
#[derive(Clone, Debug)]
pub struct MarketSpec {
    pub model: Model,
    pub symbols: Vec<SymbolProfile>,
    pub n_bars: usize,
    pub start_ms: i64,
    pub interval_ms: i64,
    pub seed: u64,
    pub scenario: u64,
    pub market: MarketParams,
    /// Row-major correlation matrices (calm and stress regimes) and their Cholesky factors.
    pub corr_calm: Vec<f64>,
    pub corr_stress: Vec<f64>,
    pub(crate) chol_calm: Vec<f64>,
    pub(crate) chol_stress: Vec<f64>,
}

/// Bytes one bar of one symbol takes in [`MarketPaths`] (6 f64 columns).
pub const BYTES_PER_BAR: usize = 6 * 8;

impl MarketSpec {
    /// Validate everything once, so that generation itself cannot fail.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: Model,
        symbols: Vec<SymbolProfile>,
        n_bars: usize,
        start_ms: i64,
        interval_ms: i64,
        seed: u64,
        scenario: u64,
        market: MarketParams,
        corr_calm: Option<Vec<f64>>,
        corr_stress: Option<Vec<f64>>,
    ) -> Result<Self> {
        if symbols.is_empty() {
            return Err(StressError::param("symbols", "must name at least one symbol"));
        }
        if n_bars == 0 {
            return Err(StressError::param("n_bars", "must be >= 1, got 0"));
        }
        if interval_ms <= 0 {
            return Err(StressError::param("interval", format!("must be a positive duration, got {interval_ms} ms")));
        }
        let n = symbols.len();
        for (i, a) in symbols.iter().enumerate() {
            for b in &symbols[..i] {
                if a.name == b.name {
                    return Err(StressError::param("symbols", format!("duplicate symbol {:?}", a.name)));
                }
            }
            validate_profile(a)?;
        }
        validate_market(&market)?;
        let default_corr = |stress: bool| -> Vec<f64> {
            let mut m = vec![1.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    if i != j {
                        let (c, s) = default_pair_correlation(&symbols[i].name, &symbols[j].name);
                        m[i * n + j] = if stress { s } else { c };
                    }
                }
            }
            m
        };
        let corr_calm = corr_calm.unwrap_or_else(|| default_corr(false));
        // A user-given calm matrix without a stress one keeps the same matrix in stress.
        let corr_stress = corr_stress.unwrap_or_else(|| {
            if n > 1 && corr_calm != default_corr(false) {
                corr_calm.clone()
            } else {
                default_corr(true)
            }
        });
        let chol_calm = cholesky_correlation("correlation", &corr_calm, n)?;
        let chol_stress = cholesky_correlation("stress_correlation", &corr_stress, n)?;
        Ok(MarketSpec {
            model,
            symbols,
            n_bars,
            start_ms,
            interval_ms,
            seed,
            scenario,
            market,
            corr_calm,
            corr_stress,
            chol_calm,
            chol_stress,
        })
    }

    pub fn n_symbols(&self) -> usize {
        self.symbols.len()
    }

    /// Bar length in hours.
    pub fn dt_hours(&self) -> f64 {
        self.interval_ms as f64 / HOUR_MS as f64
    }

    /// Timestamp (ms UTC) of bar `t`'s open.
    pub fn timestamp(&self, t: usize) -> i64 {
        self.start_ms + self.interval_ms * t as i64
    }

    /// Memory needed for `n_paths` paths (bytes), or None on overflow.
    pub fn bytes_needed(&self, n_paths: usize) -> Option<usize> {
        n_paths.checked_mul(self.n_symbols())?.checked_mul(self.n_bars)?.checked_mul(BYTES_PER_BAR)
    }

    /// Generate `n_paths` paths in parallel (rayon). Bit-identical for any thread count.
    pub fn generate(&self, n_paths: usize) -> Result<MarketPaths> {
        self.generate_range(0, n_paths)
    }

    /// Generate paths `first..first + n_paths` (any path can be regenerated alone).
    pub fn generate_range(&self, first: u64, n_paths: usize) -> Result<MarketPaths> {
        let mut out = MarketPaths::zeroed(n_paths, self.n_symbols(), self.n_bars)?;
        out.par_paths_mut().enumerate().for_each(|(p, mut view)| self.generate_path(first + p as u64, &mut view));
        Ok(out)
    }

    /// Fill one path's columns (each `n_symbols * n_bars` long, symbol-major).
    pub fn generate_path(&self, path: u64, out: &mut PathView<'_>) {
        match self.model {
            Model::Realistic => realistic::generate_path(self, path, out),
            Model::Gbm => gbm::generate_path(self, path, out),
        }
    }

    /// Hour-of-day factor tables for this interval: entry h is for bars opening at UTC hour h.
    /// Bars of several hours take the rms (volatility) / log-mean (volume) over the hours they
    /// cover; bars of a day or longer get 1 / 0 (the pattern averages out).
    pub(crate) fn season_tables(&self, exponent: f64) -> ([f64; 24], [f64; 24]) {
        let raw: Vec<f64> = HOUR_VOL.iter().map(|c| c.powf(exponent)).collect();
        let rms = (raw.iter().map(|c| c * c).sum::<f64>() / 24.0).sqrt();
        let s: Vec<f64> = raw.iter().map(|c| c / rms).collect();
        let hours = (self.interval_ms / HOUR_MS).max(1) as usize;
        let mut vol = [1.0; 24];
        let mut lv = [0.0; 24];
        if self.interval_ms < DAY_MS {
            for h in 0..24 {
                let covered = (0..hours).map(|k| (h + k) % 24);
                let v2: f64 = covered.clone().map(|k| s[k] * s[k]).sum::<f64>() / hours as f64;
                vol[h] = v2.sqrt();
                let m: f64 = covered.map(|k| HOUR_LOG_VOLUME[k].exp()).sum::<f64>() / hours as f64;
                lv[h] = m.ln();
            }
        }
        (vol, lv)
    }

    /// UTC hour of bar t's open (the definition [`HourCursor`] is tested against).
    #[cfg(test)]
    pub(crate) fn hour_of(&self, t: usize) -> usize {
        self.timestamp(t).div_euclid(HOUR_MS).rem_euclid(24) as usize
    }

    /// The UTC hours of bars 0, 1, 2, ... without a division per bar.
    pub(crate) fn hours(&self) -> HourCursor {
        let ms_of_day = self.start_ms.rem_euclid(DAY_MS);
        let step = self.interval_ms.rem_euclid(DAY_MS);
        HourCursor {
            hour: (ms_of_day / HOUR_MS) as usize,
            ms_in_hour: ms_of_day % HOUR_MS,
            step_hours: (step / HOUR_MS) as usize,
            step_ms: step % HOUR_MS,
        }
    }
}

/// UTC hour of successive bar opens, advanced by additions only (a 64-bit division per bar cost
/// more than the rest of the hour-of-day logic). Equal to [`MarketSpec::hour_of`] bar by bar.
#[derive(Clone, Debug)]
pub(crate) struct HourCursor {
    hour: usize,
    ms_in_hour: i64,
    step_hours: usize,
    step_ms: i64,
}

impl HourCursor {
    /// The current bar's hour; moves to the next bar.
    #[inline(always)]
    pub(crate) fn next_hour(&mut self) -> usize {
        let h = self.hour;
        self.ms_in_hour += self.step_ms;
        self.hour += self.step_hours;
        if self.ms_in_hour >= HOUR_MS {
            self.ms_in_hour -= HOUR_MS;
            self.hour += 1;
        }
        if self.hour >= 24 {
            self.hour -= 24;
        }
        h
    }
}

fn validate_profile(p: &SymbolProfile) -> Result<()> {
    let f = |name: &str| format!("{}.{}", p.name, name);
    check_positive(&f("initial_price"), p.initial_price)?;
    check_range(&f("sigma"), p.sigma, 1e-9, 1.0)?;
    check_range(&f("garch_alpha"), p.garch_alpha, 0.0, 1.0)?;
    check_range(&f("garch_gamma"), p.garch_gamma, 0.0, 1.0)?;
    check_range(&f("garch_beta"), p.garch_beta, 0.0, 1.0)?;
    if p.garch_alpha + p.garch_gamma / 2.0 + p.garch_beta >= 1.0 {
        return Err(StressError::param(
            f("garch_beta"),
            "garch_alpha + garch_gamma/2 + garch_beta must be < 1 (stationary variance)",
        ));
    }
    check_range(&f("nu"), p.nu, 2.05, 1e6)?;
    check_range(&f("theta"), p.theta, -0.99, 0.99)?;
    check_range(&f("season_exponent"), p.season_exponent, 0.0, 10.0)?;
    check_range(&f("jump_loading"), p.jump_loading, 0.0, 100.0)?;
    check_range(&f("hl_factor"), p.hl_factor, 0.0, 10.0)?;
    check_positive(&f("base_volume"), p.base_volume)?;
    check_range(&f("volume_phi"), p.volume_phi, 0.0, 0.999)?;
    check_range(&f("volume_g"), p.volume_g, 0.0, 10.0)?;
    check_range(&f("volume_kappa"), p.volume_kappa, 0.0, 10.0)?;
    check_range(&f("volume_noise"), p.volume_noise, 0.0, 5.0)?;
    check_range(&f("spread_bps"), p.spread_bps, 0.0, 10_000.0)?;
    check_range(&f("spread_exponent"), p.spread_exponent, 0.0, 5.0)?;
    check_range(&f("spread_noise"), p.spread_noise, 0.0, 5.0)?;
    check_range(&f("spread_floor_bps"), p.spread_floor_bps, 0.0, 10_000.0)?;
    check_range(&f("spread_liquidity"), p.spread_liquidity, 0.0, 10.0)?;
    Ok(())
}

fn validate_market(m: &MarketParams) -> Result<()> {
    check_range("p_calm_to_stress", m.p_calm_to_stress, 0.0, 1.0)?;
    check_range("p_stress_to_calm", m.p_stress_to_calm, 0.0, 1.0)?;
    check_range("stress_vol_ratio", m.stress_vol_ratio, 1.0, 100.0)?;
    check_range("garch_cap", m.garch_cap, 1.0, 1e6)?;
    check_range("market_jump_prob", m.market_jump_prob, 0.0, 1.0)?;
    check_range("market_jump_mean", m.market_jump_mean, -1.0, 1.0)?;
    check_range("market_jump_sd", m.market_jump_sd, 0.0, 1.0)?;
    check_range("idio_jump_prob", m.idio_jump_prob, 0.0, 1.0)?;
    check_range("idio_jump_mean", m.idio_jump_mean, -1.0, 1.0)?;
    check_range("idio_jump_sd", m.idio_jump_sd, 0.0, 1.0)?;
    if let Some(nu) = m.nu {
        check_range("nu", nu, 2.05, 1e6)?;
    }
    Ok(())
}

/// Owned columns for many paths (path-major, then symbol, then bar).
#[derive(Clone, Debug, Default)]
pub struct MarketPaths {
    pub n_paths: usize,
    pub n_symbols: usize,
    pub n_bars: usize,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
    /// Relative quoted spread (ask - bid) / mid, as a fraction (0.0001 = 1 bp).
    pub spread: Vec<f64>,
}

/// Mutable views of one path's columns (each `n_symbols * n_bars` long).
pub struct PathView<'a> {
    pub open: &'a mut [f64],
    pub high: &'a mut [f64],
    pub low: &'a mut [f64],
    pub close: &'a mut [f64],
    pub volume: &'a mut [f64],
    pub spread: &'a mut [f64],
}

impl MarketPaths {
    /// Zero-filled columns for `n_paths` paths (>= 1), refusing sizes that overflow.
    pub fn zeroed(n_paths: usize, n_symbols: usize, n_bars: usize) -> Result<Self> {
        if n_paths == 0 {
            return Err(StressError::param("n_paths", "must be >= 1, got 0"));
        }
        let len = n_paths
            .checked_mul(n_symbols)
            .and_then(|r| r.checked_mul(n_bars))
            .filter(|r| r.checked_mul(BYTES_PER_BAR).is_some())
            .ok_or_else(|| StressError::Memory("n_paths * n_symbols * n_bars overflows the address space".into()))?;
        Ok(MarketPaths {
            n_paths,
            n_symbols,
            n_bars,
            open: vec![0.0; len],
            high: vec![0.0; len],
            low: vec![0.0; len],
            close: vec![0.0; len],
            volume: vec![0.0; len],
            spread: vec![0.0; len],
        })
    }

    /// All paths' columns as one view (what the tests fill through a single path's generator).
    #[cfg(test)]
    fn columns_mut(&mut self) -> PathView<'_> {
        PathView {
            open: &mut self.open,
            high: &mut self.high,
            low: &mut self.low,
            close: &mut self.close,
            volume: &mut self.volume,
            spread: &mut self.spread,
        }
    }

    /// One view per path, in path order, to fill the paths in parallel.
    pub fn par_paths_mut(&mut self) -> impl IndexedParallelIterator<Item = PathView<'_>> {
        let chunk = self.n_symbols * self.n_bars;
        self.open
            .par_chunks_mut(chunk)
            .zip(self.high.par_chunks_mut(chunk))
            .zip(self.low.par_chunks_mut(chunk))
            .zip(self.close.par_chunks_mut(chunk))
            .zip(self.volume.par_chunks_mut(chunk))
            .zip(self.spread.par_chunks_mut(chunk))
            .map(|(((((open, high), low), close), volume), spread)| PathView { open, high, low, close, volume, spread })
    }

    /// Index of (path, symbol, bar) in the columns.
    #[inline]
    pub fn index(&self, path: usize, symbol: usize, bar: usize) -> usize {
        (path * self.n_symbols + symbol) * self.n_bars + bar
    }
}

/// Brownian-bridge maximum and minimum (log space, from 0 to `x`, bar volatility `s`), with
/// E1, E2 ~ Exp(1) standing for -ln U, -ln V:
/// H = (x + sqrt(x^2 + 2 s^2 E1)) / 2, L = (x - sqrt(x^2 + 2 s^2 E2)) / 2.
/// Returned as (H - x/2, x/2 - L) >= 0: the half-widths above and below the bar's midpoint.
#[inline(always)]
pub(crate) fn bridge_half_widths(x: f64, s: f64, e1: f64, e2: f64) -> (f64, f64) {
    let x2 = x * x;
    let two_s2 = 2.0 * s * s;
    (0.5 * (x2 + two_s2 * e1).sqrt(), 0.5 * (x2 + two_s2 * e2).sqrt())
}

/// One block of one symbol's output columns, also used as scratch between a generator's passes:
/// the same six views as a path's, over a shorter range.
pub(crate) type BlockCols<'a> = PathView<'a>;

impl PathView<'_> {
    /// Columns `start..start + len` (one symbol's block of bars).
    pub(crate) fn block(&mut self, start: usize, len: usize) -> BlockCols<'_> {
        let r = start..start + len;
        BlockCols {
            open: &mut self.open[r.clone()],
            high: &mut self.high[r.clone()],
            low: &mut self.low[r.clone()],
            close: &mut self.close[r.clone()],
            volume: &mut self.volume[r.clone()],
            spread: &mut self.spread[r],
        }
    }
}

/// The price pass of a block, given the gross returns e^r in `close` and the bridge half-widths
/// in `high` / `low`: compounds the closes from `price` (sequential: one multiplication per bar),
/// then sets high / low around the midpoint sqrt(open close) = open e^{r/2} (vectorised), with
/// low <= min(open, close) <= max(open, close) <= high exactly in floating point. Returns the
/// last close.
#[inline(always)]
pub(crate) fn compound_prices(cols: &mut BlockCols<'_>, mut price: f64) -> f64 {
    for (o, c) in cols.open.iter_mut().zip(cols.close.iter_mut()) {
        *o = price;
        price *= *c;
        *c = price;
    }
    let it = cols.open.iter().zip(cols.close.iter()).zip(cols.high.iter_mut()).zip(cols.low.iter_mut());
    for (((o, c), up), down) in it {
        let (o, c) = (*o, *c);
        let mid = (o * c).sqrt();
        let hi = mid * fastmath::exp(*up);
        let lo = mid * fastmath::exp(-*down);
        let oc_max = if o > c { o } else { c };
        let oc_min = if o < c { o } else { c };
        *up = if hi > oc_max { hi } else { oc_max };
        *down = if lo < oc_min { lo } else { oc_min };
    }
    price
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_cursor_matches_hour_of() {
        let intervals = [60_000, 3_600_000, 5_400_000, 7_200_000, 86_400_000, 90_061_001, 7, 604_800_000];
        for interval_ms in intervals {
            for start_ms in [0, -1, 1_700_000_123_456, -86_400_000 * 3 + 1234, 3_599_999] {
                let spec = MarketSpec::new(
                    Model::Gbm,
                    vec![SymbolProfile::btc()],
                    1,
                    start_ms,
                    interval_ms,
                    1,
                    1,
                    MarketParams::default(),
                    None,
                    None,
                )
                .unwrap();
                let mut cur = spec.hours();
                for t in 0..3000 {
                    assert_eq!(cur.next_hour(), spec.hour_of(t), "interval {interval_ms} start {start_ms} bar {t}");
                }
            }
        }
    }

    #[test]
    fn bridge_contains_open_and_close() {
        let mut r = crate::rng::Stream::from_u64(3);
        for _ in 0..100_000 {
            let x = 0.05 * r.normal();
            let (up, down) = bridge_half_widths(x, 0.01, r.exp1(), r.exp1());
            // H = x/2 + up >= max(0, x), L = x/2 - down <= min(0, x)
            assert!(0.5 * x + up >= x.max(0.0) - 1e-15);
            assert!(0.5 * x - down <= x.min(0.0) + 1e-15);
        }
    }
}
