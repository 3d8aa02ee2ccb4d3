"""Explicit axes, padding, masks, collation and label encodings.

Speech batches are ragged: every utterance has its own number of frames. The
usual recipe pads them to a common length and carries, beside the padded
tensor, the true ``lengths`` (frame counts) and a boolean ``mask`` that is
``True`` where a frame is real. Every reduction over time must then use the
mask, or the padding silently drags the numbers.

Shape vocabulary used in this module:

* ``(B, T, F)``: batch, time (frames), feature (e.g. mel bands);
* ``(B,)``: one length per item, in frames;
* ``(B, T)``: a mask, ``True`` where valid;
* ``(N, C)``: one row per labelled example, one column per class.

The functions are pure; each validates its input with :mod:`course_lib.checks`
and raises ``ValueError``/``TypeError`` that say what was expected and what
arrived.
"""
from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np
import torch

from course_lib.checks import as_tensor, check_lengths, check_positive_int, check_tensor

__all__ = [
    "lengths_to_mask",
    "masked_mean",
    "masked_softmax",
    "pad_collate",
    "assert_shape",
    "one_hot",
    "integer_encode",
    "ordinal_encode",
    "ordinal_decode",
    "binary_encode",
    "binary_decode",
    "multi_hot",
    "soft_labels",
    "embedding_lookup",
]

_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


# --------------------------------------------------------------------------
# lengths and masks
# --------------------------------------------------------------------------

def _check_int_1d(x, name: str) -> torch.Tensor:
    x = as_tensor(x, name)
    if x.dtype not in _INT_DTYPES:
        raise TypeError(f"{name} must be an integer tensor, got dtype {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"{name} must have shape (N,), got shape {tuple(x.shape)}")
    return x.long()


def lengths_to_mask(lengths, max_len: int | None = None) -> torch.Tensor:
    """Boolean mask ``(B, T)`` that is ``True`` on the first ``lengths[b]`` frames.

    Parameters
    ----------
    lengths : torch.Tensor or numpy.ndarray, shape (B,), integer
        Number of valid frames per item.
    max_len : int, optional
        The padded length ``T``; default ``lengths.max()``. Must be at least
        ``lengths.max()``.

    Returns
    -------
    torch.Tensor, shape (B, T), dtype bool
        ``mask[b, t]`` is ``True`` iff ``t < lengths[b]`` (True where valid).

    Examples
    --------
    >>> lengths_to_mask(torch.tensor([3, 1]), max_len=4).int().tolist()
    [[1, 1, 1, 0], [1, 0, 0, 0]]
    """
    lengths = _check_int_1d(lengths, "lengths")
    if lengths.numel() == 0:
        raise ValueError("lengths is empty (shape (0,)); expected one length per batch item")
    if int(lengths.min()) < 0:
        raise ValueError(f"lengths must be >= 0 (frame counts), got min {int(lengths.min())}")
    longest = int(lengths.max())
    if max_len is None:
        max_len = longest
    else:
        if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 0:
            raise ValueError(f"max_len must be a non-negative int, got {max_len!r}")
        max_len = int(max_len)
        check_lengths(lengths, batch=lengths.shape[0], max_len=max_len)
    frames = torch.arange(max_len, device=lengths.device)  # (T,)
    return frames[None, :] < lengths[:, None]  # (1, T) < (B, 1) -> (B, T)


def _check_mask(mask, x: torch.Tensor, name: str = "mask") -> torch.Tensor:
    mask = as_tensor(mask, name)
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must be a bool tensor (True where valid), got dtype {mask.dtype}; "
                        f"build it with lengths_to_mask")
    if mask.ndim > x.ndim or tuple(mask.shape) != tuple(x.shape[: mask.ndim]):
        raise ValueError(
            f"{name} must have the leading shape of x: expected {tuple(x.shape[: max(mask.ndim, 1)])} "
            f"(e.g. (B, T) for x of shape (B, T, F)), got mask {tuple(mask.shape)} for x {tuple(x.shape)}"
        )
    return mask


