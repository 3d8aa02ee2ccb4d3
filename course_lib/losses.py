"""Loss functions written from scratch, each equal to torch's where torch has one.

* Binary: :func:`sigmoid`, :func:`binary_cross_entropy` (on probabilities),
  :func:`binary_cross_entropy_with_logits` (on logits, numerically stable),
  and :class:`LogisticRegression` trained by hand-written gradient descent.
* Multi-class (log-probabilities from :func:`course_lib.calibration.log_softmax`,
  the course's one stable log-softmax): :func:`nll_loss` (class weights, mean
  divided by the sum of the targets' weights like torch),
  :func:`cross_entropy` (class weights, label smoothing, soft targets),
  :func:`focal_loss` and :func:`sigmoid_focal_loss`.
* Distributions and retrieval: :func:`kl_divergence` (log-probabilities in,
  like ``F.kl_div(..., log_target=True)``) and :func:`info_nce` (contrastive).

Shapes: logits ``(N, K)`` (N examples, K classes), class targets ``(N,)``
(``torch.long``), binary inputs and targets of any matching shape.
"""
from __future__ import annotations


import math

import torch
from torch import Tensor

from course_lib.calibration import log_softmax  # one stable log-softmax for the course (module 02)
from course_lib.checks import as_tensor, check_positive_int, check_tensor

