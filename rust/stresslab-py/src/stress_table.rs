//! The long bar table as Arrow, for the stress binding: find the (path, symbol) runs, sort when
//! the input is not sorted by (path, symbol, timestamp), lend the value columns (copied only where they hold nulls), and build the
//! output table around the stressed columns.
//!
//! Columns the transforms do not own (path, timestamp, symbol, anything else) are passed through
//! as the same Arrow arrays (no copy) unless data corruption moved rows, in which case they are
//! copied range by range in the same row order. Path and symbol stay the same arrays even then
//! when every series keeps its row count (as many duplicates as gaps): they are constant over a
//! series, so moving rows inside a series leaves them as they were. Timestamps in ms (read in
//! place) are written in their new order by the single pass itself, which has each path's row
//! ranges at hand.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
    UInt32Type,
};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringViewArray, UInt32Array};
use arrow_buffer::{Buffer, ScalarBuffer};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use rayon::prelude::*;
use stresslab_core::stress::plan::Segment;
use stresslab_core::stress::single_pass;
use stresslab_core::stress::{Columns, Layout, Source, Sources};
use stresslab_core::{Result, StressError};

/// The value columns the transforms rewrite, in `Columns` order.
pub const VALUE_COLUMNS: [&str; 6] = ["open", "high", "low", "close", "volume", "spread"];
pub const FLAGS: &str = "stress_flags";

fn arrow_err(e: arrow_schema::ArrowError) -> StressError {
    StressError::Data(e.to_string())
}

/// One batch holding every row (concatenated when the stream had several).
pub fn one_batch(mut batches: Vec<RecordBatch>, schema: SchemaRef) -> Result<RecordBatch> {
    match batches.len() {
        0 => Ok(RecordBatch::new_empty(schema)),
        1 => batches.pop().ok_or_else(|| StressError::Data("empty stream".into())),
        _ => arrow_select::concat::concat_batches(&schema, &batches).map_err(arrow_err),
    }
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    b.column_by_name(name).ok_or_else(|| StressError::Data(format!("column {name:?} is missing")))
}

/// A string column of any of Arrow's three string layouts.
enum Strings<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl<'a> Strings<'a> {
    fn of(a: &'a ArrayRef) -> Result<Self> {
        if a.null_count() > 0 {
            return Err(StressError::Data(format!("column \"symbol\" has {} nulls", a.null_count())));
        }
        match a.data_type() {
            DataType::Utf8 => Ok(Strings::Utf8(a.as_string::<i32>())),
            DataType::LargeUtf8 => Ok(Strings::Large(a.as_string::<i64>())),
            DataType::Utf8View => Ok(Strings::View(a.as_string_view())),
            other => Err(StressError::Data(format!("column \"symbol\" must hold strings, got {other}"))),
        }
    }

    #[inline]
    fn value(&self, i: usize) -> &'a str {
        match self {
            Strings::Utf8(a) => a.value(i),
            Strings::Large(a) => a.value(i),
            Strings::View(a) => a.value(i),
        }
    }
}

/// Timestamps in ms UTC: borrowed from the buffer for Int64 (taken as ms) and Timestamp(ms),
/// converted for other units.
fn timestamps_ms(a: &ArrayRef) -> Result<Cow<'_, [i64]>> {
    if a.null_count() > 0 {
        return Err(StressError::Data(format!("column \"timestamp\" has {} nulls", a.null_count())));
    }
    let scaled = |v: &[i64], f: &dyn Fn(i64) -> i64| Cow::Owned(v.iter().map(|&x| f(x)).collect());
    Ok(match a.data_type() {
        DataType::Int64 => Cow::Borrowed(a.as_primitive::<arrow_array::types::Int64Type>().values().as_ref()),
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            Cow::Borrowed(a.as_primitive::<TimestampMillisecondType>().values().as_ref())
        }
        DataType::Timestamp(TimeUnit::Second, _) => {
            scaled(a.as_primitive::<TimestampSecondType>().values(), &|x| x.saturating_mul(1000))
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            scaled(a.as_primitive::<TimestampMicrosecondType>().values(), &|x| x.div_euclid(1000))
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            scaled(a.as_primitive::<TimestampNanosecondType>().values(), &|x| x.div_euclid(1_000_000))
        }
        other => {
            return Err(StressError::Data(format!(
                "column \"timestamp\" must be a timestamp or Int64 milliseconds, got {other}"
            )))
        }
    })
}

