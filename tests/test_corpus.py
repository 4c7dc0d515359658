"""Tokenising, counting, encoding and sharding the corpus."""
import bz2
import collections
import gzip
import lzma
import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from w2v import TrainConfig, _text, corpus, vocab
from w2v.errors import ConfigError, CorpusError

WS = " \t\n\r\x0b\x0c"


def count_bytes(data: bytes, chunk: int, max_word_bytes=1000):
    t = _text.TokenTable(max_word_bytes)
    for i in range(0, len(data), chunk):
        t.feed(data[i:i + chunk])
    t.finish()
    words, counts = t.entries()
    return dict(zip(words, counts.tolist())), t.tokens


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab\u00e9\u4e2d \t\n", max_size=30), max_size=20),
       st.integers(1, 17))
def test_counts_equal_python_split_for_any_chunking(lines, chunk):
    text = "\n".join(lines)
    data = text.encode()
    expected = collections.Counter(data.split())
    got, tokens = count_bytes(data, chunk)
    assert got == dict(expected)
    assert tokens == sum(expected.values())


def test_long_word_is_cut_at_a_utf8_boundary():
    word = ("\u00e9" * 600).encode()     # 1200 bytes of two-byte characters
    got, _ = count_bytes(word + b" x", chunk=7, max_word_bytes=1001)
    cut = [w for w in got if w != b"x"][0]
    assert len(cut) == 1000 and cut.decode() == "\u00e9" * 500


def encode(sentences_text: str, min_count=1, max_sentence_length=10000, **kw):
    cfg = TrainConfig(min_count=min_count, max_sentence_length=max_sentence_length, **kw)
    return vocab.build([line for line in sentences_text.split("\n")], cfg)


def test_vocab_sorted_by_count_then_word():
    v, _ = encode("b a c a b a d\nc d")
    assert v.words == ["a", "b", "c", "d"]
    assert v.counts.tolist() == [3, 2, 2, 2]


def test_vocab_ties_follow_python_str_order_even_with_trailing_nul():
    """numpy str arrays drop trailing NULs, so 'a' and 'a\\0' tied in first-seen order."""
    v, _ = vocab.build([["a\x00", "b", "a\x00\x00", "a"]], TrainConfig(min_count=1))
    assert v.words == ["a", "a\x00", "a\x00\x00", "b"]


def test_sorting_the_vocabulary_does_not_scale_with_the_longest_word():
    words = [f"w{i}".encode() for i in range(20000)] + [b"x" * 1000]
    counts = np.ones(len(words), dtype=np.int64)
    tracemalloc.start()
    try:
        v, _ = vocab.select_vocab(words, counts, TrainConfig(min_count=1),
                                  np.arange(len(words)), len(words))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert v.words[0] == "w0" and v.words[-1] == "x" * 1000
    # a fixed-width str array of them alone would take 20,001 x 1,000 x 4 bytes = 80 MB
    assert peak < 20 << 20, peak


def test_min_count_and_encoding_skip_rare_words():
    v, enc = encode("x a a b\nx a b y", min_count=2)
    assert v.words == ["a", "b", "x"]
    idx = v.index
    assert [list(s) for s in enc.sentences()] == [[idx["x"], idx["a"], idx["a"], idx["b"]],
                                                   [idx["x"], idx["a"], idx["b"]]]
    assert enc.raw_tokens == 8


def test_long_line_split_into_pieces_never_truncated():
    line = " ".join(f"w{i % 7}" for i in range(25))
    v, enc = encode(line + "\nw1 w2", max_sentence_length=10)
    lengths = [len(s) for s in enc.sentences()]
    assert lengths == [10, 10, 5, 2]
    assert enc.line_start.tolist() == [1, 0, 0, 1]
    assert enc.n_words == 27


def test_empty_lines_make_no_sentences():
    v, enc = encode("a b\n\n\n  \nb a\n")
    assert enc.n_sentences == 2


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"),
                                           (lzma.open, ".xz"), (open, ".txt")])
