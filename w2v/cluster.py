"""Training across machines on a Ray cluster, with periodic row averaging.

One worker process per node (a placement-group bundle of ``threads_per_worker``
CPUs) runs the unchanged nogil Hogwild trainer (:class:`w2v.engine.EpochThreads`)
on its own byte range of the corpus file (:func:`w2v.corpus.byte_shards`: a line
belongs to the shard holding its first byte). The run goes:

1. **Count.** Each worker counts the words of its shard; the driver merges the
   counts, applies min_count and the usual ordering (:func:`w2v.vocab.select_vocab`)
   and sends each worker the ids of its own table entries. The vocabulary goes
   out once, through the object store.
2. **Encode.** Each worker encodes its shard to ids, exactly as one machine would.
3. **Train.** Every worker starts from the same seeded weights
   (:func:`w2v.engine.init_model`). The workers meet in sync rounds: they
   exchange their word counts (so the learning rate follows the global count)
   and combine the round's rows (:mod:`w2v.rowsync`: frequent words every round,
   rarer ones in sparser tiers). By default a round comes every ``sync_words``
   words the workers train together (each its share) and the threads wait for
   it (:class:`w2v.engine.RoundThreads`), so the rows every rank trains against
   miss exactly that many words of the others' updates, however loaded the
   machines are; the run does not depend on timing (with one thread per worker
   it is reproducible bit for bit). That staleness, more than the number of
   workers, is what costs accuracy (bench/README.md, "Cluster accuracy": CBOW
   with negative sampling matches one machine at 2 and 4 workers; the other
   modes still lose some). With ``sync_words=0`` a round comes every
   ``sync_period`` seconds and the threads train through it: faster on busy
   networks, but the staleness then grows with the machines' speed, which costs
   accuracy. A worker whose shard is done keeps joining rounds until every
   worker is done; then all rows are combined in blocks, so every rank ends the
   epoch with the same model.

The control plane (counts, done flags, stop and abort) is a small async actor,
:class:`Coordinator`. The rows travel through Ray's object store (each worker
reads the others' snapshots) or, with ``sync_backend="gloo"``, through an
allreduce of ``ray.util.collective`` (needs torch).

Failures: a worker error or a killed worker ends the run with
:class:`ClusterError` naming the worker; Ctrl-C on the driver stops every worker
at the next round, averages, and raises :class:`TrainingInterrupted` holding the
model trained so far. Ray is imported only here, and only when a cluster run
starts (``pip install 'w2v[ray]'``).
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import re
import tempfile
import time
from typing import List, Optional

import numpy as np

from .config import ClusterConfig, TrainConfig
from .corpus import EncodedCorpus, TextSource, byte_shards, check_corpus_path, compression_of, shards
from .errors import (ClusterError, ConfigError, CorpusError, TrainingDiverged, TrainingInterrupted,
                     W2VError)
from .engine import (Engine, EpochThreads, RoundThreads, alpha_at, check_vocab,
                     check_weights_finite, init_model)
from .model import OUTPUT_LAYERS, Model
from .progress import ProgressReporter
from .rowsync import RowSync
from .vocab import EMPTY_CORPUS, Vocab, count_part, encode_part, select_vocab

#: most floats one exchange moves in the epoch-end full average (64 MB of float32)
FULL_SYNC_BLOCK_FLOATS = 16 << 20
#: a worker that does not reach a sync round within this many seconds is presumed lost
ROUND_TIMEOUT = 600.0
#: seconds between progress redraws / failure checks on the driver
POLL_SECONDS = 0.2
#: seconds the driver waits for the workers to stop cleanly after Ctrl-C
STOP_GRACE = 60.0


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("cluster training needs Ray: pip install 'w2v[ray]'") from None
    return ray


def train_on_cluster(corpus, config: TrainConfig, cluster: ClusterConfig,
                     reporter: Optional[ProgressReporter] = None) -> Model:
    """Train on ``cluster`` (see the module docstring); returns the averaged model."""
    reporter = reporter or ProgressReporter()
    if not isinstance(corpus, (str, bytes, os.PathLike)):
        raise ConfigError("cluster training reads a corpus file that every worker can see; "
                          "pass its path, not an iterable")
    path = os.path.abspath(check_corpus_path(corpus))
    kind = compression_of(path)
    if kind:
        raise CorpusError(f"{path} is {kind}-compressed; cluster training splits the corpus by "
                          f"byte ranges, so decompress it first")
    if config.phrases:
        raise ConfigError("--phrases is not supported with --cluster yet; run 'w2v phrases' first "
                          "and train on its output")
    if config.uses_subwords:
        raise ConfigError("--subwords is not supported with --cluster yet (the row sync covers "
                          "word and output rows, not n-gram buckets); train on one machine")
    if cluster.sync_backend == "auto":
        cluster = dataclasses.replace(cluster, sync_backend="gloo" if _has_torch() else "objstore")
    ray = _import_ray()
    started_here = _connect(ray, cluster)
    try:
        return _Run(ray, path, config, cluster, reporter).run()
    finally:
        if started_here:
            ray.shutdown()


def _has_torch() -> bool:
    try:
        import torch.distributed  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def importable_cwd():
    """Run ``ray.init`` from a directory that cannot shadow the installed package.

    Ray puts the driver's working directory first on every worker's ``sys.path``.
    Started from a source checkout, the workers would import its uncompiled
    ``w2v/`` folder instead of the installed package; so when the working
    directory holds a ``w2v`` package other than the one imported here, Ray is
    started from the temporary directory instead."""
    here = os.getcwd()
    installed = os.path.dirname(os.path.abspath(__file__))
    shadow = os.path.join(here, "w2v")
    if (os.path.isfile(os.path.join(shadow, "__init__.py"))
            and os.path.realpath(shadow) != os.path.realpath(installed)):
        os.chdir(tempfile.gettempdir())
        try:
            yield
        finally:
            os.chdir(here)
    else:
        yield


def _connect(ray, cluster: ClusterConfig) -> bool:
    """Join the cluster (or start a local one); True when this call started Ray."""
    if ray.is_initialized():
        return False
    try:
        with importable_cwd():
            if cluster.address == "local":
                ray.init(num_cpus=max(cluster.workers * cluster.threads_per_worker, os.cpu_count() or 1),
                         object_store_memory=cluster.object_store_mb << 20,
                         include_dashboard=False, log_to_driver=False, configure_logging=False)
            else:
                ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    except Exception as e:   # ConnectionError, auth errors, bad addresses
        raise ClusterError(f"cannot connect to the Ray cluster at {cluster.address!r}: "
                           f"{_first_line(e)}") from None
    return True


def _error_line(text: str) -> str:
    """The last ``SomeError: message`` line of a remote traceback ('' if none)."""
    found = [line.strip() for line in text.splitlines()
             if re.match(r"^\s*\w+(Error|Exception): ", line)]
    return found[-1] if found else ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}".rstrip(": ")


# -- control plane ----------------------------------------------------------------------

class Coordinator:
    """Meeting point of the sync rounds (an async Ray actor, zero CPUs).

    ``exchange(key, rank, info, payload)`` returns once every rank has called it
    with the same ``key``: the summed word count, whether all ranks are done,
    whether the driver asked to stop, and every rank's payload (object-store refs).
    ``abort`` wakes every waiting rank with an error."""

    def __init__(self, n_workers: int, round_timeout: float):
        self.n = n_workers
        self.round_timeout = round_timeout
        self.rounds = {}
        self.abort_reason: Optional[str] = None
        self.stop_requested = False
        self.status_record = {"words": 0, "loss": 0.0, "examples": 0.0, "epoch": 0, "rounds": 0}

    async def exchange(self, key, rank: int, info: dict, payload):
        if self.abort_reason:
            raise ClusterError(self.abort_reason)
        slot = self.rounds.get(key)
        if slot is None:
            slot = self.rounds[key] = {"event": asyncio.Event(), "infos": [None] * self.n,
                                       "payloads": [None] * self.n, "arrived": 0, "taken": 0}
        slot["infos"][rank] = info
        slot["payloads"][rank] = payload
        slot["arrived"] += 1
        if slot["arrived"] == self.n:
            infos = slot["infos"]
            slot["result"] = {"words": sum(i["words"] for i in infos),
                              "all_done": all(i["done"] for i in infos),
                              "stop": self.stop_requested,
                              "payloads": slot["payloads"]}
            if all("epoch" in i for i in infos):     # a training round, not an epoch-end block
                self._record(slot["result"]["words"], infos)
            slot["event"].set()
        try:
            await asyncio.wait_for(slot["event"].wait(), self.round_timeout)
        except asyncio.TimeoutError:
            missing = [r for r, i in enumerate(slot["infos"]) if i is None]
            self.abort(f"worker(s) {missing} did not reach sync round {key} within "
                       f"{self.round_timeout:.0f} s")
        if self.abort_reason:
            raise ClusterError(self.abort_reason)
        slot["taken"] += 1
        if slot["taken"] == self.n:
            del self.rounds[key]
        return slot["result"]

    def _record(self, words: int, infos: list) -> None:
        self.status_record.update(
            words=words, loss=sum(i["loss"] for i in infos),
            examples=sum(i["examples"] for i in infos), epoch=max(i["epoch"] for i in infos),
            rounds=self.status_record["rounds"] + 1)

    def abort(self, reason: str) -> None:
        if self.abort_reason is None:
            self.abort_reason = reason
        for slot in self.rounds.values():
            slot["event"].set()

    def request_stop(self) -> None:
        self.stop_requested = True

    def status(self) -> dict:
        return dict(self.status_record)


# -- data plane ---------------------------------------------------------------------------

class _ObjectStoreExchange:
    """Rows through the object store: each rank puts its snapshot and reads all of them."""

    def __init__(self, ray, coordinator, rank: int, n: int):
        self.ray, self.coordinator, self.rank, self.n = ray, coordinator, rank, n

    def round(self, key, info: dict, payload: Optional[np.ndarray]):
        ray = self.ray
        wrapped = [ray.put(payload)] if payload is not None else None   # a list: not resolved
        result = ray.get(self.coordinator.exchange.remote(key, self.rank, info, wrapped))
        total = None
        if payload is not None:
            payloads = ray.get([p[0] for p in result["payloads"]])
            total = _sum_in_rank_order(payloads)
            del payloads
        return result, total

    def close(self) -> None:
        pass


class _GlooExchange:
    """Rows through an allreduce over ``ray.util.collective``'s gloo backend."""

    def __init__(self, ray, coordinator, rank: int, n: int, group: str):
        from ray.util import collective
        self.ray, self.coordinator, self.rank, self.n = ray, coordinator, rank, n
        self.collective, self.group = collective, group
        collective.init_collective_group(n, rank, backend="gloo", group_name=group)

    def round(self, key, info: dict, payload: Optional[np.ndarray]):
        result = self.ray.get(self.coordinator.exchange.remote(key, self.rank, info, None))
        total = None
        if payload is not None:
            total = np.array(payload, dtype=np.float32, copy=True)
            self.collective.allreduce(total, group_name=self.group)
        return result, total

    def close(self) -> None:
        try:
            self.collective.destroy_collective_group(self.group)
        except Exception:
            pass


