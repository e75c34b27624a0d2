"""The running service: settings, the Slack app, chat replies and the CLI."""
