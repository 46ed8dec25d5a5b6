"""The workshop dashboard: controls, save and load, offline assets, and a real browser.

Tests marked ``browser`` drive Debian's chromium through Playwright against
``partnersim dashboard`` started as a child process, with every request that
leaves 127.0.0.1 aborted and counted (none may be needed). They skip when
chromium, Playwright or the prepared assets are missing, unless
``PARTNERSIM_REQUIRE_BROWSER=1`` (set in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from partnersim import outputs
from partnersim.cli import main
from partnersim.dashboard import charts, controls, figures
from partnersim.dashboard import server as dashboard
from partnersim.dashboard import session as dash_session
from partnersim.errors import InputError
from partnersim.inputs.scenarios import dump_scenario, load_scenario, parse_scenario
from partnersim.model.partnership import PartnershipModel
from partnersim.model.stages import effective_leadership
from partnersim.params import PARAMETERS
from partnersim.seeding import replicate_seeds

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

# ----------------------------------------------------------------------------------
# controls generated from the declarations


def test_every_parameter_has_one_control_in_its_lever_group() -> None:
    groups = controls.controls_by_group()
    names = [c.name for group_controls in groups.values() for c in group_controls]
    assert sorted(names) == sorted(PARAMETERS)
    assert len(names) == len(set(names))
    for group, group_controls in groups.items():
        assert all(PARAMETERS[c.name].group == group for c in group_controls)
    known = [g for g in controls.GROUP_TITLES if g in groups]
    assert list(groups)[: len(known)] == known  # the order the dashboard shows


def test_controls_carry_declared_bounds_and_readable_labels() -> None:
    for group_controls in controls.controls_by_group().values():
        for c in group_controls:
            spec = PARAMETERS[c.name]
            assert c.kind == spec.type
            assert "_" not in c.label and c.label[0].isupper()
            assert c.default == spec.default
            if spec.is_numeric:
                assert (c.lower, c.upper) == (spec.lower, spec.upper)
                assert c.lower <= c.default <= c.upper
                positions = (c.upper - c.lower) / c.step
                assert positions >= 50 or c.kind == "int", c.name
                assert positions <= 20000, c.name
            if spec.type == "choice":
                assert c.choices == spec.choices
    assert controls.readable_label(PARAMETERS["p_chair_leaves"]) == "Chance chair leaves (per month)"
    assert controls.readable_label(PARAMETERS["n_staff"]) == "Number of staff (persons)"


def test_unknown_groups_still_get_controls() -> None:
    spec = PARAMETERS["leadership"]
    odd = {"x": type(spec)(**{**spec.__dict__, "name": "x", "group": "new_lever"})}
    groups = controls.controls_by_group(odd)
    assert list(groups) == ["new_lever"]
    assert controls.group_title("new_lever") == "New lever"


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("n_staff", 120.0, 120),
        ("n_staff", "75", 75),
        ("n_staff", 1e9, 20000),  # clipped to the declared upper bound
        ("leadership", "0.25", 0.25),
        ("leadership", -3, 0.0),
        ("joint_chair", "true", True),
        ("joint_chair", 0, False),
        ("decision_rule", "consensus", "consensus"),
    ],
)
def test_widget_values_are_coerced_to_declared_types(name: str, raw: Any, expected: Any) -> None:
    control = controls.make_control(PARAMETERS[name])
    value = controls.coerce_value(control, raw)
    assert value == expected and type(value) is type(expected)


def test_bad_widget_values_are_refused() -> None:
    with pytest.raises(InputError, match="decision_rule"):
        controls.coerce_value(controls.make_control(PARAMETERS["decision_rule"]), "dictatorship")
    with pytest.raises(InputError, match="n_staff"):
        controls.coerce_value(controls.make_control(PARAMETERS["n_staff"]), "many")


@pytest.mark.parametrize(("text", "seed"), [("42", 42), (" 7 ", 7), ("4.0", 4), (0, 0),
                                            ("20261126", 20261126), ("1e3", 1000),
                                            (str(2**63 - 1), 2**63 - 1)])
def test_seed_text_is_coerced_to_a_number(text: Any, seed: int) -> None:
    assert controls.coerce_seed(text) == seed


@pytest.mark.parametrize("text", ["abc", "", "1.5", "-1", None, True, str(2**63), "1e30"])
def test_bad_seed_text_is_refused(text: Any) -> None:
    with pytest.raises(InputError, match="seed"):
        controls.coerce_seed(text)


# ----------------------------------------------------------------------------------
# the model seen from the dashboard


def _dashboard_run(values: dict[str, Any], seed: int, presses: dict[int, list[str]],
                   months: int) -> tuple[Any, list[Any]]:
    """Run a dashboard model, pressing live buttons at given months, as the page does."""
    model = dash_session.build_model(values, seed, ())
    applied = []
    for month in range(months):
        for key in presses.get(month, []):
            iv = dash_session.LIVE_INTERVENTIONS[key][1](model, model.month)
            model.apply_intervention(iv)
            applied.append(iv)
        model.step()
    return model, applied


def test_every_live_button_acts_on_the_running_model_at_the_current_month() -> None:
    values = {**dash_session.default_scenario().params.model_dump(), "n_champions_senior": 3,
              "capacity_budget": 20.0}
    model = dash_session.build_model(values, 3, ())
    for _ in range(4):
        model.step()
    before = {k: model.levers[k] for k in ("ground_rules", "communication_mode",
                                           "capacity_budget", "service_pressure")}
    champions = int(model.staff.champion.sum())
    for _, factory in dash_session.LIVE_INTERVENTIONS.values():
        model.apply_intervention(factory(model, model.month))
    assert model.month == 4
    assert model.levers["ground_rules"] == 1.0 != before["ground_rules"]
    assert model.levers["communication_mode"] == "two_way"
    assert model.levers["capacity_budget"] == pytest.approx(20.0 * 0.5 + 10.0)
    assert model.levers["service_pressure"] == pytest.approx(before["service_pressure"] + 0.5)
    assert effective_leadership(model) < model.levers["leadership"]  # the chair left
    assert int(model.staff.champion.sum()) == champions - 1
    assert {m for m, _ in model.events} == {4}
    labels = " ".join(label for _, label in model.events)
    assert "chair leaves" in labels and "champion leaves" in labels
    assert "a new chair is settling in" in dash_session.lever_summary(model)


def test_saved_scenario_round_trips_and_reproduces_the_dashboard_run() -> None:
    values = {**dash_session.default_scenario().params.model_dump(), "n_staff": 80,
              "horizon_months": 24, "leadership": 0.7, "n_champions_operational": 4}
    presses = {3: ["chair_leaves", "ground_rules"], 6: ["champion_leaves"], 9: ["two_way"]}
    model, applied = _dashboard_run(values, 11, presses, 12)
    base = dash_session.default_scenario()
    text = dump_scenario(dash_session.saved_scenario(base, values, 11, applied, model.month))
    loaded = parse_scenario(text, source="saved.toml")
    assert loaded.seed == 11
    assert loaded.params.model_dump() == values
    assert [(iv.kind, iv.month) for iv in loaded.interventions] == [
        ("chair_leaves", 3), ("ground_rules", 3), ("champion_leaves", 6),
        ("communication", 9)]
    # replicate 0 of the saved scenario is the dashboard's run, to the bit
    again = PartnershipModel(rng=replicate_seeds(loaded.seed, 1)[0],
                                 interventions=loaded.interventions,
                                 **loaded.params.model_dump())
    for _ in range(12):
        again.step()
    pd.testing.assert_frame_equal(again.measures_frame(), model.measures_frame())
    assert again.events == model.events


def test_saved_scenario_runs_with_the_run_verb_and_matches(tmp_path: Path) -> None:
    values = {**dash_session.default_scenario().params.model_dump(), "n_staff": 60,
              "horizon_months": 12}
    model, applied = _dashboard_run(values, 5, {2: ["chair_leaves"], 4: ["pressure_surge"]}, 12)
    path = tmp_path / "saved.toml"
    path.write_text(dump_scenario(dash_session.saved_scenario(dash_session.default_scenario(), values, 5,
                                                     applied, model.month)))
    out = tmp_path / "results"
    code = main(["run", str(path), "--out", str(out), "--replicates", "1",
                 "--executor", "serial", "--no-progress"])
    assert code == 0
    ts = pd.read_parquet(out / "timeseries.parquet")
    ts = ts[ts["replicate"] == 0].sort_values("month").reset_index(drop=True)
    ours = model.measures_frame()
    for col in ("trust_across", "effective_leadership", "output", "health"):
        np.testing.assert_array_equal(ts[col].to_numpy(), ours[col].to_numpy(), err_msg=col)


def test_saving_keeps_scheduled_interventions_and_orders_live_ones_first() -> None:
    base = parse_scenario(
        'name = "base"\nreplicates = 3\nseed = 9\n[params]\nhorizon_months = 24\n'
        '[[interventions]]\nkind = "vision"\nmonth = 5\nvision_clarity = 0.8\n', source="base.toml")
    values = base.params.model_dump()
    model = dash_session.build_model(values, base.seed, base.interventions)
    for _ in range(5):
        model.step()
    live = dash_session.LIVE_INTERVENTIONS["ground_rules"][1](model, model.month)
    saved = dash_session.saved_scenario(base, values, base.seed, [live], model.month)
    assert saved.name == "base-dashboard" and saved.replicates == 3
    assert [(iv.kind, iv.month) for iv in saved.interventions] == [
        ("ground_rules", 5), ("vision", 5)]
    assert dash_session.saved_scenario(saved, values, 9, [], 0).name == "base-dashboard"


def test_saving_after_shortening_the_horizon_drops_what_never_happened() -> None:
    base = parse_scenario(
        'name = "long"\n[[interventions]]\nkind = "vision"\nmonth = 50\nvision_clarity = 0.8\n'
        '[[interventions]]\nkind = "ground_rules"\nmonth = 5\nend_month = 24\n',
        source="long.toml")
    values = {**base.params.model_dump(), "horizon_months": 24}
    saved = dash_session.saved_scenario(base, values, 1, [], 10)
    assert [(iv.kind, iv.month) for iv in saved.interventions] == [("ground_rules", 5)]


def test_read_scenario_reports_bad_files_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[params]\nleadershp = 0.5\n")
    with pytest.raises(InputError, match=r"bad\.toml.*leadership"):
        dash_session.read_scenario(bad)
    with pytest.raises(InputError, match="upload.toml"):
        dash_session.read_scenario("upload.toml", "not = [valid")
    assert dash_session.read_scenario("my file!.toml", 'seed = 3\n').name == "my-file"


def _fake_model(rows: dict[str, list[float]], month: int, running: bool = True) -> Any:
    frame = pd.DataFrame({"month": range(len(next(iter(rows.values())))), **rows})
    return SimpleNamespace(measures_frame=lambda: frame, month=month, running=running)


def test_status_line_speaks_plainly() -> None:
    assert dash_session.status_line(_fake_model({"trust_across": [0.0]}, 0)).startswith(
        "Month 0: the partnership is forming")
    rising = _fake_model({"trust_across": [0.30, 0.31, 0.33, 0.36, 0.40],
                          "output": [100, 100, 100, 100, 100]}, 14)
    assert dash_session.status_line(rising) == "Month 14: trust across agencies is rising (0.40)."
    falling = _fake_model({"trust_across": [0.5, 0.5, 0.45, 0.40],
                           "output": [100, 100, 100, 90]}, 4, running=False)
    assert dash_session.status_line(falling) == (
        "Month 4: trust across agencies is falling (0.40); service output is down 10% "
        "on three months ago. The run has ended.")
    steady = _fake_model({"trust_across": [0.5, 0.5, 0.501, 0.502]}, 4)
    assert "holding steady" in dash_session.status_line(steady)


def test_network_layout_is_stable_across_steps_and_turnover() -> None:
    values = {**dash_session.default_scenario().params.model_dump(), "p_turnover": 0.05}
    model = dash_session.build_model(values, 2, ())
    plot = figures.NetworkPlot(model)
    first = plot.pos.copy()
    for _ in range(10):
        model.step()
        plot.render(model)
    model.apply_intervention(dash_session.LIVE_INTERVENTIONS["chair_leaves"][1](model, model.month))
    png = plot.render(model)
    assert png.startswith(b"\x89PNG")
    np.testing.assert_array_equal(plot.pos, first)  # nobody moved
    again = figures.NetworkPlot(dash_session.build_model(values, 2, ()))
    np.testing.assert_array_equal(again.pos, first)  # and the layout is reproducible
    segments = plot.edges.get_segments()
    assert 0 < len(segments) <= figures.MAX_EDGES
    assert len(plot.chairs.get_offsets()) == len(model.chairs)


def test_layout_keeps_agencies_apart() -> None:
    agency = np.repeat(np.arange(5), 40)
    pos = figures.stable_layout(agency, np.arange(200) % 5 == 0)
    centres = np.array([pos[agency == a].mean(axis=0) for a in range(5)])
    spread = max(np.linalg.norm(pos[agency == a] - centres[a], axis=1).max() for a in range(5))
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a in range(5) for b in range(a)]
    assert min(gaps) > 2 * spread


def test_time_series_mark_every_intervention_where_it_happened() -> None:
    model, _ = _dashboard_run({**dash_session.default_scenario().params.model_dump(), "n_staff": 60},
                              4, {3: ["chair_leaves"], 5: ["budget_cut"]}, 8)
    plot = figures.SeriesPlot(model.horizon)
    png = plot.render(model)
    assert png.startswith(b"\x89PNG")
    assert plot.events_drawn == ((3, "chair leaves"), (5, "budget cut 50%"))
    for ax in plot.axes:
        xs = sorted(line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--")
        assert xs == [3, 5]
    labels = [t.get_text().strip() for t in plot.axes[0].texts]
    assert labels == ["chair leaves", "budget cut 50%"]
    trust = plot.lines["trust_across"].get_ydata()
    np.testing.assert_array_equal(trust, model.measures_frame()["trust_across"].to_numpy())


def test_time_series_panels_draw_the_declared_measures_with_their_labels() -> None:
    model = dash_session.build_model(
        {**dash_session.default_scenario().params.model_dump(), "n_staff": 60}, 4, ())
    for _ in range(3):
        model.step()
    plot = figures.SeriesPlot(model.horizon)
    plot.render(model)
    assert [ax.get_title() for ax in plot.axes] == list(outputs.PANELS)
    for ax, (title, measures) in zip(plot.axes, outputs.PANELS.items(), strict=True):
        drawn = [name for name, line in plot.lines.items() if line.axes is ax]
        assert drawn == list(measures)  # every declared measure, in order, and nothing else
        for name in drawn:
            np.testing.assert_array_equal(plot.lines[name].get_ydata(),
                                          model.measures_frame()[name].to_numpy())
        shown = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
        assert shown == ([figures.legend(title, m) for m in measures] if len(measures) > 1
                         else [])
    assert figures.legend("Capacity", "capacity_strategic") == "strategic"
    assert figures.legend("Service output", "output") == outputs.label("output")
    assert figures.is_unit_panel(outputs.PANELS["Information"])
    assert not figures.is_unit_panel(outputs.PANELS["Service output"])


# ----------------------------------------------------------------------------------
# offline assets and the command


def _fake_npm(tmp_path: Path, log: Path) -> str:
    """An ``npm`` stand-in that packs a tarball holding each package's required files."""
    required = {p.name: list(p.required) for p in dashboard.ASSET_PACKAGES}
    script = tmp_path / "npm"
    script.write_text(f"""#!{sys.executable}
import io, json, sys, tarfile
from pathlib import Path
required = {required!r}
args = sys.argv[1:]
spec = args[1]
dest = Path(args[args.index("--pack-destination") + 1])
name, _, version = spec.rpartition("@")
with open({str(log)!r}, "a") as f:
    f.write(spec + "\\n")
fname = name.replace("@", "").replace("/", "-") + "-" + version + ".tgz"
with tarfile.open(dest / fname, "w:gz") as tar:
    for rel in required[name] + ["package.json"]:
        data = ("content of " + rel).encode()
        info = tarfile.TarInfo("package/" + rel)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
print(json.dumps([{{"filename": fname, "version": version, "integrity": "sha512-x"}}]))
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_prepare_assets_fills_solaras_cache_layout_and_is_idempotent(tmp_path: Path) -> None:
    log = tmp_path / "npm.log"
    npm = _fake_npm(tmp_path, log)
    cache = tmp_path / "cache"
    with pytest.raises(InputError, match="--prepare-assets"):
        dashboard.check_assets(cache)
    dashboard.prepare_assets(cache, npm=npm, log=lambda _: None)
    dashboard.check_assets(cache)
    assert (cache / "requirejs@2.3.6" / "require.js").read_text() == "content of require.js"
    assert (cache / "@widgetti" / "solara-vuetify-app@10.1.1" / "dist" / "main8.css").is_file()
    manifest = json.loads((cache / dashboard.MANIFEST).read_text())
    assert set(manifest) == {p.folder for p in dashboard.ASSET_PACKAGES}
    assert len(log.read_text().split()) == len(dashboard.ASSET_PACKAGES)
    dashboard.prepare_assets(cache, npm=npm, log=lambda _: None)  # nothing fetched again
    assert len(log.read_text().split()) == len(dashboard.ASSET_PACKAGES)
    (cache / "requirejs@2.3.6" / "require.js").unlink()
    dashboard.prepare_assets(cache, npm=npm, log=lambda _: None)  # only the damaged package
    assert log.read_text().split()[-1] == "requirejs@2.3.6"
    assert not [p for p in cache.iterdir() if p.name.startswith(".prepare-")]


def test_prepare_assets_without_npm_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError, match="apt-get install -y npm"):
        dashboard.prepare_assets(tmp_path / "c", log=lambda _: None)
    with pytest.raises(InputError, match="cannot run npm"):
        dashboard.prepare_assets(tmp_path / "c", npm=str(tmp_path / "no-npm"),
                                 log=lambda _: None)


def test_dashboard_without_assets_fails_with_the_preparation_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["dashboard", "--assets-dir", str(tmp_path / "empty"), "--port", "0"])
    assert code == 2
    err = capsys.readouterr().err
    # the command fills the folder asked for, not the default one
    assert f"'partnersim dashboard --prepare-assets --assets-dir {tmp_path / 'empty'}'" in err
    assert err.count("\n") == 1 and "\n" == err[-1]


def test_dashboard_refuses_a_bad_scenario_before_serving(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[interventions]]\nkind = "leader_leaves"\nmonth = 3\n')
    code = main(["dashboard", str(bad), "--port", "0"])
    assert code == 2
    assert "kind 'leader_leaves' renamed to 'chair_leaves'" in capsys.readouterr().err


def test_assets_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv(dashboard.ASSETS_ENV, str(tmp_path))
    assert dashboard.default_assets_dir() == tmp_path.resolve()
    monkeypatch.delenv(dashboard.ASSETS_ENV)
    assert dashboard.default_assets_dir().parts[-2:] == (".cache", "solara-assets")


def test_the_server_names_the_page_module_without_importing_solara() -> None:
    # Solara reads its settings from the environment when first imported, so importing the
    # server (the CLI does, before configure_solara) must import neither Solara nor the page
    code = ("import sys, importlib.util, partnersim.dashboard.server as s; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'solara' "
            "or m == 'partnersim.dashboard.page')); "
            "print(importlib.util.find_spec(s.PAGE_MODULE) is not None)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert proc.stdout.split("\n")[:2] == ["[]", "True"]


# ----------------------------------------------------------------------------------
# in a real browser

SMALL_SCENARIO = """\
name = "small-workshop"
question = "A small partnership with ground rules from month 2"
replicates = 2
seed = 7

[params]
n_staff = 60
horizon_months = 36

[[interventions]]
kind = "ground_rules"
month = 2
ground_rules = 0.8
"""


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the dashboard runs in: its ``scenarios/`` feed the load menu."""
    root = tmp_path_factory.mktemp("dashboard")
    (root / "scenarios").mkdir()
    (root / "scenarios" / "small.toml").write_text(SMALL_SCENARIO)
    return root


@pytest.fixture(scope="session")
def server(browser_requirements: None, workdir: Path) -> Any:
    """``partnersim dashboard`` on a free port of 127.0.0.1, stopped (by PID) at the end."""
    with dashboard.DashboardProcess(cwd=workdir) as proc:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", proc.url)
        yield proc
    assert proc.returncode == 0, proc.output  # Ctrl-C (SIGINT) stops it cleanly
    assert "stopped" in proc.output
    assert "Traceback" not in proc.output, proc.output


class Session:
    """One browser context (one visitor) on the dashboard, with its guards."""

    def __init__(self, browser: Any, url: str, size: tuple[int, int] = (1400, 1000)):
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.bad_responses: list[str] = []
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                           accept_downloads=True)
        self.context.set_default_timeout(30_000)
        dashboard.block_non_local(self.context, self.blocked)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", lambda r: self.bad_responses.append(f"{r.status} {r.url}")
                     if r.status >= 400 else None)
        self.page.goto(url)
        self.status = self.page.locator(".partnersim-status")
        self.levers = self.page.locator(".partnersim-levers")
        self.wait_status("Month 0:")

    def wait_status(self, prefix: str) -> None:
        from playwright.sync_api import expect

        expect(self.status).to_contain_text(prefix)

    def month(self) -> int:
        return int(re.search(r"Month (\d+)", self.status.inner_text()).group(1))  # type: ignore[union-attr]

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            target = self.month() + 1
            self.page.get_by_role("button", name="Step", exact=True).click()
            self.wait_status(f"Month {target}:")

    def press(self, label: str) -> None:
        self.page.get_by_role("button", name=label, exact=True).click()

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors
        assert self.blocked == [], f"requests outside 127.0.0.1 were needed: {self.blocked}"
        assert self.bad_responses == [], self.bad_responses


