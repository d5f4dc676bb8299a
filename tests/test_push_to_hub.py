"""`--push-to-hub ORG/NAME` on export, build and filter, tested at the `huggingface_hub` call boundary (the Hub's
commit protocol is not served here; the manual check is in the README): one commit of the export folder, the
card and shards as exported, a branch with --revision, a Hub dataset stvqa did not write refused unless
--force-push, and the token in no file, output or error message."""

import pytest
from typer.testing import CliRunner

from stvqa.cli import app

huggingface_hub = pytest.importorskip("huggingface_hub")
runner = CliRunner()
TOKEN = "hf_secret_token_12345"


class FakeHub:
    """Stands in for `huggingface_hub.HfApi`: records the calls, holds each repository's files."""

    repos: dict[str, set[str]] = {}
    calls: list[tuple] = []

    def __init__(self, token=None, **kwargs) -> None:
        self.token = token

    def create_repo(self, repo_id, repo_type=None, private=False, exist_ok=False):
        FakeHub.calls.append(("create_repo", repo_id, repo_type, private, self.token))
        FakeHub.repos.setdefault(repo_id, {".gitattributes"})

    def list_repo_files(self, repo_id, repo_type=None, revision=None):
        return sorted(FakeHub.repos[repo_id])

    def create_branch(self, repo_id, branch, repo_type=None, exist_ok=False):
        FakeHub.calls.append(("create_branch", repo_id, branch))

    def upload_folder(self, folder_path, repo_id, repo_type=None, revision=None, commit_message=None, delete_patterns=None):
        from pathlib import Path

        files = {str(p.relative_to(folder_path)) for p in Path(folder_path).rglob("*") if p.is_file()}
        FakeHub.calls.append(("upload_folder", repo_id, revision, tuple(delete_patterns or ()), files, (Path(folder_path) / "README.md").read_text()))
        kept = {f for f in FakeHub.repos[repo_id] if not f.startswith("data/")}
        FakeHub.repos[repo_id] = kept | files
        return type("Commit", (), {"commit_url": f"https://huggingface.co/datasets/{repo_id}/commit/abc"})()


@pytest.fixture
def hub(monkeypatch):
    FakeHub.repos, FakeHub.calls = {}, []
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHub)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    return FakeHub


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hub") / "run"
    assert runner.invoke(app, ["build", "--out", str(out), "--no-images"]).exit_code == 0
    return out


def test_export_pushes_the_folder_as_one_commit_with_its_card(hub, run, tmp_path) -> None:
    out = tmp_path / "export"
    result = runner.invoke(app, ["export", str(run), "--out", str(out), "--push-to-hub", "me/spatial", "--private"])
    assert result.exit_code == 0, result.output
    assert ("create_repo", "me/spatial", "dataset", True, TOKEN) in hub.calls
    (_, repo, revision, deletes, files, card), = [c for c in hub.calls if c[0] == "upload_folder"]
    assert repo == "me/spatial" and revision is None and deletes == ("data/*.parquet",)
    assert {"README.md", "stvqa_export.json"} <= files and any(f.startswith("data/train-") for f in files)
    assert "configs:" in card and "## Text-only baselines" in card and "| built with | `stvqa" in card
    assert "https://huggingface.co/datasets/me/spatial/commit/abc" in result.output and TOKEN not in result.output
    for path in [*run.rglob("*"), *out.rglob("*")]:
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_a_second_push_replaces_an_stvqa_dataset_and_a_branch_is_made(hub, run, tmp_path) -> None:
    for i in range(2):
        result = runner.invoke(app, ["export", str(run), "--out", str(tmp_path / f"e{i}"), "--push-to-hub", "me/spatial", "--revision", "v2"])
        assert result.exit_code == 0, result.output
    assert [c for c in hub.calls if c[0] == "create_branch"] == [("create_branch", "me/spatial", "v2")] * 2
    assert [c[2] for c in hub.calls if c[0] == "upload_folder"] == ["v2", "v2"]


def test_a_hub_dataset_stvqa_did_not_write_is_refused_unless_forced(hub, run, tmp_path) -> None:
    hub.repos["them/data"] = {".gitattributes", "README.md", "train.csv"}
    refused = runner.invoke(app, ["export", str(run), "--out", str(tmp_path / "a"), "--push-to-hub", "them/data"])
    assert refused.exit_code == 1 and "holds files stvqa did not write (train.csv" in refused.output and "--force-push" in refused.output
    assert not [c for c in hub.calls if c[0] == "upload_folder"]
    forced = runner.invoke(app, ["export", str(run), "--out", str(tmp_path / "b"), "--push-to-hub", "them/data", "--force-push"])
    assert forced.exit_code == 0 and "train.csv" in hub.repos["them/data"]  # its own files stay; the export is added


def test_build_and_filter_push_too(hub, tmp_path) -> None:
    out = tmp_path / "run"
    assert runner.invoke(app, ["build", "--out", str(out), "--no-images", "--push-to-hub", "me/built"]).exit_code == 0
    assert runner.invoke(app, ["filter", str(out), "--target", "50", "--push-to-hub", "me/filtered"]).exit_code == 0
    assert [c[1] for c in hub.calls if c[0] == "upload_folder"] == ["me/built", "me/filtered"]


def test_no_token_bad_names_and_hub_errors_are_one_message_without_the_token(hub, run, tmp_path, monkeypatch) -> None:
    bad = runner.invoke(app, ["export", str(run), "--out", str(tmp_path / "a"), "--push-to-hub", "not a repo"])
    assert bad.exit_code == 1 and "is not ORG/NAME" in bad.output
    monkeypatch.delenv("HF_TOKEN")
    missing = runner.invoke(app, ["export", str(run), "--out", str(tmp_path / "b"), "--push-to-hub", "me/x"])
    assert missing.exit_code == 1 and "$HF_TOKEN is not set" in missing.output and "--token-env" in missing.output
    monkeypatch.setenv("MY_TOKEN", TOKEN)

    def refuse(self, *args, **kwargs):
        from huggingface_hub.errors import HfHubHTTPError

        class Refused(HfHubHTTPError):  # the Hub's error, without the HTTP response object its versions build differently
            def __init__(self, message: str) -> None:
                Exception.__init__(self, message)

        raise Refused(f"403 Forbidden: token {TOKEN} cannot write to me/x")

    monkeypatch.setattr(FakeHub, "upload_folder", refuse)
    denied = runner.invoke(app, ["export", str(run), "--out", str(tmp_path / "c"), "--push-to-hub", "me/x", "--token-env", "MY_TOKEN"])
    assert denied.exit_code == 1 and "the Hub refused the push" in denied.output and TOKEN not in denied.output
