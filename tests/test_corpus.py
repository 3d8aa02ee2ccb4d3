"""The course corpus: datasets, determinism, cache, conditions in the metadata, splits, collation."""
import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.signal import welch
from course_lib.data import corpus
from course_lib.data import text as TEXT
from course_lib.data.text import (
    CHARS,
    ids_to_text,
    normalize_transcript,
    sentence_vocabulary,
    text_to_ids,
)
from course_lib.data.corpus import (
    DEFAULT_DATASETS,
    KEYWORD_CLASSES,
    collate_audio,
    keyword_dataset,
    sentence_dataset,
    sound_dataset,
)
from course_lib.data.sounds import SOUND_CLASSES
from course_lib.data.splits import default_speaker_split, random_split, speaker_split, split_by_speaker, split_by_time

META_COLUMNS = {
    "clip_id", "label", "target", "speaker", "accent", "variant", "family", "pitch", "rate", "condition",
    "device", "gain_db", "room", "rt60_s", "noise", "snr_db", "session", "timestamp", "offset_s", "n_samples",
}  # fmt: skip


def _hash(ds) -> str:
    h = hashlib.sha256()
    for i in range(len(ds)):
        h.update(ds[i]["waveform"].numpy().tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus_cache")


@pytest.fixture(scope="module")
def kws(cache):
    return keyword_dataset(60, seed=0, cache_dir=cache)


# ----------------------------------------------------------------- keywords
def test_keyword_items_and_metadata(kws):
    assert len(kws) == 60 and kws.classes == list(KEYWORD_CLASSES)
    assert len(KEYWORD_CLASSES) == 22 and {"unknown", "silence", "yes", "nine"} <= set(KEYWORD_CLASSES)
    item = kws[0]
    assert set(item) == {"waveform", "sample_rate", "label", "target", "meta"}
    assert item["waveform"].shape == (16000,) and item["waveform"].dtype == torch.float32
    assert item["sample_rate"] == 16000 and KEYWORD_CLASSES[item["target"]] == item["label"]
    meta = kws.metadata
    assert META_COLUMNS <= set(meta.columns) and len(meta) == 60
    assert not meta[sorted(META_COLUMNS - {"snr_db"})].isna().any().any()
    assert (meta["noise"] == "none").eq(meta["snr_db"].isna()).all()  # an SNR exactly where there is noise
    assert meta["clip_id"].is_unique
    assert set(item["meta"]) >= META_COLUMNS
    for i in range(len(kws)):
        w = kws[i]["waveform"]
        assert torch.isfinite(w).all() and float(w.abs().max()) <= 1.0
    words = meta[meta["label"] != "silence"]
    assert (words["speech_s"] > 0.1).all() and (words["offset_s"] + words["speech_s"] <= 1.0 + 1e-9).all()


def test_same_seed_same_bytes_whatever_the_workers(cache, tmp_path, monkeypatch, kws):
    monkeypatch.setattr(corpus, "_CHUNK", 16)  # several chunks, so the pool really runs
    a = keyword_dataset(40, seed=3, cache_dir=tmp_path / "a", n_workers=2)
    b = keyword_dataset(40, seed=3, cache_dir=tmp_path / "b", n_workers=1)
    assert _hash(a) == _hash(b)
    pd.testing.assert_frame_equal(a.metadata, b.metadata)
    c = keyword_dataset(40, seed=4, cache_dir=tmp_path / "a", n_workers=2)
    assert _hash(c) != _hash(a)


def test_cache_is_reused_then_regenerated_on_version_change(tmp_path, monkeypatch):
    ds = keyword_dataset(5, seed=1, conditions="clean", cache_dir=tmp_path)
    h0 = _hash(ds)
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("keywords-")]
    info = json.loads((folder / "info.json").read_text())
    assert info["generator_version"] == corpus.GENERATOR_VERSION
    stamp = (folder / "audio.int16").stat().st_mtime_ns
    again = keyword_dataset(5, seed=1, conditions="clean", cache_dir=tmp_path)
    assert (folder / "audio.int16").stat().st_mtime_ns == stamp and _hash(again) == h0
    del ds, again  # release the memory maps before damaging the file under them
    # a truncated audio file (an interrupted copy) is detected and rebuilt
    with open(folder / "audio.int16", "r+b") as f:
        f.truncate(100)
    rebuilt = keyword_dataset(5, seed=1, conditions="clean", cache_dir=tmp_path)
    assert _hash(rebuilt) == h0
    monkeypatch.setattr(corpus, "GENERATOR_VERSION", corpus.GENERATOR_VERSION + 100)
    newer = keyword_dataset(5, seed=1, conditions="clean", cache_dir=tmp_path)
    folders = [p for p in tmp_path.iterdir() if p.name.startswith("keywords-")]
    assert len(folders) == 2 and len(newer) == 5
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # no temp leftovers


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
    keyword_dataset(2, seed=0, conditions="clean")
    assert any(p.name.startswith("keywords-") for p in (tmp_path / "env").iterdir())


