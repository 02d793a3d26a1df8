//! Bindings of `stresslab_core::stress`: apply a list of stress steps to a long bar table.
//!
//! The table arrives as Arrow (anything with `__arrow_c_stream__`; polars exports without
//! copying) in the long format of `synthetic_market`: `path` (UInt32, optional), `timestamp`
//! (Timestamp or Int64 ms), `symbol` (strings), `open`, `high`, `low`, `close`, `volume`
//! (Float64), `spread` (Float64, optional), `stress_flags` (UInt32, optional), anything else.
//! With the GIL released, the value columns are read from the Arrow buffers in place, stressed one
//! path at a time in a per-thread scratch buffer and written once into the output columns
//! (`StressRun::apply_single_pass`), which are returned inside a table whose other columns are the
//! input's own arrays, or their rows gathered when data corruption moved rows (see
//! [`crate::stress_table`]).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use pyo3::prelude::*;
use stresslab_core::rng::scenario_key;
use stresslab_core::stress::data_corruption::CORRUPTION_KINDS;
use stresslab_core::stress::mixed::ORDER;
use stresslab_core::stress::{Event, Position, Step, StressRun, Transform, ALL_KINDS};
use stresslab_core::StressError;

use crate::errors::to_py;
use crate::stress_table::{one_batch, Table};

/// One step as Python describes it (a dict with these keys).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct StepSpec {
    transform: String,
    params: HashMap<String, f64>,
    choices: Vec<String>,
    /// Symbol names the step hits (None: all).
    symbols: Option<Vec<String>>,
    /// "random", "bar" or "time" (then `at_value` is the bar index or the time in ms UTC).
    at: String,
    at_value: i64,
    /// canonical parameter name -> the name the user wrote (for error messages)
    aliases: HashMap<String, String>,
}

/// A validated step and the symbol names it hits (resolved to ids once the data is read).
pub(crate) fn build_step(spec: StepSpec) -> stresslab_core::Result<(Step, Option<Vec<String>>)> {
    let aliases: Vec<(String, String)> = spec.aliases.into_iter().collect();
    let name = |canonical: &str| {
        aliases.iter().find(|(c, _)| c == canonical).map_or(canonical.to_string(), |(_, u)| u.clone())
    };
    let at =
        match spec.at.as_str() {
            "random" => Position::Random,
            "time" => Position::Time(spec.at_value),
            "bar" => Position::Bar(usize::try_from(spec.at_value).map_err(|_| {
                StressError::param(name("at"), format!("must be a bar index >= 0, got {}", spec.at_value))
            })?),
            other => {
                return Err(StressError::param(name("at"), format!("must be 'random', 'bar' or 'time', got {other:?}")))
            }
        };
    let step = Step::from_params(&spec.transform, &spec.params, &spec.choices, None, at, aliases.clone())?;
    Ok((step, spec.symbols))
}

/// Symbol names -> ids of the data (error naming the step's `symbols` field otherwise).
pub(crate) fn symbol_ids(step: &Step, names: &[String], data: &[String]) -> stresslab_core::Result<Vec<u32>> {
    let unknown: Vec<&String> = names.iter().filter(|n| !data.contains(n)).collect();
    if !unknown.is_empty() {
        return Err(
            step.relabel(StressError::param("symbols", format!("{unknown:?} not in the data's symbols {data:?}")))
        );
    }
    Ok(names.iter().filter_map(|n| data.iter().position(|d| d == n).map(|i| i as u32)).collect())
}

