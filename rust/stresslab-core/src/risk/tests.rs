//! The stack inside the engine: pass-through when nothing binds, the emergency stop on a crash,
//! the failure-streak stop, corrupt bars, portfolio limits, orchestrator filters.

use std::sync::Arc;

use super::*;
use crate::engine::{run_native, run_native_with_risk, EngineConfig, RunOutput};
use crate::exchange::ExchangeConfig;
use crate::strategy::{BuyAndHold, SmaCross, TargetSignals};

fn market(closes: &[Vec<f64>], flags: Option<Vec<u32>>) -> Arc<MarketData> {
    let n = closes[0].len();
    let mut open = Vec::new();
    let mut close = Vec::new();
    for c in closes {
        open.push(c[0]);
        open.extend_from_slice(&c[..n - 1]);
        close.extend_from_slice(c);
    }
    let high: Vec<f64> = open.iter().zip(&close).map(|(o, c)| o.max(*c)).collect();
    let low: Vec<f64> = open.iter().zip(&close).map(|(o, c)| o.min(*c)).collect();
    let syms = (0..closes.len()).map(|i| format!("S{i}")).collect();
    let ts = (0..n as i64).map(|t| t * 3_600_000).collect();
    let vol = vec![1e9; close.len()];
    Arc::new(MarketData::new(syms, ts, open, high, low, close, vol, None, flags).expect("market"))
}

fn wave(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = crate::rng::Stream::from_u64(seed);
    let mut p = 100.0;
    (0..n)
        .map(|_| {
            p *= (0.003 * rng.normal()).exp();
            p
        })
        .collect()
}

/// Flat, then down `drop` over 10 bars, then flat.
fn crash(n: usize, at: usize, drop: f64) -> Vec<f64> {
    let step = (1.0 - drop).powf(0.1);
    let mut p = 100.0;
    (0..n)
        .map(|t| {
            if t >= at && t < at + 10 {
                p *= step;
            }
            p
        })
        .collect()
}

fn cfg() -> EngineConfig {
    EngineConfig { periods_per_year: Some(8760.0), ..Default::default() }
}

fn run(md: Arc<MarketData>, targets: Option<Vec<f64>>, risk: Option<RiskConfig>) -> RunOutput {
    let ex = ExchangeConfig::frictionless(0.001, 0.0005);
    let n = md.n_bars;
    let k = md.n_symbols();
    match targets {
        Some(t) => {
            let mut s = TargetSignals::new(t, n, k).expect("targets");
            run_native_with_risk(md, &mut s, ex, cfg(), risk, false).expect("run")
        }
        None => {
            let mut s = BuyAndHold { weight: Some(1.0 / k as f64) };
            run_native_with_risk(md, &mut s, ex, cfg(), risk, false).expect("run")
        }
    }
}

fn loose_stack() -> RiskConfig {
    RiskConfig {
        orchestrator: Some(OrchestratorConfig::default()),
        risk_guard: Some(RiskGuardConfig { max_leverage: Some(100.0), ..Default::default() }),
        balancer: Some(BalancerConfig { max_gross: Some(10.0), ..Default::default() }),
        governor: Some(GovernorConfig { max_drawdown: Some(0.99), ..Default::default() }),
        msc: Some(MscConfig { drawdown: [Some(0.97), Some(0.98), Some(0.99)], ..Default::default() }),
        policy: None,
    }
}

#[test]
fn a_stack_that_never_binds_changes_nothing() {
    let md = market(&[wave(3000, 1)], None);
    let ex = ExchangeConfig::frictionless(0.001, 0.0005);
    let mut s = SmaCross::new(24, 96, 1, Some(1.0), false).expect("sma");
    let plain = run_native(Arc::clone(&md), &mut s, ex.clone(), cfg()).expect("run");
    let mut s = SmaCross::new(24, 96, 1, Some(1.0), false).expect("sma");
    let risky = run_native_with_risk(md, &mut s, ex, cfg(), Some(loose_stack()), false).expect("run");
    assert!(plain.metrics.total_trades > 10);
    assert_eq!(plain.equity_curve, risky.equity_curve);
    assert_eq!(plain.events, risky.events);
    assert!(risky.risk.stops.is_empty() && risky.risk.transitions.is_empty());
}

#[test]
fn crash_stops_once_at_the_first_bar_past_the_limit() {
    let md = market(&[crash(200, 50, 0.30)], None);
    let gov = GovernorConfig { max_drawdown: Some(0.10), cooldown_bars: Some(40), ..Default::default() };
    let off = run(Arc::clone(&md), None, None);
    let on = run(md, None, Some(RiskConfig { governor: Some(gov), ..Default::default() }));
    let mut peak: f64 = 100_000.0;
    let first = off
        .equity_curve
        .iter()
        .position(|e| {
            peak = peak.max(*e);
            *e < peak * 0.9
        })
        .expect("the crash breaches 10%");
    assert_eq!(on.risk.stops.len(), 1);
    let stop = &on.risk.stops[0];
    assert_eq!((stop.bar, stop.trigger.as_str()), (first, "drawdown"));
    assert_eq!(stop.rearmed_bar, Some(first + 40));
    assert_eq!(&on.equity_curve[..=first], &off.equity_curve[..=first]);
    // flat from the next open: the loss stops growing while the unprotected run loses ~30%
    let e = on.equity_curve[first + 5];
    assert!(on.equity_curve[first + 1..first + 40].iter().all(|x| *x == e));
    assert!(e > *off.equity_curve.last().expect("bars") * 1.15);
}

