"""P3 (DESIGN.md section 7): a Sobol' study of 15 parameters end to end on 2 cores.

Base sample 256 with second-order indices gives 256 x (2 x 15 + 2) = 8,192 design
points; 2 replicates make 16,384 runs of the default partnership (200 staff, 120
months). End to end = design, runs through the process pool (2 workers),
sharded Parquet, indices with bootstrap CIs, replicate noise, convergence report
and time-resolved indices for two monthly measures, plots. Target: <= 10 minutes.

Usage:
    python benchmarks/bench_p3_sobol.py                   # the full study (~16,000 runs)
    python benchmarks/bench_p3_sobol.py --base-sample 16  # a quick look (1,024 runs)

Prints the wall time of each phase, the throughput, and (with ``--repeats``) the
median over repeats. Results go to a temporary folder unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PARAMETERS = [
    "relationship_time", "resources", "leadership", "p_turnover", "prior_familiarity",
    "ground_rules", "service_pressure", "capacity_budget", "trust_gain_rate",
    "trust_loss_ratio", "misreading_noise", "vision_clarity", "message_volume",
    "coordination_cost", "synergy_max",
]
OUTPUTS = ["cumulative_output", "output_vs_alone", "trust_across_final", "health_effect_final"]
MEASURES = ["trust_across", "output"]


def experiment(base_sample: int, replicates: int):
    from partnersim.inputs.experiments import experiment_from_dict

    data = {
        "name": "bench_p3",
        "scenario": str(ROOT / "scenarios" / "baseline.toml"),
        "design": "sobol", "sample_size": base_sample, "replicates": replicates,
        "seed": 20261126, "outputs": OUTPUTS, "measures": MEASURES,
        "vary": {name: {} for name in PARAMETERS},
        "options": {"second_order": True, "num_resamples": 100},
    }
    return experiment_from_dict(data, source="bench_p3", base_dir=ROOT)


def one(base_sample: int, replicates: int, workers: int, out: Path) -> dict[str, float]:
    from partnersim.run.options import RunOptions
    from partnersim.run.storage import load_runs
    from partnersim.study.sensitivity import analyse, run_experiment, write_analysis

    exp = experiment(base_sample, replicates)
    start = time.perf_counter()
    report, design = run_experiment(exp, out, RunOptions(workers=workers, overwrite=True))
    ran = time.perf_counter()
    analysis = analyse(exp, design, load_runs(out), out)
    analysed = time.perf_counter()
    write_analysis(analysis, out)
    done = time.perf_counter()
    if not report.ok:
        print(report.summary(), file=sys.stderr)
    return {"runs": report.total, "run_s": ran - start, "analysis_s": analysed - ran,
            "plots_s": done - analysed, "total_s": done - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-sample", type=int, default=256, help="Sobol' base N (2^k)")
    parser.add_argument("--replicates", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, help="results folder (default: a temporary one)")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"P3: Sobol' (second order) of {len(PARAMETERS)} parameters, base sample "
          f"{args.base_sample}, {args.replicates} replicates, {args.workers} workers; "
          f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    trials = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            out = args.out or Path(tmp) / f"p3_{i}"
            t = one(args.base_sample, args.replicates, args.workers, out)
            trials.append(t)
            print(f"  trial {i + 1}: {t['runs']} runs; runs {t['run_s']:.1f} s "
                  f"({t['runs'] / t['run_s']:.1f} runs/s), analysis {t['analysis_s']:.1f} s, "
                  f"plots {t['plots_s']:.1f} s; end to end {t['total_s']:.1f} s")
    total = statistics.median(t["total_s"] for t in trials)
    runs = trials[0]["runs"]
    per_run = statistics.median(t["run_s"] / t["runs"] for t in trials)
    print(f"median end to end: {total:.1f} s = {total / 60:.2f} min for {runs} runs "
          f"({per_run * 1000:.1f} ms of wall time per run on {args.workers} workers)")
    if runs < 16_000:
        full = 256 * (2 * len(PARAMETERS) + 2) * 2
        print(f"projected for the full study ({full} runs): "
              f"{(total - trials[0]['plots_s']) / runs * full / 60:.1f} min "
              "(runs and analysis scale about linearly)")
    print(f"target: <= 10 min; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
