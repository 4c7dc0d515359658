"""The vocabulary: one counting pass, min_count, deterministic order.

Counting runs in compiled code (:class:`w2v._text.TokenTable`); Python only
sees each distinct word once, to decode it from UTF-8 and sort. Words are
ordered by descending count, ties broken by the word itself, so the same
corpus always gives the same ids.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np

from ._text import TokenTable, packed_size
from .cache import CacheEntry, MappedCorpus, TemporaryEntry, memory_available
from .config import TrainConfig
from .corpus import EncodedCorpus, TextSource, as_source
from .errors import CorpusError

#: the error for a corpus without a single token
EMPTY_CORPUS = "the corpus contains no words (it is empty or only whitespace)"


@dataclass
class Vocab:
    words: List[str]
    counts: np.ndarray                 # int64, descending
    raw_tokens: int = 0                # every token read, kept or not
    distinct_tokens: int = 0           # distinct tokens before min_count
    pruned: bool = False               # max_vocab_size pruning happened (counts are lower bounds)
    truncated_words: int = 0           # tokens cut to max_word_bytes
    _index: Optional[Dict[str, int]] = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.words)

    @property
    def index(self) -> Dict[str, int]:
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    @property
    def total_words(self) -> int:
        """In-vocabulary tokens in the corpus (what one epoch trains on)."""
        return int(self.counts.sum())


def _decode(word: bytes, errors: str) -> str:
    try:
        return word.decode("utf-8", errors)
    except UnicodeDecodeError as e:
        raise CorpusError(f"invalid UTF-8 in corpus word {word[:60]!r} (byte {e.start}); "
                          f"use encoding_errors='replace' to substitute U+FFFD") from None


def build(corpus, config: TrainConfig, progress: Optional[Callable[[str, int, int], None]] = None):
    """Count, select and order the vocabulary, then encode the corpus.

    Returns ``(Vocab, EncodedCorpus)``. ``progress(stage, done, total)`` is called
    with stage ``"vocab"`` and ``"encode"`` and byte counts. With
    ``config.corpus_cache`` ``disk`` (or ``auto`` for a corpus whose encoding would
    fill more than a quarter of the available memory) the encoding goes to a cache
    entry on disk (:mod:`w2v.cache`) and comes back memory-mapped; a later run on the
    same file with the same settings reuses the entry and skips both passes.
    """
    source = as_source(corpus, config.cache_dir)
    entry = _cache_entry(source, config, {"kind": "vocab", "min_count": config.min_count,
                                          "max_vocab_size": config.max_vocab_size})
    if entry is not None:
        found = entry.open()
        if found is not None:
            meta, mapped = found
            mapped.reused = True
            return _vocab_from_meta(meta), _mapped_corpus(meta, mapped)
    table, vocab, entry_ids = _count(source, config, progress)
    on_disk = _use_disk(config, packed_size(vocab.counts))
    table.start_encoding(entry_ids, config.max_sentence_length,
                         0 if vocab.pruned or on_disk else packed_size(vocab.counts))
    if on_disk:
        entry = entry or _anonymous_entry(config)
        meta = {"vocab": {"words": vocab.words, "counts": vocab.counts.tolist(),
                          "raw_tokens": vocab.raw_tokens, "distinct_tokens": vocab.distinct_tokens,
                          "pruned": vocab.pruned, "truncated_words": vocab.truncated_words},
                "raw_tokens": vocab.raw_tokens}
        return vocab, _encode_to_disk(entry, source, table, progress, meta)
    _scan(source, table, "encode", progress)
    units, starts, line_start, n_words = table.take_encoded()
    return vocab, EncodedCorpus(units=units, sentence_starts=starts, line_start=line_start,
                                raw_tokens=vocab.raw_tokens, n_words=n_words)


def _use_disk(config: TrainConfig, units: int) -> bool:
    if config.corpus_cache == "auto":
        return 2 * units > memory_available() / 4 > 0
    return config.corpus_cache == "disk"


def _cache_entry(source, config: TrainConfig, settings: dict) -> Optional[CacheEntry]:
    """The cache entry of a corpus file (None for other sources, or in memory)."""
    if config.corpus_cache == "memory" or type(source) is not TextSource or source.span != (
            0, os.path.getsize(source.path)):
        return None
    settings = dict(settings, max_word_bytes=config.max_word_bytes,
                    encoding_errors=config.encoding_errors,
                    max_sentence_length=config.max_sentence_length)
    return CacheEntry(source.path, settings, config.cache_dir)


def _anonymous_entry(config: TrainConfig) -> CacheEntry:
    """A cache entry for a source that is not a plain file (sentences from Python, a
    phrased corpus): used for this run only, removed with the corpus."""
    return TemporaryEntry(config.cache_dir)


def _encode_to_disk(entry, source, table: TokenTable, progress, meta: dict) -> EncodedCorpus:
    def drains():
        for chunk in source.chunks(_ticker("encode", source.size, progress)):
            table.feed(chunk)
            yield table.drain_encoded()
        table.finish()

    try:
        entry.write(drains(), table.take_encoded, meta)
        found = entry.open()
    except OSError as e:
        raise CorpusError(f"cannot write the corpus cache in {entry.root}: {e.strerror or e}; "
                          f"give another --cache-dir, or --corpus-cache memory") from None
    if found is None:                                   # pragma: no cover - just written
        raise CorpusError(f"the corpus cache entry {entry.folder} could not be read back: "
                          f"{getattr(entry, 'damaged', '')}")
    meta, mapped = found
    return _mapped_corpus(meta, mapped)


def _mapped_corpus(meta: dict, mapped: MappedCorpus) -> EncodedCorpus:
    a = mapped.arrays
    return EncodedCorpus(units=a["units"], sentence_starts=a["sentence_starts"],
                         line_start=a["line_start"], raw_tokens=int(meta["raw_tokens"] or 0),
                         n_words=int(meta["n_words"]), mapped=mapped)


def _vocab_from_meta(meta: dict) -> Vocab:
    v = meta["vocab"]
    return Vocab(words=list(v["words"]), counts=np.asarray(v["counts"], dtype=np.int64),
                 raw_tokens=int(v["raw_tokens"]), distinct_tokens=int(v["distinct_tokens"]),
                 pruned=bool(v["pruned"]), truncated_words=int(v["truncated_words"]))


def _count(source, config: TrainConfig, progress):
    """The counting pass: returns the table, the :class:`Vocab` and each entry's id."""
    table = TokenTable(config.max_word_bytes, config.max_vocab_size or 0)
    _scan(source, table, "vocab", progress)
    if table.tokens == 0:
        raise CorpusError(EMPTY_CORPUS)
    # with errors="ignore" an invalid word can decode to any ASCII word: look at them all
    floor = 1 if config.encoding_errors == "ignore" else config.min_count
    entry_index, byte_words, counts = table.selected_entries(floor)
    vocab, entry_ids = _select(byte_words, counts, config, entry_index, len(table),
                               pruned=table.prunes > 0)
    vocab.raw_tokens = table.tokens
    vocab.pruned = table.prunes > 0
    vocab.truncated_words = table.truncated_words
    return table, vocab, entry_ids


