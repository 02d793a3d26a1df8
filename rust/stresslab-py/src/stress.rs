//! Bindings of `stresslab_core::stress`: apply a list of stress steps to a long bar table.
//!
//! Input: an Arrow table (anything with `__arrow_c_stream__`; polars exports without copying)
//! holding `path` (UInt32), `symbol` (UInt32 ids), `timestamp` (Int64 ms), `open`, `high`, `low`,
//! `close`, `volume`, `spread` (Float64) and optionally `stress_flags` (UInt32), sorted by (path,
//! symbol, timestamp). The columns are copied once into owned vectors (the transforms edit them in
//! place; Arrow buffers are immutable), everything then runs with the GIL released, and the
//! results leave as Arrow arrays built from those vectors without another copy.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, UInt32Type};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, Float64Array, Int64Array, PrimitiveArray, RecordBatch, StringArray,
    UInt32Array,
};
use arrow_schema::{DataType, Field, Schema};
use numpy::PyArray1;
use pyo3::prelude::*;
use stresslab_core::rng::scenario_key;
use stresslab_core::stress::data_corruption::CORRUPTION_KINDS;
use stresslab_core::stress::mixed::ORDER;
use stresslab_core::stress::plan::finalize;
use stresslab_core::stress::{Columns, Event, Layout, Position, Step, StressRun, ALL_KINDS};
use stresslab_core::StressError;

use crate::errors::to_py;

/// One step as Python describes it (a dict with these keys).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct StepSpec {
    transform: String,
    params: HashMap<String, f64>,
    choices: Vec<String>,
    symbols: Option<Vec<u32>>,
    /// "random", "bar" or "time" (then `at_value` is the bar index or the time in ms UTC).
    at: String,
    at_value: i64,
    /// canonical parameter name -> the name the user wrote (for error messages)
    aliases: HashMap<String, String>,
}

fn build_step(spec: StepSpec) -> stresslab_core::Result<Step> {
    let aliases: Vec<(String, String)> = spec.aliases.into_iter().collect();
    let at_field = aliases.iter().find(|(c, _)| c == "at").map_or("at".to_string(), |(_, u)| u.clone());
    let at = match spec.at.as_str() {
        "random" => Position::Random,
        "time" => Position::Time(spec.at_value),
        "bar" => Position::Bar(usize::try_from(spec.at_value).map_err(|_| {
            StressError::param(at_field.clone(), format!("must be a bar index >= 0, got {}", spec.at_value))
        })?),
        other => return Err(StressError::param(at_field, format!("must be 'random', 'bar' or 'time', got {other:?}"))),
    };
    Step::from_params(&spec.transform, &spec.params, &spec.choices, spec.symbols, at, aliases)
}

/// Concatenate one primitive column over all batches into an owned vector.
fn column<T: ArrowPrimitiveType>(
    batches: &[RecordBatch],
    name: &str,
    required: bool,
) -> stresslab_core::Result<Option<Vec<T::Native>>> {
    let mut out = Vec::with_capacity(batches.iter().map(|b| b.num_rows()).sum());
    for b in batches {
        let Some(col) = b.column_by_name(name) else {
            if required {
                return Err(StressError::Data(format!("column {name:?} is missing")));
            }
            return Ok(None);
        };
        let arr: &PrimitiveArray<T> = col.as_primitive_opt().ok_or_else(|| {
            StressError::Data(format!("column {name:?} must be {:?}, got {:?}", T::DATA_TYPE, col.data_type()))
        })?;
        if arr.null_count() > 0 {
            return Err(StressError::Data(format!("column {name:?} has {} nulls", arr.null_count())));
        }
        out.extend_from_slice(arr.values());
    }
    Ok(Some(out))
}

struct Input {
    path: Vec<u32>,
    symbol: Vec<u32>,
    columns: Columns,
}

fn read_input(batches: &[RecordBatch]) -> stresslab_core::Result<Input> {
    let f = |name: &str| -> stresslab_core::Result<Vec<f64>> {
        Ok(column::<Float64Type>(batches, name, true)?.unwrap_or_default())
    };
    let timestamp = column::<Int64Type>(batches, "timestamp", true)?.unwrap_or_default();
    let n = timestamp.len();
    let columns = Columns {
        open: f("open")?,
        high: f("high")?,
        low: f("low")?,
        close: f("close")?,
        volume: f("volume")?,
        spread: f("spread")?,
        flags: column::<UInt32Type>(batches, "stress_flags", false)?.unwrap_or_else(|| vec![0; n]),
        timestamp,
    };
    Ok(Input {
        path: column::<UInt32Type>(batches, "path", true)?.unwrap_or_default(),
        symbol: column::<UInt32Type>(batches, "symbol", true)?.unwrap_or_default(),
        columns,
    })
}

