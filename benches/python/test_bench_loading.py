"""Parsing throughput of the bar loaders, next to plain polars on the same file in the same run.

Run:  pytest benches/python/test_bench_loading.py --benchmark-enable -s

Files (built once per run in a temp folder from real rows: the August 2024 BTCUSDT 1h archive
file of tests/data, repeated with shifted open times to N_ROWS rows):

* ``archive.csv``: the 12-column data.binance.vision layout, no header;
* ``export.csv``: a headered kline export (``date`` text like ``2024-08-01 00:00:00``, OHLCV, ticker);
* ``bars.parquet``: the long format.

Each group holds the stresslab loader and its reference (``pl.read_csv`` / ``pl.read_parquet``
of the same file, no post-processing). The teardown prints rows/s and the loader / reference
time ratio per group; the same numbers go to each benchmark's ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from stresslab.data import read_bars, validate_data
from stresslab.data.formats import ARCHIVE_COLUMNS

N_COPIES = 700  # 700 x 744 = 520,800 rows
SOURCE = Path(__file__).resolve().parents[2] / "tests" / "data" / "binance_BTCUSDT-1h-2024-08.csv"
RESULTS: dict[str, dict[str, float]] = {}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    base = pl.read_csv(SOURCE, has_header=False)
    base.columns = list(ARCHIVE_COLUMNS)  # polars 1.x names them column_1.., 2.x column_0..
    span = 744 * 3_600_000
    big = pl.concat(
        [base.with_columns(pl.col("open_time") + k * span, pl.col("close_time") + k * span) for k in range(N_COPIES)]
    )
    d = tmp_path_factory.mktemp("bench")
    out = {"archive": d / "archive.csv", "export": d / "export.csv", "parquet": d / "bars.parquet"}
    big.write_csv(out["archive"], include_header=False)
    bars = read_bars(out["archive"], "BTCUSDT")
    bars.select(
        pl.col("timestamp").dt.strftime("%Y-%m-%d %H:%M:%S").alias("date"),
        "open",
        "high",
        "low",
        "close",
        "volume",
        pl.col("symbol").alias("ticker"),
    ).write_csv(out["export"])
    bars.write_parquet(out["parquet"])
    yield out
    if RESULTS:
        print("\n\nloading throughput (rows/s, median) and time ratio loader / reference")
        for group, r in sorted(RESULTS.items()):
            if "loader" in r and "reference" in r:
                print(
                    f"  {group:>10}: stresslab {r['rows'] / r['loader']:>12,.0f} rows/s   "
                    f"reference {r['rows'] / r['reference']:>12,.0f} rows/s   "
                    f"ratio {r['loader'] / r['reference']:.2f}"
                )
            for role, t in r.items():
                if role not in ("rows", "loader", "reference"):
                    print(f"  {group:>10}: {role} {r['rows'] / t:>12,.0f} rows/s")


def _run(benchmark, group: str, role: str, fn: Callable[[], pl.DataFrame]) -> None:  # noqa: ANN001
    df = benchmark.pedantic(fn, rounds=5, iterations=1, warmup_rounds=1)
    median = benchmark.stats.stats.median
    rows = df.height
    RESULTS.setdefault(group, {"rows": rows})[role] = median
    benchmark.extra_info.update(rows=rows, rows_per_s=rows / median)


@pytest.mark.benchmark(group="archive-csv")
def test_archive_csv_stresslab(benchmark, files: dict[str, Path]) -> None:  # noqa: ANN001
    _run(benchmark, "archive", "loader", lambda: read_bars(files["archive"], "BTCUSDT"))


@pytest.mark.benchmark(group="archive-csv")
def test_archive_csv_polars_read_csv(benchmark, files: dict[str, Path]) -> None:  # noqa: ANN001
    _run(benchmark, "archive", "reference", lambda: pl.read_csv(files["archive"], has_header=False))


@pytest.mark.benchmark(group="export-csv")
def test_export_csv_stresslab(benchmark, files: dict[str, Path]) -> None:  # noqa: ANN001
    _run(benchmark, "export", "loader", lambda: read_bars(files["export"]))


@pytest.mark.benchmark(group="export-csv")
def test_export_csv_polars_read_csv(benchmark, files: dict[str, Path]) -> None:  # noqa: ANN001
    _run(benchmark, "export", "reference", lambda: pl.read_csv(files["export"]))


@pytest.mark.benchmark(group="export-csv")
def test_export_csv_polars_read_csv_parse_dates(benchmark, files: dict[str, Path]) -> None:  # noqa: ANN001
    _run(
        benchmark,
        "export",
        "polars read_csv(try_parse_dates=True)",
        lambda: pl.read_csv(files["export"], try_parse_dates=True),
    )


@pytest.mark.benchmark(group="parquet")
def test_parquet_stresslab(benchmark, files: dict[str, Path]) -> None:  # noqa: ANN001
    _run(benchmark, "parquet", "loader", lambda: read_bars(files["parquet"]))


@pytest.mark.benchmark(group="parquet")
def test_parquet_polars_read_parquet(benchmark, files: dict[str, Path]) -> None:  # noqa: ANN001
    _run(benchmark, "parquet", "reference", lambda: pl.read_parquet(files["parquet"]))


@pytest.mark.benchmark(group="validate")
def test_validate_data(benchmark, files: dict[str, Path]) -> None:  # noqa: ANN001
    bars = read_bars(files["parquet"])

    def run() -> pl.DataFrame:
        ok, issues = validate_data(bars)
        assert ok and not issues
        return bars

    _run(benchmark, "validate", "validate_data", run)
