//! Bindings of `stresslab_core::metrics`: metrics of numpy series as a dict.

use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use stresslab_core::metrics::{compute_series, MetricValue, Metrics, MetricsConfig, FLAG_INFO, METRIC_INFO};

use crate::errors::to_py;

fn owned(a: Option<PyReadonlyArray1<'_, f64>>) -> Option<Vec<f64>> {
    a.map(|a| a.as_array().to_vec())
}

/// Metrics of one equity path; see `stresslab.metrics.compute_metrics` for the conventions.
#[pyfunction]
#[pyo3(signature = (equity, trade_pnls=None, periods_per_year=8760.0, initial_equity=None, exposure=None, turnover=None, trade_bars_held=None, fees=0.0, slippage=0.0, ruin_threshold=0.5, var_levels=(0.95, 0.99)))]
#[allow(clippy::too_many_arguments)]
pub fn compute_metrics<'py>(
    py: Python<'py>,
    equity: PyReadonlyArray1<'py, f64>,
    trade_pnls: Option<PyReadonlyArray1<'py, f64>>,
    periods_per_year: f64,
    initial_equity: Option<f64>,
    exposure: Option<PyReadonlyArray1<'py, f64>>,
    turnover: Option<PyReadonlyArray1<'py, f64>>,
    trade_bars_held: Option<PyReadonlyArray1<'py, f64>>,
    fees: f64,
    slippage: f64,
    ruin_threshold: f64,
    var_levels: (f64, f64),
) -> PyResult<Bound<'py, PyDict>> {
    // owned copies first, so the work runs without the GIL and without aliasing Python buffers
    let equity = equity.as_array().to_vec();
    let pnls = owned(trade_pnls).unwrap_or_default();
    let (exposure, turnover, held) = (owned(exposure), owned(turnover), owned(trade_bars_held));
    let cfg = MetricsConfig {
        periods_per_year,
        var_levels: [var_levels.0, var_levels.1],
        ruin_threshold,
        initial_equity: initial_equity.unwrap_or(1.0), // replaced by compute_series
        ..MetricsConfig::default()
    };
    let metrics = py.detach(|| {
        compute_series(
            cfg,
            &equity,
            initial_equity,
            exposure.as_deref(),
            turnover.as_deref(),
            &pnls,
            held.as_deref(),
            fees,
            slippage,
        )
    });
    metrics_dict(py, &to_py(metrics)?)
}

/// Every metric of `m` by name, plus `flags` (names of the set flags) and `undefined`
/// (metric -> why it is NaN): the one conversion of `Metrics` to Python.
pub fn metrics_dict<'py>(py: Python<'py>, m: &Metrics) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for (name, value) in m.values() {
        match value {
            MetricValue::Float(x) => out.set_item(name, x)?,
            MetricValue::Count(c) => out.set_item(name, c)?,
            MetricValue::Bool(b) => out.set_item(name, b)?,
        }
    }
    let flags: Vec<&str> = m.flags.iter().map(|f| f.name()).collect();
    out.set_item("flags", PyList::new(py, flags)?)?;
    let undefined = PyDict::new(py);
    for (name, reason) in m.undefined() {
        undefined.set_item(name, reason)?;
    }
    out.set_item("undefined", undefined)?;
    Ok(out)
}

/// (name, unit, convention) of every metric, in result order (tail keys for levels 0.95, 0.99).
#[pyfunction]
pub fn metric_info() -> Vec<(&'static str, &'static str, &'static str)> {
    METRIC_INFO.iter().map(|i| (i.name, i.unit, i.convention)).collect()
}

/// (name, reason) of every flag that can mark a metric undefined.
#[pyfunction]
pub fn metric_flags() -> Vec<(&'static str, &'static str)> {
    FLAG_INFO.iter().map(|(_, name, reason)| (*name, *reason)).collect()
}
