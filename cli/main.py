"""``w2v``: the command line. Commands parse options and call the library.

Every deliberate error (:class:`w2v.W2VError`) becomes a one-line
``Error: ...`` on stderr and exit status 1; Ctrl-C exits with 130 and SIGTERM
with 143, after stopping the training threads.
"""
from __future__ import annotations


import click

from .. import __version__
from ..config import (CORPUS_CACHES, ENCODING_ERRORS, PHRASE_SCORINGS, SYNC_BACKENDS, SYNC_RULES,
                      ClusterConfig, TrainConfig)
from ..io import FORMATS, format_from_extension
from ..errors import ConfigError, TrainingInterrupted
from ..outputs import check_outputs
from .errors import friendly_errors


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="w2v")
def main():
    """w2v: train and query word2vec embeddings (CBOW / skip-gram, negative sampling /
    hierarchical softmax), fast."""


#: every default below is the library's: one place for them (w2v.config)
TRAIN = TrainConfig()
CLUSTER = ClusterConfig()


def output_format(path: str, fmt: str | None) -> str:
    """The library's format for ``path`` (w2v.io), its error naming --output."""
    try:
        return format_from_extension(path, fmt)
    except ConfigError as e:
        raise ConfigError(f"--output: {e}") from None


@main.command()
@click.argument("corpus", type=click.Path(dir_okay=True, allow_dash=False))
@click.option("-o", "--output", required=True, help="Vectors file: .bin (word2vec binary), "
              ".txt/.vec (word2vec text) or .w2v (w2v model, resumable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: from the extension).")
@click.option("--save-model", type=click.Path(dir_okay=False), default=None,
              help="Also write the full model (all weights, resumable) to this .w2v file.")
@click.option("--resume", "resume_path", type=click.Path(dir_okay=False), default=None,
              help="Continue training this .w2v model on CORPUS (its architecture and, unless "
                   "--update-vocab, its vocabulary are kept; --iter, --alpha, --min-alpha and "
                   "--threads apply).")
@click.option("--update-vocab", is_flag=True,
              help="With --resume: words of CORPUS that reach --min-count join the vocabulary "
                   "(new rows; counts merged, sampling tables rebuilt).")
@click.option("--cbow/--sg", "cbow", default=not TRAIN.sg, show_default=True,
              help="CBOW (predict the word from its context) or skip-gram.")
@click.option("--size", "--dim", "size", type=int, default=TRAIN.size, show_default=True,
              help="Vector dimension.")
@click.option("--window", type=int, default=TRAIN.window, show_default=True,
              help="Maximum context distance.")
@click.option("--shrink-window/--fixed-window", default=TRAIN.shrink_window, show_default=True,
              help="Draw each word's window uniformly from 1..window.")
@click.option("--negative", type=int, default=TRAIN.negative, show_default=True,
              help="Noise words per example (0 = no negative sampling).")
@click.option("--ns-exponent", type=float, default=TRAIN.ns_exponent, show_default=True,
              help="Noise distribution exponent: P(w) ~ count(w)^x.")
@click.option("--hs/--no-hs", default=TRAIN.hs, show_default=True, help="Hierarchical softmax.")
@click.option("--sg-batch/--sg-pairs", default=TRAIN.sg_batch, show_default=True,
              help="Skip-gram: one step per window with shared noise words (fast), or one "
                   "step per (context, word) pair as word2vec.c does.")
@click.option("--hot-nodes", type=int, default=TRAIN.hot_nodes, show_default=True,
              help="--hs with several threads: Huffman nodes nearest the root that each thread "
                   "updates in a private copy, averaged into the shared rows every 256 words "
                   "(0 = off).")
@click.option("--sample", type=float, default=TRAIN.sample, show_default=True,
              help="Subsampling threshold for frequent words (0 = off).")
@click.option("--min-count", type=int, default=TRAIN.min_count, show_default=True,
              help="Ignore words seen fewer times.")
@click.option("--max-vocab-size", type=int, default=None,
              help="Prune rare words while counting to keep at most this many (bounded memory).")
@click.option("--max-sentence-length", type=int, default=TRAIN.max_sentence_length,
              show_default=True,
              help="Longer lines are split into pieces of this many words.")
@click.option("--threads", type=int, default=TRAIN.threads, show_default="the cores, up to 8",
              help="Training threads.")
@click.option("--iter", "--epochs", "epochs", type=int, default=TRAIN.epochs, show_default=True,
              help="Passes over the corpus.")
@click.option("--alpha", type=float, default=None,
              help="Start learning rate [default: 0.025 skip-gram, 0.05 CBOW].")
