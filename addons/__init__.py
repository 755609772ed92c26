"""The mailbox hosts: the Gmail add-on and the Outlook add-in. Only connector.app imports these."""
