"""Property tests (hypothesis) for every file reader and for vocabulary counting.

* Round trips: any vocabulary (unicode, multi-byte UTF-8) and any finite float32
  matrix come back with the same words and bit-identical vectors from word2vec
  binary, word2vec text and our model file.
* Robustness: arbitrary bytes, and valid files that are truncated, have bytes flipped
  or inserted, or whose header numbers lie, either load or raise FormatError, and no
  reader allocates much more than the file's size.
* Vocabulary: counts equal collections.Counter; min_count and the documented order
  (descending count, ties by the word); pruning keeps the table within max_vocab_size
  and never over-counts.
"""
import collections
import json
import os
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from w2v import TrainConfig, _text, io, vocab
from w2v.errors import CorpusError, FormatError
from w2v.model import Model

ASCII_WS = " \t\n\r\x0b\x0c"
#: W2V_PROPERTY_SCALE=50 runs every property with 50x the examples (a deep local run)
SCALE = int(os.environ.get("W2V_PROPERTY_SCALE", "1"))
FAST = settings(max_examples=60 * SCALE, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

# words the word2vec formats can hold: non-empty, no ASCII whitespace, any other code
# point (no surrogates: they cannot be UTF-8); the model file only forbids "\n"
W2V_WORD = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=ASCII_WS),
                   min_size=1, max_size=8)
MODEL_WORD = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
                     min_size=1, max_size=8)


@st.composite
def vocab_and_matrix(draw, word=W2V_WORD, max_words=12):
    words = draw(st.lists(word, max_size=max_words, unique=True))
    dim = draw(st.integers(1, 5))
    matrix = draw(hnp.arrays(np.float32, (len(words), dim),
                             elements=st.floats(width=32, allow_nan=False, allow_infinity=False)))
    return words, matrix


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("props")


# -- round trips ---------------------------------------------------------------------------
@FAST
@given(vocab_and_matrix(), st.sampled_from(["bin", "txt"]))
def test_word2vec_round_trip_is_bit_exact(scratch, data, fmt):
    words, matrix = data
    path = scratch / f"rt.{fmt}"
    io.write_word2vec(path, words, matrix, binary=(fmt == "bin"))
    back_words, back = io.read_word2vec(path, binary=(fmt == "bin"))
    assert back_words == words
    assert back.dtype == np.float32 and back.shape == matrix.shape
    np.testing.assert_array_equal(bits(back), bits(matrix))      # -0.0 and subnormals too
    if words:       # "0 D\n" is both formats
        assert io.detect_format(path) == fmt
    loaded = io.load(path)
    assert loaded.words == words
    np.testing.assert_array_equal(bits(loaded.matrix), bits(matrix))


@FAST
@given(vocab_and_matrix(word=MODEL_WORD), st.data())
def test_model_file_round_trip_is_bit_exact(scratch, data, more):
    words, matrix = data
    n, dim = matrix.shape
    counts = more.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, 2 ** 63 - 1)))
    outputs = more.draw(hnp.arrays(np.float32, (n, dim),
                                   elements=st.floats(width=32, allow_nan=False,
                                                      allow_infinity=False)))
    model = Model(TrainConfig(size=dim), words, counts, matrix, output_ns=outputs)
    path = scratch / "rt.w2v"
    io.save_model(path, model)
    for mmap in (True, False):
        back = io.load_model(path, mmap=mmap)
        assert back.words == words
        np.testing.assert_array_equal(back.counts, counts)
        np.testing.assert_array_equal(bits(back.input_vectors), bits(matrix))
        np.testing.assert_array_equal(bits(back.output_ns), bits(outputs))
    vecs = io.load(path)
    assert vecs.words == words
    np.testing.assert_array_equal(bits(vecs.matrix), bits(matrix))


# -- robustness ----------------------------------------------------------------------------
def _readers(path):
    """Every public way to read a file."""
    yield lambda: io.detect_format(path)
    yield lambda: io.info(path)
    yield lambda: io.load(path)
    yield lambda: io.load(path, mmap=False, unicode_errors="replace")
    yield lambda: io.read_word2vec(path)
    yield lambda: io.read_word2vec(path, binary=True)
    yield lambda: io.read_word2vec(path, binary=False, limit=2)
    yield lambda: io.load_model(path)
    yield lambda: io.load_model(path, mmap=False)
    yield lambda: io.read_model_header(path)


def check_readers(path, data: bytes):
    """Write ``data`` and run every reader: each returns or raises a one-line FormatError,
    and allocates at most ~100x the file's size (plus a fixed allowance)."""
    path.write_bytes(data)
    budget = 100 * len(data) + (4 << 20)
    for read in _readers(path):
        tracemalloc.start()
        try:
            result = read()
            if isinstance(result, Model):
                np.asarray(result.input_vectors).sum()      # touch the mapped arrays
        except FormatError as e:
            assert "\n" not in str(e)
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert peak <= budget, (peak, len(data))


