"""Mail as the connector sees it: addresses, a neutral message model, threading, senders."""
