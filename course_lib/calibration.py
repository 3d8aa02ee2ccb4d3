"""Probabilities from logits, Bayes' rule, and calibration (ECE, temperature scaling).

A classifier's softmax output is a *confidence*; whether it is a trustworthy
*probability* is an empirical question. A model is calibrated when, among the
predictions made with confidence about ``p``, a fraction about ``p`` is
correct. This module measures that (:func:`reliability_bins`,
:func:`expected_calibration_error`) and repairs the commonest failure,
overconfidence, with one scalar fitted on a dev split
(:class:`TemperatureScaler`).

Shapes: logits and probabilities ``(N, C)`` (one row per example, one column
per class), labels ``(N,)`` integer class indices.

Softmax numerics
----------------
``softmax(z)_k = exp(z_k) / sum_j exp(z_j)`` overflows in float32 once a
logit exceeds about 88.7 (``exp(89) = inf``, then ``inf / inf = NaN``).
Because softmax is unchanged by adding a constant to every logit, subtracting
the row maximum first makes the largest exponent ``exp(0) = 1`` and nothing
overflows. For log-probabilities use
``log_softmax(z) = z - max(z) - log(sum(exp(z - max(z))))`` (log-sum-exp),
never ``log(softmax(z))``, which returns ``-inf`` when a probability
underflows to 0.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn

from course_lib.checks import as_tensor, check_positive_int, check_tensor

__all__ = [
    "softmax",
    "log_softmax",
    "bayes_posterior",
    "reliability_bins",
    "expected_calibration_error",
    "calibration_summary",
    "calibration_by_slice",
    "ece_change_interval",
    "TemperatureScaler",
    "SLICES",
    "TRAIN_CONDITIONS",
    "SPLIT_FRACTIONS",
    "keyword_split",
    "keyword_clip_features",
    "ClipMLP",
    "train_clip_mlp",
    "slice_figures",
    "calibration_checkpoint_recipe",
]


def _check_dim(dim, ndim: int) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int) or not -ndim <= dim < ndim:
        raise ValueError(f"dim must be an int in [{-ndim}, {ndim - 1}], got {dim!r}")
    return dim


def softmax(logits, dim: int = -1, *, subtract_max: bool = True) -> torch.Tensor:
    """Numerically stable softmax (subtracts the maximum first).

    Parameters
    ----------
    logits : torch.Tensor or numpy.ndarray, floating
    dim : int
        The class axis (default -1).
    subtract_max : bool
        ``False`` computes the textbook ``exp(z) / sum(exp(z))`` as is: it
        overflows to NaN for large logits and is here only to show why the
        default exists.

    Returns
    -------
    torch.Tensor
        Same shape as ``logits``; sums to 1 over ``dim``.

    Examples
    --------
    >>> softmax(torch.tensor([1000.0, 1000.0])).tolist()
    [0.5, 0.5]
    >>> softmax(torch.tensor([1000.0, 1000.0]), subtract_max=False).tolist()
    [nan, nan]
    """
    z = check_tensor(logits, "logits", min_ndim=1, floating=True)
    dim = _check_dim(dim, z.ndim)
    if subtract_max:
        z = z - z.amax(dim=dim, keepdim=True)
    e = torch.exp(z)
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(logits, dim: int = -1) -> torch.Tensor:
    """Numerically stable log-softmax: ``z - max(z) - log(sum(exp(z - max(z))))``.

    Parameters
    ----------
    logits : torch.Tensor or numpy.ndarray, floating
    dim : int
        The class axis (default -1).

    Returns
    -------
    torch.Tensor
        Log-probabilities, same shape as ``logits``, finite even where the
        probability underflows.

    Examples
    --------
    >>> log_softmax(torch.tensor([0.0, -200.0])).tolist()
    [0.0, -200.0]
    """
    z = check_tensor(logits, "logits", min_ndim=1, floating=True)
    dim = _check_dim(dim, z.ndim)
    shifted = z - z.amax(dim=dim, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


def bayes_posterior(prior, likelihood) -> torch.Tensor:
    """Bayes' rule over classes: ``P(c | x) = P(x | c) P(c) / sum_k P(x | k) P(k)``.

    Parameters
    ----------
    prior : torch.Tensor or numpy.ndarray, shape (C,), floating
        Class priors ``P(c)``, non-negative, summing to 1.
    likelihood : torch.Tensor or numpy.ndarray, shape (..., C), floating
        ``P(x | c)`` for each observation and class (non-negative).

    Returns
    -------
    torch.Tensor, shape (..., C)
        Posteriors, summing to 1 over the last axis.

    Examples
    --------
    A wake-word detector fires on 99 % of keyword clips and on 1 % of other
    clips; one clip in 1000 holds the keyword. When it fires:

    >>> post = bayes_posterior(torch.tensor([0.999, 0.001]), torch.tensor([0.01, 0.99]))
    >>> round(float(post[1]), 3)   # P(keyword | fired)
    0.09
    """
    prior = check_tensor(prior, "prior", ndim=1, floating=True).double()
    like = check_tensor(likelihood, "likelihood", min_ndim=1, floating=True).double()
    if like.shape[-1] != prior.shape[0]:
        raise ValueError(f"likelihood must have C={prior.shape[0]} classes on its last axis "
                         f"(like prior), got shape {tuple(like.shape)}")
    if bool((prior < 0).any()) or abs(float(prior.sum()) - 1.0) > 1e-6:
        raise ValueError(f"prior must be non-negative and sum to 1, got sum {float(prior.sum()):.6g}")
    if bool((like < 0).any()):
        raise ValueError("likelihood must be non-negative")
    joint = like * prior  # (..., C) * (C,) -> (..., C)
    evidence = joint.sum(dim=-1, keepdim=True)
    if bool((evidence == 0).any()):
        raise ValueError("every observation has zero likelihood under every class with non-zero prior")
    return (joint / evidence).float()


# --------------------------------------------------------------------------
# calibration measures
# --------------------------------------------------------------------------

def _check_probs_labels(probs, labels, name: str = "probs") -> tuple[torch.Tensor, torch.Tensor]:
    probs = check_tensor(probs, name, ndim=2, floating=True).double()
    labels = as_tensor(labels, "labels")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"labels must be an integer tensor of class indices, got dtype {labels.dtype}")
    if labels.ndim != 1 or labels.shape[0] != probs.shape[0]:
        raise ValueError(f"labels must have shape ({probs.shape[0]},) to match probs {tuple(probs.shape)}, "
                         f"got {tuple(labels.shape)}")
    labels = labels.long()
    n_classes = probs.shape[1]
    if int(labels.min()) < 0 or int(labels.max()) >= n_classes:
        raise ValueError(f"labels must lie in [0, {n_classes - 1}] (probs has {n_classes} columns), "
                         f"got min {int(labels.min())}, max {int(labels.max())}")
    if bool((probs < 0).any()) or bool((probs > 1).any()):
        raise ValueError("probs must lie in [0, 1]; pass probabilities (softmax of logits), not logits")
    row_err = float((probs.sum(dim=1) - 1.0).abs().max())
    if row_err > 1e-3:
        raise ValueError(f"each row of probs must sum to 1 (max deviation {row_err:.3g}); "
                         f"pass softmax probabilities, not logits or one class's score")
    return probs, labels


def reliability_bins(probs, labels, n_bins: int = 15):
    """Per-bin statistics of a reliability diagram (equal-width confidence bins).

    Each prediction's *confidence* is its largest probability; it falls in
    bin ``i`` when ``i / n_bins < confidence <= (i + 1) / n_bins``. Within a
    bin, *accuracy* is the fraction of predictions (the argmax class) that
    are correct.

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray, shape (N, C)
        Predicted probabilities (rows sum to 1).
    labels : torch.Tensor or numpy.ndarray, shape (N,), integer
        True classes.
    n_bins : int
        Number of equal-width bins over [0, 1] (default 15).

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``lo``, ``hi``, ``count``, ``confidence`` (mean
        confidence), ``accuracy``, ``gap`` (confidence - accuracy; positive
        means overconfident). Empty bins have ``count`` 0 and NaN means.

    Examples
    --------
    >>> p = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    >>> bins = reliability_bins(p, torch.tensor([0, 1, 1]), n_bins=2)
    >>> bins[["count", "confidence", "accuracy"]].round(3).values.tolist()
    [[0.0, nan, nan], [3.0, 0.8, 0.667]]
    """
    import pandas as pd

    probs, labels = _check_probs_labels(probs, labels)
    n_bins = check_positive_int(n_bins, "n_bins")
    conf, pred = probs.max(dim=1)  # (N,), (N,)
    correct = (pred == labels).double()
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    # bucketize with right=False: edges[i-1] < conf <= edges[i]  ->  bins (lo, hi]
    idx = torch.bucketize(conf, edges[1:-1], right=False)  # (N,) in [0, n_bins)
    count = torch.bincount(idx, minlength=n_bins).double()
    conf_sum = torch.bincount(idx, weights=conf, minlength=n_bins)
    acc_sum = torch.bincount(idx, weights=correct, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = (conf_sum / count).numpy()
        acc = (acc_sum / count).numpy()
    return pd.DataFrame({
        "lo": edges[:-1].numpy(),
        "hi": edges[1:].numpy(),
        "count": count.numpy().astype(int),
        "confidence": mean_conf,
        "accuracy": acc,
        "gap": mean_conf - acc,
    })


def expected_calibration_error(probs, labels, n_bins: int = 15) -> float:
    """Expected calibration error: the count-weighted mean |confidence - accuracy| over bins.

    ``ECE = sum_i (n_i / N) * |acc_i - conf_i|`` over the equal-width
    confidence bins of :func:`reliability_bins` (Guo et al., 2017). 0 for a
    perfectly calibrated model; bounded by 1.

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray, shape (N, C)
        Predicted probabilities (rows sum to 1).
    labels : torch.Tensor or numpy.ndarray, shape (N,), integer
    n_bins : int
        Default 15.

    Returns
    -------
    float

    Examples
    --------
    Always 90 % sure, right 2 times out of 3:

    >>> p = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1]])
    >>> round(expected_calibration_error(p, torch.tensor([0, 0, 1])), 4)
    0.2333
    """
    probs, labels = _check_probs_labels(probs, labels)
    n_bins = check_positive_int(n_bins, "n_bins")
    conf, pred = probs.max(dim=1)  # (N,), (N,)
    correct = (pred == labels).double()
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    idx = torch.bucketize(conf, edges[1:-1], right=False)  # (N,): bins (lo, hi], as in reliability_bins
    conf_sum = torch.bincount(idx, weights=conf, minlength=n_bins)  # n_b * conf_b
    acc_sum = torch.bincount(idx, weights=correct, minlength=n_bins)  # n_b * acc_b
    # (n_b / N) * |acc_b - conf_b| = |n_b acc_b - n_b conf_b| / N; empty bins add 0
    return float((acc_sum - conf_sum).abs().sum() / labels.shape[0])


def calibration_summary(probs, labels, n_bins: int = 15) -> dict:
    """Accuracy, mean confidence, their gap, ECE and NLL of a set of predictions.

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray, shape (N, C)
    labels : torch.Tensor or numpy.ndarray, shape (N,), integer
    n_bins : int

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``confidence`` (mean max-probability),
        ``overconfidence`` (confidence - accuracy), ``ece``, ``nll`` (mean
        negative log-probability of the true class, nats).

    Examples
    --------
    >>> p = torch.tensor([[0.9, 0.1], [0.9, 0.1]])
    >>> s = calibration_summary(p, torch.tensor([0, 1]))
    >>> s["accuracy"], s["confidence"], round(s["overconfidence"], 3)
    (0.5, 0.9, 0.4)
    """
    probs_c, labels_c = _check_probs_labels(probs, labels)
    conf, pred = probs_c.max(dim=1)
    acc = float((pred == labels_c).double().mean())
    p_true = probs_c[torch.arange(labels_c.shape[0]), labels_c].clamp(min=1e-300)
    return {
        "n": int(labels_c.shape[0]),
        "accuracy": acc,
        "confidence": float(conf.mean()),
        "overconfidence": float(conf.mean()) - acc,
        "ece": expected_calibration_error(probs_c, labels_c, n_bins),
        "nll": float(-torch.log(p_true).mean()),
    }


def calibration_by_slice(probs, labels, slices, n_bins: int = 15, *, order: Sequence[str] | None = None):
    """:func:`calibration_summary` per slice (recording condition, device, speaker group...).

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray, shape (N, C)
    labels : torch.Tensor or numpy.ndarray, shape (N,), integer
    slices : sequence of str, length N
        The slice name of every example (e.g. ``metadata["condition"]``).
    n_bins : int
    order : sequence of str, optional
        Slices to report, in this order (default: every slice present, sorted).

    Returns
    -------
    pandas.DataFrame
        Indexed by slice, the columns of :func:`calibration_summary`.

    Examples
    --------
    >>> p = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4]])
    >>> calibration_by_slice(p, torch.tensor([0, 1, 0]), ["a", "a", "b"])[["n", "accuracy"]].values.tolist()
    [[2.0, 0.5], [1.0, 1.0]]
    """
    import pandas as pd

    probs_c, labels_c = _check_probs_labels(probs, labels)
    names = np.asarray(slices, dtype=object)
    if names.ndim != 1 or names.shape[0] != labels_c.shape[0]:
        raise ValueError(f"slices must name each of the {labels_c.shape[0]} examples, got shape {names.shape}")
    present = sorted({str(v) for v in names})
    order = present if order is None else [str(v) for v in order]
    missing = [v for v in order if v not in present]
    if missing:
        raise ValueError(f"slices {missing} have no examples; present: {present}")
    rows = []
    for name in order:
        idx = torch.from_numpy(np.flatnonzero(names == name))
        rows.append({"slice": name, **calibration_summary(probs_c[idx], labels_c[idx], n_bins)})
    return pd.DataFrame(rows).set_index("slice")


def ece_change_interval(probs_before, probs_after, labels, n_bins: int = 15, *, n_boot: int = 200,
                        level: float = 0.9, seed: int = 0) -> tuple[float, float, float]:
    """ECE after minus ECE before on the same examples, with a bootstrap interval.

    Resamples the examples with replacement ``n_boot`` times (the same
    resample for both sets of probabilities, so the comparison is paired) and
    returns the observed change and the central ``level`` percentile interval
    of the resampled changes. An interval that contains 0 means the change is
    within the sampling noise of this many examples.

    Parameters
    ----------
    probs_before, probs_after : torch.Tensor or numpy.ndarray, shape (N, C)
        Probabilities of the same ``N`` examples (e.g. before and after temperature scaling).
    labels : torch.Tensor or numpy.ndarray, shape (N,), integer
    n_bins : int
    n_boot : int
        Bootstrap resamples (default 200).
    level : float
        Interval level in (0, 1) (default 0.9).
    seed : int

    Returns
    -------
    (change, low, high) : tuple of float

    Examples
    --------
    >>> p = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.2, 0.8]])
    >>> change, low, high = ece_change_interval(p, p, torch.tensor([0, 1, 0, 1]), n_bins=5, n_boot=20)
    >>> change, low, high
    (0.0, 0.0, 0.0)
    """
    before, labels_c = _check_probs_labels(probs_before, labels, "probs_before")
    after, _ = _check_probs_labels(probs_after, labels, "probs_after")
    if before.shape != after.shape:
        raise ValueError(f"probs_before {tuple(before.shape)} and probs_after {tuple(after.shape)} must match")
    n_boot = check_positive_int(n_boot, "n_boot")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    n_bins = check_positive_int(n_bins, "n_bins")
    rng = np.random.default_rng(seed)
    n = labels_c.shape[0]
    diffs = []
    for _ in range(n_boot):
        b = torch.from_numpy(rng.integers(0, n, size=n))
        diffs.append(expected_calibration_error(after[b], labels_c[b], n_bins)
                     - expected_calibration_error(before[b], labels_c[b], n_bins))
    low, high = np.percentile(diffs, [50 * (1 - level), 50 * (1 + level)])
    change = expected_calibration_error(after, labels_c, n_bins) - expected_calibration_error(before, labels_c, n_bins)
    return float(change), float(low), float(high)


# --------------------------------------------------------------------------
# temperature scaling
# --------------------------------------------------------------------------

def _check_logits_labels(logits, labels) -> tuple[torch.Tensor, torch.Tensor]:
    logits = check_tensor(logits, "logits", ndim=2, floating=True).double()
    labels = as_tensor(labels, "labels")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"labels must be an integer tensor of class indices, got dtype {labels.dtype}")
    if labels.ndim != 1 or labels.shape[0] != logits.shape[0]:
        raise ValueError(f"labels must have shape ({logits.shape[0]},) to match logits "
                         f"{tuple(logits.shape)}, got {tuple(labels.shape)}")
    labels = labels.long()
    if int(labels.min()) < 0 or int(labels.max()) >= logits.shape[1]:
        raise ValueError(f"labels must lie in [0, {logits.shape[1] - 1}], "
                         f"got min {int(labels.min())}, max {int(labels.max())}")
    return logits, labels


def _nll(logits: torch.Tensor, labels: torch.Tensor, temperature: float) -> float:
    logp = log_softmax(logits / temperature, dim=1)
    return float(-logp[torch.arange(labels.shape[0]), labels].mean())


class TemperatureScaler:
    """Temperature scaling: divide logits by one scalar ``T`` fitted on a dev split.

    ``T > 1`` softens overconfident predictions, ``T < 1`` sharpens
    underconfident ones. Dividing every logit by the same positive number
    never changes the argmax, so accuracy is untouched; only the confidences
    move. ``T`` minimises the negative log-likelihood of the dev labels (a
    one-dimensional problem, convex in ``1/T``, solved by bounded Brent search
    over ``log T``). Fit it on held-out dev data, never on the test split you
    report on, and never on the training data (where the model is
    overconfident by construction).

    Parameters
    ----------
    bounds : tuple of float
        Search interval for ``T`` (default ``(0.01, 100.0)``).

    Attributes
    ----------
    temperature_ : float
        The fitted temperature.
    nll_before_, nll_after_ : float
        Mean dev NLL (nats) at ``T = 1`` and at ``temperature_``.

    Examples
    --------
    Labels drawn from ``softmax(logits)`` make ``logits`` calibrated at
    ``T = 1``; a model that outputs ``3 * logits`` is overconfident, and the
    fitted temperature undoes the factor:

    >>> g = torch.Generator().manual_seed(0)
    >>> logits = 2.0 * torch.randn(4000, 3, generator=g)
    >>> labels = torch.multinomial(torch.softmax(logits, 1), 1, generator=g)[:, 0]
    >>> scaler = TemperatureScaler().fit(3.0 * logits, labels)
    >>> round(scaler.temperature_, 1), scaler.nll_after_ < scaler.nll_before_
    (3.0, True)
    """

    def __init__(self, bounds: tuple[float, float] = (0.01, 100.0)):
        self.bounds = bounds

    def fit(self, logits, labels) -> "TemperatureScaler":
        """Fit ``temperature_`` on dev logits ``(N, C)`` and labels ``(N,)``; return ``self``."""
        from scipy.optimize import minimize_scalar

        lo, hi = self.bounds
        if not (0 < lo < hi and math.isfinite(hi)):
            raise ValueError(f"bounds must satisfy 0 < low < high < inf, got {self.bounds}")
        logits, labels = _check_logits_labels(logits, labels)
        res = minimize_scalar(
            lambda log_t: _nll(logits, labels, math.exp(log_t)),
            bounds=(math.log(lo), math.log(hi)),
            method="bounded",
            options={"xatol": 1e-6},
        )
        self.temperature_ = float(math.exp(res.x))
        self.nll_before_ = _nll(logits, labels, 1.0)
        self.nll_after_ = _nll(logits, labels, self.temperature_)
        return self

    def _check_fitted(self):
        if not hasattr(self, "temperature_"):
            raise RuntimeError("this TemperatureScaler is not fitted yet; call fit(dev_logits, dev_labels) first")

    def transform(self, logits) -> torch.Tensor:
        """Scaled logits ``logits / temperature_`` (same shape)."""
        self._check_fitted()
        z = check_tensor(logits, "logits", ndim=2, floating=True)
        return z / self.temperature_

    def predict_proba(self, logits) -> torch.Tensor:
        """Calibrated probabilities ``softmax(logits / temperature_)``, shape ``(N, C)``."""
        return softmax(self.transform(logits), dim=1)

    def __repr__(self) -> str:
        fitted = f", temperature_={self.temperature_:.4g}" if hasattr(self, "temperature_") else ""
        return f"TemperatureScaler(bounds={self.bounds}{fitted})"


# --------------------------------------------------------------------------
# the lesson's model (module 02): a keyword MLP on clip features, and its checkpoint
# --------------------------------------------------------------------------

#: The slices (recording conditions) of the keyword corpus, in the order the lessons show them.
SLICES = ("clean", "noisy", "far", "telephone", "device")
#: Slices the module-02 model trains on: every one except ``noisy`` (white noise, SNRs down to 0 dB), its unseen slice.
TRAIN_CONDITIONS = ("clean", "far", "telephone", "device")
#: Shares of the *speakers* in the module-02 train, dev and test splits.
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)


def keyword_split(metadata, seed: int = 0) -> np.ndarray:
    """The split (``"train"``, ``"dev"`` or ``"test"``) of every clip, by speaker.

    The course's speakers (all of :func:`course_lib.data.tts.speakers`, not
    only those in ``metadata``) are cut by :data:`SPLIT_FRACTIONS`, so the
    FAST and the FULL keyword corpora share one split: a checkpoint trained
    on FULL training speakers is evaluated on FAST clips of speakers it never
    heard.

    Parameters
    ----------
    metadata : pandas.DataFrame
        One row per clip with a ``speaker`` column (``dataset.metadata``).
    seed : int

    Returns
    -------
    numpy.ndarray of str, shape (N,)

    Examples
    --------
    >>> import pandas as pd
    >>> keyword_split(pd.DataFrame({"speaker": ["spk000", "spk001", "spk000"]})).tolist()[0] in ("train", "dev", "test")
    True
    """
    import pandas as pd

    from course_lib.data.splits import speaker_split
    from course_lib.data.tts import speakers

    if not isinstance(metadata, pd.DataFrame) or "speaker" not in metadata.columns:
        raise TypeError("metadata must be a pandas DataFrame with a 'speaker' column (dataset.metadata)")
    parts = speaker_split([s.speaker_id for s in speakers()], SPLIT_FRACTIONS, seed=seed)
    spk = metadata["speaker"].astype(str).to_numpy()
    out = np.full(len(spk), "", dtype=object)
    for name, ids in parts.items():
        out[np.isin(spk, ids)] = name
    unknown = sorted(set(spk[out == ""]))
    if unknown:
        raise ValueError(f"speakers {unknown[:5]} are not course speakers (course_lib.data.tts.speakers())")
    return out.astype(str)


def keyword_clip_features(dataset, rows=None, *, chunk: int = 500, progress: bool = False) -> torch.Tensor:
    """:func:`course_lib.mel.clip_features` of keyword clips, computed in chunks.

    Parameters
    ----------
    dataset : course_lib.data.corpus.AudioDataset
        Keyword clips (all of the same length).
    rows : sequence of int or bool mask, optional
        Clips to featurise (default: all), in this order.
    chunk : int
        Clips per batch (bounds the memory of the log-mel spectrograms).
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    torch.Tensor, shape (N, 200)
    """
    from course_lib.mel import clip_features

    chunk = check_positive_int(chunk, "chunk")
    if isinstance(dataset, (str, bytes)) or not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset must be the keyword dataset (indexable items with 'waveform'), "
                        f"got {type(dataset).__name__}")  # fmt: skip
    if rows is None:
        idx = np.arange(len(dataset))
    else:
        idx = np.asarray(rows)
        idx = np.flatnonzero(idx) if idx.dtype == bool else idx.astype(np.int64)
    starts = range(0, len(idx), chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="clip features", unit="chunk")
    out = [clip_features(torch.stack([dataset.waveform(int(i)) for i in idx[a:a + chunk]])) for a in starts]
    if not out:
        raise ValueError("no clips selected")
    return torch.cat(out)  # (N, time) -> (N, 200)


class ClipMLP(nn.Module):
    """Clip features -> standardised with stored training statistics -> the course's minimal classifier.

    The training statistics (``mean``, ``std``) are buffers, saved and loaded
    with the weights, so a checkpoint carries its own input normalisation.

    Parameters
    ----------
    in_features, hidden, n_classes : int
        Defaults fit :func:`course_lib.mel.clip_features` (200) and the 22 keyword classes.
    seed : int
        Seeds the initial weights.

    Examples
    --------
    >>> model = ClipMLP(in_features=6, hidden=8, n_classes=3)
    >>> model.fit_scaler(torch.randn(10, 6, generator=torch.Generator().manual_seed(0)))(torch.zeros(2, 6)).shape
    torch.Size([2, 3])
    """

    def __init__(self, in_features: int = 200, hidden: int = 128, n_classes: int = 22, *, seed: int = 0):
        super().__init__()
        from course_lib.training import make_classifier

        self.register_buffer("mean", torch.zeros(in_features))
        self.register_buffer("std", torch.ones(in_features))
        self.mlp = make_classifier(in_features, hidden, n_classes, seed=seed)

    def fit_scaler(self, X) -> "ClipMLP":
        """Store the mean and std of training features ``X`` ``(N, F)``; return ``self``."""
        from course_lib.normalization import Standardizer

        scaler = Standardizer().fit(check_tensor(X, "X", ndim=2, floating=True))
        if scaler.mean_.shape != self.mean.shape:
            raise ValueError(f"X must have {self.mean.shape[0]} features, got {scaler.mean_.shape[0]}")
        self.mean.copy_(scaler.mean_)
        self.std.copy_(scaler.std_)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, F)`` clip features -> ``(B, K)`` logits."""
        return self.mlp((x - self.mean) / self.std)


