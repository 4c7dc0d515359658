"""File formats: round trips, compatibility with gensim, and clean errors on bad files."""
import json
import os
import struct

import numpy as np
import pytest

from w2v import io
from w2v.config import TrainConfig
from w2v.errors import ConfigError, FormatError
from w2v.model import Model
from w2v.vectors import Vectors


def make_vectors(n=50, dim=8, seed=0, words=None):
    rng = np.random.default_rng(seed)
    words = words or [f"w{i}" for i in range(n)]
    matrix = rng.standard_normal((len(words), dim)).astype(np.float32)
    # values that are hard to print exactly
    matrix[0, :3] = [np.float32(1) / 3, np.float32(1e-38), np.float32(-3.4028235e38)]
    return Vectors(words, matrix)


def make_model(n=30, dim=6, ns=True, hs=True):
    rng = np.random.default_rng(1)
    words = [f"tok{i}" for i in range(n)] + ["żółw", "日本"]
    n = len(words)
    config = TrainConfig(sg=True, size=dim, negative=5 if ns else 0, hs=hs, epochs=3, seed=7)
    return Model(config, words, np.arange(n, 0, -1) * 10,
                 rng.standard_normal((n, dim)).astype(np.float32),
                 rng.standard_normal((n, dim)).astype(np.float32) if ns else None,
                 rng.standard_normal((n - 1, dim)).astype(np.float32) if hs else None,
                 epoch_losses=[2.5, 2.0, 1.75],
                 history=[{"epoch": 1, "loss": 2.5, "seconds": 0.1}])


# -- round trips -------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".bin", ".txt", ".vec", ".w2v"])
def test_round_trip_every_format_is_exact(tmp_path, ext):
    vecs = make_vectors(words=["king", "queen", "żółw", "日本", "a-b", "x"] +
                        [f"w{i}" for i in range(40)])
    path = tmp_path / ("v" + ext)
    vecs.save(path)
    back = io.load(path)
    assert back.words == vecs.words
    assert back.matrix.dtype == np.float32
    np.testing.assert_array_equal(back.matrix, vecs.matrix)


@pytest.mark.parametrize("fmt,expected", [("bin", "bin"), ("txt", "txt"), ("model", "model")])
def test_format_detected_from_content_not_extension(tmp_path, fmt, expected):
    path = tmp_path / "vectors.data"
    io.save(path, make_vectors(), format=fmt)
    assert io.detect_format(path) == expected
    np.testing.assert_array_equal(io.load(path).matrix, make_vectors().matrix)


def test_binary_layout_is_the_c_tools(tmp_path):
    vecs = Vectors(["ab", "c"], np.array([[1.0, -2.0], [0.5, 0.25]], dtype=np.float32))
    vecs.save(tmp_path / "v.bin")
    data = (tmp_path / "v.bin").read_bytes()
    expected = (b"2 2\n" + b"ab " + struct.pack("<2f", 1.0, -2.0) + b"\n"
                + b"c " + struct.pack("<2f", 0.5, 0.25) + b"\n")
    assert data == expected


def test_text_layout(tmp_path):
    vecs = Vectors(["ab", "c"], np.array([[1.0, -2.0], [0.1, 0.25]], dtype=np.float32))
    vecs.save(tmp_path / "v.txt")
    assert (tmp_path / "v.txt").read_text() == "2 2\nab 1 -2\nc 0.100000001 0.25\n"


def test_reads_binary_without_newlines_like_gensim_writes(tmp_path):
    m = np.array([[1.0, 10.0], [2.0, 3.5], [7.0, 8.0]], dtype=np.float32)
    m[0, 0] = np.frombuffer(b"\n\n\n\n", dtype="<f4")[0]   # a vector that is all newline bytes
    data = b"3 2\n" + b"".join(w + b" " + row.astype("<f4").tobytes()
                               for w, row in zip([b"a", b"bb", b"c"], m))
    (tmp_path / "g.bin").write_bytes(data)
    back = io.load(tmp_path / "g.bin")
    assert back.words == ["a", "bb", "c"]
    np.testing.assert_array_equal(back.matrix, m)


