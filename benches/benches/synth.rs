//! Generation throughput (bars per second; criterion's "elements" are bars) for the realistic and
//! GBM models on 1 and 2 threads, next to a minimal reference measured in the same run: a plain
//! GBM close-only loop (xoshiro256++ + Box-Muller + exp), like the std-only W1 reference.
//!
//! Run: `cargo bench -p stresslab-benches --bench synth`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use stresslab_core::rng::scenario_key;
use stresslab_core::synth::{MarketParams, MarketSpec, Model, PathView, SymbolProfile};

const N_PATHS: usize = 64;
const N_BARS: usize = 8760;

/// The reference: the smallest useful GBM loop (one normal and one exp per bar, closes only).
fn reference_gbm_path(path: u64, out: &mut [f64]) {
    let mut s = splitmix_state(7 ^ path.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let vs = 0.8 * (1.0f64 / 8760.0).sqrt();
    let drift = -0.5 * vs * vs;
    let mut prev = 30_000.0;
    let mut spare: Option<f64> = None;
    for c in out.iter_mut() {
        let z = match spare.take() {
            Some(z) => z,
            None => {
                let u1 = uniform(&mut s);
                let u2 = uniform(&mut s);
                let r = (-2.0 * u1.ln()).sqrt();
                let (sn, cs) = (std::f64::consts::TAU * u2).sin_cos();
                spare = Some(r * sn);
                r * cs
            }
        };
        prev *= (drift + vs * z).exp();
        *c = prev;
    }
}

fn splitmix_state(mut x: u64) -> [u64; 4] {
    let mut s = [0; 4];
    for v in s.iter_mut() {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        *v = z ^ (z >> 31);
    }
    s
}

#[inline(always)]
fn uniform(s: &mut [u64; 4]) -> f64 {
    let r = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    ((r >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

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
