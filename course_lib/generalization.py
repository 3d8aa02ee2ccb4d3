"""Generalization: diagnose bias and variance, read learning curves, regularise.

Three groups of tools, each a small pure function where possible:

* **Diagnosis.** :func:`diagnose_fit` turns a train error, a dev error and a
  Bayes-error proxy (human level, or the best known system) into a
  :class:`Diagnosis`: the avoidable bias ``train - target``, the variance gap
  ``dev - train``, the regime and the first remedy. :func:`learning_curve`
  measures train and dev error against the training-set size and
  :func:`regime_from_curve` reads such a curve.
* **Regularisers.** Penalties (:func:`l1_penalty`, :func:`l2_penalty`,
  :func:`elastic_net_penalty`), decoupled weight decay
  (:func:`decoupled_weight_decay_`), inverted :func:`dropout`, early stopping
  (:func:`early_stopping_epoch` reads a recorded dev curve; the callback
  that stops a run and restores the best weights is
  :class:`course_lib.training.EarlyStopping`), :func:`mixup`,
  :func:`smooth_labels`, Gaussian :func:`add_gaussian_noise` and the
  :func:`max_norm` constraint. Thin adaptors plug them into
  :func:`course_lib.training.train_classifier` without changing the loop:
  :func:`penalized_loss`, :class:`InvertedDropout`, :class:`Mixup`,
  :class:`GaussianNoise`, :func:`add_max_norm_hook`.
* **Features for the examples.** :func:`clip_features` turns keyword clips
  into the fixed-size vectors the small MLPs of module 05 learn from.
* **Dev/test sizing.** :func:`split_sizes` (80/10/10 vs 98/1/1) and
  :func:`accuracy_standard_error`: how precisely a dev set of ``n`` clips can
  measure an accuracy.

Errors and accuracies are fractions in ``[0, 1]`` throughout (0.12, not 12 %).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from course_lib.checks import as_tensor, check_positive_int, check_sample_rate, check_tensor

__all__ = [
    "BIAS_REMEDIES",
    "VARIANCE_REMEDIES",
    "Diagnosis",
    "diagnose_fit",
    "LearningCurve",
    "learning_curve",
    "regime_from_curve",
    "decay_parameters",
    "l1_penalty",
    "l2_penalty",
    "elastic_net_penalty",
    "decoupled_weight_decay_",
    "dropout",
    "InvertedDropout",
    "early_stopping_epoch",
    "penalized_loss",
    "Mixup",
    "GaussianNoise",
    "add_max_norm_hook",
    "mixup",
    "smooth_labels",
    "add_gaussian_noise",
    "max_norm",
    "apply_max_norm_",
    "clip_features",
    "SPLIT_SCHEMES",
    "split_sizes",
    "accuracy_standard_error",
    "dev_size_for_standard_error",
]

#: Remedies for high avoidable bias (underfitting), first one first.
BIAS_REMEDIES: tuple[str, ...] = (
    "bigger model",
    "train longer",
    "better features",
    "less regularisation",
)
#: Remedies for high variance (overfitting), first one first.
VARIANCE_REMEDIES: tuple[str, ...] = (
    "more data",
    "regularisation",
    "augmentation",
    "smaller model",
)


# --------------------------------------------------------------------------
# validation helpers (private)
# --------------------------------------------------------------------------
def _check_fraction(value: Any, name: str) -> float:
    """A float in [0, 1] (an error or accuracy rate)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        hint = " (give fractions, e.g. 0.12 for 12 %)" if math.isfinite(value) and 1.0 < value <= 100.0 else ""
        raise ValueError(f"{name} must be a fraction in [0, 1], got {value}{hint}")
    return value


