"""Numbers and tables as text: the one number formatter that reports, summaries and the CLI share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

SUMMARY_HEADER: tuple[str, ...] = ("output", "mean", "sd", "p05", "median", "p95", "n")
"""Columns of a summary table of end-of-run outputs (see ``study.replicates.summary_table``)."""


def fmt(x: Any) -> str:
    """A number for tables: 3 significant figures or so; 'n/a' for missing."""
    if x is None:
        return "n/a"
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return str(int(x))
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "n/a"
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.3g}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:#.3g}"  # 3 significant figures, trailing zeros kept: 0.540, 1.00


def pct(x: Any) -> str:
    """A share as a whole percentage, 'n/a' for missing; a share that is neither none nor all
    never reads 0% or 100% ("<1%", ">99%")."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(v):
        return "n/a"
    if 0 < v < 0.005:
        return "<1%"
    if 0.995 < v < 1:
        return ">99%"
    return f"{v:.0%}"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (cells with a '|' or a line break made safe)."""
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def format_summary(table: pd.DataFrame) -> str:
    """A summary table (``SUMMARY_HEADER`` columns) as aligned text for the terminal."""
    header = list(SUMMARY_HEADER)
    rows = [[str(r[header[0]]), *[fmt(r[c]) for c in header[1:-1]], str(int(r["n"]))]
            for _, r in table.iterrows()]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(header, widths, strict=True)))]
    for row in rows:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(lines)
