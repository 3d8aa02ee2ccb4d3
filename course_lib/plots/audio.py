"""Plot helpers for audio: spectrograms and room energy decay: each takes ``ax=None``, returns the axes, and leaves showing the figure to the notebook.
"""
from __future__ import annotations

from course_lib.plots import _validate as V


__all__ = [
    "plot_spectrogram",
    "plot_energy_decay",
]

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

    s = V.array(spec_db, "spec_db", inf="-")
    V.axes(ax)
    from course_lib.checks import check_positive_int, check_sample_rate

    check_sample_rate(sample_rate)
    check_positive_int(hop_length, "hop_length")
    V.number(f_max, "f_max", positive=True, allow_none=True)
    V.number(vmin, "vmin", allow_none=True)
    V.number(vmax, "vmax", allow_none=True)
    V.number(row_start, "row_start")
    if not isinstance(colorbar, bool):
        raise TypeError(f"colorbar must be a bool, got {type(colorbar).__name__}")
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


def plot_energy_decay(rir, sample_rate=16000, ax=None, *, title="Room impulse response: energy decay"):
    """Schroeder energy decay curve of an impulse response, with its measured RT60.

    Parameters
    ----------
    rir : torch.Tensor or numpy.ndarray
        ``(taps,)`` impulse response, e.g. :func:`course_lib.data.rooms.synthetic_rir`.
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
    >>> from course_lib.data.rooms import synthetic_rir
    >>> ax = plot_energy_decay(synthetic_rir(0.4, 16000, seed=0), 16000)
    >>> ax.get_ylabel()
    'energy remaining (dB)'
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from course_lib.checks import check_tensor
    from course_lib.data.rooms import measure_rt60

    h = check_tensor(rir, "rir", ndim=1, floating=True)
    V.axes(ax)
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
