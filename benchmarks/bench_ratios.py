"""R1-R5 (issue 15; docs/DESIGN.md section 7): speed as ratios to the shared yardstick.

Absolute times differ two to three times between machines of one kind and drift with the
load of a shared machine, so each figure is a ratio of two workloads measured in the same
period, interleaved where they can be, with the absolute times beside it. The yardstick is
../shared/bench/yardstick.py (or $PARTNERSIM_YARDSTICK): a small Mesa model of 200 staff
and 120 months whose code never changes.

R1  one default run (200 staff, 120 months, every monthly measure, as ``simulate`` runs it)
    over one yardstick run: target <= 3 (aim 2). With --cold, also the first use in a fresh
    checkout: compiling the model's loops into an empty cache (target < 10 s, or done at
    install time, as scripts/bootstrap.sh does).
R2  the model driven by Mesa (its own ``step()`` with the DataCollector, then the
    DataCollector's table) and through ``mesa.batch_run`` (one process), each over
    ``simulate`` on the same seeds, interleaved: target <= 1.1 each.
R3  the runner (what ``sweep`` calls) on 512 default runs, start-up included, storing the
    outputs and two monthly measures: on 1 worker against one bare ``simulate`` loop over
    the same specs, and on 2 workers against two bare loops running at once (each half the
    specs): target >= 0.95 of their throughput. Read two ways: end to end, every process
    timed from its launch (interpreter, imports, loading the compiled code, the runs, and
    for the runner storing the results), which is what a user running either would wait;
    and against warm bare loops, whose clock starts only after their imports and a first
    run (the stricter reading: the runner's whole start-up counts, the loops' none).
R4  time per tie-month at 10,000 staff over that at 500 (each in its own process, with the
    yardstick timed there too): target <= 1.5; peak memory at 10,000 staff < 1 GiB.
R5  a decision-scale study: --runs default runs (default 2,000; the issue's study is
    40,000) stored with monthly series of three measures on 2 workers, against --runs bare
    runs divided by two (the bare run's time measured just before and after, in its own
    process): target <= 1.1; the results folder < 1 GiB. Also against two bare loops run at
    once just after: on a loaded machine two processes get less than two cores. Figures for 40,000 runs are
    extrapolated from the measured study and labelled so.

Each part runs in fresh subprocesses (``mesa.batch_run`` changes the start method of the
process that calls it; peak memory is per process). The load average is printed: on a
shared machine the ratios hold better than the absolute times, but not perfectly.

Usage: python benchmarks/bench_ratios.py [--only R1,R3] [--runs 2000] [--repeats 11]
       [--cold] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

YARDSTICK = Path(os.environ.get("PARTNERSIM_YARDSTICK",
                                Path(__file__).resolve().parents[2] / "shared" / "bench"))
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
MEASURES_R3 = ["trust_across", "output"]
MEASURES_R5 = ["trust_across", "output", "health_effect"]
MASTER_SEED = 20261126

# --- child programs (each a real file: process pools re-import __main__) ---------------------

R1_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from yardstick import ratio
from partnersim.model.simulate import simulate
r, mine, ref = ratio(lambda seed: simulate(seed=seed), repeats=int(sys.argv[2]))
print(json.dumps({"ratio": r, "mine": mine, "ref": ref}))
"""

COLD_CHILD = r"""
import json, time
start = time.perf_counter()
from partnersim.model.simulate import simulate
imported = time.perf_counter()
simulate(seed=0)
print(json.dumps({"import": imported - start, "first_run": time.perf_counter() - imported}))
"""

R2_CHILD = r"""
import json, statistics, sys, time
if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    import mesa
    from yardstick import run as yardstick_run
    from partnersim.model.partnership import PartnershipModel
    from partnersim.model.simulate import simulate
    repeats = int(sys.argv[2])

    def timed(fn, seed):
        start = time.perf_counter()
        fn(seed)
        return time.perf_counter() - start

    def through_step(seed):  # Mesa's own step() and DataCollector, then its table
        model = PartnershipModel(rng=seed)
        while model.running:
            model.step()
        model.datacollector.get_model_vars_dataframe()

    def through_batch_run(seed):
        mesa.batch_run(PartnershipModel, parameters={}, number_processes=1, rng=[seed],
                       max_steps=10_000, data_collection_period=-1, display_progress=False)

    sim = lambda seed: simulate(seed=seed)
    for fn in (sim, through_step, through_batch_run, yardstick_run):
        fn(0)
    rows = []
    for seed in range(1, repeats + 1):  # interleaved: each seed through all four
        rows.append([timed(sim, seed), timed(through_step, seed),
                     timed(through_batch_run, seed), timed(yardstick_run, seed)])
    med = statistics.median
    print(json.dumps({
        "simulate": med(r[0] for r in rows), "step": med(r[1] for r in rows),
        "batch_run": med(r[2] for r in rows), "yardstick": med(r[3] for r in rows),
        "step_ratio": med(r[1] / r[0] for r in rows),
        "batch_ratio": med(r[2] / r[0] for r in rows),
        "sim_yardstick": med(r[0] / r[3] for r in rows)}))
"""

