"""The minimal training loop of the course: configuration, history, optimizer, loop, evaluation.

* :class:`TrainConfig`, :func:`make_classifier`, :func:`train_classifier`,
  :func:`evaluate`: the classifier template (seeded, explicit shapes, gradient
  clipping, train and dev metrics every epoch, ``model.train()``/``eval()``
  handled). :class:`History` holds the per-epoch numbers;
  :class:`EarlyStopping` is a ready-made callback.
* :func:`make_optimizer` and :func:`gradient_norm`.

Normalisation (:class:`~course_lib.normalization.Standardizer`, RMSNorm) is in
:mod:`course_lib.normalization`; the tiny-batch overfit test in :mod:`course_lib.overfit`.

Shapes: features ``(B, F)``, integer class targets ``(B,)``, logits ``(B, K)``.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from course_lib.checks import check_float, check_instance, check_positive_int, check_tensor
from course_lib.optim import warmup_cosine_lr
from course_lib.normalization import RMSNorm, _check_float

__all__ = [
    "TrainConfig",
    "History",
    "EarlyStopping",
    "make_classifier",
    "train_classifier",
    "evaluate",
    "make_optimizer",
    "gradient_norm",
]

LossFn = Callable[[Tensor, Tensor], Tensor]
_OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
_SCHEDULES = ("constant", "cosine")
_NORMS = ("layer", "batch", "rms", "none")


# --------------------------------------------------------------------------
# configuration and history
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainConfig:
    """Everything :func:`train_classifier` needs besides the model and data.

    Parameters
    ----------
    epochs : int
        Passes over the training split.
    lr : float
        Learning rate (> 0).
    batch_size : int
        Examples per optimisation step (mini-batch size).
    optimizer : str
        ``"adam"``, ``"adamw"``, ``"sgd"`` (plain) or ``"momentum"`` (SGD with
        momentum 0.9); all from ``torch.optim``.
    weight_decay : float
        L2 penalty passed to the optimizer (decoupled for ``"adamw"``).
    clip_norm : float or None
        Clip the global gradient norm to this value; ``None`` disables it.
    seed : int
        Seeds shuffling, dropout and anything else random inside training.
    schedule : str
        ``"constant"`` keeps ``lr``; ``"cosine"`` warms up linearly over the
        first 5 % of the steps, then decays to 0 along a cosine at the last
        step (:func:`course_lib.optim.warmup_cosine_lr`).

    Examples
    --------
    >>> TrainConfig(epochs=3).lr
    0.01
    >>> TrainConfig(optimizer="lbfgs")
    Traceback (most recent call last):
    ...
    ValueError: optimizer must be one of ('sgd', 'momentum', 'adam', 'adamw'), got 'lbfgs'
    """

    epochs: int = 20
    lr: float = 1e-2
    batch_size: int = 64
    optimizer: str = "adam"
    weight_decay: float = 0.0
    clip_norm: float | None = 1.0
    seed: int = 0
    schedule: str = "constant"

    def __post_init__(self) -> None:
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        _check_float(self.lr, "lr", positive=True)
        _check_float(self.weight_decay, "weight_decay", positive=False)
        if self.clip_norm is not None:
            _check_float(self.clip_norm, "clip_norm", positive=True)
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in _SCHEDULES:
            raise ValueError(f"schedule must be one of {_SCHEDULES}, got {self.schedule!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an int, got {type(self.seed).__name__}")


@dataclass
class History:
    """Per-epoch metrics of one training run (one entry per finished epoch).

    ``train_*`` are measured after each epoch on the whole training split in
    eval mode (dropout off), so they compare directly with ``dev_*``. The
    ``dev_*`` lists stay empty when no dev split was given. ``grad_norm`` is
    the mean pre-clipping gradient norm of the epoch's steps.

    ``step_loss`` and ``step_grad_norm`` hold one entry per optimiser step:
    the mini-batch loss before the step and the global gradient norm before
    clipping (the mechanism of gradient clipping is visible only per step).
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    dev_loss: list[float] = field(default_factory=list)
    dev_acc: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    steps: int = 0
    step_loss: list[float] = field(default_factory=list)
    step_grad_norm: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of finished epochs."""
        return len(self.train_loss)

    def best_epoch(self, metric: str = "dev_loss") -> int:
        """Index of the best epoch for ``metric`` (min for losses, max for accuracies)."""
        values = getattr(self, metric, None)
        if not isinstance(values, list):
            raise ValueError(f"metric must be one of train_loss, train_acc, dev_loss, dev_acc; got {metric!r}")
        if not values:
            raise ValueError(f"history has no {metric} values (was a dev split given?)")
        pick = min if metric.endswith("loss") else max
        return values.index(pick(values))

    def to_frame(self):
        """The history as a pandas DataFrame, one row per epoch."""
        import pandas as pd

        n = self.epochs
        cols = {"epoch": list(range(1, n + 1)), "train_loss": self.train_loss, "train_acc": self.train_acc}
        if self.dev_loss:
            cols.update(dev_loss=self.dev_loss, dev_acc=self.dev_acc)
        cols["grad_norm"] = self.grad_norm
        return pd.DataFrame(cols)


class EarlyStopping:
    """Callback that stops training when a dev metric stops improving.

    Parameters
    ----------
    patience : int
        Epochs without improvement before stopping.
    metric : str
        ``"dev_loss"`` (minimised) or ``"dev_acc"`` (maximised).
    restore_best : bool
        Put the best epoch's weights back into the model when training ends.

    Attributes
    ----------
    best_epoch_ : int
        Index of the best epoch seen.
    stopped_epoch_ : int or None
        The epoch after which training stopped, ``None`` if it ran out of epochs.

    Examples
    --------
    >>> stop = EarlyStopping(patience=2)
    >>> h = History(dev_loss=[1.0, 0.5, 0.6, 0.7])
    >>> [stop(i, History(dev_loss=h.dev_loss[: i + 1]), nn.Linear(1, 1)) for i in range(4)]
    [False, False, False, True]
    >>> stop.best_epoch_
    1
    """

    def __init__(self, patience: int = 5, metric: str = "dev_loss", restore_best: bool = True):
        self.patience = check_positive_int(patience, "patience")
        if metric not in ("dev_loss", "dev_acc"):
            raise ValueError(f"metric must be 'dev_loss' or 'dev_acc', got {metric!r}")
        self.metric = metric
        self.restore_best = bool(restore_best)
        self.best_epoch_ = -1
        self.stopped_epoch_: int | None = None
        self._best_value: float | None = None
        self._best_state: dict | None = None

    def __call__(self, epoch: int, history: History, model: nn.Module) -> bool:
        values = getattr(history, self.metric)
        if not values:
            raise ValueError("EarlyStopping needs a dev split: pass dev=(X_dev, y_dev) to train_classifier")
        value = values[-1]
        better = (
            self._best_value is None
            or (value < self._best_value if self.metric == "dev_loss" else value > self._best_value)
        )
        if better:
            self._best_value, self.best_epoch_ = value, epoch
            if self.restore_best:
                self._best_state = copy.deepcopy(model.state_dict())
        if epoch - self.best_epoch_ >= self.patience:
            self.stopped_epoch_ = epoch
            return True
        return False

    def on_train_end(self, model: nn.Module, history: History) -> None:
        """Restore the best weights (called by :func:`train_classifier`)."""
        if self.restore_best and self._best_state is not None:
            model.load_state_dict(self._best_state)


# --------------------------------------------------------------------------
# the model template
# --------------------------------------------------------------------------

def make_classifier(
    in_features: int,
    hidden: int,
    n_classes: int,
    *,
    dropout: float = 0.0,
    norm: str = "layer",
    seed: int | None = 0,
) -> nn.Module:
    """The course's minimal classifier: Linear -> norm -> ReLU -> Dropout -> Linear.

    Parameters
    ----------
    in_features, hidden, n_classes : int
        Input features ``F``, hidden units and classes ``K``.
    dropout : float
        Dropout probability after the activation, in ``[0, 1)``.
    norm : str
        ``"layer"`` (LayerNorm), ``"batch"`` (BatchNorm1d), ``"rms"``
        (:class:`RMSNorm`) or ``"none"``.
    seed : int or None
        Seeds the initial weights (the global generator is left untouched);
        ``None`` draws from the global generator.

    Returns
    -------
    nn.Sequential
        Maps ``(B, F)`` features to ``(B, K)`` logits.

    Examples
    --------
    >>> model = make_classifier(10, 16, 3)
    >>> model(torch.zeros(4, 10)).shape
    torch.Size([4, 3])
    >>> bool((make_classifier(10, 16, 3)[0].weight == model[0].weight).all())
    True
    """
    in_features = check_positive_int(in_features, "in_features")
    hidden = check_positive_int(hidden, "hidden")
    n_classes = check_positive_int(n_classes, "n_classes")
    _check_float(dropout, "dropout", positive=False)
    if not dropout < 1:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")

    def build() -> nn.Module:
        norm_layer = {
            "layer": lambda: nn.LayerNorm(hidden),
            "batch": lambda: nn.BatchNorm1d(hidden),
            "rms": lambda: RMSNorm(hidden),
            "none": nn.Identity,
        }[norm]()
        return nn.Sequential(
            nn.Linear(in_features, hidden),  # (B, F) -> (B, H)
            norm_layer,
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),  # (B, H) -> (B, K)
        )

    if seed is None:
        return build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def make_optimizer(
    params: Iterable[nn.Parameter], name: str, lr: float, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """Build a ``torch.optim`` optimizer by name (see :class:`TrainConfig`).

    Examples
    --------
    >>> type(make_optimizer(nn.Linear(2, 1).parameters(), "momentum", 0.1)).__name__
    'SGD'
    """
    if name not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {name!r}")
    lr = check_float(lr, "lr", min_value=0.0)
    weight_decay = check_float(weight_decay, "weight_decay", min_value=0.0)
    params = _check_params(params, "params")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def _check_params(params, name: str, *, allow_empty: bool = False) -> list[Tensor]:
    """An iterable of tensors (parameters) as a list; a clear error for anything else."""
    if isinstance(params, (str, bytes, Tensor)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{name} must be an iterable of parameters (e.g. model.parameters()), "
                        f"got {type(params).__name__}")  # fmt: skip
    params = list(params)
    if any(isinstance(p, dict) for p in params):
        return params  # parameter groups, as torch.optim accepts them
    bad = [type(p).__name__ for p in params if not isinstance(p, Tensor)]
    if bad:
        raise TypeError(f"{name} must hold tensors (parameters), got {bad[0]}")
    if not params and not allow_empty:
        raise ValueError(f"{name} is empty; expected at least one parameter")
    return params


def _check_split(split, name: str) -> tuple[Tensor, Tensor]:
    if not isinstance(split, (tuple, list)) or len(split) != 2:
        raise TypeError(f"{name} must be a tuple (X, y), got {type(split).__name__}")
    X = check_tensor(split[0], f"{name} X", min_ndim=2, floating=True)
    y = check_tensor(split[1], f"{name} y", ndim=1)
    if y.is_floating_point() or y.dtype == torch.bool:
        raise TypeError(f"{name} y must hold integer class indices (torch.long), got {y.dtype}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{name} X and y must have the same number of examples, got {X.shape[0]} and {y.shape[0]}"
        )
    if int(y.min()) < 0:
        raise ValueError(f"{name} y must be class indices >= 0, got min {int(y.min())}")
    return X, y.long()


def _check_logits(logits: Tensor, y: Tensor) -> None:
    if not isinstance(logits, Tensor) or logits.ndim != 2 or logits.shape[0] != y.shape[0]:
        got = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"model must map (B, F) to (B, K) logits; got {got} for {y.shape[0]} targets")
    if int(y.max()) >= logits.shape[1]:
        raise ValueError(
            f"y holds class {int(y.max())}, out of range for the model's {logits.shape[1]} logits "
            f"(expected class indices in [0, {logits.shape[1] - 1}])"
        )


@torch.no_grad()
def evaluate(
    model: nn.Module, X: Tensor, y: Tensor, *, loss_fn: LossFn | None = None, batch_size: int = 4096
) -> dict:
    """Loss, accuracy and error rate of ``model`` on ``(X, y)``, in eval mode.

    The model's previous train/eval mode is restored afterwards.

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, F)`` to ``(B, K)`` logits.
    X : Tensor, shape (N, F)
    y : Tensor, shape (N,)
        Integer class indices.
    loss_fn : callable, optional
        ``loss_fn(logits, y) -> scalar`` (mean over the batch);
        ``F.cross_entropy`` by default.
    batch_size : int
        Examples per forward pass.

    Returns
    -------
    dict
        ``{"loss": float, "acc": float, "error": float}``.

    Examples
    --------
    >>> model = make_classifier(4, 8, 2)
    >>> m = evaluate(model, torch.zeros(6, 4), torch.zeros(6, dtype=torch.long))
    >>> sorted(m), round(m["acc"] + m["error"], 6)
    (['acc', 'error', 'loss'], 1.0)
    """
    check_instance(model, nn.Module, "model", "a torch.nn.Module")
    X, y = _check_split((X, y), "evaluate")
    batch_size = check_positive_int(batch_size, "batch_size")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be a callable (logits, y) -> loss, got {type(loss_fn).__name__}")
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        for start in range(0, X.shape[0], batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            logits = model(xb)
            _check_logits(logits, yb)
            total_loss += float(loss_fn(logits, yb)) * yb.shape[0]
            correct += int((logits.argmax(dim=-1) == yb).sum())
    finally:
        model.train(was_training)
    n = X.shape[0]
    return {"loss": total_loss / n, "acc": correct / n, "error": 1.0 - correct / n}


def gradient_norm(model_or_params, norm_type: float = 2.0) -> float:
    """Global norm of the current gradients (what ``clip_grad_norm_`` measures).

    Parameters without a gradient are skipped; with none at all it returns 0.0.

    Examples
    --------
    >>> lin = nn.Linear(2, 1)
    >>> lin(torch.ones(1, 2)).sum().backward()
    >>> round(gradient_norm(lin), 4)  # grads: weight [1, 1], bias [1]
    1.7321
    """
    params = model_or_params.parameters() if isinstance(model_or_params, nn.Module) else model_or_params
    params = _check_params(params, "model_or_params", allow_empty=True)
    _check_float(norm_type, "norm_type", positive=True)
    grads = [p.grad.detach() for p in params if p.grad is not None]
    if not grads:
        return 0.0
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
    return float(torch.linalg.vector_norm(norms, norm_type))


def train_classifier(
    model: nn.Module,
    train: tuple[Tensor, Tensor],
    dev: tuple[Tensor, Tensor] | None,
    config: TrainConfig,
    *,
    loss_fn: LossFn | None = None,
    callbacks: Sequence[Callable] = (),
    progress: bool = False,
    batch_transform: Callable[[Tensor, torch.Generator], Tensor] | None = None,
    measure_train: bool = True,
) -> History:
    """Train a classifier with mini-batches; measure train and dev every epoch.

    Each epoch shuffles the training split (seeded by ``config.seed``), takes
    one optimiser step per mini-batch with the gradient norm clipped to
    ``config.clip_norm``, then measures loss and accuracy on the whole train
    and dev splits in eval mode (:func:`evaluate`).

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, F)`` features to ``(B, K)`` logits; trained in place.
    train : tuple of Tensor
        ``(X, y)`` with ``X`` of shape ``(N, F)`` (float) and ``y`` ``(N,)`` (long);
        ``X`` may have any rank ``(N, ...)`` (e.g. log-mels ``(N, n_mels, frames)``
        for a CNN) as long as the model maps ``(B, ...)`` to ``(B, K)``.
    dev : tuple of Tensor or None
        The dev split, same layout; ``None`` skips dev metrics.
    config : TrainConfig
    loss_fn : callable, optional
        ``loss_fn(logits, y) -> scalar``; ``F.cross_entropy`` by default.
    callbacks : sequence of callables
        Each is called as ``cb(epoch, history, model)`` after every epoch;
        a truthy return stops training. A callback with an ``on_train_end``
        method gets ``on_train_end(model, history)`` at the end
        (e.g. :class:`EarlyStopping` restores the best weights).
    progress : bool
        Show a tqdm bar over epochs.
    batch_transform : callable, optional
        ``batch_transform(xb, generator) -> xb`` applied to every *training*
        mini-batch before the forward pass (augmentation such as
        :func:`course_lib.augment.spec_augment`); never to the train/dev
        measurements. ``generator`` is a ``torch.Generator`` seeded from
        ``config.seed``, so augmented runs are reproducible. It must keep
        the batch's shape.
    measure_train : bool
        ``True`` (default): after every epoch, measure the whole training
        split in eval mode. ``False``: record instead the running mean of
        the epoch's mini-batch losses and accuracies (train mode, augmented
        batches, weights still changing) -- free, but biased; for long runs
        where a second pass over the training set would cost a third of the
        time.

    Returns
    -------
    History

    Examples
    --------
    >>> X = torch.randn(64, 5, generator=torch.Generator().manual_seed(0))
    >>> y = (X[:, 0] > 0).long()
    >>> h = train_classifier(make_classifier(5, 16, 2), (X, y), None, TrainConfig(epochs=30, lr=0.05))
    >>> h.epochs, h.train_acc[-1] > 0.9
    (30, True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not isinstance(measure_train, bool):
        raise TypeError(f"measure_train must be a bool, got {type(measure_train).__name__}")
    if batch_transform is not None and not callable(batch_transform):
        raise TypeError(f"batch_transform must be callable (xb, generator) -> xb, got {type(batch_transform).__name__}")
    X, y = _check_split(train, "train")
    dev_split = _check_split(dev, "dev") if dev is not None else None
    if dev_split is not None and dev_split[0].shape[1:] != X.shape[1:]:
        raise ValueError(
            f"dev X must have the feature shape of train X {tuple(X.shape[1:])}, got {tuple(dev_split[0].shape[1:])}"
        )
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("model has no trainable parameters (all requires_grad=False)")
    optimizer = make_optimizer(trainable, config.optimizer, config.lr, config.weight_decay)
    history = History()
    n = X.shape[0]
    total_steps = config.epochs * math.ceil(n / config.batch_size)
    warmup_steps = max(1, total_steps // 20)
    gen = torch.Generator().manual_seed(config.seed)
    aug_gen = torch.Generator().manual_seed(config.seed + 1)  # augmentation draws, apart from shuffling
    epochs = range(config.epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="epochs")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # dropout masks and other in-model randomness
        for epoch in epochs:
            model.train()
            order = torch.randperm(n, generator=gen)
            norms = []
            run_loss, run_correct = 0.0, 0
            for start in range(0, n, config.batch_size):
                idx = order[start : start + config.batch_size]
                xb, yb = X[idx], y[idx]
                if batch_transform is not None:
                    shape = xb.shape
                    xb = batch_transform(xb, aug_gen)
                    if not isinstance(xb, Tensor) or xb.shape != shape:
                        raise ValueError(
                            f"batch_transform must return a tensor of the batch's shape {tuple(shape)}, "
                            f"got {getattr(xb, 'shape', type(xb).__name__)}"
                        )
                logits = model(xb)
                _check_logits(logits, yb)
                loss = loss_fn(logits, yb)
                assert loss.ndim == 0, f"loss_fn must return a scalar, got shape {tuple(loss.shape)}"
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.schedule == "cosine" and total_steps > warmup_steps:
                    for group in optimizer.param_groups:
                        group["lr"] = warmup_cosine_lr(history.steps, config.lr, warmup_steps, total_steps)
                if config.clip_norm is not None:
                    norms.append(float(nn.utils.clip_grad_norm_(trainable, config.clip_norm)))
                else:
                    norms.append(gradient_norm(trainable))
                optimizer.step()
                history.steps += 1
                history.step_loss.append(float(loss.detach()))
                history.step_grad_norm.append(norms[-1])
                if not measure_train:
                    run_loss += float(loss.detach()) * len(idx)
                    run_correct += int((logits.detach().argmax(-1) == yb).sum())
            if measure_train:
                tr = evaluate(model, X, y, loss_fn=loss_fn)
            else:
                tr = {"loss": run_loss / n, "acc": run_correct / n}
            history.train_loss.append(tr["loss"])
            history.train_acc.append(tr["acc"])
            history.grad_norm.append(sum(norms) / len(norms))
            if dev_split is not None:
                dv = evaluate(model, *dev_split, loss_fn=loss_fn)
                history.dev_loss.append(dv["loss"])
                history.dev_acc.append(dv["acc"])
            if progress:
                epochs.set_postfix(train_loss=f"{tr['loss']:.3f}")
            stop = False
            for cb in callbacks:
                stop = bool(cb(epoch, history, model)) or stop
            if stop:
                break
    for cb in callbacks:
        if hasattr(cb, "on_train_end"):
            cb.on_train_end(model, history)
    model.eval()
    return history
