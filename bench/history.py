"""A synthetic rated history in a voiceloop database, for benchmarks that need one."""

from pathlib import Path

from curate import synthetic_replies  # bench/curate.py: the same synthetic history

from storage import Store


def seed_history(db: Path, replies: int) -> None:
    """Stores `replies` rated replies (votes and corrections included), as an import would."""
    labeled = synthetic_replies(replies)
    store = Store(db)
    try:
        store.import_history(
            [item.reply for item in labeled], [vote for item in labeled for vote in item.votes]
        )
        with store.transaction() as conn:
            conn.table("corrections").insert_all(
                (
                    {
                        "channel": c.channel,
                        "ts": c.ts,
                        "user": c.user,
                        "text": c.text,
                        "created_at": c.created_at,
                    }
                    for item in labeled
                    for c in item.corrections
                ),
                pk=("channel", "ts", "user"),
                replace=True,
            )
    finally:
        store.close()
