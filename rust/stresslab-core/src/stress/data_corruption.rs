//! DATA_CORRUPTION: exactly `round(corruption_pct * bars)` bars of each targeted series are
//! corrupted (rounding half away from zero), with the kinds in `corruption_types`, and the ground
//! truth (bar, kind, column) is returned so tests and users can check that `validate_data` and the
//! executor notice.
//!
//! The count is split evenly over the requested kinds, the remainder going to the kinds in the
//! order listed, so with at least as many corrupted bars as kinds every requested kind occurs
//! and no other. Each corrupted bar gets one kind; what each kind does to bar t:
//!
//! | kind | effect | how it shows |
//! |---|---|---|
//! | `nan` | one of open/high/low/close/volume (random, reported in `column`) set to NaN | a NaN |
//! | `spike` | close multiplied or divided by a factor in [5, 20) (reported in `value`) | close outside [low, high], a huge return |
//! | `duplicate` | the bar's row appears twice; the second copy is the corrupted row | a repeated timestamp |
//! | `gap` | the bar's row is missing from the output | a missing timestamp |
//! | `stale` | open = high = low = close = the previous bar's close (bar 0: its open), volume and spread the previous bar's | a flat bar repeating the last price |
//! | `out_of_order` | the rows of bars t and t+1 are swapped; bar t+1 is never corrupted otherwise | the timestamp goes back at bar t's row |
//! | `zero_volume` | volume = 0 | zero volume |
//! | `negative` | close = -close | a negative price |
//!
//! Value corruptions read the bar before them as it was before this transform (bars are
//! corrupted from last to first). Row corruptions (`duplicate`, `gap`, `out_of_order`) only move
//! rows; the plan builds the output order from the events ([`super::plan::finalize`]). Because an
//! out-of-order bar needs a clean successor, `round(pct * bars) + (number of out_of_order bars)`
//! must not exceed the number of bars.

use super::bars::Bars;
use super::params::fraction;
use super::{Event, TransformKind};
use crate::error::{Result, StressError};
use crate::rng::Stream;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CorruptionKind {
    Nan,
    Spike,
    Duplicate,
    Gap,
    Stale,
    OutOfOrder,
    ZeroVolume,
    Negative,
}

pub const CORRUPTION_KINDS: [CorruptionKind; 8] = [
    CorruptionKind::Nan,
    CorruptionKind::Spike,
    CorruptionKind::Duplicate,
    CorruptionKind::Gap,
    CorruptionKind::Stale,
    CorruptionKind::OutOfOrder,
    CorruptionKind::ZeroVolume,
    CorruptionKind::Negative,
];

impl CorruptionKind {
    pub const fn name(self) -> &'static str {
        match self {
            CorruptionKind::Nan => "nan",
            CorruptionKind::Spike => "spike",
            CorruptionKind::Duplicate => "duplicate",
            CorruptionKind::Gap => "gap",
            CorruptionKind::Stale => "stale",
            CorruptionKind::OutOfOrder => "out_of_order",
            CorruptionKind::ZeroVolume => "zero_volume",
            CorruptionKind::Negative => "negative",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        Self::from_name(name).ok_or_else(|| {
            let allowed: Vec<&str> = CORRUPTION_KINDS.iter().map(|k| k.name()).collect();
            StressError::param(
                "corruption_types",
                format!("unknown corruption type {name:?}; allowed: {}", allowed.join(", ")),
            )
        })
    }

    /// Kinds that change which rows appear where (handled when the output is assembled).
    pub fn moves_rows(self) -> bool {
        matches!(self, CorruptionKind::Duplicate | CorruptionKind::Gap | CorruptionKind::OutOfOrder)
    }

