"""The vocabulary: one counting pass, min_count, deterministic order.

Counting runs in compiled code (:class:`w2v._text.TokenTable`); Python only
sees each distinct word once, to decode it from UTF-8 and sort. Words are
ordered by descending count, ties broken by the word itself, so the same
corpus always gives the same ids.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional

import numpy as np

from ._text import TokenTable, packed_size, ranked_selection
from .cache import CacheEntry, MappedCorpus, TemporaryEntry, memory_available
from .config import TrainConfig
from .corpus import EncodedCorpus, TextSource, as_source, byte_shards
from .errors import CorpusError
from .heap import fix_mmap_threshold
from .threads import run_on_threads

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
    parts = _parts(source, config)
    tables, vocab, ids = _count_parts(parts, config, progress)
    # encoding looks up only the vocabulary: every table shrinks to it (from every
    # distinct token), which keeps the encoding pass's memory to the output
    run_on_threads(lambda k: ids.__setitem__(k, tables[k].keep_only(ids[k])), range(len(tables)))
    units = packed_size(vocab.counts)       # exact unless pruning undercounted
    if _use_disk(config, units):
        meta = {"vocab": {"words": vocab.words, "counts": vocab.counts.tolist(),
                          "raw_tokens": vocab.raw_tokens, "distinct_tokens": vocab.distinct_tokens,
                          "pruned": vocab.pruned, "truncated_words": vocab.truncated_words}}
        return vocab, _encode_to_disk(entry or TemporaryEntry(config.cache_dir), parts, tables,
                                      ids, config, progress, meta)
    return vocab, _encode_in_memory(parts, tables, ids, config, progress,
                                    0 if vocab.pruned else units)


#: A part of a file smaller than this is not worth a thread of its own.
MIN_PART_BYTES = 1 << 22


def _parts(source, config: TrainConfig) -> list:
    """The sources the counting and encoding passes read, one thread each: byte ranges
    of an uncompressed file cut at line starts (``config.threads`` of them, each at
    least :data:`MIN_PART_BYTES`), else the whole source. One part when the file is
    compressed (a stream cannot be entered in the middle), for sentences from Python,
    and with ``max_vocab_size``: pruning depends on the order tokens arrive in, so
    several parts would not give one thread's vocabulary."""
    if (type(source) is not TextSource or source.compression or config.max_vocab_size
            or config.threads < 2 or source.span != (0, source.size)):
        return [source]
    n = int(min(config.threads, source.size // MIN_PART_BYTES))
    if n < 2:
        return [source]
    return [TextSource(source.path, byte_range=r) for r in byte_shards(source.size, n)]


def _run_parts(parts, work, stage: str, progress) -> None:
    """``work(k, part, tick)`` for every part, each on a thread of its own (the scans
    release the GIL); this thread reports the bytes done. The first error (or Ctrl-C
    here) stops the other parts at their next chunk, then is raised."""
    if len(parts) == 1:
        work(0, parts[0], _ticker(stage, parts[0].size, progress))
        return
    fix_mmap_threshold()                # the parts' tables grow in thread arenas
    done = [0] * len(parts)
    errors: List[BaseException] = []
    stop = threading.Event()

    def run(k):
        def tick(n):
            if stop.is_set():
                raise _Stopped()
            done[k] += n
        try:
            work(k, parts[k], tick)
        except _Stopped:
            pass
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=run, args=(k,), name=f"w2v-{stage}-{k}", daemon=True)
               for k in range(len(parts))]
    total = sum(p.size for p in parts)
    try:
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(0.2)
                if progress is not None:
                    progress(stage, sum(done), total)
    except BaseException:
        stop.set()
        for t in threads:
            t.join()
        raise
    if errors:
        raise errors[0]


class _Stopped(Exception):
    """Another part failed: this one stops at its next chunk."""


def _count_parts(parts, config: TrainConfig, progress):
    """The counting pass over every part: returns the parts' tables, the
    :class:`Vocab` and, per table, each entry's vocabulary id (or -1)."""
    tables = [TokenTable(config.max_word_bytes, config.max_vocab_size or 0) for _ in parts]
    _run_parts(parts, lambda k, part, tick: _feed(part, tables[k], tick), "vocab", progress)
    merged, maps = _merge(tables, config)
    vocab, entry_ids = _vocab_of(merged, tables, config)
    return tables, vocab, [entry_ids] if maps is None else [entry_ids[m] for m in maps]


