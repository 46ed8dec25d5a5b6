"""The one TOML reader for input files (scenarios, experiments, pattern files): text, data, key lines.

Every input file goes through :func:`read_toml`, so a missing file, a folder, bytes
that are not UTF-8 and a TOML syntax error all give the same one-line
:class:`~partnersim.errors.InputError` naming the file and the line. The
:class:`TomlFile` it returns keeps the text (hashed into manifests) and the line of
every key, so that any error about a key says where the key is::

    scenarios/x.toml: line 12: params.leadrship: unknown parameter (did you mean 'leadership'?)

Use it like this (scenario, experiment and pattern-file readers all do)::

    doc = read_toml(find_input(path, shipped=SHIPPED_SCENARIOS, what="scenario"),
                    what="scenario")
    with doc.located():             # InputErrors about doc's keys gain their line
        check_keys(doc.data, ALLOWED, source=doc.source)
        n = check_int(doc.data.get("replicates", 1), 1, 100, source=doc.source,
                      key="replicates")

Keys are written as in messages: dotted tables, ``[i]`` for the i-th element of an
array or array of tables (``interventions[0].month``, ``vary.leadership.range``,
``conditions.raise.interventions[0]``). A key without a line of its own (a value
inside an inline table) takes the line of the nearest enclosing key that has one.

The folders of shipped inputs (package data) live here too: ``partnersim run
baseline`` finds ``data/scenarios/baseline.toml`` through :func:`find_input`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from partnersim.errors import InputError, did_you_mean, unknown

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
"""The package data folder: shipped scenarios, experiments and pattern files."""

SHIPPED_SCENARIOS = DATA_DIR / "scenarios"
SHIPPED_EXPERIMENTS = DATA_DIR / "experiments"
SHIPPED_PATTERNS = DATA_DIR / "patterns"


# --------------------------------------------------------------------------- the file


@dataclass(frozen=True)
class TomlFile:
    """One TOML input file, read and parsed.

    Attributes:
        source: The file as named in messages (the path as given), or e.g. ``<text>``.
        text: The file's text, as read (for manifests and hashes).
        data: The parsed TOML.
        lines: Key (``params.leadership``, ``interventions[0].month``) -> 1-based line.
    """

    source: str | None
    text: str = field(repr=False)
    data: dict[str, Any] = field(repr=False)
    lines: Mapping[str, int] = field(default_factory=dict, repr=False)

    def line_of(self, key: str | None) -> int | None:
        """The line of ``key``, else of its nearest enclosing key; ``None`` if unknown."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = _parent(key)
        return None

    def error(self, message: str, key: str | None = None) -> InputError:
        """An error about ``key`` of this file, naming the file, the key's line and the key."""
        return InputError(message, source=self.source, key=key, line=self.line_of(key))

    @contextmanager
    def located(self) -> Iterator[None]:
        """Give every :class:`InputError` raised inside about this file the line of its key.

        Errors about other files (e.g. a base scenario an experiment names) and errors
        that already carry a line pass through unchanged.
        """
        try:
            yield
        except InputError as exc:
            if exc.source == self.source and exc.line is None and exc.key:
                line = self.line_of(exc.key)
                if line is not None:
                    raise exc.rekeyed(line=line) from None
            raise


def _parent(key: str) -> str:
    """``a.b[2]`` -> ``a.b``; ``a.b`` -> ``a``; ``a`` -> ``''``."""
    if key.endswith("]") and "[" in key:
        return key[:key.rindex("[")]
    return key.rpartition(".")[0]