def test_slices_apply_their_conditions(cache):
    tel = keyword_dataset(8, seed=0, conditions="telephone", cache_dir=cache)
    assert (tel.metadata["device"] == "telephone").all()
    for i in range(len(tel)):
        f, p = welch(tel[i]["waveform"].double().numpy(), fs=16000, nperseg=512)
        assert p[f > 4100].sum() / p.sum() < 1e-4
    clean = keyword_dataset(8, seed=0, conditions="clean", cache_dir=cache)
    assert (clean.metadata["noise"] == "none").all() and (clean.metadata["room"] == "dry").all()
    fixed = keyword_dataset(8, seed=0, conditions="clean", snr_db=10.0, room="reverberant", cache_dir=cache)
    assert (fixed.metadata["snr_db"] == 10.0).all() and (fixed.metadata["rt60_s"] >= 0.7).all()
    assert (fixed.metadata["noise"] != "none").all()
    # the noisy version of the same plan is less clean: residual energy where the clean one is quiet
    quiet = clean.metadata["label"] == "silence"
    if quiet.any():
        i = int(np.nonzero(quiet.to_numpy())[0][0])
        assert float(fixed[i]["waveform"].pow(2).mean()) > 10 * float(clean[i]["waveform"].pow(2).mean())


def test_mixed_conditions_cover_every_slice(kws):
    big = kws.metadata
    assert big["condition"].nunique() >= 4
    assert big["device"].nunique() >= 4 and big["noise"].nunique() >= 3


def test_speakers_argument_and_default_split(cache):
    split = default_speaker_split()
    test_ds = keyword_dataset(12, seed=0, speakers="test", cache_dir=cache)
    assert set(test_ds.metadata["speaker"]) <= set(split["test"])
    two = keyword_dataset(6, seed=0, speakers=["spk001", "spk002"], cache_dir=cache)
    assert set(two.metadata["speaker"]) <= {"spk001", "spk002"}
    same = keyword_dataset(6, seed=0, speakers=pd.Series(["spk002", "spk001"]), cache_dir=cache)
    assert _hash(same) == _hash(two)  # the order and container of the ids do not matter
    with pytest.raises(ValueError, match="unknown speaker ids"):
        keyword_dataset(2, speakers=["spk999"], cache_dir=cache)
    with pytest.raises(ValueError, match="default split"):
        keyword_dataset(2, speakers="holdout", cache_dir=cache)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"n_clips": 0}, ValueError, "positive int"),
        ({"n_clips": 2.5}, TypeError, "positive int"),
        ({"n_clips": 2, "seed": -1}, TypeError, "non-negative int"),
        ({"n_clips": 2, "conditions": "loud"}, ValueError, "conditions must be one of"),
        ({"n_clips": 2, "room": "cave"}, ValueError, "room must be one of"),
        ({"n_clips": 2, "snr_db": float("nan")}, ValueError, "finite"),
        ({"n_clips": 2, "cache_dir": 3}, TypeError, "cache_dir must be a path"),
    ],
)
def test_keyword_dataset_bad_input(kwargs, exc, match, tmp_path):
    kwargs.setdefault("cache_dir", tmp_path)
    with pytest.raises(exc, match=match):
        keyword_dataset(kwargs.pop("n_clips"), **kwargs)


