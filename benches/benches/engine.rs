//! W1 (../shared/bench/w1/README.md): SMA(24/96) long-only, all-in, fee 10 bps, slippage 5 bps,
//! on N GBM paths x 8760 hourly bars already in memory. The native engine (exchange, accounting,
//! metrics, event-based targets) next to the std-only reference loop of shared/bench/w1/sol
//! (ported in `stresslab_benches::w1`), measured in the same run on the same closes, on 1 and 2
//! threads, for 64 paths (cache-resident) and 1500 paths (from RAM, like RESULTS.md's 232M/s).
//!
//! Run: `cargo bench -p stresslab-benches --bench engine`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use stresslab_benches::w1::{bt_closes, FAST, FEE, INIT, S0, SLIP, SLOW};
use stresslab_core::engine::{run_native, EngineConfig};
use stresslab_core::exchange::ExchangeConfig;
use stresslab_core::market::MarketData;
use stresslab_core::rng::Stream;
use stresslab_core::strategy::SmaCross;

/// Paths of the cache-resident case (the closes fit in L2) and of the from-RAM case (the setting
/// of the reference's 232M bars/s in RESULTS.md: far more data than any cache).
const N_PATHS_CACHE: usize = 64;
const N_PATHS_RAM: usize = 1500;
const N_BARS: usize = 8760;

fn closes(path: u64) -> Vec<f64> {
    let mut rng = Stream::from_u64(7 ^ path.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let vs = 0.8 * (1.0f64 / 8760.0).sqrt();
    let mut p = S0;
    (0..N_BARS)
        .map(|_| {
            p *= (-0.5 * vs * vs + vs * rng.normal()).exp();
            p
        })
        .collect()
}

fn market(c: &[f64]) -> MarketData {
    let mut open = vec![S0];
    open.extend_from_slice(&c[..c.len() - 1]);
    let high: Vec<f64> = open.iter().zip(c).map(|(o, c)| o.max(*c)).collect();
    let low: Vec<f64> = open.iter().zip(c).map(|(o, c)| o.min(*c)).collect();
    let ts = (0..c.len() as i64).map(|t| t * 3_600_000).collect();
    MarketData::new(vec!["BTC".into()], ts, open, high, low, c.to_vec(), vec![1e9; c.len()], None, None)
        .expect("valid market")
}

fn engine_cfg() -> EngineConfig {
    EngineConfig {
        initial_capital: INIT,
        keep_equity_curve: false,
        keep_trades: false,
        record_events: false,
        periods_per_year: Some(8760.0),
        ..Default::default()
    }
}

fn run_engine(m: &Arc<MarketData>) -> f64 {
    let mut s = SmaCross::new(FAST, SLOW, 1, Some(1.0), false).expect("sma");
    let out = run_native(Arc::clone(m), &mut s, ExchangeConfig::frictionless(FEE, SLIP), engine_cfg()).expect("run");
    out.metrics.final_equity
}

fn bench_w1(c: &mut Criterion) {
    for (case, n_paths) in [("cache", N_PATHS_CACHE), ("ram", N_PATHS_RAM)] {
        // one contiguous block of closes, as the reference program keeps them
        let data: Vec<f64> = (0..n_paths as u64).flat_map(closes).collect();
        let paths: Vec<&[f64]> = data.chunks_exact(N_BARS).collect();
        let markets: Vec<Arc<MarketData>> = paths.iter().map(|p| Arc::new(market(p))).collect();
        // the two compute the same backtest: check it before timing either
        for (p, m) in paths.iter().zip(&markets).take(4) {
            let (r, e) = (bt_closes(p).total_return, run_engine(m) / INIT - 1.0);
            assert!((r - e).abs() < 1e-9 * (1.0 + r.abs()), "engine {e} != reference {r}");
        }
        let mut g = c.benchmark_group(format!("w1_backtest/{case}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements((n_paths * N_BARS) as u64));
        for threads in [1usize, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            g.bench_with_input(BenchmarkId::new("std_reference_loop", threads), &threads, |b, _| {
                b.iter(|| pool.install(|| paths.par_iter().map(|p| bt_closes(p).total_return).sum::<f64>()))
            });
            g.bench_with_input(BenchmarkId::new("native_engine_sma", threads), &threads, |b, _| {
                b.iter(|| pool.install(|| markets.par_iter().map(run_engine).sum::<f64>()))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench_w1);
criterion_main!(benches);
