"""Training orchestration: vocabulary, tables, weights, threads, progress.

The heavy lifting happens in :mod:`w2v._core` without the GIL; this module
runs one ``threading.Thread`` per worker, each entering the nogil core on its
own shard of the encoded corpus. The main thread meanwhile draws progress,
honours Ctrl-C (by raising the shared stop flag) and re-raises any error a
worker hit after all threads have stopped.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable, List, Optional, Sequence

import numpy as np

from . import _core, tables
from .config import TrainConfig
from .corpus import EncodedCorpus, blocks, shards
from .errors import (ArgumentError, ConfigError, CorpusError, TrainingDiverged,
                     TrainingInterrupted, W2VError, described)
from .heap import return_freed_heap
from .io import all_finite
from .model import Model
from .progress import BarReporter, ProgressReporter
from .vocab import Vocab, build

#: seconds between progress redraws / stop-flag checks on the main thread
POLL_SECONDS = 0.2


#: :func:`train` options that shape a cluster run rather than the model
CLUSTER_OPTIONS = ("workers", "threads_per_worker", "sync_words", "sync_period", "sync_rows",
                   "sync_backend", "sync_rule", "object_store_mb")


def train(corpus, *, progress=False, callbacks: Sequence[Callable] = (), cluster=None,
          **options) -> Model:
    """Train word vectors.

    Parameters
    ----------
    corpus : path or iterable
        A text file (plain, .gz, .bz2, .xz; one sentence per line) or an
        iterable of token lists.
    progress : bool or ProgressReporter
        ``True`` draws a progress bar on stderr.
    callbacks : callables ``f(model, record)``
        Called on the main thread after each epoch with a dict (epoch, loss,
        seconds, words, alpha). Returning ``False`` stops training cleanly after
        that epoch.
    **options
        Any :class:`w2v.TrainConfig` field (``sg``, ``size``/``dim``, ``window``,
        ``negative``, ``hs``, ``sample``, ``min_count``, ``threads``,
        ``epochs``/``iter``, ``alpha``, ``min_alpha``, ``seed``, ...).

    cluster : str, optional
        Train on a Ray cluster (``pip install 'w2v[ray]'``): Ray's address
        (``auto``, ``host:6379``, ``ray://host:10001``) or ``local`` for a local
        cluster of worker processes. Then ``workers`` is the number of worker
        processes (one per node) and ``threads_per_worker`` their threads;
        ``sync_words`` (words all workers together train between sync rounds;
        0 for rounds every ``sync_period`` seconds instead), ``sync_rows``,
        ``sync_backend`` (``auto``, ``objstore`` or ``gloo``), ``sync_rule`` and
        ``object_store_mb`` tune the row averaging (see :mod:`w2v.cluster`).

    Raises :class:`ConfigError` for impossible options (before any work),
    :class:`CorpusError` for an unusable corpus and :class:`TrainingInterrupted`
    on Ctrl-C (its ``.model`` holds the weights trained so far).
    """
    callbacks = _check_callbacks(callbacks)
    cluster_options = {k: options.pop(k) for k in CLUSTER_OPTIONS if k in options}
    if cluster is not None:
        from .config import ClusterConfig
        if "threads" in options:
            raise ConfigError("with cluster=, give threads_per_worker (and workers), not threads")
        if callbacks:
            raise ConfigError("epoch callbacks are not supported with cluster=")
        cluster_config = ClusterConfig(address=cluster, **cluster_options).validate()
        config = TrainConfig.from_options(threads=cluster_config.threads_per_worker, **options)
        from .cluster import train_on_cluster
        return train_on_cluster(corpus, config, cluster_config, _reporter(progress))
    if cluster_options.keys() - {"workers"}:
        raise ConfigError(f"{', '.join(sorted(cluster_options.keys() - {'workers'}))}: "
                          f"only with cluster=")
    if "workers" in cluster_options:      # gensim's name for the thread count
        options["workers"] = cluster_options["workers"]
    config = TrainConfig.from_options(**options)
    reporter = _reporter(progress)
    phrase_record = None
    if config.phrases:
        corpus, phrase_record = join_phrases(corpus, config, reporter)
    t0 = time.perf_counter()
    vocab, encoded = build_corpus(corpus, config, reporter)
    vocab_seconds = time.perf_counter() - t0
    model = init_model(config, vocab)
    if phrase_record:
        model.history.append(phrase_record)
    model.history.append({"stage": "vocab", "seconds": vocab_seconds, "raw_tokens": vocab.raw_tokens,
                          "vocab_size": len(vocab), "train_words": encoded.n_words,
                          "encoded_bytes": encoded.nbytes, **encoded.describe()})
    run_epochs(model, encoded, config.epochs, reporter=reporter, callbacks=callbacks)
    return model


def resume(model, corpus, *, epochs: Optional[int] = None, alpha: Optional[float] = None,
           min_alpha: Optional[float] = None, threads: Optional[int] = None, progress=False,
           callbacks: Sequence[Callable] = ()) -> Model:
    """Continue training ``model`` (a :class:`Model` or a ``.w2v`` path) on ``corpus``.

    The vocabulary, counts and architecture stay those of the model; corpus words
    outside the vocabulary are skipped. The learning rate decays linearly from
    ``alpha`` to ``min_alpha`` over the new ``epochs`` passes, like a fresh run
    (defaults: the model's own start alpha, ``alpha * 1e-4`` and epochs). The
    model is updated in place (a loaded model's memory map is copy-on-write, so the
    file is never modified) and returned.
    """
    from .io import load_model
    from .vocab import encode_with_vocab
    callbacks = _check_callbacks(callbacks)
    reporter = _reporter(progress)
    if not isinstance(model, Model):
        model = load_model(model)
    if ((model.config.negative > 0 and model.output_ns is None)
            or (model.config.hs and model.output_hs is None)):
        raise W2VError("this model has no output weights (a vectors-only file?); "
                       "training can only continue from a .w2v model file")
    updates = {}
    if epochs is not None:
        updates["epochs"] = epochs
    if threads is not None:
        updates["threads"] = threads
    if alpha is not None:
        updates["alpha"] = alpha
        updates["min_alpha"] = min_alpha if min_alpha is not None else alpha * 1e-4
    elif min_alpha is not None:
        updates["min_alpha"] = min_alpha
    config = TrainConfig.from_options(**dict(model.config.to_dict_for_options(), **updates))
    model.config = config
    on_progress = _stage_progress(reporter, lambda stage: "encoding corpus")
    encoded = encode_with_vocab(corpus, model.words, config, on_progress)
    reporter.end_stage()
    model._wv = None          # cached unit vectors would go stale
    run_epochs(model, encoded, config.epochs, reporter=reporter, callbacks=callbacks)
    return model


def _reporter(progress) -> ProgressReporter:
    if progress is True:
        return BarReporter()
    if progress is False or progress is None:
        return ProgressReporter()
    if not isinstance(progress, ProgressReporter):
        raise ArgumentError(f"progress: expected True, False or a w2v.progress.ProgressReporter, "
                            f"got {described(progress)}")
    return progress


def _check_callbacks(callbacks) -> list:
    if callable(callbacks) or not isinstance(callbacks, (list, tuple)) \
            or not all(callable(cb) for cb in callbacks):
        raise ArgumentError(f"callbacks: expected a list of functions f(model, record), got "
                            f"{described(callbacks)}")
    return list(callbacks)


def join_phrases(corpus, config: TrainConfig, reporter: ProgressReporter):
    """Learn ``config.phrases`` passes of phrases from ``corpus``; return the corpus
    as a source that joins them on the fly while it is read (no intermediate file;
    works for compressed files and iterables alike) and a history record."""
    from .corpus import as_source
    from .phrases import DEFAULT_MAX_TABLE_SIZE, Phrases
    t0 = time.perf_counter()
    source = as_source(corpus, config.cache_dir)   # spooled if it can be read only once
    on_progress = _stage_progress(reporter, lambda stage: f"finding phrases (pass {stage.split()[-1]})")
    phrases = Phrases.learn(source, passes=config.phrases, threshold=config.phrase_threshold,
                            min_count=config.phrase_min_count, scoring=config.phrase_scoring,
                            max_table_size=config.max_vocab_size or DEFAULT_MAX_TABLE_SIZE,
                            max_word_bytes=config.max_word_bytes, progress=on_progress)
    reporter.end_stage()
    record = {"stage": "phrases", "seconds": time.perf_counter() - t0,
              "passes": config.phrases, "phrases": [len(t) for t in phrases.tables],
              "scoring": phrases.scoring, "threshold": phrases.threshold,
              "min_count": phrases.min_count}
    return phrases.source(source), record


def build_corpus(corpus, config: TrainConfig, reporter: Optional[ProgressReporter] = None):
    """Vocabulary pass and encoding pass, with progress; checks the vocabulary is usable."""
    reporter = reporter or ProgressReporter()
    on_progress = _stage_progress(
        reporter, lambda stage: "counting words" if stage == "vocab" else "encoding corpus")
    vocab, encoded = build(corpus, config, on_progress)
    reporter.end_stage()
    check_vocab(vocab, config)
    return_freed_heap()
    return vocab, encoded


def _stage_progress(reporter: ProgressReporter, label: Callable[[str], str]):
    """A ``progress(stage, done, total)`` callback for a scanning pass: each new stage
    opens a reporter stage named ``label(stage)`` (which ends the previous one)."""
    current = {"stage": None}

    def on_progress(stage, done, total):
        if current["stage"] != stage:
            reporter.stage(label(stage), total)
            current["stage"] = stage
        reporter.scan(done)

    return on_progress


def check_vocab(vocab: Vocab, config: TrainConfig) -> None:
    if len(vocab) < 2:
        raise CorpusError(f"the vocabulary has {len(vocab)} word(s) at min_count={config.min_count}; "
                          f"at least 2 are needed to train")
    if config.negative > 0 and len(vocab) <= config.negative:
        raise CorpusError(f"the vocabulary has only {len(vocab)} words, not more than "
                          f"--negative {config.negative} noise samples; lower --negative or --min-count")


def init_model(config: TrainConfig, vocab: Vocab) -> Model:
    """Fresh weights: input rows uniform in [-0.5/size, 0.5/size) from a seeded
    generator (independent of the thread count, like word2vec.c); outputs zero."""
    V, d = len(vocab), config.size
    input_vectors = np.empty((V, d), dtype=np.float32)
    _core.uniform_init(input_vectors, config.seed)
    output_ns = np.zeros((V, d), dtype=np.float32) if config.negative > 0 else None
    output_hs = np.zeros((max(V - 1, 1), d), dtype=np.float32) if config.hs else None
    return Model(config, vocab.words, vocab.counts, input_vectors, output_ns, output_hs)


class _Tables:
    """Everything the core samples from, built once per run."""

    def __init__(self, counts: np.ndarray, config: TrainConfig):
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


def core_trainer(model: Model, encoded: EncodedCorpus, total_words: int, start_alpha: float,
                 end_alpha: float):
    """The compiled trainer of ``model`` over ``encoded`` (``model.config.threads``
    threads, learning rate decaying over ``total_words`` raw words) and the state
    its threads share: returns ``(trainer, words_done, stop, stats)``."""
    config = model.config
    n_threads = config.threads
    words_done = np.zeros(1, dtype=np.int64)
    stop = np.zeros(1, dtype=np.int32)
    stats = np.zeros(n_threads * _core.Trainer.stats_slot_stride(), dtype=np.float64)
    t = _Tables(model.counts, config)
    trainer = _core.Trainer(
        model.input_vectors, model.output_ns, model.output_hs, t.keep, t.noise, t.paths,
        t.path_starts, encoded.units, encoded.sentence_starts, words_done, stop, stats,
        sg=config.sg, cbow_mean=config.cbow_mean, negative=config.negative, hs=config.hs,
        window=config.window, shrink_window=config.shrink_window, compute_loss=config.compute_loss,
        sg_batch=config.sg_batch, max_sentence_length=config.max_sentence_length,
        start_alpha=start_alpha, end_alpha=end_alpha, total_words=total_words, n_threads=n_threads,
        # one thread has nothing to contend with; the staged nodes are averaged in (1/threads)
        hot_rows=config.hot_nodes if (n_threads > 1 and config.hs) else 0)
    return_freed_heap()      # the tables' float64 intermediates
    return trainer, words_done, stop, stats


def run_epochs(model: Model, encoded: EncodedCorpus, epochs: int, *,
               start_alpha: Optional[float] = None, end_alpha: Optional[float] = None,
               reporter: Optional[ProgressReporter] = None,
               callbacks: Sequence[Callable] = ()) -> Model:
    """Train ``model`` in place for ``epochs`` passes over ``encoded``.

    The learning rate decays linearly from ``start_alpha`` to ``end_alpha``
    (default: the config's) over all ``epochs x encoded.n_words`` raw words,
    counted globally across threads.
    """
    config = model.config
    reporter = reporter or ProgressReporter()
    start_alpha = config.start_alpha if start_alpha is None else start_alpha
    end_alpha = config.end_alpha if end_alpha is None else end_alpha
    n_threads = config.threads
    stride = _core.Trainer.stats_slot_stride()
    total_words = int(encoded.n_words) * epochs
    trainer, words_done, stop, stats = core_trainer(model, encoded, total_words, start_alpha,
                                                    end_alpha)
    bounds = shards(encoded, n_threads)
    first_epoch = len(model.epoch_losses)
    reporter.stage("training", max(total_words, 1))
    train_start = time.perf_counter()
    try:
        for e in range(epochs):
            record = _run_epoch(trainer, model, encoded, bounds, words_done, stop, stats, stride,
                                first_epoch + e, e, epochs, total_words, start_alpha, end_alpha,
                                reporter, train_start)
            if not _call_callbacks(callbacks, model, record):
                break
    finally:
        reporter.end_stage()
    elapsed = time.perf_counter() - train_start
    words = int(words_done[0])
    model.history.append({"stage": "train", "seconds": elapsed, "words": words,
                          "words_per_sec": words / elapsed if elapsed > 0 else 0.0,
                          "threads": n_threads})
    return model


def alpha_at(start_alpha: float, end_alpha: float, done: int, total: int) -> float:
    """The learning rate after ``done`` of ``total`` raw words: linear decay from
    ``start_alpha``, never below ``end_alpha`` (the core's schedule, for display)."""
    frac = min(done / total, 1.0) if total else 1.0
    return max(end_alpha, start_alpha - (start_alpha - end_alpha) * frac)


def _call_callbacks(callbacks, model, record) -> bool:
    keep_going = True
    for cb in callbacks:
        if cb(model, record) is False:
            keep_going = False
    return keep_going


class EpochThreads:
    """One epoch's worker threads, each entering the nogil core on its shard.

    ``start()`` launches them; ``join(timeout)`` waits for all (or until
    ``timeout``); ``alive()`` says whether any still runs; ``halt()`` raises the
    shared stop flag and joins. A worker's exception is kept in ``errors`` (and
    raises the stop flag, so the others stop within a sentence). ``thread_base``
    offsets the thread ids the RNG seeds derive from (a cluster rank's threads
    get ids of their own)."""

    def __init__(self, trainer, encoded: EncodedCorpus, bounds, stop, seed: int,
                 epoch_index: int, thread_base: int = 0):
        self.n = len(bounds) - 1
        self.results: List[Optional[tuple]] = [None] * self.n
        self.errors: List[BaseException] = []
        self.stop = stop

        def work(k: int) -> None:
            try:
                # the shard in blocks: the RNG and the totals run on from block to block,
                # so the result is the one call's; a mapped corpus releases each block
                seed_k = _core.thread_seed(seed, thread_base + k, epoch_index)
                parts = blocks(encoded, int(bounds[k]), int(bounds[k + 1]))
                carry = None
                for i, (first, last) in enumerate(parts):
                    loss, examples, words, stopped, carry = trainer.run_shard(
                        k, seed_k, first, last, carry, last_block=i == len(parts) - 1)
                    encoded.release(first, last)
                    if stopped:
                        break
                self.results[k] = (loss, examples, words)
            except BaseException as exc:  # re-raised on the main thread
                self.errors.append(exc)
                stop[0] = 1

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

    def totals(self) -> tuple:
        """(loss, examples, words) summed over the threads that finished."""
        done = [r for r in self.results if r is not None]
        return tuple(sum(r[i] for r in done) for i in range(3))


class RoundThreads:
    """One epoch's shards trained in lockstep rounds, for a cluster worker that syncs
    every ``units`` words with no thread running.

    ``train_round()`` trains the next block of about ``units`` packed units of every
    thread's shard (one thread per shard, all joined before it returns); ``done()``
    says whether every shard is finished. The RNG and totals carry over from block
    to block, so one thread trains exactly what :class:`EpochThreads` would; what
    differs is only when the other ranks' rows arrive."""

    def __init__(self, trainer, encoded: EncodedCorpus, bounds, stop, seed: int,
                 epoch_index: int, thread_base: int, units: int):
        self.trainer, self.encoded, self.stop = trainer, encoded, stop
        n = len(bounds) - 1
        self.parts = [blocks(encoded, int(bounds[k]), int(bounds[k + 1]), units) for k in range(n)]
        self.seeds = [_core.thread_seed(seed, thread_base + k, epoch_index) for k in range(n)]
        self.carry: List[Optional[tuple]] = [None] * n
        self.results: List[Optional[tuple]] = [None] * n
        self.rounds = 0
        self.stopped = False

    def done(self) -> bool:
        return self.stopped or all(self.rounds >= len(p) for p in self.parts)

    def train_round(self) -> None:
        i = self.rounds
        self.rounds += 1
        errors: List[BaseException] = []

        def work(k: int) -> None:
            try:
                first, last = self.parts[k][i]
                loss, examples, words, stopped, self.carry[k] = self.trainer.run_shard(
                    k, self.seeds[k], first, last, self.carry[k],
                    last_block=i == len(self.parts[k]) - 1)
                self.encoded.release(first, last)
                self.results[k] = (loss, examples, words)
                self.stopped |= bool(stopped)
            except BaseException as exc:  # re-raised on the calling thread
                errors.append(exc)
                self.stop[0] = 1

        active = [k for k, p in enumerate(self.parts) if i < len(p)]
        if len(active) == 1:
            work(active[0])           # the core releases the GIL: no thread needed
        else:
            threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in active]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if errors:
            raise errors[0]

    def totals(self) -> tuple:
        """(loss, examples, words) summed over the shards so far."""
        done = [r for r in self.results if r is not None]
        return tuple(sum(r[i] for r in done) for i in range(3))


_NOTHING_TRAINED = ("epoch {epoch} trained no example: no sentence kept a word with a context "
                    "word (subsampling, --sample {sample:g}, drops frequent words; a one-word "
                    "sentence has no context); raise --sample, or give longer sentences")


def check_weights_finite(model: Model, e: int, epochs: int, mean_loss: Optional[float],
                         start_alpha: float) -> None:
    """Raise :class:`TrainingDiverged` if any weight (or the epoch's mean loss, when
    computed) is NaN or infinite after epoch ``e``: checked whatever ``compute_loss``
    says, so a diverged run is never returned or saved. One chunked pass over the
    matrices, no temporaries the size of a matrix."""
    bad = [name for name in ("input_vectors", "output_ns", "output_hs")
           if getattr(model, name) is not None and not all_finite(getattr(model, name))]
    if mean_loss is not None and not math.isfinite(mean_loss):
        bad.append("the loss")
    if bad:
        raise TrainingDiverged(f"training diverged in epoch {e + 1}/{epochs}: {', '.join(bad)} "
                               f"became NaN or infinite; lower --alpha (it was {start_alpha:g})")


def _run_epoch(trainer, model, encoded, bounds, words_done, stop, stats, stride, epoch_index, e,
               epochs, total_words, start_alpha, end_alpha, reporter, train_start) -> dict:
    n_threads = len(bounds) - 1
    stats[:] = 0.0
    epoch_start = time.perf_counter()
    words_at_start = int(words_done[0])
    threads = EpochThreads(trainer, encoded, bounds, stop, model.config.seed, epoch_index)
    last = (epoch_start, 0.0, 0.0)
    try:
        threads.start()
        while threads.alive():
            threads.join(POLL_SECONDS)
            now = time.perf_counter()
            loss_sum = float(stats[0::stride].sum())
            examples = float(stats[1::stride].sum())
            recent = None
            if examples > last[2]:
                recent = (loss_sum - last[1]) / (examples - last[2])
            done = int(words_done[0])
            alpha = alpha_at(start_alpha, end_alpha, done, total_words)
            rate = (done - words_at_start) / max(now - epoch_start, 1e-9)
            reporter.train(done, total_words, alpha, recent if model.config.compute_loss else None,
                           rate, n_threads, e + 1, epochs)
            last = (now, loss_sum, examples)
    except BaseException as exc:   # Ctrl-C, SIGTERM (raised by the CLI's handler), anything
        threads.halt()
        if isinstance(exc, KeyboardInterrupt):
            raise TrainingInterrupted(f"training interrupted during epoch {e + 1}/{epochs}",
                                      model=model, cause=exc) from None
        raise
    threads.join()
    if threads.errors:
        raise threads.errors[0]
    seconds = time.perf_counter() - epoch_start
    loss, examples, words = threads.totals()
    if not examples:
        raise CorpusError(_NOTHING_TRAINED.format(epoch=e + 1, sample=model.config.sample))
    mean_loss = loss / examples
    check_weights_finite(model, e, epochs,
                         mean_loss if model.config.compute_loss else None, start_alpha)
    record = {"epoch": epoch_index + 1, "loss": mean_loss, "examples": int(examples),
              "words": int(words), "seconds": seconds,
              "words_per_sec": words / seconds if seconds > 0 else 0.0,
              "alpha_end": alpha_at(start_alpha, end_alpha, int(words_done[0]), total_words)}
    model.epoch_losses.append(mean_loss)
    model.history.append(dict(stage="epoch", **record))
    return record
