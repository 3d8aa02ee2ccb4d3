"""Optimizers and learning-rate schedules written from scratch.

Each optimizer follows ``torch.optim``'s update rule exactly (the tests run
both side by side and compare the parameters after every step) and its
interface: build it from the parameters, then ``zero_grad()``,
``loss.backward()``, ``step()``. Only one parameter group; the learning rate
is the attribute ``lr`` (a schedule sets it before each step).

* :class:`SGD`, :class:`Momentum` (heavy ball or Nesterov, torch semantics),
  :class:`RMSprop`, :class:`Adam`, :class:`AdamW`.
* :func:`clip_grad_norm_`: gradient clipping by the global norm, equal to
  ``torch.nn.utils.clip_grad_norm_``.
* Schedules as pure functions of the step: :func:`step_lr`,
  :func:`cosine_lr`, :func:`warmup_lr`, :func:`warmup_cosine_lr`.
* Two-dimensional test surfaces (:func:`ravine`, :func:`rosenbrock`) and
  :func:`optimize_path`, which records an optimizer's path over one of them
  (the "optimizer race").
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np
import torch
from torch import Tensor

from course_lib.checks import check_positive_int, check_tensor

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "RMSprop",
    "Adam",
    "AdamW",
    "clip_grad_norm_",
    "step_lr",
    "cosine_lr",
    "warmup_lr",
    "warmup_cosine_lr",
    "ravine",
    "rosenbrock",
    "optimize_path",
]


def _check_nonneg(value, name: str, *, positive: bool = False, below_one: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, got {value}")
    if below_one and value >= 1:
        raise ValueError(f"{name} must lie in [0, 1), got {value}")
    return float(value)


class Optimizer:
    """Base class: holds the parameters, per-parameter state and ``lr``.

    Parameters
    ----------
    params : iterable of Tensor
        Leaf tensors with ``requires_grad=True`` (e.g. ``model.parameters()``).
    lr : float
        Learning rate (>= 0).
    """

    def __init__(self, params: Iterable[Tensor], lr: float):
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of tensors (e.g. model.parameters()), got a single Tensor")
        if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
            raise TypeError(f"params must be an iterable of tensors (e.g. model.parameters()), got {type(params).__name__}")
        self.params = list(params)
        if not self.params:
            raise ValueError("params is empty: the optimizer has nothing to update")
        for p in self.params:
            if not isinstance(p, Tensor):
                raise TypeError(f"params must hold tensors, got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError("every parameter must have requires_grad=True (frozen parameters do not belong here)")
        self.lr = _check_nonneg(lr, "lr")
        self.state: list[dict] = [{} for _ in self.params]
        self.t = 0  # number of steps taken

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the last backward pass."""
        for p in self.params:
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient."""
        self.t += 1
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self._update(p, p.grad, state)

    def _update(self, p: Tensor, g: Tensor, state: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, n_params={len(self.params)})"


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``p <- p - lr * (g + weight_decay * p)``.

    Equal to ``torch.optim.SGD(params, lr, weight_decay=...)``.

    Examples
    --------
    >>> w = torch.tensor([1.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> w.tolist()  # 1 - 0.1 * 2
    [0.8]
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.weight_decay = _check_nonneg(weight_decay, "weight_decay")

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        p.add_(g, alpha=-self.lr)


class Momentum(Optimizer):
    """SGD with momentum, with ``torch.optim.SGD``'s exact semantics.

    ``buf <- g`` on the first step, then ``buf <- momentum * buf + (1 - dampening) * g``;
    the step direction is ``buf`` (heavy ball) or ``g + momentum * buf``
    (Nesterov); ``p <- p - lr * direction``. The learning rate multiplies the
    whole buffer at step time (not each gradient as it enters the buffer),
    so changing ``lr`` acts at once.

    Examples
    --------
    >>> w = torch.tensor([1.0], requires_grad=True)
    >>> opt = Momentum([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w ** 2).sum().backward(); opt.step()
    >>> round(w.item(), 4)  # 0.8, then buf = 0.9 * 2 + 1.6 = 3.4: 0.8 - 0.34
    0.46
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-2,
        momentum: float = 0.9,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        self.momentum = _check_nonneg(momentum, "momentum", below_one=True)
        self.dampening = _check_nonneg(dampening, "dampening")
        self.weight_decay = _check_nonneg(weight_decay, "weight_decay")
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("nesterov momentum requires momentum > 0 and dampening = 0")
        self.nesterov = bool(nesterov)

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if "buf" not in state:
            state["buf"] = g.clone()
        else:
            state["buf"].mul_(self.momentum).add_(g, alpha=1.0 - self.dampening)
        buf = state["buf"]
        direction = g + self.momentum * buf if self.nesterov else buf
        p.add_(direction, alpha=-self.lr)


class RMSprop(Optimizer):
    """RMSprop, equal to ``torch.optim.RMSprop``.

    ``v <- alpha * v + (1 - alpha) * g**2`` and
    ``p <- p - lr * g / (sqrt(v) + eps)``: note that ``eps`` is added
    **outside** the square root, as torch does. ``centered`` divides by the
    running standard deviation instead (``sqrt(v - mean(g)**2)``);
    ``momentum > 0`` accumulates the scaled step in a buffer.

    Examples
    --------
    >>> w = torch.tensor([1.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> round(w.item(), 4)  # first step is lr / sqrt(1 - alpha) = 0.1 in size
    0.9
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        super().__init__(params, lr)
        self.alpha = _check_nonneg(alpha, "alpha", below_one=True)
        self.eps = _check_nonneg(eps, "eps")
        self.weight_decay = _check_nonneg(weight_decay, "weight_decay")
        self.momentum = _check_nonneg(momentum, "momentum", below_one=True)
        self.centered = bool(centered)

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if "square_avg" not in state:
            state["square_avg"] = torch.zeros_like(p)
            if self.centered:
                state["grad_avg"] = torch.zeros_like(p)
            if self.momentum > 0:
                state["buf"] = torch.zeros_like(p)
        v = state["square_avg"]
        v.mul_(self.alpha).addcmul_(g, g, value=1.0 - self.alpha)
        if self.centered:
            state["grad_avg"].mul_(self.alpha).add_(g, alpha=1.0 - self.alpha)
            avg = (v - state["grad_avg"] ** 2).sqrt() + self.eps
        else:
            avg = v.sqrt() + self.eps
        if self.momentum > 0:
            state["buf"].mul_(self.momentum).add_(g / avg)
            p.add_(state["buf"], alpha=-self.lr)
        else:
            p.add_(g / avg, alpha=-self.lr)


class Adam(Optimizer):
    """Adam with bias correction, equal to ``torch.optim.Adam``.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g**2``; after ``t``
    steps the averages are biased towards their zero start by factors
    ``1 - b1**t`` and ``1 - b2**t``, so the step is
    ``lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)``.
    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2, coupled);
    see :class:`AdamW` for the decoupled form.

    Examples
    --------
    >>> w = torch.tensor([1.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> round(w.item(), 4)  # the first bias-corrected step has size lr
    0.9
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_check_nonneg(betas[0], "beta1", below_one=True), _check_nonneg(betas[1], "beta2", below_one=True))
        self.eps = _check_nonneg(eps, "eps")
        self.weight_decay = _check_nonneg(weight_decay, "weight_decay")

    def _decay(self, p, g):
        return g + self.weight_decay * p if self.weight_decay else g

    def _update(self, p, g, state):
        g = self._decay(p, g)
        b1, b2 = self.betas
        if "m" not in state:
            state["m"], state["v"], state["step"] = torch.zeros_like(p), torch.zeros_like(p), 0
        state["step"] += 1  # per parameter, like torch (a parameter without a gradient does not count)
        m, v, t = state["m"], state["v"], state["step"]
        m.mul_(b1).add_(g, alpha=1.0 - b1)
        v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
        bias1 = 1.0 - b1**t
        bias2 = 1.0 - b2**t
        denom = (v.sqrt() / math.sqrt(bias2)).add_(self.eps)
        p.addcdiv_(m, denom, value=-self.lr / bias1)


class AdamW(Adam):
    """Adam with decoupled weight decay, equal to ``torch.optim.AdamW``.

    The weights shrink by ``lr * weight_decay`` directly
    (``p <- p * (1 - lr * weight_decay)``) before the Adam step, instead of
    the decay passing through Adam's per-coordinate scaling.

    Examples
    --------
    >>> w = torch.tensor([1.0], requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w ** 2).sum().backward(); opt.step()
    >>> round(w.item(), 4)  # 1 * (1 - 0.05) - 0.1
    0.85
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _decay(self, p, g):
        if self.weight_decay:
            p.mul_(1.0 - self.lr * self.weight_decay)
        return g


# --------------------------------------------------------------------------
# gradient clipping
# --------------------------------------------------------------------------

@torch.no_grad()
def clip_grad_norm_(params: Iterable[Tensor], max_norm: float, eps: float = 1e-6) -> float:
    """Rescale all gradients together so that their global L2 norm is at most ``max_norm``.

    ``g <- g * min(1, max_norm / (||g|| + eps))`` with ``||g||`` the norm of
    every gradient stacked into one vector: the direction of the step is
    kept, only its length is capped. Equal to
    ``torch.nn.utils.clip_grad_norm_`` (same ``eps``). Parameters without a
    gradient are skipped.

    Parameters
    ----------
    params : iterable of Tensor
    max_norm : float
        The threshold (> 0).
    eps : float
        Keeps the division finite.

    Returns
    -------
    float
        The global norm **before** clipping (what to log and plot).

    Examples
    --------
    >>> w = torch.zeros(2, requires_grad=True)
    >>> w.grad = torch.tensor([3.0, 4.0])               # norm 5
    >>> clip_grad_norm_([w], 1.0), [round(v, 4) for v in w.grad.tolist()]
    (5.0, [0.6, 0.8])
    """
    params = _check_params(params)
    max_norm = _check_nonneg(max_norm, "max_norm", positive=True)
    eps = _check_nonneg(eps, "eps")
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    total = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))  # ||(g_1, ..., g_n)||_2
    scale = max_norm / (float(total) + eps)
    if scale < 1.0:
        for g in grads:
            g.mul_(scale)
    return float(total)


# --------------------------------------------------------------------------
# learning-rate schedules (pure functions of the step index)
# --------------------------------------------------------------------------

def _check_params(params) -> list[Tensor]:
    """One tensor or an iterable of tensors, as a list."""
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"params must be a tensor or an iterable of tensors, got {type(params).__name__}")
    params = list(params)
    bad = [type(p).__name__ for p in params if not isinstance(p, Tensor)]
    if bad:
        raise TypeError(f"params must hold tensors (parameters), got {bad[0]}")
    return params


def _check_step(step) -> int:
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"step must be an int, got {type(step).__name__}")
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return int(step)


def step_lr(step: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """Step decay: ``base_lr * gamma ** (step // step_size)`` (``StepLR``).

    Examples
    --------
    >>> [step_lr(s, 1.0, 2, 0.5) for s in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    step = _check_step(step)
    base_lr = _check_nonneg(base_lr, "base_lr")
    step_size = check_positive_int(step_size, "step_size")
    gamma = _check_nonneg(gamma, "gamma")
    return base_lr * gamma ** (step // step_size)


def cosine_lr(step: int, base_lr: float, total_steps: int, min_lr: float = 0.0) -> float:
    """Cosine annealing from ``base_lr`` to ``min_lr`` over ``total_steps`` (``CosineAnnealingLR``).

    ``min_lr + (base_lr - min_lr) * (1 + cos(pi * step / total_steps)) / 2``;
    steps past ``total_steps`` stay at ``min_lr``.

    Examples
    --------
    >>> [round(cosine_lr(s, 1.0, 4), 4) for s in range(5)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    step = _check_step(step)
    base_lr = _check_nonneg(base_lr, "base_lr")
    total_steps = check_positive_int(total_steps, "total_steps")
    min_lr = _check_nonneg(min_lr, "min_lr")
    t = min(step, total_steps)
    return min_lr + (base_lr - min_lr) * (1.0 + math.cos(math.pi * t / total_steps)) / 2.0


def warmup_lr(step: int, base_lr: float, warmup_steps: int, start_factor: float = 0.0) -> float:
    """Linear warmup from ``start_factor * base_lr`` to ``base_lr`` (``LinearLR``), then constant.

    Examples
    --------
    >>> [warmup_lr(s, 1.0, 4) for s in range(6)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    step = _check_step(step)
    base_lr = _check_nonneg(base_lr, "base_lr")
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps")
    start_factor = _check_nonneg(start_factor, "start_factor")
    if start_factor > 1:
        raise ValueError(f"start_factor must lie in [0, 1], got {start_factor}")
    frac = min(step, warmup_steps) / warmup_steps
    return base_lr * (start_factor + (1.0 - start_factor) * frac)


def warmup_cosine_lr(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """Linear warmup over ``warmup_steps``, then cosine decay to ``min_lr`` at ``total_steps``.

    The common schedule for transformers and conformers.

    Examples
    --------
    >>> [round(warmup_cosine_lr(s, 1.0, 2, 6), 3) for s in range(7)]
    [0.0, 0.5, 1.0, 0.854, 0.5, 0.146, 0.0]
    """
    step = _check_step(step)
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps")
    total_steps = check_positive_int(total_steps, "total_steps")
    if total_steps <= warmup_steps:
        raise ValueError(f"total_steps ({total_steps}) must exceed warmup_steps ({warmup_steps})")
    if step < warmup_steps:
        return warmup_lr(step, base_lr, warmup_steps)
    return cosine_lr(step - warmup_steps, base_lr, total_steps - warmup_steps, min_lr)


# --------------------------------------------------------------------------
# loss surfaces for the optimizer race
# --------------------------------------------------------------------------

def ravine(xy: Tensor, scale: float = 20.0) -> Tensor:
    """A long, narrow valley: ``0.5 * (x**2 / scale + scale * y**2) + 0.3 * sin(x) * y``.

    Curvature differs by ``scale**2`` between the two directions, the case
    where plain gradient descent zig-zags and momentum/Adam help. Minimum at
    the origin. ``xy`` has shape ``(..., 2)``.

    Examples
    --------
    >>> float(ravine(torch.zeros(2)))
    0.0
    """
    xy = check_tensor(xy, "xy", min_ndim=1, floating=True)
    if xy.shape[-1] != 2:
        raise ValueError(f"xy must have shape (..., 2), got {tuple(xy.shape)}")
    x, y = xy[..., 0], xy[..., 1]
    return 0.5 * (x**2 / scale + scale * y**2) + 0.3 * torch.sin(x) * y


def rosenbrock(xy: Tensor, a: float = 1.0, b: float = 100.0) -> Tensor:
    """Rosenbrock's banana valley ``(a - x)**2 + b (y - x**2)**2``; minimum 0 at ``(a, a**2)``.

    Examples
    --------
    >>> float(rosenbrock(torch.tensor([1.0, 1.0])))
    0.0
    """
    xy = check_tensor(xy, "xy", min_ndim=1, floating=True)
    if xy.shape[-1] != 2:
        raise ValueError(f"xy must have shape (..., 2), got {tuple(xy.shape)}")
    x, y = xy[..., 0], xy[..., 1]
    return (a - x) ** 2 + b * (y - x**2) ** 2


def optimize_path(
    make_optimizer: Callable[[list[Tensor]], object],
    surface: Callable[[Tensor], Tensor],
    start: tuple[float, float],
    steps: int,
    *,
    schedule: Callable[[int], float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run an optimizer on a 2-D surface and record where it goes.

    Parameters
    ----------
    make_optimizer : callable
        ``make_optimizer([param]) -> optimizer`` (ours or ``torch.optim``).
    surface : callable
        Maps a ``(2,)`` tensor to a scalar loss.
    start : (float, float)
        Starting point.
    steps : int
        Number of steps.
    schedule : callable, optional
        ``schedule(step) -> lr`` applied before each step.

    Returns
    -------
    path : ndarray, shape (steps + 1, 2)
        The points visited, the start first.
    losses : ndarray, shape (steps + 1,)
        The loss at each point.

    Examples
    --------
    >>> path, losses = optimize_path(lambda p: SGD(p, lr=0.04), ravine, (-4.0, 1.0), 50)
    >>> path.shape, bool(losses[-1] < losses[0])
    ((51, 2), True)
    """
    steps = check_positive_int(steps, "steps")
    if len(start) != 2:
        raise ValueError(f"start must be a pair (x, y), got {start!r}")
    xy = torch.tensor([float(start[0]), float(start[1])], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([xy])
    path, losses = [xy.detach().clone()], []
    for step in range(steps):
        if schedule is not None:
            lr = float(schedule(step))
            if hasattr(opt, "param_groups"):
                for group in opt.param_groups:
                    group["lr"] = lr
            else:
                opt.lr = lr
        opt.zero_grad()
        loss = surface(xy)
        losses.append(float(loss.detach()))
        loss.backward()
        opt.step()
        path.append(xy.detach().clone())
    losses.append(float(surface(xy.detach())))
    return torch.stack(path).numpy(), np.asarray(losses)
