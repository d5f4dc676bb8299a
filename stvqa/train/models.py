"""Models and processors: where a model name points (checked before anything loads), loading a trained folder
(full weights or a LoRA adapter) for evaluation, and what the machine can do (GPU, bf16, vLLM)."""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from .tiny import register_processor, torchvision_available

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
MODEL_FILES = ("config.json", "adapter_config.json")


def resolve_model(name: str) -> str:
    """A local model folder (checked: it exists and holds a model) or a Hub id; never loads anything.

    >>> resolve_model("/no/such/model")
    Traceback (most recent call last):
    stvqa.errors.DataError: model path /no/such/model does not exist
    Pass an existing model folder or a Hub id such as Qwen/Qwen2.5-VL-3B-Instruct.
    """
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir() or not any((path / f).is_file() for f in MODEL_FILES):
            raise DataError(f"{path} is not a model folder (no config.json or adapter_config.json)",
                            "Pass a folder written by `stvqa train` or `save_pretrained`, or a Hub id such as Qwen/Qwen2.5-VL-3B-Instruct.")
        return str(path.resolve())
    first = Path(name.split("/")[0]).expanduser()
    hint = "Pass an existing model folder or a Hub id such as Qwen/Qwen2.5-VL-3B-Instruct."
    if not _HUB_ID.match(name) or name.startswith((".", "/", "~")) or first.is_dir():
        raise DataError(f"model path {name} does not exist", hint)
    found = on_hub(name)
    if found is False:
        raise DataError(f"model path {name} does not exist, and no Hub model has that id", hint)
    if found is None:
        raise DataError(f"model path {name} does not exist, and no Hub model of that id is cached locally (the Hub cannot be reached)",
                        "Pass a local model folder, or download the model where there is a network (`hf download ID`, same HF_HOME).")
    return name


def on_hub(repo_id: str) -> bool | None:
    """Whether a Hub model exists: True when the local cache has it (no request sent) or the Hub says so, False
    when the Hub says no such model, None when it is not cached and the Hub cannot be reached (or we are offline)."""
    try:
        from huggingface_hub import constants, model_info, try_to_load_from_cache
        from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
    except ImportError:
        return True
    if isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
        return True
    if constants.HF_HUB_OFFLINE:
        return None
    try:
        model_info(repo_id, timeout=10)
    except RepositoryNotFoundError:
        return False
    except HfHubHTTPError:  # rate limits, gated models: the Hub is there; let loading report it
        return True
    except Exception:  # no connection
        return None
    return True


def tame_libraries(quiet: bool = False) -> None:
    """No deprecation notices about TRL's own use of transformers (nothing a user can act on); with --quiet, no
    progress bars from datasets and transformers either (TRL's per-step log lines stay)."""
    warnings.filterwarnings("ignore", category=FutureWarning, message=r".*deprecated and will be removed in v6")
    if quiet:
        import datasets
        import transformers

        datasets.disable_progress_bars()
        transformers.utils.logging.disable_progress_bar()


def has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def check_devices(bf16: bool | None, use_vllm: bool) -> bool:
    """bf16 (None = automatic) for this machine; bf16 or vLLM asked for without a GPU is one clear error."""
    gpu = has_gpu()
    wanted = [what for what, on in (("bf16", bf16 is True), ("vLLM generation (--use-vllm)", use_vllm)) if on]
    if wanted and not gpu:
        raise ConfigError(f"{' and '.join(wanted)} need{'s' if len(wanted) == 1 else ''} a CUDA GPU, and none is available",
                          "Drop them to train on CPU (bf16 is on by default only on a GPU; generation then runs through transformers).")
    if use_vllm and importlib.util.find_spec("vllm") is None:
        raise ConfigError("--use-vllm needs vLLM, which is not installed", "pip install vllm  (a version TRL supports; see TRL's docs)")
    import torch

    return gpu and torch.cuda.is_bf16_supported() if bf16 is None else bf16


def check_report_to(targets: list[str]) -> None:
    from .recipe import REPORT_TARGETS

    for target in targets:
        if importlib.util.find_spec(REPORT_TARGETS[target]) is None:
            raise ConfigError(f"report_to {target} is not installed", f"pip install {target}, or pass --report-to none.")


def load_processor(path: str, model_path: str | None = None):
    """The processor saved in `path` (of the model in `model_path`, by default the same folder). Qwen2-VL family
    models load without torchvision through `ImageTextProcessor`."""
    register_processor()
    from transformers import AutoConfig, AutoProcessor

    config = AutoConfig.from_pretrained(model_path or path)
    if not torchvision_available() and config.model_type in ("qwen2_5_vl", "qwen2_vl"):
        from .tiny import processor_class

        return processor_class().from_pretrained(path)
    return AutoProcessor.from_pretrained(path)


def load_for_eval(name: str) -> tuple[Any, Any, str]:
    """(model in eval mode on the best device, processor, the folder or id the processor came from).
    A LoRA folder is merged into its base model."""
    import torch
    from transformers import AutoModelForImageTextToText

    path = resolve_model(name)
    register_processor()
    dtype = torch.bfloat16 if has_gpu() and torch.cuda.is_bf16_supported() else torch.float32
    try:
        if (Path(path) / "adapter_config.json").is_file():
            from peft import PeftConfig, PeftModel

            base = PeftConfig.from_pretrained(path).base_model_name_or_path
            model = AutoModelForImageTextToText.from_pretrained(resolve_model(base), dtype=dtype)
            model = PeftModel.from_pretrained(model, path).merge_and_unload()
            processor_path = path if (Path(path) / "processor_config.json").is_file() else base
            processor = load_processor(processor_path, model_path=base)
        else:
            model = AutoModelForImageTextToText.from_pretrained(path, dtype=dtype)
            processor_path = path
            processor = load_processor(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot load model {name}: {exc}", "Pass a folder written by `stvqa train` or a Hub id.") from None
    if has_gpu():
        model = model.to("cuda")
    return model.eval(), processor, processor_path
