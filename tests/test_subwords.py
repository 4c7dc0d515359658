"""Subword vectors: fastText's n-gram scheme by hand, the core's gradients with n-gram
input rows, vectors for unseen words, the model file and fastText's own models."""
import numpy as np
import pytest
from click.testing import CliRunner

import w2v
from w2v import _core, subwords
from w2v.cli.main import main as cli
from w2v.config import TrainConfig
from w2v.errors import ConfigError, FormatError, UnknownWordError
from w2v.subwords import Scheme, fnv1a, ngram_buckets, ngrams

from test_kernels import make, numeric_grad, reference_loss

V = 12   # the kernels' test vocabulary (test_kernels.make)


# ----------------------------------------------------------------------------- the scheme
@pytest.mark.parametrize("word,minn,maxn,expected", [
    # fastText's documented example: "where" with 3-grams
    ("where", 3, 3, ["<wh", "whe", "her", "ere", "re>"]),
    # by start position, then length
    ("where", 3, 4, ["<wh", "<whe", "whe", "wher", "her", "here", "ere", "ere>", "re>"]),
    # lone boundary markers are not n-grams, single letters are
    ("ab", 1, 2, ["<a", "a", "ab", "b", "b>"]),
    # the whole "<word>" is one when its length is in range
    ("ab", 4, 6, ["<ab>"]),
    # lengths count characters, not UTF-8 bytes
    ("né", 2, 2, ["<n", "né", "é>"]),
    # too short for any
    ("a", 4, 6, []),
])
def test_ngrams_by_hand(word, minn, maxn, expected):
    assert ngrams(word, minn, maxn) == expected


def test_fnv1a_by_hand():
    """The standard 32-bit FNV-1a test vectors for ASCII; for a byte >= 0x80, fastText
    XORs in the byte sign-extended (0xE9 -> 0xFFFFFFE9), which the standard hash does not."""
    assert fnv1a(b"") == 0x811C9DC5
    assert fnv1a(b"a") == 0xE40C292C
    assert fnv1a(b"foobar") == 0xBF9CF968
    # (0x811C9DC5 ^ 0xFFFFFFE9) * 16777619 mod 2**32, worked out: 0x7EE3622C * 0x01000193
    assert fnv1a(b"\xe9") == (0x7EE3622C * 0x01000193) % 2 ** 32
    standard = ((0x811C9DC5 ^ 0xE9) * 0x01000193) % 2 ** 32
    assert fnv1a(b"\xe9") != standard


def test_compiled_vocabulary_rows_equal_the_reference():
    rng = np.random.default_rng(0)
    alphabet = list("abcdefghijklmnopqrstuvwxyz") + ["é", "ß", "ж", "中", "😀"]
    words = ["".join(rng.choice(alphabet, size=rng.integers(1, 14))) for _ in range(400)]
    for minn, maxn, buckets in ((3, 6, 2_000_000), (1, 3, 97), (2, 2, 1)):
        starts, rows = Scheme(minn, maxn, buckets).vocab_rows(words)
        assert starts[0] == 0 and starts[-1] == len(rows) and rows.dtype == np.int32
        for k, w in enumerate(words):
            assert rows[starts[k]:starts[k + 1]].tolist() == ngram_buckets(w, minn, maxn, buckets), w


# ----------------------------------------------------------------------------- gradients
def _subword_case(seed):
    """Kernel test arrays plus n-gram rows: word w's rows are w, then V + each of its
    buckets. Words 3 and 4 list bucket 2 twice (a repeated n-gram counts twice)."""
    inp, out_ns, out_hs, huff = make(seed=seed)
    rng = np.random.default_rng(seed)
    ngram_vectors = (rng.standard_normal((9, inp.shape[1])) * 0.5).astype(np.float32)
    lists = [[] for _ in range(V)]
    lists[1], lists[3], lists[4], lists[6], lists[9] = [0, 5], [2, 2, 7], [1, 3], [4], [6, 8]
    starts = np.concatenate([[0], np.cumsum([len(x) for x in lists])]).astype(np.int64)
    rows = np.array([b for x in lists for b in x], dtype=np.int32)
    return inp, out_ns, out_hs, huff, ngram_vectors, lists, starts, rows


