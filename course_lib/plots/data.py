"""Plot helpers for data: padding masks and metadata counts: each takes ``ax=None``, returns the axes, and leaves showing the figure to the notebook.
"""
from __future__ import annotations

from course_lib.plots import _validate as V


__all__ = [
    "plot_mask",
    "plot_metadata_counts",
]

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

    if mask is None or isinstance(mask, (str, bytes, dict)):
        raise TypeError(f"mask must be a 2-D bool array (B, T), got {type(mask).__name__}")
    m = np.asarray(mask.detach().cpu() if hasattr(mask, "detach") else mask)
    V.axes(ax)
    if m.ndim != 2 or m.dtype != bool:
        raise ValueError(f"mask must be a 2-D bool array (B, T), got shape {m.shape} and dtype {m.dtype}")
    if lengths is not None:
        lengths = V.array(lengths, "lengths", ndim=1, kind="int")
        if lengths.shape[0] != m.shape[0] or lengths.min() < 0 or lengths.max() > m.shape[1]:
            raise ValueError(f"lengths must hold one frame count in [0, T] per row of mask {m.shape}, "
                             f"got {lengths.tolist()}")  # fmt: skip
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
    if len(metadata) == 0:
        raise ValueError("metadata is empty; expected at least one clip")
    V.axes(ax)
    for col in [column] + ([by] if by is not None else []):
        if col not in metadata.columns:
            arg = "column" if col == column else "by"
            raise ValueError(f"metadata has no column {col!r} (the {arg} argument); columns are {list(metadata.columns)}")
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
