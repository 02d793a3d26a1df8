"""Python components in the loop: a Python reimplementation of the native risk guard gives the
same run, the mocks run a whole system, user exceptions are recorded and the run goes on in a
safe state, the event bus gets every event, failed models drop out while the others trade."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import riskmarkets as rm
import stresslab as sl
from stresslab import ExchangeSimulator, Scenario, ScenarioExecutor
from stresslab.mocks import (
    MockEventBus,
    MockMetaStrategyController,
    MockOrchestrator,
    MockPolicyStore,
    MockPortfolioBalancer,
    MockRiskGuard,
    MockSafetyGovernor,
    MockStrategyEngine,
)
from stresslab.risk import RiskGuard, SafetyGovernor
from stresslab.strategies import BuyAndHold, TargetSignals

CALM = Scenario("adapters", "mixed_custom")
EXCHANGE = ExchangeSimulator.frictionless(0.001, 0.0005)


class PyRiskGuard:
    """The native RiskGuard's rules written again in Python (per-call interface)."""

    def __init__(self, max_position, max_leverage, max_order_volume, daily_loss_limit):
        self.max_position = max_position
        self.max_leverage = max_leverage
        self.max_order_volume = max_order_volume
        self.daily = daily_loss_limit

    @staticmethod
    def _current(ctx, j):
        x = ctx.targets[j]
        return ctx.positions[j] * ctx.prices[j] / ctx.equity if math.isnan(x) else x

    def check_risk(self, sig, ctx):
        s, x = sig.index, sig.target
        cur = self._current(ctx, s)
        if ctx.corrupt[s]:
            return False, "corrupt_data"
        adds = abs(x) > abs(cur) or x * cur < 0
        if not adds:
            return True, ""
        if ctx.equity < ctx.day_start_equity * (1.0 - self.daily):
            return False, "daily_loss_limit"
        w, cut = x, None
        if abs(w) > self.max_position:
            w, cut = math.copysign(self.max_position, w), "max_position"
        price, q = ctx.prices[s], ctx.positions[s]
        cap = self.max_order_volume * ctx.volume[s]
        want = w * ctx.equity / price
        if abs(want - q) > cap:
            w, cut = (q + math.copysign(cap, want - q)) * price / ctx.equity, "max_order_volume"
        other = 0.0
        for j in range(len(ctx.targets)):
            if j == s:
                continue
            y = ctx.proposed[j] if j < s and not math.isnan(ctx.proposed[j]) else self._current(ctx, j)
            other += abs(y)
        room = max(self.max_leverage - other, 0.0)
        if abs(w) > room:
            w, cut = math.copysign(room, w), "max_leverage"
        if cut is None:
            return True, ""
        if abs(w) > abs(cur) or w * cur < 0:
            return True, cut, w
        return False, cut


def _random_targets(n, k, seed):
    rng = np.random.default_rng(seed)
    t = np.full((n, k), np.nan)
    for i in range(0, n, 7):
        t[i] = rng.choice([-0.8, -0.4, 0.0, 0.3, 0.6, 0.9], size=k)
    return t


@pytest.mark.parametrize("seed", [1, 2])
def test_python_reimplementation_of_the_guard_gives_the_same_run(seed):
    n, syms = 1500, ["AAA", "BBB", "CCC"]
    closes = {s: rm.calm_path(n, seed * 10 + i, vol=0.01) for i, s in enumerate(syms)}
    df = rm.bars(closes, volume=3_000.0)  # thin: the order-volume cap binds
    df = pl.concat(
        [rm.corrupt(df.filter(pl.col("symbol") == "AAA"), {200: "stale", 450: "nan", 451: "spike"})]
        + [df.filter(pl.col("symbol") == s).with_columns(pl.lit(0, pl.UInt32).alias("stress_flags")) for s in syms[1:]]
    )
    targets = _random_targets(n, 3, seed)
    limits = dict(max_position=0.7, max_leverage=1.5, max_order_volume=0.1, daily_loss_limit=0.02)
    native_guard = RiskGuard(
        max_position_pct=70.0, max_leverage=1.5, max_order_volume_pct=10.0, daily_loss_limit_pct=2.0
    )
    native = ScenarioExecutor(TargetSignals(targets), risk_guard=native_guard, exchange_simulator=EXCHANGE).run(
        CALM, data=df
    )
    python = ScenarioExecutor(
        TargetSignals(targets), risk_guard=PyRiskGuard(**limits), exchange_simulator=EXCHANGE
    ).run(CALM, data=df)
    assert native.success and python.success, (native.notes, python.notes)
    reasons = native.risk_denial_reasons
    assert {"max_position", "max_leverage", "max_order_volume", "corrupt_data"} <= set(reasons), reasons
    np.testing.assert_array_equal(python.equity_curve, native.equity_curve)
    assert python.total_trades == native.total_trades
    assert python.counters["fills"] == native.counters["fills"]
    assert python.component_failures == []
    # and the guard is not a no-op: without it the run differs
    bare = ScenarioExecutor(TargetSignals(targets), exchange_simulator=EXCHANGE).run(CALM, data=df)
    assert not np.array_equal(bare.equity_curve, native.equity_curve)


