"""Phrases: joining frequent collocations such as ``new_york`` into one token.

One pass counts every word and every pair of adjacent words on a line (in
compiled code, :mod:`w2v._phrases`, with bounded memory), scores each pair seen
at least ``min_count`` times and keeps those scoring above ``threshold``. A pair
(a, b) with counts c(a), c(b), c(ab) in a corpus of N tokens scores

* ``default``, the word2vec C tool's word2phrase: ``(c(ab) - min_count) / (c(a) * c(b)) * N``
  (threshold 100 by default);
* ``npmi``, normalised pointwise mutual information as gensim defines it:
  ``ln(p(ab) / (p(a) p(b))) / -ln(p(ab))`` with ``p(x) = c(x) / N``, in [-1, 1]
  (threshold 0.5 by default).

Applying the phrases rewrites each line greedily from left to right: when the
pair (previous token, token) is a phrase the two are joined with ``_`` and the
token is consumed, so it cannot also start a phrase with the next token. Each
pass after the first learns from the output of the passes before it, so
``passes=2`` can give phrases of up to four words. Phrases never span a line
break.

Deliberate differences from word2phrase (``-threshold 100 -min-count 5`` are its
defaults and ours):

* word2phrase also counts the pair (last word of a line, first word of the next
  line) while learning (it never joins them when applying); we count pairs
  within lines only.
* word2phrase cuts words at 59 bytes and scores in single precision; we cut at
  ``max_word_bytes`` (1000) and score in double precision.
* word2phrase starts every output line with a space; we separate tokens by one
  space and nothing else, and end the last line with a newline.
* with ``max_table_size`` set, the word table and the pair table are pruned
  separately (word2phrase prunes its one table of words and pairs at 350 M
  entries); a pruned run's counts are lower bounds, as with word2phrase.

gensim's ``Phrases`` (default scoring) multiplies by its vocabulary size instead of
N, so the same threshold selects different phrases there.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ._phrases import PhraseApplier, PhraseCounter
from .config import check_phrase_options
from .corpus import ChunkSource, as_source
from .errors import ArgumentError, ConfigError, CorpusError, FormatError, described, shown
from .outputs import as_path, atomic_write, check_outputs
from .vocab import EMPTY_CORPUS

__all__ = ["Phrases", "PhraseTable", "score", "learn", "phrases"]

DELIMITER = "_"
FILE_FORMAT = "w2v-phrases"
FILE_VERSION = 1
#: Words and pairs kept while counting, per table, by default (0 = unbounded). A full
#: pair table of 40 M takes 768 MB (12 bytes a slot, at most 70% full); the 70 M-token
#: enwiki corpus has 11.4 M distinct pairs within lines and 0.5 M distinct words.
DEFAULT_MAX_TABLE_SIZE = 40_000_000

# Words are bytes in the compiled code; as str they are decoded with surrogateescape,
# so any byte string (even invalid UTF-8) round-trips exactly.
_ERRORS = "surrogateescape"


def score(count_a, count_b, count_ab, total_words: int, min_count: int, scoring: str = "default"):
    """The score of pairs with the given counts (scalars or numpy arrays), as the
    module docstring defines it. npmi is 1.0 where ``count_ab == total_words``."""
    count_a = np.asarray(count_a, dtype=np.float64)
    count_b = np.asarray(count_b, dtype=np.float64)
    count_ab = np.asarray(count_ab, dtype=np.float64)
    if scoring == "default":
        result = (count_ab - min_count) / (count_a * count_b) * float(total_words)
    elif scoring == "npmi":
        n = float(total_words)
        p_ab = count_ab / n
        with np.errstate(divide="ignore", invalid="ignore"):
            result = np.log(p_ab / ((count_a / n) * (count_b / n))) / -np.log(p_ab)
        result = np.where(p_ab >= 1.0, 1.0, result)
    else:
        raise ValueError(f"unknown scoring {scoring!r}")
    return float(result) if result.ndim == 0 else result


@dataclass
class PhraseTable:
    """The phrases learnt by one pass: for each pair (a, b) its counts and score."""

    total_words: int                       # tokens in the corpus this pass read
    pairs: Dict[Tuple[str, str], Tuple[int, int, int, float]] = field(default_factory=dict)
    distinct_words: int = 0
    distinct_pairs: int = 0                # in the table at the end (after any pruning)
    pruned: bool = False                   # counts are lower bounds
    peak_words: int = 0                    # most words / pairs held at once while counting
    peak_pairs: int = 0

    def __len__(self) -> int:
        return len(self.pairs)

    def applier(self, max_word_bytes: int) -> PhraseApplier:
        """A compiled applier joining this table's pairs."""
        index: Dict[str, int] = {}
        first, second = [], []
        for a, b in self.pairs:
            first.append(index.setdefault(a, len(index)))
            second.append(index.setdefault(b, len(index)))
        applier = PhraseApplier(max_word_bytes)
        applier.set_pairs([w.encode("utf-8", _ERRORS) for w in index],
                          np.array(first, dtype=np.int64), np.array(second, dtype=np.int64))
        return applier

    def to_dict(self) -> dict:
        return {"total_words": self.total_words, "distinct_words": self.distinct_words,
                "distinct_pairs": self.distinct_pairs, "pruned": self.pruned,
                "peak_words": self.peak_words, "peak_pairs": self.peak_pairs,
                "phrases": [[a, b, ca, cb, cab, s] for (a, b), (ca, cb, cab, s) in self.pairs.items()]}

    @classmethod
    def from_dict(cls, data, max_word_bytes: int = 1000, where: str = "table") -> "PhraseTable":
        """Parse :meth:`to_dict`'s output, checking every field; :class:`FormatError`
        naming the field (``where`` says which table) for anything else."""
        fields = _Fields(data, where)
        table = cls(total_words=fields.integer("total_words"),
                    distinct_words=fields.integer("distinct_words", 0),
                    distinct_pairs=fields.integer("distinct_pairs", 0),
                    pruned=fields.boolean("pruned", False),
                    peak_words=fields.integer("peak_words", 0),
                    peak_pairs=fields.integer("peak_pairs", 0))
        rows = fields.get("phrases", list)
        for i, row in enumerate(rows):
            here = f"{where}, phrase #{i + 1}"
            if not isinstance(row, list) or len(row) != 6:
                raise FormatError(f"{here}: expected [word, word, count, count, count, score], "
                                  f"got {shown(row)}")
            a, b = (_phrase_word(w, max_word_bytes, here) for w in row[:2])
            counts = [_Fields.check_integer(c, f"{here}, count") for c in row[2:5]]
            table.pairs[(a, b)] = (*counts, _finite_score(row[5], here))
        return table


