"""Word and character error rates by edit distance, with the alignment behind them.

An ASR hypothesis is scored by the fewest edits that turn the reference into
it: substitutions ``S``, deletions ``D`` (reference tokens missing from the
hypothesis) and insertions ``I`` (extra hypothesis tokens). With ``H`` hits
(tokens that match) the reference has ``N = H + S + D`` tokens and

    error rate = (S + D + I) / N

summed over the corpus before dividing (a long sentence weighs more than a
short one), never averaged per sentence. ``wer`` uses words (whitespace-split),
``cer`` characters (spaces included). When several alignments have the same
cost the split between S, D and I follows jiwer (which uses rapidfuzz), so the
counts here equal ``jiwer.process_words``/``process_characters``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

__all__ = ["EditAlignment", "edit_alignment", "error_counts", "wer", "cer"]

#: The operations an alignment is made of, as jiwer names them.
OPS = ("equal", "substitute", "delete", "insert")


@dataclass(frozen=True)
class EditAlignment:
    """The cheapest edit alignment of a hypothesis to a reference.

    Attributes
    ----------
    ops : list of (str, object, object)
        In reading order: ``(op, ref_token, hyp_token)`` with ``op`` one of
        ``"equal"``, ``"substitute"``, ``"delete"`` (``hyp_token`` is None) or
        ``"insert"`` (``ref_token`` is None).
    hits, substitutions, deletions, insertions : int
    """

    ops: list = field(repr=False)
    hits: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def errors(self) -> int:
        """``S + D + I``: the edit distance."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def ref_length(self) -> int:
        """``H + S + D``: the number of reference tokens."""
        return self.hits + self.substitutions + self.deletions

    def pretty(self, sep: str = " ") -> str:
        """Three aligned lines: reference, hypothesis and the S/D/I marks.

        Examples
        --------
        >>> print(edit_alignment("the cat sat".split(), "the bat sat down".split()).pretty())
        REF: the cat sat ****
        HYP: the bat sat down
             .   S   .   I
        """
        ref, hyp, mark = [], [], []
        for op, r, h in self.ops:
            r = "*" * len(str(h)) if r is None else str(r)
            h = "*" * len(str(r)) if h is None else str(h)
            width = max(len(r), len(h), 1)
            ref.append(r.ljust(width))
            hyp.append(h.ljust(width))
            mark.append({"equal": ".", "substitute": "S", "delete": "D", "insert": "I"}[op].ljust(width))
        return "\n".join(["REF: " + sep.join(ref), "HYP: " + sep.join(hyp), "     " + sep.join(mark).rstrip()])


def _check_tokens(tokens, name: str) -> list:
    if isinstance(tokens, str):
        raise TypeError(
            f"{name} must be a sequence of tokens (e.g. text.split() or list(text)), got a str; "
            f"use wer()/cer() for strings"
        )
    if not isinstance(tokens, Sequence):
        raise TypeError(f"{name} must be a sequence of tokens (list or tuple), got {type(tokens).__name__}")
    return list(tokens)


def edit_alignment(ref_tokens: Sequence, hyp_tokens: Sequence) -> EditAlignment:
    """Align two token sequences with the fewest substitutions, deletions and insertions.

    Dynamic programming over ``D[i][j]``, the edit distance between the first
    ``i`` reference and the first ``j`` hypothesis tokens:
    ``D[i][j] = min(D[i-1][j] + 1, D[i][j-1] + 1, D[i-1][j-1] + [ref_i != hyp_j])``,
    then a trace back from ``D[N][M]``. Common prefixes and suffixes are
    matched first and ties are broken as rapidfuzz does, so the counts equal
    jiwer's.

    Parameters
    ----------
    ref_tokens, hyp_tokens : sequence
        Tokens compared with ``==`` (words for WER, characters for CER).

    Returns
    -------
    EditAlignment

    Examples
    --------
    >>> a = edit_alignment("turn on the kitchen lights".split(), "turn the kitchen light please".split())
    >>> a.hits, a.substitutions, a.deletions, a.insertions, a.errors
    (3, 1, 1, 1, 3)
    """
    ref = _check_tokens(ref_tokens, "ref_tokens")
    hyp = _check_tokens(hyp_tokens, "hyp_tokens")
    # common prefix and suffix are hits (rapidfuzz strips them before aligning)
    p = 0
    while p < len(ref) and p < len(hyp) and ref[p] == hyp[p]:
        p += 1
    s = 0
    while s < len(ref) - p and s < len(hyp) - p and ref[len(ref) - 1 - s] == hyp[len(hyp) - 1 - s]:
        s += 1
    r, h = ref[p : len(ref) - s], hyp[p : len(hyp) - s]
    n, m = len(r), len(h)
    dist = [[0] * (m + 1) for _ in range(n + 1)]  # dist[i][j]: ref[:i] vs hyp[:j]
    for i in range(n + 1):
        dist[i][0] = i
    for j in range(m + 1):
        dist[0][j] = j
    for i in range(1, n + 1):
        row, prev, ri = dist[i], dist[i - 1], r[i - 1]
        for j in range(1, m + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ri != h[j - 1]))
    # trace back; the order of the tests reproduces rapidfuzz's choice among ties
    back: list = []
    i, j = n, m
    while i and j:
        if dist[i][j] - dist[i - 1][j] == 1:
            i -= 1
            back.append(("delete", r[i], None))
            continue
        j -= 1
        if j and dist[i][j] - dist[i - 1][j] == -1:
            back.append(("insert", None, h[j]))
            continue
        i -= 1
        back.append(("equal" if r[i] == h[j] else "substitute", r[i], h[j]))
    back += [("delete", r[k], None) for k in range(i - 1, -1, -1)]
    back += [("insert", None, h[k]) for k in range(j - 1, -1, -1)]
    ops = [("equal", t, t) for t in ref[:p]] + back[::-1] + [("equal", t, t) for t in ref[len(ref) - s :]]
    count = {op: 0 for op in OPS}
    for op, _, _ in ops:
        count[op] += 1
    return EditAlignment(ops, count["equal"], count["substitute"], count["delete"], count["insert"])


