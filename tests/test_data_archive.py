"""The exchange archive client against a local HTTP server (no test reaches the internet).

The server, on 127.0.0.1 in a thread, serves zips in the data.binance.vision layout built here
from the real 12-column kline file (tests/data/binance_BTCUSDT-1h-2024-08.csv), counts requests,
honours Range requests, and can misbehave on demand: truncate a body, publish a wrong checksum,
serve a corrupt zip.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from stresslab import DataError, InvalidParameterError, Scenario, ScenarioLoader, ScenarioType
from stresslab.data import ArchiveClient, read_bars

DATA = Path(__file__).parent / "data"
ARCHIVE_CSV = DATA / "binance_BTCUSDT-1h-2024-08.csv"
PREFIX = "/data/spot"
MONTHLY = f"{PREFIX}/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-08.zip"
TODAY = date(2024, 10, 15)  # August 2024 is a complete month: the monthly file is used


def _zip(name: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, text)
    return buf.getvalue()


def _checksum(data: bytes, name: str) -> bytes:
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode()


class Archive:
    """Files by URL path, request log and misbehaviour switches of the test server."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.truncate_once: set[str] = set()
        self.lock = threading.Lock()

    def add(self, path: str, data: bytes, checksum: bytes | None = None) -> None:
        self.files[path] = data
        self.files[path + ".CHECKSUM"] = checksum if checksum is not None else _checksum(data, path.rsplit("/", 1)[1])

    def count(self, suffix: str = "") -> int:
        return sum(1 for p, _ in self.requests if p.endswith(suffix))


def _handler(archive: Archive) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            rng = self.headers.get("Range")
            with archive.lock:
                archive.requests.append((self.path, rng))
                body = archive.files.get(self.path)
                truncate = self.path in archive.truncate_once
                archive.truncate_once.discard(self.path)
            if body is None:
                self.send_error(404)
                return
            start = int(rng.split("=")[1].split("-")[0]) if rng else 0
            part = body[start:]
            self.send_response(206 if rng else 200)
            if rng:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Content-Length", str(len(part)))
            self.end_headers()
            # a dropped connection: half the announced body, then the socket closes (HTTP/1.0)
            self.wfile.write(part[: len(part) // 2] if truncate else part)

    return Handler


@pytest.fixture()
def server() -> Iterator[tuple[Archive, str]]:
    archive = Archive()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(archive))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield archive, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture()
def month() -> bytes:
    return _zip("BTCUSDT-1h-2024-08.csv", ARCHIVE_CSV.read_text())


def _client(cache: Path, url: str, **kw: object) -> ArchiveClient:
    return ArchiveClient(cache, base_url=url, today=TODAY, timeout=5, **kw)  # type: ignore[arg-type]


def _cache_files(cache: Path) -> list[str]:
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())


def test_first_load_downloads_second_load_uses_cache(server, month: bytes, tmp_path: Path) -> None:
    archive, url = server
    archive.add(MONTHLY, month)
    cache = tmp_path / "cache"
    expected = read_bars(ARCHIVE_CSV)
    df = _client(cache, url).load("BTCUSDT", "1h", "2024-08-01", "2024-09-01")
    assert df.equals(expected)
    assert archive.count(".zip") == 1 and archive.count(".CHECKSUM") == 1
    assert _cache_files(cache) == ["binance/spot/monthly/BTCUSDT/1h/BTCUSDT-1h-2024-08.parquet"]
    again = _client(cache, url)
    n = len(archive.requests)
    df2 = again.load("btcusdt", "1h", "2024-08-05", "2024-08-06")
    assert len(archive.requests) == n and again.requests == 0  # no network at all
    assert df2.equals(expected.filter(pl.col("timestamp").dt.day() == 5))


def test_truncated_download_is_detected_and_resumed(server, month: bytes, tmp_path: Path) -> None:
    archive, url = server
    archive.add(MONTHLY, month)
    archive.truncate_once.add(MONTHLY)
    client = _client(tmp_path, url)
    df = client.load("BTCUSDT", "1h", "2024-08-01", "2024-09-01")
    assert df.equals(read_bars(ARCHIVE_CSV))
    zips = [(p, r) for p, r in archive.requests if p == MONTHLY]
    assert zips == [(MONTHLY, None), (MONTHLY, f"bytes={len(month) // 2}-")]  # resumed where it broke
    assert any("interrupted" in line for line in client.log)
    assert not list(tmp_path.rglob("*.part"))


def test_partial_file_from_an_earlier_run_is_resumed(server, month: bytes, tmp_path: Path) -> None:
    archive, url = server
    archive.add(MONTHLY, month)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "BTCUSDT-1h-2024-08.zip.part").write_bytes(month[:1000])
    df = _client(tmp_path, url).load("BTCUSDT", "1h", "2024-08-01", "2024-09-01")
    assert df.height == 744
    assert [r for p, r in archive.requests if p == MONTHLY] == ["bytes=1000-"]


def test_checksum_mismatch_names_the_file_and_leaves_nothing(server, month: bytes, tmp_path: Path) -> None:
    archive, url = server
    archive.add(MONTHLY, month, checksum=_checksum(b"something else", "BTCUSDT-1h-2024-08.zip"))
    with pytest.raises(DataError) as exc:
        _client(tmp_path, url, retries=2).load("BTCUSDT", "1h", "2024-08-01", "2024-09-01")
    msg = str(exc.value)
    assert "BTCUSDT-1h-2024-08.zip" in msg and "checksum mismatch" in msg
    assert hashlib.sha256(month).hexdigest() in msg
    assert archive.count(".zip") == 2  # retried once with a fresh download
    assert _cache_files(tmp_path) == []


