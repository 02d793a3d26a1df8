//! Closed-form checks of the metrics (the numpy cross-check on random paths is tests/test_metrics.py).

use super::*;

fn cfg(e0: f64) -> MetricsConfig {
    MetricsConfig::hourly(e0)
}

/// Feed equities with zero exposure and turnover and finish.
fn run(e0: f64, equity: &[f64]) -> Metrics {
    let mut acc = MetricsAccumulator::new(cfg(e0)).unwrap();
    for &e in equity {
        acc.on_bar(e, 0.0, 0.0);
    }
    acc.finish()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

fn reason(m: &Metrics, name: &str) -> Option<&'static str> {
    m.undefined().into_iter().find(|(n, _)| n == name).map(|(_, r)| r)
}

/// Every NaN float has a cause among the set flags (no NaN without an explanation).
fn assert_all_nan_explained(m: &Metrics) {
    for (name, r) in m.undefined() {
        assert_ne!(r, "undefined", "{name} is NaN with no flag explaining it ({:?})", m.flags);
    }
}

#[test]
fn constant_growth_has_no_risk_and_undefined_ratios() {
    let (e0, g, n): (f64, f64, i32) = (1000.0, 0.001, 500);
    let eq: Vec<f64> = (1..=n).map(|t| e0 * (1.0 + g).powi(t)).collect();
    let m = run(e0, &eq);
    assert!(close(m.total_return, (1.0 + g).powi(n) - 1.0, 1e-12));
    assert!(close(m.cagr, (1.0 + g).powf(8760.0) - 1.0, 1e-9), "{}", m.cagr);
    assert_eq!((m.max_drawdown, m.max_dd_duration, m.max_dd_duration_open, m.final_drawdown), (0.0, 0, false, 0.0));
    // rounding makes the returns differ by ~1e-16: that is not variance
    assert!(m.sharpe_ratio.is_nan() && m.flags.contains(MetricFlag::ZeroVariance));
    assert_eq!(m.volatility, 0.0);
    assert!(m.sortino.is_nan() && m.flags.contains(MetricFlag::NoDownside));
    assert!(m.calmar.is_nan() && m.flags.contains(MetricFlag::NoDrawdown));
    for t in m.tail {
        assert!(close(t.var, -g, 1e-9) && close(t.es, -g, 1e-9), "{t:?}");
    }
    assert_eq!(reason(&m, "sharpe_ratio"), Some(MetricFlag::ZeroVariance.reason()));
    assert_eq!(reason(&m, "calmar"), Some(MetricFlag::NoDrawdown.reason()));
    assert!(!m.ruined);
    assert_all_nan_explained(&m);
}

#[test]
fn constant_decline_is_one_open_drawdown() {
    let (e0, g, n): (f64, f64, i32) = (1000.0, -0.001, 500);
    let eq: Vec<f64> = (1..=n).map(|t| e0 * (1.0 + g).powi(t)).collect();
    let m = run(e0, &eq);
    assert!(close(m.max_drawdown, 100.0 * (1.0 - (1.0 + g).powi(n)), 1e-12));
    assert!(close(m.final_drawdown, m.max_drawdown, 1e-12));
    // peak is the initial equity (bar -1), the drawdown runs to the last bar n - 1
    assert_eq!((m.max_dd_duration, m.max_dd_duration_open), (n as u64, true));
    // all returns equal g < 0: downside deviation |g|, Sortino = -sqrt(8760); Sharpe undefined
    assert!(close(m.sortino, -(8760f64).sqrt(), 1e-9), "{}", m.sortino);
    assert!(m.sharpe_ratio.is_nan());
    let cagr = (1.0 + g).powf(8760.0) - 1.0;
    assert!(close(m.calmar, cagr / (m.max_drawdown / 100.0), 1e-9));
    assert!(close(m.tail[0].var, -g, 1e-9));
}