/// The record: one row per event, with the first and last timestamps of its bars (taken from
/// the input's timestamp column, so they keep its type).
fn record_batch(events: &[Event], table: &Table) -> stresslab_core::Result<RecordBatch> {
    let arrow = |e: arrow_schema::ArrowError| StressError::Data(e.to_string());
    let last_row = |e: &Event| (e.row + (e.end_bar - e.bar).max(1) - 1) as u32;
    let ts_col = table.batch.column_by_name("timestamp").ok_or_else(|| StressError::Data("timestamp".into()))?;
    let rows = UInt32Array::from_iter_values(events.iter().map(|e| e.row as u32));
    let last = UInt32Array::from_iter_values(events.iter().map(last_row));
    let start_ts = arrow_select::take::take(ts_col.as_ref(), &rows, None).map_err(arrow)?;
    let end_ts = arrow_select::take::take(ts_col.as_ref(), &last, None).map_err(arrow)?;
    let strs =
        |f: &dyn Fn(&Event) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(events.iter().map(f))) };
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    if table.has_path {
        fields.push(Field::new("path", DataType::UInt32, false));
        cols.push(Arc::new(UInt32Array::from_iter_values(events.iter().map(|e| e.path as u32))));
    }
    let symbols = StringArray::from_iter_values(
        events.iter().map(|e| table.symbols.get(e.symbol as usize).map_or("", |s| s.as_str())),
    );
    for (name, col) in [
        ("symbol", Arc::new(symbols) as ArrayRef),
        ("transform", strs(&|e| e.transform.name())),
        ("kind", strs(&|e| e.kind)),
    ] {
        fields.push(Field::new(name, DataType::Utf8, false));
        cols.push(col);
    }
    for (name, f) in [("bar", (|e: &Event| e.bar) as fn(&Event) -> usize), ("end_bar", |e: &Event| e.end_bar)] {
        fields.push(Field::new(name, DataType::Int64, false));
        cols.push(Arc::new(Int64Array::from_iter_values(events.iter().map(|e| f(e) as i64))));
    }
    fields.push(Field::new("timestamp", start_ts.data_type().clone(), false));
    cols.push(start_ts);
    fields.push(Field::new("end_timestamp", end_ts.data_type().clone(), false));
    cols.push(end_ts);
    fields.push(Field::new("column", DataType::Utf8, false));
    cols.push(strs(&|e| e.column));
    fields.push(Field::new("level_factor", DataType::Float64, false));
    cols.push(Arc::new(Float64Array::from_iter_values(events.iter().map(|e| e.level_factor))));
    fields.push(Field::new("value", DataType::Float64, false));
    cols.push(Arc::new(Float64Array::from_iter_values(events.iter().map(|e| e.value))));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(arrow)
}

/// Apply stress steps to a long bar table; returns (stressed table, record).
///
/// `symbol_order` ranks the symbols for their stream index (then order of appearance); rows
/// not sorted by (path, symbol, timestamp) are sorted first. `base_spread` stands in for a
/// missing spread column (added to the output only when a step changes spreads). With
/// `mixed`, steps run in the documented mixed order, else as given. Without `record` the
/// record is not built (None in its place).
#[pyfunction]
#[pyo3(signature = (table, steps, seed, scenario, symbol_order, base_spread, mixed=true, record=true))]
#[allow(clippy::too_many_arguments)]
pub fn apply_stress(
    py: Python<'_>,
    table: pyo3_arrow::PyTable,
    steps: Vec<StepSpec>,
    seed: u64,
    scenario: &str,
    symbol_order: Vec<String>,
    base_spread: f64,
    mixed: bool,
    record: bool,
) -> PyResult<(pyo3_arrow::PyTable, Option<pyo3_arrow::PyTable>)> {
    let built: Vec<(Step, Option<Vec<String>>)> = to_py(steps.into_iter().map(build_step).collect())?;
    let key = scenario_key(scenario);
    let (batches, schema) = table.into_inner();
    let result = py.detach(move || -> stresslab_core::Result<(RecordBatch, Option<RecordBatch>)> {
        let batch = one_batch(batches, schema)?;
        if batch.num_rows() > u32::MAX as usize {
            return Err(StressError::Data("tables over 2^32 rows are not supported; stress paths in chunks".into()));
        }
        let table = Table::new(batch, &symbol_order)?;
        let mut steps = Vec::with_capacity(built.len());
        for (mut step, names) in built {
            if let Some(names) = names {
                step.symbols = Some(symbol_ids(&step, &names, &table.symbols)?);
            }
            steps.push(step);
        }
        let add_spread = steps.iter().any(|s| {
            matches!(
                s.transform,
                Transform::FlashCrash(_) | Transform::LiquidityDrop(_) | Transform::SpreadExplosion(_)
            )
        });
        let run = if mixed { StressRun::mixed(steps, seed, key) } else { StressRun::new(steps, seed, key) };
        let inputs = table.inputs(run.columns())?;
        let out = run.apply_single_pass(&inputs.sources(base_spread), table.timestamp(), &table.layout)?;
        drop(inputs);
        let record = if record { Some(record_batch(&out.events, &table)?) } else { None };
        let stressed = table.output(out.columns, out.rows.as_deref(), out.timestamps, add_spread)?;
        Ok((stressed, record))
    });
    let (stressed, record) = to_py(result)?;
    let table = |batch: RecordBatch| {
        let schema = batch.schema();
        pyo3_arrow::PyTable::try_new(vec![batch], schema)
    };
    Ok((table(stressed)?, record.map(table).transpose()?))
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
