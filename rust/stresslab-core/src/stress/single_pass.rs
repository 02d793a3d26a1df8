//! Applying a run in one pass per path, from borrowed input columns straight into the output.
//!
//! [`StressRun::apply`] edits owned copies of whole columns and [`super::plan::finalize`] then
//! gathers them again when data corruption moved rows: every value is written three times and
//! each step walks the whole table. Here each path (in parallel) is copied into a per-thread
//! scratch buffer that stays in cache, every step runs on it (the same [`StressRun::apply_path`],
//! so the values are bit-identical), and the result is written once into its final place in the
//! output columns, with the row moves applied on the way. The output length of each path is
//! known before the pass (data corruption's kind counts are fixed: each duplicate adds a row,
//! each gap removes one), so paths write disjoint parts of the output without a later copy.

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::ops::Range;

use rayon::prelude::*;

use super::plan::{finalize, row_moves, Columns, Layout, Outcome, StressRun};
use super::{CorruptionKind, Event, Transform, TransformKind, COLUMN_NAMES};
use crate::error::{Result, StressError};

/// Where one input value column comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// One value per row (e.g. borrowed from an Arrow buffer).
    Values(&'a [f64]),
    /// The same value on every row (a missing spread column).
    Fill(f64),
    /// Not in the input: allowed only for columns no step touches.
    Absent,
}

/// Borrowed input columns in `Columns` order, and the flags (None: all zero).
#[derive(Clone, Copy, Debug)]
pub struct Sources<'a> {
    pub values: [Source<'a>; 6],
    pub flags: Option<&'a [u32]>,
    /// Also write the output rows' timestamps ([`Outcome::timestamps`]) when rows may move: for
    /// a caller whose timestamp column holds the `timestamp` values themselves, so they are copied
    /// with each path's row ranges at hand instead of in a pass of their own.
    pub carry_timestamps: bool,
}

impl Sources<'_> {
    /// Fail unless every column in `needed` (bits of `COLUMN_NAMES`) and the flags cover `n` rows.
    fn check(&self, n: usize, needed: u8) -> Result<()> {
        for (i, src) in self.values.iter().enumerate() {
            let len = match src {
                _ if needed >> i & 1 == 0 => continue,
                Source::Values(v) => v.len(),
                Source::Fill(_) => n,
                Source::Absent => 0,
            };
            if len != n {
                return Err(StressError::Data(format!("column {} has {len} values for {n} rows", COLUMN_NAMES[i])));
            }
        }
        match self.flags {
            Some(f) if f.len() != n => Err(StressError::Data(format!("{} flags for {n} rows", f.len()))),
            _ => Ok(()),
        }
    }

    /// Rows `rows` of the needed columns into `c`, reusing its allocations (the others empty).
    fn fill(&self, needed: u8, rows: Range<usize>, c: &mut Columns) {
        let n = rows.len();
        for (i, (src, dst)) in self.values.iter().zip(c.values_mut()).enumerate() {
            dst.clear();
            match src {
                _ if needed >> i & 1 == 0 => {}
                Source::Values(v) => dst.extend_from_slice(&v[rows.clone()]),
                Source::Fill(x) => dst.resize(n, *x),
                Source::Absent => {}
            }
        }
        c.flags.clear();
        match self.flags {
            Some(f) => c.flags.extend_from_slice(&f[rows]),
            None => c.flags.resize(n, 0),
        }
    }
}

thread_local! {
    /// Per-thread scratch columns of one path, reused from path to path (and call to call) so the
    /// pass neither allocates nor page-faults per path.
    static SCRATCH: RefCell<Columns> = RefCell::new(Columns::default());
}

/// Rows of the longest path kept in a thread's scratch (about 27 MB for all columns); longer
/// paths use a buffer of their own so a thread does not hold that much memory after a call.
const KEEP_ROWS: usize = 1 << 19;

/// The output rows of one path: uninitialised parts of the output columns, written once.
struct PathOut<'a> {
    values: [Option<&'a mut [MaybeUninit<f64>]>; 6],
    flags: &'a mut [MaybeUninit<u32>],
    timestamps: Option<&'a mut [MaybeUninit<i64>]>,
}

/// What one path returns: its events and, when rows moved, its output rows as input ranges.
type PathResult = Result<(Vec<Event>, Option<Vec<(usize, usize)>>)>;

