#!/usr/bin/env python3
"""Write the seed corpora for bench/fuzz/fuzz_readers.py: small valid files of every
format (and a few text corpora) into bench/fuzz/corpus/TARGET/ (not committed).

    python bench/fuzz/make_seeds.py [--out bench/fuzz/corpus]
"""
import argparse
import bz2
import gzip
from pathlib import Path

import numpy as np

from w2v import io
from w2v.config import TrainConfig
from w2v.model import Model

WORDS = [["a", "b"], ["king", "queen", "żółw", "日本"], ["x"]]
TEXTS = [b"the cat sat\non the mat\n", "żółw 日本 żółw\n\n  a\tb\r\n".encode(),
         b"a " * 20 + b"\n" + b"b c\n" * 3, b"caf\xe9 ok caf\xe8\n", b"word"]


def vector_files(folder: Path):
    """(name, bytes) of valid bin, txt and model files."""
    rng = np.random.default_rng(0)
    for i, words in enumerate(WORDS):
        for dim in (1, 3):
            m = rng.standard_normal((len(words), dim)).astype(np.float32)
            for fmt in ("bin", "txt", "model"):
                path = folder / f"tmp.{fmt}"
                if fmt == "model":
                    io.save_model(path, Model(TrainConfig(size=dim, hs=True), words,
                                              np.arange(len(words), 0, -1), m, output_ns=m,
                                              output_hs=m[1:], epoch_losses=[1.5],
                                              history=[{"epoch": 1}]))
                else:
                    io.write_word2vec(path, words, m, binary=(fmt == "bin"))
                yield fmt, f"{fmt}-{i}-{dim}", path.read_bytes()
                path.unlink()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "corpus")
    a = p.parse_args()
    for target in ("bin", "txt", "model", "detect", "corpus"):
        (a.out / target).mkdir(parents=True, exist_ok=True)
    n = 0
    for fmt, name, data in vector_files(a.out):
        for target in (fmt, "detect"):
            (a.out / target / name).write_bytes(data)
            n += 1
    for i, text in enumerate(TEXTS):
        # the corpus target reads 4 control bytes (chunk, max word bytes, max entries,
        # min count) before the text
        for j, prefix in enumerate((b"\x05\x20\x00\x00", b"\x01\x03\x03\x01")):
            for k, blob in enumerate((text, gzip.compress(text), bz2.compress(text))):
                (a.out / "corpus" / f"text-{i}-{j}-{k}").write_bytes(prefix + blob)
                n += 1
    print(f"wrote {n} seed files under {a.out}")


if __name__ == "__main__":
    main()
