"""One run of the model as a function: parameters and a seed in, summary and monthly table out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from partnersim.model.partnership import PartnershipModel
from partnersim.params import Params


@dataclass(frozen=True)
class RunResult:
    """The outputs of one run.

    Attributes:
        seed: the run's seed (re-running with it reproduces the run to the bit).
        summary: end-of-run outputs (``outputs.SUMMARIES``).
        timeseries: one row per month: ``month`` and the monthly measures kept.
    """

    seed: int
    summary: dict[str, Any]
    timeseries: pd.DataFrame


def simulate(
    params: Params | Mapping[str, Any] | None = None,
    seed: int = 0,
    interventions: Sequence[Any] = (),
    *,
    measures: Sequence[str] | None = None,
) -> RunResult:
    """Run the partnership model to its horizon.

    Args:
        params: a validated ``Params`` (used as it is) or a mapping of overrides of the
            declared defaults (validated here).
        seed: the run's seed.
        interventions: parsed interventions (used as they are), or dicts as in a scenario
            file (parsed here).
        measures: monthly measures to keep (default: all).
    """
    if isinstance(params, Params):  # validated already: not parsed again
        model = PartnershipModel(rng=seed, interventions=interventions, params=params)
    else:
        model = PartnershipModel(rng=seed, interventions=interventions, **dict(params or {}))
    model.collect_mesa = False  # the model's own table already holds every measure
    model.run()
    return RunResult(seed=seed, summary=model.summary(),
                     timeseries=model.measures_frame(measures))
