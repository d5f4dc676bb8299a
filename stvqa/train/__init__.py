"""Training and evaluation: TRL's GRPOTrainer with stvqa's spatial rewards on an exported dataset.

Modules: `recipe` (recipe files and overrides; no torch), `rewards` (recipe names -> reward functions),
`data` (dataset -> the columns TRL reads, and the coordinate convention), `models` (model names, devices,
loading), `tiny` (the random-weight Qwen2.5-VL of `--smoke` and the tests), `trainer` (the recipe itself),
`smoke`, `evaluate`, and `commands` (what `stvqa train` does with its flags). torch, transformers, trl and peft come with `pip install -e '.[train]'` and are imported
only inside functions; `require_extra()` turns their absence into one message with the install command.
"""

from __future__ import annotations

import importlib.util

from ..errors import ConfigError

EXTRA_MODULES = ("torch", "transformers", "trl", "accelerate", "datasets", "peft")
INSTALL_HINT = "pip install torch==2.13.0 && pip install -e '.[train]'  (on a GPU machine: your CUDA torch, then pip install -e '.[train]')"


def require_extra(command: str = "stvqa train") -> None:
    missing = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"{command} needs the train extra ({', '.join(missing)} not installed)", INSTALL_HINT)
