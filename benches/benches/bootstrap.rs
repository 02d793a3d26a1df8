//! Stationary block bootstrap throughput (bars per second; criterion's "elements" are output bars,
//! paths x symbols x bars) on 1 and 2 threads, next to a plain reference loop measured in the same
//! run: the i.i.d. bootstrap of closes only (one xoshiro256++ draw, one index, one multiply per
//! bar, no blocks, no OHLC/volume/spread). The ratio shows what blocks and full OHLCV+spread bars
//! cost over the minimal resampling loop. Also the automatic block length on one year of returns.
//!
//! Source: one year (8,760 h) of a 3-symbol realistic synthetic market (the benches carry no data
//! files); the bootstrap's cost does not depend on the values.
//!
//! Run: `cargo bench -p stresslab-benches --bench bootstrap`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use stresslab_core::bootstrap::{optimal_block_length, BlockBootstrap, BootstrapSource};
use stresslab_core::market::MarketData;
use stresslab_core::rng::{scenario_key, Domain, Stream, MARKET};
use stresslab_core::synth::{MarketParams, MarketSpec, Model, PathView, SymbolProfile};

const N_PATHS: usize = 64;
const N_BARS: usize = 8760;
const SYMBOLS: [&str; 3] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];

fn source_market() -> MarketData {
    let profs = SYMBOLS.iter().map(|s| SymbolProfile::for_symbol(s)).collect();
    let spec = MarketSpec::new(
        Model::Realistic,
        profs,
        N_BARS,
        0,
        3_600_000,
        7,
        scenario_key("bench-source"),
        MarketParams::default(),
        None,
        None,
    )
    .expect("valid spec");
    let p = spec.generate(1).expect("source");
    let ts = (0..N_BARS).map(|t| spec.timestamp(t)).collect();
    let symbols = SYMBOLS.iter().map(|s| s.to_string()).collect();
    MarketData::new(symbols, ts, p.open, p.high, p.low, p.close, p.volume, Some(p.spread), None).expect("market")
}

/// The reference: i.i.d. resampling of close-to-close ratios, closes only.
fn reference_iid_path(ratios: &[f64], first_close: f64, path: u64, out: &mut [f64]) {
    let mut rng = Stream::new(Domain::Bootstrap, 1, 2, path, MARKET);
    let n = ratios.len() as u64;
    let mut prev = first_close;
    for c in out.iter_mut() {
        prev *= ratios[rng.below(n) as usize];
        *c = prev;
    }
}

fn bench_bootstrap(c: &mut Criterion) {
    let md = source_market();
    let source = BootstrapSource::new(&md).expect("source");
    let ratios: Vec<Vec<f64>> =
        (0..SYMBOLS.len()).map(|s| source.log_returns(s).iter().map(|r| r.exp()).collect()).collect();
    let first: Vec<f64> = (0..SYMBOLS.len()).map(|s| md.close[md.idx(s, 0)]).collect();
    let mut g = c.benchmark_group("bootstrap");
    g.sample_size(10);
    g.throughput(Throughput::Elements((N_PATHS * SYMBOLS.len() * N_BARS) as u64));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        g.bench_with_input(BenchmarkId::new("reference_iid_closes", threads), &threads, |b, _| {
            let mut buf = vec![0.0; N_PATHS * SYMBOLS.len() * N_BARS];
            b.iter(|| {
                pool.install(|| {
                    buf.par_chunks_mut(SYMBOLS.len() * N_BARS).enumerate().for_each(|(p, path)| {
                        for (s, out) in path.chunks_mut(N_BARS).enumerate() {
                            reference_iid_path(&ratios[s], first[s], (p * SYMBOLS.len() + s) as u64, out);
                        }
                    })
                })
            })
        });
        for mean_block in [1.0, 24.0] {
            let bs = BlockBootstrap::new(source.clone(), Some(mean_block), Some(N_BARS), 42, scenario_key("bench"))
                .expect("bootstrap");
            g.bench_with_input(BenchmarkId::new(format!("block_L{mean_block}_3sym"), threads), &threads, |b, _| {
                b.iter(|| pool.install(|| black_box(bs.generate_range(0, N_PATHS).expect("paths"))))
            });
            // The sweep pattern: each worker refills buffers it reuses (no page faults from fresh
            // allocations), like the reference loop.
            let name = format!("block_L{mean_block}_3sym_reused_buffers");
            g.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, _| {
                let per_path = SYMBOLS.len() * N_BARS;
                let mut bufs = vec![0.0; 6 * N_PATHS * per_path];
                b.iter(|| {
                    pool.install(|| {
                        bufs.par_chunks_mut(6 * per_path).enumerate().for_each_init(Vec::new, |blocks, (p, ch)| {
                            let (open, rest) = ch.split_at_mut(per_path);
                            let (high, rest) = rest.split_at_mut(per_path);
                            let (low, rest) = rest.split_at_mut(per_path);
                            let (close, rest) = rest.split_at_mut(per_path);
                            let (volume, spread) = rest.split_at_mut(per_path);
                            let mut view = PathView { open, high, low, close, volume, spread };
                            bs.blocks(p as u64, blocks);
                            black_box(bs.fill_path(blocks, &mut view));
                        })
                    })
                })
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("block_length");
    let r = source.log_returns(0);
    g.throughput(Throughput::Elements(r.len() as u64));
    g.bench_function("politis_white_8760_returns", |b| b.iter(|| optimal_block_length(black_box(&r))));
    g.finish();
}

criterion_group!(benches, bench_bootstrap);
criterion_main!(benches);
