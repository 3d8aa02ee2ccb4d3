"""Transcripts and sentences: normalisation, the CTC character vocabulary, the sentence grammar.

* :data:`CHARS` (blank id 0, space, apostrophe, a-z), :func:`text_to_ids`,
  :func:`ids_to_text`;
* :func:`normalize_transcript`: lower case, digits spelled out, punctuation
  removed -- apply it to references and hypotheses before scoring WER;
* :func:`make_sentence` draws a sentence of the course's small command grammar,
  :func:`sentence_vocabulary` lists its words.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Callable, Sequence
import numpy as np
import torch
from course_lib.data.noise import _rng

__all__ = [
    "CHARS",
    "BLANK",
    "normalize_transcript",
    "text_to_ids",
    "ids_to_text",
    "sentence_vocabulary",
    "make_sentence",
]


COMMANDS: tuple[str, ...] = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
DIGITS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: CTC character vocabulary: blank (id 0), space, apostrophe, a-z.
CHARS: tuple[str, ...] = ("<blank>", " ", "'") + tuple("abcdefghijklmnopqrstuvwxyz")
#: Index of the CTC blank in :data:`CHARS`.
BLANK = 0
_CHAR_ID = {c: i for i, c in enumerate(CHARS)}


# --------------------------------------------------------------------------- text
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()  # fmt: skip
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + _number_words(rest))
    return " ".join(_ONES[int(d)] for d in str(n))


def normalize_transcript(text: str) -> str:
    """Lower-case letters, apostrophes and single spaces only (numbers spelled out).

    Accents are stripped, curly apostrophes straightened, integers below 1000
    spelled as words (larger ones digit by digit), everything else becomes a
    space.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Only characters of :data:`CHARS` (without the blank).

    Examples
    --------
    >>> normalize_transcript("  Turn ON the Café's lights, 25 times!")
    "turn on the cafe's lights twenty five times"
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.lower()
    text = re.sub(r"\d+", lambda m: " " + _number_words(int(m.group())) + " ", text)
    text = re.sub(r"[^a-z' ]+", " ", text)
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)  # quotes, not apostrophes inside words
    return " ".join(text.split())