def _check_nonneg(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a non-negative number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


def _check_prob(value: Any, name: str) -> float:
    """A probability in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a float in [0, 1), got {type(value).__name__}")
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value}")
    return value


def _generator(seed: int | torch.Generator | None) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    if seed is None:
        seed = 0
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or a torch.Generator, got {type(seed).__name__}")
    return torch.Generator().manual_seed(int(seed))


# --------------------------------------------------------------------------
# diagnosis
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Diagnosis:
    """The result of :func:`diagnose_fit` (all rates are fractions).

    Attributes
    ----------
    train_error, dev_error, target_error : float
        The inputs.
    avoidable_bias : float
        ``train_error - target_error``: how far training is from the best
        achievable error.
    variance : float
        ``dev_error - train_error``: what is lost going from seen to unseen data.
    regime : str
        ``"underfit"`` (high bias), ``"overfit"`` (high variance), ``"both"``
        or ``"good fit"``.
    first_remedy : str
        What to try first: the first of :data:`BIAS_REMEDIES` when bias is
        high (bias first, also when both are), the first of
        :data:`VARIANCE_REMEDIES` for variance, ``"none"`` for a good fit.
    remedies : tuple of str
        The remedies for the problem(s) found, in the order to try them.
    """

    train_error: float
    dev_error: float
    target_error: float
    avoidable_bias: float
    variance: float
    regime: str
    first_remedy: str
    remedies: tuple[str, ...]

    @property
    def high_bias(self) -> bool:
        """True when the regime is ``underfit`` or ``both``."""
        return self.regime in ("underfit", "both")

    @property
    def high_variance(self) -> bool:
        """True when the regime is ``overfit`` or ``both``."""
        return self.regime in ("overfit", "both")


def diagnose_fit(
    train_error: float,
    dev_error: float,
    *,
    target_error: float = 0.0,
    tol: float = 0.02,
) -> Diagnosis:
    """Name the fitting regime from train and dev error.

    The avoidable bias is measured from the Bayes-error proxy
    ``target_error`` (human level, or the best known system), not from zero;
    the variance is measured from the *train* error, not from zero.

    Parameters
    ----------
    train_error, dev_error : float
        Error rates in [0, 1] on the training and dev sets.
    target_error : float
        Bayes/human-level error proxy in [0, 1] (default 0).
    tol : float
        A gap larger than ``tol`` counts as a problem (default 0.02, i.e. two
        percentage points).

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> diagnose_fit(0.15, 0.16).regime            # train far above the target of 0
    'underfit'
    >>> diagnose_fit(0.25, 0.40).regime            # and a 15-point gap on top
    'both'
    >>> d = diagnose_fit(0.01, 0.12); d.regime, d.first_remedy
    ('overfit', 'more data')
    >>> diagnose_fit(0.15, 0.16, target_error=0.14).regime   # near human level
    'good fit'
    """
    train_error = _check_fraction(train_error, "train_error")
    dev_error = _check_fraction(dev_error, "dev_error")
    target_error = _check_fraction(target_error, "target_error")
    tol = _check_nonneg(tol, "tol")
    bias = train_error - target_error
    var = dev_error - train_error
    high_bias, high_var = bias > tol, var > tol
    remedies: tuple[str, ...] = ()
    if high_bias:
        remedies += BIAS_REMEDIES
    if high_var:
        remedies += VARIANCE_REMEDIES
    regime = {
        (True, True): "both",
        (True, False): "underfit",
        (False, True): "overfit",
        (False, False): "good fit",
    }[(high_bias, high_var)]
    return Diagnosis(
        train_error=train_error,
        dev_error=dev_error,
        target_error=target_error,
        avoidable_bias=bias,
        variance=var,
        regime=regime,
        first_remedy=remedies[0] if remedies else "none",
        remedies=remedies,
    )


@dataclass(frozen=True)
class LearningCurve:
    """Train and dev error per training-set size (see :func:`learning_curve`).

    Attributes
    ----------
    sizes : numpy.ndarray of int, shape (S,)
    train_error, dev_error : numpy.ndarray of float, shape (S,)
    """

    sizes: np.ndarray
    train_error: np.ndarray
    dev_error: np.ndarray


def _labels_from(output: Any, n: int) -> torch.Tensor:
    """Predicted labels from a predictor's output: labels (n,) or scores (n, C)."""
    out = as_tensor(output, "predict(X)")
    if out.ndim == 2:
        out = out.argmax(dim=-1)
    if out.ndim != 1 or out.shape[0] != n:
        raise ValueError(
            f"predict(X) must return labels of shape ({n},) or scores of shape ({n}, C), "
            f"got shape {tuple(as_tensor(output, 'predict(X)').shape)}"
        )
    return out.long()


def _error(predict: Callable, X, y: torch.Tensor) -> float:
    pred = _labels_from(predict(X), len(y))
    return float((pred != y).float().mean())


def learning_curve(
    fit_fn: Callable[[Any, Any], Callable[[Any], Any]],
    X,
    y,
    sizes: Sequence[int],
    *,
    dev: tuple,
    seed: int = 0,
    progress: bool = False,
) -> LearningCurve:
    """Measure train and dev error as the training set grows.

    The subsets are nested: one seeded permutation of the training set, and
    each size takes its first ``n`` items, so a bigger set holds the smaller
    ones (the curve then shows the effect of data, not of a new draw).

    Parameters
    ----------
    fit_fn : callable
        ``fit_fn(X_sub, y_sub) -> predict``; ``predict(X)`` returns labels
        ``(N,)`` or class scores ``(N, C)``. It should seed its own model.
    X : torch.Tensor or numpy.ndarray, shape (N, ...)
        Training inputs (passed to ``fit_fn`` sliced, same type).
    y : torch.Tensor or numpy.ndarray of int, shape (N,)
        Training labels.
    sizes : sequence of int
        Training-set sizes, each in ``[1, N]``.
    dev : tuple (X_dev, y_dev)
        The dev set every size is scored on.
    seed : int
        Seed of the permutation that picks the subsets.
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    LearningCurve

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(20.0)[:, None]; y = (X[:, 0] > 9).astype(int)
    >>> def fit(Xs, ys):             # a threshold at the midpoint of the classes
    ...     t = (Xs[ys == 0].max() + Xs[ys == 1].min()) / 2 if len(set(ys)) > 1 else np.inf
    ...     return lambda Z: (Z[:, 0] > t).astype(int)
    >>> lc = learning_curve(fit, X, y, [4, 20], dev=(X, y))
    >>> lc.sizes.tolist(), lc.train_error.tolist(), float(lc.dev_error[-1])
    ([4, 20], [0.0, 0.0], 0.0)
    """
    if not callable(fit_fn):
        raise TypeError(f"fit_fn must be callable (X, y) -> predict, got {type(fit_fn).__name__}")
    y_t = check_tensor(y, "y", ndim=1, dtypes=(torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8))
    n = len(y_t)
    if len(X) != n:
        raise ValueError(f"X and y must have the same length, got {len(X)} and {n}")
    if not isinstance(dev, (tuple, list)) or len(dev) != 2:
        raise TypeError("dev must be a tuple (X_dev, y_dev)")
    X_dev, y_dev = dev
    y_dev_t = check_tensor(y_dev, "dev y", ndim=1).long()
    if len(X_dev) != len(y_dev_t):
        raise ValueError(f"dev X and y must have the same length, got {len(X_dev)} and {len(y_dev_t)}")
    sizes = [check_positive_int(s, "size") for s in sizes]
    if not sizes:
        raise ValueError("sizes is empty; give at least one training-set size")
    if max(sizes) > n:
        raise ValueError(f"sizes must lie in [1, {n}] (the training-set size), got max {max(sizes)}")
    order = torch.randperm(n, generator=_generator(seed))
    if isinstance(X, np.ndarray):
        order_idx = order.numpy()
    else:
        order_idx = order
    y_native_np = isinstance(y, np.ndarray)
    train_err, dev_err = [], []
    it: Iterable[int] = sizes
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(sizes, desc="learning curve")
    for size in it:
        idx = order_idx[:size]
        X_sub = X[idx]
        y_sub = y[idx.numpy() if (y_native_np and isinstance(idx, torch.Tensor)) else idx]
        predict = fit_fn(X_sub, y_sub)
        if not callable(predict):
            raise TypeError(f"fit_fn must return a callable predict(X), got {type(predict).__name__}")
        train_err.append(_error(predict, X_sub, y_t[order[:size]].long()))
        dev_err.append(_error(predict, X_dev, y_dev_t))
    return LearningCurve(np.asarray(sizes), np.asarray(train_err), np.asarray(dev_err))


def regime_from_curve(
    sizes: Sequence[int],
    train_error: Sequence[float],
    dev_error: Sequence[float],
    *,
    target_error: float = 0.0,
    tol: float = 0.02,
    slope_tol: float = 0.01,
) -> Diagnosis:
    """Read a learning curve: name the regime and the first remedy.

    The regime comes from the largest training size (:func:`diagnose_fit`).
    The curve then says *which* variance remedy comes first: if the dev
    error was still falling over the last doubling of data (by more than
    ``slope_tol``), more data is the first remedy; if it has flattened, more
    data of the same kind will not close the gap and regularisation comes
    first. High bias always takes ``"bigger model"`` first: when train and
    dev error have met on a plateau above the target, more data cannot help.

    Parameters
    ----------
    sizes : sequence of int, increasing
    train_error, dev_error : sequence of float in [0, 1], same length
    target_error, tol : float
        As in :func:`diagnose_fit`.
    slope_tol : float
        Smallest dev-error drop per doubling of data that counts as "still
        improving" (default 0.01).

    Returns
    -------
    Diagnosis
        ``first_remedy`` is ``"bigger model"``, ``"more data"``,
        ``"regularisation"`` or ``"none"``.

    Examples
    --------
    >>> regime_from_curve([100, 200, 400], [0.0, 0.01, 0.02], [0.40, 0.30, 0.20]).first_remedy
    'more data'
    >>> regime_from_curve([100, 200, 400], [0.0, 0.0, 0.0], [0.21, 0.20, 0.20]).first_remedy
    'regularisation'
    >>> regime_from_curve([100, 200, 400], [0.2, 0.3, 0.33], [0.5, 0.38, 0.35]).regime
    'underfit'
    """
    s = np.asarray(sizes)
    tr = np.asarray(train_error, dtype=float)
    dv = np.asarray(dev_error, dtype=float)
    if s.ndim != 1 or tr.shape != s.shape or dv.shape != s.shape or s.size == 0:
        raise ValueError(
            f"sizes, train_error and dev_error must be 1-D of the same non-zero length, "
            f"got shapes {s.shape}, {tr.shape}, {dv.shape}"
        )
    if not np.issubdtype(s.dtype, np.integer) or (s <= 0).any():
        raise ValueError(f"sizes must be positive ints, got {s.tolist()}")
    if (np.diff(s) <= 0).any():
        raise ValueError(f"sizes must be strictly increasing, got {s.tolist()}")
    for name, arr in (("train_error", tr), ("dev_error", dv)):
        if not np.isfinite(arr).all() or (arr < 0).any() or (arr > 1).any():
            raise ValueError(f"{name} must hold fractions in [0, 1], got {arr.tolist()}")
    slope_tol = _check_nonneg(slope_tol, "slope_tol")
    d = diagnose_fit(float(tr[-1]), float(dv[-1]), target_error=target_error, tol=tol)
    if d.regime != "overfit":
        return d
    if s.size >= 2:
        # dev-error drop per doubling of data over the last interval
        drop_per_doubling = (dv[-2] - dv[-1]) / math.log2(s[-1] / s[-2])
        still_improving = drop_per_doubling > slope_tol
    else:
        still_improving = True
    if still_improving:
        return d
    remedies = ("regularisation", "augmentation", "more data", "smaller model")
    return Diagnosis(**{**d.__dict__, "first_remedy": remedies[0], "remedies": remedies})


# --------------------------------------------------------------------------
# penalties and weight decay
# --------------------------------------------------------------------------
def decay_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters that regularisers act on: weight matrices (ndim >= 2).

    Biases and normalisation gains/offsets are left out, as is usual (they are
    few, and shrinking a LayerNorm gain towards 0 only hurts).

    Examples
    --------
    >>> m = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    >>> [tuple(p.shape) for p in decay_parameters(m)]
    [(4, 3), (2, 4)]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [p for p in model.parameters() if p.ndim >= 2]


def _params(params) -> list[torch.Tensor]:
    if isinstance(params, nn.Module):
        out = decay_parameters(params)
    elif isinstance(params, torch.Tensor):
        out = [params]
    else:
        try:
            out = list(params)
        except TypeError:
            raise TypeError(
                f"params must be an nn.Module, a tensor or an iterable of tensors, "
                f"got {type(params).__name__}"
            ) from None
        for p in out:
            if not isinstance(p, torch.Tensor):
                raise TypeError(f"params must hold tensors, got {type(p).__name__}")
    if not out:
        raise ValueError("params is empty; nothing to regularise")
    return out


def l1_penalty(params, lam: float) -> torch.Tensor:
    """L1 (lasso) penalty ``lam * sum |w|``; pushes weights to exactly 0.

    Parameters
    ----------
    params : nn.Module, tensor or iterable of tensors
        A module contributes its weight matrices (:func:`decay_parameters`).
    lam : float
        Strength, >= 0.

    Returns
    -------
    torch.Tensor
        A scalar, differentiable; add it to the loss.

    Examples
    --------
    >>> l1_penalty(torch.tensor([1.0, -2.0]), 0.1)
    tensor(0.3000)
    """
    lam = _check_nonneg(lam, "lam")
    return lam * sum(p.abs().sum() for p in _params(params))


def l2_penalty(params, lam: float) -> torch.Tensor:
    """L2 (ridge) penalty ``lam / 2 * sum w**2``.

    With the factor 1/2 its gradient is ``lam * w``, so adding it to the
    loss under plain SGD is exactly ``torch.optim.SGD(weight_decay=lam)``.

    Examples
    --------
    >>> l2_penalty(torch.tensor([1.0, -2.0]), 0.1)
    tensor(0.2500)
    """
    lam = _check_nonneg(lam, "lam")
    return 0.5 * lam * sum(p.pow(2).sum() for p in _params(params))


def elastic_net_penalty(params, lam: float, l1_ratio: float = 0.5) -> torch.Tensor:
    """Elastic net: ``lam * (l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2**2)``.

    The same scaling as scikit-learn's ``ElasticNet(alpha=lam, l1_ratio=...)``:
    ``l1_ratio=1`` is :func:`l1_penalty`, ``l1_ratio=0`` is :func:`l2_penalty`.

    Examples
    --------
    >>> elastic_net_penalty(torch.tensor([1.0, -2.0]), 0.1, l1_ratio=0.5)
    tensor(0.2750)
    """
    lam = _check_nonneg(lam, "lam")
    if isinstance(l1_ratio, bool) or not isinstance(l1_ratio, (int, float)) or not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"l1_ratio must be a number in [0, 1], got {l1_ratio!r}")
    ps = _params(params)
    return l1_ratio * l1_penalty(ps, lam) + (1.0 - l1_ratio) * l2_penalty(ps, lam)