fn path_values(b: &RecordBatch) -> Result<Option<&[u32]>> {
    let Some(a) = b.column_by_name("path") else { return Ok(None) };
    if a.null_count() > 0 {
        return Err(StressError::Data(format!("column \"path\" has {} nulls", a.null_count())));
    }
    let p = a
        .as_primitive_opt::<UInt32Type>()
        .ok_or_else(|| StressError::Data(format!("column \"path\" must be UInt32, got {}", a.data_type())))?;
    Ok(Some(p.values().as_ref()))
}

/// The input table with its layout: rows sorted by (path, symbol, timestamp).
pub struct Table {
    pub batch: RecordBatch,
    /// Timestamps in ms when the column is not already Int64 / Timestamp(ms) (then it is read
    /// from the Arrow buffer in place, see [`Table::timestamp`]).
    converted_ts: Option<Vec<i64>>,
    pub layout: Layout,
    /// Symbol names by id: the requested order first, then order of appearance.
    pub symbols: Vec<String>,
    pub has_path: bool,
}

impl Table {
    /// Read the layout of `batch`, sorting it first when it is not in (path, symbol, timestamp)
    /// order (symbols ranked by `order`, then by first appearance).
    pub fn new(batch: RecordBatch, order: &[String]) -> Result<Self> {
        let (segments, symbols) = runs(&batch, order)?;
        let ts = timestamps_ms(column(&batch, "timestamp")?)?;
        match Layout::from_segments(segments.clone(), &ts) {
            Ok(layout) => {
                let converted_ts = owned(ts);
                let has_path = batch.column_by_name("path").is_some();
                Ok(Table { batch, converted_ts, layout, symbols, has_path })
            }
            Err(_) => {
                let perm = sort_permutation(&batch, &segments, &ts)?;
                drop(ts);
                let sorted = arrow_select::take::take_record_batch(&batch, &perm).map_err(arrow_err)?;
                let (segments, symbols) = runs(&sorted, &symbols)?;
                let ts = timestamps_ms(column(&sorted, "timestamp")?)?;
                let layout = Layout::from_segments(segments, &ts)?;
                let converted_ts = owned(ts);
                let has_path = sorted.column_by_name("path").is_some();
                Ok(Table { batch: sorted, converted_ts, layout, symbols, has_path })
            }
        }
    }

    /// Timestamps in ms UTC, one per row.
    pub fn timestamp(&self) -> &[i64] {
        if let Some(v) = &self.converted_ts {
            return v;
        }
        match self.batch.column_by_name("timestamp").map(timestamps_ms) {
            Some(Ok(Cow::Borrowed(s))) => s,
            _ => &[], // unreachable: the column was read as ms in place when the table was built
        }
    }

    /// The value columns in `needed` (bits of `VALUE_COLUMNS`) and the flags, borrowed from the
    /// Arrow buffers where they have no nulls (else copied with nulls as NaN, flags as 0), for
    /// [`StressRun::apply_single_pass`](stresslab_core::stress::StressRun::apply_single_pass).
    pub fn inputs(&self, needed: u8) -> Result<Inputs<'_>> {
        let mut values: [Option<Cow<'_, [f64]>>; 6] = Default::default();
        for (i, name) in VALUE_COLUMNS.iter().enumerate() {
            values[i] = match self.batch.column_by_name(name) {
                _ if needed >> i & 1 == 0 => None,
                None if *name == "spread" => None,
                None => return Err(StressError::Data(format!("column {name:?} is missing"))),
                Some(a) => Some(f64_values(name, a)?),
            };
        }
        let flags = match self.batch.column_by_name(FLAGS) {
            None => None,
            Some(a) => {
                let f = a.as_primitive_opt::<UInt32Type>().ok_or_else(|| {
                    StressError::Data(format!("column \"stress_flags\" must be UInt32, got {}", a.data_type()))
                })?;
                Some(match f.nulls() {
                    None => Cow::Borrowed(f.values().as_ref()),
                    Some(_) => Cow::Owned(f.iter().map(|v| v.unwrap_or(0)).collect()),
                })
            }
        };
        // timestamps read in place are the column's own values: the pass may write the moved ones
        Ok(Inputs { values, flags, carry_timestamps: self.converted_ts.is_none() })
    }

