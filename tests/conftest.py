"""Shared pytest options."""

from __future__ import annotations


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite tests/golden/baseline.json from the current model (then review the diff)")
