"""Time w2v's counting and encoding passes: ``w2v.vocab.build`` with the encoded corpus
in memory (or on disk), on ``--threads`` threads. Run by bench/passes_speed.py in a
fresh process; prints one JSON line (seconds of each pass, vocabulary size, tokens,
parts). The encoding pass starts at the first progress call of stage "encode"."""
import argparse
import json
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("corpus")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--corpus-cache", default="memory", choices=["memory", "disk"])
    p.add_argument("--cache-dir", default=None)
    a = p.parse_args()
    from w2v.config import TrainConfig
    from w2v.corpus import TextSource
    from w2v.vocab import _parts, build
    config = TrainConfig(threads=a.threads, min_count=a.min_count, corpus_cache=a.corpus_cache,
                         cache_dir=a.cache_dir)
    marks = {}

    def progress(stage, done, total):
        marks.setdefault(stage, time.perf_counter())

    t0 = time.perf_counter()
    vocab, encoded = build(a.corpus, config, progress)
    t1 = time.perf_counter()
    encode_start = marks.get("encode", t1)
    print(json.dumps({"threads": a.threads, "parts": len(_parts(TextSource(a.corpus), config)),
                      "count_seconds": encode_start - t0, "encode_seconds": t1 - encode_start,
                      "total_seconds": t1 - t0, "vocab_size": len(vocab),
                      "raw_tokens": int(vocab.raw_tokens), "units": int(len(encoded.units))}))


if __name__ == "__main__":
    main()
