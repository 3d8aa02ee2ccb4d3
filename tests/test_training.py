"""course_lib.training: the classifier template, Standardizer, RMSNorm and the overfit test."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.training import (
    EarlyStopping,
    History,
    TrainConfig,
    evaluate,
    gradient_norm,
    make_classifier,
    train_classifier,
)
from course_lib.overfit import OverfitError, overfit_check
from course_lib.normalization import RMSNorm, Standardizer, rms_norm


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _blobs(n=240, f=10, k=3, seed=0, sep=2.0):
    g = _gen(seed)
    centers = sep * torch.randn(k, f, generator=g)
    y = torch.randint(0, k, (n,), generator=g)
    return centers[y] + torch.randn(n, f, generator=g), y


# ------------------------------------------------------------------ config

def test_train_config_defaults_and_validation():
    c = TrainConfig()
    assert (c.epochs, c.lr, c.batch_size, c.optimizer, c.weight_decay, c.clip_norm, c.seed) == (
        20, 1e-2, 64, "adam", 0.0, 1.0, 0)
    with pytest.raises(ValueError, match="lr must be > 0"):
        TrainConfig(lr=0.0)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="clip_norm must be > 0"):
        TrainConfig(clip_norm=-1.0)
    with pytest.raises(Exception, match="cannot assign"):
        c.lr = 1.0  # frozen


# ------------------------------------------------------------------ model

@pytest.mark.parametrize("norm", ["layer", "batch", "rms", "none"])
def test_make_classifier_shapes_and_seeding(norm):
    m = make_classifier(10, 16, 4, norm=norm, dropout=0.2)
    assert m(torch.zeros(5, 10)).shape == (5, 4)
    m2 = make_classifier(10, 16, 4, norm=norm, dropout=0.2)
    for a, b in zip(m.parameters(), m2.parameters()):
        assert torch.equal(a, b)
    m3 = make_classifier(10, 16, 4, norm=norm, seed=1)
    assert not torch.equal(m[0].weight, m3[0].weight)


def test_make_classifier_does_not_touch_global_rng():
    torch.manual_seed(123)
    a = torch.rand(3)
    torch.manual_seed(123)
    make_classifier(10, 16, 4)
    assert torch.equal(torch.rand(3), a)


def test_make_classifier_bad_input():
    with pytest.raises(ValueError, match="norm must be one of"):
        make_classifier(10, 16, 4, norm="group")
    with pytest.raises(ValueError, match=r"dropout must lie in \[0, 1\)"):
        make_classifier(10, 16, 4, dropout=1.0)
    with pytest.raises(ValueError, match="hidden must be a positive int"):
        make_classifier(10, 0, 4)


# --------------------------------------------------------------- training

def test_train_classifier_learns_and_records_split_metrics():
    X_all, y_all = _blobs(n=300)  # same classes; the last 60 points are held out as dev
    (X, y), (Xd, yd) = (X_all[:240], y_all[:240]), (X_all[240:], y_all[240:])
    h = train_classifier(make_classifier(10, 32, 3), (X, y), (Xd, yd), TrainConfig(epochs=15, lr=0.01))
    assert isinstance(h, History)
    assert h.epochs == 15 and len(h.dev_loss) == len(h.dev_acc) == len(h.grad_norm) == 15
    assert h.steps == 15 * 4  # ceil(240 / 64) steps per epoch
    assert h.train_loss[-1] < h.train_loss[0] and h.train_acc[-1] > 0.9
    assert h.best_epoch("dev_acc") == int(np.argmax(h.dev_acc))  # the first epoch with the best dev accuracy
    assert list(h.to_frame().columns) == ["epoch", "train_loss", "train_acc", "dev_loss", "dev_acc", "grad_norm"]


def test_train_classifier_metrics_equal_evaluate_and_leave_model_in_eval():
    X, y = _blobs()
    model = make_classifier(10, 32, 3, dropout=0.3)
    h = train_classifier(model, (X, y), None, TrainConfig(epochs=3))
    assert not model.training and h.dev_loss == []
    m = evaluate(model, X, y)
    assert m["loss"] == pytest.approx(h.train_loss[-1]) and m["acc"] == pytest.approx(h.train_acc[-1])
    torch.testing.assert_close(torch.tensor(m["loss"]), F.cross_entropy(model(X), y))


def test_measure_train_false_records_running_batch_means_and_same_weights():
    X, y = _blobs()
    full, fast = make_classifier(10, 32, 3, seed=1), make_classifier(10, 32, 3, seed=1)
    h_full = train_classifier(full, (X, y), None, TrainConfig(epochs=4))
    seen = []

    def loss_fn(logits, yb):
        loss = F.cross_entropy(logits, yb)
        if torch.is_grad_enabled():
            seen.append((float(loss) * len(yb), int((logits.argmax(-1) == yb).sum())))
        return loss

    h_fast = train_classifier(fast, (X, y), None, TrainConfig(epochs=4), measure_train=False, loss_fn=loss_fn)
    for a, b in zip(full.parameters(), fast.parameters()):  # skipping the measurement pass changes nothing else
        torch.testing.assert_close(a, b)
    per_epoch = len(seen) // 4
    first = seen[:per_epoch]
    assert h_fast.train_loss[0] == pytest.approx(sum(s for s, _ in first) / len(y))
    assert h_fast.train_acc[0] == pytest.approx(sum(c for _, c in first) / len(y))
    assert len(h_fast.train_loss) == 4 and h_fast.train_loss != h_full.train_loss
    with pytest.raises(TypeError, match="measure_train must be a bool"):
        train_classifier(fast, (X, y), None, TrainConfig(epochs=1), measure_train="no")


def test_cosine_schedule_follows_warmup_cosine_lr():
    from course_lib.optim import warmup_cosine_lr

    X, y = _blobs()
    model = make_classifier(10, 8, 3, seed=0)
    seen = []
    orig = torch.optim.Adam.step

    def spy(self, *a, **k):
        seen.append(self.param_groups[0]["lr"])
        return orig(self, *a, **k)

    torch.optim.Adam.step = spy
    try:
        train_classifier(model, (X, y), None, TrainConfig(epochs=5, lr=0.1, batch_size=16, schedule="cosine"))
    finally:
        torch.optim.Adam.step = orig
    total = 5 * 15  # ceil(240 / 16) steps per epoch
    assert len(seen) == total
    assert seen == pytest.approx([warmup_cosine_lr(s, 0.1, total // 20, total) for s in range(total)])
    assert max(seen) == pytest.approx(0.1) and seen[-1] < 1e-3
    with pytest.raises(ValueError, match="schedule must be one of"):
        TrainConfig(schedule="linear")


def test_train_classifier_is_deterministic_per_seed():
    X, y = _blobs()
    run = lambda seed: train_classifier(
        make_classifier(10, 32, 3, dropout=0.5), (X, y), None, TrainConfig(epochs=3, seed=seed)
    ).train_loss
    assert run(0) == run(0)
    assert run(0) != run(1)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw"])
def test_train_classifier_each_optimizer(optimizer):
    X, y = _blobs()
    h = train_classifier(make_classifier(10, 32, 3), (X, y), None, TrainConfig(epochs=5, lr=0.05, optimizer=optimizer))
    assert h.train_loss[-1] < h.train_loss[0]


def test_gradient_clipping_is_applied():
    X, y = _blobs()
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = make_classifier(10, 32, 3)
            self.net[0].weight.register_hook(lambda g: seen.append(g.norm()))

        def forward(self, x):
            return 1000.0 * self.net(x)  # huge gradients

    model = Spy()
    before = [p.detach().clone() for p in model.parameters()]
    h = train_classifier(model, (X, y), None, TrainConfig(epochs=1, batch_size=240, optimizer="sgd", lr=1.0, clip_norm=0.5))
    step = torch.cat([(p.detach() - b).reshape(-1) for p, b in zip(model.parameters(), before)])
    assert h.grad_norm[0] > 10  # the pre-clipping norm is reported
    assert float(step.norm()) == pytest.approx(0.5, rel=1e-4)  # SGD step = lr * clipped grad
    assert h.step_grad_norm == pytest.approx(h.grad_norm)  # one step: the per-step record is the epoch mean


def test_history_records_every_step():
    X, y = _blobs()
    h = train_classifier(make_classifier(10, 16, 3), (X, y), None, TrainConfig(epochs=3, batch_size=64, lr=0.05))
    assert h.steps == 3 * 4 == len(h.step_loss) == len(h.step_grad_norm)  # 240 examples: 4 batches per epoch
    assert h.grad_norm[0] == pytest.approx(np.mean(h.step_grad_norm[:4]))
    assert h.step_loss[0] > h.step_loss[-1] > 0


def test_early_stopping_callback_stops_and_restores():
    X, y = _blobs(sep=0.3)
    Xd, yd = _blobs(seed=5, sep=0.3)
    stop = EarlyStopping(patience=2)
    model = make_classifier(10, 64, 3)
    h = train_classifier(model, (X, y), (Xd, yd), TrainConfig(epochs=60, lr=0.05), callbacks=[stop])
    assert stop.stopped_epoch_ is not None and h.epochs == stop.stopped_epoch_ + 1 < 60
    assert evaluate(model, Xd, yd)["loss"] == pytest.approx(h.dev_loss[stop.best_epoch_])


def test_train_classifier_bad_input():
    X, y = _blobs()
    model = make_classifier(10, 32, 3)
    cfg = TrainConfig(epochs=1)
    with pytest.raises(ValueError, match="same number of examples"):
        train_classifier(model, (X, y[:-1]), None, cfg)
    with pytest.raises(TypeError, match="integer class indices"):
        train_classifier(model, (X, y.float()), None, cfg)
    with pytest.raises(TypeError, match=r"train must be a tuple \(X, y\)"):
        train_classifier(model, X, None, cfg)
    with pytest.raises(ValueError, match="dev X must have the feature shape"):
        train_classifier(model, (X, y), (X[:, :5], y), cfg)
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train_classifier(model, (X, y), None, {"epochs": 1})
    with pytest.raises(ValueError, match="no trainable parameters"):
        train_classifier(make_classifier(10, 32, 3).requires_grad_(False), (X, y), None, cfg)
    with pytest.raises(ValueError, match=r"\(B, K\) logits"):
        train_classifier(nn.Linear(10, 3), (X[:, :, None].expand(-1, -1, 10).contiguous(), y), None, cfg)


def test_gradient_norm_matches_clip_grad_norm():
    X, y = _blobs()
    model = make_classifier(10, 32, 3)
    assert gradient_norm(model) == 0.0
    F.cross_entropy(model(X), y).backward()
    ours = gradient_norm(model)
    assert ours == pytest.approx(float(nn.utils.clip_grad_norm_(model.parameters(), 1e9)), rel=1e-6)
    assert gradient_norm(model, 1.0) == pytest.approx(
        float(nn.utils.clip_grad_norm_(model.parameters(), 1e9, norm_type=1.0)), rel=1e-6)


# ---------------------------------------------------------- normalisation

def test_standardizer_matches_sklearn():
    from sklearn.preprocessing import StandardScaler

    X = torch.randn(50, 4, generator=_gen(0), dtype=torch.float64) * torch.tensor([1.0, 10.0, 0.1, 3.0]) + 5
    Xt = torch.randn(20, 4, generator=_gen(1), dtype=torch.float64)
    s = Standardizer().fit(X)
    sk = StandardScaler().fit(X.numpy())
    np.testing.assert_allclose(s.transform(Xt).numpy(), sk.transform(Xt.numpy()), atol=1e-10)
    np.testing.assert_allclose(s.inverse_transform(s.transform(Xt)).numpy(), Xt.numpy(), atol=1e-10)
    z = s.fit_transform(X)
    np.testing.assert_allclose(z.mean(0).numpy(), 0, atol=1e-10)
    np.testing.assert_allclose(z.std(0, unbiased=False).numpy(), 1, atol=1e-10)


def test_standardizer_uses_only_fit_statistics_and_sequences():
    X = torch.randn(8, 30, 5, generator=_gen(2))  # (B, T, F)
    s = Standardizer().fit(X)
    torch.testing.assert_close(s.mean_, X.reshape(-1, 5).mean(0))
    test = X[:2] + 100.0
    assert float(s.transform(test).mean()) > 50  # a shifted test set stays shifted: no refit on test


def test_standardizer_bad_input():
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardizer().transform(torch.zeros(2, 3))
    s = Standardizer().fit(torch.randn(5, 3, generator=_gen(0)))
    with pytest.raises(ValueError, match="X must have 3 features"):
        s.transform(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="at least 2 examples"):
        Standardizer().fit(torch.zeros(1, 3))
    with pytest.raises(TypeError, match="floating-point"):
        Standardizer().fit(torch.zeros(4, 3, dtype=torch.long))


# --------------------------------------------------------------- RMSNorm

@pytest.mark.parametrize("shape", [(4, 6), (2, 5, 6), (3, 4, 6)])
@pytest.mark.parametrize("eps", [None, 1e-5])
def test_rmsnorm_matches_torch(shape, eps):
    x = torch.randn(*shape, generator=_gen(0), dtype=torch.float64, requires_grad=True)
    ours, theirs = RMSNorm(6, eps=eps).double(), nn.RMSNorm(6, eps=eps).double()
    with torch.no_grad():
        w = torch.rand(6, generator=_gen(1), dtype=torch.float64) + 0.5
        ours.weight.copy_(w)
        theirs.weight.copy_(w)
    a, b = ours(x), theirs(x)
    torch.testing.assert_close(a, b)
    ga = torch.autograd.grad(a.sum() + (a**2).sum(), (x, ours.weight))
    gb = torch.autograd.grad(b.sum() + (b**2).sum(), (x, theirs.weight))
    for u, v in zip(ga, gb):
        torch.testing.assert_close(u, v)


def test_rms_norm_multi_axis_and_gradcheck():
    x = torch.randn(3, 4, 5, generator=_gen(0), dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(rms_norm(x, (4, 5), eps=1e-6), F.rms_norm(x, (4, 5), eps=1e-6))
    assert torch.autograd.gradcheck(lambda t: rms_norm(t, 5, eps=1e-6), (x,))
    with pytest.raises(ValueError, match="must end with normalized_shape"):
        rms_norm(x, 4)


def test_norm_layers_statistics():
    x = 5 + 3 * torch.randn(64, 16, generator=_gen(0))
    ln, bn, rn = nn.LayerNorm(16), nn.BatchNorm1d(16).train(), RMSNorm(16)
    with torch.no_grad():
        assert float(ln(x).mean(1).abs().max()) < 1e-5  # LayerNorm: per example
        assert float(bn(x).mean(0).abs().max()) < 1e-5  # BatchNorm: per feature, over the batch
        torch.testing.assert_close(rn(x).pow(2).mean(1), torch.ones(64), atol=1e-4, rtol=0)  # RMSNorm: unit RMS


# ------------------------------------------------------- the overfit test

@pytest.fixture(scope="module")
def tiny():
    g = _gen(0)
    return torch.randn(16, 20, generator=g), torch.randint(0, 4, (16,), generator=g)


def _mk(**kw):
    return make_classifier(20, 64, 4, **kw)


@pytest.mark.parametrize("kw", [{}, {"norm": "batch"}, {"norm": "rms"}, {"dropout": 0.3}])
def test_overfit_check_passes_on_healthy_setups(tiny, kw):
    r = overfit_check(_mk(**kw), tiny)
    assert r.passed, r.message
    assert r.cause == "ok" and r.final_acc == 1.0 and r.final_loss < 0.05
    assert len(r.losses) == len(r.grad_norms) == 200 and r.param_change > 0
    assert r.raise_if_failed() is r


def test_overfit_check_accepts_a_builder_and_sgd(tiny):
    r = overfit_check(lambda: _mk(), tiny, optimizer="momentum", lr=0.1, steps=300)
    assert r.passed, r.message


class _AlwaysDropout(nn.Module):
    """Dropout written with F.dropout(training=True): still active in eval mode."""

    def __init__(self):
        super().__init__()
        self.net = _mk()

    def forward(self, x):
        return self.net(F.dropout(x, 0.5, training=True))


def _shuffled_pipeline(X, y):
    """A loader that shuffles inputs and labels with different permutations."""

    def batch(step):
        g = _gen(step)
        return X[torch.randperm(len(X), generator=g)], y[torch.randperm(len(y), generator=g)]

    return batch


BROKEN = {
    "frozen parameters": (lambda: _mk().requires_grad_(False), {}, "no_trainable_parameters", "no trainable parameters"),
    "zero learning rate": (_mk, {"lr": 0.0}, "parameters_unchanged", "parameters did not change"),
    "detached loss": (_mk, {"loss_fn": lambda z, t: F.cross_entropy(z.detach(), t)}, "detached_loss",
                      "loss has no grad_fn"),
    "loss on argmax'd logits": (
        _mk, {"loss_fn": lambda z, t: F.cross_entropy(F.one_hot(z.argmax(1), 4).float(), t)},
        "detached_loss", "argmax"),
    "loss on the wrong targets": (_mk, {"loss_fn": lambda z, t: F.cross_entropy(z, torch.zeros_like(t))},
                                  "loss_accuracy_mismatch", "loss wiring"),
    "dropout active in eval mode": (_AlwaysDropout, {}, "nondeterministic_eval", "model.eval()"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_overfit_check_fails_on_broken_setups_with_a_useful_message(tiny, name):
    build, kw, cause, phrase = BROKEN[name]
    r = overfit_check(build(), tiny, **kw)
    assert not r.passed
    assert r.cause == cause, r.message
    assert phrase in r.message
    with pytest.raises(OverfitError, match=re.escape(phrase)):
        r.raise_if_failed()


def test_overfit_check_catches_labels_shuffled_apart_from_inputs(tiny):
    r = overfit_check(_mk(), _shuffled_pipeline(*tiny))
    assert not r.passed and r.cause == "loss_stuck"
    assert "labels do not match the inputs" in r.message


def test_overfit_check_model_output_ignoring_parameters_is_detached(tiny):
    class Ignores(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(20, 4)
            self.bias = nn.Parameter(torch.zeros(4))

        def forward(self, x):
            return self.bias.detach() + x[:, :4] * 1.0 + 0 * self.bias.detach()

    r = overfit_check(Ignores(), tiny)
    assert r.cause == "detached_loss"  # the loss never touches a parameter


def test_overfit_check_too_low_lr_is_underfit(tiny):
    r = overfit_check(_mk(), tiny, lr=1e-5, steps=20)
    assert not r.passed and r.cause in {"loss_stuck", "underfit"}


def test_overfit_check_bad_input(tiny):
    with pytest.raises(ValueError, match="lr must be >= 0"):
        overfit_check(_mk(), tiny, lr=-1.0)
    with pytest.raises(ValueError, match="batch must be tiny"):
        overfit_check(_mk(), (torch.zeros(500, 20), torch.zeros(500, dtype=torch.long)))
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        overfit_check(3, tiny)
    with pytest.raises(ValueError, match="same number of examples"):
        overfit_check(_mk(), (tiny[0], tiny[1][:3]))


def test_mean_std_pool():
    from course_lib.normalization import mean_std_pool

    x = torch.randn(3, 5, 40, generator=_gen(0), dtype=torch.float64)  # (B, n_mels, frames)
    z = mean_std_pool(x)
    assert z.shape == (3, 10)
    np.testing.assert_allclose(z[:, :5].numpy(), x.numpy().mean(-1))
    np.testing.assert_allclose(z[:, 5:].numpy(), x.numpy().std(-1))
    with pytest.raises(ValueError, match="at least 2 frames"):
        mean_std_pool(torch.zeros(2, 5, 1))


# ------------------------------------------------------ batch_transform hook
def test_batch_transform_sees_training_batches_only_and_is_seeded():
    X, y = _blobs(96, 6, 3, seed=4)
    X3 = X.reshape(96, 2, 3)  # a rank-3 input (B, C, F): the loop accepts any (B, ...)
    seen = []

    def transform(xb, gen):
        assert isinstance(gen, torch.Generator)
        seen.append((xb.shape, float(torch.rand((), generator=gen))))
        return xb + 0.01 * torch.randn(xb.shape, generator=gen)

    def build():
        torch.manual_seed(0)
        return nn.Sequential(nn.Flatten(), nn.Linear(6, 3))

    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.05)
    h1 = train_classifier(build(), (X3, y), (X3[:10], y[:10]), cfg, batch_transform=transform)
    draws1 = [d for _, d in seen]
    assert [s for s, _ in seen] == [torch.Size([32, 2, 3])] * 6  # 3 steps x 2 epochs, never the eval passes
    seen.clear()
    h2 = train_classifier(build(), (X3, y), (X3[:10], y[:10]), cfg, batch_transform=transform)
    assert draws1 == [d for _, d in seen] and h1.train_loss == h2.train_loss
    # the transform changes training (vs none) but not the shuffling order's generator
    h0 = train_classifier(build(), (X3, y), None, cfg)
    assert h0.train_loss != h1.train_loss


def test_batch_transform_bad_input():
    X, y = _blobs(32, 4, 2)
    cfg = TrainConfig(epochs=1, batch_size=16)
    with pytest.raises(TypeError, match="batch_transform must be callable"):
        train_classifier(make_classifier(4, 8, 2), (X, y), None, cfg, batch_transform=3)
    with pytest.raises(ValueError, match="batch's shape"):
        train_classifier(make_classifier(4, 8, 2), (X, y), None, cfg, batch_transform=lambda xb, g: xb[:, :2])


def test_plot_gradient_clipping_draws_threshold_applied_norm_and_divergence():
    import matplotlib

    matplotlib.use("Agg")
    from course_lib.plots.training import plot_gradient_clipping

    nan = float("nan")
    axes = plot_gradient_clipping({"free": [3.0, 9.0, nan], "clipped": [3.0, 2.0, 1.5]},
                                  {"free": [1.0, 40.0, nan], "clipped": [1.0, 5.0, 3.0]}, 2.0,
                                  clipped="clipped", chance=3.0)
    labels = [line.get_label() for line in axes[1].get_lines()]
    assert "threshold c = 2" in labels and "clipped: applied (after clipping)" in labels
    applied = [line for line in axes[1].get_lines() if line.get_label() == "clipped: applied (after clipping)"][0]
    assert list(applied.get_ydata()) == [1.0, 2.0, 2.0]
    assert any("not finite from step 2" in line.get_label() for line in axes[0].get_lines())
    assert axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="same run names"):
        plot_gradient_clipping({"a": [1.0]}, {"b": [1.0]}, 1.0)
    with pytest.raises(ValueError, match="clip_norm must be a number > 0"):
        plot_gradient_clipping({"a": [1.0]}, {"a": [1.0]}, 0.0)
    with pytest.raises(ValueError, match="clipped must name one of the runs"):
        plot_gradient_clipping({"a": [1.0]}, {"a": [1.0]}, 1.0, clipped="b")


@pytest.mark.parametrize("field", ["lr", "weight_decay"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_make_optimizer_rejects_non_finite_lr_and_weight_decay(field, value):
    from course_lib.training import make_optimizer

    kwargs = {"lr": 0.1, "weight_decay": 0.0, field: value}
    with pytest.raises(ValueError, match=rf"{field} must be a finite number"):
        make_optimizer(nn.Linear(2, 1).parameters(), "adam", **kwargs)


def test_make_optimizer_rejects_params_that_are_not_parameters():
    from course_lib.training import make_optimizer

    with pytest.raises(TypeError, match="params must be an iterable of parameters"):
        make_optimizer(None, "sgd", 0.1)
    with pytest.raises(TypeError, match="params must hold tensors"):
        make_optimizer(["w"], "sgd", 0.1)


def test_evaluate_rejects_a_label_out_of_the_models_range_with_a_value_error():
    from course_lib.training import evaluate

    model = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"y holds class 5, out of range for the model's 3 logits"):
        evaluate(model, torch.randn(4, 4), torch.tensor([0, 1, 2, 5]))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        evaluate("model", torch.randn(4, 4), torch.tensor([0, 1, 2, 0]))