def test_compressed_corpora_read_identically(tmp_path, opener, suffix):
    text = "the cat sat\non the mat\n" * 1000
    path = tmp_path / ("c" + suffix)
    with opener(path, "wt") as f:
        f.write(text)
    v, enc = vocab.build(str(path), TrainConfig(min_count=1))
    assert v.total_words == 6000 and enc.n_sentences == 2000
    assert dict(zip(v.words, v.counts)) == {"the": 2000, "cat": 1000, "sat": 1000, "on": 1000,
                                            "mat": 1000}


def test_iterable_of_token_lists_and_generator():
    sents = [["a", "b"], ["b", "c", "b"]]
    v1, e1 = vocab.build(sents, TrainConfig(min_count=1))
    v2, e2 = vocab.build((s for s in sents), TrainConfig(min_count=1))
    assert v1.words == v2.words == ["b", "a", "c"]
    np.testing.assert_array_equal(e1.word_ids(), e2.word_ids())
    with pytest.raises(CorpusError):
        vocab.build([["a", 3]], TrainConfig(min_count=1))


def test_invalid_utf8_replaced_or_strict(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 ok caf\xe8 ok\n")
    v, enc = vocab.build(str(path), TrainConfig(min_count=1))
    assert dict(zip(v.words, v.counts)) == {"ok": 2, "caf\ufffd": 2}   # both merged
    assert enc.n_words == 4
    with pytest.raises(CorpusError, match="invalid UTF-8"):
        vocab.build(str(path), TrainConfig(min_count=1, encoding_errors="strict"))


def test_min_count_applies_after_merging_invalid_utf8_variants(tmp_path):
    # each byte spelling occurs once; only merged do they reach min_count=2, and the
    # encoding pass must map every spelling to the merged word
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 ok caf\xe8 ok rare\n")
    v, enc = vocab.build(str(path), TrainConfig(min_count=2))
    assert dict(zip(v.words, v.counts)) == {"ok": 2, "caf\ufffd": 2}
    assert enc.n_words == 4
    # with errors="ignore", "ab\xff" decodes to the ASCII word "ab", seen once as itself
    path.write_bytes(b"ab\xff ab zz zz\n")
    v, enc = vocab.build(str(path), TrainConfig(min_count=2, encoding_errors="ignore"))
    assert dict(zip(v.words, v.counts)) == {"ab": 2, "zz": 2}
    assert enc.n_words == 4


def test_selected_entries_skips_rare_ascii_but_keeps_non_ascii():
    t = _text.TokenTable(1000)
    t.feed("a a a b b c \u00e9t\u00e9 d\n".encode())
    t.finish()
    index, words, counts = t.selected_entries(2)
    assert words == [b"a", b"b", "\u00e9t\u00e9".encode()]
    assert counts.tolist() == [3, 2, 1]
    all_words, _ = t.entries()
    assert [all_words[i] for i in index] == words


def test_pruning_bounds_distinct_entries_and_keeps_frequent_words():
    rng = np.random.default_rng(0)
    common = [f"common{i}" for i in range(20)]
    lines = []
    for i in range(2000):
        lines.append(" ".join(list(rng.choice(common, 5)) + [f"rare{i}_{j}" for j in range(10)]))
    t = _text.TokenTable(1000, 500)
    for line in lines:
        t.feed((line + "\n").encode())
        assert len(t) <= 500
    t.finish()
    assert t.prunes > 0
    words, counts = t.entries()
    assert set(common) <= {w.decode() for w in words}


def test_pruning_that_leaves_no_word_names_max_vocab_size():
    """Found by the property tests: the advice was only 'lower --min-count'."""
    with pytest.raises(CorpusError, match="raise --max-vocab-size"):
        vocab.build([["a", "b"]], TrainConfig(min_count=1, max_vocab_size=1))
    with pytest.raises(CorpusError, match="lower --min-count$"):
        vocab.build([["a", "b", "c"]], TrainConfig(min_count=2))


@pytest.mark.parametrize("text", ["", "   \n\n\t "])
def test_empty_corpus_is_a_clear_error(tmp_path, text):
    path = tmp_path / "empty.txt"
    path.write_text(text)
    with pytest.raises(CorpusError, match="no words"):
        vocab.build(str(path), TrainConfig())


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        vocab.build(str(tmp_path / "nope.txt"), TrainConfig())
    with pytest.raises(CorpusError, match="directory"):
        vocab.build(str(tmp_path), TrainConfig())


def test_min_count_leaves_nothing():
    with pytest.raises(CorpusError, match="min_count"):
        vocab.build([["a", "b"]], TrainConfig(min_count=5))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=60), st.integers(1, 9),
       st.integers(1, 50))
