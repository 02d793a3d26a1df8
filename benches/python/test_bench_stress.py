"""Stress-transform throughput through the Python API (pytest-benchmark), next to a plain numpy
implementation of the same transforms and to generating the same market, all in the same run.

Run: ``pytest benches/python/test_bench_stress.py --benchmark-enable -s``. Two market shapes with
about the same number of rows: ``long`` (16 paths x 3 symbols x 8760 hourly bars) and ``mc``
(256 paths x 3 symbols x 720 bars, a Monte Carlo batch of months). Every case reports rows per
second (rows = paths x symbols x bars) in ``extra_info``; the last test prints the ratios
numpy / Rust per transform and for the MIXED_CUSTOM chain, and generation / stress.

Both sides take the same polars DataFrame and return one (the numpy side reads the columns into
numpy arrays, transforms them, and writes a frame back), so both pay the same boundary.

``copy_floor`` bounds any implementation that returns a new frame: every column read once and
written once (numpy copies of the numeric columns, and of a buffer the size of the symbol column's
16-byte string views, into arrays allocated once, so no page faults), with no transform at all.
numpy chain / copy floor is the largest numpy/Rust ratio a memory-bound single pass could show on
this machine (the output's new flags column and everything but the copy left out).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import stresslab as sl

SYMS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
SHAPES = {"long": (16, 8760), "mc": (256, 720)}
COLS = ["open", "high", "low", "close", "volume", "spread"]

PARAMS = {
    "flash_crash": {
        "drop_pct": 0.2,
        "duration_bars": 6,
        "recovery_bars": 24,
        "recovery_pct": 0.5,
        "volume_mult": 8.0,
        "spread_mult": 5.0,
    },
    "volatility_spike": {"multiplier": 3.0, "duration_bars": 48},
    "liquidity_drop": {"drop_pct": 0.7, "duration_bars": 24, "spread_elasticity": 0.5},
    "spread_explosion": {"spread_mult": 10.0, "duration_bars": 12},
    "data_corruption": {"corruption_pct": 0.01, "corruption_types": list(sl.CORRUPTION_TYPES)},
    "correlation_breakdown": {"mode": "decorrelate", "duration_bars": 72},
    "pump_and_dump": {"pump_pct": 0.5, "pump_bars": 12, "dump_pct": 0.6, "dump_bars": 6, "volume_mult": 10.0},
}
MIXED = {
    "correlation_mode": "decorrelate",
    "correlation_duration_bars": 72,
    "volatility_multiplier": 3.0,
    "volatility_duration_bars": 48,
    "flash_crash_drop_pct": 0.2,
    "flash_crash_duration_bars": 6,
    "flash_crash_recovery_bars": 24,
    "pump_pct": 0.5,
    "pump_bars": 12,
    "dump_pct": 0.6,
    "dump_bars": 6,
    "pump_volume_mult": 10.0,
    "liquidity_drop_pct": 0.7,
    "liquidity_duration_bars": 24,
    "spread_mult": 10.0,
    "spread_duration_bars": 12,
    "corruption_pct": 0.01,
}
TYPES = {
    "flash_crash": sl.ScenarioType.FLASH_CRASH,
    "volatility_spike": sl.ScenarioType.VOLATILITY_SPIKE,
    "liquidity_drop": sl.ScenarioType.LIQUIDITY_DROP,
    "spread_explosion": sl.ScenarioType.SPREAD_EXPLOSION,
    "data_corruption": sl.ScenarioType.DATA_CORRUPTION,
    "correlation_breakdown": sl.ScenarioType.CORRELATION_BREAKDOWN,
    "pump_and_dump": sl.ScenarioType.PUMP_AND_DUMP,
}
MEDIANS: dict[str, float] = {}


_MARKETS: dict[str, pl.DataFrame] = {}


def market(shape: str) -> pl.DataFrame:
    if shape not in _MARKETS:
        n_paths, n_bars = SHAPES[shape]
        _MARKETS[shape] = sl.synthetic_market(SYMS, n_bars=n_bars, n_paths=n_paths, seed=1)
    return _MARKETS[shape]


# ---------------------------------------------------------------------------------------------
# The numpy implementation: arrays shaped (paths, symbols, bars); windows start at one bar per
# path shared by the symbols, as in the Rust transforms.


def _starts(rng: np.random.Generator, a: dict[str, np.ndarray], span: int) -> np.ndarray:
    n_paths, _, n_bars = a["close"].shape
    return rng.integers(0, n_bars - span + 1, n_paths)


def _overlay(a: dict[str, np.ndarray], starts: np.ndarray, levels: np.ndarray) -> None:
    """Multiply prices by a level path per (path, symbol): levels (P, S, span); later bars x last."""
    span = levels.shape[2]
    f = np.ones_like(a["close"])
    for p, s in enumerate(starts):
        f[p, :, s : s + span] = levels[p]
        f[p, :, s + span :] = levels[p, :, -1:]
    f_open = np.concatenate([np.ones_like(f[:, :, :1]), f[:, :, :-1]], axis=2)
    o, h, lo, c = a["open"], a["high"], a["low"], a["close"]
    up, down = h / np.maximum(o, c), lo / np.minimum(o, c)
    o2, c2 = o * f_open, c * f
    a["open"], a["close"] = o2, c2
    a["high"] = np.maximum(o2, c2) * np.maximum(up, 1.0)
    a["low"] = np.minimum(o2, c2) * np.minimum(down, 1.0)


def _level_path(rng: np.random.Generator, a: dict[str, np.ndarray], start: float, end: float, n: int) -> np.ndarray:
    w = rng.exponential(size=(*a["close"].shape[:2], n))
    frac = np.cumsum(w, axis=2) / w.sum(axis=2, keepdims=True)
    return start * np.exp(np.log(end / start) * frac)


def np_flash_crash(a, rng, drop_pct, duration_bars, recovery_bars, recovery_pct, volume_mult, spread_mult):
    d, r = duration_bars, recovery_bars
    final = 1 - drop_pct * (1 - recovery_pct)
    levels = np.concatenate(
        [_level_path(rng, a, 1.0, 1 - drop_pct, d), _level_path(rng, a, 1 - drop_pct, final, r)], axis=2
    )
    starts = _starts(rng, a, d + r)
    _overlay(a, starts, levels)
    decay = 1 - np.arange(1, r + 1) / (r + 1)
    for p, s in enumerate(starts):
        a["volume"][p, :, s : s + d] *= volume_mult
        a["spread"][p, :, s : s + d] *= spread_mult
        a["volume"][p, :, s + d : s + d + r] *= volume_mult**decay
        a["spread"][p, :, s + d : s + d + r] *= spread_mult**decay
        a["stress_flags"][p, :, s : s + d + r] |= 1


def np_pump_and_dump(a, rng, pump_pct, pump_bars, dump_pct, dump_bars, volume_mult):
    top, final = 1 + pump_pct, (1 + pump_pct) * (1 - dump_pct)
    levels = np.concatenate(
        [_level_path(rng, a, 1.0, top, pump_bars), _level_path(rng, a, top, final, dump_bars)], axis=2
    )
    starts = _starts(rng, a, pump_bars + dump_bars)
    _overlay(a, starts, levels)
    for p, s in enumerate(starts):
        a["volume"][p, :, s : s + pump_bars + dump_bars] *= volume_mult
        a["stress_flags"][p, :, s : s + pump_bars + dump_bars] |= 64


def _rewrite(a, p, s, d, new_r, gap_power, wick_power, syms=slice(None)):
    """Replace the close-to-close log returns of bars s..s+d of path p (last close pinned)."""
    o, h, lo, c = (a[k][p, syms, s : s + d] for k in ("open", "high", "low", "close"))
    base = a["close"][p, syms, s - 1] if s > 0 else a["open"][p, syms, 0]
    prev_old = np.concatenate([base[:, None], c[:, :-1]], axis=1)
    gap = o / prev_old
    up, down = h / np.maximum(o, c), lo / np.minimum(o, c)
    c2 = base[:, None] * np.exp(np.cumsum(new_r, axis=1))
    c2[:, -1] = c[:, -1]
    prev_new = np.concatenate([base[:, None], c2[:, :-1]], axis=1)
    o2 = prev_new * gap**gap_power
    a["open"][p, syms, s : s + d], a["close"][p, syms, s : s + d] = o2, c2
    a["high"][p, syms, s : s + d] = np.maximum(o2, c2) * np.maximum(up**wick_power, 1.0)
    a["low"][p, syms, s : s + d] = np.minimum(o2, c2) * np.minimum(down**wick_power, 1.0)


def _window_returns(a, p, s, d):
    base = a["close"][p, :, s - 1] if s > 0 else a["open"][p, :, 0]
    c = np.concatenate([base[:, None], a["close"][p, :, s : s + d]], axis=1)
    return np.diff(np.log(c), axis=1)


def np_volatility_spike(a, rng, multiplier, duration_bars):
    for p, s in enumerate(_starts(rng, a, duration_bars)):
        r = _window_returns(a, p, s, duration_bars)
        mu = r.mean(axis=1, keepdims=True)
        _rewrite(a, p, s, duration_bars, mu + multiplier * (r - mu), multiplier, multiplier)
        a["stress_flags"][p, :, s : s + duration_bars] |= 2


def np_correlation_breakdown(a, rng, mode, duration_bars):
    k = a["close"].shape[1]
    target = np.linalg.cholesky(np.eye(k))  # decorrelate: target correlation 0
    for p, s in enumerate(_starts(rng, a, duration_bars)):
        r = _window_returns(a, p, s, duration_bars)
        mu = r.mean(axis=1, keepdims=True)
        x = r - mu
        chol = np.linalg.cholesky(x @ x.T)
        w = np.linalg.solve(chol, x)
        sigma = np.sqrt(np.diag(x @ x.T))[:, None]
        new_x = sigma * (target @ w)
        _rewrite(a, p, s, duration_bars, (mu + new_x)[1:], 1.0, 1.0, syms=slice(1, None))
        a["stress_flags"][p, :, s : s + duration_bars] |= 32


def np_liquidity_drop(a, rng, drop_pct, duration_bars, spread_elasticity):
    for p, s in enumerate(_starts(rng, a, duration_bars)):
        a["volume"][p, :, s : s + duration_bars] *= 1 - drop_pct
        a["spread"][p, :, s : s + duration_bars] *= (1 - drop_pct) ** -spread_elasticity
        a["stress_flags"][p, :, s : s + duration_bars] |= 4


def np_spread_explosion(a, rng, spread_mult, duration_bars):
    for p, s in enumerate(_starts(rng, a, duration_bars)):
        a["spread"][p, :, s : s + duration_bars] *= spread_mult
        a["stress_flags"][p, :, s : s + duration_bars] |= 8


def np_data_corruption(a, rng, corruption_pct, corruption_types):
    """Returns the row order (indices into the flattened arrays) after gaps, duplicates, swaps."""
    n_paths, n_syms, n = a["close"].shape
    k = int(np.floor(corruption_pct * n + 0.5))
    m = len(corruption_types)
    counts = [k // m + (i < k % m) for i in range(m)]
    kinds = np.repeat(np.array(corruption_types), counts)
    order = []
    for p in range(n_paths):
        for j in range(n_syms):
            row0 = (p * n_syms + j) * n
            rng.shuffle(kinds)
            n_ooo = int((kinds == "out_of_order").sum())
            pair = np.sort(rng.choice(n - n_ooo, n_ooo, replace=False)) + np.arange(n_ooo)
            free = np.ones(n, bool)
            free[pair] = free[pair + 1] = False
            others = np.sort(rng.choice(np.flatnonzero(free), k - n_ooo, replace=False))
            other_kinds = kinds[kinds != "out_of_order"]
            orig_close, orig_vol = a["close"][p, j].copy(), a["volume"][p, j].copy()
            for t, kind in zip(others, other_kinds, strict=True):
                if kind == "nan":
                    a[COLS[rng.integers(5)]][p, j, t] = np.nan
                elif kind == "spike":
                    size = np.exp(np.log(5) + rng.random() * np.log(4))
                    a["close"][p, j, t] *= size if rng.random() < 0.5 else 1 / size
                elif kind == "negative":
                    a["close"][p, j, t] = -orig_close[t]
                elif kind == "zero_volume":
                    a["volume"][p, j, t] = 0.0
                elif kind == "stale":
                    price = orig_close[t - 1] if t > 0 else a["open"][p, j, 0]
                    for c in ("open", "high", "low", "close"):
                        a[c][p, j, t] = price
                    a["volume"][p, j, t] = orig_vol[max(t - 1, 0)]
                if kind not in ("gap", "duplicate"):  # a duplicate flags its copy (below), a gap has no row
                    a["stress_flags"][p, j, t] |= 16
            a["stress_flags"][p, j, pair] |= 16
            rows = np.arange(n)
            keep = np.ones(n, bool)
            keep[others[other_kinds == "gap"]] = False
            rows[pair], rows[pair + 1] = pair + 1, pair
            dup = np.zeros(n, np.int64)
            dup[others[other_kinds == "duplicate"]] = 1
            seq = np.repeat(rows, 1 + dup[rows])[np.repeat(keep[rows], 1 + dup[rows])]
            order.append(row0 + seq)
    return np.concatenate(order)


NUMPY = {
    "flash_crash": np_flash_crash,
    "volatility_spike": np_volatility_spike,
    "liquidity_drop": np_liquidity_drop,
    "spread_explosion": np_spread_explosion,
    "data_corruption": np_data_corruption,
    "correlation_breakdown": np_correlation_breakdown,
    "pump_and_dump": np_pump_and_dump,
}


def numpy_stress(df: pl.DataFrame, names: list[str], seed: int = 7) -> pl.DataFrame:
    """The numpy implementation end to end: frame -> arrays -> transforms in MIXED_ORDER -> frame."""
    rng = np.random.default_rng(seed)
    shape = (df["path"].n_unique(), len(SYMS), df.height // df["path"].n_unique() // len(SYMS))
    a = {c: df[c].to_numpy().reshape(shape).copy() for c in COLS}
    a["stress_flags"] = np.zeros(shape, np.uint32)
    take = None
    for name in sl.MIXED_ORDER:
        if name in names:
            out = NUMPY[name](a, rng, **PARAMS[name])
            take = out if name == "data_corruption" else take
    flat = {c: v.reshape(-1) for c, v in a.items()}
    base = df.drop(COLS)
    if take is not None:
        base = base[take]
        flat = {c: v[take] for c, v in flat.items()}
        flat["stress_flags"][1:][take[1:] == take[:-1]] |= 16
    return base.with_columns(pl.Series(c, v) for c, v in flat.items())


def rust_stress(df: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    if len(names) == 1:
        sc = sl.Scenario("bench", TYPES[names[0]], PARAMS[names[0]], symbols=SYMS, seed=7)
    else:
        sc = sl.Scenario("bench", "MIXED_CUSTOM", MIXED, symbols=SYMS, seed=7)
    return sl.ScenarioTransformer().apply(df, sc)


# ---------------------------------------------------------------------------------------------


def _rows(shape: str) -> int:
    n_paths, n_bars = SHAPES[shape]
    return n_paths * len(SYMS) * n_bars


def _run(benchmark, key: tuple[str, str], fn) -> None:
    benchmark.pedantic(fn, rounds=7, iterations=1, warmup_rounds=2)
    median = benchmark.stats.stats.median
    MEDIANS[key] = median
    benchmark.extra_info["rows_per_second"] = _rows(key[0]) / median


def test_numpy_reference_is_the_same_transform():
    """The numpy side implements the same math: in its windows the realized volatility rises by
    exactly the multiplier and the symbols' returns are exactly decorrelated; it corrupts the same
    number of bars per series."""
    df = market("long")
    spiked = numpy_stress(df, ["volatility_spike"])
    broken = numpy_stress(df, ["correlation_breakdown"])

    def window_returns(frame: pl.DataFrame, flag: int, symbol: str) -> tuple[np.ndarray, np.ndarray]:
        f = frame.filter((pl.col("path") == 0) & (pl.col("symbol") == symbol))
        inside = np.flatnonzero((f["stress_flags"].to_numpy() & flag) > 0)
        lo = inside[0]
        close = f["close"].to_numpy()[lo - 1 : inside[-1] + 1] if lo > 0 else f["close"].to_numpy()[: inside[-1] + 1]
        return np.diff(np.log(close)), inside

    r_new, inside = window_returns(spiked, 2, "BTCUSDT")
    orig = df.filter((pl.col("path") == 0) & (pl.col("symbol") == "BTCUSDT"))["close"].to_numpy()
    r_old = np.diff(np.log(orig[inside[0] - 1 : inside[-1] + 1]))
    assert len(inside) == 48 and abs(r_new.std() / r_old.std() - 3.0) < 1e-9
    rets = np.array([window_returns(broken, 32, s)[0] for s in SYMS])
    c = np.corrcoef(rets)
    assert np.abs(c[~np.eye(3, dtype=bool)]).max() < 1e-9
    corrupted = numpy_stress(df, ["data_corruption"])
    per_series = corrupted.filter(pl.col("stress_flags") > 0).group_by("path", "symbol").len()["len"]
    # 88 corrupted bars per series; gaps leave no row, out-of-order and duplicates flag one row
    assert per_series.min() == per_series.max() == 88 - 11


CASES = [*sl.MIXED_ORDER, "mixed_custom"]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_generate_market(benchmark, shape):
    n_paths, n_bars = SHAPES[shape]
    _run(benchmark, (shape, "generate"), lambda: sl.synthetic_market(SYMS, n_bars=n_bars, n_paths=n_paths, seed=1))


def copy_floor(sources: list[np.ndarray], targets: list[np.ndarray]) -> None:
    """Every column's values copied once into memory already mapped."""
    for src, dst in zip(sources, targets, strict=True):
        np.copyto(dst, src)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_copy_floor(benchmark, shape):
    df = market(shape)
    # the symbol column as a buffer of its 16-byte string views
    sources = [df[c].to_numpy() for c in df.columns if c != "symbol"] + [np.ones((df.height, 2), np.uint64)]
    targets = [np.ones_like(a) for a in sources]
    _run(benchmark, (shape, "copy_floor"), lambda: copy_floor(sources, targets))


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("name", CASES)
def test_rust(benchmark, shape, name):
    df, names = market(shape), list(sl.MIXED_ORDER) if name == "mixed_custom" else [name]
    _run(benchmark, (shape, f"rust:{name}"), lambda: rust_stress(df, names))


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("name", CASES)
def test_numpy(benchmark, shape, name):
    df, names = market(shape), list(sl.MIXED_ORDER) if name == "mixed_custom" else [name]
    _run(benchmark, (shape, f"numpy:{name}"), lambda: numpy_stress(df, names))


