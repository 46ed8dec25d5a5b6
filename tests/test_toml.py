"""The one TOML reader: file errors with lines, the line of every key, shared checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from partnersim.errors import InputError
from partnersim.inputs.toml import (
    SHIPPED_SCENARIOS,
    check_int,
    check_keys,
    find_input,
    key_lines,
    parse_toml,
    read_toml,
    shipped_names,
)

AWKWARD = '''\
# a comment = 1
name = "x"  # trailing comment
notes = """
[not_a_table]
fake = 1
"""
path = 'C:\\dir'
"quoted.key" = 1
a.b . c = 2
schedule = [
  [0, 0.1],  # [1, 2]
  [12, 0.2],
]
ivs = [{ kind = "x", month = 1 },
       { kind = "y", month = 2 }]

[params]
leadrship = 0.5

[[interventions]]
kind = "ground_rules"
[interventions.extra]
z = 1

[[interventions]]
kind = "vision"
month = 3

[vary]
leadership = { range = [0.2, 0.8] }
'''


def test_every_key_table_and_element_has_its_line():
    lines = key_lines(AWKWARD)
    assert lines["name"] == 2
    assert lines["notes"] == 3 and "not_a_table" not in lines and "fake" not in lines
    assert lines["path"] == 7
    assert lines["quoted.key"] == 8 and lines["a.b.c"] == 9
    assert (lines["schedule"], lines["schedule[0]"], lines["schedule[1]"]) == (10, 11, 12)
    assert (lines["ivs[0].kind"], lines["ivs[1].month"]) == (14, 15)
    assert (lines["params"], lines["params.leadrship"]) == (17, 18)
    assert (lines["interventions[0]"], lines["interventions[0].kind"]) == (20, 21)
    assert lines["interventions[0].extra.z"] == 23
    assert (lines["interventions[1]"], lines["interventions[1].month"]) == (25, 27)
    assert lines["vary.leadership.range"] == 30


def test_a_key_without_a_line_takes_its_nearest_enclosing_one():
    doc = parse_toml(AWKWARD, source="a.toml")
    assert doc.line_of("interventions[1].month") == 27
    assert doc.line_of("interventions[1].schedule[3][1]") == 25  # not in the file: its table
    assert doc.line_of("params.nothing") == 17
    assert doc.line_of("nothing") is None and doc.line_of(None) is None
    assert str(doc.error("unknown parameter", "params.leadrship")) == (
        "a.toml: line 18: params.leadrship: unknown parameter")


def test_located_gives_errors_about_the_file_their_line_and_leaves_others_alone():
    doc = parse_toml(AWKWARD, source="a.toml")
    with pytest.raises(InputError) as info, doc.located():
        raise InputError("bad", source="a.toml", key="interventions[1].kind")
    assert str(info.value) == "a.toml: line 26: interventions[1].kind: bad"
    assert info.value.line == 26 and info.value.message == "bad"
    with pytest.raises(InputError) as info, doc.located():
        raise InputError("bad", source="other.toml", key="name")
    assert str(info.value) == "other.toml: name: bad"


def test_the_text_is_kept_as_read(tmp_path):
    f = tmp_path / "s.toml"
    f.write_bytes(AWKWARD.encode())
    doc = read_toml(f)
    assert doc.text == AWKWARD and doc.source == str(f)
    assert doc.data["interventions"][1]["month"] == 3


@pytest.mark.parametrize("make,message", [
    (lambda d: d / "missing.toml", "missing.toml: scenario file not found"),
    (lambda d: d, ": not a file (expected a scenario .toml file)"),
])
def test_missing_file_and_folder(tmp_path, make, message):
    with pytest.raises(InputError) as info:
        read_toml(make(tmp_path), what="scenario")
    assert str(info.value).endswith(message)


def test_bytes_that_are_not_utf8_name_their_line(tmp_path):
    f = tmp_path / "latin.toml"
    f.write_bytes(b'name = "x"\n\nquestion = "caf\xe9"\n')
    with pytest.raises(InputError, match=r"latin\.toml: line 3: not UTF-8 text \(invalid "
                                         r"continuation byte at byte 27\)$"):
        read_toml(f)


def test_a_syntax_error_names_line_and_column():
    with pytest.raises(InputError) as info:
        parse_toml('name = "x"\nquestion = "unterminated\n', source="q.toml")
    assert str(info.value) == ("q.toml: line 2: malformed TOML: Illegal character '\\n' "
                               "(column 25)")
    assert info.value.line == 2
    with pytest.raises(InputError, match=r"^q\.toml: malformed TOML: Invalid value \(at end "
                                         r"of document\)$"):
        parse_toml("x = [1,\n", source="q.toml")


def test_check_int_refuses_bools_floats_and_values_out_of_bounds():
    assert check_int(3, 1, 5, source="f", key="k") == 3
    for bad, words in ((True, "expected an integer, got True"),
                       (3.0, "expected an integer, got 3.0"),
                       (0, "0 is outside the bounds [1, 5]"),
                       (6, "6 is outside the bounds [1, 5]")):
        with pytest.raises(InputError) as info:
            check_int(bad, 1, 5, source="f", key="k")
        assert str(info.value) == f"f: k: {words}"


def test_check_keys_suggests_the_likely_key():
    check_keys({"num_levels": 4}, ("num_levels", "M"), source="f", prefix="options")
    with pytest.raises(InputError) as info:
        check_keys({"num_level": 4}, ("num_levels", "M"), source="f", prefix="options",
                   what="option")
    assert str(info.value) == ("f: options.num_level: unknown option (did you mean "
                               "'num_levels'?); expected one of num_levels, M")


def test_find_input_prefers_a_path_then_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_input("baseline", shipped=SHIPPED_SCENARIOS, what="scenario") == (
        SHIPPED_SCENARIOS / "baseline.toml")
    (tmp_path / "baseline.toml").write_text("")
    assert find_input("baseline", shipped=SHIPPED_SCENARIOS, what="scenario") == (
        Path("baseline.toml"))
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "mine.toml").write_text("")
    assert find_input("mine.toml", shipped=SHIPPED_SCENARIOS, what="scenario",
                      base_dir=sub) == sub / "mine.toml"
    assert "baseline" in shipped_names(SHIPPED_SCENARIOS)
