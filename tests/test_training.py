"""End-to-end training: determinism, thread independence, quality, loss."""
import subprocess
import sys

import numpy as np
import pytest

import w2v
from w2v import _core, _text, engine, trainer, vocab
from w2v.config import TrainConfig
from w2v.demo import generate_sentences, planted_analogies
from w2v.errors import ConfigError, CorpusError

MODES = {
    "sg-ns": dict(sg=True),
    "cbow-ns": dict(sg=False),
    "sg-hs": dict(sg=True, negative=0, hs=True),
    "cbow-hs": dict(sg=False, negative=0, hs=True),
}


def planted_hits(model):
    """Planted analogies answered right (plain numpy, independent of w2v.vectors)."""
    M = model.vectors / np.linalg.norm(model.vectors, axis=1, keepdims=True)
    idx = {w: i for i, w in enumerate(model.words)}
    hits = 0
    for a, b, c, d in planted_analogies():
        sims = M @ (M[idx[b]] - M[idx[a]] + M[idx[c]])
        sims[[idx[a], idx[b], idx[c]]] = -np.inf
        hits += model.words[int(sims.argmax())] == d
    return hits


@pytest.fixture(scope="module")
def planted_small():
    return generate_sentences(15000, seed=3)


@pytest.mark.parametrize("mode", list(MODES))
def test_single_thread_seed_is_bit_identical(planted_small, mode):
    opts = dict(MODES[mode], size=20, epochs=2, threads=1, seed=7, min_count=1)
    a = w2v.train(planted_small, **opts)
    b = w2v.train(planted_small, **opts)
    np.testing.assert_array_equal(a.input_vectors, b.input_vectors)
    for x, y in [(a.output_ns, b.output_ns), (a.output_hs, b.output_hs)]:
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(x, y)
    assert a.epoch_losses == b.epoch_losses
    c = w2v.train(planted_small, **dict(opts, seed=8))
    assert not np.array_equal(a.input_vectors, c.input_vectors)


def test_initialisation_does_not_depend_on_thread_count():
    v, _ = vocab.build([["a", "b", "c"], ["b", "c"]], TrainConfig(min_count=1))
    m1 = engine.init_model(TrainConfig(threads=1, min_count=1), v)
    m8 = engine.init_model(TrainConfig(threads=8, min_count=1), v)
    np.testing.assert_array_equal(m1.input_vectors, m8.input_vectors)
    assert np.abs(m1.input_vectors).max() <= 0.5 / 100


def test_initial_vectors_are_seeded_uniform_values():
    a, b, c = (np.empty((400, 50), np.float32) for _ in range(3))
    _core.uniform_init(a, 7)
    _core.uniform_init(b, 7)
    _core.uniform_init(c, 8)
    np.testing.assert_array_equal(a, b)
    assert np.mean(a == c) < 0.01
    assert a.min() >= -0.5 / 50 and a.max() < 0.5 / 50
    # uniform over the range: each tenth holds a tenth of the 20,000 values (sd 0.002)
    tenths = np.histogram(a, bins=10, range=(-0.5 / 50, 0.5 / 50))[0] / a.size
    assert np.all(np.abs(tenths - 0.1) < 0.01)
    # rows are not copies of each other, nor columns (one stream, row after row)
    assert abs(np.corrcoef(a[:-1].ravel(), a[1:].ravel())[0, 1]) < 0.03
    assert abs(np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]) < 0.03


