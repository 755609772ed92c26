"""Outlook add-in: the task pane and its JSON API routes."""
