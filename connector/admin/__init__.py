"""The admin setup page at ``/admin``: sign-in through Oro, settings saved over the environment's,
the add-ons' manifests, users, templates, the privacy policy and the audit log."""
