"""The training engine that one machine and a cluster worker share.

:class:`Engine` owns a model's compiled trainer (:class:`w2v._core.Trainer`) and
the state its threads share: the global word count the learning rate follows,
the stop flag, and each thread's loss and example totals. An epoch is trained by
:class:`EpochThreads` (one ``threading.Thread`` per shard, each entering the nogil
core; the caller's thread stays free to draw progress, honour Ctrl-C and sync
rows) or, for a cluster worker syncing every few thousand words, by
:class:`RoundThreads` (every shard a block at a time, all threads joined between
blocks). :mod:`w2v.trainer` runs one machine with it and :mod:`w2v.cluster` the
workers of a cluster; neither imports the other's internals.
"""
from __future__ import annotations

import math
import threading
import time
from typing import List, Optional, Tuple

import numpy as np

from . import _core, tables
from .config import TrainConfig
from .cache import memory_available
from .corpus import EncodedCorpus, blocks
from .errors import ConfigError, CorpusError, TrainingDiverged
from .heap import return_freed_heap
from .threads import run_on_threads
from .finite import all_finite
from .model import OUTPUT_LAYERS, Model
from .subwords import Scheme
from .vocab import Vocab

def check_vocab(vocab: Vocab, config: TrainConfig) -> None:
    if len(vocab) < 2:
        raise CorpusError(f"the vocabulary has {len(vocab)} word(s) at min_count={config.min_count}; "
                          f"at least 2 are needed to train")
    if config.negative > 0 and len(vocab) <= config.negative:
        raise CorpusError(f"the vocabulary has only {len(vocab)} words, not more than "
                          f"--negative {config.negative} noise samples; lower --negative or --min-count")


def check_ngram_memory(config: TrainConfig, available: Optional[int] = None) -> None:
    """Refuse, before any work, an n-gram matrix (``buckets x size`` float32) larger than
    the memory available: allocating it would not fail, but filling it would bring the
    out-of-memory killer. ``available`` defaults to the system's MemAvailable."""
    if not config.uses_subwords:
        return
    need = config.buckets * config.size * 4
    available = memory_available() if available is None else available
    if available and need > available:
        raise ConfigError(f"--buckets {config.buckets:,} x --size {config.size} needs "
                          f"{need / 2 ** 30:.1f} GiB for the n-gram matrix, more than the "
                          f"{available / 2 ** 30:.1f} GiB of memory available; lower --buckets")


#: Mixed into the seed for the n-gram rows, so they are not a copy of the word rows' stream
NGRAM_SEED = 0x6E6772616D73


def init_model(config: TrainConfig, vocab: Vocab) -> Model:
    """Fresh weights: input (and n-gram) rows uniform in [-0.5/size, 0.5/size) from a
    seeded generator (independent of the thread count, like word2vec.c); outputs zero."""
    V, d = len(vocab), config.size
    input_vectors = np.empty((V, d), dtype=np.float32)
    _core.uniform_init(input_vectors, config.seed)
    outputs = {layer.name: _zero_rows(layer, V, d) if layer.used(config) else None
               for layer in OUTPUT_LAYERS}
    ngram_vectors = None
    if config.uses_subwords:          # like fastText, n-gram rows start random as word rows do
        ngram_vectors = np.empty((config.buckets, d), dtype=np.float32)
        _core.uniform_init(ngram_vectors, config.seed ^ NGRAM_SEED)
    return Model(config, vocab.words, vocab.counts, input_vectors, ngram_vectors=ngram_vectors,
                 **outputs)


def _zero_rows(layer, V: int, d: int) -> np.ndarray:
    """A fresh output layer for ``V`` words: zeros (at least one row, for the core)."""
    return np.zeros((max(layer.rows(V), 1), d), dtype=np.float32)


def grow_vocab(model: Model, counted: Vocab) -> List[str]:
    """Add to ``model`` (in place) the words of a new text that reach its min_count and it
    does not have, and merge the new text's counts (``counted``: every word of the new
    text with its count, min_count 1). Returns the words added.

    New words get rows as fresh words do (input rows uniform in [-0.5/size, 0.5/size) from
    a stream seeded by the seed and the old vocabulary size; output rows zero) after the
    existing ones, which keep their rows. The noise table, subsampling and the Huffman
    tree follow the merged counts when training resumes. A new tree gives every inner
    node a new meaning, so with hierarchical softmax the inner-node weights restart from
    zero (the word vectors are kept)."""
    config = model.config
    index = {w: i for i, w in enumerate(model.words)}
    counts = np.array(model.counts, dtype=np.int64)
    added, added_counts = [], []
    for word, count in zip(counted.words, counted.counts):
        i = index.get(word)
        if i is not None:
            counts[i] += count
        elif count >= config.min_count:
            added.append(word)
            added_counts.append(count)
    model.counts = np.concatenate([counts, np.asarray(added_counts, dtype=np.int64)])
    if not added:
        return added
    V, d = len(model.words), config.size
    fresh = np.empty((len(added), d), dtype=np.float32)
    _core.uniform_init(fresh, (config.seed + V) & 0x7FFFFFFFFFFFFFFF)
    model.input_vectors = np.concatenate([np.asarray(model.input_vectors), fresh])
    model.words = model.words + added
    new_v = len(model.words)
    for layer in OUTPUT_LAYERS:
        old = getattr(model, layer.name)
        if old is None:
            continue
        if layer.per_word:        # the new words' rows after the old ones
            grown = np.zeros((layer.rows(new_v) - old.shape[0], d), dtype=np.float32)
            setattr(model, layer.name, np.concatenate([np.asarray(old), grown]))
        else:                     # tree nodes: a new tree gives them new meanings
            setattr(model, layer.name, _zero_rows(layer, new_v, d))
    model._wv = None
    return added


