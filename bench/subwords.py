#!/usr/bin/env python3
"""Subword (character n-gram) vectors: w2v against fastText and gensim's FastText on one corpus.

Each (mode, tool) pair trains in its own process, one after another, with the
same corpus and hyperparameters (bench/bench.py's settings plus minn=3, maxn=6,
2,000,000 buckets), measured like bench/bench.py (whose runner functions this
imports): wall time and peak RSS of the whole process.

    python bench/subwords.py --modes cbow-ns,sg-ns --tools w2v,fasttext,gensim --markdown

Words outside the vocabulary are what subwords are for, so the harness holds some
out: the words of the WordSim-353 and SimLex-999 pairs that no questions-words.txt
question uses and that occur at least min_count times in the corpus, every third of
them in sorted order. Every token of those words is deleted from a copy of the
corpus (cached in bench/.cache/ under a name holding a hash of the list), and all
tools train on that copy. After training (not timed), each tool writes its
vocabulary vectors as word2vec binary and the vectors it builds from n-grams for
the words of the affected pairs as word2vec text:

* fastText and gensim: the drivers (``--minn --maxn --bucket --oov-words --oov-out``),
  inside the measured process, as their own .vec/KeyedVectors output would be;
* w2v: ``w2v train ... --subwords 3-6 --buckets N -o MODEL.w2v`` is measured, then
  bench/drivers/w2v_export.py (``w2v.load``) writes both files, unmeasured.

The vocabulary vectors are evaluated like bench/bench.py's (drivers/evaluate.py:
analogies in total, semantic and syntactic; ws353 and simlex Spearman over the pairs
in the vocabulary). Then, here: the OOV Spearman of ws353 and simlex over the pairs
with at least one held-out word, the cosine of each pair (a held-out word's vector
from the tool's OOV file, the other word's from its vocabulary file, else from the
OOV file) against the human score. A pair with a word the tool builds no vector for
is skipped and counted.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as harness  # noqa: E402  (bench/bench.py: the runner functions)

MODES = ("cbow-ns", "sg-ns")                 # negative sampling only
TOOLS = ("w2v", "fasttext", "gensim")
ANCHORS = ("fasttext", "gensim")
TOOL_LABELS = {"w2v": "w2v", "fasttext": "fastText", "gensim": "gensim FastText"}
HOLD_OUT_EVERY = 3                           # every third eligible word, in sorted order
PAIR_SETS = (("ws353", "wordsim353.tsv"), ("simlex", "simlex999.txt"))


@dataclass(frozen=True)
class Subwords:
    minn: int = 3
    maxn: int = 6
    buckets: int = 2_000_000


# ---------------------------------------------------------------------------------------------
# Evaluation data and the held-out words

Pair = Tuple[str, str, float]


def read_pairs(path: Path) -> List[Pair]:
    """(word1, word2, human score) of a tab-separated pair file, lowercased; '#' lines skipped
    (the way gensim's ``evaluate_word_pairs(case_insensitive=True)`` reads it)."""
    pairs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        try:
            score = float(fields[2])
        except ValueError:
            continue
        pairs.append((fields[0].strip().lower(), fields[1].strip().lower(), score))
    return pairs


def question_words(path: Path) -> Set[str]:
    """Every word of every questions-words.txt question, lowercased."""
    words = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            continue
        words.update(w.lower() for w in line.split())
    return words


def _file_key(path: Path) -> str:
    st = Path(path).stat()
    return f"{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}"


def count_words(corpus: Path, words: Sequence[str]) -> Dict[str, int]:
    """How often each of ``words`` occurs as a token of ``corpus``; cached in bench/.cache/subwords/."""
    words = sorted(set(words))
    key = hashlib.sha1((_file_key(corpus) + "\n" + "\n".join(words)).encode()).hexdigest()[:16]
    memo = harness.CACHE_DIR / "subwords" / f"counts-{key}.json"
    if memo.is_file():
        return json.loads(memo.read_text())["counts"]
    wanted = {w.encode("utf-8") for w in words}
    counts: Counter = Counter()
    with open(corpus, "rb") as f:
        for line in f:
            counts.update(t for t in line.split() if t in wanted)
    result = {w: counts.get(w.encode("utf-8"), 0) for w in words}
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(json.dumps({"corpus": str(Path(corpus).resolve()), "counts": result}))
    return result


@dataclass
class HeldOut:
    words: List[str]                         # sorted
    digest: str                              # sha1 of "\n".join(words), first 10 hex digits
    candidates: int                          # pair words not in any analogy question
    eligible: int                            # ... occurring at least min_count times
    pairs: Dict[str, List[Pair]]             # per pair set: the pairs with a held-out word
    pairs_total: Dict[str, int]
    oov_words: List[str]                     # every word of those pairs (what the tools write)


def choose_held_out(corpus: Path, min_count: int, every: int = HOLD_OUT_EVERY) -> HeldOut:
    pair_sets = {name: read_pairs(harness.EVAL_DIR / file) for name, file in PAIR_SETS}
    in_questions = question_words(harness.EVAL_DIR / "questions-words.txt")
    candidates = sorted({w for pairs in pair_sets.values() for a, b, _ in pairs for w in (a, b)}
                        - in_questions)
    counts = count_words(corpus, candidates)
    eligible = [w for w in candidates if counts[w] >= min_count]
    words = eligible[::every]
    held = set(words)
    affected = {name: [p for p in pairs if p[0] in held or p[1] in held]
                for name, pairs in pair_sets.items()}
    oov_words = sorted({w for pairs in affected.values() for a, b, _ in pairs for w in (a, b)})
    return HeldOut(words=words, digest=hashlib.sha1("\n".join(words).encode()).hexdigest()[:10],
                   candidates=len(candidates), eligible=len(eligible), pairs=affected,
                   pairs_total={n: len(p) for n, p in pair_sets.items()}, oov_words=oov_words)


def filtered_corpus(corpus: harness.Corpus, held: HeldOut, echo) -> harness.Corpus:
    """``corpus`` with every token of the held-out words deleted, written once to bench/.cache/.

    Tokens are re-joined with single spaces; every line is kept (possibly empty), so
    article boundaries do not move. A sidecar .json records the source file and the
    words; a file whose sidecar does not match is rewritten.
    """
    path = harness.CACHE_DIR / f"{corpus.path.stem}.heldout-{held.digest}.txt"
    meta_path = path.with_name(path.stem + ".json")
    meta = {"source": _file_key(corpus.path), "held_out": held.words}
    fresh = path.is_file() and meta_path.is_file() and \
        json.loads(meta_path.read_text()) == meta
    if not fresh:
        harness.CACHE_DIR.mkdir(parents=True, exist_ok=True)
        echo(f"[subwords] writing {path} ({len(held.words)} words held out of {corpus.path.name}) ...")
        drop = {w.encode("utf-8") for w in held.words}
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        try:
            with open(corpus.path, "rb") as fin, open(tmp, "wb") as fout:
                for line in fin:
                    fout.write(b" ".join(t for t in line.split() if t not in drop) + b"\n")
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        meta_path.write_text(json.dumps(meta, indent=0) + "\n")
    tokens, lines = harness.count_tokens(path)
    return harness.Corpus(path=path, source=str(corpus.path),
                          prefix=f"{corpus.prefix}, held-out-{held.digest}",
                          bytes=path.stat().st_size, lines=lines, tokens=tokens)


# ---------------------------------------------------------------------------------------------
# Reading the tools' vectors back

def read_word2vec_binary(path: Path, wanted: Set[str]) -> Tuple[Dict[str, np.ndarray], Set[str], int]:
    """The vectors of the ``wanted`` words in a word2vec binary file, every word of the file
    (the vocabulary) and the dimension."""
    data = Path(path).read_bytes()
    end = data.index(b"\n")
    n, dim = (int(x) for x in data[:end].split())
    pos, row_bytes = end + 1, 4 * dim
    vectors, vocab = {}, set()
    for _ in range(n):
        while data[pos:pos + 1] in (b"\n", b"\r"):
            pos += 1
        space = data.index(b" ", pos)
        word = data[pos:space].decode("utf-8", "replace")
        vocab.add(word)
        if word in wanted:
            vectors[word] = np.frombuffer(data, dtype="<f4", count=dim, offset=space + 1).astype(np.float64)
        pos = space + 1 + row_bytes
    return vectors, vocab, dim


def read_word2vec_text(path: Path) -> Dict[str, np.ndarray]:
    with open(path, encoding="utf-8") as f:
        n, dim = (int(x) for x in f.readline().split())
        vectors = {}
        for line in f:
            fields = line.rstrip("\n").split(" ")
            if len(fields) != dim + 1:
                raise ValueError(f"{path}: a line with {len(fields) - 1} numbers, not {dim}")
            vectors[fields[0]] = np.array(fields[1:], dtype=np.float32).astype(np.float64)
    if len(vectors) != n:
        raise ValueError(f"{path}: header says {n} words, found {len(vectors)}")
    return vectors


def oov_spearman(pairs: List[Pair], held: Set[str], vocab: Dict[str, np.ndarray],
                 oov: Dict[str, np.ndarray]) -> dict:
    """Spearman of the cosines against the human scores over ``pairs`` (each with a held-out
    word); a held-out word's vector comes from ``oov``, another word's from ``vocab`` if
    it is there, else from ``oov``. Pairs with a word that has no (non-zero) vector are skipped."""
    from scipy.stats import spearmanr

    def vector(word):
        v = oov.get(word) if word in held else vocab.get(word, oov.get(word))
        return v if v is not None and np.any(v) else None

    cosines, scores, skipped = [], [], []
    for a, b, score in pairs:
        va, vb = vector(a), vector(b)
        if va is None or vb is None:
            skipped.append(f"{a}/{b}")
            continue
        cosines.append(float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb))))
        scores.append(score)
    rho = None
    if len(cosines) >= 3:
        rho = float(spearmanr(cosines, scores).statistic)
        rho = None if np.isnan(rho) else rho
    return {"spearman": rho, "pairs": len(cosines), "skipped": len(skipped),
            "skipped_pairs": skipped}