# ----------------------------------------------------------------- sentences
def test_normalize_transcript():
    assert normalize_transcript("Hello, World!") == "hello world"
    assert normalize_transcript("Don’t STOP") == "don't stop"
    assert normalize_transcript("'quoted' words") == "quoted words"
    assert normalize_transcript("Ça va à 7") == "ca va a seven"
    assert normalize_transcript("room 101") == "room one hundred one"
    assert normalize_transcript("   ") == ""
    with pytest.raises(TypeError, match="must be a str"):
        normalize_transcript(None)


def test_character_vocabulary_and_ids():
    assert CHARS[0] == "<blank>" and CHARS[1] == " " and CHARS[2] == "'" and len(CHARS) == 29
    text = "what's the time"
    assert ids_to_text(text_to_ids(text)) == text and 0 not in text_to_ids(text)
    with pytest.raises(ValueError, match="outside CHARS"):
        text_to_ids("Hello!")
    with pytest.raises(ValueError, match="ids must be ints"):
        ids_to_text([99])


def test_sentence_vocabulary_and_grammar():
    vocab = sentence_vocabulary()
    assert len(vocab) >= 200
    sentences = [TEXT.make_sentence(s) for s in range(400)]
    used = {w for s in sentences for w in s.split()}
    assert used <= set(vocab)  # the vocabulary lists every word the grammar says
    assert len(used) > 150 and len(set(sentences)) > 300
    assert all(s == normalize_transcript(s) and s for s in sentences)


def test_sentence_dataset(cache):
    ds = sentence_dataset(6, seed=0, cache_dir=cache)
    assert ds.classes == list(CHARS)
    lengths = ds.metadata["n_samples"] / 16000
    assert (lengths > 0.5).all() and (lengths < 8).all()
    for i in range(len(ds)):
        item = ds[i]
        assert item["label"] == normalize_transcript(item["label"])
        assert ids_to_text(item["target"]) == item["label"] and item["target"].dtype == torch.long
        assert item["waveform"].shape[0] == item["meta"]["n_samples"]
    batch = collate_audio([ds[i] for i in range(3)])
    assert batch["target"].shape == (3, int(batch["target_lengths"].max()))
    assert batch["lengths"].tolist() == [ds[i]["waveform"].shape[0] for i in range(3)]
    test_slice = sentence_dataset(3, seed=1, snr_db=10.0, room="reverberant", conditions="clean", cache_dir=cache)
    assert (test_slice.metadata["snr_db"] == 10.0).all() and (test_slice.metadata["room"] == "reverberant").all()


# ----------------------------------------------------------------- sounds
def test_sound_dataset(cache):
    ds = sound_dataset(12, seed=0, cache_dir=cache)
    assert ds.classes == list(SOUND_CLASSES) and len(ds) == 12
    assert (ds.metadata["noise"] != "environment").all()  # no sound hidden in another sound
    for i in range(len(ds)):
        item = ds[i]
        assert item["label"] == SOUND_CLASSES[item["target"]] and item["waveform"].shape == (16000,)


# ----------------------------------------------------------------- collate, subset, splits
def test_collate_audio_pads_and_keeps_lengths(kws):
    items = [kws[i] for i in range(4)]
    items[1] = {**items[1], "waveform": items[1]["waveform"][:9000]}
    b = collate_audio(items)
    assert b["waveform"].shape == (4, 16000) and b["lengths"].tolist() == [16000, 9000, 16000, 16000]
    assert float(b["waveform"][1, 9000:].abs().sum()) == 0.0
    assert b["target"].tolist() == [it["target"] for it in items] and len(b["meta"]) == 4
    loader = torch.utils.data.DataLoader(kws, batch_size=8, collate_fn=collate_audio)
    first = next(iter(loader))
    assert first["waveform"].shape == (8, 16000)


