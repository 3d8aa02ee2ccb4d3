"""Plot helpers for training: learning curves, loss surfaces with optimizer paths, histories, curves: each takes ``ax=None``, returns the axes, and leaves showing the figure to the notebook.
"""
from __future__ import annotations

from course_lib.plots import _validate as V


__all__ = [
    "plot_learning_curve",
    "plot_loss_surface_paths",
    "plot_history",
    "plot_curves",
    "plot_gradient_clipping",
]

def plot_learning_curve(sizes, train_err, dev_err, ax=None, *, target_error=None, title="Learning curve"):
    """Train and dev error against the number of training examples (log x axis).

    Parameters
    ----------
    sizes : sequence of int
        Training-set sizes.
    train_err, dev_err : sequence of float
        Error rates (fractions) at each size, e.g. from
        :func:`course_lib.generalization.learning_curve`.
    ax : matplotlib Axes, optional
    target_error : float, optional
        Draws the Bayes/human-level proxy as a dashed line.
    title : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_learning_curve([10, 100], [0.0, 0.05], [0.5, 0.2])
    >>> ax.get_xlabel()
    'training examples (log scale)'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    sizes = V.array(sizes, "sizes", kind="number", nonempty=False)
    if sizes.size and (sizes <= 0).any():
        raise ValueError(f"sizes must be positive training-set sizes (log x axis), got {sizes.tolist()}")
    train_err = V.array(train_err, "train_err", nonempty=False)
    dev_err = V.array(dev_err, "dev_err", nonempty=False)
    V.axes(ax)
    V.number(target_error, "target_error", allow_none=True)
    if sizes.ndim != 1 or train_err.shape != sizes.shape or dev_err.shape != sizes.shape or sizes.size == 0:
        raise ValueError(
            f"sizes, train_err and dev_err must be 1-D of the same non-zero length, "
            f"got shapes {sizes.shape}, {train_err.shape}, {dev_err.shape}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(sizes, train_err, "o-", label="train error")
    ax.plot(sizes, dev_err, "s-", label="dev error")
    ax.fill_between(sizes, train_err, dev_err, alpha=0.12, label="variance gap")
    if target_error is not None:
        ax.axhline(target_error, ls="--", c="gray", label="target (Bayes proxy)")
    ax.set_xscale("log")
    ax.set_xlabel("training examples (log scale)")
    ax.set_ylabel("error rate (fraction)")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return ax


def plot_loss_surface_paths(
    surface,
    paths,
    ax=None,
    *,
    xlim=(-5.0, 5.0),
    ylim=(-2.0, 2.0),
    levels=30,
    minimum=None,
    title="Optimizer paths on a loss surface",
):
    """Contours of a 2-D loss surface with the path of each optimizer drawn on top.

    Parameters
    ----------
    surface : callable
        Maps a ``(..., 2)`` float tensor to the loss ``(...)`` (e.g.
        ``course_lib.optim.ravine``).
    paths : dict of str to ndarray, shape (steps + 1, 2)
        The points each optimizer visited (``course_lib.optim.optimize_path``).
    ax : matplotlib Axes, optional
    xlim, ylim : (float, float)
        The window drawn (parameter units).
    levels : int
        Number of contour levels (log-spaced in the loss).
    minimum : (float, float), optional
        Where to mark the minimum with a star.
    title : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> from course_lib.optim import ravine
    >>> ax = plot_loss_surface_paths(ravine, {"sgd": np.array([[-4.0, 1.0], [-3.0, 0.5]])})
    >>> ax.get_xlabel()
    'parameter x'
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    if not callable(surface):
        raise TypeError(f"surface must be a callable (..., 2) tensor -> loss, e.g. course_lib.optim.ravine, "
                        f"got {type(surface).__name__}")  # fmt: skip
    if not isinstance(paths, dict) or not paths:
        raise ValueError("paths must be a non-empty dict of name -> (steps + 1, 2) array")
    V.named_arrays(paths, "paths", ndim=2)
    V.axes(ax)
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
        raise ValueError(f"levels must be an int >= 2, got {levels!r}")
    for name, window in (("xlim", xlim), ("ylim", ylim)):
        window = V.array(window, name, ndim=1)
        if window.shape != (2,) or not window[0] < window[1]:
            raise ValueError(f"{name} must be a pair (low, high) with low < high, got {window.tolist()}")
    if minimum is not None and V.array(minimum, "minimum", ndim=1).shape != (2,):
        raise ValueError(f"minimum must be a point (x, y), got {minimum!r}")
    for name, path in paths.items():
        path = np.asarray(path)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(f"path {name!r} must have shape (steps + 1, 2), got {path.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    xs = np.linspace(*xlim, 200)
    ys = np.linspace(*ylim, 200)
    grid = torch.tensor(np.stack(np.meshgrid(xs, ys), axis=-1))  # (Y, X, 2)
    with torch.no_grad():
        z = surface(grid).numpy()
    z = z - z.min() + 1e-3
    ax.contour(xs, ys, z, levels=np.geomspace(z.min(), z.max(), levels), cmap="Greys", linewidths=0.6)
    for name, path in paths.items():
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1.2, label=name)
    if minimum is not None:
        ax.plot([minimum[0]], [minimum[1]], "k*", ms=12, label="minimum")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("parameter x")
    ax.set_ylabel("parameter y")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper right")
    return ax


