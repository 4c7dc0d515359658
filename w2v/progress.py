"""Progress display for the vocabulary pass and training (click's progress bar).

The trainer calls a reporter with plain numbers; this module turns them into
a bar on stderr with percent, words/s (total and per thread), the current
learning rate, the recent loss and the ETA.
"""
from __future__ import annotations

import sys
from typing import Optional

import click


def _fmt_rate(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:.0f}"


def _fmt_bytes(x: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if x < 1024 or unit == "TB":
            return f"{x:.1f}{unit}" if unit != "B" else f"{x:.0f}B"
        x /= 1024
    return str(x)


class ProgressReporter:
    """Base class: receives progress events; does nothing."""

    def stage(self, name: str, total: int) -> None: ...
    def scan(self, done: int) -> None: ...
    def train(self, done: int, total: int, alpha: float, loss: Optional[float],
              words_per_sec: float, threads: int, epoch: int, epochs: int) -> None: ...
    def end_stage(self) -> None: ...
    def message(self, text: str) -> None: ...


class BarReporter(ProgressReporter):
    """A click progress bar on stderr, redrawn at most ~5 times a second."""

    def __init__(self, file=None):
        self.file = file or sys.stderr
        self.bar = None
        self.shown = 0
        self.info = ""
        self.name = ""

    def stage(self, name: str, total: int) -> None:
        self.end_stage()
        self.name = name
        self.shown = 0
        self.info = ""
        self.bar = click.progressbar(length=max(int(total), 1), label=name, file=self.file,
                                     show_eta=True, show_percent=True, width=24,
                                     item_show_func=lambda _: self.info)
        self.bar.__enter__()

    def _advance(self, done: int) -> None:
        if self.bar is None:
            return
        done = min(int(done), self.bar.length)
        if done > self.shown:
            self.bar.update(done - self.shown)
            self.shown = done

    def scan(self, done: int) -> None:
        self.info = _fmt_bytes(done)
        self._advance(done)

    def train(self, done, total, alpha, loss, words_per_sec, threads, epoch, epochs) -> None:
        loss_txt = f" loss {loss:.4f}" if loss is not None else ""
        self.info = (f"epoch {epoch}/{epochs} {_fmt_rate(words_per_sec)} words/s "
                     f"({_fmt_rate(words_per_sec / max(threads, 1))}/thread) "
                     f"alpha {alpha:.6f}{loss_txt}")
        self._advance(done)

    def end_stage(self) -> None:
        if self.bar is not None:
            self._advance(self.bar.length)
            self.bar.__exit__(None, None, None)
            self.bar = None

    def message(self, text: str) -> None:
        self.end_stage()
        click.echo(text, file=self.file)
