"""Cluster training (w2v.cluster): byte-range shards, the row-sync rules, and runs on a
local Ray cluster of 2 worker processes."""
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import w2v
from w2v import vocab as vocab_mod
from w2v.config import TrainConfig
from w2v.corpus import TextSource, byte_shards
from w2v.demo import score_analogies
from w2v.errors import ClusterError, ConfigError, CorpusError
from w2v.rowsync import ALIGNED_RANKS, RowSync, TierSchedule


# -- shards ------------------------------------------------------------------------------

def _shard_lines(path, n):
    size = os.path.getsize(path)
    out = []
    for rng in byte_shards(size, n):
        data = b"".join(bytes(c) for c in TextSource(path, byte_range=rng).chunks())
        out.append(data)
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 7, 40])
@pytest.mark.parametrize("text", [
    b"a b c\n\nd e\n\n\nf\n",                        # empty lines
    b"one two\nthree four\nfive",                    # no final newline
    b"x" * 5000 + b"\nshort\n" + b"y z " * 3000,     # lines longer than a shard
    b"\n\n\n",
    b"single line without newline",
])
def test_shards_hold_every_line_exactly_once(tmp_path, n, text):
    path = tmp_path / "c.txt"
    path.write_bytes(text)
    pieces = _shard_lines(str(path), n)
    assert b"".join(pieces) == text                  # in order, nothing lost or doubled
    at = 0
    for p in pieces:                                 # every shard starts on a line start
        assert p == b"" or at == 0 or text[at - 1:at] == b"\n"
        at += len(p)


def test_shard_counts_add_up_to_the_whole_corpus(tmp_path, planted_corpus):
    cfg = TrainConfig(min_count=1)
    whole = vocab_mod.count_file(planted_corpus, cfg)
    from w2v.cluster import merge_counts
    counted = [vocab_mod.count_part(TextSource(planted_corpus, byte_range=rng), cfg).summary()
               for rng in byte_shards(os.path.getsize(planted_corpus), 3)]
    merged, _ = merge_counts(counted, TrainConfig(min_count=5))
    assert merged.raw_tokens == whole.raw_tokens
    full = vocab_mod.count_file(planted_corpus, TrainConfig(min_count=5))
    assert merged.words == full.words
    assert np.array_equal(merged.counts, full.counts)


def test_byte_ranges_refuse_compressed_files(tmp_path):
    import gzip
    path = tmp_path / "c.txt.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"a b\n")
    with pytest.raises(CorpusError, match="decompress"):
        TextSource(str(path), byte_range=(0, 1))


# -- the row-sync schedule and rules -------------------------------------------------------

