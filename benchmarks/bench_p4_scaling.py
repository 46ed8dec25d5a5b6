"""P4 (DESIGN.md section 7): runner scaling, and the runner against ``mesa.batch_run``.

1. Throughput of the runner's process pool with 1 and with 2 workers on the same
   runs of the default partnership; target: 2 workers >= 1.8 x the throughput of 1.
   Each pool pays a fixed start-up (a fresh interpreter imports the model and loads
   its compiled code, about 2 s), measured separately with 2 runs; the scaling is
   reported end to end for ``--runs`` runs and for the runs alone.
2. The runner against ``mesa.batch_run(PartnershipModel, ...)`` on the same model,
   the same seeds and the same number of processes, side by side; target: the
   runner >= 3 x faster. ``batch_run`` forces the "spawn" start method for the
   whole program, so every measurement runs in its own fresh subprocess (the
   runner's too, so both pay their start-up).

Each figure is the median of ``--repeats`` trials (wall time including pool
start-up and, for the runner, writing Parquet). The load average is printed:
on a shared machine, run it when the machine is quiet.

Usage: python benchmarks/bench_p4_scaling.py [--runs 512] [--repeats 3] [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

RUNNER = r"""
import json, sys, time
if __name__ == "__main__":
    from partnersim.run.options import RunOptions
    from partnersim.run.runner import execute
    from partnersim.run.specs import RunSpec
    from partnersim.seeding import replicate_seeds
    n, workers, out, keep = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
    specs = [RunSpec(run_id=i, seed=s, params={}, replicate=i)
             for i, s in enumerate(replicate_seeds(20261126, n))]
    start = time.perf_counter()
    report = execute(specs, out, RunOptions(workers=workers, progress=False),
                     keep_timeseries=keep)
    elapsed = time.perf_counter() - start
    assert report.ok, report.summary()
    print(json.dumps({"seconds": elapsed, "chunk_size": report.chunk_size}))
"""

BATCH_RUN = r"""
import json, sys, time
if __name__ == "__main__":
    import mesa
    from partnersim.model.partnership import PartnershipModel
    from partnersim.seeding import replicate_seeds
    n, processes = int(sys.argv[1]), int(sys.argv[2])
    seeds = replicate_seeds(20261126, n)
    start = time.perf_counter()
    rows = mesa.batch_run(PartnershipModel, parameters={}, number_processes=processes,
                          rng=seeds, max_steps=120, data_collection_period=-1,
                          display_progress=False)
    elapsed = time.perf_counter() - start
    assert len(rows) == n, len(rows)
    print(json.dumps({"seconds": elapsed}))
"""


def _child(code: str, *args: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "child.py")  # a real file: spawn re-imports __main__
        with open(script, "w") as fh:
            fh.write(code)
        out = subprocess.run([sys.executable, script, *args], env=env, check=True,
                             capture_output=True, text=True, cwd=tmp).stdout
    return json.loads(out.strip().splitlines()[-1])


def runner_seconds(n: int, workers: int, keep: bool = True) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return _child(RUNNER, str(n), str(workers), os.path.join(tmp, "res"),
                      "1" if keep else "0")["seconds"]


def batch_run_seconds(n: int, processes: int) -> float:
    return _child(BATCH_RUN, str(n), str(processes))["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=512, help="runs per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    n, p = args.runs, args.processes
    load = os.getloadavg()
    print(f"P4: {n} runs of the default partnership per trial, {args.repeats} trials; "
          f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    s1 = statistics.median(runner_seconds(2, 1) for _ in range(args.repeats))
    s2 = statistics.median(runner_seconds(2, p) for _ in range(args.repeats))
    one = [runner_seconds(n, 1) for _ in range(args.repeats)]
    two = [runner_seconds(n, p) for _ in range(args.repeats)]
    t1, t2 = statistics.median(one), statistics.median(two)
    print(f"start-up (2 runs): 1 worker {s1:.2f} s, {p} workers {s2:.2f} s")
    print(f"runner, 1 worker:   median {t1:.2f} s ({n / t1:.2f} runs/s)  trials "
          + " ".join(f"{t:.2f}" for t in one))
    print(f"runner, {p} workers:  median {t2:.2f} s ({n / t2:.2f} runs/s)  trials "
          + " ".join(f"{t:.2f}" for t in two))
    print(f"scaling: {t1 / t2:.2f} x the throughput with {p} workers end to end, "
          f"{(t1 - s1) / (t2 - s2):.2f} x without the start-up (target >= 1.8)")

    batch = [batch_run_seconds(n, p) for _ in range(args.repeats)]
    tb = statistics.median(batch)
    print(f"mesa.batch_run, {p} processes: median {tb:.2f} s ({n / tb:.2f} runs/s)  trials "
          + " ".join(f"{t:.2f}" for t in batch))
    print(f"runner vs batch_run: {tb / t2:.2f} x faster (target >= 3), same model, seeds "
          f"and {p} processes; the runner also stores every monthly measure as Parquet")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
