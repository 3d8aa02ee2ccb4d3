"""Execute one notebook for ``course grade`` in a sandboxed kernel (a subprocess).

The grader starts ``python -m course_lib.tooling.grade_worker`` per notebook
and writes a job to its stdin (JSON: the notebook with the hidden tests
restored, the kernel's command line, environment and working folder, the cell
timeout). The notebook never touches the disk. The worker runs it with
nbclient (errors allowed, a cell past its timeout is interrupted) and writes
``{"nb": executed notebook, "died": reason or ""}`` to stdout. The kernel's
own stdout and stderr go to /dev/null, so the learner's code cannot write
into that answer.
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

    def on_term(*_):  # the grader's timeout: take the kernel down with us
        try:
            pid = km.provisioner.process.pid if km.provisioner and km.provisioner.process else None
            if pid:
                os.killpg(pid, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        os._exit(3)

    signal.signal(signal.SIGTERM, on_term)
    client = NotebookClient(nb, km=km, timeout=int(job["cell_timeout"]), interrupt_on_timeout=True,
                            allow_errors=True, startup_timeout=120,
                            resources={"metadata": {"path": job["cwd"]}})
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


def main() -> None:
    job = json.loads(sys.stdin.read())
    result = run_job(job)
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
