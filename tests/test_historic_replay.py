"""HISTORIC_REPLAY through ScenarioLoader: bundled crash windows, files, directories, alignment.

The bundled windows are cross-checked against the independent source slices in tests/data
(parsed by a different code path: the kline CSV parser instead of the bundled Parquet).
"""

from __future__ import annotations

import gzip
import shutil
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from stresslab import (
    DataError,
    InvalidParameterError,
    Scenario,
    ScenarioLoader,
    ScenarioType,
    ScenarioValidationError,
    synthetic_market,
)
from stresslab.data import bundled_events, load_bundled, read_bars
from stresslab.data.bundled import BUNDLED_FILE

DATA = Path(__file__).parent / "data"
UTC = timezone.utc
LONG = ["timestamp", "symbol", "open", "high", "low", "close", "volume", "spread"]


def _replay(symbols: list[str], **kw: object) -> Scenario:
    params = {k: kw.pop(k) for k in ("source", "event") if k in kw}
    return Scenario("replay", ScenarioType.HISTORIC_REPLAY, params, symbols=symbols, **kw)  # type: ignore[arg-type]


def _window(df: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    return df.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))


MAY = (datetime(2021, 5, 1, tzinfo=UTC), datetime(2021, 6, 1, tzinfo=UTC))


def test_bundled_may_2021_equals_the_source_files() -> None:
    loader = ScenarioLoader()
    df = loader.load_data(_replay(["BTCUSDT", "ETHUSDT", "SOLUSDT"], event="may_2021"))
    assert df.columns == LONG and df.schema["timestamp"] == pl.Datetime("ms", "UTC")
    assert df.group_by("symbol").len().sort("symbol")["len"].to_list() == [744, 744, 744]
    for sym, name in [
        ("BTCUSDT", "misrori_BTCUSDT_1h_2021-04_2021-09.csv.gz"),
        ("ETHUSDT", "misrori_ETHUSDT_1h_2021-04_2021-09.csv.gz"),
        ("SOLUSDT", "yanniedog_SOLUSDT_1h_2021-04_2021-09.csv.gz"),
    ]:
        assert df.filter(pl.col("symbol") == sym).equals(_window(read_bars(DATA / name), *MAY))
    assert any("share the same 744 open times" in n for n in loader.notes)
    assert loader.issues == []  # no gap, spike or other problem in May 2021


def test_bundled_events_and_package_size() -> None:
    events = bundled_events()
    assert list(events) == ["covid_2020-03", "may_2021", "terra_luna_2022-05", "ftx_2022-11", "aug_2024"]
    for name in ["may_2021", "terra_luna_2022-05", "ftx_2022-11"]:
        assert {"BTCUSDT", "ETHUSDT", "SOLUSDT"} <= set(events[name].symbols)
    assert {"BTCUSDT", "ETHUSDT"} <= set(events["covid_2020-03"].symbols)
    assert BUNDLED_FILE.stat().st_size < 1_500_000
    aug = load_bundled(event="aug_2024")
    assert aug.equals(read_bars(DATA / "binance_BTCUSDT-1h-2024-08.csv"))


def test_covid_window_keeps_the_downtime_hour_missing() -> None:
    loader = ScenarioLoader()
    df = loader.load_market(_replay(["BTCUSDT", "ETHUSDT"], event="covid_2020-03"))
    assert df.group_by("symbol").len()["len"].to_list() == [743, 743]
    assert datetime(2020, 3, 4, 10, tzinfo=UTC) not in set(df["timestamp"].to_list())
    assert [(i.kind, i.timestamp, i.count) for i in loader.issues if i.kind == "gap"] == [
        ("gap", datetime(2020, 3, 4, 10, tzinfo=UTC), 1),
        ("gap", datetime(2020, 3, 4, 10, tzinfo=UTC), 1),
    ]


def test_alignment_policies_on_the_terra_window() -> None:
    sc = _replay(["BTCUSDT", "LUNAUSDT"], event="terra_luna_2022-05")
    inter = ScenarioLoader()
    a = inter.load_data(sc)
    assert a.group_by("symbol").len()["len"].to_list() == [289, 289]  # LUNA halted after 2022-05-13 00:00
    assert any("intersect: dropped 455 bar(s)" in n and "LUNAUSDT lacks 455" in n for n in inter.notes)
    none = ScenarioLoader(align="none")
    b = none.load_data(sc)
    assert sorted(b.group_by("symbol").len()["len"].to_list()) == [289, 744]
    assert any(n.startswith("align=none") and "LUNAUSDT lacks 455" in n for n in none.notes)


