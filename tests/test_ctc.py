"""Our CTC against torch's ctc_loss, brute force over enumerated paths, and torchaudio's forced_align."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from course_lib.ctc import (collapse, count_alignments, ctc_forced_align, ctc_forward, ctc_loss,
                            enumerate_alignments, extend_with_blanks, min_ctc_frames)


def test_collapse_merges_repeats_then_drops_blanks():
    assert collapse([1, 1, 0, 1]) == [1, 1]          # a blank separates two runs of 1
    assert collapse([1, 1, 1]) == [1]
    assert collapse([0, 0, 0]) == []
    assert collapse([2, 0, 0, 2, 3, 3], blank=0) == [2, 2, 3]
    assert collapse([5, 5, 1, 5], blank=5) == [1]
    assert collapse(torch.tensor([3, 3, 0, 4])) == [3, 4]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=0, max_size=3), st.integers(1, 6))
def test_enumeration_matches_brute_force_and_count(target, T):
    brute = sorted(p for p in itertools.product(range(4), repeat=T) if collapse(p) == target)
    assert enumerate_alignments(target, T) == brute
    assert count_alignments(target, T) == len(brute)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=5))
def test_min_ctc_frames_is_where_alignments_start_to_exist(target):
    need = min_ctc_frames(target)
    assert need == len(target) + sum(a == b for a, b in zip(target, target[1:]))
    assert count_alignments(target, need) >= 1
    if need > 1:
        assert count_alignments(target, need - 1) == 0
        lp = torch.randn(need - 1, 1, 4).log_softmax(-1)
        nll = ctc_loss(lp, torch.tensor([target]), torch.tensor([need - 1]), torch.tensor([len(target)]), reduction="none")
        assert torch.isinf(nll).all()
        with pytest.raises(ValueError, match="no alignment exists"):
            ctc_forced_align(lp[:, 0], target)


def test_min_ctc_frames_bad_input():
    with pytest.raises(ValueError, match="must not contain the blank"):
        min_ctc_frames([1, 0, 2])
    with pytest.raises(TypeError, match="sequence of ints"):
        min_ctc_frames("ab")


def _batch(draw_T, lengths, V, seed):
    g = torch.Generator().manual_seed(seed)
    B = len(lengths)
    logits = torch.randn(draw_T, B, V, generator=g, dtype=torch.float64)
    S = max([L for L, _ in lengths] + [1])
    targets = torch.randint(1, V, (B, S), generator=g)
    tl = torch.tensor([L for L, _ in lengths])
    il = torch.tensor([t for _, t in lengths])
    return logits, targets, il, tl


case = st.integers(1, 5).flatmap(lambda B: st.tuples(
    st.integers(1, 12), st.lists(st.tuples(st.integers(0, 5), st.integers(1, 12)), min_size=B, max_size=B),
    st.integers(2, 6), st.integers(0, 1000), st.sampled_from(["mean", "sum", "none"]), st.booleans()))


@settings(max_examples=60, deadline=None)
@given(case)
def test_loss_and_gradients_equal_torch(args):
    T, lengths, V, seed, reduction, zero_inf = args
    lengths = [(L, min(t, T)) for L, t in lengths]
    lengths[0] = (lengths[0][0], T)  # torch wants one item to use the full T
    logits, targets, il, tl = _batch(T, lengths, V, seed)
    a = logits.clone().requires_grad_(True)
    b = logits.clone().requires_grad_(True)
    ours = ctc_loss(a.log_softmax(-1), targets, il, tl, reduction=reduction, zero_infinity=zero_inf)
    ref = F.ctc_loss(b.log_softmax(-1), targets, il, tl, reduction=reduction, zero_infinity=zero_inf)
    finite = torch.isfinite(ref)
    assert torch.equal(finite, torch.isfinite(ours))
    assert torch.allclose(ours[finite], ref[finite], atol=1e-4, rtol=1e-6)
    if bool(finite.all()):
        ours.sum().backward()
        ref.sum().backward()
        assert torch.allclose(a.grad, b.grad, atol=1e-4)


def test_zero_infinity_gradients_are_zero_for_impossible_items():
    logits = torch.randn(3, 2, 4, requires_grad=True)
    targets = torch.tensor([[1, 1, 2], [1, 2, 3]])
    il, tl = torch.tensor([3, 3]), torch.tensor([3, 3])  # item 0 needs 4 frames (blank between the 1s)
    loss = ctc_loss(logits.log_softmax(-1), targets, il, tl, reduction="none")
    assert math.isinf(loss[0].item()) and math.isfinite(loss[1].item())
    ours = ctc_loss(logits.log_softmax(-1), targets, il, tl, reduction="sum", zero_infinity=True)
    (g_ours,) = torch.autograd.grad(ours, logits)
    ref = F.ctc_loss(logits.log_softmax(-1), targets, il, tl, reduction="sum", zero_infinity=True)
    (g_ref,) = torch.autograd.grad(ref, logits)
    assert torch.isclose(ours, ref, atol=1e-5)
    assert torch.isfinite(g_ours).all() and torch.allclose(g_ours, g_ref, atol=1e-5)
    assert float(g_ours[:, 0].abs().max()) == 0.0


def test_concatenated_targets_equal_padded():
    lp = torch.randn(8, 3, 5).log_softmax(-1)
    padded = torch.tensor([[1, 2, 0], [3, 3, 4], [2, 0, 0]])
    tl, il = torch.tensor([2, 3, 1]), torch.tensor([8, 7, 5])
    flat = torch.tensor([1, 2, 3, 3, 4, 2])
    assert torch.allclose(ctc_loss(lp, padded, il, tl, reduction="none"), ctc_loss(lp, flat, il, tl, reduction="none"))
    assert torch.allclose(ctc_loss(lp, flat, il, tl), F.ctc_loss(lp, flat, il, tl), atol=1e-5)


def test_batch_equals_items_one_by_one():
    lp = torch.randn(9, 3, 6, dtype=torch.float64).log_softmax(-1)
    tg, il, tl = torch.tensor([[1, 2, 3], [4, 4, 0], [5, 0, 0]]), torch.tensor([9, 6, 4]), torch.tensor([3, 2, 1])
    batch = ctc_loss(lp, tg, il, tl, reduction="none")
    for b in range(3):
        one = ctc_loss(lp[: il[b], b : b + 1], tg[b : b + 1, : tl[b]], il[b : b + 1], tl[b : b + 1], reduction="none")
        assert torch.allclose(batch[b], one[0])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=0, max_size=3), st.integers(1, 6), st.integers(0, 100))
def test_loss_is_minus_log_sum_over_enumerated_paths(target, T, seed):
    lp = torch.randn(T, 1, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)).log_softmax(-1)
    paths = enumerate_alignments(target, T)
    total = sum(math.exp(sum(lp[t, 0, s].item() for t, s in enumerate(p))) for p in paths)
    loss = ctc_loss(lp, torch.tensor([target or [1]]), torch.tensor([T]), torch.tensor([len(target)]), reduction="sum")
    if not paths:
        assert math.isinf(loss.item())
    else:
        assert loss.item() == pytest.approx(-math.log(total), rel=1e-9, abs=1e-9)


def test_alpha_lattice_shape_and_start():
    lp = torch.randn(5, 1, 4).log_softmax(-1)
    alpha, nll = ctc_forward(lp, torch.tensor([[1, 2]]), torch.tensor([5]), torch.tensor([2]))
    assert alpha.shape == (5, 1, 5)
    assert torch.isclose(alpha[0, 0, 0], lp[0, 0, 0]) and torch.isclose(alpha[0, 0, 1], lp[0, 0, 1])
    assert torch.isinf(alpha[0, 0, 2:]).all()
    assert torch.isclose(-nll[0], torch.logsumexp(alpha[-1, 0, -2:], 0))


def test_no_underflow_on_long_inputs():
    lp = torch.full((3000, 1, 5), math.log(0.2))
    loss = ctc_loss(lp, torch.tensor([[1, 2, 3]]), torch.tensor([3000]), torch.tensor([3]), reduction="sum")
    ref = F.ctc_loss(lp, torch.tensor([[1, 2, 3]]), torch.tensor([3000]), torch.tensor([3]), reduction="sum")
    assert math.isfinite(loss.item()) and loss.item() == pytest.approx(ref.item(), rel=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=5), st.integers(0, 10), st.integers(0, 1000))
def test_forced_align_equals_torchaudio(target, extra, seed):
    import torchaudio.functional as AF
    T = len(target) + sum(a == b for a, b in zip(target, target[1:])) + extra
    lp = torch.randn(T, 5, generator=torch.Generator().manual_seed(seed)).log_softmax(-1)
    path, scores = ctc_forced_align(lp, target)
    ref_path, ref_scores = AF.forced_align(lp[None], torch.tensor([target], dtype=torch.int32), blank=0)
    assert path.tolist() == ref_path[0].tolist()
    assert torch.allclose(scores, ref_scores[0])
    assert collapse(path) == target


def test_extend_with_blanks():
    assert extend_with_blanks([1, 1]) == [0, 1, 0, 1, 0]
    assert extend_with_blanks([]) == [0]


def test_bad_input():
    lp = torch.randn(4, 2, 3).log_softmax(-1)
    tg, il, tl = torch.tensor([[1, 2], [1, 0]]), torch.tensor([4, 4]), torch.tensor([2, 1])
    with pytest.raises(ValueError, match="must have 3 dimensions"):
        ctc_loss(lp[:, 0], tg, il, tl)
    with pytest.raises(ValueError, match="reduction must be"):
        ctc_loss(lp, tg, il, tl, reduction="avg")
    with pytest.raises(ValueError, match="other than the blank"):
        ctc_loss(lp, torch.tensor([[0, 2], [1, 0]]), il, tl)
    with pytest.raises(ValueError, match="input_lengths must lie"):
        ctc_loss(lp, tg, torch.tensor([5, 4]), tl)
    with pytest.raises(TypeError, match="integer"):
        ctc_loss(lp, tg.float(), il, tl)
    with pytest.raises(ValueError, match="blank must be <"):
        ctc_loss(lp, tg, il, tl, blank=3)
    with pytest.raises(ValueError, match="concatenation"):
        ctc_loss(lp, torch.tensor([1, 2]), il, tl)
    with pytest.raises(TypeError, match="sequence of ints"):
        collapse("abc")
    with pytest.raises(ValueError, match="must not contain the blank"):
        extend_with_blanks([1, 0, 2])
    with pytest.raises(ValueError, match="more than limit"):
        enumerate_alignments([1, 2], 30, limit=10)
    with pytest.raises(ValueError, match="no alignment exists"):
        ctc_forced_align(torch.randn(2, 3).log_softmax(-1), [1, 1])


def test_ctc_rejects_plus_inf_and_nan_log_probs_but_not_minus_inf():
    lp = torch.log_softmax(torch.randn(6, 1, 4), -1)
    targets, il, tl = torch.tensor([[1, 2]]), torch.tensor([6]), torch.tensor([2])
    for bad in (float("inf"), float("nan")):
        x = lp.clone()
        x[0, 0, 3] = bad
        with pytest.raises(ValueError, match=r"log_probs contains NaN or \+inf"):
            ctc_loss(x, targets, il, tl)
    x = lp.clone()
    x[0, 0, 3] = float("-inf")  # log 0 is a valid log-probability
    assert torch.isfinite(ctc_loss(x, targets, il, tl))


def test_ctc_loss_names_the_1d_targets_when_lengths_do_not_fit():
    lp = torch.log_softmax(torch.randn(6, 2, 4), -1)
    with pytest.raises(ValueError, match="target_lengths \\(into the concatenated 1-D targets\\)"):
        ctc_loss(lp, torch.tensor([], dtype=torch.long), torch.tensor([6, 6]), torch.tensor([2, 2]))


def test_asr_plots_validate_their_arguments():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from course_lib.plots.asr import plot_ctc_lattice, plot_forced_alignment, plot_posteriogram

    with pytest.raises(TypeError, match="alpha must be an array of numbers"):
        plot_ctc_lattice("alpha", ["-", "a", "-"])
    with pytest.raises(ValueError, match=r"log_probs contains infinite values .* expected finite numbers or -inf"):
        plot_posteriogram(np.array([[0.0, np.inf]]), ["-", "a"])
    with pytest.raises(ValueError, match=r"path must hold label ids in \[0, 1\]"):
        plot_forced_alignment(np.zeros((4, 5)), [0, 3], ["-", "a"])
    ax = plot_posteriogram(np.array([[0.0, -np.inf], [np.log(0.5), np.log(0.5)]]), ["-", "a"])  # -inf: log 0
    assert ax.get_ylabel() == "output symbol"
    plt.close("all")


def test_label_sequences_reject_negative_ids():
    with pytest.raises(ValueError, match="path must hold label ids >= 0, got -1"):
        collapse([0, -1, 3])
    with pytest.raises(ValueError, match="target must hold label ids >= 0, got -1"):
        count_alignments([-1, 2], 4)
    with pytest.raises(ValueError, match="target must hold label ids >= 0"):
        count_alignments(torch.tensor([1, -2]), 4)
    assert collapse([]) == [] and count_alignments([], 3) == 1  # the empty labelling stays valid