@click.option("--min-alpha", type=float, default=None,
              help="Final learning rate [default: alpha * 1e-4].")
@click.option("--cbow-mean/--cbow-sum", default=TRAIN.cbow_mean, show_default=True,
              help="CBOW hidden layer: mean or sum of the context vectors.")
@click.option("--seed", type=int, default=TRAIN.seed, show_default=True)
@click.option("--corpus-cache", type=click.Choice(CORPUS_CACHES), default=TRAIN.corpus_cache,
              show_default=True,
              help="Keep the encoded corpus in memory, or encode it to a cache on disk that "
                   "training maps (memory stays bounded; later runs on the same file reuse "
                   "it); auto: disk when the encoding would fill a quarter of the free memory.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the disk cache [default: $W2V_CACHE_DIR, else "
                   "$XDG_CACHE_HOME/w2v or ~/.cache/w2v].")
@click.option("--encoding-errors", type=click.Choice(ENCODING_ERRORS),
              default=TRAIN.encoding_errors, show_default=True,
              help="What to do with invalid UTF-8.")
@click.option("--phrases", type=int, default=TRAIN.phrases, show_default=True,
              help="Before training, join frequent word pairs into phrases (new_york) in N passes "
                   "(2 passes: up to four-word phrases); the corpus is rewritten on the fly.")
@click.option("--phrase-threshold", type=float, default=None,
              help="Phrase score threshold [default: 100, or 0.5 with --phrase-scoring npmi].")
@click.option("--phrase-min-count", type=int, default=TRAIN.phrase_min_count, show_default=True,
              help="Pairs seen fewer times are never phrases.")
@click.option("--phrase-scoring", type=click.Choice(PHRASE_SCORINGS), default=TRAIN.phrase_scoring,
              show_default=True, help="word2phrase's score or normalised PMI.")
@click.option("--subwords", default="0", show_default=True, metavar="MIN-MAX",
              help="fastText-style subword vectors: each word's input is the mean of its row and "
                   "its character n-grams' rows, MIN..MAX characters long (3-6 is fastText's "
                   "choice), so words never seen get vectors too; 0 trains plain word2vec.")
@click.option("--buckets", type=int, default=TRAIN.buckets, show_default=True,
              help="With --subwords: rows of the n-gram matrix the n-grams are hashed into.")
@click.option("--cluster", "cluster", default=None, metavar="ADDRESS",
              help="Train on a Ray cluster (pip install 'w2v[ray]'): auto, host:6379, "
                   "ray://host:10001, or 'local' for local worker processes. CORPUS must be an "
                   "uncompressed file every node can read at the same path.")
@click.option("--workers", type=int, default=CLUSTER.workers, show_default=True,
              help="With --cluster: worker processes (one per node).")
@click.option("--threads-per-worker", type=int, default=None,
              help="With --cluster: training threads of each worker [default: --threads].")
@click.option("--sync-words", type=int, default=CLUSTER.sync_words, show_default=True,
              help="With --cluster: words all workers together train between sync rounds "
                   "(each waits for every round); fewer words, closer to one machine's "
                   "accuracy, more rounds. 0: sync every --sync-period seconds instead, "
                   "training through the rounds.")
@click.option("--sync-period", type=float, default=CLUSTER.sync_period, show_default=True,
              help="With --cluster and --sync-words 0: seconds between sync rounds.")
@click.option("--sync-rows", type=int, default=CLUSTER.sync_rows, show_default=True,
              help="With --cluster: most frequent rows synced every round; rarer rows in "
                   "tiers twice as large, half as often.")
@click.option("--sync-backend", type=click.Choice(SYNC_BACKENDS), default=CLUSTER.sync_backend,
              show_default=True, help="With --cluster: Ray's object store, or a gloo allreduce "
                                      "(needs torch; faster). auto: gloo if torch imports.")
@click.option("--sync-rule", type=click.Choice(SYNC_RULES), default=CLUSTER.sync_rule,
              show_default=True, help="With --cluster: how the ranks' row updates combine.")
