"""Wrong answers that the hidden tests of 04_optimization_and_training_loop must catch."""
MUTANTS = [
    {
        "name": "momentum with the update order swapped (step with the old buffer, then update it)",
        "cell": "momentum_step",
        "source": '''def momentum_step(param, grad, buf, lr, momentum):
    if buf is None:
        buf = torch.zeros_like(grad)
    new_param = param - lr * buf
    return new_param, momentum * buf + grad
''',
        "must_fail": ["test_momentum_step"],
    },
    {
        "name": "momentum with the learning rate folded into the buffer (wrong once lr changes)",
        "cell": "momentum_step",
        "source": '''def momentum_step(param, grad, buf, lr, momentum):
    buf = lr * grad if buf is None else momentum * buf + lr * grad
    return param - buf, buf
''',
        "must_fail": ["test_momentum_step"],
    },
    {
        "name": "RMSprop with eps inside the square root",
        "cell": "rmsprop_step",
        "source": '''def rmsprop_step(param, grad, square_avg, lr, alpha=0.99, eps=1e-8):
    square_avg = alpha * square_avg + (1 - alpha) * grad**2
    return param - lr * grad / (square_avg + eps).sqrt(), square_avg
''',
        "must_fail": ["test_rmsprop_step"],
    },
    {
        "name": "Adam without bias correction",
        "cell": "adam_step",
        "source": '''def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    return param - lr * m / (v.sqrt() + eps), m, v
''',
        "must_fail": ["test_adam_step"],
    },
    {
        "name": "Adam that corrects only the first moment",
        "cell": "adam_step",
        "source": '''def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    return param - lr * (m / (1 - b1**t)) / (v.sqrt() + eps), m, v
''',
        "must_fail": ["test_adam_step"],
    },
    {
        "name": "normalisation statistics fitted on the test data",
        "cell": "standardize",
        "source": '''def standardize(X_train, X_other):
    mean, std = X_other.mean(dim=0), X_other.std(dim=0, unbiased=False)
    return (X_train - mean) / std, (X_other - mean) / std
''',
        "must_fail": ["test_standardize"],
    },
    {
        "name": "each split normalised with its own statistics",
        "cell": "standardize",
        "source": '''def standardize(X_train, X_other):
    z = lambda X: (X - X.mean(dim=0)) / X.std(dim=0, unbiased=False)
    return z(X_train), z(X_other)
''',
        "must_fail": ["test_standardize"],
    },
    {
        "name": "normalisation statistics from train and test pooled",
        "cell": "standardize",
        "source": '''def standardize(X_train, X_other):
    both = torch.cat([X_train, X_other])
    mean, std = both.mean(dim=0), both.std(dim=0, unbiased=False)
    return (X_train - mean) / std, (X_other - mean) / std
''',
        "must_fail": ["test_standardize"],
    },
    {
        "name": "overfit test that only looks at the loss (misses wrong targets)",
        "cell": "overfits",
        "source": '''def overfits(make_model, X, y, loss_fn=F.cross_entropy, lr=1e-2, steps=150):
    torch.manual_seed(0)
    model = make_model()
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return False
    opt = torch.optim.Adam(params, lr=lr)
    model.train()
    for _ in range(steps):
        loss = loss_fn(model(X), y)
        if loss.grad_fn is None:
            return False
        opt.zero_grad(); loss.backward(); opt.step()
    model.eval()
    with torch.no_grad():
        return float(loss_fn(model(X), y)) < 0.05
''',
        "must_fail": ["test_overfits", "test_find_broken"],
    },
    {
        "name": "overfit test that never switches to eval mode (dropout still on when measuring)",
        "cell": "overfits",
        "source": '''def overfits(make_model, X, y, loss_fn=F.cross_entropy, lr=1e-2, steps=150):
    torch.manual_seed(0)
    model = make_model()
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return False
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        loss = loss_fn(model(X), y)
        if loss.grad_fn is None:
            return False
        opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad():
        logits = model(X)
        return float(loss_fn(logits, y)) < 0.05 and float((logits.argmax(1) == y).float().mean()) == 1.0
''',
        "must_fail": ["test_overfits"],
    },
    {
        "name": "overfit test that passes whenever the loss went down",
        "cell": "overfits",
        "source": '''def overfits(make_model, X, y, loss_fn=F.cross_entropy, lr=1e-2, steps=150):
    torch.manual_seed(0)
    model = make_model()
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return False
    opt = torch.optim.Adam(params, lr=lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(X), y)
        if loss.grad_fn is None:
            return False
        losses.append(float(loss))
        opt.zero_grad(); loss.backward(); opt.step()
    return losses[-1] < losses[0]
''',
        "must_fail": ["test_overfits", "test_find_broken"],
    },
    {
        "name": "overfit test that crashes on frozen models and detached losses",
        "cell": "overfits",
        "source": '''def overfits(make_model, X, y, loss_fn=F.cross_entropy, lr=1e-2, steps=150):
    torch.manual_seed(0)
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = loss_fn(model(X), y)
        opt.zero_grad(); loss.backward(); opt.step()
    model.eval()
    with torch.no_grad():
        logits = model(X)
        return float(loss_fn(logits, y)) < 0.05 and bool((logits.argmax(1) == y).all())
''',
        "must_fail": ["test_overfits", "test_find_broken"],
    },
    {
        "name": "find_broken returns the healthy setups",
        "cell": "find_broken",
        "source": '''def find_broken(setups, X, y):
    return sorted(n for n, (mk, lf, lr) in setups.items() if overfits(mk, X, y, lf, lr))
''',
        "must_fail": ["test_find_broken"],
    },
]
