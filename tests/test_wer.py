"""WER/CER and their alignment against jiwer."""
import jiwer
import pytest
from hypothesis import given, settings, strategies as st

from course_lib.wer import cer, edit_alignment, error_counts, wer

words = st.lists(st.sampled_from(["a", "b", "c", "the", "cat"]), min_size=0, max_size=12)
ref_words = st.lists(st.sampled_from(["a", "b", "c", "the", "cat"]), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(ref_words, words), min_size=1, max_size=4))
def test_word_counts_and_wer_equal_jiwer(pairs):
    refs = [" ".join(r) for r, _ in pairs]
    hyps = [" ".join(h) for _, h in pairs]
    out = jiwer.process_words(refs, hyps)
    c = error_counts(refs, hyps, "word")
    assert (c["hits"], c["substitutions"], c["deletions"], c["insertions"]) == (
        out.hits, out.substitutions, out.deletions, out.insertions)
    assert wer(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps), abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text("ab c'", min_size=1, max_size=40).filter(str.strip),
                          st.text("ab c'", max_size=40)), min_size=1, max_size=3))
def test_char_counts_and_cer_equal_jiwer(pairs):
    refs = [r for r, _ in pairs]
    hyps = [h for _, h in pairs]
    out = jiwer.process_characters(refs, hyps)
    c = error_counts(refs, hyps, "char")
    assert (c["hits"], c["substitutions"], c["deletions"], c["insertions"]) == (
        out.hits, out.substitutions, out.deletions, out.insertions)
    assert cer(refs, hyps) == pytest.approx(jiwer.cer(refs, hyps), abs=1e-12)


def test_long_sentences_equal_jiwer():
    import numpy as np
    rng = np.random.default_rng(0)
    letters = list("abc ")
    refs = ["".join(rng.choice(letters, 150)).strip() or "a" for _ in range(5)]
    hyps = ["".join(rng.choice(letters, 140)) for _ in range(5)]
    out = jiwer.process_characters(refs, hyps)
    c = error_counts(refs, hyps, "char")
    assert (c["hits"], c["substitutions"], c["deletions"], c["insertions"]) == (
        out.hits, out.substitutions, out.deletions, out.insertions)


def test_alignment_is_consistent():
    a = edit_alignment("the cat sat on the mat".split(), "a cat sat the mat too".split())
    refs = [r for op, r, _ in a.ops if op != "insert"]
    hyps = [h for op, _, h in a.ops if op != "delete"]
    assert refs == "the cat sat on the mat".split()
    assert hyps == "a cat sat the mat too".split()
    assert (a.substitutions, a.deletions, a.insertions) == (1, 1, 1)
    assert a.ref_length == 6 and a.errors == 3


def test_corpus_level_is_not_mean_of_sentences():
    refs, hyps = ["a b c d e f g h i j", "k"], ["a b c d e f g h i j", "x"]
    assert wer(refs, hyps) == pytest.approx(1 / 11)
    per_sentence_mean = sum(wer(r, h) for r, h in zip(refs, hyps)) / len(refs)
    assert per_sentence_mean == pytest.approx(0.5)
    assert wer(refs, hyps) != pytest.approx(per_sentence_mean)


def test_wer_can_exceed_one_and_is_zero_on_match():
    assert wer("a", "b c d") == pytest.approx(3.0)
    assert cer("abc", "abc") == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match="same number of sentences"):
        wer(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="empty"):
        wer([""], ["a"])
    with pytest.raises(ValueError, match="refs is empty"):
        cer([], [])
    with pytest.raises(TypeError, match="only str"):
        wer(["a", 3], ["a", "b"])
    with pytest.raises(TypeError, match="sequence of tokens"):
        edit_alignment("abc", ["a"])
    with pytest.raises(ValueError, match="unit must be"):
        error_counts(["a"], ["a"], unit="phone")


def test_normalize_is_applied_to_both_sides_and_keeps_real_errors():
    from course_lib.data.text import normalize_transcript

    refs = ["Set a timer for 25 minutes.", "Turn ON the kitchen lights."]
    hyps = ["set a timer for twenty five minutes", "turn off the kitchen lights"]
    assert wer(refs, hyps) > 0.5
    assert wer(refs, hyps, normalize=normalize_transcript) == pytest.approx(1 / 12)
    assert cer(refs[0], hyps[0], normalize=normalize_transcript) == 0.0
    normed = ([normalize_transcript(r) for r in refs], [normalize_transcript(h) for h in hyps])
    assert error_counts(refs, hyps, "char", normalize=normalize_transcript) == error_counts(*normed, "char")
    assert wer(refs, hyps, normalize=str.lower) == wer([r.lower() for r in refs], hyps)
    with pytest.raises(TypeError, match="normalize must be a function"):
        wer(refs, hyps, normalize="lower")

