"""The sandbox's Microsoft Graph: a mail subset over the sample conversations of the sandbox users."""

from connector.sandbox.graph.routes import create_graph_blueprint
from connector.sandbox.graph.store import GraphMailboxes, SentMessage

__all__ = ["GraphMailboxes", "SentMessage", "create_graph_blueprint"]
