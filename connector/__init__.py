"""Oro Connector: the Oro back-office inside Gmail and Outlook."""
