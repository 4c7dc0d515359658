#!/usr/bin/env python3
"""Compare w2v with the anchors (the C tool, gensim, fastText) on one corpus.

Each (mode, tool) pair trains in its own process, one after another, with the
same corpus and hyperparameters. The harness measures that process's wall time
and peak RSS (``os.wait4`` rusage), then evaluates the saved vectors in a
separate process so that evaluation never counts against a tool.

    python bench/bench.py --modes sg-ns,cbow-ns,sg-hs,cbow-hs --tools w2v,c,gensim,fasttext \\
        --threads 2 --markdown

Words/s is ``corpus tokens x epochs / wall time`` of the whole process
(interpreter start-up and the vocabulary pass included), with the tokens
counted once by the harness. See bench/README.md.

The runner functions (:func:`prepare_corpus`, :func:`tool_command`,
:func:`run_measured`, :func:`run_one`, :func:`machine_info`) are imported by
bench/scaling.py and bench/vocab_speed.py.
"""
from __future__ import annotations

import argparse
import bz2
import datetime
import gzip
import hashlib
import json
import lzma
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
SHARED_DIR = REPO_DIR.parent / "shared"
DEFAULT_CORPUS = SHARED_DIR / "data/corpus/enwiki70m.txt.xz"
EVAL_DIR = SHARED_DIR / "data/eval"
CACHE_DIR = BENCH_DIR / ".cache"
RESULTS_DIR = BENCH_DIR / "results"
DRIVERS_DIR = BENCH_DIR / "drivers"

DEFAULT_LINES = 6376          # the text8-sized prefix of enwiki70m: 17,006,734 tokens

TOOLS = ("w2v", "c", "gensim", "fasttext")
ANCHORS = ("c", "gensim", "fasttext")
TOOL_LABELS = {"w2v": "w2v", "c": "C tool", "gensim": "gensim", "fasttext": "fastText"}


@dataclass(frozen=True)
class Mode:
    name: str
    skip_gram: bool
    hierarchical_softmax: bool


MODES = {m.name: m for m in (Mode("sg-ns", True, False), Mode("cbow-ns", False, False),
                             Mode("sg-hs", True, True), Mode("cbow-hs", False, True))}


@dataclass(frozen=True)
class Settings:
    """Hyperparameters shared by every tool (mapped per tool in :func:`tool_command`)."""
    size: int = 100
    window: int = 5
    negative: int = 5             # for the -ns modes; the -hs modes always use 0
    sample: float = 1e-3
    min_count: int = 5
    epochs: int = 5
    threads: int = 2
    alpha_sg: float = 0.025
    alpha_cbow: float = 0.05

    def alpha(self, mode: Mode) -> float:
        return self.alpha_sg if mode.skip_gram else self.alpha_cbow

    def negative_for(self, mode: Mode) -> int:
        return 0 if mode.hierarchical_softmax else self.negative


class ToolUnavailable(Exception):
    """The tool is not installed here; its rows are skipped with this message."""


# ---------------------------------------------------------------------------------------------
# Corpus: a cached plain-text file and its token count

@dataclass
class Corpus:
    path: Path
    source: str                   # what it was made from
    prefix: str                   # "all", "lines=N" or "tokens=N"
    bytes: int
    lines: int
    tokens: int                   # whitespace-separated tokens (newlines are not tokens)


_OPENERS = {".xz": lzma.open, ".gz": gzip.open, ".bz2": bz2.open}


def _cache_stem(source: Path) -> str:
    name = source.name
    for ext in _OPENERS:
        if name.endswith(ext):
            name = name[: -len(ext)]
    if name.endswith(".txt"):
        name = name[:-4]
    if source.resolve() == DEFAULT_CORPUS.resolve():
        return name
    return f"{name}-{hashlib.sha1(str(source.resolve()).encode()).hexdigest()[:8]}"


def prepare_corpus(corpus: Optional[str] = None, lines: Optional[int] = None,
                   tokens: Optional[int] = None, echo=print) -> Corpus:
    """Return a plain-text corpus, decompressing/cutting it once into bench/.cache/.

    ``corpus`` defaults to shared/data/corpus/enwiki70m.txt.xz. ``lines=N`` keeps the
    first N lines; ``tokens=N`` keeps whole lines up to and including the first
    line that brings the count to N (the rule used for shared/data/corpus/small.txt).
    A plain-text file with no prefix asked for is used where it is.
    """
    if lines is not None and tokens is not None:
        raise ValueError("give lines or tokens, not both")
    source = Path(corpus) if corpus else DEFAULT_CORPUS
    if not source.is_file():
        raise FileNotFoundError(f"corpus not found: {source}")
    compressed = source.suffix in _OPENERS
    prefix = "all" if lines is None and tokens is None else (
        f"lines={lines}" if lines is not None else f"tokens={tokens}")
    if not compressed and prefix == "all":
        path = source
    else:
        suffix = "" if prefix == "all" else "." + prefix.replace("=", "")
        path = CACHE_DIR / f"{_cache_stem(source)}{suffix}.txt"
        if not path.is_file():
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            echo(f"[bench] writing {path.relative_to(REPO_DIR)} from {source} ({prefix}) ...")
            _write_prefix(source, path, lines, tokens)
    n_tokens, n_lines = count_tokens(path)
    return Corpus(path=path, source=str(source), prefix=prefix, bytes=path.stat().st_size,
                  lines=n_lines, tokens=n_tokens)