def test_mocks_run_a_whole_trading_system():
    closes, flags = rm.crash_path(n=600, at=300, drop=0.35, bars=8, seed=7, vol=0.004)
    df = rm.bars(closes, flags=flags)
    bus = MockEventBus()
    store = MockPolicyStore()
    ex = ScenarioExecutor(
        MockStrategyEngine(),
        MockOrchestrator(),
        MockRiskGuard(),
        MockPortfolioBalancer(),
        MockSafetyGovernor(max_drawdown_pct=8.0),
        MockMetaStrategyController(),
        store,
        exchange_simulator=EXCHANGE,
        event_bus=bus,
    )
    r = ex.run(CALM, data=df)
    assert r.success and r.component_failures == [], (r.notes, r.component_failures)
    assert r.total_trades > 0
    assert r.emergency_stops >= 1 and r.emergency_stop_log[0]["bar"] >= 300
    assert [t for _, _, t, _ in r.policy_transitions] == store.history
    # the bus received every event of the run, in order
    ev = r.events_df()
    assert len(bus.events) == ev.height
    assert [e["kind"] for e in bus.events] == ev["kind"].to_list()
    assert [e["bar"] for e in bus.events] == ev["bar"].to_list()
    kinds = bus.counts
    assert kinds["signal"] > 0 and kinds["order"] > 0 and kinds["fill"] > 0 and kinds["emergency_stop"] >= 1


class Raising:
    """Every method raises (a component that has all the methods of every Protocol)."""

    action, cooldown_bars = "flatten", None

    def evaluate_signal(self, signal, context):
        raise RuntimeError("orchestrator boom")

    def check_risk(self, signal, context):
        raise RuntimeError("guard boom")

    def balance(self, targets, context):
        raise RuntimeError("balancer boom")

    def check_emergency(self, context):
        if context.bar >= 50:
            raise RuntimeError("governor boom")

    def select_mode(self, context):
        raise RuntimeError("msc boom")

    def get_limits(self, mode):
        raise RuntimeError("store boom")

    def publish(self, event):
        raise RuntimeError("bus boom")


@pytest.mark.parametrize(
    "slot, message",
    [
        ("orchestrator", "orchestrator boom"),
        ("risk_guard", "guard boom"),
        ("portfolio_balancer", "balancer boom"),
        ("safety_governor", "governor boom"),
        ("msc", "msc boom"),
        ("policy_store", "store boom"),
        ("event_bus", "bus boom"),
    ],
)
def test_component_exceptions_are_recorded_and_the_run_goes_on_safely(slot, message):
    n = 200
    df = rm.bars(rm.calm_path(n, seed=3))
    targets = np.full(n, np.nan)
    targets[10], targets[100] = 0.5, 1.0
    r = ScenarioExecutor(TargetSignals(targets), exchange_simulator=EXCHANGE, **{slot: Raising()}).run(CALM, data=df)
    assert r.success, r.notes
    assert r.component_failures, "the failure is recorded"
    time, component, text = r.component_failures[0]
    assert component == slot and message in text and "Raising." in text
    plain = ScenarioExecutor(TargetSignals(targets), exchange_simulator=EXCHANGE).run(CALM, data=df)
    if slot in ("orchestrator", "risk_guard", "portfolio_balancer"):
        assert r.total_trades == 0 and r.counters["fills"] == 0  # every change refused: nothing traded
    elif slot == "safety_governor":
        assert [(s["bar"], s["trigger"]) for s in r.emergency_stop_log] == [(50, "safety_governor failed")]
        assert r.counters["final_positions"]["BTCUSDT"] == 0.0  # flattened and kept flat
    else:  # the controller keeps the mode, the store falls back to the defaults, the bus loses events
        np.testing.assert_array_equal(r.equity_curve, plain.equity_curve)