#[test]
fn failure_streak_stops() {
    let md = market(&[wave(300, 3)], None);
    let mut targets = vec![f64::NAN; 300];
    targets[99] = 1.0; // enter at bar 100, which is inside the outage
    let ex = ExchangeConfig { outages: vec![(100, 120)], ..ExchangeConfig::frictionless(0.0, 0.0) };
    let gov = GovernorConfig { max_failure_streak: Some(5), cooldown_bars: Some(50), ..Default::default() };
    let mut s = TargetSignals::new(targets, 300, 1).expect("targets");
    let out = run_native_with_risk(
        md,
        &mut s,
        ex,
        cfg(),
        Some(RiskConfig { governor: Some(gov), ..Default::default() }),
        false,
    )
    .expect("run");
    assert_eq!(out.risk.stops.len(), 1);
    assert_eq!(out.risk.stops[0].trigger, "failure_streak");
    assert_eq!(out.risk.stops[0].bar, 104); // rejections at bars 100..=104
                                            // the stop dropped the (never filled) target; the re-arm at 154 sends it again
    let fills: Vec<usize> =
        out.events.iter().filter(|e| e.kind == crate::engine::EventKind::Fill).map(|e| e.bar).collect();
    assert_eq!(fills, vec![155]);
}

#[test]
fn corrupt_bars_refuse_trading() {
    let n = 100;
    let mut flags = vec![0u32; n];
    for t in [10, 11, 30] {
        flags[t] = indicators::CORRUPT_FLAG;
    }
    let md = market(&[wave(n, 4)], Some(flags));
    let mut targets = vec![f64::NAN; n];
    targets[10] = 1.0; // decided on a corrupt bar: refused; retried on 11 (corrupt) then 12
    targets[11] = 1.0;
    targets[12] = 1.0;
    targets[30] = 0.0;
    targets[31] = 0.0;
    let guard = RiskGuardConfig::default();
    let out = run(md, Some(targets), Some(RiskConfig { risk_guard: Some(guard), ..Default::default() }));
    let denied: Vec<usize> = out.events.iter().filter(|e| e.reason == "corrupt_data").map(|e| e.bar).collect();
    // bar 11 repeats bar 10's refused request: one denial episode
    assert_eq!(denied, vec![10, 30]);
    let fills: Vec<usize> =
        out.events.iter().filter(|e| e.kind == crate::engine::EventKind::Fill).map(|e| e.bar).collect();
    assert_eq!(fills, vec![13, 32]);
}

#[test]
fn balancer_caps_gross_and_guard_caps_position() {
    let md = market(&[wave(200, 5), wave(200, 6)], None);
    let mut targets = vec![f64::NAN; 400];
    targets[0] = 0.9;
    targets[1] = 0.9;
    let bal = BalancerConfig { max_gross: Some(1.2), ..Default::default() };
    let out =
        run(Arc::clone(&md), Some(targets.clone()), Some(RiskConfig { balancer: Some(bal), ..Default::default() }));
    let last = out.equity_curve.len() - 1;
    let w: f64 = (0..2).map(|s| (out.final_positions[s] * md.close[md.idx(s, last)]).abs()).sum::<f64>()
        / out.equity_curve[last];
    assert!(w < 1.2 * 1.06, "gross {w} within the cap plus drift tolerance");
    let guard = RiskGuardConfig { max_position: Some(0.25), ..Default::default() };
    let out = run(md, Some(targets), Some(RiskConfig { risk_guard: Some(guard), ..Default::default() }));
    assert_eq!(out.risk.denials.iter().find(|d| d.0 == "max_position").map(|d| d.1), Some(2));
}

#[test]
fn orchestrator_cooldown_and_max_positions() {
    let md = market(&[wave(100, 7), wave(100, 8)], None);
    let mut targets = vec![f64::NAN; 200];
    let mut set = |t: usize, s: usize, x: f64| targets[t * 2 + s] = x;
    // symbol 1 wants in at bar 0 like symbol 0, but only one position is allowed; its request
    // stands (native targets are restated every bar) and is taken once symbol 0 exits at bar 1
    set(0, 0, 0.5);
    set(0, 1, 0.5);
    set(1, 0, 0.0);
    // symbol 0 back in at bar 2: inside the 5-bar cooldown until bar 5, then no free slot
    set(2, 0, 0.5);
    let orch = OrchestratorConfig { max_positions: Some(1), cooldown_bars: 5, ..Default::default() };
    let out = run(md, Some(targets), Some(RiskConfig { orchestrator: Some(orch), ..Default::default() }));
    let denials: Vec<(usize, i64, &str)> = out
        .events
        .iter()
        .filter(|e| e.kind == crate::engine::EventKind::RiskDenial)
        .map(|e| (e.bar, e.symbol, e.reason))
        .collect();
    assert_eq!(denials, vec![(0, 1, "max_positions"), (2, 0, "cooldown"), (6, 0, "max_positions")]);
    assert_eq!(out.final_positions[0], 0.0);
    assert!(out.final_positions[1] > 0.0);
}

#[test]
fn bad_config_is_an_error_not_a_panic() {
    let bad = RiskConfig {
        balancer: Some(BalancerConfig { min_net: Some(-0.5), max_net: Some(-0.6), ..Default::default() }),
        ..Default::default()
    };
    assert!(bad.validate().is_err());
    let md = market(&[wave(10, 9)], None);
    let mut s = BuyAndHold { weight: None };
    let r = run_native_with_risk(md, &mut s, ExchangeConfig::default(), cfg(), Some(bad), false);
    assert!(r.is_err());
    let g = GovernorConfig { max_drawdown: Some(-0.1), ..Default::default() };
    assert!(g.validate().is_err());
}
