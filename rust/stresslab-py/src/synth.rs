//! Bindings of `stresslab_core::synth`: synthetic markets as Arrow tables or numpy arrays.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use stresslab_core::rng::scenario_key;
use stresslab_core::synth::{MarketParams, MarketPaths, MarketSpec, Model, SymbolProfile, PROFILE_FIELDS};
use stresslab_core::StressError;

use crate::errors::to_py;

type Overrides = HashMap<String, HashMap<String, f64>>;
type Matrix = Vec<Vec<f64>>;

/// Build and validate a spec from Python arguments.
#[allow(clippy::too_many_arguments)]
pub fn build_spec(
    symbols: Vec<String>,
    n_bars: usize,
    interval_ms: i64,
    start_ms: i64,
    seed: u64,
    scenario: &str,
    model: &str,
    initial_prices: Option<HashMap<String, f64>>,
    profiles: Option<Overrides>,
    market: Option<HashMap<String, f64>>,
    correlation: Option<Vec<Vec<f64>>>,
    stress_correlation: Option<Vec<Vec<f64>>>,
) -> stresslab_core::Result<MarketSpec> {
    let model = Model::parse(model)?;
    let mut profs: Vec<SymbolProfile> = symbols.iter().map(|s| SymbolProfile::for_symbol(s)).collect();
    if let Some(prices) = initial_prices {
        for (sym, price) in prices {
            let p = profs.iter_mut().find(|p| p.name == sym).ok_or_else(|| {
                StressError::param("initial_prices", format!("symbol {sym:?} is not in symbols {symbols:?}"))
            })?;
            p.initial_price = price;
        }
    }
    if let Some(over) = profiles {
        for (sym, fields) in over {
            let p = profs.iter_mut().find(|p| p.name == sym).ok_or_else(|| {
                StressError::param("profiles", format!("symbol {sym:?} is not in symbols {symbols:?}"))
            })?;
            for (k, v) in fields {
                p.set(&k, v)?;
            }
        }
    }
    let mut mp = MarketParams::default();
    if let Some(m) = market {
        for (k, v) in m {
            mp.set(&k, v)?;
        }
    }
    let flat = |field: &str, m: Option<Vec<Vec<f64>>>| -> stresslab_core::Result<Option<Vec<f64>>> {
        match m {
            None => Ok(None),
            Some(rows) => {
                let n = symbols.len();
                if rows.len() != n || rows.iter().any(|r| r.len() != n) {
                    return Err(StressError::param(
                        field,
                        format!("must be a {n}x{n} matrix (one row and column per symbol)"),
                    ));
                }
                Ok(Some(rows.into_iter().flatten().collect()))
            }
        }
    };
    let calm = flat("correlation", correlation)?;
    let stress = flat("stress_correlation", stress_correlation)?;
    MarketSpec::new(model, profs, n_bars, start_ms, interval_ms, seed, scenario_key(scenario), mp, calm, stress)
}

/// MemAvailable from /proc/meminfo in bytes (None where unknown).
fn available_memory() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// Refuse, before allocating, a request that cannot fit in memory.
pub fn check_memory(bytes: Option<usize>, what: &str) -> stresslab_core::Result<()> {
    let need = bytes.ok_or_else(|| StressError::Memory(format!("{what} overflows the address space")))?;
    if let Some(avail) = available_memory() {
        // leave room for the caller's own copies (polars/pyarrow conversions, the OS)
        if need > avail / 10 * 8 {
            return Err(StressError::Memory(format!(
                "{what} needs about {:.2} GiB of memory but only {:.2} GiB is available; \
                 request fewer paths/bars/symbols or stream paths in chunks",
                need as f64 / (1u64 << 30) as f64,
                avail as f64 / (1u64 << 30) as f64
            )));
        }
    }
    Ok(())
}

/// Bytes per row of [`long_table`] (for the memory check before building one): six f64 value
/// columns, the timestamp, the path, the symbol's offset and its bytes.
pub fn long_table_row_bytes(longest_symbol: usize) -> usize {
    48 + 8 + 4 + 4 + longest_symbol
}

