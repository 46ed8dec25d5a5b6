"""The Python API for policy analysts: the same verbs as the command line, one name per concept.

Example::

    from partnersim.api import RunOptions, compare, load_results, run_scenario

    out = run_scenario("scenarios/baseline.toml", "results/baseline", RunOptions(workers=4),
                       replicates=10)
    res = load_results("results/baseline")          # .runs, .timeseries(), .manifest
    cmp = compare(["scenarios/baseline.toml", "scenarios/ground_rules.toml"],
                  "results/ground_rules_vs_baseline")
    cmp.differences                                 # paired differences of outputs, CIs
    cmp.files["report_html"]                        # the self-contained report

``partnersim decide DECISION`` is ``decide`` on ``load_decision(path)``;
``partnersim run SCENARIO`` is ``run_scenario``; ``partnersim compare A B ...``
is ``compare``; ``partnersim sweep`` and ``partnersim sensitivity`` are ``sweep`` and
``sensitivity`` on ``load_experiment(path)``; ``partnersim validate`` is ``validate``
(``validate(posterior="results/calibration/central")`` is ``validate --posterior``), and
``partnersim calibrate`` is ``calibrate``.
How runs execute (executor, workers, chunk size, Dask scheduler, overwrite, progress bar)
is one ``RunOptions`` value, the third argument of every verb that runs the model.
Figures are in :mod:`partnersim.present.plots` and take the stored tables
(``plot_trajectories(timeseries, "trust_across")`` ...).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from partnersim.calibration.calibrate import CalibrationOutcome, calibrate
from partnersim.inputs.decisions import Decision, load_decision
from partnersim.inputs.experiments import Experiment, load_experiment
from partnersim.inputs.posterior import Posterior, load_posterior
from partnersim.inputs.scenarios import (
    Scenario,
    dump_scenario,
    load_scenario,
    make_scenario,
    parse_scenario,
)
from partnersim.run.options import RunOptions
from partnersim.run.storage import Results, load_results
from partnersim.study.compare import Comparison, compare, paired_differences
from partnersim.study.decide import DecideOutcome, DecisionAnalysis, decide
from partnersim.study.replicates import RunOutcome, run_scenario
from partnersim.study.sensitivity import sensitivity, sweep
from partnersim.validation.posterior import (
    DEFAULT_DRAWS,
    DRAW_SEED,
    PosteriorCheck,
    validate_posterior,
)
from partnersim.validation.validate import validate as _validate
from partnersim.validation.verdicts import PatternVerdict


def validate(patterns: Sequence[str] | None = None, *,
             posterior: Posterior | str | os.PathLike[str] | None = None,
             draws: int = DEFAULT_DRAWS, draw_seed: int = DRAW_SEED, quick: bool = False,
             runs_dir: str | os.PathLike[str] | None = None, options: RunOptions | None = None,
             **kwargs: Any
             ) -> list[PatternVerdict] | tuple[list[PosteriorCheck], list[dict[str, float]]]:
    """``partnersim validate``: the patterns at the defaults, each at several master seeds
    (``validation.validate.validate``; ``kwargs`` go to it), a list of verdicts.

    With ``posterior`` (a calibration folder or a loaded ``Posterior``): ``validate
    --posterior``, the held-out patterns (or ``patterns``) at ``draws`` posterior draws
    resampled with ``draw_seed``, beside the defaults
    (``validation.posterior.validate_posterior``): ``(checks, draws' values)``.
    """
    if posterior is None:
        return _validate(patterns, quick=quick, runs_dir=runs_dir, options=options, **kwargs)
    return validate_posterior(posterior, patterns, draws=draws, quick=quick, seed=draw_seed,
                              runs_dir=runs_dir, options=options, **kwargs)


__all__ = [
    "CalibrationOutcome",
    "Comparison",
    "DecideOutcome",
    "Decision",
    "DecisionAnalysis",
    "Experiment",
    "Posterior",
    "PosteriorCheck",
    "Results",
    "RunOptions",
    "RunOutcome",
    "Scenario",
    "calibrate",
    "compare",
    "decide",
    "dump_scenario",
    "load_decision",
    "load_experiment",
    "load_posterior",
    "load_results",
    "load_scenario",
    "make_scenario",
    "paired_differences",
    "parse_scenario",
    "run_scenario",
    "sensitivity",
    "sweep",
    "validate",
]
