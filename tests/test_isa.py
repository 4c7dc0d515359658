"""Instruction-set dispatch (w2v/isa.py): every level built here trains the same
vectors (to float rounding: FMA and wider sums round differently), the baseline
build holds no AVX instruction, a forced level is loaded or refused clearly."""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import w2v
from w2v import isa
from w2v.errors import BuildError

from conftest import write_lines
from w2v.demo import generate_sentences

BUILT = [level.name for level in isa.built_levels()]
RUNNABLE = [level.name for level in isa.built_levels() if isa.runs_here(level, isa.cpu_features())]
X86 = {level.name: level for level in isa.X86_LEVELS}

TRAIN = ("import sys, numpy as np, w2v, w2v._core as core; "
         "m = w2v.train(sys.argv[1], threads=1, seed=5, epochs=2, size=32, min_count=1, "
         "sg=sys.argv[3] == 'sg', hs=sys.argv[4] == 'hs', negative=0 if sys.argv[4] == 'hs' else 5); "
         "np.savez(sys.argv[2], **{k: v for k, v in m.weights.items() if v is not None}); "
         "print(core.__file__)")


def _train_with(level, corpus, out, sg, hs, tmp_path):
    env = dict(os.environ, W2V_ISA=level)
    run = subprocess.run([sys.executable, "-c", TRAIN, corpus, str(out), sg, hs], env=env,
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip(), dict(np.load(out))


def test_the_selected_build_is_the_one_imported():
    from w2v import _core
    level = isa.select()
    assert _core.__name__ == "w2v._core"
    assert os.path.samefile(_core.__file__, isa.core_file(level.name))
    assert level.name in RUNNABLE
    # the best runnable level wins: nothing built ahead of it runs here
    assert BUILT.index(level.name) == min(BUILT.index(name) for name in RUNNABLE)


@pytest.mark.skipif(len(RUNNABLE) < 2, reason=f"only one core build runs here ({RUNNABLE})")
@pytest.mark.parametrize("sg,hs", [("cbow", "ns"), ("sg", "ns"), ("cbow", "hs"), ("sg", "hs")])
def test_every_level_trains_the_same_vectors(tmp_path, sg, hs):
    corpus = write_lines(tmp_path / "planted.txt", generate_sentences(8000, seed=0))
    results = {}
    for level in RUNNABLE:
        where, weights = _train_with(level, corpus, tmp_path / f"{level}.npz", sg, hs, tmp_path)
        assert os.path.samefile(where, isa.core_file(level)), (level, where)
        results[level] = weights
    reference = results[RUNNABLE[-1]]                     # the least demanding build
    for level, weights in results.items():
        assert weights.keys() == reference.keys()
        for name, matrix in weights.items():
            # measured: at most 2.5e-5 apart after 2 epochs (weights up to ~4 in size);
            # a kernel that computed anything else would be off by orders of magnitude
            np.testing.assert_allclose(matrix, reference[name], rtol=0, atol=1e-3,
                                       err_msg=f"{level} vs {RUNNABLE[-1]}: {name}")
    best = results[RUNNABLE[0]]
    assert any(not np.array_equal(best[n], reference[n]) for n in reference), \
        f"{RUNNABLE[0]} and {RUNNABLE[-1]} gave bit-identical weights: was the build switched?"


def test_select_picks_the_best_level_the_cpu_runs():
    built = list(isa.X86_LEVELS)
    everything = {f: True for f in ("sse2", "avx", "avx2", "fma", "avx512f", "avx512cd",
                                    "avx512bw", "avx512dq", "avx512vl")}
    assert isa.select({}, everything, built).name == "avx512"
    no512 = dict(everything, avx512bw=False)
    assert isa.select({}, no512, built).name == "avx2"
    no_fma = dict(no512, fma=False)                      # AVX2 without FMA is not enough
    assert isa.select({}, no_fma, built).name == "baseline"
    assert isa.select({}, {}, built).name == "baseline"
    assert isa.select({"W2V_ISA": "auto"}, no512, built).name == "avx2"
    assert isa.select({"W2V_ISA": " AVX2 "}, everything, built).name == "avx2"


def test_a_forced_level_that_cannot_run_is_refused():
    built = list(isa.X86_LEVELS)
    with pytest.raises(BuildError, match=r"W2V_ISA=avx512: this CPU lacks avx512f.*can run: "
                                         r"avx2, baseline"):
        isa.select({"W2V_ISA": "avx512"}, {"avx": True, "avx2": True, "fma": True}, built)
    with pytest.raises(BuildError, match="no such build here"):
        isa.select({"W2V_ISA": "sse5"}, {}, built)
    with pytest.raises(BuildError, match="no such build here"):
        isa.select({"W2V_ISA": "avx2"}, {}, [X86["baseline"]])
    with pytest.raises(BuildError, match="compiled core is not built .*_isa.*pip install"):
        isa.select({}, {}, [])
    with pytest.raises(ImportError):                     # BuildError is an ImportError too
        isa.select({}, {}, [])


def test_cli_info_build_reports_the_level(tmp_path):
    env = dict(os.environ)
    env.pop("W2V_ISA", None)
    run = subprocess.run([sys.executable, "-m", "w2v", "info", "--build", "--json"],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["selected"] == isa.select().name and data["forced"] is None
    assert data["built"] == BUILT and data["runnable"] == RUNNABLE
    forced = RUNNABLE[-1]
    run = subprocess.run([sys.executable, "-m", "w2v", "info", "--build"], capture_output=True,
                         text=True, env=dict(env, W2V_ISA=forced), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"core:        {forced}: ")
    assert f"forced by W2V_ISA={forced}" in run.stdout


def test_cli_refuses_a_bad_forced_level_in_one_line(tmp_path):
    corpus = write_lines(tmp_path / "c.txt", generate_sentences(200, seed=0))
    run = subprocess.run([sys.executable, "-m", "w2v", "train", corpus, "-o",
                          str(tmp_path / "v.bin")], capture_output=True, text=True,
                         env=dict(os.environ, W2V_ISA="sse5"), cwd=tmp_path)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"Error: W2V_ISA=sse5: no such build here (built: {', '.join(BUILT)}; or 'auto')"]
    assert not (tmp_path / "v.bin").exists()


def _disassembly(level):
    path = isa.core_file(level)
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True,
                         text=True, check=True).stdout
    return [line.split("\t", 1)[1] for line in out.splitlines()
            if re.match(r"\s+[0-9a-f]+:\t", line) and "\t" in line.strip()]