def test_tier_schedule_covers_rows_at_halving_rates():
    s = TierSchedule(10_000, base=100)
    sizes = [t.stop - t.start for t in s.tiers]
    assert sizes[:4] == [100, 100, 200, 400]
    assert s.tiers[-1].stop == 10_000
    seen = np.zeros(10_000, dtype=np.int64)
    rounds = 2 ** len(s.tiers)
    for r in range(rounds):
        for t in s.tiers_for_round(r):
            seen[t.start:t.stop] += 1
    assert (seen[:100] == rounds).all()              # tier 0 every round
    for k, t in enumerate(s.tiers[1:], start=1):     # tier k every 2**k rounds
        assert (seen[t.start:t.stop] == rounds // 2 ** k).all(), k


def _apply_round(rule, deltas, start):
    """Run one sync round among len(deltas) ranks whose rows moved by ``deltas``."""
    n = len(deltas)
    models = [start.copy() + d for d in deltas]
    syncs = [RowSync([m], [False], base=len(start), rule=rule) for m in models]
    for s in syncs:
        s.consensus = [start.copy()]
    payloads = [s.gather(0) for s in syncs]
    total = payloads[0].copy()
    for p in payloads[1:]:
        total += p
    for s in syncs:
        s.apply(total, n, 0, exact=True)
    for m in models[1:]:
        assert np.array_equal(m, models[0])
    return models[0]


def test_sync_rules_on_hand_built_deltas():
    start = np.zeros((3, 2), dtype=np.float32)
    same = np.array([[1, 0], [0, 0], [0, 0]], dtype=np.float32)     # row 0: both ranks alike
    other = np.array([[1, 0], [0, 2], [0, 0]], dtype=np.float32)    # row 1: only rank 1
    four_alike = [same] * 4
    # mean halves rank 1's lone update; sum keeps it; adaptive keeps it too
    assert np.allclose(_apply_round("mean", [same, other], start), [[1, 0], [0, 1], [0, 0]])
    assert np.allclose(_apply_round("sum", [same, other], start), [[2, 0], [0, 2], [0, 0]])
    assert np.allclose(_apply_round("adaptive", [same, other], start), [[2, 0], [0, 2], [0, 0]])
    # four ranks moving a row alike: sum moves it 4x, adaptive at most ALIGNED_RANKS x
    assert np.allclose(_apply_round("sum", four_alike, start)[0], [4, 0])
    assert np.allclose(_apply_round("adaptive", four_alike, start)[0], [ALIGNED_RANKS, 0])
    # momentum's first round is the mean (nothing carried yet)
    assert np.allclose(_apply_round("momentum", [same, other], start), [[1, 0], [0, 1], [0, 0]])
    # opposite moves cancel under every rule
    for rule in ("mean", "sum", "adaptive", "momentum"):
        assert np.allclose(_apply_round(rule, [same, -same], start), 0)


def test_momentum_builds_a_repeated_move_up_to_the_sum_and_pays_a_lone_move_in_full():
    n, rounds = 4, 60
    mu = 1 - 1 / n
    models = [np.zeros((2, 1), dtype=np.float32) for _ in range(n)]
    syncs = [RowSync([m], [False], base=2, rule="momentum") for m in models]
    expected_step = 0.0
    expected = 0.0
    positions = []
    for r in range(rounds):
        for k, m in enumerate(models):
            m[0] += 1                         # every rank moves row 0 alike, every round
            if r == 0 and k == 0:
                m[1] += 2                     # one rank moves row 1 once
        total = _sum_payloads([s.gather(0) for s in syncs])
        for s in syncs:
            s.apply(total, n, 0, exact=True)
        expected_step = mu * expected_step + 1.0
        expected += expected_step
        assert np.allclose(models[0][0], expected, rtol=1e-5)
        positions.append(float(models[0][0, 0]))
    # by now a round moves the row by the sum of the ranks' moves (n), not their mean (1)
    assert positions[-1] - positions[-2] == pytest.approx(n, rel=1e-3)
    # the lone move: 2/n at once, the rest over the following rounds, 2 in all
    assert models[0][1, 0] == pytest.approx(2 * (1 - mu ** rounds) / (1 - mu) / n, rel=1e-5)
    assert models[0][1, 0] == pytest.approx(2, rel=1e-5)
    for m in models[1:]:
        assert np.array_equal(m, models[0])


def _sum_payloads(payloads):
    total = payloads[0].copy()
    for p in payloads[1:]:
        total += p
    return total


def test_sync_keeps_updates_made_while_a_round_is_in_flight():
    m = np.zeros((2, 2), dtype=np.float32)
    s = RowSync([m], [False], base=2, rule="sum")
    m += 1.0
    payload = s.gather(0)
    m[0] += 5.0                           # a thread writes during the round
    s.apply(payload * 2, 2, 0)            # the other rank moved the rows the same way
    assert np.allclose(m, [[7, 7], [2, 2]])


def test_round_threads_train_exactly_what_one_thread_would(planted_corpus):
    """A cluster worker's lockstep rounds cut the shard into blocks; the RNG and totals
    carry over, so one thread's blocks give the bits of one uninterrupted pass."""
    from w2v.corpus import shards
    from w2v.engine import Engine, EpochThreads, RoundThreads, init_model
    from w2v.trainer import build_corpus
    config = TrainConfig.from_options(threads=1, seed=5, epochs=1, min_count=5, size=20)
    vocab, encoded = build_corpus(planted_corpus, config)
    runs = []
    for units in (None, 5000):
        model = init_model(config, vocab)
        engine = Engine(model, encoded, int(encoded.n_words), config.start_alpha,
                        config.end_alpha)
        bounds = shards(encoded, 1)
        if units is None:
            threads = EpochThreads(engine, bounds, config.seed, 0)
            threads.start()
            threads.join()
        else:
            threads = RoundThreads(engine, bounds, config.seed, 0, 0, units)
            while not threads.done():
                threads.train_round()
            assert threads.rounds >= len(encoded.units) // units      # really cut in blocks
        runs.append((model.input_vectors.copy(), model.output_ns.copy(), threads.totals()))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]


def test_cluster_options_are_validated():
    with pytest.raises(ConfigError, match="--sync-period"):
        w2v.train("x", cluster="local", sync_period=-1)
    with pytest.raises(ConfigError, match="--sync-words"):
        w2v.train("x", cluster="local", sync_words=-1)
    with pytest.raises(ConfigError, match="--workers"):
        w2v.train("x", cluster="local", workers=0)
    with pytest.raises(ConfigError, match="threads_per_worker"):
        w2v.train("x", cluster="local", threads=4)
    with pytest.raises(ConfigError, match="only with cluster"):
        w2v.train([["a", "b"]], sync_rows=5)


