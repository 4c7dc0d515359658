#!/usr/bin/env python3
"""Coverage-guided fuzzing (atheris + libFuzzer) of every reader of untrusted input.

    python bench/fuzz/fuzz_readers.py TARGET [libFuzzer options] [CORPUS_DIR ...]
    python bench/fuzz/fuzz_readers.py TARGET --replay FILE ...     # no fuzzing

Targets:

``bin``     ``read_word2vec(binary=True)`` (also with ``limit``)
``txt``     ``read_word2vec(binary=False)`` (also ``unicode_errors='replace'``)
``model``   ``load_model`` (mapped and in memory), ``read_model_header``
``detect``  ``detect_format``, ``info`` and ``load`` with the format detected
``corpus``  the corpus tokenizer/encoder: ``TokenTable`` counting any bytes in any
            chunking, checked against ``bytes.split`` + ``collections.Counter``; then
            ``vocab.build`` on the bytes as a corpus file (plain or, by magic bytes,
            .gz/.bz2/.xz), with pruning and min_count drawn from the input

A reader may return or raise :class:`w2v.errors.FormatError` (corpus:
:class:`w2v.errors.CorpusError`); any other exception, a wrong count, a crash, a hang
(``-timeout``) or memory beyond ``-rss_limit_mb`` is a finding, which libFuzzer
saves as ``crash-*``/``timeout-*``/``oom-*``. The Python code of ``w2v`` is
instrumented for coverage; the compiled ``_text``/``_core`` extensions are not (they
are exercised as black boxes, checked by the oracle). See bench/fuzz/README.md.
"""
import atexit
import collections
import os
import shutil
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["w2v"]):
    from w2v import TrainConfig, _text, io, vocab
    from w2v.errors import CorpusError, FormatError

# libFuzzer ends the process with _exit on a finding: run.sh removes the folder then
SCRATCH = os.environ.get("W2V_FUZZ_SCRATCH") or tempfile.mkdtemp(
    prefix="w2v-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
PATH = os.path.join(SCRATCH, "input")
atexit.register(shutil.rmtree, SCRATCH, True)


def _write(data: bytes) -> str:
    with open(PATH, "wb") as f:
        f.write(data)
    return PATH


def _quietly(*calls) -> None:
    """Run each call; a FormatError is an accepted answer, anything else propagates."""
    for call in calls:
        try:
            result = call()
            if hasattr(result, "input_vectors"):
                float(result.input_vectors.sum())        # touch the mapped arrays
        except FormatError as e:
            if "\n" in str(e):
                raise AssertionError(f"multi-line error message: {e!r}") from None


def fuzz_bin(data: bytes) -> None:
    path = _write(data)
    _quietly(lambda: io.read_word2vec(path, binary=True),
             lambda: io.read_word2vec(path, binary=True, limit=1, unicode_errors="replace"))


def fuzz_txt(data: bytes) -> None:
    path = _write(data)
    _quietly(lambda: io.read_word2vec(path, binary=False),
             lambda: io.read_word2vec(path, binary=False, limit=1, unicode_errors="replace"))


def fuzz_model(data: bytes) -> None:
    path = _write(data)
    _quietly(lambda: io.load_model(path), lambda: io.load_model(path, mmap=False),
             lambda: io.read_model_header(path))


def fuzz_detect(data: bytes) -> None:
    path = _write(data)
    _quietly(lambda: io.detect_format(path), lambda: io.info(path), lambda: io.load(path))


def _expected_counts(data: bytes, max_word_bytes: int):
    """The tokenizer's contract: tokens split on ASCII whitespace, cut to max_word_bytes
    at a UTF-8 character boundary."""
    tokens = []
    for t in data.split():
        if len(t) > max_word_bytes:
            k = max_word_bytes
            while k > 0 and (t[k] & 0xC0) == 0x80:
                k -= 1
            t = t[:k if k > 0 else max_word_bytes]
        tokens.append(t)
    return collections.Counter(tokens), len(tokens)


def fuzz_corpus(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    chunk = fdp.ConsumeIntInRange(1, 64)
    max_word_bytes = fdp.ConsumeIntInRange(1, 40)
    max_entries = fdp.ConsumeIntInRange(0, 8)          # 0: unbounded
    min_count = fdp.ConsumeIntInRange(1, 3)
    text = fdp.ConsumeBytes(fdp.remaining_bytes())

    table = _text.TokenTable(max_word_bytes, max_entries)
    for s in range(0, len(text), chunk):
        table.feed(text[s:s + chunk])
        if max_entries and len(table) > max_entries:
            raise AssertionError(f"table has {len(table)} entries, max {max_entries}")
    table.finish()
    expected, n_tokens = _expected_counts(text, max_word_bytes)
    words, counts = table.entries()
    got = dict(zip(words, counts.tolist()))
    if table.tokens != n_tokens:
        raise AssertionError(f"{table.tokens} tokens counted, {n_tokens} in the text")
    if table.prunes == 0 and got != dict(expected):
        raise AssertionError(f"counts {got} != {dict(expected)}")
    if any(c > expected[w] for w, c in got.items()):
        raise AssertionError("pruning over-counted a word")

    path = _write(text)
    config = TrainConfig(min_count=min_count, max_word_bytes=max_word_bytes,
                         max_vocab_size=max_entries or None, max_sentence_length=chunk)
    try:
        v, encoded = vocab.build(path, config)
    except CorpusError as e:
        if "\n" in str(e):
            raise AssertionError(f"multi-line error message: {e!r}") from None
        return
    total = int(v.counts.sum())     # pruned counts are lower bounds: encoding sees every token
    if not (len(v) and (encoded.n_words >= total if v.pruned else encoded.n_words == total)
            and encoded.sentence_starts[-1] == encoded.n_words
            and encoded.n_words <= n_tokens and encoded.ids.max() < len(v)):
        raise AssertionError("encoded corpus does not match the vocabulary counts")


TARGETS = {"bin": fuzz_bin, "txt": fuzz_txt, "model": fuzz_model, "detect": fuzz_detect,
           "corpus": fuzz_corpus}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options] [corpus dirs]")
    target = TARGETS[sys.argv[1]]
    if sys.argv[2:3] == ["--replay"]:       # run files once, in-process (for coverage.py)
        for name in sys.argv[3:]:
            with open(name, "rb") as f:
                target(f.read())
        return
    atheris.Setup([sys.argv[0]] + sys.argv[2:], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
