"""Query commands: analogy, similar, evaluate, convert, info, plot.

``cli/main.py`` adds every command of :data:`COMMANDS` to the ``w2v`` group. The
commands only parse options, call the library and print; any deliberate error
(:class:`w2v.W2VError`) becomes a one-line ``Error: ...`` on stderr and exit
status 1.
"""
from __future__ import annotations

import json
import math
import sys

import click

from .. import io, isa
from ..outputs import check_outputs
from ..config import ENCODING_ERRORS
from .errors import friendly_errors

__all__ = ["COMMANDS", "analogy", "similar", "evaluate", "convert", "info", "plot"]


def model_option(func=None, *, required: bool = True):
    """``-m/--model FILE``: ``@model_option``, or ``@model_option(required=False)``."""
    option = click.option("-m", "--model", "model", required=required, metavar="FILE",
                          help="Vectors or model file (.bin, .txt, .vec, .w2v; detected).")
    return option(func) if func is not None else option


def _json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_nan_to_none))


def _nan_to_none(x):          # pragma: no cover - numpy scalars only
    return x.item() if hasattr(x, "item") else str(x)


def _clean(x):
    """NaN -> None, recursively, so that --json output is valid JSON."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def _print_neighbours(rows) -> None:
    width = max([len(w) for w, _ in rows] + [4])
    for rank, (word, score) in enumerate(rows, 1):
        click.echo(f"{rank:>4}  {word:<{width}}  {score:.4f}")


@click.command()
@click.argument("expression", nargs=-1, required=True)
@model_option
@click.option("--topn", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True,
              help="3CosAdd (vector offset) or 3CosMul (Levy & Goldberg).")
@click.option("--restrict-vocab", type=click.IntRange(min=1), default=None,
              help="Search only the N most frequent words.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly_errors
def analogy(expression, model, topn, method, restrict_vocab, as_json):
    """Solve an analogy such as king-man+woman (spaces optional, any number of terms)."""
    from ..vectors import parse_analogy

    text = " ".join(expression)
    vecs = io.load(model)
    result = vecs.analogy(text, topn=topn, method=method, restrict_vocab=restrict_vocab)
    positive, negative = parse_analogy(text, vecs.index)
    built = [w for w in positive + negative if vecs.built_from_ngrams(w)]
    if as_json:
        _json({"expression": text, "positive": positive, "negative": negative,
               "method": method, "from_ngrams": built,
               "results": [{"word": w, "score": s} for w, s in result]})
    else:
        _note_ngrams(built)
        _print_neighbours(result)


@click.command()
@click.argument("words", nargs=-1, required=True)
@model_option
@click.option("--topn", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--restrict-vocab", type=click.IntRange(min=1), default=None,
              help="Search only the N most frequent words.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly_errors
def similar(words, model, topn, restrict_vocab, as_json):
    """Nearest neighbours of each WORD (cosine similarity)."""
    vecs = io.load(model)
    results = vecs.most_similar_batch(list(words), topn=topn, restrict_vocab=restrict_vocab)
    if as_json:
        _json({w: [{"word": n, "score": s} for n, s in rows] for w, rows in zip(words, results)})
        return
    for i, (word, rows) in enumerate(zip(words, results)):
        if len(words) > 1:
            click.echo(("\n" if i else "") + f"{word}:")
        _note_ngrams([word] if vecs.built_from_ngrams(word) else [])
        _print_neighbours(rows)


def _note_ngrams(words) -> None:
    """Say (on stderr, so the results stay machine-readable) which query words are
    outside the vocabulary and answered from their character n-grams."""
    if words:
        click.echo(f"note: {', '.join(repr(w) for w in words)} not in the vocabulary; "
                   f"vector built from character n-grams", err=True)


@click.command()
@model_option
@click.option("--analogies", "analogy_files", multiple=True, type=click.Path(dir_okay=False),
              help="Analogy questions (Google ': section' format or 'a b c d' lines).")
@click.option("--similarity", "similarity_files", multiple=True, type=click.Path(dir_okay=False),
              help="Word pairs with human scores ('w1 w2 score', tab or space separated).")
@click.option("--restrict-vocab", type=click.IntRange(min=1), default=30000, show_default=True,
              help="Analogies: only questions within the N most frequent words.")
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True)
@click.option("--case-sensitive", is_flag=True, help="Do not upper-case words before lookup.")
@click.option("--sections/--no-sections", default=True, show_default=True,
              help="Show the per-section analogy table.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly_errors
def evaluate(model, analogy_files, similarity_files, restrict_vocab, method, case_sensitive,
             sections, as_json):
    """Analogy accuracy and word-similarity correlations (the numbers gensim reports)."""
    from ..evaluate import evaluate_analogies, evaluate_similarity

    if not analogy_files and not similarity_files:
        raise click.UsageError("give --analogies FILE and/or --similarity FILE")
    vecs = io.load(model)
    analogy_results = [evaluate_analogies(vecs, path, restrict_vocab=restrict_vocab,
                                          case_insensitive=not case_sensitive, method=method)
                       for path in analogy_files]
    similarity_results = [evaluate_similarity(vecs, path, case_insensitive=not case_sensitive)
                          for path in similarity_files]
    if as_json:
        _json(_clean({"model": model, "analogies": [r.to_dict() for r in analogy_results],
                      "similarity": [r.to_dict() for r in similarity_results]}))
        return
    for r in analogy_results:
        click.echo(f"Analogies: {r.path} (3Cos{r.method.capitalize()}, "
                   f"restrict_vocab={r.restrict_vocab:,})")
        rows = (r.sections if sections else []) + [r.semantic, r.syntactic, r.overall]
        width = max(len(s.name) for s in rows)
        click.echo(f"  {'section':<{width}}  {'accuracy':>8}  {'correct':>7}  {'seen':>6}  "
                   f"{'skipped':>7}  {'total':>6}")
        for i, s in enumerate(rows):
            if i == len(rows) - 3:
                click.echo("  " + "-" * (width + 44))
            click.echo(f"  {s.name:<{width}}  {100 * s.accuracy:>7.2f}%  {s.correct:>7,}  "
                       f"{s.seen:>6,}  {s.skipped:>7,}  {s.total:>6,}")
        if r.invalid_lines:
            click.echo(f"  ({r.invalid_lines} lines were not questions and were ignored)")
    if similarity_results:
        width = max(len(r.path) for r in similarity_results)
        click.echo(f"Word similarity:\n  {'file':<{width}}  {'spearman':>8}  {'pearson':>8}  "
                   f"{'pairs':>6}  {'oov':>6}")
        for r in similarity_results:
            click.echo(f"  {r.path:<{width}}  {r.spearman:>8.4f}  {r.pearson:>8.4f}  "
                       f"{r.pairs:>6,}  {100 * r.oov_ratio:>5.1f}%")


@click.command()
@click.argument("source", metavar="IN")
@click.argument("target", metavar="OUT")
@click.option("--format", "fmt", type=click.Choice(io.FORMATS), default=None,
              help="Output format (default: from OUT's extension: .bin, .txt/.vec, .w2v).")
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help="Keep only the first N words.")
@click.option("--unicode-errors", type=click.Choice(ENCODING_ERRORS),
              default="strict", show_default=True, help="How to decode invalid UTF-8 words.")
@friendly_errors
def convert(source, target, fmt, limit, unicode_errors):
    """Convert vectors between formats (word2vec binary/text, fastText .vec, model file; fastText
    .bin models are read, and their n-grams kept in a model file)."""
    out_fmt = io.format_from_extension(target, fmt)
    check_outputs({"OUT": target}, {"IN": source})
    if out_fmt == "model" and limit is None and io.detect_format(source) == "model":
        obj = io.load_model(source)                      # keep the output weights
    else:
        obj = io.load(source, unicode_errors=unicode_errors, limit=limit)
    io.save(target, obj, format=out_fmt)
    click.echo(f"wrote {target} ({out_fmt}, {len(obj.words):,} words x "
               f"{obj.input_vectors.shape[1] if hasattr(obj, 'input_vectors') else obj.dim})",
               err=True)


@click.command()
@model_option(required=False)
@click.option("--build", "build", is_flag=True,
              help="Instead: which build of the compiled core this CPU runs, and why.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly_errors
def info(model, build, as_json):
    """Vocabulary size, dimension, format and (for model files) the training settings;
    with --build, the instruction-set level of the training core in use."""
    if build:
        _build_info(as_json)
        return
    if model is None:
        raise click.UsageError("Missing option '-m' / '--model' (or give --build).")
    data = io.info(model)
    if as_json:
        _json(_clean(data))
        return
    names = {"bin": "word2vec binary", "txt": "word2vec text", "model": "w2v model file",
             "fasttext": "fastText model (read only)"}
    click.echo(f"file:        {data['path']} ({data['bytes']:,} bytes)")
    click.echo(f"format:      {names[data['format']]}"
               + (f" (version {data['version']})" if data["format"] == "model" else ""))
    click.echo(f"vocabulary:  {data['vocab_size']:,} words")
    click.echo(f"dimension:   {data['dim']}")
    if data.get("subwords"):
        sub = data["subwords"]
        click.echo(f"subwords:    n-grams of {sub['minn']}-{sub['maxn']} characters, "
                   f"{sub['buckets']:,} buckets (unseen words get vectors)")
    if data["format"] == "model":
        click.echo(f"matrices:    {', '.join(data['matrices'])}")
        config = data.get("config")
        if config:
            settings = " ".join(f"{k}={v}" for k, v in config.items() if k != "extra")
            click.echo(f"training:    {settings}")
        losses = data.get("epoch_losses") or []
        if losses:
            click.echo(f"epoch loss:  {' '.join(f'{x:.4f}' for x in losses)}")


def _build_info(as_json: bool) -> None:
    data = isa.build_info()
    if as_json:
        _json(data)
        return
    click.echo(f"core:        {data['selected']}: {data['about']}"
               + (f", forced by {isa.ENV}={data['forced']}" if data["forced"] else ""))
    click.echo(f"file:        {data['core']}")
    click.echo(f"flags:       {' '.join(data['flags']) or '(compiler defaults)'}")
    click.echo(f"built:       {', '.join(data['built'])}")
    click.echo(f"runs here:   {', '.join(data['runnable'])}")
    features = data["cpu_features"]
    if features:
        click.echo(f"cpu ({data['machine']}): "
                   + " ".join(name for name, ok in features.items() if ok)
                   + "".join(f" -{name}" for name, ok in features.items() if not ok))
    else:
        click.echo(f"cpu:         {data['machine']} (one build; no dispatch here)")


@click.command()
@model_option
@click.argument("words", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="PNG file to write.")
@click.option("--topn", type=click.IntRange(min=0), default=5, show_default=True,
              help="Nearest neighbours shown per word.")
@click.option("--restrict-vocab", type=click.IntRange(min=1), default=None,
              help="Neighbours only among the N most frequent words.")
@friendly_errors
def plot(model, words, output, topn, restrict_vocab):
    """Plot WORDs and their nearest neighbours in 2-D (PCA) to a PNG (needs matplotlib)."""
    from ..vectors import plot_neighbours

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.ClickException("w2v plot needs matplotlib: pip install matplotlib") from None
    check_outputs({"--output": output}, {"--model": model})
    vecs = io.load(model)
    shown = plot_neighbours(vecs, list(words), output, topn=topn, restrict_vocab=restrict_vocab)
    click.echo(f"wrote {output} ({len(shown)} words)", err=True)


COMMANDS = [analogy, similar, evaluate, convert, info, plot]

if __name__ == "__main__":  # pragma: no cover
    click.Group(commands=COMMANDS)(prog_name="w2v", args=sys.argv[1:])
