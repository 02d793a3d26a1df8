//! Applying a list of steps to a whole long table: its (path, symbol) layout, positions shared
//! across symbols, parallelism over paths, and the output row order after row corruptions.
//!
//! The table must be sorted by (path, symbol, timestamp): each path's rows contiguous, each
//! symbol's rows contiguous inside its path ([`Layout::from_rows`] checks this). Paths are
//! independent and run in parallel (rayon); inside a path the steps run in order. Every random
//! draw comes from a stream keyed by (seed, scenario ^ transform tag, path, symbol), so the
//! result is bit-identical on any number of threads.

use std::collections::HashSet;
use std::ops::Range;

use rayon::prelude::*;

use super::bars::Bars;
use super::data_corruption::CorruptionKind;
use super::mixed::{in_mixed_order, Step, Transform};
use super::{Event, Position, TransformKind, COLUMN_NAMES};
use crate::error::{Result, StressError};
use crate::rng::{Domain, Stream, MARKET};

/// Owned value columns of a long table (all paths and symbols); the timestamps are passed
/// alongside, read-only (the caller may borrow them from an Arrow buffer). A value column may be
/// left empty when no step of the run touches it ([`StressRun::columns`]); `flags` always has
/// one entry per row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Columns {
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
    pub spread: Vec<f64>,
    pub flags: Vec<u32>,
}

impl Columns {
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    pub(crate) fn values(&self) -> [&Vec<f64>; 6] {
        [&self.open, &self.high, &self.low, &self.close, &self.volume, &self.spread]
    }

    pub(crate) fn values_mut(&mut self) -> [&mut Vec<f64>; 6] {
        [&mut self.open, &mut self.high, &mut self.low, &mut self.close, &mut self.volume, &mut self.spread]
    }

    /// Fail unless every column in `needed` (bits of `COLUMN_NAMES`) has one value per row and
    /// the others have one or none.
    pub fn check_lengths(&self, needed: u8) -> Result<()> {
        let n = self.len();
        for (i, col) in self.values().iter().enumerate() {
            let need = needed >> i & 1 == 1;
            if col.len() != n && (need || !col.is_empty()) {
                return Err(StressError::Data(format!(
                    "column {} has {} values for {n} rows",
                    COLUMN_NAMES[i],
                    col.len()
                )));
            }
        }
        Ok(())
    }

    /// Mutable bars over all rows, with `timestamp` (one per row) alongside.
    pub fn bars_mut<'a>(&'a mut self, timestamp: &'a [i64]) -> Bars<'a> {
        Bars {
            timestamp,
            open: &mut self.open,
            high: &mut self.high,
            low: &mut self.low,
            close: &mut self.close,
            volume: &mut self.volume,
            spread: &mut self.spread,
            flags: &mut self.flags,
        }
    }
}

/// Rows `start..start + len` hold one symbol of one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub path: u64,
    pub symbol: u32,
    pub start: usize,
    pub len: usize,
}

/// The (path, symbol) structure of a sorted long table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub segments: Vec<Segment>,
    /// Per path: (path value, first segment, number of segments, first row, number of rows).
    pub paths: Vec<(u64, usize, usize, usize, usize)>,
}

impl Layout {
    /// Derive the layout from per-row path values, symbol ids and timestamps.
    pub fn from_rows(path: &[u32], symbol: &[u32], timestamp: &[i64]) -> Result<Self> {
        let n = timestamp.len();
        if path.len() != n || symbol.len() != n {
            return Err(StressError::Data("path, symbol and timestamp columns differ in length".into()));
        }
        let mut segments: Vec<Segment> = Vec::new();
        for i in 0..n {
            match segments.last_mut() {
                Some(seg) if seg.path == u64::from(path[i]) && seg.symbol == symbol[i] => seg.len += 1,
                _ => segments.push(Segment { path: u64::from(path[i]), symbol: symbol[i], start: i, len: 1 }),
            }
        }
        Self::from_segments(segments, timestamp)
    }

