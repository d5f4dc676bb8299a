"""`--push-to-hub ORG/NAME`: an exported dataset folder (Parquet shards and the card, whose YAML `configs` the Hub
reads) uploaded as one commit with `huggingface_hub`. A Hub dataset that stvqa did not write (no
`stvqa_export.json`) is never overwritten unless forced; the shards of an earlier stvqa push that this export
does not have are removed in the same commit. The token comes from an environment variable and goes nowhere
else: not into the card, the manifest, logs or error messages.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ...errors import ConfigError, DataError
from ...pipeline.ownership import EXPORT_MANIFEST

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


def push_to_hub(folder: Path, repo_id: str, *, private: bool = False, revision: str | None = None, token_env: str = "HF_TOKEN",
                force: bool = False) -> str:
    """Upload `folder` (an `stvqa export`) to the dataset repository `repo_id`; returns the commit's URL."""
    if not REPO_ID.match(repo_id):
        raise ConfigError(f"--push-to-hub {repo_id!r} is not ORG/NAME", "Pass the dataset repository as owner/name, e.g. my-org/stvqa-7k.")
    if not (folder / EXPORT_MANIFEST).is_file():
        raise DataError(f"{folder} is not a dataset stvqa exported", "Push the folder `stvqa export` or `stvqa build` wrote (RUN/dataset).")
    token = os.environ.get(token_env)
    if not token:
        raise ConfigError(f"${token_env} is not set: the Hub needs a token to push", f"Set {token_env} to a write token (huggingface.co/settings/tokens), "
                                                                                     "or name another variable with --token-env.")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        present = set(api.list_repo_files(repo_id, repo_type="dataset", revision=None))
        foreign = present - {".gitattributes", "README.md"}
        if foreign and EXPORT_MANIFEST not in present and not force:
            raise DataError(f"the Hub dataset {repo_id} holds files stvqa did not write ({', '.join(sorted(foreign)[:3])}, ...)",
                            "Push to another name, or pass --force-push to push this export into it anyway.")
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True)
        commit = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset", revision=revision,
                                   commit_message=f"stvqa export ({sum(1 for _ in (folder / 'data').glob('*.parquet'))} shards)",
                                   delete_patterns=["data/*.parquet"])  # shards of an earlier push this export does not have
    except HfHubHTTPError as exc:
        raise DataError(f"the Hub refused the push to {repo_id}: {str(exc).replace(token, '***')[:300]}",
                        f"Check that ${token_env} is a write token with access to {repo_id.split('/')[0]}.") from None
    return getattr(commit, "commit_url", None) or str(commit)
