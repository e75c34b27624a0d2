"""Which (model, system prompt) is live, starting from the configured pair."""

from storage import Deployment, Store


def ensure_initial_deployment(store: Store, *, model: str, voice_guide: str) -> Deployment:
    """Makes the configured chat model + voice guide live until training promotes a model.

    While the live deployment still comes from configuration, a changed model
    or guide is deployed on start (appending a row, so history is kept); once
    a trained model was promoted or rolled back to, configuration no longer
    overrides it.
    """
    prompt = store.ensure_prompt(voice_guide, "voice_guide")
    live = store.live_deployment()
    if live is not None and (
        live.origin != "config" or (live.model, live.prompt_id) == (model, prompt.id)
    ):
        return live
    return store.deploy(model, prompt.id, "config", note="configured chat model and voice guide")
