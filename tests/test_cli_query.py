"""The query commands, through click's test runner (needs the installed package: w2v.cli)."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from w2v import io
from w2v.cli import query
from w2v.config import TrainConfig
from w2v.model import Model
from w2v.vectors import Vectors


def planted():
    royal, male, female, person, fruit, other = np.eye(6, dtype=np.float32)
    words = {
        "man": person + male, "woman": person + female,
        "king": person + male + 2 * royal, "queen": person + female + 2 * royal,
        "apple": fruit, "apples": fruit + 0.5 * other, "pear": fruit + 0.2 * person,
        "pears": fruit + 0.2 * person + 0.5 * other,
    }
    return Vectors(list(words), np.array(list(words.values())))


@pytest.fixture
def vectors_bin(tmp_path):
    path = tmp_path / "v.bin"
    planted().save(path)
    return str(path)


def run(*args):
    cmd = {c.name: c for c in query.COMMANDS}[args[0]]
    return CliRunner().invoke(cmd, [str(a) for a in args[1:]])


def test_commands_exported():
    assert [c.name for c in query.COMMANDS] == ["analogy", "similar", "evaluate", "convert",
                                                 "info", "plot"]


@pytest.mark.parametrize("expr", [["king-man+woman"], ["king", "-", "man", "+", "woman"]])
def test_analogy(vectors_bin, expr):
    r = run("analogy", *expr, "-m", vectors_bin, "--topn", "2")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) == 2 and lines[0].split()[1] == "queen"
    r = run("analogy", *expr, "-m", vectors_bin, "--json", "--method", "mul")
    data = json.loads(r.output)
    assert data["positive"] == ["king", "woman"] and data["negative"] == ["man"]
    assert data["results"][0]["word"] == "queen" and len(data["results"]) == 8 - 3


def test_similar(vectors_bin):
    r = run("similar", "apple", "king", "-m", vectors_bin, "--topn", "1", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["apple"][0]["word"] == "pear" and data["king"][0]["word"] == "queen"
    r = run("similar", "apple", "-m", vectors_bin, "--topn", "3")
    assert r.output.splitlines()[0].split()[1] == "pear"


def test_unknown_word_is_one_line_error(vectors_bin):
    r = run("similar", "apple", "unicorn", "dragon", "-m", vectors_bin)
    assert r.exit_code == 1
    assert r.output.strip() == "Error: not in vocabulary: 'unicorn', 'dragon'"
    r = run("analogy", "king-unicorn", "-m", vectors_bin)
    assert r.exit_code == 1 and "'unicorn'" in r.output


def test_bad_files_are_one_line_errors(tmp_path):
    (tmp_path / "bad.bin").write_bytes(b"10 10\nshort")
    for cmd in (["similar", "x"], ["analogy", "a-b+c"], ["info"]):
        r = run(*cmd, "-m", tmp_path / "bad.bin")
        assert r.exit_code == 1 and r.output.startswith("Error: ") and r.output.count("\n") == 1
    r = run("info", "-m", tmp_path / "missing.bin")
    assert r.exit_code == 1 and "no such file" in r.output


def test_evaluate_table_and_json(vectors_bin, tmp_path):
    q = tmp_path / "q.txt"
    q.write_text(": family\nman woman king queen\nman woman apple queen\nman woman x y\n"
                 ": gram-plural\napple apples pear pears\n")
    s = tmp_path / "s.tsv"
    s.write_text("man\twoman\t5\nking\tqueen\t6\napple\tking\t1\nfoo\tbar\t2\n")
    r = run("evaluate", "-m", vectors_bin, "--analogies", q, "--similarity", s)
    assert r.exit_code == 0, r.output
    assert "family" in r.output and "gram-plural" in r.output and "66.67%" in r.output
    assert "25.0%" in r.output                     # oov ratio of the pairs
    r = run("evaluate", "-m", vectors_bin, "--analogies", q, "--similarity", s, "--json")
    data = json.loads(r.output)
    a = data["analogies"][0]
    assert (a["correct"], a["seen"], a["skipped"], a["total"]) == (2, 3, 1, 4)
    assert data["similarity"][0]["pairs"] == 3
    r = run("evaluate", "-m", vectors_bin)
    assert r.exit_code != 0


def test_convert_between_formats(vectors_bin, tmp_path):
    for name in ("v.txt", "v.w2v", "v.vec", "back.bin"):
        src = vectors_bin if name != "back.bin" else tmp_path / "v.w2v"
        r = run("convert", src, tmp_path / name)
        assert r.exit_code == 0, r.output
        np.testing.assert_array_equal(io.load(tmp_path / name).matrix, planted().matrix)
    r = run("convert", vectors_bin, tmp_path / "v.npy")
    assert r.exit_code == 1 and ".w2v" in r.output


def test_convert_keeps_model_weights(tmp_path):
    rng = np.random.default_rng(0)
    m = Model(TrainConfig(size=4), ["a", "b", "c"], [3, 2, 1],
              rng.random((3, 4), dtype=np.float32), rng.random((3, 4), dtype=np.float32))
    m.save(tmp_path / "m.w2v")
    assert run("convert", tmp_path / "m.w2v", tmp_path / "copy.w2v").exit_code == 0
    np.testing.assert_array_equal(io.load_model(tmp_path / "copy.w2v").output_ns, m.output_ns)


def test_info(vectors_bin, tmp_path):
    r = run("info", "-m", vectors_bin, "--json")
    data = json.loads(r.output)
    assert (data["format"], data["vocab_size"], data["dim"]) == ("bin", 8, 6)
    m = Model(TrainConfig(size=6, sg=True), planted().words, np.arange(8, 0, -1),
              planted().matrix, epoch_losses=[1.5])
    m.save(tmp_path / "m.w2v")
    r = run("info", "-m", tmp_path / "m.w2v")
    assert r.exit_code == 0, r.output
    assert "w2v model file" in r.output and "sg=True" in r.output and "1.5000" in r.output


def test_plot_writes_png(vectors_bin, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib (optional extra) is not installed")
    out = tmp_path / "p.png"
    r = run("plot", "-m", vectors_bin, "king", "apple", "-o", out, "--topn", "2")
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_is_a_clear_error(vectors_bin, tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    r = run("plot", "-m", vectors_bin, "king", "-o", tmp_path / "p.png")
    assert r.exit_code == 1
    assert r.output.strip() == "Error: w2v plot needs matplotlib: pip install matplotlib"
    assert not (tmp_path / "p.png").exists()


def test_train_options_take_the_library_defaults():
    """One place for defaults: every `w2v train` option named after a TrainConfig or
    ClusterConfig field defaults to that field's value, and every choice list is the
    library's, so the CLI and w2v.train() cannot drift apart."""
    import dataclasses
    from w2v.cli.main import train
    from w2v.config import (ENCODING_ERRORS, SYNC_BACKENDS, SYNC_RULES, ClusterConfig,
                            parse_subword_range)
    library = {**dataclasses.asdict(ClusterConfig()), **dataclasses.asdict(TrainConfig())}
    library["cbow"] = not TrainConfig().sg
    checked = 0
    for param in train.params:
        # --threads-per-worker's default is "--threads" (the same default unless --threads is given)
        if param.name in library and param.name != "threads_per_worker":
            default = param.default
            if param.name == "subwords":          # given as text (MIN-MAX or 0)
                default = parse_subword_range(default)
            assert default == library[param.name], param.name
            checked += 1
    assert checked >= 30, checked         # the options really were compared
    choices = {p.name: tuple(p.type.choices) for p in train.params if hasattr(p.type, "choices")}
    assert choices["encoding_errors"] == ENCODING_ERRORS
    assert choices["sync_backend"] == SYNC_BACKENDS and choices["sync_rule"] == SYNC_RULES
    assert ClusterConfig().threads_per_worker == TrainConfig().threads
