"""Release, check and grade the course's nbgrader assignments.

* :func:`release` runs ``nbgrader generate_assignment`` for every assignment:
  ``solutions/`` (nbgrader's source) becomes ``exercises/`` (its release).
* :func:`check_notebook` runs a learner's notebook and says which graded
  parts pass (``course check``).
* :func:`grade_submissions` autogrades ``SUBMISSIONS/<student>/<assignment>/``,
  ``jobs`` submissions at a time. The hidden tests and points stay in the
  grader's memory (:class:`_Master`); each submission runs in a fresh kernel
  in a working copy with no gradebook, solutions or other submissions, as its
  own unprivileged user in a private mount namespace where the machine allows
  it (:mod:`course_lib.tooling.sandbox`, :class:`Isolation`). The score is
  computed here, outside the kernel, from the executed notebook: a test cell
  earns its points when it ran and raised nothing (stderr, hence warnings,
  never costs points; nbgrader's own ``determine_grade`` counts any stderr
  output as a failure, so it is not used), and never exceeds the maximum.
  Guard cells (:mod:`course_lib.tooling.tamper`) flag code that changes how the
  kernel runs later cells. A submission that crashes, loops or kills its
  kernel is reported as such and never stops or changes the grading of the
  others. Submission files are only read.
"""
from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from course_lib.tooling.runtime import repo_root
from course_lib.tooling.runner import DETERMINISTIC_ENV

#: Seconds a single cell may run during grading before it is interrupted.
CELL_TIMEOUT = 60
#: Seconds one whole submission may take (kernel start, all cells, nbgrader).
SUBMISSION_TIMEOUT = 600
#: Columns of the grade CSV (a stable interface; see CONVENTIONS.md).
CSV_COLUMNS = ["student", "assignment", "score", "max_score", "manual_max", "status", "detail"]

_ERROR_NAMES_TIMEOUT = {"CellTimeoutError", "TimeoutError", "KeyboardInterrupt"}  # interrupt_on_timeout


def nbgrader_env() -> dict:
    """Environment for nbgrader subprocesses: the venv's bin first on PATH.

    nbgrader shells out to ``alembic``; without the venv on PATH it fails.
    """
    env = dict(os.environ)
    env.update(DETERMINISTIC_ENV)
    env["COURSE_FAST"] = "1"
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def assignments(root: Path | None = None) -> list[str]:
    """Names of the assignments in ``solutions/`` (``NN_topic`` folders)."""
    root = Path(root) if root is not None else repo_root()
    return sorted(p.name for p in (root / "solutions").glob("[0-9][0-9]_*") if p.is_dir())


def _nbgrader(args: list[str], *, cwd: Path, timeout: float | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "nbgrader", *args]
    return subprocess.run(
        cmd, cwd=str(cwd), env=nbgrader_env(), capture_output=True, text=True, timeout=timeout
    )


def _course_flags(root: Path, db: Path, *, source: str = "solutions", release: str = "exercises") -> list[str]:
    return [
        f"--CourseDirectory.root={root}",
        f"--CourseDirectory.source_directory={source}",
        f"--CourseDirectory.release_directory={release}",
        f"--CourseDirectory.db_url=sqlite:///{db}",
        "--CourseDirectory.course_id=ml-speech",
    ]


