"""Decoding CTC outputs: greedy, prefix beam search, and a character n-gram LM.

- :func:`greedy_decode` takes the most likely symbol at every frame and
  collapses the path (:func:`course_lib.ctc.collapse`).
- :func:`prefix_beam_search` keeps the ``beam_width`` most likely *label
  prefixes*; each carries two probabilities, of the paths that reach it
  ending in a blank (``p_b``) and ending in its last label (``p_nb``), so
  that every path collapsing to the same prefix is summed, not just the best
  one. An optional language model adds ``alpha * log P_lm(char | prefix)``
  per character and ``beta`` per character (an insertion bonus that offsets
  the LM's preference for short outputs).
- :class:`CharNgramLM` is a character n-gram model with interpolated
  Kneser-Ney (or add-k) smoothing, trained on transcripts.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch

from course_lib.checks import check_lengths, check_log_probs, check_positive_int, check_tensor
from course_lib.data.text import BLANK, CHARS
from course_lib.ctc import collapse

__all__ = ["greedy_decode", "prefix_beam_search", "CharNgramLM", "BOS", "EOS", "DecoderConfig", "decoder_recipe"]

#: Start-of-sentence padding of an n-gram context (never predicted).
BOS = "<s>"
#: End-of-sentence token (predicted like a character).
EOS = "</s>"
_NEG_INF = float("-inf")


def _lae(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) for floats."""
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def greedy_decode(log_probs, lengths=None, blank: int = BLANK) -> list[list[int]]:
    """Best symbol per frame, then merge repeats and drop blanks.

    Parameters
    ----------
    log_probs : torch.Tensor, shape (T, B, V)
        Per-frame log-probabilities (or any scores: only the argmax matters).
    lengths : torch.Tensor, shape (B,), optional
        Valid frames per item; all ``T`` when None.
    blank : int

    Returns
    -------
    list of list of int
        One label sequence per item.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[0.1, 0.9], [0.2, 0.8], [0.7, 0.3], [0.1, 0.9]]))[:, None]  # (T=4, B=1, V=2)
    >>> greedy_decode(lp)
    [[1, 1]]
    """
    log_probs = check_log_probs(log_probs, "log_probs", ndim=3)
    T, B, V = log_probs.shape
    if isinstance(blank, bool) or not isinstance(blank, int) or not 0 <= blank < V:
        raise ValueError(f"blank must be an int in [0, {V}) (log_probs is (T, B, V)), got {blank!r}")
    lengths = torch.full((B,), T, dtype=torch.long) if lengths is None else check_lengths(lengths, B, T)
    best = log_probs.argmax(dim=-1).T.cpu()  # (T, B) -> (B, T)
    out = []
    return [collapse(best[b, : int(lengths[b])], blank) for b in range(B)]


