"""Rebuild python/stresslab/data/bundled/crash_windows_1h.parquet from the real files.

Usage: python scripts/make_bundled_data.py [SHARED_DATA_DIR]   (default: ../shared/data)

Rows are copied, never altered: prices and volumes are parsed from the source text to Float64.
Sources (see python/stresslab/data/bundled/SOURCES.md):
- every row of crash_windows_1h.csv (itself a copy of rows of the verified raw Binance files);
- SOLUSDT 2022-05 (terra_luna_2022-05 window) from binance_SOLUSDT_1h_2020-08_2026-01.csv.gz;
- ETHUSDT 2020-03 (covid_2020-03 window) from the CryptoDataDownload ETH export, the only hourly
  ETH source before 2021-04: its processed rows (epoch in seconds) are kept, except the one
  inserted flat zero-volume bar (2020-03-04 10:00) that hides the exchange downtime.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "python" / "stresslab" / "data" / "bundled" / "crash_windows_1h.parquet"
VALUES = ("open", "high", "low", "close", "volume")


def _ts(col: str) -> pl.Expr:
    return (
        pl.col(col).str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="ms", time_zone="UTC").alias("timestamp")
    )


def main(shared: Path) -> None:
    windows = pl.read_csv(shared / "crash_windows_1h.csv", infer_schema=False).select(
        "event",
        "symbol",
        _ts("open_time_utc"),
        *(pl.col(c).cast(pl.Float64) for c in VALUES),
        pl.format("{}:{}", "source_repo", "source_path").alias("source"),
    )
    sol = (
        pl.read_csv(shared / "binance_SOLUSDT_1h_2020-08_2026-01.csv.gz", infer_schema=False)
        .select(
            pl.lit("terra_luna_2022-05").alias("event"),
            pl.lit("SOLUSDT").alias("symbol"),
            _ts("timestamp"),
            *(pl.col(c).cast(pl.Float64) for c in VALUES),
            pl.lit("yanniedog/binance-historical-OHLCV-data:SOLUSDT_1h.csv").alias("source"),
        )
        .filter(pl.col("timestamp").dt.strftime("%Y-%m") == "2022-05")
    )
    cdd = (
        pl.read_csv(
            shared / "cryptodatadownload_binance_ETHUSDT_1h_2017-08_2021-06.csv.gz", infer_schema=False
        )
        .select(
            pl.lit("covid_2020-03").alias("event"),
            pl.lit("ETHUSDT").alias("symbol"),
            (pl.col("unix").cast(pl.Float64) * 1000)
            .cast(pl.Int64)
            .cast(pl.Datetime("ms", "UTC"))
            .alias("timestamp"),
            *(pl.col(c).cast(pl.Float64) for c in ("open", "high", "low", "close")),
            pl.col("Volume ETH").cast(pl.Float64).alias("volume"),
            pl.lit("andrewsiah/crypto-historical-data:Binance_ETHUSDT_1h.csv (CryptoDataDownload)").alias(
                "source"
            ),
        )
        .filter((pl.col("timestamp").dt.strftime("%Y-%m") == "2020-03") & (pl.col("volume") > 0))
    )
    assert cdd.height == 743 and sol.height == 744, (cdd.height, sol.height)
    out = (
        pl.concat([windows, sol, cdd])
        .with_columns(
            pl.col("event").cast(pl.Categorical),
            pl.col("symbol").cast(pl.Categorical),
            pl.col("source").cast(pl.Categorical),
        )
        .sort("event", "symbol", "timestamp")
    )
    assert out.select(pl.struct("symbol", "timestamp").is_duplicated().any()).item() is False
    OUT.parent.mkdir(parents=True, exist_ok=True)
    out.write_parquet(OUT, compression="zstd", compression_level=19, statistics=False)
    print(f"{OUT}: {out.height} rows, {OUT.stat().st_size} bytes")
    print(
        out.group_by("event", "symbol")
        .agg(pl.len(), pl.col("timestamp").min().alias("first"), pl.col("timestamp").max().alias("last"))
        .sort("event", "symbol")
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
