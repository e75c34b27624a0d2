from bot.chat.thread_context import strip_mention, thread_turns
from storage import ChatTurn


def test_strip_mention_removes_only_the_bot() -> None:
    assert strip_mention("<@UBOT> ask <@U2> too", "UBOT") == "ask <@U2> too"
    assert strip_mention("<@UBOT|voiceloop> hi", "UBOT") == "hi"


def test_thread_turns_maps_roles_and_stops_at_the_question() -> None:
    messages = [
        {"ts": "3.0", "user": "U1", "text": "the question"},
        {"ts": "1.0", "user": "U1", "text": "<@UBOT> first"},
        {"ts": "2.0", "user": "UBOT", "bot_id": "BBOT", "text": "answer"},
        {"ts": "2.5", "bot_id": "BOTHER", "text": "another bot"},
        {"ts": "2.6", "user": "U3", "subtype": "channel_join", "text": "joined"},
        {"ts": "4.0", "user": "UBOT", "bot_id": "BBOT", "text": "placeholder"},
    ]
    turns = thread_turns(messages, before_ts="3.0", bot_user_id="UBOT", bot_id="BBOT")
    assert turns == [ChatTurn("user", "first"), ChatTurn("assistant", "answer")]