def _scan(source, table: TokenTable, stage: str, progress) -> None:
    for chunk in source.chunks(_ticker(stage, source.size, progress)):
        table.feed(chunk)
    table.finish()


def _ticker(stage: str, total: int, progress):
    """``progress(stage, done, total)`` as the per-chunk ``tick(n)`` of ``chunks``."""
    if progress is None:
        return None
    done = 0

    def tick(n):
        nonlocal done
        done += n
        progress(stage, done, total)
    return tick


def _select(byte_words: List[bytes], counts: np.ndarray, config: TrainConfig,
            entry_index: np.ndarray, n_entries: int, pruned: bool = False):
    """Decode, merge words equal after decoding, apply min_count, sort.

    ``byte_words``/``counts`` are the table entries ``entry_index`` (those that can
    reach min_count). Returns the :class:`Vocab` and, for each of the ``n_entries``
    table entries, its id (or -1). ``pruned`` says that counting pruned the table
    (counts are lower bounds, words may be gone)."""
    words = [_decode(w, config.encoding_errors) for w in byte_words]
    distinct = n_entries
    merged_counts = counts
    if len(set(words)) != len(words):
        # several byte strings decode to the same text (invalid UTF-8 replaced): merge them
        first: Dict[str, int] = {}
        merged_counts = counts.copy()
        for e, w in enumerate(words):
            if w in first:
                merged_counts[first[w]] += counts[e]
                merged_counts[e] = 0
            else:
                first[w] = e
    keep = np.flatnonzero(merged_counts >= config.min_count)
    if len(keep) == 0:
        hint = "lower --min-count"
        if pruned:
            hint += (f" or raise --max-vocab-size (pruning the counts to "
                     f"{config.max_vocab_size:,} distinct words dropped the rarer ones)")
        raise CorpusError(f"no word occurs at least min_count={config.min_count} times "
                          f"({distinct} distinct words); {hint}")
    kept_words = [words[e] for e in keep]
    kept_counts = merged_counts[keep]
    # descending count, ties by word: sort by word (Python's str order), then a stable sort
    # by count. Not numpy's fixed-width str arrays: they drop trailing NULs (wrong ties) and
    # take (longest word x vocabulary) x 4 bytes
    order = np.array(sorted(range(len(keep)), key=kept_words.__getitem__), dtype=np.int64)
    order = order[np.argsort(-kept_counts[order], kind="stable")]
    entries_sorted = keep[order]
    vocab = Vocab(words=[words[e] for e in entries_sorted], counts=kept_counts[order].astype(np.int64),
                  distinct_tokens=distinct)
    entry_ids = np.full(n_entries, -1, dtype=np.int32)
    entry_ids[entry_index[entries_sorted]] = np.arange(len(entries_sorted), dtype=np.int32)
    if merged_counts is not counts:
        index = vocab.index
        for e, w in enumerate(words):
            if w in index:
                entry_ids[entry_index[e]] = index[w]
    return vocab, entry_ids