# ---------------------------------------------------------------------------------------------
# One (mode, tool) run

def tool_argv(tool: str, mode: harness.Mode, settings: harness.Settings, sub: Subwords,
              corpus: Path, out: Path, oov_words: Path, oov_out: Path, seed: int) -> List[str]:
    """The measured command. fastText/gensim write ``out`` (vocabulary, binary) and ``oov_out``;
    w2v writes the model file ``out`` (.w2v, n-gram matrix included)."""
    base = harness.tool_command(tool, mode, settings, corpus, out, seed=seed)
    if tool == "w2v":
        return base + ["--subwords", f"{sub.minn}-{sub.maxn}", "--buckets", str(sub.buckets)]
    return base + ["--minn", str(sub.minn), "--maxn", str(sub.maxn), "--bucket", str(sub.buckets),
                   "--oov-words", str(oov_words), "--oov-out", str(oov_out)]


def _json_tail(log: str) -> dict:
    """The last JSON line a driver printed (its report), or {}."""
    try:
        lines = Path(log).read_text(errors="replace").splitlines()
    except OSError:
        return {}
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return {}
    return {}


def _compact(report: dict) -> dict:
    """A driver's report with the list of missing OOV words replaced by its length and a sample."""
    out = dict(report)
    if isinstance(out.get("oov_missing"), list):
        out["oov_missing_sample"] = out["oov_missing"][:20]
        out["oov_missing"] = len(out["oov_missing"])
    return out