#[test]
fn drop_and_recover() {
    let e = [100.0, 80.0, 90.0, 100.0, 110.0];
    let m = run(100.0, &e);
    assert!(close(m.max_drawdown, 20.0, 1e-12));
    // peak reached again at bar 0 (100 >= 100), recovered at bar 3: 3 bars peak to recovery
    assert_eq!((m.max_dd_duration, m.max_dd_duration_open), (3, false));
    assert_eq!(m.final_drawdown, 0.0);
    assert!(close(m.total_return, 0.10, 1e-12));
    let r = [0.0, -0.2, 0.125, 1.0 / 9.0, 0.1];
    let mean = r.iter().sum::<f64>() / 5.0;
    let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
    assert!(close(m.sharpe_ratio, mean / sd * 8760f64.sqrt(), 1e-12));
    assert!(close(m.volatility, sd * 8760f64.sqrt(), 1e-12));
    assert!(close(m.sortino, mean / (0.04f64 / 5.0).sqrt() * 8760f64.sqrt(), 1e-12));
    let cagr = 1.1f64.powf(8760.0 / 5.0) - 1.0;
    assert!(close(m.cagr, cagr, 1e-9) && close(m.calmar, cagr / 0.2, 1e-9));
    // 5 returns sorted: -0.2, 0, 0.1, 0.111, 0.125; h95 = 0.2 -> VaR = -(-0.2 + 0.2 * 0.2) = 0.16
    assert!(close(m.tail[0].var, 0.16, 1e-12) && close(m.tail[0].es, 0.2, 1e-12));
    assert!(!m.flags.contains(MetricFlag::NoDrawdown));
    assert_eq!(m.n_bars, 5);
}

#[test]
fn open_drawdown_at_the_end() {
    let m = run(100.0, &[100.0, 120.0, 90.0, 100.0]);
    assert!(close(m.max_drawdown, 25.0, 1e-12));
    assert!(close(m.final_drawdown, 100.0 * (1.0 - 100.0 / 120.0), 1e-12));
    assert_eq!((m.max_dd_duration, m.max_dd_duration_open), (2, true));
}

#[test]
fn longest_drawdown_closed_before_a_shorter_open_one() {
    // closed: initial peak (bar -1) to recovery at bar 3 = 4 bars; open: bar 4 to bar 5 = 1 bar
    let m = run(100.0, &[90.0, 95.0, 99.0, 100.0, 120.0, 110.0]);
    assert_eq!((m.max_dd_duration, m.max_dd_duration_open), (4, false));
    assert!(close(m.max_drawdown, 10.0, 1e-12)); // the first (deeper) one, not the open 8.3%
                                                 // a tie goes to the open one: closed -1 -> 1 = 2 bars, open 2 -> 4 = 2 bars
    let t = run(100.0, &[90.0, 100.0, 120.0, 110.0, 115.0]);
    assert_eq!((t.max_dd_duration, t.max_dd_duration_open), (2, true));
    // a drawdown from the initial equity counts from bar -1
    let s = run(100.0, &[90.0, 100.0]);
    assert_eq!((s.max_dd_duration, s.max_dd_duration_open), (2, false));
}

#[test]
fn trade_statistics() {
    let mut acc = MetricsAccumulator::new(cfg(1000.0)).unwrap();
    acc.on_bar(1000.0, 0.0, 0.0);
    for (i, pnl) in [10.0, -5.0, 20.0, -5.0, 0.0].into_iter().enumerate() {
        acc.on_trade(pnl, i as u64 + 1);
    }
    acc.add_costs(3.0, 1.5);
    acc.add_costs(-0.5, 0.25);
    let m = acc.finish();
    assert_eq!((m.total_trades, m.winning_trades, m.losing_trades), (5, 2, 2));
    assert_eq!((m.winrate, m.profit_factor, m.avg_trade_pnl), (40.0, 3.0, 4.0));
    assert_eq!((m.gross_profit, m.gross_loss, m.avg_win, m.avg_loss), (30.0, 10.0, 15.0, -5.0));
    assert_eq!((m.best_trade, m.worst_trade, m.avg_bars_held), (20.0, -5.0, 3.0));
    assert_eq!((m.fees_paid, m.slippage_paid), (2.5, 1.75));
}