    pub fn from_name(name: &str) -> Option<Self> {
        CORRUPTION_KINDS.into_iter().find(|k| k.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataCorruption {
    pub corruption_pct: f64,
    /// Requested kinds, duplicates removed, in the order given.
    pub kinds: Vec<CorruptionKind>,
}

const NAN_COLUMNS: [&str; 5] = ["open", "high", "low", "close", "volume"];

impl DataCorruption {
    pub fn new<S: AsRef<str>>(corruption_pct: f64, corruption_types: &[S]) -> Result<Self> {
        let pct = fraction("corruption_pct", corruption_pct)?;
        if corruption_types.is_empty() {
            return Err(StressError::param("corruption_types", "must name at least one corruption type"));
        }
        let mut kinds = Vec::new();
        for name in corruption_types {
            let k = CorruptionKind::parse(name.as_ref())?;
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        Ok(DataCorruption { corruption_pct: pct, kinds })
    }

    /// Number of bars corrupted in a series of `n` bars: round(pct * n), halves away from zero.
    pub fn count(&self, n: usize) -> usize {
        ((self.corruption_pct * n as f64).round() as usize).min(n)
    }

    /// Bars per kind, in the order of `kinds`.
    pub fn counts(&self, n: usize) -> Vec<(CorruptionKind, usize)> {
        let k = self.count(n);
        let m = self.kinds.len();
        self.kinds.iter().enumerate().map(|(i, &kind)| (kind, k / m + usize::from(i < k % m))).collect()
    }

    fn out_of_order_count(&self, n: usize) -> usize {
        self.counts(n).iter().find(|(k, _)| *k == CorruptionKind::OutOfOrder).map_or(0, |&(_, c)| c)
    }

    /// Check a series of `n` bars can take this corruption.
    pub fn check_fits(&self, n: usize) -> Result<()> {
        let (k, c) = (self.count(n), self.out_of_order_count(n));
        if k + c > n {
            return Err(StressError::param(
                "corruption_pct",
                format!(
                    "{} of {n} bars ({k} bars) cannot be corrupted with out_of_order among the types: each \
                     out-of-order bar needs an uncorrupted next bar to swap with ({k} + {c} > {n}); lower \
                     corruption_pct or drop out_of_order",
                    self.corruption_pct
                ),
            ));
        }
        Ok(())
    }

    /// Corrupt the series (the caller ran `check_fits(b.len())`). Events come sorted by bar.
    pub fn apply(&self, b: &mut Bars<'_>, rng: &mut Stream) -> Vec<Event> {
        let n = b.len();
        let counts = self.counts(n);
        let k: usize = counts.iter().map(|c| c.1).sum();
        if k == 0 {
            return Vec::new();
        }
        let c = self.out_of_order_count(n);
        // Out-of-order pairs (t, t+1) that do not overlap: c sorted draws from 0..n-c, shifted by
        // their rank, are a uniform choice of c disjoint adjacent pairs.
        let ooo: Vec<usize> = sample_sorted(rng, n - c, c).into_iter().enumerate().map(|(i, v)| v + i).collect();
        // The other corrupted bars, among the n - 2c bars outside the pairs.
        let picks = sample_sorted(rng, n - 2 * c, k - c);
        let mut others = Vec::with_capacity(picks.len());
        let mut p = 0;
        for q in picks {
            let mut bar = q + 2 * p;
            while p < ooo.len() && ooo[p] <= bar {
                p += 1;
                bar = q + 2 * p;
            }
            others.push(bar);
        }
        let mut kinds: Vec<CorruptionKind> = counts
            .iter()
            .filter(|(kind, _)| *kind != CorruptionKind::OutOfOrder)
            .flat_map(|&(kind, cnt)| std::iter::repeat_n(kind, cnt))
            .collect();
        for i in (1..kinds.len()).rev() {
            kinds.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let mut plan: Vec<(usize, CorruptionKind)> = others.into_iter().zip(kinds).collect();
        plan.extend(ooo.into_iter().map(|t| (t, CorruptionKind::OutOfOrder)));
        plan.sort_unstable_by_key(|p| p.0);
        // Draws for the value corruptions, in bar order (independent of the write order below).
        let draws: Vec<(f64, f64, u64)> = plan.iter().map(|_| (rng.uniform(), rng.uniform(), rng.below(5))).collect();
        let mut events = Vec::with_capacity(plan.len());
        for (&(t, kind), &(u1, u2, col)) in plan.iter().zip(&draws).rev() {
            let mut ev = Event::window(TransformKind::DataCorruption, kind.name(), t, t + 1);
            ev.column = corrupt_bar(b, t, kind, u1, u2, col, &mut ev.value);
            if kind != CorruptionKind::Duplicate && kind != CorruptionKind::Gap {
                b.flags[t] |= TransformKind::DataCorruption.flag();
            }
            events.push(ev);
        }
        events.reverse();
        events
    }
}

/// Apply one value corruption to bar t; returns the column it hit.
fn corrupt_bar(
    b: &mut Bars<'_>,
    t: usize,
    kind: CorruptionKind,
    u1: f64,
    u2: f64,
    col: u64,
    value: &mut f64,
) -> &'static str {
    match kind {
        CorruptionKind::Nan => {
            let name = NAN_COLUMNS[col as usize % NAN_COLUMNS.len()];
            let slot = match name {
                "open" => &mut b.open[t],
                "high" => &mut b.high[t],
                "low" => &mut b.low[t],
                "close" => &mut b.close[t],
                _ => &mut b.volume[t],
            };
            *slot = f64::NAN;
            name
        }
        CorruptionKind::Spike => {
            let size = (5f64.ln() + u1 * 4f64.ln()).exp();
            let factor = if u2 < 0.5 { size } else { 1.0 / size };
            b.close[t] *= factor;
            *value = factor;
            "close"
        }
        CorruptionKind::Stale => {
            let (price, vol, spread) = if t == 0 {
                (b.open[0], b.volume[0], b.spread[0])
            } else {
                (b.close[t - 1], b.volume[t - 1], b.spread[t - 1])
            };
            b.open[t] = price;
            b.high[t] = price;
            b.low[t] = price;
            b.close[t] = price;
            b.volume[t] = vol;
            b.spread[t] = spread;
            "ohlcv"
        }
        CorruptionKind::ZeroVolume => {
            b.volume[t] = 0.0;
            "volume"
        }
        CorruptionKind::Negative => {
            b.close[t] = -b.close[t];
            "close"
        }
        CorruptionKind::Duplicate | CorruptionKind::Gap | CorruptionKind::OutOfOrder => "row",
    }
}

/// `c` distinct integers from `0..n`, uniformly, in increasing order (Floyd's algorithm with a
/// bitset: O(c + n / 64)).
pub fn sample_sorted(rng: &mut Stream, n: usize, c: usize) -> Vec<usize> {
    if c == 0 {
        return Vec::new();
    }
    let mut bits = vec![0u64; n.div_ceil(64)];
    for j in (n - c)..n {
        let t = rng.below(j as u64 + 1) as usize;
        let pick = if bits[t / 64] >> (t % 64) & 1 == 1 { j } else { t };
        bits[pick / 64] |= 1 << (pick % 64);
    }
    let mut out = Vec::with_capacity(c);
    for (w, &word) in bits.iter().enumerate() {
        let mut x = word;
        while x != 0 {
            out.push(w * 64 + x.trailing_zeros() as usize);
            x &= x - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::bars::testing::Owned;
    use super::*;

    #[test]
    fn exact_counts_and_kinds() {
        let all: Vec<&str> = CORRUPTION_KINDS.iter().map(|k| k.name()).collect();
        for (seed, pct) in [(0u64, 0.01), (1, 0.05), (2, 0.3), (3, 0.5), (4, 0.0)] {
            let dc = DataCorruption::new(pct, &all).unwrap();
            let orig = Owned::random(1000, seed);
            let mut x = Owned::random(1000, seed);
            dc.check_fits(1000).unwrap();
            let ev = dc.apply(&mut x.bars(), &mut Stream::from_u64(seed));
            let expect = (pct * 1000.0_f64).round() as usize;
            assert_eq!(ev.len(), expect);
            let mut bars: Vec<usize> = ev.iter().map(|e| e.bar).collect();
            bars.dedup();
            assert_eq!(bars.len(), expect, "distinct bars");
            if expect >= 8 {
                for k in &all {
                    assert!(ev.iter().any(|e| e.kind == *k), "{k} missing");
                }
            }
            let hit: std::collections::HashSet<usize> = ev.iter().map(|e| e.bar).collect();
            for e in ev.iter().filter(|e| e.kind == "out_of_order") {
                assert!(e.bar + 1 < 1000 && !hit.contains(&(e.bar + 1)));
            }
            for t in 0..1000 {
                if !hit.contains(&t) {
                    assert_eq!(x.c[t].to_bits(), orig.c[t].to_bits());
                    assert_eq!(x.v[t].to_bits(), orig.v[t].to_bits());
                    assert!(x.ohlc_ok(t));
                }
            }
            for e in &ev {
                let t = e.bar;
                match e.kind {
                    "nan" => assert!([x.o[t], x.h[t], x.l[t], x.c[t], x.v[t]].iter().any(|v| v.is_nan())),
                    "spike" => assert!(!x.ohlc_ok(t) && (x.c[t] / orig.c[t] - e.value).abs() < 1e-12),
                    "negative" => assert!(x.c[t] < 0.0),
                    "zero_volume" => assert_eq!(x.v[t], 0.0),
                    "stale" => {
                        let p = if t == 0 { orig.o[0] } else { orig.c[t - 1] };
                        assert!(x.o[t] == p && x.h[t] == p && x.l[t] == p && x.c[t] == p);
                    }
                    _ => assert_eq!(x.c[t].to_bits(), orig.c[t].to_bits()),
                }
            }
        }
    }

    #[test]
    fn out_of_order_only_fills_what_fits() {
        let dc = DataCorruption::new(0.5, &["out_of_order"]).unwrap();
        assert!(dc.check_fits(100).is_ok());
        let mut x = Owned::random(100, 1);
        let ev = dc.apply(&mut x.bars(), &mut Stream::from_u64(1));
        assert_eq!(ev.len(), 50);
        let dc = DataCorruption::new(0.6, &["out_of_order"]).unwrap();
        assert!(dc.check_fits(100).unwrap_err().to_string().starts_with("corruption_pct"));
    }

    #[test]
    fn sample_sorted_is_uniform() {
        let mut rng = Stream::from_u64(3);
        let mut hits = [0usize; 10];
        for _ in 0..20_000 {
            let s = sample_sorted(&mut rng, 10, 3);
            assert!(s.windows(2).all(|w| w[0] < w[1]) && s.len() == 3);
            for v in s {
                hits[v] += 1;
            }
        }
        for h in hits {
            assert!((h as f64 / 6000.0 - 1.0).abs() < 0.05, "{hits:?}");
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(DataCorruption::new(1.5, &["nan"]).unwrap_err().to_string().contains("corruption_pct"));
        assert!(DataCorruption::new(-0.1, &["nan"]).unwrap_err().to_string().starts_with("corruption_pct"));
        let e = DataCorruption::new(0.1, &["nan", "bogus"]).unwrap_err();
        assert!(e.to_string().starts_with("corruption_types") && e.to_string().contains("bogus"));
        assert!(DataCorruption::new::<&str>(0.1, &[]).is_err());
    }
}