    /// Check runs of rows (each one (path, symbol), in row order, covering every row) form a
    /// table sorted by (path, symbol, timestamp): each path's rows contiguous, each symbol's rows
    /// contiguous inside its path, timestamps non-decreasing inside a run.
    pub fn from_segments(segments: Vec<Segment>, timestamp: &[i64]) -> Result<Self> {
        let unsorted = |what: String| {
            Err(StressError::Data(format!("{what}; the table must be sorted by (path, symbol, timestamp)")))
        };
        let mut paths: Vec<(u64, usize, usize, usize, usize)> = Vec::new();
        let mut seen_paths = HashSet::new();
        let mut seen_symbols = HashSet::new();
        let mut row = 0;
        for (k, seg) in segments.iter().enumerate() {
            if seg.start != row || seg.len == 0 {
                return Err(StressError::Data(format!("segment {k} does not continue at row {row}")));
            }
            row += seg.len;
        }
        if row != timestamp.len() {
            return Err(StressError::Data(format!("segments cover {row} rows of {}", timestamp.len())));
        }
        // The timestamp scan reads every row: segments in parallel, each a branch-free scan first
        // (vectorised), the position only when one goes back (the first such segment reported).
        let back = segments.par_iter().find_map_first(|seg| {
            let rows = &timestamp[seg.start..seg.start + seg.len];
            let goes_back = rows[1..].iter().zip(rows).fold(false, |acc, (b, a)| acc | (b < a));
            goes_back.then(|| seg.start + rows.windows(2).position(|w| w[1] < w[0]).unwrap_or(0) + 1)
        });
        if let Some(r) = back {
            return unsorted(format!("timestamps go back at row {r}"));
        }
        let mut row = 0;
        for (k, seg) in segments.iter().enumerate() {
            if paths.last().is_none_or(|p| p.0 != seg.path) {
                if !seen_paths.insert(seg.path) {
                    return unsorted(format!("the rows of path {} are not contiguous (row {row})", seg.path));
                }
                seen_symbols.clear();
                paths.push((seg.path, k, 0, row, 0));
            }
            if !seen_symbols.insert(seg.symbol) {
                return unsorted(format!(
                    "the rows of symbol id {} in path {} are not contiguous (row {row})",
                    seg.symbol, seg.path
                ));
            }
            if let Some(p) = paths.last_mut() {
                p.2 += 1;
                p.4 += seg.len;
            }
            row += seg.len;
        }
        Ok(Layout { segments, paths })
    }

    /// Index of the segment holding `row` (the last one for rows past the end), searched from
    /// segment `hint` outwards (rows asked for in about increasing order cost O(1) each).
    fn segment_of(&self, row: usize, hint: usize) -> usize {
        let last = self.segments.len().saturating_sub(1);
        let mut k = hint.min(last);
        while k < last && self.segments[k].start + self.segments[k].len <= row {
            k += 1;
        }
        while k > 0 && self.segments[k].start > row {
            k -= 1;
        }
        k
    }

    /// Whether every output row described by `rows` (as in [`Outcome::rows`]) lies in the same
    /// segment as the input row at the same position: then a column that is constant over each
    /// segment (path, symbol) is its own output, whatever rows moved inside the segments (e.g.
    /// data corruption with as many duplicates as gaps per series).
    pub fn rows_keep_segments(&self, rows: &[(usize, usize)]) -> bool {
        let mut at = 0;
        let mut hint = 0;
        for &(a, b) in rows {
            if b <= a {
                continue;
            }
            let len = b - a;
            // a range copied to its own place keeps every row's segment; one copied elsewhere must
            // lie inside one segment on both sides, the same one
            if a != at {
                let seg = self.segment_of(a, hint);
                hint = seg;
                let inside =
                    |r: Range<usize>| self.segment_of(r.start, seg) == seg && self.segment_of(r.end - 1, seg) == seg;
                if !inside(a..b) || !inside(at..at + len) {
                    return false;
                }
            }
            at += len;
        }
        at == self.segments.last().map_or(0, |s| s.start + s.len)
    }
}

