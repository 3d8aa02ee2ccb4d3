"""Feature and activation normalisation: pooling, a train-only standardizer, CMVN, RMSNorm.

* :func:`mean_std_pool` turns ``(B, T, F)`` frames into ``(B, 2F)`` clip vectors.
* :class:`Standardizer`: feature normalisation with **dataset statistics**
  fitted on the training split only (scikit-learn style).
* Cepstral/log-mel mean and variance normalisation (CMVN) of frames
  ``(..., F, T)``, by whose statistics are used:

  - per utterance (:func:`cmvn_stats`, :func:`utterance_cmvn`): each clip's
    own frames, so nothing from another clip can leak in; needs the whole
    utterance before the first frame is normalised;
  - per speaker (:func:`speaker_stats`, :func:`speaker_cmvn`): all frames of
    the speaker's utterances (Kaldi's ``apply-cmvn --utt2spk``); at test time
    this needs other audio of the same speaker (enrolment);
  - causal, for streaming (:func:`causal_cmvn`, :class:`RunningCMVN`,
    :func:`stream_means`): exponentially decaying running statistics of the
    frames heard so far, started from the training statistics.

  :func:`subtract_band_means` applies a per-band mean removal to the clip
  vectors of :func:`course_lib.mel.clip_features`.
* :func:`rms_norm` and :class:`RMSNorm` (a from-scratch twin of ``torch.nn.RMSNorm``).
"""
from __future__ import annotations

from typing import Sequence
import torch
from torch import Tensor, nn
from course_lib.checks import check_lengths, check_positive_int, check_tensor
import math

__all__ = [
    "mean_std_pool",
    "Standardizer",
    "cmvn_stats",
    "apply_cmvn",
    "utterance_cmvn",
    "speaker_stats",
    "speaker_cmvn",
    "causal_cmvn",
    "RunningCMVN",
    "stream_means",
    "subtract_band_means",
    "RMSNorm",
    "rms_norm",
]

# --------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------

def mean_std_pool(features: Tensor) -> Tensor:
    """Clip-level summary of frame features: each band's mean and std over time.

    Turns spectral features ``(..., n_mels, frames)`` into a fixed-size
    vector ``(..., 2 * n_mels)`` (means first, then standard deviations), the
    input of the minimal classifier template.

    Examples
    --------
    >>> x = torch.tensor([[[1.0, 3.0], [2.0, 2.0]]])  # (1, n_mels=2, frames=2)
    >>> mean_std_pool(x).tolist()
    [[2.0, 2.0, 1.0, 0.0]]
    """
    features = check_tensor(features, "features", min_ndim=2, floating=True)
    if features.shape[-1] < 2:
        raise ValueError(f"features must have at least 2 frames (last axis), got shape {tuple(features.shape)}")
    mean = features.mean(dim=-1)  # (..., n_mels, frames) -> (..., n_mels)
    std = features.std(dim=-1, unbiased=False)
    return torch.cat([mean, std], dim=-1)  # (..., 2 * n_mels)


