#!/usr/bin/env python3
"""Vocabulary-pass speed (MB/s): w2v's counting pass vs the C tool's, on the full corpus.

    python bench/vocab_speed.py                     # all of enwiki70m (413 MB), 3 runs each
    python bench/vocab_speed.py --lines 50 --repeat 1   # a quick check of the harness

How each side stops after the vocabulary pass:

* C tool (word2vec.c from ``word2vec==0.11.1``): run *without* ``-output``.
  ``TrainModel()`` reads (or learns) the vocabulary, saves it if ``-save-vocab`` is
  given, and returns when ``output_file`` is empty, before ``InitNet()``, the noise
  table and the threads. So ``word2vec -train F -min-count 5 -save-vocab V`` is
  exactly LearnVocabFromTrainFile (read, hash-count, ReduceVocab if needed,
  SortVocab with the min-count cut) + writing V (~146k short lines) + start-up and
  exit. Do not use ``-iter 0``: the training threads decrement their epoch counter
  before testing it for zero, so with 0 they never stop (and the 400 MB noise table
  and the weights are still set up first).
* w2v: ``w2v.vocab.count_file(path, TrainConfig(min_count=5))`` in a fresh Python
  process (bench/drivers/w2v_count.py): compiled tokenising and counting, then
  decoding, the min-count cut and sorting. The table shows the whole-process figure
  (interpreter and numpy import included, as the C tool's start-up is) and the
  time inside count_file alone.

MB/s is file bytes / 10^6 / seconds. The file is read once before timing so that
every run reads from the page cache. The C tool's counts ("Vocab size",
"Words in train file") include its ``</s>`` line-end token; the table shows the
vocabulary sizes of both so that a mismatch is visible.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as harness  # noqa: E402  (bench/bench.py: the runner functions)

TOOLS = ("w2v", "c", "wc")
LABELS = {"w2v": "w2v count_file", "c": "C tool (no -output)", "wc": "wc -w (reference)"}


def command(tool: str, corpus: Path, min_count: int, work_dir: Path):
    if tool == "c":
        exe = harness.find_executable("word2vec")
        if exe is None:
            raise harness.ToolUnavailable("the C tool is not installed (pip install word2vec==0.11.1)")
        return [exe, "-train", str(corpus), "-min-count", str(min_count),
                "-save-vocab", str(work_dir / "c.vocab.txt")]
    if tool == "w2v":
        return [sys.executable, str(harness.DRIVERS_DIR / "w2v_count.py"), str(corpus),
                "--min-count", str(min_count)]
    if tool == "wc":
        exe = shutil.which("wc")
        if exe is None:
            raise harness.ToolUnavailable("wc not found")
        return [exe, "-w", str(corpus)]
    raise ValueError(tool)


def parse_output(tool: str, log: str) -> dict:
    text = Path(log).read_text(errors="replace").replace("\r", "\n")
    if tool == "c":
        out = {}
        m = re.search(r"Vocab size: (\d+)", text)
        if m:
            out["vocab_size"] = int(m.group(1))            # includes </s>
        m = re.search(r"Words in train file: (\d+)", text)
        if m:
            out["words_in_train_file"] = int(m.group(1))   # tokens + one </s> per line
        return out
    if tool == "w2v":
        lines = [l for l in text.splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else {}
    return {}


def warm_page_cache(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tools", type=harness._csv(TOOLS), default=["w2v", "c"],
                   help="comma-separated, from w2v,c,wc (wc -w: a reading-speed reference; default: w2v,c)")
    harness.add_corpus_options(p, default_lines=None)
    p.add_argument("--min-count", type=int, default=5, help="(default: %(default)s)")
    p.add_argument("--repeat", type=int, default=3, help="runs per tool; the table shows the fastest (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=900, help="seconds per run (default: %(default)s)")
    p.add_argument("--out", default=None,
                   help="JSON file (default: bench/results/vocab-DATE-HOST.json)")
    a = p.parse_args(argv)

    echo = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    info = harness.machine_info()
    if "w2v" in a.tools and info["w2v_install_warning"]:
        echo(f"[vocab] WARNING: {info['w2v_install_warning']}")
    corpus = harness.corpus_from_args(a, default_lines=None)   # default: the whole corpus
    echo(f"[vocab] corpus {corpus.path} ({corpus.prefix}): {corpus.bytes / 1e6:.1f} MB, "
         f"{corpus.tokens:,} tokens, {corpus.lines:,} lines")
    warm_page_cache(corpus.path)
    (harness.CACHE_DIR / "runs").mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=time.strftime("vocab-%Y%m%d-%H%M%S-"),
                                     dir=harness.CACHE_DIR / "runs"))
    rows = []
    for tool in a.tools:
        def report(i, m, run, tool=tool):
            inner = run.get("count_seconds")
            echo(f"[vocab] {LABELS[tool]} run {i + 1}: {m.wall_s:.2f} s "
                 f"({corpus.bytes / 1e6 / m.wall_s:.0f} MB/s)"
                 + (f"; count_file {inner:.2f} s ({corpus.bytes / 1e6 / inner:.0f} MB/s)" if inner else ""))

        row = harness.measure_row(
            tool, LABELS[tool], lambda: command(tool, corpus.path, a.min_count, work_dir),
            work_dir / "logs", a.repeat, a.timeout, echo, "vocab",
            extra=lambda m: parse_output(tool, m.log), on_run=report,
            failure_status=lambda m: "hook-missing" if (tool == "w2v" and m.returncode == 3) else None)
        rows.append(row)
        if row["status"] == "ok" and row["runs"]:
            walls = [r["wall_s"] for r in row["runs"]]
            best = min(row["runs"], key=lambda r: r["wall_s"])
            row.update(best=best, median_wall_s=statistics.median(walls),
                       mb_per_s=corpus.bytes / 1e6 / best["wall_s"])
            if best.get("count_seconds"):
                inner_best = min(r["count_seconds"] for r in row["runs"])
                row.update(count_seconds=inner_best, count_mb_per_s=corpus.bytes / 1e6 / inner_best)

    lines = ["| tool | wall s (best) | MB/s (whole process) | MB/s (counting call) | peak MB | vocab size |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok" or not r["runs"]:
            lines.append(f"| {r['label']} | {r['status'].upper()}: {r['error']} | | | | |")
            continue
        b = r["best"]
        lines.append(f"| {r['label']} | {b['wall_s']:.2f} | {r['mb_per_s']:.0f} | "
                     f"{harness._fmt(r.get('count_mb_per_s'), '.0f')} | {b['peak_rss_kb'] * 1024 / 1e6:.0f} | "
                     f"{harness._fmt(b.get('vocab_size'), ',')} |")
    c_row = next((r for r in rows if r["tool"] == "c" and r.get("mb_per_s")), None)
    w_row = next((r for r in rows if r["tool"] == "w2v" and r.get("mb_per_s")), None)
    table = "\n".join(lines)
    if c_row and w_row:
        table += (f"\n\nw2v / C tool, whole process: {w_row['mb_per_s'] / c_row['mb_per_s']:.2f}x"
                  + (f"; counting call alone vs C whole process: "
                     f"{w_row['count_mb_per_s'] / c_row['mb_per_s']:.2f}x" if w_row.get("count_mb_per_s") else ""))
    info["loadavg_end"] = os.getloadavg()
    out = Path(a.out) if a.out else harness.default_out("vocab")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "corpus": {**asdict(corpus), "path": str(corpus.path)},
                               "min_count": a.min_count, "repeat": a.repeat, "work_dir": str(work_dir),
                               "results": rows}, indent=1) + "\n")
    print(table, flush=True)
    echo(f"\n[vocab] wrote {out}")
    return 0 if all(r["status"] in ("ok", "skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