def _sum_in_rank_order(arrays: List[np.ndarray]) -> np.ndarray:
    """The sum, taken in rank order so every rank computes the same bits."""
    total = np.array(arrays[0], dtype=np.float32, copy=True)
    for a in arrays[1:]:
        total += a
    return total


# -- the worker process -------------------------------------------------------------------

class ShardWorker:
    """One rank: counts, encodes and trains its byte range of the corpus."""

    def __init__(self, rank: int, n_workers: int, path: str, config: dict, cluster: dict,
                 coordinator):
        self.rank, self.n = rank, n_workers
        self.path = path
        self.config = TrainConfig.from_dict(config)
        self.cluster = ClusterConfig(**cluster)
        self.coordinator = coordinator
        self.counted = None
        self.encoded: Optional[EncodedCorpus] = None

    def host(self) -> str:
        import socket
        return f"{socket.gethostname()} (pid {os.getpid()})"

    def _source(self) -> TextSource:
        size = os.path.getsize(self.path)
        return TextSource(self.path, byte_range=byte_shards(size, self.n)[self.rank])

    def count(self) -> dict:
        self.counted = count_part(self._source(), self.config)
        return dict(self.counted.summary(), file_size=os.path.getsize(self.path))

    def encode(self, ids_of_entries: np.ndarray) -> int:
        self.encoded = encode_part(self._source(), self.counted, ids_of_entries, self.config)
        self.counted = None
        return int(self.encoded.n_words)

    def init_gloo(self, group: str) -> None:
        self._gloo = _GlooExchange(_import_ray(), self.coordinator, self.rank, self.n, group)

    def train(self, vocab: tuple, words_per_epoch: int) -> dict:
        config, cluster = self.config, self.cluster
        words, counts = vocab
        model = init_model(config, Vocab(words=list(words), counts=np.asarray(counts)))
        epochs = config.epochs
        self.engine = Engine(model, self.encoded, words_per_epoch * epochs, config.start_alpha,
                             config.end_alpha)
        self.bounds = shards(self.encoded, cluster.threads_per_worker)
        self.sync = RowSync(model.matrices, [False] + [layer.hot_last for layer in OUTPUT_LAYERS],
                            base=cluster.sync_rows, rule=cluster.sync_rule)
        self.exchange = getattr(self, "_gloo", None) or _ObjectStoreExchange(
            _import_ray(), self.coordinator, self.rank, self.n)
        self.own_seen_by_others = 0      # other ranks' words already added to words_done
        self.round_no = 0
        self.sync_seconds = 0.0
        self.sync_local = 0.0            # of which packing and applying rows (the rest: the exchange)
        self.sync_floats = 0
        epochs_out = []
        start = time.perf_counter()
        stopped = False
        diverged = None
        for e in range(epochs):
            self.engine.new_epoch()
            epoch_start = time.perf_counter()
            try:
                if cluster.sync_words:
                    threads, stopped = self._lockstep_epoch(e)
                else:
                    threads, stopped = self._timed_epoch(e)
            except BaseException as exc:
                if not isinstance(exc, ClusterError):
                    self.coordinator.abort.remote(f"worker {self.rank} on {self.host()} failed: "
                                                  f"{_first_line(exc)}")
                raise
            t0 = time.perf_counter()
            for b, block in enumerate(self.sync.row_blocks(FULL_SYNC_BLOCK_FLOATS)):
                snapshot = self.sync.gather(block=block)
                _, total = self.exchange.round(("full", e, b), {"words": 0, "done": True}, snapshot)
                self.sync.apply(total, self.n, block=block, exact=True)
            full_seconds = time.perf_counter() - t0
            loss, examples, words = threads.totals()
            epochs_out.append({"loss": loss, "examples": examples, "words": words,
                               "seconds": time.perf_counter() - epoch_start,
                               "full_sync_seconds": full_seconds})
            try:        # every rank holds the same rows after the full sync: all stop alike
                check_weights_finite(model, e, epochs, None, config.start_alpha)
            except TrainingDiverged as exc:
                diverged = str(exc)
            if stopped or diverged:
                break
        self.exchange.close()
        elapsed = time.perf_counter() - start
        arrays = model.matrices
        digest = hashlib.sha256()
        for a in arrays:
            if a is not None:
                digest.update(a.tobytes())
        out = {"rank": self.rank, "epochs": epochs_out, "stopped": stopped, "diverged": diverged,
               "seconds": elapsed,
               "sync_seconds": self.sync_seconds, "sync_local_seconds": self.sync_local,
               "sync_rounds": self.round_no,
               "sync_floats_per_round": self.sync_floats / max(self.round_no, 1),
               "digest": digest.hexdigest(), "raw_words": self.engine.words}
        if self.rank == 0:
            out["arrays"] = arrays
        return out

    def _lockstep_epoch(self, e: int):
        """A round every ``sync_words / workers`` words of this worker: its threads train
        their next block and stop, and the rows are synced exactly (no thread is
        writing), so the rows a rank trains against miss exactly the ranks' last
        blocks, ``sync_words`` words in all, however slow the machines are."""
        T = self.cluster.threads_per_worker
        threads = RoundThreads(self.engine, self.bounds, self.config.seed, e,
                               thread_base=self.rank * T,
                               units=max(1, self.cluster.sync_words // (self.n * T)))
        while True:
            if not threads.done():
                threads.train_round()
            result = self._round(e, threads.done(), exact=True)
            if result["stop"]:
                return threads, True
            if result["all_done"]:
                return threads, False

    def _timed_epoch(self, e: int):
        """Rounds every ``sync_period`` seconds while the threads keep training."""
        T = self.cluster.threads_per_worker
        threads = EpochThreads(self.engine, self.bounds, self.config.seed, e,
                               thread_base=self.rank * T)
        threads.start()
        try:
            while True:
                threads.join(self.cluster.sync_period)
                if threads.errors:
                    raise threads.errors[0]
                result = self._round(e, not threads.alive(), exact=False)
                if result["stop"]:
                    threads.halt()
                    return threads, True
                if result["all_done"]:
                    break
            threads.join()
        except BaseException:
            threads.halt()
            raise
        if threads.errors:
            raise threads.errors[0]
        return threads, False

    def _round(self, e: int, done: bool, exact: bool) -> dict:
        """One sync round: the tiers of this round's rows, and the global word count
        (so every rank's learning rate follows the words all ranks trained)."""
        t0 = time.perf_counter()
        snapshot = self.sync.gather(self.round_no)
        t1 = time.perf_counter()
        own = self.engine.words - self.own_seen_by_others
        loss, examples = self.engine.loss_and_examples()
        info = {"words": own, "done": done, "epoch": e + 1, "loss": loss, "examples": examples}
        result, total = self.exchange.round(("r", e, self.round_no), info, snapshot)
        t2 = time.perf_counter()
        self.sync.apply(total, self.n, self.round_no, exact=exact)
        self.sync_local += (t1 - t0) + (time.perf_counter() - t2)
        others = result["words"] - own
        self.engine.add_words(others - self.own_seen_by_others)
        self.own_seen_by_others = others
        self.round_no += 1
        self.sync_floats += snapshot.size
        self.sync_seconds += time.perf_counter() - t0
        return result


# -- the driver ---------------------------------------------------------------------------

class _Run:
    def __init__(self, ray, path: str, config: TrainConfig, cluster: ClusterConfig,
                 reporter: ProgressReporter):
        self.ray, self.path, self.config, self.cluster, self.reporter = ray, path, config, cluster, reporter
        self.workers = []
        self.coordinator = None
        self.placement = None

    def run(self) -> Model:
        try:
            return self._run()
        finally:
            self._teardown()

    def _run(self) -> Model:
        ray, cluster, config = self.ray, self.cluster, self.config
        t0 = time.perf_counter()
        self._start_workers()
        self.reporter.stage(f"counting words on {cluster.workers} workers", 1)
        counted = self._gather([w.count.remote() for w in self.workers], "counting")
        sizes = {c["file_size"] for c in counted}
        if len(sizes) != 1:
            raise ClusterError(f"the workers see different corpus files at {self.path} "
                               f"(sizes {sorted(sizes)}); every node needs the same copy")
        vocab, ids_per_worker = merge_counts(counted, config)
        check_vocab(vocab, config)
        self.reporter.stage("encoding corpus", 1)
        n_words = self._gather([w.encode.remote(ids) for w, ids in zip(self.workers, ids_per_worker)],
                               "encoding")
        words_per_epoch = int(sum(n_words))
        self._vocab, self._words_per_epoch = vocab, words_per_epoch
        self._vocab_seconds = time.perf_counter() - t0
        if cluster.sync_backend == "gloo":
            group = f"w2v-{os.getpid()}-{time.time_ns()}"
            self._gather([w.init_gloo.remote(group) for w in self.workers], "starting gloo")
        vocab_ref = ray.put((vocab.words, vocab.counts))
        refs = [w.train.remote(vocab_ref, words_per_epoch) for w in self.workers]
        results = self._train(refs, words_per_epoch * config.epochs)
        return self._model(results)

    def _start_workers(self) -> None:
        ray, cluster = self.ray, self.cluster
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy
        n, T = cluster.workers, cluster.threads_per_worker
        self.placement = placement_group([{"CPU": T}] * n, strategy="SPREAD")
        try:
            ray.get(self.placement.ready(), timeout=120)
        except Exception:
            have = ray.cluster_resources().get("CPU", 0)
            raise ClusterError(f"the cluster cannot place {n} workers of {T} CPUs each "
                               f"(it has {have:g} CPUs in all)") from None
        coordinator_cls = ray.remote(num_cpus=0, max_concurrency=max(64, 4 * n))(Coordinator)
        self.coordinator = coordinator_cls.remote(n, ROUND_TIMEOUT)
        worker_cls = ray.remote(ShardWorker)
        self.workers = [
            worker_cls.options(num_cpus=T, scheduling_strategy=PlacementGroupSchedulingStrategy(
                placement_group=self.placement, placement_group_bundle_index=i)).remote(
                i, n, self.path, self.config.to_dict(), dataclasses.asdict(cluster), self.coordinator)
            for i in range(n)]

    def _gather(self, refs, what: str) -> list:
        """Wait for one call on every worker; the first failure ends the run."""
        pending = list(refs)
        while pending:
            ready, pending = self.ray.wait(pending, num_returns=1, timeout=POLL_SECONDS)
            for r in ready:
                self._check(r, refs, what)
        return self.ray.get(refs)

    def _check(self, ref, refs, what: str) -> None:
        try:
            self.ray.get(ref)
        except BaseException as exc:
            rank = refs.index(ref)
            # a ClusterError raised in a worker arrives wrapped; report the underlying message
            inner = getattr(exc, "cause", None)
            if isinstance(inner, (W2VError, ClusterError)):
                message = str(inner).splitlines()[0]
            elif type(exc).__name__ in ("RayActorError", "ActorDiedError", "WorkerCrashedError"):
                reason = _error_line(str(exc))
                if getattr(exc, "actor_init_failed", False) and reason:
                    message = f"worker {rank} could not start: {reason}"
                else:
                    message = f"worker {rank} died during {what} (its process was killed or crashed)"
            else:
                message = f"worker {rank} failed during {what}: {_first_line(inner or exc)}"
            if self.coordinator is not None:
                self.coordinator.abort.remote(message)
            if isinstance(inner, (CorpusError, ConfigError)):
                raise type(inner)(str(inner)) from None
            raise ClusterError(message) from None

    def _train(self, refs, total_words: int) -> list:
        ray, reporter, config = self.ray, self.reporter, self.config
        reporter.stage("training", max(total_words, 1))
        start = time.perf_counter()
        pending = list(refs)
        last_loss = (0.0, 0.0)
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1, timeout=POLL_SECONDS)
                for r in ready:
                    self._check(r, refs, "training")
                try:
                    status = ray.get(self.coordinator.status.remote(), timeout=10)
                except Exception:
                    continue
                done = min(status["words"], total_words)
                alpha = alpha_at(config.start_alpha, config.end_alpha, done, total_words)
                recent = None
                if status["examples"] > last_loss[1]:
                    recent = (status["loss"] - last_loss[0]) / (status["examples"] - last_loss[1])
                last_loss = (status["loss"], status["examples"])
                rate = done / max(time.perf_counter() - start, 1e-9)
                reporter.train(done, total_words, alpha, recent if config.compute_loss else None, rate,
                               self.cluster.workers * self.cluster.threads_per_worker,
                               max(status["epoch"], 1), config.epochs)
        except KeyboardInterrupt:
            reporter.end_stage()
            self.coordinator.request_stop.remote()
            try:
                results = ray.get(refs, timeout=STOP_GRACE)
            except Exception:
                raise TrainingInterrupted("training interrupted; the workers did not stop in time, "
                                          "no model was kept", model=None) from None
            self._model(results)      # raises TrainingInterrupted with the model so far
        finally:
            reporter.end_stage()
        return ray.get(refs)

    def _model(self, results) -> Model:
        """The driver's model from rank 0's arrays, with the cluster's history; raises
        :class:`TrainingInterrupted` (holding it) when the run was stopped."""
        config, cluster, vocab = self.config, self.cluster, self._vocab
        diverged = next((r["diverged"] for r in results if r.get("diverged")), None)
        if diverged:
            raise TrainingDiverged(diverged)
        words_per_epoch, vocab_seconds = self._words_per_epoch, self._vocab_seconds
        model = Model(config, vocab.words, vocab.counts, *results[0]["arrays"])
        model.history.append({"stage": "vocab", "seconds": vocab_seconds,
                              "raw_tokens": vocab.raw_tokens, "vocab_size": len(vocab),
                              "train_words": words_per_epoch})
        for e in range(len(results[0]["epochs"])):
            per = [r["epochs"][e] for r in results]
            loss = sum(p["loss"] for p in per)
            examples = sum(p["examples"] for p in per)
            words = sum(p["words"] for p in per)
            seconds = max(p["seconds"] for p in per)
            mean_loss = loss / examples if examples else float("nan")
            model.epoch_losses.append(mean_loss)
            model.history.append({"stage": "epoch", "epoch": e + 1, "loss": mean_loss,
                                  "examples": int(examples), "words": int(words), "seconds": seconds,
                                  "words_per_sec": words / seconds if seconds > 0 else 0.0,
                                  "full_sync_seconds": max(p["full_sync_seconds"] for p in per)})
        seconds = max(r["seconds"] for r in results)
        words = sum(sum(p["words"] for p in r["epochs"]) for r in results)
        model.history.append({
            "stage": "train", "seconds": seconds, "words": int(words),
            "words_per_sec": words / seconds if seconds > 0 else 0.0,
            "threads": cluster.workers * cluster.threads_per_worker,
            "cluster": {"workers": cluster.workers, "threads_per_worker": cluster.threads_per_worker,
                        "sync_backend": cluster.sync_backend, "sync_words": cluster.sync_words,
                        "sync_period": cluster.sync_period,
                        "sync_rows": cluster.sync_rows, "sync_rule": cluster.sync_rule,
                        "sync_rounds": results[0]["sync_rounds"],
                        "sync_seconds_per_round": [r["sync_seconds"] / max(r["sync_rounds"], 1)
                                                   for r in results],
                        "sync_local_seconds_per_round": [r["sync_local_seconds"] / max(r["sync_rounds"], 1)
                                                         for r in results],
                        "full_sync_seconds": [max(p["full_sync_seconds"] for p in r["epochs"])
                                              for r in results],
                        "sync_fraction": [r["sync_seconds"] / r["seconds"] if r["seconds"] else 0.0
                                          for r in results],
                        "sync_floats_per_round": results[0]["sync_floats_per_round"],
                        "global_words": [r["raw_words"] for r in results],
                        "ranks_identical": len({r["digest"] for r in results}) == 1}})
        if any(r["stopped"] for r in results):
            raise TrainingInterrupted("training interrupted", model=model)
        return model

    def _teardown(self) -> None:
        ray = self.ray
        for actor in self.workers + ([self.coordinator] if self.coordinator else []):
            try:
                ray.kill(actor)
            except Exception:
                pass
        if self.placement is not None:
            try:
                from ray.util.placement_group import remove_placement_group
                remove_placement_group(self.placement)
            except Exception:
                pass


def merge_counts(counted: List[dict], config: TrainConfig):
    """Merge the workers' counts into one :class:`Vocab` (same selection and order
    as a one-machine run); returns it and, per worker, the id of each of its
    entries (-1 for words not kept)."""
    index = {}
    merged_words: List[bytes] = []
    maps = []
    for c in counted:
        m = np.empty(len(c["words"]), dtype=np.int64)
        for i, w in enumerate(c["words"]):
            j = index.get(w)
            if j is None:
                j = index[w] = len(merged_words)
                merged_words.append(w)
            m[i] = j
        maps.append(m)
    counts = np.zeros(len(merged_words), dtype=np.int64)
    for c, m in zip(counted, maps):
        np.add.at(counts, m, np.asarray(c["counts"], dtype=np.int64))
    tokens = sum(int(c["tokens"]) for c in counted)
    if tokens == 0:
        raise CorpusError(EMPTY_CORPUS)
    pruned = any(c["pruned"] for c in counted)
    n = len(merged_words)
    vocab, entry_ids = select_vocab(merged_words, counts, config, np.arange(n, dtype=np.int64), n,
                                    pruned=pruned)
    vocab.raw_tokens = tokens
    vocab.pruned = pruned
    vocab.truncated_words = sum(int(c["truncated"]) for c in counted)
    return vocab, [entry_ids[m] for m in maps]
