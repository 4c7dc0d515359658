"""Corpora larger than memory: the encoded cache on disk, training in blocks,
streamed and spooled corpora (generators, pipes, standard input)."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import w2v
import w2v.corpus
from w2v import _text
from w2v.cache import CacheEntry, MappedCorpus
from w2v.demo import generate_sentences

SMALL = dict(size=16, epochs=2, threads=1, seed=7, min_count=2)


@pytest.fixture(scope="module")
def sentences():
    return generate_sentences(4000, seed=3)


@pytest.fixture()
def corpus(tmp_path, sentences):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    return path


@pytest.fixture()
def cache(tmp_path):
    return str(tmp_path / "cache")


def entries(cache):
    return sorted(n for n in os.listdir(cache) if not n.startswith(".")) if os.path.isdir(cache) \
        else []


@pytest.mark.parametrize("mode", [dict(), dict(sg=True), dict(hs=True, negative=0),
                                  dict(sg=True, hs=True)])
def test_disk_gives_the_in_memory_vectors_bit_for_bit(corpus, cache, mode, monkeypatch):
    memory = w2v.train(str(corpus), corpus_cache="memory", **SMALL, **mode)
    monkeypatch.setattr(w2v.corpus, "BLOCK_UNITS", 997)      # many blocks per shard
    disk = w2v.train(str(corpus), corpus_cache="disk", cache_dir=cache, **SMALL, **mode)
    np.testing.assert_array_equal(memory.input_vectors, disk.input_vectors)
    assert memory.epoch_losses == disk.epoch_losses
    record = disk.history[0]
    assert record["corpus_cache"] == "disk" and record["cache_reused"] is False
    assert memory.history[0]["corpus_cache"] == "memory"


def test_a_second_run_reuses_the_entry_and_skips_both_passes(corpus, cache, monkeypatch):
    first = w2v.train(str(corpus), corpus_cache="disk", cache_dir=cache, **SMALL)
    assert len(entries(cache)) == 1

    def no_scan(*args, **kwargs):
        raise AssertionError("the corpus was read again")
    monkeypatch.setattr(w2v.vocab, "_scan", no_scan)
    again = w2v.train(str(corpus), corpus_cache="auto", cache_dir=cache, **dict(SMALL, size=8))
    assert again.history[0]["cache_reused"] is True and again.words == first.words
    np.testing.assert_array_equal(again.counts, first.counts)


def test_the_cache_never_goes_stale(corpus, cache, sentences):
    w2v.train(str(corpus), corpus_cache="disk", cache_dir=cache, **SMALL)
    old = entries(cache)
    with open(corpus, "a") as f:
        f.write("zebra zebra zebra zebra\n")                     # the file changes
    model = w2v.train(str(corpus), corpus_cache="disk", cache_dir=cache, **SMALL)
    assert model.history[0]["cache_reused"] is False and "zebra" in model.words
    assert len(entries(cache)) == 1 and entries(cache) != old      # the old entry is gone
    # other settings that change the encoding: another entry (the newest is kept)
    w2v.train(str(corpus), corpus_cache="disk", cache_dir=cache, **dict(SMALL, min_count=3))
    assert len(entries(cache)) == 1


@pytest.mark.parametrize("damage", ["truncate", "delete", "meta"])
def test_a_damaged_entry_is_rebuilt(corpus, cache, damage):
    first = w2v.train(str(corpus), corpus_cache="disk", cache_dir=cache, **SMALL)
    folder = os.path.join(cache, entries(cache)[0])
    if damage == "truncate":
        with open(os.path.join(folder, "units.u16"), "r+b") as f:
            f.truncate(100)
    elif damage == "delete":
        os.unlink(os.path.join(folder, "sentence_starts.i64"))
    else:
        with open(os.path.join(folder, "meta.json"), "w") as f:
            f.write("{not json")
    again = w2v.train(str(corpus), corpus_cache="disk", cache_dir=cache, **SMALL)
    assert again.history[0]["cache_reused"] is False
    np.testing.assert_array_equal(first.input_vectors, again.input_vectors)


def test_resume_from_disk_equals_resume_in_memory(tmp_path, corpus, cache):
    model = w2v.train(str(corpus), **SMALL)
    path = tmp_path / "m.w2v"
    model.save(path)
    in_memory = w2v.resume(str(path), str(corpus), epochs=1, threads=1)
    model.config.corpus_cache, model.config.cache_dir = "disk", cache
    model.save(path)
    on_disk = w2v.resume(str(path), str(corpus), epochs=1, threads=1)
    np.testing.assert_array_equal(in_memory.input_vectors, on_disk.input_vectors)
    assert len(entries(cache)) == 1


def test_python_sentences_on_disk_leave_nothing_behind(sentences, cache):
    memory = w2v.train(sentences, **SMALL)
    disk = w2v.train(sentences, corpus_cache="disk", cache_dir=cache, **SMALL)
    np.testing.assert_array_equal(memory.input_vectors, disk.input_vectors)
    assert os.listdir(cache) == []           # a temporary entry, unlinked once mapped


def test_a_generator_is_spooled_and_trains_like_a_list(sentences, cache):
    listed = w2v.train(sentences, **SMALL)
    generated = w2v.train((s for s in sentences), cache_dir=cache, **SMALL)
    np.testing.assert_array_equal(listed.input_vectors, generated.input_vectors)
    assert os.listdir(cache) == []           # the spooled text is deleted
    used = iter(sentences)
    list(used)
    with pytest.raises(w2v.CorpusError, match="gave no sentences: was it consumed already"):
        w2v.train(used, cache_dir=cache, **SMALL)


def test_a_reiterable_is_streamed_not_buffered(sentences):
    class Counting:
        passes = 0

        def __iter__(self):
            yield from sentences
            Counting.passes += 1                               # one whole pass read
    streamed = w2v.train(Counting(), **SMALL)
    assert Counting.passes == 2                                # counting, then encoding
    source = w2v.corpus.as_source(Counting())
    assert not hasattr(source, "_chunks") and source.size == 0  # nothing held before a pass
    np.testing.assert_array_equal(streamed.input_vectors, w2v.train(sentences, **SMALL).input_vectors)


def test_a_fifo_corpus_is_spooled_once(tmp_path, corpus, cache):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: open(fifo, "wb").write(corpus.read_bytes()))
    writer.start()
    piped = w2v.train(str(fifo), cache_dir=cache, **SMALL)
    writer.join(30)
    np.testing.assert_array_equal(piped.input_vectors, w2v.train(str(corpus), **SMALL).input_vectors)
    assert os.listdir(cache) == []


def test_standard_input_with_a_dash(tmp_path, corpus, cache):
    out = tmp_path / "v.bin"
    done = subprocess.run([sys.executable, "-m", "w2v", "train", "-", "-o", str(out), "-q",
                           "--size", "16", "--iter", "2", "--threads", "1", "--seed", "7",
                           "--min-count", "2", "--cache-dir", cache],
                          input=corpus.read_bytes(), capture_output=True, timeout=300,
                          cwd=tmp_path)       # not the checkout, whose w2v/ is uncompiled
    assert done.returncode == 0, done.stderr
    assert w2v.load(out).words == w2v.train(str(corpus), **SMALL).words
    assert os.listdir(cache) == []


def test_cli_reports_the_cache(corpus, cache, tmp_path):
    from click.testing import CliRunner
    from w2v.cli.main import main
    args = ["train", str(corpus), "-o", str(tmp_path / "v.bin"), "--corpus-cache", "disk",
            "--cache-dir", cache, "--iter", "1", "--size", "8"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0 and "on disk (written: " in first.output, first.output
    second = CliRunner().invoke(main, args)
    assert "on disk (reused: " in second.output
    bad = CliRunner().invoke(main, args[:-4] + ["--corpus-cache", "tape"])
    assert bad.exit_code == 2


def test_an_unwritable_cache_folder_is_a_clear_error(corpus, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(w2v.CorpusError, match="cannot write the corpus cache"):
        w2v.train(str(corpus), corpus_cache="disk", cache_dir=str(blocker / "sub"), **SMALL)


def test_release_hands_the_pages_back(tmp_path):
    """Resident memory of a mapped corpus falls back after ``release``: training holds
    one block per thread, not the corpus."""
    n = 24 << 20                                      # 48 MB of units
    folder = tmp_path / "entry"
    folder.mkdir()
    np.ones(n, np.uint16).tofile(folder / "units.u16")
    np.array([0, n // 2, n], np.int64).tofile(folder / "sentence_starts.i64")
    np.array([1, 1], np.uint8).tofile(folder / "line_start.u8")
    mapped = MappedCorpus(str(folder), {"units": n, "sentence_starts": 3, "line_start": 2})

    def rss_file_mb():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("RssFile:")) / 1024

    before = rss_file_mb()
    assert int(mapped.arrays["units"].sum(dtype=np.int64)) == n       # touch every page
    touched = rss_file_mb()
    mapped.release(0, 2)
    after = rss_file_mb()
    assert touched - before > 40 and after - before < 5, (before, touched, after)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "cc", "d", "zz", "e"]), max_size=30),
                max_size=40), st.integers(1, 7), st.lists(st.integers(1, 50), max_size=30))
def test_drained_encoding_equals_the_whole(sentences, max_len, cuts):
    text = "".join(" ".join(s) + "\n" for s in sentences).encode()
    pieces, pos = [], 0
    for c in cuts:
        pieces.append(text[pos:pos + c])
        pos += c
    pieces.append(text[pos:])

    def table():
        t = _text.TokenTable(1000, 0)
        t.feed(b"a b cc d zz\n")
        t.finish()
        t.start_encoding(np.array([0, 1, 2, 3, 4], np.int32), max_len)
        return t
    whole = table()
    for p in pieces:
        whole.feed(p)
    whole.finish()
    units, starts, line_start, n = whole.take_encoded()
    drained = table()
    got_units, got_starts, got_lines, offset = [], [], [], 0
    for p in pieces:
        drained.feed(p)
        u, s, ls = drained.drain_encoded()
        got_units.append(u)
        got_starts.append(s + offset)
        got_lines.append(ls)
        offset += len(u)
    drained.finish()
    u, s, ls, n2 = drained.take_encoded()
    got_units.append(u)
    got_starts.append(s + offset)
    got_lines.append(ls)
    np.testing.assert_array_equal(np.concatenate(got_units), units)
    np.testing.assert_array_equal(np.concatenate(got_starts), starts)
    np.testing.assert_array_equal(np.concatenate(got_lines), line_start)
    assert n == n2


def test_blocks_cover_the_shard_exactly():
    enc = w2v.corpus.EncodedCorpus.from_ids(np.zeros(1000, np.int32),
                                            np.arange(0, 1001, 10, dtype=np.int64))
    for units in (1, 7, 10, 95, 1000, 5000):
        parts = w2v.corpus.blocks(enc, 3, 97, units)
        assert parts[0][0] == 3 and parts[-1][1] == 97
        assert all(a < b and b == c for (a, b), (c, _) in zip(parts, parts[1:]))
        # cuts fall on the first sentence at or after each multiple of ``units``, so a
        # block is within one sentence (10 units here) of its share
        sizes = [enc.sentence_starts[b] - enc.sentence_starts[a] for a, b in parts[:-1]]
        assert all(abs(size - max(units, 10)) < 10 for size in sizes)


def test_cache_entry_names_follow_the_file(corpus, cache):
    a = CacheEntry(str(corpus), {"k": 1}, cache)
    b = CacheEntry(str(corpus), {"k": 2}, cache)
    assert a.path_key == b.path_key and a.folder != b.folder
    os.utime(corpus, ns=(1, 1))
    assert CacheEntry(str(corpus), {"k": 1}, cache).folder != a.folder


# ------------------------------------------------------------------ parallel counting/encoding
def _build(path, monkeypatch, threads, **options):
    from w2v.config import TrainConfig
    monkeypatch.setattr(w2v.vocab, "MIN_PART_BYTES", 64)
    return w2v.vocab.build(str(path), TrainConfig(threads=threads, **options))


def _same_encoding(a, b):
    np.testing.assert_array_equal(a.units, b.units)
    np.testing.assert_array_equal(a.sentence_starts, b.sentence_starts)
    np.testing.assert_array_equal(a.line_start, b.line_start)
    assert (a.n_words, a.raw_tokens) == (b.n_words, b.raw_tokens)


def _same_vocab(a, b):
    assert a.words == b.words
    np.testing.assert_array_equal(a.counts, b.counts)
    assert (a.raw_tokens, a.distinct_tokens, a.truncated_words, a.pruned) == \
        (b.raw_tokens, b.distinct_tokens, b.truncated_words, b.pruned)


@pytest.mark.parametrize("threads", [2, 3, 7])
@pytest.mark.parametrize("cache_mode", ["memory", "disk"])
def test_parallel_passes_give_one_threads_vocabulary_and_encoding(corpus, cache, monkeypatch,
                                                                  threads, cache_mode):
    one_vocab, one = _build(corpus, monkeypatch, 1, min_count=2, corpus_cache="memory")
    vocab, enc = _build(corpus, monkeypatch, threads, min_count=2, corpus_cache=cache_mode,
                        cache_dir=cache, max_sentence_length=7)
    _same_vocab(one_vocab, vocab)
    _, one_short = _build(corpus, monkeypatch, 1, min_count=2, corpus_cache="memory",
                          max_sentence_length=7)
    _same_encoding(one_short, enc)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from([b"a", b"bb", b"caf\xe9", b"caf\xc3\xa9", b"x" * 30,
                                          b"\xff", b"d"]), max_size=25), min_size=1, max_size=60),
       st.integers(2, 6), st.integers(1, 9), st.integers(1, 3))
def test_parallel_passes_equal_one_thread_on_any_text(tmp_path_factory, lines, threads, max_len,
                                                      min_count):
    from w2v.config import TrainConfig
    path = tmp_path_factory.mktemp("par") / "c.txt"
    path.write_bytes(b"".join(b" ".join(line) + b"\n" for line in lines))
    results = []
    old = w2v.vocab.MIN_PART_BYTES
    w2v.vocab.MIN_PART_BYTES = 1
    try:
        for n in (1, threads):
            cfg = TrainConfig(threads=n, min_count=min_count, max_sentence_length=max_len,
                              max_word_bytes=10, corpus_cache="memory")
            try:
                results.append(w2v.vocab.build(str(path), cfg))
            except w2v.CorpusError as e:
                results.append(str(e))
    finally:
        w2v.vocab.MIN_PART_BYTES = old
    if isinstance(results[0], str):
        assert results[1] == results[0]
        return
    _same_vocab(results[0][0], results[1][0])
    _same_encoding(results[0][1], results[1][1])


def test_pruning_and_compressed_files_count_on_one_thread(tmp_path, corpus, monkeypatch):
    import gzip
    from w2v.config import TrainConfig
    from w2v.corpus import TextSource
    monkeypatch.setattr(w2v.vocab, "MIN_PART_BYTES", 64)
    assert len(w2v.vocab._parts(TextSource(str(corpus)), TrainConfig(threads=4))) == 4
    assert len(w2v.vocab._parts(TextSource(str(corpus)),
                                TrainConfig(threads=4, max_vocab_size=50))) == 1
    packed = tmp_path / "c.txt.gz"
    packed.write_bytes(gzip.compress(corpus.read_bytes()))
    assert len(w2v.vocab._parts(TextSource(str(packed)), TrainConfig(threads=4))) == 1
    a = w2v.vocab.build(str(packed), TrainConfig(threads=4, min_count=2))
    b = w2v.vocab.build(str(corpus), TrainConfig(threads=4, min_count=2))
    _same_vocab(a[0], b[0])
    _same_encoding(a[1], b[1])


def test_an_error_in_one_part_stops_the_others(corpus, monkeypatch):
    from w2v.config import TrainConfig
    monkeypatch.setattr(w2v.vocab, "MIN_PART_BYTES", 64)
    data = corpus.read_bytes()
    corpus.write_bytes(data[:len(data) // 2] + b"\0" + data[len(data) // 2:])
    with pytest.raises(w2v.CorpusError, match="NUL byte"):
        w2v.vocab.build(str(corpus), TrainConfig(threads=3))


def test_encoding_tables_shrink_to_the_vocabulary():
    table = _text.TokenTable(1000, 0)
    table.feed(b"a b c d a b a\nzz " + b"q" * 40 + b"\n")
    table.finish()
    words, _ = table.entries()
    ids = np.array([{b"a": 0, b"b": 1, b"zz": 2}.get(w, -1) for w in words], np.int32)
    kept = table.keep_only(ids)
    assert len(table) == 3 and sorted(kept.tolist()) == [0, 1, 2]
    assert table.lookup_count(b"c") == 0 and table.lookup_count(b"a") == 3
    table.start_encoding(kept, 100)
    table.feed(b"a c b d zz " + b"q" * 40 + b"\n")
    table.finish()
    units, starts, line_start, n_words = table.take_encoded()
    assert units.tolist() == [0, 1, 2] and n_words == 3 and table.tokens == 6
