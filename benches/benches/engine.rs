//! W1 (../shared/bench/w1/README.md): SMA(24/96) long-only, all-in, fee 10 bps, slippage 5 bps,
//! on N GBM paths x 8760 hourly bars already in memory. The native engine (exchange, accounting,
//! metrics, event-based targets) next to a std-only reference loop that does only W1's arithmetic
//! (like the reference in shared/bench/w1/sol), measured in the same run, on 1 and 2 threads.
//!
//! Run: `cargo bench -p stresslab-benches --bench engine`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use stresslab_core::engine::{run_native, EngineConfig};
use stresslab_core::exchange::ExchangeConfig;
use stresslab_core::market::MarketData;
use stresslab_core::rng::Stream;
use stresslab_core::strategy::SmaCross;

const N_PATHS: usize = 64;
const N_BARS: usize = 8760;
const FEE: f64 = 0.001;
const SLIP: f64 = 0.0005;

fn closes(path: u64) -> Vec<f64> {
    let mut rng = Stream::from_u64(7 ^ path.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let vs = 0.8 * (1.0f64 / 8760.0).sqrt();
    let mut p = 30_000.0;
    (0..N_BARS)
        .map(|_| {
            p *= (-0.5 * vs * vs + vs * rng.normal()).exp();
            p
        })
        .collect()
}

fn market(c: &[f64]) -> MarketData {
    let mut open = vec![30_000.0];
    open.extend_from_slice(&c[..c.len() - 1]);
    let high: Vec<f64> = open.iter().zip(c).map(|(o, c)| o.max(*c)).collect();
    let low: Vec<f64> = open.iter().zip(c).map(|(o, c)| o.min(*c)).collect();
    let ts = (0..c.len() as i64).map(|t| t * 3_600_000).collect();
    MarketData::new(vec!["BTC".into()], ts, open, high, low, c.to_vec(), vec![1e9; c.len()], None, None)
        .expect("valid market")
}

/// W1's arithmetic only: SMA ring sums, all-in entries/exits at the open, equity at the close,
/// running drawdown and return sums (the std-only reference's backtest loop).
fn reference(c: &[f64]) -> (f64, f64, f64, u32) {
    let (mut fs, mut ss) = (0.0, 0.0);
    let (mut cash, mut units, mut pos, mut want) = (100_000.0, 0.0, false, false);
    let (mut prev, mut peak, mut mdd, mut sr, mut sr2, mut ntr) = (100_000.0f64, 100_000.0f64, 0.0f64, 0.0, 0.0, 0u32);
    let mut o = 30_000.0;
    for t in 0..c.len() {
        if want != pos {
            if want {
                units = cash / (o * (1.0 + SLIP) * (1.0 + FEE));
                cash = 0.0;
                ntr += 1;
            } else {
                cash = units * o * (1.0 - SLIP) * (1.0 - FEE);
                units = 0.0;
            }
            pos = want;
        }
        let eq = cash + units * c[t];
        let r = eq / prev - 1.0;
        sr += r;
        sr2 += r * r;
        peak = peak.max(eq);
        mdd = mdd.min(eq / peak - 1.0);
        prev = eq;
        fs += c[t];
        ss += c[t];
        if t >= 24 {
            fs -= c[t - 24];
        }
        if t >= 96 {
            ss -= c[t - 96];
        }
        want = t >= 95 && fs / 24.0 > ss / 96.0;
        o = c[t];
    }
    (prev, mdd, sr / (sr2 + 1e-300), ntr)
}

fn bench_w1(c: &mut Criterion) {
    let paths: Vec<Vec<f64>> = (0..N_PATHS as u64).map(closes).collect();
    let markets: Vec<Arc<MarketData>> = paths.iter().map(|p| Arc::new(market(p))).collect();
    let cfg = EngineConfig {
        keep_equity_curve: false,
        keep_trades: false,
        record_events: false,
        periods_per_year: Some(8760.0),
        ..Default::default()
    };
    let mut g = c.benchmark_group("w1_backtest");
    g.sample_size(10);
    g.throughput(Throughput::Elements((N_PATHS * N_BARS) as u64));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        g.bench_with_input(BenchmarkId::new("std_reference_loop", threads), &threads, |b, _| {
            b.iter(|| pool.install(|| paths.par_iter().map(|p| reference(p).0).sum::<f64>()))
        });
        g.bench_with_input(BenchmarkId::new("native_engine_sma", threads), &threads, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    markets
                        .par_iter()
                        .map(|m| {
                            let mut s = SmaCross::new(24, 96, 1, Some(1.0), false).expect("sma");
                            let out =
                                run_native(Arc::clone(m), &mut s, ExchangeConfig::frictionless(FEE, SLIP), cfg.clone())
                                    .expect("run");
                            out.metrics.final_equity
                        })
                        .sum::<f64>()
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_w1);
criterion_main!(benches);
