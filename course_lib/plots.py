"""Plot helpers of the course: each takes ax=None and returns the axes, and leaves showing the figure to the notebook."""
from __future__ import annotations


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

    sizes = np.asarray(sizes)
    train_err, dev_err = np.asarray(train_err, dtype=float), np.asarray(dev_err, dtype=float)
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


def plot_mask(mask, ax=None, *, lengths=None, title="Padding mask (True where valid)"):
    """Show a ``(B, T)`` boolean mask as an image: valid frames dark, padding light.

    Parameters
    ----------
    mask : torch.Tensor or numpy.ndarray, shape (B, T), bool
    ax : matplotlib Axes, optional
    lengths : sequence of int, optional
        Frame counts, written at the end of each row.
    title : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import torch
    >>> ax = plot_mask(torch.tensor([[True, False], [True, True]]), lengths=[1, 2])
    >>> ax.get_ylabel()
    'batch item b'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    m = np.asarray(mask)
    if m.ndim != 2 or m.dtype != bool:
        raise ValueError(f"mask must be a 2-D bool array (B, T), got shape {m.shape} and dtype {m.dtype}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.4 * m.shape[0] + 1.2))
    ax.imshow(m, aspect="auto", cmap="Greys", vmin=0, vmax=1.6, interpolation="nearest")
    if lengths is not None:
        for b, n in enumerate(lengths):
            ax.text(m.shape[1] - 0.5, b, f" {int(n)}", va="center", ha="left", fontsize="small")
    ax.set_xlabel("frame t")
    ax.set_ylabel("batch item b")
    ax.set_title(title)
    return ax


def plot_spectrogram(
    spec_db,
    ax=None,
    *,
    sample_rate=16000,
    hop_length=160,
    y_axis="hz",
    f_max=None,
    title="Spectrogram",
    colorbar=True,
    units="dB",
    vmin=None,
    vmax=None,
    row_start=0,
):
    """Show a ``(n_freq_or_bands, frames)`` spectrogram (already in dB or log units).

    Parameters
    ----------
    spec_db : array-like, shape ``(n_freq, frames)``
        Values to colour (e.g. ``power_to_db(spectrogram(x))``).
    ax : matplotlib Axes, optional
    sample_rate : int
        In Hz; sets the time axis (and the frequency axis when ``y_axis="hz"``).
    hop_length : int
        Samples between frames.
    y_axis : {"hz", "mel", "coef"}
        ``"hz"``: rows are STFT bins from 0 to ``sample_rate / 2``;
        ``"mel"``: rows are mel bands; ``"coef"``: rows are coefficients (MFCC).
    f_max : float, optional
        Upper limit of the frequency axis in Hz (``y_axis="hz"`` only).
    title : str
    colorbar : bool
        Add a colour bar labelled with ``units``.
    units : str
    vmin, vmax : float, optional
        Colour limits.
    row_start : int
        Index of the first row for ``y_axis="mel"`` or ``"coef"`` (e.g. 1 when
        MFCC c0 is left out); rows are centred on their index.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> ax = plot_spectrogram(np.zeros((201, 50)))
    >>> ax.get_ylabel(), ax.get_xlabel()
    ('frequency (Hz)', 'time (s)')
    """
    import matplotlib.pyplot as plt
    import numpy as np

    s = np.asarray(spec_db, dtype=float)
    if s.ndim != 2:
        raise ValueError(f"spec_db must be 2-D (n_freq, frames), got shape {s.shape}")
    if y_axis not in ("hz", "mel", "coef"):
        raise ValueError(f"y_axis must be 'hz', 'mel' or 'coef', got {y_axis!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    seconds = s.shape[1] * hop_length / sample_rate
    if y_axis == "hz":
        low, top = 0.0, sample_rate / 2
    else:
        low, top = row_start - 0.5, row_start + s.shape[0] - 0.5
    image = ax.imshow(s, origin="lower", aspect="auto", extent=(0, seconds, low, top), cmap="magma",
                      vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xlabel("time (s)")
    ax.set_ylabel({"hz": "frequency (Hz)", "mel": "mel band", "coef": "coefficient"}[y_axis])
    if y_axis == "hz" and f_max is not None:
        ax.set_ylim(0, f_max)
    ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=units, pad=0.01)
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

    if not isinstance(paths, dict) or not paths:
        raise ValueError("paths must be a non-empty dict of name -> (steps + 1, 2) array")
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


def plot_energy_decay(rir, sample_rate=16000, ax=None, *, title="Room impulse response: energy decay"):
    """Schroeder energy decay curve of an impulse response, with its measured RT60.

    Parameters
    ----------
    rir : torch.Tensor or numpy.ndarray
        ``(taps,)`` impulse response, e.g. :func:`course_lib.conditions.synthetic_rir`.
    sample_rate : int
        Hz.
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from course_lib.conditions import synthetic_rir
    >>> ax = plot_energy_decay(synthetic_rir(0.4, 16000, seed=0), 16000)
    >>> ax.get_ylabel()
    'energy remaining (dB)'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from course_lib.checks import check_tensor
    from course_lib.conditions import measure_rt60

    h = check_tensor(rir, "rir", ndim=1, floating=True)
    rt60 = measure_rt60(h, sample_rate)
    energy = h.double().pow(2).numpy()
    edc = np.cumsum(energy[::-1])[::-1]
    edc_db = 10 * np.log10(np.maximum(edc / edc[0], 1e-12))
    t = np.arange(edc.shape[0]) / sample_rate
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(t * 1000, edc_db, label=f"Schroeder curve (RT60 = {rt60:.2f} s)")
    ax.axhline(-60, ls="--", c="gray", lw=0.8, label="-60 dB")
    ax.set_ylim(-80, 3)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("energy remaining (dB)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_metadata_counts(metadata, column, ax=None, *, by=None, title=None):
    """Bar chart of how many clips fall in each value of a metadata column.

    Parameters
    ----------
    metadata : pandas.DataFrame
        ``dataset.metadata`` (one row per clip).
    column : str
        What to count, e.g. ``"device"``, ``"room"``, ``"accent"``.
    by : str, optional
        A second column to stack the bars by (e.g. ``"condition"``).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> ax = plot_metadata_counts(pd.DataFrame({"device": ["a", "b", "a"]}), "device")
    >>> ax.get_ylabel()
    'clips'
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    if not isinstance(metadata, pd.DataFrame):
        raise TypeError(f"metadata must be a pandas DataFrame, got {type(metadata).__name__}")
    for col in [column] + ([by] if by is not None else []):
        if col not in metadata.columns:
            raise ValueError(f"metadata has no column {col!r}; columns are {list(metadata.columns)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    if by is None:
        counts = metadata[column].astype(str).value_counts().sort_index()
        ax.bar(counts.index, counts.to_numpy())
    else:
        table = pd.crosstab(metadata[column].astype(str), metadata[by].astype(str))
        bottom = None
        for name in table.columns:
            ax.bar(table.index, table[name].to_numpy(), bottom=bottom, label=name)
            bottom = table[name].to_numpy() if bottom is None else bottom + table[name].to_numpy()
        ax.legend(fontsize="small", title=by)
    ax.set_xlabel(column)
    ax.set_ylabel("clips")
    ax.set_title(title or f"Clips per {column}")
    ax.tick_params(axis="x", labelrotation=45)
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


def plot_ctc_lattice(alpha, states, ax=None, *, frame_s=None, title="CTC forward variables (log alpha)", floor=-60.0):
    """Show the CTC forward lattice: ``log alpha[t, s]`` over frames and extended-label states.

    Parameters
    ----------
    alpha : array-like, shape ``(T, S)``
        Log forward variables of one utterance (``-inf`` where no path reaches a state).
    states : sequence of str
        Names of the ``S`` states (``"-"`` for the blank), bottom to top.
    ax : matplotlib Axes, optional
    frame_s : float, optional
        Seconds per frame; the x axis is in frames when None.
    title : str
    floor : float
        Values below it (and ``-inf``) are drawn at ``floor``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> ax = plot_ctc_lattice(np.zeros((6, 3)), ["-", "a", "-"])
    >>> ax.get_ylabel()
    'extended label state'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    a = np.asarray(alpha, dtype=float)
    if a.ndim != 2 or a.shape[1] != len(states):
        raise ValueError(f"alpha must be (T, S) with S={len(states)} states, got shape {a.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    a = np.where(np.isfinite(a), np.maximum(a, floor), floor)
    T = a.shape[0]
    right = T * frame_s if frame_s else T
    image = ax.imshow(a.T, origin="lower", aspect="auto", cmap="viridis", extent=(0, right, -0.5, len(states) - 0.5),
                      interpolation="nearest")
    ax.set_yticks(range(len(states)))
    ax.set_yticklabels(list(states))
    ax.set_xlabel("time (s)" if frame_s else "frame")
    ax.set_ylabel("extended label state")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label="log alpha (nats)", pad=0.01)
    return ax


def plot_posteriogram(log_probs, labels, ax=None, *, frame_s=None, title="Per-frame CTC outputs", top=None):
    """Per-frame probabilities of each output symbol (rows) over time.

    Parameters
    ----------
    log_probs : array-like, shape ``(T, V)``
    labels : sequence of str
        Names of the ``V`` symbols (the blank as ``"-"``, space as ``"_"`` reads best).
    ax : matplotlib Axes, optional
    frame_s : float, optional
        Seconds per output frame (x axis in frames when None).
    title : str
    top : int, optional
        Show only the ``top`` symbols with the largest peak probability.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> ax = plot_posteriogram(np.log(np.full((5, 3), 1 / 3)), ["-", "a", "b"])
    >>> ax.get_xlabel()
    'frame'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    p = np.exp(np.asarray(log_probs, dtype=float))
    if p.ndim != 2 or p.shape[1] != len(labels):
        raise ValueError(f"log_probs must be (T, V) with V={len(labels)} labels, got shape {p.shape}")
    rows = np.arange(p.shape[1])
    if top is not None:
        rows = np.sort(np.argsort(-p.max(0))[:top])
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    right = p.shape[0] * frame_s if frame_s else p.shape[0]
    image = ax.imshow(p[:, rows].T, origin="lower", aspect="auto", cmap="Greys", vmin=0, vmax=1,
                      extent=(0, right, -0.5, len(rows) - 0.5), interpolation="nearest")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([labels[r] for r in rows])
    ax.set_xlabel("time (s)" if frame_s else "frame")
    ax.set_ylabel("output symbol")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label="probability", pad=0.01)
    return ax


def plot_forced_alignment(spec, path, labels, ax=None, *, hop_s=0.01, subsample=1, blank=0,
                          title="Forced alignment over the log-mel spectrogram"):
    """Draw a CTC forced alignment (one symbol per output frame) over a spectrogram.

    Each run of a non-blank symbol is marked by a shaded span and its label.

    Parameters
    ----------
    spec : array-like, shape ``(n_mels, frames)``
        Log-mel features (input frames).
    path : sequence of int
        Symbol per *output* frame (e.g. from ``ctc_forced_align``).
    labels : sequence of str
        Symbol names.
    ax : matplotlib Axes, optional
    hop_s : float
        Seconds per input frame.
    subsample : int
        Input frames per output frame.
    blank : int
    title : str

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> ax = plot_forced_alignment(np.zeros((40, 20)), [0, 1, 1, 0, 2], ["-", "a", "b"], subsample=4)
    >>> ax.get_xlabel()
    'time (s)'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    s = np.asarray(spec, dtype=float)
    if s.ndim != 2:
        raise ValueError(f"spec must be 2-D (n_mels, frames), got shape {s.shape}")
    path = [int(v) for v in path]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3))
    ax.imshow(s, origin="lower", aspect="auto", cmap="magma", extent=(0, s.shape[1] * hop_s, -0.5, s.shape[0] - 0.5),
              interpolation="nearest")
    step = hop_s * subsample
    t = 0
    k = 0
    while t < len(path):
        end = t
        while end + 1 < len(path) and path[end + 1] == path[t]:
            end += 1
        if path[t] != blank:
            ax.axvspan(t * step, (end + 1) * step, color="cyan" if k % 2 else "lime", alpha=0.25)
            ax.text((t + end + 1) * step / 2, s.shape[0] * 0.85, labels[path[t]], ha="center", va="center",
                    color="white", fontsize=11, fontweight="bold")
            k += 1
        t = end + 1
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    ax.set_title(title)
    return ax
