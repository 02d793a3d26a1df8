"""Policy modes: hysteresis (no flapping on a signal oscillating around a threshold), the mode's
limits applied to the positions, recovery, and the orchestrator / balancer limits in a run."""

from __future__ import annotations

import numpy as np
import pytest
import riskmarkets as rm
from stresslab import ExchangeSimulator, Scenario, ScenarioExecutor
from stresslab.risk import MetaStrategyController, Orchestrator, PolicyStore, PortfolioBalancer, RiskGuard
from stresslab.strategies import BuyAndHold, TargetSignals

CALM = Scenario("policy", "mixed_custom")
EXCHANGE = ExchangeSimulator.frictionless(0.0, 0.0)
CAPITAL = 100_000.0


def _oscillating(n_osc: int = 200, recover: bool = True) -> np.ndarray:
    """Price 100, then alternating 94.9 / 95.1 (drawdown 5.1% / 4.9% around a 5% threshold),
    then (optionally) back to 100."""
    up = np.full(20, 100.0)
    osc = np.where(np.arange(n_osc) % 2 == 0, 94.9, 95.1)
    tail = np.full(60, 100.0) if recover else np.empty(0)
    return np.concatenate([up, osc, tail])


def _run(closes, msc, store=None, strategy=None):
    ex = ScenarioExecutor(
        strategy or BuyAndHold(weight=1.0),
        msc=msc,
        policy_store=store,
        exchange_simulator=EXCHANGE,
        initial_capital=CAPITAL,
    )
    r = ex.run(CALM, data=rm.bars(closes))
    assert r.success, r.notes
    return r


# DEFENSIVE keeps the full size, so the drawdown signal is the price's alone
NEUTRAL = PolicyStore(defensive={"size_multiplier": 1.0})


def test_hysteresis_prevents_flapping_on_an_oscillating_drawdown():
    closes = _oscillating()
    msc = MetaStrategyController(
        defensive_drawdown_pct=5.0,
        preservation_drawdown_pct=None,
        halt_drawdown_pct=None,
        hysteresis_pct=20.0,
        min_bars_in_mode=6,
        drawdown_window_bars=None,
    )
    r = _run(closes, msc, NEUTRAL)
    dd = 1 - r.equity_curve / np.maximum.accumulate(np.concatenate([[CAPITAL], r.equity_curve]))[1:]
    first = int(np.flatnonzero(dd >= 0.05)[0])
    bars = [int(np.searchsorted(r.timestamps, int(t.timestamp() * 1000))) for t, *_ in r.policy_transitions]
    modes = [(f, t, why) for _, f, t, why in r.policy_transitions]
    assert bars[0] == first
    # the drawdown crossed 5% a hundred times; the mode changed once, then back on recovery
    assert int(((dd[1:] >= 0.05) != (dd[:-1] >= 0.05)).sum()) > 150
    assert modes == [("NORMAL", "DEFENSIVE", "drawdown"), ("DEFENSIVE", "NORMAL", "recovered")]
    assert bars[1] == 220  # back to 100 (drawdown 0 < 4%) after 200 bars in DEFENSIVE


def test_without_hysteresis_the_same_signal_flaps():
    msc = MetaStrategyController(
        defensive_drawdown_pct=5.0,
        preservation_drawdown_pct=None,
        halt_drawdown_pct=None,
        hysteresis_pct=0.0,
        min_bars_in_mode=0,
        drawdown_window_bars=None,
    )
    r = _run(_oscillating(), msc, NEUTRAL)
    assert len(r.policy_transitions) > 150


