"""Block bootstrap throughput through the Python API (pytest-benchmark).

Run: ``pytest benches/python/test_bench_bootstrap.py --benchmark-enable``. Source: the bundled May
2021 window (BTC, ETH, SOL; 744 real hours). Each benchmark reports output bars (paths x symbols x
bars) per second in ``extra_info``; the reference in the same run is a vectorised numpy i.i.d.
bootstrap of closes only (one random index and a cumulative product per bar).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import stresslab as sl

N_PATHS, N_BARS = 64, 8760
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
BARS = N_PATHS * len(SYMBOLS) * N_BARS


@pytest.fixture(scope="module")
def real() -> pl.DataFrame:
    return sl.ScenarioLoader(validate=False).load_bundled(SYMBOLS, event="may_2021")


def numpy_iid_closes(real: pl.DataFrame, seed: int) -> np.ndarray:
    close = np.stack([real.filter(pl.col("symbol") == s)["close"].to_numpy() for s in SYMBOLS])
    ratio = close[:, 1:] / close[:, :-1]
    idx = np.random.default_rng(seed).integers(0, ratio.shape[1], (N_PATHS, N_BARS))
    return close[None, :, :1] * np.cumprod(ratio[:, idx].transpose(1, 0, 2), axis=2)


def _run(benchmark, fn):
    benchmark.pedantic(fn, rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info["bars_per_second"] = BARS / benchmark.stats.stats.median


def test_reference_numpy_iid_closes(benchmark, real):
    _run(benchmark, lambda: numpy_iid_closes(real, 1))


@pytest.mark.parametrize("as_arrays", [True, False], ids=["arrays", "dataframe"])
def test_block_bootstrap(benchmark, real, as_arrays):
    _run(
        benchmark,
        lambda: sl.block_bootstrap(real, n_paths=N_PATHS, n_bars=N_BARS, block_length=24, as_arrays=as_arrays),
    )
