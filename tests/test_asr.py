"""The small CTC recognizer: shapes, lengths, padding invariance, a tiny overfit, determinism, bad input."""
import pytest
import torch

from course_lib.asr import (ASRConfig, CTCRecognizer, CTCTrainConfig, asr_features, conv_output_lengths,
                            train_ctc, transcribe)
from course_lib.corpus import text_to_ids
from course_lib.shapes import pad_collate

TINY = ASRConfig(n_mels=40, conv_channels=8, hidden=32, n_layers=1, dropout=0.0)


def test_output_lengths_match_the_convolutions():
    model = CTCRecognizer(TINY)
    for T in (1, 2, 7, 50, 101):
        lp, n = model(torch.randn(1, T, 40), torch.tensor([T]))
        assert lp.shape[0] == int(n[0]) == int(conv_output_lengths(torch.tensor([T]))[0])
        assert torch.allclose(lp.exp().sum(-1), torch.ones(lp.shape[:2]), atol=1e-5)


def test_padding_does_not_change_the_output():
    torch.manual_seed(0)
    model = CTCRecognizer(TINY).eval()
    a, b = torch.randn(37, 40), torch.randn(60, 40)
    x, n, _ = pad_collate([a, b])
    lp, out_len = model(x, n)
    alone, alone_len = model(a[None], torch.tensor([37]))
    assert int(out_len[0]) == int(alone_len[0])
    assert torch.allclose(lp[: out_len[0], 0], alone[:, 0], atol=1e-5)


def test_features_are_normalised_per_band():
    f = asr_features(torch.randn(8000) * 0.1, n_mels=40)
    assert f.shape == (51, 40)
    assert torch.allclose(f.mean(0), torch.zeros(40), atol=1e-4)


def test_tiny_model_overfits_two_utterances_and_is_deterministic():
    g = torch.Generator().manual_seed(0)
    data = {"feats": [torch.randn(60, 40, generator=g), torch.randn(48, 40, generator=g)],
            "targets": [torch.tensor(text_to_ids("on")), torch.tensor(text_to_ids("go"))]}
    cfg = CTCTrainConfig(epochs=200, batch_size=2, lr=1e-2, spec_augment=False, seed=0)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = CTCRecognizer(TINY)
        h = train_ctc(model, data, cfg, progress=False)
        runs.append(h.step_loss)
    assert runs[0] == runs[1]
    assert runs[0][-1] < 0.01 * runs[0][0]
    assert transcribe(model, data["feats"]) == ["on", "go"]


def test_bad_input():
    with pytest.raises(ValueError, match="dropout must lie"):
        ASRConfig(dropout=1.5)
    with pytest.raises(ValueError, match="F=40 mel bands"):
        CTCRecognizer(TINY)(torch.randn(1, 10, 80), torch.tensor([10]))
    with pytest.raises(ValueError, match="lengths must lie"):
        CTCRecognizer(TINY)(torch.randn(1, 10, 40), torch.tensor([11]))
    with pytest.raises(ValueError, match="decoder must be"):
        transcribe(CTCRecognizer(TINY), [torch.randn(10, 40)], decoder="viterbi")
    with pytest.raises(ValueError, match="'feats' and 'targets'"):
        train_ctc(CTCRecognizer(TINY), {"feats": []})
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        CTCTrainConfig(epochs=0)
