"""descentlab: see, measure and fix why neural networks fail to train.

A transparent NumPy engine with the textbook's Keras API::

    import descentlab as dl
    from descentlab.models import Sequential
    from descentlab.layers import Dense
"""

import importlib

from descentlab import errors
from descentlab.backend import floatx, set_floatx, set_random_seed

__version__ = "0.1.0"

_SUBMODULES = (
    "activations", "initializers", "losses", "metrics", "optimizers", "regularizers",
    "schedules", "layers", "models", "callbacks", "saving", "datasets", "diagnostics",
)

__all__ = ["errors", "floatx", "set_floatx", "set_random_seed", "diagnose", "__version__",
           *_SUBMODULES]


def __getattr__(name: str):
    # Submodules load on first use, so `import descentlab` stays fast and the CLI starts quickly.
    if name in _SUBMODULES:
        return importlib.import_module(f"descentlab.{name}")
    if name == "diagnose":  # dl.diagnose(model, x, y): the vanishing lab's front door
        return importlib.import_module("descentlab.diagnostics").diagnose
    raise AttributeError(f"module 'descentlab' has no attribute {name!r}")
