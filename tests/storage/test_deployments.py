"""Which deployment is live: the configured pair until a trained model is promoted."""

from storage import Store
from tests.storage.rows import ids


def test_first_deployment_is_the_configured_pair_and_is_kept_on_restart() -> None:
    store = Store(":memory:")
    first = store.deploy_configured("gpt-5-mini", "Be kind.")
    again = store.deploy_configured("gpt-5-mini", "Be kind.")
    assert first == again
    assert store.prompt(first.prompt_id).content == "Be kind."


def test_changed_configuration_appends_until_a_model_is_promoted() -> None:
    store = Store(":memory:")
    store.deploy_configured("gpt-5-mini", "Be kind.")
    changed = store.deploy_configured("gpt-5-mini", "Be kinder.")
    assert len(ids(store, "deployments")) == 2
    promoted = store.deploy("ft:gpt-4.1-mini:acme::x", changed.prompt_id, "promotion")
    assert store.deploy_configured("other", "Be kind.") == promoted
