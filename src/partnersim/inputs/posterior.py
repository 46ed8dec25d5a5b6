"""Posteriors: reading a calibration folder's weighted particles and drawing parameters from them.

A *posterior* is what ``partnersim calibrate`` leaves in its folder: ``posterior.parquet``
(the last generation's particles, one column per calibrated parameter and ``weight``) and a
``manifest.json`` of kind "calibration" marked complete. Scenarios and experiments
(``posterior = "results/calibration/central"``) and ``partnersim validate --posterior``
read one with :func:`load_posterior` and take parameter values from it with
:meth:`Posterior.draws`: particles resampled by weight with a seeded generator, so the same
seed gives the same draws on every machine. Calibrated values replace the declared defaults
only: whatever a file sets itself (a scenario's ``[params]``, a pattern's conditions) is
applied on top.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from partnersim.errors import InputError, unknown
from partnersim.params import PARAMETERS, make_params

POSTERIOR_TABLE = "posterior.parquet"
"""The weighted particles in a calibration folder."""
MANIFEST = "manifest.json"
"""A calibration folder's manifest (``kind`` "calibration", ``complete``)."""
NOT_PARAMETERS = ("weight", "generation")
"""Columns of the posterior table that are not parameters."""


@dataclass(frozen=True)
class Posterior:
    """A calibration's posterior, read and checked.

    Attributes:
        folder: the calibration folder, as given.
        calibration: the calibration's name (its manifest).
        fingerprint: the calibration's fingerprint (its manifest): names what was calibrated.
        names: the calibrated parameters, in the table's order.
        particles: one row per particle: the parameters and ``weight`` (summing to 1).
        sha256: SHA-256 of ``posterior.parquet`` (recorded where draws are used).
    """

    folder: str
    calibration: str
    fingerprint: str
    names: tuple[str, ...]
    particles: pd.DataFrame = field(repr=False, compare=False)
    sha256: str = ""

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """``n`` parameter sets resampled from the particles by weight (with replacement),
        with ``numpy.random.default_rng(seed)``: the same ``n`` and seed give the same draws,
        and the first ``k`` of ``n`` draws are the first ``k`` of any longer list."""
        if n < 1:
            raise ValueError(f"at least one draw, got {n}")
        rng = np.random.default_rng(seed)
        w = self.particles["weight"].to_numpy(dtype="float64")
        picks = [int(rng.choice(len(w), p=w / w.sum())) for _ in range(n)]
        values = self.particles[list(self.names)].to_numpy(dtype="float64")
        return [{name: float(values[k, j]) for j, name in enumerate(self.names)}
                for k in picks]

    def replicate_draws(self, seeds: Sequence[int]) -> list[dict[str, float]]:
        """Replicate i's draw for these replicate seeds: draw i of ``len(seeds)``, resampled
        with ``seeds[0]``, so the same seeds give the same draws in every scenario or design
        point that names this posterior (paired, like the seeds)."""
        return self.draws(len(seeds), seed=int(seeds[0])) if len(seeds) else []

    def record(self) -> dict[str, Any]:
        """What a manifest records of the posterior used."""
        return {"folder": str(self.folder), "calibration": self.calibration,
                "fingerprint": self.fingerprint, "parameters": list(self.names),
                "particles": len(self.particles), "sha256": self.sha256}


def load_posterior(folder: str | os.PathLike[str], *, source: str | None = None,
                   key: str | None = None) -> Posterior:
    """Read the posterior of a complete calibration folder.

    Args:
        folder: the calibration folder (``partnersim calibrate``'s ``--out``).
        source, key: the file and key that named the folder, for errors (default: the folder).

    Raises:
        InputError: one line naming the folder (or the file and key that named it): not a
            folder, not a calibration (no manifest of kind "calibration"), an unfinished
            calibration, or a posterior table that cannot be read or names parameters that
            are not declared or values outside their bounds.
    """
    path = Path(folder)
    where = {"source": source or str(path), "key": key}

    def fail(message: str) -> InputError:
        return InputError(f"{path}: {message}" if source else message, **where)

    if not path.is_dir():
        raise fail("not a calibration folder (no such folder)")
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        raise fail(f"not a calibration folder (no readable {MANIFEST}; partnersim "
                           "calibrate writes one)") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "calibration":
        kind = manifest.get("kind") if isinstance(manifest, dict) else None
        what = f"a results folder of another kind ({kind})" if kind else "a results folder"
        raise fail(f"not a calibration folder: {what}, not partnersim calibrate's")
    if not manifest.get("complete"):
        raise fail("the calibration is not complete (run the same partnersim "
                           "calibrate command again to finish it)")
    table = path / POSTERIOR_TABLE
    try:
        data = table.read_bytes()
        particles = pd.read_parquet(table)
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read {POSTERIOR_TABLE} ({type(exc).__name__})") from None
    names = tuple(c for c in particles.columns if c not in NOT_PARAMETERS)
    undeclared = [n for n in names if n not in PARAMETERS]
    if undeclared:
        raise fail(f"{POSTERIOR_TABLE} is not a posterior of these parameters: "
                   + unknown("parameter", undeclared[0], PARAMETERS, show_name=True).message)
    if "weight" not in particles or not names or not len(particles):
        raise fail(f"{POSTERIOR_TABLE} is not a posterior (no particles, parameters or "
                   "weights)")
    w = particles["weight"].to_numpy(dtype="float64")
    if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise fail(f"{POSTERIOR_TABLE}: weights must be finite, non-negative and "
                           "not all zero")
    for row in particles[list(names)].itertuples(index=False):
        try:
            make_params(dict(zip(names, map(float, row), strict=True)))
        except InputError as exc:
            raise fail(f"{POSTERIOR_TABLE}: a particle is outside the declared "
                               f"bounds ({exc.message})") from None
    particles = particles.assign(weight=w / w.sum()).reset_index(drop=True)
    return Posterior(str(folder), str(manifest.get("calibration", path.name)),
                     str(manifest.get("fingerprint", "")), names, particles,
                     hashlib.sha256(data).hexdigest())