needs_objdump = pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump not installed")


@needs_objdump
@pytest.mark.skipif("baseline" not in BUILT, reason="no baseline x86-64 build here")
def test_baseline_build_has_no_avx_instruction():
    code = _disassembly("baseline")
    assert len(code) > 10_000                              # it did disassemble the core
    avx = [ins for ins in code if re.search(r"%[yz]mm|%k[0-7]", ins) or re.match(r"v[a-z]", ins)]
    assert avx == [], avx[:5]                              # VEX/EVEX-encoded: AVX and later
    assert any(re.search(r"%xmm", ins) for ins in code)    # SSE2 is used


@needs_objdump
@pytest.mark.skipif(not {"avx2", "avx512"} <= set(BUILT), reason="the x86-64 levels are not built")
def test_the_wider_levels_use_their_instructions():
    avx2 = _disassembly("avx2")
    assert any(ins.startswith("vfmadd") for ins in avx2)
    assert any("%ymm" in ins for ins in avx2)
    assert not any(re.search(r"%zmm|%k[0-7]", ins) for ins in avx2)
    avx512 = _disassembly("avx512")
    assert any(re.search(r"%zmm|%k[1-7]", ins) for ins in avx512)


def test_import_w2v_loads_no_core(tmp_path):
    code = ("import sys, w2v; assert 'w2v._core' not in sys.modules; "
            "from w2v import _core; print(_core.__file__)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert os.path.samefile(run.stdout.strip(), isa.core_file(isa.select().name))
    assert w2v.BuildError is BuildError


def test_which_levels_setup_builds():
    names = lambda machine, msvc=False, **env: [lv.name for lv in isa.levels_to_build(machine, msvc, env)]
    assert names("x86_64") == ["avx512", "avx2", "baseline"]
    assert names("AMD64") == ["avx512", "avx2", "baseline"]
    assert names("aarch64") == ["generic"]                 # builds from source, one target
    assert names("arm64") == names("ppc64le") == ["generic"]
    assert names("x86_64", msvc=True) == ["generic"]
    assert names("x86_64", W2V_PORTABLE="1") == names("x86_64", W2V_DEBUG="1") == ["baseline"]
    assert names("x86_64", W2V_PORTABLE="0") == ["avx512", "avx2", "baseline"]
    assert names("x86_64", W2V_NATIVE="1") == names("aarch64", W2V_NATIVE="1") == ["native"]
    assert isa.GENERIC.flags == () and "-march=native" in isa.NATIVE.flags
