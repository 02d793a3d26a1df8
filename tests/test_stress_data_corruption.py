"""DATA_CORRUPTION: exact counts and kinds, and the whole output rebuilt from the input and the
ground truth by an independent numpy implementation of the documented semantics."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import stresslab as sl
from hypothesis import given, settings
from hypothesis import strategies as st
from stress_helpers import VALUES, gbm_frame, ohlc_ok, round_half_up, series

VALUE_KINDS = {"nan", "spike", "stale", "zero_volume", "negative", "out_of_order"}


def expected_series(b: dict[str, np.ndarray], truth: pl.DataFrame) -> dict[str, np.ndarray]:
    """Apply the documented corruption semantics to one input series, given the ground truth."""
    cols = {c: b[c].copy() for c in VALUES}
    flags = np.zeros(len(b["close"]), np.uint32)
    moves = {}
    for t, kind, column, value in truth.select("bar", "kind", "column", "value").iter_rows():
        if kind == "nan":
            cols[column][t] = np.nan
        elif kind == "spike":
            cols["close"][t] = b["close"][t] * value
        elif kind == "stale":
            price = b["close"][t - 1] if t > 0 else b["open"][0]
            for c in ("open", "high", "low", "close"):
                cols[c][t] = price
            src = t - 1 if t > 0 else 0
            cols["volume"][t], cols["spread"][t] = b["volume"][src], b["spread"][src]
        elif kind == "zero_volume":
            cols["volume"][t] = 0.0
        elif kind == "negative":
            cols["close"][t] = -b["close"][t]
        if kind in VALUE_KINDS:
            flags[t] = 16
        if kind in ("duplicate", "gap", "out_of_order"):
            moves[t] = kind
    order, copy = [], []
    t = 0
    while t < len(flags):
        kind = moves.get(t)
        if kind == "gap":
            pass
        elif kind == "duplicate":
            order += [t, t]
            copy += [False, True]
        elif kind == "out_of_order":
            order += [t + 1, t]
            copy += [False, False]
            t += 1
        else:
            order.append(t)
            copy.append(False)
        t += 1
    idx = np.array(order, dtype=np.int64)
    out = {c: v[idx] for c, v in cols.items()}
    out["stress_flags"] = flags[idx] | np.where(copy, 16, 0).astype(np.uint32)
    out["ts"] = b["ts"][idx]
    return out


@settings(max_examples=40, deadline=None)
@given(
    pct=st.floats(0.0, 0.4),
    kinds=st.lists(st.sampled_from(sl.CORRUPTION_TYPES), min_size=1, max_size=8, unique=True),
    n=st.integers(30, 400),
    n_paths=st.integers(1, 2),
    seed=st.integers(0, 2**40),
)
def test_counts_kinds_and_semantics(pct, kinds, n, n_paths, seed):
    df = gbm_frame(n, ["AAA", "BBB"], n_paths=n_paths, seed=seed % 997)
    out, rec = sl.apply_data_corruption(df, pct, kinds, seed=seed, return_record=True)
    k = round_half_up(pct * n)
    paths = [None] if n_paths == 1 else list(range(n_paths))
    dups = gaps = 0
    for p in paths:
        for sym in ("AAA", "BBB"):
            truth = rec.filter(pl.col("symbol") == sym)
            if p is not None:
                truth = truth.filter(pl.col("path") == p)
            assert truth.height == k and truth["bar"].n_unique() == k
            counts = truth.group_by("kind").len()
            got = dict(zip(counts["kind"], counts["len"], strict=True))
            expect = {kind: k // len(kinds) + (i < k % len(kinds)) for i, kind in enumerate(kinds)}
            assert got == {kk: v for kk, v in expect.items() if v > 0}
            exp = expected_series(series(df, sym, p), truth)
            s = series(out, sym, p)
            assert set(s) >= set(exp)
            for c, v in exp.items():
                np.testing.assert_array_equal(s[c], v, err_msg=c)  # NaN-aware, exact
            # OHLC breaks only where the ground truth says
            clean = s["stress_flags"] == 0
            assert ohlc_ok({c: s[c][clean] for c in VALUES}).all()
            dups += int((truth["kind"] == "duplicate").sum())
            gaps += int((truth["kind"] == "gap").sum())
    assert out.height == df.height + dups - gaps
    assert (rec["transform"] == "data_corruption").all()


def test_every_kind_shows_where_reported():
    """Each kind leaves the trace its documentation names, at the reported bar."""
    df = gbm_frame(2000, seed=1)
    out, rec = sl.apply_data_corruption(df, 0.02, return_record=True, seed=3)
    assert set(rec["kind"]) == set(sl.CORRUPTION_TYPES) and rec.height == 40
    b = series(df, "AAA")
    s = out.with_columns(pl.col("timestamp").dt.epoch("ms").alias("ms"))
    ts = s["ms"].to_numpy()
    for t, kind, column in rec.select("bar", "kind", "column").iter_rows():
        at = b["ts"][t]
        rows = s.filter(pl.col("ms") == at)
        if kind == "gap":
            assert rows.height == 0
        elif kind == "duplicate":
            assert rows.height == 2 and rows[0].drop("stress_flags").equals(rows[1].drop("stress_flags"))
        elif kind == "out_of_order":
            i = int(np.flatnonzero(ts == at)[0])
            assert ts[i - 1] > ts[i]  # the timestamp goes back at the reported bar's row
        else:
            r = rows.row(0, named=True)
            if kind == "nan":
                assert np.isnan(r[column])
            elif kind == "spike":
                size = max(r["close"] / b["close"][t], b["close"][t] / r["close"])
                assert not (r["low"] <= r["close"] <= r["high"]) and size >= 5
            elif kind == "negative":
                assert r["close"] < 0
            elif kind == "zero_volume":
                assert r["volume"] == 0
            elif kind == "stale":
                assert r["open"] == r["high"] == r["low"] == r["close"] == b["close"][t - 1]


def test_extra_columns_follow_their_rows():
    """Columns the transforms do not know (with nulls, any type) travel with their rows when data
    corruption moves rows."""
    df = gbm_frame(500, ["AAA", "BBB"], n_paths=2, seed=4).with_columns(
        pl.int_range(pl.len()).over("path", "symbol").alias("bar_id"),
        pl.when(pl.int_range(pl.len()) % 7 == 0).then(None).otherwise(pl.lit("x")).alias("note"),
    )
    out, rec = sl.apply_data_corruption(df, 0.1, ["gap", "duplicate", "out_of_order"], return_record=True)
    assert out.columns == [*df.columns, "stress_flags"]
    key = ["path", "symbol", "timestamp"]
    joined = out.join(df.select(*key, pl.col("bar_id").alias("orig"), pl.col("note").alias("orig_note")), on=key)
    assert joined.height == out.height
    assert (joined["bar_id"] == joined["orig"]).all()
    assert joined["note"].is_null().sum() == joined["orig_note"].is_null().sum()
    assert out.height == df.height + (rec["kind"] == "duplicate").sum() - (rec["kind"] == "gap").sum()


def test_out_of_order_capacity_is_checked():
    df = gbm_frame(100)
    out, rec = sl.apply_data_corruption(df, 0.5, ["out_of_order"], return_record=True)
    assert rec.height == 50
    with pytest.raises(sl.InvalidParameterError) as e:
        sl.apply_data_corruption(df, 0.51, ["out_of_order"])
    assert e.value.field == "corruption_pct" and "out_of_order" in str(e.value)
    # without out_of_order every bar can be corrupted
    _, rec = sl.apply_data_corruption(df, 1.0, ["nan", "zero_volume"], return_record=True)
    assert rec.height == 100 and rec["bar"].n_unique() == 100