class WrongTypes:
    action, cooldown_bars = "flatten", 10

    def check_risk(self, signal, context):
        return "yes"

    def check_emergency(self, context):
        return 42

    def select_mode(self, context):
        return "PANIC"


@pytest.mark.parametrize(
    "slot, fragment", [("risk_guard", "expected (allowed"), ("safety_governor", "int"), ("msc", "PANIC")]
)
def test_wrong_return_types_are_recorded(slot, fragment):
    df = rm.bars(rm.calm_path(100, seed=4))
    r = ScenarioExecutor(BuyAndHold(weight=1.0), exchange_simulator=EXCHANGE, **{slot: WrongTypes()}).run(CALM, data=df)
    assert r.success, r.notes
    assert r.component_failures and fragment in r.component_failures[0][2]
    if slot == "risk_guard":
        assert r.total_trades == 0


def test_other_scenarios_of_a_batch_are_unaffected():
    class FailsOnHighPrices:
        def check_risk(self, signal, context):
            if signal.price > 500:
                raise RuntimeError("cannot handle this market")
            return True, ""

    datasets = [rm.bars(rm.calm_path(300, seed=s, start=p)) for s, p in ((1, 100.0), (2, 1000.0), (3, 100.0))]
    ex = ScenarioExecutor(BuyAndHold(weight=1.0), risk_guard=FailsOnHighPrices(), exchange_simulator=EXCHANGE)
    results = [ex.run(CALM, data=d) for d in datasets]
    clean = [ScenarioExecutor(BuyAndHold(weight=1.0), exchange_simulator=EXCHANGE).run(CALM, data=d) for d in datasets]
    assert [bool(r.component_failures) for r in results] == [False, True, False]
    for k in (0, 2):
        np.testing.assert_array_equal(results[k].equity_curve, clean[k].equity_curve)
    assert results[1].success and results[1].total_trades == 0


class _Trend:
    name = "trend"

    def on_batch(self, bars, ctx):
        c = bars.close[:, 0]
        return (c > 100.0).astype(float)


class _Blows:
    name = "blows_up"

    def __init__(self, at):
        self.at = at

    def on_batch(self, bars, ctx):
        if bars.start >= self.at:
            raise ValueError("model diverged")
        return np.full(len(bars), 0.5)


class _Garbage:
    name = "garbage"

    def on_batch(self, bars, ctx):
        return np.full(len(bars), np.nan) if bars.start >= 256 else np.zeros(len(bars))


class _System:
    def __init__(self, models):
        self.models = models


def test_failed_models_drop_out_and_the_rest_keep_trading():
    n = 1024
    closes = rm.calm_path(n, seed=5, vol=0.01)
    df = rm.bars(closes)
    system = _System([_Trend(), _Blows(512), _Garbage()])
    r = ScenarioExecutor(system, exchange_simulator=EXCHANGE, batch_size=128).run(CALM, data=df)
    assert r.success, r.notes
    assert r.failed_models == 2
    assert [(m, msg.split(":")[0]) for _, m, msg in r.model_failures] == [
        ("garbage", "ValueError"),
        ("blows_up", "ValueError"),
    ]
    assert r.failed_strategies == []
    # expected decisions: the mean of the models alive in each batch
    trend = (closes > 100.0).astype(float)
    expected = np.empty(n)
    for t0 in range(0, n, 128):
        alive = [trend[t0 : t0 + 128]]
        if t0 < 512:
            alive.append(np.full(128, 0.5))
        if t0 < 256:
            alive.append(np.zeros(128))
        expected[t0 : t0 + 128] = np.mean(alive, axis=0)
    ref = ScenarioExecutor(TargetSignals(expected), exchange_simulator=EXCHANGE).run(CALM, data=df)
    np.testing.assert_allclose(r.equity_curve, ref.equity_curve, rtol=1e-12)
    assert (r.events_df()["kind"] == "model_failure").sum() == 2