def release(
    names: Iterable[str] | None = None,
    *,
    root: Path | None = None,
    out_root: Path | None = None,
) -> Path:
    """Generate the student release of each assignment.

    Parameters
    ----------
    names : iterable of str, optional
        Assignments to release (default: all in ``solutions/``).
    root : Path, optional
        The course checkout (default: this one).
    out_root : Path, optional
        Write the release to ``out_root/exercises`` instead of the checkout's
        ``exercises/`` (used by the sync test).

    Returns
    -------
    Path
        The folder that now holds the release.
    """
    root = Path(root) if root is not None else repo_root()
    names = list(names) if names is not None else assignments(root)
    if not names:
        raise ValueError(f"no assignments found under {root / 'solutions'}")
    work = Path(tempfile.mkdtemp(prefix="course-release-"))
    try:
        shutil.copytree(root / "solutions", work / "solutions",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for name in names:
            if not (work / "solutions" / name).is_dir():
                raise ValueError(f"unknown assignment {name!r}; known: {assignments(root)}")
            res = _nbgrader(
                ["generate_assignment", name, "--force", "--create", *_course_flags(work, work / "gradebook.db")],
                cwd=work,
            )
            if res.returncode != 0:
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{res.stdout}\n{res.stderr}")
        target = (Path(out_root) if out_root is not None else root) / "exercises"
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            dest = target / name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(work / "exercises" / name, dest)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------
# course check
# --------------------------------------------------------------------------

@dataclass
class PartResult:
    grade_id: str
    points: float
    passed: bool
    message: str = ""


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _is_test_cell(cell) -> bool:
    meta = _nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _first_error(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out
    return None


def check_notebook(path: Path, *, timeout: int = CELL_TIMEOUT) -> list[PartResult]:
    """Run a learner's exercise notebook and report each autograded part.

    The notebook file is not modified: a copy is executed in memory, in the
    notebook's own folder. A part passes when its test cell runs without error.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    from course_lib.tooling.runner import _Env, kernel_env

    path = Path(path)
    if not path.is_file() or path.suffix != ".ipynb":
        raise ValueError(f"expected a path to an .ipynb exercise notebook, got {path}")
    nb = nbformat.read(path, as_version=4)
    if not any(_is_test_cell(c) for c in nb.cells):
        raise ValueError(f"{path} has no autograded test cells; is it an exercise notebook?")
    with _Env(kernel_env(True)):
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            resources={"metadata": {"path": str(path.parent.resolve())}},
        )
        try:
            # the kernel's own log lines (not the notebook's output) stay out of the caller's stderr
            client.execute(stderr=subprocess.DEVNULL)
        except DeadKernelError as exc:
            msg = f"the kernel died ({exc})"
            return [PartResult(_nbgrader_meta(c).get("grade_id", "?"), float(_nbgrader_meta(c).get("points", 0)),
                               False, msg) for c in nb.cells if _is_test_cell(c)]
    results = []
    for cell in nb.cells:
        if not _is_test_cell(cell):
            continue
        meta = _nbgrader_meta(cell)
        err = _first_error(cell)
        if err is None and not cell.get("outputs") and cell.get("execution_count") is None:
            results.append(PartResult(meta.get("grade_id", "?"), float(meta.get("points", 0)), False, "not run"))
            continue
        msg = "" if err is None else f"{err.get('ename')}: {err.get('evalue')}"[:200]
        results.append(PartResult(meta.get("grade_id", "?"), float(meta.get("points", 0)), err is None, msg))
    return results


def format_check(results: list[PartResult]) -> str:
    """Lines like ``PASS  test_mel (2 pts)`` / ``FAIL  test_x (1 pts): AssertionError: ...``."""
    lines = []
    for r in results:
        tag = "PASS" if r.passed else "FAIL"
        tail = "" if r.passed else f": {r.message}"
        lines.append(f"{tag}  {r.grade_id} ({r.points:g} pts){tail}")
    passed = sum(r.points for r in results if r.passed)
    total = sum(r.points for r in results)
    lines.append(f"{passed:g} of {total:g} visible-test points pass (hidden tests run at grading)")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# course grade
# --------------------------------------------------------------------------

@dataclass
class GradeRow:
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    manual_max: float = 0.0
    status: str = "graded"  # graded | timeout | crashed | flagged | missing
    detail: str = ""
    seconds: float = 0.0
    notebook_seconds: float = 0.0  # the cells' own run time (the rest is grading overhead)
    autograded: dict = field(default_factory=dict)  # grade_id -> (score, max)

    def record(self) -> dict:
        return {
            "student": self.student,
            "assignment": self.assignment,
            "score": f"{self.score:g}",
            "max_score": f"{self.max_score:g}",
            "manual_max": f"{self.manual_max:g}",
            "status": self.status,
            "detail": self.detail,
        }


@dataclass
class _NotebookPlan:
    """What grading one notebook of an assignment needs, held in memory only."""

    restore: dict  # grade_id -> source cell (test and locked cells, hidden tests included)
    tests: list  # [(grade_id, points)] of autograded test cells, in order
    manual: float  # points of manually graded answers
    release_locked: dict  # grade_id -> source a learner received
    source_locked: dict  # grade_id -> source with hidden tests (the instructors' own notebook)


class _Master:
    """The assignments' grading plans, read once from ``solutions/``.

    nbgrader's ``generate_assignment`` builds the release (for the support
    files and the cells a learner received); the hidden tests and points are
    then kept in this process's memory. Nothing with hidden tests stays on
    disk while learners' code runs: the temporary gradebook and solutions are
    deleted before the first kernel starts.
    """

    def __init__(self, root: Path, names: list[str]):
        import nbformat

        self.root = root
        self.dir = Path(tempfile.mkdtemp(prefix="course-master-"))
        db = self.dir / "gradebook.db"
        shutil.copytree(root / "solutions", self.dir / "solutions",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for name in names:
            res = _nbgrader(["generate_assignment", name, "--force", "--create",
                             *_course_flags(self.dir, db)], cwd=self.dir)
            if res.returncode != 0:
                raise RuntimeError(f"could not build the release of {name}:\n{res.stderr[-2000:]}")
        self.plans: dict[tuple[str, str], _NotebookPlan] = {}
        for name in names:
            for path in sorted((self.dir / "solutions" / name).glob("*.ipynb")):
                source = nbformat.read(path, as_version=4)
                released = self.dir / "exercises" / name / path.name
                restore, tests, manual = {}, [], 0.0
                for cell in source.cells:
                    meta = _nbgrader_meta(cell)
                    gid = meta.get("grade_id")
                    if not gid:
                        continue
                    if meta.get("grade") and meta.get("solution"):
                        if cell.cell_type == "code":
                            raise ValueError(f"{name}: autograded answer cell {gid} is not supported")
                        manual += float(meta.get("points", 0))
                    elif meta.get("grade") or meta.get("locked"):
                        restore[gid] = cell
                        if _is_test_cell(cell):
                            tests.append((gid, float(meta.get("points", 0))))
                self.plans[(name, path.name)] = _NotebookPlan(
                    restore, tests, manual,
                    _locked_sources(nbformat.read(released, as_version=4)), _locked_sources(source))
        db.unlink(missing_ok=True)
        shutil.rmtree(self.dir / "solutions")

    def release_dir(self, name: str) -> Path:
        return self.dir / "exercises" / name

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _locked_sources(release_nb) -> dict:
    """grade_id -> source of every cell a learner must not change."""
    out = {}
    for cell in release_nb.cells:
        meta = _nbgrader_meta(cell)
        if meta.get("grade_id") and (meta.get("locked") or _is_test_cell(cell)) and not meta.get("solution"):
            out[meta["grade_id"]] = cell.source
    return out


def _tampered(sub, plan: _NotebookPlan) -> list[str]:
    """grade_ids of locked or test cells that were edited, removed or duplicated.

    A cell counts as unchanged when it equals the release's version or, for
    the instructors' own solution notebook, the source's (with hidden tests).
    """
    have: dict[str, list[str]] = {}
    for cell in sub.cells:
        gid = _nbgrader_meta(cell).get("grade_id")
        if gid:
            have.setdefault(gid, []).append(cell.source)
    bad = []
    for gid, src in plan.release_locked.items():
        alt = plan.source_locked.get(gid, src)
        if gid not in have:
            bad.append(f"{gid} (removed)")
        elif len(have[gid]) > 1:
            bad.append(f"{gid} (duplicated)")
        elif have[gid][0].strip() not in (src.strip(), alt.strip()):
            bad.append(f"{gid} (edited)")
    return bad


def _prepare(sub, plan: _NotebookPlan, nonce: str):
    """The notebook to execute: protected cells restored, guards before the tests.

    A learner's own metadata never counts: points and test cells come from
    the plan, and only the grader's cells are marked as guards.
    """
    import copy

    import nbformat

    from course_lib.tooling.tamper import guard_source

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                          "language": "python"}})
    seen = set()
    guard = lambda first: nbformat.v4.new_code_cell(  # noqa: E731
        guard_source(nonce, first), metadata={"course_guard": True})
    nb.cells.append(guard(True))
    for cell in sub.cells:
        meta = _nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if gid in plan.restore:
            if gid in seen:  # a duplicated protected cell runs once, at its first place
                continue
            seen.add(gid)
            cell = copy.deepcopy(plan.restore[gid])
        elif meta:
            cell = copy.deepcopy(cell)
            # a learner's cell cannot make itself a graded or locked cell
            cell.metadata["nbgrader"] = {k: v for k, v in meta.items() if k in ("grade_id", "solution")}
        else:
            cell = copy.deepcopy(cell)
        cell.metadata.pop("course_guard", None)  # only the grader marks guards and timeouts
        cell.metadata.pop("course_timed_out", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if gid in plan.restore and _is_test_cell(cell):
                nb.cells.append(guard(False))
        nb.cells.append(cell)
    return nb


def _cell_seconds(cell) -> float:
    from datetime import datetime

    ex = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.fromisoformat(ex["iopub.status.busy"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(ex["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return max(0.0, (end - start).total_seconds())


@dataclass
class Isolation:
    """How grading kernels are kept from the grader (see :mod:`course_lib.tooling.sandbox`)."""

    user: bool  # kernels run as an unprivileged user of their own
    namespace: bool  # solutions, gradebook folders and other submissions are hidden by mount
    reason: str = ""  # why not, when either is False

    @classmethod
    def detect(cls, mode: str = "auto") -> "Isolation":
        """``mode``: ``auto`` (the strongest the machine allows) or ``none`` (same user)."""
        if mode not in ("auto", "none"):
            raise ValueError(f"isolation must be 'auto' or 'none', got {mode!r}")
        if mode == "none":
            return cls(False, False, "isolation turned off")
        from course_lib.tooling.runtime import data_cache_dir
        from course_lib.tooling.sandbox import blocked_ancestor, probe

        found = probe()
        if found["user"] and not found["namespace"] and blocked_ancestor(str(data_cache_dir()) + "/x"):
            # another user could not read the data cache (in a home folder) without the namespace
            return cls(False, False, found["reason"] + "; the data cache is private to you")
        return cls(found["user"], found["namespace"], found["reason"])

    def warning(self) -> str:
        if self.user and self.namespace:
            return ""
        if self.user:
            return ("course grade: WARNING kernels run as a separate user but without a private mount "
                    f"namespace ({self.reason}): a submission can read world-readable files such as "
                    "solutions/. Run as root on Linux with CAP_SYS_ADMIN for full isolation.")
        return ("course grade: WARNING kernels run as your own user "
                f"({self.reason}): a submission can read and write whatever you can. Scores are still "
                "computed outside the kernel. Run `course grade` as root on Linux for isolation.")


class _Worker:
    """A long-lived ``grade_worker`` process: one per parallel job."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None

    def _start(self) -> None:
        import queue
        import threading

        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "course_lib.tooling.grade_worker"],
                                     env=nbgrader_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, start_new_session=True)
        self.lines: "queue.Queue[str]" = queue.Queue()
        out = self.proc.stdout

        def pump():
            for line in out:
                self.lines.put(line)
            self.lines.put("")  # end of file: the worker is gone

        threading.Thread(target=pump, daemon=True).start()

    def run(self, job: str, timeout: float) -> tuple[str | None, str]:
        """Send one job; (answer line, "") or (None, "timeout") or (None, why it failed)."""
        import queue

        if self.proc is None or self.proc.poll() is not None:
            self._start()
        try:
            self.proc.stdin.write(job + "\n")
            self.proc.stdin.flush()
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            return None, "timeout"
        except OSError as exc:
            line, why = "", f"{type(exc).__name__}: {exc}"
        if not line:
            self.err.seek(0)
            tail = " | ".join(self.err.read().strip().splitlines()[-2:])[:300]
            self.stop()
            return None, f"the grading worker failed ({tail or 'no output'})"
        return line, ""

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()  # the worker takes its kernel down
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        _kill_group(self.proc)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc.wait()
        self.err.close()
        self.proc = None


