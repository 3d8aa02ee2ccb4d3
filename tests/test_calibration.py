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
    ClipMLP,
    TemperatureScaler,
    bayes_posterior,
    calibration_by_slice,
    calibration_summary,
    ece_change_interval,
    expected_calibration_error,
    keyword_split,
    log_softmax,
    reliability_bins,
    slice_figures,
    softmax,
    train_clip_mlp,
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


def _agg():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def test_plot_reliability_bars_match_bins_and_show_counts():
    plt = _agg()
    from course_lib.plots.calibration import plot_reliability

    logits, labels = synthetic(400, 3, 2.0, seed=8)
    probs = torch.softmax(2 * logits, 1)
    ax = plot_reliability(probs, labels, n_bins=10, label="overconfident")
    bins = reliability_bins(probs, labels, 10)
    used = bins["count"] > 0
    # the bar stack of each used bin reaches max(accuracy, confidence); its blue part reaches min(...)
    blue = [p.get_height() for p in ax.containers[0]]
    assert blue == pytest.approx(np.minimum(bins["accuracy"], bins["confidence"])[used].tolist())
    tops = {}
    for container in ax.containers:
        for patch in container:
            x = round(patch.get_x() + patch.get_width() / 2, 6)
            tops[x] = max(tops.get(x, 0.0), patch.get_y() + patch.get_height())
    assert sorted(tops.values()) == pytest.approx(sorted(np.maximum(bins["accuracy"], bins["confidence"])[used]))
    assert [int(t.get_text()) for t in ax.texts] == bins["count"][used].tolist()
    assert any(f"ECE {expected_calibration_error(probs, labels, 10):.3f}" in t.get_text() for t in ax.get_legend().get_texts())
    assert ax.get_ylabel() == "accuracy (fraction correct)" and "per bin" in ax.get_title()
    plt.close(ax.figure)


def test_plot_reliability_gap_blocks_are_opaque_and_never_overlap():
    plt = _agg()
    from course_lib.plots.calibration import RELIABILITY_COLORS, plot_reliability

    # bin (0.5, 0.6]: confidence 0.55, all right (underconfident); bin (0.9, 1]: confidence 0.95, half right
    probs = torch.tensor([[0.55, 0.45]] * 4 + [[0.95, 0.05]] * 4)
    labels = torch.tensor([0, 0, 0, 0, 0, 1, 0, 1])
    ax = plot_reliability(probs, labels, n_bins=10, show_counts=False)
    patches = [p for c in ax.containers for p in c]
    assert all(p.get_alpha() in (None, 1.0) for p in patches)
    spans = {}
    for p in patches:
        spans.setdefault(round(p.get_x(), 6), []).append((p.get_y(), p.get_y() + p.get_height()))
    for parts in spans.values():  # the blocks of one bin stack, they do not overlap
        parts.sort()
        assert all(a[1] <= b[0] + 1e-9 for a, b in zip(parts, parts[1:]))
    colours = {matplotlib_colour(p.get_facecolor()) for p in patches}
    assert colours == {matplotlib_colour(RELIABILITY_COLORS[k]) for k in ("accuracy", "over", "under")}
    assert not ax.texts
    plt.close(ax.figure)


def matplotlib_colour(c):
    from matplotlib.colors import to_hex

    return to_hex(c)


def test_plot_reliability_and_histogram_bad_input():
    plt = _agg()
    from course_lib.plots.calibration import plot_confidence_histogram, plot_reliability

    with pytest.raises(TypeError, match="show_counts must be a bool"):
        plot_reliability(torch.tensor([[0.9, 0.1]]), torch.tensor([0]), show_counts=1)
    with pytest.raises(TypeError, match="correct must be booleans"):
        plot_confidence_histogram([0.5], [1])
    with pytest.raises(ValueError, match="same length"):
        plot_confidence_histogram([0.5, 0.2], [True])
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        plot_confidence_histogram([1.5], [True])
    ax = plot_confidence_histogram([0.9, 0.8, 0.3], [True, False, False], bins=5)
    assert sum(p.get_height() for p in ax.containers[0]) == 1 and sum(p.get_height() for p in ax.containers[1]) == 2
    plt.close("all")


# --------------------------------------------------------------------------
# per-slice summaries and the ECE change interval
# --------------------------------------------------------------------------

def test_calibration_by_slice_equals_summary_of_each_slice():
    logits, labels = synthetic(300, 4, 2.0, seed=3)
    probs = torch.softmax(logits, 1)
    names = np.array(["a", "b", "c"])[np.arange(300) % 3]
    table = calibration_by_slice(probs, labels, names, 10, order=["c", "a"])
    assert list(table.index) == ["c", "a"]
    for name in ("c", "a"):
        idx = torch.from_numpy(np.flatnonzero(names == name))
        want = calibration_summary(probs[idx], labels[idx], 10)
        assert table.loc[name].to_dict() == pytest.approx(want)


def test_calibration_by_slice_bad_input():
    p, y = torch.tensor([[0.9, 0.1], [0.2, 0.8]]), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="name each of the 2 examples"):
        calibration_by_slice(p, y, ["a"])
    with pytest.raises(ValueError, match=r"slices \['z'\] have no examples"):
        calibration_by_slice(p, y, ["a", "b"], order=["z"])