def masked_mean(x, mask, dim: int = 1) -> torch.Tensor:
    """Mean of ``x`` over axis ``dim`` counting only positions where ``mask`` is True.

    Parameters
    ----------
    x : torch.Tensor, shape (B, T, ...), floating
        Padded values, e.g. features ``(B, T, F)``.
    mask : torch.Tensor, bool
        ``True`` where valid, shaped like the leading axes of ``x``, e.g.
        ``(B, T)``; it is broadcast over the trailing axes.
    dim : int
        The axis to average over; it must be one of the mask's axes
        (default 1, time).

    Returns
    -------
    torch.Tensor
        ``x`` with axis ``dim`` removed, e.g. ``(B, F)``. An item with no valid
        position gets 0 (never NaN).

    Examples
    --------
    >>> x = torch.tensor([[[1.0], [3.0], [0.0]], [[5.0], [0.0], [0.0]]])  # (B=2, T=3, F=1)
    >>> mask = lengths_to_mask(torch.tensor([2, 1]), max_len=3)
    >>> masked_mean(x, mask, dim=1).tolist()
    [[2.0], [5.0]]
    """
    x = check_tensor(x, "x", min_ndim=1, floating=True)
    mask = _check_mask(mask, x)
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    d = dim + x.ndim if dim < 0 else dim
    if not 0 <= d < mask.ndim:
        raise ValueError(
            f"dim must be one of the mask's axes (0..{mask.ndim - 1}) of x {tuple(x.shape)}, got {dim}"
        )
    m = mask.reshape(tuple(mask.shape) + (1,) * (x.ndim - mask.ndim)).to(x.dtype)  # (B, T) -> (B, T, 1...)
    total = (x * m).sum(dim=d)
    count = m.sum(dim=d).clamp(min=1.0)  # empty rows: 0 / 1 = 0, not NaN
    return total / count


def masked_softmax(scores, mask, dim: int = -1) -> torch.Tensor:
    """Softmax over ``dim`` that gives padded positions exactly probability 0.

    Parameters
    ----------
    scores : torch.Tensor, floating
        Unnormalised scores (logits), e.g. attention scores ``(B, H, T_q, T_k)``.
    mask : torch.Tensor, bool
        ``True`` where valid; broadcastable to ``scores`` (e.g. ``(B, 1, 1, T_k)``).
    dim : int
        The axis to normalise (default -1).

    Returns
    -------
    torch.Tensor
        Same shape as ``scores``; sums to 1 over ``dim`` where at least one
        position is valid, and is all zeros (not NaN) where none is.

    Examples
    --------
    >>> s = torch.tensor([[1.0, 1.0, 5.0], [0.0, 0.0, 0.0]])
    >>> m = torch.tensor([[True, True, False], [False, False, False]])
    >>> masked_softmax(s, m).tolist()
    [[0.5, 0.5, 0.0], [0.0, 0.0, 0.0]]
    """
    scores = check_tensor(scores, "scores", min_ndim=1, floating=True)
    mask = as_tensor(mask, "mask")
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (True where valid), got dtype {mask.dtype}")
    try:
        mask = torch.broadcast_to(mask, scores.shape)
    except RuntimeError:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to scores of shape {tuple(scores.shape)}"
        ) from None
    if isinstance(dim, bool) or not isinstance(dim, int) or not -scores.ndim <= dim < scores.ndim:
        raise ValueError(f"dim must be an int in [{-scores.ndim}, {scores.ndim - 1}], got {dim!r}")
    # a very negative finite value (not -inf): a fully masked row then gives a
    # uniform softmax instead of 0/0 = NaN, and the final multiply zeroes it
    filled = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return torch.softmax(filled, dim=dim) * mask


# --------------------------------------------------------------------------
# collation
# --------------------------------------------------------------------------

def pad_collate(sequences: Sequence[torch.Tensor], padding_value: float = 0.0):
    """Pad variable-length sequences ``(T_i, ...)`` into one batch, keeping their order.

    Parameters
    ----------
    sequences : sequence of torch.Tensor
        Each ``(T_i, F)`` (or ``(T_i,)`` or ``(T_i, ...)``); all trailing
        shapes and dtypes must agree. ``T_i = 0`` is allowed.
    padding_value : float
        Value written into the padded frames (default 0).

    Returns
    -------
    padded : torch.Tensor, shape (B, T_max, ...)
        Item ``b`` is ``sequences[b]`` (same order as given).
    lengths : torch.Tensor, shape (B,), int64
        Frame counts ``T_i``.
    mask : torch.Tensor, shape (B, T_max), bool
        ``True`` where valid.

    Examples
    --------
    >>> padded, lengths, mask = pad_collate([torch.ones(2, 3), torch.ones(4, 3)])
    >>> tuple(padded.shape), lengths.tolist(), mask.sum(dim=1).tolist()
    ((2, 4, 3), [2, 4], [2, 4])
    """
    if isinstance(sequences, torch.Tensor) or not isinstance(sequences, (list, tuple)):
        raise TypeError(
            f"sequences must be a list or tuple of tensors (T_i, ...), got {type(sequences).__name__}"
        )
    if len(sequences) == 0:
        raise ValueError("sequences is empty; expected at least one (T_i, ...) tensor")
    seqs = [as_tensor(s, f"sequences[{i}]") for i, s in enumerate(sequences)]
    first = seqs[0]
    for i, s in enumerate(seqs):
        if s.ndim < 1:
            raise ValueError(f"sequences[{i}] must have a time axis (T_i, ...), got a scalar")
        if tuple(s.shape[1:]) != tuple(first.shape[1:]):
            raise ValueError(
                f"all sequences must share their trailing shape: sequences[0] is "
                f"(T, {', '.join(map(str, first.shape[1:]))}), sequences[{i}] has shape {tuple(s.shape)}"
            )
        if s.dtype != first.dtype:
            raise TypeError(f"all sequences must share a dtype: sequences[0] is {first.dtype}, "
                            f"sequences[{i}] is {s.dtype}")
    lengths = torch.tensor([s.shape[0] for s in seqs], dtype=torch.long)
    t_max = int(lengths.max())
    padded = first.new_full((len(seqs), t_max) + tuple(first.shape[1:]), padding_value)
    for b, s in enumerate(seqs):
        padded[b, : s.shape[0]] = s
    return padded, lengths, lengths_to_mask(lengths, t_max)


