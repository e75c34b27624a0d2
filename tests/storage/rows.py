"""Reading tables back in tests, where the product has no read of its own."""

from storage import Store


def ids(store: Store, table: str, order_by: str = "rowid") -> list[object]:
    """Every row's id, in `order_by` order."""
    with store.reading() as db:
        return [row["id"] for row in db.table(table).rows_where(order_by=order_by)]