def _check_corpus(refs, hyps, normalize: Callable[[str], str] | None = None) -> tuple[list[str], list[str]]:
    if isinstance(refs, str):
        refs = [refs]
    if isinstance(hyps, str):
        hyps = [hyps]
    for name, texts in (("refs", refs), ("hyps", hyps)):
        if not isinstance(texts, Sequence):
            raise TypeError(f"{name} must be a str or a list of str, got {type(texts).__name__}")
        bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
        if bad:
            raise TypeError(f"{name} must hold only str, got {bad[0]}")
    if len(refs) != len(hyps):
        raise ValueError(f"refs and hyps must have the same number of sentences, got {len(refs)} and {len(hyps)}")
    if len(refs) == 0:
        raise ValueError("refs is empty; expected at least one reference sentence")
    if normalize is None:
        return list(refs), list(hyps)
    if not callable(normalize):
        raise TypeError(f"normalize must be a function str -> str (e.g. normalize_transcript) or None, got {normalize!r}")
    return [normalize(t) for t in refs], [normalize(t) for t in hyps]


def _tokens(text: str, unit: str) -> list[str]:
    return text.split() if unit == "word" else list(text.strip())


def error_counts(refs: Sequence[str] | str, hyps: Sequence[str] | str, unit: str = "word", *,
                 normalize: Callable[[str], str] | None = None) -> dict[str, int]:  # fmt: skip
    """Corpus totals of hits, substitutions, deletions and insertions.

    Parameters
    ----------
    refs, hyps : str or list of str
        Reference and hypothesis transcripts, one per utterance.
    unit : {"word", "char"}
        Words (split on whitespace) or characters (spaces count, ends stripped).
    normalize : callable, optional
        Applied to every reference and hypothesis first, e.g.
        :func:`course_lib.data.text.normalize_transcript` (case, punctuation,
        numbers): "Lights." and "lights" are then the same word.

    Returns
    -------
    dict
        ``hits``, ``substitutions``, ``deletions``, ``insertions``,
        ``errors`` and ``ref_length`` (all ints).

    Examples
    --------
    >>> error_counts(["call anna today"], ["call hannah today now"])
    {'hits': 2, 'substitutions': 1, 'deletions': 0, 'insertions': 1, 'errors': 2, 'ref_length': 3}
    """
    refs, hyps = _check_corpus(refs, hyps, normalize)
    if unit not in ("word", "char"):
        raise ValueError(f"unit must be 'word' or 'char', got {unit!r}")
    total = dict(hits=0, substitutions=0, deletions=0, insertions=0)
    for k, (ref, hyp) in enumerate(zip(refs, hyps)):
        r = _tokens(ref, unit)
        if not r:
            raise ValueError(f"refs[{k}] is empty; error rates need a non-empty reference (drop it or fix it)")
        a = edit_alignment(r, _tokens(hyp, unit))
        for key in total:
            total[key] += getattr(a, key)
    total["errors"] = total["substitutions"] + total["deletions"] + total["insertions"]
    total["ref_length"] = total["hits"] + total["substitutions"] + total["deletions"]
    return total


def wer(refs: Sequence[str] | str, hyps: Sequence[str] | str, *, normalize: Callable[[str], str] | None = None) -> float:
    """Corpus word error rate: total word edits / total reference words.

    .. math:: \\mathrm{WER} = \\frac{\\sum_n S_n + D_n + I_n}{\\sum_n N_n}

    Parameters
    ----------
    refs, hyps : str or list of str
    normalize : callable, optional
        Applied to both sides first (see :func:`error_counts`).

    Returns
    -------
    float
        Can exceed 1 when the hypotheses insert many words.

    Examples
    --------
    >>> wer(["turn on the lights", "call anna"], ["turn on the light", "call anna"])
    0.16666666666666666
    >>> from course_lib.data.text import normalize_transcript
    >>> wer("Call Anna at 5.", "call anna at five"), wer("Call Anna at 5.", "call anna at five", normalize=normalize_transcript)
    (0.75, 0.0)
    """
    c = error_counts(refs, hyps, "word", normalize=normalize)
    return c["errors"] / c["ref_length"]


def cer(refs: Sequence[str] | str, hyps: Sequence[str] | str, *, normalize: Callable[[str], str] | None = None) -> float:
    """Corpus character error rate: total character edits / total reference characters.

    Spaces are characters; leading and trailing spaces are stripped (as jiwer does).
    ``normalize`` is applied to both sides first (see :func:`error_counts`).

    Examples
    --------
    >>> cer("call anna", "call ana")
    0.1111111111111111
    """
    c = error_counts(refs, hyps, "char", normalize=normalize)
    return c["errors"] / c["ref_length"]
