"""The ``classes`` command: k-means word classes from a vectors file.

``cli/main.py`` adds every command of :data:`COMMANDS` to the ``w2v`` group.
"""
from __future__ import annotations

import click

from .errors import friendly_errors
from .query import model_option

__all__ = ["COMMANDS", "classes"]


@click.command()
@model_option
@click.option("-k", "k", type=int, required=True, help="Number of classes.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="'word class' lines, sorted by class (written atomically).")
@click.option("--seed", type=int, default=1, show_default=True, help="k-means++ seed.")
@click.option("--iterations", type=int, default=20, show_default=True,
              help="Most k-means iterations (stops early when no word moves).")
@click.option("-q", "--quiet", is_flag=True, help="No summary.")
@friendly_errors
def classes(model, k, output, seed, iterations, quiet):
    """Cluster the word vectors into K classes (k-means on cosine), like word2vec -classes."""
    from .. import io
    from ..classes import classes as cluster, write_classes
    from ..outputs import check_outputs

    check_outputs({"--output": output}, {"--model": model})
    vecs = io.load(model)
    labels = cluster(vecs, k, seed=seed, iterations=iterations)
    write_classes(output, vecs.words, labels)
    if not quiet:
        click.echo(f"{len(vecs.words):,} words in {int(labels.max()) + 1:,} classes; wrote {output}",
                   err=True)


COMMANDS = [classes]