#[test]
fn profit_factor_without_losers_is_nan_not_infinity() {
    let mut acc = MetricsAccumulator::new(cfg(1000.0)).unwrap();
    acc.on_trade(5.0, 1);
    acc.on_trade(7.0, 1);
    let m = acc.finish();
    assert!(m.profit_factor.is_nan() && m.avg_loss.is_nan());
    assert!(m.flags.contains(MetricFlag::NoLosingTrades));
    assert_eq!(reason(&m, "profit_factor"), Some(MetricFlag::NoLosingTrades.reason()));
    assert_eq!(m.winrate, 100.0);
    // all losers: profit factor is a true 0, average win undefined
    let mut acc = MetricsAccumulator::new(cfg(1000.0)).unwrap();
    acc.on_trade(-5.0, 1);
    let m = acc.finish();
    assert_eq!((m.profit_factor, m.winrate), (0.0, 0.0));
    assert!(m.avg_win.is_nan() && m.flags.contains(MetricFlag::NoWinningTrades));
    assert_all_nan_explained(&m);
}

#[test]
fn no_trades_and_no_bars() {
    let m = MetricsAccumulator::new(cfg(500.0)).unwrap().finish();
    assert!(m.flags.contains(MetricFlag::NoBars) && m.flags.contains(MetricFlag::NoTrades));
    assert_eq!((m.n_bars, m.total_return, m.final_equity, m.max_drawdown), (0, 0.0, 500.0, 0.0));
    for x in [m.winrate, m.avg_trade_pnl, m.best_trade, m.worst_trade, m.cagr, m.sharpe_ratio, m.tail[1].var] {
        assert!(x.is_nan());
    }
    assert_eq!(reason(&m, "winrate"), Some(MetricFlag::NoTrades.reason()));
    assert_eq!(reason(&m, "sharpe_ratio"), Some(MetricFlag::NoBars.reason()));
    assert_all_nan_explained(&m);
}

#[test]
fn exposure_turnover_and_leverage() {
    let mut acc = MetricsAccumulator::new(cfg(100.0)).unwrap();
    for (g, v) in [(0.0, 100.0), (50.0, 0.0), (100.0, 0.0), (200.0, 50.0)] {
        acc.on_bar(100.0, g, v);
    }
    let m = acc.finish();
    assert_eq!((m.exposure, m.time_in_market, m.max_leverage, m.turnover), (0.875, 0.75, 2.0, 1.5));
    // switched off: NaN with its reason, not a made-up zero
    let c = MetricsConfig { exposure_input: false, turnover_input: false, holding_input: false, ..cfg(100.0) };
    let mut acc = MetricsAccumulator::new(c).unwrap();
    acc.on_bar(100.0, 0.0, 0.0);
    acc.on_trade(1.0, 0);
    let m = acc.finish();
    assert!(m.exposure.is_nan() && m.time_in_market.is_nan() && m.turnover.is_nan() && m.avg_bars_held.is_nan());
    assert_eq!(reason(&m, "turnover"), Some(MetricFlag::NoTurnoverInput.reason()));
    assert_eq!(reason(&m, "avg_bars_held"), Some(MetricFlag::NoHoldingInput.reason()));
}

#[test]
fn bust_account_voids_returns_and_leverage() {
    // equity 50 -> 0 -> 10: the return 10/0 - 1 does not exist
    let m = run(100.0, &[50.0, 0.0, 10.0]);
    assert!(m.flags.contains(MetricFlag::ReturnsUndefined) && m.flags.contains(MetricFlag::NonPositiveEquity));
    assert!(m.sharpe_ratio.is_nan() && m.volatility.is_nan() && m.tail[0].var.is_nan() && m.exposure.is_nan());
    assert_eq!(reason(&m, "es_99"), Some(MetricFlag::ReturnsUndefined.reason()));
    assert!(close(m.max_drawdown, 100.0, 1e-15) && m.ruined && m.min_equity == 0.0);
    assert!(close(m.cagr, 0.1f64.powf(8760.0 / 3.0) - 1.0, 1e-12));
    // negative final equity: returns exist (-0.5, -1.2), CAGR does not
    let m = run(100.0, &[50.0, -10.0]);
    assert!(!m.flags.contains(MetricFlag::ReturnsUndefined));
    assert!(close(m.tail[1].var, 1.2 - 0.01 * 0.7, 1e-12));
    assert!(m.cagr.is_nan() && m.calmar.is_nan() && m.flags.contains(MetricFlag::NegativeFinalEquity));
    assert!(close(m.max_drawdown, 110.0, 1e-12));
    assert_all_nan_explained(&m);
}

