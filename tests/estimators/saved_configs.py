"""Editing a saved estimator's config.json in tests of what loading refuses (not a test module)."""

from __future__ import annotations

import json
from pathlib import Path

from tsrec.estimators import _folder


def edit_config(folder: Path, change, reseal: bool = True) -> None:
    """Apply ``change`` to the saved config; ``reseal`` recomputes its checksum, as a careful forger would."""
    config = json.loads((folder / "config.json").read_text())
    change(config)
    if reseal:
        config["config_sha256"] = _folder._config_sha256(config)
    (folder / "config.json").write_text(json.dumps(config))
