"""Greedy and prefix beam search against brute force; the char n-gram LM's probabilities."""
import itertools
import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from course_lib.ctc import collapse, ctc_loss
from course_lib.decoding import EOS, CharNgramLM, greedy_decode, prefix_beam_search

TEXTS = ["turn on the kitchen lights", "turn off the radio", "call anna today", "dial one two three",
         "what's the time in paris", "it's cold in the park"]


def test_greedy_equals_argmax_then_collapse():
    lp = torch.randn(20, 3, 6).log_softmax(-1)
    lengths = torch.tensor([20, 11, 3])
    out = greedy_decode(lp, lengths)
    for b in range(3):
        assert out[b] == collapse(lp[: lengths[b], b].argmax(-1))


def _peaked(T, V, seed):
    """Random per-frame distributions whose best symbol has probability > 0.5."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(T, V, generator=g)
    best = torch.randint(0, V, (T,), generator=g)
    # 6 above the row's largest logit: p(best) >= e^6 / (e^6 + V - 1) > 0.5 for any draw
    # (adding 6 to a random logit did not guarantee it, e.g. T=22, V=7, seed=278)
    logits[torch.arange(T), best] = logits.max(-1).values + 6.0
    return logits.log_softmax(-1)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(2, 8), st.integers(0, 10_000))
def test_beam_one_without_lm_equals_greedy_on_peaked_outputs(T, V, seed):
    lp = _peaked(T, V, seed)
    assert lp.exp().max(-1).values.min() > 0.5
    assert prefix_beam_search(lp, beam_width=1) == greedy_decode(lp[:, None])[0]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 10_000))
def test_wide_beam_finds_the_most_probable_labelling(T, seed):
    V = 3
    lp = torch.randn(T, V, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)).log_softmax(-1)
    # brute force: every labelling's probability = sum over its paths
    probs = {}
    for path in itertools.product(range(V), repeat=T):
        lab = tuple(collapse(path))
        probs[lab] = probs.get(lab, 0.0) + math.exp(sum(lp[t, s].item() for t, s in enumerate(path)))
    best = max(probs, key=probs.get)
    beams = prefix_beam_search(lp, beam_width=200, prune_logp=-1e9, return_beams=True)
    assert tuple(beams[0][0]) == best
    # and the beam's score is that labelling's total probability = exp(-ctc loss)
    assert beams[0][1] == pytest.approx(math.log(probs[best]), abs=1e-9)
    if best:
        loss = ctc_loss(lp[:, None], torch.tensor([list(best)]), torch.tensor([T]), torch.tensor([len(best)]),
                        reduction="sum")
        assert -loss.item() == pytest.approx(math.log(probs[best]), abs=1e-9)


def test_beam_search_beats_greedy_when_paths_merge():
    lp = torch.log(torch.tensor([[0.3, 0.7], [0.6, 0.4], [0.3, 0.7]]))
    assert greedy_decode(lp[:, None])[0] == [1, 1]
    assert prefix_beam_search(lp, beam_width=4) == [1]


@pytest.mark.parametrize("smoothing", ["kneser_ney", "add_k"])
@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_lm_probabilities_sum_to_one(order, smoothing):
    lm = CharNgramLM(order, smoothing=smoothing).fit(TEXTS)
    for ctx in ["", "t", "tu", "turn on", "zzq", "what's the"]:
        total = sum(math.exp(lm.log_prob(c, ctx)) for c in lm.vocab_)
        assert total == pytest.approx(1.0, abs=1e-9)


def test_lm_add_k_matches_counts():
    lm = CharNgramLM(2, smoothing="add_k", k=1.0, chars=list("ab")).fit(["ab", "aa"])
    # bigrams after 'a': b once, a once, EOS once (from "aa"); V = 3 (a, b, EOS)
    assert math.exp(lm.log_prob("b", "a")) == pytest.approx((1 + 1) / (3 + 3))
    assert math.exp(lm.log_prob(EOS, "b")) == pytest.approx((1 + 1) / (1 + 3))


def test_lm_prefers_in_domain_text_and_helps_beam_search():
    lm = CharNgramLM(5).fit(TEXTS * 3)
    assert lm.sentence_log_prob("turn on the radio") > lm.sentence_log_prob("tirn un thi ridio")
    assert lm.perplexity(["turn on the lights"]) < lm.perplexity(["xqz vvk"])
    from course_lib.data.text import CHARS, text_to_ids
    # an acoustically ambiguous frame: 'i' vs 'u' in "turn"; the LM should pick 'u'
    ids = text_to_ids("turn")
    lp = torch.full((len(ids), len(CHARS)), -12.0)
    for t, c in enumerate(ids):
        lp[t, c] = math.log(0.9)
    lp[1, CHARS.index("u")], lp[1, CHARS.index("i")] = math.log(0.45), math.log(0.55)
    lp = lp.log_softmax(-1)
    assert prefix_beam_search(lp, beam_width=4) == text_to_ids("tirn")
    assert prefix_beam_search(lp, beam_width=4, lm=lm, alpha=1.0) == ids


def test_bad_input():
    with pytest.raises(ValueError, match="must have 3 dimensions"):
        greedy_decode(torch.randn(4, 3))
    with pytest.raises(ValueError, match="must have 2 dimensions"):
        prefix_beam_search(torch.randn(4, 1, 3))
    with pytest.raises(ValueError, match="beam_width must be a positive int"):
        prefix_beam_search(torch.randn(4, 3), beam_width=0)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        prefix_beam_search(torch.randn(4, 3).log_softmax(-1), alpha=-1.0)
    with pytest.raises(RuntimeError, match="not fitted"):
        CharNgramLM(3).log_prob("a", "")
    with pytest.raises(ValueError, match="outside the LM's chars"):
        CharNgramLM(3).fit(["Hello"])
    with pytest.raises(TypeError, match="list of sentences"):
        CharNgramLM(3).fit("hello")
    with pytest.raises(ValueError, match="smoothing must be"):
        CharNgramLM(3, smoothing="witten_bell")
    with pytest.raises(ValueError, match="next_char must be"):
        CharNgramLM(2).fit(["ab"]).log_prob("?", "a")


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_decoders_reject_nan_and_plus_inf_log_probs(bad):
    lp = torch.log_softmax(torch.randn(6, 5), -1)
    lp[2, 1] = bad
    with pytest.raises(ValueError, match=r"log_probs contains NaN or \+inf"):
        greedy_decode(lp[:, None])
    with pytest.raises(ValueError, match=r"log_probs contains NaN or \+inf"):
        prefix_beam_search(lp, labels=["-", "a", "b", "c", "d"])


def test_decoders_still_accept_minus_inf_log_probs():
    lp = torch.log(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))  # log 0 = -inf
    assert greedy_decode(lp[:, None]) == [[1]]
    assert prefix_beam_search(lp, labels=["-", "a"], prune_logp=float("-inf")) == [1]


def test_prefix_beam_search_rejects_bad_labels_and_prune_logp():
    lp = torch.log_softmax(torch.randn(4, 3), -1)
    with pytest.raises(TypeError, match="labels must be a sequence of str"):
        prefix_beam_search(lp, labels=None)
    with pytest.raises(TypeError, match="prune_logp must be a number"):
        prefix_beam_search(lp, labels=["-", "a", "b"], prune_logp="low")


def test_perplexity_rejects_empty_and_non_list_texts():
    lm = CharNgramLM(2).fit(["ab ab", "ba"])
    with pytest.raises(ValueError, match="texts is empty"):
        lm.perplexity([])
    with pytest.raises(TypeError, match="texts must be a list of str"):
        lm.perplexity("ab")
