"""course_lib.optim against torch.optim and torch.optim.lr_scheduler, step for step."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.optim import (
    SGD,
    Adam,
    AdamW,
    Momentum,
    RMSprop,
    clip_grad_norm_,
    cosine_lr,
    optimize_path,
    ravine,
    rosenbrock,
    step_lr,
    warmup_cosine_lr,
    warmup_lr,
)

N_STEPS = 25


def _model(dtype):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).to(dtype)


def _data(dtype):
    g = torch.Generator().manual_seed(1)
    return torch.randn(N_STEPS, 10, 6, generator=g, dtype=dtype), torch.randint(0, 3, (N_STEPS, 10), generator=g)


def _run_pair(ours_cls, ours_kw, torch_cls, torch_kw, dtype=torch.float64, schedule=None):
    """Train two identical models, one per optimizer, on the same batches; return max param gap per step."""
    a, b = _model(dtype), _model(dtype)
    opt_a = ours_cls(a.parameters(), **ours_kw)
    opt_b = torch_cls(b.parameters(), **torch_kw)
    X, Y = _data(dtype)
    gaps = []
    for step in range(N_STEPS):
        if schedule is not None:
            opt_a.lr = schedule(step)
            for group in opt_b.param_groups:
                group["lr"] = schedule(step)
        for model, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            nn.functional.cross_entropy(model(X[step]), Y[step]).backward()
            opt.step()
        gaps.append(max(float((pa - pb).detach().abs().max()) for pa, pb in zip(a.parameters(), b.parameters())))
    moved = max(float((pa - p0).detach().abs().max()) for pa, p0 in zip(a.parameters(), _model(dtype).parameters()))
    assert moved > 1e-3, "the parameters must actually move for the comparison to mean anything"
    return max(gaps)


CASES = [
    (SGD, dict(lr=0.1), torch.optim.SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.1, weight_decay=0.01), torch.optim.SGD, dict(lr=0.1, weight_decay=0.01)),
    (Momentum, dict(lr=0.05, momentum=0.9), torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (Momentum, dict(lr=0.05, momentum=0.9, dampening=0.5), torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.5)),
    (Momentum, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3), torch.optim.SGD,
     dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3)),
    (RMSprop, dict(lr=0.01), torch.optim.RMSprop, dict(lr=0.01)),
    (RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-3), torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-3)),
    (RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01), torch.optim.RMSprop,
     dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)),
    (Adam, dict(lr=0.01), torch.optim.Adam, dict(lr=0.01)),
    (Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.1), torch.optim.Adam,
     dict(lr=0.01, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.1)),
    (AdamW, dict(lr=0.01, weight_decay=0.1), torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
]


@pytest.mark.parametrize("ours_cls,ours_kw,torch_cls,torch_kw", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_optimizer_matches_torch_step_for_step_float64(ours_cls, ours_kw, torch_cls, torch_kw):
    assert _run_pair(ours_cls, ours_kw, torch_cls, torch_kw) < 1e-10


@pytest.mark.parametrize("ours_cls,ours_kw,torch_cls,torch_kw", CASES[::2], ids=lambda v: getattr(v, "__name__", ""))
def test_optimizer_matches_torch_float32_within_1e6(ours_cls, ours_kw, torch_cls, torch_kw):
    assert _run_pair(ours_cls, ours_kw, torch_cls, torch_kw, dtype=torch.float32) < 1e-6


def test_changing_lr_between_steps_matches_torch():
    sched = lambda s: warmup_cosine_lr(s, 0.05, 5, N_STEPS)
    assert _run_pair(Adam, dict(lr=0.05), torch.optim.Adam, dict(lr=0.05), schedule=sched) < 1e-10
    assert _run_pair(Momentum, dict(lr=0.05), torch.optim.SGD, dict(lr=0.05, momentum=0.9), schedule=sched) < 1e-10


def test_adam_bias_correction_matters_on_the_first_step():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    opt = Adam([w], lr=0.1)
    (w**2 * torch.tensor([100.0, 0.01])).sum().backward()
    opt.step()
    # bias-corrected first step: exactly lr * sign(g) whatever the gradient's scale
    torch.testing.assert_close(w.detach(), torch.tensor([0.9, -1.9]), atol=1e-6, rtol=0)


def test_parameters_without_grad_are_left_alone_like_torch():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    opt_a, opt_b = Adam(a.parameters(), lr=0.1), torch.optim.Adam(b.parameters(), lr=0.1)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    for step in range(4):
        for m, o in ((a, opt_a), (b, opt_b)):
            o.zero_grad()
            out = m(x) if step % 2 == 0 else x @ m.weight.T  # odd steps: bias gets no gradient
            out.sum().backward()
            o.step()
    torch.testing.assert_close(a.bias, b.bias)
    torch.testing.assert_close(a.weight, b.weight)


def test_zero_grad_modes():
    w = torch.ones(2, requires_grad=True)
    opt = SGD([w], lr=0.1)
    w.sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and float(w.grad.abs().sum()) == 0.0
    opt.zero_grad()
    assert w.grad is None


def test_optimizer_bad_input():
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="params is empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="requires_grad=True"):
        SGD([torch.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        Adam([w], lr=-1.0)
    with pytest.raises(ValueError, match=r"beta1 must lie in \[0, 1\)"):
        Adam([w], betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="nesterov momentum requires"):
        Momentum([w], momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(TypeError, match="betas must be a pair"):
        Adam([w], betas=0.9)


# ---------------------------------------------------------------- schedules

def _torch_lrs(make_sched, n, base_lr=0.1):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_sched(opt)
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.asarray(lrs)


def test_step_lr_matches_torch():
    ours = [step_lr(s, 0.1, 7, 0.5) for s in range(30)]
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5), 30)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("min_lr", [0.0, 0.01])
def test_cosine_lr_matches_torch(min_lr):
    ours = [cosine_lr(s, 0.1, 20, min_lr) for s in range(21)]
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=min_lr), 21)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("start_factor", [0.1, 0.5])
def test_warmup_lr_matches_torch_linear_lr(start_factor):
    ours = [warmup_lr(s, 0.1, 8, start_factor) for s in range(15)]
    theirs = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=start_factor, total_iters=8), 15
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_warmup_cosine_matches_torch_lambda_lr():
    def factor(s):
        if s < 5:
            return s / 5
        return 0.5 * (1 + math.cos(math.pi * (min(s, 30) - 5) / 25))

    ours = [warmup_cosine_lr(s, 0.1, 5, 30) for s in range(35)]
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, factor), 35)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)
    assert ours[5] == pytest.approx(0.1) and ours[-1] == 0.0


def test_schedule_bad_input():
    with pytest.raises(ValueError, match="step must be >= 0"):
        cosine_lr(-1, 0.1, 10)
    with pytest.raises(TypeError, match="step must be an int"):
        step_lr(1.5, 0.1, 2)
    with pytest.raises(ValueError, match="total_steps must be a positive int"):
        cosine_lr(0, 0.1, 0)
    with pytest.raises(ValueError, match="must exceed warmup_steps"):
        warmup_cosine_lr(0, 0.1, 10, 10)
    with pytest.raises(ValueError, match=r"start_factor must lie in \[0, 1\]"):
        warmup_lr(0, 0.1, 5, start_factor=2.0)


# ----------------------------------------------------------------- surfaces

def test_surfaces_minimum_and_shape_check():
    assert float(ravine(torch.zeros(3, 2)).abs().max()) == 0.0
    assert float(rosenbrock(torch.tensor([2.0, 4.0]), a=2.0)) == 0.0
    with pytest.raises(ValueError, match=r"xy must have shape \(\.\.\., 2\)"):
        ravine(torch.zeros(3))


def test_optimize_path_same_for_ours_and_torch():
    p1, l1 = optimize_path(lambda p: Momentum(p, lr=0.02, momentum=0.9), ravine, (-4.0, 1.0), 40)
    p2, l2 = optimize_path(lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9), ravine, (-4.0, 1.0), 40)
    np.testing.assert_allclose(p1, p2, atol=1e-12)
    np.testing.assert_allclose(l1, l2, atol=1e-12)
    assert p1.shape == (41, 2) and l1.shape == (41,)


def test_momentum_and_adam_beat_sgd_on_the_ravine():
    def final(make):
        return optimize_path(make, ravine, (-4.0, 1.0), 100)[1][-1]

    sgd = final(lambda p: SGD(p, lr=0.04))
    assert final(lambda p: Momentum(p, lr=0.04, momentum=0.9)) < sgd
    assert final(lambda p: Adam(p, lr=0.1)) < sgd


# ---------------------------------------------------------------- gradient clipping
@pytest.mark.parametrize("max_norm", [0.01, 0.5, 1e6])
def test_clip_grad_norm_matches_torch(max_norm):
    a, b = _model(torch.float64), _model(torch.float64)
    X, y = _data(torch.float64)
    for m in (a, b):
        nn.functional.cross_entropy(m(X[0]), y[0]).backward()
        m[0].bias.grad = None                                  # a parameter without a gradient is skipped
    ours = clip_grad_norm_(a.parameters(), max_norm)
    theirs = float(nn.utils.clip_grad_norm_([p for p in b.parameters() if p.grad is not None], max_norm))
    assert ours == pytest.approx(theirs, rel=1e-12)
    for p, q in zip(a.parameters(), b.parameters()):
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            assert torch.allclose(p.grad, q.grad, rtol=1e-12, atol=0)


def test_clip_grad_norm_keeps_direction_and_caps_length():
    w = torch.zeros(3, requires_grad=True)
    w.grad = torch.tensor([30.0, -40.0, 0.0])
    assert clip_grad_norm_(w, 2.0) == pytest.approx(50.0)
    assert float(w.grad.norm()) == pytest.approx(2.0, rel=1e-6)
    assert torch.allclose(w.grad / w.grad.norm(), torch.tensor([0.6, -0.8, 0.0]))
    small = torch.zeros(2, requires_grad=True)
    small.grad = torch.tensor([0.3, 0.4])
    assert clip_grad_norm_([small], 1.0) == pytest.approx(0.5) and small.grad.tolist() == pytest.approx([0.3, 0.4])
    assert clip_grad_norm_([torch.zeros(2, requires_grad=True)], 1.0) == 0.0   # no gradients at all


def test_clip_grad_norm_bad_input():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        clip_grad_norm_([w], 0.0)
    with pytest.raises(TypeError, match="max_norm must be a float"):
        clip_grad_norm_([w], "1")


def test_clip_grad_norm_and_optimizers_reject_params_that_are_not_tensors():
    from course_lib.optim import SGD, clip_grad_norm_

    with pytest.raises(TypeError, match="params must be a tensor or an iterable of tensors, got str"):
        clip_grad_norm_("weights", 1.0)
    with pytest.raises(TypeError, match="params must hold tensors"):
        clip_grad_norm_(["w"], 1.0)
    with pytest.raises(TypeError, match="params must be an iterable of tensors"):
        SGD(None, lr=0.1)


def test_clip_grad_norm_validates_eps():
    from course_lib.optim import clip_grad_norm_

    w = torch.zeros(2, requires_grad=True)
    w.grad = torch.tensor([3.0, 4.0])
    with pytest.raises(TypeError, match="eps must be a float"):
        clip_grad_norm_([w], 1.0, eps="tiny")
    with pytest.raises(ValueError, match="eps must be >= 0"):
        clip_grad_norm_([w], 1.0, eps=-1.0)
