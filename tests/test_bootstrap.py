"""Stationary block bootstrap of real bars (stresslab.bootstrap).

Properties checked on the bundled real crash windows: OHLC invariants; every resampled bar is a
real bar (returns, intrabar ratios and volume) re-based on the path's previous close; the runs
of consecutive source bars are geometric with mean L; return moments and cross-asset correlation
match the source within sampling error; determinism over thread counts and path regeneration;
the automatic block length equals an independent numpy implementation of Politis-White (2004)
with the Patton-Politis-White (2009) correction; bad input raises errors naming the field.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest
import stresslab as sl
from stresslab.errors import DataError, InvalidParameterError

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


@pytest.fixture(scope="module")
def real() -> pl.DataFrame:
    return sl.ScenarioLoader(validate=False).load_bundled(SYMBOLS, event="may_2021")


def source_arrays(df: pl.DataFrame, symbols: list[str]) -> dict[str, np.ndarray]:
    """(n_symbols, n_bars) arrays of the source, in the given symbol order."""
    out = {}
    for col in ("open", "high", "low", "close", "volume"):
        out[col] = np.stack([df.filter(pl.col("symbol") == s)[col].to_numpy() for s in symbols])
    return out


def log_returns(close: np.ndarray) -> np.ndarray:
    return np.log(close[..., 1:] / close[..., :-1])


def path_returns(arrays: dict, first_close: np.ndarray) -> np.ndarray:
    """Per-bar log returns of bootstrapped paths (n_paths, n_symbols, n_bars), the first bar
    relative to the source's first close (where every path starts)."""
    close = arrays["close"]
    prev = np.concatenate([np.broadcast_to(first_close[None, :, None], close[:, :, :1].shape), close[:, :, :-1]], 2)
    return np.log(close / prev)


# ------------------------------------------------------------------------------------------------
# shape and invariants


