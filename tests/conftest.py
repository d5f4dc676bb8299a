from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Hugging Face libraries cache under HF_HOME and may ask the Hub: keep the tests offline and out of the home
# directory (set before any test imports datasets, transformers or trl).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="stvqa-tests-hf-")
atexit.register(shutil.rmtree, os.environ["HF_HOME"], True)
SHARED = Path(os.environ.get("STVQA_SHARED", REPO.parent / "shared"))
VG_SAMPLE = SHARED / "vg_sample"


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory):
    """Caches and the bundled sample go to a temp dir, never the user's home (session-wide, so that
    module-scoped fixtures are isolated too)."""
    home = tmp_path_factory.getbasetemp() / "stvqa_home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STVQA_HOME", str(home))
        yield home


@pytest.fixture
def vg_sample() -> Path:
    if not VG_SAMPLE.is_dir():
        pytest.skip(f"real Visual Genome sample not found at {VG_SAMPLE} (set STVQA_SHARED to the shared/ folder)")
    return VG_SAMPLE


@pytest.fixture
def real_vg_dir(vg_sample, tmp_path, request) -> Path:
    """A VG data dir built from the real sample: one version's JSON plus the two real images in images/."""
    version = getattr(request, "param", "v1.2")
    data = tmp_path / f"vg-{version}"
    shutil.copytree(vg_sample / version, data)
    shutil.copytree(vg_sample / "images", data / "images")
    return data
