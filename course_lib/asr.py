"""A small CTC speech recognizer: features, model, training loop, transcription.

Pipeline: waveform -> log-mel ``(F, T)`` (:func:`course_lib.mel.log_mel`)
-> per-utterance mean/variance normalisation -> ``(T, F)`` features
(:func:`asr_features`) -> :class:`CTCRecognizer` (two stride-2 convolutions,
4x fewer frames; a bidirectional GRU; a linear layer to :data:`CHARS`)
-> ``(T', B, V)`` log-probabilities -> CTC loss in training, greedy or
prefix beam search decoding (:mod:`course_lib.decoding`) in :func:`transcribe`.

A sequence model needs its own loop (variable-length inputs *and* targets,
no per-item class): :func:`train_ctc` batches utterances of similar length,
applies SpecAugment, clips gradients, is seeded and can resume.
:func:`asr_checkpoint_recipe` is the committed recognizer's recipe
(``checkpoints/asr.pt``, the FULL configuration of :func:`asr_recipe`).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor, nn

from course_lib.mel import log_mel
from course_lib.augment import spec_augment
from course_lib.checks import check_float, check_int, check_lengths, check_log_probs, check_positive_int, check_tensor
from course_lib.data.text import BLANK, CHARS, ids_to_text
from course_lib.decoding import CharNgramLM, DecoderConfig, greedy_decode, prefix_beam_search
from course_lib.shapes import lengths_to_mask, pad_collate

__all__ = [
    "ASRConfig",
    "CTCTrainConfig",
    "CTCRecognizer",
    "asr_features",
    "utterance_features",
    "conv_output_lengths",
    "train_ctc",
    "ctc_log_probs",
    "transcribe",
    "decode_log_probs",
    "asr_recipe",
    "asr_datasets",
    "ASR_DATA_SIZES",
    "tune_decoder",
    "sentence_texts",
    "speech_onset",
    "consonant_onset",
    "evaluate_asr_checkpoint",
    "asr_checkpoint_recipe",
]


@dataclass(frozen=True)
class ASRConfig:
    """Shape of a :class:`CTCRecognizer` and of its input features.

    Attributes
    ----------
    n_mels : int
        Mel bands of the input features.
    conv_channels : int
        Channels of the two stride-2 convolutions.
    hidden : int
        GRU units per direction.
    n_layers : int
        Stacked bidirectional GRU layers.
    dropout : float
        Between GRU layers and before the output layer.
    vocab_size : int
        Output symbols including the blank (``len(CHARS)``).
    """

    n_mels: int = 80
    conv_channels: int = 32
    hidden: int = 192
    n_layers: int = 2
    dropout: float = 0.1
    vocab_size: int = len(CHARS)

    def __post_init__(self) -> None:
        for name in ("n_mels", "conv_channels", "hidden", "n_layers", "vocab_size"):
            check_positive_int(getattr(self, name), name)
        check_float(self.dropout, "dropout", min_value=0.0)
        if not self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
        if self.n_mels < 4:
            raise ValueError(f"n_mels must be >= 4 (two stride-2 convolutions), got {self.n_mels}")


@dataclass(frozen=True)
class CTCTrainConfig:
    """How :func:`train_ctc` trains.

    Attributes
    ----------
    epochs : int
    batch_size : int
    lr : float
        Peak AdamW learning rate (linear warm-up, then cosine decay).
    weight_decay : float
    warmup_frac : float
        Share of the steps spent warming up.
    clip_norm : float
        Gradient clipping threshold (global L2 norm).
    spec_augment : bool
        Mask 2 frequency bands (<= ``freq_mask``) and 2 time spans (<= ``time_mask``) per utterance.
    freq_mask, time_mask : int
    max_steps : int or None
        Stop after this many optimiser steps (FAST runs).
    seed : int
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-2
    warmup_frac: float = 0.08
    clip_norm: float = 5.0
    spec_augment: bool = True
    freq_mask: int = 15
    time_mask: int = 20
    max_steps: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        if self.max_steps is not None:
            check_positive_int(self.max_steps, "max_steps")
        for name in ("lr", "clip_norm"):
            check_float(getattr(self, name), name, min_value=0.0, min_inclusive=False)
        check_float(self.weight_decay, "weight_decay", min_value=0.0)
        check_float(self.warmup_frac, "warmup_frac", min_value=0.0)
        if not self.warmup_frac < 1.0:
            raise ValueError(f"warmup_frac must lie in [0, 1), got {self.warmup_frac}")
        for name in ("freq_mask", "time_mask", "seed"):
            check_int(getattr(self, name), name, min_value=0)
        if not isinstance(self.spec_augment, bool):
            raise TypeError(f"spec_augment must be a bool, got {type(self.spec_augment).__name__}")