impl StressRun {
    /// Apply every step to the table read from `src` (laid out as `layout`, `timestamp` per row)
    /// and assemble the output, in one pass per path: the same values, events and row order as
    /// [`StressRun::apply`] followed by [`finalize`] on copies of the columns.
    pub fn apply_single_pass(&self, src: &Sources<'_>, timestamp: &[i64], layout: &Layout) -> Result<Outcome> {
        let n = timestamp.len();
        let needed = self.columns();
        src.check(n, needed)?;
        let total: usize = layout.paths.iter().map(|p| p.4).sum();
        if total != n {
            return Err(StressError::Data(format!("layout covers {total} rows but the table has {n}")));
        }
        let Some(out_lens) = self.output_rows(layout) else {
            // several data-corruption steps may hit the same bar: their row count is not known
            // before the run, so take the general route
            let mut cols = Columns::default();
            src.fill(needed, 0..n, &mut cols);
            let events = self.apply(&mut cols, timestamp, layout)?;
            return Ok(finalize(cols, events));
        };
        let out_n: usize = out_lens.iter().sum();
        let mut values: Vec<Vec<f64>> =
            (0..6).map(|i| if needed >> i & 1 == 1 { Vec::with_capacity(out_n) } else { Vec::new() }).collect();
        let mut flags: Vec<u32> = Vec::with_capacity(out_n);
        let carry = src.carry_timestamps && self.moves_rows();
        let mut timestamps: Vec<i64> = Vec::with_capacity(if carry { out_n } else { 0 });
        let outs = split_output(&mut values, needed, &mut flags, carry.then_some(&mut timestamps), &out_lens);
        let results: Vec<PathResult> = outs
            .into_par_iter()
            .zip(layout.paths.par_iter())
            .map(|(out, p)| self.run_path(src, needed, timestamp, layout, *p, out))
            .collect();
        let mut events = Vec::new();
        let mut moved = false;
        let mut pieces = Vec::with_capacity(results.len());
        for (r, p) in results.into_iter().zip(&layout.paths) {
            let (evs, rows) = r?;
            events.extend(evs);
            moved |= rows.is_some();
            pieces.push(rows.unwrap_or_else(|| vec![(p.3, p.3 + p.4)]));
        }
        for (i, v) in values.iter_mut().enumerate() {
            if needed >> i & 1 == 1 {
                // SAFETY: capacity is out_n; every path returned Ok, and `run_path` returns Ok only
                // after writing every element of its part of each needed column, the parts tiling
                // 0..out_n in order.
                unsafe { v.set_len(out_n) };
            }
        }
        // SAFETY: as above, for the flags and (when carried) the timestamps.
        unsafe { flags.set_len(out_n) };
        if carry {
            // SAFETY: as above
            unsafe { timestamps.set_len(out_n) };
        }
        let rows = moved.then(|| merge_ranges(pieces));
        let mut it = values.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let columns =
            Columns { open: next(), high: next(), low: next(), close: next(), volume: next(), spread: next(), flags };
        let timestamps = (carry && rows.is_some()).then_some(timestamps);
        Ok(Outcome { columns, events, rows, timestamps })
    }

    /// Whether a step may move rows (data corruption with a duplicate, gap or out-of-order kind).
    fn moves_rows(&self) -> bool {
        self.steps.iter().any(|s| match &s.transform {
            Transform::DataCorruption(dc) => dc.kinds.iter().any(|k| k.moves_rows()),
            _ => false,
        })
    }

    /// Output rows per path, or None when several data-corruption steps run (see the caller).
    fn output_rows(&self, layout: &Layout) -> Option<Vec<usize>> {
        let mut corruptions = self.steps.iter().filter_map(|s| match &s.transform {
            Transform::DataCorruption(dc) => Some((s, dc)),
            _ => None,
        });
        let dc = corruptions.next();
        if corruptions.next().is_some() {
            return None;
        }
        let rows = |seg: &super::plan::Segment| match dc {
            Some((step, dc)) if step.symbols.as_ref().is_none_or(|s| s.contains(&seg.symbol)) => {
                let count = |kind| dc.counts(seg.len).iter().find(|c| c.0 == kind).map_or(0, |c| c.1);
                (seg.len + count(CorruptionKind::Duplicate)).saturating_sub(count(CorruptionKind::Gap))
            }
            _ => seg.len,
        };
        Some(layout.paths.iter().map(|p| layout.segments[p.1..p.1 + p.2].iter().map(rows).sum()).collect())
    }