class CharNgramLM:
    """Character n-gram language model with interpolated Kneser-Ney or add-k smoothing.

    Sentences are padded with ``order - 1`` :data:`BOS` and end with
    :data:`EOS`; :meth:`log_prob` gives ``ln P(next | context)`` over the
    vocabulary (the characters plus :data:`EOS`), and those probabilities sum
    to 1 for every context.

    Parameters
    ----------
    order : int
        ``n``: the model conditions on the ``n - 1`` previous characters.
    smoothing : {"kneser_ney", "add_k"}
        Interpolated Kneser-Ney (absolute discount ``discount``, lower orders
        on continuation counts) or add-``k`` on the full-order counts.
    discount : float
        Kneser-Ney discount in (0, 1).
    k : float
        Add-k pseudo-count (> 0).
    chars : sequence of str, optional
        Characters it predicts; default :data:`course_lib.data.text.CHARS` without the blank.

    Attributes
    ----------
    vocab_ : list of str
        The characters and :data:`EOS`.
    n_sentences_ : int

    Examples
    --------
    >>> lm = CharNgramLM(3).fit(["turn on the lights", "turn off the fan"])
    >>> lm.log_prob("u", "t") > lm.log_prob("q", "t")
    True
    >>> round(sum(math.exp(lm.log_prob(c, "th")) for c in lm.vocab_), 6)
    1.0
    """

    def __init__(self, order: int = 4, *, smoothing: str = "kneser_ney", discount: float = 0.75, k: float = 0.1,
                 chars: Sequence[str] | None = None) -> None:  # fmt: skip
        self.order = check_positive_int(order, "order")
        if smoothing not in ("kneser_ney", "add_k"):
            raise ValueError(f"smoothing must be 'kneser_ney' or 'add_k', got {smoothing!r}")
        if not isinstance(discount, (int, float)) or not 0.0 < discount < 1.0:
            raise ValueError(f"discount must be a number in (0, 1), got {discount!r}")
        if not isinstance(k, (int, float)) or k <= 0:
            raise ValueError(f"k must be a positive number, got {k!r}")
        self.smoothing, self.discount, self.k = smoothing, float(discount), float(k)
        chars = [c for c in CHARS if c != CHARS[BLANK]] if chars is None else list(chars)
        if not chars or any(not isinstance(c, str) or len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
            raise ValueError("chars must be distinct single-character strings")
        self.chars = chars

    # -- training
    def fit(self, texts: Iterable[str]) -> "CharNgramLM":
        """Count n-grams of every order in ``texts``; returns ``self``."""
        if isinstance(texts, str):
            raise TypeError("texts must be a list of sentences, got a single str; wrap it in a list")
        texts = list(texts)
        if not texts:
            raise ValueError("texts is empty; expected at least one sentence")
        allowed = set(self.chars)
        n = self.order
        counts = [defaultdict(lambda: defaultdict(int)) for _ in range(n)]  # counts[m][context][w], len(context)=m
        for k, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{k}] must be a str, got {type(text).__name__}")
            bad = sorted(set(text) - allowed)
            if bad:
                raise ValueError(f"texts[{k}] has characters outside the LM's chars: {bad}")
            toks = [BOS] * (n - 1) + list(text) + [EOS]
            for i in range(n - 1, len(toks)):
                counts[n - 1][tuple(toks[i - n + 1 : i])][toks[i]] += 1
        # lower orders: Kneser-Ney continuation counts (distinct left extensions), add-k: plain counts
        for m in range(n - 2, -1, -1):
            for ctx, nxt in counts[m + 1].items():
                for w, c in nxt.items():
                    counts[m][ctx[1:]][w] += 1 if self.smoothing == "kneser_ney" else c
        self.counts_ = [{ctx: dict(d) for ctx, d in level.items()} for level in counts]
        self.totals_ = [{ctx: sum(d.values()) for ctx, d in level.items()} for level in self.counts_]
        self.vocab_ = list(self.chars) + [EOS]
        self.n_sentences_ = len(texts)
        self._cache: dict = {}
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "counts_"):
            raise RuntimeError("this CharNgramLM is not fitted yet; call .fit(texts) first")

    def _context(self, context: str | Sequence[str]) -> tuple[str, ...]:
        if isinstance(context, str):
            toks = list(context)
        elif isinstance(context, (list, tuple)):
            toks = list(context)
        else:
            raise TypeError(f"context must be a str (the text so far), got {type(context).__name__}")
        toks = [BOS] * (self.order - 1) + toks
        return tuple(toks[len(toks) - (self.order - 1) :]) if self.order > 1 else ()

    def _prob(self, w: str, ctx: tuple[str, ...]) -> float:
        m = len(ctx)
        table, total = self.counts_[m].get(ctx, {}), self.totals_[m].get(ctx, 0)
        V = len(self.vocab_)
        if self.smoothing == "add_k":  # full-order counts only
            return (table.get(w, 0) + self.k) / (total + self.k * V)
        lower = 1.0 / V if m == 0 else self._prob(w, ctx[1:])
        if not total:  # unseen context: all the mass goes to the shorter context
            return lower
        d = self.discount
        # discounted count + the discounted mass (d per distinct follower) spread by the lower order
        return max(table.get(w, 0) - d, 0.0) / total + d * len(table) / total * lower

    def log_prob(self, next_char: str, context: str | Sequence[str] = "") -> float:
        """``ln P(next_char | context)``.

        Parameters
        ----------
        next_char : str
            A character of ``chars`` or :data:`EOS`.
        context : str
            The text so far (only the last ``order - 1`` characters matter;
            the start is padded with :data:`BOS`).

        Returns
        -------
        float
        """
        self._check_fitted()
        if next_char not in self.vocab_:
            raise ValueError(f"next_char must be one of the LM's chars or EOS, got {next_char!r}")
        ctx = self._context(context)
        key = (next_char, ctx)
        if key not in self._cache:
            self._cache[key] = math.log(self._prob(next_char, ctx))
        return self._cache[key]

    def sentence_log_prob(self, text: str) -> float:
        """``ln P(text)`` including the end of sentence.

        Examples
        --------
        >>> lm = CharNgramLM(2).fit(["ab", "ab", "ba"])
        >>> lm.sentence_log_prob("ab") > lm.sentence_log_prob("bb")
        True
        """
        self._check_fitted()
        return sum(self.log_prob(c, text[:i]) for i, c in enumerate(list(text) + [EOS]))

    def perplexity(self, texts: Sequence[str]) -> float:
        """Per-token perplexity (characters and EOS) on ``texts``."""
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(f"texts must be a list of str (one per sentence), got {type(texts).__name__}")
        if not texts:
            raise ValueError("texts is empty; expected at least one sentence")
        bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
        if bad:
            raise TypeError(f"texts must hold str, got {bad[0]}")
        total = sum(self.sentence_log_prob(t) for t in texts)
        n = sum(len(t) + 1 for t in texts)
        return math.exp(-total / n)


