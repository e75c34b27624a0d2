"""Everything the bot says to Slack in chat: the model client, prompting, replying, blocks."""
