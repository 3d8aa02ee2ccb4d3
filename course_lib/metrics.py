"""Classification metrics: accuracy, the confusion matrix, its worst pairs, per-slice accuracy.

Predictions and labels are integer class indices shaped ``(N,)`` (torch
tensors or numpy arrays). The confusion matrix follows scikit-learn's layout:
``cm[i, j]`` counts clips of **true** class ``i`` predicted as class ``j``
(rows are the truth, columns the prediction), so a row sums to the number of
clips of that class and its diagonal entry divided by that sum is the class's
recall.

- :func:`accuracy`: share of correct predictions (micro average).
- :func:`confusion_matrix`: counts, optionally normalised per true class
  (``normalize="true"``), equal to ``sklearn.metrics.confusion_matrix``.
- :func:`most_confused_pairs`: the largest off-diagonal cells, as a table.
- :func:`per_slice_accuracy`: accuracy and count per slice (device, room,
  noise condition...), plus the overall row; with ``confidence=`` also the
  Wilson interval of each slice.
- :func:`wilson_interval`: the confidence interval of an accuracy measured on
  ``n`` clips (Wilson's score interval: honest for small slices and for
  accuracies near 0 or 1, where the textbook ``p +- 1.96 sqrt(p(1-p)/n)`` is not).
- :func:`paired_accuracy_difference`: the accuracy gain of one model over
  another on the *same* clips, per slice, with a paired bootstrap interval.

An accuracy measured on 25 clips is a noisy number: a slice at 0.80 has a
95 % interval of about 0.61-0.91. Report the interval, and claim a
difference between two models only when it is clear of zero.
"""
from __future__ import annotations

from statistics import NormalDist
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
import torch

from course_lib.checks import check_positive_int, check_tensor

__all__ = [
    "accuracy",
    "confusion_matrix",
    "most_confused_pairs",
    "per_slice_accuracy",
    "Interval",
    "wilson_interval",
    "paired_accuracy_difference",
]

_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def _labels(y, name: str) -> torch.Tensor:
    """Validate a 1-D integer label vector and return it as int64."""
    y = check_tensor(y, name, ndim=1)
    if y.dtype not in _INT_DTYPES:
        raise TypeError(f"{name} must hold integer class indices, got dtype {y.dtype}; use .long() on argmax output")
    if int(y.min()) < 0:
        raise ValueError(f"{name} must be class indices >= 0, got min {int(y.min())}")
    return y.long()


def _pair(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {y_true.shape[0]} and {y_pred.shape[0]}"
        )
    return y_true, y_pred


def accuracy(y_true, y_pred) -> float:
    """Share of predictions equal to the labels (micro average over all clips).

    Parameters
    ----------
    y_true, y_pred : torch.Tensor or numpy.ndarray, shape (N,)
        Integer class indices.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> accuracy(torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 2]))
    0.75
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float((y_true == y_pred).double().mean())


def confusion_matrix(y_true, y_pred, n_classes: int, *, normalize: str | None = None) -> np.ndarray:
    """Confusion matrix ``cm[true, predicted]`` (as ``sklearn.metrics.confusion_matrix``).

    Parameters
    ----------
    y_true, y_pred : torch.Tensor or numpy.ndarray, shape (N,)
        Integer class indices in ``[0, n_classes)``.
    n_classes : int
        Number of classes ``K`` (rows and columns; classes absent from the
        data get zero rows/columns).
    normalize : {None, "true"}
        ``None``: counts (int64). ``"true"``: each row divided by its sum
        (the recall of each class on the diagonal); empty rows stay 0.

    Returns
    -------
    numpy.ndarray, shape (K, K)

    Examples
    --------
    >>> confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)
    array([[1, 1, 0],
           [0, 1, 0],
           [1, 0, 0]])
    >>> confusion_matrix(np.array([0, 0, 1]), np.array([0, 1, 1]), 2, normalize="true")
    array([[0.5, 0.5],
           [0. , 1. ]])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    k = check_positive_int(n_classes, "n_classes")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if int(y.max()) >= k:
            raise ValueError(f"{name} labels must lie in [0, {k - 1}] for n_classes={k}, got a label {int(y.max())}")
    if normalize not in (None, "true"):
        raise ValueError(f"normalize must be None or 'true', got {normalize!r}")
    flat = y_true * k + y_pred  # one bin per (true, predicted) cell
    cm = torch.bincount(flat, minlength=k * k).reshape(k, k).numpy()
    if normalize is None:
        return cm.astype(np.int64)
    rows = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, rows, out=np.zeros(cm.shape, dtype=np.float64), where=rows > 0)


