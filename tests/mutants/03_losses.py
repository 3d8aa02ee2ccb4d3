"""Wrong answers that the hidden tests of 03_losses must catch."""
MUTANTS = [
    {
        "name": "BCE gradient summed over examples (missing the 1/m)",
        "cell": "bce_gradients",
        "source": '''def bce_gradients(X, y, w, b):
    err = torch.sigmoid(X @ w + b) - y
    return X.T @ err, err.sum()
''',
        "must_fail": ["test_bce_gradients"],
    },
    {
        "name": "BCE gradient with the sign flipped (y - p)",
        "cell": "bce_gradients",
        "source": '''def bce_gradients(X, y, w, b):
    err = y - torch.sigmoid(X @ w + b)
    return X.T @ err / X.shape[0], err.mean()
''',
        "must_fail": ["test_bce_gradients"],
    },
    {
        "name": "cross-entropy as log of a naive softmax (overflows on large logits)",
        "cell": "cross_entropy_from_logits",
        "source": '''def cross_entropy_from_logits(logits, target):
    e = torch.exp(logits)
    p = e / e.sum(dim=1, keepdim=True)
    return -torch.log(p[torch.arange(logits.shape[0]), target]).mean()
''',
        "must_fail": ["test_cross_entropy_from_logits"],
    },
    {
        "name": "cross-entropy as log(torch.softmax) (log 0 = -inf when one logit dwarfs another)",
        "cell": "cross_entropy_from_logits",
        "source": '''def cross_entropy_from_logits(logits, target):
    p = torch.softmax(logits, dim=1)
    return -torch.log(p[torch.arange(logits.shape[0]), target]).mean()
''',
        "must_fail": ["test_cross_entropy_from_logits"],
    },
    {
        "name": "weighted NLL normalised by the number of examples instead of the weight sum",
        "cell": "weighted_nll",
        "source": '''def weighted_nll(log_probs, target, weight):
    w = weight[target]
    return -(w * log_probs[torch.arange(log_probs.shape[0]), target]).mean()
''',
        "must_fail": ["test_weighted_nll"],
    },
    {
        "name": "weighted NLL normalised by the sum of all class weights",
        "cell": "weighted_nll",
        "source": '''def weighted_nll(log_probs, target, weight):
    w = weight[target]
    return -(w * log_probs[torch.arange(log_probs.shape[0]), target]).sum() / weight.sum()
''',
        "must_fail": ["test_weighted_nll"],
    },
    {
        "name": "label smoothing spread over the K-1 wrong classes only",
        "cell": "label_smoothed_ce",
        "source": '''def label_smoothed_ce(logits, target, eps):
    n, k = logits.shape
    log_probs = torch.log_softmax(logits, dim=1)
    q = torch.full_like(log_probs, eps / (k - 1))
    q[torch.arange(n), target] = 1.0 - eps
    return -(q * log_probs).sum(dim=1).mean()
''',
        "must_fail": ["test_label_smoothed_ce"],
    },
    {
        "name": "focal factor applied to p_t instead of (1 - p_t)",
        "cell": "focal",
        "source": '''def focal(logits, target, gamma):
    log_pt = torch.log_softmax(logits, dim=1)[torch.arange(logits.shape[0]), target]
    return (-(torch.exp(log_pt)) ** gamma * log_pt).mean()
''',
        "must_fail": ["test_focal"],
    },
    {
        "name": "focal factor uses the largest probability instead of the true class's",
        "cell": "focal",
        "source": '''def focal(logits, target, gamma):
    log_probs = torch.log_softmax(logits, dim=1)
    log_pt = log_probs[torch.arange(logits.shape[0]), target]
    p_max = torch.exp(log_probs).amax(dim=1)
    return (-(1 - p_max) ** gamma * log_pt).mean()
''',
        "must_fail": ["test_focal"],
    },
    {
        "name": "cross-entropy everywhere (ignores unaligned and open-set supervision)",
        "cell": "choose_objectives",
        "source": '''def choose_objectives():
    return {k: "cross_entropy" for k in
            ["wake_word", "keyword_12", "offline_asr", "streaming_asr", "speaker_search", "distill"]}
''',
        "must_fail": ["test_objectives"],
    },
    {
        "name": "speaker search as classification over training speakers",
        "cell": "choose_objectives",
        "source": '''def choose_objectives():
    return {"wake_word": "bce", "keyword_12": "cross_entropy", "offline_asr": "ctc",
            "streaming_asr": "transducer", "speaker_search": "cross_entropy", "distill": "kl_divergence"}
''',
        "must_fail": ["test_objectives"],
    },
]
