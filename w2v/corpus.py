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
import tempfile
import weakref
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
    if output_kind(path) != "file":      # as_source spools pipes and devices first
        raise CorpusError(f"corpus {path} is not a regular file, pipe or character device")
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
    """Sentences given as a re-iterable (a list, or any object whose ``iter()`` starts
    over), as token lists or strings split on whitespace. Each pass iterates them
    again and turns them into byte chunks on the fly: nothing is buffered, so the
    sentences may come from a file or a database bigger than memory. (A one-shot
    iterator, such as a generator, is spooled to disk by :func:`as_source` instead.)
    """

    def __init__(self, sentences: Iterable):
        self.sentences = sentences
        self.size = 0              # bytes; known after the first pass
        self.path = None

    def __repr__(self):
        return f"IterableSource({type(self.sentences).__name__})"

    def chunks(self, progress=None):
        total = 0
        for chunk in sentence_chunks(self.sentences):
            total += len(chunk)
            if progress is not None:
                progress(len(chunk))
            yield chunk
        self.size = total


def sentence_chunks(sentences: Iterable) -> Iterator[bytes]:
    """Sentences (token lists, or strings) as newline-separated UTF-8 byte chunks of
    about :data:`CHUNK_BYTES`; :class:`CorpusError` for anything that is not a sentence."""
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
            yield b"".join(pending)
            pending, pending_bytes = [], 0
    if pending:
        yield b"".join(pending)