class WordTables:
    """The per-word lookup tables the core reads (its ``WordTables`` struct), built once
    per run: subsampling keep thresholds, the noise alias table, Huffman paths, n-gram rows."""

    def __init__(self, counts: np.ndarray, config: TrainConfig, words=None):
        """``words`` (the vocabulary) is needed when ``config`` has subwords on: every
        word's n-gram rows are listed once, here."""
        self.keep = tables.keep_thresholds(counts, config.sample) if config.sample > 0 else None
        if config.negative > 0:
            alias = tables.alias_table(tables.noise_distribution(counts, config.ns_exponent))
            self.noise = alias.packed()
        else:
            self.noise = None
        if config.hs:
            paths = tables.huffman_codes(counts).packed()
            self.paths, self.path_starts = paths.units, paths.starts
        else:
            self.paths = self.path_starts = None
        if config.uses_subwords:
            self.ngram_starts, self.ngram_rows = Scheme.of(config).vocab_rows(words)
        else:
            self.ngram_starts = self.ngram_rows = None


def core_settings(config: TrainConfig) -> dict:
    """The settings of :class:`w2v._core.Trainer` that come from the config."""
    return dict(sg=config.sg, cbow_mean=config.cbow_mean, negative=config.negative, hs=config.hs,
                window=config.window, shrink_window=config.shrink_window,
                compute_loss=config.compute_loss, sg_batch=config.sg_batch,
                max_sentence_length=config.max_sentence_length, n_threads=config.threads,
                # one thread has nothing to contend with; staged nodes are averaged in (1/threads)
                hot_nodes=config.hot_nodes if (config.threads > 1 and config.hs) else 0)


class Engine:
    """The compiled trainer of ``model`` over ``encoded`` (``model.config.threads``
    threads; the learning rate decays from ``start_alpha`` to ``end_alpha`` over
    ``total_words`` raw words, counted over every thread, and every cluster rank)
    and the state its threads share."""

    def __init__(self, model: Model, encoded: EncodedCorpus, total_words: int,
                 start_alpha: float, end_alpha: float):
        config = model.config
        self.encoded = encoded
        self.n_threads = config.threads
        self.total_words, self.start_alpha, self.end_alpha = total_words, start_alpha, end_alpha
        self.words_done = np.zeros(1, dtype=np.int64)    # published with atomic adds
        self.stop = np.zeros(1, dtype=np.int32)          # any thread stops within a sentence
        self.stats = np.zeros(self.n_threads * _core.STATS_LAYOUT["stride"], dtype=np.float64)
        t = WordTables(model.counts, config, model.words)
        self.core = _core.Trainer(
            model.weights, t, encoded,
            (self.words_done, self.stop, self.stats),
            dict(core_settings(config), start_alpha=start_alpha, end_alpha=end_alpha,
                 total_words=total_words))
        return_freed_heap()      # the tables' float64 intermediates

    @property
    def words(self) -> int:
        """Raw words trained so far (the learning rate's clock)."""
        return int(self.words_done[0])

    def add_words(self, n: int) -> None:
        """Count ``n`` words trained elsewhere (other cluster ranks) into the clock."""
        _core.add_words_done(self.words_done, n)

    def loss_and_examples(self) -> Tuple[float, float]:
        """The running epoch's summed loss and example count over the threads."""
        per_thread = self.stats.reshape(self.n_threads, _core.STATS_LAYOUT["stride"])
        return (float(per_thread[:, _core.STATS_LAYOUT["loss"]].sum()),
                float(per_thread[:, _core.STATS_LAYOUT["examples"]].sum()))

    def alpha(self) -> float:
        """The learning rate now (the core's schedule, for display)."""
        return alpha_at(self.start_alpha, self.end_alpha, self.words, self.total_words)

    def new_epoch(self) -> None:
        self.stats[:] = 0.0


def alpha_at(start_alpha: float, end_alpha: float, done: int, total: int) -> float:
    """The learning rate after ``done`` of ``total`` raw words: linear decay from
    ``start_alpha``, never below ``end_alpha`` (the core's schedule, for display)."""
    frac = min(done / total, 1.0) if total else 1.0
    return max(end_alpha, start_alpha - (start_alpha - end_alpha) * frac)


