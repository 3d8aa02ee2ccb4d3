"""Plot helpers for evaluation: reliability diagrams and confusion matrices: each takes ``ax=None``, returns the axes, and leaves showing the figure to the notebook.
"""
from __future__ import annotations


__all__ = [
    "plot_confusion_matrix",
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

    cm = np.asarray(cm, dtype=float)
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