def test_ece_change_interval_brackets_the_change_and_is_reproducible():
    logits, labels = synthetic(500, 3, 2.0, seed=4)
    before, after = torch.softmax(3 * logits, 1), torch.softmax(logits, 1)   # overconfident, then calibrated
    change, low, high = ece_change_interval(before, after, labels, 10, n_boot=100, seed=1)
    assert change == pytest.approx(expected_calibration_error(after, labels, 10)
                                   - expected_calibration_error(before, labels, 10))
    assert low <= change <= high and high < 0          # a clear improvement: the whole interval below 0
    assert ece_change_interval(before, after, labels, 10, n_boot=100, seed=1) == (change, low, high)


def test_ece_change_interval_bad_input():
    p, y = torch.tensor([[0.9, 0.1], [0.2, 0.8]]), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="must match"):
        ece_change_interval(p, torch.tensor([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1]]), y)
    with pytest.raises(ValueError, match="level must lie in"):
        ece_change_interval(p, p, y, level=1.5)
    with pytest.raises(TypeError, match="seed must be an int"):
        ece_change_interval(p, p, y, seed="1")


# --------------------------------------------------------------------------
# the module-02 model and its checkpoint
# --------------------------------------------------------------------------

def test_keyword_split_is_by_speaker_and_shared_by_any_corpus():
    import pandas as pd

    from course_lib.data.tts import speakers

    ids = [s.speaker_id for s in speakers()]
    meta = pd.DataFrame({"speaker": ids + ids[:10]})
    split = keyword_split(meta)
    assert set(split) == {"train", "dev", "test"}
    per_speaker = pd.Series(split).groupby(meta["speaker"]).nunique()
    assert (per_speaker == 1).all()                       # no speaker in two splits
    sub = meta.iloc[[3, 50, 100]].reset_index(drop=True)  # another corpus, fewer speakers: the same assignment
    assert keyword_split(sub).tolist() == split[[3, 50, 100]].tolist()
    counts = pd.Series(split[: len(ids)]).value_counts()
    assert abs(counts["train"] - 0.6 * len(ids)) <= 1 and abs(counts["test"] - 0.2 * len(ids)) <= 1


def test_keyword_split_bad_input():
    import pandas as pd

    with pytest.raises(TypeError, match="'speaker' column"):
        keyword_split(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="not course speakers"):
        keyword_split(pd.DataFrame({"speaker": ["nobody"]}))


def test_clip_mlp_standardises_with_stored_statistics():
    g = torch.Generator().manual_seed(0)
    X = 5 + 3 * torch.randn(50, 6, generator=g)
    model = ClipMLP(in_features=6, hidden=8, n_classes=3).fit_scaler(X).eval()
    torch.testing.assert_close(model.mean, X.mean(0))
    torch.testing.assert_close(model.std, X.std(0, unbiased=False))
    torch.testing.assert_close(model(X), model.mlp((X - X.mean(0)) / X.std(0, unbiased=False)))
    assert {"mean", "std"} <= set(model.state_dict())     # saved with the weights
    with pytest.raises(ValueError, match="must have 6 features"):
        model.fit_scaler(torch.randn(5, 4))


def test_train_clip_mlp_learns_separable_data():
    g = torch.Generator().manual_seed(1)
    y = torch.arange(60) % 3
    X = torch.randn(60, 8, generator=g) + 4 * torch.nn.functional.one_hot(y, 8).float()
    model, history = train_clip_mlp((X, y), (X, y), epochs=15, seed=0)
    assert not model.training and history.train_acc[-1] == 1.0
    figs = slice_figures(model, X, y, np.array(["a", "b"])[np.arange(60) % 2], order=["a", "b"])
    assert figs["acc_a"] == 1.0 and set(figs) == {f"{m}_{s}" for m in ("acc", "confidence", "ece") for s in "ab"}


def test_calibration_checkpoint_loads_and_reaches_its_recorded_figures():
    from course_lib.tooling.checkpoints import evaluate_checkpoint, get_recipe

    recorded, measured = evaluate_checkpoint("calibration")
    tol = get_recipe("calibration").tolerance
    assert set(recorded) == set(measured) and {"acc_noisy", "ece_noisy", "acc_clean"} <= set(recorded)
    for key, value in recorded.items():
        assert measured[key] == pytest.approx(value, abs=tol), key
    # the lesson's premises: the unseen noisy slice is well above chance (1/22) and overconfident
    assert measured["acc_noisy"] > 3 / 22
    assert measured["confidence_noisy"] - measured["acc_noisy"] > 0.2


def test_plot_confidence_histogram_and_ece_interval_name_their_arguments():
    plt = _agg()
    from course_lib.calibration import ece_change_interval
    from course_lib.plots.calibration import plot_confidence_histogram

    with pytest.raises(TypeError, match="confidence must be an array of numbers"):
        plot_confidence_histogram("0.5", [True])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None"):
        plot_confidence_histogram([0.5], [True], ax="left")
    with pytest.raises(TypeError, match="probs_after must be a torch.Tensor"):
        ece_change_interval(torch.tensor([[0.9, 0.1]]), "after", torch.tensor([0]))
    plt.close("all")


def test_calibration_pipeline_functions_reject_bad_arguments_first():
    from course_lib.calibration import keyword_clip_features, slice_figures, train_clip_mlp

    with pytest.raises(TypeError, match="dataset must be the keyword dataset"):
        keyword_clip_features("dataset")
    with pytest.raises(TypeError, match=r"train must be a tuple \(features, labels\)"):
        train_clip_mlp(None)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        slice_figures("model", torch.zeros(2, 4), torch.tensor([0, 1]), ["clean", "noisy"])
