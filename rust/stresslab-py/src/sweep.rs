//! Binding of `stresslab_core::sweep`: a chunk of Monte Carlo paths of one scenario, run in
//! parallel with the GIL released, returned as numpy columns (one row per path).

use std::collections::HashMap;

use numpy::PyArray1;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use stresslab_core::bootstrap::{BlockBootstrap, BootstrapSource};
use stresslab_core::metrics::MetricValue;
use stresslab_core::rng::scenario_key;
use stresslab_core::stress::StressRun;
use stresslab_core::sweep::{run_paths, PathSource, SweepSpec};
use stresslab_core::StressError;

use crate::engine::{build_strategy, PyEngineConfig, PyExchangeConfig};
use crate::errors::to_py;
use crate::stress::{build_step, symbol_ids, StepSpec};
use crate::synth::build_spec;

type Overrides = HashMap<String, HashMap<String, f64>>;

/// The synthetic market of a sweep (the keyword arguments of `generate_market`).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct PyMarketSpec {
    symbols: Vec<String>,
    n_bars: usize,
    interval_ms: i64,
    start_ms: i64,
    seed: u64,
    scenario: String,
    model: String,
    initial_prices: Option<HashMap<String, f64>>,
    profiles: Option<Overrides>,
    market: Option<HashMap<String, f64>>,
    correlation: Option<Vec<Vec<f64>>>,
    stress_correlation: Option<Vec<Vec<f64>>>,
}

/// A block bootstrap of real bars as the path source.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct PyBootstrapSpec<'py> {
    columns: crate::bootstrap::Columns<'py>,
    n_bars: Option<usize>,
    block_length: Option<f64>,
}

/// Run paths `first_path .. first_path + n_paths` of one scenario. With `bootstrap`, paths are
/// block-bootstrapped from its real bars (keyed by the market's seed and scenario) instead of
/// generated from the synthetic model.
#[pyfunction]
#[pyo3(signature = (market, steps, strategy, exchange, engine, first_path, n_paths, n_threads, keep_curves=Vec::new(), bootstrap=None))]
#[allow(clippy::too_many_arguments)]
pub fn run_sweep<'py>(
    py: Python<'py>,
    market: PyMarketSpec,
    steps: Vec<StepSpec>,
    strategy: Bound<'py, PyDict>,
    exchange: PyExchangeConfig,
    engine: PyEngineConfig,
    first_path: u64,
    n_paths: usize,
    n_threads: usize,
    keep_curves: Vec<u64>,
    bootstrap: Option<PyBootstrapSpec<'py>>,
) -> PyResult<Bound<'py, PyDict>> {
    if n_threads == 0 {
        return to_py(Err(StressError::param("max_workers", "must be >= 1")));
    }
    let m = &market;
    let spec = to_py(build_spec(
        m.symbols.clone(),
        m.n_bars,
        m.interval_ms,
        m.start_ms,
        m.seed,
        &m.scenario,
        &m.model,
        m.initial_prices.clone(),
        m.profiles.clone(),
        m.market.clone(),
        m.correlation.clone(),
        m.stress_correlation.clone(),
    ))?;
    let source = match bootstrap {
        None => PathSource::Synthetic(spec),
        Some(b) => {
            let src: BootstrapSource = to_py(crate::bootstrap::build_source(&b.columns))?;
            PathSource::Bootstrap(to_py(BlockBootstrap::new(
                src,
                b.block_length,
                b.n_bars,
                m.seed,
                scenario_key(&m.scenario),
            ))?)
        }
    };
    let names = source.symbols();
    let mut built = Vec::with_capacity(steps.len());
    for s in steps {
        let (mut step, step_names) = to_py(build_step(s))?;
        if let Some(step_names) = step_names {
            step.symbols = Some(to_py(symbol_ids(&step, &step_names, &names))?);
        }
        built.push(step);
    }
    let stress = if built.is_empty() { None } else { Some(StressRun::mixed(built, m.seed, scenario_key(&m.scenario))) };
    let prototype = build_strategy(&strategy, source.n_bars(), names.len())?;
    let sweep = SweepSpec {
        market: source,
        stress,
        exchange: to_py(exchange.to_core())?,
        engine: to_py(engine.to_core())?,
        risk: to_py(engine.risk_core())?,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n_threads)
        .build()
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let rows = py.detach(|| pool.install(|| run_paths(&sweep, prototype.as_ref(), first_path, n_paths, &keep_curves)));
    let rows = to_py(rows)?;

    let out = PyDict::new(py);
    out.set_item("path", PyArray1::from_iter(py, rows.iter().map(|r| r.path)))?;
    if let Some(first) = rows.first() {
        let names: Vec<String> = first.metrics.values().into_iter().map(|(k, _)| k).collect();
        for (i, name) in names.iter().enumerate() {
            let vals: Vec<MetricValue> = rows.iter().map(|r| r.metrics.values()[i].1).collect();
            match vals[0] {
                MetricValue::Float(_) => out.set_item(
                    name,
                    PyArray1::from_iter(
                        py,
                        vals.iter().map(|v| if let MetricValue::Float(x) = v { *x } else { f64::NAN }),
                    ),
                )?,
                MetricValue::Count(_) => out.set_item(
                    name,
                    PyArray1::from_iter(py, vals.iter().map(|v| if let MetricValue::Count(x) = v { *x } else { 0 })),
                )?,
                MetricValue::Bool(_) => out.set_item(
                    name,
                    PyArray1::from_iter(py, vals.iter().map(|v| matches!(v, MetricValue::Bool(true)))),
                )?,
            }
        }
    }
    out.set_item("fills", PyArray1::from_iter(py, rows.iter().map(|r| r.fills)))?;
    out.set_item("execution_failures", PyArray1::from_iter(py, rows.iter().map(|r| r.execution_failures)))?;
    out.set_item("latency_spikes", PyArray1::from_iter(py, rows.iter().map(|r| r.latency_spikes)))?;
    out.set_item("strategy_failures", PyArray1::from_iter(py, rows.iter().map(|r| r.strategy_failures)))?;
    out.set_item("emergency_stops", PyArray1::from_iter(py, rows.iter().map(|r| r.emergency_stops)))?;
    out.set_item("policy_transitions", PyArray1::from_iter(py, rows.iter().map(|r| r.policy_transitions)))?;
    out.set_item("stressed_bars", PyArray1::from_iter(py, rows.iter().map(|r| r.stressed_bars)))?;
    let curves = PyDict::new(py);
    for r in rows.into_iter().filter(|r| !r.equity_curve.is_empty()) {
        curves.set_item(r.path, PyArray1::from_vec(py, r.equity_curve))?;
    }
    out.set_item("equity_curves", curves)?;
    Ok(out)
}