def _write_prefix(source: Path, path: Path, lines: Optional[int], tokens: Optional[int]) -> None:
    opener = _OPENERS.get(source.suffix, open)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        with opener(source, "rb") as fin, open(tmp, "wb") as fout:
            if lines is None and tokens is None:
                shutil.copyfileobj(fin, fout, 1 << 24)
            else:
                n_lines = n_tokens = 0
                for line in fin:
                    if (lines is not None and n_lines >= lines) or \
                            (tokens is not None and n_tokens >= tokens):
                        break
                    fout.write(line)
                    n_lines += 1
                    n_tokens += len(line.split())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[list(b" \t\n\r\x0b\x0c")] = True       # what bytes.split() splits on


def count_tokens(path: Path, chunk_bytes: int = 1 << 26) -> Tuple[int, int]:
    """(tokens, lines) of a text file, streamed with numpy (``wc -w`` style); cached.

    A token is a maximal run of non-whitespace bytes, as for ``bytes.split()``;
    a last line without a final newline still counts as a line.
    """
    path = Path(path)
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    memo = CACHE_DIR / "counts" / f"{key}.json"
    if memo.is_file():
        saved = json.loads(memo.read_text())
        return saved["tokens"], saved["lines"]
    n_tokens = n_lines = 0
    prev_space = True
    last_byte = b"\n"
    with open(path, "rb") as f:
        while True:
            chunk = f.read(chunk_bytes)
            if not chunk:
                break
            space = _WHITESPACE[np.frombuffer(chunk, dtype=np.uint8)]
            starts = ~space
            starts[1:] &= space[:-1]
            starts[0] &= prev_space
            n_tokens += int(np.count_nonzero(starts))
            n_lines += chunk.count(b"\n")
            prev_space = bool(space[-1])
            last_byte = chunk[-1:]
    if last_byte != b"\n":
        n_lines += 1
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(json.dumps({"path": str(path.resolve()), "tokens": n_tokens, "lines": n_lines}))
    return n_tokens, n_lines


# ---------------------------------------------------------------------------------------------
# Tools: how each one is started

def find_executable(name: str) -> Optional[str]:
    """The console script ``name`` of this Python environment, else the one on PATH.

    The environment's scripts folder comes first so that pyenv/conda shims (which
    add their own start-up time) are bypassed.
    """
    candidates = [Path(sysconfig.get_path("scripts")) / name, Path(sys.executable).parent / name]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    return shutil.which(name)


def tool_version(tool: str) -> Optional[str]:
    dist = {"w2v": "w2v", "c": "word2vec", "gensim": "gensim", "fasttext": "fasttext-numpy2"}[tool]
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def w2v_package_dir() -> Optional[str]:
    """Where the installed ``w2v`` package lives (what the ``w2v`` command runs)."""
    import importlib.util
    saved = sys.path[:]
    try:
        sys.path[:] = [x for x in sys.path if Path(x or ".").resolve() not in (BENCH_DIR, REPO_DIR)]
        spec = importlib.util.find_spec("w2v")
    finally:
        sys.path[:] = saved
    return str(Path(spec.origin).parent) if spec and spec.origin else None


def w2v_install_warning() -> Optional[str]:
    """A warning when the installed w2v is a copy whose sources differ from this working tree."""
    where = w2v_package_dir()
    tree = REPO_DIR / "w2v"
    if where is None or not tree.is_dir() or Path(where).resolve() == tree.resolve():
        return None
    differ = sorted(f.name for f in tree.glob("*.py*")
                    if f.suffix in (".py", ".pyx", ".pxd")
                    and (not (Path(where) / f.name).is_file()
                         or (Path(where) / f.name).read_bytes() != f.read_bytes()))
    if not differ:
        return None
    return (f"the w2v command runs an installed copy in {where} whose sources differ from this "
            f"working tree ({', '.join(differ[:6])}{', ...' if len(differ) > 6 else ''}); "
            f"run `pip install .` (or `pip install -e .`) first to benchmark the current code")


