"""The sandbox's Oro: an Oro-compatible back-office JSON:API and OAuth 2 server over in-memory data.

``store.OroState`` holds the data, permissions, OAuth server and fault controls (``state.faults``,
``state.configure(**kw)``); ``routes.create_oro_blueprint`` serves it; ``seed.populate`` fills it.
Behaviour follows ``reference/oro-api.md``; module docstrings say where the sandbox simplifies.
"""