def _stacked_rows(word, lists):
    return [word] + [V + b for b in lists[word]]


@pytest.mark.parametrize("inputs,use_ns,use_hs,cbow_mean", [
    ([3], True, False, True),             # skip-gram pairs: one word, h = the mean of its rows
    ([1, 3, 6, 9], True, False, True),    # CBOW-mean over every row of every context word
    ([1, 3, 6, 9], False, True, True),
    ([1, 6], True, True, False),          # CBOW-sum
], ids=["sg", "cbow-mean-ns", "cbow-mean-hs", "cbow-sum-ns+hs"])
def test_subword_inputs_move_by_minus_alpha_times_gradient(inputs, use_ns, use_hs, cbow_mean):
    """h is the mean (or sum) of all the inputs' rows, n-gram rows included; each row
    moves by -alpha x n_rows x dJ/drow for the mean (the undivided step every input row
    gets, fastText's convention as word2vec's for CBOW-mean), -alpha x dJ/drow for the sum."""
    inp, out_ns, out_hs, huff, ngr, lists, starts, rows = _subword_case(seed=len(inputs))
    stacked = np.vstack([inp, ngr]).astype(np.float64)
    all_rows = [r for w in inputs for r in _stacked_rows(w, lists)]
    target, noise, alpha = 7, [0, 2, 10], 0.05
    ns64, hs64 = out_ns.astype(np.float64), out_hs.astype(np.float64)

    def f():
        return reference_loss(stacked, ns64, hs64, huff, all_rows, target, noise, use_ns,
                              use_hs, cbow_mean)

    expected_loss = f()
    touched = sorted(set(all_rows))
    g_rows = numeric_grad(f, stacked, touched)
    g_ns = numeric_grad(f, ns64, [target] + noise)
    a, b, c, n = inp.copy(), out_ns.copy(), out_hs.copy(), ngr.copy()
    paths = huff.packed()
    loss = _core.py_train_example(a, b if use_ns else None, c if use_hs else None, paths.units,
                                  paths.starts, inputs, target, noise, use_hs, cbow_mean, alpha,
                                  subwords=(n, starts, rows))
    assert loss == pytest.approx(expected_loss, rel=1e-4)
    factor = len(all_rows) if cbow_mean else 1
    after = np.vstack([a, n])
    before = np.vstack([inp, ngr])
    np.testing.assert_allclose(after[touched] - before[touched], -alpha * factor * g_rows,
                               atol=3e-5)
    if use_ns:
        np.testing.assert_allclose(b[[target] + noise] - out_ns[[target] + noise],
                                   -alpha * g_ns, atol=3e-5)
    untouched = np.setdiff1d(np.arange(len(before)), touched)
    np.testing.assert_array_equal(after[untouched], before[untouched])


def test_subword_skipgram_window_moves_by_minus_alpha_times_gradient():
    """Batched skip-gram: each context word's vector is the mean of its rows; every row
    of word b moves by -alpha x n_rows(b) x dJ/drow (no row is shared between words here)."""
    inp, out_ns, out_hs, huff, ngr, lists, starts, rows = _subword_case(seed=21)
    contexts, centre, noise, alpha = [1, 4, 9, 2], 6, [0, 3, 11], 0.05
    stacked = np.vstack([inp, ngr]).astype(np.float64)
    ns64, hs64 = out_ns.astype(np.float64), out_hs.astype(np.float64)

    def f():
        return sum(reference_loss(stacked, ns64, hs64, huff, _stacked_rows(w, lists), centre,
                                  noise, True, True, True) for w in contexts)

    expected = f()
    a, b, c, n = inp.copy(), out_ns.copy(), out_hs.copy(), ngr.copy()
    paths = huff.packed()
    loss = _core.py_train_window_sg(a, b, c, paths.units, paths.starts, contexts, centre, noise,
                                    True, alpha, subwords=(n, starts, rows))
    assert loss == pytest.approx(expected, rel=1e-4)
    after, before = np.vstack([a, n]), np.vstack([inp, ngr])
    for w in contexts:
        own = _stacked_rows(w, lists)
        g = numeric_grad(f, stacked, own)
        np.testing.assert_allclose(after[own] - before[own], -alpha * len(own) * g, atol=3e-5)
    g_ns = numeric_grad(f, ns64, [centre] + noise)
    np.testing.assert_allclose(b[[centre] + noise] - out_ns[[centre] + noise], -alpha * g_ns,
                               atol=3e-5)