@torch.no_grad()
def decoupled_weight_decay_(params, lr: float, weight_decay: float) -> None:
    """Shrink weights in place, ``w <- w * (1 - lr * weight_decay)``.

    *Decoupled* weight decay (Loshchilov and Hutter, AdamW): the shrink is
    applied to the weights directly, outside the adaptive update, so every
    weight decays at the same rate. Calling this and then ``Adam.step()``
    (with ``weight_decay=0``) is exactly ``AdamW.step()``. Putting an L2 term
    in Adam's gradient instead (``Adam(weight_decay=...)``) is *not* the same:
    Adam divides it by the running gradient scale, so weights with large
    gradients barely decay.

    Parameters
    ----------
    params : nn.Module, tensor or iterable of tensors
    lr : float
        The optimizer's current learning rate.
    weight_decay : float
        Decay per unit learning rate, >= 0.

    Examples
    --------
    >>> w = torch.tensor([1.0, -2.0])
    >>> decoupled_weight_decay_([w], lr=0.1, weight_decay=0.5); w
    tensor([ 0.9500, -1.9000])
    """
    lr = _check_nonneg(lr, "lr")
    weight_decay = _check_nonneg(weight_decay, "weight_decay")
    for p in _params(params):
        p.mul_(1.0 - lr * weight_decay)