class _ShardBlocks:
    """Every thread's shard of one epoch cut into blocks, and what its thread has
    trained so far: the RNG state and totals carry over from block to block, so
    training a shard's blocks one after another gives exactly the one call's result."""

    def __init__(self, engine: Engine, bounds, seed: int, epoch_index: int, thread_base: int,
                 units: Optional[int] = None):
        self.core, self.encoded, self.stop = engine.core, engine.encoded, engine.stop
        n = len(bounds) - 1
        self.n = n
        self.parts = [blocks(self.encoded, int(bounds[k]), int(bounds[k + 1]), units)
                      for k in range(n)]
        self.seeds = [_core.thread_seed(seed, thread_base + k, epoch_index) for k in range(n)]
        self.carry: List[Optional[tuple]] = [None] * n
        self.results: List[Optional[tuple]] = [None] * n

    def train_block(self, k: int, i: int) -> bool:
        """Train block ``i`` of shard ``k`` (a mapped corpus then releases it); True if
        the shared stop flag stopped it."""
        first, last = self.parts[k][i]
        loss, examples, words, stopped, self.carry[k] = self.core.run_shard(
            k, self.seeds[k], first, last, self.carry[k],
            last_block=i == len(self.parts[k]) - 1)
        self.encoded.release(first, last)
        self.results[k] = (loss, examples, words)
        return bool(stopped)

    def totals(self) -> tuple:
        """(loss, examples, words) summed over the shards' trained blocks."""
        done = [r for r in self.results if r is not None]
        return tuple(sum(r[i] for r in done) for i in range(3))


class EpochThreads(_ShardBlocks):
    """One epoch's worker threads, each entering the nogil core on its shard.

    ``start()`` launches them; ``join(timeout)`` waits for all (or until
    ``timeout``); ``alive()`` says whether any still runs; ``halt()`` raises the
    shared stop flag and joins. A worker's exception is kept in ``errors`` (and
    raises the stop flag, so the others stop within a sentence). ``thread_base``
    offsets the thread ids the RNG seeds derive from (a cluster rank's threads
    get ids of their own)."""

    def __init__(self, engine: Engine, bounds, seed: int, epoch_index: int, thread_base: int = 0):
        super().__init__(engine, bounds, seed, epoch_index, thread_base)
        self.errors: List[BaseException] = []

        def work(k: int) -> None:
            try:
                for i in range(len(self.parts[k])):
                    if self.train_block(k, i):
                        break
            except BaseException as exc:  # re-raised on the main thread
                self.errors.append(exc)
                self.stop[0] = 1

        self.threads = [threading.Thread(target=work, args=(k,), name=f"w2v-worker-{k}", daemon=True)
                        for k in range(self.n)]

    def start(self) -> None:
        for w in self.threads:
            w.start()

    def alive(self) -> bool:
        return any(w.is_alive() for w in self.threads)

    def join(self, timeout: Optional[float] = None) -> None:
        deadline = None if timeout is None else time.perf_counter() + timeout
        for w in self.threads:
            w.join(None if deadline is None else max(0.0, deadline - time.perf_counter()))

    def halt(self) -> None:
        self.stop[0] = 1            # every worker sees the flag within one sentence
        self.join()


class RoundThreads(_ShardBlocks):
    """One epoch's shards trained in lockstep rounds, for a cluster worker that syncs
    every ``units`` words with no thread running.

    ``train_round()`` trains the next block of about ``units`` packed units of every
    thread's shard (one thread per shard, all joined before it returns); ``done()``
    says whether every shard is finished. One thread trains exactly what
    :class:`EpochThreads` would; what differs is only when the other ranks' rows
    arrive."""

    def __init__(self, engine: Engine, bounds, seed: int, epoch_index: int, thread_base: int,
                 units: int):
        super().__init__(engine, bounds, seed, epoch_index, thread_base, units)
        self.rounds = 0
        self.stopped = False

    def done(self) -> bool:
        return self.stopped or all(self.rounds >= len(p) for p in self.parts)

    def train_round(self) -> None:
        i = self.rounds
        self.rounds += 1
        def work(k: int) -> None:
            try:
                self.stopped |= self.train_block(k, i)
            except BaseException:
                self.stop[0] = 1      # the other threads stop at their next check
                raise

        run_on_threads(work, [k for k, p in enumerate(self.parts) if i < len(p)])


def check_weights_finite(model: Model, e: int, epochs: int, mean_loss: Optional[float],
                         start_alpha: float) -> None:
    """Raise :class:`TrainingDiverged` if any weight (or the epoch's mean loss, when
    computed) is NaN or infinite after epoch ``e``: checked whatever ``compute_loss``
    says, so a diverged run is never returned or saved. One chunked pass over the
    matrices, no temporaries the size of a matrix."""
    bad = [name for name, m in model.weights.items() if m is not None and not all_finite(m)]
    if mean_loss is not None and not math.isfinite(mean_loss):
        bad.append("the loss")
    if bad:
        raise TrainingDiverged(f"training diverged in epoch {e + 1}/{epochs}: {', '.join(bad)} "
                               f"became NaN or infinite; lower --alpha (it was {start_alpha:g})")
