"""The ``partnersim`` command line: a parser, one handler per verb, ``main(argv) -> int``.

Handlers only parse arguments, call the Python API and print where results went;
no model logic lives here. Bad input (``InputError``) becomes one line on stderr
and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import NoReturn

from partnersim import __version__
from partnersim.errors import InputError, unknown


def _cmd_params(args: argparse.Namespace) -> int:
    from partnersim.params import PARAMETERS  # imported here: start-up time of the CLI

    groups = sorted({spec.group for spec in PARAMETERS.values()})
    if args.group is not None and args.group not in groups:
        raise unknown("group", args.group, groups, key="--group", show_name=True,
                      list_choices=True)
    rows = [spec for spec in PARAMETERS.values() if args.group in (None, spec.group)]
    if args.format == "markdown":
        from partnersim.present.odd import parameter_table  # here: CLI start-up time

        print(parameter_table(rows))
        return 0
    width = max(len(s.name) for s in rows)
    print("provenance: E empirical, L literature, A assumption (explored by sensitivity analysis)")
    print(f"{'parameter':<{width}}  {'group':<20} {'default':<10} {'bounds':<18} prov  "
          "unit: description")
    for s in rows:
        bounds = f"[{s.lower}, {s.upper}]" if s.is_numeric else (
            "{" + ", ".join(s.choices) + "}" if s.choices else "{true, false}")
        print(f"{s.name:<{width}}  {s.group:<20} {s.default!s:<10} {bounds:<18} {s.provenance}     "
              f"{s.unit}: {s.description}" + (f" [{s.ref}]" if s.ref else ""))
    return 0


def _cmd_outputs(args: argparse.Namespace) -> int:
    from partnersim.outputs import OUTPUTS  # imported here: start-up time of the CLI

    rows = [o for o in OUTPUTS.values() if args.kind in (None, o.kind)]
    header = ["output", "kind", "unit", "better", "meaning"]
    cells = [[o.name, "monthly measure" if o.kind == "monthly" else "end of run", o.unit,
              {1: "higher", -1: "lower", 0: ""}[o.better], o.meaning] for o in rows]
    if args.format == "markdown":
        from partnersim.present.text import md_table  # here: CLI start-up time (pandas)

        print(md_table(header, [[f"`{c[0]}`", *c[1:]] for c in cells]))
        return 0
    print("monthly measures are the timeseries columns, one row per run and month; end-of-run "
          "outputs the runs table's, one row per run (docs/ODD.md section 7.13)")
    widths = [max(len(h), *(len(c[k]) for c in cells)) for k, h in enumerate(header[:-1])]
    for c in [header, *cells]:
        print("  ".join(v.ljust(w) for v, w in zip(c[:-1], widths, strict=True)) + "  " + c[-1])
    return 0


def _run_options(args: argparse.Namespace):  # -> partnersim.run.options.RunOptions
    """The verbs' executor flags as one validated ``RunOptions``."""
    from partnersim.run.options import RunOptions  # imported here: start-up time of the CLI

    return RunOptions(executor=args.executor, workers=args.workers,
                      chunk_size=getattr(args, "chunk_size", None), scheduler=args.scheduler,
                      overwrite=args.overwrite, progress=not args.no_progress)


def _command(args: argparse.Namespace, verb: str, *positional: str, flags: tuple[str, ...]) -> str:
    """The command line that reproduces this call (for manifests and reports): the positional
    arguments and the given flags that were set, the executor only when not the default."""
    from partnersim.run.storage import command_line  # imported here: start-up time of the CLI

    values = {f: getattr(args, f) for f in flags}
    if values.get("executor") == "process":
        values["executor"] = None
    return command_line(verb, *positional, **values)