def test_coordinator_meets_every_rank_and_keeps_progress_across_epoch_ends():
    import asyncio
    from w2v.cluster import Coordinator

    async def scenario():
        c = Coordinator(2, round_timeout=5)
        info = lambda words, done: {"words": words, "done": done, "epoch": 1, "loss": 1.0,
                                    "examples": 2.0}
        a, b = await asyncio.gather(c.exchange(("r", 0, 0), 0, info(10, False), ["p0"]),
                                    c.exchange(("r", 0, 0), 1, info(5, True), ["p1"]))
        assert a == b and a["words"] == 15 and not a["all_done"]
        assert a["payloads"] == [["p0"], ["p1"]]
        # an epoch-end block carries no progress and must not reset it
        await asyncio.gather(c.exchange(("full", 0, 0), 0, {"words": 0, "done": True}, None),
                             c.exchange(("full", 0, 0), 1, {"words": 0, "done": True}, None))
        assert c.status()["words"] == 15 and c.status()["rounds"] == 1
        assert not c.rounds                      # finished rounds are forgotten
        c.abort("worker 1 died")
        with pytest.raises(ClusterError, match="worker 1 died"):
            await c.exchange(("r", 0, 1), 0, info(20, False), None)

    asyncio.run(scenario())


def test_coordinator_gives_up_on_a_rank_that_never_comes():
    import asyncio
    from w2v.cluster import Coordinator

    async def scenario():
        c = Coordinator(2, round_timeout=0.2)
        with pytest.raises(ClusterError, match=r"worker\(s\) \[1\] did not reach"):
            await c.exchange(("r", 0, 0), 0, {"words": 1, "done": False}, None)

    asyncio.run(scenario())


# -- a local Ray cluster -------------------------------------------------------------------

ray = pytest.importorskip("ray", reason="cluster tests need Ray (pip install 'w2v[ray]')")


@pytest.fixture(scope="module")
def local_ray():
    from w2v.cluster import importable_cwd
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    with importable_cwd():      # CI runs from the source checkout
        ray.init(num_cpus=4, object_store_memory=200 << 20, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


PLANTED = dict(sg=True, size=50, window=5, negative=5, min_count=5, sample=0, epochs=5)


@pytest.mark.parametrize("sync", [{}, {"sync_words": 0, "sync_period": 0.05},
                                  {"sync_rule": "momentum"}],
                         ids=["lockstep", "timed", "momentum"])
def test_cluster_matches_corpus_and_ranks_agree(local_ray, planted_corpus, tmp_path, sync):
    model = w2v.train(planted_corpus, cluster="local", workers=2, threads_per_worker=1,
                      seed=3, sync_backend="objstore", **sync, **PLANTED)
    info = model.history[-1]["cluster"]
    one = w2v.train(planted_corpus, threads=1, **dict(PLANTED, epochs=1))
    per_epoch = one.history[0]["train_words"]
    # every rank saw the global word count: the corpus size x epochs
    assert info["global_words"] == [per_epoch * PLANTED["epochs"]] * 2
    assert model.history[-1]["words"] == per_epoch * PLANTED["epochs"]
    assert info["sync_rounds"] >= PLANTED["epochs"]
    if not sync:     # a round every 65,536 words of the two workers together
        assert info["sync_rounds"] >= per_epoch * PLANTED["epochs"] // 65536
    assert info["ranks_identical"]
    assert model.words == one.words
    # quality: the planted analogies, within 2 of one machine (which gets 29/29)
    hits, total, _ = score_analogies(model.wv)
    assert hits >= total - 2, (hits, total)
    # every output format round-trips
    for name in ("v.bin", "v.txt", "m.w2v"):
        model.save(tmp_path / name)
        back = w2v.load(tmp_path / name)
        assert np.allclose(back.vectors, model.vectors, atol=1e-5)


def test_lockstep_cluster_runs_are_reproducible(local_ray, planted_corpus):
    """With one thread per worker, a lockstep run depends on nothing but the seed:
    not on how the processes were scheduled."""
    runs = [w2v.train(planted_corpus, cluster="local", workers=2, threads_per_worker=1, seed=7,
                      sync_words=20000, sync_backend="objstore", **dict(PLANTED, epochs=2))
            for _ in range(2)]
    assert np.array_equal(runs[0].vectors, runs[1].vectors)
    assert np.array_equal(runs[0].output_ns, runs[1].output_ns)
    other_seed = w2v.train(planted_corpus, cluster="local", workers=2, threads_per_worker=1,
                           seed=8, sync_words=20000, sync_backend="objstore",
                           **dict(PLANTED, epochs=2))
    assert not np.array_equal(runs[0].vectors, other_seed.vectors)


def test_divergence_on_a_cluster_is_training_diverged(local_ray, planted_corpus):
    # every rank checks its rows after the epoch's exact sync, so all stop after epoch 1
    with pytest.raises(w2v.TrainingDiverged, match="epoch 1/5.*lower --alpha"):
        w2v.train(planted_corpus, cluster="local", workers=2, threads_per_worker=1, alpha=10,
                  compute_loss=False, sync_backend="objstore", **dict(PLANTED, size=10))


def test_cluster_quality_on_real_text(local_ray, small_corpus, eval_dir):
    """2 workers x 1 thread in lockstep rounds against one machine with 2 threads
    (skip-gram, 5 epochs): wordsim353 Spearman within 0.05."""
    from w2v.evaluate import evaluate_similarity
    ws = str(eval_dir / "wordsim353.tsv")
    single = w2v.train(small_corpus, sg=True, threads=2, epochs=5, seed=1)
    spread = w2v.train(small_corpus, sg=True, cluster="local", workers=2, threads_per_worker=1,
                       epochs=5, seed=1)
    a = evaluate_similarity(single.wv, ws).spearman
    b = evaluate_similarity(spread.wv, ws).spearman
    assert b >= a - 0.05, (b, a)


def test_gloo_backend_gives_identical_ranks(local_ray, planted_corpus):
    pytest.importorskip("torch", reason="the gloo backend needs torch")
    model = w2v.train(planted_corpus, cluster="local", workers=2, threads_per_worker=1,
                      sync_period=0.05, sync_backend="gloo", **PLANTED)
    assert model.history[-1]["cluster"]["ranks_identical"]
    assert score_analogies(model.wv)[0] >= 27


def _descends_from_us(pid: int) -> bool:
    """Whether process ``pid`` was started (through Ray's raylet) by this process."""
    me = os.getpid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])    # the parent's pid
        except (OSError, ValueError, IndexError):
            return False
        if pid == me:
            return True
    return False