def test_print_ratios():
    """Summary of the run (no assertion on speed: benchmarks report, they do not gate)."""
    for shape, (n_paths, n_bars) in SHAPES.items():
        gen = MEDIANS.get((shape, "generate"))
        if gen is None:
            pytest.skip("run with --benchmark-enable")
        rows = _rows(shape)
        print(f"\n[{shape}] {rows:,} rows ({n_paths} paths x {len(SYMS)} symbols x {n_bars} bars)")
        print(f"generate               {gen * 1e3:7.1f} ms ({rows / gen / 1e6:6.1f} M rows/s)")
        floor, chain = MEDIANS.get((shape, "copy_floor")), MEDIANS.get((shape, "numpy:mixed_custom"))
        if floor and chain:
            print(f"copy floor             {floor * 1e3:7.1f} ms  numpy chain / copy floor {chain / floor:5.1f}x")
        for name in CASES:
            r, n = MEDIANS.get((shape, f"rust:{name}")), MEDIANS.get((shape, f"numpy:{name}"))
            if r and n:
                print(
                    f"{name:22s} rust {r * 1e3:7.1f} ms ({rows / r / 1e6:6.1f} M rows/s)  numpy {n * 1e3:7.1f} ms  "
                    f"numpy/rust {n / r:5.1f}x  generate/rust {gen / r:5.1f}x"
                )
