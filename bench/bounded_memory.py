"""Corpora larger than memory: peak resident memory and training speed of ``w2v
train`` with the encoded corpus in memory and on disk (``--corpus-cache``), at the
17 M-token prefix, the 70 M-token corpus and a >= 1 G-token corpus made by repeating
the 70 M one under /tmp; and the anchors' peaks on the same files.

Every run is one epoch of cbow-ns (size 100, window 5, negative 5, sample 1e-3,
min-count 5) on 2 threads, measured with GNU time (whole process). A disk run starts
from an empty cache folder (counting, encoding to disk, training); the "reused" row
runs again on the entry it wrote (no counting or encoding pass).

    python bench/bounded_memory.py --out bench/results/bounded-memory.json
    python bench/bounded_memory.py --anchors c,gensim,fasttext --anchor-corpora 17M,70M

The big file (about 6 GB for 15 copies) is deleted at the end unless --keep-big.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

MODE = bench.MODES["cbow-ns"]


def make_big(source: Path, copies: int, path: Path, echo=print) -> Path:
    if path.is_file() and path.stat().st_size == copies * source.stat().st_size:
        return path
    echo(f"[bounded] writing {path} ({copies} copies of {source.name}) ...")
    with open(path, "wb") as out:
        for _ in range(copies):
            with open(source, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 24)
    return path


def w2v_row(label: str, corpus: Path, cache: str, cache_dir: Path, logs: Path, threads: int,
            timeout: float, echo, min_count: int = 5) -> dict:
    s = bench.Settings(epochs=1, threads=threads, min_count=min_count)
    argv = bench.tool_command("w2v", MODE, s, corpus, logs / f"{label}.bin") + [
        "--corpus-cache", cache, "--cache-dir", str(cache_dir)]
    m = bench.run_measured(argv, logs / f"{label}.log", timeout=timeout)
    phase = bench.w2v_training_phase(Path(m.log))
    row = {"tool": "w2v", "label": label, "corpus": str(corpus), "corpus_cache": cache,
           "min_count": min_count,
           "ok": m.ok, "wall_s": m.wall_s, "peak_mb": m.peak_mb, "command": " ".join(argv), **phase}
    echo(f"[bounded] {label}: {'ok' if m.ok else 'FAILED'} {m.wall_s:.1f} s, peak "
         f"{m.peak_mb:.1f} MB, train {phase.get('train_words_per_s', 0) / 1e6:.2f} M words/s")
    if not m.ok:
        row["error"] = bench.log_tail(m.log)
    return row


def _group_peaks(pgid: int) -> dict:
    """VmHWM (peak RSS, kB) of every live process in process group ``pgid``."""
    peaks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peaks[int(entry)] = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return peaks


def run_sampled(argv, log: Path, stop_after: float, interval: float = 0.5) -> dict:
    """Run ``argv`` for at most ``stop_after`` seconds, reading every process's peak RSS
    (VmHWM) in its group each ``interval``; then stop it (SIGTERM, then SIGKILL). For a
    streaming trainer the peak is reached once its vocabulary and weights exist, so a run
    stopped well into training shows its peak; ``peak_reached_s`` (when the largest
    process's peak last rose) against ``ran_s`` says how long it had stayed flat."""
    log.parent.mkdir(parents=True, exist_ok=True)
    best_kb, reached, rises = 0, 0.0, []
    with open(log, "wb") as logf:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=subprocess.STDOUT, start_new_session=True)
        while proc.poll() is None and time.perf_counter() - t0 < stop_after:
            peak = max(_group_peaks(proc.pid).values(), default=0)
            if peak > best_kb:
                if peak > best_kb + 1024:             # the timeline: each rise of 1 MB or more
                    rises.append((round(time.perf_counter() - t0, 1), round(peak * 1024 / 1e6, 1)))
                best_kb, reached = peak, time.perf_counter() - t0
            time.sleep(interval)
        finished = proc.poll() is not None
        if not finished:
            peak = max(_group_peaks(proc.pid).values(), default=0)
            if peak > best_kb:
                best_kb, reached = peak, time.perf_counter() - t0
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        ran = time.perf_counter() - t0
    return {"peak_mb": best_kb * 1024 / 1e6, "peak_reached_s": reached, "ran_s": ran, "rises": rises,
            "finished": finished, "rc": proc.returncode, "log_tail": bench.log_tail(str(log), 600)}


