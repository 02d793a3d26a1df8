"""Metrics throughput through the Python API (pytest-benchmark).

Run: ``pytest benches/python/test_bench_metrics.py --benchmark-enable``. Each benchmark reports
bars per second in ``extra_info``. Next to ``compute_metrics`` (every metric, incl. historical
VaR/ES, validation and the result dict) the same run measures a vectorised numpy reference that
computes only max drawdown and Sharpe, on one short path (per-call overhead) and one long one.
"""

from __future__ import annotations

import numpy as np
import pytest
import stresslab as sl

E0 = 100_000.0


def equity_path(n_bars: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, 0.8 / np.sqrt(8760), n_bars)
    returns[rng.random(n_bars) < 0.5] = 0.0  # out of the market half the time
    return E0 * np.cumprod(1.0 + returns)


def numpy_mdd_sharpe(equity: np.ndarray) -> tuple[float, float]:
    prev = np.concatenate([[E0], equity[:-1]])
    r = equity / prev - 1.0
    peak = np.maximum.accumulate(np.concatenate([[E0], equity]))[1:]
    return float((1.0 - equity / peak).max()), float(r.mean() / r.std(ddof=1) * np.sqrt(8760))


def _run(benchmark, fn, n_bars: int) -> None:
    benchmark.pedantic(fn, rounds=20, iterations=1, warmup_rounds=2)
    benchmark.extra_info["bars_per_second"] = n_bars / benchmark.stats.stats.median


@pytest.mark.parametrize("n_bars", [8760, 1_000_000])
def test_reference_numpy_mdd_sharpe(benchmark, n_bars: int) -> None:
    eq = equity_path(n_bars)
    _run(benchmark, lambda: numpy_mdd_sharpe(eq), n_bars)


@pytest.mark.parametrize("n_bars", [8760, 1_000_000])
def test_compute_metrics(benchmark, n_bars: int) -> None:
    eq = equity_path(n_bars)
    exposure = np.where(np.diff(np.concatenate([[E0], eq])) != 0.0, eq, 0.0)
    turnover = np.zeros(n_bars)
    pnls = np.random.default_rng(1).normal(10.0, 100.0, 200)
    _run(
        benchmark,
        lambda: sl.compute_metrics(eq, pnls, initial_equity=E0, exposure=exposure, turnover=turnover),
        n_bars,
    )
