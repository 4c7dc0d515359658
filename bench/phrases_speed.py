#!/usr/bin/env python3
"""Phrase detection speed and memory: ``w2v phrases`` vs word2phrase vs gensim Phrases.

    python bench/phrases_speed.py                       # the 17 M-token prefix, all three tools
    python bench/phrases_speed.py --all-lines --tools w2v,c   # the whole 70 M-token corpus
    python bench/phrases_speed.py --analogy             # + cbow-ns with and without --phrases 1
    python bench/phrases_speed.py --lines 50 --tools w2v,c   # a quick check of the harness

Each tool learns phrases from the same plain-text file with the C tool's settings
(threshold 100, min_count 5, one pass) and writes the file with phrases joined:

* w2v: ``w2v phrases IN -o OUT --threshold 100 --min-count 5 -q``;
* C tool: ``word2phrase -train IN -output OUT -threshold 100 -min-count 5 -debug 0``
  (from ``word2vec==0.11.1``; it allocates a 500 M-slot hash table, 2 GB, up front);
* gensim: ``Phrases(LineSentence(IN), min_count=5, threshold=100)``, frozen, applied to
  every line and written (bench/drivers/gensim_phrases.py). gensim's default score
  multiplies by its vocabulary size rather than the number of tokens, so the same
  threshold finds other phrases: its time is comparable, its output is not.

The harness (bench/bench.py's ``run_measured``) measures each process's wall time and
peak RSS. words/s is the corpus tokens (counted once) / wall s. The table also
compares each output with word2phrase's: the share of lines whose tokens are
identical, and the number of phrase tokens (tokens with ``_``; the corpus has none).

``--analogy`` trains cbow-ns with ``w2v train`` (size 100, window 5, negative 5,
sample 1e-3, min-count 5, 5 epochs, 2 threads) without and with ``--phrases 1`` and
evaluates both with ``w2v evaluate --analogies questions-words.txt`` (restrict 30000).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as harness  # noqa: E402  (bench/bench.py: the runner functions)

TOOLS = ("w2v", "c", "gensim")
LABELS = {"w2v": "w2v phrases", "c": "word2phrase (C)", "gensim": "gensim Phrases"}


def find_tool(name: str):
    """``name`` in this environment, its base installation (a venv's parent), or PATH."""
    base = Path(sys.base_prefix) / "bin" / name
    return harness.find_executable(name) or (str(base) if os.access(base, os.X_OK) else None)


def command(tool: str, corpus: Path, out: Path, threshold: float, min_count: int, short_dir: Path):
    if tool == "w2v":
        exe = harness.find_executable("w2v")
        if exe is None:
            raise harness.ToolUnavailable("w2v is not installed (pip install . in the repository)")
        return [exe, "phrases", str(corpus), "-o", str(out), "--threshold", repr(threshold),
                "--min-count", str(min_count), "-q"]
    if tool == "c":
        exe = find_tool("word2phrase")
        if exe is None:
            raise harness.ToolUnavailable("word2phrase is not installed (pip install word2vec==0.11.1)")
        # word2phrase keeps file names in 60-byte buffers: give it short links to both files
        short = short_dir
        (short / "in").symlink_to(Path(corpus).resolve())
        out.touch()
        (short / "out").symlink_to(Path(out).resolve())
        return [exe, "-train", str(short / "in"), "-output", str(short / "out"),
                "-threshold", repr(threshold), "-min-count", str(min_count), "-debug", "0"]
    if tool == "gensim":
        return [sys.executable, str(harness.DRIVERS_DIR / "gensim_phrases.py"), str(corpus), str(out),
                "--threshold", repr(threshold), "--min-count", str(min_count)]
    raise ValueError(tool)


def compare_outputs(path: Path, reference: Path | None) -> dict:
    """Phrase tokens in ``path`` and, against ``reference``, the share of identical lines."""
    phrase_tokens = distinct = lines = same = 0
    seen = set()
    ref = open(reference, "rb") if reference else None
    try:
        with open(path, "rb") as f:
            for line in f:
                tokens = line.split()
                lines += 1
                for t in tokens:
                    if b"_" in t:
                        phrase_tokens += 1
                        if t not in seen:
                            seen.add(t)
                            distinct += 1
                if ref is not None:
                    same += tokens == ref.readline().split()
    finally:
        if ref is not None:
            ref.close()
    out = {"lines": lines, "phrase_tokens": phrase_tokens, "distinct_phrases": distinct}
    if reference:
        out["lines_identical_to_c"] = same / max(lines, 1)
    return out


def vocabulary(vectors: Path) -> list:
    """The words of a vectors file, most frequent first."""
    from w2v import load
    return load(vectors).words


def analogy_runs(corpus: Path, work_dir: Path, threads: int, timeout: float, echo) -> list:
    """cbow-ns without and with --phrases 1: time, vocabulary, analogy accuracy and coverage."""
    exe = harness.find_executable("w2v")
    questions = harness.EVAL_DIR / "questions-words.txt"
    rows = []
    for phrases in (0, 1):
        vectors = work_dir / f"cbow-ns-phrases{phrases}.bin"
        argv = [exe, "train", str(corpus), "-o", str(vectors), "--cbow", "--size", "100",
                "--window", "5", "--negative", "5", "--sample", "1e-3", "--min-count", "5",
                "--threads", str(threads), "--iter", "5", "--alpha", "0.05", "--phrases", str(phrases)]
        m = harness.run_measured(argv, work_dir / "logs" / f"train-phrases{phrases}.log", timeout)
        row = {"phrases": phrases, "command": shlex.join(argv), "wall_s": m.wall_s,
               "peak_mb": m.peak_mb, "ok": m.ok}
        if m.ok:
            words = vocabulary(vectors)
            row["vocab_size"] = len(words)
            # phrase tokens take places among the 30,000 most frequent, pushing words out; also
            # evaluate over the shortest prefix that holds 30,000 words without "_"
            restricts = [30000]
            if phrases:
                single = [i for i, w in enumerate(words) if "_" not in w]
                restricts.append(single[29999] + 1 if len(single) >= 30000 else len(words))
            for restrict in restricts:
                ev_log = work_dir / "logs" / f"evaluate-phrases{phrases}-restrict{restrict}.log"
                ev = [exe, "evaluate", "-m", str(vectors), "--analogies", str(questions),
                      "--restrict-vocab", str(restrict), "--json"]
                e = harness.run_measured(ev, ev_log, timeout)
                if not e.ok:
                    continue
                result = json.loads(Path(ev_log).read_text())["analogies"][0]
                key = "" if restrict == 30000 else "_30k_words"
                row.update({"restrict" + key: restrict, "accuracy" + key: result["accuracy"],
                            "seen" + key: result["seen"], "total": result["total"],
                            "correct" + key: result["correct"],
                            "semantic" + key: result["semantic"]["accuracy"],
                            "syntactic" + key: result["syntactic"]["accuracy"]})
        rows.append(row)
        echo(f"[phrases] cbow-ns --phrases {phrases}: {m.wall_s:.1f} s, "
             f"accuracy {row.get('accuracy', float('nan')):.4f}, seen {row.get('seen')}")
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tools", type=harness._csv(TOOLS), default=list(TOOLS),
                   help="comma-separated, from w2v,c,gensim (default: all)")
    harness.add_corpus_options(p, default_lines=harness.DEFAULT_LINES)
    p.add_argument("--threshold", type=float, default=100.0, help="(default: %(default)s)")
    p.add_argument("--min-count", type=int, default=5, help="(default: %(default)s)")
    p.add_argument("--repeat", type=int, default=1, help="runs per tool; the table shows the fastest")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per run (default: %(default)s)")
    p.add_argument("--analogy", action="store_true",
                   help="also train cbow-ns with and without --phrases 1 and evaluate analogies")
    p.add_argument("--threads", type=int, default=2, help="training threads for --analogy (default: 2)")
    p.add_argument("--keep-outputs", action="store_true", help="keep the phrase-joined files")
    p.add_argument("--out", default=None, help="JSON file (default: bench/results/phrases-DATE-HOST.json)")
    a = p.parse_args(argv)

    echo = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    info = harness.machine_info()
    corpus = harness.corpus_from_args(a, default_lines=harness.DEFAULT_LINES)
    echo(f"[phrases] corpus {corpus.path} ({corpus.prefix}): {corpus.bytes / 1e6:.1f} MB, "
         f"{corpus.tokens:,} tokens, {corpus.lines:,} lines")
    (harness.CACHE_DIR / "runs").mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=time.strftime("phrases-%Y%m%d-%H%M%S-"),
                                     dir=harness.CACHE_DIR / "runs"))
    short_dir = Path(tempfile.mkdtemp(prefix="w2p-", dir="/tmp"))
    rows = []
    # the C tool first, so that the other outputs can be compared with its output
    for tool in sorted(a.tools, key=lambda t: t != "c"):
        out = work_dir / f"{tool}.out.txt"
        row = harness.measure_row(
            tool, LABELS[tool],
            lambda: command(tool, corpus.path, out, a.threshold, a.min_count, short_dir),
            work_dir / "logs", a.repeat, a.timeout, echo, "phrases",
            on_run=lambda i, m, run: echo(f"[phrases] {LABELS[tool]} run {i + 1}: "
                                          f"{m.wall_s:.2f} s, {m.peak_mb:.0f} MB"))
        rows.append(row)
        if row["status"] == "ok" and row["runs"]:
            best = min(row["runs"], key=lambda r: r["wall_s"])
            c_out = work_dir / "c.out.txt"
            row.update(best=best, median_wall_s=statistics.median(r["wall_s"] for r in row["runs"]),
                       words_per_s=corpus.tokens / best["wall_s"],
                       output=compare_outputs(out, c_out if tool != "c" and c_out.exists() else None))
        if not a.keep_outputs and out.exists() and tool != "c":
            out.unlink()
    c_out = work_dir / "c.out.txt"
    if not a.keep_outputs and c_out.exists():
        c_out.unlink()
    shutil.rmtree(short_dir, ignore_errors=True)

    c_row = next((r for r in rows if r["tool"] == "c" and r.get("words_per_s")), None)
    lines = ["| tool | wall s | words/s | peak MB | speed vs C | memory vs C | phrase tokens | "
             "distinct phrases | lines identical to C |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok" or not r["runs"]:
            lines.append(f"| {r['label']} | {r['status'].upper()}: {r['error']} | | | | | | | |")
            continue
        b, o = r["best"], r["output"]
        peak = b["peak_rss_kb"] * 1024 / 1e6
        speed = f"{r['words_per_s'] / c_row['words_per_s']:.2f}x" if c_row else ""
        memory = f"{b['peak_rss_kb'] / c_row['best']['peak_rss_kb']:.2f}x" if c_row else ""
        same = o.get("lines_identical_to_c")
        lines.append(f"| {r['label']} | {b['wall_s']:.2f} | {r['words_per_s'] / 1e6:.2f} M | {peak:.0f} | "
                     f"{speed} | {memory} | {o['phrase_tokens']:,} | {o['distinct_phrases']:,} | "
                     f"{'reference' if r['tool'] == 'c' else harness._fmt(same and 100 * same, '.2f') + ' %'} |")
    table = "\n".join(lines)
    analogy = analogy_runs(corpus.path, work_dir, a.threads, a.timeout, echo) if a.analogy else []
    if analogy:
        table += ("\n\n| cbow-ns | wall s | vocabulary | restrict | analogy % | semantic % | syntactic % "
                  "| seen / total |\n|---|---|---|---|---|---|---|---|")
        for r in analogy:
            name = "--phrases 1" if r["phrases"] else "no phrases"
            if "accuracy" not in r:
                table += f"\n| {name} | FAILED | | | | | | |"
                continue
            for key in ("", "_30k_words"):
                if "accuracy" + key not in r:
                    continue
                restrict = f"{r['restrict' + key]:,}" + (" (30,000 words)" if key else "")
                table += (f"\n| {name} | {r['wall_s']:.1f} | {r['vocab_size']:,} | {restrict} | "
                          f"{100 * r['accuracy' + key]:.2f} | {100 * r['semantic' + key]:.2f} | "
                          f"{100 * r['syntactic' + key]:.2f} | {r['seen' + key]:,} / {r['total']:,} |")
    info["loadavg_end"] = os.getloadavg()
    out = Path(a.out) if a.out else harness.default_out("phrases")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "corpus": {**asdict(corpus), "path": str(corpus.path)},
                               "threshold": a.threshold, "min_count": a.min_count,
                               "work_dir": str(work_dir), "results": rows, "analogy": analogy},
                              indent=1) + "\n")
    print(table, flush=True)
    echo(f"\n[phrases] wrote {out}")
    ok = all(r["status"] in ("ok", "skipped") for r in rows) and all("accuracy" in r for r in analogy)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
