"""What the dry-run fork server loads before it forks a dry run (bot/dry_run.py).

Imported only by that server, once, when the bot starts it: every dry run
forked from it then starts with the curation stack imported and its models
(token encoding, language classifier) loaded, instead of spending about two
seconds on them beside the bot.
"""

import gc

import bot.dry_run  # noqa: F401  (the stack a dry run runs)
from curation import import_backends, load_models

import_backends()
load_models()
# What is loaded now lives as long as the server: frozen, the cycle collector
# of a forked dry run never walks it, and so never writes to (and copies) the
# pages it shares with the server.
gc.freeze()
