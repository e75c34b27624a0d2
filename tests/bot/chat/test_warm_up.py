"""What the first reply would load is loaded before the bot takes requests."""

from datetime import timedelta

from bot.chat.model import ChatModel
from bot.chat.replying import Responder
from curation.dataset.tokens import encoding_for
from storage import Store


def test_warm_up_loads_the_live_models_tokenizer() -> None:
    store = Store(":memory:")
    store.deploy_configured("gpt-4.1-mini", "Be brief.")
    chat = ChatModel(api_key="k", base_url=None, max_retries=0, timeout=1, max_tokens=10)
    responder = Responder(store, chat, context_tokens=100, claim_expiry=timedelta(minutes=1))
    encoding_for.cache_clear()
    responder.warm_up()
    assert encoding_for.cache_info().currsize == 1
    assert encoding_for.cache_info().misses == 1
