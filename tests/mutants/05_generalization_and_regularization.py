"""Wrong answers that the hidden tests of 05_generalization_and_regularization must catch."""
MUTANTS = [
    {
        "name": "threshold with >= (a gap exactly at tol counted as too large)",
        "cell": "diagnose",
        "source": '''def diagnose(train_error: float, dev_error: float, target_error: float = 0.0, tol: float = 0.02) -> dict:
    bias = train_error - target_error
    variance = dev_error - train_error
    high_bias, high_var = bias >= tol, variance >= tol
    if high_bias and high_var:
        regime = "both"
    elif high_bias:
        regime = "underfit"
    elif high_var:
        regime = "overfit"
    else:
        regime = "good fit"
    return {"avoidable_bias": bias, "variance": variance, "regime": regime}
''',
        "must_fail": ["test_diagnose"],
    },
    {
        "name": "AdamW with eps inside the square root",
        "cell": "adamw_step",
        "source": '''def adamw_step(w, grad, m, v, t, *, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad * grad
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    w = w * (1 - lr * weight_decay)
    w = w - lr * m_hat / (v_hat + eps).sqrt()
    return w, m, v
''',
        "must_fail": ["test_adamw_step"],
    },
    {
        "name": "variance measured as dev error against 0 instead of against the train error",
        "cell": "diagnose",
        "source": '''def diagnose(train_error, dev_error, target_error=0.0, tol=0.02):
    bias = train_error - target_error
    variance = dev_error
    regime = {(True, True): "both", (True, False): "underfit", (False, True): "overfit",
              (False, False): "good fit"}[(bias > tol, variance > tol)]
    return {"avoidable_bias": bias, "variance": variance, "regime": regime}
''',
        "must_fail": ["test_diagnose"],
    },
    {
        "name": "avoidable bias ignores the Bayes/human-level proxy (train error against 0)",
        "cell": "diagnose",
        "source": '''def diagnose(train_error, dev_error, target_error=0.0, tol=0.02):
    bias = train_error
    variance = dev_error - train_error
    regime = {(True, True): "both", (True, False): "underfit", (False, True): "overfit",
              (False, False): "good fit"}[(bias > tol, variance > tol)]
    return {"avoidable_bias": bias, "variance": variance, "regime": regime}
''',
        "must_fail": ["test_diagnose"],
    },
    {
        "name": "regime names swapped (high bias called overfit)",
        "cell": "diagnose",
        "source": '''def diagnose(train_error, dev_error, target_error=0.0, tol=0.02):
    bias = train_error - target_error
    variance = dev_error - train_error
    regime = {(True, True): "both", (True, False): "overfit", (False, True): "underfit",
              (False, False): "good fit"}[(bias > tol, variance > tol)]
    return {"avoidable_bias": bias, "variance": variance, "regime": regime}
''',
        "must_fail": ["test_diagnose"],
    },
    {
        "name": "dropout without the 1/(1-p) rescaling",
        "cell": "inverted_dropout",
        "source": '''def inverted_dropout(x, p, training, generator):
    if not training:
        return x
    keep = torch.rand(x.shape, generator=generator) >= p
    return x * keep.to(x.dtype)
''',
        "must_fail": ["test_inverted_dropout"],
    },
    {
        "name": "classic dropout: no rescaling in training, scaled by (1-p) at eval time",
        "cell": "inverted_dropout",
        "source": '''def inverted_dropout(x, p, training, generator):
    if not training:
        return x * (1 - p)
    keep = torch.rand(x.shape, generator=generator) >= p
    return x * keep.to(x.dtype) / (1 - p)
''',
        "must_fail": ["test_inverted_dropout"],
    },
    {
        "name": "dropout keeps with probability p instead of dropping with it",
        "cell": "inverted_dropout",
        "source": '''def inverted_dropout(x, p, training, generator):
    if not training:
        return x
    keep = torch.rand(x.shape, generator=generator) < p
    return x * keep.to(x.dtype) / (1 - p)
''',
        "must_fail": ["test_inverted_dropout"],
    },
    {
        "name": "dropout mask drawn without the generator (not reproducible)",
        "cell": "inverted_dropout",
        "source": '''def inverted_dropout(x, p, training, generator):
    if not training:
        return x
    keep = torch.rand(x.shape) >= p
    return x * keep.to(x.dtype) / (1 - p)
''',
        "must_fail": ["test_inverted_dropout"],
    },
    {
        "name": "early stopping returns the last weights instead of the best",
        "cell": "early_stopping",
        "source": '''def early_stopping(dev_losses, snapshots, patience):
    best, best_epoch, stop_epoch = math.inf, 0, len(dev_losses) - 1
    for epoch, loss in enumerate(dev_losses):
        if loss < best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch >= patience:
            stop_epoch = epoch
            break
    return snapshots[stop_epoch], stop_epoch
''',
        "must_fail": ["test_early_stopping"],
    },
    {
        "name": "early stopping counts ties as improvements",
        "cell": "early_stopping",
        "source": '''def early_stopping(dev_losses, snapshots, patience):
    best, best_epoch, stop_epoch = math.inf, 0, len(dev_losses) - 1
    for epoch, loss in enumerate(dev_losses):
        if loss <= best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch >= patience:
            stop_epoch = epoch
            break
    return snapshots[best_epoch], stop_epoch
''',
        "must_fail": ["test_early_stopping"],
    },
    {
        "name": "early stopping waits one epoch too long (> patience)",
        "cell": "early_stopping",
        "source": '''def early_stopping(dev_losses, snapshots, patience):
    best, best_epoch, stop_epoch = math.inf, 0, len(dev_losses) - 1
    for epoch, loss in enumerate(dev_losses):
        if loss < best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch > patience:
            stop_epoch = epoch
            break
    return snapshots[best_epoch], stop_epoch
''',
        "must_fail": ["test_early_stopping"],
    },
    {
        "name": "weight decay as an L2 term inside Adam (coupled) instead of decoupled",
        "cell": "adamw_step",
        "source": '''def adamw_step(w, grad, m, v, t, *, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    grad = grad + weight_decay * w
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad * grad
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - lr * m_hat / (v_hat.sqrt() + eps), m, v
''',
        "must_fail": ["test_adamw_step"],
    },
    {
        "name": "weight decay applied after the Adam update (to the updated weights)",
        "cell": "adamw_step",
        "source": '''def adamw_step(w, grad, m, v, t, *, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad * grad
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    w = w - lr * m_hat / (v_hat.sqrt() + eps)
    return w * (1 - lr * weight_decay), m, v
''',
        "must_fail": ["test_adamw_step"],
    },
    {
        "name": "Adam without bias correction",
        "cell": "adamw_step",
        "source": '''def adamw_step(w, grad, m, v, t, *, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad * grad
    w = w * (1 - lr * weight_decay)
    return w - lr * m / (v.sqrt() + eps), m, v
''',
        "must_fail": ["test_adamw_step"],
    },
    {
        "name": "mixup with different lambdas for x and y (1 - lam for the labels)",
        "cell": "mixup_batch",
        "source": '''def mixup_batch(x, y, n_classes, lam, perm):
    onehot = torch.nn.functional.one_hot(y, n_classes).to(x.dtype)
    return lam * x + (1 - lam) * x[perm], (1 - lam) * onehot + lam * onehot[perm]
''',
        "must_fail": ["test_mixup_batch"],
    },
    {
        "name": "mixup keeps hard labels (inputs mixed, targets not)",
        "cell": "mixup_batch",
        "source": '''def mixup_batch(x, y, n_classes, lam, perm):
    onehot = torch.nn.functional.one_hot(y, n_classes).to(x.dtype)
    return lam * x + (1 - lam) * x[perm], onehot
''',
        "must_fail": ["test_mixup_batch"],
    },
    {
        "name": "learning curve read at the smallest training size",
        "cell": "read_learning_curve",
        "source": '''def read_learning_curve(sizes, train_error, dev_error, target_error=0.0):
    regime = diagnose(train_error[0], dev_error[0], target_error)["regime"]
    if regime in ("underfit", "both"):
        return regime, "bigger model"
    if regime == "good fit":
        return regime, "none"
    drop = (dev_error[-2] - dev_error[-1]) / math.log2(sizes[-1] / sizes[-2])
    return regime, "more data" if drop > 0.01 else "regularisation"
''',
        "must_fail": ["test_read_learning_curve"],
    },
    {
        "name": "always more data for overfitting (ignores a flat dev curve)",
        "cell": "read_learning_curve",
        "source": '''def read_learning_curve(sizes, train_error, dev_error, target_error=0.0):
    regime = diagnose(train_error[-1], dev_error[-1], target_error)["regime"]
    return regime, {"underfit": "bigger model", "both": "bigger model", "good fit": "none",
                    "overfit": "more data"}[regime]
''',
        "must_fail": ["test_read_learning_curve"],
    },
    {
        "name": "learning curve reading ignores the target (human-level) error",
        "cell": "read_learning_curve",
        "source": '''def read_learning_curve(sizes, train_error, dev_error, target_error=0.0):
    regime = diagnose(train_error[-1], dev_error[-1], 0.0)["regime"]
    if regime in ("underfit", "both"):
        return regime, "bigger model"
    if regime == "good fit":
        return regime, "none"
    drop = (dev_error[-2] - dev_error[-1]) / math.log2(sizes[-1] / sizes[-2])
    return regime, "more data" if drop > 0.01 else "regularisation"
''',
        "must_fail": ["test_read_learning_curve"],
    },
    {
        "name": "more data for underfitting (remedy for the wrong problem)",
        "cell": "read_learning_curve",
        "source": '''def read_learning_curve(sizes, train_error, dev_error, target_error=0.0):
    regime = diagnose(train_error[-1], dev_error[-1], target_error)["regime"]
    if regime == "good fit":
        return regime, "none"
    if regime in ("underfit", "both"):
        return regime, "more data"
    drop = (dev_error[-2] - dev_error[-1]) / math.log2(sizes[-1] / sizes[-2])
    return regime, "more data" if drop > 0.01 else "regularisation"
''',
        "must_fail": ["test_read_learning_curve"],
    },
]