/// A validated list of steps with the scenario's seed and key.
#[derive(Clone, Debug, PartialEq)]
pub struct StressRun {
    pub steps: Vec<Step>,
    pub seed: u64,
    pub scenario: u64,
}

/// The result of a run: final columns (rows reordered when row corruptions happened), the events,
/// and the output's rows as ranges of input rows (`rows[k] = (start, end)`: output continues with
/// input rows start..end; None when the rows are unchanged).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub columns: Columns,
    pub events: Vec<Event>,
    pub rows: Option<Vec<(usize, usize)>>,
    /// The output rows' timestamps, when rows moved and the single pass was asked to carry them
    /// ([`super::Sources::carry_timestamps`]); None otherwise.
    pub timestamps: Option<Vec<i64>>,
}

impl Outcome {
    /// The input row of every output row (None when the rows are unchanged).
    pub fn take(&self) -> Option<Vec<usize>> {
        self.rows.as_ref().map(|r| r.iter().flat_map(|&(a, b)| a..b).collect())
    }
}

impl StressRun {
    /// Steps applied in the order given.
    pub fn new(steps: Vec<Step>, seed: u64, scenario: u64) -> Self {
        StressRun { steps, seed, scenario }
    }

    /// Steps applied in the documented mixed order ([`super::mixed::ORDER`]).
    pub fn mixed(steps: Vec<Step>, seed: u64, scenario: u64) -> Self {
        StressRun { steps: in_mixed_order(steps), seed, scenario }
    }

    /// The value columns the steps touch (bits of `COLUMN_NAMES`): the only ones to copy.
    pub fn columns(&self) -> u8 {
        self.steps.iter().fold(0, |acc, s| acc | s.transform.kind().columns())
    }

    fn stream(&self, kind: TransformKind, path: u64, symbol: u64) -> Stream {
        Stream::new(Domain::Stress, self.seed, self.scenario ^ kind.stream_tag(), path, symbol)
    }

    /// Apply every step to `cols` (laid out as `layout`, with `timestamp` per row) in place;
    /// events sorted by path, then step, then symbol and bar. Paths run in parallel; the result
    /// does not depend on the thread count.
    pub fn apply(&self, cols: &mut Columns, timestamp: &[i64], layout: &Layout) -> Result<Vec<Event>> {
        cols.check_lengths(self.columns())?;
        if timestamp.len() != cols.len() {
            return Err(StressError::Data(format!("{} timestamps for {} rows", timestamp.len(), cols.len())));
        }
        let total: usize = layout.paths.iter().map(|p| p.4).sum();
        if total != cols.len() {
            return Err(StressError::Data(format!("layout covers {total} rows but the table has {}", cols.len())));
        }
        let mut pieces = Vec::with_capacity(layout.paths.len());
        let mut rest = cols.bars_mut(timestamp);
        for p in &layout.paths {
            let (piece, tail) = rest.split_at(p.4);
            pieces.push(piece);
            rest = tail;
        }
        let results: Vec<Result<Vec<Event>>> = pieces
            .into_par_iter()
            .zip(layout.paths.par_iter())
            .map(|(bars, p)| self.apply_path(bars, &layout.segments[p.1..p.1 + p.2]))
            .collect();
        let mut events = Vec::new();
        for r in results {
            events.extend(r?);
        }
        Ok(events)
    }