def _cmd_run(args: argparse.Namespace) -> int:
    # imported here, as every verb's modules are: start-up time of the CLI
    from partnersim.outputs import HEADLINE
    from partnersim.present.text import format_summary
    from partnersim.study.replicates import run_scenario, summary_table

    command = _command(args, "run", args.scenario, flags=("out", "replicates", "executor"))
    outcome = run_scenario(args.scenario, args.out, _run_options(args),
                           replicates=args.replicates, command=command)
    print(outcome.report.summary())
    if not outcome.report.complete:
        print("partnersim: some runs are missing; run the same command again to finish",
              file=sys.stderr)
        return 1
    print()
    print(f"{outcome.scenario.name}: {outcome.scenario.question}".rstrip(": "))
    print(format_summary(summary_table(outcome.runs, HEADLINE)))
    print()
    for key in ("runs", "timeseries", "manifest"):
        print(f"{key + ':':<12}{outcome.files[key]}")
    figures = [p for k, p in outcome.files.items() if k not in ("runs", "timeseries", "manifest")]
    if figures:
        print(f"{'figures:':<12}" + ", ".join(str(p) for p in figures))
    return 0 if outcome.report.ok else 1


def _cmd_compare(args: argparse.Namespace) -> int:
    # imported here, as every verb's modules are: start-up time of the CLI
    from partnersim.study.compare import compare, summary_lines

    command = _command(args, "compare", *args.scenarios, flags=("out", "replicates", "executor"))
    cmp = compare(args.scenarios, args.out, _run_options(args), replicates=args.replicates,
                  command=command)
    print("\n".join(summary_lines(cmp)))
    print()
    print(f"{'report:':<12}{cmp.files['report_html']}")
    print(f"{'summary:':<12}{cmp.files['report_md']}")
    print(f"{'tables:':<12}{cmp.out_dir}")
    return 0


