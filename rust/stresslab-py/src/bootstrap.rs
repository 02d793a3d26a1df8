//! Bindings of `stresslab_core::bootstrap`: stationary block bootstrap of real bars, as an Arrow
//! table in the long format of `generate_market` or as numpy arrays.
//!
//! Inputs are the source bars as flat symbol-major numpy columns (`s * n_bars + t`) on one clock
//! of `timestamps` (ms UTC); a NaN spread means unknown and comes back as null (table) or NaN.

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use stresslab_core::bootstrap::{BlockBootstrap, BootstrapSource};
use stresslab_core::market::MarketData;
use stresslab_core::rng::scenario_key;
use stresslab_core::StressError;

use crate::errors::to_py;
use crate::synth::check_memory;

/// The source columns, passed from Python as a dict of these keys.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Columns<'py> {
    symbols: Vec<String>,
    timestamps: PyReadonlyArray1<'py, i64>,
    open: PyReadonlyArray1<'py, f64>,
    high: PyReadonlyArray1<'py, f64>,
    low: PyReadonlyArray1<'py, f64>,
    close: PyReadonlyArray1<'py, f64>,
    volume: PyReadonlyArray1<'py, f64>,
    spread: PyReadonlyArray1<'py, f64>,
}

fn to_vec(a: &PyReadonlyArray1<'_, f64>) -> Vec<f64> {
    a.as_array().to_vec()
}

/// Copy the columns into owned Rust data and validate them (before the GIL is released).
pub(crate) fn build_source(cols: &Columns<'_>) -> stresslab_core::Result<BootstrapSource> {
    let md = MarketData::new(
        cols.symbols.clone(),
        cols.timestamps.as_array().to_vec(),
        to_vec(&cols.open),
        to_vec(&cols.high),
        to_vec(&cols.low),
        to_vec(&cols.close),
        to_vec(&cols.volume),
        Some(to_vec(&cols.spread)),
        None,
    )?;
    BootstrapSource::new(&md)
}

#[allow(clippy::too_many_arguments)]
fn build_bootstrap(
    cols: &Columns<'_>,
    n_paths: usize,
    n_bars: Option<usize>,
    block_length: Option<f64>,
    seed: u64,
    scenario: &str,
    first_path: u64,
    per_row_bytes: usize,
) -> stresslab_core::Result<BlockBootstrap> {
    if n_paths == 0 {
        return Err(StressError::param("n_paths", "must be >= 1, got 0"));
    }
    if first_path.checked_add(n_paths as u64 - 1).is_none_or(|last| last > u64::from(u32::MAX)) {
        return Err(StressError::param(
            "first_path",
            format!("first_path + n_paths - 1 must be <= {} (path ids are u32)", u32::MAX),
        ));
    }
    let bs = BlockBootstrap::new(build_source(cols)?, block_length, n_bars, seed, scenario_key(scenario))?;
    let rows = n_paths.checked_mul(bs.source().n_symbols()).and_then(|r| r.checked_mul(bs.n_bars()));
    check_memory(rows.and_then(|r| r.checked_mul(per_row_bytes)), "these bootstrap paths (paths x symbols x bars)")?;
    Ok(bs)
}

/// Bootstrap paths as an Arrow table (long format, sorted by path, symbol, timestamp).
#[pyfunction]
#[pyo3(signature = (columns, n_paths, n_bars=None, block_length=None, seed=42, scenario="bootstrap", first_path=0, with_path=None))]
#[allow(clippy::too_many_arguments)]
pub fn bootstrap_market(
    py: Python<'_>,
    columns: Columns<'_>,
    n_paths: usize,
    n_bars: Option<usize>,
    block_length: Option<f64>,
    seed: u64,
    scenario: &str,
    first_path: u64,
    with_path: Option<bool>,
) -> PyResult<pyo3_arrow::PyTable> {
    let per_row = crate::synth::long_table_row_bytes(columns.symbols.iter().map(|s| s.len()).max().unwrap_or(0));
    let bs = to_py(build_bootstrap(&columns, n_paths, n_bars, block_length, seed, scenario, first_path, per_row))?;
    let with_path = with_path.unwrap_or(n_paths > 1);
    let paths = to_py(py.detach(|| bs.generate_range(first_path, n_paths)))?;
    let batch = py
        .detach(|| {
            let stamps: Vec<i64> = (0..paths.n_bars).map(|k| bs.timestamp(k)).collect();
            crate::synth::long_table(bs.source().symbols(), &stamps, paths, with_path, first_path)
        })
        .map_err(pyo3::exceptions::PyRuntimeError::new_err)?;
    let schema = batch.schema();
    pyo3_arrow::PyTable::try_new(vec![batch], schema)
}

/// Bootstrap paths as numpy arrays shaped (n_paths, n_symbols, n_bars), plus `source_index`
/// (n_paths, n_bars): the source bar each output bar was copied from, `timestamp_ms` and
/// `block_length` (the mean block length used).
#[pyfunction]
#[pyo3(signature = (columns, n_paths, n_bars=None, block_length=None, seed=42, scenario="bootstrap", first_path=0))]
#[allow(clippy::too_many_arguments)]
pub fn bootstrap_market_arrays<'py>(
    py: Python<'py>,
    columns: Columns<'py>,
    n_paths: usize,
    n_bars: Option<usize>,
    block_length: Option<f64>,
    seed: u64,
    scenario: &str,
    first_path: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let bs = to_py(build_bootstrap(&columns, n_paths, n_bars, block_length, seed, scenario, first_path, 48 + 8))?;
    let (paths, idx) = to_py(py.detach(|| -> stresslab_core::Result<_> {
        Ok((bs.generate_range(first_path, n_paths)?, bs.indices_range(first_path, n_paths)?))
    }))?;
    let (n_paths_out, n_bars_out) = (paths.n_paths, paths.n_bars);
    let out = crate::synth::paths_dict(py, paths)?;
    // unit u is source bar u + 1
    let source_index: Vec<i64> = idx.into_iter().map(|u| u as i64 + 1).collect();
    out.set_item("source_index", PyArray1::from_vec(py, source_index).reshape([n_paths_out, n_bars_out])?)?;
    let ts: Vec<i64> = (0..bs.n_bars()).map(|k| bs.timestamp(k)).collect();
    out.set_item("timestamp_ms", PyArray1::from_vec(py, ts))?;
    out.set_item("block_length", bs.block_length())?;
    Ok(out)
}

/// Politis-White (Patton-Politis-White corrected) mean block length of each symbol's log returns.
#[pyfunction]
pub fn bootstrap_block_lengths(py: Python<'_>, columns: Columns<'_>) -> PyResult<Vec<f64>> {
    let src = to_py(build_source(&columns))?;
    Ok(py.detach(|| src.block_lengths()))
}
