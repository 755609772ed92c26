"""Durable, exactly-once sending of the replies users send from the sidebars (Gmail API, Graph)."""
