"""Run a grading kernel where the learner's code cannot reach the grader.

``course grade`` starts each submission's kernel through this file (run as a
script: it imports only the standard library, so it starts in milliseconds)::

    python sandbox.py --uid U --gid G --dir WORKDIR [--hide PATH ...]
                      [--expose PATH ...] -- CONNECTION_FILE

As root it

1. enters a private mount namespace (``unshare(CLONE_NEWNS)``) and mounts an
   empty read-only tmpfs over every ``--hide`` path (the course's
   ``solutions/`` and ``build/``, the git history, the submissions folder,
   the grader's own folders), and makes the Python installation and each
   ``--expose`` path (the data cache) readable even when they live in a home
   folder the kernel user cannot enter, and gives the kernel an empty private
   ``/tmp``, ``/var/tmp`` and ``/dev/shm`` (see :func:`enter_namespace`);
2. copies the connection file into ``WORKDIR`` (jupyter writes it ``0600``);
3. drops to the unprivileged ``U:G`` (at most :data:`MAX_PROCESSES`
   processes and threads, no supplementary groups,
   ``PR_SET_NO_NEW_PRIVS`` so no set-uid program gives root back) and
4. replaces itself with ``python -m ipykernel_launcher -f CONNECTION_FILE``
   in ``WORKDIR`` (same process id, so the grader can still interrupt and
   kill it).

:func:`probe` says which of these the machine allows; the grader falls back
(with one warning) to running the kernel as the grader's own user.
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
#: Processes and threads a grading kernel's user may have at once.
MAX_PROCESSES = 512
#: First numeric user id tried for grading kernels (ids without a passwd entry).
UID_BASE = 61000


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    return libc


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(libc, src, dst, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else str(s).encode()  # noqa: E731
    _check(libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)), f"mount {dst}")


def blocked_ancestor(path: str) -> str | None:
    """The first folder above ``path`` that other users cannot pass through (e.g. ``/root``)."""
    parts = Path(path).resolve().parts
    for i in range(2, len(parts) + 1):
        folder = os.path.join(*parts[:i])
        try:
            if not os.stat(folder).st_mode & 0o001:
                return folder
        except OSError:
            return None
    return None


#: World-writable folders replaced by an empty private tmpfs in the kernel's namespace.
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")


def enter_namespace(hide: list[str], expose: list[str], workdir: str | None = None) -> None:
    """Private mount namespace: ``hide`` paths emptied, ``expose`` paths readable.

    An ``expose`` path (the Python installation, the data cache) below a
    folder other users cannot enter (``/root``) is bound read-only at its own
    path on an empty tmpfs laid over that folder, so the rest of it stays
    out of reach. ``/tmp``, ``/var/tmp`` and ``/dev/shm`` become private empty
    tmpfs (what the kernel writes there vanishes with it); ``workdir`` (the
    kernel's working copy) stays writable at its own path.
    """
    libc = _libc()
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    staged = []  # (path, stage folder, read-only)
    # staged binds must outlive the tmpfs laid over /tmp: stage them elsewhere
    base = next((d for d in ("/run", "/mnt", "/srv", "/opt") if os.path.isdir(d)), "/")
    stage_root = tempfile.mkdtemp(prefix="course-stage-", dir=base)
    for path in expose:
        if os.path.isdir(path) and blocked_ancestor(path):
            staged.append((path, tempfile.mkdtemp(dir=stage_root), True))
    if workdir:
        staged.append((workdir, tempfile.mkdtemp(dir=stage_root), False))
    for path, stage, _ in staged:
        _mount(libc, path, stage, None, MS_BIND | MS_REC)
    private = [d for d in PRIVATE_TMP if os.path.isdir(d) and not os.path.islink(d)]
    for folder in private:
        _mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=2g,mode=1777")
    blocked = {blocked_ancestor(p) for p, _, ro in staged if ro}
    for folder in sorted((b for b in blocked if b), key=len):
        if blocked_ancestor(folder + "/x") == folder:  # not already covered by a shorter one
            _mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for path, stage, read_only in staged:
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(libc, stage, path, None, MS_BIND | MS_REC)
        if read_only:
            _mount(libc, None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        _check(libc.umount2(stage.encode(), 2), f"umount {stage}")  # MNT_DETACH
    shutil.rmtree(stage_root, ignore_errors=True)
    for path in hide:
        if os.path.isdir(path):
            _mount(libc, "tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=000")
        elif os.path.exists(path):
            _mount(libc, "/dev/null", path, None, MS_BIND)


def default_expose() -> list[str]:
    """What a kernel must read: the Python installation, the venv and the import path."""
    paths = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))]
    paths += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return sorted({str(Path(p).resolve()) for p in paths})


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid:gid`` for good (no groups, no new privileges)."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    _libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if os.getuid() != uid or os.geteuid() != uid:  # pragma: no cover - the kernel would run privileged
        raise OSError(f"could not drop to uid {uid}")


def free_uids(count: int, base: int | None = None) -> list[int]:
    """``count`` numeric user ids that have no passwd entry and run no process.

    They start at a random ``base`` above :data:`UID_BASE` (default), so that
    two graders on one machine do not pick the same ids.
    """
    if base is None:
        import secrets

        base = UID_BASE + 1000 + secrets.randbelow(800_000)
    busy = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                busy.add(proc.stat().st_uid)
            except OSError:
                pass
    out, uid = [], base
    while len(out) < count:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if uid not in busy:
                out.append(uid)
        uid += 1
    return out


def kill_uid(uid: int) -> int:
    """SIGKILL every process owned by ``uid`` (a kernel and whatever it spawned)."""
    if uid == 0 or uid == os.getuid():
        raise ValueError(f"refusing to kill the processes of uid {uid} (the grader's own or root)")
    killed = 0
    for _ in range(3):  # a fork bomb may spawn while we kill
        found = False
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if proc.stat().st_uid == uid:
                    os.kill(int(proc.name), signal.SIGKILL)
                    found, killed = True, killed + 1
            except (OSError, ValueError):
                pass
        if not found:
            break
    return killed


def probe() -> dict:
    """What isolation this machine allows: ``{"user": bool, "namespace": bool, "reason": str}``."""
    if os.name != "posix" or os.geteuid() != 0:
        return {"user": False, "namespace": False,
                "reason": "the grader does not run as root, so it cannot start kernels as another user"}
    with tempfile.TemporaryDirectory(prefix="course-probe-") as tmp:
        hidden = Path(tmp) / "hidden"
        hidden.mkdir()
        (hidden / "secret").write_text("x")
        script = ("import sys, os, subprocess; sys.path.insert(0, %r); import sandbox; "
                  "sandbox.enter_namespace([%r], sandbox.default_expose()); sandbox.drop_privileges(%d, %d); "
                  "subprocess.run([sys.executable, '-c', 'import json'], check=True); "
                  "print(os.path.exists(%r))") % (str(Path(__file__).parent), str(hidden), UID_BASE, UID_BASE,
                                                  str(hidden / "secret"))
        try:
            res = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"user": True, "namespace": False, "reason": f"namespace probe failed: {exc}"}
        if res.returncode == 0 and res.stdout.strip() == "False":
            return {"user": True, "namespace": True, "reason": ""}
        tail = (res.stderr.strip().splitlines() or ["?"])[-1]
        # without a namespace the user switch alone still works
        script2 = ("import sys, subprocess; sys.path.insert(0, %r); import sandbox; "
                   "sandbox.drop_privileges(%d, %d); "
                   "subprocess.run([sys.executable, '-c', 'import json'], check=True)") % (
            str(Path(__file__).parent), UID_BASE, UID_BASE)
        ok = subprocess.run([sys.executable, "-I", "-c", script2], capture_output=True).returncode == 0
        return {"user": ok, "namespace": False, "reason": f"no private mount namespace ({tail})"}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--uid", type=int, required=True)
    p.add_argument("--gid", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--hide", action="append", default=[])
    p.add_argument("--expose", action="append", default=[])
    p.add_argument("--no-namespace", action="store_true")
    p.add_argument("connection_file")
    args = p.parse_args(argv)
    workdir = Path(args.dir)
    conn = workdir / ".connection.json"
    shutil.copyfile(args.connection_file, conn)
    os.chown(conn, args.uid, args.gid)
    os.chmod(conn, 0o600)
    if not args.no_namespace:
        enter_namespace(args.hide, default_expose() + args.expose, str(workdir.resolve()))
    os.chdir(workdir)
    import resource

    # processes and threads of the kernel's user (its own uid): a fork bomb stops here
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    drop_privileges(args.uid, args.gid)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn)])


if __name__ == "__main__":
    main()
