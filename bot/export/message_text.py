"""A message's readable text: its `text`, or what its blocks and attachments show.

Integration bots (GitHub, Jira and most apps) often post with an empty `text`
and all their content in Block Kit blocks or legacy attachments; Slack shows
those, so an import reads them too rather than calling the message empty.
"""

from typing import Any

# Rich text elements that carry words, and how each reads as plain text.
_MENTION_FORMS = {"user": "<@{}>", "channel": "<#{}>", "usergroup": "<!subteam^{}>"}


def message_text(raw: dict[str, Any]) -> str:
    """`text` when it has any; else the blocks' text; else the attachments'."""
    text = raw.get("text")
    if isinstance(text, str) and text.strip():
        return text
    from_blocks = blocks_text(raw.get("blocks"))
    if from_blocks:
        return from_blocks
    return attachments_text(raw.get("attachments"))


def blocks_text(blocks: Any) -> str:
    """The text of section, header, context and rich_text blocks, one block a paragraph."""
    if not isinstance(blocks, list):
        return ""
    paragraphs = [_block_text(block) for block in blocks if isinstance(block, dict)]
    return "\n".join(p for p in paragraphs if p.strip())


def attachments_text(attachments: Any) -> str:
    """Each attachment's pretext, title, text, fields and blocks, or its fallback
    (the plain-text summary Slack requires) when it has none of them."""
    if not isinstance(attachments, list):
        return ""
    paragraphs = []
    for attachment in attachments:
        if not isinstance(attachment, dict):
            continue
        parts = [_str(attachment.get(key)) for key in ("pretext", "title", "text")]
        for item in attachment.get("fields") or []:
            if isinstance(item, dict):
                parts.append(_labelled(_str(item.get("title")), _str(item.get("value"))))
        parts.append(blocks_text(attachment.get("blocks")))
        shown = "\n".join(p for p in parts if p.strip())
        paragraphs.append(shown or _str(attachment.get("fallback")))
    return "\n".join(p for p in paragraphs if p.strip())


def _block_text(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind in ("section", "header"):
        parts = [_text_object(block.get("text"))]
        parts += [_text_object(f) for f in block.get("fields") or []]
        return "\n".join(p for p in parts if p)
    if kind == "context":
        return " ".join(t for t in map(_text_object, block.get("elements") or []) if t)
    if kind == "rich_text":
        return "".join(_rich_text(element) for element in block.get("elements") or [])
    return ""


def _rich_text(element: Any) -> str:
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    if kind == "text":
        return _str(element.get("text"))
    if kind == "link":
        return _str(element.get("text")) or _str(element.get("url"))
    if kind == "emoji":
        return f":{_str(element.get('name'))}:"
    if kind in _MENTION_FORMS:
        key = "user_id" if kind == "user" else f"{kind}_id"
        return _MENTION_FORMS[kind].format(_str(element.get(key)))
    if kind == "rich_text_list":
        items = [_rich_text(item) for item in element.get("elements") or []]
        return "".join(f"• {item}\n" for item in items if item)
    if kind in ("rich_text_section", "rich_text_quote", "rich_text_preformatted"):
        inner = "".join(_rich_text(child) for child in element.get("elements") or [])
        return inner if kind == "rich_text_section" else inner + "\n"
    return ""


def _text_object(value: Any) -> str:
    # A Block Kit text object: {"type": "mrkdwn" | "plain_text", "text": ...}.
    return _str(value.get("text")) if isinstance(value, dict) else ""


def _labelled(title: str, value: str) -> str:
    return f"{title}: {value}" if title and value else title or value


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