def test_mode_limits_resize_and_halt_flattens():
    closes, _ = rm.crash_path(n=300, at=100, drop=0.30, bars=10, seed=3)
    msc = MetaStrategyController(
        defensive_drawdown_pct=5.0, preservation_drawdown_pct=None, halt_drawdown_pct=15.0, min_bars_in_mode=1000
    )
    r = _run(closes, msc)  # default store: DEFENSIVE halves, HALT is flat
    eq = r.equity_curve
    peak = np.maximum.accumulate(np.concatenate([[CAPITAL], eq]))[1:]
    dd = 1 - eq / peak
    to = [(t, why) for _, _, t, why in r.policy_transitions]
    assert to == [("DEFENSIVE", "drawdown"), ("HALT", "drawdown")]
    bars = [int(np.searchsorted(r.timestamps, int(x[0].timestamp() * 1000))) for x in r.policy_transitions]
    assert bars[0] == int(np.flatnonzero(dd >= 0.05)[0])
    assert bars[1] == int(np.flatnonzero(dd >= 0.15)[0])
    o = rm.bars(closes)["open"].to_numpy()
    # from the next open: half the position, then none
    held = r.trades_df()
    assert held["max_qty"][0] == pytest.approx(CAPITAL / o[1])
    assert r.counters["final_positions"]["BTCUSDT"] == 0.0
    # equity frozen once flat in HALT
    assert np.all(eq[bars[1] + 1 :] == eq[bars[1] + 1])
    assert r.final_mode == "HALT"


def test_halt_recovers_once_the_old_peak_leaves_the_window():
    closes, _ = rm.crash_path(n=400, at=100, drop=0.30, bars=10, seed=4)
    msc = MetaStrategyController(
        defensive_drawdown_pct=None,
        preservation_drawdown_pct=None,
        halt_drawdown_pct=10.0,
        drawdown_window_bars=48,
        min_bars_in_mode=6,
    )
    r = _run(closes, msc)
    modes = [t for _, _, t, _ in r.policy_transitions]
    assert modes[:2] == ["HALT", "NORMAL"]
    halt_bar, back_bar = (
        int(np.searchsorted(r.timestamps, int(x[0].timestamp() * 1000))) for x in r.policy_transitions[:2]
    )
    assert back_bar - halt_bar >= 40  # the pre-crash peak leaves the 48-bar window, not before
    assert r.trades_df().height >= 2  # re-entered after the recovery


def test_orchestrator_and_balancer_limits_in_a_run():
    n = 200
    df = rm.bars({"AAA": rm.calm_path(n, 1), "BBB": rm.calm_path(n, 2), "CCC": rm.calm_path(n, 3)})
    targets = np.full((n, 3), np.nan)
    targets[0] = [0.6, 0.6, 0.6]
    ex = ScenarioExecutor(
        TargetSignals(targets),
        orchestrator=Orchestrator(max_positions=2),
        portfolio_balancer=PortfolioBalancer(max_gross_exposure_pct=100.0),
        exchange_simulator=EXCHANGE,
    )
    r = ex.run(CALM, data=df)
    assert r.risk_denial_reasons == {"max_positions": 1}
    pos = r.counters["final_positions"]
    assert pos["CCC"] == 0.0
    # two positions of 0.6 scaled to a gross of 1.0: 0.5 each at the entry open
    o = df.filter(df["symbol"] == "AAA")["open"][1], df.filter(df["symbol"] == "BBB")["open"][1]
    assert pos["AAA"] * o[0] == pytest.approx(0.5 * CAPITAL, rel=1e-9)
    assert pos["BBB"] * o[1] == pytest.approx(0.5 * CAPITAL, rel=1e-9)
    assert r.rebalances >= 2


def test_guard_cuts_to_leverage_and_position_limits():
    n = 100
    df = rm.bars({"AAA": rm.calm_path(n, 4), "BBB": rm.calm_path(n, 5)})
    targets = np.full((n, 2), np.nan)
    targets[0] = [0.9, 0.9]
    r = ScenarioExecutor(
        TargetSignals(targets),
        risk_guard=RiskGuard(max_position_pct=70.0, max_leverage=1.2),
        exchange_simulator=EXCHANGE,
    ).run(CALM, data=df)
    # AAA: 0.9 -> 0.7 (position); BBB: 0.9 -> 0.7 (position) -> 0.5 (leverage room 1.2 - 0.7)
    assert r.risk_denial_reasons == {"max_position": 1, "max_leverage": 1}
    o = [df.filter(df["symbol"] == s)["open"][1] for s in ("AAA", "BBB")]
    pos = r.counters["final_positions"]
    assert pos["AAA"] * o[0] == pytest.approx(0.7 * CAPITAL, rel=1e-9)
    assert pos["BBB"] * o[1] == pytest.approx(0.5 * CAPITAL, rel=1e-9)