@settings(max_examples=150 * SCALE, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_load_or_raise_format_error(scratch, data):
    check_readers(scratch / "any", data)


@settings(max_examples=60 * SCALE, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([b"", b"\x89W2V\r\n\x1a\n", b"3 2\n", b"2 1\nx "]), st.binary(max_size=200))
def test_plausible_prefixes_load_or_raise_format_error(scratch, prefix, data):
    check_readers(scratch / "prefixed", prefix + data)


def _valid_file(scratch, fmt, words, matrix) -> bytes:
    path = scratch / f"valid.{fmt}"
    if fmt == "model":
        io.save_model(path, Model(TrainConfig(size=matrix.shape[1], hs=True), words,
                                  np.arange(len(words), 0, -1), matrix, output_ns=matrix,
                                  output_hs=matrix[1:], epoch_losses=[1.5], history=[{"a": 1}]))
    else:
        io.write_word2vec(path, words, matrix, binary=(fmt == "bin"))
    return path.read_bytes()


HUGE = st.sampled_from([0, 1, 2, 3, 7, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 2 ** 63 - 1, 2 ** 64,
                        10 ** 30, -1])
JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers() | HUGE
                          | st.floats(allow_nan=False) | st.text(max_size=5),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                          max_leaves=6)


@st.composite
def mutation(draw, data: bytes, fmt: str):
    """A mutated copy of a valid file."""
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "header"]))
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 8)):]
    if fmt != "model":                      # the "V D" line says something else
        end = data.index(b"\n")
        number = HUGE.map(str) | st.integers(1, 6000).map(lambda k: "9" * k)   # past int()'s limit
        return (f"{draw(number)} {draw(number)}".encode() if draw(st.booleans())
                else draw(st.binary(max_size=12))) + data[end:]
    header_len = struct.unpack_from("<Q", data, 16)[0]
    header = json.loads(data[24:24 + header_len])
    target = draw(st.sampled_from(["prefix_len", "top", "block", "config"]))
    if target == "prefix_len":
        return data[:16] + struct.pack("<Q", draw(HUGE) % 2 ** 64) + data[24:]
    if target == "top":
        header[draw(st.sampled_from(sorted(header)))] = draw(JSON_VALUE)
    elif target == "block":
        block = header["blocks"][draw(st.sampled_from(sorted(header["blocks"])))]
        block[draw(st.sampled_from(sorted(block) + ["shape"]))] = draw(JSON_VALUE | HUGE)
    else:
        header["config"][draw(st.sampled_from(sorted(header["config"])))] = draw(JSON_VALUE)
    raw = json.dumps(header).encode()
    return data[:16] + struct.pack("<Q", len(raw)) + raw + data[24 + header_len:]


@settings(max_examples=200 * SCALE, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(vocab_and_matrix(max_words=5), st.sampled_from(["bin", "txt", "model"]), st.data())
def test_mutated_files_load_or_raise_format_error(scratch, vm, fmt, data):
    words, matrix = vm
    assume(words)
    valid = _valid_file(scratch, fmt, words, matrix)
    check_readers(scratch / f"mutated.{fmt}", data.draw(mutation(valid, fmt)))


# -- vocabulary ----------------------------------------------------------------------------
TOKEN = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=ASCII_WS),
                min_size=1, max_size=4)
SENTENCES = st.lists(st.lists(st.one_of(TOKEN, st.sampled_from("abcde")), max_size=12),
                     min_size=1, max_size=15)


@FAST
@given(SENTENCES, st.integers(1, 4))
def test_vocab_counts_min_count_and_order(sentences, min_count):
    expected = collections.Counter(t for s in sentences for t in s)
    kept = {w: c for w, c in expected.items() if c >= min_count}
    assume(kept)
    v, enc = vocab.build(sentences, TrainConfig(min_count=min_count))
    assert dict(zip(v.words, v.counts.tolist())) == kept
    assert v.words == sorted(kept, key=lambda w: (-kept[w], w))     # ties by the word
    assert v.raw_tokens == sum(expected.values())
    assert v.distinct_tokens == len(expected) and not v.pruned
    # the encoding is the corpus minus the rare words, line by line
    decoded = [v.words[i] for i in enc.word_ids()]
    assert decoded == [t for s in sentences for t in s if t in kept]


@FAST
@given(st.lists(st.integers(0, 60), min_size=1, max_size=400), st.integers(1, 12),
       st.integers(1, 50))
def test_pruning_bounds_the_table_and_never_over_counts(token_ids, max_entries, chunk):
    tokens = [f"t{i}" for i in token_ids]
    data = "".join(t + ("\n" if k % 7 == 6 else " ") for k, t in enumerate(tokens)).encode()
    table = _text.TokenTable(1000, max_entries)
    for s in range(0, len(data), chunk):
        table.feed(data[s:s + chunk])
        assert len(table) <= max_entries
    table.finish()
    assert len(table) <= max_entries
    true = collections.Counter(tokens)
    words, counts = table.entries()
    got = dict(zip((w.decode() for w in words), counts.tolist()))
    assert all(0 < c <= true[w] for w, c in got.items())
    assert table.tokens == len(tokens)
    if len(true) <= max_entries:
        assert table.prunes == 0 and got == dict(true)
    else:
        assert table.prunes > 0
    # the vocabulary built with the same bound agrees with the table
    try:
        v, _ = vocab.build([tokens], TrainConfig(min_count=1, max_vocab_size=max_entries))
    except CorpusError as e:        # pruning can empty the table (the C tool's ReduceVocab)
        assert not got and "--max-vocab-size" in str(e)
        return
    assert len(v) <= max_entries and v.pruned == (len(true) > max_entries)
    assert all(c <= true[w] for w, c in zip(v.words, v.counts.tolist()))
