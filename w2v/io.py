"""Every file format w2v reads or writes (each written through :func:`w2v.outputs.atomic_write`).

Formats
-------
``bin``   the word2vec C tool's binary format: a ``"V D\\n"`` header, then per word
          ``word + b" " + D little-endian float32 + b"\\n"``. We write the newline like the
          C tool; the reader also accepts gensim's variant without it.
``txt``   the word2vec text format (also fastText's ``.vec``): the same header, then
          ``word f1 ... fD`` per line. Floats are written with ``%.9g``, which round-trips
          float32 exactly.
``model`` our own model file (``.w2v``), laid out as::

              offset 0   MAGIC (8 bytes)
                     8   format version, uint32 little-endian
                    12   reserved, uint32 (0)
                    16   length of the JSON header in bytes, uint64 little-endian
                    24   JSON header (UTF-8): settings, sizes, history and, for each
                         block below, its byte offset, shape and dtype
                         (then zero padding)
                         blocks, each starting at a multiple of 64 bytes:
                         vocabulary (UTF-8 words separated by "\\n"), counts (<i8),
                         input_vectors, output_ns, output_hs, ngram_vectors (<f4,
                         C order). A subword model's header has "subwords": its
                         n-gram scheme (minn, maxn, buckets: w2v.subwords) and
                         whether input_vectors hold the words' own rows (a model)
                         or the composed word vectors (saved from Vectors)

          The arrays load with :class:`numpy.memmap` without a copy; nothing is pickled.

Every reader checks sizes against the file size before allocating, and raises
:class:`~w2v.errors.FormatError` with a one-line message saying what is wrong and
where (byte offset or line number) for missing, truncated, lying or corrupt files.
"""
from __future__ import annotations

import json
import math
import mmap
import os
import struct
from typing import List, Optional, Tuple

import numpy as np

from . import __version__
from .config import ENCODING_ERRORS, MAX_BUCKETS, TrainConfig
from .errors import ArgumentError, ConfigError, FormatError, shown
from .finite import first_non_finite_row
from .model import OUTPUT_LAYERS, Model
from .outputs import as_path, atomic_write, output_kind
from .subwords import NgramVectors, Scheme, word_vectors
from .vectors import Vectors

__all__ = ["atomic_write", "save", "load", "save_model", "load_model", "info",
           "write_word2vec", "read_word2vec", "detect_format", "FORMATS", "EXTENSIONS"]

#: First bytes of a model file: a non-ASCII byte, the name, and CR LF / ^Z / LF that
#: catch text-mode transfers (the PNG trick).
MAGIC = b"\x89W2V\r\n\x1a\n"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIIQ")          # magic, version, reserved, JSON length
ALIGN = 64
FORMATS = ("bin", "txt", "model")
#: What load() reads: every format above, and fastText's .bin models (read only)
READ_FORMATS = FORMATS + ("fasttext",)
EXTENSIONS = {".bin": "bin", ".txt": "txt", ".vec": "txt", ".w2v": "model"}

_MAX_HEADER_LINE = 256                     # bytes; "V D\n" is far shorter
_MAX_WORD_BYTES = 1 << 16                  # a word longer than this means a corrupt file
_MAX_JSON_HEADER = 64 << 20
# sizes beyond these cannot even shape an empty array (numpy: 4 * dim must fit in 63 bits),
# so they mean a corrupt header; real files have far smaller ones
_MAX_WORDS = 2 ** 63 - 1
_MAX_DIM = 2 ** 48
_TEXT_BLOCK_ROWS = 2000


# --------------------------------------------------------------------------------------
# format dispatch
# --------------------------------------------------------------------------------------
def format_from_extension(path, fmt: Optional[str] = None) -> str:
    """``fmt`` if given (checked), else the format its extension names."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        return fmt
    path = as_path(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSIONS:
        raise ConfigError(f"cannot tell the format of {path!r} from its extension; "
                          f"use {', '.join(EXTENSIONS)} or give the format "
                          f"({', '.join(FORMATS)})")
    return EXTENSIONS[ext]


def save(path, model_or_vectors, format: Optional[str] = None) -> None:
    """Write a :class:`~w2v.model.Model` or :class:`~w2v.vectors.Vectors` to ``path``.

    ``format`` is 'bin', 'txt' or 'model'; by default it follows the extension
    (``.bin``, ``.txt``/``.vec``, ``.w2v``)."""
    fmt = format_from_extension(path, format)
    if fmt == "model":
        save_model(path, model_or_vectors)
        return
    words, matrix = _words_and_matrix(model_or_vectors, word_vectors=True)
    write_word2vec(path, words, matrix, binary=(fmt == "bin"))


def load(path, format: Optional[str] = None, unicode_errors: str = "strict",
         limit: Optional[int] = None, mmap: bool = True):
    """Load word vectors from any supported file; returns :class:`~w2v.vectors.Vectors`.

    The format is detected from the first bytes unless ``format`` ('bin', 'txt',
    'model', 'fasttext') is given. ``unicode_errors`` ('strict', 'replace', 'ignore') says how to
    decode words that are not valid UTF-8; ``limit`` reads only the first N words;
    ``mmap`` maps a model file's vectors instead of reading them."""

    _check_options(format, unicode_errors, limit, mmap)
    fmt = format or detect_format(path)
    if fmt == "model":
        header, words, arrays = _read_model(path, mmap="r" if mmap else False, limit=limit,
                                            unicode_errors=unicode_errors,
                                            want=("counts", "input_vectors", "ngram_vectors"))
        matrix, ngrams = arrays["input_vectors"], None
        if "ngram_vectors" in arrays:
            scheme = _subword_scheme(header)
            ngrams = NgramVectors(scheme, arrays["ngram_vectors"])
            if not header["subwords"]["composed"]:
                matrix = word_vectors(scheme, words, matrix, ngrams.matrix)
        return Vectors(words, matrix, counts=arrays.get("counts"), ngrams=ngrams,
                       _validate=False)
    if fmt == "fasttext":
        return read_fasttext_bin(path, unicode_errors=unicode_errors, limit=limit)
    words, matrix = read_word2vec(path, binary=(fmt == "bin"), unicode_errors=unicode_errors,
                                  limit=limit)
    return Vectors(words, matrix, _validate=False)


