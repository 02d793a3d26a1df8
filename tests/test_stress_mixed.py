"""MIXED_CUSTOM and the scenario entry points: the documented order, equivalence with applying the
transforms one by one, invariants after the chain, determinism on 1 and N threads, paths, input
orders and the loader."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import polars as pl
import pyarrow as pa
import stresslab as sl
from hypothesis import given, settings
from hypothesis import strategies as st
from stress_helpers import VALUES, gbm_frame, ohlc_ok

SYMS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]

# each mixed stress: its seed-named parameters and the equivalent single-transform call
MIXED = {
    "correlation_breakdown": (
        {"correlation_mode": "invert", "correlation_duration_bars": 48},
        lambda df, kw: sl.apply_correlation_breakdown(df, mode="invert", duration_bars=48, **kw),
    ),
    "volatility_spike": (
        {"volatility_multiplier": 2.5, "volatility_duration_bars": 30},
        lambda df, kw: sl.apply_volatility_spike(df, 2.5, 30, **kw),
    ),
    "flash_crash": (
        {"flash_crash_drop_pct": 0.3, "flash_crash_duration_bars": 5, "flash_crash_recovery_bars": 10},
        lambda df, kw: sl.apply_flash_crash(df, 0.3, 5, 10, **kw),
    ),
    "pump_and_dump": (
        {"pump_pct": 0.8, "pump_bars": 8, "dump_pct": 0.5, "dump_bars": 4, "pump_volume_mult": 20.0},
        lambda df, kw: sl.apply_pump_and_dump(df, 0.8, 8, 0.5, 4, 20.0, **kw),
    ),
    "liquidity_drop": (
        {"liquidity_drop_pct": 0.6, "liquidity_duration_bars": 20},
        lambda df, kw: sl.apply_liquidity_drop(df, 0.6, 20, **kw),
    ),
    "spread_explosion": (
        {"spread_mult": 7.0, "spread_duration_bars": 10},
        lambda df, kw: sl.apply_spread_explosion(df, 7.0, 10, **kw),
    ),
    "data_corruption": (
        {"corruption_pct": 0.03},
        lambda df, kw: sl.apply_data_corruption(df, 0.03, **kw),
    ),
}


def test_documented_order():
    assert sl.MIXED_ORDER == (
        "correlation_breakdown",
        "volatility_spike",
        "flash_crash",
        "pump_and_dump",
        "liquidity_drop",
        "spread_explosion",
        "data_corruption",
    )
    assert tuple(sl._core.corruption_kinds()) == sl.CORRUPTION_TYPES
    assert sl.STRESS_FLAGS == {
        "flash_crash": 1,
        "volatility_spike": 2,
        "liquidity_drop": 4,
        "spread_explosion": 8,
        "data_corruption": 16,
        "correlation_breakdown": 32,
        "pump_and_dump": 64,
    }


@settings(max_examples=20, deadline=None)
@given(
    chosen=st.lists(st.sampled_from(list(MIXED)), min_size=1, max_size=7, unique=True),
    seed=st.integers(0, 2**63),
)
def test_mixed_equals_transforms_one_by_one_in_order(chosen, seed):
    df = gbm_frame(400, SYMS, n_paths=2, seed=seed % 101)
    params = {k: v for name in chosen for k, v in MIXED[name][0].items()}
    sc = sl.Scenario("mix", "MIXED_CUSTOM", params, symbols=SYMS, seed=seed)
    out, rec = sl.ScenarioTransformer().apply_with_record(df, sc)
    chained, parts = df, []
    for name in sl.MIXED_ORDER:
        if name in chosen:
            chained, r = MIXED[name][1](chained, dict(seed=seed, scenario="mix", return_record=True))
            parts.append(r)
    assert out.equals(chained, null_equal=True)
    assert rec.equals(pl.concat(parts).sort("path", maintain_order=True))
    # invariants after the whole chain: OHLC holds except at corrupted rows; only chosen bits set
    clean = out.filter((pl.col("stress_flags") & 16) == 0)
    assert ohlc_ok({c: clean[c].to_numpy() for c in VALUES}).all()
    allowed = sum(sl.STRESS_FLAGS[n] for n in chosen)
    assert (out["stress_flags"].to_numpy() & ~np.uint32(allowed) == 0).all()
    assert set(rec["transform"]) <= set(chosen)


def test_unstressed_and_historic_replay_scenarios():
    df = gbm_frame(200, SYMS, seed=4)
    calm = sl.Scenario("calm", "MIXED_CUSTOM", {}, symbols=SYMS)
    out, rec = sl.ScenarioTransformer().apply_with_record(df, calm)
    assert out.drop("stress_flags").equals(df) and (out["stress_flags"] == 0).all() and rec.height == 0
    replay = sl.Scenario("r", "HISTORIC_REPLAY", {"flash_crash_drop_pct": 0.25, "spread_mult": 3.0}, symbols=SYMS)
    out, rec = sl.ScenarioTransformer().apply_with_record(df, replay)
    assert set(rec["transform"]) == {"flash_crash", "spread_explosion"}
    assert set(out["stress_flags"].unique()) >= {1, 8}


def test_loader_applies_the_stress():
    sc = sl.Scenario("crash", "FLASH_CRASH", {"drop_pct": 0.3, "at": 100}, symbols=SYMS[:2], n_bars=300, seed=3)
    loader = sl.ScenarioLoader()
    stressed = loader.load_data(sc)
    direct = sl.ScenarioTransformer().apply(loader.load_market(sc), sc)
    assert stressed.equals(direct)
    crash = stressed.filter(pl.col("stress_flags") == 1)
    assert crash.height == 2 * (6 + 24) and crash["timestamp"].min() == stressed["timestamp"][100]


def test_path_alone_equals_path_in_a_batch():
    """Streams are keyed by the path value: stressing path k alone gives the same bars."""
    df = gbm_frame(300, SYMS, n_paths=4, seed=8)
    params = {k: v for spec, _ in MIXED.values() for k, v in spec.items()}
    sc = sl.Scenario("mix", "MIXED_CUSTOM", params, symbols=SYMS, seed=5)
    full = sl.ScenarioTransformer().apply(df, sc)
    for p in (0, 3):
        alone = sl.ScenarioTransformer().apply(df.filter(pl.col("path") == p), sc)
        assert alone.equals(full.filter(pl.col("path") == p), null_equal=True)


def test_input_order_does_not_matter():
    df = gbm_frame(300, SYMS, seed=9)
    params = {k: v for spec, _ in MIXED.values() for k, v in spec.items()}
    sc = sl.Scenario("mix", "MIXED_CUSTOM", params, symbols=SYMS, seed=1)
    a = sl.ScenarioTransformer().apply(df, sc)
    shuffled = df.sort("timestamp", "symbol")  # interleaved, as exchange dumps often are
    b = sl.ScenarioTransformer().apply(shuffled, sc)
    assert a.equals(b, null_equal=True)


_SCRIPT = """
import hashlib, sys
sys.path.insert(0, {tests!r})
import stresslab as sl
from stress_helpers import gbm_frame
df = gbm_frame(2000, {syms!r}, n_paths=8, seed=2)
sc = sl.Scenario("mix", "MIXED_CUSTOM", {params!r}, symbols={syms!r}, seed=77)
out, rec = sl.ScenarioTransformer().apply_with_record(df, sc)
h = hashlib.sha256()
for frame in (out, rec):
    for c in frame.columns:
        h.update(frame[c].cast(str).str.join("|").item().encode())