    /// The output table: the input's columns with the stressed values and flags in place (a
    /// spread column added when `add_spread` and the input had none; flags appended when new),
    /// other columns (and value columns no step touched) passed through, or gathered by `take`
    /// when rows moved (the timestamps taken from `timestamps` when the pass carried them).
    pub fn output(
        &self,
        cols: Columns,
        rows: Option<&[(usize, usize)]>,
        timestamps: Option<Vec<i64>>,
        add_spread: bool,
    ) -> Result<RecordBatch> {
        let schema = self.batch.schema();
        // path and symbol are constant over each segment (the runs were cut where they change):
        // when every output row stays in its input row's segment they are their own output
        let same_segments = rows.is_none_or(|r| self.layout.rows_keep_segments(r));
        let mut carried = timestamps.filter(|t| rows.is_some() && self.converted_ts.is_none() && t.len() == cols.len());
        let copied: Vec<&str> = VALUE_COLUMNS
            .iter()
            .zip([&cols.open, &cols.high, &cols.low, &cols.close, &cols.volume, &cols.spread])
            .filter(|(_, v)| !v.is_empty() || cols.flags.is_empty())
            .map(|(name, _)| *name)
            .collect();
        // passthrough columns: the input's own array, or its rows gathered when rows moved (each
        // gather is parallel inside; several columns also run side by side)
        let (kept, moved): (Vec<_>, Vec<_>) = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| !copied.contains(&f.name().as_str()) && f.name() != FLAGS)
            .filter(|(_, f)| !(carried.is_some() && f.name() == "timestamp"))
            .partition(|(_, f)| rows.is_none() || (same_segments && matches!(f.name().as_str(), "path" | "symbol")));
        let mut gathered: Vec<(usize, Result<ArrayRef>)> =
            kept.into_iter().map(|(i, _)| (i, Ok(self.batch.column(i).clone()))).collect();
        if let Some(r) = rows {
            let gather = |(i, _): (usize, &_)| (i, gather_ranges(self.batch.column(i), r));
            // (no parallel region, and no threads woken, for nothing to gather)
            match moved.len() {
                0 => {}
                1 => gathered.extend(moved.into_iter().map(gather)),
                _ => gathered.extend(moved.into_par_iter().map(gather).collect::<Vec<_>>()),
            }
        }
        let mut passthrough: HashMap<usize, ArrayRef> = HashMap::new();
        for (i, a) in gathered {
            passthrough.insert(i, a?);
        }
        let mut values: HashMap<&str, Vec<f64>> = VALUE_COLUMNS
            .iter()
            .copied()
            .zip([cols.open, cols.high, cols.low, cols.close, cols.volume, cols.spread])
            .filter(|(name, _)| copied.contains(name))
            .collect();
        let mut flags = Some(cols.flags);
        let mut fields = Vec::with_capacity(schema.fields().len() + 2);
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len() + 2);
        for (i, f) in schema.fields().iter().enumerate() {
            let name = f.name().as_str();
            if let Some(v) = values.remove(name) {
                fields.push(Field::new(name, DataType::Float64, f.is_nullable()));
                arrays.push(Arc::new(Float64Array::from(v)));
            } else if name == "timestamp" && carried.is_some() {
                // the moved timestamps as the column's own type (Int64 or Timestamp(ms, tz))
                let ts = carried.take().unwrap_or_default();
                let data = ArrayData::builder(f.data_type().clone()).len(ts.len()).add_buffer(Buffer::from_vec(ts));
                fields.push(f.as_ref().clone());
                arrays.push(arrow_array::make_array(data.build().map_err(arrow_err)?));
            } else if name == FLAGS {
                fields.push(Field::new(FLAGS, DataType::UInt32, f.is_nullable()));
                arrays.push(Arc::new(UInt32Array::from(flags.take().unwrap_or_default())));
            } else {
                fields.push(f.as_ref().clone());
                arrays.push(passthrough.remove(&i).ok_or_else(|| StressError::Data(format!("column {name}")))?);
            }
        }
        if add_spread {
            if let Some(v) = values.remove("spread") {
                fields.push(Field::new("spread", DataType::Float64, false));
                arrays.push(Arc::new(Float64Array::from(v)));
            }
        }
        if let Some(f) = flags {
            fields.push(Field::new(FLAGS, DataType::UInt32, false));
            arrays.push(Arc::new(UInt32Array::from(f)));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(arrow_err)
    }
}

