"""The reference results (a run, a compare, a sweep, a sensitivity study, validate) are
unchanged to the bit: a refactoring that changes any table fails here."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("reference_results",
                                               ROOT / "scripts" / "reference_results.py")
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)


def test_reference_results_are_unchanged(tmp_path):
    record = json.loads(reference.RECORD.read_text())
    found = reference.differences(record["results"], reference.produce(tmp_path))
    assert found == [], (f"recorded with {record['environment']}, "
                         f"running with {reference.environment()}")


def test_the_check_notices_a_changed_column():
    expected = {"run": {"runs.parquet": {"output": "a", "trust": "b"}}}
    changed = {"run": {"runs.parquet": {"output": "a", "trust": "c"}}}
    assert reference.differences(expected, changed) == ["run: runs.parquet: column trust differs"]
    assert reference.differences(expected, expected) == []
    added = {"run": {"runs.parquet": {"output": "a", "trust": "b", "new": "d"},
                     "more.parquet": {"x": "e"}}}
    assert reference.differences(expected, added) == []
    assert reference.additions(expected, added) == ["run: runs.parquet: new column new",
                                                    "run: new table more.parquet"]
