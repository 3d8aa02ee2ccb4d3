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
        Reject NaN and infinity (floating tensors only).
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
