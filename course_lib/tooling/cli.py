"""The ``course`` command: run, release, check and grade the course.

Run ``course --help`` or ``course COMMAND --help`` for each command.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_lib.tooling.runtime import repo_root


def _cmd_run(args) -> int:
    from course_lib.tooling.runner import discover_notebooks, run_notebooks, summary_table

    fast = not args.full
    everything = not args.notebooks
    notebooks = [Path(n) for n in args.notebooks] or discover_notebooks()
    if everything and not args.skip_data:
        from course_lib.data.corpus import build_default

        build_default(fast=fast, echo=print)
    results = run_notebooks(notebooks, fast=fast, seed=args.seed, build_dir=Path(args.build_dir))
    ok = all(r.status == "ok" for r in results)
    if everything and not args.skip_grading:
        ok = _roundtrip(Path(args.build_dir)) and ok
    print()
    print(summary_table(results))
    print(f"\nsummary: {Path(args.build_dir) / 'summary.json'} ({'FAST' if fast else 'FULL'} mode)")
    for r in results:
        if r.status != "ok":
            print(f"FAILED {r.notebook}: {r.error}", file=sys.stderr)
    return 0 if ok else 1


def _roundtrip(build_dir: Path) -> bool:
    """Grade the solutions (full marks) and the release (zero) of every assignment."""
    import shutil

    from course_lib.tooling.grading import assignments, grade_submissions

    root = repo_root()
    subs = build_dir / "roundtrip" / "submissions"
    if subs.exists():
        shutil.rmtree(subs)
    for name in assignments(root):
        for who, src in (("solution", root / "solutions" / name), ("release", root / "exercises" / name)):
            dest = subs / who / name
            shutil.copytree(src, dest)
    print("\nnbgrader round trip (solutions must score full marks, the release zero):")
    rows = grade_submissions(subs, build_dir / "roundtrip" / "grades.csv")
    good = True
    for row in rows:
        want = row.max_score if row.student == "solution" else 0.0
        if row.score != want or row.status not in ("graded",):
            print(f"  ROUND TRIP FAILED: {row.student}/{row.assignment} scored {row.score:g}, "
                  f"expected {want:g} ({row.status} {row.detail})", file=sys.stderr)
            good = False
    return good


def _cmd_bake(args) -> int:
    from course_lib.tooling.runner import bake_notebook

    for nb in args.notebooks:
        seconds = bake_notebook(Path(nb))
        print(f"baked {nb} in {seconds:.1f} s (FAST mode)")
    return 0


def _cmd_release(args) -> int:
    from course_lib.tooling.grading import release

    target = release(args.assignments or None)
    print(f"released to {target}")
    return 0


def _cmd_check(args) -> int:
    from course_lib.tooling.grading import check_notebook, format_check

    try:
        results = check_notebook(Path(args.path), timeout=args.timeout)
    except ValueError as exc:
        print(f"course check: {exc}", file=sys.stderr)
        return 2
    print(format_check(results))
    return 0 if results and all(r.passed for r in results) else 1


def _cmd_grade(args) -> int:
    from course_lib.tooling.grading import grade_submissions

    try:
        rows = grade_submissions(
            Path(args.submissions),
            Path(args.out),
            only=args.assignment or None,
            cell_timeout=args.cell_timeout,
            total_timeout=args.timeout,
            keep=Path(args.keep) if args.keep else None,
            jobs=args.jobs,
            isolation=args.isolation,
        )
    except ValueError as exc:
        print(f"course grade: {exc}", file=sys.stderr)
        return 2
    print(f"\n{len(rows)} row(s) written to {args.out}")
    return 0


def _cmd_data(args) -> int:
    from course_lib.data.corpus import build_default

    build_default(fast=not args.full, echo=print)
    if args.full:  # module 08's own training and dev sets (benchmarks/asr.py --full)
        from course_lib.asr import asr_datasets

        sets = asr_datasets(False, progress=True)
        print("asr: " + ", ".join(f"{name} {len(ds)}" for name, ds in sets.items()) + " utterances ready")
    return 0


def _cmd_checkpoints(args) -> int:
    from course_lib.tooling.checkpoints import RECIPES, checkpoint_entry, get_recipe, make_checkpoints

    if args.list:
        for name in sorted(RECIPES):
            try:
                entry = checkpoint_entry(name)
                state = f"{entry['bytes'] / 1e6:.2f} MB, {entry['date']}, figures {entry['figures']}"
            except FileNotFoundError:
                state = "not made yet"
            print(f"{name:<12} {get_recipe(name).description} -- {state}")
        return 0
    try:
        make_checkpoints(args.names or None, seed=args.seed)
    except ValueError as exc:
        print(f"course checkpoints: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_env(args) -> int:
    from course_lib.tooling.envreport import environment_report, format_report

    print(format_report(environment_report()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="ML for Speech Engineers: run the notebooks, release, check and grade exercises.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute notebooks with papermill into build/ and summarise",
                       description="Execute notebooks with papermill (FAST and SEED injected) into build/, "
                                   "never over the sources. With no NOTEBOOK: build the data, run every "
                                   "lecture and solution notebook, then the nbgrader round trip. Writes "
                                   "build/summary.json; exits nonzero if anything fails.")
    p.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="notebooks to run (default: all)")
    p.add_argument("--full", action="store_true", help="FULL mode (FAST=False): the figures of the syllabus")
    p.add_argument("--seed", type=int, default=0, help="SEED injected into every notebook (default 0)")
    p.add_argument("--build-dir", default=str(repo_root() / "build"), help="output folder (default build/)")
    p.add_argument("--skip-data", action="store_true", help="do not build the corpus first")
    p.add_argument("--skip-grading", action="store_true", help="skip the nbgrader round trip")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("bake", help="(authors) store a FAST run's outputs in a lecture notebook",
                       description="Execute notebooks in FAST mode and store the outputs in the files "
                                   "themselves, for the stored-output check. For course authors before committing.")
    p.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    p.set_defaults(func=_cmd_bake)

    p = sub.add_parser("release", help="generate exercises/ from solutions/ with nbgrader",
                       description="Run nbgrader generate_assignment for every assignment: "
                                   "solutions/ (source, with solutions and hidden tests) -> exercises/ (release).")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    p.set_defaults(func=_cmd_release)

    p = sub.add_parser("check", help="run your exercise notebook and list which parts pass",
                       description="Execute a copy of an exercise notebook (the file is not changed) and "
                                   "print PASS/FAIL for each autograded part's visible tests. Exits 1 if any fails.")
    p.add_argument("path", metavar="PATH", help="an exercise notebook, e.g. exercises/00_welcome/00_welcome.ipynb")
    p.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("grade", help="autograde SUBMISSIONS_DIR/<student>/<assignment>/ into a CSV",
                       description="Autograde every SUBMISSIONS_DIR/<student>/<assignment>/*.ipynb with the "
                                   "hidden tests, each in its own temporary course directory. Submissions are "
                                   "only read. Writes student, assignment, score, max_score, manual_max, "
                                   "status (graded/timeout/crashed/flagged/missing), detail.")
    p.add_argument("submissions", metavar="SUBMISSIONS_DIR")
    p.add_argument("--out", default="grades.csv", help="CSV to write (default grades.csv)")
    p.add_argument("--assignment", action="append", help="grade only this assignment (repeatable)")
    p.add_argument("--cell-timeout", type=int, default=60, help="seconds per cell before interrupt (default 60)")
    p.add_argument("--timeout", type=int, default=600, help="seconds per submission before kill (default 600)")
    p.add_argument("--keep", help="folder to keep the autograded notebooks in (they hold the hidden tests)")
    p.add_argument("--jobs", type=int, default=None,
                   help="submissions graded at once (default: the number of CPU cores)")
    p.add_argument("--isolation", choices=["auto", "none"], default="auto",
                   help="auto: each kernel as its own unprivileged user in a private mount namespace when "
                        "run as root on Linux (a warning otherwise); none: kernels run as you")
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("data", help="generate the course's offline speech data into the cache",
                       description="Synthesize (once) the datasets the notebooks use into the data cache "
                                   "(COURSE_DATA_DIR, default ~/.cache/ml-speech-course). Reused afterwards.")
    p.add_argument("--full", action="store_true", help="also the FULL-mode sizes")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("checkpoints", help="(authors) retrain the committed checkpoints with their FULL recipes",
                       description="Rerun the FULL training recipe of each committed checkpoint (lessons load "
                                   "them, so FAST outputs show trained models) and write checkpoints/NAME.pt "
                                   "and checkpoints/manifest.json. Takes minutes; needs `course data --full`.")
    p.add_argument("names", nargs="*", metavar="NAME", help="checkpoints to remake (default: all)")
    p.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    p.add_argument("--list", action="store_true", help="list the recipes and the recorded figures, train nothing")
    p.set_defaults(func=_cmd_checkpoints)

    p = sub.add_parser("env", help="print versions, threads and the data cache location")
    p.set_defaults(func=_cmd_env)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