    /// All steps on one path (`segs` are its segments; `bars` its rows).
    pub(crate) fn apply_path(&self, bars: Bars<'_>, segs: &[Segment]) -> Result<Vec<Event>> {
        let mut views = Vec::with_capacity(segs.len());
        let mut rest = bars;
        for s in segs {
            let (v, tail) = rest.split_at(s.len);
            views.push(v);
            rest = tail;
        }
        let mut events = Vec::new();
        for step in &self.steps {
            let targets: Vec<usize> = (0..segs.len())
                .filter(|&i| step.symbols.as_ref().is_none_or(|s| s.contains(&segs[i].symbol)))
                .collect();
            if targets.is_empty() {
                continue;
            }
            let out = self.apply_step(step, &mut views, segs, &targets).map_err(|e| step.relabel(e))?;
            for (seg_i, mut evs) in out {
                let seg = segs[seg_i];
                for e in evs.iter_mut() {
                    e.path = seg.path;
                    e.symbol = seg.symbol;
                    e.row = seg.start + e.bar;
                }
                events.extend(evs);
            }
        }
        Ok(events)
    }

    /// One step on its target segments; returns the events per segment index.
    fn apply_step(
        &self,
        step: &Step,
        views: &mut [Bars<'_>],
        segs: &[Segment],
        targets: &[usize],
    ) -> Result<Vec<(usize, Vec<Event>)>> {
        let kind = step.transform.kind();
        let path = segs[targets[0]].path;
        if let Transform::DataCorruption(dc) = &step.transform {
            let mut out = Vec::with_capacity(targets.len());
            for &i in targets {
                dc.check_fits(views[i].len())?;
                let mut rng = self.stream(kind, path, u64::from(segs[i].symbol));
                out.push((i, dc.apply(&mut views[i], &mut rng)));
            }
            return Ok(out);
        }
        if let Transform::CorrelationBreakdown(cb) = &step.transform {
            cb.check_symbols(targets.len())?;
        }
        let starts = self.starts(step, views, targets, path)?;
        let span = step.transform.span();
        if step.transform.moves_prices() {
            for (&i, &s) in targets.iter().zip(&starts) {
                views[i].check_prices(s, s + span, kind.name())?;
            }
        }
        if let Transform::CorrelationBreakdown(cb) = &step.transform {
            let mut refs: Vec<&mut Bars<'_>> =
                views.iter_mut().enumerate().filter(|(i, _)| targets.contains(i)).map(|(_, v)| v).collect();
            let evs = cb.apply(&mut refs, &starts)?;
            return Ok(targets.iter().copied().zip(evs).collect());
        }
        let mut out = Vec::with_capacity(targets.len());
        for (&i, &s) in targets.iter().zip(&starts) {
            let mut rng = self.stream(kind, path, u64::from(segs[i].symbol));
            let b = &mut views[i];
            let evs = match &step.transform {
                Transform::FlashCrash(t) => t.apply(b, s, &mut rng),
                Transform::VolatilitySpike(t) => t.apply(b, s),
                Transform::LiquidityDrop(t) => t.apply(b, s),
                Transform::SpreadExplosion(t) => t.apply(b, s),
                Transform::PumpAndDump(t) => t.apply(b, s, &mut rng),
                // both returned above, before the per-symbol dispatch
                Transform::DataCorruption(_) | Transform::CorrelationBreakdown(_) => Vec::new(),
            };
            out.push((i, evs));
        }
        Ok(out)
    }

    /// Start bar of the window in each target. The first target resolves the position; the
    /// others start at the same time (a bar index applies to each series as it is).
    fn starts(&self, step: &Step, views: &[Bars<'_>], targets: &[usize], path: u64) -> Result<Vec<usize>> {
        let span = step.transform.span();
        let field = step.transform.span_field();
        let u = match step.at {
            Position::Random => self.stream(step.transform.kind(), path, MARKET).uniform(),
            _ => 0.0,
        };
        let first = &views[targets[0]];
        let s0 = step.at.resolve(first.timestamp, span, u, "at", field)?;
        let follow = match step.at {
            Position::Bar(i) => Position::Bar(i),
            Position::Time(ms) => Position::Time(ms),
            Position::Random => Position::Time(first.timestamp[s0]),
        };
        let mut starts = vec![s0];
        for &i in &targets[1..] {
            starts.push(follow.resolve_near(views[i].timestamp, span, 0.0, Some(s0), "at", field)?);
        }
        Ok(starts)
    }
}

/// How data corruption's row corruptions (duplicate, gap, out_of_order) reorder rows
/// `from..to`: the output continues with input rows `ranges[k].0..ranges[k].1`; the copy of a
/// duplicated bar (at output offsets `copies`, counted from the first output row of `from..to`)
/// carries the data-corruption flag. Rows move only around the corrupted bars, so this is a short
/// list of contiguous ranges. `copies` pairs each copy's output offset with its input row.
pub(crate) struct RowMoves {
    pub ranges: Vec<(usize, usize)>,
    pub copies: Vec<(usize, usize)>,
    pub len: usize,
}

/// The row moves that `events` cause among rows `from..to` (None when no row moves there).
pub(crate) fn row_moves(events: &[Event], from: usize, to: usize) -> Option<RowMoves> {
    let mut moves: Vec<(usize, CorruptionKind)> = events
        .iter()
        .filter(|e| e.transform == TransformKind::DataCorruption && (from..to).contains(&e.row))
        .filter_map(|e| CorruptionKind::from_name(e.kind).filter(|k| k.moves_rows()).map(|k| (e.row, k)))
        .collect();
    if moves.is_empty() {
        return None;
    }
    moves.sort_unstable_by_key(|m| m.0);
    let mut rows: Vec<(usize, usize)> = Vec::with_capacity(3 * moves.len() + 1);
    let mut out_len = 0;
    let mut copies: Vec<(usize, usize)> = Vec::new();
    let mut push = |rows: &mut Vec<(usize, usize)>, a: usize, b: usize| {
        if b > a {
            rows.push((a, b));
            out_len += b - a;
        }
        out_len
    };
    let mut cur = from;
    for &(r, kind) in &moves {
        match kind {
            CorruptionKind::Gap => {
                push(&mut rows, cur, r);
                cur = r + 1;
            }
            CorruptionKind::Duplicate => {
                let copy_at = push(&mut rows, cur, r + 1);
                copies.push((copy_at, r));
                push(&mut rows, r, r + 1);
                cur = r + 1;
            }
            _ => {
                // out_of_order: the clean successor first, then the bar
                push(&mut rows, cur, r);
                push(&mut rows, r + 1, r + 2);
                push(&mut rows, r, r + 1);
                cur = r + 2;
            }
        }
    }
    let len = push(&mut rows, cur, to);
    Some(RowMoves { ranges: rows, copies, len })
}

/// Assemble the output after a run: apply the row corruptions (duplicate, gap, out_of_order) to
/// the row order ([`row_moves`]). The copy of a duplicated bar carries the data-corruption flag;
/// the original row stays as it was. The output is copied range by range with `memcpy`.
pub fn finalize(columns: Columns, events: Vec<Event>) -> Outcome {
    let Some(RowMoves { ranges: rows, copies, len: out_len }) = row_moves(&events, 0, columns.len()) else {
        return Outcome { columns, events, rows: None, timestamps: None };
    };
    let gather = |v: &Vec<f64>| -> Vec<f64> {
        let mut out = Vec::with_capacity(out_len);
        for &(a, b) in &rows {
            out.extend_from_slice(&v[a..b]);
        }
        out
    };
    // gather the present columns in parallel (absent ones stay empty)
    let gathered: Vec<Vec<f64>> =
        columns.values().par_iter().map(|v| if v.is_empty() { Vec::new() } else { gather(v) }).collect();
    let mut it = gathered.into_iter();
    let mut next = || it.next().unwrap_or_default();
    let mut flags = Vec::with_capacity(out_len);
    for &(a, b) in &rows {
        flags.extend_from_slice(&columns.flags[a..b]);
    }
    let mut out =
        Columns { open: next(), high: next(), low: next(), close: next(), volume: next(), spread: next(), flags };
    for (i, _) in copies {
        out.flags[i] |= TransformKind::DataCorruption.flag();
    }
    Outcome { columns: out, events, rows: Some(rows), timestamps: None }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::rng::Stream;

    /// n_paths x symbols x n_bars random bars, sorted by (path, symbol, time).
    fn table(n_paths: u32, n_sym: u32, n_bars: usize) -> (Columns, Vec<u32>, Vec<u32>, Vec<i64>) {
        let mut c = Columns::default();
        let (mut p, mut s, mut ts) = (Vec::new(), Vec::new(), Vec::new());
        for path in 0..n_paths {
            for sym in 0..n_sym {
                let mut r = Stream::from_u64(u64::from(path * 100 + sym));
                let mut prev = 100.0;
                for t in 0..n_bars {
                    let close = prev * (0.01 * r.normal()).exp();
                    ts.push(t as i64 * 3_600_000);
                    c.open.push(prev);
                    c.close.push(close);
                    c.high.push(prev.max(close) * 1.002);
                    c.low.push(prev.min(close) * 0.998);
                    c.volume.push(50.0 + t as f64);
                    c.spread.push(1e-4);
                    c.flags.push(0);
                    p.push(path);
                    s.push(sym);
                    prev = close;
                }
            }
        }
        (c, p, s, ts)
    }

    fn params(pairs: &[(&str, f64)]) -> HashMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn mixed_steps() -> Vec<Step> {
        let fc = params(&[
            ("drop_pct", 0.3),
            ("duration_bars", 6.0),
            ("recovery_bars", 12.0),
            ("recovery_pct", 0.5),
            ("volume_mult", 8.0),
            ("spread_mult", 5.0),
        ]);
        let all: Vec<String> =
            super::super::data_corruption::CORRUPTION_KINDS.iter().map(|k| k.name().to_string()).collect();
        vec![
            Step::from_params(
                "data_corruption",
                &params(&[("corruption_pct", 0.05)]),
                &all,
                None,
                Position::Random,
                vec![],
            )
            .unwrap(),
            Step::from_params("flash_crash", &fc, &[], None, Position::Random, vec![]).unwrap(),
            Step::from_params(
                "volatility_spike",
                &params(&[("multiplier", 3.0), ("duration_bars", 24.0)]),
                &[],
                None,
                Position::Random,
                vec![],
            )
            .unwrap(),
            Step::from_params(
                "correlation_breakdown",
                &params(&[("duration_bars", 48.0)]),
                &["decorrelate".into()],
                None,
                Position::Random,
                vec![],
            )
            .unwrap(),
        ]
    }

    #[test]
    fn layout_checks_sorting() {
        let (_, p, s, ts) = table(2, 3, 10);
        let l = Layout::from_rows(&p, &s, &ts).unwrap();
        assert_eq!(l.segments.len(), 6);
        assert_eq!(l.paths.len(), 2);
        assert_eq!(l.paths[1], (1, 3, 3, 30, 30));
        let mut bad = s.clone();
        bad.swap(0, 15);
        assert!(Layout::from_rows(&p, &bad, &ts).is_err());
        let mut ts = ts.clone();
        ts.swap(3, 4);
        assert!(Layout::from_rows(&p, &s, &ts).is_err());
    }

    #[test]
    fn same_output_on_one_and_many_threads() {
        let (c0, p, s, ts) = table(6, 3, 400);
        let layout = Layout::from_rows(&p, &s, &ts).unwrap();
        let run = StressRun::mixed(mixed_steps(), 7, 99);
        let mut outs = Vec::new();
        for threads in [1, 4] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut c = c0.clone();
            let ev = pool.install(|| run.apply(&mut c, &ts, &layout)).unwrap();
            outs.push(finalize(c, ev));
        }
        let bits = |o: &Outcome| -> Vec<u64> {
            o.columns.close.iter().chain(&o.columns.volume).chain(&o.columns.high).map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(&outs[0]), bits(&outs[1]));
        assert_eq!(outs[0].rows, outs[1].rows);
        assert_eq!(format!("{:?}", outs[0].events), format!("{:?}", outs[1].events));
        // 5% of 400 bars per series, 18 series
        let corrupted = outs[0].events.iter().filter(|e| e.transform == TransformKind::DataCorruption).count();
        assert_eq!(corrupted, 20 * 18);
    }

    #[test]
    fn random_position_is_shared_by_symbols() {
        let (mut c, p, s, ts) = table(2, 3, 300);
        let layout = Layout::from_rows(&p, &s, &ts).unwrap();
        let run = StressRun::new(vec![mixed_steps().remove(1)], 3, 4);
        let ev = run.apply(&mut c, &ts, &layout).unwrap();
        let crash: Vec<&Event> = ev.iter().filter(|e| e.kind == "crash").collect();
        assert_eq!(crash.len(), 6);
        assert!(crash[..3].iter().all(|e| e.bar == crash[0].bar));
        assert!(crash[3..].iter().all(|e| e.bar == crash[3].bar));
    }

    #[test]
    fn each_transform_needs_only_its_declared_columns() {
        let fc = params(&[
            ("drop_pct", 0.3),
            ("duration_bars", 6.0),
            ("recovery_bars", 12.0),
            ("recovery_pct", 0.5),
            ("volume_mult", 8.0),
            ("spread_mult", 5.0),
        ]);
        let pd = params(&[
            ("pump_pct", 0.5),
            ("pump_bars", 5.0),
            ("dump_pct", 0.5),
            ("dump_bars", 5.0),
            ("volume_mult", 3.0),
        ]);
        let liq = params(&[("drop_pct", 0.5), ("duration_bars", 10.0), ("spread_elasticity", 0.5)]);
        let mut steps = mixed_steps();
        steps.push(Step::from_params("flash_crash", &fc, &[], None, Position::Bar(0), vec![]).unwrap());
        steps.push(Step::from_params("pump_and_dump", &pd, &[], None, Position::Random, vec![]).unwrap());
        steps.push(Step::from_params("liquidity_drop", &liq, &[], None, Position::Random, vec![]).unwrap());
        let sx = params(&[("spread_mult", 3.0), ("duration_bars", 10.0)]);
        steps.push(Step::from_params("spread_explosion", &sx, &[], None, Position::Random, vec![]).unwrap());
        for step in steps {
            let (full, p, s, ts) = table(2, 3, 200);
            let layout = Layout::from_rows(&p, &s, &ts).unwrap();
            let run = StressRun::new(vec![step], 5, 6);
            let needed = run.columns();
            let keep = |i: usize, v: &Vec<f64>| if needed >> i & 1 == 1 { v.clone() } else { Vec::new() };
            let mut c = Columns {
                open: keep(0, &full.open),
                high: keep(1, &full.high),
                low: keep(2, &full.low),
                close: keep(3, &full.close),
                volume: keep(4, &full.volume),
                spread: keep(5, &full.spread),
                flags: full.flags.clone(),
            };
            let mut reference = full.clone();
            let ev_part = run.apply(&mut c, &ts, &layout).unwrap();
            let ev_full = run.apply(&mut reference, &ts, &layout).unwrap();
            assert_eq!(format!("{ev_part:?}"), format!("{ev_full:?}"));
            let (a, b) = (finalize(c, ev_part).columns, finalize(reference, ev_full).columns);
            for (i, (x, y)) in a.values().iter().zip(b.values()).enumerate() {
                if needed >> i & 1 == 1 {
                    assert_eq!(format!("{x:?}"), format!("{y:?}"), "{}", COLUMN_NAMES[i]);
                } else {
                    assert!(x.is_empty());
                }
            }
            assert_eq!(a.flags, b.flags);
        }
        // a needed column that is missing is an error, not a panic
        let (full, p, s, ts) = table(1, 1, 50);
        let layout = Layout::from_rows(&p, &s, &ts).unwrap();
        let mut c = Columns { spread: Vec::new(), ..full };
        let step = Step::from_params("spread_explosion", &sx_params(), &[], None, Position::Random, vec![]).unwrap();
        assert!(StressRun::new(vec![step], 1, 1).apply(&mut c, &ts, &layout).is_err());
    }

    fn sx_params() -> HashMap<String, f64> {
        params(&[("spread_mult", 3.0), ("duration_bars", 10.0)])
    }

    #[test]
    fn finalize_moves_rows() {
        let (c, _, _, _) = table(1, 1, 6);
        let mk = |kind: &'static str, row: usize| {
            let mut e = Event::window(TransformKind::DataCorruption, kind, row, row + 1);
            e.row = row;
            e
        };
        let out = finalize(c, vec![mk("duplicate", 1), mk("gap", 2), mk("out_of_order", 3)]);
        assert_eq!(out.take().unwrap(), vec![0, 1, 1, 4, 3, 5]);
        assert_eq!(out.columns.flags, vec![0, 0, 16, 0, 0, 0]);
    }