def tool_command(tool: str, mode: Mode, settings: Settings, corpus: Path, out: Path,
                 seed: int = 1) -> List[str]:
    """The argv that trains ``tool`` in ``mode`` and writes word2vec-binary vectors to ``out``.

    ``seed`` goes to every tool that takes one; the C tool has no seed option (its
    runs differ only through thread timing). Raises :class:`ToolUnavailable` when
    the tool is not installed.
    """
    s, m = settings, mode
    if tool == "c":
        exe = find_executable("word2vec")
        if exe is None:
            raise ToolUnavailable("the C tool is not installed (pip install word2vec==0.11.1)")
        return [exe, "-train", str(corpus), "-output", str(out), "-cbow", "0" if m.skip_gram else "1",
                "-size", str(s.size), "-window", str(s.window), "-negative", str(s.negative_for(m)),
                "-hs", "1" if m.hierarchical_softmax else "0", "-sample", repr(s.sample),
                "-threads", str(s.threads), "-binary", "1", "-iter", str(s.epochs),
                "-min-count", str(s.min_count), "-alpha", repr(s.alpha(m))]
    if tool in ("gensim", "fasttext"):
        module = "gensim" if tool == "gensim" else "fasttext"
        if tool_version(tool) is None:
            raise ToolUnavailable(f"{TOOL_LABELS[tool]} is not installed (see bench/requirements.txt)")
        return [sys.executable, str(DRIVERS_DIR / f"train_{module}.py"), "--corpus", str(corpus),
                "--out", str(out), "--sg", str(int(m.skip_gram)), "--hs", str(int(m.hierarchical_softmax)),
                "--negative", str(s.negative_for(m)), "--size", str(s.size), "--window", str(s.window),
                "--sample", repr(s.sample), "--min-count", str(s.min_count), "--epochs", str(s.epochs),
                "--alpha", repr(s.alpha(m)), "--threads", str(s.threads), "--seed", str(seed)]
    if tool == "w2v":
        exe = find_executable("w2v")
        if exe is None:
            raise ToolUnavailable("w2v is not installed (pip install -e . in the repository)")
        return [exe, "train", str(corpus), "-o", str(out), "--sg" if m.skip_gram else "--cbow",
                "--size", str(s.size), "--window", str(s.window), "--negative", str(s.negative_for(m)),
                "--hs" if m.hierarchical_softmax else "--no-hs", "--sample", repr(s.sample),
                "--min-count", str(s.min_count), "--threads", str(s.threads), "--iter", str(s.epochs),
                "--alpha", repr(s.alpha(m)), "--seed", str(seed)]     # not --quiet: its summary line gives the training-phase speed
    raise ValueError(f"unknown tool {tool!r}; choose from {', '.join(TOOLS)}")


# ---------------------------------------------------------------------------------------------
# Measuring one process

@dataclass
class Measurement:
    argv: List[str]
    returncode: Optional[int]     # negative: killed by that signal
    timed_out: bool
    wall_s: float                 # start of the child to its exit
    peak_rss_kb: int              # ru_maxrss of the child (KiB on Linux)
    user_s: float
    sys_s: float
    log: str                      # where its stdout+stderr went

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def peak_mb(self) -> float:
        """Peak RSS in MB (10^6 bytes), the unit of ANCHORS.md."""
        return self.peak_rss_kb * 1024 / 1e6


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_measured(argv: Sequence[str], log: Path, timeout: Optional[float] = None,
                 env: Optional[Dict[str, str]] = None) -> Measurement:
    """Run ``argv`` to completion; return its wall time and its own rusage.

    stdout and stderr go to ``log``. The child gets its own process group, which
    is killed (SIGKILL) when ``timeout`` seconds pass. The child is reaped with
    ``os.wait4`` only after ``waitid(WNOWAIT)`` has seen it exit and the timer is
    disarmed, so the kill can never reach a recycled process id.
    """
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    # ru_maxrss from wait4 is at least the RSS this (forking) harness had when it forked,
    # so a lean tool would inherit the harness's peak. GNU time forks from a tiny image
    # and reports the tool's own peak; use it when present.
    maxrss_file = log.with_name(log.name + ".maxrss")
    if GNU_TIME:
        argv = [GNU_TIME, "-f", "%M", "-o", str(maxrss_file)] + list(argv)
    lock = threading.Lock()
    state = {"exited": False, "timed_out": False}
    with open(log, "wb") as logf:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)

        def on_timeout():
            with lock:
                if not state["exited"]:
                    state["timed_out"] = True
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

        timer = threading.Timer(timeout, on_timeout) if timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            while True:
                try:
                    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
                    break
                except InterruptedError:
                    continue
            wall = time.perf_counter() - t0
        except BaseException:                      # Ctrl-C in the harness: take the child down too
            with lock:
                state["exited"] = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            raise
        with lock:
            state["exited"] = True
        if timer:
            timer.cancel()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    peak_kb = usage.ru_maxrss
    if GNU_TIME:
        try:
            peak_kb = int(maxrss_file.read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
    return Measurement(argv=list(argv), returncode=proc.returncode, timed_out=state["timed_out"],
                       wall_s=wall, peak_rss_kb=peak_kb, user_s=usage.ru_utime,
                       sys_s=usage.ru_stime, log=str(log))


def measure_row(tool: str, label: str, make_argv: Callable[[], List[str]], logs: Path, repeat: int,
                timeout: Optional[float], echo, tag: str,
                extra: Optional[Callable[[Measurement], dict]] = None,
                on_run: Optional[Callable[[int, Measurement, dict], None]] = None,
                failure_status: Optional[Callable[[Measurement], Optional[str]]] = None) -> dict:
    """One table row of a micro-benchmark: ``make_argv()`` run ``repeat`` times.

    The row holds the command and, per run, wall time, peak RSS, CPU times and
    ``extra(m)``; ``on_run(i, m, run)`` follows each run. A missing tool
    (:class:`ToolUnavailable` from ``make_argv``) gives status "skipped"; the first
    failed run stops the row with status ``failure_status(m)`` or "timeout"/"failed".
    """
    row = {"tool": tool, "label": label, "status": "ok", "error": None, "runs": []}
    try:
        argv = make_argv()
    except ToolUnavailable as e:
        row.update(status="skipped", error=str(e))
        echo(f"[{tag}] {label}: SKIPPED: {e}")
        return row
    row["command"] = shlex.join(argv)
    for i in range(repeat):
        m = run_measured(argv, logs / f"{tool}.run{i + 1}.log", timeout)
        if not m.ok:
            status = (failure_status(m) if failure_status else None) or (
                "timeout" if m.timed_out else "failed")
            row.update(status=status, error=_failure_text(m))
            echo(f"[{tag}] {label}: {status.upper()}: {row['error']}")
            break
        run = {"wall_s": m.wall_s, "peak_rss_kb": m.peak_rss_kb, "user_s": m.user_s,
               "sys_s": m.sys_s, **(extra(m) if extra else {})}
        row["runs"].append(run)
        if on_run:
            on_run(i, m, run)
    return row


def log_tail(path: str, n_bytes: int = 1500) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - n_bytes))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return text.replace("\r", "\n").strip()