# --------------------------------------------------------------------------
# shape assertions
# --------------------------------------------------------------------------

_AXIS = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|\d+|\*|\.\.\.)$")


def assert_shape(x, spec: str, **known: int) -> dict[str, int]:
    """Check that ``x`` has the named axes of ``spec``; return the axis sizes.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray
        The tensor to check.
    spec : str
        Space-separated axis names, e.g. ``"B T F"``. A name (``B``) binds a
        size and must be consistent wherever it repeats (``"B T T"``); a number
        (``80``) must match exactly; ``*`` matches any one axis; a leading
        ``...`` matches any number of leading axes.
    **known : int
        Sizes already bound, e.g. ``B=4`` or the dict returned by an earlier
        call, so that several tensors are checked against each other.

    Returns
    -------
    dict of str to int
        ``known`` updated with the sizes bound by this call.

    Raises
    ------
    ValueError
        Naming the axis, its expected and its actual size.

    Examples
    --------
    >>> dims = assert_shape(torch.zeros(2, 7, 40), "B T F")
    >>> dims
    {'B': 2, 'T': 7, 'F': 40}
    >>> assert_shape(torch.zeros(2, 7), "B T", **dims)
    {'B': 2, 'T': 7, 'F': 40}
    >>> assert_shape(torch.zeros(2, 40), "B T", **dims)
    Traceback (most recent call last):
    ...
    ValueError: axis T (position 1 of 'B T') must have size 7, got 40 (x has shape (2, 40))
    """
    if not hasattr(x, "shape"):
        raise TypeError(f"x must be a tensor or array, got {type(x).__name__}")
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a string such as 'B T F', got {type(spec).__name__}")
    axes = spec.split()
    for a in axes:
        if not _AXIS.match(a):
            raise ValueError(f"spec {spec!r}: axis {a!r} must be a name, an int, '*' or '...'")
    if "..." in axes[1:]:
        raise ValueError(f"spec {spec!r}: '...' may only come first")
    for k, v in known.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise TypeError(f"known size {k}={v!r} must be a non-negative int")
    shape = tuple(int(s) for s in x.shape)
    sizes = dict(known)
    if axes and axes[0] == "...":
        axes = axes[1:]
        if len(shape) < len(axes):
            raise ValueError(f"x must have at least {len(axes)} dimensions for {spec!r}, got shape {shape}")
        offset = len(shape) - len(axes)
    else:
        if len(shape) != len(axes):
            raise ValueError(f"x must have {len(axes)} dimensions ({spec!r}), got shape {shape}")
        offset = 0
    for i, a in enumerate(axes):
        got = shape[offset + i]
        pos = offset + i
        if a == "*":
            continue
        if a.isdigit():
            if got != int(a):
                raise ValueError(f"axis {pos} of {spec!r} must have size {a}, got {got} (x has shape {shape})")
            continue
        if a in sizes and sizes[a] != got:
            raise ValueError(
                f"axis {a} (position {pos} of {spec!r}) must have size {sizes[a]}, got {got} (x has shape {shape})"
            )
        sizes[a] = got
    return sizes


# --------------------------------------------------------------------------
# label encodings
# --------------------------------------------------------------------------

