"""Detect a submission that changes how the grading kernel runs test cells.

A learner's cell can make later cells run as something else: IPython's input
transformers (``input_transformers_cleanup``/``_post``), AST transformers,
``pre_run_cell`` events, a replaced ``run_cell`` or ``showtraceback``, a
trace function, patched ``builtins``... A hidden test run through such a
hook can pass whatever the answer.

``course grade`` therefore runs a *guard* cell (:func:`guard_source`) first,
in the fresh kernel, and again right before every test cell. Each guard
prints a fingerprint of that machinery on one line; the grader, outside the
kernel, compares every fingerprint with the first one (:func:`compare`). A
difference, or a guard whose line is missing or forged, flags the submission
with the reason. Before each test cell the guard also puts the machinery back
as it found it in the fresh kernel, so the hidden tests of a flagged
submission still run as written.

:func:`scan_sources` adds a static look at the learner's cells for the same
names (cheap, and it names the cell).
"""
from __future__ import annotations

import json
import re
import secrets

#: Marker of a guard's output line: ``COURSE-GUARD <nonce> <json>``.
MARK = "COURSE-GUARD"

_GUARD = r'''
def __course_guard(nonce, first):
    import builtins, sys, threading, json
    ip = get_ipython()
    store = sys.modules.get("__course_guard_store__")
    names = ["run_cell", "run_cell_async", "run_ast_nodes", "run_code", "transform_cell", "transform_ast",
             "showtraceback", "_showtraceback", "showsyntaxerror", "should_run_async", "ex", "ev", "system"]
    def key(v):  # a bound method is made anew at each access: compare its function and object
        f = getattr(v, "__func__", None)
        return str(id(f)) + ":" + str(id(getattr(v, "__self__", None))) if f is not None else str(id(v))
    if first:
        import types
        store = types.ModuleType("__course_guard_store__")
        store.cleanup = list(ip.input_transformers_cleanup)
        store.post = list(ip.input_transformers_post)
        store.ast = list(ip.ast_transformers)
        store.events = {k: list(v) for k, v in ip.events.callbacks.items()}
        store.builtins = dict(vars(builtins))
        store.instance = {n: vars(ip)[n] for n in names if n in vars(ip)}
        sys.modules["__course_guard_store__"] = store
    def ids(xs):
        return [type(x).__qualname__ + "@" + str(id(x)) for x in xs]
    def foreign(f):  # a callback not from IPython, ipykernel or matplotlib's inline backend
        code = getattr(getattr(f, "__func__", f), "__code__", None)
        name = getattr(code, "co_filename", "")
        return not any(("/site-packages/" + p + "/") in name
                       for p in ("IPython", "ipykernel", "matplotlib_inline", "matplotlib"))
    kernel = getattr(ip, "kernel", None)
    fp = {
        "shell_type": str(id(type(ip))),
        "cleanup": ids(ip.input_transformers_cleanup),
        "post": ids(ip.input_transformers_post),
        "ast": ids(ip.ast_transformers),
        "manager": str(id(ip.input_transformer_manager)) + ":" + str(id(type(ip.input_transformer_manager))),
        "events": {k: ids([f for f in v if foreign(f) or f in store.events.get(k, [])])
                   for k, v in sorted(ip.events.callbacks.items())},
        "methods": {n: [key(vars(ip)[n]) if n in vars(ip) else "", str(id(getattr(type(ip), n, None)))]
                    for n in names},
        "custom_exceptions": repr(ip.custom_exceptions),
        "trace": repr(sys.gettrace()), "profile": repr(sys.getprofile()),
        "thread_trace": repr(getattr(threading, "_trace_hook", None)),
        "thread_profile": repr(getattr(threading, "_profile_hook", None)),
        "excepthook": key(sys.excepthook), "displayhook": key(sys.displayhook),
        "builtins": sorted(k for k, v in vars(builtins).items()
                           if k not in store.builtins or key(store.builtins[k]) != key(v)),
        "builtins_missing": sorted(k for k in store.builtins if k not in vars(builtins)),
        "kernel": "" if kernel is None else ":".join(
            str(id(x)) for x in (type(kernel), getattr(type(kernel), "do_execute", None),
                                 kernel.shell_handlers.get("execute_request"))) + ":" + str(
            "do_execute" in vars(kernel)),
    }
    if not first:  # put the machinery back as the fresh kernel had it
        ip.input_transformers_cleanup[:] = store.cleanup
        ip.input_transformers_post[:] = store.post
        ip.ast_transformers[:] = store.ast
        for k, v in ip.events.callbacks.items():
            v[:] = [f for f in v if f in store.events.get(k, []) or not foreign(f)]
        for n in names:
            vars(ip).pop(n, None)
        vars(ip).update(store.instance)
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        ip.custom_exceptions = ()
        vars(builtins).update(store.builtins)
    sys.stdout.write("%s " + nonce + " " + json.dumps(fp, sort_keys=True) + "\n")  # one write: one line
    sys.stdout.flush()
__course_guard(%r, %s)
del __course_guard
'''


