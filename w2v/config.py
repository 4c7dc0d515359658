"""Typed, validated training settings.

:class:`TrainConfig` is the single place where option names, defaults and
their constraints live. The CLI, :func:`w2v.train` and the model file all go
through it, so an impossible value is rejected before any work starts, with
the option named.
"""
from __future__ import annotations

import dataclasses
import numbers
import os
from dataclasses import dataclass, field, fields
from typing import Any, Optional

from .errors import ConfigError, shown

#: Defaults that depend on the architecture (the C tool's choices).
DEFAULT_ALPHA = {"sg": 0.025, "cbow": 0.05}

#: Phrase scorings and their default thresholds: word2phrase's 100 for its score, and
#: 0.5 for npmi (which lies in [-1, 1]).
PHRASE_THRESHOLDS = {"default": 100.0, "npmi": 0.5}
MAX_PHRASE_PASSES = 10

INT64_MAX = 2 ** 63 - 1
#: n-gram rows are int32 in the core; the vocabulary's own rows are separate
MAX_BUCKETS = 2 ** 31 - 1
MAX_NGRAM_LENGTH = 100
#: Every integer setting's range. The compiled code holds counts and thresholds in
#: int64 and sizes in C int; the upper bounds keep every value inside those and keep
#: per-thread buffers (a sentence of ``max_sentence_length`` int32 ids, a word of
#: ``max_word_bytes``) a sensible size, so no value can overflow after the counting pass.
INT_RANGES = {
    "size": (1, 100_000), "window": (1, 1000), "negative": (0, 1000), "threads": (1, 1024),
    "epochs": (1, 100_000), "min_count": (1, INT64_MAX), "max_sentence_length": (1, 10_000_000),
    "max_word_bytes": (1, 1_000_000), "seed": (0, INT64_MAX), "hot_nodes": (0, 1_000_000),
    "phrase_min_count": (1, INT64_MAX), "buckets": (1, MAX_BUCKETS)}
CORPUS_CACHES = ("auto", "memory", "disk")
#: How invalid UTF-8 is decoded (the corpus) or read (vectors files): Python's error handlers
ENCODING_ERRORS = ("replace", "strict", "ignore")
#: Phrase scorings (the keys of PHRASE_THRESHOLDS)
PHRASE_SCORINGS = tuple(PHRASE_THRESHOLDS)


def default_threads() -> int:
    """Training threads when none are asked for: every core, up to 8 (beyond that a
    default run on a shared machine would take more than its share)."""
    return min(os.cpu_count() or 1, 8)
BOOL_OPTIONS = ("sg", "shrink_window", "hs", "sg_batch", "cbow_mean", "compute_loss")
INT_RANGE_WHY = {"max_sentence_length": " (each thread holds a sentence buffer this long; "
                                        "longer lines are split, never cut)",
                 "min_count": " (word counts are 64-bit)", "seed": " (seeds are 64-bit)"}