def test_text_with_trailing_spaces_and_crlf(tmp_path):
    (tmp_path / "v.txt").write_bytes(b"2 3\r\nx 1.0 2.0 3.0 \r\ny -1 -2 -3\r\n")
    back = io.load(tmp_path / "v.txt")
    assert back.words == ["x", "y"]
    np.testing.assert_array_equal(back["y"], [-1, -2, -3])


@pytest.mark.parametrize("ext", [".bin", ".txt", ".w2v"])
def test_limit_reads_only_the_first_words(tmp_path, ext):
    vecs = make_vectors(n=20)
    vecs.save(tmp_path / ("v" + ext))
    back = io.load(tmp_path / ("v" + ext), limit=5)
    assert back.words == vecs.words[:5]
    np.testing.assert_array_equal(back.matrix, vecs.matrix[:5])


@pytest.mark.parametrize("ext", [".bin", ".txt"])
def test_limit_does_not_read_a_broken_tail(tmp_path, ext):
    path = tmp_path / ("v" + ext)
    make_vectors(n=20).save(path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])              # truncated in the middle
    assert len(io.load(path, limit=3)) == 3
    with pytest.raises(FormatError):
        io.load(path)


def test_invalid_utf8_strict_and_replace(tmp_path):
    data = b"2 2\n" + b"ok " + struct.pack("<2f", 1, 2) + b"\n" + b"bad\xff " \
        + struct.pack("<2f", 3, 4) + b"\n"
    (tmp_path / "v.bin").write_bytes(data)
    with pytest.raises(FormatError, match="word #2.*not valid UTF-8"):
        io.load(tmp_path / "v.bin")
    back = io.load(tmp_path / "v.bin", unicode_errors="replace")
    assert back.words == ["ok", "bad\ufffd"]
    with pytest.raises(ConfigError):
        io.load(tmp_path / "v.bin", unicode_errors="bogus")


def test_model_file_round_trip_keeps_everything(tmp_path):
    model = make_model()
    path = tmp_path / "m.w2v"
    model.save(path)
    for mmap in (True, False):
        back = io.load_model(path, mmap=mmap)
        assert back.words == model.words
        np.testing.assert_array_equal(back.counts, model.counts)
        for key in ("input_vectors", "output_ns", "output_hs"):
            np.testing.assert_array_equal(getattr(back, key), getattr(model, key))
        assert back.config == model.config
        assert back.epoch_losses == model.epoch_losses
        assert back.history == model.history
        assert isinstance(back.input_vectors, np.memmap) == mmap
    back = io.load_model(path)
    back.input_vectors[0] += 1                  # copy-on-write: the file does not change
    np.testing.assert_array_equal(io.load_model(path).input_vectors, model.input_vectors)


def test_model_file_arrays_are_aligned_memmaps(tmp_path):
    model = make_model(ns=True, hs=False)
    model.save(tmp_path / "m.w2v")
    header = io.read_model_header(tmp_path / "m.w2v")
    assert "output_hs" not in header["blocks"]
    for key, block in header["blocks"].items():
        assert block["offset"] % 64 == 0
    vecs = io.load(tmp_path / "m.w2v")
    assert isinstance(vecs.matrix, np.memmap)
    assert not vecs.matrix.flags.writeable
    np.testing.assert_array_equal(vecs.counts, model.counts)
    block = header["blocks"]["input_vectors"]
    raw = np.fromfile(tmp_path / "m.w2v", dtype="<f4", count=model.input_vectors.size,
                      offset=block["offset"]).reshape(model.input_vectors.shape)
    np.testing.assert_array_equal(raw, model.input_vectors)


def test_model_file_from_plain_vectors(tmp_path):
    vecs = make_vectors()
    vecs.save(tmp_path / "v.w2v")
    model = io.load_model(tmp_path / "v.w2v")
    assert model.output_ns is None and model.output_hs is None
    assert model.config.size == vecs.dim
    np.testing.assert_array_equal(model.input_vectors, vecs.matrix)


def test_info_reads_headers(tmp_path):
    make_model().save(tmp_path / "m.w2v")
    make_vectors(n=7, dim=3).save(tmp_path / "v.bin")
    i = io.info(tmp_path / "m.w2v")
    assert (i["format"], i["vocab_size"], i["dim"]) == ("model", 32, 6)
    assert i["config"]["sg"] is True and i["matrices"] == ["input_vectors", "output_ns",
                                                           "output_hs"]
    i = io.info(tmp_path / "v.bin")
    assert (i["format"], i["vocab_size"], i["dim"]) == ("bin", 7, 3)