@pytest.mark.parametrize(
    "batch, exc, match",
    [
        ([], ValueError, "non-empty list"),
        ([{"label": "x"}], TypeError, "with a 'waveform'"),
        ([{"waveform": torch.ones(2, 3)}], ValueError, r"1-D float tensor"),
        ([{"waveform": torch.ones(3), "sample_rate": 8000}, {"waveform": torch.ones(3)}], ValueError, "one sample rate"),
    ],
)
def test_collate_bad_input(batch, exc, match):
    with pytest.raises(exc, match=match):
        collate_audio(batch)


def test_subset_and_speaker_disjoint_split(kws):
    parts = split_by_speaker(kws.metadata, (0.6, 0.2, 0.2), seed=0)
    spk = {k: set(kws.metadata["speaker"].iloc[v]) for k, v in parts.items()}
    assert not (spk["train"] & spk["test"]) and not (spk["train"] & spk["dev"]) and not (spk["dev"] & spk["test"])
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(len(kws)))
    train = kws.subset(parts["train"])
    assert len(train) == len(parts["train"])
    assert torch.equal(train[0]["waveform"], kws[int(parts["train"][0])]["waveform"])
    tel = kws.subset(kws.metadata["device"].to_numpy() == "telephone")
    assert set(tel.metadata["device"]) <= {"telephone"}
    with pytest.raises(IndexError):
        kws.subset([len(kws)])
    with pytest.raises(ValueError, match="boolean mask"):
        kws.subset(np.ones(3, dtype=bool))