@dataclass
class TrainConfig:
    """Every knob of a training run; see ``w2v train --help`` for the prose."""

    sg: bool = False                 # skip-gram if True, else CBOW (the C tool's default)
    size: int = 100                  # vector dimension
    window: int = 5                  # maximum distance between centre and context word
    shrink_window: bool = True       # draw the effective window uniformly from 1..window
    negative: int = 5                # noise words per positive example (0 = off)
    ns_exponent: float = 0.75        # noise distribution is counts ** ns_exponent
    hs: bool = False                 # hierarchical softmax over a Huffman tree
    sg_batch: bool = True            # skip-gram: one step per window, noise shared (HogBatch)
    hot_nodes: int = 128             # hs with threads > 1: Huffman nodes nearest the root that
                                     # each thread updates in a private copy, averaged into the
                                     # shared rows every 256 centre words (0 = off)
    sample: float = 1e-3             # subsampling threshold t (0 = off)
    min_count: int = 5               # drop words seen fewer times
    max_vocab_size: Optional[int] = None  # prune while counting above this many types
    max_word_bytes: int = 1000       # longer tokens are cut to this many bytes
    max_sentence_length: int = 10000  # longer lines are split into pieces this long
    threads: int = field(default_factory=default_threads)
    epochs: int = 5
    alpha: Optional[float] = None    # start learning rate (None: 0.025 sg, 0.05 cbow)
    min_alpha: Optional[float] = None  # final learning rate (None: alpha * 1e-4)
    cbow_mean: bool = True           # CBOW hidden layer: mean (True) or sum of context
    seed: int = 1
    compute_loss: bool = True
    encoding_errors: str = "replace"  # how invalid UTF-8 in the corpus is decoded
    phrases: int = 0                 # phrase-joining passes before training (0 = off)
    phrase_threshold: Optional[float] = None  # None: 100 (default scoring), 0.5 (npmi)
    phrase_min_count: int = 5        # pairs seen fewer times are never phrases
    phrase_scoring: str = "default"  # "default" (word2phrase's score) or "npmi"
    corpus_cache: str = "auto"       # where the encoded corpus lives: "memory", "disk" (an
                                     # encoded cache, mapped; see w2v.cache) or "auto"
    cache_dir: Optional[str] = None  # the disk cache's folder (None: see w2v.cache.cache_dir)
    subwords: Any = (0, 0)           # (minn, maxn) character n-gram lengths, fastText-style
                                     # (w2v.subwords); (0, 0), 0 or None: off, plain word2vec
    buckets: int = 2_000_000         # rows of the n-gram matrix the n-grams are hashed into
    extra: dict = field(default_factory=dict)  # forward-compatible, unused by training

    # -- derived values -------------------------------------------------------------
    @property
    def start_alpha(self) -> float:
        return self.alpha if self.alpha is not None else DEFAULT_ALPHA["sg" if self.sg else "cbow"]

    @property
    def end_alpha(self) -> float:
        return self.min_alpha if self.min_alpha is not None else self.start_alpha * 1e-4

    @property
    def uses_subwords(self) -> bool:
        """Whether words get character n-gram rows (``subwords`` is not off)."""
        return self.subwords[1] > 0

    @property
    def mode(self) -> str:
        """Short name such as ``sg-ns`` or ``cbow-hs`` (``+`` when both losses are on)."""
        losses = "+".join(x for x, on in (("ns", self.negative > 0), ("hs", self.hs)) if on)
        return ("sg" if self.sg else "cbow") + "-" + losses

    # -- validation ------------------------------------------------------------------
    def validate(self) -> "TrainConfig":
        """Raise :class:`ConfigError` naming the first impossible option."""
        def need(ok: bool, option: str, message: str):
            if not ok:
                raise ConfigError(f"--{option.replace('_', '-')}: {message}")

        for name, (low, high) in INT_RANGES.items():
            value = getattr(self, name)
            need(_is_int(value), name, f"must be an integer, got {shown(value)}")
            need(low <= value <= high, name, f"must be an integer between {low} and {high:,}, got "
                                             f"{shown(value)}{INT_RANGE_WHY.get(name, '')}")
            setattr(self, name, int(value))          # numpy integers become plain ints
        for name in BOOL_OPTIONS:
            value = getattr(self, name)
            need(_is_bool(value), name, f"must be True or False, got {shown(value)}")
            setattr(self, name, bool(value))
        need(self.negative > 0 or self.hs, "negative",
             "is 0 and --hs is off: enable at least one of negative sampling or hierarchical softmax")
        need(_is_number(self.sample) and 0 <= self.sample < 1, "sample",
             f"must be in [0, 1), got {shown(self.sample)}")
        need(_is_number(self.ns_exponent) and -10 <= self.ns_exponent <= 10, "ns_exponent",
             f"must be a number in [-10, 10], got {shown(self.ns_exponent)}")
        if self.alpha is not None:
            need(_is_number(self.alpha) and 0 < self.alpha <= 10, "alpha",
                 f"must be > 0 (and at most 10), got {shown(self.alpha)}")
        if self.min_alpha is not None:
            need(_is_number(self.min_alpha) and 0 <= self.min_alpha, "min_alpha",
                 f"must be >= 0, got {shown(self.min_alpha)}")
            need(self.min_alpha <= self.start_alpha, "min_alpha",
                 f"({self.min_alpha}) must not exceed --alpha ({self.start_alpha})")
        if self.max_vocab_size is not None:
            need(_is_int(self.max_vocab_size) and 1 <= self.max_vocab_size <= INT64_MAX,
                 "max_vocab_size", f"must be an integer between 1 and {INT64_MAX:,}, got "
                                   f"{shown(self.max_vocab_size)}")
            self.max_vocab_size = int(self.max_vocab_size)
        need(self.encoding_errors in ENCODING_ERRORS, "encoding_errors",
             f"must be {', '.join(ENCODING_ERRORS)}, got {shown(self.encoding_errors)}")
        need(isinstance(self.extra, dict), "extra", f"must be a dict, got {shown(self.extra)}")
        try:
            minn, maxn = parse_subword_range(self.subwords)
        except ValueError as e:
            raise ConfigError(f"--subwords: {e}") from None
        need((minn, maxn) == (0, 0) or 1 <= minn <= maxn <= MAX_NGRAM_LENGTH, "subwords",
             f"needs 1 <= min <= max <= {MAX_NGRAM_LENGTH} (or 0 for off), got {minn}-{maxn}")
        self.subwords = (minn, maxn)
        need(self.corpus_cache in CORPUS_CACHES, "corpus_cache",
             f"must be {', '.join(CORPUS_CACHES)}, got {shown(self.corpus_cache)}")
        need(self.cache_dir is None or (isinstance(self.cache_dir, str) and self.cache_dir
                                        and "\0" not in self.cache_dir), "cache_dir",
             f"must be a folder path, got {shown(self.cache_dir)}")
        need(_is_int(self.phrases) and 0 <= self.phrases <= MAX_PHRASE_PASSES, "phrases",
             f"must be an integer between 0 and {MAX_PHRASE_PASSES}, got {shown(self.phrases)}")
        # checked even with phrases off: a model file must not store impossible settings
        check_phrase_options(max(1, self.phrases), self.phrase_threshold, self.phrase_min_count,
                             self.phrase_scoring, prefix="phrase_")
        return self

    # -- (de)serialisation for model files ------------------------------------------------
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """Build from a dict (e.g. a model file header); unknown keys go to ``extra``."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        unknown = {k: v for k, v in data.items() if k not in known}
        if unknown:
            kwargs.setdefault("extra", {}).update(unknown)
        return cls(**kwargs)

    def to_dict_for_options(self) -> dict:
        """Options for :func:`w2v.train` that reproduce this config."""
        d = self.to_dict()
        d.pop("extra", None)
        return d

    @classmethod
    def from_options(cls, **options: Any) -> "TrainConfig":
        """Build from keyword options, accepting the aliases ``dim``/``vector_size`` and ``iter``."""
        aliases = {"dim": "size", "vector_size": "size", "iter": "epochs", "workers": "threads"}
        known = {f.name for f in fields(cls)}
        kwargs = {}
        for key, value in options.items():
            name = aliases.get(key, key)
            if name not in known or name == "extra":
                raise ConfigError(f"unknown option {key!r}")
            if name in kwargs:
                raise ConfigError(f"option {name!r} given twice (via an alias)")
            kwargs[name] = value
        return cls(**kwargs).validate()


#: How cluster workers exchange the rows: through Ray's object store (no extra
#: dependency) or an allreduce over ``ray.util.collective``'s gloo backend (needs
#: torch; faster, and its cost per node stays flat as nodes are added); ``auto``
#: takes gloo when torch imports on the driver.
SYNC_BACKENDS = ("auto", "objstore", "gloo")
#: How a sync round combines the ranks' rows (:class:`w2v.rowsync.RowSync`)
SYNC_RULES = ("adaptive", "sum", "mean", "momentum")


@dataclass
class ClusterConfig:
    """Where and how a run is spread over a Ray cluster (not saved with the model:
    the same model can be trained on one machine or many).

    ``address`` is Ray's (``auto``, ``host:6379``, ``ray://host:10001``) or
    ``local``, which starts a local cluster of worker processes for this run."""

    address: str = "local"
    workers: int = 2
    threads_per_worker: int = field(default_factory=default_threads)   # as --threads: cores, up to 8
    sync_words: int = 65536           # words all workers together train between rounds (0: sync_period)
    sync_period: float = 0.5          # with sync_words=0: seconds between rounds, trained through
    sync_rows: int = 1024             # rows synced every round (tier 0); rarer tiers less often
    sync_backend: str = "auto"
    sync_rule: str = "adaptive"       # how rows combine: adaptive, sum, mean, momentum (w2v.rowsync)
    object_store_mb: int = 512        # object-store cap of a ``local`` cluster

    def validate(self) -> "ClusterConfig":
        def need(ok: bool, option: str, message: str):
            if not ok:
                raise ConfigError(f"--{option.replace('_', '-')}: {message}")

        need(isinstance(self.address, str) and self.address.strip() != "", "cluster",
             f"must be a Ray address (auto, host:port, ray://host:port) or 'local', got {shown(self.address)}")
        for name, (low, high) in (("workers", (1, 4096)), ("threads_per_worker", (1, 1024)),
                                  ("sync_rows", (1, 2 ** 31 - 1)), ("sync_words", (0, 2 ** 40)),
                                  ("object_store_mb", (80, 1 << 30))):
            value = getattr(self, name)
            need(_is_int(value) and low <= value <= high, name,
                 f"must be an integer between {low} and {high:,}, got {shown(value)}")
            setattr(self, name, int(value))
        need(_is_number(self.sync_period) and 0.01 <= self.sync_period <= 3600, "sync_period",
             f"must be between 0.01 and 3600 seconds, got {shown(self.sync_period)}")
        need(self.sync_backend in SYNC_BACKENDS, "sync_backend",
             f"must be {' or '.join(SYNC_BACKENDS)}, got {shown(self.sync_backend)}")
        need(self.sync_rule in SYNC_RULES, "sync_rule",
             f"must be {', '.join(SYNC_RULES)}, got {shown(self.sync_rule)}")
        return self


def check_phrase_options(passes, threshold, min_count, scoring, max_table_size=None,
                         prefix: str = "", max_word_bytes=None) -> float:
    """Validate phrase-detection options (raise :class:`ConfigError` naming the
    option); return the threshold, its default filled in for the scoring.

    ``prefix`` is ``"phrase_"`` when the options come from training settings."""
    def need(ok: bool, option: str, message: str):
        if not ok:
            name = "phrases" if option == "passes" and prefix else prefix + option
            raise ConfigError(f"--{name.replace('_', '-')}: {message}")

    need(isinstance(scoring, str) and scoring in PHRASE_THRESHOLDS, "scoring",
         f"must be {' or '.join(PHRASE_THRESHOLDS)}, got {shown(scoring)}")
    need(_is_int(passes) and 1 <= passes <= MAX_PHRASE_PASSES, "passes",
         f"must be an integer between 1 and {MAX_PHRASE_PASSES}, got {shown(passes)}")
    need(_is_int(min_count) and 1 <= min_count <= INT64_MAX, "min_count",
         f"must be an integer between 1 and {INT64_MAX:,}, got {shown(min_count)}")
    if max_table_size is not None:
        need(_is_int(max_table_size) and 2 <= max_table_size <= INT64_MAX, "max_table_size",
             f"must be an integer between 2 and {INT64_MAX:,}, got {shown(max_table_size)}")
    if max_word_bytes is not None:
        low, high = INT_RANGES["max_word_bytes"]
        need(_is_int(max_word_bytes) and low <= max_word_bytes <= high, "max_word_bytes",
             f"must be an integer between {low} and {high:,}, got {shown(max_word_bytes)}")
    if threshold is None:
        return PHRASE_THRESHOLDS[scoring]
    need(_is_number(threshold) and abs(threshold) != float("inf"), "threshold",
         f"must be a finite number, got {shown(threshold)}")
    if scoring == "npmi":
        need(-1 <= threshold <= 1, "threshold", f"must be in [-1, 1] for npmi, got {shown(threshold)}")
    return float(threshold)


def parse_subword_range(value) -> tuple:
    """``subwords`` as (minn, maxn): ``0``/``None``/``"0"`` is off (0, 0); ``"3-6"``,
    ``"4"``, ``(3, 6)`` and ``[3, 6]`` (a model file's JSON) give ranges. Raises
    ValueError on anything else."""
    if value is None or (_is_int(value) and value == 0):
        return (0, 0)
    if isinstance(value, str):
        text = value.strip()
        lo, sep, hi = text.partition("-")
        if not lo.strip().isdigit() or (sep and not hi.strip().isdigit()):
            raise ValueError(f"expected MIN-MAX such as 3-6, or 0 for off, got {shown(value)}")
        lo, hi = int(lo), int(hi if sep else lo)
        return (0, 0) if (lo, hi) == (0, 0) else (lo, hi)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_int, value)):
        return (int(value[0]), int(value[1]))
    raise ValueError(f"expected (min, max) such as (3, 6), or 0 for off, got {shown(value)}")


def _is_number(x) -> bool:
    return isinstance(x, (numbers.Integral, numbers.Real)) and not isinstance(x, bool) and x == x


def int_argument(value, name: str, low: int = 1, high: int = INT64_MAX) -> int:
    """``value`` as an int if it is an integer (not a bool) in ``[low, high]``, else
    :class:`ConfigError` naming the argument: for Python API arguments such as
    ``topn`` and ``restrict_vocab``."""
    if not _is_int(value) or not low <= value <= high:
        raise ConfigError(f"{name} must be an integer between {low} and {high:,}, got "
                          f"{shown(value)}")
    return int(value)


def _is_bool(x) -> bool:
    """A Python or numpy boolean (numpy is not imported for the check)."""
    return isinstance(x, bool) or (getattr(x, "dtype", None) is not None
                                   and x.dtype.kind == "b" and getattr(x, "ndim", 1) == 0)


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)
