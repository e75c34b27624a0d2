"""A person's reactions apply in the order they made them, whatever order they arrive in."""

import random
import threading

from tests.e2e import slack_requests as sr
from tests.e2e.harness import RunningBot


def test_back_to_back_verdicts_delivered_concurrently_in_any_order(bot: RunningBot) -> None:
    bot.send_event(sr.mention("<@UBOT> hi"))
    bot.slack.wait_for("chat.update")
    bot.settle()
    [reply] = bot.store.replies()
    # Looking up a new reactor is slow; it must not decide which verdict wins.
    bot.slack.slow_down("users.info", 0.05)
    rng = random.Random(4)
    for round_ in range(10):
        user = f"U{round_ + 10}"
        bot.slack.add_user(user)
        events = [
            sr.reaction("reaction_added", "+1", channel=reply.channel, ts=reply.ts, user=user),
            sr.reaction("reaction_added", "-1", channel=reply.channel, ts=reply.ts, user=user),
            sr.reaction("reaction_removed", "+1", channel=reply.channel, ts=reply.ts, user=user),
        ]
        rng.shuffle(events)
        start = threading.Barrier(len(events))
        statuses: list[int] = []

        def deliver(event: dict[str, object], start: threading.Barrier, into: list[int]) -> None:
            start.wait()
            into.append(bot.send_event(event).status)

        senders = [threading.Thread(target=deliver, args=(e, start, statuses)) for e in events]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        bot.settle()
        assert statuses == [200, 200, 200]
        votes = {v.user: (v.value, v.source) for v in bot.store.votes(reply.channel, reply.ts)}
        assert votes[user] == (-1, "reaction:-1"), f"round {round_}"