fn columns_batch(c: Columns) -> Result<RecordBatch, String> {
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (name, v) in [
        ("open", c.open),
        ("high", c.high),
        ("low", c.low),
        ("close", c.close),
        ("volume", c.volume),
        ("spread", c.spread),
    ] {
        fields.push(Field::new(name, DataType::Float64, false));
        cols.push(Arc::new(Float64Array::from(v))); // moves the Vec: no copy
    }
    fields.push(Field::new("stress_flags", DataType::UInt32, false));
    cols.push(Arc::new(UInt32Array::from(c.flags)));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(|e| e.to_string())
}

/// The record: one row per event, with the window's first and last timestamps.
fn record_batch(events: &[Event], timestamp: &[i64]) -> Result<RecordBatch, String> {
    let ts = |row: usize| timestamp.get(row).copied().unwrap_or(i64::MIN);
    let str_col =
        |f: &dyn Fn(&Event) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(events.iter().map(f))) };
    let schema = Schema::new(vec![
        Field::new("path", DataType::UInt32, false),
        Field::new("symbol", DataType::UInt32, false),
        Field::new("transform", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("bar", DataType::Int64, false),
        Field::new("end_bar", DataType::Int64, false),
        Field::new("timestamp", DataType::Int64, false),
        Field::new("end_timestamp", DataType::Int64, false),
        Field::new("column", DataType::Utf8, false),
        Field::new("level_factor", DataType::Float64, false),
        Field::new("value", DataType::Float64, false),
    ]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(UInt32Array::from_iter_values(events.iter().map(|e| e.path as u32))),
        Arc::new(UInt32Array::from_iter_values(events.iter().map(|e| e.symbol))),
        str_col(&|e| e.transform.name()),
        str_col(&|e| e.kind),
        Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.bar as i64))),
        Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.end_bar as i64))),
        Arc::new(Int64Array::from_iter_values(events.iter().map(|e| ts(e.row)))),
        Arc::new(Int64Array::from_iter_values(events.iter().map(|e| ts(e.row + (e.end_bar - e.bar).max(1) - 1)))),
        str_col(&|e| e.column),
        Arc::new(Float64Array::from_iter_values(events.iter().map(|e| e.level_factor))),
        Arc::new(Float64Array::from_iter_values(events.iter().map(|e| e.value))),
    ];
    RecordBatch::try_new(Arc::new(schema), cols).map_err(|e| e.to_string())
}

type StressOutput<'py> = (pyo3_arrow::PyTable, pyo3_arrow::PyTable, Option<Bound<'py, PyArray1<u32>>>);

/// Apply stress steps to a sorted long table.
///
/// Returns (columns, record, take): `columns` holds open..spread and stress_flags in output row
/// order; `record` one row per event; `take` the input row of each output row when data
/// corruption moved rows (None otherwise).
#[pyfunction]
#[pyo3(signature = (table, steps, seed, scenario, mixed=false))]
pub fn apply_stress<'py>(
    py: Python<'py>,
    table: pyo3_arrow::PyTable,
    steps: Vec<StepSpec>,
    seed: u64,
    scenario: &str,
    mixed: bool,
) -> PyResult<StressOutput<'py>> {
    let steps: Vec<Step> = to_py(steps.into_iter().map(build_step).collect())?;
    let key = scenario_key(scenario);
    let run = if mixed { StressRun::mixed(steps, seed, key) } else { StressRun::new(steps, seed, key) };
    let (batches, _schema) = table.into_inner();
    let outcome = py.detach(move || -> stresslab_core::Result<_> {
        let mut input = read_input(&batches)?;
        drop(batches);
        if input.columns.len() > u32::MAX as usize {
            return Err(StressError::Data("tables over 2^32 rows are not supported; stress paths in chunks".into()));
        }
        input.columns.check_lengths()?;
        let layout = Layout::from_rows(&input.path, &input.symbol, &input.columns.timestamp)?;
        let events = run.apply(&mut input.columns, &layout)?;
        let input_ts = input.columns.timestamp.clone();
        let out = finalize(input.columns, events);
        let record = record_batch(&out.events, &input_ts).map_err(StressError::Data)?;
        let cols = columns_batch(out.columns).map_err(StressError::Data)?;
        Ok((cols, record, out.take))
    });
    let (cols, record, take) = to_py(outcome)?;
    let cols_schema = cols.schema();
    let record_schema = record.schema();
    Ok((
        pyo3_arrow::PyTable::try_new(vec![cols], cols_schema)?,
        pyo3_arrow::PyTable::try_new(vec![record], record_schema)?,
        take.map(|t| PyArray1::from_vec(py, t)),
    ))
}

/// (name, flag bit) of every transform, in bit order.
#[pyfunction]
pub fn stress_flag_bits() -> Vec<(&'static str, u32)> {
    ALL_KINDS.iter().map(|k| (k.name(), k.flag())).collect()
}

/// The order in which a mixed scenario applies its transforms.
#[pyfunction]
pub fn mixed_order() -> Vec<&'static str> {
    ORDER.iter().map(|k| k.name()).collect()
}

/// Names of the data-corruption kinds.
#[pyfunction]
pub fn corruption_kinds() -> Vec<&'static str> {
    CORRUPTION_KINDS.iter().map(|k| k.name()).collect()
}