def run_tool(tool: str, mode: harness.Mode, settings: harness.Settings, sub: Subwords,
             corpus: harness.Corpus, held: HeldOut, oov_words: Path, work_dir: Path,
             timeout: Optional[float], keep_vectors: bool, seed: int = 1,
             eval_timeout: Optional[float] = 900) -> dict:
    """Train, export, evaluate; the row always comes back (status ok/skipped/failed/timeout/
    export-failed/eval-failed, with ``error``)."""
    row = {"mode": mode.name, "tool": tool, "tool_label": TOOL_LABELS[tool],
           "version": harness.tool_version(tool), "threads": settings.threads,
           "epochs": settings.epochs, "tokens": corpus.tokens, "seed": seed,
           "status": "ok", "error": None}
    logs = work_dir / "logs"
    stem = f"{mode.name}.{tool}"
    vocab_bin, oov_out = work_dir / f"{stem}.bin", work_dir / f"{stem}.oov.txt"
    model = work_dir / f"{stem}.w2v" if tool == "w2v" else vocab_bin
    made = [model, vocab_bin, oov_out]
    try:
        argv = tool_argv(tool, mode, settings, sub, corpus.path, model, oov_words, oov_out, seed)
    except harness.ToolUnavailable as e:
        row.update(status="skipped", error=str(e))
        return row
    for f in made:
        if f.exists():
            f.unlink()
    try:
        m = harness.run_measured(argv, logs / f"{stem}.log", timeout)
        row.update(command=shlex.join(m.argv), argv=m.argv, log=m.log)
        if not m.ok:
            row.update(status="timeout" if m.timed_out else "failed",
                       error=harness._failure_text(m), log_tail=harness.log_tail(m.log))
            return row
        words = corpus.tokens * settings.epochs
        row.update(wall_s=m.wall_s, words_per_s=words / m.wall_s,
                   words_per_s_per_thread=words / m.wall_s / settings.threads,
                   peak_rss_kb=m.peak_rss_kb, peak_mb=m.peak_mb, user_s=m.user_s, sys_s=m.sys_s,
                   cpu_utilisation=(m.user_s + m.sys_s) / m.wall_s)
        if tool == "w2v":
            row.update(harness.w2v_training_phase(Path(m.log)))
            if not model.is_file():
                row.update(status="failed", error=f"exited 0 but wrote no model to {model}")
                return row
            row["model_bytes"] = model.stat().st_size
            export = [sys.executable, str(harness.DRIVERS_DIR / "w2v_export.py"), str(model),
                      "--bin", str(vocab_bin), "--oov-words", str(oov_words), "--oov-out", str(oov_out)]
            e = harness.run_measured(export, logs / f"{stem}.export.log", eval_timeout)
            row["export"] = {"command": shlex.join(export), "wall_s": e.wall_s, "peak_mb": e.peak_mb,
                             "report": _compact(_json_tail(e.log))}
            if not e.ok:
                row.update(status="export-failed", error="w2v_export.py: " + harness._failure_text(e),
                           log_tail=harness.log_tail(e.log))
                return row
            if row["export"]["report"].get("ngrams") is False:
                row["warning"] = ("w2v.load gave vectors without n-gram rows: no OOV word can be "
                                  "built, and the vocabulary vectors may be the raw word rows")
        else:
            row["driver"] = _compact(_json_tail(m.log))
        missing = [str(f) for f in (vocab_bin, oov_out) if not f.is_file()]
        if missing:
            row.update(status="failed", error=f"no vectors written to {', '.join(missing)}")
            return row
        row["vectors_bytes"] = vocab_bin.stat().st_size
        ev = harness.evaluate_vectors(vocab_bin, logs / f"{stem}.eval.log", eval_timeout)
        row["eval"] = ev
        if "error" in ev:
            row.update(status="eval-failed", error="evaluation: " + ev["error"])
        else:
            an = ev["analogy"]
            row["analogy"] = {"total": an["percent"],
                              "semantic": (an.get("semantic") or {}).get("percent"),
                              "syntactic": (an.get("syntactic") or {}).get("percent")}
            row["ws353"], row["simlex"] = ev["ws353"]["spearman"], ev["simlex"]["spearman"]
        row.update(oov_scores(held, vocab_bin, oov_out))
        return row
    finally:
        if not keep_vectors:
            for f in made:
                if f.exists():
                    f.unlink()


