"""Reading corpora and encoding them to word ids.

A corpus is a text file (plain UTF-8, or ``.gz``/``.bz2``/``.xz`` by extension
or magic bytes) with one sentence per line, or a Python iterable of token
lists. Either way the text is fed to the compiled :class:`w2v._text.TokenTable`
as byte chunks, so lines of any length use bounded memory.

The encoded corpus (:class:`EncodedCorpus`) is what every epoch trains from:
in-vocabulary word ids (int32) and sentence boundaries, each sentence a line or
a piece of a line longer than ``max_sentence_length``. :func:`shards` cuts it
into per-thread ranges that start and end on line boundaries.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import zlib
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional

import numpy as np

from ._text import FIRST_WIDE_ID, pack_ids, unpack_ids
from .errors import CorpusError, shown
from .outputs import as_path, output_kind

CHUNK_BYTES = 1 << 22  # 4 MiB reads

_MAGIC = ((b"\x1f\x8b", "gz"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))


def compression_of(path) -> Optional[str]:
    """'gz', 'bz2', 'xz' or None, from the file's magic bytes."""
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def check_corpus_path(path) -> str:
    """Resolve ``path`` or raise :class:`CorpusError` saying why it is unusable."""
    path = as_path(path, "corpus")
    if not os.path.exists(path):
        raise CorpusError(f"corpus file not found: {path}")
    if os.path.isdir(path):
        raise CorpusError(f"corpus path is a directory, not a file: {path}")
    kind = output_kind(path)
    if kind != "file":
        what = "a pipe or device" if kind == "stream" else "not a regular file"
        raise CorpusError(f"corpus {path} is {what}: it is read more than once (counting, then "
                          f"encoding), so save it to a file first (cat ... > corpus.txt)")
    if not os.access(path, os.R_OK):
        raise CorpusError(f"corpus file is not readable: {path}")
    return path


class ChunkSource:
    """Text that can be read (more than once) as byte chunks: ``chunks(progress)``;
    ``size`` is the byte count progress is reported against, ``path`` the file or None."""

    size: int = 0
    path = None

    def chunks(self, progress: Optional[Callable[[int], None]] = None) -> Iterator:
        raise NotImplementedError


