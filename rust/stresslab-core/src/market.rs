//! Columnar bars for the engine: one struct of plain f64 columns, symbol-major.
//!
//! `open[s * n_bars + t]` is symbol s at bar t. Timestamps are shared by all symbols (the loader
//! aligns symbols on one clock). `spread` is the relative quoted spread (fraction); NaN where
//! unknown (the exchange then uses its default). `flags` carries the stress transforms' per-bar
//! bitmask (see `stress_flags` in the Python docs); 0 when absent.

use crate::error::{Result, StressError};

#[derive(Clone, Debug, Default)]
pub struct MarketData {
    pub symbols: Vec<String>,
    pub n_bars: usize,
    pub timestamps: Vec<i64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
    pub spread: Vec<f64>,
    pub flags: Vec<u32>,
}

/// One symbol's bar, read by the exchange and the risk components.
#[derive(Clone, Copy, Debug)]
pub struct Bar {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub spread: f64,
    pub flags: u32,
}

impl Bar {
    /// Prices usable for trading: all finite and positive, high >= low.
    #[inline]
    pub fn is_tradeable(&self) -> bool {
        self.open.is_finite()
            && self.high.is_finite()
            && self.low.is_finite()
            && self.close.is_finite()
            && self.open > 0.0
            && self.low > 0.0
            && self.high >= self.low
    }

    /// Parkinson volatility of the bar, ln(H/L) / sqrt(4 ln 2) (0 for a flat or broken bar).
    #[inline]
    pub fn parkinson_sigma(&self) -> f64 {
        let r = (self.high / self.low).ln() * 0.600_561_204_393_224_9;
        if r.is_finite() && r > 0.0 {
            r
        } else {
            0.0
        }
    }
}

impl MarketData {
    /// Build from owned columns; every column must have n_symbols * n_bars values.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        symbols: Vec<String>,
        timestamps: Vec<i64>,
        open: Vec<f64>,
        high: Vec<f64>,
        low: Vec<f64>,
        close: Vec<f64>,
        volume: Vec<f64>,
        spread: Option<Vec<f64>>,
        flags: Option<Vec<u32>>,
    ) -> Result<Self> {
        if symbols.is_empty() {
            return Err(StressError::Data("market data has no symbols".into()));
        }
        let n_bars = timestamps.len();
        if n_bars == 0 {
            return Err(StressError::Data("market data has no bars".into()));
        }
        let len = symbols.len() * n_bars;
        let spread = spread.unwrap_or_else(|| vec![f64::NAN; len]);
        let flags = flags.unwrap_or_else(|| vec![0; len]);
        for (name, n) in [
            ("open", open.len()),
            ("high", high.len()),
            ("low", low.len()),
            ("close", close.len()),
            ("volume", volume.len()),
            ("spread", spread.len()),
            ("flags", flags.len()),
        ] {
            if n != len {
                return Err(StressError::Data(format!(
                    "column {name} has {n} values, expected {len} ({} symbols x {n_bars} bars)",
                    symbols.len()
                )));
            }
        }
        Ok(MarketData { symbols, n_bars, timestamps, open, high, low, close, volume, spread, flags })
    }

    pub fn n_symbols(&self) -> usize {
        self.symbols.len()
    }

    #[inline(always)]
    pub fn idx(&self, symbol: usize, bar: usize) -> usize {
        symbol * self.n_bars + bar
    }

    #[inline(always)]
    pub fn bar(&self, symbol: usize, t: usize) -> Bar {
        let i = symbol * self.n_bars + t;
        Bar {
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
            spread: self.spread[i],
            flags: self.flags[i],
        }
    }

    /// Bar length in ms (median of the first steps; 1 h when there is a single bar).
    pub fn interval_ms(&self) -> i64 {
        if self.n_bars < 2 {
            return 3_600_000;
        }
        let mut d: Vec<i64> = self.timestamps.windows(2).take(64).map(|w| w[1] - w[0]).collect();
        d.sort_unstable();
        d[d.len() / 2].max(1)
    }
}