class _Fields:
    """Typed access to one JSON object of a phrase-table file, for :meth:`Phrases.load`."""

    def __init__(self, data, where: str):
        if not isinstance(data, dict):
            raise FormatError(f"{where}: expected an object, got {shown(data)}")
        self.data, self.where = data, where

    def get(self, key: str, kind, default=...):
        if key not in self.data:
            if default is ...:
                raise FormatError(f"{self.where}: the field {key!r} is missing")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise FormatError(f"{self.where}: {key!r} must be {_KIND_NAMES[kind]}, got "
                              f"{shown(value)}")
        return value

    def integer(self, key: str, default=...) -> int:
        return self.check_integer(self.get(key, int, default), f"{self.where}: {key!r}")

    def boolean(self, key: str, default=...) -> bool:
        return self.get(key, bool, default)

    @staticmethod
    def check_integer(value, where: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2 ** 63:
            raise FormatError(f"{where} must be an integer between 0 and 2**63-1, got "
                              f"{shown(value)}")
        return value


_KIND_NAMES = {int: "an integer", bool: "true or false", list: "a list", str: "a string",
               (int, float): "a number"}


def _finite_score(value, where: str) -> float:
    try:
        score = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else math.nan
    except OverflowError:            # an integer past float's range
        score = math.nan
    if not math.isfinite(score):
        raise FormatError(f"{where}: the score must be a finite number, got {shown(value)}")
    return score


def _phrase_word(word, max_word_bytes: int, where: str) -> str:
    """A word of a phrase as the compiled applier needs it: a non-empty str without
    whitespace whose bytes (surrogateescape) fit in ``max_word_bytes``."""
    if not isinstance(word, str) or not word:
        raise FormatError(f"{where}: a word must be a non-empty string, got {shown(word)}")
    try:
        raw = word.encode("utf-8", _ERRORS)
    except UnicodeEncodeError:
        raise FormatError(f"{where}: the word {shown(word)} cannot be encoded") from None
    if len(raw.split()) != 1 or len(raw) > max_word_bytes:
        raise FormatError(f"{where}: the word {shown(word)} contains whitespace or is longer "
                          f"than max_word_bytes ({max_word_bytes})")
    return word


class Phrases:
    """Phrase tables learnt in one or more passes, and their application.

    ``Phrases.learn(corpus)`` learns them; ``phrases[sentence]`` or
    ``phrases.apply(tokens)`` joins a token list; ``phrases.transform(corpus, out)``
    writes a whole corpus; ``save``/``load`` keep the tables in a JSON file.
    """

    def __init__(self, tables: Sequence[PhraseTable] = (), *, scoring: str = "default",
                 threshold: Optional[float] = None, min_count: int = 5,
                 max_word_bytes: int = 1000):
        if not isinstance(tables, (list, tuple)) or not all(isinstance(t, PhraseTable)
                                                            for t in tables):
            raise ArgumentError(f"Phrases: tables must be a list of PhraseTable, got "
                                f"{described(tables)}")
        self.threshold = check_phrase_options(max(1, len(tables)), threshold, min_count, scoring,
                                              max_word_bytes=max_word_bytes)
        self.scoring = scoring
        self.min_count = min_count
        self.max_word_bytes = max_word_bytes
        self.tables: List[PhraseTable] = list(tables)

    def __repr__(self):
        return (f"Phrases({len(self.tables)} passes, {[len(t) for t in self.tables]} phrases, "
                f"scoring={self.scoring!r}, threshold={self.threshold}, min_count={self.min_count})")

    # ---------------------------------------------------------------- learning
    @classmethod
    def learn(cls, corpus, *, passes: int = 1, threshold: Optional[float] = None,
              min_count: int = 5, scoring: str = "default",
              max_table_size: Optional[int] = DEFAULT_MAX_TABLE_SIZE, max_word_bytes: int = 1000,
              progress: Optional[Callable[[str, int, int], None]] = None) -> "Phrases":
        """Learn ``passes`` phrase tables from ``corpus`` (a text file, plain or
        .gz/.bz2/.xz, or an iterable of token lists).

        ``max_table_size`` bounds the word table and the pair table (entries each;
        None or 0: unbounded). ``progress(stage, done, total)`` gets stage
        ``"phrases k/N"`` and byte counts for each pass."""
        check_phrase_options(passes, threshold, min_count, scoring, max_table_size or None,
                             max_word_bytes=max_word_bytes)
        self = cls(scoring=scoring, threshold=threshold, min_count=min_count,
                   max_word_bytes=max_word_bytes)
        source = as_source(corpus)
        for k in range(passes):
            counter = PhraseCounter(max_word_bytes, max_table_size or 0)
            for chunk in self.stream(source, _stage_progress(progress, f"phrases {k + 1}/{passes}",
                                                             source.size)):
                counter.feed(chunk)
            counter.finish()
            if counter.tokens == 0:
                raise CorpusError(EMPTY_CORPUS)
            self.tables.append(self._select(counter))
        return self

    def _select(self, counter: PhraseCounter) -> PhraseTable:
        """Score the counted pairs seen at least min_count times; keep those above
        the threshold."""
        words, word_counts = counter.entries()
        first, second, count_ab = counter.pairs.at_least(self.min_count)
        count_a, count_b = word_counts[first], word_counts[second]
        scores = score(count_a, count_b, count_ab, counter.tokens, self.min_count, self.scoring)
        keep = np.flatnonzero(np.asarray(scores) > self.threshold)
        pairs = {}
        for i in keep[np.argsort(-np.asarray(scores)[keep], kind="stable")]:
            a = words[first[i]].decode("utf-8", _ERRORS)
            b = words[second[i]].decode("utf-8", _ERRORS)
            pairs[(a, b)] = (int(count_a[i]), int(count_b[i]), int(count_ab[i]), float(scores[i]))
        return PhraseTable(total_words=int(counter.tokens), pairs=pairs, distinct_words=len(words),
                           distinct_pairs=len(counter.pairs),
                           pruned=counter.prunes > 0 or counter.pairs.prunes > 0,
                           peak_words=counter.peak_words, peak_pairs=counter.pairs.peak_entries)

    # ---------------------------------------------------------------- applying
    def stream(self, corpus, progress: Optional[Callable[[int], None]] = None,
               stats: Optional[dict] = None) -> Iterator[bytes]:
        """The text of ``corpus`` with every learnt pass applied, as byte chunks
        (nothing is written to disk). ``progress(n)`` as for ``TextSource.chunks``;
        ``stats``, if given, receives ``tokens`` (read) and ``joined`` (phrases
        written by each pass) at the end."""
        appliers = [t.applier(self.max_word_bytes) for t in self.tables]
        for chunk in as_source(corpus).chunks(progress):
            for applier in appliers:
                chunk = applier.transform(chunk)
            if chunk:
                yield chunk
        for i, applier in enumerate(appliers):
            tail = applier.flush()
            for later in appliers[i + 1:]:
                tail = later.transform(tail)
            if tail:
                yield tail
        if stats is not None and appliers:
            stats.update(tokens=appliers[0].tokens, joined=[a.joined for a in appliers])

    def source(self, corpus) -> "PhrasedSource":
        """``corpus`` as a source that :func:`w2v.train` reads with phrases joined."""
        return PhrasedSource(as_source(corpus), self)

    def transform(self, corpus, output, progress: Optional[Callable[[str, int, int], None]] = None
                  ) -> Dict[str, int]:
        """Write ``corpus`` with phrases joined to ``output`` (atomically). Returns
        ``{"lines", "tokens", "joined"}``: output lines, tokens read and phrases
        written by each pass."""
        if isinstance(corpus, (str, bytes, os.PathLike)):
            check_outputs({"output": output}, {"corpus": corpus})
        source = as_source(corpus)
        stats = {"lines": 0, "tokens": 0, "joined": []}
        with atomic_write(output, "wb") as f:
            for chunk in self.stream(source, _stage_progress(progress, "writing", source.size),
                                     stats):
                f.write(chunk)
                stats["lines"] += chunk.count(b"\n")
        return stats

    def apply(self, sentence: Iterable[str]) -> List[str]:
        """Join the phrases of one sentence (a list of tokens, or a str split on
        whitespace), pass by pass, exactly as in files."""
        if isinstance(sentence, str):
            tokens = sentence.split()
        elif isinstance(sentence, (list, tuple)) and all(isinstance(t, str) for t in sentence):
            tokens = list(sentence)
        else:
            raise ArgumentError(f"apply: expected a sentence (a str, or a list of str tokens), "
                                f"got {described(sentence)}")
        for table in self.tables:
            out: List[str] = []
            pending: Optional[str] = None
            for tok in tokens:
                if pending is not None and (pending, tok) in table.pairs:
                    out.append(pending + DELIMITER + tok)
                    pending = None
                    continue
                if pending is not None:
                    out.append(pending)
                pending = tok
            if pending is not None:
                out.append(pending)
            tokens = out
        return tokens

    def __getitem__(self, sentence):
        return self.apply(sentence)

    def export_phrases(self) -> Dict[str, float]:
        """Every phrase of every pass as ``{"a_b": score}`` (later passes may join
        phrases of earlier ones, e.g. ``new_york_city``)."""
        return {a + DELIMITER + b: s for t in self.tables for (a, b), (_, _, _, s) in t.pairs.items()}

    # ---------------------------------------------------------------- files
    def to_dict(self) -> dict:
        return {"format": FILE_FORMAT, "version": FILE_VERSION, "scoring": self.scoring,
                "threshold": self.threshold, "min_count": self.min_count,
                "max_word_bytes": self.max_word_bytes, "delimiter": DELIMITER,
                "passes": [t.to_dict() for t in self.tables]}

    def save(self, path) -> None:
        """Write the tables as JSON (atomically; no pickle)."""
        with atomic_write(path, "w") as f:
            json.dump(self.to_dict(), f, ensure_ascii=True, separators=(",", ":"))
            f.write("\n")

    @classmethod
    def load(cls, path) -> "Phrases":
        """Read a file written by :meth:`save`. Anything else (missing, a folder,
        not JSON, nested too deeply, a field of the wrong type or range) raises
        :class:`FormatError` and nothing else; no code is executed."""
        path = as_path(path, "path")
        try:
            with open(path, "rb") as f:
                data = json.loads(f.read().decode("utf-8"))
        except FileNotFoundError:
            raise FormatError(f"phrase table not found: {path}") from None
        except OSError as e:          # a folder, no permission, an I/O error
            raise FormatError(f"{path}: cannot read the phrase table: {e.strerror or e}") from None
        except (UnicodeDecodeError, ValueError, RecursionError) as e:   # RecursionError: [[[[...
            why = "nested too deeply" if isinstance(e, RecursionError) else e
            raise FormatError(f"{path}: not a phrase table (invalid JSON: {why})") from None
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
            raise FormatError(f"{path}: not a phrase table (no \"format\": \"{FILE_FORMAT}\")")
        if data.get("version") != FILE_VERSION or isinstance(data.get("version"), bool):
            raise FormatError(f"{path}: phrase table version {shown(data.get('version'))} is not "
                              f"supported (this w2v reads version {FILE_VERSION})")
        fields = _Fields(data, path)
        settings = dict(scoring=fields.get("scoring", str),
                        threshold=fields.get("threshold", (int, float)),
                        min_count=fields.get("min_count", int),
                        max_word_bytes=fields.get("max_word_bytes", int, 1000))
        passes = fields.get("passes", list)
        try:
            check_phrase_options(max(1, len(passes)), settings["threshold"], settings["min_count"],
                                 settings["scoring"], max_word_bytes=settings["max_word_bytes"])
        except ConfigError as e:
            raise FormatError(f"{path}: corrupt phrase table: {e}") from None
        tables = [PhraseTable.from_dict(t, settings["max_word_bytes"], f"{path}, pass {k + 1}")
                  for k, t in enumerate(passes)]
        return cls(tables, **settings)


class PhrasedSource(ChunkSource):
    """A corpus read through :meth:`Phrases.stream`: what ``train(phrases=N)`` trains on."""

    def __init__(self, source: ChunkSource, phrases: Phrases):
        self.inner = source
        self.phrases = phrases
        self.size = source.size
        self.path = getattr(source, "path", None)

    def __repr__(self):
        return f"PhrasedSource({self.inner!r}, {self.phrases!r})"

    def chunks(self, progress=None):
        return self.phrases.stream(self.inner, progress)


def _stage_progress(progress, stage: str, total: int):
    """Adapt ``progress(stage, done, total)`` to the per-chunk ``progress(n)``."""
    if progress is None:
        return None
    if not callable(progress):
        raise ArgumentError(f"progress: expected a function progress(stage, done, total), got "
                            f"{described(progress)}")
    done = 0

    def tick(n):
        nonlocal done
        done += n
        progress(stage, done, total)
    return tick


def learn(corpus, **options) -> Phrases:
    """Learn phrases from ``corpus``; see :meth:`Phrases.learn`."""
    return Phrases.learn(corpus, **options)


def phrases(corpus, output=None, **options) -> Phrases:
    """Learn phrases from ``corpus`` and, if ``output`` is given, write the corpus
    with phrases joined there (atomically). Returns the :class:`Phrases`."""
    if output is not None and isinstance(corpus, (str, bytes, os.PathLike)):
        check_outputs({"output": output}, {"corpus": corpus})     # before the counting pass
    source = as_source(corpus)          # a generator or a pipe is spooled once
    result = Phrases.learn(source, **options)
    if output is not None:
        result.transform(source, output)
    return result