@pytest.fixture
def session(server: Any, browser: Any) -> Any:
    s = Session(browser, server.url)
    yield s
    s.close()


@pytest.mark.browser
def test_page_loads_offline_with_no_errors(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    expect(page).to_have_title("partnersim: partnership workshop")
    expect(page.get_by_text("Trust network")).to_be_visible()
    expect(page.get_by_text("Over time")).to_be_visible()
    expect(page.locator("img.partnersim-network")).to_be_visible()
    expect(page.locator("img.partnersim-series")).to_be_visible()
    expect(page.get_by_text("200 staff in 5 agencies")).to_be_visible()
    expect(session.levers).to_contain_text("leadership 0.60")
    for label, _ in dash_session.LIVE_INTERVENTIONS.values():
        expect(page.get_by_role("button", name=label, exact=True)).to_be_visible()
    for group in ("Structure", "Leadership", "Ground rules", "Communication"):
        expect(page.get_by_text(group, exact=True)).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    session.step(3)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 20_000


@pytest.mark.browser
def test_step_advances_the_month_and_redraws(session: Session) -> None:
    page = session.page
    page.locator("img.partnersim-network").wait_for()
    before = _image_digest(page, "img.partnersim-network")  # (src is a new blob URL anyway)
    session.step()
    assert session.month() == 1
    _wait_for_image(page, "img.partnersim-network", before, same=False)
    session.step(2)
    assert session.month() == 3
    page.get_by_role("button", name="▶", exact=True).click()  # play runs month after month
    page.wait_for_function("""() => Number(/Month (\\d+)/.exec(
        document.querySelector('.partnersim-status').innerText)[1]) >= 6""")
    page.get_by_role("button", name="❚❚", exact=True).click()
    at_pause = session.month()
    page.get_by_role("button", name="▶", exact=True).wait_for()
    page.wait_for_timeout(1000)  # Mesa's play loop may finish the month it had begun
    paused = session.month()
    assert at_pause >= 6 and paused <= at_pause + 1
    page.wait_for_timeout(1000)  # several play intervals: nothing moves while paused
    assert session.month() == paused


@pytest.mark.browser
def test_slider_change_then_reset_changes_the_model(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    session.step(2)
    page.get_by_text("Leadership", exact=True).click()
    control = page.locator(".partnersim-param-leadership")
    label = control.locator(".partnersim-param-label")
    expect(label).to_have_text("Leadership (index 0-1): 0.6")
    thumb = control.get_by_role("slider")
    thumb.focus()
    for _ in range(10):  # ten steps of 0.01
        thumb.press("ArrowLeft")
    expect(label).to_have_text("Leadership (index 0-1): 0.5")
    expect(page.locator(".partnersim-stale")).to_be_visible()
    expect(session.levers).to_contain_text("leadership 0.60")  # not applied before Reset
    page.get_by_role("button", name="Reset", exact=True).click()
    session.wait_status("Month 0:")
    expect(session.levers).to_contain_text("leadership 0.50")
    expect(page.locator(".partnersim-stale")).to_have_count(0)


@pytest.mark.browser
def test_the_chair_leaves_changes_leadership_and_is_marked(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    session.step(4)
    expect(session.levers).to_contain_text("leadership 0.60, one chair")
    before = _image_digest(page, "img.partnersim-series")
    session.press("The chair leaves")
    expect(session.levers).to_contain_text(re.compile(r"leadership 0\.[0-5]\d of 0\.60"))
    expect(page.locator(".partnersim-events")).to_contain_text("month 4: chair leaves")
    _wait_for_image(page, "img.partnersim-series", before, same=False)  # with the marker
    assert session.month() == 4  # acted now, without a reset or a step
    session.step(2)
    expect(page.locator(".partnersim-events")).to_contain_text("month 4: chair leaves")
    expect(session.levers).to_contain_text("a new chair is settling in")


@pytest.mark.browser
def test_saved_scenario_file_runs_with_partnersim_run(session: Session, tmp_path: Path) -> None:
    page = session.page
    session.step(3)
    session.press("Introduce ground rules")
    session.press("The chair leaves")
    page.locator(".partnersim-events").get_by_text("month 3: chair leaves").wait_for()
    session.step(2)
    with page.expect_download() as info:
        page.get_by_role("button", name="Save settings and interventions").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name == "default-dashboard.toml"  # every default: the scenario "default"
    scenario = load_scenario(saved)
    assert [(iv.kind, iv.month) for iv in scenario.interventions] == [
        ("ground_rules", 3), ("chair_leaves", 3)]
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "partnersim.cli", "run", str(saved), "--out", str(out),
         "--replicates", "1", "--executor", "serial", "--no-progress"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ts = pd.read_parquet(out / "timeseries.parquet").sort_values("month")
    presence = ts["chair_presence"].to_numpy()
    assert presence[2] == 1.0 and presence[3] < 0.5  # the chair left at month 3, as on screen
    # the status line's trust across agencies at month 5 is the run's replicate 0 value
    shown = float(re.search(r"\((\d\.\d\d)\)", session.status.inner_text()).group(1))  # type: ignore[union-attr]
    assert shown == pytest.approx(ts["trust_across"].to_numpy()[4], abs=0.005)


@pytest.mark.browser
def test_load_a_scenario_from_the_menu_and_from_a_file(session: Session,
                                                       workdir: Path) -> None:
    from playwright.sync_api import expect

    page = session.page
    page.get_by_role("button", name="Load", exact=True).click()
    expect(page.locator(".partnersim-loaded")).to_contain_text("small-workshop")
    expect(page.get_by_text("60 staff in 5 agencies")).to_be_visible()
    session.wait_status("Month 0:")
    session.step(3)
    expect(page.locator(".partnersim-events")).to_contain_text("month 2: ground rules")
    expect(session.levers).to_contain_text("ground rules 0.80")
    # a file chosen on this computer, through the file input
    other = workdir / "upload.toml"
    other.write_text('name = "uploaded"\nseed = 3\n[params]\nn_staff = 40\n')
    page.locator("input[type=file]").set_input_files(str(other))
    expect(page.locator(".partnersim-loaded")).to_contain_text("uploaded")
    expect(page.get_by_text("40 staff in 5 agencies")).to_be_visible()
    session.wait_status("Month 0:")
    other.write_text("[params]\nn_staf = 40\n")  # the same file again, now misspelt
    page.locator("input[type=file]").set_input_files(str(other))
    expect(page.locator(".partnersim-load-error")).to_contain_text("n_staff")


@pytest.mark.browser
def test_two_browser_contexts_keep_separate_models(server: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    a = Session(browser, server.url)
    b = Session(browser, server.url)
    try:
        a.step(3)
        a.press("The chair leaves")
        expect(a.page.locator(".partnersim-events")).to_contain_text("month 3: chair leaves")
        b.page.reload()
        b.wait_status("Month 0:")
        b.step()
        assert b.month() == 1
        expect(b.levers).to_contain_text("leadership 0.60")
        expect(b.page.locator(".partnersim-events")).to_have_count(0)
        assert a.month() == 3
        a.step()
        assert a.month() == 4 and b.month() == 1
    finally:
        a.close()
        b.close()


@pytest.mark.browser
def test_seed_box_takes_a_number_and_reset_uses_it(session: Session, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = session.page
    seed = page.get_by_label("Seed")
    seed.fill("abc")
    seed.press("Enter")
    expect(page.locator(".partnersim-seed-error")).to_contain_text("not a whole number")
    seed.fill("5")
    seed.press("Enter")
    expect(page.locator(".partnersim-seed-error")).to_have_count(0)
    expect(page.locator(".partnersim-stale")).to_be_visible()
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(page.locator(".partnersim-stale")).to_have_count(0)
    session.step()
    with page.expect_download() as info:
        page.get_by_role("button", name="Save settings and interventions").click()
    info.value.save_as(tmp_path / "seed.toml")
    assert load_scenario(tmp_path / "seed.toml").seed == 5


@pytest.mark.browser
def test_the_command_opens_the_scenario_it_is_given(browser: Any, workdir: Path) -> None:
    from playwright.sync_api import expect

    with dashboard.DashboardProcess("scenarios/small.toml", cwd=workdir) as proc:
        s = Session(browser, proc.url)
        try:
            expect(s.page.get_by_text("60 staff in 5 agencies")).to_be_visible()
            expect(s.page.get_by_label("Seed")).to_have_value("7")
            s.step(3)
            expect(s.page.locator(".partnersim-events")).to_contain_text("month 2: ground rules")
        finally:
            s.close()
    assert proc.returncode == 0 and "stopped" in proc.output


@pytest.mark.browser
def test_a_button_pressed_while_playing_acts_between_months(session: Session,
                                                            tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = session.page
    month_js = """() => Number(/Month (\\d+)/.exec(
        document.querySelector('.partnersim-status').innerText)[1])"""
    page.get_by_role("button", name="▶", exact=True).click()
    page.wait_for_function(f"({month_js})() >= 3")
    session.press("Introduce ground rules")
    expect(page.locator(".partnersim-events")).to_contain_text("ground rules")
    page.wait_for_function(f"({month_js})() >= 8")
    play, pause = (page.get_by_role("button", name=n, exact=True) for n in ("▶", "❚❚"))
    for _ in range(5):  # on a loaded machine a click can land while the controls re-render
        if play.is_visible():
            break
        if pause.is_visible():
            pause.click()
        page.wait_for_timeout(2000)
    play.wait_for()
    page.wait_for_timeout(1000)  # Mesa's play loop may finish the month it had begun
    with page.expect_download() as info:
        page.get_by_role("button", name="Save settings and interventions").click()
    info.value.save_as(tmp_path / "played.toml")
    month = session.month()
    shown = float(re.search(r"\((\d\.\d\d)\)", session.status.inner_text()).group(1))  # type: ignore[union-attr]
    saved = load_scenario(tmp_path / "played.toml")
    [iv] = saved.interventions
    assert iv.kind == "ground_rules" and 3 <= iv.month < month
    expect(page.locator(".partnersim-events")).to_contain_text(f"month {iv.month}: ground rules")
    # replaying the saved file reaches the same state as the run on screen
    again = dash_session.build_model(saved.params.model_dump(), saved.seed, saved.interventions)
    for _ in range(month):
        again.step()
    assert f"{again.measures_frame()['trust_across'].iloc[-1]:.2f}" == f"{shown:.2f}"


# ----------------------------------------------------------------------------------
# the presentation view, what if and replay (a projector's 1280x720)

PROJECTOR = (1280, 720)

MONTH_JS = """() => Number(/Month (\\d+)/.exec(
    document.querySelector('.partnersim-big-month').innerText)[1])"""


def _default_run(months: int) -> Any:
    """The model the dashboard's server opens (no scenario given: every default), run on."""
    scenario = dash_session.default_scenario()
    model = dash_session.build_model(scenario.params.model_dump(), scenario.seed, ())
    for _ in range(months):
        model.step()
    return model


def _min_font_px(page: Any, selector: str) -> float:
    """The smallest computed font size of the text under ``selector`` (SVG text included)."""
    return page.evaluate("""(sel) => {
        const sizes = [];
        for (const root of document.querySelectorAll(sel)) {
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const node = walker.currentNode;
                if (!node.textContent.trim() || !node.parentElement) continue;
                const box = node.parentElement.getBoundingClientRect();
                if (box.width === 0 && box.height === 0) continue;  // not on screen
                sizes.push(parseFloat(getComputedStyle(node.parentElement).fontSize));
            }
        }
        return sizes.length ? Math.min(...sizes) : -1;
    }""", selector)


IMAGE_DIGEST_JS = """async (sel) => {
    const data = await (await fetch(document.querySelector(sel).src)).arrayBuffer();
    const hash = await crypto.subtle.digest('SHA-256', data);
    return Array.from(new Uint8Array(hash)).map(b => b.toString(16).padStart(2, '0')).join('');
}"""


def _image_digest(page: Any, selector: str) -> str:
    """SHA-256 of the image shown by ``selector`` (its src is a new blob URL each render)."""
    return page.evaluate(IMAGE_DIGEST_JS, selector)


def _wait_for_image(page: Any, selector: str, digest: str, *, same: bool) -> None:
    """Wait until the image shown by ``selector`` is (or is no longer) the one with ``digest``:
    a redraw arrives in its own message, after the status line may have changed."""
    page.wait_for_function(
        f"async ([sel, want, same]) => ((await ({IMAGE_DIGEST_JS})(sel)) === want) === same",
        arg=[selector, digest, same])


def _choose_what_if(page: Any, label: str) -> None:
    page.locator(".partnersim-whatif .v-select").click()
    page.get_by_role("option", name=label, exact=True).click()


@pytest.mark.browser
def test_presentation_view_is_large_and_one_click_from_full_controls(server: Any,
                                                                      browser: Any) -> None:
    from playwright.sync_api import expect

    s = Session(browser, server.url, size=PROJECTOR)
    try:
        page = s.page
        s.step(4)
        s.press("Introduce ground rules")
        s.step(2)
        page.get_by_role("button", name="Presentation view", exact=True).click()
        expect(page.locator(".partnersim-big-month")).to_have_text("Month 6")
        expect(page.locator(".partnersim-last-event")).to_have_text(
            "Last event: month 4, ground rules.")
        expect(page.get_by_text("Model settings (apply on Reset)")).to_have_count(0)
        curves = page.locator(".partnersim-curves svg")
        for measure in charts.PRESENTATION_MEASURES:
            expect(curves.get_by_text(charts.measure_title(measure), exact=True)).to_be_visible()
        expect(curves.get_by_text("ground rules", exact=True)).to_be_visible()  # event marked
        # large type everywhere: the month, the status, the last event, axes and labels
        for selector in (".partnersim-presentation .partnersim-status",
                         ".partnersim-last-event", ".partnersim-big-month",
                         ".partnersim-curves svg"):
            assert _min_font_px(page, selector) >= 18, selector
        # the network and the curves fit the projector's screen, without scrolling
        for selector in ("img.partnersim-network", ".partnersim-curves svg"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["y"] + box["height"] <= PROJECTOR[1], selector
            assert box["x"] + box["width"] <= PROJECTOR[0], selector
        # hover values: the month and value nearest the pointer, in large type
        box = curves.bounding_box()
        assert box is not None
        tooltip = page.locator("#vg-tooltip-element")
        for dx in (0.07, 0.08, 0.09, 0.1):  # near the months run so far, in the top panel
            page.mouse.move(box["x"] + box["width"] * dx, box["y"] + box["height"] * 0.18)
            if tooltip.is_visible():
                break
        expect(tooltip).to_be_visible()
        expect(tooltip).to_contain_text("trust across agencies")
        expect(tooltip).to_contain_text("month")
        assert _min_font_px(page, "#vg-tooltip-element") >= 18
        page.mouse.move(5, 5)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "presentation.png"))
        # the run goes on in the presentation view
        page.get_by_role("button", name="Step", exact=True).click()
        expect(page.locator(".partnersim-big-month")).to_have_text("Month 7")
        page.get_by_role("button", name="Full controls", exact=True).click()
        expect(page.get_by_text("Model settings (apply on Reset)")).to_be_visible()
        s.wait_status("Month 7:")
    finally:
        s.close()


@pytest.mark.browser
def test_what_if_forks_the_run_and_replay_goes_back_and_forks_from_there(
        server: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    s = Session(browser, server.url, size=PROJECTOR)
    try:
        page = s.page
        s.step(6)
        page.get_by_role("button", name="Presentation view", exact=True).click()
        expect(page.locator(".partnersim-big-month")).to_have_text("Month 6")
        _choose_what_if(page, "The chair leaves")
        fork_chart = page.locator(".partnersim-fork-chart svg")
        started = time.monotonic()
        page.get_by_role("button", name="What if? (from month 6)", exact=True).click()
        expect(fork_chart.get_by_text("without", exact=True)).to_be_visible()
        appeared = time.monotonic() - started
        # what the server forked is the run with and without, on the same streams
        expected = dash_session.fork(_default_run(6), "chair_leaves")
        summary = page.locator(".partnersim-fork-summary")
        expect(summary).to_contain_text(charts.fork_summary(expected, "trust_across"))
        expect(summary).to_contain_text(charts.fork_summary(expected, "output"))
        expect(fork_chart.get_by_text("with: the chair leaves", exact=True)).to_be_visible()
        expect(fork_chart.get_by_text("with − without").first).to_be_visible()
        assert appeared < 1.5, f"the fork took {appeared:.2f} s to appear"
        page.screenshot(path=str(ARTIFACTS / "whatif.png"))
        page.get_by_role("button", name="Close what-if", exact=True).click()
        expect(page.locator(".partnersim-curves svg")).to_be_visible()
        # replay: back to month 2, the network as it was, then fork from there
        now_image = _image_digest(page, "img.partnersim-network")
        back = page.get_by_role("button", name="One month back", exact=True)
        for month in (5, 4, 3, 2, 1):  # a month at a time, the page following each
            back.click()
            expect(page.locator(".partnersim-big-month")).to_have_text(f"Month {month}")
        page.get_by_role("button", name="One month on", exact=True).click()
        expect(page.get_by_text("looking back (the run is at month 6)")).to_be_visible()
        expect(page.locator(".partnersim-replaying")).to_contain_text("Replaying month 2")
        _wait_for_image(page, "img.partnersim-network", now_image, same=False)  # as then
        _choose_what_if(page, "Introduce ground rules")
        page.get_by_role("button", name="What if? (from month 2)", exact=True).click()
        from_two = dash_session.fork(_default_run(2), "ground_rules")
        expect(summary).to_contain_text(charts.fork_summary(from_two, "trust_across"))
        page.get_by_role("button", name="Back to now", exact=True).click()
        expect(page.locator(".partnersim-big-month")).to_have_text("Month 6")
        page.wait_for_function(f"({MONTH_JS})() === 6")
        # the live network again, as it was before looking back
        _wait_for_image(page, "img.partnersim-network", now_image, same=True)
        thumb = page.locator(".partnersim-replay").get_by_role("slider")  # or the slider
        thumb.focus()
        thumb.press("ArrowLeft")
        expect(page.locator(".partnersim-big-month")).to_have_text("Month 5")
    finally:
        s.close()


@pytest.mark.browser
def test_a_tab_closed_while_playing_stops_its_model(browser: Any, workdir: Path) -> None:
    with dashboard.DashboardProcess(cwd=workdir) as proc:
        s = Session(browser, proc.url)
        page = s.page
        page.get_by_role("button", name="▶", exact=True).click()
        page.wait_for_function("""() => Number(/Month (\\d+)/.exec(
            document.querySelector('.partnersim-status').innerText)[1]) >= 3""")
        shown = s.month()
        page.close(run_before_unload=True)  # as a closed tab: the page's kernel ends
        s.close()
        time.sleep(2)  # a model left playing would go on stepping here
    stopped = re.findall(r"a page closed; its run stopped at month (\d+)", proc.output)
    assert len(stopped) == 1, proc.output
    # stopped when the tab closed, not at the end: the page's kernel ends about a second after
    # the close, at 150 ms a month; a run left playing through the 2 s sleep would be further
    assert shown <= int(stopped[0]) <= shown + 13
    assert proc.returncode == 0 and "Traceback" not in proc.output
