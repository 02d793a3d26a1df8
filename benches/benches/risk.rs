//! Cost of the native risk stack per bar: the W1 workload (SMA 24/96 long-only, fee 10 bps,
//! slippage 5 bps, N GBM paths x 8760 hourly bars in memory) through the engine without a risk
//! stack and with a full one (orchestrator, risk guard, portfolio balancer, safety governor with
//! every trigger on, meta strategy controller on drawdown and volatility, policy store), measured
//! in the same run on one thread. Target: the full stack costs < 30% over the bare engine.
//!
//! The stack is `stresslab.risk.default_stack()` (benches/src/stacks.rs). Its size limits are loose
//! for W1, but it is not idle: on 80%-volatility GBM the controller's 2.5x volatility trigger
//! changes the policy mode now and then, and each change re-sizes the position, so the measured
//! cost is the per-bar checks plus the decisions they cause. `full_stack_watching` runs the same
//! components with limits no path reaches: the cost of watching alone. Two exchanges: W1's fixed fee and
//! slippage (the leanest loop, so the largest relative overhead) and the default exchange model.
//!
//! Run: `cargo bench -p stresslab-benches --bench risk`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stresslab_benches::stacks::{default_stack, watching_stack};
use stresslab_core::engine::{run_native_with_risk, EngineConfig};
use stresslab_core::exchange::ExchangeConfig;
use stresslab_core::market::MarketData;
use stresslab_core::risk::{GovernorConfig, RiskConfig};
use stresslab_core::rng::Stream;
use stresslab_core::strategy::SmaCross;

const N_PATHS: usize = 64;
const N_BARS: usize = 8760;

fn market(path: u64) -> MarketData {
    let mut rng = Stream::from_u64(7 ^ path.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let vs = 0.8 * (1.0f64 / 8760.0).sqrt();
    let mut p = 30_000.0;
    let c: Vec<f64> = (0..N_BARS)
        .map(|_| {
            p *= (-0.5 * vs * vs + vs * rng.normal()).exp();
            p
        })
        .collect();
    let mut open = vec![30_000.0];
    open.extend_from_slice(&c[..c.len() - 1]);
    let high: Vec<f64> = open.iter().zip(&c).map(|(o, c)| o.max(*c)).collect();
    let low: Vec<f64> = open.iter().zip(&c).map(|(o, c)| o.min(*c)).collect();
    let ts = (0..N_BARS as i64).map(|t| t * 3_600_000).collect();
    MarketData::new(vec!["BTC".into()], ts, open, high, low, c, vec![1e9; N_BARS], None, None).expect("valid market")
}

fn bench_risk(c: &mut Criterion) {
    let markets: Vec<Arc<MarketData>> = (0..N_PATHS as u64).map(|p| Arc::new(market(p))).collect();
    let cfg = EngineConfig {
        keep_equity_curve: false,
        keep_trades: false,
        record_events: false,
        periods_per_year: Some(8760.0),
        ..Default::default()
    };
    let drawdown_only = RiskConfig {
        governor: Some(GovernorConfig { max_drawdown: Some(0.15), ..Default::default() }),
        ..Default::default()
    };
    // W1's plain exchange (the leanest bar loop) and the default exchange model (spread,
    // volatility slippage, impact, participation cap, failures, latency)
    for (exchange_name, ex) in [
        ("w1_frictionless", ExchangeConfig::frictionless(0.001, 0.0005)),
        ("default_exchange", ExchangeConfig::default()),
    ] {
        let run = |risk: Option<RiskConfig>| {
            markets
                .iter()
                .map(|m| {
                    let mut s = SmaCross::new(24, 96, 1, Some(1.0), false).expect("sma");
                    let out = run_native_with_risk(Arc::clone(m), &mut s, ex.clone(), cfg.clone(), risk.clone(), false)
                        .expect("run");
                    out.metrics.final_equity
                })
                .sum::<f64>()
        };
        let mut g = c.benchmark_group(format!("risk_stack/{exchange_name}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements((N_PATHS * N_BARS) as u64));
        g.bench_function(BenchmarkId::new("engine", "no_risk"), |b| b.iter(|| run(None)));
        g.bench_function(BenchmarkId::new("engine", "drawdown_stop_only"), |b| {
            b.iter(|| run(Some(drawdown_only.clone())))
        });
        g.bench_function(BenchmarkId::new("engine", "full_stack"), |b| b.iter(|| run(Some(default_stack()))));
        // every component on and checking every bar, with limits nothing reaches
        g.bench_function(BenchmarkId::new("engine", "full_stack_watching"), |b| b.iter(|| run(Some(watching_stack()))));
        g.finish();
    }
}

criterion_group!(benches, bench_risk);
criterion_main!(benches);
