"""The JSON API under ``/api/v1``: what the Outlook pane (and later the admin page) calls.

Every call carries ``Authorization: Bearer <Entra access token>``; errors are
``application/problem+json`` with a stable ``code``; ``/api/v1/openapi.json`` describes it all.
"""
