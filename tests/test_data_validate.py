"""validate_data and repair: the known problems of the real files, and injected ones.

Real-file expectations come from tests/data/SOURCES.md (the quality section of the shared data
notes). Injected problems are put into a clean real month (BTCUSDT 1h, August 2024, which has no
gap and no anomaly), so each test knows exactly what is wrong and where.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stresslab import DataError, InvalidParameterError, ScenarioLoader
from stresslab.data import ISSUE_KINDS, DataIssue, load_bundled, read_bars, repair, validate_data

DATA = Path(__file__).parent / "data"
H = 3_600_000
UTC = timezone.utc


def _t(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _find(issues: list[DataIssue], kind: str) -> list[DataIssue]:
    return [i for i in issues if i.kind == kind]


@pytest.fixture(scope="module")
def clean() -> pl.DataFrame:
    return read_bars(DATA / "binance_BTCUSDT-1h-2024-08.csv")


def test_clean_month_has_no_issue(clean: pl.DataFrame) -> None:
    ok, issues = validate_data(clean)
    assert ok and issues == []
    # the same call through the loader, as a static and as an instance method
    assert ScenarioLoader.validate_data(clean) == (True, [])
    assert ScenarioLoader().validate_data(clean, "1h") == (True, [])


# ---------------------------------------------------------------------------------------------
# the known problems of the real files


def test_deadhead_downtime_gaps_and_feb_2018_off_grid_bars() -> None:
    ok, issues = validate_data(read_bars(DATA / "deadhead_BTCUSDT_1h_2017-08_2018-03.csv.gz"))
    assert not ok  # off-grid bars are errors
    gaps = {(i.timestamp, i.count) for i in _find(issues, "gap")}
    assert (_t(2017, 9, 6, 16), 7) in gaps  # 2017-09-06 16:00-22:00
    assert (_t(2018, 1, 4, 4), 1) in gaps
    assert (_t(2018, 2, 8, 1), 33) in gaps  # the Feb 2018 halt, up to the first off-grid bar
    off = _find(issues, "off_grid")
    assert [(i.timestamp, i.count, i.severity) for i in off] == [
        (datetime(2018, 2, 9, 9, 28, 14, 789000, tzinfo=UTC), 43, "error")
    ]


def test_gap_report_matches_an_independent_grid_count() -> None:
    path = DATA / "deadhead_BTCUSDT_1h_2017-08_2018-03.csv.gz"
    stamps = [
        datetime.fromisoformat(r[0]).replace(tzinfo=UTC)
        for r in csv.reader(gzip.open(path, "rt").read().splitlines()[1:])
    ]
    ms = sorted(int(s.timestamp() * 1000) for s in stamps)
    # independent: hours of the grid between consecutive bars that no bar occupies
    expected = {}
    for a, b in zip(ms, ms[1:], strict=False):
        k = -(-(b - a) // H) - 1
        if k > 0:
            expected[a + H - (a % H)] = k
    _, issues = validate_data(read_bars(path))
    got = {i.timestamp_ms: i.count for i in _find(issues, "gap")}
    assert got == expected


def test_incomplete_last_rows_are_found() -> None:
    _, issues = validate_data(read_bars(DATA / "deadhead_BTCUSDT_1h_2021-04_2021-08.csv.gz"))
    assert [(i.timestamp, i.severity) for i in _find(issues, "incomplete_last_bar")] == [
        (_t(2021, 8, 20, 5), "warning")
    ]
    _, issues = validate_data(read_bars(DATA / "misrori_ETHUSDT_1h_2023-03_2023-12.csv.gz"))
    assert [i.timestamp for i in _find(issues, "incomplete_last_bar")] == [_t(2023, 12, 30, 20)]
    # the downtime of 2023-03-24: one missing hour after a zero-volume flat bar
    assert [(i.timestamp, i.count) for i in _find(issues, "gap")] == [(_t(2023, 3, 24, 13), 1)]
    assert [(i.timestamp, i.count) for i in _find(issues, "zero_volume")] == [(_t(2023, 3, 24, 12), 1)]


def test_as_of_marks_a_bar_still_open() -> None:
    df = read_bars(DATA / "misrori_BTCUSDT_1h_2021-04_2021-09.csv.gz")
    last = df["timestamp"].max()
    _, issues = validate_data(df, as_of=last + timedelta(minutes=30))
    assert [i.timestamp for i in _find(issues, "incomplete_last_bar")] == [last]
    _, issues = validate_data(df, as_of=last + timedelta(hours=1))
    assert _find(issues, "incomplete_last_bar") == []


def test_luna_token_break_and_halt_gap() -> None:
    ok, issues = validate_data(read_bars(DATA / "misrori_LUNAUSDT_1h_2022-04_2022-07.csv.gz"))
    assert not ok
    brk = _find(issues, "token_break")
    assert [(i.timestamp, i.severity) for i in brk] == [(_t(2022, 5, 31, 6), "error")]
    assert (_t(2022, 5, 13, 1), 437) in {(i.timestamp, i.count) for i in _find(issues, "gap")}


def test_btc_and_sol_share_exactly_the_same_gaps() -> None:
    def gaps(name: str) -> list[tuple[datetime | None, int]]:
        _, issues = validate_data(read_bars(DATA / name))
        return [(i.timestamp, i.count) for i in _find(issues, "gap")]

    btc = gaps("misrori_BTCUSDT_1h_2021-04_2021-09.csv.gz")
    assert btc == gaps("yanniedog_SOLUSDT_1h_2021-04_2021-09.csv.gz")
    assert btc == [
        (_t(2021, 4, 20, 2), 2),
        (_t(2021, 4, 25, 5), 3),
        (_t(2021, 8, 13, 2), 4),
        (_t(2021, 9, 29, 7), 2),
    ]


def test_cryptodatadownload_duplicates_counted_and_repaired_keeping_raw_rows() -> None:
    path = DATA / "cryptodatadownload_ETHUSDT_1h_2020-10_2021-06.csv.gz"
    rows = list(csv.DictReader(gzip.open(path, "rt").read().splitlines()))
    hours = Counter(int(float(r["unix"]) * (1000 if float(r["unix"]) < 1e11 else 1)) for r in rows)
    extra = sum(n - 1 for n in hours.values())
    df = read_bars(path)
    ok, issues = validate_data(df)
    dup = _find(issues, "duplicate_timestamp")
    assert not ok and len(dup) == 1
    assert dup[0].count == extra
    assert dup[0].timestamp_ms == min(t for t, n in hours.items() if n > 1)
    fixed, changes = repair(df)
    assert fixed["timestamp"].is_unique().all()
    assert ("duplicate_timestamp", extra) in {(c.kind, c.count) for c in changes}
    raw_close = {int(float(r["unix"])): float(r["close"]) for r in rows if float(r["unix"]) > 1e11}
    kept = dict(zip(fixed["timestamp"].dt.epoch("ms").to_list(), fixed["close"].to_list(), strict=True))
    assert all(kept[t] == raw_close[t] for t, n in hours.items() if n > 1)


# ---------------------------------------------------------------------------------------------
# injected problems


def _with(df: pl.DataFrame, i: int, **values: float) -> pl.DataFrame:
    idx = pl.int_range(pl.len())
    return df.with_columns([pl.when(idx == i).then(pl.lit(v)).otherwise(pl.col(c)).alias(c) for c, v in values.items()])


def _row_ts(df: pl.DataFrame, i: int) -> datetime:
    return df["timestamp"][i]


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("nan", lambda d: _with(d, 100, close=float("nan"))),
        ("nan", lambda d: _with(d, 100, volume=float("inf"))),
        ("non_positive_price", lambda d: _with(d, 100, low=0.0)),
        ("ohlc_inconsistent", lambda d: _with(d, 100, high=float(d["close"][100]) * 0.99)),
        ("ohlc_inconsistent", lambda d: _with(d, 100, low=float(d["open"][100]) * 1.01)),
        ("negative_volume", lambda d: _with(d, 100, volume=-1.0)),
        (
            "negative_spread",
            lambda d: d.with_columns(spread=pl.when(pl.int_range(pl.len()) == 100).then(-0.001).otherwise(0.0001)),
        ),
    ],
)
def test_row_level_errors(clean: pl.DataFrame, kind: str, make) -> None:  # noqa: ANN001
    ok, issues = validate_data(make(clean))
    assert not ok
    found = _find(issues, kind)
    assert [(i.timestamp, i.count, i.severity) for i in found] == [(_row_ts(clean, 100), 1, "error")]


def test_duplicates_and_out_of_order(clean: pl.DataFrame) -> None:
    dup = pl.concat([clean, clean[200:203]])
    ok, issues = validate_data(dup)
    assert not ok
    assert [(i.timestamp, i.count) for i in _find(issues, "duplicate_timestamp")] == [(_row_ts(clean, 200), 3)]
    assert [(i.timestamp, i.count) for i in _find(issues, "out_of_order")] == [(_row_ts(clean, 200), 1)]
    swapped = pl.concat([clean[:300], clean[301:302], clean[300:301], clean[302:]])
    _, issues = validate_data(swapped)
    assert [(i.timestamp, i.count) for i in _find(issues, "out_of_order")] == [(_row_ts(clean, 300), 1)]
    assert _find(issues, "gap") == []  # sorted before the grid checks
    fixed, changes = repair(swapped)
    assert fixed.equals(clean)
    assert [c.kind for c in changes] == ["out_of_order"]


def test_off_grid_and_mixed_interval(clean: pl.DataFrame) -> None:
    shifted = clean.with_columns(
        pl.when(pl.int_range(pl.len()).is_between(50, 52))
        .then(pl.col("timestamp") + pl.duration(minutes=17))
        .otherwise(pl.col("timestamp"))
        .alias("timestamp")
    )
    ok, issues = validate_data(shifted)
    assert not ok
    assert [(i.timestamp, i.count) for i in _find(issues, "off_grid")] == [(shifted["timestamp"][50], 3)]
    four = read_bars(DATA / "yanniedog_BTCUSDT_4h_2024-07_2024-09.csv.gz").filter(
        pl.col("timestamp") >= clean["timestamp"].max()
    )
    ok, issues = validate_data(pl.concat([clean, four]))
    assert not ok and [i.kind for i in issues] == ["mixed_interval"]


def test_gaps_zero_volume_and_stale(clean: pl.DataFrame) -> None:
    holed = pl.concat([clean[:100], clean[104:]])
    ok, issues = validate_data(holed)
    assert ok  # a gap is a warning: exchange downtime is real
    assert [(i.timestamp, i.count, i.severity) for i in issues] == [(_row_ts(clean, 100), 4, "warning")]
    zero = clean.with_columns(
        pl.when(pl.int_range(pl.len()).is_between(10, 12)).then(0.0).otherwise(pl.col("volume")).alias("volume")
    )
    _, issues = validate_data(zero)
    assert [(i.kind, i.timestamp, i.count) for i in issues] == [("zero_volume", _row_ts(clean, 10), 3)]
    idx = pl.int_range(pl.len())
    stale = clean.with_columns(
        [
            pl.when(idx.is_between(401, 402)).then(pl.lit(float(clean[c][400]))).otherwise(pl.col(c)).alias(c)
            for c in ["open", "high", "low", "close", "volume"]
        ]
    )
    _, issues = validate_data(stale)
    assert [(i.kind, i.timestamp, i.count) for i in issues] == [("stale", _row_ts(clean, 401), 2)]


def test_spike_that_reverts_is_found_and_real_crash_is_not(clean: pl.DataFrame) -> None:
    i = 333
    scaled = {c: float(clean[c][i]) * 1.25 for c in ["open", "high", "low", "close"]}
    ok, issues = validate_data(_with(clean, i, **scaled))
    assert not ok
    assert [(x.kind, x.timestamp) for x in issues] == [("spike", _row_ts(clean, i))]
    # Real V-shaped crash bars revert too (COVID 2020-03-13 01:00: -11.9% then +16.0%), but they are
    # traded through (the next bar opens at the spike close), so they are not flagged.
    for event in ("covid_2020-03", "terra_luna_2022-05", "ftx_2022-11"):
        real = load_bundled(event=event)
        for _, g in real.group_by("symbol"):
            c = g["close"].to_numpy()
            r = np.diff(np.log(c))
            naive = (
                (np.abs(r[:-1]) > 0.05)
                & (np.sign(r[:-1]) != np.sign(r[1:]))
                & (np.abs(r[:-1] + r[1:]) < 0.5 * np.abs(r[:-1]))
            )
            if event == "covid_2020-03":
                assert naive.any()  # a close-only reversal test would flag the real crash
        assert _find(validate_data(real)[1], "spike") == []
    fixed, changes = repair(_with(clean, i, **scaled))
    assert [(c.kind, c.count) for c in changes] == [("spike", 1), ("gap", 1)]
    filled = fixed.filter(pl.col("filled"))
    assert filled["timestamp"].to_list() == [_row_ts(clean, i)]
    assert filled["close"][0] == filled["open"][0] == float(clean["close"][i - 1]) and filled["volume"][0] == 0.0


def test_token_break_without_gap(clean: pl.DataFrame) -> None:
    idx = pl.int_range(pl.len())
    redenominated = clean.with_columns(
        [
            pl.when(idx >= 500).then(pl.col(c) / 1000).otherwise(pl.col(c)).alias(c)
            for c in ["open", "high", "low", "close"]
        ]
    )
    ok, issues = validate_data(redenominated)
    assert not ok
    assert [(i.kind, i.timestamp) for i in issues] == [("token_break", _row_ts(clean, 500))]


def test_incomplete_last_bar_by_volume(clean: pl.DataFrame) -> None:
    last = clean.height - 1
    ok, issues = validate_data(_with(clean, last, volume=float(clean["volume"][last - 1]) * 0.05))
    assert ok  # a warning
    assert [(i.kind, i.timestamp) for i in issues] == [("incomplete_last_bar", _row_ts(clean, last))]


def test_groups_by_symbol_and_path(clean: pl.DataFrame) -> None:
    eth = clean.with_columns(pl.lit("ETHUSDT").alias("symbol"))
    both = pl.concat([clean, pl.concat([eth[:10], eth[12:]])])
    _, issues = validate_data(both)
    assert [(i.kind, i.symbol, i.count) for i in issues] == [("gap", "ETHUSDT", 2)]
    paths = pl.concat(
        [
            clean.with_columns(pl.lit(0).alias("path")),
            clean[:5].vstack(clean[6:]).with_columns(pl.lit(1).alias("path")),
        ]
    )
    _, issues = validate_data(paths)
    assert [(i.kind, i.path, i.timestamp) for i in issues] == [("gap", 1, _row_ts(clean, 5))]


def test_issue_records_print_and_serialise(clean: pl.DataFrame) -> None:
    _, issues = validate_data(pl.concat([clean[:100], clean[104:]]))
    text = str(issues[0])
    assert text.startswith("[warning] gap BTCUSDT at 2024-08-05T04:00:00Z (4 bar(s))")
    d = issues[0].to_dict()
    assert d["kind"] == "gap" and d["count"] == 4 and d["symbol"] == "BTCUSDT"
    assert set(ISSUE_KINDS.values()) == {"error", "warning"}


def test_bad_arguments(clean: pl.DataFrame) -> None:
    with pytest.raises(DataError, match=r"wrong columns.*missing \['close'\]"):
        validate_data(clean.drop("close"))
    with pytest.raises(InvalidParameterError, match="spike_revert"):
        validate_data(clean, spike_revert=2.0)
    with pytest.raises(InvalidParameterError, match="interval"):
        validate_data(clean, "hourly")
    with pytest.raises(InvalidParameterError, match="max_fill_bars"):
        repair(clean, max_fill_bars=-1)


# ---------------------------------------------------------------------------------------------
# repair


def test_repair_fills_short_gaps_only_and_removes_every_error(clean: pl.DataFrame) -> None:
    broken = pl.concat([clean[:100], clean[102:300], clean[310:]])  # a 2-bar and a 10-bar gap
    broken = _with(broken, 50, close=float("nan"))
    broken = _with(broken, 60, high=float(broken["low"][60]) * 0.999)
    broken = pl.concat([broken, broken[400:402]])
    fixed, changes = repair(broken, max_fill_bars=3)
    kinds = Counter(c.kind for c in changes)
    assert kinds == {"nan": 1, "ohlc_inconsistent": 1, "out_of_order": 1, "duplicate_timestamp": 1, "gap": 2}
    ok, issues = validate_data(fixed)
    assert ok
    # the 10-bar gap stays (downtime is not invented away); the 2-bar gap and the dropped NaN row are filled
    assert [(i.kind, i.timestamp, i.count) for i in issues] == [("gap", _row_ts(clean, 300), 10)]
    filled = fixed.filter(pl.col("filled"))
    assert filled["timestamp"].to_list() == [_row_ts(clean, 50), _row_ts(clean, 100), _row_ts(clean, 101)]
    assert (filled["volume"] == 0).all() and (filled["high"] == filled["low"]).all()
    row = fixed.filter(pl.col("timestamp") == _row_ts(clean, 60))
    assert row["high"][0] == max(row["open"][0], row["close"][0], float(clean["low"][60]) * 0.999)


def test_repair_drops_off_grid_rows_and_incomplete_last_bar() -> None:
    df = read_bars(DATA / "deadhead_BTCUSDT_1h_2017-08_2018-03.csv.gz")
    fixed, changes = repair(df, max_fill_bars=0)
    assert ("off_grid", 43) in {(c.kind, c.count) for c in changes}
    assert fixed.height == df.height - 43
    assert (fixed["timestamp"].dt.epoch("ms") % H == 0).all()
    late = read_bars(DATA / "deadhead_BTCUSDT_1h_2021-04_2021-08.csv.gz")
    fixed, changes = repair(late, max_fill_bars=0)
    assert [c.kind for c in changes] == ["incomplete_last_bar"]
    assert fixed.height == late.height - 1 and fixed["timestamp"].max() == _t(2021, 8, 20, 4)


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(min_value=1, max_value=742), max_size=40))
def test_gaps_equal_deleted_bars(clean: pl.DataFrame, deleted: set[int]) -> None:
    keep = np.ones(clean.height, bool)
    keep[list(deleted)] = False
    _, issues = validate_data(clean.filter(pl.Series(keep)), "1h")
    gaps = _find(issues, "gap")
    assert sum(g.count for g in gaps) == len(deleted)
    runs = sorted(i for i in deleted if i - 1 not in deleted)
    assert [g.timestamp for g in gaps] == [_row_ts(clean, i) for i in runs]
