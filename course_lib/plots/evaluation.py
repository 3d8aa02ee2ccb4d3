"""Plot helpers for evaluation: confusion matrices, per-slice accuracies with intervals and few-shot curves: each takes ``ax=None``, returns the axes, and leaves showing the figure to the notebook.
"""
from __future__ import annotations

from course_lib.plots import _validate as V


__all__ = [
    "plot_confusion_matrix",
    "plot_slice_accuracy",
    "plot_few_shot",
]


def plot_confusion_matrix(cm, classes, ax=None, *, normalize=True, title="Confusion matrix", annotate=None):
    """Show a confusion matrix ``cm[true, predicted]`` as an image (rows: truth, columns: prediction).

    Parameters
    ----------
    cm : array-like, shape (K, K)
        Counts (as :func:`course_lib.metrics.confusion_matrix` returns them).
    classes : sequence of str
        The ``K`` class names.
    ax : matplotlib Axes, optional
    normalize : bool
        Colour by the share of each true class (row-normalised), so rare and
        frequent classes read alike; the annotations stay counts.
    title : str
    annotate : bool, optional
        Write the counts in the cells (default: when ``K <= 12``).

    Examples
    --------
    >>> import numpy as np
    >>> ax = plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["yes", "no"])
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('predicted class', 'true class')
    """
    import matplotlib.pyplot as plt
    import numpy as np

    cm = V.array(cm, "cm")
    classes = V.names(classes, "classes")
    V.axes(ax)
    if annotate is not None and not isinstance(annotate, bool):
        raise TypeError(f"annotate must be a bool or None (auto), got {type(annotate).__name__}")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool, got {type(normalize).__name__}")
    if (cm < 0).any():
        raise ValueError("cm must hold counts >= 0 (confusion_matrix without normalize)")
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square (K, K) matrix, got shape {cm.shape}")
    if len(classes) != cm.shape[0]:
        raise ValueError(f"classes must name the {cm.shape[0]} rows of cm, got {len(classes)} names")
    if ax is None:
        size = max(4.0, 0.38 * cm.shape[0] + 2.0)
        _, ax = plt.subplots(figsize=(size + 1.0, size))
    rows = cm.sum(axis=1, keepdims=True)
    shown = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0) if normalize else cm
    image = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=1.0 if normalize else None)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                       label="share of the true class" if normalize else "clips")
    ticks = np.arange(cm.shape[0])
    ax.set_xticks(ticks, labels=list(classes), rotation=90)
    ax.set_yticks(ticks, labels=list(classes))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    if annotate is None:
        annotate = cm.shape[0] <= 12
    if annotate:
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                if cm[i, j]:
                    ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=8,
                            color="white" if shown[i, j] > 0.5 * (shown.max() or 1) else "black")
    return ax


def plot_slice_accuracy(tables, ax=None, *, title="Accuracy per slice", drop=("all",), xlabel="test slice"):
    """Grouped bars: the accuracy of several runs on each slice, with their confidence intervals.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Run name -> table indexed by slice with columns ``accuracy``, ``low``
        and ``high`` (:func:`course_lib.metrics.per_slice_accuracy` with
        ``confidence=``); the first table's slices set the order.
    ax : matplotlib Axes, optional
    title : str
    drop : tuple of str
        Slices left out (the ``all`` row by default).
    xlabel : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"accuracy": [0.8, 0.5], "low": [0.6, 0.3], "high": [0.9, 0.7]}, index=["clean", "far"])
    >>> ax = plot_slice_accuracy({"run A": t, "run B": t})
    >>> len(ax.patches), ax.get_ylabel()
    (4, 'accuracy (95 % interval)')
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if not hasattr(tables, "items") or not tables:
        raise ValueError("tables must be a non-empty mapping of run name -> per-slice table")
    V.axes(ax)
    if isinstance(drop, str) or not isinstance(drop, (tuple, list, set, frozenset)):
        raise TypeError(f"drop must be a tuple of slice names to leave out, got {type(drop).__name__}")
    for name, t in tables.items():
        missing = {"accuracy", "low", "high"} - set(getattr(t, "columns", []))
        if missing:
            raise ValueError(f"table {name!r} lacks columns {sorted(missing)}; use per_slice_accuracy(..., confidence=0.95)")
    slices = [s for s in next(iter(tables.values())).index if s not in drop]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.5))
    width = 0.8 / len(tables)
    x = np.arange(len(slices))
    for k, (name, t) in enumerate(tables.items()):
        acc = t.loc[slices, "accuracy"].to_numpy(float)
        err = np.stack([acc - t.loc[slices, "low"].to_numpy(float), t.loc[slices, "high"].to_numpy(float) - acc])
        ax.bar(x + (k - (len(tables) - 1) / 2) * width, acc, width, yerr=err, capsize=2, label=name,
               error_kw={"elinewidth": 0.8})
    ax.set_xticks(x, labels=slices)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (95 % interval)")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_few_shot(results, ax=None, *, title="Few labels: accuracy per model"):
    """Accuracy against labelled clips per class, one line per model (mean over draws, each draw a dot).

    Parameters
    ----------
    results : pandas.DataFrame
        Columns ``labels_per_class``, ``model``, ``accuracy`` (one row per
        draw), as :func:`course_lib.models.few_shot_transfer` returns.
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"labels_per_class": [5, 5, 20, 20], "model": ["a"] * 4, "accuracy": [0.4, 0.5, 0.7, 0.8]})
    >>> ax = plot_few_shot(r)
    >>> ax.get_xlabel(), len(ax.lines)
    ('labelled clips per class', 1)
    """
    import matplotlib.pyplot as plt

    import pandas as pd

    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame (few_shot_transfer's table), got {type(results).__name__}")
    V.axes(ax)
    missing = {"labels_per_class", "model", "accuracy"} - set(getattr(results, "columns", []))
    if missing:
        raise ValueError(f"results lacks columns {sorted(missing)} (use few_shot_transfer's table)")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    for k, (name, group) in enumerate(results.groupby("model", sort=False)):
        colour = f"C{k}"
        mean = group.groupby("labels_per_class")["accuracy"].mean()
        ax.plot(mean.index, mean.to_numpy(), marker="o", color=colour, label=f"{name} (mean)")
        ax.scatter(group["labels_per_class"], group["accuracy"], color=colour, alpha=0.35, s=14)
    ax.set_xticks(sorted(results["labels_per_class"].unique()))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("labelled clips per class")
    ax.set_ylabel("test accuracy (dots: draws)")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