/// Rows of `col` by ranges (see `Outcome::rows`), copied range by range in parallel: the values
/// of fixed-width columns and the views of string views (which still point into the same data
/// buffers) as plain slices, any other array type through Arrow's generic `MutableArrayData`.
/// (The ranges come from `finalize` and lie inside the table.)
fn gather_ranges(col: &ArrayRef, rows: &[(usize, usize)]) -> Result<ArrayRef> {
    let outside = || {
        let (a, b) = rows.iter().copied().find(|&(a, b)| a > b || b > col.len()).unwrap_or_default();
        StressError::Data(format!("row range {a}..{b} outside the table"))
    };
    if col.null_count() == 0 {
        let data = col.to_data();
        let fixed = |width: usize| -> Result<Option<Buffer>> {
            let buffer = &data.buffers()[0];
            // (`typed_data` needs an aligned buffer of whole values; Arrow's import aligns them)
            if buffer.as_ptr().align_offset(width) != 0 || buffer.len() % width != 0 {
                return Ok(None);
            }
            let gathered =
                match width {
                    4 => single_pass::gather_ranges(&buffer.typed_data::<u32>()[data.offset()..], rows)
                        .map(Buffer::from_vec),
                    8 => single_pass::gather_ranges(&buffer.typed_data::<u64>()[data.offset()..], rows)
                        .map(Buffer::from_vec),
                    _ => return Ok(None),
                };
            gathered.map(Some).ok_or_else(outside)
        };
        if let Some(buffer) = col.data_type().primitive_width().map(fixed).transpose()?.flatten() {
            let len = buffer.len() / col.data_type().primitive_width().unwrap_or(1);
            let gathered = ArrayData::builder(col.data_type().clone()).len(len).add_buffer(buffer).build();
            return Ok(arrow_array::make_array(gathered.map_err(arrow_err)?));
        }
        if let Some(strings) = col.as_string_view_opt() {
            let views = single_pass::gather_ranges(strings.views(), rows).ok_or_else(outside)?;
            // SAFETY: every view is copied unchanged from a valid array and the data buffers it
            // points into are the same, so each view is still in bounds and valid UTF-8.
            let gathered = unsafe {
                StringViewArray::new_unchecked(ScalarBuffer::from(views), strings.data_buffers().to_vec(), None)
            };
            return Ok(Arc::new(gathered));
        }
    }
    let len = rows.iter().map(|(a, b)| b - a).sum();
    let data = col.to_data();
    let mut out = arrow_data::transform::MutableArrayData::new(vec![&data], false, len);
    for &(a, b) in rows {
        if a > b || b > data.len() {
            return Err(outside());
        }
        out.try_extend(0, a, b).map_err(arrow_err)?;
    }
    Ok(arrow_array::make_array(out.freeze()))
}

/// The converted timestamps, or None when they are read in place.
fn owned(ts: Cow<'_, [i64]>) -> Option<Vec<i64>> {
    match ts {
        Cow::Borrowed(_) => None,
        Cow::Owned(v) => Some(v),
    }
}

fn f64_copy(name: &str, a: &ArrayRef) -> Result<Vec<f64>> {
    let p = a
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| StressError::Data(format!("column {name:?} must be Float64, got {}", a.data_type())))?;
    let mut v = p.values().to_vec();
    if let Some(nulls) = p.nulls() {
        for (x, valid) in v.iter_mut().zip(nulls.iter()) {
            if !valid {
                *x = f64::NAN;
            }
        }
    }
    Ok(v)
}

/// A Float64 column's values: the Arrow buffer itself, or a copy with nulls as NaN.
fn f64_values<'a>(name: &str, a: &'a ArrayRef) -> Result<Cow<'a, [f64]>> {
    let p = a
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| StressError::Data(format!("column {name:?} must be Float64, got {}", a.data_type())))?;
    match p.nulls() {
        None => Ok(Cow::Borrowed(p.values().as_ref())),
        Some(_) => f64_copy(name, a).map(Cow::Owned),
    }
}

/// Input value columns (None: not needed, or a missing spread) and flags (None: absent).
pub struct Inputs<'a> {
    values: [Option<Cow<'a, [f64]>>; 6],
    flags: Option<Cow<'a, [u32]>>,
    carry_timestamps: bool,
}

impl Inputs<'_> {
    /// The columns as the single pass reads them (`base_spread` stands in for a missing spread).
    pub fn sources(&self, base_spread: f64) -> Sources<'_> {
        let mut values = [Source::Absent; 6];
        for (i, (slot, v)) in values.iter_mut().zip(&self.values).enumerate() {
            *slot = match v {
                Some(v) => Source::Values(v),
                None if VALUE_COLUMNS[i] == "spread" => Source::Fill(base_spread),
                None => Source::Absent,
            };
        }
        Sources { values, flags: self.flags.as_deref(), carry_timestamps: self.carry_timestamps }
    }
}

