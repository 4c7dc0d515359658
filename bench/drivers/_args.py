"""The training options every driver takes (the same for all tools)."""
import argparse


def training_args():
    """Parse --corpus, --out and the shared hyperparameters from the command line."""
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--sg", type=int, required=True)
    p.add_argument("--hs", type=int, required=True)
    p.add_argument("--negative", type=int, required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--window", type=int, required=True)
    p.add_argument("--sample", type=float, required=True)
    p.add_argument("--min-count", type=int, required=True)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--alpha", type=float, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    return a
