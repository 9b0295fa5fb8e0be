"""A GET against a local HTTP endpoint (the worker's and the clusters app's /healthz, /readyz, /metrics)."""

from __future__ import annotations

import urllib.error
import urllib.request


def http_get(port: int, path: str, timeout_s: float = 5.0) -> tuple[int, str]:
    """The status and body, error statuses included; (0, "") while nothing listens yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout_s) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return 0, ""
