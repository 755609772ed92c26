"""The add-ons' deployment documents, rendered for one deployment's URLs; one module per host.

``gmail`` renders the Google Workspace add-on's ``deployment.json``; ``outlook`` the Outlook add-in's
manifests. Each module also names the endpoint paths its host calls, so that routes, card builders and
manifests share one list. The templates under ``manifest/`` at the repository root show the same
documents with placeholders, for people who deploy by hand.
"""