    /// Every step on path `p` in the thread's scratch, then its rows written into `out`.
    fn run_path(
        &self,
        src: &Sources<'_>,
        needed: u8,
        timestamp: &[i64],
        layout: &Layout,
        p: (u64, usize, usize, usize, usize),
        out: PathOut<'_>,
    ) -> PathResult {
        let rows = p.3..p.3 + p.4;
        let segs = &layout.segments[p.1..p.1 + p.2];
        SCRATCH.with(|cell| {
            // A path longer than KEEP_ROWS, or a re-entered thread (never expected: the steps do
            // not spawn work), gets a buffer of its own, dropped after the path.
            let mut own = Columns::default();
            let mut guard = cell.try_borrow_mut().ok().filter(|_| rows.len() <= KEEP_ROWS);
            let c: &mut Columns = guard.as_deref_mut().unwrap_or(&mut own);
            src.fill(needed, rows.clone(), c);
            let events = self.apply_path(c.bars_mut(&timestamp[rows.clone()]), segs)?;
            let moves = row_moves(&events, rows.start, rows.end);
            let whole = [(rows.start, rows.end)];
            let ranges = moves.as_ref().map_or(&whole[..], |m| &m.ranges[..]);
            let out_len: usize = ranges.iter().map(|(a, b)| b - a).sum();
            if out_len != out.flags.len() {
                return Err(StressError::Data(format!(
                    "path {}: {out_len} output rows where {} were expected",
                    p.0,
                    out.flags.len()
                )));
            }
            let local = |(a, b): (usize, usize)| a - rows.start..b - rows.start;
            for (dst, col) in out.values.into_iter().zip(c.values()) {
                if let Some(dst) = dst {
                    write_ranges(dst, col, ranges.iter().map(|&r| local(r)));
                }
            }
            write_ranges(out.flags, &c.flags, ranges.iter().map(|&r| local(r)));
            if let Some(dst) = out.timestamps {
                write_ranges(dst, &timestamp[rows.clone()], ranges.iter().map(|&r| local(r)));
            }
            if let Some(m) = &moves {
                for &(at, row) in &m.copies {
                    if let (Some(slot), Some(&f)) = (out.flags.get_mut(at), c.flags.get(row - rows.start)) {
                        slot.write(f | TransformKind::DataCorruption.flag());
                    }
                }
            }
            Ok((events, moves.map(|m| m.ranges)))
        })
    }
}

/// Rows of `src` by input ranges (as in [`Outcome::rows`]) into a new column, the ranges split
/// into a few runs of about equal length copied in parallel. None when a range lies outside `src`.
pub fn gather_ranges<T: Copy + Send + Sync>(src: &[T], ranges: &[(usize, usize)]) -> Option<Vec<T>> {
    if ranges.iter().any(|&(a, b)| a > b || b > src.len()) {
        return None;
    }
    let total: usize = ranges.iter().map(|(a, b)| b - a).sum();
    // cut the list of ranges where the running length passes each multiple of `chunk`
    let chunk = total.div_ceil(4 * rayon::current_num_threads()).max(1 << 16);
    let mut parts: Vec<(&[(usize, usize)], usize)> = Vec::new();
    let (mut first, mut len) = (0, 0);
    for (k, &(a, b)) in ranges.iter().enumerate() {
        len += b - a;
        if len >= chunk || k + 1 == ranges.len() {
            parts.push((&ranges[first..=k], len));
            (first, len) = (k + 1, 0);
        }
    }
    let mut out: Vec<T> = Vec::with_capacity(total);
    let mut rest = &mut out.spare_capacity_mut()[..total];
    let mut jobs = Vec::with_capacity(parts.len());
    for (rs, len) in parts {
        let (head, tail) = rest.split_at_mut(len);
        jobs.push((head, rs));
        rest = tail;
    }
    jobs.into_par_iter().for_each(|(dst, rs)| write_ranges(dst, src, rs.iter().map(|&(a, b)| a..b)));
    // SAFETY: the parts tile 0..total and `write_ranges` wrote every element of each part (their
    // lengths are the sums of their ranges' lengths, all inside `src`, checked above).
    unsafe { out.set_len(total) };
    Some(out)
}

