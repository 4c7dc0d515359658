"""The ``phrases`` command: join frequent collocations (``new_york``) in a corpus.

``cli/main.py`` adds every command of :data:`COMMANDS` to the ``w2v`` group.
"""
from __future__ import annotations

import click

from ..config import PHRASE_SCORINGS
from .errors import friendly_errors

__all__ = ["COMMANDS", "phrases"]


@click.command()
@click.argument("corpus", type=click.Path(dir_okay=True, allow_dash=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The corpus with phrases joined by '_' (written atomically).")
@click.option("--passes", type=int, default=1, show_default=True,
              help="Repeat to join longer phrases: 2 passes give up to four words.")
@click.option("--threshold", type=float, default=None,
              help="Keep pairs scoring above this [default: 100, word2phrase's; 0.5 for npmi].")
@click.option("--min-count", type=int, default=5, show_default=True,
              help="Pairs seen fewer times are never phrases.")
@click.option("--scoring", type=click.Choice(PHRASE_SCORINGS), default="default",
              show_default=True,
              help="default: (count(ab) - min_count) / (count(a) count(b)) * total_words; "
                   "npmi: normalised pointwise mutual information, in [-1, 1].")
@click.option("--max-table-size", type=int, default=None,
              help="Most words and most pairs kept while counting (rare ones are pruned) "
                   "[default: 40,000,000].")
@click.option("--save-table", type=click.Path(dir_okay=False), default=None,
              help="Also write the phrases found (JSON) to this file.")
@click.option("-q", "--quiet", is_flag=True, help="No summary.")
@friendly_errors
def phrases(corpus, output, passes, threshold, min_count, scoring, max_table_size, save_table,
            quiet):
    """Join frequent word pairs of CORPUS into phrases (as word2phrase does) and write OUTPUT."""
    from ..config import check_phrase_options
    from ..phrases import DEFAULT_MAX_TABLE_SIZE, Phrases
    from ..corpus import as_source
    from ..outputs import check_outputs

    check_phrase_options(passes, threshold, min_count, scoring, max_table_size)
    check_outputs({"--output": output, "--save-table": save_table}, {"CORPUS": corpus})
    source = as_source(corpus)          # a pipe is spooled once: it is read twice
    found = Phrases.learn(source, passes=passes, threshold=threshold, min_count=min_count,
                          scoring=scoring, max_table_size=max_table_size or DEFAULT_MAX_TABLE_SIZE)
    stats = found.transform(source, output)
    if save_table:
        found.save(save_table)
    if not quiet:
        for k, (table, joined) in enumerate(zip(found.tables, stats["joined"]), 1):
            top = ", ".join(a + "_" + b for a, b in list(table.pairs)[:5])
            click.echo(f"pass {k}: {len(table):,} phrases (of {table.distinct_pairs:,} distinct "
                       f"pairs), {joined:,} joined in the text"
                       + (" [tables pruned]" if table.pruned else "") + (f"; e.g. {top}" if top else ""),
                       err=True)
        click.echo(f"{stats['tokens']:,} tokens, {stats['lines']:,} lines; wrote {output}", err=True)


COMMANDS = [phrases]
