"""P1 and P2 (DESIGN.md section 7): time per run of the model, and how it scales.

P1: the default scenario (200 staff, 120 months, every monthly measure, as ``simulate``
    runs it): median time per run on one core, and its ratio to the shared yardstick
    (../shared/bench/yardstick.py, or $PARTNERSIM_YARDSTICK: a reference Mesa model timed
    interleaved in the same process, so the ratio does not depend on the machine's speed).
P2: 10,000 staff, 120 months: time and peak memory; target <= 5 s and <= 1 GiB;
    time from 500 to 10,000 staff against the number of ties (about linear).

Each size runs in a fresh subprocess so peak memory (ru_maxrss) is its own.
Usage: python benchmarks/bench_model.py [--repeats 11] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from partnersim.model.partnership import PartnershipModel
n, repeats = int(sys.argv[1]), int(sys.argv[2])
times, ties, contacts = [], [], []
for seed in range(repeats):
    start = time.perf_counter()
    model = PartnershipModel(rng=seed, n_staff=n)
    model.collect_mesa = False  # as the runner does: the model's own table holds every measure
    model.run()
    times.append(time.perf_counter() - start)
    frame = model.measures_frame()
    ties.append(float(frame["n_ties"].mean()))
    contacts.append(float(frame["contacts"].sum()))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"n": n, "times": times, "ties": ties, "contacts": contacts, "rss": rss}))
"""


RATIO_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from yardstick import ratio
from partnersim.model.simulate import simulate
r, mine, ref = ratio(lambda seed: simulate(seed=seed), repeats=int(sys.argv[2]))
print(json.dumps({"ratio": r, "mine": mine, "ref": ref}))
"""

YARDSTICK = Path(os.environ.get("PARTNERSIM_YARDSTICK",
                                Path(__file__).resolve().parents[2] / "shared" / "bench"))


def measure_ratio(repeats: int) -> dict | None:
    """The default run against the yardstick, interleaved in one process (None: no yardstick)."""
    if not (YARDSTICK / "yardstick.py").is_file():
        return None
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", RATIO_CHILD, str(YARDSTICK), str(repeats)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(n: int, repeats: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(repeats)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats

    p1 = measure_ratio(repeats)
    if p1 is None:
        print(f"P1  no yardstick at {YARDSTICK} (set PARTNERSIM_YARDSTICK): ratio not measured")
    else:
        print(f"P1  default scenario, 200 staff x 120 months, {repeats} interleaved pairs: "
              f"{p1['ratio']:.2f} x the yardstick (run {1000 * p1['mine']:.1f} ms, "
              f"yardstick {1000 * p1['ref']:.1f} ms, medians)")

    sizes = [500, 1000, 2000, 5000] if args.quick else [500, 1000, 2000, 5000, 10000]
    print("\nP2  scaling (one process per size; 3 runs each, medians)")
    print(f"{'staff':>7} {'s/run':>8} {'mean ties':>11} {'us per tie-month':>17} {'peak MiB':>9}")
    rows = []
    for n in sizes:
        r = measure(n, 1 if n >= 5000 and args.quick else 3)
        t = statistics.median(r["times"])
        ties = statistics.median(r["ties"])
        rows.append((n, t, ties, r["rss"]))
        print(f"{n:>7} {t:>8.2f} {ties:>11.0f} {1e6 * t / (ties * 120):>17.2f} "
              f"{r['rss'] / 2**20:>9.0f}")
    n, t, _, rss = rows[-1]
    if n == 10000:
        print(f"\nP2  10,000 staff x 120 months: {t:.2f} s (target <= 5 s), "
              f"peak {rss / 2**20:.0f} MiB (target <= 1024 MiB)")


if __name__ == "__main__":
    main()
