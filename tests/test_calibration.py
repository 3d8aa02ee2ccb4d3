"""course_lib.calibration: softmax numerics, Bayes, reliability bins, ECE, temperature scaling."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.calibration import (
    TemperatureScaler,
    bayes_posterior,
    calibration_summary,
    expected_calibration_error,
    log_softmax,
    reliability_bins,
    softmax,
)


def reference_ece(probs: np.ndarray, labels: np.ndarray, n_bins: int) -> float:
    """Straightforward loop: bins (lo, hi] over max-probability confidence."""
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    total = 0.0
    for i in range(n_bins):
        lo, hi = i / n_bins, (i + 1) / n_bins
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            acc = (pred[in_bin] == labels[in_bin]).mean()
            total += in_bin.mean() * abs(conf[in_bin].mean() - acc)
    return total


def synthetic(n: int, n_classes: int, scale: float, seed: int):
    """Logits whose softmax is calibrated by construction (labels drawn from it)."""
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, n_classes, generator=g, dtype=torch.float64)
    labels = torch.multinomial(torch.softmax(logits, dim=1), 1, generator=g)[:, 0]
    return logits, labels


# --------------------------------------------------------------------------
# softmax numerics
# --------------------------------------------------------------------------

@given(st.floats(min_value=-1e4, max_value=1e4), st.integers(min_value=1, max_value=5))
@settings(max_examples=40, deadline=None)
def test_softmax_matches_torch_for_any_offset(offset, seed):
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(seed)) * 5 + offset
    torch.testing.assert_close(softmax(z, dim=1), torch.softmax(z, dim=1))
    torch.testing.assert_close(softmax(z, dim=0), torch.softmax(z, dim=0))
    torch.testing.assert_close(log_softmax(z, dim=1), torch.log_softmax(z, dim=1))


def test_naive_softmax_overflows_and_stable_one_does_not():
    z = torch.tensor([[90.0, 89.0, 0.0]])  # exp(90) overflows float32
    assert torch.isnan(softmax(z, subtract_max=False)).any()
    assert torch.isfinite(softmax(z)).all()
    torch.testing.assert_close(softmax(z), torch.softmax(z, dim=-1))
    small = torch.tensor([[0.0, -200.0]])
    assert torch.isinf(torch.log(softmax(small))).any()  # log of an underflowed 0
    torch.testing.assert_close(log_softmax(small), torch.log_softmax(small, dim=-1))
    assert torch.isfinite(log_softmax(small)).all()


def test_softmax_bad_input():
    with pytest.raises(TypeError, match="floating-point"):
        softmax(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        log_softmax(torch.tensor([1.0, float("inf")]))
    with pytest.raises(ValueError, match="dim must be"):
        softmax(torch.ones(2, 3), dim=2)


# --------------------------------------------------------------------------
# Bayes
# --------------------------------------------------------------------------

def test_bayes_posterior_matches_hand_formula():
    prior_kw, hit, false_alarm = 1e-3, 0.99, 0.01
    post = bayes_posterior(torch.tensor([1 - prior_kw, prior_kw]), torch.tensor([false_alarm, hit]))
    want = hit * prior_kw / (hit * prior_kw + false_alarm * (1 - prior_kw))
    assert math.isclose(float(post[1]), want, rel_tol=1e-6)
    assert want < 0.1  # a 99 %-accurate detector of a rare keyword is mostly wrong when it fires


def test_bayes_posterior_batched_and_uniform_prior_is_normalised_likelihood():
    like = torch.rand(5, 3, generator=torch.Generator().manual_seed(0)) + 0.1
    post = bayes_posterior(torch.full((3,), 1 / 3), like)
    torch.testing.assert_close(post, like / like.sum(dim=1, keepdim=True))


def test_bayes_posterior_bad_input():
    with pytest.raises(ValueError, match="sum to 1"):
        bayes_posterior(torch.tensor([0.5, 0.6]), torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="C=2 classes"):
        bayes_posterior(torch.tensor([0.5, 0.5]), torch.tensor([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="non-negative"):
        bayes_posterior(torch.tensor([0.5, 0.5]), torch.tensor([-0.1, 0.2]))
    with pytest.raises(ValueError, match="zero likelihood"):
        bayes_posterior(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.2]))


# --------------------------------------------------------------------------
# reliability bins and ECE
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
@pytest.mark.parametrize("scale", [0.5, 2.0, 6.0])
def test_ece_matches_reference_loop(n_bins, scale):
    logits, labels = synthetic(600, 4, scale, seed=n_bins)
    probs = torch.softmax(3.0 * logits, dim=1)  # overconfident
    got = expected_calibration_error(probs, labels, n_bins)
    assert got == pytest.approx(reference_ece(probs.numpy(), labels.numpy(), n_bins), abs=1e-12)


def test_bin_edges_are_left_open_right_closed():
    # exactly representable confidences on the edges of 4 bins
    probs = torch.tensor([[0.5, 0.5], [0.75, 0.25], [1.0, 0.0], [0.25, 0.75]], dtype=torch.float64)
    bins = reliability_bins(probs, torch.tensor([0, 0, 0, 1]), n_bins=4)
    # 0.5 -> (0.25, 0.5]; 0.75 (twice) -> (0.5, 0.75]; 1.0 -> (0.75, 1.0]
    assert bins["count"].tolist() == [0, 1, 2, 1]
    assert bins["lo"].tolist() == [0.0, 0.25, 0.5, 0.75]
    assert bins["hi"].tolist() == [0.25, 0.5, 0.75, 1.0]


def test_reliability_bins_columns_and_totals():
    logits, labels = synthetic(500, 3, 2.0, seed=3)
    probs = torch.softmax(logits, dim=1)
    bins = reliability_bins(probs, labels, n_bins=10)
    assert list(bins.columns) == ["lo", "hi", "count", "confidence", "accuracy", "gap"]
    assert bins["count"].sum() == 500
    used = bins[bins["count"] > 0]
    acc = (probs.argmax(1) == labels).double().mean().item()
    assert (used["count"] * used["accuracy"]).sum() / 500 == pytest.approx(acc)


def test_calibrated_data_has_small_ece_and_overconfident_data_large():
    logits, labels = synthetic(20000, 5, 2.0, seed=0)
    ece_cal = expected_calibration_error(torch.softmax(logits, 1), labels)
    ece_over = expected_calibration_error(torch.softmax(4.0 * logits, 1), labels)
    assert ece_cal < 0.02
    assert ece_over > 0.1


def test_ece_invariant_to_permuting_examples_and_numpy_input():
    logits, labels = synthetic(300, 3, 2.0, seed=5)
    probs = torch.softmax(2 * logits, 1)
    perm = torch.randperm(300, generator=torch.Generator().manual_seed(0))
    a = expected_calibration_error(probs, labels)
    assert expected_calibration_error(probs[perm], labels[perm]) == pytest.approx(a)
    assert expected_calibration_error(probs.numpy(), labels.numpy()) == pytest.approx(a)


def test_calibration_summary_against_torch():
    logits, labels = synthetic(400, 4, 3.0, seed=2)
    probs = torch.softmax(logits, 1)
    s = calibration_summary(probs, labels)
    assert s["n"] == 400
    assert s["accuracy"] == pytest.approx((logits.argmax(1) == labels).double().mean().item())
    assert s["nll"] == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-9)
    assert s["overconfidence"] == pytest.approx(s["confidence"] - s["accuracy"])
    assert s["ece"] == pytest.approx(expected_calibration_error(probs, labels))


@pytest.mark.parametrize(
    "probs, labels, kwargs, exc, match",
    [
        (torch.full((2, 2), 0.5), torch.tensor([0, 2]), {}, ValueError, r"\[0, 1\]"),
        (torch.full((2, 2), 0.5), torch.tensor([0.0, 1.0]), {}, TypeError, "integer tensor"),
        (torch.full((2, 2), 0.5), torch.tensor([0, 1, 1]), {}, ValueError, r"shape \(2,\)"),
        (torch.tensor([[2.0, -1.0]]), torch.tensor([0]), {}, ValueError, "not logits"),
        (torch.tensor([[0.5, 0.2]]), torch.tensor([0]), {}, ValueError, "sum to 1"),
        (torch.full((3,), 0.5), torch.tensor([0, 1, 1]), {}, ValueError, "2 dimensions"),
        (torch.full((2, 2), 0.5), torch.tensor([0, 1]), {"n_bins": 0}, ValueError, "positive int"),
    ],
)
def test_ece_bad_input(probs, labels, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        expected_calibration_error(probs, labels, **kwargs)


# --------------------------------------------------------------------------
# temperature scaling
# --------------------------------------------------------------------------

def grid_nll_minimum(logits, labels, grid):
    nlls = [F.cross_entropy(logits / t, labels).item() for t in grid]
    return float(grid[int(np.argmin(nlls))])


@pytest.mark.parametrize("factor", [0.5, 1.0, 3.0])
def test_temperature_recovers_the_scale_and_matches_grid_search(factor):
    logits, labels = synthetic(4000, 4, 2.0, seed=int(10 * factor))
    scaler = TemperatureScaler().fit(factor * logits, labels)
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 4001))
    t_grid = grid_nll_minimum(factor * logits, labels, grid)
    assert scaler.temperature_ == pytest.approx(t_grid, rel=2e-3)
    assert scaler.temperature_ == pytest.approx(factor, rel=0.1)


def test_temperature_scaling_keeps_accuracy_lowers_dev_nll_and_test_ece():
    logits, labels = synthetic(6000, 5, 2.0, seed=11)
    over = 3.0 * logits
    dev, test = slice(0, 3000), slice(3000, None)
    scaler = TemperatureScaler().fit(over[dev], labels[dev])
    assert scaler.nll_after_ < scaler.nll_before_
    assert scaler.nll_before_ == pytest.approx(F.cross_entropy(over[dev], labels[dev]).item())
    p_before = torch.softmax(over[test], 1)
    p_after = scaler.predict_proba(over[test])
    assert torch.equal(p_before.argmax(1), p_after.argmax(1))
    assert expected_calibration_error(p_after, labels[test]) < 0.5 * expected_calibration_error(p_before, labels[test])
    torch.testing.assert_close(scaler.transform(over[test]), over[test] / scaler.temperature_)


def test_temperature_scaler_is_deterministic_and_sklearn_style():
    logits, labels = synthetic(500, 3, 2.0, seed=4)
    a = TemperatureScaler().fit(2 * logits, labels)
    b = TemperatureScaler().fit(2 * logits, labels)
    assert a.temperature_ == b.temperature_
    assert isinstance(a, TemperatureScaler) and "temperature_=" in repr(a)
    assert not hasattr(TemperatureScaler(), "temperature_")


def test_temperature_scaler_bad_input():
    with pytest.raises(RuntimeError, match="not fitted"):
        TemperatureScaler().predict_proba(torch.ones(2, 3))
    with pytest.raises(ValueError, match="bounds"):
        TemperatureScaler(bounds=(0.0, 10.0)).fit(torch.ones(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        TemperatureScaler().fit(torch.ones(2, 3), torch.tensor([0, 3]))
    with pytest.raises(TypeError, match="floating-point"):
        TemperatureScaler().fit(torch.ones(2, 3, dtype=torch.long), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        TemperatureScaler().fit(torch.ones(2, 3), torch.tensor([0]))


def test_plot_reliability_bars_match_bins():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plots.evaluation import plot_reliability

    logits, labels = synthetic(400, 3, 2.0, seed=8)
    probs = torch.softmax(2 * logits, 1)
    ax = plot_reliability(probs, labels, n_bins=10, label="overconfident")
    bins = reliability_bins(probs, labels, 10)
    heights = [p.get_height() for p in ax.containers[0]]
    want = np.where(bins["count"] > 0, bins["accuracy"], 0.0)
    assert heights == pytest.approx(want.tolist())
    assert any(f"ECE {expected_calibration_error(probs, labels, 10):.3f}" in t for t in ax.get_legend_handles_labels()[1])
    assert ax.get_title() and ax.get_ylabel() == "accuracy (fraction correct)"
    plt.close(ax.figure)