def evaluate_vectors(vectors: Path, log: Path, timeout: Optional[float] = None) -> dict:
    """Evaluate word2vec-binary vectors in a separate process (drivers/evaluate.py)."""
    argv = [sys.executable, str(DRIVERS_DIR / "evaluate.py"), str(vectors),
            "--questions", str(EVAL_DIR / "questions-words.txt"),
            "--wordsim", str(EVAL_DIR / "wordsim353.tsv"), "--simlex", str(EVAL_DIR / "simlex999.txt")]
    m = run_measured(argv, log, timeout)
    if not m.ok:
        return {"error": _failure_text(m)}
    lines = [l for l in Path(log).read_text(errors="replace").splitlines() if l.startswith("{")]
    if not lines:
        return {"error": "the evaluator printed no result"}
    return json.loads(lines[-1])


def _failure_text(m: Measurement) -> str:
    if m.timed_out:
        return f"timed out after {m.wall_s:.0f} s"
    tail = log_tail(m.log, 600).splitlines()
    return f"exit status {m.returncode}" + (f": {tail[-1][:300]}" if tail else "")


# ---------------------------------------------------------------------------------------------
# One (mode, tool) run

_W2V_CORPUS_SIZE = re.compile(r"encoded corpus ([\d.]+) MB")
_W2V_SUMMARY = re.compile(r"([\d,]+) words, ([\d,]+) words trained in ([\d.]+) s, ([\d.]+) M words/s")


def w2v_training_phase(log: Path) -> dict:
    """The training loop's own speed from ``w2v train``'s summary line (no start-up, no vocabulary).

    Whole-process words/s hides thread scaling once training takes under a second;
    this is the figure the scaling target is about.
    """
    try:
        m = _W2V_SUMMARY.search(log.read_text(errors="replace"))
    except OSError:
        m = None
    if not m:
        return {}
    phase = {"vocab_size": int(m.group(1).replace(",", "")),
             "train_words": int(m.group(2).replace(",", "")), "train_s": float(m.group(3)),
             "train_words_per_s": float(m.group(4)) * 1e6}
    size = _W2V_CORPUS_SIZE.search(m.string, m.end())
    if size:
        phase["encoded_corpus_mb"] = float(size.group(1))
    return phase


