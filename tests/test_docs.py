"""docs/ODD.md stays in step with the code: parameter table, parameters, measures, stages."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

import pytest

from partnersim import outputs
from partnersim.model.partnership import PartnershipModel
from partnersim.params import PARAMETERS
from partnersim.present import odd as docs

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
REFRESH = ("run `python -m partnersim.present.odd` (or paste the output of "
           "`partnersim params --format markdown`) to refresh the table in docs/ODD.md")


@pytest.fixture(scope="module")
def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    """The text of the level-2 section whose heading starts with ``heading``."""
    match = re.search(rf"^## {re.escape(heading)}.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/ODD.md has no section '## {heading}'"
    return match.group(1)


def test_parameter_table_is_current(odd_text: str) -> None:
    assert odd_text.count(docs.TABLE_START) == 1, f"missing table start marker; {REFRESH}"
    assert odd_text.count(docs.TABLE_END) == 1, f"missing table end marker; {REFRESH}"
    generated = odd_text.split(docs.TABLE_START, 1)[1].split(docs.TABLE_END, 1)[0].strip()
    assert generated == docs.parameter_table(), f"the ODD parameter table is stale; {REFRESH}"


def test_update_odd_table_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "ODD.md"
    path.write_text(f"before\n{docs.TABLE_START}\nold\n{docs.TABLE_END}\nafter\n", encoding="utf-8")
    assert docs.main([str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert docs.parameter_table() in text
    assert text.startswith("before\n") and text.endswith("\nafter\n")
    assert docs.update_odd_table(path) is False  # idempotent


def test_every_parameter_is_documented(odd_text: str) -> None:
    # outside the generated table too: every parameter must be used in the prose
    prose = odd_text.split(docs.TABLE_START, 1)[0] + odd_text.split(docs.TABLE_END, 1)[1]
    missing = [name for name in PARAMETERS if f"`{name}`" not in prose
               and not re.search(rf"\b{re.escape(name)}\b", prose)]
    assert not missing, f"parameters not described in docs/ODD.md: {missing}"


def test_every_measure_and_summary_is_documented(odd_text: str) -> None:
    missing = [name for name in (*outputs.MONTHLY, *outputs.SUMMARIES)
               if f"`{name}`" not in odd_text]
    assert not missing, f"measures/summaries not defined in docs/ODD.md: {missing}"


def _stages_called_in_step() -> list[str]:
    """Names of the ``stages.<name>(...)`` calls in ``PartnershipModel.step``, in order."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(PartnershipModel.step)))
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "stages"):
            calls.append((node.lineno, node.func.attr))
    return [name for _, name in sorted(calls)]


def test_every_stage_is_in_the_process_overview(odd_text: str) -> None:
    stage_names = _stages_called_in_step()
    assert len(stage_names) == 11, stage_names
    overview = _section(odd_text, "3. Process overview")
    missing = [name for name in stage_names if f"`{name}`" not in overview]
    assert not missing, f"stages missing from the ODD process overview: {missing}"
    # and in the same order as the code calls them
    positions = [overview.index(f"`{name}`") for name in stage_names]
    assert positions == sorted(positions), "the ODD process overview lists the stages out of order"


def test_every_stage_has_a_submodel(odd_text: str) -> None:
    submodels = _section(odd_text, "7. Submodels")
    missing = [name for name in _stages_called_in_step() if f"(`{name}`" not in submodels]
    assert not missing, f"stages without a submodel subsection in docs/ODD.md: {missing}"
