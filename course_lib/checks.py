"""Input validation shared by every public ``course_lib`` function.

Each helper raises ``TypeError`` or ``ValueError`` with a message that says
what was expected, what arrived and, where it helps, how to fix it (in the
spirit of scikit-learn's ``check_array``). Internal invariants use plain
``assert`` instead.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import torch


def as_tensor(x, name: str = "x", *, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Return ``x`` as a torch tensor, accepting numpy arrays and tensors only.

    Examples
    --------
    >>> as_tensor(np.zeros(3, dtype=np.float32)).dtype
    torch.float32
    >>> as_tensor([1, 2])
    Traceback (most recent call last):
    ...
    TypeError: x must be a torch.Tensor or numpy.ndarray, got list
    """
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy.ndarray, got {type(x).__name__}")
    if dtype is not None and x.dtype != dtype:
        x = x.to(dtype)
    return x


def check_tensor(
    x,
    name: str = "x",
    *,
    ndim: int | Sequence[int] | None = None,
    min_ndim: int | None = None,
    floating: bool = False,
    dtypes: Iterable[torch.dtype] | None = None,
    finite: bool = True,
    nonempty: bool = True,
) -> torch.Tensor:
    """Validate a tensor's rank, dtype, size and values; return it as a tensor.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray
    name : str
        Used in the error message.
    ndim : int or sequence of int, optional
        Allowed numbers of dimensions.
    min_ndim : int, optional
        Smallest allowed number of dimensions (for ``(..., time)`` inputs).
    floating : bool
        Require a floating-point dtype.
    dtypes : iterable of torch.dtype, optional
        Allowed dtypes.
    finite : bool
        Reject NaN and infinity (floating tensors only). With ``finite=False``
        infinities are allowed (e.g. ``-inf`` log-probabilities) but NaN is
        still rejected: no course function has a use for it.
    nonempty : bool
        Reject tensors with zero elements.

    Examples
    --------
    >>> check_tensor(torch.ones(2, 3), ndim=2).shape
    torch.Size([2, 3])
    >>> check_tensor(torch.ones(3), "audio", ndim=2)
    Traceback (most recent call last):
    ...
    ValueError: audio must have 2 dimensions, got shape (3,)
    >>> check_tensor(torch.tensor([1.0, float("nan")]), "audio")
    Traceback (most recent call last):
    ...
    ValueError: audio contains NaN or infinite values (1 of 2); clean or mask them first
    """
    x = as_tensor(x, name)
    shape = tuple(x.shape)
    if ndim is not None and (isinstance(ndim, (bool, str)) or not isinstance(ndim, (int, tuple, list, range))):
        raise TypeError(f"ndim must be an int or a sequence of int, got {type(ndim).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {shape}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {shape}")
    if floating and not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {x.dtype}; "
            f"convert with .float() (audio as float32 in [-1, 1])"
        )
    if dtypes is not None:
        dtypes = tuple(dtypes)
        if x.dtype not in dtypes:
            raise TypeError(f"{name} must have dtype in {list(dtypes)}, got {x.dtype}")
    if nonempty and x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {shape}); expected at least one element")
    if not finite and x.is_floating_point() and x.numel() > 0:
        nan = torch.isnan(x)
        if bool(nan.any()):
            raise ValueError(
                f"{name} contains NaN values ({int(nan.sum())} of {x.numel()}); expected numbers (inf allowed)"
            )
    if finite and x.is_floating_point() and x.numel() > 0:
        bad = ~torch.isfinite(x)
        if bool(bad.any()):
            raise ValueError(
                f"{name} contains NaN or infinite values ({int(bad.sum())} of {x.numel()}); "
                f"clean or mask them first"
            )
    return x


def check_sample_rate(sample_rate, expected: int | None = None, name: str = "sample_rate") -> int:
    """Validate a sample rate in Hz (a positive int, optionally a given one).

    Examples
    --------
    >>> check_sample_rate(16000, 16000)
    16000
    >>> check_sample_rate(8000, 16000)
    Traceback (most recent call last):
    ...
    ValueError: sample_rate must be 16000 Hz, got 8000 Hz; resample first (course_lib.audio.resample)
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise TypeError(f"{name} must be an int in Hz, got {type(sample_rate).__name__}")
    sample_rate = int(sample_rate)
    if sample_rate <= 0:
        raise ValueError(f"{name} must be positive, got {sample_rate}")
    if expected is not None and sample_rate != expected:
        raise ValueError(
            f"{name} must be {expected} Hz, got {sample_rate} Hz; "
            f"resample first (course_lib.audio.resample)"
        )
    return sample_rate


def check_positive_int(value, name: str) -> int:
    """Validate a strictly positive integer.

    Examples
    --------
    >>> check_positive_int(0, "n_fft")
    Traceback (most recent call last):
    ...
    ValueError: n_fft must be a positive int, got 0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def check_lengths(lengths, batch: int, max_len: int, name: str = "lengths") -> torch.Tensor:
    """Validate per-item lengths (frame counts) for a padded batch.

    Examples
    --------
    >>> check_lengths(torch.tensor([3, 1]), batch=2, max_len=3).tolist()
    [3, 1]
    >>> check_lengths(torch.tensor([4, 1]), batch=2, max_len=3)
    Traceback (most recent call last):
    ...
    ValueError: lengths must lie in [0, 3] (the padded length), got max 4
    """
    lengths = as_tensor(lengths, name)
    if lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
        raise TypeError(f"{name} must be an integer tensor of frame counts, got {lengths.dtype}")
    if lengths.ndim != 1 or lengths.shape[0] != batch:
        raise ValueError(f"{name} must have shape ({batch},), got {tuple(lengths.shape)}")
    if lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > max_len):
        raise ValueError(
            f"{name} must lie in [0, {max_len}] (the padded length), "
            f"got {'min ' + str(int(lengths.min())) if int(lengths.min()) < 0 else 'max ' + str(int(lengths.max()))}"
        )
    return lengths.long()


