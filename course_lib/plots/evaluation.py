"""Plot helpers for evaluation: reliability diagrams and confusion matrices: each takes ``ax=None``, returns the axes, and leaves showing the figure to the notebook.
"""
from __future__ import annotations


__all__ = [
    "plot_reliability",
    "plot_confusion_matrix",
]

def plot_reliability(probs, labels, ax=None, *, n_bins=15, label=None, title="Reliability diagram"):
    """Reliability diagram: accuracy per confidence bin against the diagonal.

    Bars show each equal-width bin's accuracy; the shaded part between a bar
    and its mean confidence is the gap (above the bar: overconfident). The
    dashed diagonal is perfect calibration. The legend gives the ECE.

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray, shape (N, C)
        Predicted probabilities (rows sum to 1).
    labels : torch.Tensor or numpy.ndarray, shape (N,), integer
    ax : matplotlib Axes, optional
    n_bins : int
        Equal-width confidence bins (default 15), as in
        :func:`course_lib.calibration.reliability_bins`.
    label : str, optional
        Name of this model/slice in the legend.
    title : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import torch
    >>> ax = plot_reliability(torch.tensor([[0.9, 0.1], [0.4, 0.6]]), torch.tensor([0, 0]), n_bins=5)
    >>> ax.get_xlabel()
    'confidence (max probability)'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from course_lib.calibration import expected_calibration_error, reliability_bins

    bins = reliability_bins(probs, labels, n_bins)
    ece = expected_calibration_error(probs, labels, n_bins)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    width = 1.0 / n_bins
    used = bins["count"].to_numpy() > 0
    centers = bins["lo"].to_numpy() + width / 2
    acc = np.where(used, bins["accuracy"].to_numpy(), 0.0)
    conf = np.where(used, bins["confidence"].to_numpy(), 0.0)
    name = f"{label}: " if label else ""
    ax.bar(centers, acc, width=width, edgecolor="black", linewidth=0.5, alpha=0.8,
           label=f"{name}accuracy (ECE {ece:.3f})")
    ax.bar(centers[used], (conf - acc)[used], bottom=acc[used], width=width, color="tab:red",
           alpha=0.3, edgecolor="tab:red", hatch="//", label="gap to confidence")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (max probability)")
    ax.set_ylabel("accuracy (fraction correct)")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper left")
    return ax


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