def conv_output_lengths(lengths: Tensor) -> Tensor:
    """Frames after the two stride-2 convolutions (kernel 3, padding 1): ``ceil(ceil(T / 2) / 2)``.

    Examples
    --------
    >>> conv_output_lengths(torch.tensor([1, 4, 5, 100])).tolist()
    [1, 1, 2, 25]
    """
    out = check_tensor(lengths, "lengths", ndim=1)
    if out.is_floating_point() or out.dtype == torch.bool:
        raise TypeError(f"lengths must be an integer tensor of frame counts, got {out.dtype}")
    if int(out.min()) < 1:
        raise ValueError(f"lengths must be frame counts >= 1, got min {int(out.min())}")
    for _ in range(2):
        out = torch.div(out - 1, 2, rounding_mode="floor") + 1
    return out


class CTCRecognizer(nn.Module):
    """Conv front end (4x subsampling) + bidirectional GRU + linear, for CTC.

    Parameters
    ----------
    config : ASRConfig

    Examples
    --------
    >>> model = CTCRecognizer(ASRConfig(n_mels=40, conv_channels=8, hidden=16, n_layers=1))
    >>> lp, out_len = model(torch.randn(2, 50, 40), torch.tensor([50, 31]))
    >>> lp.shape, out_len.tolist()   # (T', B, V): 50 frames -> 13
    (torch.Size([13, 2, 29]), [13, 8])
    """

    def __init__(self, config: ASRConfig = ASRConfig()) -> None:
        super().__init__()
        if not isinstance(config, ASRConfig):
            raise TypeError(f"config must be an ASRConfig, got {type(config).__name__}")
        self.config = c = config
        self.conv1 = nn.Conv2d(1, c.conv_channels, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(c.conv_channels, c.conv_channels, 3, stride=2, padding=1)
        f_out = (c.n_mels - 1) // 2 + 1
        f_out = (f_out - 1) // 2 + 1
        self.proj = nn.Linear(c.conv_channels * f_out, 2 * c.hidden)
        self.norm = nn.LayerNorm(2 * c.hidden)
        self.rnn = nn.GRU(2 * c.hidden, c.hidden, num_layers=c.n_layers, bidirectional=True,
                          dropout=c.dropout if c.n_layers > 1 else 0.0)  # fmt: skip
        self.drop = nn.Dropout(c.dropout)
        self.out = nn.Linear(2 * c.hidden, c.vocab_size)

    def forward(self, feats: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``(B, T, F)`` features and ``(B,)`` frame counts -> ``(T', B, V)`` log-probs and ``(B,)`` output lengths."""
        feats = check_tensor(feats, "feats", ndim=3, floating=True)
        B, T, F = feats.shape
        if F != self.config.n_mels:
            raise ValueError(f"feats must be (B, T, F) with F={self.config.n_mels} mel bands, got shape {tuple(feats.shape)}")
        lengths = check_lengths(lengths, B, T)
        mask = lengths_to_mask(lengths, T).to(feats.device)  # (B, T)
        x = feats.masked_fill(~mask[:, :, None], 0.0)
        x = nn.functional.gelu(self.conv1(x[:, None]))  # (B, T, F) -> (B, 1, T, F) -> (B, C, T/2, F/2)
        half = torch.div(lengths - 1, 2, rounding_mode="floor") + 1  # frames after the first convolution
        x = x * lengths_to_mask(half, x.shape[2]).to(x.dtype)[:, None, :, None]  # padding stays 0
        x = nn.functional.gelu(self.conv2(x))  # (B, C, T/2, F/2) -> (B, C, T', F')
        x = x.permute(0, 2, 1, 3).flatten(2)  # (B, C, T', F') -> (B, T', C * F')
        x = self.norm(self.proj(x))  # (B, T', 2H)
        out_len = conv_output_lengths(lengths).clamp_min(1)
        y = _bigru_padded(self.rnn, x, out_len)  # (B, T', 2H)
        logits = self.out(self.drop(y))  # (B, T', V)
        return logits.transpose(0, 1).log_softmax(-1), out_len  # (B, T', V) -> (T', B, V)


def _reverse_within(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each item's first ``lengths[b]`` frames of ``(B, T, D)``; padding stays at the end."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]  # (1, T)
    idx = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (B, T)
    return x.gather(1, idx[:, :, None].expand(-1, -1, x.shape[2]))


def _bigru_padded(rnn: nn.GRU, x: Tensor, lengths: Tensor) -> Tensor:
    """A bidirectional ``nn.GRU`` over a padded ``(B, T, D)`` batch, exact on the valid frames.

    The same outputs as packing the batch (``pack_padded_sequence``), with less
    time and memory on CPU (a packed backward pass zero-fills a full-size
    gradient at every time step). The forward direction runs on the padded
    batch (padding at the end never reaches earlier frames); the backward
    direction runs over each item reversed within its length, then is reversed back.
    """
    lengths = lengths.to(x.device)
    h0 = x.new_zeros(1, x.shape[0], rnn.hidden_size)
    for layer in range(rnn.num_layers):
        if layer and rnn.training and rnn.dropout > 0:
            x = nn.functional.dropout(x, rnn.dropout, training=True)
        outs = []
        for suffix, flip in (("", False), ("_reverse", True)):
            params = [getattr(rnn, f"{name}_l{layer}{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            inp = _reverse_within(x, lengths) if flip else x
            out = torch.gru(inp, h0, params, True, 1, 0.0, rnn.training, False, True)[0]  # (B, T, H), one direction
            outs.append(_reverse_within(out, lengths) if flip else out)
        x = torch.cat(outs, dim=-1)  # (B, T, 2H)
    return x


def asr_features(waveform, sample_rate: int = 16000, n_mels: int = 80) -> Tensor:
    """Log-mel features ``(T, F)`` of one utterance, normalised per mel band over the utterance.

    25 ms windows, 10 ms hop. Per-utterance normalisation removes the
    channel's constant colouring (device, gain) that a log spectrum turns
    into an additive offset.

    Parameters
    ----------
    waveform : torch.Tensor, shape (time,)
    sample_rate : int
    n_mels : int

    Returns
    -------
    torch.Tensor, shape (T, F), float32

    Examples
    --------
    >>> f = asr_features(torch.randn(16000))
    >>> f.shape, abs(float(f.mean())) < 1e-4
    (torch.Size([101, 80]), True)
    """
    waveform = check_tensor(waveform, "waveform", ndim=1, floating=True)
    spec = log_mel(waveform, sample_rate, n_fft=400, hop_length=160, n_mels=n_mels)  # (F, T)
    spec = (spec - spec.mean(-1, keepdim=True)) / (spec.std(-1, keepdim=True) + 1e-5)
    return spec.T.contiguous()  # (F, T) -> (T, F)


def utterance_features(dataset, n_mels: int = 80, *, progress: bool = False) -> dict:
    """Features, targets and transcripts of every utterance of a sentence dataset.

    Parameters
    ----------
    dataset : course_lib.data.corpus.AudioDataset
        A sentence dataset (items with ``waveform`` and ``target`` char ids).
    n_mels : int
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    dict
        ``feats`` (list of ``(T_i, F)`` tensors), ``targets`` (list of LongTensor),
        ``texts`` (list of str), ``meta`` (the dataset's metadata frame).
    """
    if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "metadata"):
        raise TypeError(f"dataset must be an AudioDataset, got {type(dataset).__name__}")
    from tqdm.auto import tqdm

    feats, targets, texts = [], [], []
    for i in tqdm(range(len(dataset)), desc="features", disable=not progress):
        item = dataset[i]
        feats.append(asr_features(item["waveform"], item["sample_rate"], n_mels))
        targets.append(item["target"])
        texts.append(item["label"])
    return {"feats": feats, "targets": targets, "texts": texts, "meta": dataset.metadata}


def _batches(lengths: Sequence[int], batch_size: int, gen: torch.Generator) -> list[list[int]]:
    """Shuffle, sort by length within windows of 50 batches, cut into batches, shuffle the batches."""
    order = torch.randperm(len(lengths), generator=gen).tolist()
    window = batch_size * 50
    out = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        out += [chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size)]
    perm = torch.randperm(len(out), generator=gen).tolist()
    return [out[k] for k in perm]


@dataclass
class CTCHistory:
    """Per-step training loss and per-epoch dev CER of :func:`train_ctc`."""

    step_loss: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    dev_cer: list = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0


def train_ctc(model: CTCRecognizer, train: dict, config: CTCTrainConfig = CTCTrainConfig(), *,
              dev: dict | None = None, progress: bool = True, state_path=None) -> CTCHistory:  # fmt: skip
    """Train a :class:`CTCRecognizer` with the CTC loss (AdamW, warm-up + cosine, clipping, SpecAugment).

    Parameters
    ----------
    model : CTCRecognizer
    train : dict
        From :func:`utterance_features` (``feats``, ``targets``).
    config : CTCTrainConfig
    dev : dict, optional
        Evaluated (greedy CER) after every epoch.
    progress : bool
        tqdm bar over steps.
    state_path : path, optional
        Save the training state (model, optimiser, generators, history) there
        after every epoch, and resume from it when it exists: an interrupted
        long run continues where it stopped, with the same result.

    Returns
    -------
    CTCHistory

    Examples
    --------
    >>> model = CTCRecognizer(ASRConfig(n_mels=40, conv_channels=4, hidden=8, n_layers=1))
    >>> data = {"feats": [torch.randn(40, 40)] * 4, "targets": [torch.tensor([3, 4])] * 4}
    >>> h = train_ctc(model, data, CTCTrainConfig(epochs=1, batch_size=2), progress=False)
    >>> h.steps, len(h.step_loss)
    (2, 2)
    """
    from tqdm.auto import tqdm

    from course_lib.optim import warmup_cosine_lr
    from course_lib.wer import cer

    if not isinstance(model, CTCRecognizer):
        raise TypeError(f"model must be a CTCRecognizer, got {type(model).__name__}")
    if not isinstance(config, CTCTrainConfig):
        raise TypeError(f"config must be a CTCTrainConfig, got {type(config).__name__}")
    if not isinstance(train, dict) or not {"feats", "targets"} <= set(train):
        raise ValueError("train must be a dict with 'feats' and 'targets' (see utterance_features)")
    if len(train["feats"]) != len(train["targets"]) or not train["feats"]:
        raise ValueError(f"train needs as many targets as feats (and at least one), got "
                         f"{len(train['feats'])} and {len(train['targets'])}")  # fmt: skip
    if dev is not None and (not isinstance(dev, dict) or not {"feats", "texts"} <= set(dev)):
        raise TypeError(f"dev must be None or a dict with 'feats' and 'texts', got {type(dev).__name__}")
    vocab = model.config.vocab_size
    for i, tg in enumerate(train["targets"]):
        tg = check_tensor(tg, f"train targets[{i}]", ndim=1, nonempty=False)
        if tg.is_floating_point() or tg.dtype == torch.bool:
            raise TypeError(f"train targets[{i}] must be an integer tensor of label ids, got {tg.dtype}")
        if tg.numel() and (int(tg.min()) < 0 or int(tg.max()) >= vocab or bool((tg == BLANK).any())):
            raise ValueError(
                f"train targets[{i}] must hold label ids in [1, {vocab - 1}] (vocab_size={vocab}, "
                f"blank={BLANK} excluded), got {tg.tolist()}"
            )
    gen = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)  # dropout draws from the global generator
    lengths = [f.shape[0] for f in train["feats"]]
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    total = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    warm = max(1, int(config.warmup_frac * total))
    hist = CTCHistory()
    step, first_epoch, done_s = 0, 0, 0.0
    if state_path is not None and Path(state_path).is_file():
        state = torch.load(state_path, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])
        hist, step, first_epoch, done_s = state["hist"], state["step"], state["epoch"] + 1, state["seconds"]
    t0 = time.perf_counter()
    bar = tqdm(total=total, initial=step, desc="train CTC", disable=not progress)
    for epoch in range(first_epoch, config.epochs):
        if step >= total:
            break
        model.train()
        losses = []
        for idx in _batches(lengths, config.batch_size, gen):
            if step >= total:
                break
            x, n, _ = pad_collate([train["feats"][i] for i in idx])  # (B, T, F), (B,)
            if config.spec_augment:
                x = spec_augment(x.transpose(1, 2), n_freq_masks=2, freq_mask_param=config.freq_mask, n_time_masks=2,
                                 time_mask_param=config.time_mask, lengths=n, mask_value=0.0,
                                 generator=gen).transpose(1, 2)  # (B, T, F) -> (B, F, T) -> (B, T, F)  # fmt: skip
            tg = [train["targets"][i] for i in idx]
            tl = torch.tensor([t.shape[0] for t in tg])
            lp, out_len = model(x, n)
            loss = nn.functional.ctc_loss(lp, torch.cat(tg), out_len, tl, blank=BLANK, zero_infinity=True)
            for group in opt.param_groups:
                group["lr"] = warmup_cosine_lr(step, config.lr, warm, total)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            opt.step()
            step += 1
            value = loss.item()
            losses.append(value)
            hist.step_loss.append(value)
            bar.update(1)
            bar.set_postfix(loss=f"{value:.3f}")
        hist.epoch_loss.append(sum(losses) / max(len(losses), 1))
        if dev is not None:
            hyps = transcribe(model, dev["feats"])
            hist.dev_cer.append(cer(dev["texts"], hyps))
        if state_path is not None:
            hist.seconds = done_s + time.perf_counter() - t0
            state = {"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "epoch": epoch,
                     "torch_rng": torch.get_rng_state(), "hist": hist, "step": step, "seconds": hist.seconds}
            torch.save(state, str(state_path) + ".tmp")
            Path(str(state_path) + ".tmp").replace(state_path)
    bar.close()
    model.eval()
    hist.seconds = done_s + time.perf_counter() - t0
    hist.steps = step
    return hist


@torch.no_grad()
def ctc_log_probs(model: CTCRecognizer, feats: Sequence[Tensor], batch_size: int = 64) -> list[Tensor]:
    """Per-utterance ``(T'_i, V)`` log-probabilities (eval mode, valid frames only)."""
    if not isinstance(model, CTCRecognizer):
        raise TypeError(f"model must be a CTCRecognizer, got {type(model).__name__}")
    check_positive_int(batch_size, "batch_size")
    was = model.training
    model.eval()
    out = []
    for k in range(0, len(feats), batch_size):
        x, n, _ = pad_collate(list(feats[k : k + batch_size]))  # (B, T, F), (B,)
        lp, out_len = model(x, n)
        out += [lp[: int(out_len[b]), b] for b in range(lp.shape[1])]
    model.train(was)
    return out


def transcribe(model: CTCRecognizer, feats: Sequence[Tensor], *, decoder: str = "greedy", beam_width: int = 8,
               lm: CharNgramLM | None = None, alpha: float = 0.5, beta: float = 0.0, batch_size: int = 64) -> list[str]:  # fmt: skip
    """Transcribe utterances given as ``(T_i, F)`` features.

    Parameters
    ----------
    model : CTCRecognizer
    feats : list of torch.Tensor
        From :func:`asr_features`.
    decoder : {"greedy", "beam"}
    beam_width, lm, alpha, beta
        For :func:`course_lib.decoding.prefix_beam_search`.
    batch_size : int

    Returns
    -------
    list of str

    Examples
    --------
    >>> model = CTCRecognizer(ASRConfig(n_mels=40, conv_channels=4, hidden=8, n_layers=1))
    >>> hyps = transcribe(model, [torch.randn(30, 40)])
    >>> isinstance(hyps[0], str)
    True
    """
    if not isinstance(model, CTCRecognizer):
        raise TypeError(f"model must be a CTCRecognizer, got {type(model).__name__}")
    if isinstance(feats, Tensor) or not isinstance(feats, Sequence) or not feats:
        raise TypeError("feats must be a non-empty list of (T, F) tensors (one per utterance)")
    if decoder not in ("greedy", "beam"):
        raise ValueError(f"decoder must be 'greedy' or 'beam', got {decoder!r}")
    return decode_log_probs(ctc_log_probs(model, feats, batch_size), decoder=decoder, beam_width=beam_width, lm=lm,
                            alpha=alpha, beta=beta)  # fmt: skip


def decode_log_probs(log_probs: Sequence[Tensor], *, decoder: str = "greedy", beam_width: int = 8,
                     lm: CharNgramLM | None = None, alpha: float = 0.5, beta: float = 0.0) -> list[str]:  # fmt: skip
    """Decode per-utterance ``(T'_i, V)`` log-probabilities (from :func:`ctc_log_probs`) to text.

    Run the network once, then decode with as many settings as you like.

    Examples
    --------
    >>> lp = torch.full((4, len(CHARS)), -9.0).index_put_((torch.arange(4), torch.tensor([9, 0, 17, 0])), torch.tensor(0.0))
    >>> decode_log_probs([lp])   # g - o -
    ['go']
    """
    if decoder not in ("greedy", "beam"):
        raise ValueError(f"decoder must be 'greedy' or 'beam', got {decoder!r}")
    if isinstance(log_probs, Tensor) or not isinstance(log_probs, Sequence) or not log_probs:
        raise TypeError("log_probs must be a non-empty list of (T, V) tensors (one per utterance)")
    texts = []
    for lp in log_probs:
        lp = check_log_probs(lp, "log_probs[i]", ndim=2)
        if decoder == "greedy":
            ids = greedy_decode(lp[:, None])[0]  # (T', V) -> (T', 1, V)
        else:
            ids = prefix_beam_search(lp, beam_width, BLANK, lm=lm, alpha=alpha, beta=beta)
        texts.append(" ".join(ids_to_text(ids).split()))
    return texts


def asr_recipe(fast: bool = True) -> tuple[ASRConfig, CTCTrainConfig]:
    """The model and training configuration module 08 and ``benchmarks/asr.py`` use.

    Both modes build the same recognizer (the architecture of the committed
    checkpoint, :func:`asr_checkpoint_recipe`). FULL trains it for real (5
    epochs over 6000 utterances); FAST is a smoke run of the same loop (a few
    steps on a few utterances: it shows that the loop runs, the evaluated
    model is the checkpoint).

    Examples
    --------
    >>> fast_model, fast_train = asr_recipe(fast=True)
    >>> fast_model == asr_recipe(fast=False)[0], fast_train.max_steps
    (True, 6)
    """
    if not isinstance(fast, bool):
        raise TypeError(f"fast must be a bool, got {type(fast).__name__}")
    model = ASRConfig(n_mels=80, conv_channels=32, hidden=192, n_layers=2, dropout=0.0)
    if fast:
        return model, CTCTrainConfig(epochs=1, batch_size=4, lr=3e-3, freq_mask=8, time_mask=10, max_steps=6, seed=0)
    return model, CTCTrainConfig(epochs=5, batch_size=32, lr=3e-3, freq_mask=8, time_mask=10, seed=0)


#: Sizes of the recognizer's data: train utterances generated for FULL (train speakers, mixed conditions)
#: and test utterances per slice.
ASR_DATA_SIZES = {"fast": {"train": 0, "dev": 20, "test": 60}, "full": {"train": 6000, "dev": 200, "test": 400}}


def asr_datasets(fast: bool = True, *, progress: bool = False) -> dict:
    """Train and test sets for the recognizer (generated once, then cached).

    - ``train``: sentences by the *train* speakers of the default speaker
      split, mixed recording conditions (clean, noisy, far-field, telephone,
      devices): FULL generates 6000 (seed 2); FAST keeps the train speakers'
      clips of the cached ``default_dataset("sentences")``;
    - ``test_clean``: unseen (*test*) speakers, clean condition, seed 1;
    - ``test_noisy``: the same speakers and sentences as ``test_clean``'s
      seed, at 10 dB SNR in a reverberant room (``default_dataset("sentences_test")``);
    - ``dev_clean`` and ``dev_noisy``: the same two conditions spoken by the
      *dev* speakers (seed 3), for choosing decoder settings without
      looking at the test speakers.

    Examples
    --------
    >>> sorted(ASR_DATA_SIZES["full"])
    ['dev', 'test', 'train']
    """
    from course_lib.data.corpus import default_dataset, sentence_dataset
    from course_lib.data.splits import default_speaker_split

    if not isinstance(fast, bool):
        raise TypeError(f"fast must be a bool, got {type(fast).__name__}")
    sizes = ASR_DATA_SIZES["fast" if fast else "full"]
    if fast:
        pool = default_dataset("sentences", fast=True, progress=progress)
        train = pool.subset(pool.metadata["speaker"].isin(default_speaker_split()["train"]).to_numpy())
    else:
        train = sentence_dataset(sizes["train"], seed=2, conditions="mixed", speakers="train", progress=progress)
    return {
        "train": train,
        "test_clean": sentence_dataset(sizes["test"], seed=1, conditions="clean", speakers="test", progress=progress),
        "test_noisy": default_dataset("sentences_test", fast=fast, progress=progress),
        "dev_clean": sentence_dataset(sizes["dev"], seed=3, conditions="clean", speakers="dev", progress=progress),
        "dev_noisy": sentence_dataset(sizes["dev"], seed=3, conditions="clean", snr_db=10.0, room="reverberant",
                                      speakers="dev", progress=progress),
    }


def tune_decoder(model: CTCRecognizer, dev: dict, lm: CharNgramLM, config: DecoderConfig = DecoderConfig(), *,
                 alphas: Sequence[float] = (0.5, 1.0), betas: Sequence[float] = (1.0, 3.0),
                 max_utts: int | None = 100) -> tuple[DecoderConfig, "pandas.DataFrame"]:  # fmt: skip
    """Choose the LM weight ``alpha`` and length bonus ``beta`` by CER on dev sets.

    The network runs once per utterance; every ``(alpha, beta)`` pair then
    re-decodes its log-probabilities with prefix beam search.

    Parameters
    ----------
    model : CTCRecognizer
    dev : dict
        Slice name -> :func:`utterance_features` dict (``feats``, ``texts``),
        e.g. clean and noisy dev speakers. The mean CER over slices decides.
    lm : CharNgramLM
    config : DecoderConfig
        Its ``beam_width`` is used; ``alpha``/``beta`` are what gets tuned.
    alphas, betas : sequence of float
    max_utts : int or None
        Use the first ``max_utts`` utterances of each slice (decoding is slow in Python).

    Returns
    -------
    (DecoderConfig, pandas.DataFrame)
        ``config`` with the best ``alpha`` and ``beta``; a table with one row
        per pair, one CER column per slice and ``mean``, best first.

    Examples
    --------
    >>> from course_lib.decoding import CharNgramLM
    >>> model = CTCRecognizer(ASRConfig(n_mels=40, conv_channels=4, hidden=8, n_layers=1))
    >>> dev = {"clean": {"feats": [torch.randn(30, 40)], "texts": ["go"]}}
    >>> best, table = tune_decoder(model, dev, CharNgramLM(order=2).fit(["go", "no"]), alphas=(0.5,), betas=(0.0, 1.0))
    >>> len(table), list(table.columns)
    (2, ['alpha', 'beta', 'clean', 'mean'])
    """
    import pandas as pd

    from course_lib.wer import cer

    if not isinstance(model, CTCRecognizer):
        raise TypeError(f"model must be a CTCRecognizer, got {type(model).__name__}")
    if not isinstance(config, DecoderConfig):
        raise TypeError(f"config must be a DecoderConfig, got {type(config).__name__}")
    if not isinstance(lm, CharNgramLM):
        raise TypeError(f"lm must be a fitted CharNgramLM, got {type(lm).__name__}")
    if not isinstance(dev, dict) or not dev:
        raise ValueError("dev must be a non-empty dict: slice name -> {'feats': [...], 'texts': [...]}")
    for name, d in dev.items():
        if not isinstance(d, dict) or not {"feats", "texts"} <= set(d) or not d["feats"]:
            raise ValueError(f"dev[{name!r}] must be a dict with non-empty 'feats' and 'texts' (see utterance_features)")
    if max_utts is not None:
        check_positive_int(max_utts, "max_utts")
    alphas, betas = [float(a) for a in alphas], [float(b) for b in betas]
    if not alphas or not betas:
        raise ValueError(f"alphas and betas must be non-empty, got {alphas} and {betas}")
    log_probs = {name: ctc_log_probs(model, list(d["feats"][:max_utts])) for name, d in dev.items()}
    rows = []
    for alpha in alphas:
        for beta in betas:
            row = {"alpha": alpha, "beta": beta}
            for name, d in dev.items():
                hyps = decode_log_probs(log_probs[name], decoder="beam", beam_width=config.beam_width, lm=lm,
                                        alpha=alpha, beta=beta)  # fmt: skip
                row[name] = cer(list(d["texts"][: len(hyps)]), hyps)
            row["mean"] = sum(row[name] for name in dev) / len(dev)
            rows.append(row)
    table = pd.DataFrame(rows).sort_values(["mean", "alpha", "beta"], kind="stable").reset_index(drop=True)
    best = table.iloc[0]
    return DecoderConfig(config.beam_width, config.lm_order, float(best["alpha"]), float(best["beta"])), table


def sentence_texts(n_utts: int, seed: int) -> list[str]:
    """The transcripts of ``sentence_dataset(n_utts, seed=seed, ...)``, without synthesising any audio.

    A sentence's text is the first draw of its clip's random generator, so it
    depends on ``(seed, index)`` only (not on speakers or conditions): a
    language model can be fitted on the FULL training transcripts in a FAST run.

    Examples
    --------
    >>> sentence_texts(2, seed=2) == sentence_texts(3, seed=2)[:2]
    True
    """
    import numpy as np

    from course_lib.data.corpus import _TASK_CODE
    from course_lib.data.text import make_sentence

    n_utts = check_positive_int(n_utts, "n_utts")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return [make_sentence(np.random.default_rng([seed, _TASK_CODE["sentences"], i])) for i in range(n_utts)]


def speech_onset(waveform, sample_rate: int = 16000, *, floor_db: float = -30.0, frame_ms: float = 5.0) -> float:
    """Time (s) of the first frame whose energy is within ``floor_db`` of the loudest frame.

    Energy of non-overlapping ``frame_ms`` frames; a simple energy detector for
    clean or moderately noisy speech (leading silence, then the first sound).

    Examples
    --------
    >>> x = torch.cat([torch.zeros(8000), torch.randn(8000)])
    >>> speech_onset(x)
    0.5
    """
    waveform = check_tensor(waveform, "waveform", ndim=1, floating=True)
    hop = max(1, int(round(sample_rate * frame_ms / 1000)))
    n = waveform.shape[0] // hop
    if n < 1:
        raise ValueError(f"waveform must hold at least one {frame_ms} ms frame, got {waveform.shape[0]} samples")
    energy = waveform[: n * hop].reshape(n, hop).double().pow(2).sum(-1)  # (frames,)
    db = 10 * torch.log10(energy / energy.max().clamp_min(1e-20) + 1e-20)
    return float(int((db > floor_db).nonzero()[0]) * hop / sample_rate)


def consonant_onset(waveform, sample_rate: int = 16000, *, floor_db: float = -30.0, voiced_share: float = 0.5,
                    periodicity: float = 0.4, n_fft: int = 256, hop_ms: float = 5.0) -> dict:
    """The word-initial voiceless consonant: from the energy onset to the start of voicing.

    A frame after the onset is voiced when most of its power lies below 500 Hz
    (share >= ``voiced_share``: low harmonics of a vowel or /r/) or when it is
    periodic (normalised autocorrelation >= ``periodicity`` at a lag of a
    60-400 Hz pitch, over 25 ms); a burst or aspiration is neither. The
    spectrum is averaged over the consonant frames only.

    Returns
    -------
    dict
        ``start_s``, ``duration_ms`` and ``centroid_hz`` (power-weighted mean
        frequency of the consonant).

    Examples
    --------
    >>> from course_lib.data.tts import synthesize
    >>> seg = consonant_onset(synthesize("tea"))
    >>> 10 < seg["duration_ms"] < 120 and seg["centroid_hz"] > 2000
    True
    """
    waveform = check_tensor(waveform, "waveform", ndim=1, floating=True)
    hop = int(round(sample_rate * hop_ms / 1000))
    if waveform.shape[0] < n_fft + hop:
        raise ValueError(f"waveform is too short ({waveform.shape[0]} samples) for n_fft={n_fft}")
    x = waveform.double()
    power = torch.fft.rfft(x.unfold(0, n_fft, hop) * torch.hann_window(n_fft, dtype=torch.float64)).abs().pow(2)
    freqs = torch.fft.rfftfreq(n_fft, 1 / sample_rate, dtype=torch.float64)  # power: (frames, n_fft // 2 + 1)
    total = power.sum(-1)
    start = int((10 * torch.log10(total / total.max() + 1e-20) > floor_db).nonzero()[0])
    low = power[:, freqs < 500].sum(-1) / total.clamp_min(1e-20)
    win = int(0.025 * sample_rate)
    frames = nn.functional.pad(x, (0, win)).unfold(0, win, hop)[: power.shape[0]]  # (frames, 25 ms)
    frames = frames - frames.mean(-1, keepdim=True)
    acf = torch.fft.irfft(torch.fft.rfft(frames, n=4 * win).abs().pow(2), n=4 * win)  # autocorrelation per frame
    periodic = acf[:, sample_rate // 400 : sample_rate // 60].max(-1).values / acf[:, 0].clamp_min(1e-20)
    voiced = [k for k in range(start + 1, power.shape[0]) if low[k] >= voiced_share or periodic[k] >= periodicity]
    end = voiced[0] if voiced else power.shape[0]
    spec = power[start:end].sum(0)
    return {"start_s": start * hop / sample_rate, "duration_ms": (end - start) * hop_ms,
            "centroid_hz": float((spec * freqs).sum() / spec.sum())}


def _eval_slices() -> dict:
    """The checkpoint's evaluation slices: FAST corpus clips by speakers the FULL training never heard."""
    from course_lib.data.corpus import default_dataset
    from course_lib.data.splits import default_speaker_split
    pool = default_dataset("sentences", fast=True)
    unseen = ~pool.metadata["speaker"].isin(default_speaker_split()["train"]).to_numpy()
    return {"mixed": pool.subset(unseen), "noisy": default_dataset("sentences_test", fast=True)}


def evaluate_asr_checkpoint(model: CTCRecognizer) -> dict:
    """Greedy CER/WER of a recognizer on the checkpoint's evaluation slices (seconds).

    ``mixed``: the FAST corpus's sentences spoken by *dev* and *test*
    speakers (mixed recording conditions); ``noisy``: unseen *test*
    speakers at 10 dB SNR in a reverberant room (``sentences_test``). The
    FULL training set holds only *train* speakers, so both are unseen.
    """
    from course_lib.data.splits import default_speaker_split
    from course_lib.wer import cer, wer

    if not isinstance(model, CTCRecognizer):
        raise TypeError(f"model must be a CTCRecognizer, got {type(model).__name__}")
    out = {}
    for name, ds in _eval_slices().items():
        if set(ds.metadata["speaker"]) & set(default_speaker_split()["train"]):
            raise RuntimeError(f"evaluation slice {name!r} holds training speakers")
        s = utterance_features(ds, model.config.n_mels)
        hyps = transcribe(model, s["feats"])
        out[f"cer_{name}"] = round(cer(s["texts"], hyps), 4)
        out[f"wer_{name}"] = round(wer(s["texts"], hyps), 4)
        out[f"n_{name}"] = len(hyps)
    return out


def _train_asr_checkpoint(seed: int) -> tuple[CTCRecognizer, dict]:
    """The FULL recipe (as ``benchmarks/asr.py --full``): the trained model and its training figures."""
    from dataclasses import replace

    from course_lib.tooling.runtime import data_cache_dir, seed_everything
    from course_lib.wer import cer

    model_cfg, train_cfg = asr_recipe(fast=False)
    data = asr_datasets(False)
    train = utterance_features(data["train"], model_cfg.n_mels)
    seed_everything(seed)
    model = CTCRecognizer(model_cfg)
    state = data_cache_dir() / f"asr-checkpoint-train-state-seed{seed}.pt"  # resumes an interrupted run
    history = train_ctc(model, train, replace(train_cfg, seed=seed), progress=True, state_path=state)
    state.unlink(missing_ok=True)
    figures = {"train_s": round(history.seconds, 1), "train_steps": history.steps, "threads": torch.get_num_threads(),
               "n_train_utts": len(train["feats"]), "final_epoch_loss": round(history.epoch_loss[-1], 4)}
    for name in ("test_clean", "test_noisy"):  # the FULL test slices (400 utterances each)
        s = utterance_features(data[name], model_cfg.n_mels)
        figures[f"cer_full_{name}"] = round(cer(s["texts"], transcribe(model, s["feats"])), 4)
    return model, figures


def asr_checkpoint_recipe():
    """The committed recognizer (``checkpoints/asr.pt``): the FULL recipe, stored in float16.

    ``course checkpoints asr`` reruns it (about 4-8 minutes on 2 threads; it
    needs ``course data --full``'s recognizer sets); module 08 loads it with
    ``load_checkpoint("asr", CTCRecognizer(asr_recipe(False)[0]))``.
    """
    from course_lib.tooling.checkpoints import CheckpointRecipe

    model_cfg, _ = asr_recipe(fast=False)
    return CheckpointRecipe(
        name="asr",
        description="module 08's CTC recognizer (conv + 2-layer BiGRU, 80 mels), FULL recipe, greedy CER on unseen speakers",
        build=lambda: CTCRecognizer(model_cfg),
        train=_train_asr_checkpoint,
        evaluate=evaluate_asr_checkpoint,
        tolerance=0.02,
        half=True,
    )
