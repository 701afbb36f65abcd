"""The web console: spend and savings at a glance, server-rendered, read-only, content-free."""

from anyray.console.app import console_for_gateway, create_console_app, standalone_app

__all__ = ["console_for_gateway", "create_console_app", "standalone_app"]
