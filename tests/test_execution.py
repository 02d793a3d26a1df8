"""Execution engine: accounting against independent references, the exchange model's response
to stress, failures and latency, strategy failures, bad input."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import stresslab as sl
import w1ref
from stresslab import ExchangeSimulator, Scenario, ScenarioExecutor
from stresslab.strategies import SmaCross, TargetSignals

CALM = Scenario("calm", "mixed_custom")


def _rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


@pytest.mark.parametrize("path", range(6))
def test_w1_matches_numpy_reference(path):
    close = w1ref.gbm_closes(6, 8760, seed=7)[path]
    ref = w1ref.w1_numpy(close)
    ex = ScenarioExecutor(
        SmaCross(24, 96, weight=1.0), exchange_simulator=ExchangeSimulator.frictionless(0.001, 0.0005)
    )
    r = ex.run(CALM, data=w1ref.bars_from_closes(close))
    assert r.success, r.notes
    assert r.total_trades == ref["n_trades"]
    assert _rel(r.total_return, ref["total_return"]) < 1e-9
    assert _rel(r.max_drawdown, ref["max_drawdown_pct"]) < 1e-9
    assert _rel(r.sharpe_ratio, ref["sharpe"]) < 1e-9
    assert _rel(r.winrate, ref["winrate_pct"]) < 1e-12
    np.testing.assert_allclose(r.equity_curve, ref["equity"], rtol=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_accounting_matches_reference_on_random_strategies(seed):
    rng = np.random.default_rng(seed)
    n, syms = 600, ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    df = sl.synthetic_market(syms, n_bars=n, seed=seed)
    m = sl.market_arrays(df)
    # random long/short weights that change now and then
    targets = np.zeros((n, 3))
    cur = np.zeros(3)
    for t in range(n):
        if rng.random() < 0.05:
            cur = rng.choice([-0.6, -0.3, 0.0, 0.3, 0.5], size=3)
        targets[t] = cur
    fee, slip = 0.0007, 0.0003
    ex = ScenarioExecutor(
        TargetSignals(targets), exchange_simulator=ExchangeSimulator.frictionless(fee, slip), initial_capital=50_000
    )
    r = ex.run(CALM, data=df)
    ref = w1ref.account_reference(m["open"].T, m["close"].T, targets, fee, slip, 50_000)
    np.testing.assert_allclose(r.equity_curve, ref["equity"], rtol=1e-9)
    assert _rel(r.fees_paid, ref["fees"]) < 1e-9
    assert _rel(r.counters["final_cash"], ref["cash"]) < 1e-9
    np.testing.assert_allclose(list(r.counters["final_positions"].values()), ref["positions"], rtol=1e-9, atol=1e-12)
    pnl = np.sort(r.trades_df()["pnl"].to_numpy())
    np.testing.assert_allclose(pnl, np.sort(ref["trades"]), rtol=1e-9, atol=1e-6)
    assert r.total_trades == len(ref["trades"])


def _bars(opens, closes, highs=None, lows=None, volume=1e6, spread=None):
    opens, closes = np.asarray(opens, float), np.asarray(closes, float)
    n = len(opens)
    d = {
        "timestamp": (np.arange(n, dtype=np.int64) * 3_600_000).astype("datetime64[ms]"),
        "symbol": ["BTCUSDT"] * n,
        "open": opens,
        "high": np.maximum(opens, closes) if highs is None else np.asarray(highs, float),
        "low": np.minimum(opens, closes) if lows is None else np.asarray(lows, float),
        "close": closes,
        "volume": np.broadcast_to(np.asarray(volume, float), n).copy(),
    }
    if spread is not None:
        d["spread"] = np.broadcast_to(np.asarray(spread, float), n).copy()
    return pl.DataFrame(d)


def test_single_round_trip_by_hand():
    # decide long at bar 0, exit at bar 2 -> fills at opens of bars 1 and 3
    df = _bars([100, 100, 110, 120, 120], [100, 110, 120, 120, 120])
    targets = [1.0, 1.0, 0.0, 0.0, 0.0]
    fee, slip = 0.001, 0.002
    r = ScenarioExecutor(
        TargetSignals(targets), exchange_simulator=ExchangeSimulator.frictionless(fee, slip), initial_capital=10_000
    ).run(CALM, data=df)
    buy = 100 * (1 + slip)
    qty = 10_000 / (buy * (1 + fee))
    sell = 120 * (1 - slip)
    cash = qty * sell * (1 - fee)
    assert r.total_trades == 1
    assert math.isclose(r.final_equity, cash, rel_tol=1e-12)
    assert math.isclose(r.trades_df()["pnl"][0], cash - 10_000, rel_tol=1e-9)
    assert math.isclose(r.fees_paid, qty * buy * fee + qty * sell * fee, rel_tol=1e-12)
    assert math.isclose(r.slippage_paid, qty * 100 * slip + qty * 120 * slip, rel_tol=1e-12)
    assert r.winrate == 100.0


def test_short_through_a_flash_crash_by_hand():
    prices = [100, 100, 100, 70, 65, 80, 80]
    df = _bars(prices[:-1] + [80], prices)
    df = _bars([100] + prices[:-1], prices)
    targets = [-1.0, -1.0, -1.0, -1.0, 0.0, 0.0, 0.0]  # short from bar 1's open, cover at bar 5's open
    r = ScenarioExecutor(
        TargetSignals(targets), exchange_simulator=ExchangeSimulator.frictionless(0.0, 0.0), initial_capital=1_000
    ).run(CALM, data=df)
    qty = 1_000 / 100  # short 10 units at 100
    assert math.isclose(r.final_equity, 1_000 + qty * (100 - 65), rel_tol=1e-12)
    assert r.equity_curve[3] == pytest.approx(1_000 + qty * 30)  # marked at the crash close
    assert r.trades_df()["side"][0] == "short"


def _one_buy_cost(impact_coef=0.7, **bar_kw):
    df = _bars([100.0] * 4, [100.0] * 4, highs=[101.0] * 4, lows=[99.0] * 4, **bar_kw)
    ex = ExchangeSimulator(
        failure_rate=0.0, base_latency_ms=0.0, latency_spike_prob=0.0, clamp_to_bar=False, impact_coef=impact_coef
    )
    r = ScenarioExecutor(TargetSignals([0.5, 0.5, 0.5, 0.5]), exchange_simulator=ex, initial_capital=100_000).run(
        CALM, data=df
    )
    fills = r.events_df().filter(pl.col("kind").is_in(["fill", "partial_fill"]))
    return (fills["price"][0] / 100.0 - 1.0), r


def test_same_order_costs_more_under_liquidity_drop_and_spread_explosion():
    calm, _ = _one_buy_cost(volume=1e5, spread=0.0002)
    thin, _ = _one_buy_cost(volume=1e3, spread=0.0002)
    wide, _ = _one_buy_cost(volume=1e5, spread=0.01)
    assert thin > calm and wide > calm
    # without impact (which depends on the order size) the difference is exactly the half spread
    calm0, _ = _one_buy_cost(impact_coef=0.0, volume=1e5, spread=0.0002)
    wide0, _ = _one_buy_cost(impact_coef=0.0, volume=1e5, spread=0.01)
    assert wide0 - calm0 == pytest.approx(0.5 * (0.01 - 0.0002), rel=1e-9)


def test_partial_fills_respect_participation_cap():
    n = 50
    rng = np.random.default_rng(3)
    vol = rng.uniform(1, 20, n)
    df = _bars([100.0] * n, [100.0] * n, volume=vol)
    ex = ExchangeSimulator(participation_rate=0.1, failure_rate=0.0, base_latency_ms=0.0, latency_spike_prob=0.0)
    r = ScenarioExecutor(TargetSignals([1.0] * n), exchange_simulator=ex, initial_capital=1e6).run(CALM, data=df)
    fills = r.events_df().filter(pl.col("kind").is_in(["fill", "partial_fill"]))
    assert fills.height > 10 and (fills["kind"] == "partial_fill").sum() > 5
    for bar, qty in zip(fills["bar"], fills["qty"], strict=True):
        assert abs(qty) <= 0.1 * vol[bar] * (1 + 1e-12)


def test_limit_fills_never_outside_the_bar_and_need_penetration():
    n = 400
    df = sl.synthetic_market(["BTCUSDT"], n_bars=n, seed=5)
    m = sl.market_arrays(df)
    ex = ExchangeSimulator(
        failure_rate=0.0, base_latency_ms=0.0, participation_rate=math.inf, limit_penetration_bps=5.0
    )
    eng = sl._core.PyEngine(m, ex.to_config(), _cfg())
    lows, highs = m["low"][0], m["high"][0]
    fills = []
    for t in range(n):
        eng.step_batch(t, np.full((1, 1), np.nan), allow_hold=True)
        if t + 1 < n:
            eng.submit_order(0, 0.01, "limit", float(m["close"][0, t] * 0.997))
            eng.submit_order(0, -0.01, "limit", float(m["close"][0, t] * 1.003))
    out = eng.finish()
    ev = out["events"]
    for bar, kind, price, reason, qty in zip(ev["bar"], ev["kind"], ev["price"], ev["reason"], ev["qty"], strict=True):
        if kind == "fill":
            fills.append(bar)
            assert lows[bar] <= price <= highs[bar]
            if reason == "maker":  # filled at the limit: the bar traded through it by 5 bps
                assert (lows[bar] < price * (1 - 5e-4)) if qty > 0 else (highs[bar] > price * (1 + 5e-4))
    assert len(fills) > 20


def _cfg(**kw):
    base = {
        "initial_capital": 1e6,
        "target": "weight",
        "rebalance": False,
        "rebalance_threshold": 0.0,
        "max_abs_target": 10.0,
        "keep_equity_curve": True,
        "keep_trades": True,
        "record_events": True,
        "periods_per_year": None,
        "seed": 1,
        "scenario": 0,
        "path": 0,
    }
    base.update(kw)
    return base


def test_failure_frequency_matches_failure_rate():
    n = 4000
    df = _bars([100.0] * n, [100.0] * n)
    # alternate long/flat every bar -> one order per bar
    targets = np.tile([0.5, 0.0], n // 2)
    p = 0.05
    ex = ExchangeSimulator(
        failure_rate=p,
        failure_vol_sensitivity=0,
        failure_liquidity_sensitivity=0,
        base_latency_ms=0.0,
        latency_spike_prob=0.0,
    )
    r = ScenarioExecutor(TargetSignals(targets), exchange_simulator=ex).run(CALM, data=df)
    ev = r.events_df()
    attempts = ev.filter(pl.col("kind").is_in(["fill", "partial_fill", "rejected"])).height
    failures = r.counters["rejections"]["exchange_failure"]
    assert failures == r.execution_failures
    # 4-sigma binomial bound
    assert abs(failures - p * attempts) < 4 * math.sqrt(attempts * p * (1 - p))


def test_failures_rise_with_stress():
    n = 3000
    vol = np.where(np.arange(n) % 2 == 0, 1e6, 1e4)  # every other bar 100x thinner
    df = _bars([100.0] * n, [100.0] * n, volume=vol)
    targets = np.tile([0.5, 0.5, 0.0, 0.0], n // 4)
    ex = ExchangeSimulator(failure_rate=0.01, base_latency_ms=0.0, latency_spike_prob=0.0, participation_rate=math.inf)
    r = ScenarioExecutor(TargetSignals(targets), exchange_simulator=ex).run(CALM, data=df)
    rej = r.events_df().filter(pl.col("reason") == "exchange_failure")["bar"].to_numpy()
    thin = (rej % 2 == 1).sum()
    assert thin > 3 * max(1, len(rej) - thin)


def test_latency_spikes_counted_match_injected():
    n = 3000
    df = _bars([100.0] * n, [100.0] * n)
    targets = np.tile([0.5, 0.0], n // 2)
    ex = ExchangeSimulator(
        failure_rate=0.0,
        base_latency_ms=20.0,
        latency_sigma=0.1,
        latency_spike_prob=0.05,
        latency_spike_mult=500.0,
        latency_spike_threshold_ms=1000.0,
    )
    r = ScenarioExecutor(TargetSignals(targets), exchange_simulator=ex).run(CALM, data=df)
    ev = r.events_df()
    spikes = ev.filter(pl.col("kind") == "latency_spike")
    assert r.latency_spikes == spikes.height
    assert (spikes["value"] > 1000.0).all()
    fills = ev.filter(pl.col("kind") == "fill").height
    assert abs(spikes.height - 0.05 * fills) < 4 * math.sqrt(fills * 0.05 * 0.95)


def test_outage_window_blocks_fills():
    n = 100
    df = _bars([100.0] * n, [100.0] * n)
    targets = np.tile([0.5, 0.0], n // 2)
    ex = ExchangeSimulator(failure_rate=0.0, base_latency_ms=0.0, outages=[(40, 60)])
    r = ScenarioExecutor(TargetSignals(targets), exchange_simulator=ex).run(CALM, data=df)
    ev = r.events_df()
    fills = ev.filter(pl.col("kind") == "fill")["bar"].to_numpy()
    assert not ((fills >= 40) & (fills < 60)).any()
    assert r.counters["rejections"]["outage"] == 20


def test_nan_prices_are_rejected_and_counted_not_filled():
    close = np.full(20, 100.0)
    open_ = close.copy()
    open_[5] = np.nan
    df = _bars(open_, close, highs=np.where(np.isnan(open_), np.nan, 100.0), lows=np.full(20, 100.0))
    targets = np.zeros(20)
    targets[4:] = 0.5  # wants to buy at bar 5 (NaN) -> rejected, retried at bar 6
    ex = ExchangeSimulator.frictionless(0.0, 0.0)
    r = ScenarioExecutor(TargetSignals(targets), exchange_simulator=ex).run(CALM, data=df)
    ev = r.events_df()
    assert ev.filter(pl.col("reason") == "invalid_price")["bar"].to_list() == [5]
    assert ev.filter(pl.col("kind") == "fill")["bar"].to_list() == [6]
    assert r.data_quality_issues == 1


class _NumpySma:
    """The SMA cross in numpy through the batch interface (keeps its own history)."""

    def __init__(self):
        self.hist = np.empty(0)

    def on_batch(self, bars, ctx):
        self.hist = np.concatenate([self.hist, bars.close[:, 0]])
        c = np.cumsum(np.concatenate([[0.0], self.hist]))
        n = len(self.hist)
        out = np.zeros(len(bars))
        for i, t in enumerate(range(n - len(bars), n)):
            if t >= 95:
                out[i] = 1.0 if (c[t + 1] - c[t - 23]) / 24 > (c[t + 1] - c[t - 95]) / 96 else 0.0
        return out


@pytest.mark.parametrize("batch", [1, 64, 1024])
def test_python_batch_strategy_equals_native(batch):
    close = w1ref.gbm_closes(1, 3000, seed=11)[0]
    df = w1ref.bars_from_closes(close)
    ex = ExchangeSimulator.frictionless(0.001, 0.0005)
    native = ScenarioExecutor(SmaCross(24, 96, weight=1.0), exchange_simulator=ex).run(CALM, data=df)
    py = ScenarioExecutor(_NumpySma(), exchange_simulator=ex, batch_size=batch).run(CALM, data=df)
    np.testing.assert_array_equal(py.equity_curve, native.equity_curve)
    assert py.total_trades == native.total_trades


class _Broken:
    def __init__(self, mode):
        self.mode, self.calls = mode, 0

    def on_batch(self, bars, ctx):
        self.calls += 1
        n = len(bars)
        if self.calls == 2:
            if self.mode == "raise":
                raise RuntimeError("model exploded")
            if self.mode == "shape":
                return np.ones((n, 3))
            if self.mode == "nan":
                return np.full(n, np.nan)
            if self.mode == "limit":
                return np.full(n, 50.0)
        return np.ones(n)


@pytest.mark.parametrize(
    "mode, fragment", [("raise", "model exploded"), ("shape", "shape"), ("nan", "NaN"), ("limit", "beyond the limit")]
)
def test_strategy_failures_recorded_and_run_goes_on_flat(mode, fragment):
    df = sl.synthetic_market(["BTCUSDT"], n_bars=300, seed=2)
    r = ScenarioExecutor(_Broken(mode), batch_size=100).run(CALM, data=df)
    assert r.success
    assert len(r.failed_strategies) == 1
    bar, msg = r.failed_strategies[0]
    assert bar == 100 and fragment in msg
    # after the failure at bar 100 the position is closed at bar 100's open, re-entered after 200
    pos = r.events_df().filter(pl.col("kind") == "fill")["bar"].to_list()
    assert 100 in pos and any(b > 200 for b in pos)
    assert len(r.equity_curve) == 300


def test_seed_style_per_bar_strategy():
    class Trend:
        def generate_signals(self, bar, context):
            return [{"symbol": bar["symbol"], "action": "buy" if bar["close"] > bar["open"] else "close"}]

    df = sl.synthetic_market(["BTCUSDT"], n_bars=200, seed=4)
    r = ScenarioExecutor(Trend()).run(CALM, data=df)
    assert r.success and r.total_trades > 10


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"initial_capital": -5.0}, "initial_capital"),
        ({"batch_size": 0}, "batch_size"),
        ({"initial_capital": float("nan")}, "initial_capital"),
        ({"target": "shares"}, "target"),
    ],
)
def test_executor_bad_input(kwargs, field):
    with pytest.raises(sl.InvalidParameterError) as e:
        ScenarioExecutor(**kwargs)
    assert field in str(e.value)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"failure_rate": 1.5}, "failure_rate"),
        ({"base_slippage_pct": 10}, "base_slippage_pct"),
        ({"participation_rate": 0.0}, "participation_rate"),
        ({"partial_fill_policy": "keep"}, "partial_fill_policy"),
        ({"base_latency_ms": -1.0}, "base_latency_ms"),
        ({"outages": [(5, 5)]}, "outages"),
    ],
)
def test_exchange_bad_input(kwargs, field):
    with pytest.raises(ValueError) as e:
        ExchangeSimulator(**kwargs)
    assert field in str(e.value)


def test_unknown_order_type_and_not_a_strategy():
    m = sl.market_arrays(sl.synthetic_market(["BTCUSDT"], n_bars=5))
    eng = sl._core.PyEngine(m, ExchangeSimulator().to_config(), _cfg())
    with pytest.raises(sl.InvalidParameterError, match="order_type"):
        eng.submit_order(0, 1.0, "iceberg")
    with pytest.raises(sl.InvalidParameterError, match="runtime_engine"):
        ScenarioExecutor(object())


def test_failing_scenario_gives_result_not_exception():
    bad = pl.DataFrame({"timestamp": [1, 2], "symbol": ["X", "X"], "close": [1.0, 2.0]})
    r = ScenarioExecutor().run(CALM, data=bad)
    assert not r.success and "missing columns" in r.notes[0]