def run_one(tool: str, mode: Mode, settings: Settings, corpus: Corpus, work_dir: Path,
            timeout: Optional[float] = None, evaluate: bool = True, keep_vectors: bool = False,
            repeat: int = 1, eval_timeout: Optional[float] = 900) -> dict:
    """Train ``repeat`` times (seeds 1..repeat), measure and evaluate each run; return a result row.

    Speed and memory come from the fastest run; the accuracy figures are the mean
    over the runs (``eval``), each run's own in ``runs[i]["eval"]`` and the spread
    in ``eval_sd``. Seeds matter: on the 17 M-token prefix one seed's analogy
    accuracy can sit a point away from another's, so a single run compares noise.
    The row always comes back: a tool that is missing, fails or times out gives a
    row with ``status`` set accordingly and ``error`` explaining it.
    """
    row = {"mode": mode.name, "tool": tool, "tool_label": TOOL_LABELS[tool],
           "version": tool_version(tool), "threads": settings.threads, "epochs": settings.epochs,
           "tokens": corpus.tokens, "status": "ok", "error": None}
    out = work_dir / f"{mode.name}.{tool}.bin"
    try:
        tool_command(tool, mode, settings, corpus.path, out)
    except ToolUnavailable as e:
        row.update(status="skipped", error=str(e))
        return row
    runs, records = [], []
    for i in range(repeat):
        if out.exists():
            out.unlink()
        suffix = "" if repeat == 1 else f".run{i + 1}"
        argv = tool_command(tool, mode, settings, corpus.path, out, seed=i + 1)
        m = run_measured(argv, work_dir / "logs" / f"{mode.name}.{tool}{suffix}.log", timeout)
        runs.append(m)
        record = {"seed": i + 1, "wall_s": m.wall_s, "peak_rss_kb": m.peak_rss_kb,
                  "user_s": m.user_s, "sys_s": m.sys_s, "returncode": m.returncode,
                  "timed_out": m.timed_out, "log": m.log}
        records.append(record)
        if not m.ok:
            break
        if not out.is_file():
            row.update(status="failed", error=f"exited 0 but wrote no vectors to {out}")
            break
        row["vectors_bytes"] = out.stat().st_size
        if evaluate:
            record["eval"] = evaluate_vectors(
                out, work_dir / "logs" / f"{mode.name}.{tool}{suffix}.eval.log", eval_timeout)
            if "error" in record["eval"]:
                row["status"] = "eval-failed"
                row["error"] = "evaluation: " + record["eval"]["error"]
        if not keep_vectors:
            out.unlink()
    row["command"] = shlex.join(runs[0].argv)
    row["runs"] = records
    last = runs[-1]
    if not last.ok:
        row.update(status="timeout" if last.timed_out else "failed", error=_failure_text(last),
                   log_tail=log_tail(last.log))
        return row
    if row["status"] == "failed":
        return row
    best = min(runs, key=lambda m: m.wall_s)
    words = corpus.tokens * settings.epochs
    row.update(wall_s=best.wall_s, words_per_s=words / best.wall_s,
               words_per_s_per_thread=words / best.wall_s / settings.threads,
               peak_rss_kb=best.peak_rss_kb, peak_mb=best.peak_mb,
               cpu_s=best.user_s + best.sys_s, cpu_utilisation=(best.user_s + best.sys_s) / best.wall_s)
    if tool == "w2v":
        row.update(w2v_training_phase(Path(best.log)))
    evals = [r["eval"] for r in records if "eval" in r and "error" not in r["eval"]]
    if evals:
        row["eval"], row["eval_sd"] = mean_eval(evals)
    return row


#: (key, figure) of each evaluation number averaged over runs.
EVAL_FIGURES = (("analogy", "percent"), ("ws353", "spearman"), ("simlex", "spearman"))


def mean_eval(evals: List[dict]) -> Tuple[dict, dict]:
    """The mean of each figure of :data:`EVAL_FIGURES` over runs, and its sample standard
    deviation (0 for one run), in the evaluator's own layout."""
    mean, sd = {}, {}
    for key, figure in EVAL_FIGURES:
        values = [e[key][figure] for e in evals if e.get(key, {}).get(figure) is not None]
        if not values:
            continue
        mean[key] = {figure: statistics.fmean(values), "runs": len(values)}
        sd[key] = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, sd


# ---------------------------------------------------------------------------------------------
# Machine description