def test_split_helpers():
    ids = [f"spk{i:03d}" for i in range(128)]
    parts = speaker_split(ids, seed=0)
    assert [len(parts[k]) for k in ("train", "dev", "test")] == [102, 13, 13]
    assert speaker_split(ids, seed=0) == parts and speaker_split(ids, seed=1) != parts
    default = default_speaker_split()
    assert sum(len(v) for v in default.values()) == 128
    meta = pd.DataFrame({"session": np.arange(100) % 10, "speaker": [f"s{i % 7}" for i in range(100)]})
    by_time = split_by_time(meta, (0.8, 0.1, 0.1))
    assert meta["session"].iloc[by_time["train"]].max() < meta["session"].iloc[by_time["test"]].min()
    leaky = random_split(meta, (0.8, 0.1, 0.1), seed=0)
    assert set(meta["speaker"].iloc[leaky["train"]]) & set(meta["speaker"].iloc[leaky["test"]])
    with pytest.raises(ValueError, match="sum to 1"):
        speaker_split(ids, (0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="no 'speaker' column"):
        split_by_speaker(pd.DataFrame({"x": [1]}))
    with pytest.raises(TypeError, match="pandas DataFrame"):
        split_by_speaker({"speaker": ["a"]})


def test_default_sizes_are_consistent():
    for mode in ("fast", "full"):
        assert set(DEFAULT_DATASETS[mode]) == set(corpus.DEFAULT_SIZES[mode])
        for name, kw in DEFAULT_DATASETS[mode].items():
            assert kw["n"] == corpus.DEFAULT_SIZES[mode][name]
    assert corpus.DEFAULT_SIZES["fast"]["keywords"] <= 2000
    assert DEFAULT_DATASETS["fast"]["sentences_test"]["snr_db"] == 10.0
    assert math.isclose(corpus.SAMPLE_RATE, 16000)


def test_build_default_fills_the_cache_then_reuses_it(tmp_path, monkeypatch):
    small = {
        "fast": {
            "keywords": {"task": "keywords", "n": 4, "seed": 0, "conditions": "mixed"},
            "sentences_test": {"task": "sentences", "n": 2, "seed": 1, "conditions": "clean", "snr_db": 10.0,
                               "room": "reverberant", "speakers": "test"},
        }
    }
    monkeypatch.setattr(corpus, "DEFAULT_DATASETS", small)
    lines = []
    out = corpus.build_default(fast=True, echo=lines.append, cache_dir=tmp_path)
    assert set(out) == {"fast/keywords", "fast/sentences_test"} and len(out["fast/keywords"]) == 4
    assert any("generating" in line for line in lines)
    lines.clear()
    corpus.build_default(fast=True, echo=lines.append, cache_dir=tmp_path)
    assert not any("generating" in line for line in lines) and len(lines) == 2
    ds = corpus.default_dataset("sentences_test", fast=True, cache_dir=tmp_path)
    assert set(ds.metadata["speaker"]) <= set(default_speaker_split()["test"])
    with pytest.raises(ValueError, match="name must be one of"):
        corpus.default_dataset("nope", fast=True, cache_dir=tmp_path)


def test_metadata_counts_plot(kws):
    import matplotlib

    matplotlib.use("Agg")
    from course_lib.plots.data import plot_metadata_counts

    ax = plot_metadata_counts(kws.metadata, "device", by="condition")
    assert ax.get_ylabel() == "clips" and len(ax.patches) > 0
    with pytest.raises(ValueError, match="no column"):
        plot_metadata_counts(kws.metadata, "colour")


def test_dataset_pickles_for_dataloader_workers(kws):
    import pickle

    clone = pickle.loads(pickle.dumps(kws))
    assert len(clone) == len(kws) and torch.equal(clone[5]["waveform"], kws[5]["waveform"])
    assert clone[5]["meta"] == kws[5]["meta"]


def test_audio_dataset_validates_its_fields():
    from course_lib.data.corpus import AudioDataset

    meta = pd.DataFrame({"offset": [0, 800], "n_samples": [800, 800], "label": ["yes", "no"], "target": [0, 1]})
    audio = np.zeros(1600, dtype=np.int16)
    with pytest.raises(ValueError, match="sample_rate must be positive, got 0"):
        AudioDataset(audio, meta, ["yes", "no"], "keywords", sample_rate=0)
    with pytest.raises(TypeError, match="metadata must be a pandas.DataFrame"):
        AudioDataset(audio, "meta", ["yes", "no"], "keywords")
    with pytest.raises(ValueError, match="audio must be a 1-D int16 numpy array"):
        AudioDataset(audio.astype(np.float32), meta, ["yes", "no"], "keywords")
    with pytest.raises(ValueError, match="audio holds 800 samples but metadata's offset"):
        AudioDataset(audio[:800], meta, ["yes", "no"], "keywords")
    with pytest.raises(TypeError, match="classes must be a sequence of class names"):
        AudioDataset(audio, meta, "yes no", "keywords")


def test_sentence_dataset_and_ids_to_text_name_their_own_arguments():
    from course_lib.data.corpus import sentence_dataset

    with pytest.raises(ValueError, match="n_utts must be a positive int, got 0"):
        sentence_dataset(0)
    with pytest.raises(TypeError, match="ids must be a sequence of int"):
        TEXT.ids_to_text(None)


def test_audio_dataset_rejects_empty_classes():
    from course_lib.data.corpus import AudioDataset

    meta = pd.DataFrame({"offset": [0], "n_samples": [800], "label": ["yes"], "target": [0]})
    with pytest.raises(ValueError, match="classes is empty"):
        AudioDataset(np.zeros(800, dtype=np.int16), meta, [], "keywords")


def test_cache_folders_are_readable_by_other_users(tmp_path):
    """The grader's sandboxed kernels run as another user: they must read (never write) the cached data."""
    from course_lib.data.corpus import keyword_dataset

    keyword_dataset(4, cache_dir=tmp_path)
    folders = [p for p in tmp_path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert folders and all(p.stat().st_mode & 0o055 == 0o055 for p in folders)
    for p in folders:  # as cached by older versions: owner only
        p.chmod(0o700)
    keyword_dataset(4, cache_dir=tmp_path)
    assert all(p.stat().st_mode & 0o777 == 0o755 for p in folders)
