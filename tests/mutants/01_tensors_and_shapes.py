"""Wrong answers that the hidden tests of 01_tensors_and_shapes must catch."""
MUTANTS = [
    {
        "name": "off-by-one mask (t <= length)",
        "cell": "make_mask",
        "source": '''def make_mask(lengths, max_len):
    return torch.arange(max_len)[None, :] <= lengths[:, None]
''',
        "must_fail": ["test_make_mask"],
    },
    {
        "name": "mask polarity inverted (True on padding)",
        "cell": "make_mask",
        "source": '''def make_mask(lengths, max_len):
    return torch.arange(max_len)[None, :] >= lengths[:, None]
''',
        "must_fail": ["test_make_mask"],
    },
    {
        "name": "masked mean divides by the padded length",
        "cell": "masked_time_mean",
        "source": '''def masked_time_mean(x, lengths):
    mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]
    return (x * mask[:, :, None]).sum(dim=1) / x.shape[1]
''',
        "must_fail": ["test_masked_time_mean"],
    },
    {
        "name": "naive mean over time that includes the padding",
        "cell": "masked_time_mean",
        "source": '''def masked_time_mean(x, lengths):
    return x.mean(dim=1)
''',
        "must_fail": ["test_masked_time_mean"],
    },
    {
        "name": "masked mean over the wrong axis (features instead of time)",
        "cell": "masked_time_mean",
        "source": '''def masked_time_mean(x, lengths):
    mask = torch.arange(x.shape[2])[None, :] < lengths[:, None].clamp(max=x.shape[2])
    return (x * mask[:, None, :]).sum(dim=2) / lengths[:, None].clamp(min=1)
''',
        "must_fail": ["test_masked_time_mean"],
    },
    {
        "name": "masked mean with NaN for an empty utterance",
        "cell": "masked_time_mean",
        "source": '''def masked_time_mean(x, lengths):
    mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]
    return (x * mask[:, :, None]).sum(dim=1) / lengths[:, None]
''',
        "must_fail": ["test_masked_time_mean"],
    },
    {
        "name": "collate sorts by length (for packing) and loses the input order",
        "cell": "collate",
        "source": '''def collate(sequences):
    sequences = sorted(sequences, key=lambda s: s.shape[0], reverse=True)
    lengths = torch.tensor([s.shape[0] for s in sequences], dtype=torch.long)
    padded = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True)
    return padded, lengths
''',
        "must_fail": ["test_collate"],
    },
    {
        "name": "collate reports the padded length for every item",
        "cell": "collate",
        "source": '''def collate(sequences):
    padded = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True)
    lengths = torch.full((len(sequences),), padded.shape[1], dtype=torch.long)
    return padded, lengths
''',
        "must_fail": ["test_collate"],
    },
    {
        "name": "normalisation per frame over features (wrong axis, right shape)",
        "cell": "normalize_utterances",
        "source": '''def normalize_utterances(x, lengths):
    mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]
    return (x - x.mean(dim=2, keepdim=True)) * mask[:, :, None]
''',
        "must_fail": ["test_normalize_utterances"],
    },
    {
        "name": "normalisation subtracts a time mean that includes the padding",
        "cell": "normalize_utterances",
        "source": '''def normalize_utterances(x, lengths):
    mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]
    return (x - x.mean(dim=1, keepdim=True)) * mask[:, :, None]
''',
        "must_fail": ["test_normalize_utterances"],
    },
    {
        "name": "weighted loss without a shape check ((B,) * (B, 1) broadcasts)",
        "cell": "weighted_mean_loss",
        "source": '''def weighted_mean_loss(per_item_loss, weights):
    return (per_item_loss * weights).sum() / weights.sum()
''',
        "must_fail": ["test_weighted_mean_loss"],
    },
]
