//! The block path ([`run_native_with_risk`]: decisions a block at a time, quiet runs marked in
//! bulk) against the plain bar-by-bar loop it replaces: every output must be bit-identical.

use std::sync::Arc;

use super::*;
use crate::risk::{
    BalancerConfig, GovernorConfig, MscConfig, OrchestratorConfig, PolicyConfig, RiskGuardConfig, StopAction,
};
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

/// What `run_native_with_risk` did before blocks: one bar, one decision, one call each, every
/// decision that changes a target through the stack's whole filter (a confidence of 1 for every
/// signal is what the native path assumes, and it keeps the stack from skipping a refusal it
/// would repeat, see `risk::refusal`).
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
    let ones = vec![1.0; data.n_symbols()];
    for t in 0..data.n_bars {
        e.process_bar(t);
        strategy.on_bar(&data, t, &mut targets);
        e.apply_decision(&targets, Some(&ones));
    }
    e.finish()
}

fn fingerprint(o: &RunOutput) -> String {
    let curve: Vec<u64> = o.equity_curve.iter().map(|x| x.to_bits()).collect();
    let events: Vec<String> = o.events.iter().map(|e| format!("{e:?}")).collect();
    format!(
        "{:?} {:?} {:?} {} {} {} {:?} {:?} {:?}",
        o.metrics,
        curve,
        o.final_positions,
        o.final_cash.to_bits(),
        o.fills,
        o.execution_failures,
        o.trades.len(),
        o.risk,
        events
    )
}

/// Every component on, with limits tight enough on the test market that each of them acts:
/// stops from several triggers and re-arms, mode changes both ways, rebalancing, denials.
fn full_stack(action: StopAction, concentration: bool) -> RiskConfig {
    RiskConfig {
        orchestrator: Some(OrchestratorConfig::default()),
        risk_guard: Some(RiskGuardConfig {
            max_position: Some(0.8),
            max_leverage: Some(1.5),
            max_order_volume: Some(0.5),
            daily_loss_limit: Some(0.02),
            ..Default::default()
        }),
        balancer: Some(BalancerConfig {
            max_gross: Some(0.5),
            max_concentration: concentration.then_some(0.4),
            correlation_window: 48,
            rebalance_tolerance: 0.01,
            ..Default::default()
        }),
        governor: Some(GovernorConfig {
            max_drawdown: Some(0.06),
            loss_velocity: Some(0.03),
            loss_velocity_bars: 12,
            max_failure_streak: Some(3),
            max_corrupt_bars: Some(1),
            corrupt_window_bars: 12,
            max_volatility_mult: Some(2.5),
            vol_short_bars: 3.0,
            vol_long_bars: 50.0,
            action,
            cooldown_bars: Some(20),
        }),
        msc: Some(MscConfig {
            drawdown: [Some(0.01), Some(0.03), Some(0.05)],
            vol_mult: [Some(1.5), Some(2.0), Some(3.0)],
            drawdown_window_bars: Some(100),
            vol_short_bars: 4.0,
            vol_long_bars: 60.0,
            ..Default::default()
        }),
        policy: Some(PolicyConfig::default()),
    }
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
        Some(full_stack(StopAction::Flatten, false)),
        Some(full_stack(StopAction::Freeze, n > 1)),
        // the governor's other triggers alone (nothing else to stop a span first)
        Some(RiskConfig {
            governor: Some(GovernorConfig {
                loss_velocity: Some(0.02),
                loss_velocity_bars: 6,
                max_volatility_mult: Some(2.0),
                max_corrupt_bars: Some(1),
                corrupt_window_bars: 48,
                ..Default::default()
            }),
            ..Default::default()
        }),
    ];
    let (mut stops, mut transitions, mut rebalances) = (0, 0, 0);
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
                transitions += blocks.risk.transitions.len();
                rebalances += blocks.risk.rebalances;
            }
        }
    }
    assert!(stops > 0, "the drawdown stop must fire somewhere");
    assert!(transitions > 0 && rebalances > 0, "the controller and the balancer must act somewhere");
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
    for (n_symbols, risk) in [(1, None), (2, None), (1, Some(full_stack(StopAction::Flatten, false)))] {
        let md = market(3000, n_symbols);
        let n = md.n_symbols();
        let mut s = SmaCross::new(5, 40, n, None, true).expect("sma");
        let mut rows = vec![f64::NAN; 37 * n];
        let cfg = EngineConfig::default();
        let ex = ExchangeConfig::default();
        let mut a = Engine::with_risk(Arc::clone(&md), ex.clone(), cfg.clone(), risk.clone()).expect("engine");
        let mut b = Engine::with_risk(Arc::clone(&md), ex, cfg, risk).expect("engine");
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
                let risk = e
                    .risk()
                    .map(|r| (r.mode(), r.stopped(), r.raw_targets().iter().map(|x| x.to_bits()).collect::<Vec<_>>()));
                (v, format!("{risk:?}"))
            };
            assert_eq!(bits(&a), bits(&b), "after bars {t0}..{}", t0 + len);
            rows.copy_within((len - 1) * n..len * n, 0);
            t0 += len;
        }
    }
}
