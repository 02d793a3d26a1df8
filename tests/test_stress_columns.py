"""How the stress binding treats the frame's columns: columns of every type travel with their
rows when data corruption moves rows, nulls in value columns, and callers that skip the record
get the same frame."""

from __future__ import annotations

import numpy as np
import polars as pl
import stresslab as sl
from stress_helpers import gbm_frame


def test_every_column_type_follows_its_rows():
    """Extra columns of many types (fixed widths 1 to 8 bytes, booleans, categoricals, dates,
    strings, with and without nulls) are functions of the bar id; after rows were duplicated,
    dropped and swapped each output row must still hold the values of its own bar."""
    df = gbm_frame(400, ["AAA", "BBB", "CCC"], n_paths=3, seed=9).with_columns(
        pl.int_range(pl.len()).over("path", "symbol").alias("bar_id")
    )
    bar = pl.col("bar_id")
    derived = {
        "i8": (bar % 100).cast(pl.Int8),
        "i16": bar.cast(pl.Int16),
        "u64": (bar * 3).cast(pl.UInt64),
        "f32": (bar * 0.5).cast(pl.Float32),
        "flag": bar % 3 == 0,
        "cat": (bar % 5).cast(pl.String).cast(pl.Categorical),
        "day": pl.date(2024, 1, 1) + pl.duration(days=bar),
        "label": pl.format("bar-{}", bar),
        "maybe": pl.when(bar % 7 == 0).then(None).otherwise(bar),
    }
    df = df.with_columns(**derived)
    out, rec = sl.apply_data_corruption(df, 0.05, ["gap", "duplicate", "out_of_order"], return_record=True, seed=5)
    assert out.height == df.height + (rec["kind"] == "duplicate").sum() - (rec["kind"] == "gap").sum()
    assert out.schema == pl.Schema({**df.schema, "stress_flags": pl.UInt32})
    want = out.select("bar_id").with_columns(**derived)
    for name in derived:
        assert out[name].equals(want[name], check_names=False, null_equal=True), name
    # each series' rows: every bar but the gaps, the duplicates twice
    per_series = out.group_by("path", "symbol").agg(pl.col("bar_id").sort()).sort("path", "symbol")
    for p, s, ids in per_series.iter_rows():
        r = rec.filter((pl.col("path") == p) & (pl.col("symbol") == s))
        gaps = set(r.filter(pl.col("kind") == "gap")["bar"])
        dups = list(r.filter(pl.col("kind") == "duplicate")["bar"])
        expected = sorted([b for b in range(400) if b not in gaps] + dups)
        assert ids == expected


def test_nulls_in_value_columns():
    """A value column a step rewrites reads nulls as NaN; one it does not touch passes through
    as it was, nulls included."""
    df = gbm_frame(200, ["AAA"], seed=2)
    nulls = pl.int_range(pl.len()) % 10 == 3
    df = df.with_columns(
        pl.when(nulls).then(None).otherwise(pl.col("volume")).alias("volume"),
        pl.when(nulls).then(None).otherwise(pl.col("spread")).alias("spread"),
    )
    out = sl.apply_liquidity_drop(df, 0.5, 20, at=0)
    vol, orig = out["volume"].to_numpy(), df["volume"].to_numpy()
    assert out["volume"].null_count() == 0
    assert np.isnan(vol[3::10]).all()
    keep = np.ones(200, bool)
    keep[3::10] = False
    keep[:20] = False
    assert np.array_equal(vol[keep], orig[keep])
    # spread explosion does not read volume: the column (with its nulls) passes through
    out = sl.apply_spread_explosion(df.with_columns(pl.col("spread").fill_null(1e-4)), 3.0, 10, at=5)
    assert out["volume"].equals(df["volume"], null_equal=True)


