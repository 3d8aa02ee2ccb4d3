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

import numpy as np
import torch

from course_lib.checks import as_tensor, check_positive_int, check_tensor

__all__ = [
    "softmax",
    "log_softmax",
    "bayes_posterior",
    "reliability_bins",
    "expected_calibration_error",
    "calibration_summary",
    "TemperatureScaler",
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

def _check_probs_labels(probs, labels) -> tuple[torch.Tensor, torch.Tensor]:
    probs = check_tensor(probs, "probs", ndim=2, floating=True).double()
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
    bins = reliability_bins(probs, labels, n_bins)
    used = bins[bins["count"] > 0]
    weights = used["count"] / used["count"].sum()
    return float((weights * used["gap"].abs()).sum())


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