/// The long Arrow table (path?, timestamp, symbol, open, high, low, close, volume, spread) of
/// generated or bootstrapped paths, sorted by path, symbol, timestamp. The value columns are
/// moved, not copied; NaN spreads (unknown, from real bars without quotes) become nulls.
pub fn long_table(
    names: &[String],
    stamps: &[i64],
    paths: MarketPaths,
    with_path: bool,
    first_path: u64,
) -> Result<RecordBatch, String> {
    let (np, nb) = (paths.n_paths, paths.n_bars);
    let rows = np * names.len() * nb;
    let mut ts = Vec::with_capacity(rows);
    let mut path_col = Vec::with_capacity(if with_path { rows } else { 0 });
    let mut sym = StringBuilder::with_capacity(rows, rows * names.iter().map(|n| n.len()).max().unwrap_or(0));
    for p in 0..np {
        for name in names {
            ts.extend_from_slice(stamps);
            if with_path {
                path_col.extend(std::iter::repeat_n((first_path + p as u64) as u32, nb));
            }
            for _ in 0..nb {
                sym.append_value(name);
            }
        }
    }
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    if with_path {
        fields.push(Field::new("path", DataType::UInt32, false));
        cols.push(Arc::new(UInt32Array::from(path_col)));
    }
    fields.push(Field::new("timestamp", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false));
    cols.push(Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")));
    fields.push(Field::new("symbol", DataType::Utf8, false));
    let sym: StringArray = sym.finish();
    cols.push(Arc::new(sym));
    for (name, v) in [
        ("open", paths.open),
        ("high", paths.high),
        ("low", paths.low),
        ("close", paths.close),
        ("volume", paths.volume),
    ] {
        fields.push(Field::new(name, DataType::Float64, false));
        cols.push(Arc::new(Float64Array::from(v))); // moves the Vec: no copy
    }
    let has_nan = paths.spread.iter().any(|v| v.is_nan());
    let spread: Float64Array = if has_nan {
        paths.spread.iter().map(|v| if v.is_nan() { None } else { Some(*v) }).collect()
    } else {
        Float64Array::from(paths.spread)
    };
    fields.push(Field::new("spread", DataType::Float64, has_nan));
    cols.push(Arc::new(spread));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(|e| e.to_string())
}

/// Generate synthetic bars as an Arrow table (long format, sorted by path, symbol, timestamp).
#[pyfunction]
#[pyo3(signature = (symbols, n_bars, interval_ms, start_ms, seed, scenario, model, n_paths, first_path=0, initial_prices=None, profiles=None, market=None, correlation=None, stress_correlation=None, with_path=None))]
#[allow(clippy::too_many_arguments)]
pub fn generate_market(
    py: Python<'_>,
    symbols: Vec<String>,
    n_bars: usize,
    interval_ms: i64,
    start_ms: i64,
    seed: u64,
    scenario: &str,
    model: &str,
    n_paths: usize,
    first_path: u64,
    initial_prices: Option<HashMap<String, f64>>,
    profiles: Option<Overrides>,
    market: Option<HashMap<String, f64>>,
    correlation: Option<Vec<Vec<f64>>>,
    stress_correlation: Option<Vec<Vec<f64>>>,
    with_path: Option<bool>,
) -> PyResult<pyo3_arrow::PyTable> {
    let spec = to_py(build_spec(
        symbols,
        n_bars,
        interval_ms,
        start_ms,
        seed,
        scenario,
        model,
        initial_prices,
        profiles,
        market,
        correlation,
        stress_correlation,
    ))?;
    if n_paths == 0 {
        return to_py(Err(StressError::param("n_paths", "must be >= 1, got 0")));
    }
    let per_row = long_table_row_bytes(spec.symbols.iter().map(|s| s.name.len()).max().unwrap_or(0));
    let rows = n_paths.checked_mul(spec.n_symbols()).and_then(|r| r.checked_mul(spec.n_bars));
    to_py(check_memory(rows.and_then(|r| r.checked_mul(per_row)), "this market (paths x symbols x bars)"))?;
    let with_path = with_path.unwrap_or(n_paths > 1);
    let batch = py
        .detach(|| -> Result<RecordBatch, String> {
            let paths = spec.generate_range(first_path, n_paths).map_err(|e| e.to_string())?;
            let names: Vec<String> = spec.symbols.iter().map(|s| s.name.clone()).collect();
            let stamps: Vec<i64> = (0..spec.n_bars).map(|t| spec.timestamp(t)).collect();
            long_table(&names, &stamps, paths, with_path, first_path)
        })
        .map_err(pyo3::exceptions::PyRuntimeError::new_err)?;
    let schema = batch.schema();
    pyo3_arrow::PyTable::try_new(vec![batch], schema)
}

/// The six value columns as numpy arrays shaped (n_paths, n_symbols, n_bars), moved not copied.
pub fn paths_dict<'py>(py: Python<'py>, paths: MarketPaths) -> PyResult<Bound<'py, PyDict>> {
    let shape = [paths.n_paths, paths.n_symbols, paths.n_bars];
    let out = PyDict::new(py);
    for (name, v) in [
        ("open", paths.open),
        ("high", paths.high),
        ("low", paths.low),
        ("close", paths.close),
        ("volume", paths.volume),
        ("spread", paths.spread),
    ] {
        out.set_item(name, PyArray1::from_vec(py, v).reshape(shape)?)?;
    }
    Ok(out)
}