def new_nonce() -> str:
    """A random token that a guard echoes; a forged line would have to guess it."""
    return secrets.token_hex(8)


def guard_source(nonce: str, first: bool) -> str:
    """The source of a guard cell (``first``: the baseline run in the fresh kernel)."""
    return _GUARD.strip() % (MARK, nonce, bool(first))


def read_guard(cell, nonce: str) -> dict | None:
    """The fingerprint a guard cell printed, or None when it is missing or forged.

    The cell's stdout is read as one text: the kernel may send a long line in
    several stream messages.
    """
    text = ""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return None
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            text += out.get("text", "")
    found = None
    for line in text.splitlines():
        if not line.startswith(MARK + " "):
            continue
        parts = line.split(" ", 2)
        if len(parts) != 3 or parts[1] != nonce or found is not None:
            return None  # a second or foreign guard line: someone prints for the guard
        try:
            found = json.loads(parts[2])
        except ValueError:
            return None
    return found


def compare(baseline: dict, now: dict) -> list[str]:
    """Names of the machinery that differ between two fingerprints.

    Examples
    --------
    >>> base = {"ast": [], "trace": "None", "builtins": [], "builtins_missing": []}
    >>> compare(base, dict(base, ast=["_NoAssert@1"], builtins=["abs"]))
    ['ast_transformers changed', 'builtins: abs']
    """
    out = []
    for key in sorted(set(baseline) | set(now)):
        if key in ("builtins", "builtins_missing"):
            if now.get(key):
                out.append(f"{key.replace('_missing', ' removed')}: {', '.join(now[key][:6])}")
        elif key == "methods":
            for name, (b, n) in ((m, (baseline[key].get(m), now[key].get(m))) for m in now.get(key, {})):
                if b != n:
                    out.append(f"shell.{name} replaced")
        elif key == "events":
            for ev in sorted(set(baseline.get(key, {})) | set(now.get(key, {}))):
                if baseline[key].get(ev) != now[key].get(ev):
                    out.append(f"events[{ev}] changed")
        elif baseline.get(key) != now.get(key):
            out.append({"cleanup": "input_transformers_cleanup", "post": "input_transformers_post",
                        "ast": "ast_transformers", "trace": "sys.settrace",
                        "profile": "sys.setprofile"}.get(key, key) + " changed")
    return out


#: Names whose use in a learner's cell is reported (the kernel's execution machinery).
_SUSPECT = re.compile(
    r"input_transformers?_|ast_transformers|input_transformer_manager|\brun_cell\b|run_cell_async|"
    r"run_ast_nodes|\bsettrace\b|\bsetprofile\b|events\.register|\bevents\.callbacks|showtraceback|"
    r"set_custom_exc|custom_exceptions|\bexcepthook\b|\bdisplayhook\b|\bshell_handlers\b|do_execute|"
    r"__course_guard|COURSE-GUARD|\bbuiltins\.\w+\s*=|__builtins__|gradebook"
)


def scan_sources(cells) -> list[str]:
    """``grade_id or cell N: name`` for each learner cell naming the kernel's machinery.

    Examples
    --------
    >>> scan_sources([{"cell_type": "code", "source": "get_ipython().ast_transformers.append(t)"},
    ...               {"cell_type": "code", "source": "import warnings; warnings.warn('fine')"}])
    ['cell 1: ast_transformers']
    """
    out = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        m = _SUSPECT.search(cell.get("source", ""))
        if m:
            gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id") or f"cell {i + 1}"
            out.append(f"{gid}: {m.group(0).strip()}")
    return out
