"""Generalization: diagnose bias and variance, read learning curves, size dev and test sets.

Three groups of tools, each a small pure function where possible:

* **Diagnosis.** :func:`diagnose_fit` turns a train error, a dev error and a
  Bayes-error proxy (human level, or the best known system) into a
  :class:`Diagnosis`: the avoidable bias ``train - target``, the variance gap
  ``dev - train``, the regime and the first remedy. :func:`learning_curve`
  measures train and dev error against the training-set size and
  :func:`regime_from_curve` reads such a curve; :func:`cycle_to_steps` gives
  every size the same number of optimiser steps, and
  :func:`stratified_holdout` draws a train-dev set with the class mix of
  the training set.
* **Regularisers** live in :mod:`course_lib.regularization`.
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
from course_lib.checks import as_tensor, check_positive_int, check_tensor

__all__ = [
    "BIAS_REMEDIES",
    "VARIANCE_REMEDIES",
    "Diagnosis",
    "diagnose_fit",
    "LearningCurve",
    "learning_curve",
    "regime_from_curve",
    "cycle_to_steps",
    "stratified_holdout",
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


def cycle_to_steps(X, y, steps: int, batch_size: int, *, seed: int = 0) -> tuple:
    """A training set of exactly ``steps * batch_size`` examples: successive shuffled passes over ``(X, y)``.

    One epoch of :func:`course_lib.training.train_classifier` over it (with
    the same ``batch_size``) is exactly ``steps`` optimiser steps, whatever
    the size of ``(X, y)``. Learning-curve points trained this way differ in
    the amount of data only, not in the number of updates (with a fixed
    number of *epochs*, a 10x smaller subset would also get 10x fewer steps).

    Parameters
    ----------
    X : torch.Tensor, shape (N, ...)
    y : torch.Tensor, shape (N,)
    steps, batch_size : int
    seed : int
        Seeds the order of each pass.

    Returns
    -------
    (X_rep, y_rep) : tuple of torch.Tensor, shapes (steps * batch_size, ...) and (steps * batch_size,)

    Examples
    --------
    >>> X, y = torch.arange(5.0)[:, None], torch.arange(5)
    >>> Xr, yr = cycle_to_steps(X, y, steps=4, batch_size=3)
    >>> Xr.shape, sorted(torch.bincount(yr).tolist())    # 12 examples: two full passes, then 2 more
    (torch.Size([12, 1]), [2, 2, 2, 3, 3])
    """
    X = check_tensor(X, "X", min_ndim=1)
    y = check_tensor(y, "y", ndim=1)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    gen = _generator(seed)
    need, n = steps * batch_size, len(y)
    passes = [torch.randperm(n, generator=gen) for _ in range(math.ceil(need / n))]
    idx = torch.cat(passes)[:need]
    return X[idx], y[idx]


def stratified_holdout(labels, fraction: float, *, seed: int = 0) -> np.ndarray:
    """A boolean mask that holds out ``round(fraction * n_k)`` items of every class ``k``.

    Use it for a train-dev set (held-out clips of the training speakers):
    with a plain random draw of a few dozen clips, an easy class can be
    3x over-represented by chance and the train-dev error then says more
    about the class mix than about variance.

    Parameters
    ----------
    labels : sequence, numpy.ndarray or torch.Tensor, shape (N,)
        Class (or any stratum) of each item.
    fraction : float in [0, 1)
    seed : int

    Returns
    -------
    numpy.ndarray of bool, shape (N,)
        ``True`` for the held-out items.

    Examples
    --------
    >>> mask = stratified_holdout(["a"] * 10 + ["b"] * 20, 0.2)
    >>> int(mask[:10].sum()), int(mask[10:].sum())
    (2, 4)
    """
    if isinstance(labels, torch.Tensor):
        labels = labels.numpy()
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D sequence, got shape {labels.shape}")
    fraction = _check_prob(fraction, "fraction")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    rng = np.random.default_rng(int(seed))
    mask = np.zeros(labels.size, dtype=bool)
    for k in sorted(set(labels.tolist()), key=str):
        idx = np.flatnonzero(labels == k)
        mask[rng.permutation(idx)[: int(round(fraction * idx.size))]] = True
    return mask


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