/// Copy `src[r]` for each range in turn to the start of `dst` (the caller checked the lengths).
fn write_ranges<T: Copy>(dst: &mut [MaybeUninit<T>], src: &[T], ranges: impl Iterator<Item = Range<usize>>) {
    let mut at = 0;
    for r in ranges {
        let (d, s) = (&mut dst[at..at + r.len()], &src[r]);
        assert_eq!(d.len(), s.len());
        // SAFETY: `d` and `s` are distinct slices of the same length (checked above), and
        // `MaybeUninit<T>` has the layout of `T`. (A plain memcpy: an element loop is not turned
        // into one and copies at half the speed into memory not yet in cache.)
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), d.as_mut_ptr().cast::<T>(), s.len()) };
        at += s.len();
    }
}

/// The uninitialised output split into one part per path (`lens` rows each).
fn split_output<'a>(
    values: &'a mut [Vec<f64>],
    needed: u8,
    flags: &'a mut Vec<u32>,
    timestamps: Option<&'a mut Vec<i64>>,
    lens: &[usize],
) -> Vec<PathOut<'a>> {
    let total: usize = lens.iter().sum();
    let mut value_rest: Vec<Option<&'a mut [MaybeUninit<f64>]>> = values
        .iter_mut()
        .enumerate()
        .map(|(i, v)| (needed >> i & 1 == 1).then(|| &mut v.spare_capacity_mut()[..total]))
        .collect();
    let mut flag_rest = &mut flags.spare_capacity_mut()[..total];
    let mut ts_rest = timestamps.map(|t| &mut t.spare_capacity_mut()[..total]);
    let mut outs = Vec::with_capacity(lens.len());
    for &len in lens {
        let mut part: [Option<&'a mut [MaybeUninit<f64>]>; 6] = Default::default();
        for (slot, rest) in part.iter_mut().zip(value_rest.iter_mut()) {
            if let Some(r) = rest.take() {
                let (head, tail) = r.split_at_mut(len);
                *slot = Some(head);
                *rest = Some(tail);
            }
        }
        let (head, tail) = flag_rest.split_at_mut(len);
        flag_rest = tail;
        let ts = ts_rest.take().map(|r| {
            let (head, tail) = r.split_at_mut(len);
            ts_rest = Some(tail);
            head
        });
        outs.push(PathOut { values: part, flags: head, timestamps: ts });
    }
    outs
}