@pytest.mark.parametrize("sg", [True, False], ids=["sg", "cbow"])
def test_window_cache_equals_updating_every_row(sg):
    """The window cache (each position's vector composed once, its change added to its rows
    when it leaves the window) trains what updating every row after every example does,
    when no two words in a window share a row: words of two letters have n-grams ("<ab",
    "ab>", "<ab>") of their own, and no word repeats within a window."""
    from types import SimpleNamespace
    from w2v import tables
    from w2v.corpus import EncodedCorpus
    letters = "abcdefghij"
    words = [x + y for x in letters for y in letters if x != y][:30]
    scheme = Scheme(3, 4, 100_003)
    starts, rows = scheme.vocab_rows(words)
    assert len(set(rows.tolist())) == len(rows)                 # no shared n-gram row
    rng = np.random.default_rng(0)
    order = rng.permutation(len(words))
    ids = np.concatenate([np.roll(order, k)[:25] for k in range(60)])   # 25 distinct a line
    corpus = EncodedCorpus.from_ids(ids, np.arange(0, len(ids) + 1, 25))
    counts = np.arange(len(words), 0, -1, dtype=np.int64) * 10
    tabs = SimpleNamespace(keep=None, noise=tables.alias_table(tables.noise_distribution(counts)).packed(),
                           paths=None, path_starts=None, ngram_starts=starts, ngram_rows=rows)
    start = (rng.standard_normal((len(words), 8)) * 0.3).astype(np.float32)
    start_ngrams = (rng.standard_normal((scheme.buckets, 8)) * 0.3).astype(np.float32)
    results = []
    for cache in (True, False):
        weights = dict(input_vectors=start.copy(), ngram_vectors=start_ngrams.copy(),
                       output_ns=np.zeros_like(start), output_hs=None)
        trainer = _core.Trainer(
            weights, tabs, corpus, (np.zeros(1, np.int64), np.zeros(1, np.int32),
                                    np.zeros(_core.STATS_LAYOUT["stride"], np.float64)),
            dict(sg=sg, cbow_mean=True, negative=3, hs=False, window=3, shrink_window=True,
                 compute_loss=True, sg_batch=True, max_sentence_length=100, start_alpha=0.05,
                 end_alpha=0.0001, total_words=len(ids), n_threads=1, cache_subwords=cache))
        loss, examples, *_ = trainer.run_shard(0, 5, 0, corpus.n_sentences)
        results.append((weights, loss, examples))
    (cached, loss_c, ex_c), (direct, loss_d, ex_d) = results
    assert ex_c == ex_d > 0 and loss_c == pytest.approx(loss_d, rel=1e-5)
    moved = np.abs(direct["ngram_vectors"] - start_ngrams).max()
    assert moved > 0.01                                         # the n-gram rows did train
    for name in ("input_vectors", "ngram_vectors", "output_ns"):
        np.testing.assert_allclose(cached[name], direct[name], atol=2e-6, err_msg=name)


def test_kernels_refuse_bad_ngram_lists():
    inp, out_ns, out_hs, huff, ngr, lists, starts, rows = _subword_case(seed=1)
    bad_rows = rows.copy()
    bad_rows[0] = len(ngr)
    with pytest.raises(ValueError, match="outside"):
        _core.py_train_example(inp, out_ns, None, None, None, [1], 7, [0], False, True, 0.1,
                               subwords=(ngr, starts, bad_rows))
    with pytest.raises(ValueError, match="ngram_starts"):
        _core.py_train_example(inp, out_ns, None, None, None, [1], 7, [0], False, True, 0.1,
                               subwords=(ngr, starts[:-1], rows))