def _add_run_options(p: argparse.ArgumentParser, *, out: str, overwrite: str,
                     out_default: str | None = None, chunk_size: bool = False) -> None:
    """The flags of every verb that runs the model: where results go and how runs execute
    (read back by :func:`_run_options`); ``out`` and ``overwrite`` are their help texts."""
    from partnersim.run.options import EXECUTORS  # imported here: start-up time of the CLI

    p.add_argument("--out", metavar="DIR", default=out_default, help=out)
    p.add_argument("--overwrite", action="store_true", help=overwrite)
    p.add_argument("--executor", choices=EXECUTORS, default="process",
                   help="where runs execute (default: a local process pool; serial: in-process)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes (default: all usable cores)")
    if chunk_size:
        p.add_argument("--chunk-size", type=int, metavar="N",
                       help="runs per task (default: about 16 tasks per worker, at most 50 runs)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://host:8786 (implies --executor dask)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_scenario_run_options(p: argparse.ArgumentParser) -> None:
    """``run`` and ``compare``: the run flags and ``--replicates`` per scenario."""
    _add_run_options(p, out="results folder",
                     overwrite="replace a results folder that already holds results")
    p.add_argument("--replicates", type=int, metavar="N",
                   help="runs per scenario (default: the scenario file's 'replicates')")


def _load_study(args: argparse.Namespace):  # -> partnersim.inputs.experiments.Experiment
    from partnersim.inputs.experiments import load_experiment  # here: start-up time of the CLI

    exp = load_experiment(args.experiment)
    return exp.with_overrides(sample_size=args.sample_size, replicates=args.replicates,
                              seed=args.seed)


def _study_command(args: argparse.Namespace, verb: str) -> str:
    """The command line that reproduces a sweep or sensitivity study (for the manifest)."""
    return _command(args, verb, str(Path(args.experiment)),
                    flags=("out", "executor", "workers", "chunk_size", "scheduler", "sample_size",
                           "replicates", "seed"))


def _print_study(outcome) -> int:  # outcome: partnersim.study.sensitivity.StudyOutcome
    print(outcome.report.summary())
    if outcome.analysis is not None:
        from partnersim.study.sensitivity import format_indices  # here: CLI start-up time

        print()
        print(format_indices(outcome.analysis))
    print()
    for key in ("manifest", "runs", "timeseries", "design", "points", "indices", "noise",
                "convergence", "verdicts", "time_indices"):
        if key in outcome.files:
            print(f"{key + ':':<14}{outcome.files[key]}")
    figures = [p for k, p in outcome.files.items() if str(p).endswith(".png")]
    if figures:
        print(f"{'figures:':<14}{figures[0].parent} ({len(figures)} files)")
    if not outcome.report.complete:
        print("partnersim: some runs are missing; run the same command again to finish",
              file=sys.stderr)
    elif outcome.report.failed:
        print(f"partnersim: {outcome.report.failed} run(s) failed (see 'status' and 'error' "
              f"in the runs table)", file=sys.stderr)
    return 0 if outcome.report.ok else 1


def _cmd_sweep(args: argparse.Namespace) -> int:
    from partnersim.study.sensitivity import sweep  # imported here: start-up time of the CLI

    options = _run_options(args)
    exp = _load_study(args)
    out = args.out or f"results/{exp.name}"
    return _print_study(sweep(exp, out, options, figures=not args.no_figures,
                              command=_study_command(args, "sweep")))


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from partnersim.study.sensitivity import sensitivity  # imported here: CLI start-up time

    options = _run_options(args)
    exp = _load_study(args)
    out = args.out or f"results/{exp.name}"
    return _print_study(sensitivity(exp, out, options, figures=not args.no_figures,
                                    command=_study_command(args, "sensitivity")))


def _cmd_decide(args: argparse.Namespace) -> int:
    # imported here, as every verb's modules are: start-up time of the CLI
    from partnersim.inputs.decisions import load_decision
    from partnersim.present.decision_report import headline_sentences
    from partnersim.study.decide import decide

    options = _run_options(args)
    decision = load_decision(args.decision).with_overrides(futures=args.futures,
                                                           replicates=args.replicates)
    out = args.out or f"results/{decision.name}"
    command = _command(args, "decide", str(Path(args.decision)),
                       flags=("out", "executor", "workers", "chunk_size", "scheduler",
                              "futures", "replicates"))
    outcome = decide(decision, out, options, command=command,
                     analyse_stored=args.analyse_stored, figures=not args.no_figures)
    if outcome.report is not None:
        print(outcome.report.summary())
        print()
    if outcome.analysis is not None:
        print("\n".join(f"- {t}" for t in headline_sentences(outcome.analysis)))
        for note in outcome.analysis.notes:
            print(f"note: {note}")
        print()
    for key in ("report_html", "report_md", "regret", "satisficing", "pareto", "answers",
                "feature_scores", "means", "manifest"):
        if key in outcome.files:
            print(f"{key + ':':<16}{outcome.files[key]}")
    if outcome.report is not None and not outcome.report.complete:
        print("partnersim: some runs are missing; run the same command again to finish "
              "(the analysis above uses the complete futures)", file=sys.stderr)
        return 1
    if outcome.report is not None and outcome.report.failed:
        print(f"partnersim: {outcome.report.failed} run(s) failed (see 'status' and 'error' "
              "in the runs table)", file=sys.stderr)
        return 1
    return 0


def _add_study_options(p: argparse.ArgumentParser) -> None:
    """``sweep`` and ``sensitivity``: the experiment, the run flags, the file's overrides and
    ``--no-figures``."""
    p.add_argument("experiment", metavar="EXPERIMENT",
                   help="experiment file (.toml), or the name of a shipped one")
    _add_run_options(p, out="results folder (default: results/<experiment name>); an "
                             "interrupted folder of the same experiment is resumed",
                     overwrite="start afresh, replacing the results folder (without it, a "
                               "folder of the same experiment is resumed and one of another "
                               "is refused)",
                     chunk_size=True)
    p.add_argument("--sample-size", type=int, metavar="N",
                   help="override the file's sample_size")
    p.add_argument("--replicates", type=int, metavar="N",
                   help="override the file's replicates per design point")
    p.add_argument("--seed", type=int, metavar="N", help="override the file's master seed")
    p.add_argument("--no-figures", action="store_true",
                   help="tables only, nothing in figures/")


VALIDATE_OUT = "results/validation"
"""validate's default output folder."""


def _validate_command(args: argparse.Namespace) -> str:
    return _command(args, "validate", flags=("quick", "patterns", "master_seeds", "robustness",
                                              "posterior", "draws", "draw_seed", "out",
                                              "executor", "workers", "scheduler"))


def _validate_posterior(args: argparse.Namespace, ids: list[str] | None) -> int:
    # imported here, as every verb's modules are: start-up time of the CLI
    from partnersim.inputs.posterior import load_posterior
    from partnersim.inputs.toml import check_int
    from partnersim.seeding import MAX_SEED
    from partnersim.validation.posterior import (
        DEFAULT_DRAWS,
        DRAW_SEED,
        RUNS_FOLDER_BY_MODE,
        check_patterns,
        markdown_table,
        summary_lines,
        validate_posterior,
        write_results,
    )
    from partnersim.validation.validate import prepare_output  # here: start-up time

    options = _run_options(args)  # bad options fail before anything is written
    if args.master_seeds is not None:
        raise InputError("a posterior validation checks each draw at the pattern file's master "
                         "seed; --master-seeds does not apply", key="--master-seeds")
    draws = DEFAULT_DRAWS if args.draws is None else args.draws
    if draws < 1:
        raise InputError(f"expected a positive number of draws, got {draws}", key="--draws")
    seed = DRAW_SEED if args.draw_seed is None else check_int(
        args.draw_seed, 0, MAX_SEED, source=None, key="--draw-seed")
    post = load_posterior(args.posterior, key="--posterior")
    ids = check_patterns(post, ids)
    out = Path(args.out)
    if args.out == VALIDATE_OUT:  # the default: a folder per calibration beside the record
        out = out / "posterior" / post.calibration
    prepare_output(out)
    runs = out / RUNS_FOLDER_BY_MODE["quick" if args.quick else "full"]
    command = _validate_command(args)
    print(f"{post.calibration}: {len(post.particles)} particles of "
          f"{', '.join(post.names)}; {draws} draws (seed {seed}) x {', '.join(ids)}",
          flush=True)
    checks, values = validate_posterior(post, ids, draws=draws, quick=args.quick, seed=seed,
                                        runs_dir=runs, options=options,
                                        provenance={"command": command})
    files = write_results(checks, values, post, out, quick=args.quick, seed=seed,
                          command=command)
    print()
    print("\n".join(summary_lines(checks)))
    print()
    print(markdown_table(checks), end="")
    print()
    for key, path in {**files, "runs": runs}.items():
        print(f"{key + ':':<20}{path}")
    return 0


def _validate_robustness(args: argparse.Namespace, ids: list[str] | None) -> int:
    # imported here, as every verb's modules are: start-up time of the CLI
    from partnersim.validation.robustness import RUNS_FOLDER, robustness, robustness_summary

    def show(point: int, pattern: str, result) -> None:
        print(f"point {point + 1}/{args.robustness} {pattern:<5} "
              f"{'holds' if result.holds else 'does not hold'}", flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = robustness(args.robustness, patterns=ids, runs_dir=out / RUNS_FOLDER,
                       options=_run_options(args), progress=show,
                       out_csv=out / "robustness.csv")
    summary = robustness_summary(table)
    summary.to_csv(out / "robustness_summary.csv", index=False)
    print()
    print(summary.to_string(index=False))
    print(f"{'table:':<10}{out / 'robustness.csv'}")
    print(f"{'summary:':<10}{out / 'robustness_summary.csv'}")
    print(f"{'runs:':<10}{out / RUNS_FOLDER}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    # imported here, as every verb's modules are: start-up time of the CLI
    from partnersim.validation.checks import MASTER_SEEDS
    from partnersim.validation.validate import (
        RUNS_FOLDER_BY_MODE,
        markdown_table,
        pattern_ids,
        prepare_output,
        refuse_other_table,
        validate,
        write_results,
    )

    ids = None
    if args.patterns is not None:
        ids = [p.strip().upper() for p in args.patterns.split(",") if p.strip()]
        if not ids:
            raise InputError("expected comma-separated pattern ids, e.g. SF1,SF3",
                             key="--patterns")
    if args.robustness is not None and args.robustness < 1:
        raise InputError(f"expected a positive number of points, got {args.robustness}",
                         key="--robustness")

    def show(verdict) -> None:  # a PatternVerdict: the pattern at every master seed
        r = verdict.result
        print(f"{verdict.pattern:<5} {verdict.kind:<10} "
              f"{'holds' if verdict.holds else 'DOES NOT HOLD':<14} effect {r.effect:.3g} "
              f"[{r.ci_low:.3g}, {r.ci_high:.3g}], {r.share_expected:.0%} of {r.n_seeds} "
              f"seeds; held at {verdict.held_at}/{len(verdict.results)} master seeds",
              flush=True)

    if args.posterior is not None:
        if args.robustness:
            raise InputError("--robustness and --posterior are two different studies: give "
                             "one", key="--posterior")
        return _validate_posterior(args, ids)
    for flag in ("draws", "draw_seed"):
        if getattr(args, flag) is not None:
            raise InputError("applies only with --posterior RESULTS",
                             key="--" + flag.replace("_", "-"))
    options = _run_options(args)  # bad options fail before anything is written
    pattern_ids(ids)
    count = MASTER_SEEDS if args.master_seeds is None else args.master_seeds
    if count < 1:
        raise InputError(f"expected a positive number of master seeds, got {count}",
                         key="--master-seeds")
    if not args.robustness:
        refuse_other_table(args.out, ids, quick=args.quick, overwrite=args.overwrite,
                           master_seeds=count)
    prepare_output(args.out)  # fail before any run if the folder cannot be written
    if args.robustness:
        return _validate_robustness(args, ids)
    runs = Path(args.out) / RUNS_FOLDER_BY_MODE["quick" if args.quick else "full"]
    results = validate(ids, quick=args.quick, runs_dir=runs, options=options,
                       provenance={"command": _validate_command(args)}, on_result=show,
                       master_seeds=count)
    files = write_results(results, args.out)
    print()
    print(markdown_table(results), end="")
    print()
    for key, path in {**files, "runs": runs}.items():
        print(f"{key + ':':<10}{path}")
    failed = [r.pattern for r in results if not r.holds]
    if failed:
        print(f"partnersim: {len(failed)} pattern(s) do not hold: {', '.join(failed)}",
              file=sys.stderr)
        return 1
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    # imported here, as every verb's modules are: start-up time of the CLI
    from partnersim.calibration.calibrate import calibrate, summary_lines
    from partnersim.calibration.smc import show_on_stderr
    from partnersim.calibration.spec import load_calibration

    options = _run_options(args)  # bad options fail before anything is written
    cal = load_calibration(args.calibration)
    out = args.out or f"results/calibration/{cal.name}"
    command = _command(args, "calibrate", str(Path(args.calibration)),
                       flags=("out", "executor", "workers", "scheduler"))
    outcome = calibrate(cal, out, options, command=command, figures=not args.no_figures,
                        progress=None if args.no_progress else show_on_stderr)
    print("\n".join(summary_lines(outcome)))
    return 0


def _cmd_workshop(args: argparse.Namespace) -> int:
    # imported here, as every verb's modules are: start-up time of the CLI
    from partnersim.dashboard.server import default_assets_dir, serve_workshop

    assets = Path(args.assets_dir) if args.assets_dir else default_assets_dir()
    scenario = Path(args.scenario) if args.scenario else None
    command = _command(args, "workshop", *([args.scenario] if args.scenario else []),
                       flags=("rounds", "out", "host", "port"))
    return serve_workshop(scenario, host=args.host, port=args.port, out_dir=Path(args.out),
                          rounds=args.rounds, assets_dir=assets, command=command)


def _cmd_dashboard(args: argparse.Namespace) -> int:
    # imported here, as every verb's modules are: start-up time of the CLI
    from partnersim.dashboard.server import default_assets_dir, prepare_assets, serve

    assets = Path(args.assets_dir) if args.assets_dir else default_assets_dir()
    if args.prepare_assets:
        prepare_assets(assets, force=args.force)
        return 0
    scenario = Path(args.scenario) if args.scenario else None
    code = serve(scenario, host=args.host, port=args.port, assets_dir=assets)
    if any(t.is_alive() and not t.daemon and t is not threading.main_thread()
           for t in threading.enumerate()):
        # a session left playing keeps stepping its model in a worker thread after the
        # server has stopped; Ctrl-C must end the command, so leave without waiting for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (its usage block is what --help shows)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="partnersim",
        description="Agent-based model of health and social-care partnerships.",
    )
    parser.add_argument("--version", action="version", version=f"partnersim {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = sub.add_parser("params", help="every parameter: default, bounds, unit, provenance")
    p.add_argument("--group", help="only parameters of this group (lever)")
    p.add_argument("--format", choices=("text", "markdown"), default="text")
    p.set_defaults(handler=_cmd_params)

    p = sub.add_parser("outputs", help="every output column: monthly measures and end-of-run "
                                       "outputs, with unit and meaning")
    p.add_argument("--kind", choices=("monthly", "summary"),
                   help="only monthly measures (timeseries columns) or end-of-run outputs "
                        "(runs table columns)")
    p.add_argument("--format", choices=("text", "markdown"), default="text")
    p.set_defaults(handler=_cmd_outputs)

    p = sub.add_parser("run", help="replicates of one scenario -> results folder, summary, figures")
    p.add_argument("scenario", metavar="SCENARIO",
                   help="scenario file (.toml), or the name of a shipped one (e.g. baseline)")
    _add_scenario_run_options(p)
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("compare", help="scenarios on shared seeds -> paired differences, report")
    p.add_argument("scenarios", metavar="SCENARIO", nargs="+",
                   help="scenario files or shipped names; the first is the reference")
    _add_scenario_run_options(p)
    p.set_defaults(handler=_cmd_compare)

    p = sub.add_parser("sweep", help="a grid or sampled design over parameters, with replicates")
    _add_study_options(p)
    p.set_defaults(handler=_cmd_sweep)

    p = sub.add_parser("sensitivity",
                       help="SALib design -> runs -> indices with CIs, convergence, plots")
    _add_study_options(p)
    p.set_defaults(handler=_cmd_sensitivity)

    p = sub.add_parser("decide",
                       help="policies x futures x replicates (common random numbers) -> "
                            "regret, satisficing, Pareto front, PRIM/CART boxes, report")
    p.add_argument("decision", metavar="DECISION",
                   help="decision file (.toml): policies, futures, objectives, questions")
    _add_run_options(p, out="results folder (default: results/<decision name>); an "
                            "interrupted folder of the same decision is resumed",
                     overwrite="start afresh, replacing the results folder",
                     chunk_size=True)
    p.add_argument("--futures", type=int, metavar="N", help="override the file's futures.n")
    p.add_argument("--replicates", type=int, metavar="N",
                   help="override the file's replicates per policy and future")
    p.add_argument("--analyse-stored", action="store_true",
                   help="run nothing: analyse the futures whose runs are all stored (an "
                        "interrupted study)")
    p.add_argument("--no-figures", action="store_true",
                   help="tables only: no figures and no report")
    p.set_defaults(handler=_cmd_decide)

    p = sub.add_parser("validate",
                       help="the SF patterns of DESIGN.md section 3, each at several master "
                            "seeds -> pass/fail table")
    p.add_argument("--quick", action="store_true",
                   help="the smaller ensembles CI runs (n_seeds.quick in each pattern file)")
    p.add_argument("--patterns", metavar="IDS",
                   help="comma-separated pattern ids, e.g. SF1,SF3 (default: all)")
    p.add_argument("--master-seeds", type=int, metavar="N",
                   help="judge each pattern at N master seeds, its file's seed and N - 1 "
                        "derived from it (default 3); it holds only if it holds at every one")
    _add_run_options(p, out_default=VALIDATE_OUT,
                     out="folder for patterns.csv, patterns.md, details.json and the runs "
                         "(default: results/validation; with --posterior, "
                         "results/validation/posterior/<calibration>)",
                     overwrite="replace the tables and kept runs of another validation in the "
                               "folder (by default a rerun of the same validation resumes "
                               "its runs)")
    p.add_argument("--robustness", type=int, metavar="N",
                   help="instead: run every pattern's quick check at N Latin-hypercube "
                        "points of the assumption and literature parameters over their full "
                        "declared ranges -> robustness.csv")
    p.add_argument("--posterior", metavar="RESULTS",
                   help="instead: check the held-out patterns (or --patterns) at draws from "
                        "the posterior of a calibration folder (partnersim calibrate's), each "
                        "with its paired seeds, beside the defaults -> share of draws at which "
                        "each holds, with an interval (posterior_patterns.csv)")
    p.add_argument("--draws", type=int, metavar="N",
                   help="with --posterior: parameter sets drawn from it (default 20)")
    p.add_argument("--draw-seed", type=int, metavar="N",
                   help="with --posterior: seed of the resampling of its particles")
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser("calibrate",
                       help="ABC-SMC (pyabc) against a calibration file's targets -> posterior, "
                            "diagnostics, predictive checks, figures, summary")
    p.add_argument("calibration", metavar="CALIBRATION",
                   help="calibration file (.toml): parameters, targets, runs per particle, ABC "
                        "settings (docs/calibration.md)")
    _add_run_options(p, out="calibration folder (default: results/calibration/<name>); a "
                            "killed calibration of the same file is resumed from its database",
                     overwrite="start afresh, replacing the folder (without it, a folder of "
                               "the same calibration is resumed and one of another is refused)")
    p.add_argument("--no-figures", action="store_true", help="tables only, nothing in figures/")
    p.set_defaults(handler=_cmd_calibrate)

    p = sub.add_parser("dashboard", help="the workshop dashboard in a browser, on 127.0.0.1")
    p.add_argument("scenario", metavar="SCENARIO", nargs="?",
                   help="scenario file to open (default: every parameter at its default)")
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0: any free)")
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to listen on (default 127.0.0.1, this computer only)")
    p.add_argument("--assets-dir", metavar="DIR",
                   help="prepared front-end assets (default: .cache/solara-assets in the "
                        "project, or $PARTNERSIM_ASSETS_DIR)")
    p.add_argument("--prepare-assets", action="store_true",
                   help="fetch the front-end assets once from the npm registry, then exit")
    p.add_argument("--force", action="store_true", help="with --prepare-assets: fetch again")
    p.set_defaults(handler=_cmd_dashboard)

    p = sub.add_parser("workshop", help="a facilitated workshop: participants play the "
                                        "agencies, round by round (127.0.0.1 unless --host)")
    p.add_argument("scenario", metavar="SCENARIO", nargs="?",
                   help="scenario file of the partnership (default: every parameter at its "
                        "default)")
    p.add_argument("--rounds", type=int, default=8,
                   help="rounds of three months each (default 8)")
    p.add_argument("--out", default="results/workshops", metavar="DIR",
                   help="where the session's results folder is written, after every round "
                        "and with the debrief at the end (default results/workshops)")
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to listen on (default 127.0.0.1, this computer only; "
                        "another address serves the room's network, with a warning)")
    p.add_argument("--port", type=int, default=8766, help="TCP port (default 8766; 0: any free)")
    p.add_argument("--assets-dir", metavar="DIR",
                   help="prepared front-end assets (as for dashboard)")
    p.set_defaults(handler=_cmd_workshop)

    return parser


class Terminated(Exception):
    """SIGTERM (``kill``) arrived during a command that runs a study."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "out", None) == "":  # an empty path is the current folder
        print("partnersim: error: --out: expected a folder, got an empty string",
              file=sys.stderr)
        return 2
    # ``kill`` stops a study as Ctrl-C does: the runner stops its workers (which would
    # otherwise outlive it) and keeps the finished runs. The servers handle it themselves.
    stoppable = (args.handler not in (_cmd_dashboard, _cmd_workshop)
                 and threading.current_thread() is threading.main_thread())
    previous = signal.signal(signal.SIGTERM, _terminate) if stoppable else None
    try:
        return int(args.handler(args))
    except InputError as exc:
        print(f"partnersim: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as exc:
        how = "stopped (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"partnersim: {how}; finished runs are kept: run the same command again to "
              "resume", file=sys.stderr)
        return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except OSError as exc:
        if exc.filename is None:  # not about a path the user gave: a fault to report whole
            raise
        # a folder or file the system refuses (a name too long, a read-only or special
        # file system, a full disk): what the user can act on, in one line
        print(f"partnersim: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    finally:
        if stoppable:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


if __name__ == "__main__":
    sys.exit(main())
