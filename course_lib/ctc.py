"""Connectionist Temporal Classification (CTC) from scratch.

A CTC model emits one distribution over the vocabulary (plus a *blank*) per
frame. A frame-level *path* becomes a transcript by :func:`collapse`: merge
repeated symbols, then drop blanks (``"hh-e-ll-ll-oo"`` -> ``"hello"``; the
blank between the two ``l`` runs keeps them apart). The CTC loss is
``-log`` of the total probability of every path that collapses to the
target, summed by the *forward algorithm* over the target extended with
blanks (``- h - e - l - l - o -``), in log space, one frame at a time.

Shapes follow :func:`torch.nn.functional.ctc_loss`: ``log_probs`` ``(T, B, V)``,
``targets`` ``(B, S)`` padded (or 1-D concatenated), lengths ``(B,)`` frame
and label counts.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from course_lib.checks import check_lengths, check_log_probs, check_positive_int, check_tensor

__all__ = [
    "collapse",
    "extend_with_blanks",
    "min_ctc_frames",
    "count_alignments",
    "enumerate_alignments",
    "ctc_forward",
    "ctc_loss",
    "ctc_forced_align",
]

_NEG_INF = float("-inf")


def _int_list(x, name: str) -> list[int]:
    """Label ids (ints >= 0) as a list."""
    if isinstance(x, Tensor):
        if x.ndim != 1 or x.is_floating_point() or x.dtype == torch.bool:
            raise ValueError(f"{name} must be a 1-D integer tensor, got dtype {x.dtype}, shape {tuple(x.shape)}")
        out = [int(v) for v in x.tolist()]
    else:
        if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
            raise TypeError(f"{name} must be a sequence of ints or a 1-D integer tensor, got {type(x).__name__}")
        out = []
        for v in x:
            if isinstance(v, bool) or not hasattr(v, "__index__"):
                raise TypeError(f"{name} must hold ints, got {type(v).__name__}")
            out.append(int(v))
    if out and min(out) < 0:
        raise ValueError(f"{name} must hold label ids >= 0, got {min(out)}")
    return out


def _check_blank(blank) -> int:
    if isinstance(blank, bool) or not isinstance(blank, int) or blank < 0:
        raise ValueError(f"blank must be a non-negative int (the blank's index), got {blank!r}")
    return blank


def collapse(path: Sequence[int] | Tensor, blank: int = 0) -> list[int]:
    """Turn a frame-level CTC path into labels: merge repeats, then drop blanks.

    Parameters
    ----------
    path : sequence of int or 1-D integer tensor
        One symbol per frame.
    blank : int
        Index of the blank symbol.

    Returns
    -------
    list of int

    Examples
    --------
    >>> collapse([1, 1, 0, 1, 2, 2, 0, 0, 3], blank=0)
    [1, 1, 2, 3]
    """
    path = _int_list(path, "path")
    blank = _check_blank(blank)
    out, prev = [], None
    for s in path:
        if s != prev and s != blank:
            out.append(s)
        prev = s
    return out


def extend_with_blanks(target: Sequence[int] | Tensor, blank: int = 0) -> list[int]:
    """The CTC lattice's states: the target with a blank before, between and after labels.

    Examples
    --------
    >>> extend_with_blanks([3, 5, 5], blank=0)
    [0, 3, 0, 5, 0, 5, 0]
    """
    target = _int_list(target, "target")
    blank = _check_blank(blank)
    if blank in target:
        raise ValueError(f"target must not contain the blank ({blank}), got {target}")
    ext = [blank]
    for label in target:
        ext += [label, blank]
    return ext


def _allowed_skip(ext: list[int], blank: int) -> list[bool]:
    """``skip[s]``: may a path jump from state ``s - 2`` to ``s`` (a label unlike the one before)?"""
    return [s >= 2 and ext[s] != blank and ext[s] != ext[s - 2] for s in range(len(ext))]


def min_ctc_frames(target: Sequence[int] | Tensor, blank: int = 0) -> int:
    """The fewest frames any CTC path for ``target`` needs: ``L + (number of adjacent repeats)``.

    Each label takes at least one frame, and two equal adjacent labels need a
    blank frame between them (otherwise they merge on collapse). With fewer
    frames no alignment exists and the CTC loss is infinite.

    Examples
    --------
    >>> min_ctc_frames([3, 5, 5, 5])   # 4 labels + 2 blanks between the three 5s
    6
    >>> count_alignments([3, 5, 5, 5], T=5), count_alignments([3, 5, 5, 5], T=6)
    (0, 1)
    """
    target = _int_list(target, "target")
    _check_blank(blank)
    if blank in target:
        raise ValueError(f"target must not contain the blank ({blank}), got {target}")
    return len(target) + sum(a == b for a, b in zip(target, target[1:]))


def count_alignments(target: Sequence[int] | Tensor, T: int, blank: int = 0) -> int:
    """How many length-``T`` paths collapse to ``target`` (exact integer count).

    The forward recursion with counts instead of probabilities.

    Examples
    --------
    >>> count_alignments([1, 2], T=4)
    15
    >>> count_alignments([1, 1], T=2)  # needs a blank between the two 1s: impossible
    0
    """
    T = check_positive_int(T, "T")
    ext = extend_with_blanks(target, blank)
    skip = _allowed_skip(ext, blank)
    n = len(ext)
    a = [0] * n
    a[0] = 1
    if n > 1:
        a[1] = 1
    for _ in range(1, T):
        a = [a[s] + (a[s - 1] if s >= 1 else 0) + (a[s - 2] if skip[s] else 0) for s in range(n)]
    return a[-1] + (a[-2] if n > 1 else 0)


def enumerate_alignments(target: Sequence[int] | Tensor, T: int, blank: int = 0, *, limit: int = 100_000) -> list[tuple[int, ...]]:
    """Every length-``T`` path that collapses to ``target`` (for short examples).

    Walks the lattice of :func:`extend_with_blanks` (stay, advance one state,
    or skip a blank between different labels), so it never tries the
    ``V ** T`` paths one by one.

    Parameters
    ----------
    target : sequence of int
    T : int
        Path length in frames.
    blank : int
    limit : int
        Refuse (``ValueError``) when there would be more paths than this.

    Returns
    -------
    list of tuple of int
        In lexicographic order of lattice moves; ``collapse(p) == target`` for each.

    Examples
    --------
    >>> enumerate_alignments([1], T=2)
    [(0, 1), (1, 0), (1, 1)]
    """
    T = check_positive_int(T, "T")
    limit = check_positive_int(limit, "limit")
    n_paths = count_alignments(target, T, blank)
    if n_paths > limit:
        raise ValueError(f"{n_paths} paths of length {T} collapse to the target, more than limit={limit}; "
                         f"use a shorter example or count_alignments")  # fmt: skip
    ext = extend_with_blanks(target, blank)
    skip = _allowed_skip(ext, blank)
    n = len(ext)
    out: list[tuple[int, ...]] = []

    def walk(t: int, s: int, prefix: list[int]) -> None:
        prefix.append(ext[s])
        if t == T - 1:
            if s >= n - 2:
                out.append(tuple(prefix))
        else:
            for nxt in (s, s + 1, s + 2):
                if nxt < n and (nxt != s + 2 or skip[nxt]) and (n - 2 - nxt) <= (T - 2 - t) * 2 + 1:
                    walk(t + 1, nxt, prefix)
        prefix.pop()

    for start in (0, 1)[: min(2, n)]:
        walk(0, start, [])
    return sorted(out)


def _check_ctc_inputs(log_probs, targets, input_lengths, target_lengths, blank):
    log_probs = check_log_probs(log_probs, "log_probs", ndim=3)
    T, B, V = log_probs.shape
    blank = _check_blank(blank)
    if blank >= V:
        raise ValueError(f"blank must be < the vocabulary size V={V} (log_probs is (T, B, V)), got {blank}")
    input_lengths = check_lengths(input_lengths, B, T, "input_lengths")
    if int(input_lengths.min()) < 1:
        raise ValueError(f"input_lengths must be >= 1 frame, got min {int(input_lengths.min())}")
    targets = check_tensor(targets, "targets", ndim=(1, 2), nonempty=False)
    if targets.is_floating_point() or targets.dtype == torch.bool:
        raise TypeError(f"targets must hold integer label ids, got dtype {targets.dtype}")
    if targets.ndim == 2 and targets.shape[0] != B:
        raise ValueError(f"targets (B, S) must have B={B} rows like log_probs (T, B, V), got shape {tuple(targets.shape)}")
    max_s = targets.shape[1] if targets.ndim == 2 else targets.shape[0]
    target_lengths = check_lengths(target_lengths, B, max_s, "target_lengths" if targets.ndim == 2
                                   else "target_lengths (into the concatenated 1-D targets)")  # fmt: skip
    if targets.ndim == 1:  # concatenated targets -> padded (B, S)
        if int(target_lengths.sum()) != targets.shape[0]:
            raise ValueError(f"1-D targets must be the concatenation of all targets: sum(target_lengths)="
                             f"{int(target_lengths.sum())} but got {targets.shape[0]} labels")  # fmt: skip
        padded = torch.full((B, max(int(target_lengths.max()), 1)), blank, dtype=torch.long)
        for b, chunk in enumerate(torch.split(targets.long(), target_lengths.tolist())):
            padded[b, : chunk.shape[0]] = chunk
        targets = padded
    targets = targets.long()
    valid = torch.arange(targets.shape[1])[None, :] < target_lengths[:, None]  # (B, S)
    used = targets[valid]
    if used.numel() and (int(used.min()) < 0 or int(used.max()) >= V or bool((used == blank).any())):
        raise ValueError(f"targets must be label ids in [0, {V}) other than the blank ({blank}); "
                         f"got values in [{int(used.min())}, {int(used.max())}]")  # fmt: skip
    return log_probs, targets, input_lengths.to(log_probs.device), target_lengths.to(log_probs.device), blank


def _logsumexp(x: Tensor, dim: int) -> Tensor:
    """logsumexp that returns -inf with zero (not NaN) gradients when every term is -inf."""
    m = x.max(dim=dim, keepdim=True).values
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m)).detach()
    s = torch.exp(x - m).sum(dim=dim)
    ok = s > 0
    out = torch.log(torch.where(ok, s, torch.ones_like(s))) + m.squeeze(dim)
    return torch.where(ok, out, torch.full_like(out, _NEG_INF))


def ctc_forward(log_probs, targets, input_lengths, target_lengths, blank: int = 0) -> tuple[Tensor, Tensor]:
    """The CTC forward variables ``alpha`` and the negative log-likelihood per item.

    ``alpha[t, b, s]`` is the log-probability of all paths of the first
    ``t + 1`` frames that end in state ``s`` of the extended target
    (:func:`extend_with_blanks`, length ``2 S + 1``)::

        alpha[0, s]  = log y[0, ext[s]]                      for s in {0, 1}, else -inf
        alpha[t, s]  = logsumexp(alpha[t-1, s], alpha[t-1, s-1],
                                 alpha[t-1, s-2] if ext[s] != blank and ext[s] != ext[s-2])
                       + log y[t, ext[s]]
        nll          = -logsumexp(alpha[T_b - 1, 2 L_b], alpha[T_b - 1, 2 L_b - 1])

    Vectorised over the batch and the states; the loop runs over time only.

    Parameters
    ----------
    log_probs : torch.Tensor, shape (T, B, V)
        Per-frame log-probabilities (log_softmax over V).
    targets : torch.Tensor, shape (B, S) padded or (sum(target_lengths),) concatenated
        Label ids, without blanks.
    input_lengths : torch.Tensor, shape (B,)
        Valid frames per item (>= 1).
    target_lengths : torch.Tensor, shape (B,)
        Labels per item.
    blank : int

    Returns
    -------
    alpha : torch.Tensor, shape (T, B, 2 S + 1)
        ``-inf`` where no path reaches a state (and past each item's length).
    nll : torch.Tensor, shape (B,)
        ``inf`` for impossible items (target too long for the input).

    Examples
    --------
    >>> lp = torch.log(torch.full((2, 1, 3), 1 / 3))
    >>> alpha, nll = ctc_forward(lp, torch.tensor([[1]]), torch.tensor([2]), torch.tensor([1]))
    >>> alpha.shape, round(float(torch.exp(-nll)), 4)  # 3 paths of prob 1/9: (0,1) (1,0) (1,1)
    (torch.Size([2, 1, 3]), 0.3333)
    """
    log_probs, targets, input_lengths, target_lengths, blank = _check_ctc_inputs(
        log_probs, targets, input_lengths, target_lengths, blank)  # fmt: skip
    T, B, _ = log_probs.shape
    S = targets.shape[1]
    dev = log_probs.device
    # extended targets (B, 2S+1): blank, l1, blank, l2, ..., blank
    ext = torch.full((B, 2 * S + 1), blank, dtype=torch.long, device=dev)
    ext[:, 1::2] = targets.to(dev)
    n_states = 2 * target_lengths + 1  # (B,)
    state = torch.arange(2 * S + 1, device=dev)  # (2S+1,)
    in_lattice = state[None, :] < n_states[:, None]  # (B, 2S+1)
    skip = torch.zeros_like(in_lattice)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    # emissions of every state at every frame: (T, B, V) gathered -> (T, B, 2S+1)
    emit = log_probs.gather(2, ext[None].expand(T, B, 2 * S + 1))
    neg_inf = torch.full((B, 2 * S + 1), _NEG_INF, dtype=log_probs.dtype, device=dev)
    start = (state[None, :] < 2) & in_lattice
    alpha_t = torch.where(start, emit[0], neg_inf)
    alphas = [alpha_t]
    for t in range(1, T):
        stay = alpha_t
        step = torch.cat([neg_inf[:, :1], alpha_t[:, :-1]], dim=1)  # from s - 1
        jump = torch.cat([neg_inf[:, :2], alpha_t[:, :-2]], dim=1)  # from s - 2
        jump = torch.where(skip, jump, neg_inf)
        new = _logsumexp(torch.stack([stay, step, jump]), dim=0) + emit[t]
        new = torch.where(in_lattice, new, neg_inf)
        active = (t < input_lengths)[:, None]  # (B, 1): past an item's end alpha stays frozen
        alpha_t = torch.where(active, new, alpha_t)
        alphas.append(torch.where(active, new, neg_inf))
    alpha = torch.stack(alphas)  # (T, B, 2S+1)
    # alpha_t now holds each item's alpha at its last frame
    last = (2 * target_lengths)[:, None]  # (B, 1)
    end_blank = alpha_t.gather(1, last).squeeze(1)
    end_label = alpha_t.gather(1, (last - 1).clamp_min(0)).squeeze(1)
    end_label = torch.where(target_lengths > 0, end_label, torch.full_like(end_label, _NEG_INF))
    nll = -_logsumexp(torch.stack([end_blank, end_label]), dim=0)
    return alpha, nll


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> Tensor:  # fmt: skip
    """CTC loss by the forward algorithm in log space; same contract as ``torch.nn.functional.ctc_loss``.

    Parameters
    ----------
    log_probs : torch.Tensor, shape (T, B, V)
        Log-probabilities (log_softmax over V).
    targets : torch.Tensor, shape (B, S) padded or 1-D concatenated
    input_lengths, target_lengths : torch.Tensor, shape (B,)
        Frame counts and label counts.
    blank : int
    reduction : {"mean", "sum", "none"}
        ``"mean"`` divides each item's loss by its target length (at least 1),
        then averages over the batch, as torch does.
    zero_infinity : bool
        Replace infinite losses (impossible alignments: too few frames for the
        labels and the blanks needed between repeats) and their gradients by 0.

    Returns
    -------
    torch.Tensor
        A scalar, or ``(B,)`` for ``reduction="none"``.

    Notes
    -----
    The gradient with respect to the *logits* (through ``log_softmax``) equals
    torch's. Torch's own kernel returns the logits' gradient as the gradient of
    ``log_probs`` too, so compare gradients through ``log_softmax``.

    Examples
    --------
    >>> lp = torch.randn(6, 2, 5).log_softmax(-1)
    >>> tg, il, tl = torch.tensor([[1, 2], [3, 0]]), torch.tensor([6, 4]), torch.tensor([2, 1])
    >>> ours = ctc_loss(lp, tg, il, tl)
    >>> bool(torch.isclose(ours, torch.nn.functional.ctc_loss(lp, tg, il, tl), atol=1e-5))
    True
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not isinstance(zero_infinity, bool):
        raise TypeError(f"zero_infinity must be a bool, got {type(zero_infinity).__name__}")
    _, nll = ctc_forward(log_probs, targets, input_lengths, target_lengths, blank)
    if zero_infinity:
        nll = torch.where(torch.isinf(nll), torch.zeros_like(nll), nll)
    if reduction == "none":
        return nll
    if reduction == "sum":
        return nll.sum()
    tl = torch.as_tensor(target_lengths, device=nll.device).clamp_min(1).to(nll.dtype)
    return (nll / tl).mean()


def ctc_forced_align(log_probs, target, blank: int = 0) -> tuple[Tensor, Tensor]:
    """Most likely path that collapses to ``target`` (Viterbi over the CTC lattice).

    The forward recursion with ``max`` instead of ``logsumexp``, plus back
    pointers; same result as ``torchaudio.functional.forced_align`` for one
    utterance.

    Parameters
    ----------
    log_probs : torch.Tensor, shape (T, V)
        One utterance's per-frame log-probabilities.
    target : sequence of int or 1-D tensor
        Labels without blanks.
    blank : int

    Returns
    -------
    path : torch.Tensor, shape (T,), int64
        The symbol at each frame (``collapse(path) == target``).
    scores : torch.Tensor, shape (T,)
        ``log_probs[t, path[t]]``.

    Examples
    --------
    >>> lp = torch.log(torch.tensor([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.1, 0.7]]))
    >>> ctc_forced_align(lp, [1, 2])[0].tolist()
    [1, 0, 2]
    """
    log_probs = check_log_probs(log_probs, "log_probs", ndim=2)
    T, V = log_probs.shape
    target = _int_list(target, "target")
    blank = _check_blank(blank)
    if blank >= V or any(not 0 <= v < V for v in target):
        raise ValueError(f"target ids and blank must lie in [0, {V}), got target {target}, blank {blank}")
    ext = extend_with_blanks(target, blank)
    n = len(ext)
    need = min_ctc_frames(target, blank)
    if need > T:
        raise ValueError(f"{T} frames cannot hold {len(target)} labels with {need - len(target)} repeats "
                         f"(need {need}); no alignment exists")  # fmt: skip
    lp = log_probs.detach()
    ext_t = torch.tensor(ext, dtype=torch.long, device=lp.device)
    skip = torch.tensor(_allowed_skip(ext, blank), device=lp.device)
    emit = lp[:, ext_t]  # (T, n)
    neg = torch.full((n,), _NEG_INF, dtype=lp.dtype, device=lp.device)
    score = neg.clone()
    score[: min(2, n)] = emit[0, : min(2, n)]
    back = torch.zeros(T, n, dtype=torch.long, device=lp.device)  # 0 stay, 1 from s-1, 2 from s-2
    for t in range(1, T):
        step = torch.cat([neg[:1], score[:-1]])
        jump = torch.where(skip, torch.cat([neg[:2], score[:-2]]), neg)
        cand = torch.stack([score, step, jump])  # (3, n)
        best, arg = cand.max(dim=0)
        back[t] = arg
        score = best + emit[t]
    s = n - 1 if n == 1 or score[n - 1] >= score[n - 2] else n - 2
    states = [s]
    for t in range(T - 1, 0, -1):
        s -= int(back[t, s])
        states.append(s)
    states = states[::-1]
    path = ext_t[torch.tensor(states, device=lp.device)]
    return path, log_probs[torch.arange(T), path]
