"""The web process stays light: `import app.main` (what `nova serve` loads before its first
run) never imports the agent runtime or the libraries only runs need."""

from __future__ import annotations

import subprocess
import sys

from tests.fixtures.server import ROOT

# Loaded where runs execute (a worker, or `nova serve` at its first run): seconds of start-up
# and ~100 MB that a web process serving pages and streams does not need.
RUN_ONLY = ("langchain", "langchain_core", "langgraph", "langsmith", "openai", "caldav", "trafilatura")


def test_the_web_app_imports_no_agent_runtime() -> None:
    probe = "import sys, app.main, app.cli; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert [name for name in RUN_ONLY if name in loaded] == []
    assert "app" in loaded  # the probe did import the app