print(sl._core.num_threads(), h.hexdigest())
"""


def test_same_output_on_one_and_many_threads():
    params = {k: v for spec, _ in MIXED.values() for k, v in spec.items()}
    script = _SCRIPT.format(tests=os.path.dirname(__file__), syms=SYMS, params=params)
    digests = {}
    for threads in ("1", "3"):
        env = {**os.environ, "RAYON_NUM_THREADS": threads}
        res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        n, digest = res.stdout.split()
        assert n == threads
        digests[threads] = digest
    assert digests["1"] == digests["3"]
    assert len(digests["1"]) == len(hashlib.sha256().hexdigest())


def test_any_arrow_table_layout():
    """The native entry point reads any Arrow stream: plain/large strings (here long names, which
    string views do not inline), microsecond timestamps, no path column; same result as polars."""
    long = ["VERY-LONG-SYMBOL-NAME-PERP", "ANOTHER-LONG-SYMBOL-NAME-PERP"]
    df = gbm_frame(300, long, seed=6)
    params = {k: v for spec, _ in MIXED.values() for k, v in spec.items()}
    sc = sl.Scenario("mix", "MIXED_CUSTOM", params, symbols=long, seed=2)
    ref, ref_rec = sl.ScenarioTransformer().apply_with_record(df, sc)
    steps = [st._native() for st in sl.scenario_steps(sc)]
    for string_type in (pa.string(), pa.large_string()):
        table = pa.table(df.to_arrow()).cast(
            pa.schema(
                [
                    pa.field("timestamp", pa.timestamp("us", "UTC")),
                    pa.field("symbol", string_type),
                    *[pa.field(c, pa.float64()) for c in VALUES],
                ]
            )
        )
        out, rec = sl._core.apply_stress(table, steps, 2, "mix", long, 1e-4, True)
        out, rec = pl.DataFrame(out), pl.DataFrame(rec)
        assert out.schema["timestamp"] == pl.Datetime("us", "UTC")
        assert out.with_columns(pl.col("timestamp").dt.cast_time_unit("ms")).equals(ref, null_equal=True)
        assert rec.drop("timestamp", "end_timestamp").equals(ref_rec.drop("timestamp", "end_timestamp"))


def test_flags_or_into_existing_column():
    df = gbm_frame(200, seed=1)
    once = sl.apply_spread_explosion(df, 4.0, 10, at=20)
    twice = sl.apply_liquidity_drop(once, 0.5, 10, at=25)
    flags = twice["stress_flags"].to_numpy()
    assert (flags[20:25] == 8).all() and (flags[25:30] == 12).all() and (flags[30:35] == 4).all()
    np.testing.assert_allclose(twice["spread"].to_numpy()[25:30] / df["spread"].to_numpy()[25:30], 4.0 * 0.5**-0.5)
