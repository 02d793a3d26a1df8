"""StressTestRunner and monte_carlo: parallel equals serial, summaries equal recomputation,
failures are kept, sweeps are deterministic, streaming and interruption keep finished rows."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import stresslab as sl
from stresslab import Scenario, ScenarioExecutor, StressTestRunner
from stresslab.strategies import BuyAndHold, SmaCross


def _suite():
    return [
        Scenario("calm", "mixed_custom", n_bars=1500, seed=1),
        Scenario("crash", "flash_crash", {"drop_pct": 0.35, "at": 700}, n_bars=1500, seed=1),
        Scenario("vol", "volatility_spike", {"multiplier": 4.0, "at": 300, "duration_bars": 400}, n_bars=1500, seed=2),
        Scenario("pair", "mixed_custom", symbols=["BTCUSDT", "ETHUSDT"], n_bars=1500, seed=3),
    ]


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k].equity_curve, b[k].equity_curve)
        assert a[k].total_trades == b[k].total_trades


def test_parallel_equals_serial_and_any_worker_count():
    ex = ScenarioExecutor(SmaCross(24, 96))
    serial = StressTestRunner(ex, max_workers=1).run_batch(_suite(), parallel=False)
    for workers in (1, 2, 3):
        _same(StressTestRunner(ex, max_workers=workers).run_batch(_suite(), parallel=True), serial)
    # and each equals a single executor run
    single = ex.run(_suite()[1])
    np.testing.assert_array_equal(single.equity_curve, serial["crash"].equity_curve)


class _PySma:
    def __init__(self):
        self.hist = np.empty(0)

    def on_batch(self, bars, ctx):
        self.hist = np.concatenate([self.hist, bars.close[:, 0]])
        n = len(self.hist)
        out = np.zeros(len(bars))
        for i, t in enumerate(range(n - len(bars), n)):
            if t >= 95:
                out[i] = float(self.hist[t - 23 : t + 1].mean() > self.hist[t - 95 : t + 1].mean())
        return out


def test_python_strategy_batches_parallel_equals_serial_and_fresh_state():
    scs = [s for s in _suite() if len(s.symbols) == 1]
    ex = ScenarioExecutor(_PySma(), batch_size=256)
    a = StressTestRunner(ex, max_workers=2).run_batch(scs)
    b = StressTestRunner(ex, max_workers=1).run_batch(scs, parallel=False)
    _same(a, b)
    # a stateful strategy starts fresh for every scenario
    alone = ex.run(scs[2])
    np.testing.assert_array_equal(alone.equity_curve, a[scs[2].name].equity_curve)


def test_summary_equals_recomputation_and_crash_is_worse_than_calm():
    runner = StressTestRunner(ScenarioExecutor(BuyAndHold()), max_workers=2)
    res = runner.run_batch(_suite())
    s = runner.generate_summary(res)
    ok = [r for r in res.values() if r.success]
    assert s["total_scenarios"] == 4 and s["successful_scenarios"] == 4 and s["failed_scenarios"] == 0
    assert s["avg_max_drawdown"] == pytest.approx(np.mean([r.max_drawdown for r in ok]))
    assert s["worst_max_drawdown"] == max(r.max_drawdown for r in ok)
    assert s["avg_sharpe"] == pytest.approx(np.mean([r.sharpe_ratio for r in ok]))
    assert s["total_trades"] == sum(r.total_trades for r in ok)
    assert s["total_execution_failures"] == sum(r.execution_failures for r in ok)
    for key in ("total_emergency_stops", "total_failed_models", "total_policy_transitions", "avg_winrate"):
        assert key in s
    # buy and hold through a 35% crash draws down more than through the calm market
    assert res["crash"].max_drawdown > res["calm"].max_drawdown
    weakest = runner.weakest_scenarios(res, 2)
    assert weakest[0][1] >= weakest[1][1]
    assert weakest[0][1] == runner.stress_score(res[weakest[0][0]])


def test_failing_scenario_kept_with_notes_rest_of_batch_runs():
    scs = _suite()[:2] + [Scenario("bad", "historic_replay", {"source": "/nonexistent/file.csv"})]
    res = StressTestRunner(ScenarioExecutor(SmaCross()), max_workers=2).run_batch(scs)
    assert not res["bad"].success and res["bad"].notes
    assert res["calm"].success and res["crash"].success
    assert StressTestRunner().weakest_scenarios(res, 1)[0][0] == "bad"


def test_print_summary_renders_a_table(capsys):
    runner = StressTestRunner(ScenarioExecutor(SmaCross()), max_workers=1)
    runner.print_summary(runner.run_batch(_suite()[:2]))
    out = capsys.readouterr().out
    assert "crash" in out and "max DD %" in out


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda r: r.run_batch([]), "empty"),
        (
            lambda r: r.run_batch([Scenario("a", "mixed_custom"), Scenario("a", "flash_crash")]),
            "duplicate scenario name 'a'",
        ),
    ],
)
def test_runner_bad_input(call, fragment):
    with pytest.raises(ValueError) as e:
        call(StressTestRunner())
    assert "scenarios" in str(e.value) and fragment in str(e.value)


def test_max_workers_must_be_positive():
    with pytest.raises(sl.InvalidParameterError, match="max_workers"):
        StressTestRunner(max_workers=0)
    with pytest.raises(sl.InvalidParameterError, match="max_workers"):
        sl.monte_carlo(Scenario("x", "mixed_custom", n_bars=100), n_paths=2, max_workers=0)


# ----------------------------------------------------------------------------------------------
# Monte Carlo

CRASH = Scenario("mc crash", "flash_crash", {"drop_pct": 0.3}, n_bars=1000, seed=5)


def test_sweep_path_zero_is_the_executor_run():
    mc = sl.monte_carlo(CRASH, SmaCross(), n_paths=3, keep_worst=0)
    single = ScenarioExecutor(SmaCross()).run(CRASH)
    row = mc.table.filter(pl.col("path") == 0)
    assert row["max_drawdown"][0] == single.max_drawdown
    assert row["total_return"][0] == single.total_return
    assert row["total_trades"][0] == single.total_trades


def test_sweep_same_table_on_any_thread_count_and_chunking():
    a = sl.monte_carlo(CRASH, SmaCross(), n_paths=40, max_workers=1, chunk_size=40, keep_worst=0).table
    b = sl.monte_carlo(CRASH, SmaCross(), n_paths=40, max_workers=2, chunk_size=7, keep_worst=0).table
    assert a.equals(b)
    assert a["path"].to_list() == list(range(40))


def test_grid_and_quantile_summary_match_the_table():
    mc = sl.monte_carlo(CRASH, BuyAndHold(), n_paths=60, grid={"drop_pct": [0.1, 0.4]}, keep_worst=2)
    assert mc.table.height == 120
    s = mc.summary.sort("param_drop_pct")
    for row in s.iter_rows(named=True):
        t = mc.table.filter(pl.col("param_drop_pct") == row["param_drop_pct"])
        dd = t["max_drawdown"].to_numpy()
        ret = t["total_return"].to_numpy() * 100
        assert row["max_drawdown_p50"] == pytest.approx(np.quantile(dd, 0.5))
        assert row["max_drawdown_p95"] == pytest.approx(np.quantile(dd, 0.95))
        assert row["total_return_pct_p5"] == pytest.approx(np.quantile(ret, 0.05))
        assert row["prob_ruin"] == pytest.approx(np.mean(t["ruined"].to_numpy()))
        cut = np.quantile(ret, 0.05)
        assert row["expected_shortfall_pct_5"] == pytest.approx(ret[ret <= cut].mean())
    # a deeper crash hurts buy-and-hold more on the median path
    assert s["max_drawdown_p50"][1] > s["max_drawdown_p50"][0]
    # the kept curves are the worst paths, reproduced exactly
    assert len(mc.worst_paths) == 4
    (name, point, path), curve = next(iter(mc.worst_paths.items()))
    t = mc.table.filter((pl.col("param_drop_pct") == dict(point)["drop_pct"]) & (pl.col("path") == path))
    assert curve[-1] == pytest.approx(t["final_equity"][0], rel=1e-12)


def test_sweep_streams_to_parquet(tmp_path):
    out = tmp_path / "sweep.parquet"
    mc = sl.monte_carlo(CRASH, SmaCross(), n_paths=30, chunk_size=8, parquet_path=out, keep_worst=0)
    assert pl.read_parquet(out).equals(mc.table)


def test_interrupted_sweep_keeps_finished_chunks(monkeypatch):
    real = sl._core.run_sweep
    calls = {"n": 0}

    def flaky(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(sl._core, "run_sweep", flaky)
    mc = sl.monte_carlo(CRASH, SmaCross(), n_paths=50, chunk_size=10, keep_worst=0)
    assert mc.interrupted
    assert mc.table["path"].to_list() == list(range(20))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"scenarios": []}, "scenarios"),
        ({"grid": {"drop_pcct": [0.1]}}, "drop_pcct"),
        ({"grid": {"drop_pct": [1.5]}}, "drop_pct"),
        ({"n_paths": 0}, "n_paths"),
        ({"seed": -1}, "seed"),
    ],
)
def test_sweep_bad_input(kwargs, field):
    args = {"scenarios": CRASH, "strategy": SmaCross(), "n_paths": 2, **kwargs}
    with pytest.raises(ValueError) as e:
        sl.monte_carlo(**args)
    assert field in str(e.value)


def test_sweep_memory_is_rows_only():
    mc = sl.monte_carlo(CRASH, SmaCross(), n_paths=20, keep_worst=0)
    # one row per path, no bars kept
    assert mc.table.height == 20 and mc.worst_paths == {}
    assert math.isfinite(mc.bars_per_second)


def test_bootstrap_sweep_of_real_history():
    sc = sl.ScenarioLibrary.may_2021_crash()
    a = sl.monte_carlo(sc, BuyAndHold(), n_paths=30, source="bootstrap", keep_worst=1, max_workers=1)
    b = sl.monte_carlo(sc, BuyAndHold(), n_paths=30, source="bootstrap", keep_worst=1, max_workers=2, chunk_size=4)
    assert a.table.equals(b.table)
    # reshuffled history: paths differ from each other, and buy-and-hold draws down on most of them
    dd = a.table["max_drawdown"].to_numpy()
    assert len(np.unique(dd)) == 30 and np.median(dd) > 10
    with pytest.raises(sl.InvalidParameterError, match="source='bootstrap'"):
        sl.monte_carlo(sc, BuyAndHold(), n_paths=2)
    with pytest.raises(sl.InvalidParameterError, match="source"):
        sl.monte_carlo(CRASH, BuyAndHold(), n_paths=2, source="history")


def test_sweep_with_native_risk_stack_matches_executor_and_caps_drawdown():
    sc = Scenario("mc risk", "flash_crash", {"drop_pct": 0.4}, n_bars=1500, seed=3)
    stack = sl.risk.default_stack()
    mc = sl.monte_carlo(sc, BuyAndHold(), n_paths=40, risk=stack, keep_worst=0)
    bare = sl.monte_carlo(sc, BuyAndHold(), n_paths=40, keep_worst=0)
    single = ScenarioExecutor(BuyAndHold(), **stack).run(sc)
    row = mc.table.filter(pl.col("path") == 0)
    assert row["max_drawdown"][0] == single.max_drawdown
    assert row["emergency_stops"][0] == single.emergency_stops
    assert mc.summary["emergency_stop_frequency"][0] > 0.5
    assert mc.summary["max_drawdown_p50"][0] < bare.summary["max_drawdown_p50"][0]
    # the runner sends a fully native system to Rust in one batch: same numbers
    res = StressTestRunner(ScenarioExecutor(BuyAndHold(), **stack), max_workers=2).run_batch([sc])
    np.testing.assert_array_equal(res[sc.name].equity_curve, single.equity_curve)
    with pytest.raises(sl.InvalidParameterError, match="risk"):
        sl.monte_carlo(sc, BuyAndHold(), n_paths=2, risk={"risk_guard": object()})