/// Runs of rows with one (path, symbol), with symbol ids: `order` first, then first appearance.
fn runs(batch: &RecordBatch, order: &[String]) -> Result<(Vec<Segment>, Vec<String>)> {
    let n = batch.num_rows();
    let path = path_values(batch)?;
    let sym = Strings::of(column(batch, "symbol")?)?;
    // Candidate run starts: rows where the path changes or the symbol's 16-byte string view
    // changes (polars' layout inlines short strings, so equal views mean equal strings); a
    // changed view is confirmed by comparing the strings. Other layouts compare strings.
    let mut starts: Vec<usize> = Vec::new();
    if n > 0 {
        starts.push(0);
    }
    if n > 1 {
        let changed = |i: usize| path.is_some_and(|p| p[i] != p[i - 1]) || sym.value(i) != sym.value(i - 1);
        // rows 1..n in chunks scanned in parallel (every row is read), starts kept in row order
        const CHUNK: usize = 1 << 16;
        let chunks: Vec<Vec<usize>> = (0..(n - 1).div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let rows = 1 + c * CHUNK..(1 + (c + 1) * CHUNK).min(n);
                match &sym {
                    Strings::View(a) => view_changes(a.views(), path, rows, &changed),
                    _ => rows.filter(|&i| changed(i)).collect(),
                }
            })
            .collect();
        starts.extend(chunks.into_iter().flatten());
    }
    let bounds: Vec<(usize, usize)> =
        starts.iter().enumerate().map(|(k, &s)| (s, starts.get(k + 1).copied().unwrap_or(n) - s)).collect();
    let mut seen: Vec<&str> = Vec::new();
    let mut present: HashSet<&str> = HashSet::new();
    for &(s, _) in &bounds {
        let name = sym.value(s);
        if present.insert(name) {
            seen.push(name);
        }
    }
    let mut symbols: Vec<String> = order.iter().filter(|s| present.contains(s.as_str())).cloned().collect();
    for name in seen {
        if !symbols.iter().any(|s| s == name) {
            symbols.push(name.to_string());
        }
    }
    let ids: HashMap<&str, u32> = symbols.iter().enumerate().map(|(i, s)| (s.as_str(), i as u32)).collect();
    let segments = bounds
        .into_iter()
        .map(|(start, len)| Segment {
            path: path.map_or(0, |p| u64::from(p[start])),
            symbol: ids.get(sym.value(start)).copied().unwrap_or(u32::MAX),
            start,
            len,
        })
        .collect();
    Ok((segments, symbols))
}

/// Rows in `rows` (all >= 1) where the path or the symbol changes from the row before, for
/// string views: candidates are rows where the path or the symbol's 16-byte view changes
/// (polars' layout inlines short strings, so equal views mean equal strings), confirmed by
/// `changed` (which compares the strings).
fn view_changes(
    views: &[u128],
    path: Option<&[u32]>,
    rows: std::ops::Range<usize>,
    changed: &(dyn Fn(usize) -> bool + Sync),
) -> Vec<usize> {
    // Runs are long: compare blocks of rows with their predecessors as whole slices (memcmp)
    // and look at single rows only in blocks where something changes.
    const BLOCK: usize = 64;
    let moved = |i: usize| views[i] != views[i - 1] || path.is_some_and(|p| p[i] != p[i - 1]);
    let mut starts = Vec::new();
    let mut lo = rows.start;
    while lo < rows.end {
        let hi = (lo + BLOCK).min(rows.end);
        let same = views[lo..hi] == views[lo - 1..hi - 1] && path.is_none_or(|p| p[lo..hi] == p[lo - 1..hi - 1]);
        if !same {
            starts.extend((lo..hi).filter(|&i| moved(i) && changed(i)));
        }
        lo = hi;
    }
    starts
}

/// Row order that sorts the table by (path, symbol id, timestamp), stable.
fn sort_permutation(batch: &RecordBatch, segments: &[Segment], ts: &[i64]) -> Result<UInt32Array> {
    let n = batch.num_rows();
    if n > u32::MAX as usize {
        return Err(StressError::Data("tables over 2^32 rows are not supported; stress paths in chunks".into()));
    }
    let mut keys: Vec<(u64, u32, i64, u32)> = Vec::with_capacity(n);
    for seg in segments {
        let rows = seg.start..seg.start + seg.len;
        keys.extend(ts[rows.clone()].iter().zip(rows).map(|(&t, r)| (seg.path, seg.symbol, t, r as u32)));
    }
    keys.par_sort_unstable();
    Ok(UInt32Array::from(keys.into_iter().map(|k| k.3).collect::<Vec<u32>>()))
}
