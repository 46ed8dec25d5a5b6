"""Per-agency choices (the workshop's participants): each changes its own agency's members
through an existing mechanism and not the other agencies'; none made is the default run."""

from __future__ import annotations

import numpy as np
import pytest

from partnersim.model import stages
from partnersim.model.partnership import PartnershipModel
from partnersim.model.state import AGENCY_CHOICES

SMALL = {"n_staff": 60, "horizon_months": 24}
CHOOSER, OTHER = 2, 0  # social work chooses; NHS acute does not


def _model(**extra) -> PartnershipModel:
    m = PartnershipModel(rng=7, **SMALL, **extra)
    m.collect_mesa = False
    return m


def _run(choices: dict[str, float], months: int = 12, **extra) -> PartnershipModel:
    m = _model(**extra)
    for name, value in choices.items():
        m.set_agency_choice(CHOOSER, name, value)
    for _ in range(months):
        m.step()
    return m


def test_each_agency_following_the_partnership_is_the_default_run_to_the_bit():
    base = _run({}, months=24)
    same = _model()
    for a in range(5):  # every agency explicitly chooses what the partnership has
        same.set_agency_choice(a, "relationship_time", same.levers["relationship_time"])
        same.set_agency_choice(a, "meeting_attendance", 1.0)
        same.set_agency_choice(a, "widen_communication", 0.0)
        same.set_agency_choice(a, "task_backing", 1.0)
    for _ in range(24):
        same.step()
    assert np.array_equal(base._table, same._table, equal_nan=True)
    assert np.array_equal(base.ties.trust, same.ties.trust)


def test_relationship_time_sets_only_that_agencys_phi():
    base, chosen = _model(), _model()
    chosen.set_agency_choice(CHOOSER, "relationship_time", 0.0)
    for m in (base, chosen):
        m.step()
    mine = chosen.staff.agency == CHOOSER
    assert base.staff.phi[mine & base.staff.engaged].max() > 0
    assert np.all(chosen.staff.phi[mine] == 0.0)
    # the first month's allocation comes before anything the choice changes: others identical
    assert np.array_equal(base.staff.phi[~mine], chosen.staff.phi[~mine])


def test_sending_no_one_keeps_that_agency_away_from_the_meeting_only():
    m = _run({"meeting_attendance": 0.0}, months=6)
    mine = m.staff.agency == CHOOSER
    assert m.staff.attendance[mine].max() == 0.0
    assert m.staff.attendance[m.staff.agency == OTHER].max() > 0.0
    # first month: the attendance draws are the same numbers, so the others attend as before
    a, b = _model(), _model()
    b.set_agency_choice(CHOOSER, "meeting_attendance", 0.0)
    a.step()
    b.step()
    assert np.array_equal(a.staff.attended[~mine], b.staff.attended[~mine])
    assert a.staff.attended[mine].any() and not b.staff.attended[mine].any()


def test_widening_reaches_that_agencys_staff_who_did_not_attend():
    base, chosen = _model(), _model()
    chosen.set_agency_choice(CHOOSER, "widen_communication", 1.0)
    for m in (base, chosen):
        m.step()
    mine = chosen.staff.agency == CHOOSER
    absent = ~base.staff.attended
    assert chosen.staff.info[mine & absent].mean() > 2 * base.staff.info[mine & absent].mean()
    assert np.array_equal(base.staff.info[~mine], chosen.staff.info[~mine])


def _task_agencies(monkeypatch, model: PartnershipModel, months: int) -> set[int]:
    """Agencies whose members took on a joint task in ``months`` months of ``model``."""
    seen: set[int] = set()
    original = stages.joint_work

    def spy(m, ev):
        original(m, ev)
        rows = ev.task_signals[0]
        seen.update(m.staff.agency[m.ties.src[rows]].tolist())
        seen.update(m.staff.agency[m.ties.dst[rows]].tolist())

    monkeypatch.setattr(stages, "joint_work", spy)
    for _ in range(months):
        model.step()
    monkeypatch.setattr(stages, "joint_work", original)
    return seen


def test_withdrawing_backing_stops_joint_tasks_that_involve_that_agency_only(monkeypatch):
    backed = _task_agencies(monkeypatch, _model(), 12)
    assert CHOOSER in backed and OTHER in backed
    m = _model()
    m.set_agency_choice(CHOOSER, "task_backing", 0.0)
    unbacked = _task_agencies(monkeypatch, m, 12)
    assert CHOOSER not in unbacked
    assert {OTHER, 1}.issubset(unbacked)  # the others still work together
    for a in range(5):
        m.set_agency_choice(a, "task_backing", 0.0)
    wins = m.small_wins_total
    assert _task_agencies(monkeypatch, m, 6) == set()
    assert m.small_wins_total == wins


def test_bad_choices_are_refused():
    m = _model()
    with pytest.raises(ValueError, match="unknown agency choice"):
        m.set_agency_choice(0, "leadership", 1.0)
    with pytest.raises(ValueError, match="agency 9"):
        m.set_agency_choice(9, "task_backing", 1.0)
    low, high = AGENCY_CHOICES["relationship_time"][1:]
    with pytest.raises(ValueError, match="between"):
        m.set_agency_choice(0, "relationship_time", high + 0.1)
    m.set_agency_choice(0, "relationship_time", low)
    assert m.agency_choices.made() == {"relationship_time": {0: low}, "meeting_attendance": {},
                                       "widen_communication": {}, "task_backing": {}}
    m.set_agency_choice(0, "relationship_time", None)
    assert m.agency_choices.values("relationship_time", m.levers)[0] == m.levers["relationship_time"]


def test_each_agencys_values_follow_every_change_of_choice_or_lever():
    """values() is kept between calls (the stages ask four times a month): a choice made,
    a lever moved or a choice withdrawn after a call shows in the next one."""
    m = _model()
    share = m.levers["relationship_time"]
    assert m.agency_choices.values("relationship_time", m.levers).tolist() == [share] * 5
    m.set_agency_choice(2, "relationship_time", 0.0)
    assert m.agency_choices.values("relationship_time", m.levers).tolist() == [
        share, share, 0.0, share, share]
    m.set_levers({"relationship_time": 0.3})
    assert m.agency_choices.values("relationship_time", m.levers).tolist() == [
        0.3, 0.3, 0.0, 0.3, 0.3]
    m.set_agency_choice(2, "relationship_time", None)
    assert m.agency_choices.values("relationship_time", m.levers).tolist() == [0.3] * 5
    assert m.agency_choices.values("task_backing", m.levers).tolist() == [1.0] * 5
