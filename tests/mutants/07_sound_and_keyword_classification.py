"""Wrong answers that the hidden tests of 07_sound_and_keyword_classification must catch."""

_MASKS_HEAD = '''def apply_masks(spec, lengths, freq_masks, time_masks, fill=0.0):
    B, F, T = spec.shape
    bands, frames = torch.arange(F), torch.arange(T)
    mask = torch.zeros(B, F, T, dtype=torch.bool)
'''

MUTANTS = [
    {
        "name": "SpecAugment mask one cell too wide (start..start+width inclusive)",
        "cell": "apply_masks",
        "source": _MASKS_HEAD + '''    for m in range(freq_masks.shape[1]):
        s, w = freq_masks[:, m, 0], freq_masks[:, m, 1]
        mask |= ((bands[None] >= s[:, None]) & (bands[None] <= (s + w)[:, None]))[:, :, None]
    for m in range(time_masks.shape[1]):
        s, w = time_masks[:, m, 0], time_masks[:, m, 1]
        mask |= ((frames[None] >= s[:, None]) & (frames[None] <= (s + w)[:, None]))[:, None, :]
    mask &= (frames[None] < lengths[:, None])[:, None, :]
    return spec.masked_fill(mask, fill)
''',
        "must_fail": ["test_apply_masks"],
    },
    {
        "name": "SpecAugment masks that ignore lengths (padding frames get masked too)",
        "cell": "apply_masks",
        "source": _MASKS_HEAD + '''    for m in range(freq_masks.shape[1]):
        s, w = freq_masks[:, m, 0], freq_masks[:, m, 1]
        mask |= ((bands[None] >= s[:, None]) & (bands[None] < (s + w)[:, None]))[:, :, None]
    for m in range(time_masks.shape[1]):
        s, w = time_masks[:, m, 0], time_masks[:, m, 1]
        mask |= ((frames[None] >= s[:, None]) & (frames[None] < (s + w)[:, None]))[:, None, :]
    return spec.masked_fill(mask, fill)
''',
        "must_fail": ["test_apply_masks"],
    },
    {
        "name": "SpecAugment masks written in place (the caller's features are modified)",
        "cell": "apply_masks",
        "source": _MASKS_HEAD + '''    for m in range(freq_masks.shape[1]):
        s, w = freq_masks[:, m, 0], freq_masks[:, m, 1]
        mask |= ((bands[None] >= s[:, None]) & (bands[None] < (s + w)[:, None]))[:, :, None]
    for m in range(time_masks.shape[1]):
        s, w = time_masks[:, m, 0], time_masks[:, m, 1]
        mask |= ((frames[None] >= s[:, None]) & (frames[None] < (s + w)[:, None]))[:, None, :]
    mask &= (frames[None] < lengths[:, None])[:, None, :]
    return spec.masked_fill_(mask, fill)
''',
        "must_fail": ["test_apply_masks"],
    },
    {
        "name": "frequency masks applied on the time axis and time masks on the band axis",
        "cell": "apply_masks",
        "source": '''def apply_masks(spec, lengths, freq_masks, time_masks, fill=0.0):
    out = spec.clone()
    for b in range(spec.shape[0]):
        L = int(lengths[b])
        for s, w in freq_masks[b].tolist():
            out[b, :, s : min(s + w, L)] = fill
        for s, w in time_masks[b].tolist():
            out[b, s : s + w, :L] = fill
    return out
''',
        "must_fail": ["test_apply_masks"],
    },
    {
        "name": "confusion matrix transposed (rows are predictions)",
        "cell": "confusion",
        "source": '''def confusion(y_true, y_pred, n_classes, normalize=False):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_pred), np.asarray(y_true)), 1)
    if not normalize:
        return cm
    rows = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
''',
        "must_fail": ["test_confusion"],
    },
    {
        "name": "confusion matrix normalised per column (per predicted class) instead of per row",
        "cell": "confusion",
        "source": '''def confusion(y_true, y_pred, n_classes, normalize=False):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    if not normalize:
        return cm
    cols = cm.sum(axis=0, keepdims=True)
    return np.divide(cm, cols, out=np.zeros(cm.shape), where=cols > 0)
''',
        "must_fail": ["test_confusion"],
    },
    {
        "name": "confusion matrix normalised rows give NaN for an absent class",
        "cell": "confusion",
        "source": '''def confusion(y_true, y_pred, n_classes, normalize=False):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    if not normalize:
        return cm
    with np.errstate(invalid="ignore", divide="ignore"):
        return cm / cm.sum(axis=1, keepdims=True)
''',
        "must_fail": ["test_confusion"],
    },
    {
        "name": "'all' row computed as the mean of the slice accuracies (macro instead of micro)",
        "cell": "slice_table",
        "source": '''def slice_table(y_true, y_pred, slices, names):
    correct = np.asarray(y_true) == np.asarray(y_pred)
    slices = np.asarray(slices)
    rows = {}
    for name in names:
        sel = slices == name
        n = int(sel.sum())
        rows[name] = {"accuracy": float(correct[sel].mean()) if n else float("nan"), "n": n}
    accs = [r["accuracy"] for r in rows.values() if r["n"] > 0]
    rows["all"] = {"accuracy": float(np.mean(accs)), "n": int(correct.size)}
    rows["macro"] = {"accuracy": float(np.mean(accs)), "n": len(accs)}
    return pd.DataFrame.from_dict(rows, orient="index")[["accuracy", "n"]]
''',
        "must_fail": ["test_slice_table"],
    },
    {
        "name": "'all' row computed over the listed slices only",
        "cell": "slice_table",
        "source": '''def slice_table(y_true, y_pred, slices, names) -> pd.DataFrame:
    correct = np.asarray(y_true) == np.asarray(y_pred)
    slices = np.asarray(slices)
    rows = {}
    for name in names:
        sel = slices == name
        n = int(sel.sum())
        rows[name] = {"accuracy": float(correct[sel].mean()) if n else float("nan"), "n": n}
    listed = np.isin(slices, list(names))
    rows["all"] = {"accuracy": float(correct[listed].mean()), "n": int(listed.sum())}
    accs = [r["accuracy"] for k, r in rows.items() if k != "all" and r["n"] > 0]
    rows["macro"] = {"accuracy": float(np.mean(accs)), "n": len(accs)}
    return pd.DataFrame.from_dict(rows, orient="index")[["accuracy", "n"]]
''',
        "must_fail": ["test_slice_table"],
    },
    {
        "name": "an empty slice reported as accuracy 0 and counted in the macro average",
        "cell": "slice_table",
        "source": '''def slice_table(y_true, y_pred, slices, names):
    correct = np.asarray(y_true) == np.asarray(y_pred)
    slices = np.asarray(slices)
    rows = {}
    for name in names:
        sel = slices == name
        n = int(sel.sum())
        rows[name] = {"accuracy": float(correct[sel].mean()) if n else 0.0, "n": n}
    rows["all"] = {"accuracy": float(correct.mean()), "n": int(correct.size)}
    accs = [rows[k]["accuracy"] for k in names]
    rows["macro"] = {"accuracy": float(np.mean(accs)), "n": len(accs)}
    return pd.DataFrame.from_dict(rows, orient="index")[["accuracy", "n"]]
''',
        "must_fail": ["test_slice_table"],
    },
    {
        "name": "leak measured as the share of test speakers instead of test clips",
        "cell": "speaker_leak",
        "source": '''def speaker_leak(train_speakers, test_speakers):
    shared = sorted(set(train_speakers) & set(test_speakers))
    return {"shared": shared, "test_clip_fraction": len(shared) / len(set(test_speakers))}
''',
        "must_fail": ["test_speaker_leak"],
    },
]
