"""Typed, validated training settings.

:class:`TrainConfig` is the single place where option names, defaults and
their constraints live. The CLI, :func:`w2v.train` and the model file all go
through it, so an impossible value is rejected before any work starts, with
the option named.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any, Optional

from .errors import ConfigError

#: Defaults that depend on the architecture (the C tool's choices).
DEFAULT_ALPHA = {"sg": 0.025, "cbow": 0.05}

#: Phrase scorings and their default thresholds: word2phrase's 100 for its score, and
#: 0.5 for npmi (which lies in [-1, 1]).
PHRASE_THRESHOLDS = {"default": 100.0, "npmi": 0.5}
MAX_PHRASE_PASSES = 10


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
    threads: int = 2
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
    extra: dict = field(default_factory=dict)  # forward-compatible, unused by training

    # -- derived values -------------------------------------------------------------
    @property
    def start_alpha(self) -> float:
        return self.alpha if self.alpha is not None else DEFAULT_ALPHA["sg" if self.sg else "cbow"]

    @property
    def end_alpha(self) -> float:
        return self.min_alpha if self.min_alpha is not None else self.start_alpha * 1e-4

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

        for name in ("size", "window", "threads", "epochs", "min_count",
                     "max_sentence_length", "max_word_bytes", "negative", "seed", "hot_nodes"):
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool), name,
                 f"must be an integer, got {value!r}")
        need(1 <= self.size <= 100_000, "size", f"must be between 1 and 100000, got {self.size}")
        need(1 <= self.window <= 1000, "window", f"must be between 1 and 1000, got {self.window}")
        need(0 <= self.negative <= 1000, "negative", f"must be between 0 and 1000, got {self.negative}")
        need(self.negative > 0 or self.hs, "negative",
             "is 0 and --hs is off: enable at least one of negative sampling or hierarchical softmax")
        need(1 <= self.threads <= 1024, "threads", f"must be between 1 and 1024, got {self.threads}")
        need(1 <= self.epochs <= 100_000, "epochs", f"must be at least 1, got {self.epochs}")
        need(self.min_count >= 1, "min_count", f"must be at least 1, got {self.min_count}")
        need(self.max_sentence_length >= 1, "max_sentence_length",
             f"must be at least 1, got {self.max_sentence_length}")
        need(self.max_word_bytes >= 1, "max_word_bytes", f"must be at least 1, got {self.max_word_bytes}")
        need(0 <= self.hot_nodes <= 1_000_000, "hot_nodes",
             f"must be between 0 and 1000000, got {self.hot_nodes}")
        need(0 <= self.seed < 2 ** 63, "seed", f"must be between 0 and 2**63-1, got {self.seed}")
        need(_is_number(self.sample) and 0 <= self.sample < 1, "sample",
             f"must be in [0, 1), got {self.sample!r}")
        need(_is_number(self.ns_exponent) and -10 <= self.ns_exponent <= 10, "ns_exponent",
             f"must be a number in [-10, 10], got {self.ns_exponent!r}")
        if self.alpha is not None:
            need(_is_number(self.alpha) and 0 < self.alpha <= 10, "alpha",
                 f"must be > 0 (and at most 10), got {self.alpha!r}")
        if self.min_alpha is not None:
            need(_is_number(self.min_alpha) and 0 <= self.min_alpha, "min_alpha",
                 f"must be >= 0, got {self.min_alpha!r}")
            need(self.min_alpha <= self.start_alpha, "min_alpha",
                 f"({self.min_alpha}) must not exceed --alpha ({self.start_alpha})")
        if self.max_vocab_size is not None:
            need(isinstance(self.max_vocab_size, int) and self.max_vocab_size >= 1, "max_vocab_size",
                 f"must be a positive integer, got {self.max_vocab_size!r}")
        need(self.encoding_errors in ("strict", "replace", "ignore"), "encoding_errors",
             f"must be strict, replace or ignore, got {self.encoding_errors!r}")
        if self.phrases:
            check_phrase_options(self.phrases, self.phrase_threshold, self.phrase_min_count,
                                 self.phrase_scoring, prefix="phrase_")
        else:
            need(self.phrases == 0, "phrases", f"must be 0 or more, got {self.phrases!r}")
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
SYNC_RULES = ("adaptive", "sum", "mean")


@dataclass
class ClusterConfig:
    """Where and how a run is spread over a Ray cluster (not saved with the model:
    the same model can be trained on one machine or many).

    ``address`` is Ray's (``auto``, ``host:6379``, ``ray://host:10001``) or
    ``local``, which starts a local cluster of worker processes for this run."""

    address: str = "local"
    workers: int = 2
    threads_per_worker: int = 1
    sync_period: float = 0.5          # seconds between row-averaging rounds
    sync_rows: int = 1024             # rows synced every round (tier 0); rarer tiers less often
    sync_backend: str = "auto"
    sync_rule: str = "adaptive"       # how rows combine: adaptive, sum or mean (see w2v.rowsync)
    object_store_mb: int = 512        # object-store cap of a ``local`` cluster

    def validate(self) -> "ClusterConfig":
        def need(ok: bool, option: str, message: str):
            if not ok:
                raise ConfigError(f"--{option.replace('_', '-')}: {message}")

        need(isinstance(self.address, str) and self.address.strip() != "", "cluster",
             f"must be a Ray address (auto, host:port, ray://host:port) or 'local', got {self.address!r}")
        for name, low in (("workers", 1), ("threads_per_worker", 1), ("sync_rows", 1),
                          ("object_store_mb", 80)):
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool) and value >= low, name,
                 f"must be an integer >= {low}, got {value!r}")
        need(self.workers <= 4096, "workers", f"must be at most 4096, got {self.workers}")
        need(self.threads_per_worker <= 1024, "threads_per_worker",
             f"must be at most 1024, got {self.threads_per_worker}")
        need(_is_number(self.sync_period) and 0.01 <= self.sync_period <= 3600, "sync_period",
             f"must be between 0.01 and 3600 seconds, got {self.sync_period!r}")
        need(self.sync_backend in SYNC_BACKENDS, "sync_backend",
             f"must be {' or '.join(SYNC_BACKENDS)}, got {self.sync_backend!r}")
        need(self.sync_rule in SYNC_RULES, "sync_rule",
             f"must be {', '.join(SYNC_RULES)}, got {self.sync_rule!r}")
        return self


def check_phrase_options(passes, threshold, min_count, scoring, max_table_size=None,
                         prefix: str = "") -> float:
    """Validate phrase-detection options (raise :class:`ConfigError` naming the
    option); return the threshold, its default filled in for the scoring.

    ``prefix`` is ``"phrase_"`` when the options come from training settings."""
    def need(ok: bool, option: str, message: str):
        if not ok:
            name = "phrases" if option == "passes" and prefix else prefix + option
            raise ConfigError(f"--{name.replace('_', '-')}: {message}")

    need(scoring in PHRASE_THRESHOLDS, "scoring",
         f"must be {' or '.join(PHRASE_THRESHOLDS)}, got {scoring!r}")
    need(isinstance(passes, int) and not isinstance(passes, bool)
         and 1 <= passes <= MAX_PHRASE_PASSES, "passes",
         f"must be an integer between 1 and {MAX_PHRASE_PASSES}, got {passes!r}")
    need(isinstance(min_count, int) and not isinstance(min_count, bool) and min_count >= 1,
         "min_count", f"must be an integer >= 1, got {min_count!r}")
    if max_table_size is not None:
        need(isinstance(max_table_size, int) and not isinstance(max_table_size, bool)
             and max_table_size >= 2, "max_table_size",
             f"must be an integer >= 2, got {max_table_size!r}")
    if threshold is None:
        return PHRASE_THRESHOLDS[scoring]
    need(_is_number(threshold) and abs(threshold) != float("inf"), "threshold",
         f"must be a finite number, got {threshold!r}")
    if scoring == "npmi":
        need(-1 <= threshold <= 1, "threshold", f"must be in [-1, 1] for npmi, got {threshold!r}")
    return float(threshold)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == x
