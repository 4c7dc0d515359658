"""64-bit arithmetic past 2**31 and 2**32 words, without allocating huge arrays.

The real thing (a 4.4 GB corpus of 2.2 G tokens through ``w2v train``) is
bench/stress_large.py; these tests pin the pieces it relies on: sentence offsets and
shard bounds, the global progress counter and the learning-rate schedule in the core,
header sizes in the file readers, and the counting table's size limit.
"""
from types import SimpleNamespace

import numpy as np
import pytest

from w2v import TrainConfig, _core, _text, io, tables, vocab
from w2v.corpus import EncodedCorpus, shards
from w2v.errors import FormatError

BIG = 3 * 2 ** 31 + 12345          # past both 2**31 and 2**32


def fake_corpus(n_words: int, n_lines: int) -> EncodedCorpus:
    """An encoded corpus of ``n_words`` ids that allocates only its sentence offsets: the
    packed ids are one zero unit repeated through a zero stride."""
    units = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint16), shape=(n_words,), strides=(0,))
    starts = np.linspace(0, n_words, n_lines + 1).astype(np.int64)
    return EncodedCorpus(units=units, sentence_starts=starts, line_start=np.ones(n_lines, np.uint8),
                         raw_tokens=n_words, n_words=n_words)


@pytest.mark.parametrize("n_threads", [2, 3, 16])
def test_shards_of_a_corpus_past_2_32_words_are_balanced_line_bounds(n_threads):
    corpus = fake_corpus(BIG, 1000)
    assert corpus.n_words == BIG and corpus.sentence_starts[-1] == BIG
    bounds = shards(corpus, n_threads)
    assert bounds.dtype == np.int64 and bounds[0] == 0 and bounds[-1] == corpus.n_sentences
    assert np.all(np.diff(bounds) >= 0)
    words = np.diff(corpus.sentence_starts[bounds])
    assert words.sum() == BIG                              # every word exactly once
    line = BIG // 1000 + 1
    assert np.all(np.abs(words - BIG / n_threads) <= line)  # within one line of balanced


