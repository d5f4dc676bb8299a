import subprocess
import sys
import zipfile

import pytest

from conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
                   check=True, capture_output=True)
    [path] = out.glob("stvqa-*.whl")
    return path


def test_wheel_ships_schemas_prompts_and_pipelines(wheel) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("schemas", "prompts", "pipelines"):
        expected = {f"stvqa/_data/{folder}/{p.name}" for p in (REPO / folder).iterdir() if p.is_file()}
        assert expected and expected <= names, folder


def test_installed_wheel_finds_its_resources(wheel, tmp_path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)], check=True)
    code = "from stvqa.resources import resource_dir; from stvqa.schema import validator; " \
           "print(resource_dir('schemas')); validator('scene_graph')"
    # Run from an empty folder with only the installed copy on the path, so the checkout cannot be found.
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(target / "stvqa" / "_data" / "schemas")
