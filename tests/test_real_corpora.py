"""Real-corpus loaders on small fixture folders in the published layouts (no network)."""
import numpy as np
import pytest
import soundfile as sf
import torch

from course_lib.data.corpus import KEYWORD_CLASSES, collate_audio
from course_lib.data.text import ids_to_text
from course_lib.data.real_corpora import fleurs, librispeech, read_audio, speech_commands
from course_lib.data.splits import split_by_speaker

SR = 16000


def _tone(n, freq=440.0, sr=SR):
    return (0.3 * np.sin(2 * np.pi * freq * np.arange(n) / sr)).astype(np.float32)


@pytest.fixture
def sc_root(tmp_path):
    root = tmp_path / "speech_commands_v0.02"
    files = {
        "yes": ["aaa11111_nohash_0", "aaa11111_nohash_1", "bbb22222_nohash_0"],
        "seven": ["ccc33333_nohash_0", "bbb22222_nohash_1"],
        "marvin": ["ddd44444_nohash_0"],
        "off": ["eee55555_nohash_0"],
    }
    for word, stems in files.items():
        (root / word).mkdir(parents=True)
        for k, stem in enumerate(stems):
            sf.write(root / word / f"{stem}.wav", _tone(12000 + 1000 * k), SR, subtype="PCM_16")
    (root / "validation_list.txt").write_text("yes/bbb22222_nohash_0.wav\n")
    (root / "testing_list.txt").write_text("seven/ccc33333_nohash_0.wav\noff/eee55555_nohash_0.wav\n")
    (root / "_background_noise_").mkdir()
    sf.write(root / "_background_noise_" / "pink.wav", np.random.default_rng(0).normal(0, 0.1, 40 * SR).astype(np.float32), SR)
    return root


def test_speech_commands_subsets_labels_and_speakers(sc_root):
    train = speech_commands(sc_root, "training", n_silence=3)
    words = train.metadata[train.metadata["label"] != "silence"]
    assert sorted(words["clip_id"]) == sorted(
        ["yes/aaa11111_nohash_0.wav", "yes/aaa11111_nohash_1.wav", "seven/bbb22222_nohash_1.wav", "marvin/ddd44444_nohash_0.wav"]
    )
    assert set(words["speaker"]) == {"aaa11111", "bbb22222", "ddd44444"}
    assert (train.metadata["label"] == "silence").sum() == 3
    marvin = train.metadata[train.metadata["word"] == "marvin"].iloc[0]
    assert marvin["label"] == "unknown" and marvin["target"] == KEYWORD_CLASSES.index("unknown")
    assert train.classes == list(KEYWORD_CLASSES)
    for i in range(len(train)):
        item = train[i]
        assert item["waveform"].shape == (SR,) and item["waveform"].dtype == torch.float32  # padded to 1 s
        assert KEYWORD_CLASSES[item["target"]] == item["label"]
    first = train.metadata.index[train.metadata["clip_id"] == "yes/aaa11111_nohash_0.wav"][0]
    ref, _ = sf.read(sc_root / "yes" / "aaa11111_nohash_0.wav", dtype="float32")
    np.testing.assert_allclose(train[int(first)]["waveform"][: ref.shape[0]].numpy(), ref, atol=1e-6)
    test = speech_commands(sc_root, "testing", n_silence=0)
    assert sorted(test.metadata["word"]) == ["off", "seven"]
    val = speech_commands(sc_root, "validation", n_silence=0)
    assert val.metadata["clip_id"].tolist() == ["yes/bbb22222_nohash_0.wav"]
    batch = collate_audio([train[i] for i in range(3)])
    assert batch["waveform"].shape == (3, SR)
    parts = split_by_speaker(train.metadata[train.metadata["speaker"] != "none"], (0.34, 0.33, 0.33))
    assert sum(len(v) for v in parts.values()) == 4


def test_speech_commands_bad_input(sc_root, tmp_path):
    with pytest.raises(ValueError, match="subset must be one of"):
        speech_commands(sc_root, "train")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        speech_commands(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="validation_list.txt is missing"):
        speech_commands(tmp_path / "empty")
    with pytest.raises(TypeError, match="root must be a path"):
        speech_commands(None)


