"""Peak memory of Monte Carlo sweeps with summaries only, for growing path counts.

Run: ``python benches/python/sweep_memory.py [n_bars]``. Each size runs in a fresh process and
reports its peak resident set (ru_maxrss) and throughput; flat memory in the number of paths is
the property (only one summary row per path is kept).
"""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import resource, sys, time
import stresslab as sl
from stresslab.strategies import SmaCross
n_paths, n_bars = int(sys.argv[1]), int(sys.argv[2])
sc = sl.Scenario("mem", "flash_crash", {"drop_pct": 0.3}, n_bars=n_bars, seed=1)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
mc = sl.monte_carlo(sc, SmaCross(), n_paths=n_paths, keep_worst=0, chunk_size=4096)
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{n_paths} {n_bars} {peak / 1024:.0f} {base / 1024:.0f} {mc.bars / dt / 1e6:.2f} {mc.table.height}")
"""


def main() -> None:
    n_bars = int(sys.argv[1]) if len(sys.argv) > 1 else 8760
    sizes = [int(x) for x in sys.argv[2:]] or [1_000, 10_000, 100_000]
    print("paths  bars  peak_MiB  after_import_MiB  M_bars_per_s  rows")
    for n in sizes:
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(n_bars)], capture_output=True, text=True)
        print(out.stdout.strip() or out.stderr[-500:])


if __name__ == "__main__":
    main()
