//! Metrics throughput (bars per second; criterion's "elements" are bars) of the one-pass
//! accumulator, next to a minimal reference measured in the same run: a plain two-pass loop that
//! computes only max drawdown and Sharpe (pass 1: returns, running peak, sum; pass 2: squared
//! deviations). The accumulator computes ~40 metrics incl. historical VaR/ES, so the ratio shows
//! what the full set costs over the two most common ones.
//!
//! Workload: 64 paths x 8760 hourly bars (80% annual vol, in the market ~half the time).
//! - `reference_mdd_sharpe_two_pass`: the reference above;
//! - `accumulator_on_bar_all_metrics`: one `on_bar` call per bar, then `finish` (every metric);
//! - `accumulator_on_bars_all_metrics`: `on_bars` in batches of 1024 bars, then `finish`;
//! - `accumulator_on_bar_only`: the per-bar part alone (no `finish`);
//! - `finish_only`: `finish` of one recorded 8760-bar path (moments, VaR/ES selection).
//!
//! Run: `cargo bench -p stresslab-benches --bench metrics`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stresslab_core::metrics::{MetricsAccumulator, MetricsConfig};

const N_PATHS: usize = 64;
const N_BARS: usize = 8760;
const E0: f64 = 100_000.0;
const BATCH: usize = 1024;

/// Equity paths (GBM-like, 80% annual vol on 1h bars, flat stretches when out of the market),
/// with gross exposure and traded notional per bar. Built outside the timed region.
struct Paths {
    equity: Vec<f64>,
    exposure: Vec<f64>,
    turnover: Vec<f64>,
}

fn paths() -> Paths {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut uniform = move || {
        // xorshift64*: enough for bench data
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let vol = 0.8 / (8760f64).sqrt() * 3f64.sqrt(); // uniform(-1, 1) has variance 1/3
    let (mut equity, mut exposure, mut turnover) = (vec![], vec![], vec![]);
    for _ in 0..N_PATHS {
        let mut e = E0;
        let mut invested = false;
        for _ in 0..N_BARS {
            let switch = uniform() < 0.01;
            if switch {
                invested = !invested;
            }
            let r = if invested { vol * (2.0 * uniform() - 1.0) } else { 0.0 };
            e *= 1.0 + r;
            equity.push(e);
            exposure.push(if invested { e } else { 0.0 });
            turnover.push(if switch { e } else { 0.0 });
        }
    }
    Paths { equity, exposure, turnover }
}

/// The reference: max drawdown (fraction) and Sharpe of one path, two passes, nothing else.
fn reference_mdd_sharpe(equity: &[f64], returns: &mut Vec<f64>) -> (f64, f64) {
    returns.clear();
    let (mut prev, mut peak, mut mdd, mut sum) = (E0, E0, 0.0f64, 0.0);
    for &e in equity {
        let r = e / prev - 1.0;
        returns.push(r);
        sum += r;
        prev = e;
        peak = peak.max(e);
        mdd = mdd.max(1.0 - e / peak);
    }
    let n = returns.len() as f64;
    let mean = sum / n;
    let var = returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (n - 1.0);
    (mdd, mean / var.sqrt() * 8760f64.sqrt())
}

fn bench_metrics(c: &mut Criterion) {
    let p = paths();
    let mut g = c.benchmark_group("metrics");
    g.throughput(Throughput::Elements((N_PATHS * N_BARS) as u64));
    g.sample_size(30);

    g.bench_function("reference_mdd_sharpe_two_pass", |b| {
        let mut returns = Vec::with_capacity(N_BARS);
        b.iter(|| {
            let mut acc = 0.0;
            for eq in p.equity.chunks_exact(N_BARS) {
                let (mdd, sharpe) = reference_mdd_sharpe(black_box(eq), &mut returns);
                acc += mdd + sharpe;
            }
            acc
        })
    });

    let mut acc = MetricsAccumulator::with_capacity(MetricsConfig::hourly(E0), N_BARS).expect("valid config");
    let mut scratch = Vec::with_capacity(N_BARS);
    // per-bar calls, as an engine that interleaves metrics with its own per-bar work
    g.bench_function("accumulator_on_bar_all_metrics", |b| {
        b.iter(|| {
            let mut total = 0.0;
            for path in 0..N_PATHS {
                let r = path * N_BARS..(path + 1) * N_BARS;
                acc.reset();
                for ((&e, &x), &v) in
                    black_box(&p.equity[r.clone()]).iter().zip(&p.exposure[r.clone()]).zip(&p.turnover[r])
                {
                    acc.on_bar(e, x, v);
                }
                let m = acc.finish_with_scratch(&mut scratch);
                total += m.max_drawdown + m.sharpe_ratio + m.tail[1].es;
            }
            total
        })
    });
    // batches of BATCH bars, as an engine that buffers a batch of equities first
    g.bench_function("accumulator_on_bars_all_metrics", |b| {
        b.iter(|| {
            let mut total = 0.0;
            for path in 0..N_PATHS {
                acc.reset();
                for start in (path * N_BARS..(path + 1) * N_BARS).step_by(BATCH) {
                    let r = start..(start + BATCH).min((path + 1) * N_BARS);
                    acc.on_bars(black_box(&p.equity[r.clone()]), &p.exposure[r.clone()], &p.turnover[r]);
                }
                let m = acc.finish_with_scratch(&mut scratch);
                total += m.max_drawdown + m.sharpe_ratio + m.tail[1].es;
            }
            total
        })
    });
    g.bench_function("accumulator_on_bar_only", |b| {
        b.iter(|| {
            let mut total = 0.0;
            for path in 0..N_PATHS {
                let r = path * N_BARS..(path + 1) * N_BARS;
                acc.reset();
                for ((&e, &x), &v) in
                    black_box(&p.equity[r.clone()]).iter().zip(&p.exposure[r.clone()]).zip(&p.turnover[r])
                {
                    acc.on_bar(e, x, v);
                }
                total += acc.current_drawdown_pct();
            }
            total
        })
    });

    // finish() alone (moments, VaR/ES selection) on one recorded path, in bars of that path per second
    let mut one = MetricsAccumulator::with_capacity(MetricsConfig::hourly(E0), N_BARS).expect("valid config");
    for i in 0..N_BARS {
        one.on_bar(p.equity[i], p.exposure[i], p.turnover[i]);
    }
    g.throughput(Throughput::Elements(N_BARS as u64));
    g.bench_function("finish_only", |b| b.iter(|| black_box(&one).finish_with_scratch(&mut scratch).sharpe_ratio));
    g.finish();
}

criterion_group!(benches, bench_metrics);
criterion_main!(benches);