__all__ = [
    "sigmoid",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "LogisticRegression",
    "nll_loss",
    "cross_entropy",
    "focal_loss",
    "sigmoid_focal_loss",
    "info_nce",
    "kl_divergence",
]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, allowed=_REDUCTIONS) -> str:
    if reduction not in allowed:
        raise ValueError(f"reduction must be one of {allowed}, got {reduction!r}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_unit_interval(value, name: str, *, closed_right: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    ok = 0.0 <= value <= 1.0 if closed_right else 0.0 <= value < 1.0
    if not ok:
        raise ValueError(f"{name} must lie in [0, 1{']' if closed_right else ')'}, got {value}")
    return float(value)


# --------------------------------------------------------------------------
# binary
# --------------------------------------------------------------------------

def sigmoid(x: Tensor) -> Tensor:
    """Logistic function ``1 / (1 + exp(-x))``, without overflow for large ``|x|``.

    For negative ``x`` it uses the equal form ``exp(x) / (1 + exp(x))`` so
    that ``exp`` never sees a large positive argument.

    Examples
    --------
    >>> sigmoid(torch.tensor([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    x = check_tensor(x, "x", floating=True, finite=False, nonempty=False)
    e = torch.exp(-x.abs())  # in (0, 1]: never overflows
    return torch.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _check_binary(pred: Tensor, target, name: str) -> tuple[Tensor, Tensor]:
    pred = check_tensor(pred, name, floating=True)
    target = check_tensor(target, "target", finite=True)
    if target.shape != pred.shape:
        raise ValueError(f"target must have the shape of {name} {tuple(pred.shape)}, got {tuple(target.shape)}")
    target = target.to(pred.dtype)
    if bool(((target < 0) | (target > 1)).any()):
        raise ValueError("target must hold values in [0, 1] (0/1 labels or soft labels)")
    return pred, target


def binary_cross_entropy(probs: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities: ``-(y log p + (1 - y) log(1 - p))``.

    Like ``torch.nn.functional.binary_cross_entropy``, each log is clamped at
    -100 so that a probability of exactly 0 or 1 gives a large finite loss.
    Prefer :func:`binary_cross_entropy_with_logits` in training: probabilities
    that round to 0 or 1 have already lost the information the loss needs.

    Parameters
    ----------
    probs : Tensor
        Predicted probabilities of the positive class, in ``[0, 1]``.
    target : Tensor
        Labels (0/1, or soft labels in ``[0, 1]``), same shape.
    reduction : {"mean", "sum", "none"}

    Examples
    --------
    >>> round(float(binary_cross_entropy(torch.tensor([0.9, 0.2]), torch.tensor([1.0, 0.0]))), 4)
    0.1643
    """
    probs, target = _check_binary(probs, target, "probs")
    _check_reduction(reduction)
    if bool(((probs < 0) | (probs > 1)).any()):
        raise ValueError("probs must lie in [0, 1]; for raw scores use binary_cross_entropy_with_logits")
    log_p = torch.log(probs).clamp_min(-100.0)
    log_1mp = torch.log1p(-probs).clamp_min(-100.0)
    return _reduce(-(target * log_p + (1.0 - target) * log_1mp), reduction)


def binary_cross_entropy_with_logits(
    logits: Tensor, target: Tensor, *, pos_weight: Tensor | float | None = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy on logits, stable for any logit size.

    With ``z`` the logit, ``-log sigmoid(z) = softplus(-z)`` and
    ``-log(1 - sigmoid(z)) = softplus(z)``, and
    ``softplus(z) = max(z, 0) + log1p(exp(-|z|))`` never overflows.
    Equals ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Parameters
    ----------
    logits : Tensor
        Raw scores (any shape).
    target : Tensor
        Labels in ``[0, 1]``, same shape.
    pos_weight : Tensor or float, optional
        Weight of the positive term (``> 1`` counts positives more; for
        imbalanced detection tasks), broadcast against the last axis.
    reduction : {"mean", "sum", "none"}

    Examples
    --------
    >>> binary_cross_entropy_with_logits(torch.tensor([1000.0, -1000.0]), torch.tensor([0.0, 1.0]), reduction="none")
    tensor([1000., 1000.])
    """
    logits, target = _check_binary(logits, target, "logits")
    _check_reduction(reduction)
    softplus_neg = torch.clamp(-logits, min=0) + torch.log1p(torch.exp(-logits.abs()))  # -log sigmoid(z)
    softplus_pos = softplus_neg + logits  # -log(1 - sigmoid(z)) = softplus(z)
    if pos_weight is None:
        loss = target * softplus_neg + (1.0 - target) * softplus_pos
    else:
        pw = _check_pos_weight(pos_weight, logits.dtype)
        if bool((pw < 0).any()):
            raise ValueError("pos_weight must be >= 0")
        loss = pw * target * softplus_neg + (1.0 - target) * softplus_pos
    return _reduce(loss, reduction)


class LogisticRegression:
    """Binary logistic regression trained by plain (full-batch) gradient descent.

    The model is ``p = sigmoid(X w + b)`` and the cost is the mean binary
    cross-entropy over the ``m`` training examples,
    ``J = (1/m) sum BCE(p_i, y_i) + (l2 / 2) ||w||^2``. Its gradient is
    written out by hand: ``dJ/dw = X^T (p - y) / m + l2 w`` and
    ``dJ/db = mean(p - y)``; no autograd is used.

    Parameters
    ----------
    lr : float
        Gradient descent step size.
    n_iter : int
        Number of full-batch steps.
    l2 : float
        L2 penalty on the weights (not the bias).

    Attributes
    ----------
    coef_ : Tensor, shape (n_features,)
    intercept_ : float
    loss_history_ : list of float
        The cost ``J`` before each step, then after the last one (``n_iter + 1`` values).

    Examples
    --------
    >>> X = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    >>> clf = LogisticRegression(lr=1.0, n_iter=500).fit(X, torch.tensor([0, 0, 1, 1]))
    >>> clf.predict(X).tolist()
    [0, 0, 1, 1]
    >>> clf.loss_history_[0] > clf.loss_history_[-1]
    True
    """

    def __init__(self, lr: float = 0.1, n_iter: int = 1000, l2: float = 0.0):
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise ValueError(f"lr must be a positive float, got {lr!r}")
        self.lr = float(lr)
        self.n_iter = check_positive_int(n_iter, "n_iter")
        if isinstance(l2, bool) or not isinstance(l2, (int, float)) or l2 < 0:
            raise ValueError(f"l2 must be a float >= 0, got {l2!r}")
        self.l2 = float(l2)

    @staticmethod
    def _check_X(X) -> Tensor:
        X = check_tensor(X, "X", ndim=2)
        return X.to(torch.float64)

    def cost(self, X, y, w: Tensor, b: float | Tensor) -> float:
        """The regularised mean BCE ``J(w, b)`` on ``(X, y)``."""
        z = X @ w + b
        bce = binary_cross_entropy_with_logits(z, y)
        return float(bce + 0.5 * self.l2 * (w @ w))

    @staticmethod
    def gradients(X: Tensor, y: Tensor, w: Tensor, b: Tensor | float, l2: float = 0.0) -> tuple[Tensor, Tensor]:
        """Analytic gradient of the mean BCE: ``(X^T (p - y) / m + l2 w, mean(p - y))``.

        Examples
        --------
        >>> X, y = torch.tensor([[1.0, 2.0]]), torch.tensor([1.0])
        >>> dw, db = LogisticRegression.gradients(X, y, torch.zeros(2), 0.0)
        >>> dw.tolist(), float(db)
        ([-0.5, -1.0], -0.5)
        """
        X, y, w, b, l2 = LogisticRegression._check_gradient_args(X, y, w, b, l2)
        m = X.shape[0]
        err = sigmoid(X @ w + b) - y  # (m,)
        return X.T @ err / m + l2 * w, err.mean()

    @staticmethod
    def _check_gradient_args(X, y, w, b, l2):
        X = check_tensor(X, "X", ndim=2, floating=True)
        y = check_tensor(y, "y", ndim=1)  # 0/1 labels, float or int
        if y.dtype == torch.bool or y.is_complex():
            raise TypeError(f"y must hold 0/1 labels as a float or int tensor, got {y.dtype}")
        w = check_tensor(w, "w", ndim=1, floating=True)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have {X.shape[0]} labels (one per row of X), got {y.shape[0]}")
        if w.shape[0] != X.shape[1]:
            raise ValueError(f"w must have {X.shape[1]} weights (one per column of X), got {w.shape[0]}")
        if isinstance(b, torch.Tensor):
            b = check_tensor(b, "b", ndim=0, floating=True)
        elif isinstance(b, bool) or not isinstance(b, (int, float)) or not math.isfinite(b):
            raise TypeError(f"b must be a finite number or a 0-d tensor, got {b!r}")
        if isinstance(l2, bool) or not isinstance(l2, (int, float)) or not math.isfinite(l2) or l2 < 0:
            raise TypeError(f"l2 must be a finite number >= 0, got {l2!r}")
        return X, y, w, b, l2

    def fit(self, X, y) -> "LogisticRegression":
        """Run ``n_iter`` gradient descent steps from ``w = 0, b = 0``.

        Parameters
        ----------
        X : Tensor or ndarray, shape (m, n_features)
        y : Tensor or ndarray, shape (m,)
            Labels 0/1.
        """
        X = self._check_X(X)
        y = check_tensor(y, "y", ndim=1).to(torch.float64)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have {X.shape[0]} labels (one per row of X), got {y.shape[0]}")
        if not bool(((y == 0) | (y == 1)).all()):
            raise ValueError("y must hold binary labels 0/1")
        w = torch.zeros(X.shape[1], dtype=torch.float64)
        b = torch.zeros((), dtype=torch.float64)
        self.loss_history_ = []
        for _ in range(self.n_iter):
            self.loss_history_.append(self.cost(X, y, w, b))
            # the formula of gradients(), without re-validating the same inputs 1000 times
            err = sigmoid(X @ w + b) - y  # (m,)
            dw, db = X.T @ err / X.shape[0] + self.l2 * w, err.mean()
            w = w - self.lr * dw
            b = b - self.lr * db
        self.loss_history_.append(self.cost(X, y, w, b))
        self.coef_, self.intercept_ = w, float(b)
        return self

    def _check_fitted(self, X) -> Tensor:
        if not hasattr(self, "coef_"):
            raise RuntimeError("LogisticRegression is not fitted yet: call fit(X, y) first")
        X = self._check_X(X)
        if X.shape[1] != self.coef_.shape[0]:
            raise ValueError(f"X must have {self.coef_.shape[0]} features, got {X.shape[1]}")
        return X

    def decision_function(self, X) -> Tensor:
        """Logits ``X w + b``, shape ``(m,)``."""
        X = self._check_fitted(X)
        return X @ self.coef_ + self.intercept_

    def predict_proba(self, X) -> Tensor:
        """Probability of the positive class, shape ``(m,)``."""
        return sigmoid(self.decision_function(X))

    def predict(self, X, threshold: float = 0.5) -> Tensor:
        """Hard 0/1 labels (``torch.long``), positive when ``p >= threshold``."""
        _check_unit_interval(threshold, "threshold")
        return (self.predict_proba(X) >= threshold).long()

    def score(self, X, y) -> float:
        """Accuracy on ``(X, y)``."""
        y = check_tensor(y, "y", ndim=1)
        return float((self.predict(X) == y.long()).double().mean())


# --------------------------------------------------------------------------
# multi-class
# --------------------------------------------------------------------------

def _check_pos_weight(pos_weight, dtype) -> Tensor:
    bad = isinstance(pos_weight, (bool, str, bytes))
    if not bad:
        try:
            pw = torch.as_tensor(pos_weight, dtype=dtype)
        except (TypeError, ValueError, RuntimeError):
            bad = True
    if bad:
        raise TypeError(f"pos_weight must be a number or a tensor of numbers, got {type(pos_weight).__name__}")
    return check_tensor(pw, "pos_weight")


_NO_IGNORE = object()  # focal_loss has no ignore_index


def _check_class_inputs(scores: Tensor, target, weight, name: str, ignore_index=_NO_IGNORE):
    if ignore_index is _NO_IGNORE:
        ignore_index = None
    elif isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(f"ignore_index must be an int (a target value to skip), got {type(ignore_index).__name__}")
    scores = check_tensor(scores, name, ndim=2, floating=True)
    n, k = scores.shape
    target = check_tensor(target, "target", ndim=1)
    if target.is_floating_point() or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer class indices (torch.long), got {target.dtype}")
    if target.shape[0] != n:
        raise ValueError(f"target must have shape ({n},) to match {name} {tuple(scores.shape)}, got {tuple(target.shape)}")
    valid = target != ignore_index if ignore_index is not None else torch.ones_like(target, dtype=torch.bool)
    tv = target[valid]
    if tv.numel() and (int(tv.min()) < 0 or int(tv.max()) >= k):
        raise ValueError(f"target must hold class indices in [0, {k - 1}], got values in [{int(tv.min())}, {int(tv.max())}]")
    if weight is not None:
        weight = check_tensor(weight, "weight", ndim=1, floating=True)
        if weight.shape[0] != k:
            raise ValueError(f"weight must have one entry per class ({k},), got {tuple(weight.shape)}")
        if bool((weight < 0).any()):
            raise ValueError("weight must be >= 0")
        weight = weight.to(scores.dtype)
    return scores, target.long(), weight, valid


def nll_loss(
    log_probs: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
    ignore_index: int = -100,
) -> Tensor:
    """Negative log-likelihood of the target classes, with optional class weights.

    Each example contributes ``-w[y_n] * log_probs[n, y_n]``. With
    ``reduction="mean"`` the sum is divided by the **sum of the weights of the
    targets**, ``sum_n w[y_n]`` (not by ``N``), exactly like
    ``torch.nn.functional.nll_loss``: the result is a weighted average of the
    per-example losses. Targets equal to ``ignore_index`` (padding) count for
    nothing.

    Parameters
    ----------
    log_probs : Tensor, shape (N, K)
        Log-probabilities (e.g. from :func:`log_softmax`).
    target : Tensor, shape (N,)
        Class indices.
    weight : Tensor, shape (K,), optional
        Per-class weights (e.g. inverse class frequency for imbalanced data).
    reduction : {"mean", "sum", "none"}
    ignore_index : int

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[0.5, 0.5], [0.9, 0.1]]))
    >>> round(float(nll_loss(lp, torch.tensor([0, 1]), torch.tensor([1.0, 3.0]))), 4)  # (0.693 + 3 * 2.303) / 4
    1.9002
    """
    log_probs, target, weight, valid = _check_class_inputs(log_probs, target, weight, "log_probs", ignore_index)
    _check_reduction(reduction)
    safe = torch.where(valid, target, torch.zeros_like(target))
    picked = log_probs.gather(1, safe[:, None])[:, 0]  # (N, K) -> (N,)
    w = weight[safe] if weight is not None else torch.ones_like(picked)
    w = w * valid.to(picked.dtype)
    loss = -w * picked
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / w.sum()


def cross_entropy(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    *,
    ignore_index: int = -100,
) -> Tensor:
    """Cross-entropy from logits, equal to ``torch.nn.functional.cross_entropy``.

    Hard targets ``(N,)``: ``nll_loss(log_softmax(logits), target, weight)``.
    With ``label_smoothing = eps`` the target distribution becomes
    ``(1 - eps) * one_hot + eps / K`` (spread over **all K** classes, the true
    one included), which torch computes as
    ``(1 - eps) * NLL + eps * mean_k(-w_k log p_k)``, the smoothing term
    normalised like the NLL (by the sum of the targets' weights).

    Soft targets (float, same shape as ``logits``): ``-sum_k w_k q_k log p_k``
    per example, averaged over ``N``.

    Parameters
    ----------
    logits : Tensor, shape (N, K)
    target : Tensor, shape (N,) long, or (N, K) float probabilities
    weight : Tensor, shape (K,), optional
    label_smoothing : float in [0, 1]
    reduction : {"mean", "sum", "none"}
    ignore_index : int
        Hard targets with this value are skipped (padding).

    Examples
    --------
    >>> logits = torch.tensor([[2.0, 0.0, -1.0]])
    >>> round(float(cross_entropy(logits, torch.tensor([0]))), 4)
    0.1698
    >>> round(float(cross_entropy(logits, torch.tensor([0]), label_smoothing=0.1)), 4)
    0.3365
    """
    _check_reduction(reduction)
    eps = _check_unit_interval(label_smoothing, "label_smoothing")
    logits_t = check_tensor(logits, "logits", ndim=2, floating=True)
    target_t = as_tensor(target, "target")
    k = logits_t.shape[1]
    if target_t.is_floating_point():  # soft targets
        if target_t.shape != logits_t.shape:
            raise ValueError(
                f"target: soft targets must have the shape of logits {tuple(logits_t.shape)}, got {tuple(target_t.shape)}"
            )
        check_tensor(target_t, "target")
        if bool((target_t < 0).any()):
            raise ValueError("soft targets must be probabilities (>= 0, rows summing to 1)")
        _, _, weight, _ = _check_class_inputs(
            logits_t, torch.zeros(logits_t.shape[0], dtype=torch.long), weight, "logits"
        )
        q = target_t.to(logits_t.dtype)
        if eps > 0:
            q = q * (1.0 - eps) + eps / k
        lp = log_softmax(logits_t)
        if weight is not None:
            lp = lp * weight
        return _reduce(-(q * lp).sum(dim=1), reduction)
    lp = log_softmax(logits_t)
    nll = nll_loss(lp, target_t, weight, reduction=reduction, ignore_index=ignore_index)
    if eps == 0:
        return nll
    _, target_l, weight, valid = _check_class_inputs(logits_t, target_t, weight, "logits", ignore_index)
    smooth = -(lp * weight).sum(dim=1) if weight is not None else -lp.sum(dim=1)  # (N,)
    smooth = smooth * valid.to(smooth.dtype)
    if reduction == "none":
        smooth_red = smooth
    elif reduction == "sum":
        smooth_red = smooth.sum()
    elif weight is not None:
        safe = torch.where(valid, target_l, torch.zeros_like(target_l))
        smooth_red = smooth.sum() / (weight[safe] * valid.to(smooth.dtype)).sum()
    else:
        smooth_red = smooth.sum() / valid.sum()
    return (1.0 - eps) * nll + smooth_red * (eps / k)


def focal_loss(
    logits: Tensor,
    target: Tensor,
    gamma: float = 2.0,
    alpha: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class focal loss, ``-alpha[y] * (1 - p_y)**gamma * log p_y``.

    The factor ``(1 - p_y)**gamma`` shrinks the loss of examples the model
    already gets right with confidence (``p_y`` near 1), so training
    concentrates on the hard ones. ``gamma = 0`` and ``alpha = None`` give
    plain cross-entropy. ``"mean"`` averages over the ``N`` examples.

    Parameters
    ----------
    logits : Tensor, shape (N, K)
    target : Tensor, shape (N,)
    gamma : float
        Focusing parameter (>= 0).
    alpha : Tensor, shape (K,), optional
        Per-class weights.
    reduction : {"mean", "sum", "none"}

    Examples
    --------
    >>> logits, y = torch.tensor([[3.0, 0.0], [0.0, 0.5]]), torch.tensor([0, 0])
    >>> [round(v, 4) for v in focal_loss(logits, y, gamma=2.0, reduction="none").tolist()]  # easy, hard
    [0.0001, 0.3774]
    >>> [round(v, 4) for v in cross_entropy(logits, y, reduction="none").tolist()]
    [0.0486, 0.9741]
    """
    logits, target, alpha, _ = _check_class_inputs(logits, target, alpha, "logits")
    _check_reduction(reduction)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or gamma < 0:
        raise ValueError(f"gamma must be a float >= 0, got {gamma!r}")
    log_pt = log_softmax(logits).gather(1, target[:, None])[:, 0]  # (N, K) -> (N,)
    one_minus_pt = (-torch.expm1(log_pt)).clamp_min(0.0)  # 1 - p_t, accurate when p_t is near 1
    loss = -(one_minus_pt ** gamma) * log_pt if gamma > 0 else -log_pt
    if alpha is not None:
        loss = alpha[target] * loss
    return _reduce(loss, reduction)


def sigmoid_focal_loss(
    logits: Tensor,
    target: Tensor,
    gamma: float = 2.0,
    alpha: float | None = 0.25,
    reduction: str = "mean",
) -> Tensor:
    """Binary (per-logit) focal loss, the form used in detection (RetinaNet).

    ``loss = alpha_t * (1 - p_t)**gamma * BCE(logit, y)`` with
    ``p_t = p`` for positives and ``1 - p`` for negatives, and
    ``alpha_t = alpha`` for positives, ``1 - alpha`` for negatives
    (``alpha=None`` disables the weighting).

    Examples
    --------
    >>> z, y = torch.tensor([4.0, -0.5]), torch.tensor([1.0, 1.0])
    >>> [round(v, 4) for v in sigmoid_focal_loss(z, y, alpha=None, reduction="none").tolist()]
    [0.0, 0.3774]
    """
    logits, target = _check_binary(logits, target, "logits")
    _check_reduction(reduction)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or gamma < 0:
        raise ValueError(f"gamma must be a float >= 0, got {gamma!r}")
    if alpha is not None:
        _check_unit_interval(alpha, "alpha")
    p = sigmoid(logits)
    bce = binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = p * target + (1 - p) * (1 - target)
    loss = bce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------
# distributions and retrieval
# --------------------------------------------------------------------------

def kl_divergence(p_log: Tensor, q_log: Tensor, reduction: str = "batchmean") -> Tensor:
    """``KL(p || q) = sum p (log p - log q)`` from log-probabilities.

    The argument order follows the maths (first the reference distribution
    ``p``, then the approximation ``q``). torch's ``F.kl_div(input, target)``
    takes them the other way round: this equals
    ``F.kl_div(q_log, p_log, reduction=reduction, log_target=True)``.

    Parameters
    ----------
    p_log, q_log : Tensor, shape (N, K)
        Log-probabilities over the last axis (e.g. :func:`log_softmax`).
    reduction : {"batchmean", "sum", "mean", "none"}
        ``"batchmean"`` (sum / N) is the true KL per example; torch's
        ``"mean"`` divides by ``N * K`` and ``"none"`` returns the
        element-wise terms ``(N, K)``.

    Examples
    --------
    >>> p = torch.log(torch.tensor([[0.5, 0.5]]))
    >>> q = torch.log(torch.tensor([[0.9, 0.1]]))
    >>> round(float(kl_divergence(p, q)), 4), round(float(kl_divergence(p, p)), 4)
    (0.5108, 0.0)
    """
    p_log = check_tensor(p_log, "p_log", min_ndim=1, floating=True, finite=False)
    q_log = check_tensor(q_log, "q_log", min_ndim=1, floating=True, finite=False)
    if p_log.shape != q_log.shape:
        raise ValueError(f"p_log and q_log must have the same shape, got {tuple(p_log.shape)} and {tuple(q_log.shape)}")
    for name, t in (("p_log", p_log), ("q_log", q_log)):
        if bool(torch.isnan(t).any()) or bool((t > 1e-6).any()):
            raise ValueError(f"{name} must hold log-probabilities (<= 0, no NaN); pass log_softmax(logits)")
    _check_reduction(reduction, ("batchmean", "sum", "mean", "none"))
    terms = torch.exp(p_log) * (p_log - q_log)
    terms = torch.where(torch.isneginf(p_log), torch.zeros_like(terms), terms)  # 0 * log 0 = 0
    if reduction == "batchmean":
        return terms.sum() / (p_log.shape[0] if p_log.ndim > 1 else 1)
    return _reduce(terms, reduction)


def info_nce(
    queries: Tensor,
    keys: Tensor,
    temperature: float = 0.1,
    *,
    normalize: bool = True,
    symmetric: bool = False,
) -> Tensor:
    """InfoNCE contrastive loss: each query must pick its own key out of the batch.

    Row ``i`` of ``queries`` and row ``i`` of ``keys`` are a positive pair
    (e.g. two augmented views of the same clip); every other key in the
    batch is a negative. With ``S = q k^T / temperature`` (cosine
    similarities when ``normalize``), the loss is
    ``cross_entropy(S, arange(N))``: classification where the "classes" are
    the other examples in the batch.

    Parameters
    ----------
    queries, keys : Tensor, shape (N, D)
    temperature : float
        Softmax temperature (> 0); small values sharpen the contrast.
    normalize : bool
        L2-normalise the rows first (cosine similarity).
    symmetric : bool
        Average the query->key and key->query directions (CLIP style).

    Examples
    --------
    >>> q = torch.eye(4)
    >>> round(float(info_nce(q, q, temperature=0.1)), 4)  # matched pairs: loss near 0
    0.0001
    >>> round(float(info_nce(q, q.roll(1, 0), temperature=0.1)), 2)  # mismatched: large
    10.0
    """
    queries = check_tensor(queries, "queries", ndim=2, floating=True)
    keys = check_tensor(keys, "keys", ndim=2, floating=True)
    if queries.shape != keys.shape:
        raise ValueError(f"queries and keys must have the same shape (N, D), got {tuple(queries.shape)} and {tuple(keys.shape)}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be a float > 0, got {temperature!r}")
    if normalize:
        queries = queries / queries.norm(dim=1, keepdim=True).clamp_min(1e-12)
        keys = keys / keys.norm(dim=1, keepdim=True).clamp_min(1e-12)
    sim = queries @ keys.T / temperature  # (N, D) @ (D, N) -> (N, N)
    labels = torch.arange(queries.shape[0])
    loss = cross_entropy(sim, labels)
    if symmetric:
        loss = 0.5 * (loss + cross_entropy(sim.T, labels))
    return loss
