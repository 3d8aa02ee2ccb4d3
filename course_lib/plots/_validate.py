"""Input validation shared by the plot helpers (one place, so each helper stays a plot).

Plot helpers accept numpy arrays, torch tensors and lists of numbers; these
functions turn them into numpy arrays or raise ``TypeError``/``ValueError``
naming the argument, what was expected and what arrived (the conventions of
:mod:`course_lib.checks`). matplotlib is never imported here.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

_KINDS = {"float": "biuf", "int": "iu", "bool": "b", "number": "biuf"}


def array(
    x,
    name: str,
    *,
    ndim: int | Iterable[int] | None = None,
    kind: str = "float",
    nan: bool = False,
    inf: bool | str = False,
    nonempty: bool = True,
) -> np.ndarray:
    """``x`` (array, tensor or list of numbers) as a numpy array, validated.

    Parameters
    ----------
    x : numpy.ndarray, torch.Tensor or sequence of numbers
    name : str
        The argument's name, used in messages.
    ndim : int or iterable of int, optional
        Allowed numbers of dimensions.
    kind : {"float", "int", "bool", "number"}
        ``"float"`` converts to float64; ``"int"`` requires integers;
        ``"bool"`` requires booleans; ``"number"`` keeps the dtype.
    nan : bool
        Allow NaN (floating inputs).
    inf : bool or "-"
        Allow infinite values: ``True`` both signs, ``"-"`` only ``-inf`` (a
        log of 0: log-probabilities, dB), ``False`` none.
    nonempty : bool
        Reject arrays with no element.

    Examples
    --------
    >>> array([1, 2], "sizes", ndim=1).dtype
    dtype('float64')
    >>> array("oops", "spec_db")
    Traceback (most recent call last):
    ...
    TypeError: spec_db must be an array of numbers (numpy.ndarray, torch.Tensor or list), got str
    """
    if x is None or isinstance(x, (str, bytes, Mapping)):
        raise TypeError(
            f"{name} must be an array of numbers (numpy.ndarray, torch.Tensor or list), got {type(x).__name__}"
        )
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__} ({exc})") from None
    if a.dtype.kind not in _KINDS[kind]:
        want = {"float": "numbers", "int": "integers", "bool": "booleans", "number": "numbers"}[kind]
        raise TypeError(f"{name} must hold {want}, got dtype {a.dtype} (type {type(x).__name__})")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {a.shape}")
    if nonempty and a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape}); expected at least one value")
    if kind == "float":
        a = a.astype(float)
    if a.dtype.kind == "f":
        if not nan and np.isnan(a).any():
            raise ValueError(f"{name} contains NaN ({int(np.isnan(a).sum())} of {a.size}); expected numbers")
        bad = np.isinf(a) if not inf else (a == np.inf) if inf == "-" else None
        if bad is not None and bad.any():
            allowed = "finite numbers or -inf" if inf == "-" else "finite numbers"
            raise ValueError(f"{name} contains infinite values ({int(bad.sum())} of {a.size}); expected {allowed}")
    return a


def named_arrays(d, name: str, **kwargs) -> dict[str, np.ndarray]:
    """A non-empty dict of name -> array, each validated with :func:`array`.

    Examples
    --------
    >>> named_arrays({"a": [1.0]}, "curves", ndim=1)["a"].shape
    (1,)
    >>> named_arrays([], "curves")
    Traceback (most recent call last):
    ...
    TypeError: curves must be a non-empty dict of name -> array, got list
    """
    if not isinstance(d, Mapping) or not d:
        raise TypeError(f"{name} must be a non-empty dict of name -> array, got {type(d).__name__}")
    return {k: array(v, f"{name}[{k!r}]", **kwargs) for k, v in d.items()}


def axes(ax, name: str = "ax"):
    """``None`` or a matplotlib Axes (anything with ``plot`` and ``figure``).

    Examples
    --------
    >>> axes(None) is None
    True
    >>> axes("left")
    Traceback (most recent call last):
    ...
    TypeError: ax must be a matplotlib Axes or None, got str
    """
    if ax is not None and not (hasattr(ax, "plot") and hasattr(ax, "figure")):
        raise TypeError(f"{name} must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def number(x, name: str, *, positive: bool = False, allow_none: bool = False):
    """A finite real number (not a bool), optionally ``> 0``, or ``None`` when allowed.

    Examples
    --------
    >>> number(0.5, "target_error")
    0.5
    >>> number(float("nan"), "target_error")
    Traceback (most recent call last):
    ...
    ValueError: target_error must be a finite number, got nan
    """
    if x is None and allow_none:
        return None
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}")
    if not np.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x}")
    if positive and x <= 0:
        raise ValueError(f"{name} must be > 0, got {x}")
    return x


def names(labels, name: str, length: int | None = None) -> list:
    """A sequence of names (str), optionally exactly ``length`` of them.

    Examples
    --------
    >>> names(["a", "b"], "classes", 2)
    ['a', 'b']
    >>> names("ab", "classes")
    Traceback (most recent call last):
    ...
    TypeError: classes must be a sequence of str (one per row), got str
    """
    if labels is None or isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
        raise TypeError(f"{name} must be a sequence of str (one per row), got {type(labels).__name__}")
    labels = list(labels)
    if length is not None and len(labels) != length:
        raise ValueError(f"{name} must have {length} names, got {len(labels)}")
    return labels