class TextSource(ChunkSource):
    """A corpus file that can be read (more than once) as byte chunks.

    ``byte_range=(start, end)`` reads only the lines whose first byte lies in
    ``[start, end)`` of an uncompressed file (one shard of a cluster run; see
    :func:`byte_shards`)."""

    def __init__(self, path, byte_range: Optional[tuple] = None):
        self.path = check_corpus_path(path)
        self.compression = compression_of(self.path)
        self.size = os.path.getsize(self.path)
        self.span = (0, self.size)
        if byte_range is not None:
            if self.compression:
                raise CorpusError(f"{self.path} is {self.compression}-compressed and cannot be "
                                  f"split into byte ranges; decompress it first")
            start, end = byte_range
            self.span = (line_start_at_or_after(self.path, start), line_start_at_or_after(self.path, end))
            self.size = self.span[1] - self.span[0]

    def __repr__(self):
        return f"TextSource({self.path!r})"

    def chunks(self, progress: Optional[Callable[[int], None]] = None) -> Iterator[memoryview]:
        """Yield the decompressed text in chunks; ``progress(n)`` gets the number
        of (compressed) file bytes consumed since the last call."""
        opener = {None: None, "gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}[self.compression]
        try:
            with open(self.path, "rb", buffering=0) as raw:
                stream = opener(raw, "rb") if opener else raw
                buf = bytearray(CHUNK_BYTES)
                view = memoryview(buf)
                start, end = self.span
                if start:
                    raw.seek(start)
                left = end - start if not opener else None   # bytes of the range still to read
                last_pos = start
                read = 0                                     # text bytes before this chunk
                while left is None or left > 0:
                    n = stream.readinto(buf if left is None or left >= CHUNK_BYTES else view[:left])
                    if not n:
                        break
                    if left is not None:
                        left -= n
                    nul = buf.find(b"\x00", 0, n)      # memchr, no copy
                    if nul >= 0:
                        raise CorpusError(f"{self.path} looks like a binary file (it has a NUL "
                                          f"byte at byte {start + read + nul:,} of the text), "
                                          f"not text")
                    read += n
                    if progress is not None:
                        pos = raw.tell()
                        progress(pos - last_pos)
                        last_pos = pos
                    yield view[:n]
        except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:
            raise CorpusError(f"cannot read corpus {self.path}: {e}") from None


class IterableSource(ChunkSource):
    """Sentences given as an iterable of token lists (or strings, split on whitespace).

    The text is joined into byte chunks once (so a one-shot generator works)
    and replayed for the second pass.
    """

    def __init__(self, sentences: Iterable):
        self._chunks = []
        self.size = 0
        pending, pending_bytes = [], 0
        for sentence in sentences:
            if isinstance(sentence, str):
                line = sentence.replace("\n", " ")
            elif isinstance(sentence, (list, tuple)):
                if not all(isinstance(tok, str) for tok in sentence):
                    raise CorpusError("a sentence must be a list of str tokens")
                line = " ".join(sentence)
            else:
                raise CorpusError(f"a sentence must be a list of str tokens or a str, "
                                  f"got {type(sentence).__name__}")
            data = line.encode("utf-8", "surrogatepass") + b"\n"
            if not isinstance(sentence, str) and len(data.split()) != len(sentence):
                bad = next(t for t in sentence
                           if len(t.encode("utf-8", "surrogatepass").split()) != 1)
                raise CorpusError(f"the token {shown(bad)} is empty or contains ASCII whitespace; "
                                  f"a token must be one word (text is split on whitespace)")
            pending.append(data)
            pending_bytes += len(data)
            if pending_bytes >= CHUNK_BYTES:
                self._chunks.append(b"".join(pending))
                pending, pending_bytes = [], 0
        if pending:
            self._chunks.append(b"".join(pending))
        self.size = sum(len(c) for c in self._chunks)
        self.path = None

    def __repr__(self):
        return f"IterableSource({self.size} bytes)"

    def chunks(self, progress=None):
        for chunk in self._chunks:
            if progress is not None:
                progress(len(chunk))
            yield chunk


def byte_shards(size: int, n: int) -> list:
    """Cut ``size`` bytes into ``n`` nominal ranges ``(start, end)`` of about equal
    length. A line belongs to the range holding its first byte, so the shards
    (read with ``TextSource(path, byte_range=...)``) hold every line exactly once,
    whatever the line lengths; a shard can be empty."""
    cuts = [size * k // n for k in range(n + 1)]
    return [(cuts[k], cuts[k + 1]) for k in range(n)]


def line_start_at_or_after(path, pos: int) -> int:
    """The offset of the first line that starts at or after byte ``pos`` (the
    file size when there is none): 0 for 0, else one past the first newline at
    or after ``pos - 1``."""
    if pos <= 0:
        return 0
    size = os.path.getsize(path)
    if pos >= size:
        return size
    with open(path, "rb") as f:
        f.seek(pos - 1)
        offset = pos - 1
        while True:
            block = f.read(1 << 20)
            if not block:
                return size
            i = block.find(b"\n")
            if i >= 0:
                return offset + i + 1
            offset += len(block)


def as_source(corpus):
    """A :class:`TextSource` for a path, an :class:`IterableSource` for sentences."""
    if isinstance(corpus, ChunkSource):
        return corpus
    if isinstance(corpus, (str, bytes, os.PathLike)):
        return TextSource(corpus)
    try:
        iter(corpus)
    except TypeError:
        raise CorpusError(f"corpus must be a file path or an iterable of token lists, "
                          f"got {type(corpus).__name__}") from None
    return IterableSource(corpus)


@dataclass
class EncodedCorpus:
    """The corpus as word ids, ready for training.

    ``units`` holds the ids packed into 16-bit units (one per id below 65,535, three
    for a rarer one; see :mod:`w2v._ids`), which halves the largest array of a run.
    ``sentence_starts`` are unit offsets, with one more entry than there are
    sentences (the last is ``len(units)``); ``line_start[s]`` is 1 where sentence
    ``s`` begins a line (0 for the later pieces of a line split at
    ``max_sentence_length``); ``n_words`` counts the ids.
    """

    units: np.ndarray            # uint16, packed ids
    sentence_starts: np.ndarray  # int64, offsets into units
    line_start: np.ndarray       # uint8
    raw_tokens: int              # all tokens read, in vocabulary or not
    n_words: int                 # ids in units

    @classmethod
    def from_ids(cls, ids, sentence_starts, line_start=None, raw_tokens=None) -> "EncodedCorpus":
        """Pack plain int32 ids, with ``sentence_starts`` as id offsets (tests, small corpora)."""
        ids = np.asarray(ids, dtype=np.int32)
        starts = np.asarray(sentence_starts, dtype=np.int64)
        wide = np.concatenate([[0], np.cumsum(ids >= FIRST_WIDE_ID, dtype=np.int64)])
        n = len(starts) - 1
        return cls(units=pack_ids(ids), sentence_starts=starts + 2 * wide[starts],
                   line_start=np.ones(n, np.uint8) if line_start is None else line_start,
                   raw_tokens=len(ids) if raw_tokens is None else raw_tokens, n_words=len(ids))

    @property
    def n_sentences(self) -> int:
        return len(self.sentence_starts) - 1

    @property
    def nbytes(self) -> int:
        """Memory the encoded corpus takes (units and sentence tables)."""
        return int(self.units.nbytes + self.sentence_starts.nbytes + self.line_start.nbytes)

    def word_ids(self) -> np.ndarray:
        """All ids, unpacked to int32 (for tests and small corpora)."""
        return unpack_ids(self.units)

    def sentences(self) -> Iterator[np.ndarray]:
        """Each sentence's ids (for tests and small corpora)."""
        for s in range(self.n_sentences):
            yield unpack_ids(self.units[self.sentence_starts[s]:self.sentence_starts[s + 1]])


def shards(corpus: EncodedCorpus, n: int) -> np.ndarray:
    """Split the sentences into ``n`` contiguous ranges of about equal word counts
    (measured in packed units, which are one per word but for the rarest words).

    Returns ``bounds`` (length ``n + 1``): shard ``k`` is sentences
    ``bounds[k]:bounds[k+1]``. Every boundary is the first sentence of a line,
    so no line is shared by two threads; some shards may be empty when there
    are fewer lines than threads.
    """
    line_firsts = np.flatnonzero(corpus.line_start).astype(np.int64)
    bounds = np.empty(n + 1, dtype=np.int64)
    bounds[0], bounds[n] = 0, corpus.n_sentences
    if n == 1 or len(line_firsts) == 0:
        bounds[1:n] = corpus.n_sentences
        return bounds
    word_at_line = corpus.sentence_starts[line_firsts]
    targets = (np.arange(1, n, dtype=np.float64) * len(corpus.units) / n)
    # the line whose first word is closest to each target
    k = np.searchsorted(word_at_line, targets)
    k = np.clip(k, 0, len(line_firsts) - 1)
    prev = np.clip(k - 1, 0, len(line_firsts) - 1)
    choose_prev = np.abs(word_at_line[prev] - targets) <= np.abs(word_at_line[k] - targets)
    k = np.where(choose_prev, prev, k)
    cuts = line_firsts[k]
    bounds[1:n] = np.maximum.accumulate(cuts)
    return bounds
