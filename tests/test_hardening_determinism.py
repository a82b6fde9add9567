"""The determinism guarantee, as docs/API.md states it: same seed, same data, same code and the
same number of BLAS threads → bit-identical weights and history, in one process and across
processes. (A different thread count may change the last bits; that is documented, not
promised either way.)"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import descentlab as dl
from descentlab.layers import Dense, Dropout
from descentlab.models import Sequential

#: The issue's case: 784→1024 at batch 512, where 1 and 2 threads give different bits. It
#: prints a digest of the weights and the history.
RUN = """
import hashlib, json, sys
from threadpoolctl import threadpool_limits
import numpy as np
import descentlab as dl
from descentlab.layers import Dense, Dropout
from descentlab.models import Sequential

with threadpool_limits(limits=int(sys.argv[1]), user_api="blas"):
    dl.set_random_seed(7)
    data = np.random.default_rng(0)
    x = data.random((1536, 784)).astype("float32")
    y = data.integers(0, 10, 1536)
    model = Sequential([Dense(1024, input_dim=784, activation="relu"), Dropout(0.2),
                        Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=512, epochs=2, validation_split=0.25, verbose=0)
    weights = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
    print(json.dumps({"weights": weights, "history": history.history}))
"""


def run(threads: int) -> dict:
    done = subprocess.run([sys.executable, "-c", RUN, str(threads)], check=True,
                          capture_output=True, text=True, timeout=300)
    return json.loads(done.stdout)


@pytest.mark.parametrize("threads", [1, 2])
def test_same_seed_data_and_thread_count_is_bit_identical_across_processes(threads) -> None:
    first, second = run(threads), run(threads)
    assert first == second  # every weight bit and every logged float


def test_same_seed_is_bit_identical_in_one_process() -> None:
    def train() -> tuple[list[np.ndarray], dict]:
        dl.set_random_seed(11)
        x = np.random.rand(200, 8)  # the global generator, seeded by set_random_seed too
        y = (x.sum(axis=1) > 4).astype(float)
        model = Sequential([Dense(16, input_dim=8, activation="tanh"), Dropout(0.3),
                            Dense(1, activation="sigmoid")])
        model.compile(optimizer="nadam", loss="binary_crossentropy")
        history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.2, verbose=0)
        return model.get_weights(), history.history

    (w1, h1), (w2, h2) = train(), train()
    assert h1 == h2
    for a, b in zip(w1, w2, strict=True):
        assert a.tobytes() == b.tobytes()