def test_ohlc_invariants_and_positive_prices(real):
    df = sl.block_bootstrap(real, n_paths=20, block_length=6, seed=3)
    assert df["path"].n_unique() == 20
    assert df.height == 20 * 3 * (real.height // 3 - 1)
    bad = df.filter(
        (pl.col("low") > pl.min_horizontal("open", "close"))
        | (pl.col("high") < pl.max_horizontal("open", "close"))
        | (pl.col("low") <= 0)
    )
    assert bad.is_empty()
    assert df["spread"].null_count() == df.height  # the bundled source has no spread: stays unknown


def test_table_and_arrays_agree_and_clock_continues_the_source(real):
    df = sl.block_bootstrap(real, n_paths=2, n_bars=300, block_length=4, seed=9)
    arr = sl.block_bootstrap(real, n_paths=2, n_bars=300, block_length=4, seed=9, as_arrays=True)
    assert arr["symbols"] == SYMBOLS and arr["block_length"] == 4.0
    for col in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(df[col].to_numpy(), arr[col].reshape(-1))
    src_ts = real.filter(pl.col("symbol") == "BTCUSDT")["timestamp"].dt.epoch("ms").to_numpy()
    expect = src_ts[1] + 3_600_000 * np.arange(300)
    np.testing.assert_array_equal(arr["timestamp_ms"], expect)
    got = df.filter((pl.col("path") == 1) & (pl.col("symbol") == "SOLUSDT"))["timestamp"].dt.epoch("ms")
    np.testing.assert_array_equal(got.to_numpy(), expect)


# ------------------------------------------------------------------------------------------------
# resampling structure


def test_every_bar_is_a_real_bar_rebased_on_the_previous_close(real):
    arr = sl.block_bootstrap(real, n_paths=8, n_bars=2000, block_length=5, seed=11, as_arrays=True)
    src = source_arrays(real, SYMBOLS)
    r_src = log_returns(src["close"])
    r_out = path_returns(arr, src["close"][:, 0])
    idx = arr["source_index"]  # (paths, bars): source bar each output bar copies
    assert idx.min() >= 1 and idx.max() <= src["close"].shape[1] - 1
    for s in range(3):
        # multiset property without the indices: each return is one of the source's returns
        pool = np.sort(r_src[s])
        pos = np.clip(np.searchsorted(pool, r_out[:, s].ravel()), 1, pool.size - 1)
        nearest = np.minimum(np.abs(pool[pos] - r_out[:, s].ravel()), np.abs(pool[pos - 1] - r_out[:, s].ravel()))
        assert nearest.max() < 1e-12
        # and with them: the very bar, its open/high/low ratios to the previous close, its volume
        np.testing.assert_allclose(r_out[:, s], r_src[s][idx - 1], rtol=0, atol=1e-12)
        prev_src = src["close"][s][idx - 1]
        prev_out = np.exp(np.log(arr["close"][:, s]) - r_out[:, s])
        for col in ("open", "high", "low"):
            np.testing.assert_allclose(arr[col][:, s] / prev_out, src[col][s][idx] / prev_src, rtol=1e-12)
        np.testing.assert_array_equal(arr["volume"][:, s], src["volume"][s][idx])


@pytest.mark.parametrize("mean_block", [1.0, 4.0, 20.0])
def test_runs_of_consecutive_bars_are_geometric_with_mean_l(real, mean_block):
    arr = sl.block_bootstrap(real, n_paths=20, n_bars=20_000, block_length=mean_block, seed=5, as_arrays=True)
    n_units = real.height // 3 - 1
    lengths = []
    for path in arr["source_index"] - 1:
        cont = path[1:] == (path[:-1] + 1) % n_units  # the next bar continues the block (circularly)
        cuts = np.flatnonzero(~cont) + 1
        runs = np.diff(np.concatenate([[0], cuts]))  # completed runs; the last (truncated) one is left out
        lengths.append(runs)
    runs = np.concatenate(lengths)
    p = 1 / mean_block
    # a new block starts right after the previous one by chance with probability 1 / n_units
    expect = 1 / (p * (1 - 1 / n_units))
    se = math.sqrt(1 - p * (1 - 1 / n_units)) * expect / math.sqrt(runs.size)
    assert abs(runs.mean() - expect) < 5 * se + 1e-9, (runs.mean(), expect, se)
    # geometric shape: P(run == 1) = p (up to the chance continuation)
    q = p * (1 - 1 / n_units)
    assert abs(np.mean(runs == 1) - q) < 5 * math.sqrt(q * (1 - q) / runs.size)


def test_return_moments_and_cross_asset_correlation_match_the_source(real):
    arr = sl.block_bootstrap(real, n_paths=200, block_length=8, seed=21, as_arrays=True)
    src = source_arrays(real, SYMBOLS)
    r_src = log_returns(src["close"])
    r = path_returns(arr, src["close"][:, 0])  # (200, 3, 743)
    for s in range(3):
        # E*[mean of a path] = source mean exactly for the circular stationary bootstrap
        path_means = r[:, s].mean(axis=1)
        se = path_means.std(ddof=1) / math.sqrt(path_means.size)
        assert abs(path_means.mean() - r_src[s].mean()) < 5 * se
        path_sq = (r[:, s] ** 2).mean(axis=1)
        se2 = path_sq.std(ddof=1) / math.sqrt(path_sq.size)
        assert abs(path_sq.mean() - (r_src[s] ** 2).mean()) < 5 * se2
    src_corr = np.corrcoef(r_src)
    boot_corr = np.corrcoef(r.transpose(1, 0, 2).reshape(3, -1))
    np.testing.assert_allclose(boot_corr, src_corr, atol=0.02)
    assert src_corr[0, 1] > 0.8  # a strongly correlated source, so keeping it is a real check


# ------------------------------------------------------------------------------------------------
# determinism

_HASH_SCRIPT = """
import hashlib, stresslab as sl
real = sl.ScenarioLoader(validate=False).load_bundled(["BTCUSDT", "ETHUSDT", "SOLUSDT"], event="may_2021")
a = sl.block_bootstrap(real, n_paths=24, n_bars=1500, seed=77, as_arrays=True)
h = hashlib.sha256()
for k in ("open", "high", "low", "close", "volume", "source_index"):
    h.update(a[k].tobytes())
print(sl._core.num_threads(), h.hexdigest())
"""


def test_bit_identical_on_one_and_two_threads():
    digests = {}
    for threads in ("1", "2"):
        env = {**os.environ, "RAYON_NUM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", _HASH_SCRIPT], env=env, capture_output=True, text=True, check=True)
        n, digest = out.stdout.split()
        assert n == threads
        digests[threads] = digest
    assert digests["1"] == digests["2"]


