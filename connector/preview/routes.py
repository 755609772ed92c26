"""The preview page. With the sandbox mounted it shows the sample inbox; otherwise a status page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

bp = Blueprint("preview", __name__, template_folder="templates")


@bp.get("/")
def index() -> str:
    world = current_app.extensions.get("sandbox_world")
    if world is None:
        return render_template("preview/status.html")
    mailbox = request.args.get("mailbox") or (world.mailboxes[0] if world.mailboxes else "")
    threads = sorted(
        (t for t in world.threads if t.mailbox == mailbox),
        key=lambda t: t.messages[-1].date,
        reverse=True,
    )
    selected = None
    thread_id = request.args.get("thread")
    if thread_id:
        selected = next((t for t in world.threads if t.id == thread_id), None)
        if selected is None:
            abort(404)
    elif threads:
        selected = threads[0]
    return render_template(
        "preview/inbox.html", mailboxes=world.mailboxes, mailbox=mailbox, threads=threads, selected=selected
    )