def oov_scores(held: HeldOut, vocab_bin: Path, oov_out: Path) -> dict:
    """The OOV Spearman per pair set, and two checks of the tool's files: held-out words found
    in its vocabulary (should be none) and, for words in both files, the largest difference
    between the vocabulary vector and the one built for the OOV file (should be ~0)."""
    held_set = set(held.words)
    vocab, vocab_words, _ = read_word2vec_binary(vocab_bin, set(held.oov_words))
    oov = read_word2vec_text(oov_out)
    out = {}
    for name, pairs in held.pairs.items():
        out[f"oov_{name}"] = oov_spearman(pairs, held_set, vocab, oov)
    both = [w for w in vocab if w in oov]
    out["oov_checks"] = {
        "held_out_in_vocab": sorted(held_set & vocab_words),
        "oov_words_written": len(oov),
        "held_out_written": len(held_set & oov.keys()),
        "vocab_words_compared": len(both),
        "max_abs_diff_vocab_vs_oov": max((float(np.max(np.abs(vocab[w] - oov[w]))) for w in both),
                                         default=None),
    }
    return out


# ---------------------------------------------------------------------------------------------
# Tables

def _cell(x, spec: str) -> str:
    return "" if x is None else format(x, spec)


def _oov_cell(entry: Optional[dict]) -> str:
    if not entry:
        return ""
    text = _cell(entry["spearman"], ".3f") or "n/a"
    text += f" (n={entry['pairs']}"
    return text + (f", {entry['skipped']} skipped)" if entry["skipped"] else ")")


