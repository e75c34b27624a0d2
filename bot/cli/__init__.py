"""The `voiceloop` command line, one module per area; each exposes `register(app)`."""
