//! The block path ([`run_native_with_risk`]: decisions a block at a time, quiet runs marked in
//! bulk) against the plain bar-by-bar loop it replaces: every output must be bit-identical.

use std::sync::Arc;

use super::*;
use crate::risk::{GovernorConfig, OrchestratorConfig, RiskGuardConfig};
use crate::strategy::{BuyAndHold, Momentum, SmaCross};

/// Two symbols of random-walk bars with non-finite closes, corrupted prints and a bar whose
/// prices cannot trade, so every branch of the marking loop is reached.
fn market(n_bars: usize, n_symbols: usize) -> Arc<MarketData> {
    let mut rng = Stream::from_u64(11);
    let (mut open, mut high, mut low, mut close, mut flags) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..n_symbols {
        let mut p = 100.0;
        for t in 0..n_bars {
            let o = p;
            p *= (0.01 * rng.normal()).exp();
            let c = if t % 997 == 500 { f64::NAN } else { p };
            open.push(if t % 1499 == 700 { f64::NAN } else { o });
            high.push(o.max(p) * 1.001);
            low.push(o.min(p) * 0.999);
            close.push(c);
            flags.push(if t % 613 == 300 { CORRUPTED_FLAG } else { 0 });
        }
    }
    let ts = (0..n_bars as i64).map(|t| t * 3_600_000).collect();
    let volume = vec![1e6; n_symbols * n_bars];
    let symbols = (0..n_symbols).map(|s| format!("S{s}")).collect();
    Arc::new(MarketData::new(symbols, ts, open, high, low, close, volume, None, Some(flags)).expect("market"))
}

/// What `run_native_with_risk` did before blocks: one bar, one decision, one call each.
fn bar_by_bar(
    md: Arc<MarketData>,
    strategy: &mut dyn Strategy,
    exchange: ExchangeConfig,
    cfg: EngineConfig,
    risk: Option<RiskConfig>,
) -> RunOutput {
    let mut targets = vec![f64::NAN; md.n_symbols()];
    let data = Arc::clone(&md);
    let mut e = Engine::with_risk(md, exchange, cfg, risk).expect("engine");
    strategy.reset();
    for t in 0..data.n_bars {
        e.process_bar(t);
        strategy.on_bar(&data, t, &mut targets);
        e.apply_targets(&targets);
    }
    e.finish()
}

fn fingerprint(o: &RunOutput) -> String {
    let curve: Vec<u64> = o.equity_curve.iter().map(|x| x.to_bits()).collect();
    format!(
        "{:?} {:?} {:?} {} {} {} {:?} {:?}",
        o.metrics,
        curve,
        o.final_positions,
        o.final_cash.to_bits(),
        o.fills,
        o.execution_failures,
        o.trades.len(),
        o.risk.stops.len()
    )
}

#[test]
fn block_path_equals_bar_by_bar() {
    // one symbol (its own marking loop) and two; with and without the equity curve (which takes
    // the chunked loop for one symbol too)
    for (n, keep) in [(1, false), (1, true), (2, false), (2, true)] {
        check_block_path(market(5000, n), keep);
    }
}

