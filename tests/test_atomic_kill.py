"""Killing a writer at any moment leaves either the old file or the complete new one."""
import os
import signal
import subprocess
import sys
import time

import numpy as np

import w2v

WRITER = r"""
import sys, numpy as np
from w2v.vectors import Vectors
path, fill = sys.argv[1], float(sys.argv[2])
words = [f"w{i}" for i in range(40000)]
Vectors(words, np.full((40000, 50), fill, np.float32)).save(path)
print("done", flush=True)
"""


def test_killed_writer_leaves_old_or_new_complete_file(tmp_path):
    target = tmp_path / "v.txt"
    subprocess.run([sys.executable, "-c", WRITER, str(target), "1.0"], check=True, cwd=tmp_path)
    outcomes = {"old": 0, "new": 0}
    for delay in np.linspace(0.05, 1.5, 8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), "2.0"],
                                stdout=subprocess.PIPE, cwd=tmp_path)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        vecs = w2v.load(str(target))                 # always a complete, valid file
        values = set(np.unique(vecs.matrix).tolist())
        assert values in ({1.0}, {2.0}), values
        assert len(vecs) == 40000
        outcomes["new" if values == {2.0} else "old"] += 1
        if values == {2.0}:                          # reset for the next round
            subprocess.run([sys.executable, "-c", WRITER, str(target), "1.0"], check=True,
                           cwd=tmp_path)
    # leftovers of killed writers are temp files in the folder, never the target name
    assert all(name == "v.txt" or name.startswith(".") for name in os.listdir(tmp_path))
    assert outcomes["old"] + outcomes["new"] == 8