def test_a_killed_worker_ends_the_run_with_a_clear_error(local_ray, planted_corpus):
    outcome = {}

    def run():
        try:
            w2v.train(planted_corpus, cluster="local", workers=2, threads_per_worker=1,
                      sync_period=0.05, **dict(PLANTED, epochs=300))
        except BaseException as e:   # noqa: BLE001 - the test inspects it
            outcome["error"] = e
            outcome["at"] = time.monotonic()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    pid = None
    deadline = time.monotonic() + 60
    while pid is None and time.monotonic() < deadline:
        out = subprocess.run(["pgrep", "-f", "ShardWorker.train"], capture_output=True, text=True)
        # only this test's workers: another Ray cluster on the machine may be training too
        pids = [int(p) for p in out.stdout.split() if _descends_from_us(int(p))]
        pid = pids[0] if pids else None
        time.sleep(0.2)
    assert pid is not None, "no training worker process appeared"
    time.sleep(0.5)
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    t.join(60)
    assert not t.is_alive(), "the driver hung after a worker was killed"
    assert isinstance(outcome.get("error"), ClusterError), outcome
    assert "died" in str(outcome["error"]) or "failed" in str(outcome["error"])
    assert outcome["at"] - killed_at < 30


def test_cli_trains_on_a_cluster_and_reports_sync(planted_corpus, tmp_path):
    """The CLI starts its own local cluster (as a user would) in a fresh process."""
    out = tmp_path / "v.bin"
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    proc = subprocess.run(["w2v", "train", planted_corpus, "-o", str(out), "--cluster", "local",
                           "--workers", "2", "--threads-per-worker", "1", "--sg", "--size", "50",
                           "--sample", "0", "--sync-words", "16384"],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "cluster: 2 workers x 1 threads" in proc.stderr
    assert score_analogies(w2v.load(out))[0] >= 27


def test_cli_cluster_errors_are_one_line(tmp_path):
    import gzip
    path = tmp_path / "c.txt.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"a b c\n" * 100)
    proc = subprocess.run(["w2v", "train", str(path), "-o", str(tmp_path / "v.bin"), "--cluster",
                           "local"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "decompress" in lines[0]
    assert not (tmp_path / "v.bin").exists()


def test_ctrl_c_stops_every_worker_and_keeps_the_model(planted_corpus, tmp_path):
    out = tmp_path / "v.bin"
    log = tmp_path / "stderr.txt"
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    with open(log, "w") as err:
        proc = subprocess.Popen(["w2v", "train", planted_corpus, "-o", str(out), "--cluster", "local",
                                 "--workers", "2", "--threads-per-worker", "1", "--epochs", "2000",
                                 "--sync-period", "0.05", "--save-on-interrupt"],
                                stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=str(tmp_path))
    deadline = time.monotonic() + 120
    while "training" not in log.read_text() and time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-2000:]
        time.sleep(0.2)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130, log.read_text()[-2000:]
    text = log.read_text()
    assert "saved the model trained so far" in text
    vectors = w2v.load(out)
    expected_words = len(vocab_mod.count_file(planted_corpus, TrainConfig()).words)
    assert vectors.vectors.shape == (expected_words, 100) and np.isfinite(vectors.vectors).all()