RUNNER_CHILD = r"""
import json, sys, time
if __name__ == "__main__":
    from partnersim.run.options import RunOptions
    from partnersim.run.runner import execute
    from partnersim.run.specs import RunSpec
    from partnersim.seeding import replicate_seeds
    n, workers, out, executor = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    measures = sys.argv[5].split(",")
    specs = [RunSpec(run_id=i, seed=s, params={}, replicate=i)
             for i, s in enumerate(replicate_seeds(int(sys.argv[6]), n))]
    start = time.perf_counter()
    report = execute(specs, out, RunOptions(executor=executor, workers=workers,
                                            progress=False),
                     keep_timeseries=True, measures=measures)
    elapsed = time.perf_counter() - start
    assert report.ok, report.summary()
    print(json.dumps({"seconds": elapsed, "chunk_size": report.chunk_size}))
"""

LOOP_CHILD = r"""
import json, sys, time
from partnersim.model.simulate import simulate
from partnersim.params import make_params
from partnersim.seeding import replicate_seeds
n, part, parts = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
seeds = replicate_seeds(int(sys.argv[4]), n)[part::parts]
params = make_params({})
simulate(params, seed=0)  # load the compiled code before the clock starts
start = time.time()
for seed in seeds:
    simulate(params, seed=seed)
print(json.dumps({"start": start, "end": time.time(), "runs": len(seeds)}))
"""

SIZE_CHILD = r"""
import json, resource, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from yardstick import run as yardstick_run
from partnersim.model.partnership import PartnershipModel
n, repeats = int(sys.argv[2]), int(sys.argv[3])
yardstick_run(0)
times, ties, yard = [], [], []
for seed in range(repeats):
    yard.append(yardstick_run(seed + 1))
    start = time.perf_counter()
    model = PartnershipModel(rng=seed, n_staff=n)
    model.collect_mesa = False
    model.run()
    model.summary()
    times.append(time.perf_counter() - start)
    ties.append(float(model.measures_frame()["n_ties"].mean()))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"n": n, "times": times, "ties": ties, "rss": rss, "yardstick": yard}))
"""

BARE_CHILD = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from yardstick import run as yardstick_run
from partnersim.model.simulate import simulate
repeats = int(sys.argv[2])
simulate(seed=0), yardstick_run(0)
pairs = []
for seed in range(1, repeats + 1):
    start = time.perf_counter()
    simulate(seed=seed)
    pairs.append((time.perf_counter() - start, yardstick_run(seed)))
print(json.dumps({"run": statistics.median(a for a, _ in pairs),
                  "yardstick": statistics.median(b for _, b in pairs)}))