def test_ffill_alignment_adds_flagged_flat_bars_where_one_symbol_lacks_a_bar(tmp_path: Path) -> None:
    btc = read_bars(DATA / "misrori_BTCUSDT_1h_2021-04_2021-09.csv.gz")
    holed = btc.filter(~pl.col("timestamp").is_in([datetime(2021, 5, 10, h, tzinfo=UTC) for h in (3, 4)]))
    holed.drop("spread").write_csv(tmp_path / "BTCUSDT_1h_holed.csv")
    shutil.copy(DATA / "yanniedog_SOLUSDT_1h_2021-04_2021-09.csv.gz", tmp_path)
    sc = _replay(["BTCUSDT", "SOLUSDT"], source=str(tmp_path), start="2021-05-01", end="2021-06-01")
    loader = ScenarioLoader(align="ffill")
    df = loader.load_data(sc)
    filled = df.filter(pl.col("filled"))
    assert filled["symbol"].to_list() == ["BTCUSDT", "BTCUSDT"]
    assert filled["timestamp"].to_list() == [datetime(2021, 5, 10, h, tzinfo=UTC) for h in (3, 4)]
    prev_close = btc.filter(pl.col("timestamp") == datetime(2021, 5, 10, 2, tzinfo=UTC))["close"][0]
    assert (filled["close"] == prev_close).all() and (filled["open"] == prev_close).all()
    assert (filled["volume"] == 0).all()
    assert any("added 2 flat bar(s)" in n for n in loader.notes)
    inter = ScenarioLoader().load_data(sc)
    assert inter.group_by("symbol").len()["len"].to_list() == [742, 742]  # the two hours left out of both


def test_directory_source_resolves_symbols_and_agrees_with_bundled() -> None:
    loader = ScenarioLoader(data_dir=DATA)
    sc = Scenario(
        "dir",
        ScenarioType.HISTORIC_REPLAY,
        {},
        symbols=["BTCUSDT", "ETHUSDT", "SOLUSDT"],
        start="2021-05-01",
        end="2021-06-01",
    )
    df = loader.load_data(sc)  # no source: the loader's data_dir
    assert df.equals(load_bundled(["BTCUSDT", "ETHUSDT", "SOLUSDT"], "may_2021"))
    # BTC 1h is in two files (Deadhead and misrori): the overlap is reported
    assert any(n.startswith("BTCUSDT: ") and "several files" in n and "differed" in n for n in loader.notes)
    four = loader.load_data(_replay(["BTCUSDT"], source=str(DATA), interval="4h", start="2024-08-01", end="2024-09-01"))
    assert four.height == 31 * 6
    with pytest.raises(DataError, match=r"no ADAUSDT file at interval 1h; named files hold: \[.*'BTCUSDT 1h'"):
        loader.load_data(_replay(["ADAUSDT"], source=str(DATA), start="2021-05-01", end="2021-06-01"))


def test_file_source_range_interval_and_symbol_errors() -> None:
    path = str(DATA / "misrori_ETHUSDT_1h_2021-04_2021-09.csv.gz")
    loader = ScenarioLoader()
    df = loader.load_data(_replay(["ETHUSDT"], source=path, start="2021-05-19T10:00:00Z", end="2021-05-19T16:00:00Z"))
    assert df.height == 6 and df["timestamp"].min() == datetime(2021, 5, 19, 10, tzinfo=UTC)
    with pytest.raises(DataError, match=r"available: 2021-04-04T20:00:00Z \.\. 2021-09-30T23:00:00Z"):
        loader.load_data(_replay(["ETHUSDT"], source=path, start="2021-03-01", end="2021-05-01"))
    with pytest.raises(DataError, match=r"bars are 1h, but interval '4h' was requested"):
        loader.load_data(_replay(["ETHUSDT"], source=path, interval="4h", start="2021-05-01", end="2021-06-01"))
    with pytest.raises(DataError, match=r"unknown symbol\(s\) \['BTCUSDT'\]; the file holds \['ETHUSDT'\]"):
        loader.load_data(_replay(["BTCUSDT"], source=path))
    with pytest.raises(DataError, match="not 'bundled', 'archive', a file or a directory"):
        loader.load_data(_replay(["ETHUSDT"], source=str(DATA / "nothing_here.csv")))
    # an event supplies the window for a file source too
    ev = loader.load_data(_replay(["ETHUSDT"], source=path, event="may_2021"))
    assert ev.equals(_window(read_bars(path), *MAY))