def anchor_row(tool: str, name: str, corpus: Path, logs: Path, threads: int, timeout: float,
               echo, stop_after: float = 0, min_count: int = 5) -> dict:
    s = bench.Settings(epochs=1, threads=threads, min_count=min_count)
    try:
        argv = bench.tool_command(tool, MODE, s, corpus, logs / f"{tool}-{name}.bin")
    except bench.ToolUnavailable as e:
        echo(f"[bounded] {tool}: {e}")
        return {"tool": tool, "label": f"{tool}-{name}", "ok": False, "error": str(e)}
    if stop_after:
        r = run_sampled(argv, logs / f"{tool}-{name}.log", stop_after)
        echo(f"[bounded] {tool} {name}: peak {r['peak_mb']:.1f} MB, last rose at "
             f"{r['peak_reached_s']:.0f} s of {r['ran_s']:.0f} s "
             f"({'finished' if r['finished'] else 'stopped'})")
        return {"tool": tool, "label": f"{tool}-{name}", "corpus": str(corpus),
                "ok": r["finished"] and r["rc"] == 0, "wall_s": r["ran_s"],
                "command": " ".join(map(str, argv)), **r}
    m = bench.run_measured(argv, logs / f"{tool}-{name}.log", timeout=timeout)
    echo(f"[bounded] {tool} {name}: {'ok' if m.ok else 'FAILED'} {m.wall_s:.1f} s, peak "
         f"{m.peak_mb:.1f} MB")
    return {"tool": tool, "label": f"{tool}-{name}", "corpus": str(corpus), "ok": m.ok,
            "wall_s": m.wall_s, "peak_mb": m.peak_mb, "command": " ".join(argv)}