def _check_labels(labels, num_classes: int, name: str = "labels") -> torch.Tensor:
    labels = _check_int_1d(labels, name)
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"{name} must lie in [0, {num_classes - 1}] for num_classes={num_classes}, "
            f"got min {int(labels.min())}, max {int(labels.max())}"
        )
    return labels


def one_hot(labels, num_classes: int) -> torch.Tensor:
    """One-hot encoding: class ``k`` becomes a row with a single 1 at column ``k``.

    No order and no similarity between classes is implied (every pair of rows
    is equally far apart); the target of cross-entropy.

    Parameters
    ----------
    labels : torch.Tensor, shape (N,), integer in [0, num_classes)
    num_classes : int

    Returns
    -------
    torch.Tensor, shape (N, num_classes), float32

    Examples
    --------
    >>> one_hot(torch.tensor([1, 0]), 3).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    labels = _check_labels(labels, num_classes)
    out = torch.zeros(labels.shape[0], num_classes)
    out[torch.arange(labels.shape[0]), labels] = 1.0
    return out


def integer_encode(values: Sequence, classes: Sequence | None = None):
    """Integer (label) encoding: each distinct value gets an index.

    Compact, but the indices imply an order (``2 > 1``) that nominal classes
    do not have: fine as the *target* of cross-entropy, misleading as an
    *input* feature to a linear model.

    Parameters
    ----------
    values : sequence of hashable
        E.g. keyword strings.
    classes : sequence, optional
        The class list, whose order fixes the indices; default the sorted
        distinct values (like scikit-learn's ``LabelEncoder``).

    Returns
    -------
    codes : torch.Tensor, shape (N,), int64
    classes : list
        ``classes[codes[i]] == values[i]``.

    Examples
    --------
    >>> codes, classes = integer_encode(["yes", "no", "yes"])
    >>> codes.tolist(), classes
    ([1, 0, 1], ['no', 'yes'])
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"values must be a list or tuple of labels, got {type(values).__name__}")
    if len(values) == 0:
        raise ValueError("values is empty; expected at least one label")
    if classes is None:
        classes = sorted(set(values))
    else:
        classes = list(classes)
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes must be distinct, got {classes}")
    index = {c: i for i, c in enumerate(classes)}
    unknown = [v for v in values if v not in index]
    if unknown:
        raise ValueError(f"values contain labels not in classes: {sorted(set(map(str, unknown)))[:5]}; "
                         f"classes are {classes}")
    return torch.tensor([index[v] for v in values], dtype=torch.long), list(classes)


