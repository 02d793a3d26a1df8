//! Runs W1 with the native engine on a few paths (`--risk`: through the default native risk stack,
//! `--drawdown`: a drawdown stop alone): a target for `valgrind --tool=callgrind`.
use std::sync::Arc;

use stresslab_benches::stacks::default_stack;
use stresslab_core::engine::{run_native_with_risk, EngineConfig};
use stresslab_core::exchange::ExchangeConfig;
use stresslab_core::market::MarketData;
use stresslab_core::risk::{GovernorConfig, RiskConfig};
use stresslab_core::rng::Stream;
use stresslab_core::strategy::SmaCross;

fn main() {
    let n = 8760;
    let mut total = 0.0;
    for path in 0..4u64 {
        let mut rng = Stream::from_u64(path);
        let vs = 0.8 * (1.0f64 / 8760.0).sqrt();
        let mut p = 30_000.0;
        let c: Vec<f64> = (0..n)
            .map(|_| {
                p *= (-0.5 * vs * vs + vs * rng.normal()).exp();
                p
            })
            .collect();
        let mut open = vec![30_000.0];
        open.extend_from_slice(&c[..n - 1]);
        let high: Vec<f64> = open.iter().zip(&c).map(|(o, c)| o.max(*c)).collect();
        let low: Vec<f64> = open.iter().zip(&c).map(|(o, c)| o.min(*c)).collect();
        let ts = (0..n as i64).map(|t| t * 3_600_000).collect();
        let md = MarketData::new(vec!["BTC".into()], ts, open, high, low, c, vec![1e9; n], None, None).expect("md");
        let cfg =
            EngineConfig { keep_equity_curve: false, keep_trades: false, record_events: false, ..Default::default() };
        let mut s = SmaCross::new(24, 96, 1, Some(1.0), false).expect("sma");
        let args: Vec<String> = std::env::args().collect();
        let risk = if args.iter().any(|a| a == "--risk") {
            Some(default_stack())
        } else if args.iter().any(|a| a == "--drawdown") {
            Some(RiskConfig {
                governor: Some(GovernorConfig { max_drawdown: Some(0.15), ..Default::default() }),
                ..Default::default()
            })
        } else {
            None
        };
        // `--repeat N`: run the engine N times on the same bars (for a sampling profiler)
        let repeat: usize =
            args.iter().position(|a| a == "--repeat").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(1);
        let md = Arc::new(md);
        for _ in 1..repeat {
            let mut s2 = SmaCross::new(24, 96, 1, Some(1.0), false).expect("sma");
            let ex = ExchangeConfig::frictionless(0.001, 0.0005);
            let o = run_native_with_risk(Arc::clone(&md), &mut s2, ex, cfg.clone(), risk.clone(), false).expect("run");
            total += o.metrics.final_equity * 0.0;
        }
        let out = run_native_with_risk(md, &mut s, ExchangeConfig::frictionless(0.001, 0.0005), cfg, risk, false)
            .expect("run");
        total += out.metrics.final_equity;
        eprintln!(
            "path {path}: fills {} stops {} transitions {} denials {}",
            out.fills,
            out.risk.stops.len(),
            out.risk.transitions.len(),
            out.risk.denials.iter().map(|d| d.1).sum::<u64>()
        );
    }
    println!("{total}");
}