def penalized_loss(
    model: nn.Module,
    penalty: Callable[[nn.Module], torch.Tensor],
    base_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """A ``loss_fn(logits, y)`` that adds ``penalty(model)`` while the model trains.

    For :func:`course_lib.training.train_classifier`. The penalty is added
    only when ``model.training`` is True, so the train/dev losses that
    :func:`course_lib.training.evaluate` reports (in eval mode) stay plain
    data losses, comparable between regularised and unregularised runs.

    Parameters
    ----------
    model : nn.Module
    penalty : callable
        ``penalty(model) -> scalar``, e.g. ``lambda m: l2_penalty(m, 1e-3)``.
    base_loss : callable, optional
        ``F.cross_entropy`` by default.

    Examples
    --------
    >>> m = nn.Linear(2, 2)
    >>> loss_fn = penalized_loss(m, lambda mod: l1_penalty(mod, 1.0))
    >>> logits, y = torch.zeros(1, 2), torch.tensor([0])
    >>> in_training = loss_fn(logits, y).detach()      # data loss + penalty
    >>> _ = m.eval(); in_eval = loss_fn(logits, y)     # data loss only
    >>> bool(in_training > in_eval)
    True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(penalty):
        raise TypeError(f"penalty must be callable (model) -> scalar, got {type(penalty).__name__}")
    base = nn.functional.cross_entropy if base_loss is None else base_loss

    def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = base(logits, y)
        return loss + penalty(model) if model.training else loss

    return loss_fn


# --------------------------------------------------------------------------
# dropout
# --------------------------------------------------------------------------
def dropout(
    x: torch.Tensor,
    p: float,
    *,
    training: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Inverted dropout: zero each element with probability ``p``, scale the rest by ``1/(1-p)``.

    The rescaling at *train* time keeps every activation's expected value
    unchanged, so at eval time the layer is the identity (no scaling).

    Parameters
    ----------
    x : torch.Tensor, any shape
        Activations (floating point).
    p : float
        Drop probability in [0, 1).
    training : bool
        ``False`` returns ``x`` unchanged.
    generator : torch.Generator, optional
        For a reproducible mask.

    Returns
    -------
    torch.Tensor, same shape as ``x``

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> dropout(torch.ones(6), 0.5, generator=g)
    tensor([0., 2., 0., 0., 0., 2.])
    >>> dropout(torch.ones(3), 0.5, training=False)
    tensor([1., 1., 1.])
    """
    x = check_tensor(x, "x", floating=True, nonempty=False)
    p = _check_prob(p, "p")
    if not training or p == 0.0:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p
    return x * keep.to(x.dtype) / (1.0 - p)


class InvertedDropout(nn.Module):
    """:func:`dropout` as a layer (follows ``self.training``, like ``nn.Dropout``).

    Examples
    --------
    >>> layer = InvertedDropout(0.5).eval()
    >>> layer(torch.ones(2))
    tensor([1., 1.])
    """

    def __init__(self, p: float = 0.5, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = _check_prob(p, "p")
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, training=self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# --------------------------------------------------------------------------
# early stopping
# --------------------------------------------------------------------------
def early_stopping_epoch(
    values: Sequence[float],
    patience: int,
    *,
    min_delta: float = 0.0,
    mode: str = "min",
) -> tuple[int, int]:
    """Where early stopping would stop on a recorded dev curve.

    Parameters
    ----------
    values : sequence of float
        The monitored dev metric per epoch (epoch 0 first).
    patience : int
        Epochs without an improvement of more than ``min_delta`` before
        stopping.
    min_delta : float
        Smallest change that counts as an improvement.
    mode : {"min", "max"}
        ``"min"`` for a loss or an error, ``"max"`` for an accuracy.

    Returns
    -------
    (best_epoch, stop_epoch) : tuple of int
        The epoch whose weights to keep, and the last epoch trained
        (``len(values) - 1`` if patience never ran out).

    Examples
    --------
    >>> early_stopping_epoch([0.9, 0.5, 0.4, 0.45, 0.5, 0.6, 0.3], patience=3)
    (2, 5)
    """
    patience = check_positive_int(patience, "patience")
    min_delta = _check_nonneg(min_delta, "min_delta")
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("values is empty; give the dev metric of at least one epoch")
    sign = 1.0 if mode == "min" else -1.0
    best, best_epoch, waited = math.inf, 0, 0
    for epoch, v in enumerate(vals):
        if not math.isfinite(v):
            raise ValueError(f"values must be finite, got {v} at epoch {epoch}")
        if sign * v < best - min_delta:
            best, best_epoch, waited = sign * v, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, len(vals) - 1


# --------------------------------------------------------------------------
# mixup, label smoothing, noise
# --------------------------------------------------------------------------
def _check_labels(y, n_classes: int, batch: int | None = None) -> torch.Tensor:
    y = check_tensor(y, "y", ndim=1)
    if y.is_floating_point() or y.dtype == torch.bool:
        raise TypeError(f"y must hold integer class indices, got dtype {y.dtype}")
    if batch is not None and y.shape[0] != batch:
        raise ValueError(f"y must have shape ({batch},) to match x, got {tuple(y.shape)}")
    if int(y.min()) < 0 or int(y.max()) >= n_classes:
        raise ValueError(f"y must lie in [0, {n_classes - 1}], got range [{int(y.min())}, {int(y.max())}]")
    return y.long()


def mixup(
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    *,
    alpha: float = 0.2,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Mixup (Zhang et al. 2018): blend each example with a shuffled partner.

    ``lam ~ Beta(alpha, alpha)``, one draw per batch and the *same* ``lam``
    for inputs and labels: ``x' = lam * x + (1 - lam) * x[perm]`` and
    ``y' = lam * onehot(y) + (1 - lam) * onehot(y[perm])`` (soft targets;
    train on them with :func:`course_lib.losses.cross_entropy`, which takes
    soft targets).

    Parameters
    ----------
    x : torch.Tensor, shape (B, ...)
    y : torch.Tensor of int, shape (B,)
    n_classes : int
    alpha : float
        Beta concentration, > 0 (small alpha: ``lam`` near 0 or 1).
    generator : torch.Generator, optional
        Seeds the permutation and ``lam``.

    Returns
    -------
    x_mix : torch.Tensor, shape (B, ...)
    y_soft : torch.Tensor, shape (B, n_classes)
        Rows sum to 1.
    lam : float

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> xm, ym, lam = mixup(torch.eye(2), torch.tensor([0, 1]), 2, alpha=1.0, generator=g)
    >>> torch.allclose(xm, ym)          # one-hot inputs: x and y mix alike
    True
    """
    x = check_tensor(x, "x", min_ndim=1, floating=True)
    n_classes = check_positive_int(n_classes, "n_classes")
    y = _check_labels(y, n_classes, batch=x.shape[0])
    alpha = _check_nonneg(alpha, "alpha")
    if alpha == 0.0:
        raise ValueError("alpha must be > 0 (alpha -> 0 is no mixing: skip mixup instead)")
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    # Beta(a, a) by inverting its CDF at a uniform drawn from our generator
    # (torch.distributions.Beta takes no generator)
    from scipy.special import betaincinv

    u = float(torch.rand((), generator=g, dtype=torch.float64))
    lam = float(betaincinv(alpha, alpha, u))
    perm = torch.randperm(x.shape[0], generator=g)
    onehot = nn.functional.one_hot(y, n_classes).to(x.dtype)
    x_mix = lam * x + (1.0 - lam) * x[perm]
    y_soft = lam * onehot + (1.0 - lam) * onehot[perm]
    return x_mix, y_soft, lam


class Mixup(nn.Module):
    """Wrap a classifier so that it trains on mixup batches (for ``train_classifier``).

    In training mode ``forward(x)`` mixes the batch (:func:`mixup`'s rule,
    one ``lam`` per batch) and remembers the partner permutation and
    ``lam``; :meth:`loss` then scores the logits against the equally mixed
    targets, ``lam * CE(logits, y) + (1 - lam) * CE(logits, y[perm])``,
    which equals cross-entropy against the soft targets of :func:`mixup`
    (cross-entropy is linear in the target). In eval mode both are plain.

    Pass the wrapper as the model and ``wrapper.loss`` as ``loss_fn``.

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, F)`` to ``(B, K)`` logits.
    alpha : float
        Beta concentration of ``lam``.
    seed : int
        Seeds ``lam`` and the permutations.

    Examples
    --------
    >>> wrapped = Mixup(nn.Linear(3, 2), alpha=0.4)
    >>> logits = wrapped(torch.randn(4, 3, generator=torch.Generator().manual_seed(0)))
    >>> 0.0 <= wrapped.lam_ <= 1.0, wrapped.loss(logits, torch.tensor([0, 1, 1, 0])).ndim
    (True, 0)
    """

    def __init__(self, model: nn.Module, alpha: float = 0.2, *, seed: int = 0) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.alpha = _check_nonneg(alpha, "alpha")
        if self.alpha == 0.0:
            raise ValueError("alpha must be > 0")
        self.generator = _generator(seed)
        self.lam_: float | None = None
        self.perm_: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.model(x)
        from scipy.special import betaincinv

        u = float(torch.rand((), generator=self.generator, dtype=torch.float64))
        self.lam_ = float(betaincinv(self.alpha, self.alpha, u))
        self.perm_ = torch.randperm(x.shape[0], generator=self.generator)
        return self.model(self.lam_ * x + (1.0 - self.lam_) * x[self.perm_])

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mixed cross-entropy in training mode, plain cross-entropy in eval mode."""
        ce = nn.functional.cross_entropy
        if not self.training or self.perm_ is None:
            return ce(logits, y)
        if self.perm_.shape[0] != y.shape[0]:
            raise RuntimeError("Mixup.loss must be called on the batch of the last forward()")
        return self.lam_ * ce(logits, y) + (1.0 - self.lam_) * ce(logits, y[self.perm_])


def smooth_labels(y: torch.Tensor, n_classes: int, eps: float) -> torch.Tensor:
    """Label smoothing: ``(1 - eps) * onehot(y) + eps / n_classes``.

    The target distribution that ``label_smoothing=eps`` stands for in
    :func:`course_lib.losses.cross_entropy` (and ``F.cross_entropy``):
    cross-entropy against these soft targets equals cross-entropy with
    ``label_smoothing=eps`` against ``y``.

    Parameters
    ----------
    y : torch.Tensor of int, shape (B,)
    n_classes : int
    eps : float in [0, 1)

    Returns
    -------
    torch.Tensor, shape (B, n_classes), float32

    Examples
    --------
    >>> smooth_labels(torch.tensor([0]), 4, 0.2)
    tensor([[0.8500, 0.0500, 0.0500, 0.0500]])
    """
    n_classes = check_positive_int(n_classes, "n_classes")
    y = _check_labels(y, n_classes)
    eps = _check_prob(eps, "eps")
    onehot = nn.functional.one_hot(y, n_classes).float()
    return (1.0 - eps) * onehot + eps / n_classes


def add_gaussian_noise(
    x: torch.Tensor,
    std: float,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Noise injection: ``x + std * N(0, 1)`` (a fresh draw each call).

    Used on (normalised) input features during training only; the model
    learns to ignore perturbations of that size.

    Parameters
    ----------
    x : torch.Tensor, any shape, floating
    std : float, >= 0
    generator : torch.Generator, optional

    Examples
    --------
    >>> x = torch.zeros(10000)
    >>> round(float(add_gaussian_noise(x, 0.5, generator=torch.Generator().manual_seed(0)).std()), 1)
    0.5
    """
    x = check_tensor(x, "x", floating=True)
    std = _check_nonneg(std, "std")
    if std == 0.0:
        return x
    return x + std * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


class GaussianNoise(nn.Module):
    """Noise-injection layer: adds ``N(0, std**2)`` in training mode, identity in eval.

    Put it first in a model to perturb the inputs
    (``nn.Sequential(GaussianNoise(0.3), classifier)``).

    Examples
    --------
    >>> layer = GaussianNoise(0.5, seed=0)
    >>> bool((layer(torch.zeros(3)) != 0).all()), layer.eval()(torch.zeros(3)).tolist()
    (True, [0.0, 0.0, 0.0])
    """

    def __init__(self, std: float, *, seed: int = 0) -> None:
        super().__init__()
        self.std = _check_nonneg(std, "std")
        self.generator = _generator(seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        return add_gaussian_noise(x, self.std, generator=self.generator)

    def extra_repr(self) -> str:
        return f"std={self.std}"


# --------------------------------------------------------------------------
# max-norm
# --------------------------------------------------------------------------
def max_norm(weight: torch.Tensor, max_value: float, *, eps: float = 1e-7) -> torch.Tensor:
    """Max-norm constraint: rescale each row of ``weight`` to L2 norm <= ``max_value``.

    For ``nn.Linear`` the weight is ``(out_features, in_features)``, so a row
    is the incoming weight vector of one unit. Rows already inside the ball
    are unchanged. Same as ``torch.renorm(weight, 2, 0, max_value)``.

    Parameters
    ----------
    weight : torch.Tensor, shape (out, ...)
    max_value : float, > 0
    eps : float
        Guards the division (as in ``torch.renorm``).

    Returns
    -------
    torch.Tensor, same shape

    Examples
    --------
    >>> max_norm(torch.tensor([[3.0, 4.0], [0.3, 0.4]]), 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    weight = check_tensor(weight, "weight", min_ndim=2, floating=True)
    max_value = _check_nonneg(max_value, "max_value")
    if max_value == 0.0:
        raise ValueError("max_value must be > 0")
    norms = weight.flatten(1).norm(dim=1)  # (out,)
    scale = torch.where(norms > max_value, max_value / (norms + eps), torch.ones_like(norms))
    return weight * scale.view(-1, *([1] * (weight.ndim - 1)))


@torch.no_grad()
def apply_max_norm_(model: nn.Module, max_value: float) -> nn.Module:
    """Apply :func:`max_norm` in place to every ``nn.Linear`` weight of ``model``.

    Call it after each optimizer step.

    Examples
    --------
    >>> m = nn.Linear(2, 1); _ = nn.init.constant_(m.weight, 3.0)
    >>> round(apply_max_norm_(m, 1.0).weight.norm().item(), 4)
    1.0
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for mod in model.modules():
        if isinstance(mod, nn.Linear):
            mod.weight.copy_(max_norm(mod.weight, max_value))
    return model


def add_max_norm_hook(model: nn.Module, max_value: float) -> list:
    """Keep every ``nn.Linear`` row inside the max-norm ball during training.

    Registers a forward pre-hook on each ``nn.Linear`` that projects its
    weight (:func:`max_norm`, in place, no grad) before it is used. The
    projection is idempotent, so projecting before each forward is the same
    as projecting after each optimizer step, with no change to the training
    loop.

    Returns
    -------
    list of handles
        Call ``h.remove()`` on each to lift the constraint.

    Examples
    --------
    >>> m = nn.Linear(2, 1); _ = nn.init.constant_(m.weight, 3.0)
    >>> handles = add_max_norm_hook(m, 1.0); _ = m(torch.zeros(1, 2))
    >>> round(m.weight.norm().item(), 4), len(handles)
    (1.0, 1)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    max_value = _check_nonneg(max_value, "max_value")
    if max_value == 0.0:
        raise ValueError("max_value must be > 0")

    def project(module: nn.Module, inputs):
        with torch.no_grad():
            module.weight.copy_(max_norm(module.weight, max_value))

    return [m.register_forward_pre_hook(project) for m in model.modules() if isinstance(m, nn.Linear)]


# --------------------------------------------------------------------------
# features for the examples
# --------------------------------------------------------------------------
def clip_features(
    waves: torch.Tensor,
    sample_rate: int = 16000,
    *,
    n_mels: int = 40,
    half_window: int = 36,
    n_segments: int = 4,
) -> torch.Tensor:
    """Fixed-size clip vectors for a small MLP: pooled log-mel around the energy centre.

    A keyword sits at a random offset in its clip. For each clip the
    log-mel spectrogram (:func:`course_lib.audio.log_mel`, 10 ms hop) is
    cropped to ``2 * half_window`` frames centred on the clip's energy
    centre (the softmax-weighted mean frame of the log energy, clamped so
    that the window stays inside the clip); the crop is cut into
    ``n_segments`` equal parts and pooled: the mean of each band per part,
    then the standard deviation of each band over the whole crop.

    Parameters
    ----------
    waves : torch.Tensor, shape (N, time), floating
        Waveforms in [-1, 1], all the same length.
    sample_rate : int
        In Hz (default 16000).
    n_mels : int
        Mel bands ``F`` (default 40).
    half_window : int
        Half the crop, in frames (default 36: 0.72 s at a 10 ms hop).
    n_segments : int
        Time parts the crop is averaged over; must divide ``2 * half_window``.

    Returns
    -------
    torch.Tensor, shape (N, (n_segments + 1) * n_mels)
        ``n_segments * n_mels`` segment means (band-major: band 0's
        segments first), then ``n_mels`` standard deviations; (N, 200) with
        the defaults.

    Examples
    --------
    >>> waves = torch.zeros(2, 16000); waves[:, 3000:6000] = 0.1 * torch.randn(2, 3000, generator=torch.Generator().manual_seed(0))
    >>> clip_features(waves).shape
    torch.Size([2, 200])
    """
    waves = check_tensor(waves, "waves", ndim=2, floating=True)
    sample_rate = check_sample_rate(sample_rate)
    n_mels = check_positive_int(n_mels, "n_mels")
    half_window = check_positive_int(half_window, "half_window")
    n_segments = check_positive_int(n_segments, "n_segments")
    if (2 * half_window) % n_segments:
        raise ValueError(
            f"n_segments must divide the window of 2 * half_window = {2 * half_window} frames, got {n_segments}"
        )
    from course_lib.audio import log_mel

    lm = log_mel(waves, sample_rate, n_mels=n_mels)  # (N, time) -> (N, F, T)
    n_frames = lm.shape[-1]
    if n_frames < 2 * half_window:
        hop = 160  # log_mel's default hop_length, in samples
        raise ValueError(
            f"waves are too short for the window: need at least {2 * half_window} frames "
            f"(about {(2 * half_window - 1) * hop} samples at a {hop}-sample hop), got {n_frames} frames "
            f"from {waves.shape[-1]} samples; pad the clips or lower half_window"
        )
    energy = lm.logsumexp(dim=1)  # (N, F, T) -> (N, T)
    frames = torch.arange(n_frames, dtype=lm.dtype)
    centre = (torch.softmax(energy, dim=-1) * frames).sum(-1).round().long()  # (N,)
    centre = centre.clamp(half_window, n_frames - half_window)
    idx = centre[:, None] + torch.arange(-half_window, half_window)[None, :]  # (N, 2 * half_window)
    crop = torch.gather(lm, 2, idx[:, None, :].expand(-1, n_mels, -1))  # (N, F, 2 * half_window)
    segments = torch.stack([s.mean(-1) for s in crop.chunk(n_segments, dim=-1)], dim=-1)  # (N, F, n_segments)
    return torch.cat([segments.flatten(1), crop.std(-1)], dim=1)  # (N, (n_segments + 1) * F)


# --------------------------------------------------------------------------
# dev/test sizing
# --------------------------------------------------------------------------
#: Named split schemes: the pre-deep-learning 80/10/10 and the big-data 98/1/1.
SPLIT_SCHEMES: dict[str, tuple[float, float, float]] = {
    "80/10/10": (0.8, 0.1, 0.1),
    "60/20/20": (0.6, 0.2, 0.2),
    "98/1/1": (0.98, 0.01, 0.01),
}


def split_sizes(n: int, scheme: str | Sequence[float] = "80/10/10") -> tuple[int, int, int]:
    """Train/dev/test sizes for ``n`` examples under a split scheme.

    Dev and test get ``floor(fraction * n)``; train gets the rest, so the
    three always sum to ``n``.

    Parameters
    ----------
    n : int
    scheme : str or (train, dev, test) fractions
        A key of :data:`SPLIT_SCHEMES` or three fractions summing to 1.

    Examples
    --------
    >>> split_sizes(10_000, "80/10/10")
    (8000, 1000, 1000)
    >>> split_sizes(1_000_000, "98/1/1")
    (980000, 10000, 10000)
    """
    n = check_positive_int(n, "n")
    if isinstance(scheme, str):
        if scheme not in SPLIT_SCHEMES:
            raise ValueError(f"scheme must be one of {sorted(SPLIT_SCHEMES)} or 3 fractions, got {scheme!r}")
        fracs = SPLIT_SCHEMES[scheme]
    else:
        fracs = tuple(float(f) for f in scheme)
        if len(fracs) != 3 or min(fracs) < 0 or not math.isclose(sum(fracs), 1.0, abs_tol=1e-9):
            raise ValueError(f"scheme must be 3 non-negative fractions summing to 1, got {scheme!r}")
    dev = int(math.floor(fracs[1] * n + 1e-9))
    test = int(math.floor(fracs[2] * n + 1e-9))
    return n - dev - test, dev, test


def accuracy_standard_error(acc: float, n: int) -> float:
    """Standard error of an accuracy measured on ``n`` independent examples.

    ``sqrt(acc * (1 - acc) / n)`` (binomial); a 95 % interval is about
    ``acc +- 1.96 * se``. Two models whose accuracies differ by less than a
    couple of standard errors cannot be told apart on that dev set.

    Examples
    --------
    >>> round(accuracy_standard_error(0.9, 100), 4)     # 1 % of 10k clips
    0.03
    >>> round(accuracy_standard_error(0.9, 10_000), 4)  # 1 % of a million
    0.003
    """
    acc = _check_fraction(acc, "acc")
    n = check_positive_int(n, "n")
    return math.sqrt(acc * (1.0 - acc) / n)


def dev_size_for_standard_error(acc: float, se: float) -> int:
    """Smallest dev-set size whose accuracy standard error is <= ``se``.

    Examples
    --------
    >>> dev_size_for_standard_error(0.9, 0.003)
    10000
    """
    acc = _check_fraction(acc, "acc")
    se = _check_nonneg(se, "se")
    if se == 0.0:
        raise ValueError("se must be > 0")
    return max(1, math.ceil(acc * (1.0 - acc) / se**2 - 1e-9))