def test_shards_cover_every_token_once_on_line_boundaries(line_lengths, n_threads, max_len):
    assume(sum(line_lengths) > 0)
    text = "\n".join(" ".join(["w"] * n) for n in line_lengths)
    _, enc = vocab.build(text.split("\n"), TrainConfig(min_count=1, max_sentence_length=max_len))
    bounds = corpus.shards(enc, n_threads)
    assert bounds[0] == 0 and bounds[-1] == enc.n_sentences
    assert np.all(np.diff(bounds) >= 0)
    covered = np.zeros(len(enc.units), dtype=int)
    for k in range(n_threads):
        a, b = bounds[k], bounds[k + 1]
        covered[enc.sentence_starts[a]:enc.sentence_starts[b]] += 1
        if a < enc.n_sentences and a < b:
            assert enc.line_start[a] == 1          # a shard starts at a line
    assert np.all(covered == 1)


def test_shards_are_balanced():
    lines = [["w"] * 100 for _ in range(100)]
    _, enc = vocab.build(lines, TrainConfig(min_count=1))
    bounds = corpus.shards(enc, 4)
    assert bounds.tolist() == [0, 25, 50, 75, 100]


def test_config_rejects_impossible_values_naming_the_option():
    for kw, name in [({"size": 0}, "--size"), ({"negative": -1}, "--negative"),
                     ({"window": 0}, "--window"), ({"sample": -0.1}, "--sample"),
                     ({"threads": 0}, "--threads"), ({"alpha": 0.0}, "--alpha"),
                     ({"epochs": 0}, "--epochs"), ({"negative": 0, "hs": False}, "--negative"),
                     ({"min_alpha": 1.0}, "--min-alpha")]:
        with pytest.raises(ConfigError, match=name):
            TrainConfig.from_options(**kw)
    with pytest.raises(ConfigError, match="unknown option"):
        TrainConfig.from_options(sizee=3)
    assert TrainConfig.from_options(dim=7, iter=2).size == 7


def test_binary_and_corrupt_compressed_corpora_are_clear_errors(tmp_path):
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 100)
    with pytest.raises(CorpusError, match="binary"):
        vocab.build(str(binary), TrainConfig())
    broken = tmp_path / "c.gz"
    broken.write_bytes(gzip.compress(b"the cat sat\n" * 10000)[:200])
    with pytest.raises(CorpusError, match="cannot read"):
        vocab.build(str(broken), TrainConfig(min_count=1))


# ----------------------------------------------------------------------------- packed ids
WIDE = _text.FIRST_WIDE_ID


def test_packed_ids_round_trip_across_the_wide_boundary():
    # 0x1FFFF packs to [WIDE, 1, 0xFFFF]: a low half equal to WIDE must not start an id
    ids = np.array([0, 1, WIDE - 1, WIDE, WIDE + 1, 0x1FFFF, 7, 0x2FFFF, 2 ** 31 - 1, 3], np.int32)
    units = _text.pack_ids(ids)
    assert units.dtype == np.uint16
    assert len(units) == len(ids) + 2 * int(np.sum(ids >= WIDE))
    assert units[:3].tolist() == [0, 1, WIDE - 1]
    assert units[3:6].tolist() == [WIDE, 0, WIDE]
    np.testing.assert_array_equal(_text.unpack_ids(units), ids)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 70_000), st.integers(0, 2 ** 31 - 1)), max_size=50))
def test_pack_then_unpack_is_the_identity(ids):
    units = _text.pack_ids(np.array(ids, dtype=np.int64))
    assert _text.unpack_ids(units).tolist() == ids
    assert len(units) == sum(1 if i < WIDE else 3 for i in ids)


def test_packed_ids_reject_negative_ids_and_cut_streams():
    with pytest.raises(ValueError, match=">= 0"):
        _text.pack_ids([3, -1])
    units = _text.pack_ids([5, WIDE + 5])
    with pytest.raises(ValueError, match="inside a wide id"):
        _text.unpack_ids(units[:3])