def check_int(value, name: str, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """Validate an integer (not a bool), optionally within ``[min_value, max_value]``.

    Examples
    --------
    >>> check_int(0, "start", min_value=0)
    0
    >>> check_int(-3, "start", min_value=0)
    Traceback (most recent call last):
    ...
    ValueError: start must be an int >= 0, got -3
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    _check_bounds(min_value, max_value)
    value = int(value)
    if min_value is not None and value < min_value:
        raise ValueError(f"{name} must be an int >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name} must be an int <= {max_value}, got {value}")
    return value


def check_float(
    value,
    name: str,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    min_inclusive: bool = True,
    allow_none: bool = False,
) -> float | None:
    """Validate a finite real number (not a bool), optionally bounded; return it as a float.

    Examples
    --------
    >>> check_float(0.5, "lr", min_value=0.0, min_inclusive=False)
    0.5
    >>> check_float(float("nan"), "lr")
    Traceback (most recent call last):
    ...
    ValueError: lr must be a finite number, got nan
    >>> check_float("0.1", "lr")
    Traceback (most recent call last):
    ...
    TypeError: lr must be a real number, got str
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.dtype == torch.bool:
            value = value.item()
        else:
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    _check_bounds(min_value, max_value)
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if min_value is not None and (value < min_value or (not min_inclusive and value == min_value)):
        op = ">=" if min_inclusive else ">"
        raise ValueError(f"{name} must be {op} {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name} must be <= {max_value}, got {value}")
    return value


def _check_bounds(min_value, max_value) -> None:
    for bound, v in (("min_value", min_value), ("max_value", max_value)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))):
            raise TypeError(f"{bound} must be a number or None, got {type(v).__name__}")


def check_instance(value, types, name: str, what: str | None = None):
    """Validate ``isinstance(value, types)``; ``what`` describes the expected kind in the message.

    Examples
    --------
    >>> check_instance("a", dict, "figures")
    Traceback (most recent call last):
    ...
    TypeError: figures must be a dict, got str
    """
    if not isinstance(value, types):
        if what is None:
            tup = types if isinstance(types, tuple) else (types,)
            what = " or ".join(t.__name__ for t in tup)
            what = ("an " if what[0].lower() in "aeiou" else "a ") + what
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def check_labels(labels, name: str, n_classes: int | None = None, *, ndim: int | None = 1) -> torch.Tensor:
    """Validate integer class labels (int dtype, ``0 <= label < n_classes``).

    Examples
    --------
    >>> check_labels(torch.tensor([0, 2]), "y", 3).tolist()
    [0, 2]
    >>> check_labels(torch.tensor([0, 3]), "y", 3)
    Traceback (most recent call last):
    ...
    ValueError: y must hold class indices in [0, 2] (n_classes=3), got max 3
    """
    if n_classes is not None:
        n_classes = check_positive_int(n_classes, "n_classes")
    labels = check_tensor(labels, name, ndim=ndim)
    if labels.is_floating_point() or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"{name} must be an integer tensor of class indices (torch.long), got {labels.dtype}")
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0:
        raise ValueError(f"{name} must hold class indices >= 0, got min {lo}")
    if n_classes is not None and hi >= n_classes:
        raise ValueError(
            f"{name} must hold class indices in [0, {n_classes - 1}] (n_classes={n_classes}), got max {hi}"
        )
    return labels


def check_log_probs(x, name: str = "log_probs", *, ndim: int | Sequence[int] | None = None) -> torch.Tensor:
    """Validate log-probabilities: floating, no NaN, no ``+inf`` (``-inf``, log 0, is allowed).

    Examples
    --------
    >>> check_log_probs(torch.tensor([0.0, float("-inf")])).tolist()
    [0.0, -inf]
    >>> check_log_probs(torch.tensor([float("nan"), 0.0]))
    Traceback (most recent call last):
    ...
    ValueError: log_probs contains NaN or +inf (1 of 2); expected log-probabilities (finite, or -inf for log 0)
    """
    x = as_tensor(x, name)
    if x.is_floating_point() and x.numel():
        bad = torch.isnan(x) | (x == float("inf"))
        if bool(bad.any()):
            raise ValueError(
                f"{name} contains NaN or +inf ({int(bad.sum())} of {x.numel()}); "
                f"expected log-probabilities (finite, or -inf for log 0)"
            )
    return check_tensor(x, name, ndim=ndim, floating=True, finite=False)
