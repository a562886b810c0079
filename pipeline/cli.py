"""Command line: ``python -m pipeline run params/<name>.yaml``.

Errors an analyst can act on are printed without a traceback; ``--debug`` shows it.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys

from pipeline.errors import PipelineError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline", description="Strategic Assessment Pipeline for a Community Safety Partnership."
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the assessment and publish its HTML")
    run.add_argument(
        "params",
        nargs="+",
        help="the params YAML file, e.g. params/south-gloucestershire.yaml; several run side by side, with an index "
        "page",
    )
    run.add_argument(
        "--index",
        default="outputs/index.html",
        help="with several params files: where the index page linking every area goes (default outputs/index.html)",
    )
    run.add_argument("--pdf", action="store_true", help="also print each published document to an A4 PDF beside it")
    run.add_argument(
        "--force",
        action="store_true",
        help="rerun every stage, even those whose inputs have not changed since the last run",
    )
    run.add_argument(
        "--workers", type=int, default=None, help="stages to run at once (default: the number of CPUs, at most 4)"
    )
    run.add_argument(
        "--parallel",
        type=int,
        default=None,
        help="with several params files: stages to run at once across the areas (default: the number of CPUs, at "
        "most 4; 1 runs the areas one after another)",
    )
    force = commands.add_parser(
        "run-force", help="run the assessment for every Community Safety Partnership of a police force"
    )
    force.add_argument(
        "force_file",
        help="the force file, e.g. params/avon-and-somerset.yaml (docs/params.md: 'Every partnership of a force')",
    )
    force.add_argument("--pdf", action="store_true", help="also print each published document to an A4 PDF beside it")
    force.add_argument("--force", action="store_true", help="rerun every stage of every area")
    force.add_argument(
        "--parallel",
        type=int,
        default=None,
        help="areas to run at once on this machine (default: the number of CPUs, at most 4)",
    )
    force.add_argument(
        "--scheduler",
        help="the address of a Dask distributed scheduler (e.g. tcp://10.0.0.5:8786): run each area as a task on "
        "that cluster",
    )
    watch = commands.add_parser(
        "watch",
        help="run the assessment, then again each time the params file or an input it names is saved (for the MoRiLE "
        "moderation meeting)",
    )
    watch.add_argument("params", help="the params YAML file, e.g. params/south-gloucestershire.yaml")
    watch.add_argument("--pdf", action="store_true", help="also print each published document to an A4 PDF beside it")
    watch.add_argument(
        "--workers", type=int, default=None, help="stages to run at once (default: the number of CPUs, at most 4)"
    )
    check = commands.add_parser("check", help="validate a params file without running anything")
    check.add_argument("params")
    template = commands.add_parser("morile-template", help="write the MoRiLE workshop scoring sheet (xlsx)")
    template.add_argument("params")
    template.add_argument("--out", help="where to write it (default: outputs/morile-scoring-sheet-<run>.xlsx)")
    partners = commands.add_parser(
        "partner-template", help="write the partners' data collection workbook (xlsx) from the partner catalogue"
    )
    partners.add_argument("params")
    partners.add_argument("--out", help="where to write it (default: outputs/partner-data-template-<run>.xlsx)")
    updates = commands.add_parser(
        "action-updates", help="write the action owners' quarterly update sheet (xlsx) for the delivery plan"
    )
    updates.add_argument("params")
    updates.add_argument("--quarter", required=True, help="Q1, Q2, Q3 or Q4 of the plan's financial year")
    updates.add_argument(
        "--out", help="where to write it (default: outputs/action-updates-<run>-<year>-<quarter>.xlsx)"
    )
    return parser


def _exit_now(code: int) -> None:
    """Leave at once after an interrupt, once the run has tidied up and said so.

    Interpreter shutdown would run the notebook machinery's exit handlers, which can
    raise the interrupt a second time and print a traceback after the one-line message.
    """
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _report_failed_areas(results: list) -> int:
    """Name every area a batch did not publish, with its first problem; the exit code (1 if any)."""
    failed = [r for r in results if r.error]
    if failed:
        print(
            f"\nError: {len(failed)} of {len(results)} areas were not published: "
            + "; ".join(
                f"{r.area + ', ' if r.area else ''}{r.params} ({r.error.strip().splitlines()[0]})" for r in failed
            ),
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 success, 1 a problem to fix)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.DEBUG if args.debug else logging.INFO)
    if not args.debug:
        # papermill logs every cell's start; the run prints its own progress instead.
        logging.getLogger("papermill").setLevel(logging.WARNING)
    try:
        if args.command == "run":
            from pipeline.orchestration.run import run_assessment

            if len(args.params) == 1:
                report = run_assessment(args.params[0], pdf=args.pdf, force=args.force, workers=args.workers)
                print(report.resolve())
            else:
                from pathlib import Path

                from pipeline.orchestration.batch import run_batch
                from pipeline.orchestration.run import cpus

                results = run_batch(
                    args.params,
                    Path(args.index),
                    pdf=args.pdf,
                    force=args.force,
                    workers=args.workers,
                    parallel=args.parallel or cpus(),
                )
                print(Path(args.index).resolve())
                return _report_failed_areas(results)
        elif args.command == "run-force":
            from pipeline.orchestration.batch import run_force

            results, index = run_force(
                args.force_file, pdf=args.pdf, force=args.force, parallel=args.parallel, scheduler=args.scheduler
            )
            print(index)
            return _report_failed_areas(results)
        elif args.command == "watch":
            from pipeline.orchestration.watch import watch

            watch(
                args.params,
                pdf=args.pdf,
                workers=args.workers,
                on_published=lambda report: print(report.resolve(), flush=True),
            )
        elif args.command == "check":
            from pipeline.orchestration.checks import check_inputs
            from pipeline.params import load_params

            params = load_params(args.params)
            checked = check_inputs(params)
            for fact in checked.facts:
                print(fact)
            for warning in checked.warnings:
                print(f"Warning: {warning}")
            print(
                f"{args.params} and every input it names are valid: {params.area.name}, window ending "
                f"{params.period_end}."
            )
        elif args.command == "morile-template":
            from pipeline.orchestration.commands import template_for

            print(template_for(args.params, args.out).resolve())
        elif args.command == "partner-template":
            from pipeline.orchestration.commands import partner_template_for

            print(partner_template_for(args.params, args.out).resolve())
        elif args.command == "action-updates":
            from pipeline.orchestration.commands import action_updates_for

            print(action_updates_for(args.params, args.quarter, args.out).resolve())
    except PipelineError as exc:
        if args.debug:
            raise
        print(f"\nError: {exc}", file=sys.stderr)
        if type(exc).__name__ == "RunInterrupted":
            _exit_now(130)
        return 1
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("\nStopped by Ctrl-C before anything was changed.", file=sys.stderr)
        _exit_now(130)
    except OSError as exc:
        # A file system refusal the checks could not foresee (a disk filling up, a folder
        # made read-only mid-run): say which file and what to do, not a traceback.
        if args.debug:
            raise
        from pipeline.errors import file_system_refusal

        print(f"\nError: {file_system_refusal(exc)}", file=sys.stderr)
        return 1
    return 0


def entry() -> None:
    """The command's entry point (``python -m pipeline``, ``strategic-assessment``): ``main``, then exit."""
    code = main()
    # The run is over and its files are closed. Without this, the interpreter's teardown scans
    # every object pandas, pyarrow and nbconvert left behind for reference cycles: 0.3-0.4 s
    # of each run, a twentieth of a rerun after a moderation edit. Frozen objects are not scanned.
    gc.freeze()
    sys.exit(code)
