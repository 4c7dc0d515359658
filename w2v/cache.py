"""The encoded-corpus cache: corpora larger than memory, trained from disk.

In memory, the encoded corpus takes about 2 bytes a token plus 9 a sentence, so a
20 G-token corpus would need 40 GB before the model. With ``corpus_cache="disk"``
(``auto`` picks it when the encoding would take more than a quarter of the memory
available) the encoding pass streams its output to files instead, and training
maps them: each thread trains its shard in blocks of :data:`w2v.corpus.BLOCK_UNITS`
and hands each block's pages back to the OS when done, so resident memory holds the
weights, the vocabulary and one block per thread, whatever the corpus size.

An entry is reused by later runs on the same file with the same counting and
encoding settings (and by ``resume`` with the same vocabulary): they skip both the
counting and the encoding pass. It never goes stale silently: its name is derived
from the corpus file's path, size, modification time and inode and from every
setting that changes the encoding, and it is checked against the file again when
opened. A damaged entry (a truncated array, a missing file) is rebuilt.

Where: ``cache_dir`` if given, else ``$W2V_CACHE_DIR``, else
``$XDG_CACHE_HOME/w2v``, else ``~/.cache/w2v``. One folder per entry::

    <path key>-<content key>/
        units.u16            packed ids (w2v/_ids.pxd)
        sentence_starts.i64  unit offsets, one per sentence plus the end
        line_start.u8        1 where a sentence starts a line
        meta.json            sizes, the corpus identity, the vocabulary; written last

Only the newest entry per corpus path is kept (writing one removes the older ones of
the same path). Remove them all with ``rm -rf ~/.cache/w2v`` (or the folder above).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import shutil
import tempfile
from typing import List, Optional, Tuple

import numpy as np

__all__ = ["cache_dir", "CacheEntry", "TemporaryEntry", "MappedCorpus", "memory_available"]

_FILES = (("units", "units.u16", np.uint16), ("sentence_starts", "sentence_starts.i64", np.int64),
          ("line_start", "line_start.u8", np.uint8))
CACHE_VERSION = 1


def cache_dir(explicit: Optional[str] = None) -> str:
    """Where cache entries live (see the module docstring)."""
    if explicit:
        return os.fspath(explicit)
    if os.environ.get("W2V_CACHE_DIR"):
        return os.environ["W2V_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "w2v")


def memory_available() -> int:
    """Bytes of memory available to a new allocation (MemAvailable), or 0 if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _identity(path: str) -> dict:
    st = os.stat(path)
    return {"path": os.path.realpath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "inode": st.st_ino, "device": st.st_dev}


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:20]