def ordinal_encode(labels, num_classes: int) -> torch.Tensor:
    """Ordinal (cumulative, "thermometer") encoding for ordered classes.

    Column ``k`` answers "is the label greater than ``k``?", so class ``c``
    is ``c`` ones followed by zeros: with 4 classes, ``0 -> [0,0,0]``,
    ``2 -> [1,1,0]``. Neighbouring classes differ in one bit, so the order
    (quiet < normal < loud, SNR buckets, MOS scores) is preserved.

    Parameters
    ----------
    labels : torch.Tensor, shape (N,), integer in [0, num_classes)
    num_classes : int, at least 2

    Returns
    -------
    torch.Tensor, shape (N, num_classes - 1), float32

    Examples
    --------
    >>> ordinal_encode(torch.tensor([0, 2, 3]), 4).tolist()
    [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2 for an ordinal encoding, got {num_classes}")
    labels = _check_labels(labels, num_classes)
    thresholds = torch.arange(num_classes - 1)  # (C-1,)
    return (labels[:, None] > thresholds[None, :]).float()  # (N, 1) > (1, C-1) -> (N, C-1)


def ordinal_decode(codes, threshold: float = 0.5) -> torch.Tensor:
    """Invert :func:`ordinal_encode`: the class is the number of columns above ``threshold``.

    Parameters
    ----------
    codes : torch.Tensor, shape (N, C - 1), floating
        Cumulative codes or per-threshold probabilities ``P(label > k)``.
    threshold : float

    Returns
    -------
    torch.Tensor, shape (N,), int64

    Examples
    --------
    >>> ordinal_decode(torch.tensor([[0.9, 0.7, 0.2]])).tolist()
    [2]
    """
    codes = check_tensor(codes, "codes", ndim=2, floating=True)
    return (codes > threshold).sum(dim=1)


def binary_encode(labels, num_classes: int) -> torch.Tensor:
    """Binary encoding: the class index written in ``ceil(log2(C))`` bits, most significant first.

    Grows logarithmically with the number of classes (useful for large ID
    spaces), at the price of arbitrary shared bits between unrelated classes.

    Parameters
    ----------
    labels : torch.Tensor, shape (N,), integer in [0, num_classes)
    num_classes : int

    Returns
    -------
    torch.Tensor, shape (N, max(1, ceil(log2(num_classes)))), float32

    Examples
    --------
    >>> binary_encode(torch.tensor([0, 5]), 8).tolist()
    [[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    labels = _check_labels(labels, num_classes)
    n_bits = max(1, math.ceil(math.log2(num_classes)))
    shifts = torch.arange(n_bits - 1, -1, -1)  # MSB first
    return ((labels[:, None] >> shifts[None, :]) & 1).float()  # (N, 1) >> (1, n_bits) -> (N, n_bits)


def binary_decode(bits) -> torch.Tensor:
    """Invert :func:`binary_encode` (bits above 0.5 count as 1).

    Examples
    --------
    >>> binary_decode(torch.tensor([[1.0, 0.0, 1.0]])).tolist()
    [5]
    """
    bits = check_tensor(bits, "bits", ndim=2, floating=True)
    weights = 2 ** torch.arange(bits.shape[1] - 1, -1, -1)
    return ((bits > 0.5).long() * weights).sum(dim=1)


def multi_hot(label_sets: Sequence[Sequence[int]], num_classes: int) -> torch.Tensor:
    """Multi-hot encoding for multi-label tasks: a 1 for every class present.

    E.g. a clip holding speech *and* a siren. Rows need not sum to 1; the
    target of a per-class sigmoid (binary cross-entropy), not of a softmax.

    Parameters
    ----------
    label_sets : sequence of sequences of int
        Classes present in each example (an empty set is allowed).
    num_classes : int

    Returns
    -------
    torch.Tensor, shape (N, num_classes), float32

    Examples
    --------
    >>> multi_hot([[0, 2], [], [1]], 3).tolist()
    [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    if isinstance(label_sets, torch.Tensor) or not isinstance(label_sets, Sequence) or len(label_sets) == 0:
        raise TypeError(f"label_sets must be a non-empty list of lists of class indices, "
                        f"got {type(label_sets).__name__}")
    out = torch.zeros(len(label_sets), num_classes)
    for i, s in enumerate(label_sets):
        if isinstance(s, (str, bytes)) or not isinstance(s, (Sequence, set, frozenset)):
            raise TypeError(f"label_sets[{i}] must be a list of class indices, got {type(s).__name__}")
        for c in s:
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < num_classes:
                raise ValueError(
                    f"label_sets[{i}] holds {c!r}; class indices must be ints in [0, {num_classes - 1}]"
                )
            out[i, c] = 1.0
    return out


def soft_labels(teacher_logits, temperature: float = 1.0) -> torch.Tensor:
    """Soft labels from a teacher's logits: ``softmax(logits / temperature)``.

    A temperature above 1 flattens the distribution and exposes the teacher's
    "dark knowledge" (which wrong classes it finds plausible); the targets of
    knowledge distillation (module 13).

    Parameters
    ----------
    teacher_logits : torch.Tensor, shape (N, C), floating
    temperature : float, > 0

    Returns
    -------
    torch.Tensor, shape (N, C)
        Rows sum to 1.

    Examples
    --------
    >>> soft_labels(torch.tensor([[2.0, 0.0]]), temperature=2.0).round(decimals=3).tolist()
    [[0.731, 0.269]]
    """
    logits = check_tensor(teacher_logits, "teacher_logits", ndim=2, floating=True)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(f"temperature must be a number, got {type(temperature).__name__}")
    if not (temperature > 0 and math.isfinite(temperature)):
        raise ValueError(f"temperature must be a positive finite number, got {temperature}")
    return torch.softmax(logits / temperature, dim=1)


def embedding_lookup(labels, weight) -> torch.Tensor:
    """Embedding encoding: row ``labels[i]`` of a (learned) table ``weight``.

    Numerically the same as ``one_hot(labels) @ weight`` but without building
    the one-hot matrix; what ``torch.nn.Embedding`` does for tokens.

    Parameters
    ----------
    labels : torch.Tensor, shape (N,), integer in [0, V)
    weight : torch.Tensor, shape (V, D), floating
        One ``D``-dimensional vector per class (vocabulary entry).

    Returns
    -------
    torch.Tensor, shape (N, D)

    Examples
    --------
    >>> w = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    >>> embedding_lookup(torch.tensor([2, 0]), w).tolist()
    [[4.0, 5.0], [0.0, 1.0]]
    """
    weight = check_tensor(weight, "weight", ndim=2, floating=True)
    labels = _check_labels(labels, weight.shape[0])
    return weight[labels]