#[test]
fn ruin_threshold_is_inclusive() {
    let c = MetricsConfig { ruin_threshold: 0.5, ..cfg(100.0) };
    let mut acc = MetricsAccumulator::new(c).unwrap();
    acc.on_bar(50.000001, 0.0, 0.0);
    assert!(!acc.finish().ruined);
    acc.on_bar(50.0, 0.0, 0.0);
    assert!(acc.finish().ruined);
}

#[test]
fn one_bar_has_too_few_returns_for_sharpe() {
    let m = run(100.0, &[99.0]);
    assert!(m.sharpe_ratio.is_nan() && m.volatility.is_nan() && m.flags.contains(MetricFlag::TooFewReturns));
    assert!(close(m.sortino, -(8760f64).sqrt(), 1e-12));
    assert!(close(m.tail[0].var, 0.01, 1e-12));
}

#[test]
fn tiny_real_variance_is_not_zero() {
    let eq: Vec<f64> = (0..100).map(|t| 100.0 * (1.0 + if t % 2 == 0 { 1e-9 } else { -1e-9 })).collect();
    let m = run(100.0, &eq);
    assert!(m.sharpe_ratio.is_finite() && m.volatility > 0.0, "{:?}", m.flags);
}

#[test]
fn cagr_overflow_is_flagged() {
    let m = run(1.0, &[1e10]);
    assert!(m.cagr.is_nan() && m.flags.contains(MetricFlag::CagrOverflow));
    assert_eq!(reason(&m, "calmar"), Some(MetricFlag::CagrOverflow.reason()));
}