# ----------------------------------------------------------------------------- training
@pytest.fixture(scope="module")
def subword_model(small_corpus):
    return w2v.train(small_corpus, subwords=(3, 6), buckets=200_000, epochs=2, threads=2, seed=3)


def test_unseen_word_is_the_mean_of_its_ngram_rows(subword_model):
    m = subword_model
    word = "kingdomz"
    assert word not in m.wv and m.wv.built_from_ngrams(word)
    rows = [fnv1a(g.encode()) % 200_000 for g in ngrams(word, 3, 6)]
    expected = m.ngram_vectors[rows].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(m.wv[word], expected, rtol=1e-5, atol=1e-7)
    assert m.wv.get(word) is not None and m.wv[[word, "king"]].shape == (2, m.wv.dim)


def test_vocabulary_word_is_the_mean_of_its_row_and_ngram_rows(subword_model):
    m = subword_model
    for word in ("king", "the", "philosophy"):
        rows = [fnv1a(g.encode()) % 200_000 for g in ngrams(word, 3, 6)]
        own = m.input_vectors[m.words.index(word)].astype(np.float64)
        expected = (own + m.ngram_vectors[rows].astype(np.float64).sum(axis=0)) / (1 + len(rows))
        np.testing.assert_allclose(m.wv[word], expected, rtol=1e-5, atol=1e-7)
        assert not m.wv.built_from_ngrams(word)


def test_misspellings_find_their_word(subword_model):
    """Quality: a word with one letter appended, never seen in training, has the word
    itself as its nearest neighbour for most frequent long words (without subwords it
    would have no vector at all)."""
    wv = subword_model.wv
    words = [w for w in subword_model.words[:3000] if len(w) >= 7][:100]
    hits = sum(wv.most_similar(w + "q", topn=1)[0][0] == w for w in words)
    assert hits >= 70, hits


def test_unseen_words_work_in_every_query(subword_model):
    wv = subword_model.wv
    assert -1 <= wv.similarity("kingdomz", "kingdom") <= 1
    assert wv.most_similar(positive=["kingz"], negative=["manz"], topn=3)
    assert wv.analogy("kingz - manz + womanz", topn=2)
    assert len(wv.most_similar_batch(["kingdomz", "king"], topn=2)) == 2
    assert wv.doesnt_match(["kingz", "queenz", "zzzcarburettor"])


def test_a_word_without_ngrams_is_unknown():
    wv = w2v.vectors.Vectors(["aa", "bb"], np.eye(2, dtype=np.float32),
                             ngrams=subwords.NgramVectors(Scheme(5, 6, 4),
                                                          np.ones((4, 2), np.float32)))
    assert wv["abcd"].tolist() == [1.0, 1.0]        # "<abcd>" has n-grams of 5 and 6
    with pytest.raises(UnknownWordError, match="'x'"):
        wv["x"]                                      # "<x>" is shorter than 5
    assert not wv.built_from_ngrams("x") and wv.get("x") is None


def test_subword_training_is_reproducible_with_one_thread(tmp_path):
    path = tmp_path / "c.txt"
    from w2v.demo import generate_sentences
    path.write_text("\n".join(" ".join(s) for s in generate_sentences(3000, seed=2)))
    runs = [w2v.train(str(path), subwords=(2, 4), buckets=5000, threads=1, seed=9, epochs=1,
                      min_count=1, sg=sg) for sg in (True, True, False)]
    np.testing.assert_array_equal(runs[0].ngram_vectors, runs[1].ngram_vectors)
    np.testing.assert_array_equal(runs[0].input_vectors, runs[1].input_vectors)
    assert not np.array_equal(runs[0].ngram_vectors, runs[2].ngram_vectors)
    plain = w2v.train(str(path), threads=1, seed=9, epochs=1, min_count=1, sg=True)
    assert plain.ngram_vectors is None and plain.wv.ngrams is None


