"""W1 and Python-strategy throughput through the Python API (pytest-benchmark).

Run: ``pytest benches/python/test_bench_engine.py --benchmark-enable``. Bars per second are in
``extra_info``. References measured in the same run: a vectorised numpy implementation of W1
(the peers' fastest Python approach) and, when installed, nothing else is required.
"""

from __future__ import annotations

import numpy as np
import pytest
import stresslab as sl
from stresslab.strategies import SmaCross

N_PATHS, N_BARS = 16, 8760
FEE, SLIP = 0.001, 0.0005


def _closes():
    rng = np.random.default_rng(7)
    vs = 0.8 * np.sqrt(1 / 8760)
    return 30_000.0 * np.exp(np.cumsum(-0.5 * vs * vs + vs * rng.standard_normal((N_PATHS, N_BARS)), axis=1))


CLOSES = _closes()


def w1_numpy(close: np.ndarray) -> np.ndarray:
    """Vectorised W1 over all paths (total return per path)."""
    n_paths, n = close.shape
    open_ = np.concatenate([np.full((n_paths, 1), 30_000.0), close[:, :-1]], axis=1)
    c = np.concatenate([np.zeros((n_paths, 1)), np.cumsum(close, axis=1)], axis=1)
    fast = np.full_like(close, np.nan)
    slow = np.full_like(close, np.nan)
    fast[:, 23:] = (c[:, 24:] - c[:, :-24]) / 24
    slow[:, 95:] = (c[:, 96:] - c[:, :-96]) / 96
    want = np.zeros_like(close, dtype=bool)
    want[:, 95:] = fast[:, 95:] > slow[:, 95:]
    pos = np.zeros_like(want)
    pos[:, 1:] = want[:, :-1]
    # per-bar growth factors: held -> close/close, entries/exits at the open with costs
    entry = pos & ~np.concatenate([np.zeros((n_paths, 1), bool), pos[:, :-1]], axis=1)
    exit_ = ~pos & np.concatenate([np.zeros((n_paths, 1), bool), pos[:, :-1]], axis=1)
    prev_close = np.concatenate([np.full((n_paths, 1), 30_000.0), close[:, :-1]], axis=1)
    g = np.ones_like(close)
    held = pos & ~entry
    g[held] = close[held] / prev_close[held]
    g[entry] = close[entry] / (open_[entry] * (1 + SLIP) * (1 + FEE))
    g[exit_] = open_[exit_] * (1 - SLIP) * (1 - FEE) / prev_close[exit_]
    return np.prod(g, axis=1) - 1


def _record(benchmark, bars):
    benchmark.extra_info["bars_per_second"] = bars / benchmark.stats.stats.median


def test_reference_numpy_w1(benchmark):
    benchmark.pedantic(w1_numpy, args=(CLOSES,), rounds=5, warmup_rounds=1)
    _record(benchmark, CLOSES.size)


@pytest.fixture(scope="module")
def markets():
    import polars as pl

    out = []
    for i in range(N_PATHS):
        close = CLOSES[i]
        open_ = np.concatenate([[30_000.0], close[:-1]])
        df = pl.DataFrame(
            {
                "timestamp": (np.arange(N_BARS, dtype=np.int64) * 3_600_000).astype("datetime64[ms]"),
                "symbol": ["BTCUSDT"] * N_BARS,
                "open": open_,
                "high": np.maximum(open_, close),
                "low": np.minimum(open_, close),
                "close": close,
                "volume": np.full(N_BARS, 1e9),
            }
        )
        out.append(sl.market_arrays(df))
    return out


def _native_cfg():
    return {
        "initial_capital": 100_000.0, "target": "weight", "rebalance": False, "rebalance_threshold": 0.0,
        "max_abs_target": 10.0, "keep_equity_curve": False, "keep_trades": False, "record_events": False,
        "periods_per_year": 8760.0, "seed": 1, "scenario": 0, "path": 0,
    }  # fmt: skip


def test_native_w1(benchmark, markets):
    ex = sl.ExchangeSimulator.frictionless(FEE, SLIP).to_config()
    spec = SmaCross(24, 96, weight=1.0).spec()

    def run():
        return [sl._core.run_native_strategy(m, spec, ex, _native_cfg()) for m in markets]

    outs = benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    ref = w1_numpy(CLOSES)
    got = np.array([o["metrics"]["total_return"] for o in outs])
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    _record(benchmark, CLOSES.size)


class _PrecomputedTargets:
    """A Python batch strategy whose per-call work is tiny: the cost measured is the batch call."""

    def __init__(self, targets: np.ndarray):
        self.targets = targets

    def on_batch(self, bars, context):
        return self.targets[bars.start : bars.stop]


@pytest.mark.parametrize("batch", [1, 64, 1024])
def test_python_batch_strategy(benchmark, markets, batch):
    n = 8760 if batch > 1 else 2000
    targets = (np.arange(n) // 50 % 2).astype(float)
    sl.Scenario("calm", "mixed_custom")
    ex = sl.ScenarioExecutor(
        _PrecomputedTargets(targets),
        exchange_simulator=sl.ExchangeSimulator.frictionless(FEE, SLIP),
        batch_size=batch,
        record_events=False,
        keep_equity_curve=False,
    )
    import polars as pl

    close = CLOSES[0][:n]
    open_ = np.concatenate([[30_000.0], close[:-1]])
    df = pl.DataFrame(
        {
            "timestamp": (np.arange(n, dtype=np.int64) * 3_600_000).astype("datetime64[ms]"),
            "symbol": ["BTCUSDT"] * n,
            "open": open_,
            "high": np.maximum(open_, close),
            "low": np.minimum(open_, close),
            "close": close,
            "volume": np.full(n, 1e9),
        }
    )
    m = sl.market_arrays(df)
    exch = sl.ExchangeSimulator.frictionless(FEE, SLIP)

    def run():
        return ex._run_python(ex.runtime_engine, dict(m), exch, {**_native_cfg(), "keep_trades": True})

    benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    _record(benchmark, n)