/// Generate synthetic bars as numpy arrays shaped (n_paths, n_symbols, n_bars), for sweeps.
#[pyfunction]
#[pyo3(signature = (symbols, n_bars, interval_ms, start_ms, seed, scenario, model, n_paths, first_path=0, initial_prices=None, profiles=None, market=None, correlation=None, stress_correlation=None))]
#[allow(clippy::too_many_arguments)]
pub fn generate_market_arrays<'py>(
    py: Python<'py>,
    symbols: Vec<String>,
    n_bars: usize,
    interval_ms: i64,
    start_ms: i64,
    seed: u64,
    scenario: &str,
    model: &str,
    n_paths: usize,
    first_path: u64,
    initial_prices: Option<HashMap<String, f64>>,
    profiles: Option<Overrides>,
    market: Option<HashMap<String, f64>>,
    correlation: Option<Vec<Vec<f64>>>,
    stress_correlation: Option<Vec<Vec<f64>>>,
) -> PyResult<Bound<'py, PyDict>> {
    let spec = to_py(build_spec(
        symbols,
        n_bars,
        interval_ms,
        start_ms,
        seed,
        scenario,
        model,
        initial_prices,
        profiles,
        market,
        correlation,
        stress_correlation,
    ))?;
    if n_paths == 0 {
        return to_py(Err(StressError::param("n_paths", "must be >= 1, got 0")));
    }
    to_py(check_memory(spec.bytes_needed(n_paths), "these paths (paths x symbols x bars)"))?;
    let paths = py.detach(|| spec.generate_range(first_path, n_paths));
    let paths = to_py(paths)?;
    let out = paths_dict(py, paths)?;
    let ts: Vec<i64> = (0..spec.n_bars).map(|t| spec.timestamp(t)).collect();
    out.set_item("timestamp_ms", PyArray1::from_vec(py, ts))?;
    Ok(out)
}

/// The calibrated default parameters a symbol resolves to.
#[pyfunction]
pub fn symbol_profile(py: Python<'_>, symbol: &str) -> PyResult<Py<PyDict>> {
    let p = SymbolProfile::for_symbol(symbol);
    let d = PyDict::new(py);
    d.set_item("family", SymbolProfile::family(symbol))?;
    for (k, v) in p.fields() {
        d.set_item(k, v)?;
    }
    Ok(d.unbind())
}

/// Names of the per-symbol parameters that can be overridden.
#[pyfunction]
pub fn profile_fields() -> Vec<&'static str> {
    PROFILE_FIELDS.to_vec()
}

/// Names of the market-wide parameters that can be overridden.
#[pyfunction]
pub fn market_fields() -> Vec<&'static str> {
    stresslab_core::synth::MARKET_FIELDS.to_vec()
}

/// The stable 64-bit identity of a scenario name used in stream derivation.
#[pyfunction]
#[pyo3(name = "scenario_key")]
pub fn py_scenario_key(name: &str) -> u64 {
    scenario_key(name)
}

/// The correlation matrices (calm, stress) a symbol list resolves to.
#[pyfunction]
pub fn default_correlations(symbols: Vec<String>) -> PyResult<(Matrix, Matrix)> {
    let spec = to_py(build_spec(symbols, 1, 3_600_000, 0, 0, "", "gbm", None, None, None, None, None))?;
    let n = spec.n_symbols();
    let rows = |m: &Vec<f64>| m.chunks(n).map(|r| r.to_vec()).collect::<Vec<_>>();
    Ok((rows(&spec.corr_calm), rows(&spec.corr_stress)))
}