def read_toml(path: str | Path, *, what: str = "input") -> TomlFile:
    """Read and parse a TOML file.

    Args:
        path: The file.
        what: What the file should be (``"scenario"``, ``"experiment"``, ``"pattern"``),
            for messages.

    Raises:
        InputError: naming the file (and the line where there is one): the file is
            missing, is a folder, cannot be read, is not UTF-8 text, or is not valid TOML.
    """
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise InputError(f"{what} file not found", source=source)
    if not path.is_file():
        raise InputError(f"not a file (expected a {what} .toml file)", source=source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", source=source,
                         line=raw.count(b"\n", 0, exc.start) + 1) from None
    return parse_toml(text, source=source)


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def parse_toml(text: str, *, source: str | None = None) -> TomlFile:
    """Parse TOML text (see :func:`read_toml`); ``source`` names it in messages.

    Raises:
        InputError: a TOML syntax error, naming the line and column.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = " ".join(str(exc).split())
        at = _AT.search(msg)
        if at is None:
            raise InputError(f"malformed TOML: {msg}", source=source) from None
        raise InputError(f"malformed TOML: {msg[:at.start()]} (column {at.group(2)})",
                         source=source, line=int(at.group(1))) from None
    return TomlFile(source=source, text=text, data=data, lines=key_lines(text))


# --------------------------------------------------------------------------- shipped inputs


def shipped_names(folder: Path) -> tuple[str, ...]:
    """Names (file stems) of the shipped ``.toml`` files in a package-data folder."""
    return tuple(sorted(p.stem for p in folder.glob("*.toml")))


def find_input(path: str | Path, *, shipped: Path, what: str,
               base_dir: Path | None = None) -> Path:
    """The file an input names: a path, or the name of a shipped file.

    ``baseline``, ``baseline.toml`` and ``scenarios/baseline.toml`` all work from any
    folder: a path that exists is used as it is (relative to ``base_dir`` if given);
    ``NAME`` also tries ``NAME.toml``; a bare name (no folder) that is not there is
    looked up among the shipped files in ``shipped``.

    Args:
        path: As given by the user.
        shipped: The package-data folder of this kind of input.
        what: ``"scenario"``, ``"experiment"``, ``"pattern"``: for messages.
        base_dir: Folder that a relative path is relative to (default: the working folder).

    Returns:
        The path of the file to read.

    Raises:
        InputError: naming the path, when nothing matches; for a bare name the message
            lists the shipped names, with the closest one.
    """
    given = Path(path)
    local = given if base_dir is None or given.is_absolute() else base_dir / given
    if local.is_file():
        return local
    if not given.suffix and local.with_suffix(".toml").is_file():
        return local.with_suffix(".toml")
    bare = len(given.parts) == 1 and given.suffix in ("", ".toml")
    if bare and (shipped / f"{given.stem}.toml").is_file():
        return shipped / f"{given.stem}.toml"
    if local.exists():
        return local  # a folder, not a file: read_toml says so
    if not bare:
        raise InputError(f"{what} file not found", source=str(local))
    names = shipped_names(shipped)
    raise InputError(f"{what} file not found, and no shipped {what} has that name"
                     f"{did_you_mean(given.stem, names)}; shipped {what}s: {', '.join(names)}",
                     source=str(local))


# --------------------------------------------------------------------------- checks shared by files


def check_keys(table: Mapping[str, Any], allowed: Iterable[str], *, source: str | None,
               prefix: str | None = None, what: str = "key", list_choices: bool = True) -> None:
    """Refuse a key of ``table`` that is not in ``allowed``, with the likely intended one.

    Args:
        table: A TOML table.
        allowed: The keys it may hold.
        source: The file.
        prefix: The table's own key (``options``), put in front of the key in messages.
        what: What a key is, e.g. ``"option"``.
        list_choices: End the message with the allowed keys.

    Raises:
        InputError: ``<prefix>.<key>: unknown <what> (did you mean ...); expected one of ...``.
    """
    allowed = tuple(allowed)
    for key in table:
        if key not in allowed:
            raise unknown(what, key, allowed, source=source,
                          key=f"{prefix}.{key}" if prefix else key, list_choices=list_choices)


MAX_REPLICATES = 100_000
"""Most replicates (or seeds of a pattern) an input file or the command line may ask for."""


NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
"""A study's name: it names its results folder (``results/<name>``), so no path in it."""


def check_name(value: Any, *, source: str | None, key: str = "name") -> str:
    """A study's name: a short name of letters, digits, '_', '-' or '.'.

    Raises:
        InputError: anything else (a path such as ``../x``, an empty string, not a string).
    """
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise InputError(f"expected a short name of letters, digits, '_', '-' or '.', got "
                         f"{value!r}", source=source, key=key)
    return value


