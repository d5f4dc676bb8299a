"""bench/gpu_check.py, the one-command GPU check: its whole path on CPU with the tiny model, and its 3B model is
Qwen2.5-VL-3B's architecture (counted on the meta device: nothing is allocated or downloaded)."""

import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "trl")),
                                reason="the train extra is not installed (pip install -e '.[train]')")
SCRIPT = REPO / "bench" / "gpu_check.py"


def test_the_check_runs_end_to_end_on_cpu_with_the_tiny_model(tmp_path) -> None:
    run = subprocess.run([sys.executable, str(SCRIPT), "--size", "tiny", "--allow-cpu", "--no-vllm", "--steps", "2", "--tokens", "8",
                          "--eval-rows", "4", "--work", str(tmp_path)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["ok"] and report["train"][0]["steps"] == 2 and report["train"][0]["completion_tokens_per_s"] > 0
    assert report["eval"]["rows"] == 4 and report["eval"]["tokens_per_second"] > 0


def test_without_a_gpu_it_refuses_and_a_failure_exits_non_zero(tmp_path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    refused = subprocess.run([sys.executable, str(SCRIPT), "--work", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "no CUDA GPU" in refused.stderr
    (tmp_path / "sample-run").write_text("a file where the run folder goes")  # the export step fails
    failed = subprocess.run([sys.executable, str(SCRIPT), "--size", "tiny", "--allow-cpu", "--no-vllm", "--work", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1 and not json.loads((tmp_path / "gpu_check.json").read_text())["ok"]


def test_the_3b_model_is_qwen2_5_vl_3b() -> None:
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    sys.path.insert(0, str(SCRIPT.parent))
    from gpu_check import QWEN25_VL_3B

    config = Qwen2_5_VLConfig(**QWEN25_VL_3B)
    with torch.device("meta"):
        model = Qwen2_5_VLForConditionalGeneration(config)
    assert 3.7e9 < sum(p.numel() for p in model.parameters()) < 3.8e9  # Qwen2.5-VL-3B-Instruct: 3.75 B
