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
  noise condition...), plus the overall row.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from course_lib.checks import check_positive_int, check_tensor

__all__ = ["accuracy", "confusion_matrix", "most_confused_pairs", "per_slice_accuracy"]

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
    top = max(int(y_true.max()), int(y_pred.max()))
    if top >= k:
        raise ValueError(f"labels must lie in [0, {k - 1}] for n_classes={k}, got a label {top}")
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


def per_slice_accuracy(y_true, y_pred, slices: Sequence, *, overall: bool = True) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame
        Index ``slice`` (sorted slice labels, then ``"all"``), columns
        ``accuracy`` and ``n`` (clips in the slice).

    Examples
    --------
    >>> per_slice_accuracy(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), ["clean", "clean", "noisy", "noisy"])
           accuracy  n
    slice             
    clean       1.0  2
    noisy       0.5  2
    all         0.75  4
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
    return table
