"""A bad-input sweep of the whole public ``course_lib`` API (issue 10, section 3).

Every public callable is discovered (``__all__`` where a module defines it,
else the public functions and classes the module defines), so a new public
function without validation at its edge makes this test fail. For each one the
sweep builds bad inputs from its signature, its type hints and its parameter
names, calls it once per bad input (one argument changed at a time from a
valid call where :data:`BASE` has one) and classifies the outcome:

* ``clear``   -- ``ValueError``/``TypeError`` whose message is at least 15
  characters long and names the parameter (as a word) or says ``expected``;
* ``vague``   -- ``ValueError``/``TypeError`` with any other message;
* ``obscure`` -- any other exception (``AssertionError``, ``IndexError``,
  ``ZeroDivisionError``, torch's ``RuntimeError``...);
* ``silent``  -- the call returned normally;
* ``hang``    -- the call ran past :data:`TIMEOUT_S` (stopped by ``SIGALRM``).

The test fails when ``silent``, ``obscure`` or ``hang`` is non-zero or
``clear`` is below 97 %. Run ``python tests/test_bad_input_sweep.py`` for the
full table of every non-clear outcome.
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import math
import pkgutil
import re
import signal
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
import torch

import course_lib

TIMEOUT_S = 10.0  # generous: the machine may be loaded; a hang still fails the test
CLEAR_TARGET = 0.97

# --- what is swept ---------------------------------------------------------------
# Excluded modules: entry points of the tooling that take paths, write files or run
# processes; a bad-input probe there would only test the OS:
#   course_lib.tooling.cli      -- the ``course`` command (argv parsing, subcommands);
#   course_lib.tooling.grading  -- nbgrader release/check/grade: notebooks on disk, kernels;
#   course_lib.tooling.runner   -- papermill execution of notebooks, summary files;
#   course_lib.tooling.checkpoints -- reads/writes checkpoint files and trains the recipes;
#   course_lib.tooling.grade_worker, .sandbox, .tamper -- the grader's internals: a worker
#       process, OS users and namespaces, and the guard run inside learners' kernels; they
#       only ever receive what the grader itself built (tests/test_grading_attacks.py).
EXCLUDED_MODULES = {
    "course_lib.tooling.cli",
    "course_lib.tooling.grading",
    "course_lib.tooling.runner",
    "course_lib.tooling.checkpoints",
    "course_lib.tooling.grade_worker",
    "course_lib.tooling.sandbox",
    "course_lib.tooling.tamper",
}
# Excluded callables in swept modules, each for the same reason (files or processes):
EXCLUDED_CALLABLES = {
    "course_lib.tooling.results.record_full",  # writes the FULL results file
    "course_lib.tooling.results.emit_benchmark",  # prints/writes a benchmark's figures
    "course_lib.tooling.outputcheck.check_notebook_outputs",  # two notebook paths on disk
    "course_lib.tooling.envreport.environment_report",  # runs pip/nvidia-smi subprocesses
    "course_lib.tooling.runtime.repo_root",  # no parameters; the checkout's path
}
# Result records: dataclasses the library *returns* (a learner reads their fields, never
# builds one from data), so they are not an input edge:
RESULT_RECORDS = {
    "course_lib.generalization.Diagnosis", "course_lib.generalization.LearningCurve",
    "course_lib.kws.KWSResult", "course_lib.kws.KWSData", "course_lib.metrics.Interval",
    "course_lib.tooling.outputcheck.Mismatch", "course_lib.wer.EditAlignment",
    "course_lib.speech.VowelSpectrum", "course_lib.training.History", "course_lib.overfit.OverfitReport",
}

# --- probes that are not meaningful for one callable (keep this short) -------------
# (qualified name, parameter) -> (probe kinds that do not apply, why).
_VALUES = ("nan", "inf", "empty", "0d", "int_for_float")
ALLOW: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("course_lib.checks.as_tensor", "x"): (_VALUES, "as_tensor converts; it does not look at values"),
    ("course_lib.checks.check_tensor", "x"): (("int_for_float", "0d"), "any dtype/rank unless told"),
    ("course_lib.checks.check_log_probs", "x"): (("0d",), "any rank unless ndim is given"),
    # element-wise functions: a 0-d or empty tensor is a valid input, sigmoid(inf) = 1
    ("course_lib.losses.sigmoid", "x"): (("empty", "0d", "inf"), "element-wise"),
    ("course_lib.regularization.dropout", "x"): (("empty", "0d"), "element-wise"),
    ("course_lib.regularization.add_gaussian_noise", "x"): (("0d",), "element-wise"),
    ("course_lib.mel.hz_to_mel", "f"): (("empty", "0d", "int_for_float"), "element-wise; Hz may be int"),
    ("course_lib.mel.mel_to_hz", "m"): (("empty", "0d", "int_for_float"), "element-wise"),
    ("course_lib.shapes.assert_shape", "x"): (_VALUES, "assert_shape checks shapes only"),
    ("course_lib.shapes.one_hot", "labels"): (("empty",), "an empty batch has an empty (0, C) encoding"),
    ("course_lib.shapes.embedding_lookup", "labels"): (("empty",), "an empty batch looks up nothing"),
    ("course_lib.data.text.ids_to_text", "ids"): (("empty",), "no ids is the empty transcript"),
    ("course_lib.ctc.ctc_forced_align", "target"): (("empty",), "an empty target aligns to all-blank"),
    ("course_lib.audio.frame", "x"): (("int_for_float",), "framing is dtype-agnostic (int16 PCM too)"),
    # 0/1 targets may be int; labels of a split are any hashable class ids
    ("course_lib.losses.LogisticRegression.gradients", "y"): (("int_for_float",), "0/1 labels may be int"),
    ("course_lib.losses.binary_cross_entropy", "target"): (("int_for_float",), "0/1 targets may be int"),
    ("course_lib.losses.binary_cross_entropy_with_logits", "target"): (("int_for_float",), "0/1 targets"),
    ("course_lib.losses.sigmoid_focal_loss", "target"): (("int_for_float",), "0/1 targets may be int"),
    ("course_lib.generalization.stratified_holdout", "labels"): (_VALUES + ("list_of_str",),
                                                                 "labels are any hashable class ids"),
    ("course_lib.generalization.cycle_to_steps", "X"): (("int_for_float",), "batches are only indexed"),
    ("course_lib.generalization.cycle_to_steps", "y"): (("int_for_float",), "batches are only indexed"),
    # weights read every training step (hot path): types are checked, values are not
    **{(f"course_lib.regularization.{f}", "params"): (("nan", "inf", "empty", "0d"), "hot path: weights")
       for f in ("l1_penalty", "l2_penalty", "elastic_net_penalty", "decoupled_weight_decay_")},
    ("course_lib.optim.clip_grad_norm_", "params"): (_VALUES, "only .grad is read, not the values"),
    # documented: seed=None means seed 0 (generalization._generator)
    ("course_lib.generalization.cycle_to_steps", "seed"): (("none",), "seed None means 0"),
    ("course_lib.regularization.GaussianNoise", "seed"): (("none",), "seed None means 0"),
    # accuracy has no n_classes: any int label is in range; wilson_interval's k counts successes
    ("course_lib.metrics.accuracy", "y_true"): (("label_huge",), "no class count to compare with"),
    ("course_lib.metrics.accuracy", "y_pred"): (("label_huge",), "no class count to compare with"),
    ("course_lib.metrics.wilson_interval", "k"): (("zero",), "0 successes is a valid count"),
    ("course_lib.asr.train_ctc", "state_path"): (("str",), "a path: any str names a (new) state file"),
    # CTC label sequences: an empty one is valid, and without a vocabulary size any id >= 0 is
    **{(f"course_lib.ctc.{f}", p): (("empty", "label_huge"), "no vocabulary size; empty labelling")
       for f, p in (("collapse", "path"), ("extend_with_blanks", "target"), ("min_ctc_frames", "target"),
                    ("count_alignments", "target"), ("enumerate_alignments", "target"))},
    ("course_lib.kws.build_noise_bank", "sound_names"): (("empty",), "no environmental sounds is valid"),
    ("course_lib.plots.evaluation.plot_slice_accuracy", "drop"): (("empty",), "drop nothing"),
}
# un-annotated parameters whose str value is valid (labels and names drawn on a plot)
STR_NAMES = {"title", "label", "xlabel", "ylabel", "units", "name", "text"}

# --- valid base calls: one argument is changed at a time ---------------------------
G = torch.Generator().manual_seed(0)


def _audio(n: int = 1600) -> torch.Tensor:
    return 0.1 * torch.randn(n, generator=torch.Generator().manual_seed(1))


def _log_probs_tv(t: int = 8, v: int = 29) -> torch.Tensor:
    return torch.log_softmax(torch.randn(t, v, generator=torch.Generator().manual_seed(2)), -1)


class _Sounds:
    """A stand-in for the sound dataset (items with ``waveform``, ``metadata['label']``)."""

    def __init__(self, sample_rate: int = 16000) -> None:
        import pandas as pd

        self.sample_rate = sample_rate
        self.metadata = pd.DataFrame({"label": ["rain", "siren"]})

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i):
        return {"waveform": torch.full((100,), 0.1), "target": i}


def _audio_dataset(sample_rate: int = 16000):
    import pandas as pd

    from course_lib.data.corpus import AudioDataset

    meta = pd.DataFrame({"offset": [0, 800], "n_samples": [800, 800], "label": ["yes", "no"], "target": [0, 1]})
    audio = (np.random.default_rng(0).standard_normal(1600) * 1000).astype(np.int16)
    return AudioDataset(audio, meta, ["yes", "no"], "keywords", sample_rate=sample_rate)


def _lr_model():
    from course_lib.losses import LogisticRegression

    return LogisticRegression()


def _ctc_model():
    from course_lib.asr import ASRConfig, CTCRecognizer

    return CTCRecognizer(ASRConfig(n_mels=8, conv_channels=4, hidden=8, n_layers=1, vocab_size=29))


def _ctc_train():
    feats = [torch.randn(40, 8), torch.randn(36, 8)]
    return {"feats": feats, "targets": [torch.tensor([3, 4, 5]), torch.tensor([6, 7])]}


def _tiny_mlp():
    return torch.nn.Sequential(torch.nn.Linear(4, 3))


# name -> factory returning the keyword arguments of a valid, fast call.
BASE: dict[str, Callable[[], dict]] = {
    "course_lib.kws.build_noise_bank": lambda: dict(
        talkers=torch.full((3, 50), 0.1), sounds=_Sounds(), sample_rate=16000, seconds=0.01,
        sound_names=("siren",)),
    "course_lib.models.dataset_features": lambda: dict(dataset=_audio_dataset(), indices=[0, 1]),
    "course_lib.data.corpus.AudioDataset": lambda: dict(
        audio=(np.zeros(1600, dtype=np.int16)), metadata=__import__("pandas").DataFrame(
            {"offset": [0, 800], "n_samples": [800, 800], "label": ["yes", "no"], "target": [0, 1]}),
        classes=["yes", "no"], task="keywords", sample_rate=16000),
    "course_lib.decoding.greedy_decode": lambda: dict(log_probs=_log_probs_tv()[:, None]),
    "course_lib.decoding.prefix_beam_search": lambda: dict(log_probs=_log_probs_tv(), beam_width=2),
    "course_lib.ctc.collapse": lambda: dict(path=[0, 3, 3, 0, 4], blank=0),
    "course_lib.ctc.extend_with_blanks": lambda: dict(target=[3, 4], blank=0),
    "course_lib.ctc.min_ctc_frames": lambda: dict(target=[3, 3], blank=0),
    "course_lib.ctc.count_alignments": lambda: dict(target=[1, 2], T=4, blank=0),
    "course_lib.ctc.enumerate_alignments": lambda: dict(target=[1, 2], T=4, blank=0),
    "course_lib.ctc.ctc_loss": lambda: dict(
        log_probs=torch.log_softmax(torch.randn(6, 2, 5), -1), targets=torch.tensor([[1, 2], [3, 3]]),
        input_lengths=torch.tensor([6, 5]), target_lengths=torch.tensor([2, 2])),
    "course_lib.ctc.ctc_forward": lambda: dict(
        log_probs=torch.log_softmax(torch.randn(6, 2, 5), -1), targets=torch.tensor([[1, 2], [3, 3]]),
        input_lengths=torch.tensor([6, 5]), target_lengths=torch.tensor([2, 2])),
    "course_lib.ctc.ctc_forced_align": lambda: dict(log_probs=torch.log_softmax(torch.randn(6, 5), -1),
                                                   target=torch.tensor([1, 2])),
    "course_lib.data.noise.mix_at_snr": lambda: dict(signal=_audio(), noise=_audio(), snr_db=10.0),
    "course_lib.training.make_optimizer": lambda: dict(params=list(_tiny_mlp().parameters()), name="adam",
                                                       lr=0.01, weight_decay=0.0),
    "course_lib.asr.CTCTrainConfig": lambda: dict(epochs=1, batch_size=2, lr=0.002, weight_decay=0.01),
    "course_lib.augment.SpecAugment": lambda: dict(mask_value=0.0),
    "course_lib.augment.spec_augment": lambda: dict(spec=torch.randn(20, 30), mask_value=0.0, generator=G),
    "course_lib.data.real_corpora.read_audio": lambda: dict(path=_wav_path(), sample_rate=16000, start=0,
                                                            frames=100),
    "course_lib.training.evaluate": lambda: dict(model=_tiny_mlp(), X=torch.randn(5, 4),
                                                 y=torch.tensor([0, 1, 2, 0, 1])),
    "course_lib.losses.LogisticRegression.gradients": lambda: dict(
        X=torch.randn(5, 3), y=torch.tensor([0.0, 1, 1, 0, 1]), w=torch.zeros(3), b=0.0),
    "course_lib.regularization.Mixup.loss": lambda: dict(
        logits=torch.randn(4, 3), y=torch.tensor([0, 1, 2, 0])),
    "course_lib.augment.time_stretch": lambda: dict(x=_audio(), rate=1.2, n_fft=256, hop_length=64),
    "course_lib.asr.train_ctc": lambda: dict(
        model=_ctc_model(), train=_ctc_train(),
        config=__import__("course_lib.asr", fromlist=["x"]).CTCTrainConfig(
            epochs=1, batch_size=1, max_steps=2, spec_augment=False, warmup_frac=0.0),
        progress=False),
    "course_lib.decoding.CharNgramLM.perplexity": lambda: dict(texts=["ab ab"]),
    "course_lib.audio.stft": lambda: dict(x=_audio(), n_fft=64, hop_length=16),
    "course_lib.audio.spectrogram": lambda: dict(x=_audio(), n_fft=64, hop_length=16),
    "course_lib.audio.frame": lambda: dict(x=_audio(), frame_length=64, hop_length=16),
    "course_lib.mel.mel_spectrogram": lambda: dict(x=_audio(), sample_rate=16000, n_fft=128, hop_length=64,
                                                   n_mels=8),
    "course_lib.mel.log_mel": lambda: dict(x=_audio(), sample_rate=16000, n_fft=128, hop_length=64, n_mels=8),
    "course_lib.cepstrum.mfcc": lambda: dict(x=_audio(), sample_rate=16000, n_mfcc=5, n_fft=128,
                                             hop_length=64, n_mels=8),
    "course_lib.metrics.accuracy": lambda: dict(y_true=torch.tensor([0, 1, 1]), y_pred=torch.tensor([0, 1, 0])),
    "course_lib.metrics.confusion_matrix": lambda: dict(y_true=torch.tensor([0, 1, 1]),
                                                        y_pred=torch.tensor([0, 1, 0]), n_classes=2),
    "course_lib.losses.cross_entropy": lambda: dict(logits=torch.randn(3, 4), target=torch.tensor([0, 3, 1])),
    "course_lib.losses.nll_loss": lambda: dict(log_probs=torch.log_softmax(torch.randn(3, 4), -1),
                                               target=torch.tensor([0, 3, 1])),
    "course_lib.shapes.one_hot": lambda: dict(labels=torch.tensor([0, 2]), num_classes=3),
    "course_lib.calibration.expected_calibration_error": lambda: dict(
        probs=torch.softmax(torch.randn(6, 3), -1), labels=torch.tensor([0, 1, 2, 0, 1, 2]), n_bins=4),
    # course_lib.checks: the helpers name the value after their ``name`` argument
    "course_lib.checks.check_instance": lambda: dict(value=1, types=int, name="value"),
    "course_lib.checks.check_labels": lambda: dict(labels=torch.tensor([0, 1]), name="labels", n_classes=2),
    "course_lib.checks.check_log_probs": lambda: dict(x=_log_probs_tv(), name="x"),
    "course_lib.checks.check_int": lambda: dict(value=3, name="value"),
    "course_lib.checks.check_float": lambda: dict(value=0.5, name="value"),
    "course_lib.checks.check_positive_int": lambda: dict(value=3, name="value"),
    "course_lib.shapes.embedding_lookup": lambda: dict(labels=torch.tensor([0, 2]), weight=torch.randn(3, 2)),
    "course_lib.wer.wer": lambda: dict(refs=["a b"], hyps=["a c"]),
    "course_lib.wer.cer": lambda: dict(refs=["a b"], hyps=["a c"]),
    "course_lib.wer.error_counts": lambda: dict(refs=["a b"], hyps=["a c"]),
    # plots: every argument is probed (they were the weakest module)
    "course_lib.plots.asr.plot_ctc_lattice": lambda: dict(alpha=np.zeros((6, 3)), states=["-", "a", "-"]),
    "course_lib.plots.asr.plot_posteriogram": lambda: dict(log_probs=np.log(np.full((5, 3), 1 / 3)),
                                                           labels=["-", "a", "b"], frame_s=0.04, top=2),
    "course_lib.plots.asr.plot_forced_alignment": lambda: dict(spec=np.zeros((8, 10)), path=[0, 1, 1, 0, 2],
                                                               labels=["-", "a", "b"], hop_s=0.01, subsample=2),
    "course_lib.plots.audio.plot_spectrogram": lambda: dict(spec_db=np.zeros((8, 10)), sample_rate=16000,
                                                           hop_length=160),
    "course_lib.plots.audio.plot_energy_decay": lambda: dict(
        rir=__import__("course_lib.data.rooms", fromlist=["x"]).synthetic_rir(0.3, 16000, seed=0), sample_rate=16000),
    "course_lib.plots.calibration.plot_reliability": lambda: dict(
        probs=torch.tensor([[0.9, 0.1], [0.4, 0.6]]), labels=torch.tensor([0, 0]), n_bins=5),
    "course_lib.plots.calibration.plot_confidence_histogram": lambda: dict(
        confidence=np.array([0.9, 0.3]), correct=np.array([True, False]), bins=5),
    "course_lib.plots.data.plot_mask": lambda: dict(mask=torch.tensor([[True, False], [True, True]]),
                                                    lengths=torch.tensor([1, 2])),
    "course_lib.plots.data.plot_metadata_counts": lambda: dict(
        metadata=__import__("pandas").DataFrame({"speaker": ["a", "b"]}), column="speaker"),
    "course_lib.plots.evaluation.plot_confusion_matrix": lambda: dict(cm=np.array([[3.0, 1.0], [0.0, 4.0]]),
                                                                     classes=["a", "b"]),
    "course_lib.plots.evaluation.plot_slice_accuracy": lambda: dict(tables={"run": __import__("pandas").DataFrame(
        {"accuracy": [0.5], "low": [0.4], "high": [0.6]}, index=["clean"])}),
    "course_lib.plots.evaluation.plot_few_shot": lambda: dict(results=__import__("pandas").DataFrame(
        {"labels_per_class": [5], "model": ["m"], "accuracy": [0.5]})),
    "course_lib.plots.training.plot_learning_curve": lambda: dict(
        sizes=np.array([10, 100]), train_err=np.array([0.0, 0.05]), dev_err=np.array([0.5, 0.2]), target_error=0.0),
    "course_lib.plots.training.plot_loss_surface_paths": lambda: dict(
        surface=__import__("course_lib.optim", fromlist=["x"]).ravine,
        paths={"sgd": np.array([[-4.0, 1.0], [-3.0, 0.5]])}, levels=5),
    "course_lib.plots.training.plot_history": lambda: dict(
        history=__import__("course_lib.training", fromlist=["x"]).History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.8])),
    "course_lib.plots.training.plot_curves": lambda: dict(curves={"a": [1.0, 0.5]}, x=np.array([1, 2])),
    "course_lib.plots.training.plot_gradient_clipping": lambda: dict(
        step_loss={"a": [3.0, 2.0]}, step_grad_norm={"a": [1.0, 2.0]}, clip_norm=1.0),
}

_WAV: list = []


def _wav_path():
    if not _WAV:
        import tempfile
        import wave

        d = tempfile.mkdtemp(prefix="sweep_")
        path = f"{d}/a.wav"
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(np.zeros(1600, dtype=np.int16).tobytes())
        _WAV.append(path)
    return _WAV[0]


# extra probes for one callable: name -> list of (kind, parameter, factory of the bad value).
EXTRA: dict[str, list[tuple[str, str, Callable[[], Any]]]] = {
    "course_lib.kws.build_noise_bank": [("sr_mismatch", "sounds", lambda: _Sounds(sample_rate=8000))],
    "course_lib.models.dataset_features": [("sr_mismatch", "dataset", lambda: _audio_dataset(sample_rate=8000))],
    "course_lib.data.noise.mix_at_snr": [("vector_snr", "snr_db", lambda: torch.tensor([0.0, 10.0]))],
    "course_lib.asr.train_ctc": [
        ("label_vocab", "train", lambda: {**_ctc_train(), "targets": [torch.tensor([3, 29]), torch.tensor([6])]}),
    ],
    "course_lib.data.real_corpora.read_audio": [("negative", "start", lambda: -5),
                                                 ("negative", "frames", lambda: -7)],
    "course_lib.ctc.ctc_forced_align": [("len_past_time", "target", lambda: torch.arange(1, 8))],
}

# parameter names whose ints are sizes/counts: 0 and -1 are bad.
SIZE_NAMES = {
    "n_fft", "hop_length", "win_length", "frame_length", "n_mels", "n_mfcc", "sample_rate", "batch_size",
    "k", "beam_width", "n_bins", "epochs", "n_clips", "n_utts", "n", "num_classes", "n_classes",
    "in_features", "hidden", "n_coeffs", "width", "bits", "length", "steps", "orig_sr", "new_sr",
    "n_segments", "half_window", "max_lag", "order", "n_boot", "n_iter", "quantization_channels",
    "n_features", "n_test", "n_speakers", "replicas", "draws", "n_resamples", "total_steps", "step_size",
    "warmup_steps", "chunk", "lm_order", "n_peaks", "T", "frames_per_clip", "n_in",
}
# float hyper-parameters for which NaN and infinity are bad.
FINITE_NAMES = {"lr", "weight_decay", "mask_value"}
# tensors of integer labels/ids: out-of-range values are bad.
LABEL_NAMES = {"labels", "label", "y", "y_true", "y_pred", "target", "targets", "ids", "path"}
LENGTH_NAMES = {"lengths", "input_lengths", "target_lengths"}
TENSOR_NAMES = {
    "x", "waveform", "waveforms", "signal", "audio", "spec", "log_probs", "logits", "probs", "X", "feats",
    "features", "log_mel_spec", "log_magnitude", "frame", "diff", "rir", "noise", "talkers", "waves",
    "scores", "mask", "weight", "cm", "spec_db", "alpha", "xy", "prior", "likelihood", "teacher_logits",
    "codes", "bits", "queries", "keys", "p_log", "q_log", "clip_vectors", "band_means", "confidence",
}


@dataclass
class Probe:
    callable_name: str
    param: str
    kind: str
    outcome: str = ""
    detail: str = ""
    seconds: float = 0.0


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def public_callables() -> list[tuple[str, Any]]:
    """(qualified name, object) of every public callable the sweep covers."""
    out = []
    for info in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        if info.name in EXCLUDED_MODULES or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue  # private modules (e.g. course_lib.plots._validate) are not public API
        mod = importlib.import_module(info.name)
        names = getattr(mod, "__all__", None)
        if names is None:
            names = [k for k, v in vars(mod).items() if not k.startswith("_")
                     and (inspect.isfunction(v) or inspect.isclass(v)) and getattr(v, "__module__", None) == info.name]
        for name in names:
            obj = getattr(mod, name)
            qual = f"{info.name}.{name}"
            if not callable(obj) or qual in EXCLUDED_CALLABLES or qual in RESULT_RECORDS:
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue  # exception types are raised, not called with data
            out.append((qual, obj))
    # methods of classes whose instance the sweep can make (in BASE as Class.method)
    for key in BASE:
        mod_name, cls_name, meth = key.rsplit(".", 2) if key.count(".") >= 3 else (None, None, None)
        if mod_name is None:
            continue
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        cls = getattr(mod, cls_name, None)
        if inspect.isclass(cls):
            out.append((key, (cls, meth)))
    return out


def _annotation(p: inspect.Parameter) -> str:
    a = p.annotation
    return "" if a is inspect.Parameter.empty else (a if isinstance(a, str) else getattr(a, "__name__", str(a)))


def _accepts_none(p: inspect.Parameter) -> bool:
    return p.default is None or "None" in _annotation(p) or "Optional" in _annotation(p)


def _is_tensorish(name: str, p: inspect.Parameter, value) -> bool:
    ann = _annotation(p)
    if "Callable" in ann:
        return False
    return (isinstance(value, (torch.Tensor, np.ndarray)) or "Tensor" in ann or "ndarray" in ann
            or (name in TENSOR_NAMES and not ann))


def _is_size(name: str, p: inspect.Parameter) -> bool:
    ann = _annotation(p)
    return name in SIZE_NAMES and ("int" in ann or not ann) and "float" not in ann


def _bad_tensor_values(value, dtype_probes: bool = True) -> list[tuple[str, Any]]:
    """Value probes built from a valid tensor/array."""
    out = []
    is_np = isinstance(value, np.ndarray)
    t = torch.from_numpy(np.array(value)) if is_np else value.detach().clone()

    def back(x):
        return x.numpy() if is_np else x

    if t.is_floating_point() and t.numel():
        nan = t.clone()
        nan.view(-1)[0] = float("nan")
        inf = t.clone()
        inf.view(-1)[0] = float("inf")
        out += [("nan", back(nan)), ("inf", back(inf))]
        if dtype_probes:
            out.append(("int_for_float", back(t.round().long())))
    elif dtype_probes and not t.is_floating_point() and t.dtype != torch.bool:
        out.append(("float_for_int", back(t.float() + 0.5)))
    out.append(("empty", back(t.reshape(-1)[:0])))
    if t.ndim >= 1:
        out.append(("0d", back(t.reshape(-1)[0].clone())))
    return out


def probes_for(qual: str, obj) -> list[tuple[Probe, Callable[[], Any]]]:
    """Every (probe, thunk) for one callable; the thunk makes and runs the bad call."""
    if isinstance(obj, tuple):  # (class, method)
        cls, meth = obj
        target = getattr(cls, meth)
        static = isinstance(inspect.getattr_static(cls, meth), staticmethod)
        make_self = None if static else {"course_lib.losses.LogisticRegression": _lr_model,
                     "course_lib.regularization.Mixup": lambda: cls(_tiny_mlp()),
                     "course_lib.decoding.CharNgramLM": lambda: cls(order=2).fit(["ab ab", "ba"])}[
            f"{cls.__module__}.{cls.__name__}"]
        module_globals = vars(importlib.import_module(cls.__module__))
    else:
        target, make_self = obj, None
        module_globals = vars(importlib.import_module(obj.__module__))
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    params = [p for p in sig.parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"]
    base_factory = BASE.get(qual) or _auto_base(qual, target, sig, module_globals, make_self)
    if base_factory is None:
        # no valid call known: probe the first required parameter only (type/None/empty),
        # filling the other required parameters with neutral values so the call binds.
        params = [p for p in params if p.default is p.empty][:1]
        if not params:
            return []
        probed = params[:1]
    else:
        probed = params

    def run(param: str, bad) -> Callable[[], Any]:
        def thunk():
            kwargs = base_factory() if base_factory else {}
            if base_factory is None:
                for p in sig.parameters.values():
                    if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) \
                            and p.name not in ("self", param):
                        kwargs[p.name] = _neutral(p, module_globals)
            kwargs[param] = bad() if callable(bad) and getattr(bad, "_lazy", False) else bad
            if make_self is not None:
                return target(make_self(), **kwargs)
            return target(**kwargs)
        return thunk

    out = []
    base_values = {}
    if base_factory is not None:
        base_values = base_factory()
    for p in probed:
        name = p.name
        value = base_values.get(name, p.default if p.default is not p.empty else None)
        ann = _annotation(p)
        tensorish = _is_tensorish(name, p, value)
        kinds: list[tuple[str, Any]] = []
        if isinstance(value, bool) and not ann:
            ann = "bool"  # an un-annotated flag: treated like an annotated one (not probed)
        if "str" not in ann.split(" | ") and ann != "bool" and "Callable" not in ann \
                and not isinstance(value, str) and name not in STR_NAMES:
            kinds.append(("str", "oops"))
            if not _accepts_none(p):
                kinds.append(("none", None))
        if tensorish:
            kinds.append(("list_of_str", ["a", "b"]))
            if isinstance(value, (torch.Tensor, np.ndarray)):
                # plots draw any numeric dtype: int <-> float swaps are not bad input there
                kinds += _bad_tensor_values(value, dtype_probes=not qual.startswith("course_lib.plots."))
                if name in LABEL_NAMES and not torch.as_tensor(value).is_floating_point():
                    kinds.append(("label_-1", _with_first(value, -1)))
                    kinds.append(("label_huge", _with_first(value, 10**6)))
                if name in LENGTH_NAMES:
                    kinds.append(("len_past_time", _with_first(value, 10**6)))
            elif base_factory is None:
                kinds += [("empty", torch.empty(0)), ("nan", torch.full((4,), float("nan")))]
        if isinstance(value, (list, tuple)) and value:
            kinds.append(("empty", type(value)()))
            if name in LABEL_NAMES and isinstance(value[0], int):
                kinds.append(("label_-1", type(value)([-1, *value[1:]])))
                kinds.append(("label_huge", type(value)([10**6, *value[1:]])))
        if _is_size(name, p):
            kinds += [("zero", 0), ("negative", -1)]
        if name in FINITE_NAMES:
            kinds += [("nan", float("nan")), ("inf", float("inf"))]
        for kind, bad in kinds:
            if kind in ALLOW.get((qual, name), ((), ""))[0]:
                continue
            out.append((Probe(qual, name, kind), run(name, bad)))
    for kind, name, factory in EXTRA.get(qual, []):
        lazy = lambda f=factory: f()  # noqa: E731
        lazy._lazy = True
        out.append((Probe(qual, name, kind), run(name, lazy)))
    return out


# Modules of pure numeric functions: where no BASE entry exists, the neutral values of the
# required parameters (audio-like names get 0.1 s of noise) are tried as a base call; if that
# call succeeds, every parameter is probed from it (not only the first).
AUTO_BASE_MODULES = {
    "course_lib.audio", "course_lib.mel", "course_lib.cepstrum", "course_lib.pitch", "course_lib.augment",
    "course_lib.data.noise", "course_lib.data.rooms", "course_lib.data.devices", "course_lib.normalization",
    "course_lib.regularization", "course_lib.losses", "course_lib.shapes", "course_lib.optim",
    "course_lib.generalization", "course_lib.metrics", "course_lib.calibration", "course_lib.ctc",
    "course_lib.decoding", "course_lib.wer", "course_lib.data.text", "course_lib.data.splits",
    "course_lib.tooling.claims", "course_lib.tooling.outputcheck",
}


def _auto_base(qual, target, sig, module_globals, make_self):
    if qual.rsplit(".", 1)[0] not in AUTO_BASE_MODULES or make_self is not None:
        return None
    if signal.getsignal(signal.SIGALRM) is not _alarm:  # only inside run_sweep (needs the timeout)
        return None
    required = [p for p in sig.parameters.values()
                if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not required:
        return None

    def factory():
        return {p.name: _neutral(p, module_globals) for p in required}

    if _call(lambda: target(**factory())) is not None:
        return None  # the neutral call is not a valid one: fall back to first-parameter probes
    return factory


def _with_first(value, v):
    if isinstance(value, np.ndarray):
        out = value.copy()
        out.reshape(-1)[0] = v
        return out
    out = value.clone()
    out.view(-1)[0] = v
    return out


def _neutral(p: inspect.Parameter, module_globals: dict):
    """A harmless value for a required parameter that is not under test."""
    ann = _annotation(p)
    name = p.name
    if name == "generator":
        return torch.Generator().manual_seed(0)
    if name == "seed":
        return 0
    if name == "name":
        return "value"
    cls = module_globals.get(ann.split(" | ")[0]) if ann else None
    if inspect.isclass(cls) and cls.__module__.startswith("course_lib"):
        with contextlib.suppress(Exception):
            return cls()
    if name in {"x", "waveform", "signal", "audio", "noise"}:
        return 0.1 * torch.randn(1600, generator=torch.Generator().manual_seed(3))
    if name in SIZE_NAMES or ann == "int":
        return 16000 if "sample_rate" in name else 4
    if "float" in ann:
        return 0.5
    if ann == "str":
        return "a"
    if ann == "bool":
        return False
    return torch.zeros(4)


def classify(exc: BaseException | None, param: str) -> tuple[str, str]:
    if exc is None:
        return "silent", "returned normally"
    if isinstance(exc, _Timeout):
        return "hang", f"ran past {TIMEOUT_S} s"
    msg = str(exc)
    kind = type(exc).__name__
    if isinstance(exc, (ValueError, TypeError)):
        names = {param, param.replace("_", " "), param.replace("_", "-")}
        named = any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", msg) for n in names)
        if len(msg) >= 15 and (named or "expected" in msg.lower()):
            return "clear", f"{kind}: {msg[:160]}"
        return "vague", f"{kind}: {msg[:160]}"
    return "obscure", f"{kind}: {msg[:160]}"


def _call(thunk) -> BaseException | None:
    """Run one bad call under the per-call timeout; return what it raised (None: it returned)."""
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT_S)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            thunk()
    except _Timeout as e:
        return e
    except Exception as e:  # noqa: BLE001 -- classified by the caller
        return e
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return None


def run_sweep() -> tuple[list[Probe], int]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import os
    import tempfile

    # Lazy imports inside the library are done here, before the timer runs: a timeout that
    # interrupts an import half-way would leave the module broken for every later call.
    for name in ("scipy.signal", "scipy.special", "scipy.optimize", "scipy.fft", "pandas", "soundfile",
                 "matplotlib.patches", "tqdm.auto", "nbformat", "sympy"):  # torch imports sympy lazily
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    callables = public_callables()
    results: list[Probe] = []
    old = signal.signal(signal.SIGALRM, _alarm)
    cwd = os.getcwd()
    scratch = tempfile.mkdtemp(prefix="sweep_cwd_")
    os.chdir(scratch)  # a bad call that writes a file writes it here, not in the checkout
    try:
        for qual, obj in callables:
            for probe, thunk in probes_for(qual, obj):
                t0 = time.perf_counter()
                exc = _call(thunk)
                if isinstance(exc, _Timeout):  # a first call may pay for a lazy import: retry once
                    exc = _call(thunk)
                probe.outcome, probe.detail = classify(exc, probe.param)
                probe.seconds = time.perf_counter() - t0
                results.append(probe)
                plt.close("all")
    finally:
        signal.signal(signal.SIGALRM, old)
        os.chdir(cwd)
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return results, len(callables)


def summarize(results: list[Probe], n_callables: int) -> str:
    counts = Counter(r.outcome for r in results)
    total = len(results)
    lines = [f"bad-input sweep: {total} probes over {n_callables} public callables "
             f"({len({r.callable_name for r in results})} probed)"]
    for k in ("clear", "vague", "obscure", "silent", "hang"):
        lines.append(f"  {k:8s} {counts.get(k, 0):5d}  {100 * counts.get(k, 0) / max(total, 1):5.1f} %")
    return "\n".join(lines)


def _report(results: list[Probe]) -> str:
    bad = [r for r in results if r.outcome != "clear"]
    return "\n".join(f"  [{r.outcome}] {r.callable_name}({r.param}) {r.kind}: {r.detail}" for r in bad)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM for the per-call timeout")
def test_bad_input_sweep(tmp_path):
    # In a child process: a probe may change global state (seeds, threads, a module whose lazy
    # import a timeout interrupted), which must not leak into the other tests of the session.
    import json
    import os
    import subprocess

    t0 = time.perf_counter()
    out = tmp_path / "sweep.json"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    for _attempt in range(2):  # once more if native code under the per-call alarm killed the child
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--json", str(out)], cwd=root, env=env,
                              capture_output=True, text=True, timeout=900)
        if proc.returncode >= 0:
            break
    assert proc.returncode == 0, f"the sweep itself crashed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    data = json.loads(out.read_text())
    results, n_callables = [Probe(**r) for r in data["probes"]], data["callables"]
    seconds = time.perf_counter() - t0
    summary = summarize(results, n_callables)
    print(summary + f"\n  ({seconds:.1f} s)")
    counts = Counter(r.outcome for r in results)
    assert len(results) > 500, "the sweep found too few probes: discovery is broken"
    worst = [r for r in results if r.outcome in ("silent", "obscure", "hang")]
    assert not worst, f"{summary}\nsilent/obscure/hang outcomes:\n{_report(worst)}"
    share = counts["clear"] / len(results)
    assert share >= CLEAR_TARGET, f"{summary}\nclear {share:.1%} < {CLEAR_TARGET:.0%}:\n{_report(results)}"


def test_sweep_discovers_a_new_unvalidated_function(monkeypatch):
    """A public function added without validation makes the sweep report it."""
    import course_lib.audio as audio

    def loud(x, n_fft: int = 4):
        """No validation at all."""
        return x * 2

    monkeypatch.setattr(audio, "loud", loud, raising=False)
    monkeypatch.setattr(audio, "__all__", [*audio.__all__, "loud"])
    names = dict(public_callables())
    assert "course_lib.audio.loud" in names
    outcomes = {}
    for probe, thunk in probes_for("course_lib.audio.loud", loud):
        try:
            thunk()
            outcomes[probe.kind] = "silent"
        except Exception as e:  # noqa: BLE001
            outcomes[probe.kind] = classify(e, probe.param)[0]
    assert outcomes["nan"] == "silent" and outcomes["empty"] == "silent"


def test_classify_is_strict():
    assert classify(ValueError("n_fft must be a positive int, got 0"), "n_fft")[0] == "clear"
    assert classify(ValueError("bad value"), "n_fft")[0] == "vague"
    assert classify(ValueError("expected a tensor, got str"), "x")[0] == "clear"
    assert classify(TypeError("fx must be an int in Hz"), "x")[0] == "vague"  # 'x' inside a word
    assert classify(AssertionError("n_fft"), "n_fft")[0] == "obscure"
    assert classify(None, "x")[0] == "silent"


if __name__ == "__main__":
    t0 = time.perf_counter()
    res, n = run_sweep()
    if "--json" in sys.argv:
        import dataclasses
        import json

        with open(sys.argv[sys.argv.index("--json") + 1], "w") as fh:
            json.dump({"callables": n, "probes": [dataclasses.asdict(r) for r in res]}, fh)
        sys.exit(0)
    print(summarize(res, n), f"({time.perf_counter() - t0:.1f} s)")
    print(_report(res))
    print("slowest probes (work done before validation shows here):")
    for r in sorted(res, key=lambda r: -r.seconds)[:8]:
        print(f"  {r.seconds:6.2f} s  {r.callable_name}({r.param}) {r.kind}: {r.outcome}")
    by_module = Counter()
    clear_by_module = Counter()
    for r in res:
        m = r.callable_name.rsplit(".", 1)[0]
        by_module[m] += 1
        clear_by_module[m] += r.outcome == "clear"
    for m in sorted(by_module):
        print(f"{m:40s} {clear_by_module[m]:4d}/{by_module[m]:4d}")
    sys.exit(0)