def test_skipping_the_record_gives_the_same_frame():
    df = gbm_frame(300, ["AAA", "BBB"], n_paths=2, seed=1)
    sc = sl.Scenario(
        "cols",
        "MIXED_CUSTOM",
        {"flash_crash_drop_pct": 0.2, "volatility_multiplier": 2.0, "corruption_pct": 0.02},
        symbols=["AAA", "BBB"],
        seed=4,
    )
    tr = sl.ScenarioTransformer()
    full, rec = tr.apply_with_record(df, sc)
    assert rec.height > 0
    assert tr.apply(df, sc).equals(full, null_equal=True)
    alone = sl.apply_flash_crash(df, 0.3, seed=3)
    with_rec, rec = sl.apply_flash_crash(df, 0.3, seed=3, return_record=True)
    assert alone.equals(with_rec, null_equal=True) and rec.height > 0


def test_path_and_symbol_when_series_keep_their_length():
    """As many duplicates as gaps in every series keep each series' rows in place, so path and
    symbol are the input's own columns; a duplicate in one series and a gap in the next keep the
    path's length but move rows across series, so they are gathered. Either way each output row
    holds the path and symbol of the input row it came from, and polars operations on the frame
    give what they give on a copy built from numpy arrays."""
    df = gbm_frame(400, ["AAA", "BBB", "CCC"], n_paths=3, seed=4).with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("row")
    )
    balanced = sl.apply_data_corruption(df, 0.05, ["duplicate", "gap"], seed=3)
    across = sl.StressStep("data_corruption", {"corruption_pct": 0.05, "corruption_types": ["duplicate"]}, ["AAA"])
    gaps = sl.StressStep("data_corruption", {"corruption_pct": 0.05, "corruption_types": ["gap"]}, ["BBB"])
    shifted, _ = sl.apply_stress_steps(df, [across, gaps], seed=3, mixed=False)
    for out in (balanced, shifted):
        assert out.height == df.height
        rows = out["row"].to_numpy()
        assert not np.array_equal(rows, np.arange(df.height))  # rows did move
        for name in ("path", "symbol"):
            assert out[name].n_chunks() == 1
            assert out[name].to_list() == df[name].to_numpy()[rows].tolist(), name
        copy = pl.DataFrame({c: out[c].to_numpy() for c in out.columns}, schema=out.schema)
        for frame_op in (
            lambda f: (
                f.group_by("path", "symbol")
                .agg(pl.col("close").max(), pl.col("row").sum(), pl.len())
                .sort("path", "symbol")
            ),
            lambda f: f.filter(pl.col("symbol") == "BBB").select("path", "row", "close"),
            lambda f: f.sort("symbol", "path", "row").select("symbol", "path", "stress_flags"),
        ):
            assert frame_op(out).equals(frame_op(copy))
        assert (
            out.join(df.select("row", "path", "symbol"), on="row")
            .select((pl.col("path") == pl.col("path_right")).all() & (pl.col("symbol") == pl.col("symbol_right")).all())
            .item()
        )


def test_moved_timestamps_keep_their_rows_and_type():
    """The single pass writes the moved timestamps itself when the column holds milliseconds
    (Int64 or Datetime(ms)); other units are gathered from the column. Either way each output row
    keeps its own bar's timestamp, in the input's dtype, whichever route moved the rows."""
    base = gbm_frame(300, ["AAA", "BBB"], n_paths=2, seed=6).with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("row")
    )
    ms = pl.col("timestamp").dt.epoch("ms")
    one_step = [sl.StressStep("data_corruption", {"corruption_pct": 0.05, "corruption_types": ["duplicate", "gap"]})]
    two_steps = [
        sl.StressStep("data_corruption", {"corruption_pct": 0.04, "corruption_types": ["out_of_order"]}, ["AAA"]),
        sl.StressStep("data_corruption", {"corruption_pct": 0.05, "corruption_types": ["gap"]}, ["BBB"]),
    ]
    for ts in (pl.col("timestamp"), ms, ms.cast(pl.Datetime("ms")), pl.col("timestamp").cast(pl.Datetime("us"))):
        df = base.with_columns(ts.alias("timestamp"))
        for steps in (one_step, two_steps):
            out, _ = sl.apply_stress_steps(df, steps, seed=2, mixed=False)
            assert out.schema["timestamp"] == df.schema["timestamp"]
            rows = out["row"].to_numpy()
            assert not np.array_equal(rows, np.arange(df.height))
            assert out["timestamp"].to_list() == df["timestamp"].gather(rows).to_list()