class _Slots:
    """One numeric uid and one worker per parallel job, so that kernels cannot reach each other."""

    def __init__(self, jobs: int, isolation: Isolation):
        import queue

        from course_lib.tooling.sandbox import free_uids

        self.workers = [_Worker() for _ in range(jobs)]
        self.queue: "queue.Queue[tuple]" = queue.Queue()
        for uid, worker in zip(free_uids(jobs) if isolation.user else [None] * jobs, self.workers):
            self.queue.put((uid, worker))

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()


def _git_dirs(root: Path) -> list[Path]:
    """The checkout's git folder(s): their history holds the solutions."""
    dot = root / ".git"
    if dot.is_file():  # a worktree: "gitdir: <common>/worktrees/<name>"
        text = dot.read_text().strip()
        if text.startswith("gitdir:"):
            gitdir = (root / text.split(":", 1)[1].strip()).resolve()
            common = gitdir
            if (gitdir / "commondir").is_file():
                common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
            return [dot, gitdir, common]
    return [dot] if dot.exists() else []


def _copy_files(src: Path, dest: Path, *, notebooks: bool) -> None:
    """Regular files of ``src`` into ``dest`` (symbolic links are never followed)."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if any(part in (".ipynb_checkpoints", "__pycache__") for part in rel.parts) or path.is_symlink():
            continue
        if any(p.is_symlink() for p in (src / rel).parents if src in p.parents):
            continue
        if path.is_dir():
            (dest / rel).mkdir(parents=True, exist_ok=True)
        elif path.is_file() and (notebooks or path.suffix != ".ipynb"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)


def _sandbox(work: Path, uid: int | None, submission: Path, release: Path, isolation: Isolation):
    """The kernel's working copy: support files and the submission's files, nothing else."""
    from course_lib.tooling.runner import kernel_env
    from course_lib.tooling.runtime import data_cache_dir

    box = work / "box"
    box.mkdir(mode=0o700)
    _copy_files(release, box, notebooks=False)
    _copy_files(submission, box, notebooks=True)
    env = kernel_env(True)
    home = box / ".home"
    (home / ".config" / "matplotlib").mkdir(parents=True)
    mpl_cache = Path(os.environ.get("MPLCONFIGDIR") or Path.home() / ".cache" / "matplotlib")
    for font_list in mpl_cache.glob("fontlist-*.json"):  # no font-cache rebuild in every kernel
        shutil.copyfile(font_list, home / ".config" / "matplotlib" / font_list.name)
    env.update({"HOME": str(home), "MPLCONFIGDIR": str(home / ".config" / "matplotlib"),
                "XDG_CACHE_HOME": str(home / ".cache"), "IPYTHONDIR": str(home / ".ipython"),
                "NUMBA_CACHE_DIR": str(home / ".cache" / "numba"),  # site-packages is read-only
                "TORCHINDUCTOR_CACHE_DIR": str(home / ".cache" / "torchinductor"),
                "USER": "learner", "LOGNAME": "learner"})  # the sandbox's uid has no passwd entry: getpass asks these
    cache = data_cache_dir().resolve()
    env["COURSE_DATA_DIR"] = str(cache)  # read-only for the kernel (see sandbox.enter_namespace)
    binds = [str(cache)] if cache.is_dir() else []
    if uid is not None:
        for path in [box, *box.rglob("*")]:
            os.lchown(path, uid, uid)
    return box, env, binds


def _run_notebook(nb, *, worker: _Worker, box: Path, env: dict, uid: int | None, hide: list[str],
                  binds: list, isolation: Isolation, cell_timeout: int,
                  timeout: float) -> tuple[dict | None, str, bool]:
    """Execute ``nb`` in the sandbox; returns (executed notebook or None, died reason, timed out)."""
    import json

    from course_lib.tooling import sandbox

    if uid is not None:
        argv = [sys.executable, sandbox.__file__, "--uid", str(uid), "--gid", str(uid), "--dir", str(box)]
        for path in hide:
            argv += ["--hide", path]
        for path in binds:
            argv += ["--expose", path]
        if not isolation.namespace:
            argv.append("--no-namespace")
        argv.append("{connection_file}")
    else:
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    job = json.dumps({"nb": nb, "kernel_argv": argv, "env": env, "cwd": str(box), "cell_timeout": cell_timeout})
    try:
        line, why = worker.run(job, timeout)
    finally:
        if uid is not None:
            sandbox.kill_uid(uid)  # the kernel and anything it left running
    if line is None:
        return None, ("" if why == "timeout" else why), why == "timeout"
    result = json.loads(line)
    return result["nb"], result["died"], False


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class _Context:
    master: _Master
    isolation: Isolation
    hide: list
    cell_timeout: int
    total_timeout: int
    keep: Path | None
    tmp: Path


def grade_one(ctx: _Context, slot: tuple, student: str, assignment: str, submission: Path) -> GradeRow:
    """Autograde one submission folder; the score is computed here, outside the kernel."""
    import nbformat

    from course_lib.tooling.tamper import compare, new_nonce, read_guard, scan_sources

    uid, worker = slot
    row = GradeRow(student, assignment)
    start = time.perf_counter()
    release = ctx.master.release_dir(assignment)
    plans = {nb: p for (a, nb), p in ctx.master.plans.items() if a == assignment}
    expected = sorted(plans)
    for plan in plans.values():
        row.max_score += sum(points for _, points in plan.tests)
        row.manual_max += plan.manual
    present = [n for n in expected if (submission / n).is_file() and not (submission / n).is_symlink()]
    if not present:
        row.status, row.detail = "missing", f"no {', '.join(expected)} in {submission}"
        return row

    work = Path(tempfile.mkdtemp(prefix="job-", dir=ctx.tmp))
    os.chmod(work, 0o711)  # the kernel user may pass through to its box, not list or read
    details, flags, errors, cell_timeouts = [], [], [], []
    timed_out, died, crashed = False, "", ""
    deadline = time.monotonic() + ctx.total_timeout
    try:
        box, env, binds = _sandbox(work, uid, submission, release, ctx.isolation)
        for name in present:
            plan = plans[name]
            try:
                sub = nbformat.read(submission / name, as_version=4)
            except Exception as exc:  # not JSON, not a notebook
                crashed = f"{name} is not a readable notebook ({type(exc).__name__})"
                continue
            tampered = _tampered(sub, plan)
            if tampered:
                flags.append("protected cells changed (restored for grading): " + ", ".join(tampered))
            learner_cells = [c for c in sub.cells if _nbgrader_meta(c).get("grade_id") not in plan.restore]
            suspect = scan_sources(learner_cells)
            if suspect:
                flags.append("code touches the kernel's execution machinery: " + "; ".join(suspect[:4]))
            nonce = new_nonce()
            nb = _prepare(sub, plan, nonce)
            left = deadline - time.monotonic()
            executed, why, over = (None, "", True) if left <= 0 else _run_notebook(
                nb, worker=worker, box=box, env=env, uid=uid, hide=ctx.hide, binds=binds, isolation=ctx.isolation,
                cell_timeout=ctx.cell_timeout, timeout=left)
            if over:
                timed_out = True
                continue
            if executed is None:
                crashed = why
                continue
            died = died or why
            executed = nbformat.from_dict(executed)
            # read the guards, then drop them from the notebook
            baseline, cells, changes = None, [], []
            pending_guard = None
            for cell in executed.cells:
                if cell.get("metadata", {}).get("course_guard"):
                    ran = cell.get("execution_count") is not None or cell.get("outputs")
                    fp = read_guard(cell, nonce)
                    if baseline is None and pending_guard is None and not cells:
                        baseline = fp
                        if fp is None and ran:
                            changes.append("the first guard printed no fingerprint")
                    else:
                        pending_guard = (fp, ran)
                    continue
                meta = _nbgrader_meta(cell)
                gid = meta.get("grade_id")
                if pending_guard is not None:
                    fp, ran = pending_guard
                    pending_guard = None
                    if ran and (fp is None or baseline is None):
                        changes.append(f"before {gid}: the guard's fingerprint is missing or forged")
                    elif ran:
                        diff = compare(baseline, fp)
                        if diff:
                            changes.append(f"before {gid}: " + ", ".join(diff[:5]))
                cells.append(cell)
                row.notebook_seconds += _cell_seconds(cell) if cell.cell_type == "code" else 0.0
            executed.cells = cells
            if changes:
                flags.append("kernel machinery changed (tests run with it put back): " + "; ".join(changes[:4]))
            # the score: a test cell earns its points when it ran and raised nothing
            by_id = {_nbgrader_meta(c).get("grade_id"): c for c in executed.cells if _nbgrader_meta(c).get("grade_id")}
            for gid, points in plan.tests:
                cell = by_id.get(gid)
                ran = cell is not None and cell.get("execution_count") is not None
                err = _first_error(cell) if cell is not None else None
                row.autograded[gid] = (points if ran and err is None else 0.0, points)
            for i, cell in enumerate(executed.cells):
                err = _first_error(cell) if cell.cell_type == "code" else None
                where = _nbgrader_meta(cell).get("grade_id") or f"cell {i + 1}"
                if cell.get("metadata", {}).get("course_timed_out") or (
                        err is not None and err.get("ename") in _ERROR_NAMES_TIMEOUT):
                    cell_timeouts.append(where)
                elif err is not None:
                    errors.append(f"{where}: {err.get('ename')}")
            if ctx.keep is not None:
                target = Path(ctx.keep) / student / assignment
                target.mkdir(parents=True, exist_ok=True)
                nbformat.write(executed, target / name)
        row.score = float(sum(s for s, _ in row.autograded.values()))
        if row.score > row.max_score:  # cannot happen by construction; never report it
            flags.append(f"score {row.score:g} above the maximum {row.max_score:g} (clamped)")
            row.score = row.max_score
        if timed_out:
            row.status = "timeout"
            details.append(f"grading stopped after {ctx.total_timeout} s (whole submission)")
        elif crashed or died:
            row.status = "crashed"
            details.append(crashed or died)
        elif cell_timeouts:
            row.status = "timeout"
            details.append(f"cell(s) over {ctx.cell_timeout} s were interrupted: {', '.join(cell_timeouts)}")
        if flags:
            if row.status == "graded":
                row.status = "flagged"
            details.extend(flags)
        if errors:
            details.append("errors in " + "; ".join(errors[:8]))
        missing_nbs = sorted(set(expected) - set(present))
        if missing_nbs:
            details.append(f"missing notebooks: {', '.join(missing_nbs)}")
        row.detail = " | ".join(details)
    finally:
        if uid is not None:
            from course_lib.tooling.sandbox import kill_uid

            kill_uid(uid)
        shutil.rmtree(work, ignore_errors=True)
        row.seconds = round(time.perf_counter() - start, 2)
    return row


def find_submissions(submissions: Path, known: list[str], only: list[str] | None = None):
    """Yield ``(student, assignment, folder)``; a student lacking a wanted assignment gets ``folder=None``."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise ValueError(f"SUBMISSIONS_DIR must be a folder of <student>/<assignment>/, got {submissions}")
    wanted = only or known
    unknown = [a for a in wanted if a not in known]
    if unknown:
        raise ValueError(f"unknown assignment(s) {unknown}; known: {known}")
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")):
        present = {p.name for p in student_dir.iterdir() if p.is_dir()}
        for a in wanted:
            if a in present:
                yield student_dir.name, a, student_dir / a
            elif only:
                yield student_dir.name, a, None


@dataclass
class Throughput:
    """How fast a class was graded: wall time, and the overhead beyond the notebooks' own cells."""

    submissions: int
    jobs: int
    wall_s: float
    per_submission_s: float  # wall time / submissions (what the class costs)
    notebook_s: float  # mean run time of a submission's own cells
    overhead_s: float  # mean seconds per submission beyond its cells (kernel start, isolation, guards)

    def line(self) -> str:
        return (f"graded {self.submissions} submission(s) in {self.wall_s:.1f} s with {self.jobs} job(s): "
                f"{self.per_submission_s:.2f} s per submission; each took {self.notebook_s:.2f} s in its "
                f"cells + {self.overhead_s:.2f} s of grading overhead")


def grade_submissions(
    submissions: Path,
    out_csv: Path,
    *,
    only: list[str] | None = None,
    cell_timeout: int = CELL_TIMEOUT,
    total_timeout: int = SUBMISSION_TIMEOUT,
    keep: Path | None = None,
    root: Path | None = None,
    jobs: int | None = None,
    isolation: str = "auto",
    echo=print,
) -> list[GradeRow]:
    """Grade every ``<student>/<assignment>/`` folder and write the CSV.

    Parameters
    ----------
    submissions : Path
        ``SUBMISSIONS/<student>/<assignment>/*.ipynb`` (only read).
    out_csv : Path
        The CSV to write (columns :data:`CSV_COLUMNS`), outside ``submissions``.
    only : list of str, optional
        Grade only these assignments (a student without one gets ``missing``).
    cell_timeout, total_timeout : int
        Seconds per cell (then interrupted) and per submission (then killed).
    keep : Path, optional
        Save the executed notebooks there (they contain the hidden tests).
    root : Path, optional
        The course checkout (default: this one).
    jobs : int, optional
        Submissions graded at once (default: the number of CPU cores).
    isolation : {"auto", "none"}
        ``auto`` runs each kernel as its own unprivileged user in a private
        mount namespace when the machine allows it (root on Linux), and warns
        once when it does not; ``none`` runs kernels as the grader's user.
    echo : callable
        Receives one line per graded submission, the warning and the throughput.

    Returns
    -------
    list of GradeRow
        In the order of the CSV. ``grade_submissions.last_throughput`` holds
        the :class:`Throughput` of this call.
    """
    from concurrent.futures import ThreadPoolExecutor

    root = Path(root) if root is not None else repo_root()
    submissions = Path(submissions).resolve()
    out_csv = Path(out_csv).resolve()
    if submissions in out_csv.parents:
        raise ValueError(f"write the CSV outside the submissions folder, got {out_csv}")
    if jobs is None:
        jobs = os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int (submissions graded at once), got {jobs!r}")
    known = assignments(root)
    todo = list(find_submissions(submissions, known, only))
    names = sorted({a for _, a, f in todo if f is not None})
    iso = Isolation.detect(isolation)
    if iso.warning() and names:
        echo(iso.warning())
    rows: list[GradeRow | None] = [None] * len(todo)
    wall = time.perf_counter()
    master = _Master(root, names) if names else None
    tmp = Path(tempfile.mkdtemp(prefix="course-grade-"))
    os.chmod(tmp, 0o711)
    try:
        hide = [str(p) for p in [root / "solutions", root / "build", *_git_dirs(root), submissions,
                                 master.dir if master else None, Path(keep).resolve() if keep else None]
                if p is not None]
        ctx = _Context(master, iso, hide, cell_timeout, total_timeout, Path(keep) if keep else None, tmp)
        slots = _Slots(min(jobs, max(1, len(todo))), iso)

        def work(i: int) -> None:
            student, assignment, folder = todo[i]
            if folder is None:
                row = GradeRow(student, assignment, status="missing", detail="no submission folder")
                plan_nbs = [p for (a, _), p in (master.plans.items() if master else []) if a == assignment]
                row.max_score = sum(pt for p in plan_nbs for _, pt in p.tests)
            else:
                slot = slots.queue.get()
                try:
                    row = grade_one(ctx, slot, student, assignment, folder)
                finally:
                    slots.queue.put(slot)
            rows[i] = row
            echo(f"{student:>16} {assignment:<32} {row.status:<8} {row.score:g}/{row.max_score:g}"
                 + (f"  {row.detail}" if row.detail else ""))

        try:
            with ThreadPoolExecutor(max_workers=min(jobs, max(1, len(todo)))) as pool:
                for fut in [pool.submit(work, i) for i in range(len(todo))]:
                    fut.result()
        finally:
            slots.close()
    finally:
        if master is not None:
            master.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    wall = time.perf_counter() - wall
    graded = [r for r in rows if r is not None and r.seconds > 0]
    n = max(1, len(graded))
    thr = Throughput(len(graded), jobs, round(wall, 2), round(wall / n, 2),
                     round(sum(r.notebook_seconds for r in graded) / n, 2),
                     round(sum(r.seconds - r.notebook_seconds for r in graded) / n, 2))
    grade_submissions.last_throughput = thr
    if graded:
        echo(thr.line())
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.record())
    return rows


grade_submissions.last_throughput = None
