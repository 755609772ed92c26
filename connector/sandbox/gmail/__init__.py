"""The sandbox's Gmail: the sample conversations behind a subset of the Gmail API.

``SandboxGmail`` holds the mailboxes (the world's sample threads, plus what is sent or drafted through
the API); ``create_gmail_blueprint(gmail, google)`` serves ``users.messages.get``, ``users.messages.list``
(with a subset of the search language, ``search.py``), ``users.threads.get``, ``users.messages.send`` and
``users.drafts.create`` under any mount, checking the add-on event's tokens against the sandbox Google.
"""

from connector.sandbox.gmail.mailbox import Draft, SandboxGmail, StoredMessage, display_address
from connector.sandbox.gmail.routes import GmailApiError, create_gmail_blueprint

__all__ = [
    "Draft",
    "GmailApiError",
    "SandboxGmail",
    "StoredMessage",
    "create_gmail_blueprint",
    "display_address",
]
