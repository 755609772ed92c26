"""Every failure of the JSON API as ``application/problem+json`` (RFC 9457) with a stable ``code``.

One handler per error family, registered on the API's blueprint. Codes the pane (and tests) match on:

============================  ======  ==============================================================
code                          status  meaning
============================  ======  ==============================================================
``invalid_token``             401     the Entra access token is refused; ``reason`` says why
``identity_unavailable``      503     Microsoft's identity platform could not be asked; retry
``not_configured``            503     the connector has no Entra app configured
``invalid_request``           400     the body or query does not match the schema; ``errors`` per field
``unsupported_media_type``    415     the body is not JSON
``oro_not_connected``         403     the user must connect to Oro; ``connect_url`` opens the dialog
``oro_forbidden``             403     Oro's permissions do not let the user do or see this
``oro_not_found``             404     Oro has no such record (or hides it)
``oro_rejected``              422     Oro refused the request; ``detail`` carries Oro's words
``oro_unavailable``           502     Oro could not be reached or kept failing
(linking codes)               varies  :mod:`connector.linking.errors` codes, e.g. ``policy_refused``
============================  ======  ==============================================================
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify

from connector.api.schemas import InvalidInput
from connector.linking.errors import LinkingError, OroRefusedWrite
from connector.oro import OroAccessDenied, OroAuthExpired, OroError, OroNotFound, OroRejected, OroUnavailable
from connector.security.microsoft import EntraTokenInvalid, EntraUnavailable

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
CODES: dict[str, int] = {
    "invalid_token": 401,
    "identity_unavailable": 503,
    "not_configured": 503,
    "invalid_request": 400,
    "unsupported_media_type": 415,
    "oro_not_connected": 403,
    "oro_forbidden": 403,
    "oro_not_found": 404,
    "oro_rejected": 422,
    "oro_unavailable": 502,
}


class ApiError(Exception):
    """A refusal the API answers as a problem document; ``extra`` members are added to it."""

    def __init__(self, code: str, detail: str, *, status: int | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status or CODES[code]
        self.extra = extra


def problem(code: str, detail: str, *, status: int, title: str = "", **extra: object) -> Response:
    body = {
        "type": "about:blank",
        "title": title or code.replace("_", " ").capitalize(),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers["Cache-Control"] = "no-store"
    return response


def register_error_handlers(bp: Blueprint, *, connect_url: Any) -> None:
    """``connect_url()`` gives the Connect-to-Oro link for the caller (None when there is no caller)."""

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return problem(exc.code, exc.detail, status=exc.status, **exc.extra)

    @bp.errorhandler(InvalidInput)
    def _invalid(exc: InvalidInput) -> Response:
        return problem(
            "invalid_request", "The request does not match the API's schema.", status=400, errors=exc.errors
        )

    @bp.errorhandler(EntraTokenInvalid)
    def _token(exc: EntraTokenInvalid) -> Response:
        logger.info("API call refused: access token %s", exc.reason)
        response = problem(
            "invalid_token", exc.detail or "The access token was refused.", status=401, reason=exc.reason
        )
        response.headers["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="{exc.reason}"'
        )
        return response

    @bp.errorhandler(EntraUnavailable)
    def _identity(exc: EntraUnavailable) -> Response:
        logger.warning("Microsoft's identity platform is unavailable: %s", exc)
        response = problem(
            "identity_unavailable",
            "Microsoft's sign-in service could not be reached to check your sign-in; try again shortly.",
            status=503,
        )
        response.headers["Retry-After"] = "5"
        return response

    @bp.errorhandler(OroAuthExpired)
    def _not_connected(_exc: OroAuthExpired) -> Response:
        return problem(
            "oro_not_connected",
            "Connect your mailbox to Oro to see Oro's records here.",
            status=403,
            connect_url=connect_url(),
        )

    @bp.errorhandler(LinkingError)
    def _linking(exc: LinkingError) -> Response:
        extra: dict[str, Any] = {k: v for k, v in exc.to_dict().items() if k not in {"code", "message"}}
        status = exc.http_status
        if isinstance(exc, OroRefusedWrite) and exc.status < 500:
            # Oro turned the write down (no such record, its ACL, a constraint): the caller's request
            # cannot succeed as it is, which is a client error here, not a failing gateway.
            status = 422
        response = problem(exc.code, exc.message, status=status, **extra)
        if "retry_after" in extra:
            response.headers["Retry-After"] = str(max(1, round(float(str(extra["retry_after"])))))
        return response

    @bp.errorhandler(OroError)
    def _oro(exc: OroError) -> Response:
        if isinstance(exc, OroAccessDenied):
            return problem("oro_forbidden", "Oro does not let you do this.", status=403)
        if isinstance(exc, OroNotFound):
            return problem("oro_not_found", "Oro has no such record, or does not show it to you.", status=404)
        if isinstance(exc, OroRejected):
            return problem("oro_rejected", f"Oro refused the request: {exc}", status=422)
        if not isinstance(exc, OroUnavailable):
            logger.warning("Oro answered unexpectedly: %s", exc)
        return problem("oro_unavailable", "Oro could not be reached; try again shortly.", status=502)
