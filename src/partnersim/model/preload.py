"""Importing this module loads the model's compiled code into the importing process.

The process pool's forkserver preloads it (``run.executors.process``), so every worker
forked from the server starts with the compiled kernels in memory instead of loading them
from numba's cache itself (about 0.4 s a worker). It runs the default partnership for a
year: long enough to call every kernel a default run calls.
"""

from __future__ import annotations

from partnersim.model.simulate import simulate

try:
    simulate({"horizon_months": 12}, seed=0)
except Exception:  # noqa: BLE001 - a model that fails here fails in the runs too, where the
    pass  # runner records each failure; an error here would stop the server and lose them
