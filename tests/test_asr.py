"""The small CTC recognizer: shapes, lengths, padding invariance, a tiny overfit, determinism, bad input."""
import pytest
import torch

from course_lib.asr import (ASRConfig, CTCRecognizer, CTCTrainConfig, DecoderConfig, asr_features,
                            conv_output_lengths, decoder_recipe, train_ctc, transcribe, tune_decoder)
from course_lib.decoding import CharNgramLM
from course_lib.data.text import text_to_ids
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


def test_tune_decoder_picks_the_pair_with_the_lowest_mean_dev_cer():
    g = torch.Generator().manual_seed(0)
    data = {"feats": [torch.randn(60, 40, generator=g), torch.randn(48, 40, generator=g)],
            "targets": [torch.tensor(text_to_ids("on")), torch.tensor(text_to_ids("go"))]}
    torch.manual_seed(0)
    model = CTCRecognizer(TINY)
    train_ctc(model, data, CTCTrainConfig(epochs=60, batch_size=2, lr=1e-2, spec_augment=False), progress=False)
    dev = {"a": {"feats": data["feats"], "texts": ["on", "go"]}, "b": {"feats": data["feats"][:1], "texts": ["on"]}}
    lm = CharNgramLM(order=2).fit(["on", "go", "no"])
    best, table = tune_decoder(model, dev, lm, DecoderConfig(beam_width=4), alphas=(0.0, 0.5), betas=(0.0, 50.0))
    assert len(table) == 4 and list(table.columns) == ["alpha", "beta", "a", "b", "mean"]
    assert table["mean"].tolist() == sorted(table["mean"].tolist())
    assert (best.alpha, best.beta) == (table.loc[0, "alpha"], table.loc[0, "beta"]) and best.beam_width == 4
    # a huge length bonus makes beam search insert characters: it must lose to beta = 0
    assert table.loc[0, "beta"] == 0.0 and table["mean"].iloc[-1] > table["mean"].iloc[0]
    assert table.loc[0, "mean"] == pytest.approx((table.loc[0, "a"] + table.loc[0, "b"]) / 2)


def test_decoder_recipe_and_bad_input():
    cfg, grid = decoder_recipe(fast=True)
    assert isinstance(cfg, DecoderConfig) and grid["alphas"] and grid["betas"]
    model, lm = CTCRecognizer(TINY), CharNgramLM(order=2).fit(["go"])
    dev = {"a": {"feats": [torch.randn(20, 40)], "texts": ["go"]}}
    with pytest.raises(TypeError, match="fast must be a bool"):
        decoder_recipe("yes")
    with pytest.raises(ValueError, match="beam_width must be a positive int"):
        DecoderConfig(beam_width=0)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        DecoderConfig(alpha=-1.0)
    with pytest.raises(TypeError, match="fitted CharNgramLM"):
        tune_decoder(model, dev, "lm")
    with pytest.raises(ValueError, match="non-empty dict"):
        tune_decoder(model, {}, lm)
    with pytest.raises(ValueError, match="non-empty 'feats' and 'texts'"):
        tune_decoder(model, {"a": {"feats": []}}, lm)
    with pytest.raises(ValueError, match="alphas and betas must be non-empty"):
        tune_decoder(model, dev, lm, alphas=())