class SpooledSource(TextSource):
    """A corpus that can be read only once (a generator, a pipe, ``/dev/stdin``) copied
    to a temporary file in the cache folder (:func:`w2v.cache.cache_dir`), then read
    like any file; the file is deleted with this object."""

    def __init__(self, pieces: Iterable[bytes], folder: Optional[str] = None, name: str = "corpus",
                 empty_error: Optional[str] = None):
        from .cache import cache_dir
        folder = cache_dir(folder)
        try:
            os.makedirs(folder, exist_ok=True)
            fd, path = tempfile.mkstemp(dir=folder, prefix=".spool-", suffix=".txt")
        except OSError as e:
            raise CorpusError(f"cannot spool {name} to {folder}: {e.strerror or e}; give "
                              f"another cache folder") from None
        self._cleanup = weakref.finalize(self, _unlink_quietly, path)
        try:
            with os.fdopen(fd, "wb") as f:
                for piece in pieces:
                    f.write(piece)
        except OSError as e:
            self._cleanup()
            raise CorpusError(f"cannot spool {name} to {folder}: {e.strerror or e}") from None
        except BaseException:
            self._cleanup()
            raise
        self.spooled_from = name
        super().__init__(path)
        if self.size == 0 and empty_error:
            raise CorpusError(empty_error)

    def __repr__(self):
        return f"SpooledSource({self.spooled_from!r} -> {self.path!r})"

    def close(self) -> None:
        self._cleanup()


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _stream_pieces(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb", buffering=0) as f:
            while True:
                piece = f.read(CHUNK_BYTES)
                if not piece:
                    return
                yield piece
    except OSError as e:
        raise CorpusError(f"cannot read corpus {path}: {e.strerror or e}") from None


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


def as_source(corpus, spool_dir: Optional[str] = None):
    """A :class:`TextSource` for a path, an :class:`IterableSource` for re-iterable
    sentences; what can be read only once (a generator or other iterator, a pipe,
    a FIFO, ``/dev/stdin`` or ``-``) becomes a :class:`SpooledSource` in ``spool_dir``
    (default: the cache folder), since every run reads its corpus at least twice."""
    if isinstance(corpus, ChunkSource):
        return corpus
    if isinstance(corpus, (str, bytes, os.PathLike)):
        path = "/dev/stdin" if corpus in ("-", b"-") else as_path(corpus, "corpus")
        if output_kind(path) == "stream":
            return SpooledSource(_stream_pieces(path), spool_dir, name=path)
        return TextSource(path)
    try:
        iterator = iter(corpus)
    except TypeError:
        raise CorpusError(f"corpus must be a file path or an iterable of token lists, "
                          f"got {type(corpus).__name__}") from None
    if iterator is corpus:          # a generator: a second pass would see nothing
        return SpooledSource(sentence_chunks(iterator), spool_dir,
                             name=f"the {type(corpus).__name__}'s sentences",
                             empty_error=f"the {type(corpus).__name__} gave no sentences: was it "
                                         f"consumed already? (pass a list or a fresh one)")
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
    mapped: Optional[object] = None   # the cache file's mapping when read from disk

    def release(self, first: int, last: int) -> None:
        """Sentences ``[first, last)`` were trained on: a corpus mapped from disk gives
        their pages back to the OS (they stay in the page cache), so resident memory
        holds one block per thread, not the corpus. A no-op in memory."""
        if self.mapped is not None:
            self.mapped.release(first, last)

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

    def describe(self) -> dict:
        """Where the encoding lives, for the run's history: ``corpus_cache`` (memory or
        disk) and, on disk, the cache folder and whether an earlier run wrote it."""
        if self.mapped is None:
            return {"corpus_cache": "memory"}
        return {"corpus_cache": "disk", "cache_folder": self.mapped.folder,
                "cache_reused": self.mapped.reused}

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
    ``bounds[k]:bounds[k+1]``. Every boundary is the first sentence of a line (the
    one whose first unit lies closest to the ideal cut), so no line is shared by two
    threads; some shards may be empty when there are fewer lines than threads.
    Reads only the sentence table's neighbourhood of each cut (binary search, then
    the nearest line starts), so a corpus mapped from disk is not read whole.
    """
    bounds = np.empty(n + 1, dtype=np.int64)
    bounds[0], bounds[n] = 0, corpus.n_sentences
    starts, line_start = corpus.sentence_starts, corpus.line_start
    if n == 1 or corpus.n_sentences == 0:
        bounds[1:n] = corpus.n_sentences
        return bounds
    for i in range(1, n):
        target = i * len(corpus.units) / n
        s = int(np.searchsorted(starts[:-1], target))        # first sentence at/after target
        after = _next_line_start(line_start, s)
        before = _previous_line_start(line_start, s)
        if after is None or (before is not None
                             and abs(starts[before] - target) <= abs(starts[after] - target)):
            after = before
        bounds[i] = after if after is not None else 0
    bounds[1:n] = np.maximum.accumulate(bounds[1:n])
    return bounds


def _next_line_start(line_start, s: int, window: int = 1 << 16) -> Optional[int]:
    """The first sentence at or after ``s`` that begins a line, or None."""
    n = len(line_start)
    while s < n:
        hit = np.flatnonzero(line_start[s:s + window])
        if len(hit):
            return s + int(hit[0])
        s += window
    return None


def _previous_line_start(line_start, s: int, window: int = 1 << 16) -> Optional[int]:
    """The last sentence before ``s`` that begins a line, or None."""
    while s > 0:
        lo = max(0, s - window)
        hit = np.flatnonzero(line_start[lo:s])
        if len(hit):
            return lo + int(hit[-1])
        s = lo
    return None


#: Units (about words) a thread trains in one call to the core: 2 MB of ids. After
#: each block a corpus mapped from disk hands the pages it read back to the OS, so a
#: run's resident memory does not grow with the corpus.
BLOCK_UNITS = 1 << 20


def blocks(corpus: EncodedCorpus, first: int, last: int, units: Optional[int] = None):
    """Cut sentences ``[first, last)`` into consecutive ranges of about ``units`` units
    (default :data:`BLOCK_UNITS`): a list of ``(start, end)`` sentence pairs covering
    the range exactly."""
    units = units or BLOCK_UNITS
    starts = corpus.sentence_starts
    lo, hi = int(starts[first]), int(starts[last])
    targets = np.arange(lo + units, hi, units, dtype=np.int64)
    cuts = first + np.searchsorted(starts[first:last + 1], targets)
    edges = [first] + sorted(set(int(c) for c in cuts if first < c < last)) + [last]
    return list(zip(edges[:-1], edges[1:]))
