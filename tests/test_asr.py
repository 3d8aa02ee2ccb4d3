"""The small CTC recognizer: shapes, lengths, padding invariance, a tiny overfit, determinism, bad input."""
import math

import pytest
import torch

from course_lib.asr import (ASRConfig, CTCRecognizer, CTCTrainConfig, asr_features, asr_recipe, consonant_onset,
                            conv_output_lengths, ctc_log_probs, decode_log_probs, sentence_texts, speech_onset,
                            train_ctc, transcribe, tune_decoder)
from course_lib.decoding import CharNgramLM, DecoderConfig, decoder_recipe
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


def test_interrupted_training_resumes_to_the_same_result(tmp_path, monkeypatch):
    import course_lib.asr as asr_module

    g = torch.Generator().manual_seed(1)
    data = {"feats": [torch.randn(int(n), 40, generator=g) for n in (40, 52, 36, 60)],
            "targets": [torch.tensor(text_to_ids(w)) for w in ("on", "go", "no", "up")]}
    cfg = CTCTrainConfig(epochs=3, batch_size=2, lr=1e-2, seed=0)  # SpecAugment on: the generator state matters
    torch.manual_seed(0)
    straight = train_ctc(CTCRecognizer(TINY), data, cfg, progress=False)
    state = tmp_path / "state.pt"
    real, calls = asr_module._batches, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 2:  # killed when the second epoch starts
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(asr_module, "_batches", interrupted)
    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt):
        train_ctc(CTCRecognizer(TINY), data, cfg, progress=False, state_path=state)
    assert state.is_file()
    monkeypatch.setattr(asr_module, "_batches", real)
    torch.manual_seed(123)  # a fresh process: the state file restores every generator
    resumed_model = CTCRecognizer(TINY)
    resumed = train_ctc(resumed_model, data, cfg, progress=False, state_path=state)
    assert resumed.step_loss == straight.step_loss and resumed.steps == straight.steps == 6
    assert len(resumed.epoch_loss) == 3


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


def test_decode_log_probs_equals_transcribe():
    torch.manual_seed(0)
    model = CTCRecognizer(TINY).eval()
    feats = [torch.randn(40, 40), torch.randn(25, 40)]
    lm = CharNgramLM(order=2).fit(["on", "go", "no"])
    lps = ctc_log_probs(model, feats)
    assert decode_log_probs(lps) == transcribe(model, feats)
    kw = dict(decoder="beam", beam_width=4, lm=lm, alpha=0.5, beta=1.0)
    assert decode_log_probs(lps, **kw) == transcribe(model, feats, **kw)
    with pytest.raises(TypeError, match="non-empty list"):
        decode_log_probs(lps[0])
    with pytest.raises(ValueError, match="decoder must be"):
        decode_log_probs(lps, decoder="viterbi")


def test_fast_recipe_is_a_smoke_run_of_the_full_architecture():
    fast_model, fast_train = asr_recipe(True)
    full_model, full_train = asr_recipe(False)
    assert fast_model == full_model
    assert fast_train.max_steps is not None and fast_train.max_steps * fast_train.batch_size <= 64
    assert full_train.max_steps is None and full_train.epochs >= 5


def test_sentence_texts_equal_the_corpus_transcripts(tmp_path):
    from course_lib.data.corpus import sentence_dataset

    ds = sentence_dataset(4, seed=7, conditions="clean", speakers="test", cache_dir=tmp_path)
    assert sentence_texts(4, seed=7) == list(ds.metadata["label"])
    assert sentence_texts(6, seed=7)[:4] == sentence_texts(4, seed=7)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        sentence_texts(3, seed=-1)


def test_speech_onset_and_consonant_onset():
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.zeros(4000), 0.5 * torch.randn(4000, generator=g)])
    assert speech_onset(x) == pytest.approx(0.25)
    assert speech_onset(x, frame_ms=10) == pytest.approx(0.25)
    # a noise burst (high frequencies) followed by a 150 Hz tone (voicing)
    t = torch.arange(4000) / 16000
    burst = torch.randn(800, generator=g) * 0.3
    burst = burst - torch.nn.functional.avg_pool1d(burst[None, None], 9, 1, 4)[0, 0]  # high-pass
    sig = torch.cat([torch.zeros(1600), burst, 0.5 * torch.sin(2 * math.pi * 150 * t)])
    seg = consonant_onset(sig)
    assert seg["start_s"] == pytest.approx(0.1, abs=0.011)
    assert 35 <= seg["duration_ms"] <= 65 and seg["centroid_hz"] > 2500
    with pytest.raises(ValueError, match="too short"):
        consonant_onset(torch.randn(100))
    with pytest.raises(ValueError, match="at least one"):
        speech_onset(torch.randn(10))


def test_checkpoint_loads_and_reaches_its_recorded_figures():
    from course_lib.data.splits import default_speaker_split
    from course_lib.tooling.checkpoints import evaluate_checkpoint, get_recipe

    recipe = get_recipe("asr")
    recorded, measured = evaluate_checkpoint("asr")
    assert set(recorded) == set(measured)
    for name, value in recorded.items():
        assert abs(measured[name] - value) <= recipe.tolerance, (name, value, measured[name])
    assert measured["cer_mixed"] < 0.25 and measured["cer_noisy"] < 0.4  # a trained recognizer (an untrained one scores CER 1.0)
    # the evaluation speakers are not training speakers
    from course_lib.asr import _eval_slices

    train = set(default_speaker_split()["train"])
    assert all(not set(ds.metadata["speaker"]) & train for ds in _eval_slices().values())



# --------------------------------------------------------------------------- bad input (issue 10 sweep)
@pytest.mark.parametrize("field", ["lr", "weight_decay"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_ctc_train_config_rejects_non_finite_lr_and_weight_decay(field, value):
    with pytest.raises(ValueError, match=rf"{field} must be a finite number"):
        CTCTrainConfig(**{field: value})


def test_ctc_train_config_rejects_wrong_types():
    with pytest.raises(TypeError, match="weight_decay must be a real number"):
        CTCTrainConfig(weight_decay="0.1")
    with pytest.raises(TypeError, match="freq_mask must be an int"):
        CTCTrainConfig(freq_mask=None)


def test_train_ctc_rejects_a_target_id_equal_to_the_vocabulary_size():
    from course_lib.asr import train_ctc

    model = CTCRecognizer(ASRConfig(n_mels=8, conv_channels=4, hidden=8, n_layers=1, vocab_size=29))
    train = {"feats": [torch.randn(40, 8), torch.randn(36, 8)], "targets": [torch.tensor([3, 29]), torch.tensor([6])]}
    cfg = CTCTrainConfig(epochs=1, batch_size=2, spec_augment=False, warmup_frac=0.0)
    with pytest.raises(ValueError, match=r"train targets\[0\] must hold label ids in \[1, 28\]"):
        train_ctc(model, train, cfg, progress=False)
    with pytest.raises(TypeError, match="dev must be None or a dict"):
        train_ctc(model, {**train, "targets": [torch.tensor([3]), torch.tensor([6])]}, cfg, dev="x", progress=False)


def test_conv_output_lengths_and_transcribe_reject_bad_input():
    from course_lib.asr import conv_output_lengths, transcribe

    with pytest.raises(TypeError, match="lengths must be an integer tensor"):
        conv_output_lengths(torch.tensor([4.0]))
    with pytest.raises(ValueError, match="lengths must be frame counts >= 1"):
        conv_output_lengths(torch.tensor([0, 4]))
    with pytest.raises(TypeError, match="model must be a CTCRecognizer"):
        transcribe("model", [torch.zeros(8, 80)])
