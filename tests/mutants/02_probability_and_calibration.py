"""Wrong answers that the hidden tests of 02_probability_and_calibration must catch."""
MUTANTS = [
    {
        "name": "softmax without subtracting the max (overflows to NaN)",
        "cell": "stable_softmax",
        "source": '''def stable_softmax(logits):
    e = torch.exp(logits)
    return e / e.sum(dim=1, keepdim=True)
''',
        "must_fail": ["test_stable_softmax"],
    },
    {
        "name": "softmax that subtracts the global max instead of each row's",
        "cell": "stable_softmax",
        "source": '''def stable_softmax(logits):
    e = torch.exp(logits - logits.max())
    return e / e.sum(dim=1, keepdim=True)
''',
        "must_fail": ["test_stable_softmax"],
    },
    {
        "name": "temperature applied as a multiplication",
        "cell": "apply_temperature",
        "source": '''def apply_temperature(logits, temperature):
    return stable_softmax(logits * temperature)
''',
        "must_fail": ["test_apply_temperature"],
    },
    {
        "name": "ECE binned by predicted class instead of confidence",
        "cell": "ece",
        "source": '''def ece(probs, labels, n_bins=10):
    conf, pred = probs.max(dim=1)
    correct = (pred == labels).to(probs.dtype)
    total = 0.0
    for c in range(probs.shape[1]):
        in_bin = pred == c
        if in_bin.any():
            weight = in_bin.to(probs.dtype).mean()
            total += float(weight * (correct[in_bin].mean() - conf[in_bin].mean()).abs())
    return total
''',
        "must_fail": ["test_ece"],
    },
    {
        "name": "ECE without weighting bins by their counts",
        "cell": "ece",
        "source": '''def ece(probs, labels, n_bins=10):
    conf, pred = probs.max(dim=1)
    correct = (pred == labels).to(probs.dtype)
    gaps = []
    for i in range(n_bins):
        in_bin = (conf > i / n_bins) & (conf <= (i + 1) / n_bins)
        if in_bin.any():
            gaps.append(float((correct[in_bin].mean() - conf[in_bin].mean()).abs()))
    return sum(gaps) / len(gaps)
''',
        "must_fail": ["test_ece"],
    },
    {
        "name": "ECE as the gap of the means (no bins)",
        "cell": "ece",
        "source": '''def ece(probs, labels, n_bins=10):
    conf, pred = probs.max(dim=1)
    return float(((pred == labels).to(probs.dtype).mean() - conf.mean()).abs())
''',
        "must_fail": ["test_ece"],
    },
    {
        "name": "temperature fitted on the test split",
        "cell": "calibrate",
        "source": '''def calibrate(dev_logits, dev_labels, test_logits, test_labels, grid):
    nlls = torch.tensor([float(F.cross_entropy(test_logits / t, test_labels)) for t in grid])
    best = float(grid[int(nlls.argmin())])
    return best, ece(apply_temperature(test_logits, best), test_labels, n_bins=10)
''',
        "must_fail": ["test_calibrate"],
    },
    {
        "name": "temperature chosen by dev accuracy (which temperature cannot change)",
        "cell": "calibrate",
        "source": '''def calibrate(dev_logits, dev_labels, test_logits, test_labels, grid):
    accs = torch.tensor([float(((dev_logits / t).argmax(1) == dev_labels).double().mean()) for t in grid])
    best = float(grid[int(accs.argmax())])
    return best, ece(apply_temperature(test_logits, best), test_labels, n_bins=10)
''',
        "must_fail": ["test_calibrate"],
    },
    {
        "name": "overconfidence judged on the pooled data, not per slice",
        "cell": "overconfident_slices",
        "source": '''def overconfident_slices(probs, labels, slices, tol=0.05):
    conf, pred = probs.max(dim=1)
    gap = float(conf.mean() - (pred == labels).to(probs.dtype).mean())
    return sorted(set(slices)) if gap > tol else []
''',
        "must_fail": ["test_overconfident_slices"],
    },
    {
        "name": "flags any miscalibration (absolute gap), including underconfident slices",
        "cell": "overconfident_slices",
        "source": '''def overconfident_slices(probs, labels, slices, tol=0.05):
    conf, pred = probs.max(dim=1)
    correct = (pred == labels).to(probs.dtype)
    out = []
    for name in sorted(set(slices)):
        idx = torch.tensor([s == name for s in slices])
        if abs(float(conf[idx].mean() - correct[idx].mean())) > tol:
            out.append(name)
    return out
''',
        "must_fail": ["test_overconfident_slices"],
    },
    {
        "name": "trusts confidence: flags slices whose confidence is low",
        "cell": "overconfident_slices",
        "source": '''def overconfident_slices(probs, labels, slices, tol=0.05):
    conf = probs.max(dim=1).values
    out = []
    for name in sorted(set(slices)):
        idx = torch.tensor([s == name for s in slices])
        if float(conf[idx].mean()) < 0.7:
            out.append(name)
    return out
''',
        "must_fail": ["test_overconfident_slices"],
    },
]