def _merge(tables, config: TrainConfig):
    """The parts' counts merged: one table is its own merge (no index maps). Several
    are merged by hash partition, one partition per thread, into as many disjoint
    tables (the merged entries: partition 0's, then 1's, ...); then each part table
    gets its entries' indices among the merged ones."""
    n = len(tables)
    if n == 1:
        return tables, None
    merged = [TokenTable(config.max_word_bytes) for _ in range(n)]
    local = [None] * n
    run_on_threads(lambda p: local.__setitem__(p, merged[p].absorb(tables, p, n)), range(n))
    offsets = np.cumsum([0] + [len(t) for t in merged[:-1]]).astype(np.int64)
    maps = [None] * n
    run_on_threads(lambda k: maps.__setitem__(
        k, tables[k].merged_index([local[p][k] for p in range(n)], offsets)), range(n))
    return merged, maps


def _encode_in_memory(parts, tables, ids, config: TrainConfig, progress,
                      expected_units: int) -> EncodedCorpus:
    """The encoding pass in memory. Several parts write straight into their slices of
    one array, sized exactly from their counts (no concatenation, no second copy)."""
    if len(parts) == 1:
        return _encode_whole(parts[0], tables[0], ids[0], config, progress, expected_units)
    offsets = _part_offsets(tables, ids)
    units = np.empty(int(offsets[-1]), dtype=np.uint16)
    results = [None] * len(parts)

    def encode(k, part, tick):
        tables[k].start_encoding(ids[k], config.max_sentence_length,
                                 out=units[offsets[k]:offsets[k + 1]])
        _feed(part, tables[k], tick)
        results[k] = tables[k].take_encoded()[1:]

    _run_parts(parts, encode, "encode", progress)
    starts = np.concatenate([r[0][:-1] + offsets[k] for k, r in enumerate(results)]
                            + [offsets[-1:]])
    line_start = np.concatenate([r[1] for r in results])
    return EncodedCorpus(units=units, sentence_starts=starts, line_start=line_start,
                         raw_tokens=sum(t.tokens for t in tables),
                         n_words=sum(r[2] for r in results))


def _part_offsets(tables, ids) -> np.ndarray:
    """Where each part's units start in the whole encoding, and the end: each part
    knows its size from its own table's counts."""
    sizes = [t.units_for(i) for t, i in zip(tables, ids)]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def _feed(part, table: TokenTable, tick) -> None:
    for chunk in part.chunks(tick):
        table.feed(chunk)
    table.finish()


def _use_disk(config: TrainConfig, units: int) -> bool:
    if config.corpus_cache == "auto":
        return 2 * units > memory_available() / 4 > 0
    return config.corpus_cache == "disk"


def _cache_entry(source, config: TrainConfig, settings: dict) -> Optional[CacheEntry]:
    """The cache entry of a corpus file (None for other sources, or in memory)."""
    if (config.corpus_cache == "memory" or type(source) is not TextSource
            or source.span != (0, source.size)):
        return None
    settings = dict(settings, max_word_bytes=config.max_word_bytes,
                    encoding_errors=config.encoding_errors,
                    max_sentence_length=config.max_sentence_length)
    return CacheEntry(source.path, settings, config.cache_dir)


def _encode_to_disk(entry, parts, tables, ids, config: TrainConfig, progress,
                    meta: dict) -> EncodedCorpus:
    """The encoding pass into a cache entry (an entry of its own for a source that is
    not a plain file: :class:`TemporaryEntry`): each part drains its output after
    every chunk into the entry's files (units at the part's exact offset, from
    its table's counts, when there are several parts), then the entry is mapped."""
    offsets = _part_offsets(tables, ids).tolist() if len(parts) > 1 else None

    try:
        with entry.writer(len(parts), offsets) as writer:
            def encode(k, part, tick):
                sink = writer.sink(k)
                tables[k].start_encoding(ids[k], config.max_sentence_length)
                for chunk in part.chunks(tick):
                    tables[k].feed(chunk)
                    sink(*tables[k].drain_encoded())
                tables[k].finish()
                units, starts, line_start, n_words = tables[k].take_encoded()
                sink(units, starts[:-1], line_start)
                writer.record(k, n_words)

            _run_parts(parts, encode, "encode", progress)
            writer.commit(meta, raw_tokens=sum(t.tokens for t in tables))
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


def _count(source, config: TrainConfig, progress) -> Vocab:
    """The counting pass alone (on ``config.threads`` threads where it can)."""
    return _count_parts(_parts(source, config), config, progress)[1]


