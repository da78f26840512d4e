"""Benchmark: what the results store adds to each finished run, and what exporting costs.

Puts synthetic runs (``--years`` year rows × ``--metrics`` metrics, two design factors) into a
fresh store one at a time — one committed, fsynced transaction each, as a sweep does — and
prints the median and 99th-percentile time per ``put()`` in ms (target: ≤ 10 ms per run),
then the time to export the store to CSV and Parquet per 1000 runs and the file sizes.
Usage::

    python benchmarks/store_overhead.py [--runs 500] [--years 2] [--metrics 60] [--dir DIR]

The store is written in ``--dir`` (default: a temporary directory on the system's temp
filesystem); put it on the disk a sweep would use to measure that disk's fsync cost.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sim.experiments.store import ResultsStore, RunRecord, run_id


def synthetic_run(i: int, years: int, metrics: int) -> RunRecord:
    point_id, replicate = divmod(i, 10)
    point = {"interventions.video.cameras": 500 * point_id, "crime.displacement_prob": 0.01 * (point_id % 50)}
    seed = 1000 + replicate
    rows = [{"year": 2021 + y, **{f"metric_{k:02d}": (i * 7919 + k * 104729 + y) % 100_003 / 7.0
                                   for k in range(metrics)}} for y in range(years)]
    return RunRecord(run_id('{"name": "bench"}', point, seed, 0.05), "bench", "bench", point_id, point,
                     replicate, seed, 0.05, rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--years", type=int, default=2)
    ap.add_argument("--metrics", type=int, default=60)
    ap.add_argument("--dir", type=Path, default=None, help="where to write the store (default: a temp dir)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.sqlite"
        records = [synthetic_run(i, args.years, args.metrics) for i in range(args.runs)]
        times = []
        with ResultsStore(path) as store:
            for record in records:
                t = time.perf_counter()
                store.put(record)
                times.append(time.perf_counter() - t)
            times_ms = sorted(1e3 * t for t in times)
            median = statistics.median(times_ms)
            p99 = times_ms[min(len(times_ms) - 1, int(0.99 * len(times_ms)))]
            print(f"put(): {args.runs} runs of {args.years} years x {args.metrics} metrics")
            print(f"  median {median:.3f} ms/run   p99 {p99:.3f} ms/run   max {times_ms[-1]:.3f} ms/run"
                  f"   [{'OK' if median <= 10 else 'OVER'}: target <= 10 ms]")

            t = time.perf_counter()
            finished = store.finished_ids()
            print(f"finished_ids(): {1e3 * (time.perf_counter() - t):.2f} ms for {len(finished)} runs")
            for suffix in (".csv", ".parquet"):
                out = Path(tmp) / f"export{suffix}"
                t = time.perf_counter()
                rows = store.export(out)
                seconds = time.perf_counter() - t
                print(f"export {suffix:8s}: {1e3 * seconds / args.runs * 1000:8.1f} ms per 1000 runs"
                      f"   ({rows} rows, {out.stat().st_size / 1e6:.2f} MB)")
        # after close: the write-ahead log has been checkpointed into the file
        print(f"store file: {path.stat().st_size / args.runs / 1024:.1f} KiB per run")


if __name__ == "__main__":
    main()