fn check_block_path(md: Arc<MarketData>, keep_equity_curve: bool) {
    let n = md.n_symbols();
    let cfg = EngineConfig { keep_equity_curve, keep_trades: true, ..Default::default() };
    let strategies: Vec<Box<dyn Strategy>> = vec![
        Box::new(SmaCross::new(5, 40, n, None, true).expect("sma")),
        Box::new(SmaCross::new(24, 96, n, Some(0.5), false).expect("sma")),
        Box::new(Momentum::new(12, 0.01, None, true).expect("momentum")),
        Box::new(BuyAndHold { weight: Some(0.4) }),
    ];
    let risks = [
        None,
        Some(RiskConfig {
            orchestrator: Some(OrchestratorConfig::default()),
            risk_guard: Some(RiskGuardConfig { max_position: Some(0.6), ..Default::default() }),
            ..Default::default()
        }),
        Some(RiskConfig {
            governor: Some(GovernorConfig { max_drawdown: Some(0.05), ..Default::default() }),
            ..Default::default()
        }),
    ];
    let mut stops = 0;
    for ex in [ExchangeConfig::frictionless(0.001, 0.0005), ExchangeConfig::default()] {
        for risk in &risks {
            for s in &strategies {
                let (mut a, mut b) = (s.boxed_clone(), s.boxed_clone());
                let blocks =
                    run_native_with_risk(Arc::clone(&md), a.as_mut(), ex.clone(), cfg.clone(), risk.clone(), false)
                        .expect("run");
                let bars = bar_by_bar(Arc::clone(&md), b.as_mut(), ex.clone(), cfg.clone(), risk.clone());
                assert!(blocks.fills > 0, "the test must trade");
                assert_eq!(fingerprint(&blocks), fingerprint(&bars));
                stops += blocks.risk.stops.len();
            }
        }
    }
    assert!(stops > 0, "the drawdown stop must fire somewhere");
}

#[test]
fn sma_block_decisions_equal_per_bar_decisions() {
    // a corrupt close in the middle of a block, at a block start, and inside the warm-up
    let md = market(3000, 2);
    for (fast, slow) in [(3, 7), (24, 96), (50, 200)] {
        let mut a = SmaCross::new(fast, slow, 2, None, true).expect("sma");
        let mut b = a.clone();
        let n = md.n_symbols();
        let mut per_bar = vec![f64::NAN; n];
        let mut rows = vec![f64::NAN; 333 * n];
        let mut t0 = 0;
        while t0 < md.n_bars {
            let len = (md.n_bars - t0).min(333);
            a.on_bars(&md, t0, &mut rows[..len * n]);
            for k in 0..len {
                b.on_bar(&md, t0 + k, &mut per_bar);
                let got: Vec<u64> = rows[k * n..(k + 1) * n].iter().map(|x| x.to_bits()).collect();
                let want: Vec<u64> = per_bar.iter().map(|x| x.to_bits()).collect();
                assert_eq!(got, want, "bar {}", t0 + k);
            }
            rows.copy_within((len - 1) * n..len * n, 0);
            t0 += len;
        }
    }
}

#[test]
fn engine_state_after_each_block_equals_bar_by_bar() {
    // the marks (last clean close per symbol), equity and positions between blocks, where a
    // Python strategy or the risk stack reads them; blocks of 37 bars end anywhere in a stretch
    for n_symbols in [1, 2] {
        let md = market(3000, n_symbols);
        let n = md.n_symbols();
        let mut s = SmaCross::new(5, 40, n, None, true).expect("sma");
        let mut rows = vec![f64::NAN; 37 * n];
        let cfg = EngineConfig::default();
        let ex = ExchangeConfig::default();
        let mut a = Engine::new(Arc::clone(&md), ex.clone(), cfg.clone()).expect("engine");
        let mut b = Engine::new(Arc::clone(&md), ex, cfg).expect("engine");
        let mut t0 = 0;
        while t0 < md.n_bars {
            let len = (md.n_bars - t0).min(37);
            s.on_bars(&md, t0, &mut rows[..len * n]);
            a.run_block(t0, &rows[..len * n]);
            for k in 0..len {
                b.process_bar(t0 + k);
                b.apply_targets(&rows[k * n..(k + 1) * n]);
            }
            let bits = |e: &Engine| {
                let mut v: Vec<u64> = e.last_prices().iter().chain(e.positions()).map(|x| x.to_bits()).collect();
                v.push(e.equity().to_bits());
                v
            };
            assert_eq!(bits(&a), bits(&b), "after bars {t0}..{}", t0 + len);
            rows.copy_within((len - 1) * n..len * n, 0);
            t0 += len;
        }
    }
}
