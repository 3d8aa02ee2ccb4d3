"""The course's speech data, made offline: voices, sentences, recording conditions, corpora, splits.

* :mod:`~course_lib.data.tts` -- espeak-ng voices and the course's speakers;
* :mod:`~course_lib.data.text` -- transcripts, the character vocabulary, the sentence grammar;
* :mod:`~course_lib.data.noise`, :mod:`~course_lib.data.rooms`,
  :mod:`~course_lib.data.devices`, :mod:`~course_lib.data.conditions` -- how a
  clip is recorded (noise at an SNR, a room, a microphone or telephone line, a session);
* :mod:`~course_lib.data.sounds` -- synthesized environmental sounds;
* :mod:`~course_lib.data.corpus` -- the keyword, sentence and sound datasets and their cache;
* :mod:`~course_lib.data.real_corpora` -- loaders for real corpora kept in a local folder;
* :mod:`~course_lib.data.splits` -- speaker-, device-, room- and time-based splits.
"""
