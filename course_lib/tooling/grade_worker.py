"""Execute notebooks for ``course grade`` in sandboxed kernels (a subprocess).

The grader keeps one ``python -m course_lib.tooling.grade_worker`` per
parallel job (so nbclient and jupyter_client are imported once, not once per
submission) and writes one job per line to its stdin (JSON: the notebook with
the hidden tests restored, the kernel's command line, environment and working
folder, the cell timeout). The notebook never touches the disk. The worker
runs it with nbclient in a new kernel (errors allowed, a cell past its timeout
is interrupted) and answers one line ``{"nb": executed notebook, "died":
reason or ""}``. The kernel's own stdout and stderr go to /dev/null, so the
learner's code cannot write into that answer. On SIGTERM (the grader's
timeout) the worker kills its kernel and exits.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

#: Characters kept of one output's text (a cell that prints megabytes is cut).
MAX_OUTPUT_CHARS = 20_000
#: Outputs kept per cell (errors are always kept).
MAX_OUTPUTS = 50


def limit_outputs(nb: dict) -> None:
    """Cut huge outputs in place (error outputs are kept whole but their traceback is cut)."""
    for cell in nb.get("cells", []):
        outs = cell.get("outputs")
        if not outs:
            continue
        kept = [o for i, o in enumerate(outs) if i < MAX_OUTPUTS or o.get("output_type") == "error"]
        for out in kept:
            if isinstance(out.get("text"), str) and len(out["text"]) > MAX_OUTPUT_CHARS:
                out["text"] = out["text"][:MAX_OUTPUT_CHARS] + "\n[output cut by course grade]\n"
            if out.get("output_type") == "error":
                out["traceback"] = [t[:MAX_OUTPUT_CHARS] for t in out.get("traceback", [])[-20:]]
            for key, val in list((out.get("data") or {}).items()):
                if isinstance(val, str) and len(val) > MAX_OUTPUT_CHARS:
                    out["data"][key] = val[:MAX_OUTPUT_CHARS]
        cell["outputs"] = kept


def run_job(job: dict) -> dict:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = nbformat.from_dict(job["nb"])
    private = Path(tempfile.mkdtemp(prefix="course-worker-"))  # 0700: the kernel user cannot enter
    spec = private / "kernels" / "course-grading"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": job["kernel_argv"], "display_name": "course grading", "language": "python"}))
    os.environ["JUPYTER_RUNTIME_DIR"] = str(private / "runtime")
    km = AsyncKernelManager(kernel_name="course-grading",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(private / "kernels")]))

    _CURRENT["km"] = km
    client = NotebookClient(nb, km=km, timeout=int(job["cell_timeout"]), interrupt_on_timeout=True,
                            allow_errors=True, startup_timeout=120,
                            shutdown_kernel="immediate",  # the grader kills the kernel's user anyway
                            resources={"metadata": {"path": job["cwd"]}})
    handle_timeout = client._async_handle_timeout

    async def mark_timeout(timeout, cell=None):  # said by the worker, not by the kernel's outputs
        if cell is not None:
            cell.metadata["course_timed_out"] = True
        return await handle_timeout(timeout, cell)

    client._async_handle_timeout = mark_timeout
    died = ""
    try:
        client.execute(env=job["env"], cwd=job["cwd"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except DeadKernelError as exc:
        died = f"the kernel died ({str(exc)[:200]})"
    except Exception as exc:  # a kernel that stops answering, a start failure...
        died = f"{type(exc).__name__}: {str(exc)[:300]}"
    finally:
        try:
            import shutil

            shutil.rmtree(private, ignore_errors=True)
        except OSError:
            pass
    out = json.loads(json.dumps(nb))
    limit_outputs(out)
    return {"nb": out, "died": died}


_CURRENT: dict = {"km": None}


def _on_term(*_) -> None:  # the grader's timeout: take the kernel down with us
    km = _CURRENT["km"]
    try:
        pid = km.provisioner.process.pid if km and km.provisioner and km.provisioner.process else None
        if pid:
            os.killpg(pid, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    os._exit(3)


def main() -> None:
    signal.signal(signal.SIGTERM, _on_term)
    import nbclient  # noqa: F401  (imported once, before the first job)

    for line in sys.stdin:
        if line.strip():
            result = run_job(json.loads(line))
            _CURRENT["km"] = None
            sys.stdout.write(json.dumps(result) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
