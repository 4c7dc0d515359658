"""Time w2v's vocabulary pass alone: ``w2v.vocab.count_file(path, TrainConfig(min_count=N))``.

Run by bench/vocab_speed.py in its own process (the harness also measures the
whole process). Prints one JSON line: seconds inside count_file, vocabulary size
at min_count and raw tokens. Exit status 3 when the hook does not exist yet.
"""
import argparse
import json
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("corpus")
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--max-vocab-size", type=int, default=None,
                   help="prune while counting (bench/stress_vocab.py)")
    a = p.parse_args()
    try:
        from w2v.config import TrainConfig
        from w2v.vocab import count_file           # HOOK: the vocabulary-only pass of w2v
    except ImportError as e:
        print(f"w2v vocabulary hook missing: {e}", file=sys.stderr)
        sys.exit(3)
    config = TrainConfig(min_count=a.min_count, max_vocab_size=a.max_vocab_size)
    t0 = time.perf_counter()
    vocab = count_file(a.corpus, config)
    seconds = time.perf_counter() - t0
    print(json.dumps({"count_seconds": seconds, "vocab_size": len(vocab),
                      "raw_tokens": int(getattr(vocab, "raw_tokens", 0)),
                      "distinct_tokens": int(getattr(vocab, "distinct_tokens", 0)),
                      "pruned": bool(getattr(vocab, "pruned", False))}))


if __name__ == "__main__":
    main()