def test_from_ids_moves_sentence_starts_to_unit_offsets():
    ids = [1, WIDE + 2, 3, WIDE, 4]
    enc = corpus.EncodedCorpus.from_ids(ids, [0, 2, 5])
    assert enc.n_words == 5 and enc.sentence_starts.tolist() == [0, 4, 9]
    assert [s.tolist() for s in enc.sentences()] == [[1, WIDE + 2], [3, WIDE, 4]]


def test_a_vocabulary_past_65535_words_is_encoded_exactly():
    n_distinct = WIDE + 400
    lines = [[f"w{k}" for k in range(i, min(i + 70, n_distinct))] for i in range(0, n_distinct, 70)]
    lines += [[f"w{k}" for k in range(0, 200, 3)]] * 2          # some words more frequent
    v, enc = vocab.build(lines, TrainConfig(min_count=1, max_sentence_length=30))
    assert len(v) == n_distinct
    expected = [v.index[t] for line in lines for t in line]
    n_wide = sum(i >= WIDE for i in expected)
    assert n_wide == 400
    np.testing.assert_array_equal(enc.word_ids(), expected)
    assert enc.n_words == len(expected)
    # the output was sized from the counts: exactly the units written
    assert len(enc.units) == len(expected) + 2 * n_wide == _text.packed_size(v.counts)
    assert enc.nbytes == enc.units.nbytes + enc.sentence_starts.nbytes + enc.line_start.nbytes
    # lines are split after 30 ids, not 30 units
    assert [len(s) for s in enc.sentences()][:3] == [30, 30, 10]
    assert sum(len(s) for s in enc.sentences()) == len(expected)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=6).filter(lambda b: not any(c in b for c in
                                                                            b" \t\n\r\x0b\x0c")),
                min_size=1, max_size=30))
def test_utf8_check_agrees_with_pythons_strict_decoder(tokens):
    t = _text.TokenTable(1000)
    t.feed(b" ".join(tokens) + b"\n")
    t.finish()

    def invalid(b):
        try:
            b.decode("utf-8")
            return False
        except UnicodeDecodeError:
            return True
    assert t.invalid_utf8() == sum(invalid(b) for b in set(tokens))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="ab\u00e9\u00ff\u0100\u4e2d\U0001f600\ud7ff\ue000",
                                  min_size=1, max_size=5), st.integers(1, 4)),
                min_size=1, max_size=40),
       st.integers(1, 3), st.integers(1, 4))
def test_ranking_on_bytes_equals_ranking_the_decoded_words(items, min_count, threads):
    # the fast path (valid UTF-8: rank the bytes in C, decode once) against the general one
    # (decode each word, sort the str): same words, counts and entry ids, on any split
    tables = []
    lines = [" ".join([w] * n) for w, n in items]
    for k in range(threads):
        t = _text.TokenTable(1000)
        t.feed("\n".join(lines[k::threads]).encode() + b"\n")
        t.finish()
        tables.append(t)
    cfg = TrainConfig(min_count=min_count)
    merged, maps = vocab._merge(tables, cfg)
    index, joined, counts = _text.ranked_selection(merged, min_count)
    fast_words = joined.decode().split("\n") if len(index) else []
    selected = [t.selected_entries(1) for t in merged]
    bases = np.cumsum([0] + [len(t) for t in merged[:-1]])
    n = sum(len(t) for t in merged)
    try:
        slow, slow_ids = vocab.select_vocab([w for s in selected for w in s[1]],
                                            np.concatenate([s[2] for s in selected]), cfg,
                                            np.concatenate([s[0] + b for s, b in zip(selected, bases)]), n)
    except CorpusError:
        assert len(index) == 0
        return
    assert fast_words == slow.words
    assert counts.tolist() == slow.counts.tolist()
    assert (slow_ids[index] == np.arange(len(index))).all()
    assert (slow_ids >= 0).sum() == len(index)
    # the merged counts are the sums over the parts, whatever the split
    expected = collections.Counter()
    for w, c in items:
        expected[w] += c
    assert dict(zip(slow.words, slow.counts.tolist())) == {w: c for w, c in expected.items()
                                                           if c >= min_count}