def most_confused_pairs(cm, classes: Sequence[str], k: int = 5) -> pd.DataFrame:
    """The ``k`` largest off-diagonal cells of a confusion matrix.

    Parameters
    ----------
    cm : numpy.ndarray or torch.Tensor, shape (K, K)
        Counts or row-normalised rates, ``cm[true, predicted]``.
    classes : sequence of str
        The ``K`` class names.
    k : int
        How many pairs (fewer when fewer cells are non-zero).

    Returns
    -------
    pandas.DataFrame
        Columns ``true``, ``predicted``, ``value`` (the cell) and ``share``
        (the cell over its row sum: the share of the true class that went to
        that prediction), sorted by ``value`` descending, then by position.
        Zero cells are left out.

    Examples
    --------
    >>> cm = np.array([[5, 3, 0], [1, 6, 0], [0, 2, 4]])
    >>> most_confused_pairs(cm, ["yes", "no", "go"], k=2)
      true predicted  value  share
    0  yes        no      3  0.375
    1   go        no      2  0.333
    """
    cm = check_tensor(cm, "cm", ndim=2).double().numpy()
    if cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be square (K, K), got shape {cm.shape}")
    if (cm < 0).any():
        raise ValueError("cm must hold counts or rates >= 0, got a negative entry")
    if isinstance(classes, str) or not isinstance(classes, Sequence) or len(classes) != cm.shape[0]:
        raise ValueError(
            f"classes must be a sequence of {cm.shape[0]} names (one per row of cm), got "
            f"{len(classes) if isinstance(classes, Sequence) and not isinstance(classes, str) else type(classes).__name__}"
        )
    k = check_positive_int(k, "k")
    off = cm.copy()
    np.fill_diagonal(off, 0.0)
    rows, cols = np.nonzero(off)
    values = off[rows, cols]
    order = np.lexsort((cols, rows, -values))[:k]  # largest first, ties by position
    row_sums = cm.sum(axis=1)
    integral = bool(np.all(cm == np.round(cm)))
    out = pd.DataFrame({
        "true": [classes[i] for i in rows[order]],
        "predicted": [classes[j] for j in cols[order]],
        "value": values[order].astype(np.int64) if integral else values[order],
        "share": np.round(values[order] / row_sums[rows[order]], 3),
    })
    return out