def test_path_regenerated_alone_equals_the_batch_and_seeds_differ(real):
    batch = sl.block_bootstrap(real, n_paths=6, n_bars=400, seed=13)
    alone = sl.block_bootstrap(real, n_paths=1, n_bars=400, seed=13, first_path=4)
    assert "path" not in alone.columns
    assert batch.filter(pl.col("path") == 4).drop("path").equals(alone)
    again = sl.block_bootstrap(real, n_paths=6, n_bars=400, seed=13)
    assert batch.equals(again)
    other_seed = sl.block_bootstrap(real, n_paths=6, n_bars=400, seed=14)
    other_name = sl.block_bootstrap(real, n_paths=6, n_bars=400, seed=13, scenario="other")
    assert not np.array_equal(batch["close"].to_numpy(), other_seed["close"].to_numpy())
    assert not np.array_equal(batch["close"].to_numpy(), other_name["close"].to_numpy())


def test_different_seeds_give_disjoint_path_sets(real):
    seen: dict[bytes, tuple[int, int]] = {}
    shared = []
    for seed in range(6):
        idx = sl.block_bootstrap(real, n_paths=8, n_bars=200, seed=seed, block_length=5, as_arrays=True)
        for path, row in enumerate(idx["source_index"]):
            key = row.tobytes()
            if key in seen:
                shared.append((seen[key], (seed, path)))
            seen[key] = (seed, path)
    assert shared == []


# ------------------------------------------------------------------------------------------------
# automatic block length: an independent numpy implementation of Politis & White (2004) with the
# Patton, Politis & White (2009) correction (D_SB = 2 g(0)^2), following np::b.star / Patton's
# opt_block_length_REV_dec07.m: vectorised, symmetric sums over k = -M..M.


def politis_white_sb(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    n = x.size
    d = x - x.mean()
    kn = max(5, math.ceil(math.log10(n)))
    m_max = min(math.ceil(math.sqrt(n)) + kn, n - 1)
    b_max = max(math.ceil(min(3 * math.sqrt(n), n / 3)), 1)
    acov = np.array([d[k:] @ d[: n - k] for k in range(m_max + 1)]) / n
    rho = acov[1:] / acov[0]
    small = np.abs(rho) < 2 * math.sqrt(math.log10(n) / n)
    windows = np.convolve(small.astype(int), np.ones(kn, dtype=int), mode="valid")  # lags j..j+kn-1
    quiet = np.flatnonzero(windows == kn)
    if quiet.size:
        m_hat = int(quiet[0]) + 1
    else:
        significant = np.flatnonzero(~small)
        m_hat = int(significant[-1]) + 1 if significant.size else 1
    big_m = min(2 * m_hat, m_max)
    k = np.arange(-big_m, big_m + 1)
    s = np.abs(k / big_m)
    lam = np.where(s < 0.5, 1.0, 2 * (1 - s))
    r_k = acov[np.abs(k)]
    g = np.sum(lam * np.abs(k) * r_k)
    g0 = np.sum(lam * r_k)
    b = (2 * g**2 / (2 * g0**2)) ** (1 / 3) * n ** (1 / 3)
    return float(min(max(b, 1.0), b_max))


def frame_from_returns(returns: dict[str, np.ndarray]) -> pl.DataFrame:
    """A valid long frame whose close-to-close log returns are exactly `returns` (per symbol)."""
    start = datetime(2022, 1, 1, tzinfo=timezone.utc)
    frames = []
    for sym, r in returns.items():
        close = 100 * np.exp(np.concatenate([[0.0], np.cumsum(r)]))
        open_ = np.concatenate([[100.0], close[:-1]])
        n = close.size
        frames.append(
            pl.DataFrame(
                {
                    "timestamp": [start + timedelta(hours=i) for i in range(n)],
                    "symbol": [sym] * n,
                    "open": open_,
                    "high": np.maximum(open_, close) * 1.002,
                    "low": np.minimum(open_, close) * 0.998,
                    "close": close,
                    "volume": np.full(n, 10.0),
                }
            )
        )
    return pl.concat(frames)


def test_automatic_block_length_matches_numpy_politis_white(real):
    got = sl.optimal_block_length(real, per_symbol=True)
    src = source_arrays(real, SYMBOLS)
    r = log_returns(src["close"])
    for s, sym in enumerate(SYMBOLS):
        assert got[sym] == pytest.approx(politis_white_sb(r[s]), rel=1e-9)
    assert sl.optimal_block_length(real) == max(got.values())
    assert len({round(v, 6) for v in got.values()}) == 3  # distinct per symbol: a real comparison
    # the bootstrap's default is that maximum
    arr = sl.block_bootstrap(real, n_paths=1, n_bars=10, as_arrays=True)
    assert arr["block_length"] == max(got.values())


def test_block_length_rule_on_known_dependence():
    rng = np.random.default_rng(0)
    n = 6000
    ar = np.zeros(n)
    e = rng.normal(0, 0.01, n)
    for t in range(1, n):
        ar[t] = 0.8 * ar[t - 1] + e[t]
    df = frame_from_returns({"AR": ar, "WN": rng.normal(0, 0.01, n), "MA": e + 0.9 * np.roll(e, 1)})
    got = sl.optimal_block_length(df, per_symbol=True)
    for sym in ("AR", "WN", "MA"):
        r = log_returns(df.filter(pl.col("symbol") == sym)["close"].to_numpy())
        assert got[sym] == pytest.approx(politis_white_sb(r), rel=1e-9)
    # closed form for AR(1): b = (2 G^2 / D_SB)^(1/3) n^(1/3) with G/g0 = 2 phi / (1 - phi^2)
    phi = 0.8
    theory = (2 * phi / (1 - phi**2)) ** (2 / 3) * n ** (1 / 3)
    assert 0.6 * theory < got["AR"] < 1.4 * theory
    assert got["WN"] < 3 < got["MA"] < got["AR"]


# ------------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_paths": 0}, "n_paths"),
        ({"n_paths": 1.5}, "n_paths"),
        ({"n_bars": 0}, "n_bars"),
        ({"block_length": 0}, "block_length"),
        ({"block_length": -2.0}, "block_length"),
        ({"block_length": 0.5}, "block_length"),
        ({"block_length": float("nan")}, "block_length"),
        ({"block_length": "auto"}, "block_length"),
        ({"seed": -1}, "seed"),
        ({"first_path": -1}, "first_path"),
    ],
)
def test_bad_parameters_name_the_field(real, kwargs, field):
    with pytest.raises(InvalidParameterError) as exc:
        sl.block_bootstrap(real, **kwargs)
    assert exc.value.field == field
    assert field in str(exc.value)


