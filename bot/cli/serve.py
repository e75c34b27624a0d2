"""`voiceloop serve`: run the bot in HTTP or Socket Mode."""

import sys

import typer

# How long a thread waiting for the GIL waits before the holder must hand it over.
GIL_SWITCH_SECONDS = 0.001


def register(app: typer.Typer) -> None:
    @app.command()
    def serve() -> None:
        """Run the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on VOICELOOP_PORT."""
        # Imported here: Slack and OpenAI clients take a second to load, which
        # every other command (and --help) should not pay for.
        from bot.app import build_service
        from bot.cli.warnings import note
        from bot.example_brand import example_brand_use
        from bot.logs import configure_logging
        from bot.server import HttpLimits, serve_http, serve_socket_mode
        from bot.settings import load_settings

        settings = load_settings()
        configure_logging(settings.log_level, settings.secrets())
        service = build_service(settings)
        brand = example_brand_use(settings)
        if brand:
            note(brand.notice())
        # Recovery, housekeeping, checkpoints and the retrain scheduler.
        service.start()
        # The bot is bound by latency, not throughput: a thread that must ack
        # waits at most this long for the GIL while a reply or a "busy" note
        # runs Python on another thread (the default is 5 ms). Over four pairs
        # of bench/ack_latency.py runs, the p99 ratio to bare Bolt was 0.97-1.33
        # (mean 1.13) with 1 ms or less, against 1.14-1.63 (mean 1.34) with 5 ms.
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        grace = settings.shutdown_grace_seconds
        if settings.slack_app_token is not None:
            serve_socket_mode(service, settings.slack_app_token.get_secret_value(), grace)
        else:
            assert settings.slack_signing_secret is not None  # build_service checked
            limits = HttpLimits(settings.http_threads, settings.max_body_bytes)
            secret = settings.slack_signing_secret.get_secret_value()
            serve_http(service, secret, settings.host, settings.port, limits, grace)
