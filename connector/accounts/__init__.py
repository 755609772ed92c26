"""The people using the sidebars: host identities, their Oro connection (tokens) and the connect flow."""
