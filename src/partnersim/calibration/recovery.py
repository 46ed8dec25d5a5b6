"""Checks on known truths: does ABC-SMC recover parameters from targets simulated at them?

For each of several truths drawn from the priors, the targets of a calibration are simulated
at the truth (``[truth]``), the calibration is run, and each parameter's 90% posterior
interval is checked for the truth. Over many truths a well-calibrated method covers about
90% of them (more when the tolerance stays wide: ABC posteriors are conservative); intervals
that also shrink well below the prior's show that the targets carry information.

Run as ``python -m partnersim.calibration.recovery CALIBRATION.toml --truths 8 --out DIR``
(the calibration file's own ``[truth]``, if any, is replaced by each drawn truth).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from partnersim.calibration.calibrate import calibrate
from partnersim.calibration.figures import plot_recovery
from partnersim.calibration.spec import Calibration, Truth, load_calibration
from partnersim.run.options import RunOptions
from partnersim.seeding import replicate_seeds

COVERAGE_LEVEL = 0.9


def draw_truths(cal: Calibration, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` points drawn from the calibration's priors, away from their edges (the middle
    80% of each range, where a 90% interval can fall on either side)."""
    rng = np.random.default_rng(seed)
    return [{p.parameter: float(p.lower + (p.upper - p.lower) * rng.uniform(0.1, 0.9))
             for p in cal.priors} for _ in range(n)]


def recovery(cal: Calibration, truths: list[dict[str, float]], out_dir: str | Path,
             options: RunOptions, *, truth_replicates: int = 20, progress=None
             ) -> pd.DataFrame:
    """Calibrate at each truth; one row per truth and parameter: the truth, the posterior
    median and 90% interval, whether it covers the truth, its width over the prior's."""
    out_dir = Path(out_dir)
    rows = []
    seeds = replicate_seeds(cal.seed, len(truths))
    for i, (values, seed) in enumerate(zip(truths, seeds, strict=True)):
        started = time.perf_counter()
        at = dataclasses.replace(cal, name=f"{cal.name}_truth{i}", seed=seed % 2**31,
                                 truth=Truth(values, seed, truth_replicates),
                                 targets=tuple(dataclasses.replace(t, value=None)
                                               for t in cal.targets))
        outcome = calibrate(at, out_dir / f"truth{i}", options, figures=False,
                            progress=progress)
        for row in outcome.summary.to_dict("records"):
            rows.append({"truth_id": i, "parameter": row["parameter"], "truth": row["truth"],
                         "median": row["median"], "q05": row["q05"], "q95": row["q95"],
                         "covered": row["covered"], "width_share": row["width_share"],
                         "generations": len(outcome.diagnostics),
                         "final_epsilon": float(outcome.diagnostics["epsilon"].iloc[-1]),
                         "seconds": round(time.perf_counter() - started, 1)})
    return pd.DataFrame(rows)


def coverage_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: truths covered by the 90% interval, and the mean interval width over
    the prior's."""
    return (table.groupby("parameter", sort=False)
            .agg(truths=("covered", "size"), covered=("covered", "sum"),
                 coverage=("covered", "mean"), mean_width_share=("width_share", "mean"))
            .reset_index())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m partnersim.calibration.recovery",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("calibration")
    parser.add_argument("--truths", type=int, default=8)
    parser.add_argument("--truth-replicates", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("--executor", default="serial")
    parser.add_argument("--workers", type=int)
    args = parser.parse_args(argv)
    cal = load_calibration(args.calibration)
    truths = draw_truths(cal, args.truths, args.seed)
    table = recovery(cal, truths, args.out, RunOptions(executor=args.executor,
                                                       workers=args.workers, progress=False,
                                                       overwrite=True),
                     truth_replicates=args.truth_replicates)
    out = Path(args.out)
    table.to_csv(out / "recovery.csv", index=False)
    summary = coverage_table(table)
    summary.to_csv(out / "coverage.csv", index=False)
    plot_recovery(table, out / "recovery.png")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print()
    print(summary.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