def test_bundled_errors() -> None:
    loader = ScenarioLoader()
    with pytest.raises(DataError, match=r"unknown bundled event 'may_2019'; available: \['covid_2020-03'"):
        loader.load_data(_replay(["BTCUSDT"], event="may_2019"))
    with pytest.raises(DataError, match=r"unknown symbol\(s\) \['SOLUSDT'\] in bundled event 'covid_2020-03'"):
        loader.load_data(_replay(["SOLUSDT"], event="covid_2020-03"))
    with pytest.raises(DataError, match=r"does not cover 2021-04-15T00:00:00Z .*available windows: covid_2020-03"):
        loader.load_data(_replay(["BTCUSDT"], start="2021-04-15", end="2021-05-10"))
    with pytest.raises(
        DataError,
        match=r"LUNAUSDT does not cover .*available: 2022-05-01T00:00:00Z \.\. "
        r"2022-05-13T00:00:00Z",
    ):
        loader.load_data(_replay(["LUNAUSDT"], event="terra_luna_2022-05", start="2022-05-10", end="2022-05-20"))
    with pytest.raises(DataError, match="name an event or give start/end"):
        loader.load_data(_replay(["BTCUSDT"]))
    with pytest.raises(DataError, match="only 1h bars"):
        loader.load_data(_replay(["BTCUSDT"], event="may_2021", interval="4h"))
    # start inside a window selects it
    df = loader.load_data(_replay(["BTCUSDT"], start="2022-11-08", end="2022-11-10"))
    assert df.height == 48 and df["close"].min() < 17_000  # the FTX collapse week


def test_start_after_end_is_rejected() -> None:
    with pytest.raises(ScenarioValidationError, match="start: must be before end"):
        _replay(["BTCUSDT"], start="2021-05-10", end="2021-05-01")
    with pytest.raises(InvalidParameterError, match="start: must be before end"):
        ScenarioLoader().load_file(DATA / "binance_BTCUSDT-1h-2024-08.csv", start="2024-08-10", end="2024-08-02")


def test_repair_option_and_relative_paths() -> None:
    loader = ScenarioLoader(data_dir=DATA, repair=True)
    df = loader.load_file("deadhead_BTCUSDT_1h_2017-08_2018-03.csv.gz")  # resolved under data_dir
    assert {(a.kind, a.count) for a in loader.repairs} >= {("off_grid", 43), ("gap", 1)}
    assert not [i for i in loader.issues if i.severity == "error"]
    assert (df["timestamp"].dt.epoch("ms") % 3_600_000 == 0).all()
    raw = ScenarioLoader(data_dir=DATA).load_file("deadhead_BTCUSDT_1h_2017-08_2018-03.csv.gz")
    assert raw.height == df.height + 43 - df["filled"].sum()


def test_synthetic_scenarios_are_unchanged() -> None:
    sc = Scenario("calm", ScenarioType.MIXED_CUSTOM, {}, symbols=["BTCUSDT", "ETHUSDT"], n_bars=200, seed=9)
    expected = synthetic_market(
        ["BTCUSDT", "ETHUSDT"], n_bars=200, seed=9, scenario="calm", start=datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert ScenarioLoader().load_data(sc).equals(expected)


def test_load_file_gzipped_archive_csv(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h-2024-08.csv.gz"
    with gzip.open(path, "wb") as fh:
        fh.write((DATA / "binance_BTCUSDT-1h-2024-08.csv").read_bytes())
    df = ScenarioLoader().load_file(path, interval="1h", start="2024-08-05", end="2024-08-06")
    assert df.height == 24 and df["symbol"][0] == "BTCUSDT"
