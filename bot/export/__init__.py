"""Reading a Slack workspace export into stored replies and votes."""