def check_int(value: Any, lo: int, hi: int, *, source: str | None, key: str) -> int:
    """An integer in ``[lo, hi]`` (not a bool, not a float).

    Raises:
        InputError: ``<key>: expected an integer, got ...`` or ``<key>: 0 is outside the
            bounds [1, 100000]``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"expected an integer, got {value!r}", source=source, key=key)
    if not lo <= value <= hi:
        raise InputError(f"{value} is outside the bounds [{lo}, {hi}]", source=source, key=key)
    return value


# --------------------------------------------------------------------------- key lines


def key_lines(text: str) -> dict[str, int]:
    """Key -> 1-based line of every key, table and array element of valid TOML text.

    The text must already have parsed (:func:`parse_toml` does that first); on anything
    this small scanner does not expect it returns the lines found so far, so a key
    without a line is named without one, never refused.
    """
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (IndexError, ValueError):
        pass
    return scanner.lines


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class _Scanner:
    """Walks valid TOML text once, noting where each key, table and element starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.lines: dict[str, int] = {}
        self.arrays: dict[str, int] = {}  # array-of-tables path -> elements so far

    def note(self, key: str) -> None:
        self.lines.setdefault(key, self.line)

    def document(self) -> None:
        text, table = self.text, ""
        while self.i < len(text):
            self.blank(newlines=True)
            if self.i >= len(text):
                break
            if text[self.i] == "[":
                double = text.startswith("[[", self.i)
                self.i += 2 if double else 1
                self.spaces()
                parts = self.key()
                self.spaces()
                self.i += 2 if double else 1
                table = self.header(parts, double)
            else:
                parts = self.key()
                path = ".".join([table, *parts] if table else parts)
                self.note(path)
                self.spaces()
                self.i += 1  # '='
                self.spaces()
                self.value(path)

    def header(self, parts: list[str], double: bool) -> str:
        """The path a ``[table]`` or ``[[array]]`` header opens (with element indices)."""
        path = ""
        for k, part in enumerate(parts):
            path = f"{path}.{part}" if path else part
            if double and k == len(parts) - 1:
                n = self.arrays.get(path, 0)
                self.arrays[path] = n + 1
                self.note(path)
                path = f"{path}[{n}]"
            elif path in self.arrays:
                path = f"{path}[{self.arrays[path] - 1}]"
        self.note(path)
        return path

    def key(self) -> list[str]:
        """A dotted key: bare or quoted parts."""
        parts = []
        while True:
            self.spaces()
            c = self.text[self.i]
            if c in "\"'":
                start = self.i
                self.string()
                parts.append(tomllib.loads(f"k = {self.text[start:self.i]}")["k"])
            else:
                m = _BARE_KEY.match(self.text, self.i)
                if m is None:
                    raise ValueError(f"no key at offset {self.i}")
                parts.append(m.group())
                self.i = m.end()
            self.spaces()
            if self.i < len(self.text) and self.text[self.i] == ".":
                self.i += 1
                continue
            return parts

    def value(self, path: str) -> None:
        c = self.text[self.i]
        if c == "[":
            self.array(path)
        elif c == "{":
            self.inline_table(path)
        elif c in "\"'":
            self.string()
        else:  # number, bool, date: up to the next delimiter
            while self.i < len(self.text) and self.text[self.i] not in ",]}\n#":
                self.i += 1

    def array(self, path: str) -> None:
        self.i += 1
        n = 0
        while True:
            self.blank(newlines=True)
            if self.text[self.i] == "]":
                self.i += 1
                return
            element = f"{path}[{n}]"
            self.note(element)
            self.value(element)
            n += 1
            self.blank(newlines=True)
            if self.text[self.i] == ",":
                self.i += 1

    def inline_table(self, path: str) -> None:
        self.i += 1
        while True:
            self.spaces()
            if self.text[self.i] == "}":
                self.i += 1
                return
            key = ".".join([path, *self.key()])
            self.note(key)
            self.spaces()
            self.i += 1  # '='
            self.spaces()
            self.value(key)
            self.spaces()
            if self.text[self.i] == ",":
                self.i += 1

    def string(self) -> None:
        text = self.text
        quote = text[self.i]
        triple = text.startswith(quote * 3, self.i)
        self.i += 3 if triple else 1
        while True:
            c = text[self.i]
            if c == "\\" and quote == '"':
                if text[self.i + 1] == "\n":
                    self.line += 1
                self.i += 2
                continue
            if c == "\n":
                self.line += 1
            if triple and text.startswith(quote * 3, self.i):
                self.i += 3
                extra = 0
                while extra < 2 and self.i < len(text) and text[self.i] == quote:
                    self.i += 1  # up to two quotes may end the content
                    extra += 1
                return
            if not triple and c == quote:
                self.i += 1
                return
            self.i += 1

    def spaces(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t":
            self.i += 1

    def blank(self, *, newlines: bool) -> None:
        """Skip spaces, comments and (with ``newlines``) line ends."""
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            if c in " \t\r":
                self.i += 1
            elif c == "#":
                while self.i < len(text) and text[self.i] != "\n":
                    self.i += 1
            elif c == "\n" and newlines:
                self.line += 1
                self.i += 1
            else:
                return