    #[test]
    fn rows_keep_segments_follows_each_rows_segment() {
        // two paths x two symbols of 5 rows: segments at 0, 5, 10, 15
        let (_, p, s, ts) = table(2, 2, 5);
        let l = Layout::from_rows(&p, &s, &ts).unwrap();
        assert!(l.rows_keep_segments(&[(0, 20)]));
        // a duplicate and a gap in one series keep its length; out of order swaps inside it
        assert!(l.rows_keep_segments(&[(0, 2), (1, 3), (4, 7), (8, 9), (7, 8), (9, 20)]));
        // a duplicate in the first series and a gap in the second: rows 5 and 6 change segment
        assert!(!l.rows_keep_segments(&[(0, 2), (1, 6), (7, 20)]));
        // fewer or more output rows than input rows
        assert!(!l.rows_keep_segments(&[(0, 19)]));
        assert!(!l.rows_keep_segments(&[(0, 20), (19, 20)]));
        // cross-checked against a per-row comparison on every single duplicate + gap pair
        let seg = |r: usize| r / 5;
        for dup in 0..20 {
            for gap in 0..20 {
                let mut take: Vec<usize> = (0..20).filter(|&r| r != gap).collect();
                let at = take.iter().position(|&r| r == dup).map_or(take.len(), |i| i + 1);
                take.insert(at, dup);
                let mut ranges: Vec<(usize, usize)> = Vec::new();
                for &r in &take {
                    match ranges.last_mut() {
                        Some(last) if last.1 == r => last.1 += 1,
                        _ => ranges.push((r, r + 1)),
                    }
                }
                let want = take.iter().enumerate().all(|(o, &r)| seg(o) == seg(r));
                assert_eq!(l.rows_keep_segments(&ranges), want, "dup {dup} gap {gap}");
            }
        }
    }

    #[test]
    fn errors_name_fields() {
        let (mut c, p, s, ts) = table(1, 2, 20);
        let layout = Layout::from_rows(&p, &s, &ts).unwrap();
        let steps = vec![Step::from_params(
            "spread_explosion",
            &params(&[("spread_mult", 3.0), ("duration_bars", 30.0)]),
            &[],
            None,
            Position::Random,
            vec![("duration_bars".into(), "spread_duration_bars".into())],
        )
        .unwrap()];
        let e = StressRun::new(steps, 1, 1).apply(&mut c, &ts, &layout).unwrap_err();
        assert!(e.to_string().starts_with("spread_duration_bars:"), "{e}");
        let steps = vec![Step::from_params(
            "correlation_breakdown",
            &params(&[("duration_bars", 5.0)]),
            &["decorrelate".into()],
            Some(vec![1]),
            Position::Random,
            vec![],
        )
        .unwrap()];
        let e = StressRun::new(steps, 1, 1).apply(&mut c, &ts, &layout).unwrap_err();
        assert!(e.to_string().starts_with("symbols:"), "{e}");
    }
}
