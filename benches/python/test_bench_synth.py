"""Generation throughput through the Python API (pytest-benchmark).

Run: ``pytest benches/python/test_bench_synth.py --benchmark-enable``. Each benchmark reports
bars per second in ``extra_info``; the numpy GBM reference (the same closed-form loop the Rust
reference runs: one normal and one exp per bar, vectorised) is measured in the same run.
"""

from __future__ import annotations

import numpy as np
import pytest
import stresslab as sl

N_PATHS, N_BARS = 64, 8760
BARS = N_PATHS * N_BARS


def numpy_gbm_closes(n_paths: int, n_bars: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vs = 0.8 * np.sqrt(1 / 8760)
    z = rng.standard_normal((n_paths, n_bars))
    return 30_000.0 * np.exp(np.cumsum(-0.5 * vs * vs + vs * z, axis=1))


def _run(benchmark, fn):
    benchmark.pedantic(fn, rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info["bars_per_second"] = BARS / benchmark.stats.stats.median


def test_reference_numpy_gbm(benchmark):
    _run(benchmark, lambda: numpy_gbm_closes(N_PATHS, N_BARS, 1))


@pytest.mark.parametrize("model", ["gbm", "realistic"])
def test_synthetic_arrays(benchmark, model):
    _run(benchmark, lambda: sl.synthetic_arrays(["BTCUSDT"], n_bars=N_BARS, n_paths=N_PATHS, model=model))


def test_synthetic_market_dataframe(benchmark):
    _run(benchmark, lambda: sl.synthetic_market(["BTCUSDT"], n_bars=N_BARS, n_paths=N_PATHS))
