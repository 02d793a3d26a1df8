//! Stress transforms: turn calm or historical bars into the stressed market of a scenario.
//!
//! Every transform is a pure function of (columns, validated parameters, random stream) that edits
//! one symbol's bars in place, sets its bit in the per-bar `flags` mask ([`TransformKind::flag`])
//! and returns the [`Event`]s it caused, so results can be attributed later. One module per
//! transform:
//!
//! | module | what it does |
//! |---|---|
//! | [`flash_crash`] | price falls by `drop_pct` over `duration_bars`, recovers `recovery_pct` of the fall over `recovery_bars`; volume and spread rise |
//! | [`volatility_spike`] | returns and intrabar range scaled by `multiplier` around the window's mean return |
//! | [`liquidity_drop`] | volume x (1 - `drop_pct`), spread x (1 - `drop_pct`)^-`spread_elasticity` |
//! | [`spread_explosion`] | spread x `spread_mult` |
//! | [`data_corruption`] | `round(corruption_pct * bars)` bars corrupted with the requested kinds; ground truth returned |
//! | [`correlation_breakdown`] | cross-asset correlation of returns set to a target, each asset's volatility kept |
//! | [`pump_and_dump`] | rise by `pump_pct`, fall by `dump_pct` from the top, volume x `volume_mult` |
//! | [`mixed`] | any combination, applied in [`mixed::ORDER`] |
//!
//! The shared machinery: [`bars`] (column views and the two ways of moving prices while keeping
//! OHLC consistent), [`position`] (where a window starts: bar, time or random), [`plan`] (the
//! long table's (path, symbol) layout and the parallel application of a list of steps),
//! [`single_pass`] (the same run read from borrowed columns and written once into the output,
//! one path at a time in cache: what the Python binding uses).
//!
//! # Prices
//! Transforms that move prices work in log space on the bar decomposition
//! `open = prev_close * gap`, `close = open * e^body`, `high = max(open, close) * up`,
//! `low = min(open, close) * down` with `up >= 1 >= down`, so `low <= min(open, close) <=
//! max(open, close) <= high` holds exactly in floating point after every transform (except data
//! corruption, which breaks it only where its ground truth says). A transform that changes the
//! price level (crash, pump and dump) multiplies every later bar by the window's final level
//! factor so the path stays continuous and later returns are unchanged; it reports that factor
//! in [`Event::level_factor`]. Later bars are rescaled, not flagged.
//!
//! # Randomness
//! Step streams are `Stream::new(Domain::Stress, seed, scenario_key ^ kind.stream_tag(), path,
//! symbol)`: the transform's tag is mixed into the scenario key so the steps of one mixed scenario
//! draw independently. Random positions use `symbol = MARKET` so every symbol of a path is hit at
//! the same time. Nothing depends on the thread count.

pub mod bars;
pub mod correlation_breakdown;
pub mod data_corruption;
pub mod flash_crash;
pub mod liquidity_drop;
pub mod mixed;
pub mod params;
pub mod plan;
pub mod position;
pub mod pump_and_dump;
pub mod single_pass;
pub mod spread_explosion;
pub mod volatility_spike;

pub use bars::Bars;
pub use correlation_breakdown::{CorrelationBreakdown, CorrelationTarget};
pub use data_corruption::{CorruptionKind, DataCorruption};
pub use flash_crash::FlashCrash;
pub use liquidity_drop::LiquidityDrop;
pub use mixed::{Step, Transform};
pub use plan::{Columns, Layout, Outcome, StressRun};
pub use position::Position;
pub use pump_and_dump::PumpAndDump;
pub use single_pass::{Source, Sources};
pub use spread_explosion::SpreadExplosion;
pub use volatility_spike::VolatilitySpike;

use crate::error::{Result, StressError};
use crate::rng::scenario_key;

/// The kinds of transform; each owns one bit of the `stress_flags` mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransformKind {
    FlashCrash,
    VolatilitySpike,
    LiquidityDrop,
    SpreadExplosion,
    DataCorruption,
    CorrelationBreakdown,
    PumpAndDump,
}

/// Value columns as bits of a set (see [`TransformKind::columns`]), in `Columns` order.
pub const COLUMN_NAMES: [&str; 6] = ["open", "high", "low", "close", "volume", "spread"];
pub const COL_PRICES: u8 = 0b00_1111;
pub const COL_VOLUME: u8 = 0b01_0000;
pub const COL_SPREAD: u8 = 0b10_0000;
pub const COL_ALL: u8 = 0b11_1111;