def results_table(rows: List[dict]) -> str:
    out = ["| mode | tool | wall s | words/s | peak MB | analogy % | sem % | syn % | ws353 | simlex | "
           "oov ws353 | oov simlex |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("wall_s") is None:
            error = (r.get("error") or "").replace("|", "/")
            error = error if len(error) <= 160 else error[:157] + "..."
            out.append(f"| {r['mode']} | {r['tool_label']} | {r['status'].upper()}: {error} "
                       f"| | | | | | | | | |")
            continue
        an = r.get("analogy") or {}
        note = f" ({r['status']})" if r["status"] != "ok" else ""
        out.append(f"| {r['mode']} | {r['tool_label']}{note} | {r['wall_s']:.1f} | "
                   f"{r['words_per_s'] / 1e6:.2f} M | {r['peak_mb']:.0f} | "
                   f"{_cell(an.get('total'), '.2f')} | {_cell(an.get('semantic'), '.2f')} | "
                   f"{_cell(an.get('syntactic'), '.2f')} | {_cell(r.get('ws353'), '.3f')} | "
                   f"{_cell(r.get('simlex'), '.3f')} | {_oov_cell(r.get('oov_ws353'))} | "
                   f"{_oov_cell(r.get('oov_simlex'))} |")
    return "\n".join(out)


def ratio_table(ratios: List[dict]) -> str:
    out = ["| mode | w2v / fastText | w2v / gensim FastText | w2v / fastest anchor |", "|---|---|---|---|"]
    for e in ratios:
        cells = [f"{e['vs'][t]:.2f}x" if t in e["vs"] else "" for t in ANCHORS]
        fastest = (f"{e['vs_fastest']:.2f}x ({TOOL_LABELS[e['fastest_anchor']]})"
                   if "vs_fastest" in e else "")
        out.append(f"| {e['mode']} | " + " | ".join(cells) + f" | {fastest} |")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Command line

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", type=harness._csv(MODES), default=["cbow-ns"],
                   help="comma-separated, from " + ",".join(MODES) + " (default: cbow-ns)")
    p.add_argument("--tools", type=harness._csv(TOOLS), default=list(TOOLS),
                   help="comma-separated, from " + ",".join(TOOLS) + " (default: all)")
    p.add_argument("--threads", type=int, default=2, help="threads per tool (default: %(default)s)")
    harness.add_corpus_options(p, harness.DEFAULT_LINES)
    harness.add_settings_options(p, default_epochs=5)
    d = Subwords()
    g = p.add_argument_group("subwords (the same for every tool)")
    g.add_argument("--minn", type=int, default=d.minn, help="shortest n-gram (default: %(default)s)")
    g.add_argument("--maxn", type=int, default=d.maxn, help="longest n-gram (default: %(default)s)")
    g.add_argument("--buckets", type=int, default=d.buckets, help="n-gram hash buckets (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="seed of every tool (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per training run (default: %(default)s)")
    p.add_argument("--keep-vectors", action="store_true",
                   help="keep the vectors (and w2v's model file) in the work folder")
    p.add_argument("--work-dir", default=None,
                   help="vectors and logs (default: a new folder under bench/.cache/runs/)")
    p.add_argument("--out", default=None, help="JSON file (default: bench/results/subwords-DATE-HOST.json)")
    p.add_argument("--markdown", action="store_true",
                   help="print the results as markdown tables, also written to OUT with the suffix .md")
    a = p.parse_args(argv)
    if not 0 < a.minn <= a.maxn:
        p.error(f"need 0 < --minn <= --maxn, got {a.minn} and {a.maxn}")
    if a.buckets < 1:
        p.error("--buckets must be at least 1")
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    echo = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    info = harness.machine_info()
    source = harness.corpus_from_args(a, harness.DEFAULT_LINES)
    settings = harness.settings_from_args(a, a.threads)
    sub = Subwords(a.minn, a.maxn, a.buckets)
    held = choose_held_out(source.path, settings.min_count)
    corpus = filtered_corpus(source, held, echo)
    if a.work_dir:
        work_dir = Path(a.work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
    else:
        (harness.CACHE_DIR / "runs").mkdir(parents=True, exist_ok=True)
        work_dir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-subwords-"),
                                         dir=harness.CACHE_DIR / "runs"))
    oov_words = work_dir / "oov-words.txt"
    oov_words.write_text("".join(w + "\n" for w in held.oov_words), encoding="utf-8")
    out = Path(a.out) if a.out else harness.default_out("subwords")
    pair_counts = {n: len(p) for n, p in held.pairs.items()}
    echo(f"[subwords] corpus {corpus.path} ({corpus.lines:,} lines, {corpus.tokens:,} tokens; "
         f"{source.tokens - corpus.tokens:,} tokens of {len(held.words)} held-out words deleted "
         f"from {source.path.name}); pairs with a held-out word: "
         + ", ".join(f"{n} {c}/{held.pairs_total[n]}" for n, c in pair_counts.items())
         + f"; {settings}; {sub}; logs in {work_dir}")
    if "w2v" in a.tools and info["w2v_install_warning"]:
        echo(f"[subwords] WARNING: {info['w2v_install_warning']}")
    rows = []
    for mode_name in a.modes:
        for tool in a.tools:
            row = run_tool(tool, harness.MODES[mode_name], settings, sub, corpus, held, oov_words,
                           work_dir, a.timeout, a.keep_vectors, seed=a.seed)
            rows.append(row)
            if row.get("wall_s") is not None:
                an = row.get("analogy") or {}
                oov = [(row.get(f"oov_{n}") or {}).get("spearman") for n, _ in PAIR_SETS]
                msg = (f"{row['wall_s']:.1f} s, {row['words_per_s'] / 1e6:.3f} M words/s, "
                       f"{row['peak_mb']:.0f} MB, analogy {_cell(an.get('total'), '.2f')}%, "
                       f"oov ws353 {_cell(oov[0], '.3f')}, oov simlex {_cell(oov[1], '.3f')}")
                if row["status"] != "ok":
                    msg += f"; {row['status'].upper()}: {row['error']}"
                if row.get("warning"):
                    msg += f"; WARNING: {row['warning']}"
            else:
                msg = f"{row['status'].upper()}: {row['error']}"
            echo(f"[subwords] {mode_name:8s} {TOOL_LABELS[tool]:15s} {msg}")
    ratios = harness.speed_ratios(rows)
    info["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    report = {
        "command_line": shlex.join([sys.executable, *sys.argv]),
        "machine": info,
        "source_corpus": {**asdict(source), "path": str(source.path)},
        "corpus": {**asdict(corpus), "path": str(corpus.path)},
        "held_out": {"count": len(held.words), "digest": held.digest, "every": HOLD_OUT_EVERY,
                     "candidates": held.candidates, "eligible": held.eligible,
                     "tokens_deleted": source.tokens - corpus.tokens,
                     "pairs_with_held_out": pair_counts, "pairs_total": held.pairs_total,
                     "words": held.words, "oov_words_asked": len(held.oov_words)},
        "settings": asdict(settings), "subwords": asdict(sub), "seed": a.seed,
        "timeout_s": a.timeout, "work_dir": str(work_dir), "results": rows, "ratios": ratios,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    echo(f"[subwords] wrote {out}")
    if a.markdown:
        text = (f"Corpus: {source.path.name} ({source.prefix}) less {len(held.words)} held-out words "
                f"= {corpus.tokens:,} tokens; pairs with a held-out word: "
                + ", ".join(f"{n} {c}" for n, c in pair_counts.items())
                + f"; {settings.threads} threads, {settings.epochs} epoch(s), n-grams "
                f"{sub.minn}-{sub.maxn}, {sub.buckets:,} buckets; {info['cpu_model']}; commit "
                f"{(info['git_commit'] or '?')[:10]}{' (dirty)' if info['git_dirty'] else ''}\n\n"
                + results_table(rows))
        if ratios:
            text += "\n\nw2v words/s relative to each anchor (higher is better):\n\n" + ratio_table(ratios)
        print(text, flush=True)
        md = out.with_suffix(".md")
        md.write_text(text + "\n")
        echo(f"[subwords] wrote {md}")
    return 0 if all(r["status"] in ("ok", "skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
