"""Training speed of two builds of w2v, interleaved in one invocation (A B A B ...).

Each tree must hold a built checkout (``python setup.py build_ext --inplace``).
Every run trains one mode for one epoch in a fresh process with that tree first
on ``sys.path`` and reports the training loop's words/s (the model history's
``train`` record); the table gives each tree's median and the B/A ratio, with the
spread of the per-pair ratios. A core change should leave the ratio within that
spread:

    python bench/ab_speed.py --a /tmp/before --b . --tokens 4e6 --repeat 3

A "tree" may also be an installed package's site-packages (a wheel), and
``--a-env``/``--b-env`` set environment variables for one side, e.g.
``--b-env W2V_ISA=avx2`` to time one level of the dispatched core. The "best"
columns are each side's fastest run: on a shared machine interference only ever
slows a run down, so best-of-N is the steadier comparison of two builds; ``--pin``
runs every child on the given CPUs (``taskset``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MODES = {"cbow-ns": dict(sg=False), "sg-ns": dict(sg=True),
         "cbow-hs": dict(sg=False, hs=True, negative=0), "sg-hs": dict(sg=True, hs=True, negative=0)}
RUN = ("import json, sys, w2v; m = w2v.train(sys.argv[1], epochs=1, seed=1, threads=int(sys.argv[2]), "
       "**json.loads(sys.argv[3])); r = m.history[-1]; "
       "print(json.dumps({'words_per_sec': r['words_per_sec'], 'where': w2v.__file__}))")


def run(tree: str, corpus: str, threads: int, mode: str, extra: dict, env_extra: dict,
        pin: str = "") -> float:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree), **env_extra)
    command = [sys.executable, "-c", RUN, corpus, str(threads), json.dumps({**MODES[mode], **extra})]
    out = subprocess.run((["taskset", "-c", pin] if pin else []) + command,
                         capture_output=True, text=True, env=env, cwd=os.path.abspath(tree), check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if not r["where"].startswith(os.path.abspath(tree)):
        raise SystemExit(f"{tree}: imported w2v from {r['where']}")
    return r["words_per_sec"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="the 'before' tree")
    ap.add_argument("--b", required=True, help="the 'after' tree")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--tokens", default="4e6")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--extra", default="{}", help='more w2v.train options as JSON, e.g. '
                    '\'{"subwords": [3, 6]}\' (both trees must accept them)')
    ap.add_argument("--a-env", default="", help="KEY=VALUE[,KEY=VALUE] for the A runs")
    ap.add_argument("--b-env", default="", help="KEY=VALUE[,KEY=VALUE] for the B runs")
    ap.add_argument("--pin", default="", help="run every child on these CPUs, e.g. 1 or 0,1")
    args = ap.parse_args(argv)
    a_env, b_env = (dict(kv.split("=", 1) for kv in spec.split(",") if kv)
                    for spec in (args.a_env, args.b_env))
    from bench import prepare_corpus
    corpus = str(prepare_corpus(None, tokens=int(float(args.tokens))).path)
    print("| mode | A words/s (median) | B words/s (median) | B/A | per-pair B/A range "
          "| A best | B best | B/A best |")
    print("|---|---|---|---|---|---|---|---|")
    for mode in args.modes.split(","):
        a, b = [], []
        for _ in range(args.repeat):
            a.append(run(args.a, corpus, args.threads, mode, json.loads(args.extra), a_env, args.pin))
            b.append(run(args.b, corpus, args.threads, mode, json.loads(args.extra), b_env, args.pin))
        ratios = [y / x for x, y in zip(a, b)]
        print(f"| {mode} | {statistics.median(a) / 1e6:.3f} M | {statistics.median(b) / 1e6:.3f} M | "
              f"{statistics.median(b) / statistics.median(a):.3f} | {min(ratios):.3f}-{max(ratios):.3f} | "
              f"{max(a) / 1e6:.3f} M | {max(b) / 1e6:.3f} M | {max(b) / max(a):.3f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