def train_clip_mlp(train, dev=None, *, epochs: int = 40, seed: int = 0, progress: bool = False):
    """Train a :class:`ClipMLP` (Adam, lr 3e-3, batches of 64): the module-02 recipe.

    Parameters
    ----------
    train : (Tensor, Tensor)
        Clip features ``(N, 200)`` and integer targets ``(N,)``.
    dev : (Tensor, Tensor), optional
    epochs : int
    seed : int
    progress : bool

    Returns
    -------
    (ClipMLP, course_lib.training.History)
        The model (in eval mode) and its per-epoch metrics.
    """
    from course_lib.training import TrainConfig, train_classifier

    if not isinstance(train, (tuple, list)) or len(train) != 2:
        raise TypeError(f"train must be a tuple (features, labels), got {type(train).__name__}")
    X, y = train
    X = check_tensor(X, "train features", ndim=2, floating=True)
    model = ClipMLP(X.shape[1], seed=seed).fit_scaler(X)
    history = train_classifier(model, (X, y), dev, TrainConfig(epochs=epochs, lr=3e-3, batch_size=64, seed=seed),
                               progress=progress)
    model.eval()
    return model, history


def slice_figures(model: nn.Module, features, labels, slices, *, n_bins: int = 10,
                  order: Sequence[str] = SLICES) -> dict:
    """Accuracy, mean confidence and ECE of a model on each slice: ``{"acc_clean": ..., "ece_noisy": ...}``.

    Examples
    --------
    >>> model = ClipMLP(in_features=4, hidden=8, n_classes=3).eval()
    >>> sorted(slice_figures(model, torch.zeros(4, 4), torch.tensor([0, 1, 2, 0]), ["a", "a", "b", "b"], order=["a"]))
    ['acc_a', 'confidence_a', 'ece_a']
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    with torch.no_grad():
        probs = torch.softmax(model(check_tensor(features, "features", ndim=2, floating=True)).double(), dim=1)
    table = calibration_by_slice(probs, labels, slices, n_bins, order=order)
    out = {}
    for name in table.index:
        out[f"acc_{name}"] = round(float(table.at[name, "accuracy"]), 4)
        out[f"confidence_{name}"] = round(float(table.at[name, "confidence"]), 4)
        out[f"ece_{name}"] = round(float(table.at[name, "ece"]), 4)
    return out


def _fast_test_slices():
    """FAST keyword clips of the test speakers: features, targets, conditions."""
    from course_lib.data.corpus import default_dataset

    ds = default_dataset("keywords", fast=True)
    meta = ds.metadata.reset_index(drop=True)
    rows = keyword_split(meta) == "test"
    X = keyword_clip_features(ds, rows)
    y = torch.as_tensor(meta["target"].to_numpy()[rows], dtype=torch.long)
    return X, y, meta["condition"].to_numpy()[rows]


def calibration_checkpoint_recipe():
    """``calibration``: module 02's keyword MLP, trained on every slice but ``noisy`` (FULL corpus).

    Trained on the clip features of the FULL keyword corpus's training
    speakers in :data:`TRAIN_CONDITIONS` (the ``noisy`` slice is never seen);
    evaluated on the FAST corpus's test speakers, per slice.
    """
    from course_lib.tooling.checkpoints import CheckpointRecipe

    def train(seed: int):
        from course_lib.data.corpus import default_dataset

        ds = default_dataset("keywords", fast=False, progress=True)
        meta = ds.metadata.reset_index(drop=True)
        split = keyword_split(meta, seed=0)
        seen = meta["condition"].isin(TRAIN_CONDITIONS).to_numpy()
        X = keyword_clip_features(ds, progress=True)
        y = torch.tensor(meta["target"].to_numpy(), dtype=torch.long)
        tr, dv = torch.from_numpy((split == "train") & seen), torch.from_numpy((split == "dev") & seen)
        model, history = train_clip_mlp((X[tr], y[tr]), (X[dv], y[dv]), epochs=40, seed=seed, progress=True)
        return model, {"n_train": int(tr.sum()), "train_acc": history.train_acc[-1],
                       "dev_acc_seen_conditions": history.dev_acc[-1]}

    def evaluate(model):
        X, y, cond = _fast_test_slices()
        return slice_figures(model, X, y, cond)

    return CheckpointRecipe(
        name="calibration",
        description="module 02: keyword MLP on clip features, trained on every slice but 'noisy' (FULL)",
        build=ClipMLP,
        train=train,
        evaluate=evaluate,
        tolerance=0.02,
        half=False,
    )
