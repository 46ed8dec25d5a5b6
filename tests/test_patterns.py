"""The validation patterns hold at the defaults and fail when their mechanism is switched off."""

from __future__ import annotations

import pandas as pd
import pytest

from partnersim.errors import InputError
from partnersim.inputs.patterns import load_definition
from partnersim.inputs.toml import SHIPPED_PATTERNS
from partnersim.params import PARAMETERS
from partnersim.run import storage
from partnersim.run.options import RunOptions
from partnersim.validation.cases import PROBES, CaseRunner, conditions
from partnersim.validation.checks import CHECKS, run_check
from partnersim.validation.verdicts import judge, mean_ci

QUICK = {p: load_definition(p).n_seeds["quick"] for p in CHECKS}
"""Each pattern's CI-sized ensemble (``n_seeds.quick`` in data/patterns/sfN.toml)."""

MECHANISM_OFF = {p: dict(load_definition(p).mechanism_off) for p in CHECKS
                 if load_definition(p).mechanism_off}
"""Overrides that switch each pattern's mechanism off, read from the files' mechanism_off."""


@pytest.mark.slow
@pytest.mark.parametrize("pattern", sorted(CHECKS))
def test_pattern_holds_at_default_parameters(pattern):
    result = run_check(pattern, n_seeds=QUICK[pattern])
    assert result.holds, result
    assert result.n_seeds == QUICK[pattern] and result.ci_low > 0


@pytest.mark.slow
@pytest.mark.parametrize("pattern", sorted(MECHANISM_OFF))
def test_pattern_does_not_hold_with_its_mechanism_switched_off(pattern):
    result = run_check(pattern, n_seeds=QUICK[pattern], **MECHANISM_OFF[pattern])
    assert not result.holds, result


def test_the_mechanism_off_controls_are_all_there():
    # a file that loses its control would silently drop a test above
    assert sorted(MECHANISM_OFF) == sorted(
        ["SF1", "SF2", "SF3", "SF7", "SF8", "SF9", "SF12", "SF13"])


@pytest.mark.parametrize("pattern", sorted(MECHANISM_OFF))
def test_each_control_changes_a_declared_parameter_from_what_the_experiment_uses(pattern):
    defn = load_definition(pattern)
    for name, value in defn.mechanism_off.items():
        assert name in PARAMETERS, name
        used = {defn.params.get(name, PARAMETERS[name].default)} | {
            c.get("params", {}).get(name) for c in defn.conditions.values()} - {None}
        assert value not in used, (name, value, used)


def test_judge_requires_direction_share_and_ci():
    assert judge("X", "", [1.0] * 19 + [-0.5]).holds
    assert not judge("X", "", [1.0] * 17 + [-0.5] * 3).holds  # 85% of seeds
    assert not judge("X", "", [0.0] * 20).holds
    assert not judge("X", "", [1.0] * 20, all_of=[[-1.0] * 20]).holds


def test_mean_ci_covers_the_mean_and_is_seeded():
    values = [0.1, 0.3, 0.2, 0.5, 0.4, 0.2]
    low, high = mean_ci(values)
    assert low < sum(values) / len(values) < high
    assert mean_ci(values) == (low, high)


def test_hooks_and_probes_reach_worker_processes(tmp_path):
    # SF3's hooks force the early joint tasks; they are set on the model inside the worker
    defn = load_definition("SF3")
    until = int(defn.settings["early_months"])
    hooks = {"early_success": {"force_first_task": True, "force_outcomes_until": until},
             "early_failure": {"force_first_task": False, "force_outcomes_until": until}}
    groups = conditions(defn, tuple(hooks), [11, 12], {}, hooks=hooks)
    cases = groups["early_success"] + groups["early_failure"]
    pool = CaseRunner(tmp_path / "runs", RunOptions(workers=2, progress=False))
    in_workers = pool.run(cases, ["trust_across"])
    assert [r.summary["first_task_success"] for r in in_workers] == [1.0, 1.0, 0.0, 0.0]
    assert all(r.probes[p] != 0.0 for r in in_workers for p in PROBES)
    # the specs hold the runs' inputs only: the measures read back are not a parameter
    assert set(storage.load_specs(tmp_path / "runs").columns).isdisjoint({"measures", *PROBES})
    in_process = CaseRunner().run(cases, ["trust_across"])
    for a, b in zip(in_workers, in_process, strict=True):
        assert pd.Series(a.summary).equals(pd.Series(b.summary))  # NaN equals NaN here
        assert "force_first_task" not in a.summary  # outputs only, not the run's inputs
        assert a.timeseries["trust_across"].tobytes() == b.timeseries["trust_across"].tobytes()


def test_a_pattern_file_with_an_unknown_parameter_is_one_line_naming_file_key_and_line(tmp_path):
    shipped = (SHIPPED_PATTERNS / "sf3.toml").read_text()
    (tmp_path / "sf3.toml").write_text(shipped.replace("confidence_steepness", "confidence_stepness"))
    with pytest.raises(InputError) as err:
        load_definition("SF3", tmp_path)
    message = str(err.value)
    assert "sf3.toml: line " in message and "mechanism_off.confidence_stepness" in message
    assert "did you mean 'confidence_steepness'" in message and "\n" not in message


@pytest.mark.parametrize("edit, expected", [
    (("sf8.toml", 'kind = "chair_leaves", month = 36 }', 'kind = "leader_leaves", month = 36 }'),
     "line 28: conditions.chair_leaves.interventions[0].kind: kind 'leader_leaves' renamed to "
     "'chair_leaves'"),
    (("sf4.toml", "leadership = 0.9 }", "leadership = 1.9 }"),
     "line 17: conditions.leadership_only.params.leadership: 1.9 is outside the bounds"),
    (("sf3.toml", "\nseed = 103\n", "\nmaster_seed = 103\n"),
     "line 10: master_seed: renamed to 'seed'"),
])
def test_a_pattern_file_with_a_bad_condition_is_refused_when_read(tmp_path, edit, expected):
    name, old, new = edit
    text = (SHIPPED_PATTERNS / name).read_text()
    assert old in text
    (tmp_path / name).write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as err:
        load_definition(name.removesuffix(".toml"), tmp_path)
    assert str(err.value).startswith(f"{tmp_path / name}: {expected}")
