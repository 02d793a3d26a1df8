"""Fail-safes on stressed markets: the emergency stop on a flash crash (and not on a calm market),
loss velocity, volatility, failure streaks, corrupted feeds, and the risk stack's scorecard."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import polars as pl
import pytest
import riskmarkets as rm
import stresslab as sl
from stresslab import ExchangeSimulator, Scenario, ScenarioExecutor
from stresslab.mocks import MockEventBus
from stresslab.risk import RiskGuard, SafetyGovernor, default_stack
from stresslab.strategies import BuyAndHold, TargetSignals

CALM = Scenario("risk", "mixed_custom")
FEE, SLIP = 0.001, 0.0005
EXCHANGE = ExchangeSimulator.frictionless(FEE, SLIP)
CAPITAL = 100_000.0


def _run(df, governor=None, strategy=None, exchange=EXCHANGE, **components):
    ex = ScenarioExecutor(
        strategy or BuyAndHold(weight=1.0),
        safety_governor=governor,
        exchange_simulator=exchange,
        initial_capital=CAPITAL,
        **components,
    )
    r = ex.run(CALM, data=df)
    assert r.success, r.notes
    return r


def _exit_equity(df, entry_bar: int, exit_bar: int) -> float:
    """All-in at entry_bar's open, all out at exit_bar's open, with W1-style costs."""
    o = df["open"].to_numpy()
    qty = CAPITAL / (o[entry_bar] * (1 + SLIP) * (1 + FEE))
    return qty * o[exit_bar] * (1 - SLIP) * (1 - FEE)


def test_crash_triggers_exactly_one_stop_at_the_first_bar_past_the_limit():
    closes, flags = rm.crash_path(n=400, at=150, drop=0.30, bars=10)
    df = rm.bars(closes, flags=flags)
    off = _run(df)
    on = _run(df, SafetyGovernor(max_drawdown_pct=10.0, cooldown_bars=48))
    first = rm.first_breach(off.equity_curve, CAPITAL, 0.10)
    assert first is not None and 150 <= first < 160
    assert on.emergency_stops == 1
    stop = on.emergency_stop_log[0]
    assert (stop["bar"], stop["trigger"], stop["action"]) == (first, "drawdown", "flatten")
    assert stop["drawdown_pct"] > 10.0
    assert stop["rearmed_time"] is not None
    np.testing.assert_array_equal(on.equity_curve[: first + 1], off.equity_curve[: first + 1])
    # sold at the next open: the loss is the limit plus the bar that crossed it (no gap here)
    flat = _exit_equity(df, 1, first + 1)
    assert on.equity_curve[first + 1] == pytest.approx(flat, rel=1e-12)
    loss = 1 - on.equity_curve[first + 1] / CAPITAL
    step = 1 - 0.7**0.1  # one crash bar
    costs = 2 * (FEE + SLIP)
    assert 0.10 < loss <= 0.10 + step + costs + 0.01  # +1%: the calm drift before the crash
    # the same run without the governor rides the whole crash
    loss_off = 1 - off.final_equity / CAPITAL
    assert loss_off > 0.28
    assert loss_off > loss + 0.15


def test_gap_through_the_limit_costs_the_gap():
    # the crash happens between a close and the next open: the stop can only sell after the gap
    closes = rm.calm_path(200, seed=4)
    opens = np.concatenate([[closes[0]], closes[:-1]])
    closes[100:] *= 0.75
    opens[101:] *= 0.75
    opens[100] = closes[99] * 0.8  # gap down 20% at bar 100's open, close a further 6% lower
    df = rm.bars(closes, opens=opens)
    on = _run(df, SafetyGovernor(max_drawdown_pct=10.0, cooldown_bars=None))
    stop = on.emergency_stop_log[0]
    assert stop["bar"] == 100
    loss = 1 - on.final_equity / CAPITAL
    # the stop fires at the first close past the limit; what it costs is set by the gap
    assert loss == pytest.approx(1 - _exit_equity(df, 1, 101) / CAPITAL, rel=1e-12)
    assert loss > 0.20


def test_calm_market_never_trips_and_changes_nothing():
    df = rm.bars(rm.calm_path(2000, seed=2, vol=0.0008))
    off = _run(df)
    assert off.max_drawdown < 10.0
    on = _run(df, SafetyGovernor(max_drawdown_pct=10.0, loss_velocity_pct=5.0, max_volatility_mult=6.0))
    assert on.emergency_stops == 0
    np.testing.assert_array_equal(on.equity_curve, off.equity_curve)


def test_loss_velocity_matches_a_numpy_reference():
    closes, _ = rm.crash_path(n=300, at=120, drop=0.12, bars=4, seed=3)
    df = rm.bars(closes)
    off = _run(df)
    on = _run(df, SafetyGovernor(loss_velocity_pct=8.0, loss_velocity_bars=5, cooldown_bars=None))
    eq = off.equity_curve
    past = np.concatenate([np.full(5, CAPITAL), eq[:-5]])
    want = int(np.flatnonzero(eq < past * (1 - 0.08))[0])
    assert [s["bar"] for s in on.emergency_stop_log] == [want]
    assert on.emergency_stop_log[0]["trigger"] == "loss_velocity"


def _ewma_ratio_trigger(closes: np.ndarray, short: float, long: float, mult: float) -> int | None:
    """Independent reimplementation of the volatility trigger: EWMA of squared simple returns."""
    a_s, a_l = 1 - 0.5 ** (1 / short), 1 - 0.5 ** (1 / long)
    r2 = (closes[1:] / closes[:-1] - 1) ** 2
    s = lv = r2[0]
    for k in range(len(r2)):
        if k > 0:
            s += a_s * (r2[k] - s)
            lv += a_l * (r2[k] - lv)
        if k + 1 >= math.ceil(long) and s > mult * mult * lv:
            return k + 1  # bar index of the return's close
    return None


def test_volatility_trigger_matches_a_numpy_reference():
    closes = rm.calm_path(600, seed=5, vol=0.002)
    burst = 1 + 0.04 * np.where(np.arange(20) % 2 == 0, 1, -1)
    closes[400:420] = closes[399] * np.cumprod(burst)
    closes[420:] = closes[419] * closes[420:] / closes[420]
    df = rm.bars(closes)
    gov = SafetyGovernor(max_volatility_mult=4.0, vol_short_bars=3, vol_long_bars=100, cooldown_bars=None)
    on = _run(df, gov)
    want = _ewma_ratio_trigger(closes, 3, 100, 4.0)
    assert want is not None and 400 <= want < 410
    assert [(s["bar"], s["trigger"]) for s in on.emergency_stop_log] == [(want, "volatility")]
    assert _run(rm.bars(rm.calm_path(600, seed=5, vol=0.002)), gov).emergency_stops == 0


def test_failure_streak_stop_on_an_exchange_outage():
    n = 300
    targets = np.full(n, np.nan)
    targets[99] = 1.0  # enter at bar 100, inside the outage
    df = rm.bars(rm.calm_path(n, seed=6))
    exchange = dataclasses.replace(EXCHANGE, outages=((100, 140),))
    off = _run(df, strategy=TargetSignals(targets), exchange=exchange)
    rejected = off.events_df().filter(pl.col("kind") == "rejected")["bar"].to_list()
    assert rejected[:6] == [100, 101, 102, 103, 104, 105]
    gov = SafetyGovernor(max_failure_streak=5, cooldown_bars=60)
    on = _run(df, gov, strategy=TargetSignals(targets), exchange=exchange)
    assert [(s["bar"], s["trigger"]) for s in on.emergency_stop_log] == [(rejected[4], "failure_streak")]
    assert on.execution_failures == 5  # the stop dropped the pending target: no more retries
    assert off.execution_failures == 40


def test_corrupted_feed_is_refused_and_counted():
    n = 600
    rng = np.random.default_rng(8)
    kinds = ["nan", "spike", "negative", "zero_volume", "stale"]
    bars = np.sort(rng.choice(np.arange(10, n - 10, 3), size=30, replace=False))  # never adjacent
    where = {int(t): kinds[i % len(kinds)] for i, t in enumerate(bars)}
    df = rm.corrupt(rm.bars(rm.calm_path(n, seed=8)), where)
    targets = np.where(np.arange(n) % 2 == 0, 0.5, 0.0)  # a new target on every bar
    bus = MockEventBus()
    guarded = ScenarioExecutor(
        TargetSignals(targets), risk_guard=RiskGuard(), exchange_simulator=EXCHANGE, event_bus=bus
    ).run(CALM, data=df)
    assert guarded.success, guarded.notes
    assert guarded.data_quality_issues == len(where)  # the ground truth of the corruption
    taken = {e["bar"] for e in bus.events if e["kind"] == "signal"}
    refused = sorted(e["bar"] for e in bus.events if e["kind"] == "risk_denial")
    assert not taken & set(where)
    assert refused == sorted(where)
    assert all(e["reason"] == "corrupt_data" for e in bus.events if e["kind"] == "risk_denial")
    assert guarded.risk_denial_reasons == {"corrupt_data": len(where)}
    # without the guard the strategy trades on the corrupt bars
    bus2 = MockEventBus()
    ScenarioExecutor(TargetSignals(targets), exchange_simulator=EXCHANGE, event_bus=bus2).run(CALM, data=df)
    assert {e["bar"] for e in bus2.events if e["kind"] == "signal"} & set(where)


def test_data_quality_trigger_stops_on_a_burst_of_corrupt_bars():
    n = 300
    where = {50: "nan", 120: "stale", 123: "spike", 126: "zero_volume", 129: "nan", 132: "negative"}
    df = rm.corrupt(rm.bars(rm.calm_path(n, seed=9)), where)
    gov = SafetyGovernor(max_corrupt_bars=3, corrupt_window_bars=24, cooldown_bars=None)
    r = _run(df, gov)
    # bar 50 alone stays under the limit; the 4th corrupt bar within 24 bars (129) stops
    assert [(s["bar"], s["trigger"]) for s in r.emergency_stop_log] == [(129, "data_quality")]
    assert r.data_quality_issues == 6


def test_scorecard_reports_fired_time_to_halt_loss_avoided_and_false_trips():
    closes, flags = rm.crash_path(n=400, at=150, drop=0.30, bars=10, seed=11)
    stressed = rm.bars(closes, flags=flags)
    calm = rm.bars(rm.calm_path(400, seed=11))
    stack = {
        "safety_governor": SafetyGovernor(max_drawdown_pct=10.0, loss_velocity_pct=25.0),
        "risk_guard": RiskGuard(),
    }
    ex = ScenarioExecutor(BuyAndHold(weight=1.0), exchange_simulator=EXCHANGE, **stack)
    card = sl.scorecard.risk_scorecard(ex, CALM, stressed, calm_data=calm)
    on = ex.run(CALM, data=stressed)
    off = ScenarioExecutor(BuyAndHold(weight=1.0), exchange_simulator=EXCHANGE).run(CALM, data=stressed)
    assert card["stress_onset_bar"] == 150 == on.stress_onset_bar
    assert card["fired"] == {"safety_governor": True, "risk_guard": False}
    assert card["triggers"] == {"drawdown": 1, "loss_velocity": 0}
    assert card["first_halt_bar"] == on.emergency_stop_log[0]["bar"]
    assert card["bars_to_halt"] == on.emergency_stop_log[0]["bar"] - 150
    assert card["loss_avoided"] == pytest.approx(on.final_equity - off.final_equity, rel=1e-12)
    assert card["loss_avoided"] > 0.15 * CAPITAL
    assert card["drawdown_avoided_pct"] == pytest.approx(off.max_drawdown - on.max_drawdown)
    assert card["false_trips"] == 0
    # the executor flag attaches the same card to every result
    r = ScenarioExecutor(BuyAndHold(weight=1.0), exchange_simulator=EXCHANGE, scorecard=True, **stack).run(
        CALM, data=stressed
    )
    assert r.risk_scorecard["bars_to_halt"] == card["bars_to_halt"]
    assert r.risk_scorecard["false_trips"] is None  # hand-stressed bars: no calm baseline without calm_data


def test_false_trips_counted_on_a_calm_baseline():
    calm = rm.bars(rm.calm_path(1500, seed=12, vol=0.01))  # a nervous calm market
    stressed = rm.bars(rm.crash_path(1500, at=700, drop=0.3, seed=12, vol=0.01)[0])
    ex = ScenarioExecutor(BuyAndHold(weight=1.0), exchange_simulator=EXCHANGE, **default_stack())
    card = sl.scorecard.risk_scorecard(ex, CALM, stressed, calm_data=calm, onset=700)
    plain = ScenarioExecutor(BuyAndHold(weight=1.0), exchange_simulator=EXCHANGE, **default_stack()).run(
        CALM, data=calm
    )
    assert card["false_trips"] == plain.emergency_stops
    assert card["calm_escalations"] == sum(
        1
        for _, f, t, _ in plain.policy_transitions
        if ["NORMAL", "DEFENSIVE", "CAPITAL_PRESERVATION", "HALT"].index(t)
        > ["NORMAL", "DEFENSIVE", "CAPITAL_PRESERVATION", "HALT"].index(f)
    )


def test_corruption_transform_ground_truth_is_counted_and_refused():
    from stresslab.transforms import apply_data_corruption

    calm = sl.synthetic_market(["BTCUSDT", "ETHUSDT"], n_bars=2000, seed=5)
    kinds = ["nan", "spike", "stale", "zero_volume", "negative"]
    df, truth = apply_data_corruption(calm, corruption_pct=0.02, corruption_types=kinds, seed=5, return_record=True)
    bus = MockEventBus()
    n = 2000
    targets = np.tile(np.where(np.arange(n) % 2 == 0, 0.4, 0.1)[:, None], (1, 2))  # a change every bar
    r = ScenarioExecutor(TargetSignals(targets), risk_guard=RiskGuard(), event_bus=bus).run(CALM, data=df)
    assert r.success, r.notes
    assert r.data_quality_issues == truth.height == 80
    corrupt = {(row["symbol"], row["bar"]) for row in truth.iter_rows(named=True)}
    taken = {(e["symbol"], e["bar"]) for e in bus.events if e["kind"] == "signal"}
    refused = {(e["symbol"], e["bar"]) for e in bus.events if e["reason"] == "corrupt_data"}
    assert taken and not taken & corrupt
    assert refused == corrupt


def test_flash_crash_transform_with_the_governor():
    calm = sl.synthetic_market(["BTCUSDT"], n_bars=1500, seed=21, model="gbm")
    sc = Scenario("crash", "flash_crash", {"drop_pct": 0.30, "duration_bars": 6, "at": 800}, seed=21)
    gov = SafetyGovernor(max_drawdown_pct=10.0, cooldown_bars=100)
    on = ScenarioExecutor(BuyAndHold(weight=1.0), safety_governor=gov, exchange_simulator=EXCHANGE).run(sc, data=calm)
    off = ScenarioExecutor(BuyAndHold(weight=1.0), exchange_simulator=EXCHANGE).run(sc, data=calm)
    assert on.success and off.success, (on.notes, off.notes)
    first = rm.first_breach(off.equity_curve, CAPITAL, 0.10)
    assert [s["bar"] for s in on.emergency_stop_log][:1] == [first]
    assert on.equity_curve.min() > off.equity_curve.min()