def per_slice_accuracy(y_true, y_pred, slices: Sequence, *, overall: bool = True,
                       confidence: float | None = None) -> pd.DataFrame:
    """Accuracy and clip count per slice (device, room, noise condition, speaker...).

    Parameters
    ----------
    y_true, y_pred : torch.Tensor or numpy.ndarray, shape (N,)
        Integer class indices.
    slices : sequence, length N
        The slice label of each clip (e.g. ``metadata["condition"]``).
    overall : bool
        Append an ``"all"`` row: the accuracy over every clip (micro
        average, so large slices weigh more), not the mean of the slice
        accuracies.
    confidence : float, optional
        Add columns ``low`` and ``high``: the Wilson interval
        (:func:`wilson_interval`) of each accuracy at this level (e.g. 0.95).

    Returns
    -------
    pandas.DataFrame
        Index ``slice`` (sorted slice labels, then ``"all"``), columns
        ``accuracy`` and ``n`` (clips in the slice), then ``low`` and
        ``high`` when ``confidence`` is given.

    Examples
    --------
    >>> per_slice_accuracy(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), ["clean", "clean", "noisy", "noisy"])
           accuracy  n
    slice             
    clean       1.0  2
    noisy       0.5  2
    all         0.75  4
    >>> per_slice_accuracy(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), ["a", "a", "b", "b"],
    ...                    confidence=0.95).round(3)
           accuracy  n    low   high
    slice                           
    a          1.00  2  0.342  1.000
    b          0.50  2  0.095  0.905
    all        0.75  4  0.301  0.954
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if isinstance(slices, str) or not hasattr(slices, "__len__"):
        raise TypeError(f"slices must be a sequence of slice labels (one per clip), got {type(slices).__name__}")
    labels = np.asarray(slices, dtype=object)
    if labels.ndim != 1 or labels.shape[0] != y_true.shape[0]:
        raise ValueError(f"slices must hold one label per clip ({y_true.shape[0]}), got shape {labels.shape}")
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in labels):
        raise ValueError("slices contains missing labels (None/NaN); fill them (e.g. 'unknown') first")
    correct = (y_true == y_pred).numpy()
    frame = pd.DataFrame({"slice": labels.astype(str), "correct": correct})
    table = frame.groupby("slice")["correct"].agg(accuracy="mean", n="size")
    table["accuracy"] = table["accuracy"].astype(float)
    if overall:
        table.loc["all"] = [float(correct.mean()), int(correct.size)]
        table["n"] = table["n"].astype(np.int64)
    if confidence is not None:
        k = np.round(table["accuracy"].to_numpy() * table["n"].to_numpy()).astype(np.int64)
        low, high = wilson_interval(k, table["n"].to_numpy(), confidence=confidence)
        table["low"], table["high"] = low, high
    return table


# --------------------------------------------------------------------------- intervals
class Interval(NamedTuple):
    """A measured value with the ends of its confidence interval."""

    estimate: float
    low: float
    high: float


def _confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a level in (0, 1) such as 0.95, got {confidence!r}")
    return float(confidence)


def wilson_interval(k, n, *, confidence: float = 0.95):
    r"""Wilson score interval of a proportion (an accuracy: ``k`` correct out of ``n``).

    With :math:`\hat p = k / n` and :math:`z` the standard-normal quantile of
    :math:`1 - (1 - \text{confidence}) / 2` (1.96 for 95 %):

    .. math::

        \frac{\hat p + \frac{z^2}{2n}}{1 + \frac{z^2}{n}} \pm
        \frac{z}{1 + \frac{z^2}{n}} \sqrt{\frac{\hat p (1 - \hat p)}{n} + \frac{z^2}{4 n^2}}

    It is the set of accuracies :math:`p` that a two-sided score test would
    not reject, so it stays inside [0, 1] and keeps a width at ``k = 0`` or
    ``k = n`` (where the normal-approximation interval collapses to a point).
    Equal to ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``.

    Parameters
    ----------
    k : int or array-like of int
        Successes (correct clips), ``0 <= k <= n``.
    n : int or array-like of int
        Trials (clips), ``n >= 1``; broadcast against ``k``.
    confidence : float
        Level in (0, 1).

    Returns
    -------
    (low, high)
        Floats for scalar input, numpy arrays otherwise.

    Examples
    --------
    >>> [round(v, 3) for v in wilson_interval(20, 25)]
    [0.609, 0.911]
    >>> [round(v, 3) for v in wilson_interval(0, 10)]
    [0.0, 0.278]
    """
    confidence = _confidence(confidence)
    k_arr, n_arr = np.asarray(k), np.asarray(n)
    for name, arr in (("k", k_arr), ("n", n_arr)):
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name} must be integer counts, got dtype {arr.dtype}")
    if (n_arr < 1).any():
        raise ValueError(f"n must be >= 1 (clips in the slice), got {n_arr.min()}")
    if ((k_arr < 0) | (k_arr > n_arr)).any():
        raise ValueError(f"k must lie in [0, n], got k={k!r}, n={n!r}")
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    n_f, p = n_arr.astype(np.float64), k_arr / n_arr.astype(np.float64)
    denom = 1.0 + z * z / n_f
    centre = (p + z * z / (2.0 * n_f)) / denom
    half = z / denom * np.sqrt(p * (1.0 - p) / n_f + z * z / (4.0 * n_f * n_f))
    low = np.where(k_arr == 0, 0.0, np.clip(centre - half, 0.0, 1.0))  # exact ends (no 1e-17 residue)
    high = np.where(k_arr == n_arr, 1.0, np.clip(centre + half, 0.0, 1.0))
    if np.ndim(low) == 0:
        return float(low), float(high)
    return low, high


def paired_accuracy_difference(y_true, pred_a, pred_b, slices: Sequence | None = None, *,
                               confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Accuracy of model A minus model B on the same clips, per slice, with a paired bootstrap interval.

    Both models are scored on the same clips, so most of the sampling noise
    (which clips happen to be hard) is shared: resampling *clips* and
    recomputing ``acc_A - acc_B`` on each resample keeps that pairing, and
    gives a narrower, honest interval for the difference than two separate
    intervals would. Percentile bootstrap, resampled within each slice.

    Parameters
    ----------
    y_true, pred_a, pred_b : torch.Tensor or numpy.ndarray, shape (N,)
        Integer class indices.
    slices : sequence of length N, optional
        Slice of each clip; one table row per slice plus ``"all"``
        (every clip). ``None``: the ``"all"`` row only.
    confidence : float
        Level in (0, 1).
    n_resamples : int
        Bootstrap resamples.
    seed : int
        Seeds the resampling (same seed, same interval).

    Returns
    -------
    pandas.DataFrame
        Index ``slice``; columns ``difference`` (acc_A - acc_B), ``low``,
        ``high`` (the interval's ends) and ``n``.

    Examples
    --------
    >>> y = np.zeros(40, dtype=int)
    >>> a = np.r_[np.zeros(36, dtype=int), np.ones(4, dtype=int)]     # 0.9 correct
    >>> b = np.r_[np.zeros(20, dtype=int), np.ones(20, dtype=int)]    # 0.5 correct
    >>> t = paired_accuracy_difference(y, a, b)
    >>> round(float(t.loc["all", "difference"]), 3), bool(t.loc["all", "low"] > 0.2)
    (0.4, True)
    """
    y_true, pred_a = _pair(y_true, pred_a)
    _, pred_b = _pair(y_true, pred_b)
    confidence = _confidence(confidence)
    n_resamples = check_positive_int(n_resamples, "n_resamples")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {seed!r}")
    diff = ((y_true == pred_a).double() - (y_true == pred_b).double()).numpy()  # per clip: -1, 0 or +1
    if slices is None:
        labels = np.array(["all"] * diff.size, dtype=object)
        groups = []
    else:
        labels = np.asarray(slices, dtype=object)
        if labels.ndim != 1 or labels.shape[0] != diff.size:
            raise ValueError(f"slices must hold one label per clip ({diff.size}), got shape {labels.shape}")
        labels = labels.astype(str)
        groups = sorted(set(labels))
    rng = np.random.default_rng(seed)
    alpha = (1.0 - confidence) / 2.0
    rows = {}
    for name in [*groups, "all"]:
        d = diff if name == "all" else diff[labels == name]
        draws = rng.integers(0, d.size, size=(n_resamples, d.size))  # resample clips (with replacement)
        means = d[draws].mean(axis=1)
        low, high = np.quantile(means, [alpha, 1.0 - alpha])
        rows[name] = {"difference": float(d.mean()), "low": float(low), "high": float(high), "n": int(d.size)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "slice"
    return table