#[test]
fn invalid_input_voids_the_result() {
    let mut acc = MetricsAccumulator::new(cfg(100.0)).unwrap();
    acc.on_bar(101.0, 0.0, 0.0);
    acc.on_bar(f64::NAN, 0.0, 0.0);
    acc.on_bar(102.0, 0.0, 0.0);
    let m = acc.finish();
    assert!(m.flags.contains(MetricFlag::InvalidInput));
    assert!(m.total_return.is_nan() && m.max_drawdown.is_nan() && m.fees_paid.is_nan());
    assert_eq!(m.initial_equity, 100.0);
    assert_eq!(reason(&m, "max_drawdown"), Some(MetricFlag::InvalidInput.reason()));
    for (bad, field) in [
        ((f64::INFINITY, 0.0, 0.0), "equity"),
        ((1.0, -1.0, 0.0), "gross_exposure"),
        ((1.0, 0.0, f64::NAN), "turnover_notional"),
    ] {
        let mut acc = MetricsAccumulator::new(cfg(100.0)).unwrap();
        match acc.on_bar_checked(bad.0, bad.1, bad.2) {
            Err(StressError::InvalidParam { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{other:?}"),
        }
        assert_eq!(acc.n_bars(), 0);
    }
    let mut acc = MetricsAccumulator::new(cfg(100.0)).unwrap();
    assert!(acc.on_trade_checked(f64::NAN, 1).is_err());
    acc.add_costs(f64::INFINITY, 0.0);
    assert!(acc.finish().flags.contains(MetricFlag::InvalidInput));
}

#[test]
fn config_validation_names_the_field() {
    let bad = [
        (MetricsConfig { periods_per_year: 0.0, ..Default::default() }, "periods_per_year"),
        (MetricsConfig { initial_equity: f64::NAN, ..Default::default() }, "initial_equity"),
        (MetricsConfig { initial_equity: -1.0, ..Default::default() }, "initial_equity"),
        (MetricsConfig { var_levels: [95.0, 99.0], ..Default::default() }, "var_levels"),
        (MetricsConfig { var_levels: [0.99, 0.95], ..Default::default() }, "var_levels"),
        (MetricsConfig { ruin_threshold: 50.0, ..Default::default() }, "ruin_threshold"),
    ];
    for (c, field) in bad {
        match MetricsAccumulator::new(c) {
            Err(StressError::InvalidParam { field: f, message }) => {
                assert_eq!(f, field);
                assert!(!message.is_empty());
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

fn bits(m: &Metrics) -> Vec<(String, u64)> {
    m.values()
        .into_iter()
        .map(|(k, v)| {
            let b = match v {
                MetricValue::Float(x) => x.to_bits(),
                MetricValue::Count(c) => c,
                MetricValue::Bool(b) => b as u64,
            };
            (k, b)
        })
        .collect()
}

#[test]
fn reset_and_scratch_reuse_give_identical_results() {
    let a: Vec<f64> = (0..300).map(|t| 100.0 + ((t * 7919) % 113) as f64 - 50.0).collect();
    let b: Vec<f64> = (0..200).map(|t| 100.0 + ((t * 104_729) % 71) as f64 - 30.0).collect();
    let mut acc = MetricsAccumulator::new(cfg(100.0)).unwrap();
    for &e in &a {
        acc.on_bar(e, e * 0.5, 1.0);
    }
    acc.on_trade(3.0, 2);
    let first = acc.finish();
    let mut scratch = Vec::new();
    assert_eq!(bits(&first), bits(&acc.finish_with_scratch(&mut scratch)));
    acc.reset();
    let mut fresh = MetricsAccumulator::new(cfg(100.0)).unwrap();
    for &e in &b {
        acc.on_bar(e, e * 0.5, 1.0);
        fresh.on_bar(e, e * 0.5, 1.0);
    }
    assert_eq!(bits(&acc.finish_with_scratch(&mut scratch)), bits(&fresh.finish()));
    assert_eq!(acc.finish().total_trades, 0);
}

#[test]
fn value_names_follow_metric_info() {
    let m = run(100.0, &[101.0, 99.0]);
    let names: Vec<String> = m.values().into_iter().map(|(k, _)| k).collect();
    let info: Vec<&str> = METRIC_INFO.iter().map(|i| i.name).collect();
    assert_eq!(names, info);
    let c = MetricsConfig { var_levels: [0.9, 0.975], ..cfg(100.0) };
    let m = MetricsAccumulator::new(c).unwrap().finish();
    let names: Vec<String> = m.values().into_iter().map(|(k, _)| k).collect();
    assert!(names.iter().any(|n| n == "var_90") && names.iter().any(|n| n == "es_97.5"));
}

#[test]
fn current_drawdown_tracks_the_peak() {
    let mut acc = MetricsAccumulator::new(cfg(100.0)).unwrap();
    acc.on_bar(120.0, 0.0, 0.0);
    acc.on_bar(90.0, 0.0, 0.0);
    assert!(close(acc.current_drawdown_pct(), 25.0, 1e-12));
    assert_eq!((acc.peak_equity(), acc.last_equity()), (120.0, 90.0));
}

#[test]
fn series_uses_the_first_value_as_start_when_no_initial_equity() {
    let eq = [100.0, 80.0, 90.0, 100.0, 110.0];
    let m = compute_series(MetricsConfig::default(), &eq, None, None, None, &[], None, 0.0, 0.0).unwrap();
    assert_eq!((m.n_bars, m.initial_equity), (4, 100.0));
    assert!(close(m.max_drawdown, 20.0, 1e-12) && m.exposure.is_nan());
    let with = compute_series(MetricsConfig::default(), &eq[1..], Some(100.0), None, None, &[], None, 0.0, 0.0);
    assert_eq!(bits(&m), bits(&with.unwrap()));
    let err = |r: Result<Metrics>| match r {
        Err(StressError::InvalidParam { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let d = MetricsConfig::default();
    assert_eq!(err(compute_series(d.clone(), &[100.0], None, None, None, &[], None, 0.0, 0.0)), "equity");
    assert_eq!(err(compute_series(d.clone(), &[-1.0, 2.0], None, None, None, &[], None, 0.0, 0.0)), "equity");
    assert_eq!(err(compute_series(d.clone(), &[1.0, f64::NAN], None, None, None, &[], None, 0.0, 0.0)), "equity");
    assert_eq!(
        err(compute_series(d.clone(), &[1.0, 2.0], Some(0.0), None, None, &[], None, 0.0, 0.0)),
        "initial_equity"
    );
    assert_eq!(err(compute_series(d.clone(), &eq, None, Some(&[1.0; 5]), None, &[], None, 0.0, 0.0)), "exposure");
    assert_eq!(err(compute_series(d.clone(), &eq, None, None, Some(&[-1.0; 4]), &[], None, 0.0, 0.0)), "turnover");
    assert_eq!(err(compute_series(d.clone(), &eq, None, None, None, &[f64::NAN], None, 0.0, 0.0)), "trade_pnls");
    assert_eq!(
        err(compute_series(d.clone(), &eq, None, None, None, &[1.0], Some(&[1.5]), 0.0, 0.0)),
        "trade_bars_held"
    );
    assert_eq!(err(compute_series(d.clone(), &eq, None, None, None, &[1.0], Some(&[]), 0.0, 0.0)), "trade_bars_held");
    assert_eq!(err(compute_series(d, &eq, None, None, None, &[], None, f64::NAN, 0.0)), "fees");
}

#[test]
fn batches_give_the_same_bits_as_single_bars() {
    let eq: Vec<f64> = (0..2500).map(|t| 1000.0 + ((t * 7919) % 331) as f64 - 150.0 + t as f64 * 0.05).collect();
    let gx: Vec<f64> = eq.iter().enumerate().map(|(t, e)| if t % 7 < 3 { 0.0 } else { e * 1.5 }).collect();
    let tv: Vec<f64> = (0..eq.len()).map(|t| if t % 50 == 0 { 500.0 } else { 0.0 }).collect();
    let mut single = MetricsAccumulator::new(cfg(1000.0)).unwrap();
    for ((&e, &g), &v) in eq.iter().zip(&gx).zip(&tv) {
        single.on_bar(e, g, v);
    }
    let want = bits(&single.finish());
    for batch in [1, 7, 1024, 5000] {
        let mut acc = MetricsAccumulator::new(cfg(1000.0)).unwrap();
        for ((e, g), v) in eq.chunks(batch).zip(gx.chunks(batch)).zip(tv.chunks(batch)) {
            acc.on_bars(e, g, v);
        }
        assert_eq!(bits(&acc.finish()), want, "batch {batch}");
    }
    // mismatched lengths void the result instead of silently dropping bars
    let mut acc = MetricsAccumulator::new(cfg(1000.0)).unwrap();
    acc.on_bars(&eq, &gx[1..], &tv);
    assert!(acc.finish().flags.contains(MetricFlag::InvalidInput));
}

#[test]
fn tail_selection_with_sampling_matches_a_full_sort() {
    // long enough for the sampled threshold path, with a heavy left tail clustered at the end
    let n = 9000;
    let mut x = 0.37_f64;
    let mut eq = Vec::with_capacity(n);
    let mut e = 1000.0;
    for t in 0..n {
        x = (x * 3.999 * (1.0 - x)).clamp(1e-9, 1.0 - 1e-9); // logistic map: deterministic, irregular
        let shock = if t > n - 300 { -0.02 } else { 0.0 };
        e *= 1.0 + (x - 0.5) * 0.02 + shock * x;
        eq.push(e);
    }
    let m = run(1000.0, &eq);
    let mut r: Vec<f64> = eq.iter().scan(1000.0, |p, &e| Some((e / std::mem::replace(p, e)) - 1.0)).collect();
    r.sort_by(|a, b| a.total_cmp(b));
    for t in m.tail {
        let h = (n - 1) as f64 * (1.0 - t.level);
        let lo = h.floor() as usize;
        let var = -(r[lo] + (h - lo as f64) * (r[lo + 1] - r[lo]));
        let es = -r[..=lo].iter().sum::<f64>() / (lo + 1) as f64;
        assert!(close(t.var, var, 1e-12) && close(t.es, es, 1e-12), "{t:?} vs {var} {es}");
    }
}