def test_corrupt_zip_is_an_error_and_leaves_nothing(server, month: bytes, tmp_path: Path) -> None:
    archive, url = server
    bad = month[: len(month) // 2] + bytes(200)  # checksum published for the corrupt bytes
    archive.add(MONTHLY, bad)
    with pytest.raises(DataError, match=r"BTCUSDT-1h-2024-08\.zip.*corrupt"):
        _client(tmp_path, url, retries=2).load("BTCUSDT", "1h", "2024-08-01", "2024-09-01")
    assert _cache_files(tmp_path) == []


def test_current_month_uses_daily_files_in_microseconds(server, tmp_path: Path) -> None:
    archive, url = server
    lines = ARCHIVE_CSV.read_text().splitlines()
    by_day: dict[str, list[str]] = {}
    for line in lines:
        f = line.split(",")
        day = datetime.fromtimestamp(int(f[0]) / 1000, tz=timezone.utc).date().isoformat()
        f[0], f[6] = str(int(f[0]) * 1000), str(int(f[6]) * 1000)  # the 2025+ archive layout
        by_day.setdefault(day, []).append(",".join(f))
    for day, rows in by_day.items():
        name = f"BTCUSDT-1h-{day}"
        archive.add(f"{PREFIX}/daily/klines/BTCUSDT/1h/{name}.zip", _zip(f"{name}.csv", "\n".join(rows) + "\n"))
    client = ArchiveClient(tmp_path, base_url=url, today=date(2024, 8, 20), timeout=5)
    df = client.load("BTCUSDT", "1h", "2024-08-03T06:00:00Z", "2024-08-05T00:00:00Z")
    expected = read_bars(ARCHIVE_CSV).filter(
        pl.col("timestamp").is_between(
            datetime(2024, 8, 3, 6, tzinfo=timezone.utc), datetime(2024, 8, 4, 23, tzinfo=timezone.utc)
        )
    )
    assert df.equals(expected)
    assert Counter(p.rsplit("/", 1)[1] for p, _ in archive.requests if p.endswith(".zip")) == {
        "BTCUSDT-1h-2024-08-03.zip": 1,
        "BTCUSDT-1h-2024-08-04.zip": 1,
    }
    with pytest.raises(DataError, match="complete days only"):
        client.load("BTCUSDT", "1h", "2024-08-19", "2024-08-21")


def test_missing_monthly_falls_back_to_daily_and_unknown_symbol_is_named(server, month: bytes, tmp_path: Path) -> None:
    archive, url = server
    text = ARCHIVE_CSV.read_text().splitlines()
    archive.add(
        f"{PREFIX}/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-08-01.zip",
        _zip("x.csv", "\n".join(text[:24]) + "\n"),
    )
    client = _client(tmp_path, url)
    df = client.load("BTCUSDT", "1h", "2024-08-01", "2024-08-02")
    assert df.height == 24
    assert any("not in the archive" in line for line in client.log)
    with pytest.raises(DataError, match=r"DOGEUSDT-1h-2024-08-01\.zip not found \(404\).*available.*: nothing"):
        client.load("DOGEUSDT", "1h", "2024-08-01", "2024-08-02")


def test_range_not_covered_and_bad_arguments(server, tmp_path: Path) -> None:
    archive, url = server
    rows = ARCHIVE_CSV.read_text().splitlines()[5:]  # the month's file without its first 5 hours
    archive.add(MONTHLY, _zip("BTCUSDT-1h-2024-08.csv", "\n".join(rows) + "\n"))
    client = _client(tmp_path, url)
    with pytest.raises(
        DataError,
        match=r"2024-09-01 .*available in the requested range: "
        r"2024-08-01T05:00:00Z \.\. 2024-08-31T23:00:00Z",
    ):
        client.load("BTCUSDT", "1h", "2024-08-20", "2024-09-01T05:00:00Z")  # September is not served
    with pytest.raises(DataError, match=r"does not cover .*available: 2024-08-01T05:00:00Z \.\. 2024-08-31T23:00:00Z"):
        client.load("BTCUSDT", "1h", "2024-08-01", "2024-08-02")
    with pytest.raises(InvalidParameterError, match="start: must be before end"):
        client.load("BTCUSDT", "1h", "2024-08-05", "2024-08-01")
    with pytest.raises(InvalidParameterError, match="interval"):
        client.load("BTCUSDT", "7m", "2024-08-01", "2024-08-02")
    with pytest.raises(InvalidParameterError, match="base_url"):
        ArchiveClient(tmp_path, base_url="ftp://example")


def test_historic_replay_from_the_archive(server, month: bytes, tmp_path: Path) -> None:
    archive, url = server
    archive.add(MONTHLY, month)
    loader = ScenarioLoader(cache_dir=tmp_path, archive_url=url)
    sc = Scenario(
        "aug24",
        ScenarioType.HISTORIC_REPLAY,
        {"source": "archive"},
        symbols=["BTCUSDT"],
        start="2024-08-04",
        end="2024-08-07",
    )
    first = loader.load_data(sc)
    assert first.height == 72 and first["timestamp"].min() == datetime(2024, 8, 4, tzinfo=timezone.utc)
    n = len(archive.requests)
    assert ScenarioLoader(cache_dir=tmp_path, archive_url=url).load_data(sc).equals(first)
    assert len(archive.requests) == n
