"""Prompt tokens per reply before and after a promotion, with the shipped voice guide.

Runs the real flow in one process: a store whose live deployment is the
configured chat model with the shipped voice guide, rated replies, the
Lifecycle training on the fake OpenAI (tests/fakes) until the gate promotes
the fine-tune with the short prompt. Then the same conversations (questions
with 0 to 6 earlier turns of thread history) are built into requests exactly
as the bot builds them (bot.chat.prompting.build_request, the configured
context budget) for the deployment before and after, and their tokens are
counted with tiktoken as the chat format counts them.

Figures are per reply, after over before (the baseline is the pre-promotion
deployment, measured in the same run). Target: system-prompt tokens per reply
fall by at least 95%.

    python bench/prompt_tokens.py [--conversations 200]
"""

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table

from bot.chat.prompting import build_request
from bot.settings import DEFAULT_SHORT_PROMPT, shipped_voice_guide
from curation import system_prompt_tokens
from curation.dataset.tokens import count_chat_tokens
from storage import ChatTurn, Deployment, Store
from tests.curation.lifecycle_harness import (
    CHAT_MODEL,
    answer_as,
    drive,
    make_lifecycle,
    seed_ratings,
    started,
)
from tests.fakes.openai_api import FakeOpenAI

CONTEXT_TOKENS = 8000  # VOICELOOP_CONTEXT_TOKENS' default
QUESTIONS = [
    "What's the best way to waterproof my hiking boots before a wet weekend?",
    "Can I return a tent I used once if a pole snapped?",
    "Which sleeping bag rating do I need for a late-October trip in the Cascades?",
    "Do you price-match other outdoor shops?",
    "How do I pick between a 45 L and a 60 L pack for a three-day trip?",
    "Is the Ridgeline shell warm enough on its own for ski touring?",
]
HISTORY = [
    "We're heading out Friday, four of us, two kids.",
    "Great, a family trip! Tell me where you're headed and I'll tailor the list.",
    "Probably the lake loop, about six miles.",
    "The lake loop is lovely this time of year; expect mud near the north shore.",
    "Also, is there a discount for members?",
    "Members get 10% off gear and free rentals on weekdays.",
]


def conversations(n: int, seed: int = 7) -> list[tuple[list[ChatTurn], str]]:
    rng = random.Random(seed)
    found = []
    for _ in range(n):
        turns = rng.randint(0, len(HISTORY) // 2) * 2
        history = [
            ChatTurn("user" if i % 2 == 0 else "assistant", HISTORY[i]) for i in range(turns)
        ]
        found.append((history, rng.choice(QUESTIONS)))
    return found


def per_reply(
    store: Store, deployment: Deployment, chats: list[tuple[list[ChatTurn], str]]
) -> tuple[float, float]:
    """Mean (system-prompt, whole-prompt) tokens per reply for a deployment."""
    prompt = store.prompt(deployment.prompt_id).content
    system = system_prompt_tokens(prompt, deployment.model)
    totals = [
        count_chat_tokens(
            build_request(
                prompt, history, question, model=deployment.model, budget=CONTEXT_TOKENS
            ).messages,
            deployment.model,
        )
        for history, question in chats
    ]
    return float(system), sum(totals) / len(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    args = parser.parse_args()
    console = Console(stderr=True)
    guide = shipped_voice_guide()
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        fake.reply_with(answer_as("candidate"))
        store = Store(Path(tmp) / "voiceloop.db")
        before = store.deploy_configured(CHAT_MODEL, guide)
        seed_ratings(store, 60)
        lifecycle = make_lifecycle(
            store, fake, Path(tmp) / "datasets", short_prompt=DEFAULT_SHORT_PROMPT
        )
        with console.status("Training on the fake OpenAI until the gate promotes…"):
            run = started(lifecycle)
            updates = drive(lifecycle)
        after = store.live_deployment()
        if after is None or after.run_id != run.id:
            sys.exit(f"the run was not promoted: {updates[-1].text if updates else 'no update'}")
        chats = conversations(args.conversations)
        system_before, total_before = per_reply(store, before, chats)
        system_after, total_after = per_reply(store, after, chats)
        announced = lifecycle.status().prompt_tokens
        store.close()

    table = Table(title=f"Prompt tokens per reply, {len(chats)} conversations")
    table.add_column("")
    table.add_column("before (voice guide)", justify="right")
    table.add_column("after (short prompt)", justify="right")
    table.add_column("after / before", justify="right")
    table.add_column("saved", justify="right")
    for name, b, a in (
        ("system prompt", system_before, system_after),
        ("whole prompt", total_before, total_after),
    ):
        table.add_row(name, f"{b:,.0f}", f"{a:,.0f}", f"{a / b:.3f}", f"{1 - a / b:.1%}")
    Console().print(table)
    reduction = 1 - system_after / system_before
    verdict = "meets" if reduction >= 0.95 else "MISSES"
    print(f"system-prompt tokens per reply fall by {reduction:.1%} ({verdict} the 95% target)")
    if announced is not None:
        print(f"App Home and the announcement say: {announced.describe()}")


if __name__ == "__main__":
    main()