"""


def _child(code: str, *args: str, env: dict | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "child.py")
        with open(script, "w") as fh:
            fh.write(code)
        done = subprocess.run([sys.executable, script, *args], env=env or ENV, cwd=tmp,
                              capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _folder_bytes(path: str) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


# --- the five parts ----------------------------------------------------------------------------

def r1(repeats: int, cold: bool) -> None:
    r = _child(R1_CHILD, str(YARDSTICK), str(repeats))
    print(f"R1  default run / yardstick: {r['ratio']:.2f} (target <= 3, aim 2: "
          f"{_verdict(r['ratio'] <= 3)}); run {1000 * r['mine']:.1f} ms, yardstick "
          f"{1000 * r['ref']:.1f} ms (medians of {repeats} interleaved pairs)")
    if cold:
        with tempfile.TemporaryDirectory() as cache:
            env = dict(ENV, NUMBA_CACHE_DIR=cache)
            first = _child(COLD_CHILD, env=env)
            again = _child(COLD_CHILD, env=env)
        print(f"R1  first use with an empty compile cache: import {first['import']:.1f} s + "
              f"first run {first['first_run']:.1f} s (compiling); with the cache: import "
              f"{again['import']:.1f} s + first run {again['first_run']:.2f} s. "
              f"scripts/bootstrap.sh compiles at install time")


def r2(repeats: int) -> None:
    r = _child(R2_CHILD, str(YARDSTICK), str(repeats))
    print(f"R2  Mesa step() + DataCollector / simulate: {r['step_ratio']:.3f} "
          f"({_verdict(r['step_ratio'] <= 1.1)}, target <= 1.1); mesa.batch_run / simulate: "
          f"{r['batch_ratio']:.3f} ({_verdict(r['batch_ratio'] <= 1.1)}); simulate "
          f"{1000 * r['simulate']:.1f} ms, step {1000 * r['step']:.1f} ms, batch_run "
          f"{1000 * r['batch_run']:.1f} ms, yardstick {1000 * r['yardstick']:.1f} ms "
          f"(simulate / yardstick {r['sim_yardstick']:.2f}); medians of {repeats} "
          f"interleaved seeds")


def _bare_loops(n: int, parts: int) -> tuple[float, float]:
    """Wall times of ``parts`` bare simulate loops over n specs, running at once: warm (from
    the first loop's first timed run to the last loop's end: interpreter start-up, imports
    and the first, compile-loading run not counted) and end to end (from launching the
    processes to the last one's exit)."""
    with tempfile.TemporaryDirectory() as tmp:
        launched = time.time()
        procs = []
        for part in range(parts):
            script = os.path.join(tmp, f"loop{part}.py")
            with open(script, "w") as fh:
                fh.write(LOOP_CHILD)
            procs.append(subprocess.Popen(
                [sys.executable, script, str(n), str(part), str(parts), str(MASTER_SEED)],
                env=ENV, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        results = []
        for proc in procs:
            out, err = proc.communicate()
            if proc.returncode:
                raise RuntimeError(f"bare loop failed:\n{err[-3000:]}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        ended = time.time()
    return max(r["end"] for r in results) - min(r["start"] for r in results), ended - launched


def _runner(n: int, workers: int, executor: str, measures: list[str],
            seed: int = MASTER_SEED) -> tuple[float, int, float]:
    """The runner's time inside its process (after importing the runner), the results
    folder's size, and its process's time from launch to exit."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "res")
        launched = time.time()
        r = _child(RUNNER_CHILD, str(n), str(workers), out, executor, ",".join(measures),
                   str(seed))
        return r["seconds"], _folder_bytes(out), time.time() - launched


def r3(n: int, repeats: int) -> None:
    print(f"R3  the runner on {n} default runs (outputs + {len(MEASURES_R3)} monthly measures "
          f"stored), start-up included, against bare simulate loops; medians of {repeats} "
          f"alternating trials; load {_load()}")
    rows: dict[str, list[tuple[float, float]]] = {}  # name -> (warm or in-process, launch)
    for k in range(repeats):
        trial = [("bare x1", lambda: _bare_loops(n, 1)),
                 ("serial", lambda: _runner(n, 1, "serial", MEASURES_R3)[::2]),
                 ("process x1", lambda: _runner(n, 1, "process", MEASURES_R3)[::2]),
                 ("bare x2", lambda: _bare_loops(n, 2)),
                 ("process x2", lambda: _runner(n, 2, "process", MEASURES_R3)[::2])]
        for name, fn in (trial if k % 2 == 0 else trial[::-1]):
            rows.setdefault(name, []).append(fn())
    med = {name: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v))
           for name, v in rows.items()}
    for name, v in rows.items():
        print(f"      {name:<11} from launch {med[name][1]:6.2f} s ({n / med[name][1]:5.1f} "
              f"runs/s), {'warm' if name.startswith('bare') else 'in process'} "
              f"{med[name][0]:6.2f} s; trials from launch "
              + " ".join(f"{t[1]:.2f}" for t in v))
    for runner, bare in (("serial", "bare x1"), ("process x1", "bare x1"),
                         ("process x2", "bare x2")):
        end_to_end = med[bare][1] / med[runner][1]
        strict = med[bare][0] / med[runner][0]
        print(f"R3  {runner} / {bare} throughput: end to end {end_to_end:.3f} "
              f"({_verdict(end_to_end >= 0.95)}, target >= 0.95); against the warm loops "
              f"{strict:.3f} ({_verdict(strict >= 0.95)})")
    print(f"R3  two workers give {med['process x1'][1] / med['process x2'][1]:.2f} x one "
          f"worker's throughput end to end; two bare loops "
          f"{med['bare x1'][1] / med['bare x2'][1]:.2f} x one")


def r4(quick: bool) -> None:
    sizes = (500, 10000)
    rows = {}
    for n in sizes:
        repeats = 3 if n <= 1000 else (1 if quick else 2)
        r = _child(SIZE_CHILD, str(YARDSTICK), str(n), str(repeats))
        t = statistics.median(r["times"])
        ties = statistics.median(r["ties"])
        rows[n] = (t, ties, r["rss"], statistics.median(r["yardstick"]))
        print(f"R4  {n:>6} staff: {t:7.2f} s/run ({t / rows[n][3]:.1f} yardsticks), "
              f"mean ties {ties:9.0f}, {1e6 * t / (ties * 120):6.3f} us per tie-month, "
              f"peak {r['rss'] / 2**20:5.0f} MiB")
    small, big = rows[sizes[0]], rows[sizes[1]]
    per_small, per_big = small[0] / small[1], big[0] / big[1]
    # each size's time per tie-month relative to its own process's yardstick, too
    norm = (big[0] / big[3] / big[1]) / (small[0] / small[3] / small[1])
    print(f"R4  time per tie-month, 10,000 / 500 staff: {per_big / per_small:.2f} "
          f"({_verdict(per_big / per_small <= 1.5)}, target <= 1.5; {norm:.2f} with each "
          f"size's time over its own yardstick); peak memory at 10,000 staff "
          f"{big[2] / 2**20:.0f} MiB ({_verdict(big[2] < 2**30)}, target < 1024 MiB)")


def r5(n: int, repeats: int) -> None:
    before = _child(BARE_CHILD, str(YARDSTICK), str(repeats))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "study")
        start = time.perf_counter()
        r = _child(RUNNER_CHILD, str(n), "2", out, "process", ",".join(MEASURES_R5),
                   str(MASTER_SEED + 1))
        wall = time.perf_counter() - start
        size = _folder_bytes(out)
    after = _child(BARE_CHILD, str(YARDSTICK), str(repeats))
    pair_runs = min(n, 256)  # what the two cores give bare loops now (on a shared machine,
    pair = _bare_loops(pair_runs, 2)[0] / pair_runs  # often less than two free cores)
    bare = statistics.median([before["run"], after["run"]])
    ideal = n * bare / 2
    ratio = r["seconds"] / ideal
    print(f"R5  decision-scale study, {n} default runs on 2 workers, outputs + "
          f"{len(MEASURES_R5)} monthly measures stored: {r['seconds']:.1f} s in the runner "
          f"({wall:.1f} s with the interpreter), against {n} bare runs / 2 = {ideal:.1f} s "
          f"(bare run {1000 * bare:.1f} ms, {1000 * before['run']:.1f} before and "
          f"{1000 * after['run']:.1f} after; yardstick {1000 * before['yardstick']:.1f} / "
          f"{1000 * after['yardstick']:.1f} ms): {ratio:.3f} ({_verdict(ratio <= 1.1)}, "
          f"target <= 1.1); results folder {size / 2**20:.1f} MiB "
          f"({size / n / 1024:.1f} KiB a run); load {_load()}")
    print(f"R5  against two bare simulate loops running at once just after ({pair_runs} runs, "
          f"{1000 * pair:.1f} ms of wall time a run): {r['seconds'] / (n * pair):.3f}: the "
          f"harness's own cost on the cores this machine gave now")
    if n != 40000:
        per_run = size / n
        print(f"R5  extrapolated (not measured) to 40,000 runs at the same cost per run: "
              f"{40000 * r['seconds'] / n / 60:.1f} minutes here, results folder about "
              f"{40000 * per_run / 2**20:.0f} MiB ({_verdict(40000 * per_run < 2**30)}, "
              f"target < 1024 MiB); the ratio to bare runs stays about {ratio:.2f} if the "
              f"fixed start-up (about 2 s) is spread over more runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="R1,R2,R3,R4,R5", help="comma-separated parts")
    parser.add_argument("--repeats", type=int, default=11, help="interleaved pairs (R1, R2)")
    parser.add_argument("--r3-runs", type=int, default=512)
    parser.add_argument("--r3-repeats", type=int, default=3)
    parser.add_argument("--runs", type=int, default=2000, help="R5's study size (40000: the "
                        "issue's full study, about an hour here)")
    parser.add_argument("--cold", action="store_true",
                        help="R1: also time compiling into an empty cache (about a minute)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and runs")
    args = parser.parse_args()
    if not (YARDSTICK / "yardstick.py").is_file():
        sys.exit(f"no yardstick at {YARDSTICK} (set PARTNERSIM_YARDSTICK)")
    if args.quick:
        args.repeats, args.r3_runs, args.r3_repeats = 5, 128, 1
        args.runs = min(args.runs, 256)
    parts = {p.strip().upper() for p in args.only.split(",")}
    print(f"issue 15 targets as ratios; load average {_load()}")
    if "R1" in parts:
        r1(args.repeats, args.cold)
    if "R2" in parts:
        r2(args.repeats)
    if "R3" in parts:
        r3(args.r3_runs, args.r3_repeats)
    if "R4" in parts:
        r4(args.quick)
    if "R5" in parts:
        r5(args.runs, args.repeats)


if __name__ == "__main__":
    main()
