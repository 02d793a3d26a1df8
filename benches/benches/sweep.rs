//! Monte Carlo sweep throughput: per path realistic generation -> flash-crash stress -> default
//! exchange -> SMA(24/96) -> accounting -> metrics summary, without and with the native default risk
//! stack (`stresslab.risk.default_stack()`), on 1 and 2 threads, next to the fused
//! GBM + SMA reference loop (generation and W1 backtest in one pass, like shared/bench/w1/sol's
//! `fused` mode) measured in the same run. Bars per second = paths x 8760 / time.
//!
//! Run: `cargo bench -p stresslab-benches --bench sweep`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use stresslab_benches::stacks::default_stack;
use stresslab_benches::sweep::sweep_spec;
use stresslab_core::rng::Stream;
use stresslab_core::strategy::SmaCross;
use stresslab_core::sweep::{run_paths, SweepSpec};

const N_PATHS: usize = 64;
const N_BARS: usize = 8760;

/// Fused reference: GBM closes and the W1 SMA backtest in one loop, nothing stored.
fn fused_reference(path: u64) -> f64 {
    let mut rng = Stream::from_u64(7 ^ path.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let vs = 0.8 * (1.0f64 / 8760.0).sqrt();
    let (mut ring, mut fs, mut ss) = ([0.0f64; 128], 0.0, 0.0);
    let (mut cash, mut units, mut pos, mut want, mut o, mut c) = (100_000.0, 0.0, false, false, 30_000.0, 30_000.0);
    let (mut prev, mut peak, mut mdd) = (100_000.0f64, 100_000.0f64, 0.0f64);
    for t in 0..N_BARS {
        o = c;
        c *= (-0.5 * vs * vs + vs * rng.normal()).exp();
        if want != pos {
            if want {
                units = cash / (o * 1.0005 * 1.001);
                cash = 0.0;
            } else {
                cash = units * o * 0.9995 * 0.999;
                units = 0.0;
            }
            pos = want;
        }
        let eq = cash + units * c;
        peak = peak.max(eq);
        mdd = mdd.min(eq / peak - 1.0);
        prev = eq;
        fs += c;
        ss += c;
        if t >= 24 {
            fs -= ring[(t - 24) & 127];
        }
        if t >= 96 {
            ss -= ring[(t - 96) & 127];
        }
        ring[t & 127] = c;
        want = t >= 95 && fs / 24.0 > ss / 96.0;
    }
    prev + mdd + o
}

fn bench_sweep(c: &mut Criterion) {
    let spec = sweep_spec(N_BARS);
    // the whole pipeline of issue 8: the same with the native default risk stack
    let with_risk = SweepSpec { risk: Some(default_stack()), ..sweep_spec(N_BARS) };
    let sma = SmaCross::new(24, 96, 1, None, false).expect("sma");
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.throughput(Throughput::Elements((N_PATHS * N_BARS) as u64));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        g.bench_with_input(BenchmarkId::new("fused_gbm_sma_reference", threads), &threads, |b, _| {
            b.iter(|| pool.install(|| (0..N_PATHS as u64).into_par_iter().map(fused_reference).sum::<f64>()))
        });
        g.bench_with_input(BenchmarkId::new("realistic_crash_sma_pipeline", threads), &threads, |b, _| {
            b.iter(|| pool.install(|| run_paths(&spec, &sma, 0, N_PATHS, &[]).expect("sweep").len()))
        });
        g.bench_with_input(BenchmarkId::new("realistic_crash_sma_default_risk_pipeline", threads), &threads, |b, _| {
            b.iter(|| pool.install(|| run_paths(&with_risk, &sma, 0, N_PATHS, &[]).expect("sweep").len()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_sweep);
criterion_main!(benches);
