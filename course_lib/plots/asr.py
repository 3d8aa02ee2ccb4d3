"""Plot helpers for ASR: CTC lattices, posteriograms and forced alignments: each takes ``ax=None``, returns the axes, and leaves showing the figure to the notebook.
"""
from __future__ import annotations

from course_lib.plots import _validate as V


__all__ = [
    "plot_ctc_lattice",
    "plot_posteriogram",
    "plot_forced_alignment",
]

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

    states = V.names(states, "states")
    a = V.array(alpha, "alpha", ndim=2, inf="-")  # log alpha: -inf where no path reaches
    V.axes(ax)
    V.number(floor, "floor")
    V.number(frame_s, "frame_s", positive=True, allow_none=True)
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

    labels = V.names(labels, "labels")
    p = np.exp(V.array(log_probs, "log_probs", ndim=2, inf="-"))
    V.axes(ax)
    V.number(frame_s, "frame_s", positive=True, allow_none=True)
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ValueError(f"top must be a positive int or None, got {top!r}")
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

    s = V.array(spec, "spec", inf="-")
    if s.ndim != 2:
        raise ValueError(f"spec must be 2-D (n_mels, frames), got shape {s.shape}")
    labels = V.names(labels, "labels")
    path = [int(v) for v in V.array(path, "path", ndim=1, kind="int", nonempty=False)]
    if any(not 0 <= v < len(labels) for v in path):
        raise ValueError(f"path must hold label ids in [0, {len(labels) - 1}] (one name per id in labels), "
                         f"got values in [{min(path)}, {max(path)}]")  # fmt: skip
    V.axes(ax)
    V.number(hop_s, "hop_s", positive=True)
    if isinstance(subsample, bool) or not isinstance(subsample, int) or subsample < 1:
        raise ValueError(f"subsample must be a positive int, got {subsample!r}")
    if isinstance(blank, bool) or not isinstance(blank, int):
        raise TypeError(f"blank must be an int (the blank's id), got {type(blank).__name__}")
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