def test_path_ids_must_fit_u32(real):
    with pytest.raises(InvalidParameterError, match="first_path") as exc:
        sl.block_bootstrap(real, n_paths=2, first_path=2**32 - 1, n_bars=5)
    assert exc.value.field == "first_path"


def test_bad_data_raises_data_error_naming_the_column(real):
    btc = real.filter(pl.col("symbol") == "BTCUSDT")
    with pytest.raises(DataError, match="bars"):
        sl.block_bootstrap(btc.head(0))
    with pytest.raises(DataError, match="bars"):
        sl.block_bootstrap(btc.head(1))
    with_nan = btc.with_columns(pl.when(pl.int_range(pl.len()) == 17).then(None).otherwise("close").alias("close"))
    with pytest.raises(DataError, match=r"close: .*BTCUSDT at bar 17 \(2021-05-01T17:00:00Z\)"):
        sl.block_bootstrap(with_nan)
    nan_high = btc.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(float("nan")).otherwise("high").alias("high"))
    with pytest.raises(DataError, match="high"):
        sl.optimal_block_length(nan_high)
    with pytest.raises(DataError, match="volume"):
        sl.block_bootstrap(btc.with_columns(pl.lit(-1.0).alias("volume")))
    broken = btc.with_columns((pl.col("low") * 0.5).alias("high"))
    with pytest.raises(DataError, match="high/low"):
        sl.block_bootstrap(broken)
    with pytest.raises(DataError, match="timestamp"):
        sl.block_bootstrap(pl.concat([btc.slice(5), btc.head(5)]))
    with pytest.raises(DataError, match="timestamp: the symbols are not on one clock"):
        sl.block_bootstrap(pl.concat([btc, real.filter(pl.col("symbol") == "ETHUSDT").slice(1)]))
    with pytest.raises(DataError, match="close"):
        sl.block_bootstrap(btc.drop("close"))
    with pytest.raises(DataError, match="path"):
        sl.block_bootstrap(sl.block_bootstrap(btc, n_paths=2, n_bars=5))
    with pytest.raises(InvalidParameterError) as exc:
        sl.block_bootstrap(btc.to_dict(as_series=False))  # type: ignore[arg-type]
    assert exc.value.field == "df"


def test_paths_leaving_the_float_range_are_an_error_not_garbage():
    # a source that loses 90% per bar: a long path underflows to 0, which must be reported
    r = np.full(50, math.log(0.1))
    with pytest.raises(DataError, match="n_bars"):
        sl.block_bootstrap(frame_from_returns({"X": r}), n_bars=2000, block_length=3)