def _check_options(fmt, unicode_errors, limit, mmap=True) -> None:
    if not isinstance(mmap, bool):
        raise ConfigError(f"mmap must be True or False, got {shown(mmap)}")
    if fmt is not None and fmt not in READ_FORMATS:
        raise ConfigError(f"format must be one of {', '.join(READ_FORMATS)}, got {shown(fmt)}")
    if unicode_errors not in ENCODING_ERRORS:
        raise ConfigError(f"unicode_errors must be one of {', '.join(ENCODING_ERRORS)}, "
                          f"got {shown(unicode_errors)}")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ConfigError(f"limit must be a non-negative integer, got {shown(limit)}")


def _words_and_matrix(obj, word_vectors: bool = False) -> Tuple[List[str], np.ndarray]:
    """The words and matrix to write: a model's own input rows, or with ``word_vectors``
    its word vectors (which differ for a subword model: its rows averaged with their
    n-grams')."""
    words = getattr(obj, "words", None)
    matrix = getattr(obj, "input_vectors", None)
    if word_vectors and getattr(obj, "ngram_vectors", None) is not None:
        matrix = obj.vectors
    if matrix is None:
        matrix = getattr(obj, "matrix", None)
    if words is None or matrix is None:
        raise ArgumentError(f"cannot save {type(obj).__name__}: expected a w2v Model or Vectors")
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise FormatError(f"cannot save: {len(words)} words but a matrix of shape {matrix.shape}")
    return list(words), matrix


def _open_for_reading(path):
    """Open ``path`` for binary reading, turning OS errors into FormatError."""
    path = as_path(path)
    if os.path.isdir(path):
        raise FormatError(f"{path}: is a directory, not a vectors file")
    if os.path.exists(path) and output_kind(path) != "file":
        raise FormatError(f"{path}: not a regular file (a pipe or device); vectors are read "
                          f"from files")
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except OSError as e:
        raise FormatError(f"{path}: cannot open: {e.strerror or e}") from None


def detect_format(path) -> str:
    """'model', 'bin' or 'txt', from the first bytes of the file."""
    with _open_for_reading(path) as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(min(size, 1 << 20))
    name = as_path(path)
    if not head:
        raise FormatError(f"{name}: empty file")
    if head.startswith(MAGIC):
        return "model"
    if head.startswith(FASTTEXT_MAGIC):
        return "fasttext"
    if MAGIC.startswith(head[:len(MAGIC)]) and len(head) < len(MAGIC):
        raise FormatError(f"{name}: truncated model file ({len(head)} bytes)")
    n_words, dim, pos = _parse_header(head, name)
    if n_words == 0:
        return "txt"
    return "txt" if _looks_like_text_row(head[pos:], dim) else "bin"


def _looks_like_text_row(data: bytes, dim: int) -> bool:
    """Whether the first row after the header is ``word f1 ... fD`` in text."""
    end = data.find(b"\n")
    line = data if end < 0 else data[:end]
    parts = line.split()
    if len(parts) != dim + 1:
        return False
    try:
        for p in parts[1:]:
            float(p)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------
