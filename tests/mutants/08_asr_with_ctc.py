"""Wrong answers that the hidden tests of 08_asr_with_ctc must catch."""
MUTANTS = [
    {
        "name": 'collapse drops blanks before merging repeats (merges across a blank)',
        "cell": 'ctc_collapse',
        "source": '''def ctc_collapse(path, blank=0):
    out = []
    for s in path:
        if s == blank:
            continue
        if not out or out[-1] != s:
            out.append(s)
    return out
''',
        "must_fail": ['test_ctc_collapse'],
    },
    {
        "name": 'collapse keeps the blanks (merges repeats only)',
        "cell": 'ctc_collapse',
        "source": '''def ctc_collapse(path, blank=0):
    out, prev = [], None
    for s in path:
        if s != prev:
            out.append(s)
        prev = s
    return out
''',
        "must_fail": ['test_ctc_collapse'],
    },
    {
        "name": 'collapse with the blank hard-coded to 0',
        "cell": 'ctc_collapse',
        "source": '''def ctc_collapse(path, blank=0):
    out, prev = [], None
    for s in path:
        if s != prev and s != 0:
            out.append(s)
        prev = s
    return out
''',
        "must_fail": ['test_ctc_collapse'],
    },
    {
        "name": 'forward recursion without the blank-skip transition',
        "cell": 'ctc_nll',
        "source": '''def ctc_nll(log_probs, target, blank=0):
    """CTC negative log-likelihood of `target` (list of ints) under (T, V) log-probabilities."""
    T = log_probs.shape[0]
    ext = [blank]
    for label in target:
        ext += [label, blank]
    S = len(ext)
    neg_inf = torch.tensor(float("-inf"), dtype=log_probs.dtype)
    alpha = [neg_inf] * S
    alpha[0] = log_probs[0, blank]
    if S > 1:
        alpha[1] = log_probs[0, ext[1]]
    for t in range(1, T):
        new = []
        for s in range(S):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            new.append(torch.logsumexp(torch.stack(terms), 0) + log_probs[t, ext[s]])
        alpha = new
    ends = [alpha[S - 1]] + ([alpha[S - 2]] if S > 1 else [])
    return -torch.logsumexp(torch.stack(ends), 0)
''',
        "must_fail": ['test_ctc_nll'],
    },
    {
        "name": 'skip allowed between identical labels',
        "cell": 'ctc_nll',
        "source": '''def ctc_nll(log_probs, target, blank=0):
    """CTC negative log-likelihood of `target` (list of ints) under (T, V) log-probabilities."""
    T = log_probs.shape[0]
    ext = [blank]
    for label in target:
        ext += [label, blank]
    S = len(ext)
    neg_inf = torch.tensor(float("-inf"), dtype=log_probs.dtype)
    alpha = [neg_inf] * S
    alpha[0] = log_probs[0, blank]
    if S > 1:
        alpha[1] = log_probs[0, ext[1]]
    for t in range(1, T):
        new = []
        for s in range(S):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2 and ext[s] != blank:
                terms.append(alpha[s - 2])
            new.append(torch.logsumexp(torch.stack(terms), 0) + log_probs[t, ext[s]])
        alpha = new
    ends = [alpha[S - 1]] + ([alpha[S - 2]] if S > 1 else [])
    return -torch.logsumexp(torch.stack(ends), 0)
''',
        "must_fail": ['test_ctc_nll'],
    },
    {
        "name": 'skip allowed from any state two back (blanks too)',
        "cell": 'ctc_nll',
        "source": '''def ctc_nll(log_probs, target, blank=0):
    """CTC negative log-likelihood of `target` (list of ints) under (T, V) log-probabilities."""
    T = log_probs.shape[0]
    ext = [blank]
    for label in target:
        ext += [label, blank]
    S = len(ext)
    neg_inf = torch.tensor(float("-inf"), dtype=log_probs.dtype)
    alpha = [neg_inf] * S
    alpha[0] = log_probs[0, blank]
    if S > 1:
        alpha[1] = log_probs[0, ext[1]]
    for t in range(1, T):
        new = []
        for s in range(S):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2:
                terms.append(alpha[s - 2])
            new.append(torch.logsumexp(torch.stack(terms), 0) + log_probs[t, ext[s]])
        alpha = new
    ends = [alpha[S - 1]] + ([alpha[S - 2]] if S > 1 else [])
    return -torch.logsumexp(torch.stack(ends), 0)
''',
        "must_fail": ['test_ctc_nll'],
    },
    {
        "name": 'wrong initialisation: every state may start at frame 0',
        "cell": 'ctc_nll',
        "source": '''def ctc_nll(log_probs, target, blank=0):
    """CTC negative log-likelihood of `target` (list of ints) under (T, V) log-probabilities."""
    T = log_probs.shape[0]
    ext = [blank]
    for label in target:
        ext += [label, blank]
    S = len(ext)
    neg_inf = torch.tensor(float("-inf"), dtype=log_probs.dtype)
    alpha = [log_probs[0, ext[s]] for s in range(S)]
    for t in range(1, T):
        new = []
        for s in range(S):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new.append(torch.logsumexp(torch.stack(terms), 0) + log_probs[t, ext[s]])
        alpha = new
    ends = [alpha[S - 1]] + ([alpha[S - 2]] if S > 1 else [])
    return -torch.logsumexp(torch.stack(ends), 0)
''',
        "must_fail": ['test_ctc_nll'],
    },
    {
        "name": 'wrong initialisation: only the blank may start',
        "cell": 'ctc_nll',
        "source": '''def ctc_nll(log_probs, target, blank=0):
    """CTC negative log-likelihood of `target` (list of ints) under (T, V) log-probabilities."""
    T = log_probs.shape[0]
    ext = [blank]
    for label in target:
        ext += [label, blank]
    S = len(ext)
    neg_inf = torch.tensor(float("-inf"), dtype=log_probs.dtype)
    alpha = [neg_inf] * S
    alpha[0] = log_probs[0, blank]
    for t in range(1, T):
        new = []
        for s in range(S):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new.append(torch.logsumexp(torch.stack(terms), 0) + log_probs[t, ext[s]])
        alpha = new
    ends = [alpha[S - 1]] + ([alpha[S - 2]] if S > 1 else [])
    return -torch.logsumexp(torch.stack(ends), 0)
''',
        "must_fail": ['test_ctc_nll'],
    },
    {
        "name": 'forward recursion in probability space (underflows on long inputs)',
        "cell": 'ctc_nll',
        "source": '''def ctc_nll(log_probs, target, blank=0):
    y = log_probs.exp()
    T = y.shape[0]
    ext = [blank]
    for label in target:
        ext += [label, blank]
    S = len(ext)
    alpha = [torch.zeros((), dtype=y.dtype) for _ in range(S)]
    alpha[0] = y[0, blank]
    if S > 1:
        alpha[1] = y[0, ext[1]]
    for t in range(1, T):
        new = []
        for s in range(S):
            a = alpha[s]
            if s >= 1:
                a = a + alpha[s - 1]
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                a = a + alpha[s - 2]
            new.append(a * y[t, ext[s]])
        alpha = new
    p = alpha[S - 1] + (alpha[S - 2] if S > 1 else 0.0)
    return -torch.log(p)
''',
        "must_fail": ['test_ctc_nll'],
    },
    {
        "name": 'loss read only at the final blank (misses paths ending in the last label)',
        "cell": 'ctc_nll',
        "source": '''def ctc_nll(log_probs, target, blank=0):
    """CTC negative log-likelihood of `target` (list of ints) under (T, V) log-probabilities."""
    T = log_probs.shape[0]
    ext = [blank]
    for label in target:
        ext += [label, blank]
    S = len(ext)
    neg_inf = torch.tensor(float("-inf"), dtype=log_probs.dtype)
    alpha = [neg_inf] * S
    alpha[0] = log_probs[0, blank]
    if S > 1:
        alpha[1] = log_probs[0, ext[1]]
    for t in range(1, T):
        new = []
        for s in range(S):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new.append(torch.logsumexp(torch.stack(terms), 0) + log_probs[t, ext[s]])
        alpha = new
    ends = [alpha[S - 1]]
    return -torch.logsumexp(torch.stack(ends), 0)
''',
        "must_fail": ['test_ctc_nll'],
    },
    {
        "name": 'WER normalised by the hypothesis length',
        "cell": 'word_errors',
        "source": '''def word_error_counts(ref, hyp):
    """S, D, I, H of a minimum edit alignment of hyp's words to ref's words (dict of ints)."""
    r, h = ref.split(), hyp.split()
    n, m = len(r), len(h)
    # cost[i][j] = (edits, S, D, I) for r[:i] vs h[:j]
    cost = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = (0, 0, 0, 0)
    for i in range(1, n + 1):
        cost[i][0] = (i, 0, i, 0)
    for j in range(1, m + 1):
        cost[0][j] = (j, 0, 0, j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            e, s, d, ins = cost[i - 1][j - 1]
            diag = (e, s, d, ins) if r[i - 1] == h[j - 1] else (e + 1, s + 1, d, ins)
            e, s, d, ins = cost[i - 1][j]
            up = (e + 1, s, d + 1, ins)
            e, s, d, ins = cost[i][j - 1]
            left = (e + 1, s, d, ins + 1)
            cost[i][j] = min(diag, up, left, key=lambda c: c[0])
    _, s, d, ins = cost[n][m]
    return {"S": s, "D": d, "I": ins, "H": n - s - d}


def corpus_wer(refs, hyps):
    """Corpus word error rate: total S + D + I over total reference words (float)."""
    errors = words = 0
    for ref, hyp in zip(refs, hyps):
        c = word_error_counts(ref, hyp)
        errors += c["S"] + c["D"] + c["I"]
        words += c["S"] + c["I"] + c["H"]
    return errors / words
''',
        "must_fail": ['test_word_errors'],
    },
    {
        "name": 'WER as the mean of per-sentence rates',
        "cell": 'word_errors',
        "source": '''def word_error_counts(ref, hyp):
    """S, D, I, H of a minimum edit alignment of hyp's words to ref's words (dict of ints)."""
    r, h = ref.split(), hyp.split()
    n, m = len(r), len(h)
    # cost[i][j] = (edits, S, D, I) for r[:i] vs h[:j]
    cost = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = (0, 0, 0, 0)
    for i in range(1, n + 1):
        cost[i][0] = (i, 0, i, 0)
    for j in range(1, m + 1):
        cost[0][j] = (j, 0, 0, j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            e, s, d, ins = cost[i - 1][j - 1]
            diag = (e, s, d, ins) if r[i - 1] == h[j - 1] else (e + 1, s + 1, d, ins)
            e, s, d, ins = cost[i - 1][j]
            up = (e + 1, s, d + 1, ins)
            e, s, d, ins = cost[i][j - 1]
            left = (e + 1, s, d, ins + 1)
            cost[i][j] = min(diag, up, left, key=lambda c: c[0])
    _, s, d, ins = cost[n][m]
    return {"S": s, "D": d, "I": ins, "H": n - s - d}


def corpus_wer(refs, hyps):
    """Corpus word error rate: total S + D + I over total reference words (float)."""
    rates = []
    for ref, hyp in zip(refs, hyps):
        c = word_error_counts(ref, hyp)
        rates.append((c["S"] + c["D"] + c["I"]) / (c["S"] + c["D"] + c["H"]))
    return sum(rates) / len(rates)
''',
        "must_fail": ['test_word_errors'],
    },
    {
        "name": 'a substitution counted as a deletion plus an insertion',
        "cell": 'word_errors',
        "source": '''def word_error_counts(ref, hyp):
    """S, D, I, H of a minimum edit alignment of hyp's words to ref's words (dict of ints)."""
    r, h = ref.split(), hyp.split()
    n, m = len(r), len(h)
    # cost[i][j] = (edits, S, D, I) for r[:i] vs h[:j]
    cost = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = (0, 0, 0, 0)
    for i in range(1, n + 1):
        cost[i][0] = (i, 0, i, 0)
    for j in range(1, m + 1):
        cost[0][j] = (j, 0, 0, j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            e, s, d, ins = cost[i - 1][j - 1]
            diag = (e, s, d, ins) if r[i - 1] == h[j - 1] else (e + 2, s, d + 1, ins + 1)
            e, s, d, ins = cost[i - 1][j]
            up = (e + 1, s, d + 1, ins)
            e, s, d, ins = cost[i][j - 1]
            left = (e + 1, s, d, ins + 1)
            cost[i][j] = min(diag, up, left, key=lambda c: c[0])
    _, s, d, ins = cost[n][m]
    return {"S": s, "D": d, "I": ins, "H": n - s - d}


def corpus_wer(refs, hyps):
    """Corpus word error rate: total S + D + I over total reference words (float)."""
    errors = words = 0
    for ref, hyp in zip(refs, hyps):
        c = word_error_counts(ref, hyp)
        errors += c["S"] + c["D"] + c["I"]
        words += c["S"] + c["D"] + c["H"]
    return errors / words
''',
        "must_fail": ['test_word_errors'],
    },
    {
        "name": 'characters instead of words',
        "cell": 'word_errors',
        "source": '''def word_error_counts(ref, hyp):
    """S, D, I, H of a minimum edit alignment of hyp's words to ref's words (dict of ints)."""
    r, h = list(ref), list(hyp)
    n, m = len(r), len(h)
    # cost[i][j] = (edits, S, D, I) for r[:i] vs h[:j]
    cost = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = (0, 0, 0, 0)
    for i in range(1, n + 1):
        cost[i][0] = (i, 0, i, 0)
    for j in range(1, m + 1):
        cost[0][j] = (j, 0, 0, j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            e, s, d, ins = cost[i - 1][j - 1]
            diag = (e, s, d, ins) if r[i - 1] == h[j - 1] else (e + 1, s + 1, d, ins)
            e, s, d, ins = cost[i - 1][j]
            up = (e + 1, s, d + 1, ins)
            e, s, d, ins = cost[i][j - 1]
            left = (e + 1, s, d, ins + 1)
            cost[i][j] = min(diag, up, left, key=lambda c: c[0])
    _, s, d, ins = cost[n][m]
    return {"S": s, "D": d, "I": ins, "H": n - s - d}


def corpus_wer(refs, hyps):
    """Corpus word error rate: total S + D + I over total reference words (float)."""
    errors = words = 0
    for ref, hyp in zip(refs, hyps):
        c = word_error_counts(ref, hyp)
        errors += c["S"] + c["D"] + c["I"]
        words += c["S"] + c["D"] + c["H"]
    return errors / words
''',
        "must_fail": ['test_word_errors'],
    },
]
