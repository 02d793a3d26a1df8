"""Bar file formats: detection, parsing to the long format, agreement between real sources.

The files in tests/data are real Binance klines (see tests/data/SOURCES.md). Expected values are
computed in the tests from the raw text with the csv module (an independent parser), or come
from the cross-validation documented in SOURCES.md.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from stresslab import DataError, InvalidParameterError, ScenarioLoader
from stresslab.data import detect_format, read_bars
from stresslab.data.formats import interval_from_name, symbol_from_name

DATA = Path(__file__).parent / "data"
ARCHIVE_CSV = DATA / "binance_BTCUSDT-1h-2024-08.csv"
DEADHEAD_EARLY = DATA / "deadhead_BTCUSDT_1h_2017-08_2018-03.csv.gz"
DEADHEAD_LATE = DATA / "deadhead_BTCUSDT_1h_2021-04_2021-08.csv.gz"
MISRORI_BTC = DATA / "misrori_BTCUSDT_1h_2021-04_2021-09.csv.gz"
MISRORI_ETH = DATA / "misrori_ETHUSDT_1h_2021-04_2021-09.csv.gz"
CDD_ETH = DATA / "cryptodatadownload_ETHUSDT_1h_2020-10_2021-06.csv.gz"
SOL = DATA / "yanniedog_SOLUSDT_1h_2021-04_2021-09.csv.gz"
BTC_4H = DATA / "yanniedog_BTCUSDT_4h_2024-07_2024-09.csv.gz"
VALUES = ["open", "high", "low", "close", "volume"]


def _text(path: Path) -> str:
    return gzip.open(path, "rt").read() if path.suffix == ".gz" else path.read_text()


def _ms(dt: datetime) -> int:
    return int(dt.replace(tzinfo=timezone.utc).timestamp() * 1000)


def _ts_ms(df: pl.DataFrame) -> list[int]:
    return df["timestamp"].dt.epoch("ms").to_list()


def _assert_long(df: pl.DataFrame) -> None:
    assert df.columns == ["timestamp", "symbol", "open", "high", "low", "close", "volume", "spread"]
    assert df.schema["timestamp"] == pl.Datetime("ms", "UTC")
    assert df.schema["symbol"] == pl.String
    assert all(df.schema[c] == pl.Float64 for c in [*VALUES, "spread"])
    assert df["spread"].null_count() == df.height  # klines carry no spread
    keys = list(zip(df["symbol"].to_list(), _ts_ms(df), strict=True))
    assert keys == sorted(keys)


# ---------------------------------------------------------------------------------------------
# detection and shapes


@pytest.mark.parametrize(
    ("path", "fmt", "symbol"),
    [
        (ARCHIVE_CSV, "binance_archive", "BTCUSDT"),
        (DEADHEAD_EARLY, "kline_csv", "BTCUSDT"),
        (MISRORI_ETH, "kline_csv", "ETHUSDT"),
        (SOL, "kline_csv", "SOLUSDT"),
        (BTC_4H, "kline_csv", "BTCUSDT"),
        (CDD_ETH, "cryptodatadownload", "ETHUSDT"),
    ],
)
def test_detects_format_and_parses_to_long_format(path: Path, fmt: str, symbol: str) -> None:
    assert detect_format(path) == fmt
    df = read_bars(path)
    _assert_long(df)
    assert df["symbol"].unique().to_list() == [symbol]
    n_rows = len(_text(path).strip().splitlines()) - 1 + (fmt == "binance_archive")  # no header there
    assert df.height == n_rows  # nothing dropped


def test_archive_csv_values_match_an_independent_parse() -> None:
    rows = list(csv.reader(ARCHIVE_CSV.read_text().splitlines()))
    assert all(len(r) == 12 for r in rows)
    df = read_bars(ARCHIVE_CSV)
    assert _ts_ms(df) == [int(r[0]) for r in rows]
    for j, col in enumerate(VALUES, start=1):
        assert df[col].to_list() == [float(r[j]) for r in rows]


def _archive_variant(tmp_path: Path, name: str, scale_time: int = 1, header: bool = False) -> Path:
    """The real 12-column file rewritten with open/close times scaled (x1000 = microseconds)."""
    out = io.StringIO()
    if header:
        out.write(
            "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
            "taker_buy_volume,taker_buy_quote_volume,ignore\n"
        )
    for r in csv.reader(ARCHIVE_CSV.read_text().splitlines()):
        r[0], r[6] = str(int(r[0]) * scale_time), str(int(r[6]) * scale_time)
        out.write(",".join(r) + "\n")
    path = tmp_path / name
    path.write_text(out.getvalue())
    return path


def test_archive_zip_microseconds_and_header_parse_to_the_same_bars(tmp_path: Path) -> None:
    plain = read_bars(ARCHIVE_CSV)
    zpath = tmp_path / "BTCUSDT-1h-2024-08.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(ARCHIVE_CSV, "BTCUSDT-1h-2024-08.csv")
    micro = _archive_variant(tmp_path, "BTCUSDT-1h-2025-08.csv", scale_time=1000)
    assert int(micro.read_text().split(",", 1)[0]) > 10**15  # really microseconds
    headed = _archive_variant(tmp_path, "BTCUSDT-1h-x.csv", header=True)
    for path in (zpath, micro, headed):
        assert detect_format(path) == "binance_archive"
        assert read_bars(path).equals(plain)


def test_deadhead_mixed_timestamp_layouts_and_off_grid_milliseconds() -> None:
    text = _text(DEADHEAD_EARLY)
    assert "2017-08-17 04:00:00.000" in text and "09:28:14.789" in text
    df = read_bars(DEADHEAD_EARLY)
    assert _ms(datetime(2018, 2, 9, 9, 28, 14, 789000)) in set(_ts_ms(df))
    late = read_bars(DEADHEAD_LATE)
    assert "2021-08-20 05:00:00," in _text(DEADHEAD_LATE)  # the later layout without milliseconds
    assert _ts_ms(late)[-1] == _ms(datetime(2021, 8, 20, 5))
    expected = [_ms(datetime.fromisoformat(r[0])) for r in csv.reader(_text(DEADHEAD_EARLY).splitlines()[1:])]
    assert _ts_ms(df) == expected


# ---------------------------------------------------------------------------------------------
# different sources agree where they overlap (SOURCES.md cross-validation)


def _differing(a: pl.DataFrame, b: pl.DataFrame, cols: list[str]) -> tuple[int, set[datetime]]:
    j = a.join(b, on=["symbol", "timestamp"], suffix="_b")
    bad = j.filter(pl.any_horizontal([pl.col(c) != pl.col(f"{c}_b") for c in cols]))
    return j.height, set(bad["timestamp"].to_list())


def test_deadhead_and_misrori_agree_except_the_revised_and_the_incomplete_bar() -> None:
    n, diff = _differing(read_bars(DEADHEAD_LATE), read_bars(MISRORI_BTC), VALUES)
    assert n == 3289  # 2021-04-04 20:00 .. 2021-08-20 05:00 minus the shared downtime hours
    utc = timezone.utc
    assert diff == {datetime(2021, 4, 23, 1, tzinfo=utc), datetime(2021, 8, 20, 5, tzinfo=utc)}


def test_cryptodatadownload_raw_rows_match_misrori() -> None:
    n, diff = _differing(read_bars(CDD_ETH), read_bars(MISRORI_ETH), VALUES)
    assert n > 1500
    utc = timezone.utc
    # the bar Binance revised later, and CDD's incomplete last row
    assert diff == {datetime(2021, 4, 23, 1, tzinfo=utc), datetime(2021, 6, 10, 0, tzinfo=utc)}


def test_archive_hours_aggregate_to_the_4h_export() -> None:
    h = read_bars(ARCHIVE_CSV)
    four = read_bars(BTC_4H)
    ts = np.array(_ts_ms(h))
    block = ts // (4 * 3_600_000)
    starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    ends = np.r_[starts[1:], len(ts)]
    o, hi, lo, c, v = (h[col].to_numpy() for col in VALUES)
    agg = pl.DataFrame(
        {
            "timestamp": ts[starts],
            "open": o[starts],
            "high": [hi[a:b].max() for a, b in zip(starts, ends, strict=True)],
            "low": [lo[a:b].min() for a, b in zip(starts, ends, strict=True)],
            "close": c[ends - 1],
            "volume": [v[a:b].sum() for a, b in zip(starts, ends, strict=True)],
        }
    )
    ref = four.with_columns(pl.col("timestamp").dt.epoch("ms")).join(agg, on="timestamp", suffix="_1h")
    assert ref.height == 31 * 6
    for col in ["open", "high", "low", "close"]:
        assert (ref[col] == ref[f"{col}_1h"]).all()
    assert np.allclose(ref["volume"].to_numpy(), ref["volume_1h"].to_numpy(), rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# CryptoDataDownload specifics


def test_cryptodatadownload_seconds_and_milliseconds_and_url_line(tmp_path: Path) -> None:
    rows = list(csv.DictReader(_text(CDD_ETH).splitlines()))
    assert float(rows[0]["unix"]) > float(rows[-1]["unix"]) / 1000  # newest first
    secs = [r for r in rows if float(r["unix"]) < 1e11]
    assert secs and len(secs) < len(rows)  # both epoch units occur
    expected = Counter(int(float(r["unix"]) * (1000 if float(r["unix"]) < 1e11 else 1)) for r in rows)
    df = read_bars(CDD_ETH)
    assert Counter(_ts_ms(df)) == expected
    assert df["volume"].to_list()[-1] == float(rows[0]["Volume ETH"])  # base-asset volume column
    with_url = tmp_path / "Binance_ETHUSDT_1h.csv"
    with_url.write_text("https://www.CryptoDataDownload.com\n" + _text(CDD_ETH))
    assert detect_format(with_url) == "cryptodatadownload"
    assert read_bars(with_url).equals(df)
    older_header = tmp_path / "Binance_ETHUSDT_1h_old.csv"  # older CDD files name it 'Unix Timestamp'
    older_header.write_text(_text(CDD_ETH).replace("unix,", "Unix Timestamp,", 1))
    assert read_bars(older_header).equals(df)


def test_cryptodatadownload_duplicates_put_the_raw_row_first() -> None:
    rows = list(csv.DictReader(_text(CDD_ETH).splitlines()))
    raw = {int(float(r["unix"])): float(r["close"]) for r in rows if float(r["unix"]) > 1e11}
    df = read_bars(CDD_ETH)
    ts = _ts_ms(df)
    dups = {t for t, n in Counter(ts).items() if n > 1}
    assert len(dups) > 1000
    first_close = {}
    for t, c in zip(ts, df["close"].to_list(), strict=True):
        first_close.setdefault(t, c)
    assert all(first_close[t] == raw[t] for t in dups)


# ---------------------------------------------------------------------------------------------
# generic CSV / Parquet


def test_generic_csv_with_mapping_and_epoch_seconds(tmp_path: Path) -> None:
    ref = read_bars(MISRORI_BTC)
    other = ref.select(
        (pl.col("timestamp").dt.epoch("s")).alias("Time (s)"),
        pl.col("open").alias("O"),
        pl.col("high").alias("H"),
        pl.col("low").alias("L"),
        pl.col("close").alias("C"),
        pl.col("volume").alias("Base volume"),
    )
    path = tmp_path / "mydata.csv"
    other.write_csv(path)
    mapping = {
        "timestamp": "Time (s)",
        "open": "O",
        "high": "H",
        "low": "L",
        "close": "C",
        "volume": "Base volume",
    }
    got = read_bars(path, "BTCUSDT", format="csv", columns=mapping, timestamp_unit="s")
    assert got.equals(ref)


def test_parquet_naive_datetimes_are_utc(tmp_path: Path) -> None:
    ref = read_bars(SOL)
    path = tmp_path / "sol.parquet"
    ref.with_columns(pl.col("timestamp").dt.replace_time_zone(None).dt.cast_time_unit("us")).drop(
        "spread"
    ).write_parquet(path)
    assert detect_format(path) == "parquet"
    assert read_bars(path).equals(ref)


def test_multi_symbol_file_filters_and_lists_symbols(tmp_path: Path) -> None:
    both = pl.concat([read_bars(MISRORI_BTC), read_bars(SOL)])
    path = tmp_path / "mixed_1h.csv"
    both.drop("spread").write_csv(path)
    assert read_bars(path)["symbol"].unique().sort().to_list() == ["BTCUSDT", "SOLUSDT"]
    assert read_bars(path, "SOLUSDT").equals(read_bars(SOL))
    with pytest.raises(DataError, match=r"unknown symbol 'ADAUSDT'.*BTCUSDT.*SOLUSDT"):
        read_bars(path, "ADAUSDT")


def test_names_give_symbol_and_interval() -> None:
    assert symbol_from_name("BTCUSDT-1h-2024-08.zip") == "BTCUSDT"
    assert symbol_from_name("binance_ETHUSDT_1h_2021-04_2023-12.csv.gz") == "ETHUSDT"
    assert symbol_from_name("crash_windows_1h.csv") is None
    assert interval_from_name("BTCUSDT-15m-2024-08.zip") == "15m"
    assert interval_from_name("data.csv") is None


# ---------------------------------------------------------------------------------------------
# bad input


def test_missing_file() -> None:
    with pytest.raises(DataError, match="no such file"):
        read_bars(DATA / "nope.csv")


def test_wrong_columns_lists_expected_and_found(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT_1h.csv"
    path.write_text("when,price,size\n2024-01-01 00:00:00,1.0,2.0\n")
    with pytest.raises(DataError) as exc:
        read_bars(path)
    msg = str(exc.value)
    assert "expected ['timestamp', 'open', 'high', 'low', 'close', 'volume']" in msg
    assert "found ['when', 'price', 'size']" in msg


def test_unparseable_time_names_column_and_value(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT_1h.csv"
    path.write_text("date,open,high,low,close,volume\n2024-01-01 00:00:00,1,1,1,1,1\nyesterday,1,1,1,1,1\n")
    with pytest.raises(DataError, match=r"time column 'date'.*yesterday"):
        read_bars(path)


def test_corrupt_and_ambiguous_zips(tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(ARCHIVE_CSV, "BTCUSDT-1h-2024-08.csv")
    cut = tmp_path / "BTCUSDT-1h-2024-08.zip"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # a truncated download
    with pytest.raises(DataError, match="corrupt"):
        read_bars(cut)
    two = tmp_path / "BTCUSDT-1h-two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.writestr("a.csv", "1,2,3,4,5,6\n")
        zf.writestr("b.csv", "1,2,3,4,5,6\n")
    with pytest.raises(DataError, match="one CSV file inside the zip"):
        read_bars(two)


def test_empty_file_and_missing_symbol(tmp_path: Path) -> None:
    empty = tmp_path / "BTCUSDT_1h.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_bars(empty)
    anonymous = tmp_path / "bars.csv"
    anonymous.write_text(ARCHIVE_CSV.read_text())
    with pytest.raises(InvalidParameterError, match="symbol"):
        read_bars(anonymous)
    assert read_bars(anonymous, "BTCUSDT").equals(read_bars(ARCHIVE_CSV))


def test_load_file_interval_checks(tmp_path: Path) -> None:
    loader = ScenarioLoader()
    with pytest.raises(DataError, match=r"bars are 4h, but interval '1h' was requested"):
        loader.load_file(BTC_4H, interval="1h")
    mixed = pl.concat([read_bars(MISRORI_BTC).head(500), read_bars(BTC_4H)])
    path = tmp_path / "BTCUSDT_mixed.csv"
    mixed.drop("spread").write_csv(path)
    with pytest.raises(DataError, match="mixed intervals"):
        loader.load_file(path)
    with pytest.raises(InvalidParameterError, match="interval"):
        loader.load_file(MISRORI_BTC, interval="hourly")
