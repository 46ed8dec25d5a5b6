"""The one exception type for bad user input, turned by the CLI into one line and exit 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

_KEEP = object()


class InputError(Exception):
    """Bad user input: a file, key or value that is not what partnersim expects.

    The message is one line that names the file, the line in it, the key and what was
    expected: ``scenarios/x.toml: line 12: params.leadrship: unknown parameter (did you
    mean 'leadership'?)``.

    Attributes:
        message: What is wrong, without the file, line and key.
        source: The file (or command-line option group) it came from, if any.
        key: The key, e.g. ``params.leadership`` or ``interventions[0].month``.
        line: The 1-based line of the file where the key (or the mistake) is.
    """

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None,
                 line: int | None = None):
        self.message = message
        self.source = source
        self.key = key
        self.line = line
        parts = [p for p in (source, None if line is None else f"line {line}", key) if p]
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)

    def rekeyed(self, *, source: str | None | object = _KEEP, key: str | None | object = _KEEP,
                prefix: str | None = None, line: int | None | object = _KEEP) -> InputError:
        """The same error told from a caller's side: another file, key or line.

        Args:
            source: The file to name instead (default: unchanged).
            key: The key to name instead (default: unchanged).
            prefix: Put in front of the key, e.g. ``params`` makes ``leadership``
                ``params.leadership``.
            line: The line to name instead (default: unchanged).
        """
        new_key = self.key if key is _KEEP else key
        if prefix:
            new_key = f"{prefix}.{new_key}" if new_key else prefix
        return InputError(self.message,
                          source=self.source if source is _KEEP else source,  # type: ignore[arg-type]
                          key=new_key,  # type: ignore[arg-type]
                          line=self.line if line is _KEEP else line)  # type: ignore[arg-type]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown(what: str, name: str, choices: Iterable[str], *, source: str | None = None,
            key: str | None = None, show_name: bool = False,
            list_choices: bool | Iterable[str] = False) -> InputError:
    """The error for a name that is not one of ``choices``, with the likely intended one.

    Every "unknown key / parameter / kind / measure" message is built here, so they read
    alike: ``unknown parameter (did you mean 'leadership'?)``.

    Args:
        what: What the name should be, e.g. ``"parameter"``, ``"intervention kind"``.
        name: The name as given.
        choices: The names allowed.
        source: The file.
        key: Where the name is (default: the name itself).
        show_name: Repeat the name in the message (when the key does not already say it).
        list_choices: End with ``expected one of ...``: the choices, or the names given
            here (e.g. a file's own keys, where the choices also hold likely mistakes).

    Returns:
        The error, for the caller to raise.
    """
    choices = list(choices)
    shown = f" {name!r}" if show_name else ""
    listed = choices if list_choices is True else list(list_choices or ())
    listed = f"; expected one of {', '.join(listed)}" if listed else ""
    return InputError(f"unknown {what}{shown}{did_you_mean(name, choices)}{listed}",
                      source=source, key=name if key is None else key)