def test_all_models_failing_fails_the_strategy_once():
    df = rm.bars(rm.calm_path(600, seed=6))
    r = ScenarioExecutor(_System([_Blows(0), _Garbage()]), exchange_simulator=EXCHANGE, batch_size=64).run(
        CALM, data=df
    )
    assert r.success and r.failed_models == 2
    assert len(r.failed_strategies) == 1 and "all 2 models failed" in r.failed_strategies[0][1]
    assert r.total_trades == 0


def test_batch_methods_and_publish_batch():
    class HalfGuard:
        def check_risk(self, signal, context):  # not used: the batch method is
            raise AssertionError("per-call method called although check_batch exists")

        def check_batch(self, decisions, context):
            return decisions * 0.5

    class TableBus:
        def __init__(self):
            self.tables = []

        def publish(self, event):
            raise AssertionError("publish called although publish_batch exists")

        def publish_batch(self, events):
            self.tables.append(events)

    n = 2000
    df = rm.bars(rm.calm_path(n, seed=7))
    targets = np.where((np.arange(n) // 100) % 2 == 0, 1.0, 0.0)
    bus = TableBus()
    r = ScenarioExecutor(
        _Targets(targets), risk_guard=HalfGuard(), exchange_simulator=EXCHANGE, event_bus=bus, batch_size=512
    ).run(CALM, data=df)
    ref = ScenarioExecutor(_Targets(targets * 0.5), exchange_simulator=EXCHANGE, batch_size=512).run(CALM, data=df)
    assert r.success and r.component_failures == []
    np.testing.assert_array_equal(r.equity_curve, ref.equity_curve)
    assert len(bus.tables) == 4  # one per batch
    got = pl.concat(bus.tables)
    assert got["kind"].to_list() == r.events_df()["kind"].to_list()


class _Targets:
    def __init__(self, t):
        self.t = t

    def on_batch(self, bars, ctx):
        return self.t[bars.start : bars.stop]


def test_native_stack_with_a_python_strategy_equals_native_strategy():
    n = 3000
    df = rm.bars(rm.crash_path(n, at=1500, drop=0.3, seed=9, vol=0.006)[0])
    targets = _random_targets(n, 1, 9)[:, 0]
    filled = targets[np.maximum.accumulate(np.where(np.isnan(targets), 0, np.arange(n)))]  # forward fill
    stack = sl.risk.default_stack()
    native = ScenarioExecutor(TargetSignals(targets), exchange_simulator=EXCHANGE, **stack).run(CALM, data=df)
    for batch in (1, 256):
        py = ScenarioExecutor(_Targets(filled), exchange_simulator=EXCHANGE, batch_size=batch, **stack).run(
            CALM, data=df
        )
        np.testing.assert_array_equal(py.equity_curve, native.equity_curve)
        assert py.emergency_stops == native.emergency_stops
        assert py.policy_transitions == native.policy_transitions
    assert native.emergency_stops >= 1


def test_native_strategy_with_python_components_replays_its_decisions():
    n = 800
    df = rm.bars(rm.crash_path(n, at=400, drop=0.3, seed=10)[0])
    strat = sl.strategies.SmaCross(12, 48, weight=1.0)
    gov = SafetyGovernor(max_drawdown_pct=10.0)
    native = ScenarioExecutor(strat, safety_governor=gov, exchange_simulator=EXCHANGE).run(CALM, data=df)
    with_py = ScenarioExecutor(strat, safety_governor=gov, risk_guard=_AllowAll(), exchange_simulator=EXCHANGE).run(
        CALM, data=df
    )
    np.testing.assert_array_equal(with_py.equity_curve, native.equity_curve)
    assert with_py.emergency_stop_log == native.emergency_stop_log


class _AllowAll:
    def check_risk(self, signal, context):
        return True, ""
