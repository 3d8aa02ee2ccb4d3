"""Regularisers, each a small pure function with a thin adaptor for the training loop.

Penalties (:func:`l1_penalty`, :func:`l2_penalty`, :func:`elastic_net_penalty`),
decoupled weight decay (:func:`decoupled_weight_decay_`), inverted
:func:`dropout`, early stopping read from a recorded dev curve
(:func:`early_stopping_epoch`; the callback that stops a run and restores the
best weights is :class:`course_lib.training.EarlyStopping`), :func:`mixup`,
:func:`smooth_labels`, Gaussian :func:`add_gaussian_noise` and the
:func:`max_norm` constraint. The adaptors plug them into
:func:`course_lib.training.train_classifier` without changing the loop:
:func:`penalized_loss`, :class:`InvertedDropout`, :class:`Mixup`,
:class:`GaussianNoise`, :func:`add_max_norm_hook`.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence
import torch
from torch import nn
from course_lib.checks import check_positive_int, check_tensor
from course_lib.generalization import _check_nonneg, _check_prob, _generator

__all__ = [
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
]

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
    for p in out:
        if not p.is_floating_point():
            raise TypeError(f"params must be floating-point tensors (weights), got dtype {p.dtype}")
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
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"values must be a sequence of numbers (one per epoch), got {type(values).__name__}")
    try:
        vals = [float(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError("values must be a sequence of numbers (one per epoch)") from None
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
        logits = check_tensor(logits, "logits", ndim=2, floating=True)
        y = check_tensor(y, "y", ndim=1)
        if y.is_floating_point() or y.dtype == torch.bool or y.is_complex():
            raise TypeError(f"y must be an integer tensor of class indices (torch.long), got {y.dtype}")
        if y.shape[0] != logits.shape[0]:
            raise ValueError(f"y must have one label per row of logits ({logits.shape[0]}), got {y.shape[0]}")
        if int(y.min()) < 0 or int(y.max()) >= logits.shape[1]:
            raise ValueError(f"y must hold class indices in [0, {logits.shape[1] - 1}] (logits has "
                             f"{logits.shape[1]} classes), got min {int(y.min())}, max {int(y.max())}")  # fmt: skip
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
