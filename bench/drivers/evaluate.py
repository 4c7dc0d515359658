"""Evaluate saved word2vec-format vectors the same way for every tool; print JSON.

Usage: python evaluate.py VECTORS [--text] --questions Q --wordsim W --simlex S
       [--restrict-vocab 30000]

Analogies: gensim's ``evaluate_word_analogies(Q, restrict_vocab=30000,
case_insensitive=True)``, in total, per section, and over the semantic and the
syntactic sections apart (``analogy.semantic``/``analogy.syntactic``; syntactic:
the sections whose name starts with "gram"); word pairs: ``evaluate_word_pairs``
(Spearman and Pearson, with the out-of-vocabulary ratio). Run by bench/bench.py
in its own process after the timed run, so it never counts against a tool.
"""
import argparse
import json
import sys
import time

from gensim.models import KeyedVectors


def _section_group(sections, syntactic):
    """Accuracy over the semantic sections or the syntactic ones ("gram..." in
    questions-words.txt), counted like the total: correct / questions seen."""
    chosen = [s for s in sections if s["section"] != "Total accuracy"
              and s["section"].startswith("gram") == syntactic]
    correct = sum(len(s["correct"]) for s in chosen)
    seen = correct + sum(len(s["incorrect"]) for s in chosen)
    return {"correct": correct, "seen": seen,
            "accuracy": correct / seen if seen else None,
            "percent": 100.0 * correct / seen if seen else None}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("vectors")
    p.add_argument("--text", action="store_true", help="word2vec text format (default: binary)")
    p.add_argument("--questions", required=True)
    p.add_argument("--wordsim", required=True)
    p.add_argument("--simlex", required=True)
    p.add_argument("--restrict-vocab", type=int, default=30000)
    a = p.parse_args()
    t0 = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(a.vectors, binary=not a.text)
    score, sections = kv.evaluate_word_analogies(a.questions, restrict_vocab=a.restrict_vocab,
                                                 case_insensitive=True)
    total = next(s for s in sections if s["section"] == "Total accuracy")
    seen = len(total["correct"]) + len(total["incorrect"])
    result = {
        "vocab_size": len(kv.index_to_key),
        "dim": kv.vector_size,
        "analogy": {
            "accuracy": float(score),
            "percent": 100.0 * float(score),
            "correct": len(total["correct"]),
            "seen": seen,
            "sections": {s["section"]: [len(s["correct"]), len(s["correct"]) + len(s["incorrect"])]
                         for s in sections if s["section"] != "Total accuracy"},
        },
    }
    for kind, syntactic in (("semantic", False), ("syntactic", True)):
        result["analogy"][kind] = _section_group(sections, syntactic)
    for name, path in (("ws353", a.wordsim), ("simlex", a.simlex)):
        pearson, spearman, oov_percent = kv.evaluate_word_pairs(path, case_insensitive=True)
        result[name] = {"spearman": float(spearman[0]), "pearson": float(pearson[0]),
                        "oov_percent": float(oov_percent)}
    result["eval_seconds"] = time.perf_counter() - t0
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