def _git(*args: str) -> Optional[str]:
    try:
        r = subprocess.run(["git", "-C", str(REPO_DIR), *args], capture_output=True, text=True,
                           timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def machine_info() -> dict:
    cpu_model, flags = None, set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and cpu_model is None:
                cpu_model = value.strip()
            elif key == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    mem_total_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total_kb = int(line.split()[1])
    except OSError:
        pass
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hostname": socket.gethostname(),
        "cpu_model": cpu_model or platform.processor(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "simd": sorted(f for f in flags if f in ("avx2", "fma", "avx512f", "avx512vl", "avx512_bf16")),
        "mem_total_mb": mem_total_kb * 1024 / 1e6 if mem_total_kb else None,
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "numpy": np.__version__,
        "tool_versions": {t: tool_version(t) for t in TOOLS},
        "c_tool_binary": find_executable("word2vec"),
        "w2v_binary": find_executable("w2v"),
        "w2v_package": w2v_package_dir(),
        "w2v_install_warning": w2v_install_warning(),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "command": shlex.join([sys.executable, *sys.argv]),
        "env": {k: os.environ[k] for k in sorted(os.environ)
                if k.startswith(("OPENBLAS", "OMP_", "MKL_", "PYTHONHASHSEED"))},
    }


# ---------------------------------------------------------------------------------------------
# Tables

def _fmt(x, spec: str, missing: str = "") -> str:
    return missing if x is None else format(x, spec)


def _mega(x: Optional[float]) -> str:
    return "" if x is None else f"{x / 1e6:.2f} M"


def _figure(r: dict, key: str, figure: str, spec: str) -> str:
    """A mean figure of ``r["eval"]``, with ``±sd`` when it averages several runs."""
    entry = (r.get("eval") or {}).get(key) or {}
    if entry.get(figure) is None:
        return ""
    text = format(entry[figure], spec)
    if entry.get("runs", 1) > 1:
        text += " ±" + format(r["eval_sd"][key], spec)
    return text


def results_table(rows: List[dict]) -> str:
    out = ["| mode | tool | wall s | words/s | words/s/thread | peak MB | analogy % | ws353 | simlex |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        label = r["tool_label"]
        if r["status"] in ("skipped", "failed", "timeout"):
            error = (r["error"] or "").replace("|", "/")
            error = error if len(error) <= 160 else error[:157] + "..."
            out.append(f"| {r['mode']} | {label} | {r['status'].upper()}: {error} | | | | | | |")
            continue
        note = " (eval failed)" if r["status"] == "eval-failed" else ""
        out.append(f"| {r['mode']} | {label} | {r['wall_s']:.1f} | {_mega(r['words_per_s'])} | "
                   f"{_mega(r['words_per_s_per_thread'])} | {r['peak_mb']:.0f} | "
                   f"{_figure(r, 'analogy', 'percent', '.2f')}{note} | "
                   f"{_figure(r, 'ws353', 'spearman', '.3f')} | {_figure(r, 'simlex', 'spearman', '.3f')} |")
    return "\n".join(out)


def accuracy_gaps(rows: List[dict]) -> List[dict]:
    """Per mode: w2v's (mean) analogy accuracy minus the best anchor's, in points."""
    gaps = []
    for mode, ours, anchors in _w2v_and_anchors(
            rows, lambda r: ((r.get("eval") or {}).get("analogy") or {}).get("percent")):
        if anchors:
            best = max(anchors, key=anchors.get)
            gaps.append({"mode": mode, "w2v": ours, "best_anchor": best,
                         "best_anchor_percent": anchors[best], "gap_points": ours - anchors[best]})
    return gaps


def gap_table(gaps: List[dict]) -> str:
    out = ["| mode | w2v analogy % | best anchor | its analogy % | w2v - best (points) |",
           "|---|---|---|---|---|"]
    for g in gaps:
        out.append(f"| {g['mode']} | {g['w2v']:.2f} | {TOOL_LABELS[g['best_anchor']]} | "
                   f"{g['best_anchor_percent']:.2f} | {g['gap_points']:+.2f} |")
    return "\n".join(out)


def _w2v_and_anchors(rows: List[dict], figure: Callable[[dict], Optional[float]]):
    """Per mode where w2v has the figure: ``(mode, w2v's figure, {anchor: its figure})``."""
    for mode in dict.fromkeys(r["mode"] for r in rows):
        values = {r["tool"]: figure(r) for r in rows if r["mode"] == mode}
        values = {t: v for t, v in values.items() if v is not None}
        if "w2v" in values:
            yield mode, values["w2v"], {t: values[t] for t in ANCHORS if t in values}


def speed_ratios(rows: List[dict]) -> List[dict]:
    """Per mode: w2v's words/s divided by each anchor's, and by the fastest anchor's."""
    ratios = []
    for mode, ours, anchors in _w2v_and_anchors(rows, lambda r: r.get("words_per_s") or None):
        entry = {"mode": mode, "vs": {t: ours / v for t, v in anchors.items()}}
        if anchors:
            fastest = max(anchors, key=anchors.get)
            entry["fastest_anchor"] = fastest
            entry["vs_fastest"] = ours / anchors[fastest]
        ratios.append(entry)
    return ratios


def ratio_table(ratios: List[dict]) -> str:
    if not ratios:
        return ""
    out = ["| mode | w2v / C tool | w2v / gensim | w2v / fastText | w2v / fastest anchor |",
           "|---|---|---|---|---|"]
    for e in ratios:
        cells = [_fmt(e["vs"].get(t), ".2f") + ("x" if t in e["vs"] else "") for t in ANCHORS]
        fastest = (f"{e['vs_fastest']:.2f}x ({TOOL_LABELS[e['fastest_anchor']]})"
                   if "vs_fastest" in e else "")
        out.append(f"| {e['mode']} | " + " | ".join(cells) + f" | {fastest} |")
    return "\n".join(out)


def interpreter_baseline(work_dir: Path) -> Optional[Measurement]:
    """Peak RSS of ``w2v --help``: the interpreter, numpy and the CLI, before any data."""
    exe = find_executable("w2v")
    if exe is None:
        return None
    m = run_measured([exe, "--help"], work_dir / "logs" / "w2v.baseline.log", 120)
    return m if m.ok else None


def memory_rows(rows: List[dict], settings: Settings, baseline_mb: Optional[float]) -> List[dict]:
    """w2v's peak RSS against what it must hold: the weight matrices and the encoded corpus.

    Weights: ``vocab x size`` float32 for the input vectors, plus one such matrix per
    output layer (negative sampling, hierarchical softmax). Encoded corpus: the size w2v's
    summary line reports (packed ids and sentence tables), or 4 bytes per kept token for a
    version that does not report it. ``baseline_mb``, the peak of ``w2v --help``, is what
    any Python process with numpy holds before data.
    """
    out = []
    for r in rows:
        if r["tool"] != "w2v" or not r.get("train_words") or not r.get("peak_mb"):
            continue
        mode = MODES[r["mode"]]
        matrices = 1 + (settings.negative_for(mode) > 0) + mode.hierarchical_softmax
        weights_mb = matrices * r["vocab_size"] * settings.size * 4 / 1e6
        # what w2v reports holding; 4 bytes per token for versions that did not say
        corpus_mb = r.get("encoded_corpus_mb") or r["train_words"] / settings.epochs * 4 / 1e6
        needed = weights_mb + corpus_mb
        entry = {"mode": r["mode"], "peak_mb": r["peak_mb"], "weights_mb": weights_mb,
                 "encoded_corpus_mb": corpus_mb, "ratio": r["peak_mb"] / needed,
                 "baseline_mb": baseline_mb}
        if baseline_mb is not None:
            entry["ratio_above_baseline"] = (r["peak_mb"] - baseline_mb) / needed
        out.append(entry)
    return out


def memory_table(entries: List[dict]) -> str:
    if not entries:
        return ""
    out = ["| mode | w2v peak MB | weights MB | encoded corpus MB | peak / (weights + corpus) | "
           "interpreter MB (`w2v --help`) | (peak - interpreter) / (weights + corpus) |",
           "|---|---|---|---|---|---|---|"]
    for e in entries:
        out.append(f"| {e['mode']} | {e['peak_mb']:.0f} | {e['weights_mb']:.1f} | "
                   f"{e['encoded_corpus_mb']:.1f} | {e['ratio']:.2f}x | {_fmt(e['baseline_mb'], '.0f')} | "
                   f"{_fmt(e.get('ratio_above_baseline'), '.2f')}{'x' if 'ratio_above_baseline' in e else ''} |")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Command line

def _csv(choices):
    def parse(text: str) -> List[str]:
        items = [x.strip() for x in text.split(",") if x.strip()]
        bad = [x for x in items if x not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {','.join(choices)} (got {text!r})")
        return items
    return parse


def add_corpus_options(p: argparse.ArgumentParser, default_lines: Optional[int]) -> None:
    g = p.add_argument_group("corpus")
    g.add_argument("--corpus", default=None,
                   help="text file, plain or .xz/.gz/.bz2 (default: shared/data/corpus/enwiki70m.txt.xz)")
    g.add_argument("--lines", type=int, default=None,
                   help=f"use the first N lines (default: {default_lines or 'all'}; "
                        "a plain --corpus FILE is used whole)")
    g.add_argument("--tokens", type=float, default=None,
                   help="use whole lines up to the first that reaches N tokens (e.g. 2e5)")
    g.add_argument("--all-lines", action="store_true", help="use the whole file")


def corpus_from_args(a, default_lines: Optional[int]) -> Corpus:
    if a.all_lines:
        lines, tokens = None, None
    elif a.tokens is not None:
        lines, tokens = None, int(a.tokens)
    elif a.lines is not None:
        lines, tokens = a.lines, None
    else:
        lines, tokens = (default_lines if a.corpus is None else None), None
    return prepare_corpus(a.corpus, lines=lines, tokens=tokens,
                          echo=lambda s: print(s, file=sys.stderr, flush=True))


def add_settings_options(p: argparse.ArgumentParser, default_epochs: int) -> None:
    g = p.add_argument_group("training settings (the same for every tool)")
    d = Settings()
    dflt = "(default: %(default)s)"
    g.add_argument("--size", type=int, default=d.size, help=dflt)
    g.add_argument("--window", type=int, default=d.window, help=dflt)
    g.add_argument("--negative", type=int, default=d.negative, help="for the -ns modes; -hs modes use 0 " + dflt)
    g.add_argument("--sample", type=float, default=d.sample, help=dflt)
    g.add_argument("--min-count", type=int, default=d.min_count, help=dflt)
    g.add_argument("--epochs", type=int, default=default_epochs, help=dflt)
    g.add_argument("--alpha-sg", type=float, default=d.alpha_sg, help="skip-gram start learning rate " + dflt)
    g.add_argument("--alpha-cbow", type=float, default=d.alpha_cbow, help="CBOW start learning rate " + dflt)


def settings_from_args(a, threads: int) -> Settings:
    return Settings(size=a.size, window=a.window, negative=a.negative, sample=a.sample,
                    min_count=a.min_count, epochs=a.epochs, threads=threads, alpha_sg=a.alpha_sg,
                    alpha_cbow=a.alpha_cbow)


def default_out(prefix: str) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return RESULTS_DIR / f"{prefix}-{stamp}-{socket.gethostname()}.json"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", type=_csv(tuple(MODES)), default=list(MODES),
                   help="comma-separated, from " + ",".join(MODES) + " (default: all)")
    p.add_argument("--tools", type=_csv(TOOLS), default=list(TOOLS),
                   help="comma-separated, from " + ",".join(TOOLS) + " (default: all)")
    p.add_argument("--threads", type=int, default=2, help="threads per tool (default: %(default)s)")
    add_corpus_options(p, DEFAULT_LINES)
    add_settings_options(p, default_epochs=5)
    p.add_argument("--repeat", type=int, default=1,
                   help="train each (mode, tool) N times with seeds 1..N (the C tool takes no seed); "
                        "the table shows the fastest run's speed and memory and the mean +/- sd "
                        "of the accuracy figures (default: 1)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per training run (default: %(default)s)")
    p.add_argument("--no-eval", action="store_true", help="skip the accuracy evaluation")
    p.add_argument("--keep-vectors", action="store_true", help="keep the vectors in the work folder")
    p.add_argument("--work-dir", default=None,
                   help="vectors and logs (default: a new folder under bench/.cache/runs/)")
    p.add_argument("--out", default=None, help="JSON file (default: bench/results/bench-DATE-HOST.json)")
    p.add_argument("--markdown", action="store_true", help="also write the tables to OUT with the suffix .md")
    return p.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    info = machine_info()
    corpus = corpus_from_args(a, DEFAULT_LINES)
    settings = settings_from_args(a, a.threads)
    if a.work_dir:
        work_dir = Path(a.work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
    else:
        (CACHE_DIR / "runs").mkdir(parents=True, exist_ok=True)
        work_dir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=CACHE_DIR / "runs"))
    out = Path(a.out) if a.out else default_out("bench")
    print(f"[bench] corpus {corpus.path} ({corpus.prefix}): {corpus.lines:,} lines, "
          f"{corpus.tokens:,} tokens, {corpus.bytes / 1e6:.1f} MB; {settings}; logs in {work_dir}",
          file=sys.stderr, flush=True)
    if "w2v" in a.tools and info["w2v_install_warning"]:
        print(f"[bench] WARNING: {info['w2v_install_warning']}", file=sys.stderr, flush=True)
    rows = []
    for mode_name in a.modes:
        for tool in a.tools:
            row = run_one(tool, MODES[mode_name], settings, corpus, work_dir, timeout=a.timeout,
                          evaluate=not a.no_eval, keep_vectors=a.keep_vectors, repeat=a.repeat)
            rows.append(row)
            if row.get("wall_s") is not None:
                ev = row.get("eval") or {}
                acc = (ev.get("analogy") or {}).get("percent")
                msg = (f"{row['wall_s']:.1f} s, {row['words_per_s'] / 1e6:.3f} M words/s, "
                       f"{row['peak_mb']:.0f} MB" + (f", analogy {acc:.2f}%" if acc is not None else ""))
            else:
                msg = f"{row['status'].upper()}: {row['error']}"
            print(f"[bench] {mode_name:8s} {TOOL_LABELS[tool]:9s} {msg}", file=sys.stderr, flush=True)
    ratios = speed_ratios(rows)
    gaps = accuracy_gaps(rows)
    baseline = interpreter_baseline(work_dir) if "w2v" in a.tools else None
    memory = memory_rows(rows, settings, baseline.peak_mb if baseline else None)
    info["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    report = {"machine": info, "corpus": {**asdict(corpus), "path": str(corpus.path)},
              "settings": asdict(settings), "timeout_s": a.timeout, "repeat": a.repeat,
              "work_dir": str(work_dir), "results": rows, "ratios": ratios,
              "accuracy_gaps": gaps, "memory": memory}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    text = results_table(rows)
    if ratios:
        text += "\n\nw2v words/s relative to each anchor (higher is better):\n\n" + ratio_table(ratios)
    if gaps:
        runs = f"mean of {a.repeat} runs (seeds 1..{a.repeat})" if a.repeat > 1 else "one run"
        text += f"\n\nAnalogy accuracy against the best anchor ({runs}):\n\n" + gap_table(gaps)
    if memory:
        text += "\n\nw2v memory against the weight matrices and the encoded corpus:\n\n" + memory_table(memory)
    print(text, flush=True)
    print(f"\n[bench] wrote {out}", file=sys.stderr)
    if a.markdown:
        md = out.with_suffix(".md")
        header = (f"Corpus: {corpus.path.name} ({corpus.prefix}, {corpus.tokens:,} tokens); "
                  f"{settings.threads} threads, {settings.epochs} epoch(s); {info['cpu_model']}; "
                  f"commit {(info['git_commit'] or '?')[:10]}{' (dirty)' if info['git_dirty'] else ''}\n\n")
        md.write_text(header + text + "\n")
        print(f"[bench] wrote {md}", file=sys.stderr)
    return 0 if all(r["status"] in ("ok", "skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
