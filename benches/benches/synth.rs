//! Generation throughput (bars per second; criterion's "elements" are bars) for the realistic and
//! GBM models on 1 and 2 threads, next to a minimal reference measured in the same run: a plain
//! GBM close-only loop (xoshiro256++ + Box-Muller + exp), like the std-only W1 reference.
//!
//! Run: `cargo bench -p stresslab-benches --bench synth`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use stresslab_benches::gbm::reference_gbm_path;
use stresslab_core::rng::scenario_key;
use stresslab_core::synth::{MarketParams, MarketSpec, Model, PathView, SymbolProfile};

const N_PATHS: usize = 64;
const N_BARS: usize = 8760;

fn spec(model: Model, symbols: &[&str]) -> MarketSpec {
    let profs = symbols.iter().map(|s| SymbolProfile::for_symbol(s)).collect();
    MarketSpec::new(model, profs, N_BARS, 0, 3_600_000, 42, scenario_key("bench"), MarketParams::default(), None, None)
        .expect("valid spec")
}

fn bench_generation(c: &mut Criterion) {
    let mut g = c.benchmark_group("generate");
    g.sample_size(10);
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        g.throughput(Throughput::Elements((N_PATHS * N_BARS) as u64));
        g.bench_with_input(BenchmarkId::new("reference_gbm_loop", threads), &threads, |b, _| {
            let mut buf = vec![0.0; N_PATHS * N_BARS];
            b.iter(|| {
                pool.install(|| {
                    buf.par_chunks_mut(N_BARS).enumerate().for_each(|(p, ch)| reference_gbm_path(p as u64, ch))
                })
            })
        });
        for (name, model) in [("gbm", Model::Gbm), ("realistic", Model::Realistic)] {
            let s = spec(model, &["BTCUSDT"]);
            g.bench_with_input(BenchmarkId::new(format!("{name}_1sym"), threads), &threads, |b, _| {
                b.iter(|| pool.install(|| s.generate(N_PATHS).expect("generate")))
            });
        }
        // The sweep pattern: each worker regenerates paths into buffers it reuses (no page faults
        // from fresh allocations), like the reference loop above.
        for (name, model) in [("gbm", Model::Gbm), ("realistic", Model::Realistic)] {
            let s = spec(model, &["BTCUSDT"]);
            g.bench_with_input(BenchmarkId::new(format!("{name}_1sym_reused_buffers"), threads), &threads, |b, _| {
                let mut bufs = vec![0.0; 6 * N_PATHS * N_BARS];
                b.iter(|| {
                    pool.install(|| {
                        bufs.par_chunks_mut(6 * N_BARS).enumerate().for_each(|(p, ch)| {
                            let (open, rest) = ch.split_at_mut(N_BARS);
                            let (high, rest) = rest.split_at_mut(N_BARS);
                            let (low, rest) = rest.split_at_mut(N_BARS);
                            let (close, rest) = rest.split_at_mut(N_BARS);
                            let (volume, spread) = rest.split_at_mut(N_BARS);
                            let mut view = PathView { open, high, low, close, volume, spread };
                            s.generate_path(p as u64, &mut view);
                        })
                    })
                })
            });
        }
        let s3 = spec(Model::Realistic, &["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
        g.throughput(Throughput::Elements((N_PATHS * N_BARS * 3) as u64));
        g.bench_with_input(BenchmarkId::new("realistic_3sym", threads), &threads, |b, _| {
            b.iter(|| pool.install(|| s3.generate(N_PATHS).expect("generate")))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_generation);
criterion_main!(benches);
