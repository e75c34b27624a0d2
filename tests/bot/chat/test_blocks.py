from bot.chat.blocks import SECTION_TEXT_LIMIT, correction_modal, reply_blocks


def test_long_replies_are_split_into_sections_within_slacks_limit() -> None:
    text = "\n".join(f"line {i} " + "x" * 80 for i in range(200))
    blocks = reply_blocks(text)
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(s["text"]["text"]) <= SECTION_TEXT_LIMIT for s in sections)
    assert "".join(s["text"]["text"] for s in sections).replace("\n", "") == text.replace("\n", "")
    assert blocks[-1]["type"] == "context_actions"


def test_correction_modal_prefill_respects_the_input_limit() -> None:
    view = correction_modal("C1", "1.0", "y" * 5000)
    assert len(view["blocks"][0]["element"]["initial_value"]) == 3000