def small_trainer(words_done_start: int, total_words: int, end_alpha: float):
    """A one-thread trainer over 1000 words whose global progress counter starts at
    ``words_done_start`` (as if 2**32 words were already trained)."""
    rng = np.random.default_rng(0)
    V, dim = 20, 4
    counts = np.arange(V, 0, -1, dtype=np.int64) * 10
    input_vectors = ((rng.random((V, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    output_ns = (rng.random((V, dim), dtype=np.float32) * 0.1).astype(np.float32)
    noise = tables.alias_table(tables.noise_distribution(counts)).packed()
    corpus = EncodedCorpus.from_ids(rng.integers(0, V, 1000), np.arange(0, 1001, 50))
    words_done = np.array([words_done_start], dtype=np.int64)
    stop = np.zeros(1, dtype=np.int32)
    stats = np.zeros(_core.STATS_LAYOUT["stride"], dtype=np.float64)
    trainer = _core.Trainer(
        dict(input_vectors=input_vectors, output_ns=output_ns, output_hs=None),
        SimpleNamespace(keep=None, noise=noise, paths=None, path_starts=None, ngram_starts=None,
                        ngram_rows=None),
        corpus, (words_done, stop, stats),
        dict(sg=False, cbow_mean=True, negative=2, hs=False, window=2, shrink_window=False,
             compute_loss=True, sg_batch=True, max_sentence_length=1000, start_alpha=0.025,
             end_alpha=end_alpha, total_words=total_words, n_threads=1))
    return trainer, input_vectors, words_done


@pytest.mark.parametrize("start", [2 ** 31 - 300, 2 ** 32 - 300, BIG])
def test_global_word_counter_does_not_wrap(start):
    trainer, _, words_done = small_trainer(start, 4 * BIG, end_alpha=0.0)
    loss, examples, words, stopped, _ = trainer.run_shard(0, 1, 0, 20)
    assert words == 1000 and not stopped and examples > 0
    assert int(words_done[0]) == start + 1000


@pytest.mark.parametrize("total", [2 ** 31 + 7, 2 ** 32 + 7, 4 * BIG])
def test_learning_rate_schedule_past_2_32_words(total):
    """With min_alpha 0 and all ``total`` words already done, the rate is 0 and nothing
    moves; a progress fraction computed in 32 bits would give a positive rate."""
    trainer, vectors, _ = small_trainer(total, total, end_alpha=0.0)
    before = vectors.copy()
    trainer.run_shard(0, 1, 0, 20)
    np.testing.assert_array_equal(vectors, before)
    # control: at the start of the schedule the same run does move the vectors
    trainer, vectors, _ = small_trainer(0, total, end_alpha=0.0)
    before = vectors.copy()
    trainer.run_shard(0, 1, 0, 20)
    assert not np.array_equal(vectors, before)


def test_tables_with_counts_past_2_32():
    counts = np.array([2 ** 40, 5 * 2 ** 32, 2 ** 31 + 1, 3, 1], dtype=np.int64)
    keep = tables.keep_probabilities(counts, 1e-3)
    assert np.all(np.isfinite(keep)) and np.all(np.diff(keep) >= 0) and keep[-1] == 1.0
    noise = tables.noise_distribution(counts)
    assert np.isclose(noise.sum(), 1.0) and np.all(np.diff(noise) <= 0)
    huff = tables.huffman_codes(counts)
    assert huff.lengths[0] == 1 and huff.lengths.max() == len(counts) - 1
    v = vocab.Vocab(words=list("abcde"), counts=counts)
    assert v.total_words == 2 ** 40 + 5 * 2 ** 32 + 2 ** 31 + 5          # exact, no float


def test_word2vec_header_sizes_past_2_32(tmp_path):
    assert io._parse_header(b"5000000000 300\n", "x") == (5_000_000_000, 300, 15)
    path = tmp_path / "lies.bin"
    path.write_bytes(b"3000000000 300\n" + b"a " + bytes(1200) + b"\n")
    with pytest.raises(FormatError, match=r"3,000,000,000 words x 300 dimensions.*"
                                          r"3,605,999,999,999 bytes"):
        io.info(path)                          # (4 x 300 + 2) bytes a row, minus one
    with pytest.raises(FormatError, match="3,000,000,000 words"):
        io.load(path)


def test_model_header_sizes_past_2_32(tmp_path):
    path = tmp_path / "m.w2v"
    io.save(path, _vectors(), format="model")
    header = io.read_model_header(path)
    n = 2 ** 33
    header["vocab_size"] = n
    for key in ("counts", "input_vectors"):
        header["blocks"][key]["shape"] = [n] + header["blocks"][key]["shape"][1:]
    _rewrite_header(path, header)
    end = header["blocks"]["counts"]["offset"] + 8 * n
    with pytest.raises(FormatError, match=f"counts needs bytes .*{end:,}"):
        io.load_model(path)


def test_counting_table_limit_is_64_bit():
    table = _text.TokenTable(10, 2 ** 40)
    assert table.max_entries == 2 ** 40
    table.feed(b"a b a\n")
    table.finish()
    assert table.lookup_count(b"a") == 2 and table.prunes == 0


def test_counting_table_never_exceeds_max_vocab_size():
    """A Zipf head plus a long tail of 200k distinct tokens through a 1000-entry table."""
    rng = np.random.default_rng(0)
    head = np.exp(rng.random(100_000) * np.log(50)).astype(np.int64)           # ~1/x, 50 words
    tail = rng.permutation(200_000) + 1000
    ids = rng.permutation(np.concatenate([head, tail]))
    data = " ".join(f"w{i}" for i in ids.tolist()).encode() + b"\n"
    table = _text.TokenTable(100, 1000)
    for s in range(0, len(data), 1 << 14):
        table.feed(data[s:s + (1 << 14)])
        assert len(table) <= 1000
    table.finish()
    assert len(table) <= 1000 and table.prunes > 0 and table.tokens == len(ids)
    words, counts = table.entries()
    got = dict(zip(words, counts.tolist()))
    true = dict(zip(*np.unique(ids, return_counts=True)))
    assert all(c <= true[int(w[1:])] for w, c in got.items())               # never over-counts
    assert {f"w{i}".encode() for i in range(1, 6)} <= set(got)             # the head survives
    v, _ = vocab.build([data.decode().split()], TrainConfig(min_count=1, max_vocab_size=1000))
    assert v.pruned and v.distinct_tokens <= 1000


def _vectors():
    from w2v.vectors import Vectors
    return Vectors(["a", "b"], np.ones((2, 3), dtype=np.float32))


def _rewrite_header(path, header):
    import json
    import struct
    data = path.read_bytes()
    for block in header["blocks"].values():
        block.pop("_nbytes", None)
    raw = json.dumps(header).encode()
    assert 24 + len(raw) <= min(b["offset"] for b in header["blocks"].values())
    path.write_bytes(data[:16] + struct.pack("<Q", len(raw)) + raw + data[24 + len(raw):])
