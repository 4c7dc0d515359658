"""Training on one machine: options, vocabulary, weights, epochs, progress.

The engine (:mod:`w2v.engine`) runs one ``threading.Thread`` per shard of the
encoded corpus, each entering the nogil core (:mod:`w2v._core`). The main thread
meanwhile draws progress, honours Ctrl-C (by raising the shared stop flag) and
re-raises any error a worker hit after all threads have stopped. A cluster run
(:mod:`w2v.cluster`) uses the same engine on every worker.
"""
from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

from .config import TrainConfig
from .corpus import EncodedCorpus, shards
from .engine import (EpochThreads, Engine, check_ngram_memory, check_vocab, check_weights_finite,
                     grow_vocab, init_model)
from .errors import (ArgumentError, ConfigError, CorpusError, TrainingInterrupted, W2VError,
                     described)
from .heap import return_freed_heap
from .model import OUTPUT_LAYERS, Model
from .progress import BarReporter, ProgressReporter
from .vocab import build

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
        processes (one per node) and ``threads_per_worker`` their threads
        (default: the cores, up to 8, like ``threads``);
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
    check_ngram_memory(config)
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
           callbacks: Sequence[Callable] = (), update_vocab: bool = False) -> Model:
    """Continue training ``model`` (a :class:`Model` or a ``.w2v`` path) on ``corpus``.

    The vocabulary, counts and architecture stay those of the model; corpus words
    outside the vocabulary are skipped, unless ``update_vocab``: then the words of
    ``corpus`` that reach the model's min_count join the vocabulary with fresh rows,
    the counts are merged and the sampling tables rebuilt (:func:`w2v.engine.grow_vocab`;
    with hierarchical softmax the inner-node weights restart, the tree being new). The
    learning rate decays linearly from ``alpha`` to ``min_alpha`` over the new
    ``epochs`` passes, like a fresh run (defaults: the model's own start alpha,
    ``alpha * 1e-4`` and epochs). The model is updated in place (a loaded model's
    memory map is copy-on-write, so the file is never modified) and returned.
    """
    from .io import load_model
    from .vocab import encode_with_vocab
    callbacks = _check_callbacks(callbacks)
    reporter = _reporter(progress)
    if not isinstance(model, Model):
        model = load_model(model)
    if any(layer.used(model.config) and model.outputs[layer.name] is None
           for layer in OUTPUT_LAYERS):
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
    if not isinstance(update_vocab, bool):
        raise ArgumentError(f"update_vocab: expected True or False, got {described(update_vocab)}")
    if update_vocab:
        from .corpus import as_source
        from .vocab import count_words
        corpus = as_source(corpus, config.cache_dir)      # read twice: count, then encode
        counted = count_words(corpus, config, _stage_progress(reporter, lambda s: "counting"))
        reporter.end_stage()
        added = grow_vocab(model, counted)
        model.history.append({"stage": "update_vocab", "added_words": len(added),
                              "vocab_size": len(model.words)})
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
    total_words = int(encoded.n_words) * epochs
    engine = Engine(model, encoded, total_words, start_alpha, end_alpha)
    bounds = shards(encoded, config.threads)
    first_epoch = len(model.epoch_losses)
    reporter.stage("training", max(total_words, 1))
    train_start = time.perf_counter()
    try:
        for e in range(epochs):
            record = _run_epoch(engine, model, bounds, e, first_epoch + e, epochs, reporter)
            if not _call_callbacks(callbacks, model, record):
                break
    finally:
        reporter.end_stage()
    elapsed = time.perf_counter() - train_start
    words = engine.words
    model.history.append({"stage": "train", "seconds": elapsed, "words": words,
                          "words_per_sec": words / elapsed if elapsed > 0 else 0.0,
                          "threads": config.threads})
    return model


def _call_callbacks(callbacks, model, record) -> bool:
    keep_going = True
    for cb in callbacks:
        if cb(model, record) is False:
            keep_going = False
    return keep_going


_NOTHING_TRAINED = ("epoch {epoch} trained no example: no sentence kept a word with a context "
                    "word (subsampling, --sample {sample:g}, drops frequent words; a one-word "
                    "sentence has no context); raise --sample, or give longer sentences")


def _run_epoch(engine: Engine, model: Model, bounds, e: int, epoch_index: int, epochs: int,
               reporter: ProgressReporter) -> dict:
    """Epoch ``e`` of this run (``epoch_index`` of the model's life), with progress."""
    engine.new_epoch()
    epoch_start = time.perf_counter()
    words_at_start = engine.words
    threads = EpochThreads(engine, bounds, model.config.seed, epoch_index)
    last = (0.0, 0.0)
    try:
        threads.start()
        while threads.alive():
            threads.join(POLL_SECONDS)
            loss_sum, examples = engine.loss_and_examples()
            recent = None
            if examples > last[1]:
                recent = (loss_sum - last[0]) / (examples - last[1])
            done = engine.words
            rate = (done - words_at_start) / max(time.perf_counter() - epoch_start, 1e-9)
            reporter.train(done, engine.total_words, engine.alpha(),
                           recent if model.config.compute_loss else None, rate, engine.n_threads,
                           e + 1, epochs)
            last = (loss_sum, examples)
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
                         mean_loss if model.config.compute_loss else None, engine.start_alpha)
    record = {"epoch": epoch_index + 1, "loss": mean_loss, "examples": int(examples),
              "words": int(words), "seconds": seconds,
              "words_per_sec": words / seconds if seconds > 0 else 0.0,
              "alpha_end": engine.alpha()}
    model.epoch_losses.append(mean_loss)
    model.history.append(dict(stage="epoch", **record))
    return record
