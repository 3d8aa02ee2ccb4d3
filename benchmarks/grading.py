"""Benchmark: `course grade` throughput on a class of identical correct submissions.

Usage::

    python benchmarks/grading.py                      # FAST: 4 copies of 00_welcome's solution, --jobs = the cores
    python benchmarks/grading.py --copies 8 --jobs 2 --assignment 00_welcome
    python benchmarks/grading.py --full               # the class of 100 copies

Each copy is the release notebook with every answer filled from the solution
(full marks expected). The grader runs every submission in its own sandboxed
kernel (:mod:`course_lib.tooling.sandbox`), ``--jobs`` at a time.

Prints one line per submission, the throughput, and as its last line one JSON
object: ``grade_wall_s`` (the whole class, including building the release
once), ``grade_s_per_submission`` (wall / copies), ``notebook_s`` (mean run
time of a submission's own cells) and ``overhead_s`` (mean seconds per
submission beyond its cells: worker and kernel start, isolation, guard cells,
kernel shutdown), with ``copies``, ``jobs``, ``cores`` and whether kernels
ran as their own user / in their own mount namespace (``isolated_user``,
``isolated_namespace``: 1 or 0).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> dict:
    import nbformat

    from course_lib.tooling.grading import Isolation, grade_submissions
    from course_lib.tooling.runtime import repo_root

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=4)
    p.add_argument("--jobs", type=int, default=None)
    p.add_argument("--assignment", default="00_welcome")
    p.add_argument("--isolation", choices=["auto", "none"], default="auto")
    p.add_argument("--full", action="store_true", help="100 copies (the issue's class size)")
    args = p.parse_args(argv)
    copies = 100 if args.full else args.copies
    root = repo_root()
    sys.path.insert(0, str(root / "tests"))
    from helpers import solved_release  # the same notebook surgery the tests use

    nb = solved_release(args.assignment)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        subs = Path(tmp) / "subs"
        for i in range(copies):
            folder = subs / f"student{i:03d}" / args.assignment
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{args.assignment}.ipynb")
        rows = grade_submissions(subs, Path(tmp) / "grades.csv", root=root, jobs=args.jobs,
                                 isolation=args.isolation)
        thr = grade_submissions.last_throughput
    wrong = [r.student for r in rows if (r.status, r.score) != ("graded", r.max_score)]
    if wrong:
        raise SystemExit(f"not every copy got full marks: {wrong}")
    iso = Isolation.detect(args.isolation)
    figures = {"copies": copies, "jobs": thr.jobs, "cores": os.cpu_count(),
               "isolated_user": int(iso.user), "isolated_namespace": int(iso.namespace),
               "grade_wall_s": thr.wall_s, "grade_s_per_submission": thr.per_submission_s,
               "notebook_s": thr.notebook_s, "overhead_s": thr.overhead_s}
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