# ----------------------------------------------------------------------------- files
def test_model_file_keeps_the_ngrams(subword_model, tmp_path):
    m = subword_model
    m.save(tmp_path / "m.w2v")
    m.save(tmp_path / "m.bin")
    v = w2v.load(tmp_path / "m.w2v")
    np.testing.assert_array_equal(v.matrix, m.wv.matrix)
    np.testing.assert_array_equal(v["kingdomz"], m.wv["kingdomz"])
    assert v.built_from_ngrams("kingdomz")
    # .bin holds the vocabulary's word vectors (composed), and no n-grams
    b = w2v.load(tmp_path / "m.bin")
    np.testing.assert_array_equal(b.matrix, m.wv.matrix)
    with pytest.raises(UnknownWordError):
        b["kingdomz"]
    # vectors saved again keep the n-grams; such a file cannot be resumed
    v.save(tmp_path / "v.w2v")
    v2 = w2v.load(tmp_path / "v.w2v")
    np.testing.assert_array_equal(v2.matrix, v.matrix)
    np.testing.assert_array_equal(v2["kingdomz"], v["kingdomz"])
    with pytest.raises(FormatError, match="n-gram rows"):
        w2v.load_model(tmp_path / "v.w2v")
    full = w2v.load_model(tmp_path / "m.w2v")
    assert full.config.subwords == (3, 6)
    np.testing.assert_array_equal(full.ngram_vectors, m.ngram_vectors)


def test_resume_trains_the_ngrams_on(subword_model, small_corpus, tmp_path):
    subword_model.save(tmp_path / "m.w2v")
    with open(small_corpus, "rb") as f:
        (tmp_path / "more.txt").write_bytes(f.read(300_000))
    resumed = w2v.resume(tmp_path / "m.w2v", str(tmp_path / "more.txt"), epochs=1, threads=1)
    assert resumed.config.subwords == (3, 6) and resumed.wv.built_from_ngrams("kingdomz")
    assert not np.array_equal(resumed.ngram_vectors, subword_model.ngram_vectors)
    # the file (a copy-on-write map) is untouched
    np.testing.assert_array_equal(w2v.load_model(tmp_path / "m.w2v").ngram_vectors,
                                  subword_model.ngram_vectors)


def test_cluster_training_refuses_subwords(tmp_path):
    (tmp_path / "c.txt").write_text("a b c\n")
    with pytest.raises(ConfigError, match="--subwords is not supported with --cluster"):
        w2v.train(str(tmp_path / "c.txt"), subwords=(3, 6), cluster="local", workers=2,
                  threads_per_worker=1)


def test_gensim_reads_the_exported_vectors(subword_model, tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    subword_model.save(tmp_path / "m.bin")
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "m.bin"), binary=True)
    np.testing.assert_array_equal(kv["king"], subword_model.wv["king"])


def test_truncated_ngram_block_is_refused(subword_model, tmp_path):
    subword_model.save(tmp_path / "m.w2v")
    data = (tmp_path / "m.w2v").read_bytes()
    (tmp_path / "t.w2v").write_bytes(data[:len(data) - 4000])
    with pytest.raises(FormatError, match="truncated"):
        w2v.load(tmp_path / "t.w2v")


FASTTEXT_RUN = """
import json, sys
import numpy as np
import fasttext
corpus, out, words = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
ft = fasttext.train_unsupervised(corpus, model="skipgram", dim=12, epoch=1, minCount=3, minn=2,
                                 maxn=5, bucket=3000, thread=1, lr=0.02, verbose=0)
ft.save_model(out + "/ft.bin")
vocab = ft.get_words()
np.save(out + "/vocab.npy", np.array([ft.get_word_vector(w) for w in vocab]))
np.save(out + "/unseen.npy", np.array([ft.get_word_vector(w) for w in words]))
json.dump(vocab, open(out + "/vocab.json", "w"))
"""