def _vocab_of(merged, tables, config: TrainConfig):
    """The :class:`Vocab` of the counted ``tables`` (``merged``: their counts merged
    into disjoint tables, :func:`_merge`) and each merged entry's id (or -1)."""
    tokens = sum(t.tokens for t in tables)
    if tokens == 0:
        raise CorpusError(EMPTY_CORPUS)
    pruned = any(t.prunes for t in tables)
    n_entries = sum(len(t) for t in merged)
    if not any(t.invalid_utf8() for t in merged):
        # every word is valid UTF-8: decoding maps distinct bytes to distinct words in
        # the same order, so the ranking is done on the bytes and all decode at once
        index, joined, counts = ranked_selection(merged, config.min_count)
        if len(index) == 0:
            raise CorpusError(_no_word_message(config, n_entries, pruned))
        vocab = Vocab(words=joined.decode("utf-8").split("\n"), counts=counts,
                      distinct_tokens=n_entries)
        entry_ids = np.full(n_entries, -1, dtype=np.int32)
        entry_ids[index] = np.arange(len(index), dtype=np.int32)
    else:
        # with errors="ignore" an invalid word can decode to any ASCII word: look at them all
        floor = 1 if config.encoding_errors == "ignore" else config.min_count
        selected = [t.selected_entries(floor) for t in merged]
        bases = np.cumsum([0] + [len(t) for t in merged[:-1]])
        vocab, entry_ids = select_vocab(
            [w for s in selected for w in s[1]], np.concatenate([s[2] for s in selected]),
            config, np.concatenate([s[0] + b for s, b in zip(selected, bases)]), n_entries,
            pruned=pruned)
    vocab.raw_tokens = tokens
    vocab.pruned = pruned
    vocab.truncated_words = sum(t.truncated_words for t in tables)
    return vocab, entry_ids


def _no_word_message(config: TrainConfig, distinct: int, pruned: bool) -> str:
    hint = "lower --min-count"
    if pruned:
        hint += (f" or raise --max-vocab-size (pruning the counts to "
                 f"{config.max_vocab_size:,} distinct words dropped the rarer ones)")
    return (f"no word occurs at least min_count={config.min_count} times "
            f"({distinct} distinct words); {hint}")


def _scan(source, table: TokenTable, stage: str, progress) -> None:
    _feed(source, table, _ticker(stage, source.size, progress))


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


def select_vocab(byte_words: List[bytes], counts: np.ndarray, config: TrainConfig,
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
        raise CorpusError(_no_word_message(config, distinct, pruned))
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
    return _count(as_source(path), config, None)


def count_words(corpus, config: TrainConfig,
                progress: Optional[Callable[[str, int, int], None]] = None) -> Vocab:
    """Every word of ``corpus`` with its count (min_count 1, no max_vocab_size pruning),
    in the vocabulary's order: the counting pass alone (vocabulary growth on resume)."""
    every = replace(config, min_count=1, max_vocab_size=None)
    return _count(as_source(corpus, config.cache_dir), every, progress)


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
    ids = np.arange(len(words), dtype=np.int32)
    if _use_disk(config, source.size // 2):       # about a unit per two bytes of text
        return _encode_to_disk(entry or TemporaryEntry(config.cache_dir), [source], [table],
                               [ids], config, progress, {})
    return _encode_whole(source, table, ids, config, progress)


def _encode_whole(source, table: TokenTable, ids: np.ndarray, config: TrainConfig, progress,
                  expected_units: int = 0) -> EncodedCorpus:
    """Encode all of ``source`` with one table (entry e gets id ``ids[e]``, -1: skipped)
    into a new in-memory corpus."""
    table.start_encoding(ids, config.max_sentence_length, expected_units)
    _scan(source, table, "encode", progress)
    units, starts, line_start, n_words = table.take_encoded()
    return EncodedCorpus(units=units, sentence_starts=starts, line_start=line_start,
                         raw_tokens=table.tokens, n_words=n_words)


# -- a cluster worker's part of the corpus ------------------------------------------------

@dataclass
class PartCounts:
    """One part of a corpus counted on its own (a cluster worker's byte range): its
    table, and the entries that go to the merge (:func:`w2v.cluster.merge_counts`)."""
    table: TokenTable
    entry_index: np.ndarray     # table entries sent to the merge
    words: List[bytes]          # their bytes
    counts: np.ndarray          # and counts

    def summary(self) -> dict:
        t = self.table
        return {"words": self.words, "counts": self.counts, "tokens": t.tokens,
                "pruned": t.prunes > 0, "truncated": t.truncated_words}


def count_part(source: TextSource, config: TrainConfig) -> PartCounts:
    """Count ``source`` into a fresh table (every word seen, since another part may
    bring it to min_count)."""
    table = TokenTable(config.max_word_bytes, config.max_vocab_size or 0)
    _scan(source, table, "vocab", None)
    entry_index, words, counts = table.selected_entries(1)
    return PartCounts(table, entry_index, words, counts)


def encode_part(source: TextSource, part: PartCounts, ids_of_entries: np.ndarray,
                config: TrainConfig) -> EncodedCorpus:
    """Encode ``source`` with the ids the merged vocabulary gave ``part``'s entries
    (-1: not kept)."""
    entry_ids = np.full(len(part.table), -1, dtype=np.int32)
    entry_ids[part.entry_index] = ids_of_entries
    return _encode_whole(source, part.table, entry_ids, config, None)