def prefix_beam_search(log_probs, beam_width: int = 8, blank: int = BLANK, lm: CharNgramLM | None = None,
                       alpha: float = 0.5, beta: float = 0.0, *, labels: Sequence[str] = CHARS,
                       prune_logp: float = -10.0, return_beams: bool = False):  # fmt: skip
    """CTC prefix beam search for one utterance, with an optional character LM.

    Every frame, each kept prefix ``l`` with path log-probabilities
    ``p_b`` (paths ending in blank) and ``p_nb`` (ending in ``l``'s last label)
    is extended:

    - blank: ``l`` gets ``p_b += (p_b + p_nb) * y_blank``;
    - its last label ``c`` again: ``l`` gets ``p_nb += p_nb * y_c`` (a repeat
      merges) and ``l + c`` gets ``p_nb += p_b * y_c`` (a blank separated them);
    - any other label ``c``: ``l + c`` gets ``p_nb += (p_b + p_nb) * y_c``.

    (sums in log space). Prefixes are ranked by
    ``log(p_b + p_nb) + alpha * log P_lm(l) + beta * len(l)``; the best
    ``beam_width`` survive. With the LM, the end-of-sentence probability is
    added before the final ranking.

    Parameters
    ----------
    log_probs : torch.Tensor, shape (T, V)
        One utterance's per-frame log-probabilities (valid frames only).
    beam_width : int
    blank : int
    lm : CharNgramLM, optional
        Fitted character LM; its characters must be in ``labels``.
    alpha : float
        LM weight (>= 0).
    beta : float
        Bonus per output character.
    labels : sequence of str
        Character of each vocabulary id (the blank's entry is unused).
    prune_logp : float
        Labels with ``log y < prune_logp`` at a frame are not tried (speed).
    return_beams : bool
        Return every final beam as ``(ids, score)``, best first, instead of the best ids.

    Returns
    -------
    list of int, or list of (list of int, float)

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[0.3, 0.7], [0.6, 0.4], [0.3, 0.7]]))  # blank 0, label 1
    >>> prefix_beam_search(lp, beam_width=4)   # greedy says [1, 1]; summing paths prefers [1]
    [1]
    """
    log_probs = check_log_probs(log_probs, "log_probs", ndim=2)
    T, V = log_probs.shape
    beam_width = check_positive_int(beam_width, "beam_width")
    if isinstance(blank, bool) or not isinstance(blank, int) or not 0 <= blank < V:
        raise ValueError(f"blank must be an int in [0, {V}) (log_probs is (T, V)), got {blank!r}")
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(f"labels must be a sequence of str (one per symbol), got {type(labels).__name__}")
    if len(labels) < V:
        raise ValueError(f"labels must name all V={V} symbols, got {len(labels)}")
    for name, v in (("alpha", alpha), ("beta", beta)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise TypeError(f"{name} must be a finite number, got {v!r}")
    if isinstance(prune_logp, bool) or not isinstance(prune_logp, (int, float)) or not prune_logp < math.inf:
        raise TypeError(f"prune_logp must be a number < inf (-inf keeps every label), got {prune_logp!r}")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    if lm is not None:
        if not isinstance(lm, CharNgramLM):
            raise TypeError(f"lm must be a CharNgramLM, got {type(lm).__name__}")
        lm._check_fitted()
        missing = [labels[i] for i in range(V) if i != blank and labels[i] not in lm.vocab_]
        if missing:
            raise ValueError(f"the LM does not know the labels {missing}")
    lp = log_probs.detach().double().cpu().tolist()
    use_lm = lm is not None and alpha > 0

    def lm_score(prefix: tuple[int, ...], c: int) -> float:
        if not use_lm:
            return 0.0
        return alpha * lm.log_prob(labels[c], [labels[i] for i in prefix])

    # beams: prefix -> (p_b, p_nb, lm_total) ; lm_total = alpha * log P_lm(prefix) (+ beta * len)
    beams: dict[tuple[int, ...], tuple[float, float, float]] = {(): (0.0, _NEG_INF, 0.0)}
    for t in range(T):
        row = lp[t]
        cands = [c for c in range(V) if c != blank and row[c] >= prune_logp]
        nxt: dict[tuple[int, ...], list[float]] = {}

        def entry(prefix, bonus):
            if prefix not in nxt:
                nxt[prefix] = [_NEG_INF, _NEG_INF, bonus]
            return nxt[prefix]

        for prefix, (pb, pnb, bonus) in beams.items():
            total = _lae(pb, pnb)
            e = entry(prefix, bonus)
            e[0] = _lae(e[0], total + row[blank])
            last = prefix[-1] if prefix else None
            for c in cands:
                if c == last:
                    e[1] = _lae(e[1], pnb + row[c])  # repeat merges into the same prefix
                    src = pb
                else:
                    src = total
                if src == _NEG_INF:
                    continue
                new = prefix + (c,)
                ne = entry(new, bonus + lm_score(prefix, c) + beta)
                ne[1] = _lae(ne[1], src + row[c])
        ranked = sorted(nxt.items(), key=lambda kv: _lae(kv[1][0], kv[1][1]) + kv[1][2], reverse=True)
        beams = {p: (v[0], v[1], v[2]) for p, v in ranked[:beam_width]}

    def final(prefix, v):
        score = _lae(v[0], v[1]) + v[2]
        if use_lm:
            score += alpha * lm.log_prob(EOS, [labels[i] for i in prefix])
        return score

    out = sorted(((list(p), final(p, v)) for p, v in beams.items()), key=lambda x: x[1], reverse=True)
    return out if return_beams else out[0][0]


@dataclass(frozen=True)
class DecoderConfig:
    """Prefix beam search with a character n-gram LM: the settings ``course_lib.asr.transcribe`` needs.

    Attributes
    ----------
    beam_width : int
    lm_order : int
        Order of the :class:`CharNgramLM` fitted on the training transcripts.
    alpha : float
        LM weight.
    beta : float
        Bonus per output character (offsets the LM's pull towards short outputs).
    """

    beam_width: int = 8
    lm_order: int = 6
    alpha: float = 0.5
    beta: float = 1.0

    def __post_init__(self) -> None:
        check_positive_int(self.beam_width, "beam_width")
        check_positive_int(self.lm_order, "lm_order")
        if not self.alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")


def decoder_recipe(fast: bool = True) -> tuple[DecoderConfig, dict]:
    """The decoder module 08 and ``benchmarks/asr.py`` start from, and the grid ``course_lib.asr.tune_decoder`` searches.

    Returns ``(config, grid)``: ``config`` sets the beam width and LM order;
    ``grid`` holds the ``alphas`` and ``betas`` to try on dev speakers (the
    test speakers never choose them). FAST searches a smaller grid.

    Examples
    --------
    >>> cfg, grid = decoder_recipe(fast=False)
    >>> cfg.beam_width, cfg.lm_order, grid["alphas"]
    (16, 8, (0.6, 0.9, 1.3))
    """
    if not isinstance(fast, bool):
        raise TypeError(f"fast must be a bool, got {type(fast).__name__}")
    if fast:
        return DecoderConfig(beam_width=8, lm_order=6), {"alphas": (0.5, 1.0), "betas": (1.0, 3.0)}
    return DecoderConfig(beam_width=16, lm_order=8), {"alphas": (0.6, 0.9, 1.3), "betas": (1.5, 3.0, 4.5)}
