"""The admin page, ``/admin``: sign-in through Oro, then one page per thing to set up or look after.

Every route but the sign-in pages and the static files needs a signed-in admin (``guard``), and every
unsafe request a valid CSRF token. Routes parse the form, call an operation and render; the request's
commit point commits (``connector.db.session``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, cast

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from connector.admin import auth, operations, pages
from connector.admin.errors import AdminError, SettingsInvalid, SignInFailed, TooManyAttempts
from connector.admin.headers import apply_security_headers
from connector.admin.recent import RecentErrors, install
from connector.admin.schemas import SECTIONS, Section, TemplateForm, read_settings_form
from connector.app_services import ADMIN_SETTINGS_OWNER, secret_box, services, settings
from connector.db import db
from connector.db.models import User
from connector.health.checks import check_database
from connector.linking import operations as linking
from connector.linking.errors import LinkingError
from connector.linking.policy import RuleKind
from connector.oro import OroAuthExpired, OroAuthRejected, OroClient, OroError
from connector.outbox.operations import SendConflict
from connector.templates import operations as template_ops
from connector.templates.errors import TemplateError
from connector.templates.models import EmailTemplate

logger = logging.getLogger(__name__)

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

PUBLIC_ENDPOINTS = frozenset({"admin.signin", "admin.signin_start", "admin.signin_callback", "admin.static"})
"""Reachable without a signed-in admin: the sign-in itself, and the stylesheet and script it uses."""
STATUS_SECONDS = 60.0


@bp.record_once
def _collect_recent_errors(state: Any) -> None:
    state.app.extensions["admin.recent_errors"] = install(
        state.app.extensions["connector.settings"].secret_values()
    )


def callback_url(path: str) -> str:
    return settings().public_url.rstrip("/") + path


SIGNIN_CALLBACK = "/admin/signin/callback"
CONNECT_CALLBACK = "/oauth/oro/callback"


# --- every request ------------------------------------------------------------------------------------


@bp.before_request
def guard() -> BaseResponse | tuple[str, int] | None:
    g.admin = None
    unsafe = request.method not in auth.SAFE_METHODS
    if request.endpoint in PUBLIC_ENDPOINTS:
        if unsafe and not auth.csrf_valid(public_url=settings().public_url):
            return _refused(
                400, "This form has expired or did not come from this page. Reload it and try again."
            )
        return None
    effective = services().effective_settings()
    found = auth.current_admin(max_age_minutes=effective.admin_session_minutes)
    if found is None:
        if not unsafe:
            return redirect(url_for("admin.signin", next=request.full_path.rstrip("?")))
        return _refused(403, "Sign in to the admin page first.")
    user = db.session.get(User, found.user_id)
    if user is None or not operations.is_admin(effective, user.email):
        return _refused(403, f"{found.email} is not an administrator of this connector (any more).")
    if unsafe and not auth.csrf_valid(public_url=settings().public_url):
        return _refused(400, "This form has expired or did not come from this page. Reload it and try again.")
    g.admin = user
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    return apply_security_headers(
        response,
        oro_url=services().effective_settings().oro_url,
        https=settings().public_url.startswith("https://"),
    )


@bp.teardown_request
def _settings_saved(_exc: BaseException | None) -> None:
    # After the commit (teardown runs after the response's commit point): every process reads again.
    if g.get("admin_settings_changed"):
        services().cache.bump(ADMIN_SETTINGS_OWNER)
    if g.get("outbox_changed"):
        current_app.extensions["connector.wakeup"].notify()  # a retried reply is due now


@bp.context_processor
def _page_context() -> dict[str, Any]:
    return {"csrf_token": auth.csrf_token, "admin": g.get("admin"), "nav": pages.NAV}


@bp.errorhandler(AdminError)
def _admin_error(exc: AdminError) -> tuple[str, int] | Response:
    if isinstance(exc, TooManyAttempts):
        body, status = _refused(exc.status, exc.message)
        response = current_app.make_response((body, status))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return _refused(exc.status, exc.message)


@bp.errorhandler(TemplateError)
def _template_error(exc: TemplateError) -> tuple[str, int]:
    status = {"template_not_found": 404, "template_access_denied": 403}.get(exc.code, 400)
    return _refused(status, exc.message)


def _refused(status: int, message: str) -> tuple[str, int]:
    return render_template("admin/refused.html", status=status, message=message), status


# --- signing in ---------------------------------------------------------------------------------------


@bp.get("/signin")
def signin() -> BaseResponse | str:
    effective = services().effective_settings()
    if auth.current_admin(max_age_minutes=effective.admin_session_minutes):
        return redirect(auth.safe_next(request.args.get("next")))
    ready = bool(effective.oro_url and effective.oro_client_id and effective.oro_client_secret)
    return render_template(
        "admin/signin.html",
        next=auth.safe_next(request.args.get("next")),
        ready=ready,
        oro_url=effective.oro_url,
        admins_named=bool(effective.admin_emails),
    )


@bp.post("/signin")
def signin_start() -> BaseResponse:
    effective = services().effective_settings()
    auth.count_attempt(
        services().cache, address=request.remote_addr or "?", limit=effective.admin_signin_attempts
    )
    try:
        started = services().oro.oauth.start_authorization(redirect_uri=callback_url(SIGNIN_CALLBACK))
    except OroAuthRejected as exc:
        raise SignInFailed(f"Signing in needs the Oro OAuth application: {exc}") from None
    auth.remember_pending(
        state=started.state,
        verifier=secret_box().encrypt(started.code_verifier),
        next_path=auth.safe_next(request.form.get("next")),
    )
    return redirect(started.url, code=303)


@bp.get("/signin/callback")
def signin_callback() -> BaseResponse:
    # Not counted as an attempt: it only completes a sign-in this session started (and was counted).
    effective = services().effective_settings()
    pending = auth.take_pending(request.args.get("state", ""))
    if pending is None:
        raise SignInFailed(
            "This sign-in was not started here, was already used or took too long: start again."
        )
    if request.args.get("error"):
        reason = request.args.get("error_description") or request.args["error"]
        raise SignInFailed(f"Oro did not grant access ({reason}): you are not signed in.")
    encrypted_verifier, next_path = pending
    connection = services().oro
    try:
        tokens = connection.oauth.exchange_code(
            code=request.args.get("code", ""),
            code_verifier=secret_box().decrypt(encrypted_verifier),
            redirect_uri=callback_url(SIGNIN_CALLBACK),
        )
        oro_user = operations.oro_user_behind(connection, tokens)
    except OroError as exc:
        logger.warning("admin sign-in through Oro failed: %s", exc)
        raise SignInFailed(f"Oro did not complete the sign-in: {exc}. Start again.") from None
    user = operations.sign_in_admin(
        db.session, secret_box(), settings=effective, oro_user=oro_user, tokens=tokens
    )
    auth.start_admin_session(user)
    logger.info("%s signed in to the admin page", user)
    return redirect(auth.safe_next(next_path), code=303)


@bp.post("/signout")
def signout() -> BaseResponse:
    auth.end_admin_session()
    return redirect(url_for("admin.signin"), code=303)


# --- status ---------------------------------------------------------------------------------------------


def _redirect_uris() -> list[str]:
    return [callback_url(CONNECT_CALLBACK), callback_url(SIGNIN_CALLBACK)]


def _oro_verdict(*, fresh: bool) -> tuple[operations.ConnectionVerdict, bool]:
    """The verdict on Oro, remembered for a minute per configuration (False: it was just asked)."""
    effective = services().effective_settings()
    fields = [getattr(effective, f.name) for f in SECTIONS["oro"]]
    key = "admin-oro-verdict:" + hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]
    cache = services().cache
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return pages.verdict_from_dict(cached), True
    verdict = operations.check_oro_connection(effective, redirect_uris=_redirect_uris())
    # A failure is asked again sooner: Oro coming back should show without waiting a minute.
    cache.set(key, asdict(verdict), ttl=STATUS_SECONDS if verdict.ok else STATUS_SECONDS / 4)
    return verdict, False


@bp.get("/")
def status() -> str:
    effective = services().effective_settings()
    verdict, remembered = _oro_verdict(fresh=False)
    recent: RecentErrors | None = current_app.extensions.get("admin.recent_errors")
    return render_template(
        "admin/status.html",
        verdict=verdict,
        remembered=remembered,
        hosts=operations.host_status(effective),
        database=check_database(db.engine()),
        users=operations.list_users(db.session),
        errors=recent.newest_first() if recent else [],
        outbox=operations.outbox_panel(db.session),
    )


@bp.post("/status/refresh")
def status_refresh() -> BaseResponse:
    _oro_verdict(fresh=True)
    return redirect(url_for("admin.status"), code=303)


@bp.post("/outbox/<int:send_id>/retry")
def outbox_retry(send_id: int) -> BaseResponse:
    try:
        row = operations.retry_send_as_admin(db.session, actor=g.admin, send_id=send_id)
    except SendConflict as exc:
        flash(str(exc), "problem")
    else:
        g.outbox_changed = True
        flash(pages.retried_message(row), "ok")
    return redirect(url_for("admin.status", _anchor="outbox-heading"), code=303)


@bp.post("/outbox/<int:send_id>/dismiss")
def outbox_dismiss(send_id: int) -> BaseResponse:
    try:
        row = operations.dismiss_send_as_admin(db.session, actor=g.admin, send_id=send_id)
    except SendConflict as exc:
        flash(str(exc), "problem")
    else:
        flash(f"Reply {row.id} of {row.user.email} is dismissed: it will not be sent.", "ok")
    return redirect(url_for("admin.status", _anchor="outbox-heading"), code=303)


# --- settings pages -------------------------------------------------------------------------------------


def _settings_page(section: Section, *, status: int = 200, **extra: Any) -> tuple[str, int]:
    effective = services().effective_settings()
    fields = pages.field_views(
        section,
        effective=effective,
        environment=settings(),
        stored=operations.stored_rows(db.session, (f.name for f in SECTIONS[section])),
        submitted=extra.pop("submitted", None),
    )
    context = pages.section_context(
        section,
        effective=effective,
        public_url=settings().public_url,
        base_url=request.args.get("base_url"),
        redirect_uris=_redirect_uris(),
    )
    return render_template(
        f"admin/{section}.html", fields=fields, section=section, **context, **extra
    ), status


@bp.get("/oro")
def oro_page() -> tuple[str, int]:
    return _settings_page("oro")


@bp.get("/google")
def google_page() -> tuple[str, int]:
    return _settings_page("google")


@bp.get("/microsoft")
def microsoft_page() -> tuple[str, int]:
    return _settings_page("microsoft")


@bp.post("/<any(oro, google, microsoft):section>")
def save_section(section: Section) -> BaseResponse | tuple[str, int]:
    form = read_settings_form(section, request.form)
    try:
        changed = operations.save_settings(
            db.session, secret_box(), base=settings(), actor=g.admin, form=form
        )
    except SettingsInvalid as exc:
        return _settings_page(section, status=400, problems=exc.problems, submitted=form.values)
    g.admin_settings_changed = bool(changed)
    flash(pages.saved_message(changed), "ok")
    return redirect(url_for(f"admin.{section}_page"), code=303)


@bp.post("/<any(oro, google, microsoft):section>/reset")
def reset_section(section: Section) -> BaseResponse:
    forgotten = operations.reset_settings(db.session, actor=g.admin, section=section)
    g.admin_settings_changed = bool(forgotten)
    flash(pages.reset_message(forgotten), "ok")
    return redirect(url_for(f"admin.{section}_page"), code=303)


@bp.post("/oro/test")
def oro_test() -> tuple[str, int]:
    verdict, _ = _oro_verdict(fresh=True)
    return _settings_page("oro", verdict=verdict)


@bp.get("/google/deployment.json")
def gmail_deployment() -> Response:
    base_url = request.args.get("base_url") or settings().public_url
    try:
        text = operations.gmail_deployment(services().effective_settings(), base_url=base_url)
    except ValueError as exc:
        abort(400, description=str(exc))
    return pages.download(text, "deployment.json", "application/json")


@bp.get("/microsoft/manifest.<any(xml, json):fmt>")
def outlook_manifest(fmt: str) -> Response:
    base_url = request.args.get("base_url") or settings().public_url
    try:
        text = operations.outlook_manifest(services().effective_settings(), base_url=base_url, fmt=fmt)
    except ValueError as exc:
        abort(400, description=str(exc))
    mimetype = "application/xml" if fmt == "xml" else "application/json"
    return pages.download(text, f"manifest.{fmt}", mimetype)


# --- users ----------------------------------------------------------------------------------------------


@bp.get("/users")
def users() -> str:
    return render_template(
        "admin/users.html", rows=operations.list_users(db.session), effective=services().effective_settings()
    )


@bp.post("/users/<int:user_id>/disconnect")
def disconnect(user_id: int) -> BaseResponse:
    user = operations.disconnect_user(db.session, actor=g.admin, user_id=user_id)
    services().cache.bump(f"user:{user.id}")  # their cached sidebars go too
    flash(f"{user.email} is disconnected from Oro: their sidebar asks them to connect again.", "ok")
    return redirect(url_for("admin.users"), code=303)


# --- audit log ------------------------------------------------------------------------------------------


@bp.get("/audit")
def audit() -> str:
    filters = operations.AuditFilter.from_args(request.args)
    return render_template(
        "admin/audit.html",
        filters=filters,
        entries=operations.find_audit_entries(db.session, filters),
        actions=operations.audit_actions(db.session),
    )


@bp.get("/audit.csv")
def audit_csv() -> Response:
    filters = operations.AuditFilter.from_args(request.args)
    entries = operations.find_audit_entries(db.session, filters, limit=100_000)
    return pages.download(operations.audit_csv(entries), "audit-log.csv", "text/csv")


# --- privacy --------------------------------------------------------------------------------------------


@bp.get("/privacy")
def privacy() -> tuple[str, int]:
    return _privacy_page()


def _privacy_page(*, status: int = 200, problem: str | None = None) -> tuple[str, int]:
    view = operations.privacy_view(db.session)
    return render_template(
        "admin/privacy.html",
        view=view,
        problem=problem,
        kinds=pages.RULE_KIND_LABELS,
        setting_domains=services().effective_settings().internal_domains,
    ), status


@bp.post("/privacy")
def privacy_save() -> BaseResponse | tuple[str, int]:
    try:
        size_mb = float(request.form.get("attachment_max_mb", "") or 0)
        linking.update_privacy_settings(
            db.session,
            actor=g.admin,
            body_mode=request.form.get("body_mode"),
            attachment_mode=request.form.get("attachment_mode"),
            attachment_max_bytes=int(size_mb * 1024 * 1024),
        )
    except ValueError:
        return _privacy_page(status=400, problem="The attachment size limit must be a number of megabytes.")
    except LinkingError as exc:
        return _privacy_page(status=400, problem=exc.message)
    flash("The privacy policy is saved: it applies to the next email anyone links.", "ok")
    return redirect(url_for("admin.privacy"), code=303)


def _rule_kind() -> RuleKind:
    # Passed on as given: linking refuses a list it does not have, in words the page shows.
    return cast(RuleKind, request.form.get("kind", ""))


@bp.post("/privacy/rules")
def privacy_rule_add() -> BaseResponse | tuple[str, int]:
    kind = _rule_kind()
    try:
        value = request.form.get("value", "")
        rule = linking.add_privacy_rule(db.session, actor=g.admin, kind=kind, value=value)
    except LinkingError as exc:
        return _privacy_page(status=400, problem=exc.message)
    flash(f"{rule.value} is on the list of {pages.RULE_KIND_LABELS.get(kind, kind).lower()}.", "ok")
    return redirect(url_for("admin.privacy"), code=303)


@bp.post("/privacy/rules/remove")
def privacy_rule_remove() -> BaseResponse | tuple[str, int]:
    kind, value = _rule_kind(), request.form.get("value", "")
    try:
        removed = linking.remove_privacy_rule(db.session, actor=g.admin, kind=kind, value=value)
    except LinkingError as exc:
        return _privacy_page(status=400, problem=exc.message)
    flash(f"{value} is off the list." if removed else f"{value} was not on the list.", "ok")
    return redirect(url_for("admin.privacy"), code=303)


# --- templates ------------------------------------------------------------------------------------------


def _admin_oro() -> OroClient:
    return services().oro_for(g.admin)


def _editor(
    template: EmailTemplate | None,
    form: TemplateForm,
    *,
    status: int = 200,
    problems: Sequence[str] = (),
    preview: operations.TemplatePreview | None = None,
) -> tuple[str, int]:
    records: list[tuple[str, str]] = []
    records_problem = None
    if form.record_type:
        try:
            records = operations.records_to_choose(_admin_oro(), form.record_type)
        except OroAuthExpired:
            records_problem = (
                "Your Oro sign-in has expired: sign out and in again to preview with Oro's records."
            )
        except OroError as exc:
            records_problem = f"Oro's records could not be listed: {exc}"
    return render_template(
        "admin/template_edit.html",
        template=template,
        form=form,
        problems=problems,
        preview=preview,
        records=records,
        records_problem=records_problem,
        record_types=pages.record_type_choices(),
        variables=pages.variables_for(form.record_type),
    ), status


@bp.get("/templates")
def templates() -> str:
    return render_template(
        "admin/templates.html", templates=template_ops.list_templates(db.session, user=g.admin)
    )


@bp.get("/templates/new")
def template_new() -> tuple[str, int]:
    return _editor(None, TemplateForm(record_type=request.args.get("record_type") or None))


@bp.post("/templates")
def template_create() -> BaseResponse | tuple[str, int]:
    form = TemplateForm.read(request.form)
    try:
        template = operations.create_template_as_admin(db.session, actor=g.admin, form=form)
    except TemplateError as exc:
        return _editor(None, form, status=400, problems=pages.template_problems(exc))
    flash(f"Template “{template.name}” is saved.", "ok")
    return redirect(url_for("admin.template_edit", template_id=template.id), code=303)


@bp.get("/templates/<int:template_id>")
def template_edit(template_id: int) -> tuple[str, int]:
    template = template_ops.get_template(db.session, user=g.admin, template_id=template_id)
    return _editor(template, pages.template_form(template))


@bp.post("/templates/<int:template_id>")
def template_save(template_id: int) -> BaseResponse | tuple[str, int]:
    template = template_ops.get_template(db.session, user=g.admin, template_id=template_id)
    form = TemplateForm.read(request.form)
    try:
        operations.edit_template_as_admin(db.session, template, actor=g.admin, form=form)
    except TemplateError as exc:
        return _editor(template, form, status=400, problems=pages.template_problems(exc))
    flash(f"Template “{template.name}” is saved (version {template.version}).", "ok")
    return redirect(url_for("admin.template_edit", template_id=template.id), code=303)


@bp.post("/templates/<int:template_id>/delete")
def template_delete(template_id: int) -> BaseResponse:
    template = template_ops.get_template(db.session, user=g.admin, template_id=template_id)
    name = template.name
    operations.delete_template_as_admin(db.session, template, actor=g.admin)
    flash(f"Template “{name}” is deleted.", "ok")
    return redirect(url_for("admin.templates"), code=303)


@bp.post("/templates/preview")
def template_preview() -> Response | tuple[str, int]:
    """The editor's text rendered for the chosen record: JSON for the live preview, else the editor."""
    form = TemplateForm.read(request.form)
    try:
        preview = operations.preview_template_text(_admin_oro(), actor=g.admin, form=form)
    except OroAuthExpired:
        preview = operations.TemplatePreview(
            problems=("Your Oro sign-in has expired: sign out and in again.",)
        )
    except OroError as exc:
        preview = operations.TemplatePreview(problems=(f"Oro did not give the record: {exc}",))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(preview.to_dict())
    template_id = request.form.get("template_id", "")
    template = (
        template_ops.get_template(db.session, user=g.admin, template_id=int(template_id))
        if template_id.isdigit()
        else None
    )
    return _editor(template, form, preview=preview)


@bp.get("/templates/records")
def template_records() -> Response:
    """Records of one type to preview against (the editor's chooser asks when the type changes)."""
    record_type = request.args.get("record_type", "")
    variables = [v.to_dict() for v in pages.variables_for(record_type or None)]
    try:
        found = operations.records_to_choose(_admin_oro(), record_type)
    except OroError as exc:
        return jsonify(records=[], variables=variables, problem=f"Oro's records could not be listed: {exc}")
    records = [{"id": record_id, "title": title} for record_id, title in found]
    return jsonify(records=records, variables=variables)


@bp.post("/templates/import")
def templates_import() -> tuple[str, int]:
    try:
        report = operations.import_templates_as_admin(db.session, actor=g.admin, client=_admin_oro())
    except OroAuthExpired:
        raise SignInFailed("Your Oro sign-in has expired: sign out and in again, then import.") from None
    except OroError as exc:
        raise AdminError(f"Oro's templates could not be read: {exc}") from None
    return render_template(
        "admin/templates.html", templates=template_ops.list_templates(db.session, user=g.admin), report=report
    ), 200
