"""Showing the library's own code in a lesson, so the code a learner reads is the code the tests check."""
from __future__ import annotations

import inspect
from typing import Any

__all__ = ["source_of", "show_source"]


def source_of(obj: Any, *, docstring: bool = False) -> str:
    """The source of a library function or class, optionally without its docstring.

    Parameters
    ----------
    obj : function, class or method
        Something defined in Python source (not a builtin).
    docstring : bool
        Keep the docstring (default: drop it, the lesson's prose explains).

    Examples
    --------
    >>> from course_lib.tooling.claims import claim_within
    >>> print(source_of(claim_within).splitlines()[0])
    def claim_within(text: str, value: float, low: float, high: float, *, quiet: bool = False) -> str:
    """
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        raise TypeError(f"source_of expects obj to be a function, method or class, got {type(obj).__name__}")
    try:
        src = inspect.getsource(obj)
    except (OSError, TypeError) as exc:
        raise ValueError(f"no Python source available for {obj!r}") from exc
    src = inspect.cleandoc("\n" + src) if src.startswith((" ", "\t")) else src
    if not docstring:
        doc = inspect.getdoc(obj)
        if doc:
            import ast

            tree = ast.parse(src)
            node = tree.body[0]
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
                    and isinstance(first.value.value, str):
                lines = src.splitlines()
                del lines[first.lineno - 1:first.end_lineno]
                src = "\n".join(lines) + "\n"
    return src.rstrip("\n") + "\n"


def show_source(obj: Any, *, docstring: bool = False):
    """Display a library function's source as a highlighted code block (in a notebook).

    Returns an object that the notebook displays when it is a cell's last
    expression: Markdown (a highlighted block) in JupyterLab, the source itself
    as plain text.

    Examples
    --------
    >>> from course_lib.tooling.claims import claim_within
    >>> show_source(claim_within)._repr_markdown_().startswith("```python")
    True
    """
    return _Source(source_of(obj, docstring=docstring))


class _Source:
    """A code block with a Markdown (highlighted) and a plain-text form."""

    def __init__(self, src: str):
        self.src = src

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.src}```"

    def __repr__(self) -> str:
        return self.src