def text_to_ids(text: str) -> list[int]:
    """Encode a normalized transcript as :data:`CHARS` ids (no blanks).

    Examples
    --------
    >>> text_to_ids("it's a")
    [11, 22, 2, 21, 1, 3]
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    bad = sorted({c for c in text if c not in _CHAR_ID or c == CHARS[BLANK]})
    if bad:
        raise ValueError(f"text has characters outside CHARS: {bad}; run normalize_transcript first")
    return [_CHAR_ID[c] for c in text]


def ids_to_text(ids: Sequence[int] | torch.Tensor) -> str:
    """Decode :data:`CHARS` ids to text, dropping blanks (no CTC collapsing).

    Examples
    --------
    >>> ids_to_text([11, 22, 0, 2, 21])
    "it's"
    """
    if isinstance(ids, torch.Tensor):
        ids = ids.tolist()
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
        raise TypeError(f"ids must be a sequence of int or an int tensor, got {type(ids).__name__}")
    out = []
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < len(CHARS):
            raise ValueError(f"ids must be ints in [0, {len(CHARS) - 1}], got {i!r}")
        if i != BLANK:
            out.append(CHARS[i])
    return "".join(out)


_W = {
    "room": "kitchen bedroom bathroom garage office hallway garden basement attic lounge".split(),
    "appliance": "lights lamp heater fan television radio oven kettle speaker computer dishwasher washer".split(),
    "unit": "minutes seconds hours".split(),
    "genre": "jazz rock classical pop country blues reggae folk piano dance".split(),
    "name": "anna peter maria david sarah james laura michael emma thomas lucy robert sofia daniel grace oliver".split(),
    "city": "paris london tokyo berlin madrid boston chicago sydney toronto dublin rome seattle".split(),
    "day": "today tomorrow tonight monday tuesday wednesday thursday friday saturday sunday".split(),
    "chore": ["buy milk", "water the plants", "call the doctor", "take the medicine", "feed the cat",
              "pay the bills", "book a table", "check the mail", "walk the dog", "clean the car"],
    "food": "coffee tea pizza bread cheese apples oranges soup salad sandwich water juice cake rice pasta".split(),
    "color": "red blue green yellow black white orange purple brown grey".split(),
    "object": "box book chair cup bag door window key phone pen table bottle".split(),
    "verb": ["open", "close", "move", "bring", "find", "clean", "pick up", "put down", "hold", "paint"],
    "adj": "big small old new quiet loud warm cold bright dark heavy happy quick little".split(),
    "agent": "dog cat bird boy girl man woman child teacher doctor driver farmer".split(),
    "past": "found saw moved carried painted cleaned dropped opened closed liked".split(),
    "place": "park station market school library river beach hospital church museum bank airport".split(),
    "prep": "near behind inside under beside".split(),
}  # fmt: skip


def _pick(rng: np.random.Generator, key: str) -> str:
    words = _W[key]
    return words[int(rng.integers(len(words)))]


def _digit_string(rng: np.random.Generator) -> str:
    return " ".join(DIGITS[int(d)] for d in rng.integers(0, 10, size=int(rng.integers(3, 8))))


_TEMPLATES: tuple[Callable[[np.random.Generator], str], ...] = (
    lambda r: f"turn {'on' if r.random() < 0.5 else 'off'} the {_pick(r, 'room')} {_pick(r, 'appliance')}",
    lambda r: f"set a timer for {_number_words(int(r.integers(2, 60)))} {_pick(r, 'unit')}",
    lambda r: f"set the heater to {_number_words(int(r.integers(15, 30)))} degrees",
    lambda r: f"play some {_pick(r, 'genre')} music in the {_pick(r, 'room')}",
    lambda r: f"call {_pick(r, 'name')} {_pick(r, 'day')}",
    lambda r: f"what is the weather in {_pick(r, 'city')} {_pick(r, 'day')}",
    lambda r: f"what's the time in {_pick(r, 'city')}",
    lambda r: f"remind me to {_pick(r, 'chore')} at {_number_words(int(r.integers(1, 13)))} o'clock",
    lambda r: f"my number is {_digit_string(r)}",
    lambda r: f"dial {_digit_string(r)}",
    lambda r: _digit_string(r),
    lambda r: f"the {_pick(r, 'adj')} {_pick(r, 'agent')} {_pick(r, 'past')} the {_pick(r, 'color')} {_pick(r, 'object')}",
    lambda r: f"the {_pick(r, 'agent')} {_pick(r, 'past')} a {_pick(r, 'object')} {_pick(r, 'prep')} the {_pick(r, 'place')}",
    lambda r: f"please {_pick(r, 'verb')} the {_pick(r, 'color')} {_pick(r, 'object')}",
    lambda r: f"i'd like some {_pick(r, 'food')} please",
    lambda r: f"don't forget the {_pick(r, 'food')} {_pick(r, 'day')}",
    lambda r: f"it's {_pick(r, 'adj')} in the {_pick(r, 'place')} {_pick(r, 'day')}",
    lambda r: f"let's go to the {_pick(r, 'place')} with {_pick(r, 'name')}",
    lambda r: f"{_pick(r, 'name')} and {_pick(r, 'name')} went to {_pick(r, 'city')}",
    lambda r: f"{' '.join(COMMANDS[int(i)] for i in r.integers(0, 10, size=2))} {_pick(r, 'verb')} it",
)


def make_sentence(seed: int | np.random.Generator) -> str:
    """Draw one sentence from the course's grammar (already normalized).

    Examples
    --------
    >>> s = make_sentence(0)
    >>> s == normalize_transcript(s)
    True
    """
    rng = _rng(seed)
    return normalize_transcript(_TEMPLATES[int(rng.integers(len(_TEMPLATES)))](rng))


def sentence_vocabulary() -> list[str]:
    """Every word the sentence grammar can produce, sorted.

    Examples
    --------
    >>> len(sentence_vocabulary()) >= 200
    True
    """
    words: set[str] = set()
    for lst in _W.values():
        for item in lst:
            words.update(item.split())
    words.update(DIGITS)
    words.update(COMMANDS)
    words.update(_number_words(n) for n in range(1, 60) if " " not in _number_words(n))
    words.update(_TENS[2:])
    template_words = ("turn the set a timer for heater to degrees play some music in call what is weather what's time "
                      "remind me at o'clock my number dial please i'd like don't forget it's let's go with and went "
                      "it on off").split()  # fmt: skip
    words.update(template_words)
    return sorted(words)