def count_file(path, config: Optional[TrainConfig] = None) -> Vocab:
    """Only the counting pass (for benchmarks and ``w2v info``-style tools)."""
    config = config or TrainConfig()
    return _count(as_source(path), config, None)[1]


def encode_with_vocab(corpus, words: List[str], config: TrainConfig,
                      progress: Optional[Callable[[str, int, int], None]] = None) -> EncodedCorpus:
    """Encode ``corpus`` with a fixed vocabulary (continued training): words not in
    ``words`` are skipped, exactly like words under min_count in a fresh run. The disk
    cache works as in :func:`build`, keyed to the vocabulary as well."""
    source = as_source(corpus, config.cache_dir)
    key = hashlib.sha256("\n".join(words).encode("utf-8", "surrogatepass")).hexdigest()
    entry = _cache_entry(source, config, {"kind": "fixed-vocab", "vocab": key})
    found = entry.open() if entry is not None else None
    if found is not None:
        found[1].reused = True
    encoded = _mapped_corpus(*found) if found is not None else _encode_fixed(
        source, words, config, progress, entry)
    if encoded.raw_tokens == 0:
        raise CorpusError(EMPTY_CORPUS)
    if encoded.n_words == 0:
        raise CorpusError("none of the corpus words is in the model's vocabulary")
    return encoded


def _encode_fixed(source, words: List[str], config: TrainConfig, progress, entry):
    table = TokenTable(max(config.max_word_bytes, max((len(w.encode("utf-8", "surrogatepass"))
                                                        for w in words), default=1)))
    # entries are created in feed order, so entry i is words[i]
    table.feed("\n".join(words).encode("utf-8", "surrogatepass") + b"\n")
    table.finish()
    if len(table) != len(words):
        raise CorpusError("the model's vocabulary has words containing whitespace or duplicates; "
                          "it cannot be matched against a text corpus")
    table.start_encoding(np.arange(len(words), dtype=np.int32), config.max_sentence_length)
    if _use_disk(config, source.size // 2):       # about a unit per two bytes of text
        return _encode_to_disk(entry or _anonymous_entry(config), source, table, progress,
                               lambda: {"raw_tokens": table.tokens})
    _scan(source, table, "encode", progress)
    units, starts, line_start, n_words = table.take_encoded()
    return EncodedCorpus(units=units, sentence_starts=starts, line_start=line_start,
                         raw_tokens=table.tokens, n_words=n_words)