/// Consecutive input ranges joined where one ends where the next starts.
fn merge_ranges(pieces: Vec<Vec<(usize, usize)>>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (a, b) in pieces.into_iter().flatten() {
        match out.last_mut() {
            Some(last) if last.1 == a => last.1 = b,
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::rng::Stream;
    use crate::stress::plan::Segment;
    use crate::stress::{Position, Step};

    /// A sorted long table of `n_paths` x `n_sym` random series of `n_bars` bars (series lengths
    /// vary by symbol when `ragged`), with its layout.
    fn table(n_paths: u64, n_sym: u32, n_bars: usize, ragged: bool) -> (Columns, Vec<i64>, Layout) {
        let mut c = Columns::default();
        let (mut ts, mut segments) = (Vec::new(), Vec::new());
        for path in 0..n_paths {
            for sym in 0..n_sym {
                let len = if ragged { n_bars - 7 * sym as usize } else { n_bars };
                segments.push(Segment { path: path * 3 + 1, symbol: sym, start: ts.len(), len });
                let mut r = Stream::from_u64(path * 100 + u64::from(sym));
                let mut prev = 100.0;
                for t in 0..len {
                    let close = prev * (0.01 * r.normal()).exp();
                    ts.push(t as i64 * 60_000);
                    c.open.push(prev);
                    c.close.push(close);
                    c.high.push(prev.max(close) * (1.0 + 0.003 * r.uniform()));
                    c.low.push(prev.min(close) * (1.0 - 0.003 * r.uniform()));
                    c.volume.push(10.0 + r.uniform());
                    c.spread.push(1e-4 * (1.0 + r.uniform()));
                    c.flags.push(u32::from(t % 97 == 3) << 9);
                    prev = close;
                }
            }
        }
        let layout = Layout::from_segments(segments, &ts).unwrap();
        (c, ts, layout)
    }

    fn step(name: &str, pairs: &[(&str, f64)], choices: &[&str], symbols: Option<Vec<u32>>) -> Step {
        let params: HashMap<String, f64> = pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let choices: Vec<String> = choices.iter().map(|s| s.to_string()).collect();
        Step::from_params(name, &params, &choices, symbols, Position::Random, vec![]).unwrap()
    }

    fn corruption(pct: f64, symbols: Option<Vec<u32>>) -> Step {
        let all = ["nan", "spike", "duplicate", "gap", "stale", "out_of_order", "zero_volume", "negative"];
        step("data_corruption", &[("corruption_pct", pct)], &all, symbols)
    }

    fn chain() -> Vec<Step> {
        vec![
            step("correlation_breakdown", &[("duration_bars", 30.0)], &["decorrelate"], None),
            step("volatility_spike", &[("multiplier", 3.0), ("duration_bars", 20.0)], &[], None),
            step(
                "flash_crash",
                &[
                    ("drop_pct", 0.2),
                    ("duration_bars", 6.0),
                    ("recovery_bars", 12.0),
                    ("recovery_pct", 0.5),
                    ("volume_mult", 8.0),
                    ("spread_mult", 5.0),
                ],
                &[],
                Some(vec![0, 2]),
            ),
            step(
                "pump_and_dump",
                &[("pump_pct", 0.5), ("pump_bars", 8.0), ("dump_pct", 0.6), ("dump_bars", 4.0), ("volume_mult", 3.0)],
                &[],
                None,
            ),
            step(
                "liquidity_drop",
                &[("drop_pct", 0.7), ("duration_bars", 10.0), ("spread_elasticity", 0.5)],
                &[],
                None,
            ),
            step("spread_explosion", &[("spread_mult", 10.0), ("duration_bars", 5.0)], &[], None),
            corruption(0.05, None),
        ]
    }

    fn sources(c: &Columns, needed: u8) -> Sources<'_> {
        let mut values = [Source::Absent; 6];
        for (i, (slot, v)) in values.iter_mut().zip(c.values()).enumerate() {
            if needed >> i & 1 == 1 {
                *slot = Source::Values(v);
            }
        }
        Sources { values, flags: Some(&c.flags), carry_timestamps: true }
    }

    /// The single pass against the reference route (owned copies, `apply`, `finalize`): the same
    /// bits in every column, the same events and the same row ranges.
    fn assert_same(run: &StressRun, c: &Columns, ts: &[i64], layout: &Layout) {
        let needed = run.columns();
        let mut reference = c.clone();
        let events = run.apply(&mut reference, ts, layout).unwrap();
        let want = finalize(reference, events);
        let got = run.apply_single_pass(&sources(c, needed), ts, layout).unwrap();
        for (i, (a, b)) in got.columns.values().iter().zip(want.columns.values()).enumerate() {
            if needed >> i & 1 == 1 {
                let bits = |v: &Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
                assert_eq!(bits(a), bits(b), "{}", COLUMN_NAMES[i]);
            } else {
                assert!(a.is_empty(), "{} is not needed", COLUMN_NAMES[i]);
            }
        }
        assert_eq!(got.columns.flags, want.columns.flags);
        assert_eq!(format!("{:?}", got.events), format!("{:?}", want.events));
        assert_eq!(got.take(), want.take());
        // the carried timestamps are those of the output rows, there whenever rows moved in the
        // single pass (the general route leaves them to the caller)
        let want_ts = got.take().map(|t| t.iter().map(|&r| ts[r]).collect::<Vec<i64>>());
        match &got.timestamps {
            Some(t) => assert_eq!(Some(t), want_ts.as_ref()),
            None => assert!(got.rows.is_none() || run.output_rows(layout).is_none()),
        }
    }

    #[test]
    fn matches_apply_then_finalize() {
        let (c, ts, layout) = table(5, 3, 300, false);
        let mut steps = chain();
        assert_same(&StressRun::mixed(steps.clone(), 7, 11), &c, &ts, &layout);
        // series of different lengths, corruption of one symbol only
        let (c, ts, layout) = table(3, 3, 250, true);
        steps.pop();
        steps.push(corruption(0.1, Some(vec![1])));
        assert_same(&StressRun::mixed(steps, 8, 12), &c, &ts, &layout);
        // each transform alone (only its columns are read and written)
        for s in chain() {
            assert_same(&StressRun::new(vec![s], 3, 4), &c, &ts, &layout);
        }
    }

    #[test]
    fn two_corruption_steps_take_the_general_route() {
        let (c, ts, layout) = table(2, 2, 200, false);
        let run = StressRun::new(vec![corruption(0.05, None), corruption(0.08, Some(vec![0]))], 1, 2);
        assert!(run.output_rows(&layout).is_none());
        assert_same(&run, &c, &ts, &layout);
    }

    #[test]
    fn row_count_follows_the_corruption_kinds() {
        // 40 bars at 25%: 10 corrupted, split over 2 kinds -> 5 duplicates, 5 gaps per series
        let (c, ts, layout) = table(2, 2, 40, false);
        let s = step("data_corruption", &[("corruption_pct", 0.25)], &["duplicate", "gap"], None);
        let dup_only = step("data_corruption", &[("corruption_pct", 0.25)], &["duplicate"], Some(vec![1]));
        for (steps, rows) in [(vec![s], 160), (vec![dup_only], 160 + 2 * 10)] {
            let run = StressRun::new(steps, 5, 6);
            let out = run.apply_single_pass(&sources(&c, run.columns()), &ts, &layout).unwrap();
            assert_eq!(out.columns.flags.len(), rows);
            assert_eq!(out.columns.close.len(), rows);
            assert_eq!(out.take().map(|t| t.len()), Some(rows));
        }
    }

    #[test]
    fn fill_and_missing_flags() {
        let (c, ts, layout) = table(2, 2, 120, false);
        let run = StressRun::mixed(chain(), 9, 10);
        let needed = run.columns();
        let mut src = sources(&c, needed);
        src.values[5] = Source::Fill(2e-4);
        src.flags = None;
        let mut reference = Columns { spread: vec![2e-4; c.len()], flags: vec![0; c.len()], ..c.clone() };
        let events = run.apply(&mut reference, &ts, &layout).unwrap();
        let want = finalize(reference, events);
        let got = run.apply_single_pass(&src, &ts, &layout).unwrap();
        // (Debug output: the corruptions write NaNs, which `==` would call unequal to themselves)
        assert_eq!(format!("{:?}", got.columns), format!("{:?}", want.columns));
    }

    #[test]
    fn same_output_on_one_and_many_threads() {
        let (c, ts, layout) = table(9, 3, 200, false);
        let run = StressRun::mixed(chain(), 21, 22);
        let outs: Vec<Outcome> = [1, 3]
            .iter()
            .map(|&n| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
                pool.install(|| run.apply_single_pass(&sources(&c, run.columns()), &ts, &layout).unwrap())
            })
            .collect();
        let bits = |o: &Outcome| -> Vec<u64> {
            o.columns.values().iter().flat_map(|v| v.iter().map(|x| x.to_bits())).collect()
        };
        assert_eq!(bits(&outs[0]), bits(&outs[1]));
        assert_eq!(outs[0].columns.flags, outs[1].columns.flags);
        assert_eq!(outs[0].rows, outs[1].rows);
    }

    #[test]
    fn a_path_longer_than_the_kept_scratch() {
        let (c, ts, layout) = table(1, 2, KEEP_ROWS / 2 + 10, false);
        let steps = vec![
            step("spread_explosion", &[("spread_mult", 10.0), ("duration_bars", 5.0)], &[], None),
            corruption(0.001, None),
        ];
        assert_same(&StressRun::mixed(steps, 2, 3), &c, &ts, &layout);
    }

    #[test]
    fn bad_input_is_an_error() {
        let (c, ts, layout) = table(1, 2, 50, false);
        let run = StressRun::mixed(chain(), 1, 1);
        let needed = run.columns();
        let mut src = sources(&c, needed);
        src.values[3] = Source::Absent;
        assert!(run.apply_single_pass(&src, &ts, &layout).is_err());
        let short = &c.close[..10];
        src.values[3] = Source::Values(short);
        assert!(run.apply_single_pass(&src, &ts, &layout).is_err());
        // a step error (a window longer than the series) comes back as the step's error
        let long = StressRun::new(
            vec![step("spread_explosion", &[("spread_mult", 2.0), ("duration_bars", 80.0)], &[], None)],
            1,
            1,
        );
        let e = long.apply_single_pass(&sources(&c, long.columns()), &ts, &layout).unwrap_err();
        assert!(e.to_string().starts_with("duration_bars:"), "{e}");
    }
}