# word2vec binary and text
# --------------------------------------------------------------------------------------
def write_word2vec(path, words, matrix, binary: bool = True) -> None:
    """Write the word2vec C tool's binary (``binary=True``) or text format."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise FormatError(f"cannot save: {len(words)} words but a matrix of shape {matrix.shape}")
    encoded = [_encode_word(w, i) for i, w in enumerate(words)]
    n, dim = matrix.shape
    with atomic_write(path, "wb") as f:
        f.write(f"{n} {dim}\n".encode("ascii"))
        for start in range(0, n, _TEXT_BLOCK_ROWS):
            block = np.ascontiguousarray(matrix[start:start + _TEXT_BLOCK_ROWS], dtype="<f4")
            _refuse_non_finite(block, start, words, path)
            names = encoded[start:start + len(block)]
            if binary:
                f.write(b"".join(w + b" " + row.tobytes() + b"\n" for w, row in zip(names, block)))
            else:
                f.write(_format_text_block(names, block))


def _refuse_non_finite(block: np.ndarray, start: int, words, path, what: str = "vector") -> None:
    """Saving NaN or infinity would write a file that no reader (ours included) accepts:
    refuse, naming the first bad row. The atomic write then leaves ``path`` as it was."""
    i = first_non_finite_row(block)
    if i is not None:
        i += start
        name = f" ({words[i]!r})" if what == "vector" and i < len(words) else ""
        raise FormatError(f"cannot save {as_path(path)}: {what} row {i}{name} has a NaN or "
                          f"infinite value (the file could not be read back)")


def _encode_word(word, i: int) -> bytes:
    if not isinstance(word, str):
        raise FormatError(f"cannot save word #{i}: not a string ({type(word).__name__})")
    if not word or any(c in word for c in " \t\n\r\x0b\x0c"):
        raise FormatError(f"cannot save word #{i} {word!r}: the word2vec formats cannot store "
                          f"empty words or words containing ASCII whitespace")
    try:
        return word.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError(f"cannot save word #{i} {word!r}: it holds a lone surrogate, which "
                          f"UTF-8 cannot store") from None


def _format_text_block(names: List[bytes], block: np.ndarray) -> bytes:
    """Rows ``word f1 ... fD\\n`` with one %-format over the whole block (fast)."""
    dim = block.shape[1]
    row_fmt = "%s " + " ".join(["%.9g"] * dim) + "\n"
    args: list = []
    for name, row in zip(names, block.tolist()):   # tolist: exact float32 -> float
        args.append(name.decode("utf-8"))
        args.extend(row)
    return ((row_fmt * len(names)) % tuple(args)).encode("utf-8")


def read_word2vec(path, binary: Optional[bool] = None, unicode_errors: str = "strict",
                  limit: Optional[int] = None) -> Tuple[List[str], np.ndarray]:
    """Read a word2vec binary or text file: ``(words, float32 matrix)``.

    ``binary=None`` detects it. Raises :class:`FormatError` on anything malformed."""
    _check_options(None, unicode_errors, limit)
    name = as_path(path)
    with _open_for_reading(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise FormatError(f"{name}: empty file")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            if buf[:len(MAGIC)] == MAGIC:
                raise FormatError(f"{name}: is a w2v model file, not word2vec vectors")
            n_words, dim, pos = _parse_header(buf[:_MAX_HEADER_LINE], name)
            if binary is None:
                binary = n_words > 0 and not _looks_like_text_row(
                    buf[pos:pos + min(size - pos, (dim + 1) * 64 + _MAX_WORD_BYTES)], dim)
            n = n_words if limit is None else min(limit, n_words)
            if binary:
                return _read_binary(buf, size, pos, n_words, n, dim, unicode_errors, name)
            return _read_text(buf, size, pos, n_words, n, dim, unicode_errors, name)


def _parse_header(data: bytes, name: str) -> Tuple[int, int, int]:
    """``(n_words, dim, offset of the first row)`` from the ``"V D\\n"`` line."""
    end = data.find(b"\n")
    if end < 0:
        raise FormatError(f"{name}: no word2vec header: the first line is not 'VOCAB_SIZE DIM'"
                          + (" (file ends inside it)" if len(data) < _MAX_HEADER_LINE else ""))
    parts = data[:end].split()
    if len(parts) != 2:
        raise FormatError(f"{name}: bad word2vec header {_show(data[:end])} at line 1: expected "
                          f"two integers 'VOCAB_SIZE DIM'")
    values = []
    for label, p, top in zip(("vocabulary size", "dimension"), parts, (_MAX_WORDS, _MAX_DIM)):
        if not p.isdigit():
            raise FormatError(f"{name}: bad word2vec header {_show(data[:end])} at line 1: "
                              f"{label} {_show(p)} is not a non-negative integer")
        digits = p.lstrip(b"0")     # int() refuses more than 4300 digits: check the length first
        if len(digits) > len(str(top)) or int(digits or b"0") > top:
            raise FormatError(f"{name}: bad word2vec header {_show(data[:end])} at line 1: "
                              f"{label} {_show(p)} is larger than {top:,}")
        values.append(int(digits or b"0"))
    n_words, dim = values
    if dim < 1:
        raise FormatError(f"{name}: bad word2vec header at line 1: dimension must be at least 1, "
                          f"got {dim}")
    return n_words, dim, end + 1


def _show(b: bytes, limit: int = 40) -> str:
    s = b[:limit].decode("utf-8", "replace")
    return repr(s + ("..." if len(b) > limit else ""))


def _check_room(name, what, n_needed_bytes, available) -> None:
    if n_needed_bytes > available:
        raise FormatError(f"{name}: header promises {what}, which needs at least "
                          f"{n_needed_bytes:,} bytes, but only {available:,} follow the header "
                          f"(truncated file or a header that lies)")


def _read_binary(buf, size, pos, n_words, n, dim, unicode_errors, name):
    row_bytes = 4 * dim
    _check_room(name, f"{n_words:,} words x {dim:,} dimensions in binary",
                n * (row_bytes + 2), size - pos)
    matrix = np.empty((n, dim), dtype=np.float32)
    raw_words: List[bytes] = []
    find = buf.find
    for i in range(n):
        while pos < size and buf[pos] == 0x0A:      # the C tool's newline after each vector
            pos += 1
        space = find(b" ", pos, min(size, pos + _MAX_WORD_BYTES + 1))
        if space < 0:
            if size - pos <= _MAX_WORD_BYTES:
                raise FormatError(f"{name}: truncated: file ends inside word #{i + 1} of "
                                  f"{n_words:,} (byte offset {pos:,})")
            raise FormatError(f"{name}: corrupt binary vectors: no space after word #{i + 1} "
                              f"within {_MAX_WORD_BYTES} bytes (byte offset {pos:,})")
        if space == pos:
            raise FormatError(f"{name}: corrupt binary vectors: empty word #{i + 1} "
                              f"(byte offset {pos:,})")
        end = space + 1 + row_bytes
        if end > size:
            raise FormatError(f"{name}: truncated: file ends inside the vector of word #{i + 1} "
                              f"of {n_words:,} (byte offset {space + 1:,}, needs {row_bytes} "
                              f"bytes, {size - space - 1} left)")
        raw_words.append(buf[pos:space])
        matrix[i] = np.frombuffer(buf, dtype="<f4", count=dim, offset=space + 1)
        pos = end
    words = _decode_words(raw_words, unicode_errors, name, lambda i: f"word #{i + 1}")
    _check_finite(matrix, words, name)
    _check_unique(words, name, lambda i: f"word #{i + 1}")
    return words, matrix


def _read_text(buf, size, pos, n_words, n, dim, unicode_errors, name):
    # every row holds at least a 1-byte word and dim "x" separated by single bytes
    _check_room(name, f"{n_words:,} words x {dim:,} dimensions in text",
                n * (2 * dim + 2) - 1, size - pos)
    raw_words: List[bytes] = []
    numbers: List[bytes] = []
    line_no = 1
    for i in range(n):
        line_no += 1
        end = buf.find(b"\n", pos)
        if end < 0:     # every row ends with a newline: without it, a cut number would pass
            if pos >= size:
                raise FormatError(f"{name}: truncated: {n_words:,} words promised, file ends "
                                  f"after {i:,} (line {line_no})")
            raise FormatError(f"{name}: truncated: line {line_no} (word #{i + 1} of "
                              f"{n_words:,}) does not end with a newline")
        line = buf[pos:end]
        pos = end + 1
        parts = line.split()
        if len(parts) != dim + 1:
            if not parts:
                raise FormatError(f"{name}: empty line {line_no} (expected word #{i + 1} of "
                                  f"{n_words:,})")
            raise FormatError(f"{name}: line {line_no}: expected a word and {dim} numbers, got "
                              f"{len(parts) - 1} numbers")
        raw_words.append(parts[0])
        numbers.append(b" ".join(parts[1:]))
    matrix = _parse_floats(numbers, n, dim, name)
    words = _decode_words(raw_words, unicode_errors, name, lambda i: f"line {i + 2}")
    _check_finite(matrix, words, name, where=lambda i: f"line {i + 2}")
    _check_unique(words, name, lambda i: f"line {i + 2}")
    return words, matrix


def _parse_floats(numbers: List[bytes], n: int, dim: int, name: str) -> np.ndarray:
    if n == 0:
        return np.empty((0, dim), dtype=np.float32)
    try:
        # split on the single spaces joined here: str.split() would also split on \x1c-\x1f,
        # which bytes.split() (the row check) keeps inside a token
        text = b" ".join(numbers).decode("ascii")
        flat = np.array(text.split(" "), dtype=np.float64)
    except (ValueError, UnicodeDecodeError):
        for i, row in enumerate(numbers):       # slow path, only to say where
            for token in row.split():
                try:
                    float(token.decode("ascii"))
                except (ValueError, UnicodeDecodeError):
                    raise FormatError(f"{name}: line {i + 2}: {_show(token)} is not a number") \
                        from None
        raise FormatError(f"{name}: unreadable numbers")  # pragma: no cover - found above
    with np.errstate(over="ignore"):
        return flat.astype(np.float32).reshape(n, dim)


def _decode_words(raw: List[bytes], errors: str, name: str, where) -> List[str]:
    try:
        return [w.decode("utf-8", errors) for w in raw]
    except UnicodeDecodeError:
        for i, w in enumerate(raw):
            try:
                w.decode("utf-8")
            except UnicodeDecodeError as e:
                raise FormatError(f"{name}: {where(i)} is not valid UTF-8 ({_show(w)}, bad byte "
                                  f"at position {e.start} of the word); load with "
                                  f"unicode_errors='replace' to accept it") from None
        raise  # pragma: no cover


def _check_finite(matrix: np.ndarray, words, name: str, where=None) -> None:
    where = where or (lambda i: f"word #{i + 1}")
    i = first_non_finite_row(matrix)
    if i is not None:
        raise FormatError(f"{name}: {where(i)} ({words[i]!r}) has a NaN or infinite value")


def _check_unique(words: List[str], name: str, where) -> None:
    if len(set(words)) == len(words):
        return
    seen = {}
    for i, w in enumerate(words):
        if w in seen:
            raise FormatError(f"{name}: duplicate word {w!r} at {where(i)} (first at "
                              f"{where(seen[w])})")
        seen[w] = i


# --------------------------------------------------------------------------------------
# our model file
# --------------------------------------------------------------------------------------
_ARRAY_DTYPES = {"counts": "<i8", "input_vectors": "<f4",
                 **{layer.name: "<f4" for layer in OUTPUT_LAYERS}, "ngram_vectors": "<f4"}
_OUTPUTS = tuple(layer.name for layer in OUTPUT_LAYERS)


def _expected_shapes(n: int, dim: int, buckets: int = 0) -> dict:
    """Every block's shape in a model of ``n`` words of dimension ``dim`` (and ``buckets``
    n-gram rows)."""
    return {"counts": (n,), "input_vectors": (n, dim),
            **{layer.name: (layer.rows(n), dim) for layer in OUTPUT_LAYERS},
            "ngram_vectors": (buckets, dim)}


def _subword_scheme(header: dict):
    sub = header["subwords"]
    return Scheme(sub["minn"], sub["maxn"], sub["buckets"])


def _subwords_entry(obj) -> Optional[dict]:
    """The header's "subwords" entry for a Model or Vectors with n-grams (else None)."""
    ngrams = getattr(obj, "ngrams", None)          # Vectors: composed word vectors
    if ngrams is not None:
        s = ngrams.scheme
        return {"minn": s.minn, "maxn": s.maxn, "buckets": s.buckets, "composed": True}
    if getattr(obj, "ngram_vectors", None) is not None:     # a Model: the words' own rows
        minn, maxn = obj.config.subwords
        return {"minn": minn, "maxn": maxn, "buckets": obj.config.buckets, "composed": False}
    return None


