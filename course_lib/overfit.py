"""The tiny-batch overfit check: the first test of a new training setup.

A healthy setup drives the loss of 8-32 examples to almost zero;
:func:`overfit_check` gives a broken one a report (:class:`OverfitReport`) that
names the likely cause (frozen parameters, zero learning rate, detached loss,
wrong loss wiring, labels that do not match inputs, random layers active in
eval mode).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from course_lib.checks import check_positive_int
from course_lib.normalization import _check_float
from course_lib.training import LossFn, _check_logits, _check_split, gradient_norm, make_optimizer

__all__ = [
    "OverfitReport",
    "OverfitError",
    "overfit_check",
]

# --------------------------------------------------------------------------
# the tiny-batch overfit test
# --------------------------------------------------------------------------

class OverfitError(AssertionError):
    """Raised by :meth:`OverfitReport.raise_if_failed`."""


@dataclass
class OverfitReport:
    """What :func:`overfit_check` found.

    Attributes
    ----------
    passed : bool
        The setup memorised the tiny batch.
    cause : str
        ``"ok"`` or a short key: ``"no_trainable_parameters"``,
        ``"detached_loss"``, ``"no_gradients"``, ``"parameters_unchanged"``,
        ``"diverged"``, ``"nondeterministic_eval"``,
        ``"loss_accuracy_mismatch"``, ``"loss_stuck"``, ``"underfit"``.
    message : str
        A sentence that names the likely cause and what to check.
    losses, grad_norms : list of float
        Loss and pre-step gradient norm at every step.
    initial_loss, final_loss, final_acc : float
        Loss before training, and loss/accuracy after it (eval mode).
    param_change : float
        Relative change of the parameters, ``||theta_end - theta_0|| / ||theta_0||``.
    """

    passed: bool
    cause: str
    message: str
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    initial_loss: float = float("nan")
    final_loss: float = float("nan")
    final_acc: float = float("nan")
    param_change: float = 0.0

    def __str__(self) -> str:
        return ("PASS: " if self.passed else "FAIL: ") + self.message

    def raise_if_failed(self) -> "OverfitReport":
        """Raise :class:`OverfitError` with the message when the check failed."""
        if not self.passed:
            raise OverfitError(self.message)
        return self


def _flat_params(params: list[Tensor]) -> Tensor:
    return torch.cat([p.detach().reshape(-1).clone() for p in params]) if params else torch.zeros(0)


def overfit_check(
    model,
    batch,
    *,
    steps: int = 200,
    lr: float = 1e-2,
    loss_fn: LossFn | None = None,
    optimizer: str | Callable = "adam",
    target_loss: float = 0.05,
    seed: int = 0,
) -> OverfitReport:
    """The tiny-batch overfit test: can this setup memorise a handful of examples?

    Trains ``model`` for ``steps`` full-batch steps on 8-32 examples and
    checks, in order: that there are trainable parameters, that the loss has
    a ``grad_fn`` and gradients arrive, that the parameters move, that the
    loss stays finite, that the model is deterministic in eval mode, that the
    loss reaches ``target_loss`` and the eval-mode accuracy reaches 100 %,
    and that loss and accuracy agree. The first failed check names the likely
    cause in the report's ``message``.

    Parameters
    ----------
    model : nn.Module or callable
        The model, or a zero-argument function that builds it.
    batch : tuple (X, y) or callable
        The tiny batch, ``X`` of shape ``(B, ...)`` and ``y`` of shape ``(B,)``;
        or a function ``step -> (X, y)`` standing in for a data pipeline (it is
        called at every step, so a pipeline that shuffles inputs and labels
        separately is caught).
    steps : int
        Optimisation steps.
    lr : float
        Learning rate (>= 0; 0 is allowed so that it can be diagnosed).
    loss_fn : callable, optional
        ``loss_fn(logits, y) -> scalar``; ``F.cross_entropy`` by default.
    optimizer : str or callable
        A name for :func:`make_optimizer`, or ``f(params, lr) -> Optimizer``.
    target_loss : float
        The loss the batch must reach.
    seed : int
        Seeds in-model randomness (dropout) during the check.

    Returns
    -------
    OverfitReport
        Call ``.raise_if_failed()`` to turn a failure into an exception.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> X, y = torch.randn(16, 8, generator=g), torch.randint(0, 3, (16,), generator=g)
    >>> from course_lib.training import make_classifier
    >>> overfit_check(make_classifier(8, 32, 3), (X, y), steps=100).passed
    True
    >>> frozen = make_classifier(8, 32, 3).requires_grad_(False)
    >>> overfit_check(frozen, (X, y)).cause
    'no_trainable_parameters'
    """
    if not isinstance(model, nn.Module):
        if not callable(model):
            raise TypeError(f"model must be an nn.Module or a function that builds one, got {type(model).__name__}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = model()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model function must return an nn.Module, got {type(model).__name__}")
    steps = check_positive_int(steps, "steps")
    lr = _check_float(lr, "lr", positive=False)
    target_loss = _check_float(target_loss, "target_loss", positive=True)
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    get_batch = batch if callable(batch) else (lambda step: batch)
    X0, y0 = _check_split(get_batch(0), "batch")
    if not 1 <= X0.shape[0] <= 256:
        raise ValueError(f"batch must be tiny (8-32 examples is typical, at most 256), got {X0.shape[0]}")

    def report(passed, cause, message, **kw) -> OverfitReport:
        return OverfitReport(passed, cause, message, losses=losses, grad_norms=grad_norms, **kw)

    losses: list[float] = []
    grad_norms: list[float] = []
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        n_all = sum(1 for _ in model.parameters())
        return report(
            False, "no_trainable_parameters",
            f"no trainable parameters: all {n_all} parameter tensors have requires_grad=False "
            "(frozen by requires_grad_(False), or a freeze meant for a backbone hit the whole model)",
        )
    if isinstance(optimizer, str):
        opt = make_optimizer(params, optimizer, lr if lr > 0 else 0.0)
    else:
        opt = optimizer(params, lr)
    theta0 = _flat_params(params)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for step in range(steps):
            model.train()
            X, y = _check_split(get_batch(step), "batch")
            logits = model(X)
            _check_logits(logits, y)
            loss = loss_fn(logits, y)
            if not isinstance(loss, Tensor) or loss.ndim != 0:
                raise TypeError(f"loss_fn must return a scalar tensor, got {type(loss).__name__}")
            if loss.grad_fn is None:
                return report(
                    False, "detached_loss",
                    "loss has no grad_fn: it is detached from the parameters, so backward() cannot reach them "
                    "(a .detach()/.item()/numpy round trip, torch.no_grad() around the forward pass, "
                    "or a loss computed from argmax'd logits or hard predictions)",
                    initial_loss=float(loss),
                )
            losses.append(float(loss.detach()))
            if not math.isfinite(losses[-1]):
                return report(
                    False, "diverged",
                    f"loss became {losses[-1]} at step {step}: the learning rate is too high, or the loss "
                    "takes log of 0 (use logits with F.cross_entropy, not log(softmax))",
                    initial_loss=losses[0],
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            missing = sum(1 for p in params if p.grad is None)
            if missing == len(params):
                return report(
                    False, "no_gradients",
                    "no parameter received a gradient (grads are None): the loss does not depend on the "
                    "trainable parameters; check that the model's output reaches the loss",
                    initial_loss=losses[0],
                )
            grad_norms.append(gradient_norm(params))
            opt.step()

    theta1 = _flat_params(params)
    change = float(torch.linalg.vector_norm(theta1 - theta0) / torch.linalg.vector_norm(theta0).clamp_min(1e-12))
    model.eval()
    with torch.no_grad():
        out_a, out_b = model(X0), model(X0)
        final_loss = float(loss_fn(out_a, y0))
        final_acc = float((out_a.argmax(dim=-1) == y0).float().mean())
    model.train()
    common = dict(initial_loss=losses[0], final_loss=final_loss, final_acc=final_acc, param_change=change)
    max_grad = max(grad_norms) if grad_norms else 0.0
    if change == 0.0:
        if max_grad == 0.0:
            msg = ("parameters did not change and every gradient is zero: the loss is flat in the parameters "
                   "(dead activations, a constant loss, or targets that the loss ignores)")
        else:
            msg = (f"parameters did not change although gradients are non-zero (max norm {max_grad:.3g}): "
                   f"the learning rate is zero (lr={lr}) or the optimizer holds other parameters than the model's")
        return report(False, "parameters_unchanged", msg, **common)
    if not math.isfinite(final_loss):
        return report(False, "diverged", f"final loss is {final_loss}: lower the learning rate", **common)
    if not torch.allclose(out_a, out_b):
        return report(
            False, "nondeterministic_eval",
            "the model gives different outputs for the same input in eval mode: a random layer ignores "
            "model.eval() (e.g. F.dropout(x, p) without training=self.training, or noise added unconditionally)",
            **common,
        )
    reached = final_loss <= target_loss
    if final_acc == 1.0 and reached:
        return report(
            True, "ok",
            f"memorised {X0.shape[0]} examples: loss {losses[0]:.3g} -> {final_loss:.3g}, accuracy 100%",
            **common,
        )
    if reached and final_acc < 1.0:
        return report(
            False, "loss_accuracy_mismatch",
            f"the loss reached {final_loss:.3g} but accuracy is only {final_acc:.0%}: the loss is not measuring "
            "what accuracy measures; check the loss wiring (targets passed to the loss, argument order, "
            "which output the loss reads)",
            **common,
        )
    chance = math.log(int(logits.shape[1])) if logits.shape[1] > 1 else 0.0
    tail = losses[-max(1, steps // 10):]
    if sum(tail) / len(tail) > 0.8 * chance and chance > 0:
        return report(
            False, "loss_stuck",
            f"loss stayed near chance level (log K = {chance:.3g}; last steps {sum(tail) / len(tail):.3g}) "
            "although parameters moved: the labels do not match the inputs (inputs and labels shuffled "
            "separately, a misaligned join), or the learning rate is far too small",
            **common,
        )
    return report(
        False, "underfit",
        f"loss only went from {losses[0]:.3g} to {final_loss:.3g} (target {target_loss}) with accuracy "
        f"{final_acc:.0%}: train longer or with a better learning rate, check that dropout/augmentation are off "
        "for this test and that the model is large enough",
        **common,
    )
