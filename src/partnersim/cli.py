"""The ``partnersim`` command line: a parser, one handler per verb, ``main(argv) -> int``.

Handlers only parse arguments, call the Python API and print where results went;
no model logic lives here. Bad input (``InputError``) becomes one line on stderr
and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from partnersim import __version__
from partnersim.errors import InputError


def _cmd_params(args: argparse.Namespace) -> int:
    from partnersim.params import PARAMETERS

    rows = [spec for spec in PARAMETERS.values() if args.group in (None, spec.group)]
    if args.format == "markdown":
        from partnersim.docs import parameter_table

        print(parameter_table(rows))
        return 0
    width = max(len(s.name) for s in rows)
    for s in rows:
        bounds = f"[{s.lower}, {s.upper}]" if s.is_numeric else (
            "{" + ", ".join(s.choices) + "}" if s.choices else "{true, false}")
        print(f"{s.name:<{width}}  {s.default!s:<10} {bounds:<18} {s.provenance}  "
              f"{s.unit}: {s.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partnersim",
        description="Agent-based model of health and social-care partnerships.",
    )
    parser.add_argument("--version", action="version", version=f"partnersim {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = sub.add_parser("params", help="every parameter: default, bounds, unit, provenance")
    p.add_argument("--group", help="only parameters of this group (lever)")
    p.add_argument("--format", choices=("text", "markdown"), default="text")
    p.set_defaults(handler=_cmd_params)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except InputError as exc:
        print(f"partnersim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("partnersim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