def save_model(path, model) -> None:
    """Write our model file: settings, vocabulary with counts and every weight matrix.

    Accepts a :class:`~w2v.model.Model` or, for a vectors-only file,
    :class:`~w2v.vectors.Vectors` (no settings, no output weights)."""
    words, input_vectors = _words_and_matrix(model)
    n, dim = input_vectors.shape
    counts = getattr(model, "counts", None)
    config = getattr(model, "config", None)
    arrays = {"counts": np.zeros(n, dtype=np.int64) if counts is None else np.asarray(counts),
              "input_vectors": input_vectors}
    for key in _OUTPUTS:
        value = getattr(model, key, None)
        if value is not None:
            arrays[key] = np.asarray(value)
    subwords = _subwords_entry(model)
    if subwords is not None:
        arrays["ngram_vectors"] = np.asarray(
            model.ngrams.matrix if subwords["composed"] else model.ngram_vectors)
    expected = _expected_shapes(n, dim, subwords["buckets"] if subwords else 0)
    for key, arr in arrays.items():
        if arr.shape != expected[key]:
            raise FormatError(f"cannot save model: {key} has shape {arr.shape}, expected "
                              f"{expected[key]}")
    for i, w in enumerate(words):
        if not isinstance(w, str) or not w or "\n" in w:
            raise FormatError(f"cannot save model: word #{i} {w!r} is empty or contains a newline")
    try:
        vocab_blob = "\n".join(words).encode("utf-8")
    except UnicodeEncodeError as e:
        raise FormatError(f"cannot save model: a word holds a lone surrogate "
                          f"({shown(e.object[e.start:e.end])}), which UTF-8 cannot store") from None

    blocks = [("vocab", vocab_blob)] + [(k, arrays[k]) for k in _ARRAY_DTYPES if k in arrays]
    header = {
        "format": "w2v-model",
        "version": FORMAT_VERSION,
        "vocab_size": n,
        "dim": dim,
        "config": config.to_dict() if config is not None else None,
        "epoch_losses": list(getattr(model, "epoch_losses", None) or []),
        "history": list(getattr(model, "history", None) or []),
        "blocks": {},
    }
    if subwords is not None:
        header["subwords"] = subwords
    header["written_by"] = f"w2v {__version__}"
    # offsets depend on the JSON length, which depends on the offsets: iterate to a fixed point
    data_start = _align(_PREFIX.size + 1024)
    for _ in range(10):
        offset = data_start
        for key, value in blocks:
            if key == "vocab":
                header["blocks"][key] = {"offset": offset, "nbytes": len(value),
                                         "encoding": "utf-8", "separator": "\n"}
                offset = _align(offset + len(value))
            else:
                header["blocks"][key] = {"offset": offset, "shape": list(value.shape),
                                         "dtype": _ARRAY_DTYPES[key]}
                offset = _align(offset + value.size * np.dtype(_ARRAY_DTYPES[key]).itemsize)
        header_bytes = json.dumps(header, default=_json_default, ensure_ascii=False,
                                  allow_nan=True).encode("utf-8")
        needed = _align(_PREFIX.size + len(header_bytes))
        if needed <= data_start:
            break
        data_start = needed
    else:  # pragma: no cover - converges in two rounds
        raise FormatError("cannot lay out the model file header")

    with atomic_write(path, "wb") as f:
        f.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, 0, len(header_bytes)))
        f.write(header_bytes)
        pos = _PREFIX.size + len(header_bytes)
        for key, value in blocks:
            start = header["blocks"][key]["offset"]
            f.write(b"\0" * (start - pos))
            if key == "vocab":
                f.write(value)
                pos = start + len(value)
            else:
                what = "vector" if key == "input_vectors" else key

                def check(chunk, first_row, what=what):
                    _refuse_non_finite(chunk, first_row, words, path, what)
                pos = start + _write_array(f, value, _ARRAY_DTYPES[key], check=check)