@pytest.fixture
def libri_root(tmp_path):
    root = tmp_path / "LibriSpeech"
    chapters = {("84", "121123"): ["GO DO YOU HEAR", "BUT IN LESS THAN FIVE MINUTES THE STAIRCASE GROANED"],
                ("174", "50561"): ["FORGOTTEN TOO THE NAME OF GILLIAN THE LOVELY CAPTIVE'S"]}
    for (spk, chap), lines in chapters.items():
        d = root / "dev-clean" / spk / chap
        d.mkdir(parents=True)
        trans = []
        for k, text in enumerate(lines):
            utt = f"{spk}-{chap}-{k:04d}"
            sf.write(d / f"{utt}.flac", _tone(SR // 2 + 800 * k), SR, format="FLAC")
            trans.append(f"{utt} {text}")
        (d / f"{spk}-{chap}.trans.txt").write_text("\n".join(trans) + "\n")
    return root


def test_librispeech_fixture(libri_root):
    ds = librispeech(libri_root, "dev-clean")
    assert len(ds) == 3 and set(ds.metadata["speaker"]) == {"84", "174"}
    row = ds.metadata[ds.metadata["clip_id"] == "174-50561-0000"].iloc[0]
    assert row["label"] == "forgotten too the name of gillian the lovely captive's"
    item = ds[int(row.name)]
    assert ids_to_text(item["target"]) == item["label"] and item["sample_rate"] == SR
    ref, _ = sf.read(libri_root / "dev-clean" / "174" / "50561" / "174-50561-0000.flac", dtype="float32")
    np.testing.assert_allclose(item["waveform"].numpy(), ref, atol=1e-6)
    batch = collate_audio([ds[i] for i in range(3)])
    assert batch["target"].shape[0] == 3 and batch["target_lengths"].tolist() == [len(ds[i]["label"]) for i in range(3)]
    with pytest.raises(FileNotFoundError, match="no subset folder"):
        librispeech(libri_root, "test-other")
    (libri_root / "dev-clean" / "84" / "121123" / "84-121123-0001.flac").unlink()
    with pytest.raises(FileNotFoundError, match="is missing"):
        librispeech(libri_root, "dev-clean")


@pytest.fixture
def fleurs_root(tmp_path):
    root = tmp_path / "fleurs"
    audio = root / "en_us" / "audio" / "test"
    audio.mkdir(parents=True)
    rows = [("1001", "10004088536354799741.wav", "The Amazon is 6,387 km long.", "the amazon is 6,387 km long", "_", "32000", "FEMALE"),
            ("1002", "10010144210624453022.wav", "Don't panic!", "don't panic", "_", "16000", "MALE")]
    for r in rows:
        sf.write(audio / r[1], _tone(int(r[5])), SR, subtype="PCM_16")
    (root / "en_us" / "test.tsv").write_text("\n".join("\t".join(r) for r in rows) + "\n")
    return root


def test_fleurs_fixture(fleurs_root):
    ds = fleurs(fleurs_root, "en_us", "test")
    assert len(ds) == 2 and ds.metadata["gender"].tolist() == ["female", "male"]
    assert ds.metadata["label"].tolist()[1] == "don't panic"
    assert ds.metadata["label"].tolist()[0] == "the amazon is six three hundred eighty seven km long"
    item = ds[0]
    assert item["waveform"].shape == (32000,) and item["meta"]["text_raw"] == "The Amazon is 6,387 km long."
    with pytest.raises(ValueError, match="split must be one of"):
        fleurs(fleurs_root, "en_us", "validation")
    with pytest.raises(FileNotFoundError, match="train.tsv is missing"):
        fleurs(fleurs_root, "en_us", "train")
    (fleurs_root / "en_us" / "dev.tsv").write_text("a\tb\n")
    with pytest.raises(ValueError, match="columns"):
        fleurs(fleurs_root, "en_us", "dev")


def test_read_audio_resamples_and_downmixes(tmp_path):
    stereo = np.stack([_tone(8000, 300, 8000), _tone(8000, 300, 8000)], axis=1)
    sf.write(tmp_path / "s.wav", stereo, 8000)
    x = read_audio(tmp_path / "s.wav", 16000)
    assert x.shape == (16000,) and x.dtype == torch.float32
    f = np.fft.rfftfreq(16000, 1 / 16000)[np.argmax(np.abs(np.fft.rfft(x.numpy())))]
    assert abs(f - 300) < 2
    with pytest.raises(FileNotFoundError, match="no audio file"):
        read_audio(tmp_path / "nope.wav")
    with pytest.raises(ValueError, match="positive"):
        read_audio(tmp_path / "s.wav", -1)


def test_read_audio_rejects_negative_start_and_frames(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, np.zeros(1600, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="start must be an int >= 0, got -5"):
        read_audio(path, start=-5)
    with pytest.raises(ValueError, match=r"frames must be -1 \(read to the end\) or a count >= 0, got -7"):
        read_audio(path, frames=-7)
    with pytest.raises(TypeError, match="start must be an int"):
        read_audio(path, start=None)
    assert read_audio(path, start=100, frames=50).shape == (50,)