def test_fasttext_model_loads_with_fasttexts_vectors(tmp_path, small_corpus):
    """A fastText .bin model read here gives fastText's own vectors, for its vocabulary
    and for words it never saw: the same n-grams, hashed the same way (the unseen words
    have multi-byte characters: fastText's sign-extended bytes)."""
    pytest.importorskip("fasttext", reason="fastText's binding (fasttext-numpy2)")
    import json
    import subprocess
    import sys
    corpus = tmp_path / "c.txt"          # real text: on the planted corpus fastText 0.10.4
    with open(small_corpus, "rb") as f:   # stops with "Encountered NaN" more often than not
        corpus.write_bytes(f.read(1_500_000))
    unseen = ["kingly", "cafés", "naïve", "日本", "straße", "zzzq"]
    # fastText trains in a fresh process: in a process whose heap has been used, its binding
    # (0.10.4) often stops with "Encountered NaN" (it seems to read memory it never set)
    subprocess.run([sys.executable, "-c", FASTTEXT_RUN, str(corpus), str(tmp_path),
                    json.dumps(unseen)], check=True, cwd=tmp_path)
    v = w2v.load(tmp_path / "ft.bin")
    assert v.words == json.loads((tmp_path / "vocab.json").read_text())
    assert v.ngrams.scheme == Scheme(2, 5, 3000)
    np.testing.assert_allclose(v.matrix, np.load(tmp_path / "vocab.npy"), rtol=1e-5, atol=1e-6)
    assert all(v.built_from_ngrams(w) for w in unseen)
    np.testing.assert_allclose(v[unseen], np.load(tmp_path / "unseen.npy"), rtol=1e-5, atol=1e-6)
    info = w2v.io.info(tmp_path / "ft.bin")
    assert (info["format"], info["vocab_size"], info["dim"]) == ("fasttext", len(v), 12)
    assert info["subwords"] == {"minn": 2, "maxn": 5, "buckets": 3000}
    r = CliRunner().invoke(cli, ["convert", str(tmp_path / "ft.bin"), str(tmp_path / "ft.w2v")])
    assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(w2v.load(tmp_path / "ft.w2v")["cafés"], v["cafés"])
    data = (tmp_path / "ft.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:len(data) // 2])
    with pytest.raises(FormatError, match="truncated|promises"):
        w2v.load(tmp_path / "cut.bin")


# ----------------------------------------------------------------------------- options
@pytest.mark.parametrize("value,expected", [(0, (0, 0)), (None, (0, 0)), ("0", (0, 0)),
                                            ("3-6", (3, 6)), ("4", (4, 4)), ([2, 5], (2, 5))])
def test_subword_option_forms(value, expected):
    assert TrainConfig(subwords=value).validate().subwords == expected


@pytest.mark.parametrize("value", ["6-3", "x", "3-", (0, 3), 7, "1-101", (True, 3)])
def test_impossible_subword_options_are_refused(value):
    with pytest.raises(ConfigError, match="--subwords"):
        TrainConfig(subwords=value).validate()
    with pytest.raises(ConfigError, match="--buckets"):
        TrainConfig(subwords=(3, 6), buckets=0).validate()


def test_an_ngram_matrix_larger_than_memory_is_refused_before_any_work():
    from w2v.engine import check_ngram_memory
    config = TrainConfig(subwords=(3, 6), buckets=2_000_000, size=100).validate()
    check_ngram_memory(config, available=801_000_000)          # 800 MB fit
    with pytest.raises(ConfigError, match="--buckets 2,000,000 x --size 100 needs 0.7 GiB"):
        check_ngram_memory(config, available=700_000_000)
    check_ngram_memory(TrainConfig().validate(), available=1)  # no subwords, no matrix


def test_cli_trains_subwords_and_answers_unseen_words(tmp_path):
    from w2v.demo import generate_sentences
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(s) for s in generate_sentences(3000, seed=4)))
    runner = CliRunner()
    r = runner.invoke(cli, ["train", str(corpus), "-o", str(tmp_path / "m.w2v"), "--subwords",
                            "3-5", "--buckets", "5000", "--epochs", "1", "--min-count", "1",
                            "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["similar", "kingz", "--model", str(tmp_path / "m.w2v"), "--topn", "2"])
    assert r.exit_code == 0 and "built from character n-grams" in r.output, r.output
    r = runner.invoke(cli, ["info", "--model", str(tmp_path / "m.w2v")])
    assert "n-grams of 3-5 characters, 5,000 buckets" in r.output, r.output
    r = runner.invoke(cli, ["train", str(corpus), "-o", str(tmp_path / "x.bin"), "--subwords",
                            "5-2", "-q"])
    assert r.exit_code != 0 and "--subwords" in r.output and "Traceback" not in r.output