def test_training_does_not_load_numpy_random(tmp_path):
    """numpy.random costs 6 MB of resident memory; the training path has no use for it."""
    script = (
        "import sys, w2v\n"
        "model = w2v.train([list('abcdefgh'), list('hgfedcba')] * 50, min_count=1, size=8, "
        "epochs=1, threads=2)\n"
        f"model.save({str(tmp_path / 'v.bin')!r})\n"
        "assert 'numpy.random' not in sys.modules, 'numpy.random was imported'\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "v.bin").stat().st_size > 0


# Calibration (planted corpus of 40k sentences, 29 planted analogies, size 50, 5 epochs,
# sample 0, seeds 1-5 x threads 1 and 4, at commit d5ebdd0): sg-ns and cbow-ns 29/29 in all 10
# runs; sg-hs 20-23; cbow-hs 23-25. Thresholds sit 2-3 below the worst run seen.
THRESHOLDS = {"sg-ns": 27, "cbow-ns": 27, "sg-hs": 17, "cbow-hs": 21}


@pytest.mark.parametrize("mode", list(MODES))
def test_planted_analogies_recovered_single_and_multi_thread(planted_corpus, mode):
    hits = {}
    for threads in (1, 4):
        model = w2v.train(planted_corpus, size=50, epochs=5, sample=0, threads=threads, seed=2,
                          **MODES[mode])
        hits[threads] = planted_hits(model)
        assert hits[threads] >= THRESHOLDS[mode], (threads, hits)
        # the loss of the objective falls over epochs on this corpus
        assert model.epoch_losses[-1] < model.epoch_losses[0]
    # multi-thread quality matches single-thread quality
    assert abs(hits[4] - hits[1]) <= 6, hits


def test_cbow_loss_falls_every_epoch_on_real_text(small_corpus):
    model = w2v.train(small_corpus, sg=False, threads=2, epochs=4)
    losses = model.epoch_losses
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


def test_skipgram_objective_falls_with_training_on_real_text(small_corpus):
    """The objective at the frozen final weights (one pass with alpha ~ 0) falls as
    training goes on. (The on-the-fly loss of skip-gram can rise in late epochs:
    with a large alpha, consecutive updates of one window help each other, and
    that help fades as alpha decays; see README.)"""
    cfg = TrainConfig.from_options(sg=True, threads=1, epochs=1, size=50)
    v, enc = vocab.build(small_corpus, cfg)
    model = engine.init_model(cfg, v)
    frozen = []
    for _ in range(3):
        trainer.run_epochs(model, enc, 1)
        trainer.run_epochs(model, enc, 1, start_alpha=1e-12, end_alpha=1e-12)
        frozen.append(model.epoch_losses[-1])
    assert frozen[0] > frozen[1] > frozen[2], frozen


# Measured on small.txt (1M tokens), 2 threads, size 100, window 5, negative 5, sample 1e-3,
# 5 epochs, seeds 1-3: wordsim353 Spearman, w2v vs gensim 4.4.0 corpus_file mode:
#   cbow: w2v 0.299-0.308, gensim 0.228-0.241;  sg: w2v 0.325-0.339, gensim 0.325-0.337
#   (skip-gram with per-pair updates, --sg-pairs, gave 0.295-0.315, like the C tool's 0.302).
# Margin: 0.05 below gensim, about twice the largest seed-to-seed spread seen.
MARGIN = 0.05


@pytest.mark.parametrize("sg", [False, True])
def test_wordsim_close_to_gensim_on_small_corpus(small_corpus, eval_dir, sg):
    gensim_models = pytest.importorskip("gensim.models", reason="gensim is a test extra")
    ws = str(eval_dir / "wordsim353.tsv")
    ref = gensim_models.Word2Vec(corpus_file=small_corpus, vector_size=100, window=5, negative=5,
                                 hs=0, sample=1e-3, epochs=5, min_count=5, workers=2, sg=int(sg),
                                 seed=1)
    ref_score = ref.wv.evaluate_word_pairs(ws)[1][0]
    model = w2v.train(small_corpus, sg=sg, threads=2, epochs=5, seed=1)
    kv = gensim_models.KeyedVectors(model.vectors.shape[1])
    kv.add_vectors(model.words, model.vectors)
    ours = kv.evaluate_word_pairs(ws)[1][0]
    assert ours >= ref_score - MARGIN, (ours, ref_score)


def test_training_errors_are_specific(tmp_path):
    with pytest.raises(ConfigError, match="--size"):
        w2v.train([["a", "b"]], size=0)
    with pytest.raises(CorpusError, match="at least 2"):
        w2v.train([["a", "a"]], min_count=1)
    with pytest.raises(CorpusError, match="negative"):
        w2v.train([["a", "b", "c"]], min_count=1, negative=5)


def test_callback_sees_each_epoch_and_can_stop(planted_small):
    seen = []

    def cb(model, record):
        seen.append(record["epoch"])
        return record["epoch"] < 2

    model = w2v.train(planted_small, epochs=5, size=10, threads=2, callbacks=[cb], min_count=1)
    assert seen == [1, 2] and len(model.epoch_losses) == 2


def test_long_lines_are_trained_not_dropped(tmp_path):
    """A single line far over max_sentence_length still trains every word."""
    sent = generate_sentences(3000, seed=5)
    one_line = [w for s in sent for w in s]
    model = w2v.train([one_line], size=20, epochs=2, threads=2, max_sentence_length=1000,
                      min_count=1, sample=0)
    assert model.history[-1]["words"] == 2 * len(one_line)


def test_a_worker_error_is_re_raised_after_every_thread_stopped(monkeypatch):
    """Thread 1 gets an impossible sentence range (the core raises ValueError in that
    worker); train() re-raises it on the calling thread instead of returning a model."""
    def broken_shards(encoded, n):
        bounds = np.linspace(0, encoded.n_sentences, n + 1).astype(np.int64)
        bounds[1], bounds[2] = bounds[2], bounds[1]           # shard 1: last < first
        return bounds
    monkeypatch.setattr(trainer, "shards", broken_shards)
    with pytest.raises(ValueError, match="bad sentence range"):
        w2v.train(generate_sentences(500, seed=1), threads=3, epochs=1, size=8, min_count=1)


def _hs_trainer(model, encoded, tabs, **staging):
    words_done = np.zeros(1, dtype=np.int64)
    stop = np.zeros(1, dtype=np.int32)
    stats = np.zeros(2 * _core.STATS_LAYOUT["stride"], dtype=np.float64)
    cfg = model.config
    return _core.Trainer(
        model.weights, tabs, encoded, (words_done, stop, stats),
        dict(sg=cfg.sg, cbow_mean=True, negative=0, hs=True, window=cfg.window,
             shrink_window=True, compute_loss=True, sg_batch=True,
             max_sentence_length=cfg.max_sentence_length, start_alpha=cfg.start_alpha,
             end_alpha=cfg.end_alpha, total_words=encoded.n_words, n_threads=2, **staging))


@pytest.mark.parametrize("sg", [False, True])
def test_staged_hot_nodes_add_up_to_the_plain_updates(planted_small, sg):
    """One thread staging every Huffman node with share 1 applies exactly its own updates,
    up to float rounding in ``base + (mine - base)`` at each sync: a sync that lost or
    doubled an update, or read a stale row, would move the vectors far more."""
    cfg = TrainConfig.from_options(sg=sg, hs=True, negative=0, size=16, min_count=1, threads=2)
    v, enc = vocab.build(planted_small, cfg)
    tabs = engine.WordTables(v.counts, cfg)
    results = {}
    start = (np.random.default_rng(0).random((len(v) - 1, 16)) * 0.1).astype(np.float32)
    for name, staging in (("plain", dict(hot_nodes=0)),
                          ("summed", dict(hot_nodes=len(v) - 1, hot_share=1.0)),
                          ("halved", dict(hot_nodes=len(v) - 1, hot_share=0.5))):
        model = engine.init_model(cfg, v)
        model.output_hs[:] = start
        t = _hs_trainer(model, enc, tabs, **staging)
        t.run_shard(0, 5, 0, enc.n_sentences)
        results[name] = (model.input_vectors.copy(), model.output_hs.copy())
    np.testing.assert_allclose(results["summed"][1], results["plain"][1], atol=1e-4)
    np.testing.assert_allclose(results["summed"][0], results["plain"][0], atol=1e-4)
    # the tolerance is far below what a wrong share does
    assert np.abs(results["halved"][1] - results["plain"][1]).max() > 1e-2
    assert np.abs(results["summed"][1] - start).max() > 0.05      # the nodes did train


def test_hot_nodes_option_is_validated_and_stored():
    with pytest.raises(ConfigError, match="--hot-nodes"):
        TrainConfig.from_options(hot_nodes=-1)
    assert TrainConfig.from_options(hs=True, threads=2).hot_nodes == 128


def test_words_with_wide_ids_are_trained_and_counted():
    """Ids from 65,535 up take three 16-bit units in the encoded corpus (w2v._ids): the
    core must unpack them to the right rows and count each as one word."""
    n_distinct = _text.FIRST_WIDE_ID + 300
    lines = [[f"w{(i * 37 + k) % n_distinct}" for k in range(40)] for i in range(2 * n_distinct // 40)]
    options = dict(min_count=1, size=8, epochs=2, threads=1, negative=2, window=2, sample=0,
                   seed=4)
    model = w2v.train(lines, **options)
    config = TrainConfig.from_options(**options)
    v, enc = vocab.build(lines, config)
    assert len(model) == n_distinct > _text.FIRST_WIDE_ID
    assert model.history[-1]["words"] == 2 * enc.n_words == 2 * sum(map(len, lines))
    start = engine.init_model(config, v).input_vectors
    moved = np.any(model.input_vectors != start, axis=1)
    assert moved[_text.FIRST_WIDE_ID:].all() and moved[:_text.FIRST_WIDE_ID].all()