def _check_float(value, name: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if not positive and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return float(value)


class Standardizer:
    """Zero-mean, unit-variance features, with statistics from ``fit`` only.

    Fit it on the training split; apply the same ``mean_`` and ``std_`` to
    dev, test and serving inputs. Statistics are taken over every axis but
    the last (features), so ``(N, F)`` and ``(B, T, F)`` both work.

    Parameters
    ----------
    eps : float
        Floor on the standard deviation (constant features stay finite).

    Attributes
    ----------
    mean_, std_ : Tensor, shape (F,)

    Examples
    --------
    >>> s = Standardizer().fit(torch.tensor([[0.0, 10.0], [2.0, 30.0]]))
    >>> s.mean_.tolist(), s.std_.tolist()
    ([1.0, 20.0], [1.0, 10.0])
    >>> s.transform(torch.tensor([[1.0, 40.0]])).tolist()
    [[0.0, 2.0]]
    """

    def __init__(self, eps: float = 1e-8):
        self.eps = _check_float(eps, "eps", positive=True)

    def fit(self, X) -> "Standardizer":
        X = check_tensor(X, "X", min_ndim=2, floating=True)
        flat = X.reshape(-1, X.shape[-1])  # (..., F) -> (N, F)
        if flat.shape[0] < 2:
            raise ValueError(f"X must hold at least 2 examples to estimate a std, got shape {tuple(X.shape)}")
        self.mean_ = flat.mean(dim=0)
        self.std_ = flat.std(dim=0, unbiased=False).clamp_min(self.eps)
        return self

    def _check_fitted(self, X) -> Tensor:
        if not hasattr(self, "mean_"):
            raise RuntimeError("Standardizer is not fitted yet: call fit(X_train) first")
        X = check_tensor(X, "X", min_ndim=1, floating=True)
        if X.shape[-1] != self.mean_.shape[0]:
            raise ValueError(f"X must have {self.mean_.shape[0]} features (last axis), got shape {tuple(X.shape)}")
        return X

    def transform(self, X) -> Tensor:
        X = self._check_fitted(X)
        return (X - self.mean_.to(X.dtype)) / self.std_.to(X.dtype)

    def fit_transform(self, X) -> Tensor:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> Tensor:
        Z = self._check_fitted(Z)
        return Z * self.std_.to(Z.dtype) + self.mean_.to(Z.dtype)


# --------------------------------------------------------------------------
# CMVN: per utterance, per speaker, causal (streaming)
# --------------------------------------------------------------------------

def _check_frames(x, name: str = "x", *, ndim=None) -> Tensor:
    x = check_tensor(x, name, min_ndim=2, floating=True) if ndim is None else check_tensor(x, name, ndim=ndim, floating=True)
    return x


def _valid_mask(x: Tensor, lengths) -> Tensor | None:
    """``(B, 1, T)`` mask, True on valid frames; ``None`` when every frame is valid."""
    if lengths is None:
        return None
    if x.ndim != 3:
        raise ValueError(f"lengths needs x of shape (B, F, T), got shape {tuple(x.shape)}")
    lengths = check_lengths(lengths, x.shape[0], x.shape[-1])
    if int(lengths.min()) < 1:
        raise ValueError(f"every utterance needs at least 1 valid frame, got lengths min {int(lengths.min())}")
    return (torch.arange(x.shape[-1])[None, :] < lengths[:, None])[:, None, :]  # (B, 1, T)


def cmvn_stats(x: Tensor, lengths=None) -> tuple[Tensor, Tensor]:
    """Per-utterance mean and variance of every band over its (valid) frames.

    Parameters
    ----------
    x : Tensor, shape (..., F, T)
        Frame features (log-mel bands or cepstra ``F``, frames ``T``).
    lengths : Tensor of int, shape (B,), optional
        Valid frame counts when ``x`` is a padded batch ``(B, F, T)``.

    Returns
    -------
    mean, var : Tensor, shape (..., F)
        Biased variance (divides by the frame count).

    Examples
    --------
    >>> x = torch.tensor([[[1.0, 3.0, 9.0]]])          # (B=1, F=1, T=3)
    >>> [t.tolist() for t in cmvn_stats(x, lengths=torch.tensor([2]))]   # the padded frame is ignored
    [[[2.0]], [[1.0]]]
    """
    x = _check_frames(x)
    mask = _valid_mask(x, lengths)
    if mask is None:
        return x.mean(-1), x.var(-1, unbiased=False)
    w = mask.to(x.dtype)
    n = w.sum(-1)  # (B, 1)
    mean = (x * w).sum(-1) / n  # (B, F, T) -> (B, F)
    var = (((x - mean[..., None]) ** 2) * w).sum(-1) / n
    return mean, var


def apply_cmvn(x: Tensor, mean: Tensor, var: Tensor | None = None, *, eps: float = 1e-5, lengths=None) -> Tensor:
    """Subtract ``mean`` (and divide by ``sqrt(var + eps)``) from every frame: ``(x - mu) / sigma``.

    Parameters
    ----------
    x : Tensor, shape (..., F, T)
    mean : Tensor, shape (..., F) or (F,)
        Broadcast over the frames.
    var : Tensor, shape like ``mean``, optional
        ``None``: mean normalisation only (CMN).
    eps : float
        Added to the variance.
    lengths : Tensor of int, shape (B,), optional
        Padded frames are set to 0 in the output.

    Examples
    --------
    >>> apply_cmvn(torch.tensor([[1.0, 3.0]]), torch.tensor([2.0]), torch.tensor([1.0]), eps=0.0).tolist()
    [[-1.0, 1.0]]
    """
    x = _check_frames(x)
    mean = check_tensor(mean, "mean", min_ndim=1, floating=True)
    if mean.shape[-1] != x.shape[-2]:
        raise ValueError(f"mean must have {x.shape[-2]} bands (last axis), got shape {tuple(mean.shape)}")
    eps = _check_float(eps, "eps", positive=False)
    y = x - mean[..., None]  # (..., F) -> (..., F, 1): one value per band, broadcast over frames
    if var is not None:
        var = check_tensor(var, "var", min_ndim=1, floating=True)
        if var.shape != mean.shape:
            raise ValueError(f"var must have the shape of mean {tuple(mean.shape)}, got {tuple(var.shape)}")
        if bool((var < 0).any()):
            raise ValueError("var must be >= 0")
        y = y / torch.sqrt(var[..., None] + eps)
    mask = _valid_mask(x, lengths)
    return y if mask is None else y * mask


def utterance_cmvn(x: Tensor, lengths=None, *, variance: bool = False, eps: float = 1e-5) -> Tensor:
    """Per-utterance CMVN: each utterance normalised with its own statistics over time.

    Removes a fixed channel colouring (a gain or a smooth microphone response
    adds a constant to every log-mel band) from each clip by itself, so no
    other clip's statistics are involved: the same transform runs at serving
    time. The cost: the whole utterance must be heard first (not streaming),
    and the absolute level of each band is lost.

    Parameters
    ----------
    x : Tensor, shape (..., F, T)
    lengths : Tensor of int, shape (B,), optional
        Valid frames of a padded batch ``(B, F, T)``; padded frames come back as 0.
    variance : bool
        Also divide by each band's standard deviation (CMVN); ``False``: CMN.
    eps : float

    Returns
    -------
    Tensor, shape (..., F, T)

    Examples
    --------
    >>> x = torch.tensor([[1.0, 2.0, 3.0], [10.0, 10.0, 13.0]])   # (F=2, T=3)
    >>> utterance_cmvn(x).tolist()
    [[-1.0, 0.0, 1.0], [-1.0, -1.0, 2.0]]
    >>> bool(torch.allclose(utterance_cmvn(x + 5.0), utterance_cmvn(x)))   # a gain (a constant in log) is gone
    True
    """
    mean, var = cmvn_stats(x, lengths)
    return apply_cmvn(x, mean, var if variance else None, eps=eps, lengths=lengths)


def _check_groups(groups, n: int, name: str) -> list:
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__len__"):
        raise TypeError(f"{name} must be a sequence of {n} ids (one per utterance), got {type(groups).__name__}")
    groups = list(groups.tolist() if hasattr(groups, "tolist") else groups)
    if len(groups) != n:
        raise ValueError(f"{name} must hold one id per utterance ({n}), got {len(groups)}")
    return groups


def speaker_stats(x: Tensor, speakers, lengths=None) -> tuple[Tensor, Tensor]:
    """Per-speaker mean and variance of every band, pooled over all frames of the speaker's utterances.

    Parameters
    ----------
    x : Tensor, shape (N, F, T)
    speakers : sequence of hashable, length N
        The speaker (or any group: session, device) of each utterance.
    lengths : Tensor of int, shape (N,), optional

    Returns
    -------
    mean, var : Tensor, shape (N, F)
        One row per utterance: its speaker's statistics.

    Examples
    --------
    >>> x = torch.tensor([[[0.0, 2.0]], [[4.0, 6.0]], [[10.0, 10.0]]])   # 3 utterances, F=1, T=2
    >>> mean, var = speaker_stats(x, ["a", "a", "b"])
    >>> mean.tolist(), var.tolist()
    ([[3.0], [3.0], [10.0]], [[5.0], [5.0], [0.0]])
    """
    x = _check_frames(x, ndim=3)
    speakers = _check_groups(speakers, x.shape[0], "speakers")
    mask = _valid_mask(x, lengths)
    w = torch.ones_like(x[:, :1, :]) if mask is None else mask.to(x.dtype)  # (N, 1, T)
    mean, var = torch.empty(x.shape[:2], dtype=x.dtype), torch.empty(x.shape[:2], dtype=x.dtype)
    index: dict = {}
    for i, s in enumerate(speakers):
        index.setdefault(s, []).append(i)
    for rows in index.values():
        r = torch.tensor(rows)
        n = w[r].sum()
        m = (x[r] * w[r]).sum(dim=(0, 2)) / n  # (n_utt, F, T) -> (F,)
        v = (((x[r] - m[None, :, None]) ** 2) * w[r]).sum(dim=(0, 2)) / n
        mean[r], var[r] = m, v
    return mean, var


def speaker_cmvn(x: Tensor, speakers, lengths=None, *, variance: bool = False, eps: float = 1e-5) -> Tensor:
    """Per-speaker CMVN: every utterance normalised with its speaker's pooled statistics.

    More frames than one utterance (steadier statistics, and the content of
    one word does not pull its own mean), but at test time it needs other
    audio of the test speaker: fine with enrolment or a long session, a leak
    when that audio is the rest of the test set.

    Examples
    --------
    >>> x = torch.tensor([[[0.0, 2.0]], [[4.0, 6.0]]])
    >>> speaker_cmvn(x, ["a", "a"]).tolist()
    [[[-3.0, -1.0]], [[1.0, 3.0]]]
    """
    mean, var = speaker_stats(x, speakers, lengths)
    return apply_cmvn(x, mean, var if variance else None, eps=eps, lengths=lengths)


def _check_decay(decay) -> float:
    decay = _check_float(decay, "decay", positive=True)
    if not decay < 1:
        raise ValueError(f"decay must lie in (0, 1), got {decay}")
    return decay


def _init_stats(x: Tensor, init_mean, init_var, names: tuple[str, str] = ("init_mean", "init_var")
                ) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Starting mean and mean square, shape (..., F): given, or the first frame."""
    f = x.shape[-2]
    mean_name, var_name = names
    if init_mean is None:
        if init_var is not None:
            raise ValueError(f"{var_name} needs {mean_name}")
        m0 = x[..., 0].clone()
        return m0, m0**2
    m0 = check_tensor(init_mean, mean_name, min_ndim=1, floating=True).to(x.dtype)
    if m0.shape[-1] != f:
        raise ValueError(f"{mean_name} must have {f} bands, got shape {tuple(m0.shape)}")
    v0 = torch.zeros_like(m0) if init_var is None else check_tensor(init_var, var_name, floating=True).to(x.dtype)
    if v0.shape != m0.shape:
        raise ValueError(f"init_var must have the shape of init_mean {tuple(m0.shape)}, got {tuple(v0.shape)}")
    m0 = m0.expand(x.shape[:-1]).clone()
    return m0, (v0.expand(x.shape[:-1]) + m0**2).clone()


def causal_cmvn(
    x: Tensor,
    *,
    decay: float = 0.99,
    init_mean: Tensor | None = None,
    init_var: Tensor | None = None,
    variance: bool = False,
    eps: float = 1e-5,
) -> Tensor:
    """Streaming CMVN: frame ``t`` normalised with running statistics of frames ``0..t`` only.

    ``m_t = decay * m_{t-1} + (1 - decay) * x_t`` (and the same for the mean
    square), ``y_t = (x_t - m_t) [/ sqrt(v_t + eps)]``: an exponential window
    of about ``1 / (1 - decay)`` frames (100 frames, 1 s at a 10 ms hop, for
    0.99). Nothing after frame ``t`` is used, so it can run as audio arrives.

    Parameters
    ----------
    x : Tensor, shape (..., F, T)
        One stream per leading index, frames in time order.
    decay : float in (0, 1)
    init_mean, init_var : Tensor, shape (F,) or (..., F), optional
        The statistics before the first frame (e.g. the training set's);
        ``None``: start from the first frame itself.
    variance : bool
        Also divide by the running standard deviation.
    eps : float

    Returns
    -------
    Tensor, shape (..., F, T)

    Examples
    --------
    >>> x = torch.tensor([[2.0, 2.0, 2.0, 8.0]])        # (F=1, T=4)
    >>> causal_cmvn(x, decay=0.5, init_mean=torch.tensor([0.0])).tolist()
    [[1.0, 0.5, 0.25, 3.125]]
    """
    x = _check_frames(x)
    decay = _check_decay(decay)
    eps = _check_float(eps, "eps", positive=False)
    m, s = _init_stats(x, init_mean, init_var)
    out = torch.empty_like(x)
    for t in range(x.shape[-1]):
        m = decay * m + (1.0 - decay) * x[..., t]
        s = decay * s + (1.0 - decay) * x[..., t] ** 2
        y = x[..., t] - m
        if variance:
            y = y / torch.sqrt((s - m**2).clamp_min(0.0) + eps)
        out[..., t] = y
    return out


class RunningCMVN:
    """The state of :func:`causal_cmvn` for one stream, carried from chunk to chunk.

    Feed audio frames as they arrive; the normaliser keeps its running mean
    and variance between calls, so normalising a stream chunk by chunk equals
    :func:`causal_cmvn` over the whole stream.

    Parameters
    ----------
    n_features : int
        Bands ``F``.
    decay : float in (0, 1)
    mean, var : Tensor, shape (F,), optional
        Starting statistics (e.g. the training set's); ``None`` starts from
        the first frame seen.
    variance : bool
    eps : float

    Attributes
    ----------
    mean_, var_ : Tensor, shape (F,) or None
        The running statistics (``None`` until a frame or a start is given).
    frames_seen_ : int

    Examples
    --------
    >>> x = torch.tensor([[2.0, 2.0, 2.0, 8.0]])
    >>> norm = RunningCMVN(1, decay=0.5, mean=torch.tensor([0.0]))
    >>> torch.cat([norm(x[:, :3]), norm(x[:, 3:])], dim=-1).tolist()   # chunk by chunk
    [[1.0, 0.5, 0.25, 3.125]]
    >>> norm.mean_.tolist(), norm.frames_seen_
    ([4.875], 4)
    """

    def __init__(self, n_features: int, *, decay: float = 0.99, mean=None, var=None, variance: bool = False,
                 eps: float = 1e-5):
        self.n_features = check_positive_int(n_features, "n_features")
        self.decay = _check_decay(decay)
        self.variance = bool(variance)
        self.eps = _check_float(eps, "eps", positive=False)
        self.frames_seen_ = 0
        self.mean_: Tensor | None = None
        self._sq: Tensor | None = None
        if mean is not None:
            probe = torch.zeros(n_features, 1, dtype=torch.as_tensor(mean).dtype if torch.is_tensor(mean) else torch.float32)
            m0, s0 = _init_stats(probe, mean, var, names=("mean", "var"))
            self.mean_, self._sq = m0.reshape(n_features), s0.reshape(n_features)
        elif var is not None:
            raise ValueError("var needs mean: give the starting mean too (or neither)")

    @property
    def var_(self) -> Tensor | None:
        return None if self.mean_ is None else (self._sq - self.mean_**2).clamp_min(0.0)

    def _check(self, frames) -> Tensor:
        frames = check_tensor(frames, "frames", ndim=2, floating=True)
        if frames.shape[0] != self.n_features:
            raise ValueError(f"frames must have shape ({self.n_features}, T), got {tuple(frames.shape)}")
        return frames

    def update(self, frames: Tensor) -> "RunningCMVN":
        """Advance the statistics over ``frames`` ``(F, T)`` without normalising them (closed form)."""
        frames = self._check(frames)
        if self.mean_ is None:
            self.mean_, self._sq = frames[:, 0].clone(), frames[:, 0] ** 2
        t = frames.shape[-1]
        w = (1.0 - self.decay) * self.decay ** torch.arange(t - 1, -1, -1, dtype=frames.dtype)  # (T,), newest last
        keep = self.decay**t
        self.mean_ = keep * self.mean_.to(frames.dtype) + frames @ w  # (F, T) @ (T,) -> (F,)
        self._sq = keep * self._sq.to(frames.dtype) + (frames**2) @ w
        self.frames_seen_ += t
        return self

    def __call__(self, frames: Tensor) -> Tensor:
        """Normalise ``frames`` ``(F, T)`` causally, then keep the statistics for the next chunk."""
        frames = self._check(frames)
        if self.mean_ is None:
            out = causal_cmvn(frames, decay=self.decay, variance=self.variance, eps=self.eps)
        else:
            out = causal_cmvn(frames, decay=self.decay, init_mean=self.mean_, init_var=self.var_,
                              variance=self.variance, eps=self.eps)
        self.update(frames)
        return out

    def __repr__(self) -> str:
        return f"RunningCMVN(n_features={self.n_features}, decay={self.decay}, frames_seen={self.frames_seen_})"


def stream_means(x: Tensor, streams, *, init_mean: Tensor, decay: float = 0.99, order=None) -> Tensor:
    """The causal running mean of each utterance's stream just before the utterance starts.

    Utterances of one stream (a speaker's device, a session) are heard one
    after another, in ``order``; a :class:`RunningCMVN` per stream, started
    at ``init_mean``, is read before each utterance and then updated with it.
    Subtracting the result from an utterance is streaming CMN that uses only
    audio heard *earlier* on the same stream.

    Parameters
    ----------
    x : Tensor, shape (N, F, T)
    streams : sequence of hashable, length N
    init_mean : Tensor, shape (F,)
        Where every stream starts (the training set's mean).
    decay : float in (0, 1)
        Per frame.
    order : sequence of sortable, length N, optional
        When each utterance was heard (timestamps); default: row order.

    Returns
    -------
    Tensor, shape (N, F)

    Examples
    --------
    >>> x = torch.tensor([[[4.0]], [[4.0]], [[9.0]]])          # 3 utterances of 1 frame
    >>> stream_means(x, ["a", "a", "b"], init_mean=torch.tensor([0.0]), decay=0.5).tolist()
    [[0.0], [2.0], [0.0]]
    """
    x = _check_frames(x, ndim=3)
    streams = _check_groups(streams, x.shape[0], "streams")
    init_mean = check_tensor(init_mean, "init_mean", ndim=1, floating=True)
    if init_mean.shape[0] != x.shape[1]:
        raise ValueError(f"init_mean must have shape ({x.shape[1]},), got {tuple(init_mean.shape)}")
    keys = list(range(x.shape[0])) if order is None else _check_groups(order, x.shape[0], "order")
    out = torch.empty(x.shape[:2], dtype=x.dtype)
    state: dict = {}
    for i in sorted(range(x.shape[0]), key=lambda j: keys[j]):  # stable: ties keep row order
        norm = state.setdefault(streams[i], RunningCMVN(x.shape[1], decay=decay, mean=init_mean.to(x.dtype)))
        out[i] = norm.mean_
        norm.update(x[i])
    return out


def subtract_band_means(clip_vectors: Tensor, band_means: Tensor, *, n_segments: int = 4) -> Tensor:
    """Mean normalisation of :func:`course_lib.mel.clip_features` vectors, band by band.

    A clip vector holds ``n_segments`` means of each log-mel band over the
    word's window, then the band's standard deviation. Means are linear in the
    frames, so subtracting a constant ``mu_f`` from every frame of band ``f``
    (CMN) and then pooling equals subtracting ``mu_f`` from that band's
    segment means; the standard deviations do not change.

    Parameters
    ----------
    clip_vectors : Tensor, shape (N, (n_segments + 1) * F)
        Band-major segment means (band 0's segments first), then F stds.
    band_means : Tensor, shape (N, F) or (F,)
        What to subtract from each band (from :func:`cmvn_stats`,
        :func:`speaker_stats`, :func:`stream_means` or a training mean).
    n_segments : int

    Returns
    -------
    Tensor, shape (N, (n_segments + 1) * F)

    Examples
    --------
    >>> v = torch.tensor([[1.0, 3.0, 10.0, 14.0, 0.5, 0.7]])   # F=2, 2 segments, then 2 stds
    >>> subtract_band_means(v, torch.tensor([[2.0, 12.0]]), n_segments=2).tolist()
    [[-1.0, 1.0, -2.0, 2.0, 0.5, 0.7]]
    """
    v = check_tensor(clip_vectors, "clip_vectors", ndim=2, floating=True)
    n_segments = check_positive_int(n_segments, "n_segments")
    mu = check_tensor(band_means, "band_means", ndim=(1, 2), floating=True)
    f = mu.shape[-1]
    if v.shape[1] != (n_segments + 1) * f:
        raise ValueError(
            f"clip_vectors must have (n_segments + 1) * F = {(n_segments + 1) * f} columns for {f} bands "
            f"and {n_segments} segments, got shape {tuple(v.shape)}"
        )
    if mu.ndim == 2 and mu.shape[0] != v.shape[0]:
        raise ValueError(f"band_means must have {v.shape[0]} rows (one per clip) or shape ({f},), got {tuple(mu.shape)}")
    means = v[:, : n_segments * f].reshape(-1, f, n_segments)  # (N, F * S) -> (N, F, S), band-major
    means = means - mu.reshape(-1, f, 1).to(v.dtype)
    return torch.cat([means.reshape(-1, f * n_segments), v[:, n_segments * f:]], dim=1)


def rms_norm(x: Tensor, normalized_shape: Sequence[int] | int, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation over the trailing ``normalized_shape`` axes.

    ``y = x / sqrt(mean(x**2) + eps) * weight``; no mean subtraction and no
    bias (unlike LayerNorm). ``eps=None`` uses ``torch.finfo(x.dtype).eps``
    like ``torch.nn.functional.rms_norm``.

    Examples
    --------
    >>> rms_norm(torch.tensor([[3.0, 4.0]]), 2, eps=0.0).mul(12.5 ** 0.5).round().tolist()  # rms = sqrt(12.5)
    [[3.0, 4.0]]
    """
    x = check_tensor(x, "x", min_ndim=1, floating=True)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(shape):]) != shape or len(shape) > x.ndim:
        raise ValueError(f"x must end with normalized_shape {shape}, got shape {tuple(x.shape)}")
    eps = torch.finfo(x.dtype).eps if eps is None else _check_float(eps, "eps", positive=False)
    dims = tuple(range(-len(shape), 0))
    y = x * torch.rsqrt(x.pow(2).mean(dim=dims, keepdim=True) + eps)
    return y if weight is None else y * weight


class RMSNorm(nn.Module):
    """RMSNorm layer with a learnable gain, equal to ``torch.nn.RMSNorm``.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing axes to normalise over (usually the feature size).
    eps : float or None
        Added to the mean square; ``None`` uses the dtype's machine epsilon.
    elementwise_affine : bool
        Learn a per-feature gain (initialised to ones).

    Examples
    --------
    >>> norm = RMSNorm(4)
    >>> x = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(0))
    >>> torch.allclose(norm(x), nn.RMSNorm(4)(x), atol=1e-6)
    True
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None, elementwise_affine: bool = True):
        super().__init__()
        if not isinstance(normalized_shape, (int, tuple, list, torch.Size)):
            raise TypeError(f"normalized_shape must be an int or a sequence of int, got {type(normalized_shape).__name__}")
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        for s in shape:
            check_positive_int(s, "normalized_shape")
        self.normalized_shape = shape
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(shape)) if elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}"
