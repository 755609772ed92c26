"""The audit log: who did what to which Oro records, and when."""