def test_save_format_from_extension(tmp_path):
    with pytest.raises(ConfigError, match=r"\.bin.*\.txt.*\.vec.*\.w2v"):
        io.save(tmp_path / "v.npy", make_vectors())
    with pytest.raises(ConfigError):
        io.save(tmp_path / "v.bin", make_vectors(), format="npy")
    assert not os.listdir(tmp_path)


def test_words_the_format_cannot_hold_are_refused(tmp_path):
    vecs = Vectors(["a b", "c"], np.ones((2, 2), np.float32))
    with pytest.raises(FormatError, match="whitespace"):
        vecs.save(tmp_path / "v.bin")
    assert not os.listdir(tmp_path)


# -- atomic_write --------------------------------------------------------------------------
def test_atomic_write_replaces_only_on_success(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with io.atomic_write(path, "w") as f:
            f.write("new, half written")
            raise RuntimeError("boom")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]
    with io.atomic_write(path, "w") as f:
        f.write("new")
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_write_gives_normal_permissions(tmp_path):
    path = tmp_path / "fresh.bin"
    with io.atomic_write(path) as f:
        f.write(b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# -- gensim compatibility ---------------------------------------------------------------
@pytest.fixture
def gensim_kv():
    gensim = pytest.importorskip("gensim", reason="gensim (a test dependency) is not installed")
    return gensim.models.KeyedVectors


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_reads_our_files(tmp_path, gensim_kv, binary):
    vecs = make_vectors(words=["king", "żółw", "日本"] + [f"w{i}" for i in range(30)])
    path = tmp_path / ("v.bin" if binary else "v.txt")
    vecs.save(path)
    kv = gensim_kv.load_word2vec_format(str(path), binary=binary)
    assert kv.index_to_key == vecs.words
    np.testing.assert_array_equal(kv.vectors, vecs.matrix)


@pytest.mark.parametrize("binary", [True, False])
def test_we_read_gensims_files(tmp_path, gensim_kv, binary):
    vecs = make_vectors(words=["king", "żółw", "日本"] + [f"w{i}" for i in range(30)])
    kv = gensim_kv(vector_size=vecs.dim)
    kv.add_vectors(vecs.words, vecs.matrix)
    path = tmp_path / ("g.bin" if binary else "g.txt")
    kv.save_word2vec_format(str(path), binary=binary)
    back = io.load(path)
    assert back.words == vecs.words
    if binary:
        np.testing.assert_array_equal(back.matrix, vecs.matrix)
    else:   # gensim writes text with %f-like precision
        np.testing.assert_allclose(back.matrix, vecs.matrix, rtol=1e-5, atol=1e-6)


# -- bad files ----------------------------------------------------------------------------
def _bin(rows, header=None, newline=True):
    dim = len(rows[0][1]) if rows else 2
    head = header if header is not None else f"{len(rows)} {dim}\n".encode()
    return head + b"".join(w + b" " + struct.pack(f"<{len(v)}f", *v) + (b"\n" if newline else b"")
                           for w, v in rows)


GOOD = [(b"a", (1.0, 2.0)), (b"b", (3.0, 4.0)), (b"c", (5.0, 6.0))]


@pytest.mark.parametrize("content,message", [
    (b"", "empty file"),
    (b"3 2", "header"),
    (b"hello world\n", "not a non-negative integer"),
    (b"-3 2\n", "not a non-negative integer"),
    (b"3.5 2\n", "not a non-negative integer"),
    (b"3 0\n", "dimension must be at least 1"),
    (b"3\n", "two integers"),
    (b"3 2 1\n", "two integers"),
    (_bin(GOOD, header=b"4 2\n"), "truncated"),                      # more words than present
    (_bin(GOOD, header=b"3 5\n"), "truncated|promises"),             # more dims than present
    (_bin(GOOD, header=b"99999999999999 300\n"), "promises"),        # terabytes: no allocation
    (_bin(GOOD, header=b"3 99999999999\n"), "promises"),
    (_bin(GOOD)[:-3], "truncated"),
    (_bin(GOOD)[:-9], "truncated"),
    (_bin(GOOD)[:15], "truncated|promises"),
    (_bin(GOOD[:1] + GOOD[:1] + GOOD[2:]), "duplicate word 'a'"),
    (_bin([(b"a", (1.0, float("nan"))), (b"b", (1.0, 2.0))]), "NaN or infinite"),
    (_bin([(b"a", (1.0, 2.0)), (b"b", (float("inf"), 2.0))]), "word #2.*NaN or infinite"),
    (b"2 2\nx 1 2\ny 33\n", "line 3: expected a word and 2 numbers, got 1"),
    (b"2 2\nx 1 2\ny 3 4 5\n", "line 3"),
    (b"2 2\nx 1 2\ny 3 four\n", "line 3.*not a number"),
    (b"2 2\nx 1 2\n", "truncated|promises"),
    (b"2 2\nx 1 2\ny 3.5 4.25", "line 3.*does not end with a newline"),
    (b"3 2\nx 1 2\ny 3 4\n\n", "empty line 4|truncated|promises"),
    (b"2 2\nx 1 2\nx 3 4\n", "duplicate word 'x' at line 3"),
    (b"2 2\nx 1 nan\ny 3 4\n", "line 2.*NaN"),
    (b"2 2\nx 1 2\ny 1e39 4\n", "line 3.*NaN or infinite"),
    (b"1 2\nx\xff 1 2\n", "line 2 is not valid UTF-8"),
    (b"2 1\na 1\nb 0.125\x1e30217\n", r"line 3: '0\.125\\x1e30217' is not a number"),  # fuzz
    (b"1" * 5000 + b" 2\n", "vocabulary size .* is larger than"),    # int() refuses 4300+ digits
    (b"0 9999999999999999999\n", "dimension .* is larger than"),    # numpy cannot shape it
])
def test_bad_word2vec_files_raise_format_error(tmp_path, content, message):
    path = tmp_path / "bad.bin"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=message) as info:
        io.load(path)
    assert "\n" not in str(info.value)


def test_leading_zeros_in_the_header_are_not_size(tmp_path):
    path = tmp_path / "zeros.txt"
    path.write_bytes(b"0001 0000000000000000000000000002\nx 1.5 2\n")
    vecs = io.load(path)
    assert vecs.words == ["x"] and vecs.matrix.tolist() == [[1.5, 2.0]]


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        io.load(tmp_path / "missing.bin")
    with pytest.raises(FormatError, match="directory"):
        io.load(tmp_path)
    with pytest.raises(FormatError, match="no such file"):
        io.load_model(tmp_path / "missing.w2v")


def test_every_truncation_of_every_format_is_a_format_error(tmp_path):
    """Cut each file at many points: never a crash of another kind, never a silent success
    with the full word count."""
    for fmt in ("bin", "txt", "model"):
        path = tmp_path / f"v.{fmt}"
        io.save(path, make_vectors(n=6, dim=3), format=fmt)
        data = path.read_bytes()
        cut_path = tmp_path / f"cut.{fmt}"
        for cut in sorted(set(range(0, len(data), max(1, len(data) // 97))) | {len(data) - 1}):
            cut_path.write_bytes(data[:cut])
            try:
                vecs = io.load(cut_path)
            except FormatError as e:
                assert "\n" not in str(e)
            else:  # gensim's binary has no final newline: that cut is a valid file
                assert fmt == "bin" and cut == len(data) - 1, (fmt, cut, len(vecs))


def test_bad_model_files(tmp_path):
    path = tmp_path / "m.w2v"
    make_model().save(path)
    data = path.read_bytes()
    header_len = struct.unpack_from("<Q", data, 16)[0]
    header = json.loads(data[24:24 + header_len])

    def write(b):
        bad = tmp_path / "bad.w2v"
        bad.write_bytes(b)
        return bad

    def with_header(h):   # the blocks start well after the JSON: room to grow it
        raw = json.dumps(h).encode()
        assert 24 + len(raw) <= min(b["offset"] for b in header["blocks"].values())
        return data[:16] + struct.pack("<Q", len(raw)) + raw + data[24 + len(raw):]

    with pytest.raises(FormatError, match="version 99"):
        io.load(write(data[:8] + struct.pack("<I", 99) + data[12:]))
    with pytest.raises(FormatError, match="header length"):
        io.load(write(data[:16] + struct.pack("<Q", 1 << 60) + data[24:]))
    with pytest.raises(FormatError, match="corrupt model file header"):
        io.load(write(data[:30] + b"\xff{" + data[32:]))
    with pytest.raises(FormatError, match="not a w2v model file|header"):
        io.load_model(write(b"\x89W2V\r\n\x1b\n" + data[8:]))
    lying = dict(header, vocab_size=10 ** 12)
    with pytest.raises(FormatError, match="shape"):
        io.load(write(with_header(lying)))
    blocks = json.loads(json.dumps(header["blocks"]))
    blocks["input_vectors"]["offset"] = len(data) // 64 * 64
    with pytest.raises(FormatError, match="truncated model file"):
        io.load(write(with_header(dict(header, blocks=blocks))))
    blocks = json.loads(json.dumps(header["blocks"]))
    blocks["input_vectors"]["dtype"] = "|O"
    with pytest.raises(FormatError, match="dtype"):
        io.load(write(with_header(dict(header, blocks=blocks))))
    off = header["blocks"]["input_vectors"]["offset"]
    nan = struct.pack("<f", float("nan"))
    with pytest.raises(FormatError, match="input_vectors row 0 has a NaN"):
        io.load(write(data[:off] + nan + data[off + 4:]))
    off = header["blocks"]["vocab"]["offset"]
    with pytest.raises(FormatError, match="duplicate word"):
        io.load(write(data[:off] + b"tok1" + data[off + 4:]))
    with pytest.raises(FormatError, match="vocabulary is not valid UTF-8"):
        io.load(write(data[:off] + b"\xff" + data[off + 1:]))
    with pytest.raises(FormatError, match="is a w2v model file"):
        io.read_word2vec(path)


DELETE = object()


@pytest.mark.parametrize("field,value,message", [
    ("config", 5, "config is 5, not an object"),
    ("config", [1], "config is \\[1\\], not an object"),
    ("config", {"extra": 5, "x": 1}, "config.extra is 5"),
    ("config", {"size": "x"}, "bad training settings.*--size"),
    ("config", {"window": 10 ** 9}, "bad training settings.*--window"),
    ("epoch_losses", 5, "epoch_losses is 5"),
    ("epoch_losses", ["a"], "epoch_losses is \\['a'\\]"),
    ("history", 7, "history is 7"),
    ("version", None, "version is None"),
    ("version", DELETE, "version is None"),       # fuzzing: w2v info raised KeyError
    ("dim", 2 ** 50, "dim is 1,125,899,906,842,624, larger than"),
    ("vocab_size", 2 ** 70, "vocab_size is .* larger than"),
])
def test_model_header_values_of_the_wrong_type_or_size(tmp_path, field, value, message):
    """Found by the property tests: these raised AttributeError, TypeError or ValueError."""
    path = tmp_path / "m.w2v"
    make_model().save(path)
    data = path.read_bytes()
    header_len = struct.unpack_from("<Q", data, 16)[0]
    header = json.loads(data[24:24 + header_len])
    header = dict(header, **{field: value})
    if value is DELETE:
        del header[field]
    raw = json.dumps(header).encode()
    path.write_bytes(data[:16] + struct.pack("<Q", len(raw)) + raw + data[24 + len(raw):])
    with pytest.raises(FormatError, match=message):
        io.load_model(path)
    if field != "config" or not isinstance(value, dict) or "extra" in value:
        with pytest.raises(FormatError, match=message):
            io.info(path)


def test_deeply_nested_model_header_is_a_format_error(tmp_path):
    raw = b'{"a": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    path = tmp_path / "m.w2v"
    path.write_bytes(io.MAGIC + struct.pack("<IIQ", 1, 0, len(raw)) + raw)
    with pytest.raises(FormatError, match="nested too deeply"):
        io.load(path)


def test_negative_word_count_in_a_model_file(tmp_path):
    path = tmp_path / "m.w2v"
    make_model().save(path)
    off = io.read_model_header(path)["blocks"]["counts"]["offset"]
    data = bytearray(path.read_bytes())
    data[off:off + 8] = struct.pack("<q", -1)
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="negative word count"):
        io.load_model(path)
