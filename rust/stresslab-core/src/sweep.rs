//! Monte Carlo sweeps: many paths of (synthetic market -> stress -> engine -> metrics), in
//! parallel, keeping one summary per path.
//!
//! Each path is generated, stressed and run by one worker into its own buffers and reduced to a
//! [`PathResult`] at once, so memory grows with the number of paths only by one small row each,
//! never by the bars. Path p's result depends only on (spec, p): any path can be re-run alone
//! (that is how the worst paths' equity curves are recovered after a sweep), and the table is
//! identical on any thread count.

use std::sync::Arc;

use rayon::prelude::*;

use crate::bootstrap::BlockBootstrap;
use crate::engine::{run_native_with_risk, EngineConfig};
use crate::error::{Result, StressError};
use crate::exchange::ExchangeConfig;
use crate::market::MarketData;
use crate::metrics::Metrics;
use crate::risk::RiskConfig;
use crate::strategy::Strategy;
use crate::stress::plan::{finalize, Columns, Layout, Segment};
use crate::stress::StressRun;
use crate::synth::{MarketPaths, MarketSpec};

/// Where a sweep's paths come from: the synthetic model, or a stationary block bootstrap of real
/// history ("what if 2021 happened in another order").
pub enum PathSource {
    Synthetic(MarketSpec),
    Bootstrap(BlockBootstrap),
}

impl PathSource {
    fn generate(&self, path: u64) -> Result<MarketPaths> {
        match self {
            PathSource::Synthetic(m) => m.generate_range(path, 1),
            PathSource::Bootstrap(b) => b.generate_range(path, 1),
        }
    }

    pub fn n_bars(&self) -> usize {
        match self {
            PathSource::Synthetic(m) => m.n_bars,
            PathSource::Bootstrap(b) => b.n_bars(),
        }
    }

    pub fn symbols(&self) -> Vec<String> {
        match self {
            PathSource::Synthetic(m) => m.symbols.iter().map(|s| s.name.clone()).collect(),
            PathSource::Bootstrap(b) => b.source().symbols().to_vec(),
        }
    }

    fn timestamp(&self, t: usize) -> i64 {
        match self {
            PathSource::Synthetic(m) => m.timestamp(t),
            PathSource::Bootstrap(b) => b.timestamp(t),
        }
    }
}

/// Everything a path needs except its index.
pub struct SweepSpec {
    pub market: PathSource,
    pub stress: Option<StressRun>,
    pub exchange: ExchangeConfig,
    pub engine: EngineConfig,
    /// The native risk stack (None: none).
    pub risk: Option<RiskConfig>,
}

/// The summary of one path.
#[derive(Clone, Debug)]
pub struct PathResult {
    pub path: u64,
    pub metrics: Metrics,
    pub fills: u64,
    pub execution_failures: u64,
    pub latency_spikes: u64,
    pub strategy_failures: u64,
    pub emergency_stops: u64,
    pub policy_transitions: u64,
    /// Bars (over all symbols) that a stress transform touched.
    pub stressed_bars: u64,
    /// Only when asked for (the worst paths, or on request).
    pub equity_curve: Vec<f64>,
}

/// The stressed bars of path `path`.
pub fn path_market(spec: &SweepSpec, path: u64) -> Result<MarketData> {
    let gen = spec.market.generate(path)?;
    let names = spec.market.symbols();
    let (m, n) = (names.len(), spec.market.n_bars());
    let timestamps: Vec<i64> = (0..n).map(|t| spec.market.timestamp(t)).collect();
    let mut cols = Columns {
        open: gen.open,
        high: gen.high,
        low: gen.low,
        close: gen.close,
        volume: gen.volume,
        // a bootstrap of bars without a spread column carries NaN: the engine then uses its default
        spread: gen.spread,
        flags: vec![0; m * n],
    };
    if let Some(run) = &spec.stress {
        let rows: Vec<i64> = (0..m).flat_map(|_| timestamps.iter().copied()).collect();
        let segments = (0..m).map(|s| Segment { path, symbol: s as u32, start: s * n, len: n }).collect();
        let layout = Layout::from_segments(segments, &rows)?;
        let events = run.apply(&mut cols, &rows, &layout)?;
        let out = finalize(cols, events);
        if out.rows.is_some() {
            return Err(StressError::param(
                "corruption_types",
                "duplicate, gap and out_of_order change the bar grid and cannot run in a sweep; \
                 use nan, spike, stale, zero_volume or negative there",
            ));
        }
        cols = out.columns;
    }
    MarketData::new(
        names,
        timestamps,
        cols.open,
        cols.high,
        cols.low,
        cols.close,
        cols.volume,
        Some(cols.spread),
        Some(cols.flags),
    )
}

/// Run one path with `strategy` (reset first).
pub fn run_path(spec: &SweepSpec, path: u64, strategy: &mut dyn Strategy, keep_curve: bool) -> Result<PathResult> {
    let md = path_market(spec, path)?;
    let stressed_bars = md.flags.iter().filter(|f| **f != 0).count() as u64;
    let cfg = EngineConfig {
        path,
        keep_equity_curve: keep_curve,
        keep_trades: false,
        record_events: false,
        ..spec.engine.clone()
    };
    let out = run_native_with_risk(Arc::new(md), strategy, spec.exchange.clone(), cfg, spec.risk.clone(), false)?;
    Ok(PathResult {
        path,
        metrics: out.metrics,
        fills: out.fills,
        execution_failures: out.execution_failures,
        latency_spikes: out.latency_spikes,
        strategy_failures: out.strategy_failures.len() as u64,
        emergency_stops: out.risk.stops.len() as u64,
        policy_transitions: out.risk.transitions.len() as u64,
        stressed_bars,
        equity_curve: out.equity_curve,
    })
}

/// Run paths `first..first + n` in parallel; results in path order.
pub fn run_paths(
    spec: &SweepSpec,
    prototype: &dyn Strategy,
    first: u64,
    n: usize,
    keep_curves: &[u64],
) -> Result<Vec<PathResult>> {
    (first..first + n as u64)
        .into_par_iter()
        .map_init(|| prototype.boxed_clone(), |s, p| run_path(spec, p, s.as_mut(), keep_curves.contains(&p)))
        .collect()
}
