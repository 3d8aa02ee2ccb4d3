"""Plot helpers for calibration: reliability diagrams with per-bin counts, and confidence histograms.

Each takes ``ax=None``, returns the axes, and leaves showing the figure to the notebook.
"""
from __future__ import annotations

from course_lib.plots import _validate as V

__all__ = ["RELIABILITY_COLORS", "plot_reliability", "plot_confidence_histogram"]

#: Colours of a reliability diagram: opaque and distinct, so no two areas ever blend into a third colour.
RELIABILITY_COLORS = {
    "accuracy": "#4878b0",      # blue: the accuracy of the bin, up to the smaller of accuracy and confidence
    "over": "#d62728",          # red: confidence above accuracy (overconfident)
    "under": "#f2a93b",         # amber: accuracy above confidence (underconfident)
}


def plot_reliability(probs, labels, ax=None, *, n_bins=15, label=None, title="Reliability diagram",
                     show_counts=True):
    """Reliability diagram: accuracy per confidence bin against the diagonal, with the clips per bin.

    Each equal-width confidence bin is one bar whose top is the bin's
    accuracy. The gap to the bin's mean confidence (a black tick) is drawn
    as its own opaque, hatched block: red above the bar where the model is
    overconfident (confidence > accuracy), amber inside the top of the bar
    where it is underconfident (accuracy > confidence). Nothing is
    transparent, so the gap never blends with the bar into an ambiguous
    colour. The number above each bar is how many predictions fall in the
    bin: a bar of 2 clips says little. The dashed diagonal is perfect
    calibration; the legend gives the ECE.

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
    show_counts : bool
        Write the number of predictions above each non-empty bin (default).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import torch
    >>> ax = plot_reliability(torch.tensor([[0.9, 0.1], [0.4, 0.6]]), torch.tensor([0, 0]), n_bins=5)
    >>> ax.get_xlabel(), [t.get_text() for t in ax.texts]
    ('confidence (max probability)', ['1', '1'])
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Patch

    from course_lib.calibration import expected_calibration_error, reliability_bins

    if not isinstance(show_counts, bool):
        raise TypeError(f"show_counts must be a bool, got {type(show_counts).__name__}")
    V.axes(ax)
    bins = reliability_bins(probs, labels, n_bins)
    ece = expected_calibration_error(probs, labels, n_bins)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.2))
    width = 1.0 / n_bins
    used = bins["count"].to_numpy() > 0
    centers = bins["lo"].to_numpy() + width / 2
    acc = np.where(used, bins["accuracy"].to_numpy(), 0.0)
    conf = np.where(used, bins["confidence"].to_numpy(), 0.0)
    counts = bins["count"].to_numpy()
    low = np.minimum(acc, conf)
    over = used & (conf > acc)
    under = used & (acc > conf)
    bar = dict(width=width, edgecolor="black", linewidth=0.6)
    ax.bar(centers[used], low[used], color=RELIABILITY_COLORS["accuracy"], **bar)
    ax.bar(centers[over], (conf - acc)[over], bottom=acc[over], color=RELIABILITY_COLORS["over"], hatch="//", **bar)
    ax.bar(centers[under], (acc - conf)[under], bottom=conf[under], color=RELIABILITY_COLORS["under"],
           hatch="\\\\", **bar)
    ax.scatter(centers[used], conf[used], marker="_", s=120, color="black", zorder=3, linewidths=2)
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    if show_counts:
        for x, top, n in zip(centers[used], np.maximum(acc, conf)[used], counts[used]):
            ax.text(x, min(top + 0.015, 1.02), f"{int(n)}", ha="center", va="bottom", fontsize=7)
    name = f"{label}: " if label else ""
    handles = [
        Patch(facecolor=RELIABILITY_COLORS["accuracy"], edgecolor="black", label=f"{name}accuracy (ECE {ece:.3f})"),
        Patch(facecolor=RELIABILITY_COLORS["over"], edgecolor="black", hatch="//", label="overconfident gap"),
        Patch(facecolor=RELIABILITY_COLORS["under"], edgecolor="black", hatch="\\\\", label="underconfident gap"),
        plt.Line2D([], [], color="black", marker="_", ls="none", markersize=10, markeredgewidth=2,
                   label="mean confidence"),
        plt.Line2D([], [], color="black", ls="--", lw=1, label="perfect calibration"),
    ]
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("confidence (max probability)")
    ax.set_ylabel("accuracy (fraction correct)")
    ax.set_title(title + ("\n(numbers: predictions per bin)" if show_counts else ""), fontsize=10)
    # below the axes: inside, it would hide the bars of some bins
    ax.legend(handles=handles, fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
              frameon=False)
    return ax


def plot_confidence_histogram(confidence, correct, ax=None, *, bins=20, title="Confidence of right and wrong answers"):
    """Side-by-side histograms of the confidence of correct and wrong predictions.

    Parameters
    ----------
    confidence : array-like, shape (N,)
        Max probability of each prediction, in [0, 1].
    correct : array-like of bool, shape (N,)
    ax : matplotlib Axes, optional
    bins : int
        Equal-width bins over [0, 1].
    title : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_confidence_histogram([0.9, 0.8, 0.3], [True, False, False], bins=5)
    >>> ax.get_ylabel()
    'predictions'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    conf = V.array(confidence, "confidence", nan=True, nonempty=False).reshape(-1)  # NaN: the range check below
    ok = np.asarray(correct).reshape(-1)
    V.axes(ax)
    if ok.dtype != bool:
        raise TypeError(f"correct must be booleans, got dtype {ok.dtype}")
    if conf.shape != ok.shape:
        raise ValueError(f"confidence {conf.shape} and correct {ok.shape} must have the same length")
    if conf.size and (np.nanmin(conf) < 0 or np.nanmax(conf) > 1 or np.isnan(conf).any()):
        raise ValueError("confidence must lie in [0, 1] (max softmax probabilities)")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    edges = np.linspace(0, 1, bins + 1)
    ax.hist([conf[ok], conf[~ok]], bins=edges, color=[RELIABILITY_COLORS["accuracy"], RELIABILITY_COLORS["over"]],
            edgecolor="black", linewidth=0.5, label=[f"correct ({int(ok.sum())})", f"wrong ({int((~ok).sum())})"])
    ax.set_xlim(0, 1)
    ax.set_xlabel("confidence (max probability)")
    ax.set_ylabel("predictions")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax
