"""Reliability, second round: output paths that would lose data, integer options past
64 bits or C int, silent divergence, hostile phrase tables, wrong argument types.

Every case asserts the specific exception (or the CLI's one line and exit 1) and that
nothing was lost: the inputs keep their bytes, devices stay devices, links stay links.
"""
import json
import os
import socket
import stat
import threading

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import w2v
from w2v.cli.main import main
from w2v.config import INT64_MAX, TrainConfig
from w2v.demo import generate_sentences
from w2v.errors import (ArgumentError, ConfigError, FormatError, OutputError, TrainingDiverged,
                        W2VError)
from w2v.outputs import atomic_write, check_outputs
from w2v.phrases import Phrases
from w2v.vectors import Vectors


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("rel") / "c.txt"
    path.write_text("\n".join(" ".join(s) for s in generate_sentences(3000, seed=5)) + "\n")
    return path


@pytest.fixture(scope="module")
def vectors_file(tmp_path_factory, corpus):
    path = tmp_path_factory.mktemp("relv") / "v.bin"
    w2v.train(str(corpus), size=8, epochs=1, threads=1, min_count=1).save(path)
    return path


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def fails(result, *needles):
    assert result.exit_code == 1, result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("Error: "), result.output
    for needle in needles:
        assert needle in line, line
    return line


# ------------------------------------------------------------------ outputs over inputs
def copy_of(src, dst):
    dst.write_bytes(src.read_bytes())
    return dst


def test_train_refuses_to_write_over_its_corpus_in_every_spelling(tmp_path, corpus):
    c = copy_of(corpus, tmp_path / "c.txt")
    before = c.read_bytes()
    link = tmp_path / "link.txt"
    link.symlink_to(c)
    hard = tmp_path / "hard.txt"
    os.link(c, hard)
    for target in (c, link, hard, tmp_path / "." / "c.txt"):
        line = fails(run("train", c, "-o", target, "--format", "txt", "-q"), "--output", "CORPUS")
        assert "same file" in line
    fails(run("train", c, "-o", tmp_path / "v.bin", "--save-model", hard, "-q"),
          "--save-model", "CORPUS")
    fails(run("train", link, "-o", c, "--format", "txt", "-q"), "--output", "CORPUS")
    assert c.read_bytes() == before and link.is_symlink() and hard.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["c.txt", "hard.txt", "link.txt"]   # no temp file


def test_refused_before_any_work(tmp_path):
    # a one-word corpus would fail in the counting pass; the output check comes first
    c = tmp_path / "one.txt"
    c.write_text("word\n")
    fails(run("train", c, "-o", c, "--format", "txt", "--min-count", "1"), "CORPUS")
    assert c.read_text() == "word\n"


def test_two_outputs_of_one_command_may_not_be_one_file(tmp_path, corpus):
    fails(run("train", corpus, "-o", tmp_path / "m.w2v", "--save-model", tmp_path / "m.w2v", "-q"),
          "--save-model", "--output")
    fails(run("phrases", corpus, "-o", tmp_path / "p.txt", "--save-table", tmp_path / "p.txt"),
          "--save-table", "--output")
    assert os.listdir(tmp_path) == []


def test_phrases_classes_convert_refuse_their_input(tmp_path, corpus, vectors_file):
    c = copy_of(corpus, tmp_path / "c.txt")
    v = copy_of(vectors_file, tmp_path / "v.bin")
    before_c, before_v = c.read_bytes(), v.read_bytes()
    fails(run("phrases", c, "-o", c), "--output", "CORPUS")
    fails(run("phrases", c, "-o", tmp_path / "p.txt", "--save-table", c), "--save-table", "CORPUS")
    fails(run("classes", "-m", v, "-k", "2", "-o", v), "--output", "--model")
    fails(run("convert", v, v), "OUT", "IN")
    link = tmp_path / "v-link.txt"
    link.symlink_to(v)
    fails(run("convert", v, link), "OUT", "IN")
    with pytest.raises(OutputError, match="output.*corpus"):
        w2v.find_phrases(str(c), str(c))
    with pytest.raises(OutputError, match="output.*corpus"):
        Phrases.learn(str(c)).transform(str(c), str(c))
    assert c.read_bytes() == before_c and v.read_bytes() == before_v


def test_resume_may_update_its_model_in_place_but_only_as_a_model(tmp_path, corpus):
    m = tmp_path / "m.w2v"
    assert run("train", corpus, "-o", m, "--size", "8", "--iter", "1", "-q").exit_code == 0
    before = m.read_bytes()
    fails(run("train", corpus, "--resume", m, "-o", m, "--format", "bin", "-q"),
          "--output", "--resume")
    assert m.read_bytes() == before
    result = run("train", corpus, "--resume", m, "-o", m, "--iter", "2", "-q")
    assert result.exit_code == 0, result.output
    assert len(w2v.load_model(m).epoch_losses) == 3          # 1 + 2 epochs, written over m
    fails(run("train", corpus, "--resume", m, "-o", tmp_path / "v.bin", "--save-model", corpus,
              "-q"), "--save-model", "CORPUS")


def test_output_folder_and_kind_problems_are_one_line_errors(tmp_path, corpus):
    fails(run("train", corpus, "-o", tmp_path / "missing" / "v.bin"), "folder does not exist")
    fails(run("train", corpus, "-o", tmp_path, "--format", "bin"), "directory")
    fails(run("train", corpus, "-o", str(tmp_path / "sub") + os.sep, "--format", "bin"),
          "names a folder")
    sock_path = tmp_path / "s.bin"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock_path))
        fails(run("train", corpus, "-o", sock_path), "not a regular file")
        assert stat.S_ISSOCK(os.stat(sock_path).st_mode)


# ------------------------------------------------------------------ devices, FIFOs, links
def test_fifo_output_is_written_through_not_replaced(tmp_path, vectors_file):
    fifo = tmp_path / "out.txt"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()))
    reader.start()
    result = run("convert", vectors_file, fifo, "--format", "txt")
    reader.join(30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)              # still a FIFO
    text = received[0].decode()
    n, dim = map(int, text.split("\n", 1)[0].split())
    assert (n, dim) == (len(w2v.load(vectors_file)), 8) and text.count("\n") == n + 1
    assert os.listdir(tmp_path) == ["out.txt"]


def test_symlink_to_a_device_keeps_the_device_and_the_link(tmp_path, vectors_file):
    link = tmp_path / "null.bin"
    link.symlink_to(os.devnull)
    result = run("convert", vectors_file, link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == os.devnull
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert os.listdir(tmp_path) == ["null.bin"]


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a character device needs root")
def test_character_device_output_stays_a_device(tmp_path, vectors_file):
    dev = tmp_path / "null-copy.bin"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))   # the null device's numbers
    assert run("convert", vectors_file, dev).exit_code == 0
    assert stat.S_ISCHR(os.stat(dev).st_mode)


def test_symlink_to_a_regular_file_stays_a_link_and_its_target_is_replaced(tmp_path,
                                                                           vectors_file):
    target = tmp_path / "real.txt"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target.name)                             # relative link
    assert run("convert", vectors_file, link).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == "real.txt"
    assert w2v.load(target).words == w2v.load(vectors_file).words
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["link.txt", "real.txt"]


def test_atomic_write_to_a_dangling_link_creates_the_target(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "new")
    with atomic_write(link, "w") as f:
        f.write("x\n")
    assert link.is_symlink() and (tmp_path / "new").read_text() == "x\n"


def test_check_outputs_api(tmp_path):
    a = tmp_path / "a"
    a.write_text("a")
    check_outputs({"out": tmp_path / "b"}, {"in": a})
    with pytest.raises(OutputError, match="out .* same file as in"):
        check_outputs({"out": a}, {"in": a})
    check_outputs({"out": a}, {"in": a}, may_replace=[("out", "in")])
    check_outputs({"a": os.devnull, "b": os.devnull})        # a device may take both
    with pytest.raises(ArgumentError, match="out must be a file path"):
        check_outputs({"out": 3})


# ------------------------------------------------------------------ divergence
@pytest.mark.parametrize("mode", [dict(), dict(sg=True), dict(hs=True, negative=0),
                                  dict(sg=True, hs=True, negative=0)])
def test_divergence_is_detected_without_the_loss(corpus, mode):
    with pytest.raises(TrainingDiverged, match=r"epoch 1/3: input_vectors.*lower --alpha"):
        w2v.train(str(corpus), alpha=10, compute_loss=False, epochs=3, threads=1, min_count=1,
                  **mode)


def test_divergence_from_the_cli_writes_nothing(tmp_path, corpus):
    out = tmp_path / "v.bin"
    fails(run("train", corpus, "-o", out, "--alpha", "10", "--min-count", "1", "-q"),
          "diverged", "--alpha")
    assert not out.exists() and os.listdir(tmp_path) == []


def test_divergence_on_resume_keeps_the_model_file(tmp_path, corpus):
    m = tmp_path / "m.w2v"
    w2v.train(str(corpus), size=8, epochs=1, threads=1, min_count=1).save(m)
    before = m.read_bytes()
    fails(run("train", corpus, "--resume", m, "-o", m, "--alpha", "10", "-q"), "diverged")
    assert m.read_bytes() == before


def test_saving_non_finite_weights_is_refused_and_keeps_the_old_file(tmp_path):
    model = w2v.train([["a", "b", "c"]] * 50, size=4, epochs=1, threads=1, min_count=1,
                      negative=1, sample=0)
    model.output_ns[1, 2] = np.inf
    for name, row in (("v.w2v", "output_ns row 1"),):
        path = tmp_path / name
        path.write_text("old")
        with pytest.raises(FormatError, match=row):
            model.save(path)
        assert path.read_text() == "old"
    model.input_vectors[2, 0] = np.nan
    for name in ("v.bin", "v.txt"):
        with pytest.raises(FormatError, match="vector row 2 .'c'. has a NaN"):
            model.save(tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == ["v.w2v"]


# ------------------------------------------------------------------ numbers
HUGE = 10 ** 30


@pytest.mark.parametrize("option", ["--min-count", "--max-vocab-size", "--max-sentence-length",
                                    "--phrase-min-count", "--size", "--window", "--negative",
                                    "--threads", "--iter", "--seed", "--hot-nodes", "--phrases"])
@pytest.mark.parametrize("value", [str(HUGE), str(2 ** 63), str(2 ** 31), "-1"])
def test_train_integer_options_out_of_range(tmp_path, corpus, option, value):
    out = tmp_path / "v.bin"
    result = run("train", corpus, "-o", out, "--size", "4", option, value, "-q")
    if value == str(2 ** 31) and option in ("--min-count", "--max-vocab-size",
                                            "--phrase-min-count", "--seed"):
        # inside the 64-bit range, so legal: trains (a min-count this high leaves no word)
        assert result.exit_code in (0, 1)
        return
    fails(result, {"--iter": "--epochs"}.get(option, option))
    assert not out.exists()


@pytest.mark.parametrize("option,value", [("--min-count", HUGE), ("--max-table-size", HUGE),
                                          ("--min-count", 2 ** 63), ("--max-table-size", -5),
                                          ("--passes", HUGE), ("--threshold", "nan"),
                                          ("--threshold", "inf")])
def test_phrases_options_out_of_range(tmp_path, corpus, option, value):
    fails(run("phrases", corpus, "-o", tmp_path / "p.txt", option, value), option)


@pytest.mark.parametrize("option,value", [("min_count", HUGE), ("max_vocab_size", 2 ** 64),
                                          ("max_sentence_length", 2 ** 31),
                                          ("max_word_bytes", 2 ** 40), ("phrase_min_count", HUGE),
                                          ("seed", -1), ("epochs", 10 ** 6), ("size", 2 ** 40),
                                          ("window", 2 ** 31), ("hs", "yes"), ("sg", 1),
                                          ("alpha", float("inf")), ("sample", float("nan")),
                                          ("min_count", 5.0),
                                          pytest.param("min_count", 10 ** 5000, id="5000-digits")])
def test_python_options_out_of_range_fail_before_reading(option, value):
    # the corpus is not even opened: validation comes first
    with pytest.raises(ConfigError, match=option.replace("_", "-")) as info:
        w2v.train("/nonexistent/corpus.txt", **{option: value})
    assert len(str(info.value)) < 300                        # a 5,000-digit value is cut


def test_numpy_integers_and_bools_are_accepted():
    cfg = TrainConfig.from_options(size=np.int64(12), min_count=np.int32(2), hs=np.bool_(True),
                                   max_vocab_size=np.uint64(INT64_MAX))
    assert (cfg.size, cfg.min_count, cfg.hs) == (12, 2, True)
    assert type(cfg.size) is int and type(cfg.hs) is bool


def test_phrases_api_bounds():
    with pytest.raises(ConfigError, match="max-word-bytes"):
        Phrases.learn([["a", "b"]], max_word_bytes=2 ** 40)
    with pytest.raises(ConfigError, match="max-table-size"):
        Phrases.learn([["a", "b"]], max_table_size=HUGE)
    with pytest.raises(ConfigError, match="cluster"):
        w2v.train([["a", "b"]], cluster=None or "", workers=2)
    with pytest.raises(ConfigError, match="sync-rows"):
        w2v.train([["a", "b"]], cluster="local", sync_rows=HUGE)


# ------------------------------------------------------------------ phrase tables
@pytest.fixture(scope="module")
def table(tmp_path_factory):
    sentences = [["new", "york", "is", "big"], ["in", "new", "york", "now"]] * 40
    found = Phrases.learn(sentences, min_count=2, threshold=1)
    assert ("new", "york") in found.tables[0].pairs
    return found.to_dict()


def corrupt(table, edit):
    data = json.loads(json.dumps(table))
    edit(data)
    return data


def set_in(*path_and_value):
    *path, value = path_and_value

    def edit(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


BAD_TABLES = [
    ("passes not a list", set_in("passes", {"a": 1}), "'passes' must be a list"),
    ("pass not an object", set_in("passes", 0, [1, 2]), "pass 1: expected an object"),
    ("row too short", set_in("passes", 0, "phrases", 0, ["new", "york"]), "phrase #1"),
    ("word not a string", set_in("passes", 0, "phrases", 0, 0, 7), "non-empty string"),
    ("empty word", set_in("passes", 0, "phrases", 0, 0, ""), "non-empty string"),
    ("word with a space", set_in("passes", 0, "phrases", 0, 1, "yo rk"), "whitespace"),
    ("lone surrogate", set_in("passes", 0, "phrases", 0, 1, "\ud800"), "cannot be encoded"),
    ("word too long", set_in("passes", 0, "phrases", 0, 0, "x" * 1001), "max_word_bytes"),
    ("negative count", set_in("passes", 0, "phrases", 0, 2, -1), "count must be"),
    ("count past int64", set_in("passes", 0, "phrases", 0, 3, 2 ** 64), "count must be"),
    ("float count", set_in("passes", 0, "phrases", 0, 4, 1.5), "count must be"),
    ("score a string", set_in("passes", 0, "phrases", 0, 5, "high"), "finite number"),
    ("total_words missing", lambda d: d["passes"][0].pop("total_words"), "'total_words' is missing"),
    ("total_words a float", set_in("passes", 0, "total_words", 1e400), "'total_words' must be"),
    ("pruned a string", set_in("passes", 0, "pruned", "no"), "'pruned' must be true or false"),
    ("scoring unknown", set_in("scoring", "best"), "scoring"),
    ("scoring a list", set_in("scoring", ["default"]), "'scoring' must be a string"),
    ("threshold a string", set_in("threshold", "1"), "'threshold' must be a number"),
    ("min_count huge", set_in("min_count", 10 ** 30), "min-count"),
    ("max_word_bytes huge", set_in("max_word_bytes", 10 ** 30), "max-word-bytes"),
    ("max_word_bytes zero", set_in("max_word_bytes", 0), "max-word-bytes"),
    ("eleven passes", lambda d: d["passes"].extend(d["passes"] * 10), "passes"),
    ("version a string", set_in("version", "1"), "version '1' is not supported"),
    ("version true", set_in("version", True), "version True is not supported"),
]


@pytest.mark.parametrize("name,edit,message", BAD_TABLES, ids=[b[0] for b in BAD_TABLES])
def test_corrupt_phrase_tables_raise_format_error_naming_the_field(tmp_path, table, name, edit,
                                                                    message):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(corrupt(table, edit)))
    with pytest.raises(FormatError) as info:
        Phrases.load(path)
    assert message in str(info.value)


def test_phrase_table_files_that_are_not_json(tmp_path, table):
    cases = {"deep.json": b"[" * 100_000 + b"]" * 100_000,
             "utf8.json": b'{"format": "w2v-phrases\xff"}',
             "bigint.json": b'{"format": "w2v-phrases", "version": ' + b"9" * 5000 + b"}",
             "nan.json": json.dumps(corrupt(table, set_in("threshold", float("nan")))).encode(),
             "inf.json": json.dumps(corrupt(table, set_in("passes", 0, "phrases", 0, 5,
                                                          float("inf")))).encode()}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FormatError):
            Phrases.load(tmp_path / name)
    with pytest.raises(FormatError, match="cannot read"):
        Phrases.load(tmp_path)                                   # a directory
    with pytest.raises(FormatError, match="not found"):
        Phrases.load(tmp_path / "missing.json")
    with pytest.raises(ArgumentError):
        Phrases.load(None)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=10)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_json_value_in_any_field_loads_or_raises_format_error(tmp_path, table, data):
    doc = json.loads(json.dumps(table))
    # walk to a random node and replace it with arbitrary JSON
    node, key = doc, None
    for _ in range(data.draw(st.integers(1, 5))):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        if not isinstance(node[key], (dict, list)):
            break
        node, key = node[key], None
        if isinstance(node, (dict, list)) and not node:
            break
    if key is not None:
        node[key] = data.draw(JSON)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    try:
        loaded = Phrases.load(path)
    except FormatError:
        return
    loaded.apply(["new", "york", "is", "big"])        # whatever loads also works


# ------------------------------------------------------------------ argument types
@pytest.fixture(scope="module")
def vecs():
    return Vectors(["a", "b", "c", "d"], np.arange(16, dtype=np.float32).reshape(4, 4) + 1)


@pytest.mark.parametrize("call,message", [
    (lambda v: w2v.load(None), "path must be a file path"),
    (lambda v: w2v.load(3.5), "got float 3.5"),
    (lambda v: w2v.load_model(None), "path must be a file path"),
    (lambda v: v.most_similar(42), "positive: expected a word"),
    (lambda v: v.most_similar("a", negative=7), "negative: expected a word"),
    (lambda v: v.most_similar([None]), "expected a word (str) or a vector"),
    (lambda v: v.most_similar([["x"]]), "vector of real numbers"),
    (lambda v: v.most_similar_cosmul(3), "positive"),
    (lambda v: v[5], "use .matrix[i] for row i"),
    (lambda v: v[[0, 1]], "list of words"),
    (lambda v: v[None], "got NoneType"),
    (lambda v: v.similarity("a", 2), "similarity"),
    (lambda v: v.most_similar_batch(3), "queries"),
    (lambda v: v.doesnt_match(7), "doesnt_match"),
    (lambda v: v.analogy(5), "analogy"),
    (lambda v: v.save(None), "path must be a file path"),
    (lambda v: w2v.io.save("x.bin", object()), "cannot save object"),
])
def test_wrong_argument_types_raise_argument_error(vecs, call, message):
    with pytest.raises(ArgumentError) as info:
        call(vecs)
    assert message in str(info.value)
    assert isinstance(info.value, TypeError) and isinstance(info.value, W2VError)


def test_membership_and_get_never_raise_for_odd_keys(vecs):
    assert [1] not in vecs and 5 not in vecs and None not in vecs and "a" in vecs
    assert vecs.get([1]) is None and vecs.get(5, "d") == "d"


# ------------------------------------------------------------------ neighbours (own search)
def test_dev_stdout_honours_the_shells_append(tmp_path, vectors_file):
    """`w2v convert v.bin /dev/stdout --format txt >> log` appends, like any Unix tool;
    the path is written through the open descriptor, never renamed over."""
    import subprocess
    import sys
    log = tmp_path / "log.txt"
    log.write_text("EARLIER\n")
    with open(log, "ab") as out:
        subprocess.run([sys.executable, "-m", "w2v", "convert", str(vectors_file), "/dev/stdout",
                        "--format", "txt"], stdout=out, check=True, timeout=120, cwd=tmp_path)
    text = log.read_text()
    assert text.startswith("EARLIER\n") and text.count("\n") == len(w2v.load(vectors_file)) + 2
    piped = subprocess.run([sys.executable, "-m", "w2v", "convert", str(vectors_file),
                            "/dev/stdout", "--format", "txt"], stdout=subprocess.PIPE,
                           check=True, timeout=120, cwd=tmp_path).stdout
    assert piped.decode() == text[len("EARLIER\n"):]
    assert sorted(os.listdir(tmp_path)) == ["log.txt"]


def test_python_writers_check_the_path_first(tmp_path, vecs):
    for bad, message in ((tmp_path / "missing" / "x.bin", "folder does not exist"),
                         (tmp_path, "directory"), (str(tmp_path / "new") + os.sep, "names a folder"),
                         (str(tmp_path / "a\0b.bin"), "NUL character")):
        with pytest.raises((OutputError, ArgumentError), match=message):
            vecs.save(bad, format="bin")
    with pytest.raises(OutputError, match="directory"):
        Phrases().save(tmp_path)
    assert os.listdir(tmp_path) == []


def test_demo_never_overwrites_a_users_files(tmp_path):
    (tmp_path / "vectors.bin").write_text("precious")
    fails(run("demo", "--out-dir", tmp_path), "already holds vectors.bin")
    assert (tmp_path / "vectors.bin").read_text() == "precious"
    assert os.listdir(tmp_path) == ["vectors.bin"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        w2v.demo.run_demo(out_dir=str(tmp_path / "file"))


def test_pipes_and_devices_as_vectors_or_evaluation_files_are_clear_errors(tmp_path,
                                                                          vectors_file):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # no writer is attached: a reader that opened the FIFO would hang here
    fails(run("similar", "x", "-m", fifo), "not a regular file")
    fails(run("info", "-m", "/dev/zero"), "not a regular file")
    fails(run("evaluate", "-m", vectors_file, "--similarity", "/dev/zero"), "not a regular file")
    assert os.listdir(tmp_path) == ["fifo"]


def test_nul_bytes_anywhere_in_the_corpus_are_refused(tmp_path):
    path = tmp_path / "nul.txt"
    path.write_bytes(b"the cat sat on the mat\n" * 5000 + b"\0" * 100 + b"x\n")
    fails(run("train", path, "-o", tmp_path / "v.bin", "--min-count", "1"),
          "NUL byte at byte 115,000")


def test_subsampling_that_drops_every_word_is_an_error_not_a_silent_nan(corpus):
    with pytest.raises(w2v.CorpusError, match="no example.*--sample 1e-300"):
        w2v.train(str(corpus), sample=1e-300, epochs=1, threads=1, min_count=1)
    with pytest.raises(w2v.CorpusError, match="no example"):
        w2v.train([["one"], ["two"], ["one"]], min_count=1, negative=1, sample=0)


def test_unused_settings_are_still_checked(tmp_path, corpus):
    with pytest.raises(ConfigError, match="phrase-scoring"):
        w2v.train(str(corpus), phrase_scoring="x")
    with pytest.raises(ConfigError, match="phrase-threshold"):
        w2v.train(str(corpus), phrase_threshold=float("nan"))
    for option, value in (("--workers", "-1"), ("--sync-period", "nan"), ("--sync-rows", "0")):
        fails(run("train", corpus, "-o", tmp_path / "v.bin", option, value), option)


@pytest.mark.parametrize("call,error,message", [
    (lambda v, p: w2v.evaluate.evaluate_analogies(v, p, restrict_vocab=float("inf")),
     ConfigError, "restrict_vocab"),
    (lambda v, p: w2v.evaluate.evaluate_similarity(v, p, restrict_vocab=True), ConfigError,
     "restrict_vocab"),
    (lambda v, p: w2v.evaluate.evaluate_analogies(v, p, threads="x"), ConfigError, "threads"),
    (lambda v, p: w2v.evaluate.evaluate_analogies(v, None), ArgumentError, "path"),
    (lambda v, p: w2v.evaluate.evaluate_similarity(None, p), ArgumentError, "vectors"),
    (lambda v, p: w2v.word_classes(None, 2), ArgumentError, "vectors"),
    (lambda v, p: v.most_similar("a", topn=True), ConfigError, "topn"),
    (lambda v, p: v.most_similar("a", restrict_vocab=True), ConfigError, "restrict_vocab"),
    (lambda v, p: v.most_similar(np.array([np.nan] * 4)), ConfigError, "NaN"),
    (lambda v, p: v.most_similar(np.array(["x"] * 4)), ArgumentError, "real numbers"),
    (lambda v, p: v.most_similar_batch(np.array([["x"] * 4])), ArgumentError, "real numbers"),
    (lambda v, p: Vectors(None, np.zeros((1, 4))), ArgumentError, "words"),
    (lambda v, p: Vectors(["a"], "x"), ArgumentError, "real numbers"),
    (lambda v, p: Vectors(["a"], np.zeros((1, 0))), FormatError, "at least one column"),
    (lambda v, p: Vectors(["a"], np.zeros((1, 2)), counts=[10 ** 30]), ArgumentError, "counts"),
    (lambda v, p: w2v.train([["a", "b"]] * 9, progress="x"), ArgumentError, "progress"),
    (lambda v, p: w2v.train([["a", "b"]] * 9, callbacks=print), ArgumentError, "callbacks"),
    (lambda v, p: w2v.train([["a", "b"]] * 9, callbacks=[5]), ArgumentError, "callbacks"),
    (lambda v, p: Phrases.learn([["a", "b"]], progress="x"), ArgumentError, "progress"),
    (lambda v, p: Phrases().apply(None), ArgumentError, "apply"),
    (lambda v, p: Phrases().apply(b"a b"), ArgumentError, "apply"),
    (lambda v, p: Phrases().apply([["a"]]), ArgumentError, "apply"),
    (lambda v, p: Phrases(tables="x"), ArgumentError, "tables"),
    (lambda v, p: w2v.load(p, mmap="x"), ConfigError, "mmap"),
    (lambda v, p: Vectors(["\udcff"], np.ones((1, 2))).save(p.parent / "s.bin"), FormatError,
     "surrogate"),
    (lambda v, p: Vectors(["\udcff"], np.ones((1, 2))).save(p.parent / "s.w2v"), FormatError,
     "surrogate"),
    (lambda v, p: w2v.classes.write_classes(p.parent / "c.txt", ["a", "b"], [0]), ArgumentError,
     "one integer class per word"),
])
def test_more_wrong_arguments(tmp_path, vecs, call, error, message):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("a b 1\nc d 2\na c 3\n: s\na b c d\n")
    with pytest.raises(error, match=message):
        call(vecs, pairs)
    assert sorted(os.listdir(tmp_path)) == ["pairs.txt"]


def test_hostile_class_files(tmp_path):
    for name, content in (("sup.txt", "king \u00b2\n"), ("dash.txt", "king --5\n"),
                          ("long.txt", "king " + "9" * 5000 + "\n")):
        (tmp_path / name).write_text(content)
        with pytest.raises(FormatError, match="expected 'word class'"):
            w2v.classes.read_classes(tmp_path / name)
    with pytest.raises(FormatError, match="cannot read"):
        w2v.classes.read_classes(tmp_path)
    with pytest.raises(ArgumentError):
        w2v.classes.read_classes(None)
    (tmp_path / "ok.txt").write_text("king 0\nqueen -1\n")
    assert w2v.classes.read_classes(tmp_path / "ok.txt") == {"king": 0, "queen": -1}


def test_a_phrase_score_past_float_range_is_a_format_error(tmp_path, table):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(corrupt(table, set_in("passes", 0, "phrases", 0, 5, 10 ** 400))))
    with pytest.raises(FormatError, match="finite number"):
        Phrases.load(path)


def test_submodules_are_attributes_of_the_package():
    # (run from tests/: from the checkout's root, its uncompiled w2v/ would be imported)
    import importlib
    import subprocess
    import sys
    code = "import w2v; print(w2v.evaluate.__name__, w2v.classes.__name__, w2v.Vectors.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.abspath(__file__)))
    assert out.stdout.split() == ["w2v.evaluate", "w2v.classes", "Vectors"]
    assert importlib.import_module("w2v").io is w2v.io


def test_python_tokens_with_whitespace():
    for bad in ("a b", "", "tab\there"):
        with pytest.raises(w2v.CorpusError, match="empty or contains ASCII whitespace"):
            w2v.train([["x", bad, "y"]] * 10, min_count=1)
    model = w2v.train([["a\u00a0b", "c", "d"]] * 100, min_count=1, sample=0, negative=1, threads=1)
    assert "a\u00a0b" in model.words          # the tokenizer splits on ASCII whitespace only