def plot_history(history, ax=None, *, metric="loss", mark_best=False, title="Training history"):
    """Per-epoch train (and dev, when present) loss, accuracy or error of a run.

    Parameters
    ----------
    history : course_lib.training.History
    ax : matplotlib Axes, optional
    metric : {"loss", "acc", "error"}
        ``"error"`` plots ``1 - accuracy``.
    mark_best : bool
        Draw a dotted line at the epoch with the best dev value.
    title : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from course_lib.training import History
    >>> ax = plot_history(History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.8]))
    >>> ax.get_ylabel()
    'cross-entropy (nats)'
    >>> h = History(train_acc=[0.5, 0.9], dev_acc=[0.5, 0.7], train_loss=[1, .2], dev_loss=[1, .6])
    >>> plot_history(h, metric="error", mark_best=True).get_ylabel()
    'error rate (fraction)'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if metric not in ("loss", "acc", "error"):
        raise ValueError(f"metric must be 'loss', 'acc' or 'error', got {metric!r}")
    if not all(hasattr(history, f"{s}_{m}") for s in ("train", "dev") for m in ("loss", "acc")):
        raise TypeError(f"history must be a course_lib.training.History (train_loss, dev_loss, ...), "
                        f"got {type(history).__name__}")  # fmt: skip
    V.axes(ax)
    source = "acc" if metric == "error" else metric
    train = np.asarray(getattr(history, f"train_{source}"), dtype=float)
    dev = np.asarray(getattr(history, f"dev_{source}"), dtype=float)
    if metric == "error":
        train, dev = 1.0 - train, 1.0 - dev
    if train.size == 0:
        raise ValueError("history is empty: train for at least one epoch")
    if mark_best and dev.size == 0:
        raise ValueError("mark_best needs dev values (train with dev=(X_dev, y_dev))")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    epochs = np.arange(1, train.size + 1)
    ax.plot(epochs, train, "o-", ms=3, label=f"train {metric}")
    if dev.size:
        ax.plot(epochs[: dev.size], dev, "s-", ms=3, label=f"dev {metric}")
    if mark_best:
        best = int(np.argmax(dev) if metric == "acc" else np.argmin(dev))
        ax.axvline(best + 1, ls=":", c="gray", label=f"best dev epoch ({best + 1})")
    ylabels = {"loss": "cross-entropy (nats)", "acc": "accuracy (fraction)", "error": "error rate (fraction)"}
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabels[metric])
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_curves(curves, ax=None, *, xlabel="step", ylabel="loss", title="", logy=False, x=None):
    """Several named curves on one axes (loss per step of several runs, LR schedules...).

    Parameters
    ----------
    curves : dict of str to 1-D array
    ax : matplotlib Axes, optional
    xlabel, ylabel, title : str
        Labels with units.
    logy : bool
        Logarithmic y axis.
    x : 1-D array, optional
        Shared x values (default: 0, 1, 2, ...).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_curves({"a": [3, 2, 1], "b": [3, 1, 0.5]}, ylabel="loss (nats)", logy=True)
    >>> ax.get_yscale()
    'log'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves must be a non-empty dict of name -> 1-D array")
    V.named_arrays(curves, "curves", ndim=1, nan=True, inf=True)  # a diverged run may hold NaN
    V.axes(ax)
    if x is not None:
        V.array(x, "x", ndim=1, kind="number")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 1:
            raise ValueError(f"curve {name!r} must be 1-D, got shape {values.shape}")
        xs = np.arange(values.size) if x is None else np.asarray(x)[: values.size]
        ax.plot(xs, values, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_gradient_clipping(step_loss, step_grad_norm, clip_norm, axes=None, *, clipped=None, chance=None):
    """The mechanism of gradient clipping, step by step: loss, gradient norm, threshold.

    Left: the mini-batch loss of every run per step (log scale), with the
    step where a run's loss first became non-finite marked. Right: each
    run's global gradient norm *before* clipping, the threshold ``clip_norm``
    and, for the ``clipped`` run, the norm actually applied
    (``min(norm, clip_norm)``).

    Parameters
    ----------
    step_loss, step_grad_norm : dict of str to 1-D array
        Per-step values of each run (``History.step_loss``,
        ``History.step_grad_norm``), the same names in both.
    clip_norm : float
        The threshold (drawn as a horizontal line).
    axes : pair of matplotlib Axes, optional
    clipped : str, optional
        The name of the run trained with clipping.
    chance : float, optional
        A reference loss drawn dashed (e.g. ``log K``, the loss of a uniform guess).

    Returns
    -------
    numpy.ndarray of matplotlib Axes, shape (2,)

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> axes = plot_gradient_clipping({"a": [3.0, 2.0, float("nan")], "b": [3.0, 2.0, 1.0]},
    ...                               {"a": [1.0, 50.0, float("nan")], "b": [1.0, 3.0, 2.0]}, 2.0, clipped="b")
    >>> axes[1].get_ylabel()
    'global gradient norm'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if not isinstance(step_loss, dict) or not step_loss or set(step_loss) != set(step_grad_norm or {}):
        raise ValueError("step_loss and step_grad_norm must be non-empty dicts with the same run names")
    if isinstance(clip_norm, bool) or not isinstance(clip_norm, (int, float)) or not clip_norm > 0:
        raise ValueError(f"clip_norm must be a number > 0, got {clip_norm!r}")
    V.named_arrays(step_loss, "step_loss", ndim=1, nan=True, inf=True)  # a diverged run holds NaN/inf
    V.named_arrays(step_grad_norm, "step_grad_norm", ndim=1, nan=True, inf=True)
    V.number(chance, "chance", allow_none=True)
    if clipped is not None and clipped not in step_loss:
        raise ValueError(f"clipped must name one of the runs {sorted(step_loss)}, got {clipped!r}")
    if axes is not None and (np.asarray(axes, dtype=object).size != 2
                             or not all(hasattr(a, "plot") for a in np.asarray(axes, dtype=object).reshape(-1))):
        raise TypeError(f"axes must be a pair of matplotlib Axes or None, got {type(axes).__name__}")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    axes = np.asarray(axes).reshape(-1)
    for i, name in enumerate(step_loss):
        colour = f"C{i}"
        loss = np.asarray(step_loss[name], dtype=float)
        norm = np.asarray(step_grad_norm[name], dtype=float)
        if loss.ndim != 1 or norm.shape != loss.shape:
            raise ValueError(f"run {name!r}: step_loss and step_grad_norm must be 1-D of one length")
        steps = np.arange(loss.size)
        axes[0].plot(steps, np.where(np.isfinite(loss), loss, np.nan), color=colour, lw=1, label=name)
        axes[1].plot(steps, np.where(np.isfinite(norm), norm, np.nan), color=colour, lw=1, label=f"{name}: before clipping")
        bad = np.flatnonzero(~np.isfinite(loss))
        if bad.size:
            last = loss[np.isfinite(loss)]
            axes[0].plot([bad[0]], [last.max() if last.size else 1.0], "x", color=colour, ms=9,
                         label=f"{name}: loss not finite from step {bad[0]}")
        if name == clipped:
            axes[1].plot(steps, np.minimum(norm, clip_norm), color="C2", lw=1.4, ls="--",
                         label=f"{name}: applied (after clipping)")
    axes[1].axhline(clip_norm, color="k", lw=1.2, ls=":", label=f"threshold c = {clip_norm:g}")
    if chance is not None:
        axes[0].axhline(chance, color="gray", lw=1, ls="--", label=f"chance (log K = {chance:.2f})")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("optimiser step")
        ax.legend(fontsize="x-small")
    axes[0].set_ylabel("mini-batch cross-entropy (nats)")
    axes[0].set_title("Loss per step")
    axes[1].set_ylabel("global gradient norm")
    axes[1].set_title("Gradient norm per step")
    return axes