class CacheEntry:
    """One cache entry: the encoding of one corpus file under one set of settings."""

    def __init__(self, corpus_path: str, settings: dict, root: Optional[str] = None):
        self.corpus_path = corpus_path
        self.identity = _identity(corpus_path)
        self.settings = settings
        self.root = cache_dir(root)
        self.path_key = _digest(self.identity["path"])
        self.folder = os.path.join(self.root, f"{self.path_key}-"
                                              f"{_digest([self.identity, settings, CACHE_VERSION])}")

    # ---------------------------------------------------------------- reading
    def open(self) -> Optional[Tuple[dict, "MappedCorpus"]]:
        """``(meta, mapped)`` if the entry exists and is whole, else None (a damaged
        entry is removed, to be rebuilt)."""
        meta_path = os.path.join(self.folder, "meta.json")
        if not os.path.exists(meta_path):
            return None
        try:
            with open(meta_path, "rb") as f:
                meta = json.loads(f.read().decode("utf-8"))
            if (meta.get("version") != CACHE_VERSION or meta.get("identity") != self.identity
                    or meta.get("settings") != self.settings):
                raise ValueError("written for another corpus or settings")
            mapped = MappedCorpus(self.folder, meta["lengths"])
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
            self.damaged = str(e)
            self.remove()
            return None
        return meta, mapped

    # ---------------------------------------------------------------- writing
    @contextlib.contextmanager
    def writer(self, n_parts: int = 1, offsets: Optional[List[int]] = None):
        """A :class:`EntryWriter` for an encoding pass in ``n_parts`` parts (``offsets``:
        each part's first unit, known exactly when there are several). It writes into
        a temporary folder renamed into place by ``commit``, so a failed or killed run
        leaves no half entry."""
        os.makedirs(self.root, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=self.root, prefix=".writing-")
        writer = EntryWriter(self, tmp, n_parts, offsets)
        try:
            yield writer
        finally:
            writer.close()
            shutil.rmtree(tmp, ignore_errors=True)  # gone already when committed

    def _remove_older(self) -> None:
        """Entries of the same corpus path but other contents or settings: stale."""
        try:
            names = os.listdir(self.root)
        except OSError:
            return
        for name in names:
            if name.startswith(self.path_key + "-"):
                shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class EntryWriter:
    """Writes one entry's arrays as the encoder drains them: part ``k``'s units go to
    its offset in ``units.u16`` (or are appended, with one part), its sentence offsets
    (relative to the part) and line flags to files of its own, joined by ``commit``."""

    def __init__(self, entry: CacheEntry, folder: str, n_parts: int, offsets):
        self.entry, self.folder = entry, folder
        self.offsets = offsets if offsets is not None else [0]
        self.units = open(os.path.join(folder, "units.u16"), "wb")
        self.written = [0] * n_parts                      # units each part wrote
        self.part_files = [(open(os.path.join(folder, f"starts.{k}"), "wb"),
                            open(os.path.join(folder, f"lines.{k}"), "wb")) for k in range(n_parts)]
        self.n_words = [0] * n_parts

    def sink(self, k: int):
        """The function part ``k`` hands each drained ``(units, relative starts,
        line_start)`` to."""
        starts_file, lines_file = self.part_files[k]
        fd = self.units.fileno()

        def put(units, starts, line_start):
            starts_file.write((np.asarray(starts, dtype=np.int64) + self.written[k]).tobytes())
            lines_file.write(np.ascontiguousarray(line_start, dtype=np.uint8).tobytes())
            data = np.ascontiguousarray(units, dtype=np.uint16).tobytes()
            position = (self.offsets[k] + self.written[k]) * 2
            while data:                                   # pwrite may write less
                n = os.pwrite(fd, data, position)
                data, position = data[n:], position + n
            self.written[k] += len(units)
        return put

    def record(self, k: int, n_words: int) -> None:
        self.n_words[k] = n_words

    def commit(self, meta: dict, raw_tokens: int) -> None:
        """Join the parts' sentence tables, make everything durable, write
        ``meta.json`` and move the folder into place."""
        parts = len(self.written)
        if len(self.offsets) > parts and any(self.offsets[k] + self.written[k] != self.offsets[k + 1]
                                             for k in range(parts)):
            raise OSError("the encoding parts did not fill their ranges")  # pragma: no cover
        total = self.offsets[parts - 1] + self.written[-1]
        n_sentences = 0
        with open(os.path.join(self.folder, "sentence_starts.i64"), "wb") as starts, \
                open(os.path.join(self.folder, "line_start.u8"), "wb") as lines:
            for k, (starts_file, lines_file) in enumerate(self.part_files):
                starts_file.close()
                lines_file.close()
                n_sentences += _append(starts, starts_file.name, np.int64, self.offsets[k])
                _append(lines, lines_file.name, np.uint8, 0)
                os.unlink(starts_file.name)
                os.unlink(lines_file.name)
            starts.write(np.int64(total).tobytes())
            for f in (starts, lines):
                f.flush()
                os.fsync(f.fileno())
        self.units.flush()
        os.fsync(self.units.fileno())
        self.units.close()
        entry = self.entry
        meta = dict(meta, version=CACHE_VERSION, identity=entry.identity,
                    settings=entry.settings, n_words=int(sum(self.n_words)),
                    raw_tokens=int(raw_tokens),
                    lengths={"units": int(total), "sentence_starts": n_sentences + 1,
                             "line_start": n_sentences})
        with open(os.path.join(self.folder, "meta.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False)
        entry._remove_older()
        if os.path.exists(entry.folder):
            shutil.rmtree(entry.folder)
        os.replace(self.folder, entry.folder)

    def close(self) -> None:
        self.units.close()
        for pair in self.part_files:
            for f in pair:
                f.close()


def _append(out, path: str, dtype, add: int, chunk_items: int = 1 << 22) -> int:
    """Copy the array in ``path`` to ``out`` with ``add`` added, in chunks; its length."""
    n = 0
    with open(path, "rb") as f:
        while True:
            block = np.fromfile(f, dtype=dtype, count=chunk_items)
            if not len(block):
                return n
            out.write((block + dtype(add)).astype(dtype).tobytes() if add else block.tobytes())
            n += len(block)


class TemporaryEntry(CacheEntry):
    """An entry for a source that is not a plain file (sentences from Python, a
    phrased corpus): written under the cache folder, then unlinked as soon as it is
    mapped, so its disk space goes with the run (the maps keep the data)."""

    def __init__(self, root: Optional[str] = None):
        self.corpus_path = None
        self.identity = None
        self.settings = None
        self.root = cache_dir(root)
        self.path_key = None
        self.folder = os.path.join(self.root, f".run-{os.getpid()}-{os.urandom(6).hex()}")

    def open(self):
        found = super().open()
        self.remove()
        return found

    def _remove_older(self) -> None:
        pass


class MappedCorpus:
    """The arrays of a cache entry, memory-mapped read-only; :meth:`release` drops the
    pages of trained sentences from this process's resident memory."""

    def __init__(self, folder: str, lengths: dict):
        self.folder = folder
        self.reused = False       # set when a run found the entry instead of writing it
        self.maps = {}
        self.arrays = {}
        for name, fname, dtype in _FILES:
            path = os.path.join(folder, fname)
            n = int(lengths[name])
            size = os.path.getsize(path)
            if size != n * np.dtype(dtype).itemsize:
                raise ValueError(f"{fname} has {size:,} bytes, expected "
                                 f"{n * np.dtype(dtype).itemsize:,} (truncated?)")
            if n == 0:
                self.arrays[name] = np.zeros(0, dtype=dtype)
                continue
            with open(path, "rb") as f:
                m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            self.maps[name] = m
            self.arrays[name] = np.frombuffer(m, dtype=dtype)
        starts = self.arrays["sentence_starts"]
        if len(starts) == 0 or starts[0] != 0 or starts[-1] != len(self.arrays["units"]):
            raise ValueError("the sentence table does not span the units")

    def release(self, first: int, last: int) -> None:
        """Drop the pages of sentences ``[first, last)`` (their units and sentence
        offsets) from resident memory; the page cache keeps them for the next epoch."""
        starts = self.arrays["sentence_starts"]
        self._drop("units", int(starts[first]) * 2, int(starts[last]) * 2)
        self._drop("sentence_starts", first * 8, (last + 1) * 8)

    def _drop(self, name: str, lo: int, hi: int) -> None:
        m = self.maps.get(name)
        if m is None or not hasattr(m, "madvise"):
            return
        page = mmap.PAGESIZE
        lo = -(-lo // page) * page          # whole pages inside the range only: a
        hi = hi // page * page              # neighbouring thread's pages stay
        if hi > lo:
            m.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
