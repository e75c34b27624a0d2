from bot.deployment import ensure_initial_deployment
from storage import Store


def test_first_deployment_is_the_configured_pair_and_is_kept_on_restart() -> None:
    store = Store(":memory:")
    first = ensure_initial_deployment(store, model="gpt-5-mini", voice_guide="Be kind.")
    again = ensure_initial_deployment(store, model="gpt-5-mini", voice_guide="Be kind.")
    assert first == again
    assert store.prompt(first.prompt_id).content == "Be kind."


def test_changed_configuration_appends_until_a_model_is_promoted() -> None:
    store = Store(":memory:")
    ensure_initial_deployment(store, model="gpt-5-mini", voice_guide="Be kind.")
    changed = ensure_initial_deployment(store, model="gpt-5-mini", voice_guide="Be kinder.")
    assert len(store.deployments()) == 2
    promoted = store.deploy("ft:gpt-4.1-mini:acme::x", changed.prompt_id, "promotion")
    assert ensure_initial_deployment(store, model="other", voice_guide="Be kind.") == promoted