@click.option("--save-on-interrupt", is_flag=True,
              help="On Ctrl-C or SIGTERM, still write the model trained so far to --output.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
@friendly_errors
def train(corpus, output, fmt, save_model, resume_path, update_vocab, cbow, quiet,
          save_on_interrupt,
          cluster, workers, threads_per_worker, sync_words, sync_period, sync_rows, sync_backend,
          sync_rule, **options):
    """Train vectors on CORPUS (a text file, one sentence per line; .gz/.bz2/.xz too; a
    pipe, or - for standard input, is first copied to the cache folder)."""
    from ..trainer import resume, train as train_model

    config = TrainConfig.from_options(sg=not cbow, **options)   # validates every option
    cluster_options = dict(workers=workers, sync_words=sync_words, sync_period=sync_period,
                           sync_rows=sync_rows, sync_backend=sync_backend, sync_rule=sync_rule,
                           threads_per_worker=threads_per_worker or options["threads"])
    ClusterConfig(address=cluster or "local", **cluster_options).validate()   # even unused
    if cluster is None:
        cluster_options = {}
    else:
        if resume_path or options["phrases"]:
            raise ConfigError("--cluster: cannot be combined with --resume or --phrases yet")
        cluster_options["cluster"] = cluster
    fmt = output_format(output, fmt)
    # a model written back over the --resume file updates it in place (atomically);
    # any other output over an input would destroy it
    check_outputs({"--output": output, "--save-model": save_model},
                  {"CORPUS": corpus, "--resume": resume_path},
                  may_replace=[("--save-model", "--resume")]
                  + ([("--output", "--resume")] if fmt == "model" else []))
    if update_vocab and not resume_path:
        raise ConfigError("--update-vocab: only with --resume (a fresh run builds its vocabulary)")
    if resume_path and options["phrases"]:
        raise ConfigError("--phrases: cannot be combined with --resume (the model's vocabulary "
                          "is kept; join the phrases of the new corpus with `w2v phrases` first)")
    try:
        if resume_path:
            model = resume(resume_path, corpus, epochs=options["epochs"], alpha=options["alpha"],
                           min_alpha=options["min_alpha"], threads=options["threads"],
                           progress=not quiet, update_vocab=update_vocab)
            config = model.config
        else:
            settings = config.to_dict_for_options()
            if cluster_options:
                settings.pop("threads")
            model = train_model(corpus, progress=not quiet, **settings, **cluster_options)
            config = model.config
    except TrainingInterrupted as e:
        if save_on_interrupt and e.model is not None:
            e.model.save(output, format=fmt)          # atomic: complete file or none
            click.echo(f"saved the model trained so far to {output}", err=True)
        raise
    model.save(output, format=fmt)
    if save_model:
        model.save(save_model, format="model")
    if not quiet:
        train_stage = model.history[-1]
        threads = train_stage.get("threads", config.threads)
        vocab_stage = next((h for h in reversed(model.history) if h.get("stage") == "vocab"), {})
        corpus_size = ""
        if "encoded_bytes" in vocab_stage:
            where = ""
            if vocab_stage.get("corpus_cache") == "disk":
                where = (f" on disk ({'reused' if vocab_stage['cache_reused'] else 'written'}: "
                         f"{vocab_stage['cache_folder']})")
            corpus_size = f"encoded corpus {vocab_stage['encoded_bytes'] / 1e6:.1f} MB{where}; "
        click.echo(f"{config.mode}: {len(model):,} words, {train_stage['words']:,} words trained "
                   f"in {train_stage['seconds']:.1f} s, "
                   f"{train_stage['words_per_sec'] / 1e6:.2f} M words/s "
                   f"({train_stage['words_per_sec'] / threads / 1e6:.2f} M/thread); {corpus_size}"
                   f"loss by epoch {' '.join(f'{x:.4f}' for x in model.epoch_losses)}; "
                   f"wrote {output}", err=True)
        if "cluster" in train_stage:
            c = train_stage["cluster"]
            click.echo(f"cluster: {c['workers']} workers x {c['threads_per_worker']} threads, "
                       f"{c['sync_rounds']} sync rounds ({c['sync_backend']}), "
                       f"{max(c['sync_seconds_per_round']) * 1e3:.1f} ms per round, "
                       f"{max(c['sync_fraction']) * 100:.1f}% of the time syncing", err=True)


@main.command()
@click.option("--out-dir", type=click.Path(file_okay=False), default=None,
              help="Where to write the corpus and vectors (default: a new temporary folder).")
@click.option("--threads", type=int, default=TRAIN.threads, show_default=True)
@friendly_errors
def demo(out_dir, threads):
    """Generate a corpus with planted analogies, train on it and show the results."""
    from ..demo import run_demo
    result = run_demo(out_dir=out_dir, threads=threads, echo=click.echo)
    if result["hits"] < result["total"] // 2:
        raise click.ClickException("the planted analogies were not recovered")


def _register_commands():
    from . import classes, phrases, query
    for module in (query, phrases, classes):
        for command in module.COMMANDS:
            main.add_command(command)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