/// All kinds, in flag-bit order.
pub const ALL_KINDS: [TransformKind; 7] = [
    TransformKind::FlashCrash,
    TransformKind::VolatilitySpike,
    TransformKind::LiquidityDrop,
    TransformKind::SpreadExplosion,
    TransformKind::DataCorruption,
    TransformKind::CorrelationBreakdown,
    TransformKind::PumpAndDump,
];

impl TransformKind {
    /// The bit this transform sets in `stress_flags`: 1, 2, 4, ... 64 in [`ALL_KINDS`] order.
    pub const fn flag(self) -> u32 {
        match self {
            TransformKind::FlashCrash => 1,
            TransformKind::VolatilitySpike => 2,
            TransformKind::LiquidityDrop => 4,
            TransformKind::SpreadExplosion => 8,
            TransformKind::DataCorruption => 16,
            TransformKind::CorrelationBreakdown => 32,
            TransformKind::PumpAndDump => 64,
        }
    }

    /// The lower-case name used in scenarios and in the record.
    pub const fn name(self) -> &'static str {
        match self {
            TransformKind::FlashCrash => "flash_crash",
            TransformKind::VolatilitySpike => "volatility_spike",
            TransformKind::LiquidityDrop => "liquidity_drop",
            TransformKind::SpreadExplosion => "spread_explosion",
            TransformKind::DataCorruption => "data_corruption",
            TransformKind::CorrelationBreakdown => "correlation_breakdown",
            TransformKind::PumpAndDump => "pump_and_dump",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        ALL_KINDS.into_iter().find(|k| k.name() == name).ok_or_else(|| {
            let allowed: Vec<&str> = ALL_KINDS.iter().map(|k| k.name()).collect();
            StressError::param("transform", format!("unknown transform {name:?}; allowed: {}", allowed.join(", ")))
        })
    }

    /// The value columns the transform reads or writes (bits of [`COLUMN_NAMES`]); a run copies
    /// only the union of its steps' columns, the others pass through untouched.
    pub const fn columns(self) -> u8 {
        match self {
            TransformKind::FlashCrash => COL_PRICES | COL_VOLUME | COL_SPREAD,
            TransformKind::VolatilitySpike | TransformKind::CorrelationBreakdown => COL_PRICES,
            TransformKind::LiquidityDrop => COL_VOLUME | COL_SPREAD,
            TransformKind::SpreadExplosion => COL_SPREAD,
            TransformKind::DataCorruption => COL_ALL,
            TransformKind::PumpAndDump => COL_PRICES | COL_VOLUME,
        }
    }

    /// Mixed into the scenario key of this transform's streams (FNV-1a of the name).
    pub fn stream_tag(self) -> u64 {
        scenario_key(self.name())
    }
}

/// One entry of the record of what a transform changed.
///
/// Window transforms give one event per phase (`kind` "crash"/"recovery", "pump"/"dump", or
/// "window") covering bars `bar..end_bar` of the (path, symbol) series; data corruption gives one
/// event per corrupted bar with `kind` the corruption kind and `column` what it hit.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Path value of the series (0 without a path column) and symbol id.
    pub path: u64,
    pub symbol: u32,
    pub transform: TransformKind,
    pub kind: &'static str,
    /// First bar and one past the last bar, as indices into the (path, symbol) series.
    pub bar: usize,
    pub end_bar: usize,
    /// Row of `bar` in the whole input table (set by the plan).
    pub row: usize,
    /// Column hit ("close", "volume", "row", ...); "" for window events.
    pub column: &'static str,
    /// Factor applied to every price after the window (1 when the level is unchanged).
    pub level_factor: f64,
    /// A kind-specific number: spike factor, target correlation, multiplier; NaN when unused.
    pub value: f64,
}

impl Event {
    /// An event of one transform over `bar..end_bar`; the plan fills in path, symbol and row.
    pub fn window(transform: TransformKind, kind: &'static str, bar: usize, end_bar: usize) -> Self {
        Event {
            path: 0,
            symbol: 0,
            transform,
            kind,
            bar,
            end_bar,
            row: 0,
            column: "",
            level_factor: 1.0,
            value: f64::NAN,
        }
    }
}
