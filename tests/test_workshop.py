"""The workshop's session logic without a browser: joining, seats, rounds, the timer, events,
who may do and see what (checked on the server), the log, the debrief and its files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from partnersim.cli import main
from partnersim.dashboard import debrief as debriefs
from partnersim.dashboard import server as dashboard
from partnersim.dashboard.workshop import (
    AGENCY_NAMES,
    Choice,
    Limiter,
    RefusedError,
    Workshop,
)
from partnersim.inputs.scenarios import make_scenario
from partnersim.model.state import AGENCY_CHOICES
from partnersim.params import SECTORS


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _workshop(clock: Clock | None = None, rounds: int = 3) -> Workshop:
    scenario = make_scenario(name="small", params={"n_staff": 60, "horizon_months": 24},
                             seed=11)
    return Workshop(scenario, rounds=rounds, clock=clock or Clock())


def _join_three(w: Workshop) -> list[str]:
    return [w.join(w.join_code, a, name, client=f"c{a}")
            for a, name in ((0, "Asha"), (2, "Ben"), (3, "Cat"))]


def test_a_participant_joins_with_the_code_and_takes_an_agency() -> None:
    w = _workshop()
    assert re.fullmatch(r"[A-Z2-9]{6}", w.join_code)
    token = w.join(w.join_code.lower(), 2, "  Ben  Jones ", client="c")  # case and spaces
    view = w.participant_view(token)
    assert view["agency_name"] == AGENCY_NAMES[2] and view["name"] == "Ben Jones"
    seats = w.public_view()["seats"]
    assert [s["name"] for s in seats] == ["", "", "Ben Jones", "", ""]


def test_wrong_codes_are_refused_and_slowed_and_the_room_is_slowed_too() -> None:
    clock = Clock()
    w = _workshop(clock)
    with pytest.raises(RefusedError, match="not this workshop's code"):
        w.join("WRONG1", 0, "Eve", client="eve")
    # the right code right away is not even checked: eve must wait a second
    with pytest.raises(RefusedError, match="wait 1 s"):
        w.join(w.join_code, 0, "Eve", client="eve")
    clock.now += 1.0
    with pytest.raises(RefusedError, match="not this workshop's code"):
        w.join("WRONG2", 0, "Eve", client="eve")
    with pytest.raises(RefusedError, match="wait 2 s"):
        w.join("WRONG3", 0, "Eve", client="eve")
    clock.now += 2.0
    assert w.join(w.join_code, 0, "Eve", client="eve")  # then the right code works
    limiter = Limiter(clock, room_limit=3)
    for k in range(3):
        limiter.failed(f"tab{k}")
    with pytest.raises(RefusedError, match="too many"):
        limiter.check("a-new-tab")  # a new tab does not get round the room's limit
    clock.now += 61
    limiter.check("a-new-tab")


def test_a_taken_agency_is_refused_and_a_dropped_participant_rejoins() -> None:
    w = _workshop()
    first = w.join(w.join_code, 1, "Asha", client="a")
    with pytest.raises(RefusedError, match="taken by Asha"):
        w.join(w.join_code, 1, "Zed", client="z")
    again = w.join(w.join_code, 1, "asha", client="a2")  # her page dropped: same name
    assert again != first
    with pytest.raises(RefusedError, match="not in this workshop"):
        w.participant_view(first)  # the old page's token no longer works
    w.leave(again)  # her page closed: the seat is free for anyone with the code
    assert w.participant_view(w.join(w.join_code, 1, "Zed", client="z"))["name"] == "Zed"


def test_participants_cannot_do_what_only_the_facilitator_can() -> None:
    w = _workshop()
    token = _join_three(w)[0]
    actions = [lambda k: w.open_round(k), lambda k: w.close_round(k), lambda k: w.pause(k),
               lambda k: w.trigger(k, "chair_leaves"), lambda k: w.facilitator_view(k),
               lambda k: w.add_time(k, 60), lambda k: w.end(k, debriefs.make_debrief)]
    for act in actions:
        for key in (token, w.join_code, "", None):
            with pytest.raises(RefusedError, match="only the facilitator"):
                act(key)
    assert w.phase == "lobby" and w.round == 0 and int(w.model.month) == 0
    assert w.model.events == []
    assert "refused" in w.facilitator_view(w.facilitator_key)["refusals"][-1]
    assert not w.is_facilitator(token, client="p")
    assert w.is_facilitator(w.facilitator_key, client="f")


def test_a_participant_sets_and_sees_only_their_own_agency() -> None:
    w = _workshop()
    asha, ben, cat = _join_three(w)
    key = w.facilitator_key
    w.open_round(key)
    w.submit(ben, Choice(relationship_time=0.3, meeting_attendance=0.5))
    w.submit(asha, Choice(relationship_time=0.05, task_backing=False))
    view = w.participant_view(asha)
    assert view["pending"] == Choice(relationship_time=0.05, task_backing=False)
    assert "0.3" not in repr(view) and "Ben" not in repr(view)
    public = w.public_view()
    assert [s["chosen"] for s in public["seats"]] == [True, False, True, False, False]
    assert "0.3" not in repr(public) and "0.05" not in repr(public)
    assert set(w.facilitator_view(key)["pending"]) == {AGENCY_NAMES[0], AGENCY_NAMES[2]}
    with pytest.raises(RefusedError, match="between"):
        w.submit(cat, Choice(relationship_time=0.9))  # out of bounds, refused as such
    with pytest.raises(RefusedError, match="not in this workshop"):
        w.submit("made-up", Choice(relationship_time=0.2))


def test_a_round_runs_a_quarter_with_each_agencys_choice_and_carries_it_on() -> None:
    w = _workshop()
    asha, ben, _ = _join_three(w)
    key = w.facilitator_key
    w.open_round(key)
    w.submit(ben, Choice(relationship_time=0.3, meeting_attendance=0.5,
                         widen_communication=True))
    w.submit(asha, Choice(relationship_time=0.0, task_backing=False))
    record = w.close_round(key)
    assert (record.month_from, record.month_to) == (0, 3) and int(w.model.month) == 3
    assert record.source == {0: "submitted", 1: "partnership", 2: "submitted", 3: "partnership",
                             4: "partnership"}
    made = w.model.agency_choices.made()
    assert made["relationship_time"] == {0: 0.0, 2: 0.3}
    assert made["meeting_attendance"] == {0: 1.0, 2: 0.5}
    assert made["widen_communication"] == {0: 0.0, 2: 1.0}
    assert made["task_backing"] == {0: 0.0, 2: 1.0}
    mine = w.model.staff.agency == 0
    assert np.all(w.model.staff.phi[mine] == 0.0)  # asha's agency gave no time
    with pytest.raises(RefusedError, match="no round is open"):
        w.submit(asha, Choice(relationship_time=0.1))
    w.open_round(key)
    w.submit(asha, Choice(relationship_time=0.2))
    second = w.close_round(key)
    assert second.source[2] == "carried" and second.applied[2] == record.applied[2]
    assert second.applied[0] == Choice(relationship_time=0.2)
    rounds = w.log_tables()["rounds"]
    assert len(rounds) == 3 * len(SECTORS)  # the start and two rounds
    ben_rows = rounds[rounds["agency"] == SECTORS[2]]
    assert ben_rows["relationship_time"].tolist() == [0.15, 0.3, 0.3]


def test_the_timer_closes_choices_pause_freezes_it_and_time_can_be_added() -> None:
    clock = Clock()
    w = _workshop(clock)
    asha = _join_three(w)[0]
    key = w.facilitator_key
    w.open_round(key, seconds=60)
    clock.now += 20
    assert w.seconds_left() == pytest.approx(40)
    w.pause(key)
    with pytest.raises(RefusedError, match="paused"):
        w.submit(asha, Choice(relationship_time=0.2))
    clock.now += 500
    assert w.seconds_left() == pytest.approx(40)
    w.pause(key)  # resume
    w.add_time(key, 30)
    clock.now += 69
    w.submit(asha, Choice(relationship_time=0.2))
    clock.now += 2
    with pytest.raises(RefusedError, match="time is up"):
        w.submit(asha, Choice(relationship_time=0.25))
    assert w.close_round(key).applied[0] == Choice(relationship_time=0.2)


def test_an_event_acts_now_and_is_marked() -> None:
    w = _workshop()
    key = w.facilitator_key
    w.open_round(key)
    w.close_round(key)
    chairs = list(w.model.chairs)
    assert w.trigger(key, "chair_leaves") == "The chair leaves"
    assert w.model.chairs != chairs and (3, "chair leaves") in w.model.events
    assert w.public_view()["events"] == [(3, "The chair leaves")]
    with pytest.raises(RefusedError, match="unknown event"):
        w.trigger(key, "../../etc/passwd")


def _played(w: Workshop) -> None:
    asha, ben, cat = _join_three(w)
    key = w.facilitator_key
    for r, share in enumerate((0.05, 0.25, 0.4)):
        w.open_round(key)
        w.submit(asha, Choice(relationship_time=share))
        if r == 0:
            w.submit(ben, Choice(relationship_time=0.3, meeting_attendance=0.0))
        if r == 1:
            w.trigger(key, "pressure_surge")
            w.submit(cat, Choice(relationship_time=0.1, widen_communication=True))
        w.close_round(key)


def test_the_room_replayed_on_its_seed_is_the_room_and_the_default_has_no_choices() -> None:
    w = _workshop()
    _played(w)
    room = w.replay_model(room=True)
    assert np.array_equal(room._table[:9], w.model._table[:9], equal_nan=True)
    default = w.replay_model()
    assert default.agency_choices.made() == {k: {} for k in AGENCY_CHOICES}
    assert (3, "pressure surge") in default.events  # the room's event, at its month
    assert not np.array_equal(default._table[:9], w.model._table[:9], equal_nan=True)


def test_the_end_debriefs_writes_the_log_and_the_page_and_the_code_expires(tmp_path: Path) -> None:
    w = _workshop()
    _played(w)
    w.seats[3].name = "<script>alert(1)</script>"  # a name is shown, escaped, never a path
    key = w.facilitator_key
    d = w.end(key, debriefs.make_debrief)
    assert w.phase == "ended" and w.end(key, debriefs.make_debrief) is d
    with pytest.raises(RefusedError, match="ended"):
        w.join(w.join_code, 4, "Late", client="x")
    assert d.months == 9 and set(d.paths) == set(debriefs.PATHS)
    assert d.best_share in debriefs.SHARES
    # the best fixed share is the best of the shares on the same seed and events
    for share in debriefs.SHARES:
        assert debriefs._gain(w.replay_model(share).measures_frame()) <= d.gains[
            "best fixed share"] + 1e-12
    assert d.choices["round"].tolist().count(1) == len(SECTORS)
    assert any("trust across agencies" in s for s in d.sentences())
    folder = debriefs.write_results(d, tmp_path / "out", command="partnersim workshop")
    assert folder.parent == tmp_path / "out" and folder.name.startswith("workshop-small-")
    for name in ("choices", "rounds", "events", "monthly"):
        pq, csv = pd.read_parquet(folder / f"{name}.parquet"), pd.read_csv(folder / f"{name}.csv")
        assert len(pq) == len(csv) > 0
    choices = pd.read_parquet(folder / "choices.parquet")
    assert len(choices) == 5 and set(choices["participant"]) == {"Asha", "Ben", "Cat"}
    page = (folder / "debrief.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from outside
    assert page.count("data:image/png;base64,") == 2
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "workshop" and manifest["seed"] == 11
    assert sorted(manifest["files"]) == sorted(p.name for p in folder.iterdir()
                                               if p.name != "manifest.json")


# ----------------------------------------------------------------------------------
# the command: errors before anything is served or written, the banner


def _fake_assets(root: Path) -> Path:
    """A cache holding every file the page needs (empty files: only their presence counts)."""
    for pkg in dashboard.ASSET_PACKAGES:
        for rel in pkg.required:
            path = root / pkg.folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
    return root


@pytest.mark.parametrize(("args", "expected"), [
    (["--rounds", "0"], "--rounds"),
    (["missing.toml"], "missing.toml"),
    (["--port", "99999"], "--port: expected a port from 0 to 65535"),
    (["--host", "nosuch.invalid"], "--host: cannot listen on nosuch.invalid"),
])
def test_the_command_refuses_bad_input_in_one_line_before_serving(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
        expected: str) -> None:
    assets = _fake_assets(tmp_path / "assets")
    out = tmp_path / "results"
    code = main(["workshop", "--assets-dir", str(assets), "--out", str(out), "--port", "0",
                 *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and expected in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_the_banner_gives_the_links_and_warns_beyond_this_computer() -> None:
    w = _workshop()
    local = dashboard.workshop_banner(w, "127.0.0.1", 8766)
    assert not any("WARNING" in line for line in local)
    assert f"/facilitator?key={w.facilitator_key}" in local[1]
    assert f"/?code={w.join_code}" in local[2]
    assert local[-1].startswith("partnersim workshop: http://127.0.0.1:8766")
    room = dashboard.workshop_banner(w, "0.0.0.0", 8766)
    assert room[0].startswith("partnersim workshop: WARNING: listening on 0.0.0.0")
    # the links name an address participants can open, not the wildcard
    address = dashboard.reachable_address("0.0.0.0")
    assert address not in ("0.0.0.0", "") and "0.0.0.0" not in " ".join(room[1:])
    assert room[1:] == [line.replace("127.0.0.1", address) for line in local]
    assert dashboard.reachable_address("::1") == "[::1]"
    # rounds cut to the horizon are said; where the results go and how to end
    told = dashboard.workshop_banner(w, "127.0.0.1", 8766, asked_rounds=w.rounds + 5,
                                     out_dir=Path("results/workshops"))
    assert f"{w.rounds} rounds of 3 months (cut from {w.rounds + 5}: the scenario's " in told[0]
    assert str(Path("results/workshops").resolve()) in told[-2]
    assert "'End the workshop' on the console writes the debrief" in told[-2]
    assert told[-1] == local[-1]


def test_the_log_is_kept_after_each_round_and_completed_at_the_end(tmp_path: Path) -> None:
    w = _workshop()
    asha = _join_three(w)[0]
    key = w.facilitator_key
    folder = debriefs.new_results_folder(tmp_path, "../../etc")  # a name is never a path
    assert folder.parent == tmp_path and ".." not in folder.name
    w.open_round(key)
    w.submit(asha, Choice(relationship_time=0.3))
    w.close_round(key)
    debriefs.write_log(w, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] is False and manifest["rounds"] == 1
    assert pd.read_csv(folder / "choices.csv")["relationship_time"].tolist() == [0.3]
    assert not (folder / "debrief.html").exists()
    d = w.end(key, debriefs.make_debrief)
    assert debriefs.write_results(d, tmp_path, folder=folder) == folder
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] is True and "debrief.html" in manifest["files"]
    assert not list(folder.glob("*.tmp"))


def test_the_log_writer_keeps_the_log_after_each_round_without_blocking_and_ends_complete(
        tmp_path: Path) -> None:
    w = _workshop()
    asha = _join_three(w)[0]
    key = w.facilitator_key
    writer = debriefs.LogWriter(w, debriefs.new_results_folder(tmp_path, "small"))
    for share in (0.3, 0.35):
        w.open_round(key)
        w.submit(asha, Choice(relationship_time=share))
        w.close_round(key)
        writer.save()
    for thread in writer.threads:
        thread.join()
    assert pd.read_csv(writer.folder / "choices.csv")["relationship_time"].tolist() == [0.3, 0.35]
    assert json.loads((writer.folder / "manifest.json").read_text())["complete"] is False
    writer.save()  # a write still pending at the end comes first
    assert writer.final(w.end(key, debriefs.make_debrief)) == writer.folder
    writer.save()  # nothing written after the end
    for thread in writer.threads:
        thread.join()
    manifest = json.loads((writer.folder / "manifest.json").read_text())
    assert manifest["complete"] is True and (writer.folder / "debrief.html").exists()