def table(rows) -> str:
    lines = ["| run | corpus cache | wall s | peak RSS MB | training M words/s |",
             "|---|---|---:|---:|---:|"]
    for r in rows:
        speed = r.get("train_words_per_s")
        lines.append(f"| {r['label']} | {r.get('corpus_cache', '')} | "
                     f"{r.get('wall_s', float('nan')):.1f} | {r.get('peak_mb', float('nan')):.1f} | "
                     f"{'' if speed is None else f'{speed / 1e6:.2f}'} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--copies", type=int, default=15, help="copies of the 70 M corpus in the big one")
    p.add_argument("--big", default="/tmp/w2v-bounded-big.txt")
    p.add_argument("--keep-big", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--anchors", default="", help="comma-separated: c,gensim,fasttext")
    p.add_argument("--anchor-corpora", default="17M,70M")
    p.add_argument("--skip-big", action="store_true")
    p.add_argument("--big-min-count", type=int, default=None,
                   help="min-count for the big corpus [default: 5 x copies, which keeps the 70 M "
                        "corpus's vocabulary: every count is multiplied by the copies]")
    p.add_argument("--only", default=None, help="comma-separated corpus names to run (17M,70M,1G)")
    p.add_argument("--ab", type=int, default=0,
                   help="then alternate 70M memory / 70M disk-reused runs N times each (speed)")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--anchor-stop-after", type=float, default=0,
                   help="stop each anchor after this many seconds and report the peak RSS it "
                        "reached (sampled VmHWM, no GNU time): for the 1 G-token file, where one "
                        "epoch of an anchor takes 20-45 minutes here")
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    echo = print
    small = bench.prepare_corpus(lines=bench.DEFAULT_LINES)
    whole = bench.prepare_corpus()
    corpora = {"17M": small.path, "70M": whole.path}
    if not a.skip_big:
        corpora["1G"] = make_big(whole.path, a.copies, Path(a.big), echo)
    work = Path(tempfile.mkdtemp(prefix="w2v-bounded-"))
    logs = work / "logs"
    rows = []
    big_min_count = a.big_min_count or 5 * a.copies
    only = set(a.only.split(",")) if a.only else set(corpora)
    try:
        for name, path in corpora.items():
            if name not in only:
                continue
            caches = ["disk"] if name == "1G" else ["memory", "disk"]
            mc = big_min_count if name == "1G" else 5
            for cache in caches:
                cache_dir = work / f"cache-{name}"
                shutil.rmtree(cache_dir, ignore_errors=True)
                rows.append(w2v_row(f"w2v-{name}-{cache}", path, cache, cache_dir, logs,
                                    a.threads, a.timeout, echo, mc))
                if cache == "disk":
                    rows.append(w2v_row(f"w2v-{name}-disk-reused", path, cache, cache_dir, logs,
                                        a.threads, a.timeout, echo, mc))
                shutil.rmtree(cache_dir, ignore_errors=True)
        if a.ab:
            cache_dir = work / "cache-ab"
            rows.append(w2v_row("w2v-70M-disk-ab-write", corpora["70M"], "disk", cache_dir, logs,
                                a.threads, a.timeout, echo))
            for i in range(a.ab):
                for cache in ("memory", "disk"):
                    rows.append(w2v_row(f"w2v-70M-{cache}-ab{i + 1}", corpora["70M"], cache,
                                        cache_dir, logs, a.threads, a.timeout, echo))
        for tool in [t for t in a.anchors.split(",") if t]:
            for name in [c for c in a.anchor_corpora.split(",") if c]:
                rows.append(anchor_row(tool, name, corpora[name], logs, a.threads, a.timeout, echo,
                                       a.anchor_stop_after, big_min_count if name == "1G" else 5))
    finally:
        if "1G" in corpora and not a.keep_big:
            os.unlink(corpora["1G"])
        shutil.rmtree(work, ignore_errors=True)
    by = {r["label"]: r for r in rows}
    summary = {}
    if "w2v-1G-disk-reused" in by and "w2v-17M-memory" in by:
        summary["peak_1G_disk_over_17M_memory"] = by["w2v-1G-disk"]["peak_mb"] / by["w2v-17M-memory"]["peak_mb"]
        summary["peak_1G_disk_reused_over_17M_memory"] = (by["w2v-1G-disk-reused"]["peak_mb"]
                                                          / by["w2v-17M-memory"]["peak_mb"])
    if "w2v-1G-disk" in by and "w2v-70M-memory" in by:
        base = by["w2v-70M-memory"].get("train_words_per_s")
        for label in ("w2v-1G-disk", "w2v-1G-disk-reused", "w2v-70M-disk-reused"):
            if base and by.get(label, {}).get("train_words_per_s"):
                summary[f"speed_{label}_over_70M_memory"] = by[label]["train_words_per_s"] / base
    ab = {c: [r["train_words_per_s"] for r in rows if r["label"].startswith(f"w2v-70M-{c}-ab")
              and not r["label"].endswith("-write") and r.get("train_words_per_s")]
          for c in ("memory", "disk")}
    if ab["memory"] and ab["disk"]:
        summary["ab_70M_train_words_per_s"] = ab
        summary["ab_70M_disk_over_memory_mean"] = (sum(ab["disk"]) / len(ab["disk"])) / (
            sum(ab["memory"]) / len(ab["memory"]))
    print(table(rows))
    print(json.dumps(summary, indent=2))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps({"machine": bench.machine_info(), "rows": rows,
                                           "summary": summary, "argv": sys.argv}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
