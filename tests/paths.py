"""Where the tests find the repository and the labeled sets (``../shared/data`` beside the checkout)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