def _align(x: int) -> int:
    return (x + ALIGN - 1) // ALIGN * ALIGN


def _write_array(f, arr: np.ndarray, dtype: str, chunk_bytes: int = 16 << 20,
                 check=None) -> int:
    """Write ``arr`` as raw ``dtype`` in C order, in chunks (no full-size copy);
    ``check(chunk, first_row)`` sees each converted float chunk first."""
    itemsize = np.dtype(dtype).itemsize
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    rows = max(1, chunk_bytes // max(1, arr.shape[1] * itemsize))
    written = 0
    for s in range(0, arr.shape[0], rows):
        chunk = np.ascontiguousarray(arr[s:s + rows], dtype=dtype)
        if check is not None and chunk.dtype.kind == "f":
            check(chunk, s)
        f.write(memoryview(chunk).cast("B"))
        written += chunk.nbytes
    return written


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def load_model(path, mmap: bool = True):
    """Load a full :class:`~w2v.model.Model` from our model file (for continued training).

    With ``mmap=True`` the weight matrices are copy-on-write memory maps: nothing is read
    until used, and writes (training) never reach the file."""

    _check_options(None, "strict", None, mmap)
    header, words, arrays = _read_model(path, mmap="c" if mmap else False)
    config_dict = header.get("config")
    if config_dict is None:
        config = TrainConfig(size=header["dim"])
    else:
        try:
            config = TrainConfig.from_dict(config_dict).validate()
        except (TypeError, ConfigError) as e:
            raise FormatError(f"{as_path(path)}: bad training settings in the header: {e}") \
                from None
    if "ngram_vectors" in arrays and (header["subwords"]["composed"] or not config.uses_subwords
                                      or _subword_scheme(header) != Scheme.of(config)):
        raise FormatError(f"{as_path(path)}: the n-gram rows do not belong to a trainable model "
                          f"(saved from vectors, or settings that disagree with the header)")
    return Model(config=config, words=words, counts=arrays["counts"],
                 input_vectors=arrays["input_vectors"], ngram_vectors=arrays.get("ngram_vectors"),
                 **{key: arrays.get(key) for key in _OUTPUTS},
                 epoch_losses=header.get("epoch_losses"),
                 history=header.get("history"))


def read_model_header(path) -> dict:
    """The JSON header of a model file (checked), without reading the arrays."""
    name = as_path(path)
    with _open_for_reading(path) as f:
        size = os.fstat(f.fileno()).st_size
        return _parse_model_header(f, size, name)


def _parse_model_header(f, size: int, name: str) -> dict:
    prefix = f.read(_PREFIX.size)
    if len(prefix) < len(MAGIC) or prefix[:len(MAGIC)] != MAGIC:
        if not prefix:
            raise FormatError(f"{name}: empty file")
        raise FormatError(f"{name}: not a w2v model file (wrong magic bytes at offset 0)")
    if len(prefix) < _PREFIX.size:
        raise FormatError(f"{name}: truncated model file: {size} bytes, the fixed header alone "
                          f"is {_PREFIX.size}")
    _, version, _, header_len = _PREFIX.unpack(prefix)
    if version != FORMAT_VERSION:
        newer = " (written by a newer w2v?)" if version > FORMAT_VERSION else ""
        raise FormatError(f"{name}: model file format version {version} is not supported "
                          f"(this w2v reads version {FORMAT_VERSION}){newer}")
    if header_len > min(_MAX_JSON_HEADER, size - _PREFIX.size):
        raise FormatError(f"{name}: truncated or corrupt model file: header length {header_len:,} "
                          f"at offset 16, but the file has {size:,} bytes")
    raw = f.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:   # RecursionError: [[[[...
        why = "nested too deeply" if isinstance(e, RecursionError) else e
        raise FormatError(f"{name}: corrupt model file header (bytes {_PREFIX.size}.."
                          f"{_PREFIX.size + header_len}): {why}") from None
    _check_model_header(header, size, name)
    return header


def _check_model_header(header, size: int, name: str) -> None:
    def bad(msg):
        raise FormatError(f"{name}: corrupt model file header: {msg}")

    if not isinstance(header, dict) or header.get("format") != "w2v-model":
        bad("not a w2v-model header")
    if header.get("version") != FORMAT_VERSION:      # the prefix's version was checked
        bad(f"version is {shown(header.get('version'))}, the file's prefix says "
            f"{FORMAT_VERSION}")
    n, dim = header.get("vocab_size"), header.get("dim")
    for key, value, top in (("vocab_size", n, _MAX_WORDS), ("dim", dim, _MAX_DIM)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            bad(f"{key} is {value!r}, not a non-negative integer")
        if value > top:
            bad(f"{key} is {value:,}, larger than {top:,}")
    if dim < 1:
        bad("dim must be at least 1")
    config = header.get("config")
    if config is not None and not isinstance(config, dict):
        bad(f"config is {shown(config)}, not an object of settings")
    if config is not None and not isinstance(config.get("extra", {}), dict):
        bad(f"config.extra is {shown(config['extra'])}, not an object")
    losses = header.get("epoch_losses")
    if losses is not None and not (isinstance(losses, list) and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in losses)):
        bad(f"epoch_losses is {shown(losses)}, not a list of numbers")
    history = header.get("history")
    if history is not None and not (isinstance(history, list)
                                    and all(isinstance(x, dict) for x in history)):
        bad(f"history is {shown(history)}, not a list of objects")
    blocks = header.get("blocks")
    if not isinstance(blocks, dict) or "vocab" not in blocks or "input_vectors" not in blocks \
            or "counts" not in blocks:
        bad("missing vocab, counts or input_vectors block")
    subwords = header.get("subwords")
    if (subwords is not None) != ("ngram_vectors" in blocks):
        bad("an ngram_vectors block needs a subwords entry, and a subwords entry the block")
    buckets = 0
    if subwords is not None:
        ints = [subwords.get(k) if isinstance(subwords, dict) else None
                for k in ("minn", "maxn", "buckets")]
        if not (all(isinstance(v, int) and not isinstance(v, bool) for v in ints)
                and 1 <= ints[0] <= ints[1] and 1 <= ints[2] <= MAX_BUCKETS
                and isinstance(subwords.get("composed"), bool)):
            bad(f"subwords is {shown(subwords)}, not minn <= maxn, buckets and composed")
        buckets = ints[2]
    expected = {key: list(shape) for key, shape in _expected_shapes(n, dim, buckets).items()}
    for key, block in blocks.items():
        if key != "vocab" and key not in expected:
            bad(f"unknown block {key!r}")
        if not isinstance(block, dict):
            bad(f"block {key!r} is not an object")
        offset = block.get("offset")
        if not isinstance(offset, int) or offset < _PREFIX.size or offset % ALIGN:
            bad(f"block {key!r} has a bad offset {offset!r}")
        if key == "vocab":
            nbytes = block.get("nbytes")
            if not isinstance(nbytes, int) or nbytes < 0:
                bad(f"vocab has a bad size {nbytes!r}")
        else:
            if block.get("shape") != expected[key]:
                bad(f"{key} has shape {block.get('shape')!r}, expected {expected[key]} for "
                    f"{n:,} words of dimension {dim:,}")
            if block.get("dtype") != _ARRAY_DTYPES[key]:
                bad(f"{key} has dtype {block.get('dtype')!r}, expected {_ARRAY_DTYPES[key]!r}")
            nbytes = math.prod(expected[key]) * np.dtype(_ARRAY_DTYPES[key]).itemsize
        block["_nbytes"] = nbytes
        if offset + nbytes > size:
            raise FormatError(f"{name}: truncated model file: {key} needs bytes {offset:,}.."
                              f"{offset + nbytes:,}, but the file has {size:,} bytes")


def _read_model(path, mmap="r", limit=None, unicode_errors="strict",
                want=("counts", "input_vectors", "ngram_vectors") + _OUTPUTS):
    """``(header, words, {name: array})``; ``mmap`` False (read into memory), 'r' or 'c'."""
    name = as_path(path)
    with _open_for_reading(path) as f:
        size = os.fstat(f.fileno()).st_size
        header = _parse_model_header(f, size, name)
        vb = header["blocks"]["vocab"]
        f.seek(vb["offset"])
        blob = f.read(vb["_nbytes"])
        n = header["vocab_size"]
        try:
            words = blob.decode("utf-8", unicode_errors).split("\n") if n else []
        except UnicodeDecodeError as e:
            raise FormatError(f"{name}: vocabulary is not valid UTF-8 (byte offset "
                              f"{vb['offset'] + e.start:,})") from None
        if len(words) != n:
            raise FormatError(f"{name}: corrupt model file: the vocabulary block holds "
                              f"{len(words):,} words, the header says {n:,}")
        keep = n if limit is None else min(limit, n)
        words = words[:keep]
        _check_unique(words, name, lambda i: f"word #{i + 1}")
        arrays = {}
        for key in want:
            block = header["blocks"].get(key)
            if block is None:
                continue
            shape = tuple(block["shape"])
            if limit is not None and key in _OUTPUTS:
                continue                           # output weights make no sense cut short
            if key not in _OUTPUTS and key != "ngram_vectors":
                shape = (keep,) + shape[1:]        # a word's own rows: cut with the vocabulary
            dtype = np.dtype(block["dtype"])
            if math.prod(shape) == 0:
                arr = np.zeros(shape, dtype=dtype)
            elif mmap:
                arr = np.memmap(f, dtype=dtype, mode=mmap, offset=block["offset"], shape=shape)
            else:
                f.seek(block["offset"])
                arr = np.fromfile(f, dtype=dtype, count=math.prod(shape)).reshape(shape)
                arr = arr.astype(dtype.newbyteorder("="), copy=False)
            bad = first_non_finite_row(arr) if dtype.kind == "f" else None
            if bad is not None:
                raise FormatError(f"{name}: {key} row {bad} has a NaN or infinite value")
            if key == "counts" and arr.size and int(arr.min()) < 0:
                raise FormatError(f"{name}: corrupt model file: negative word count")
            arrays[key] = arr
    return header, words, arrays


# --------------------------------------------------------------------------------------
# fastText's binary model (read only)
# --------------------------------------------------------------------------------------
#: fastText's file signature: magic 793712314 and format version 12, int32 little-endian
FASTTEXT_MAGIC = struct.pack("<ii", 793712314, 12)
_FT_ARGS = struct.Struct("<12id")      # dim ws epoch minCount neg wordNgrams loss model bucket
                                       # minn maxn lrUpdateRate, then t (a double)
_FT_DICT = struct.Struct("<iiiqq")     # size nwords nlabels ntokens pruneidx_size
_FT_EOS = "</s>"                       # fastText's end-of-line token: no n-grams of its own
_FT_HEADER_SIZE = len(FASTTEXT_MAGIC) + _FT_ARGS.size + _FT_DICT.size   # what precedes the words


def _fasttext_header(data: bytes, name: str) -> dict:
    """The settings and dictionary sizes at the start of a fastText model (checked)."""
    if data[:len(FASTTEXT_MAGIC)] != FASTTEXT_MAGIC:
        raise FormatError(f"{name}: not a fastText model (format version 12)")
    if len(data) < _FT_HEADER_SIZE:
        raise FormatError(f"{name}: truncated fastText model: {len(data)} bytes, its header "
                          f"alone is {_FT_HEADER_SIZE}")
    (dim, _, _, _, _, _, _, model_kind, bucket, minn, maxn, _, _) = _FT_ARGS.unpack_from(
        data, len(FASTTEXT_MAGIC))
    n_entries, n_words, n_labels, _, prune_size = _FT_DICT.unpack_from(
        data, len(FASTTEXT_MAGIC) + _FT_ARGS.size)
    if model_kind == 3 or n_labels:
        raise FormatError(f"{name}: a supervised fastText model (labels, not word vectors)")
    if not (0 < dim <= _MAX_DIM and 0 <= n_words == n_entries and bucket >= 0
            and 0 <= minn <= maxn):
        raise FormatError(f"{name}: corrupt fastText model: dim {dim}, {n_words} words of "
                          f"{n_entries} entries, bucket {bucket}, n-grams {minn}-{maxn}")
    if prune_size > 0:
        raise FormatError(f"{name}: a pruned (quantized) fastText model is not supported")
    return {"dim": dim, "words": n_words, "buckets": bucket if maxn > 0 else 0,
            "minn": minn, "maxn": maxn}


def read_fasttext_bin(path, unicode_errors: str = "strict", limit: Optional[int] = None):
    """A fastText ``.bin`` model's word vectors as :class:`~w2v.vectors.Vectors`, with its
    n-gram rows, so words outside its vocabulary get fastText's vectors too.

    Parsed field by field (nothing is executed); each word's vector is fastText's
    ``get_word_vector``: the mean of its row and its n-gram rows (our scheme is
    fastText's, see :mod:`w2v.subwords`). Quantized (``.ftz``) and supervised models
    are refused with a FormatError, as is a truncated or inconsistent file."""

    name = as_path(path)
    with _open_for_reading(path) as f:
        size = os.fstat(f.fileno()).st_size
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    matrix = None
    try:
        head = _fasttext_header(data[:_FT_HEADER_SIZE], name)
        dim, n_words, bucket, minn, maxn = (head[k] for k in ("dim", "words", "buckets", "minn",
                                                               "maxn"))
        pos = _FT_HEADER_SIZE

        def take(st: struct.Struct, what: str):
            nonlocal pos
            if pos + st.size > size:
                raise FormatError(f"{name}: truncated fastText model: {what} at byte {pos:,}")
            values = st.unpack_from(data, pos)
            pos += st.size
            return values

        raw_words, counts = [], np.empty(n_words, dtype=np.int64)
        entry = struct.Struct("<qb")
        for i in range(n_words):
            end = data.find(b"\0", pos, min(size, pos + _MAX_WORD_BYTES + 1))
            if end < 0:
                raise FormatError(f"{name}: truncated or corrupt fastText model: word #{i + 1} "
                                  f"at byte {pos:,} has no end")
            raw_words.append(bytes(data[pos:end]))
            pos = end + 1
            counts[i], kind = take(entry, f"the count of word #{i + 1}")
            if kind != 0:
                raise FormatError(f"{name}: a supervised fastText model (labels, not word vectors)")
        quantized, = take(struct.Struct("<?"), "the quantization flag")
        if quantized:
            raise FormatError(f"{name}: a quantized fastText model (.ftz) is not supported")
        rows, cols = take(struct.Struct("<qq"), "the input matrix's shape")
        if rows != n_words + bucket or cols != dim:
            raise FormatError(f"{name}: corrupt fastText model: input matrix {rows} x {cols}, "
                              f"expected {n_words + bucket} x {dim}")
        _check_room(name, f"the {rows:,} x {cols:,} input matrix", rows * cols * 4, size - pos)
        matrix = np.frombuffer(data, dtype="<f4", count=rows * cols, offset=pos).reshape(rows, cols)
        keep = n_words if limit is None else min(limit, n_words)
        words = _decode_words(raw_words[:keep], unicode_errors, name, lambda i: f"word #{i + 1}")
        _check_unique(words, name, lambda i: f"word #{i + 1}")
        word_rows = np.array(matrix[:keep], dtype=np.float32)
        ngram_rows = np.array(matrix[n_words:], dtype=np.float32)
    finally:
        matrix = None                      # the map closes only once no view of it is left
        if isinstance(data, mmap.mmap):
            data.close()
    _check_finite(word_rows, words, name)
    bad = first_non_finite_row(ngram_rows)
    if bad is not None:
        raise FormatError(f"{name}: n-gram row {bad} has a NaN or infinite value")
    if bucket == 0:                       # a model trained without subwords
        return Vectors(words, word_rows, counts=counts[:keep], _validate=False)
    scheme = Scheme(max(minn, 1), maxn, bucket)
    vectors = word_vectors(scheme, words, word_rows, ngram_rows)
    if _FT_EOS in words:
        eos = words.index(_FT_EOS)
        vectors[eos] = word_rows[eos]
    return Vectors(words, vectors, counts=counts[:keep], ngrams=NgramVectors(scheme, ngram_rows),
                   _validate=False)


# --------------------------------------------------------------------------------------
# info
# --------------------------------------------------------------------------------------
def info(path) -> dict:
    """What a vectors or model file holds, read from its header only (fast)."""
    name = as_path(path)
    fmt = detect_format(path)
    result = {"path": name, "format": fmt, "bytes": os.path.getsize(name)}
    if fmt == "fasttext":
        with _open_for_reading(path) as f:
            head = _fasttext_header(f.read(_FT_HEADER_SIZE), name)
        result.update(vocab_size=head["words"], dim=head["dim"],
                      subwords={k: head[k] for k in ("minn", "maxn", "buckets")}
                      if head["buckets"] else None)
    elif fmt == "model":
        header = read_model_header(path)
        result.update(vocab_size=header["vocab_size"], dim=header["dim"],
                      version=header["version"], written_by=header.get("written_by"),
                      matrices=[k for k in ("input_vectors", "ngram_vectors") + _OUTPUTS
                                if k in header["blocks"]],
                      subwords=header.get("subwords"),
                      config=header.get("config"), epoch_losses=header.get("epoch_losses"),
                      history=header.get("history"))
    else:
        with _open_for_reading(path) as f:
            n_words, dim, pos = _parse_header(f.read(_MAX_HEADER_LINE), name)
        row_bytes = 4 * dim + 2 if fmt == "bin" else 2 * dim + 2
        _check_room(name, f"{n_words:,} words x {dim:,} dimensions", n_words * row_bytes - 1,
                    result["bytes"] - pos)
        result.update(vocab_size=n_words, dim=dim)
    return result
