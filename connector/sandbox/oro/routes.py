"""HTTP routes of the sandbox's Oro: the back-office JSON:API, the legacy REST template endpoints,
OAuth 2 (token and authorize), minimal back-office record pages, and the fault control endpoint.

Paths are those of an OroCommerce back office (``/admin/api/...``, ``/admin/oauth2-token/authorize``,
``/oauth2-token``) or, with ``backoffice_prefix=""``, those of OroCRM / OroPlatform (``/api/...``).
Every link is absolute and built from the incoming request, so it is right under any mount point.

Request order follows Oro's: injected faults, then authentication (an empty 401), then the media type
checks (406 / 415), then the resource.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from connector.sandbox.oro import context as computed
from connector.sandbox.oro import errors, operations
from connector.sandbox.oro.documents import RenderContext, identifier, strip_links
from connector.sandbox.oro.email_templates import OroTemplateCompiler
from connector.sandbox.oro.errors import ApiError, ErrorObject
from connector.sandbox.oro.faults import FaultError
from connector.sandbox.oro.oauth import OAuthError
from connector.sandbox.oro.query import (
    ListQuery,
    build_conditions,
    matches,
    parse_page,
    parse_query,
    slice_page,
    sort_records,
    split_list,
)
from connector.sandbox.oro.schema import ACTIVITY_TYPES, RESOURCES, Record, ResourceSpec
from connector.sandbox.oro.store import OroState

logger = logging.getLogger(__name__)

JSON_API = "application/vnd.api+json"
COMPUTED_TYPES = {
    "search",
    "emailcontext",
    "emailthreadcontext",
    "emailcontextsearch",
    "emailcontextentities",
}
MAX_DELETE = 100
INJECTED_500 = {"errors": [{"status": "500", "title": "runtime exception", "detail": "Injected fault."}]}


def create_oro_blueprint(state: OroState, url_prefix: str = "/oro") -> Blueprint:
    """The whole sandbox Oro as one blueprint, mounted at ``url_prefix`` of the sandbox app."""
    bp = Blueprint("oro", __name__, url_prefix=url_prefix, template_folder="templates")
    handlers = _Handlers(state, url_prefix)

    @bp.before_request
    def apply_faults() -> Response | None:
        if request.endpoint == "oro.faults_control":
            return None
        return handlers.faults()

    bp.add_url_rule(
        "/_sandbox/faults", "faults_control", handlers.faults_control, methods=["GET", "PUT", "PATCH", "POST"]
    )
    bp.add_url_rule("/oauth2-token", "token", handlers.token, methods=["POST", "OPTIONS"])
    bp.add_url_rule("/oauth2-token/authorize", "authorize", handlers.authorize, methods=["GET", "POST"])
    bp.add_url_rule(
        "/<prefix>/oauth2-token/authorize", "authorize_prefixed", handlers.authorize, methods=["GET", "POST"]
    )
    bp.add_url_rule(
        "/api/<path:path>", "api", handlers.api, methods=["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"]
    )
    bp.add_url_rule(
        "/<prefix>/api/<path:path>",
        "api_prefixed",
        handlers.api,
        methods=["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"],
    )
    bp.add_url_rule("/<path:path>", "page", handlers.page, methods=["GET"])
    return bp


class _Handlers:
    def __init__(self, state: OroState, url_prefix: str) -> None:
        self.state = state
        self.url_prefix = url_prefix

    # --- shared -------------------------------------------------------------------------------------

    def site_root(self) -> str:
        """Absolute URL of this Oro's site root, e.g. ``http://127.0.0.1:5000/sandbox/oro``."""
        return request.url_root.rstrip("/") + self.url_prefix

    def backoffice_root(self) -> str:
        prefix = self.state.settings.backoffice_prefix
        return self.site_root() + (f"/{prefix}" if prefix else "")

    def prefix_matches(self, prefix: str | None) -> bool:
        return (prefix or "") == self.state.settings.backoffice_prefix

    def faults(self) -> Response | None:
        faults = self.state.faults
        if not faults.wait_while_down():
            return _plain(503, "Service Unavailable", {"Retry-After": str(faults.retry_after_seconds)})
        decision = faults.decide()
        if decision.delay_seconds:
            time.sleep(decision.delay_seconds)
        if decision.error_status == 500:
            return _json_api(INJECTED_500, 500)
        if decision.error_status is not None:
            reason = "Service Unavailable" if decision.error_status == 503 else "Too Many Requests"
            return _plain(decision.error_status, reason, {"Retry-After": str(faults.retry_after_seconds)})
        return None

    def faults_control(self) -> Response:
        if request.method != "GET":
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return _json({"error": "send a JSON object of fault settings"}, 400)
            try:
                self.state.faults.configure(**body)
            except FaultError as exc:
                return _json({"error": str(exc)}, 400)
            logger.info("sandbox Oro faults changed: %s", sorted(body))
        return _json(self.state.faults.snapshot(), 200)

    def authenticate(self) -> str:
        """The user id behind the request's Bearer token; else Oro's 401 with an empty body."""
        header = request.headers.get("Authorization", "")
        if not header:
            raise _Unauthorized(missing=True)
        scheme, _, token = header.partition(" ")
        owner = self.state.oauth.owner_of(token.strip()) if scheme.lower() == "bearer" else None
        if owner is None:
            raise _Unauthorized(missing=False)
        return owner.user_id

    # --- OAuth --------------------------------------------------------------------------------------

    def token(self) -> Response:
        if request.method == "OPTIONS":
            return Response(
                "", 200, {"Allow": "OPTIONS, POST", "Access-Control-Allow-Methods": "OPTIONS, POST"}
            )
        params = _token_params()
        basic = None
        if request.authorization is not None and request.authorization.type == "basic":
            basic = (request.authorization.username or "", request.authorization.password or "")
        try:
            with self.state.lock:
                body = self.state.oauth.token(params, basic)
        except OAuthError as exc:
            headers = {}
            if exc.error == "invalid_client" and request.headers.get("Authorization"):
                scheme = "Bearer" if request.headers["Authorization"].startswith("Bearer") else "Basic"
                headers["WWW-Authenticate"] = f'{scheme} realm="OAuth"'
            return _json(exc.payload(), exc.status, headers)
        return _json(body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def authorize(self, prefix: str | None = None) -> Response:
        if not self.prefix_matches(prefix):
            return _plain(404, "Not Found")
        params = {k: v for k, v in request.args.items()}
        try:
            auth_request = self.state.oauth.validate_authorization(params)
        except OAuthError as exc:
            headers = {"WWW-Authenticate": 'Basic realm="OAuth"'} if exc.error == "invalid_client" else {}
            return _json(exc.payload(), exc.status, headers)
        if request.method == "GET":
            return self._login_page(params, error=None)
        if request.form.get("decision") == "deny":
            denied = OAuthError.access_denied(auth_request.redirect_uri)
            return _redirect(
                _with_query(auth_request.redirect_uri, {**denied.payload(), "state": auth_request.state})
            )
        username = request.form.get("username", "")
        with self.state.lock:
            user_id = self.state.oauth.authenticate(username, request.form.get("password", ""))
        if user_id is None:
            return self._login_page(
                params, error="Invalid user name or password.", username=username, status=200
            )
        code = self.state.oauth.issue_code(auth_request, user_id)
        return _redirect(_with_query(auth_request.redirect_uri, {"code": code, "state": auth_request.state}))

    def _login_page(
        self, params: dict[str, str], *, error: str | None, username: str = "", status: int = 200
    ) -> Response:
        client_id = params.get("client_id", "")
        page = render_template("oro_sandbox/login.html", client_id=client_id, error=error, username=username)
        return Response(page, status, {"Content-Type": "text/html; charset=utf-8"})

    # --- back-office pages ----------------------------------------------------------------------------

    def page(self, path: str) -> Response:
        """A bare record page at the entityUrl Oro would give (``/admin/contact/view/5``)."""
        prefix = self.state.settings.backoffice_prefix
        inner = (
            path[len(prefix) + 1 :]
            if prefix and path.startswith(prefix + "/")
            else (None if prefix else path)
        )
        if inner is not None:
            for spec in RESOURCES.values():
                if spec.view_path is None:
                    continue
                pattern = re.escape(spec.view_path).replace(re.escape("{id}"), r"(\d+)")
                match = re.fullmatch(pattern, inner)
                if match:
                    with self.state.lock:
                        record = self.state.get((spec.type, match.group(1)))
                        title = spec.entity_name(record) if record else None
                    if record is None:
                        return _plain(404, "Not Found")
                    page = render_template(
                        "oro_sandbox/record.html",
                        record=record,
                        title=title,
                        label=computed.ENTITY_LABELS.get(spec.type, spec.type),
                    )
                    return Response(page, 200, {"Content-Type": "text/html; charset=utf-8"})
        return _plain(404, "Not Found")

    # --- the API ---------------------------------------------------------------------------------------

    def api(self, path: str, prefix: str | None = None) -> Response:
        if not self.prefix_matches(prefix):
            return _plain(404, "Not Found")
        try:
            user_id = self.authenticate()
            if path.startswith("rest/"):
                return self.legacy(path, user_id)
            _check_media_types()
            with self.state.lock:
                return self.json_api(path, user_id)
        except _Unauthorized as exc:
            return Response("", 401, {"WWW-Authenticate": "Basic"} if exc.missing else {})
        except ApiError as exc:
            headers = {**exc.headers}
            return _json_api(exc.document(), exc.status, headers)

    def render_context(self, user_id: str, query: ListQuery | None = None) -> RenderContext:
        x_include = _x_include()
        fields: dict[str, set[str]] = {}
        if query is not None:
            if query.fields_errors:
                raise errors.filter_error("An entity type is not specified.", query.fields_errors[0])
            for type_, raw in query.fields.items():
                fields[type_] = set(split_list(raw, f"fields[{type_}]", allow_empty=True))
        meta = split_list(query.meta, "meta") if query is not None and query.meta is not None else []
        return RenderContext(
            state=self.state,
            api_base=self.backoffice_root() + "/api",
            site_base=self.backoffice_root(),
            user_id=user_id,
            fields=fields,
            hateoas="noHateoas" not in x_include,
            meta_title="title" in meta,
        )

    def json_api(self, path: str, user_id: str) -> Response:
        segments = [s for s in path.split("/") if s]
        if not segments:
            raise errors.resource_not_accessible()
        type_ = segments[0]
        if type_ not in RESOURCES or type_ in self.state.settings.disabled_resources:
            raise errors.resource_not_accessible()
        spec = RESOURCES[type_]
        method = "GET" if request.method == "HEAD" else request.method
        if method == "OPTIONS":
            allowed = _allowed_methods(spec, len(segments))
            return Response("", 200, {"Allow": allowed})
        if type_ in COMPUTED_TYPES:
            return self.computed(type_, segments, user_id)
        if len(segments) == 1:
            if method == "GET":
                return self.get_list(spec, user_id)
            if method == "POST" and "create" in spec.actions:
                return self.create(spec, user_id)
            if method == "DELETE" and "delete" in spec.actions:
                return self.delete_list(spec, user_id)
            raise errors.method_not_allowed(_allowed_methods(spec, 1))
        record = self._load(spec, segments[1], user_id)
        if len(segments) == 2:
            if method == "GET":
                return self.get_item(record, user_id)
            if method == "PATCH" and "update" in spec.actions:
                return self.update(record, user_id)
            if method == "DELETE" and "delete" in spec.actions:
                self.state.delete(record)
                return Response("", 204)
            raise errors.method_not_allowed(_allowed_methods(spec, 2))
        if len(segments) == 3:
            name = segments[2]
            if spec.rel(name) is None:
                raise errors.resource_not_accessible()
            if method != "GET":
                raise errors.method_not_allowed("OPTIONS, GET")
            return self.subresource(record, name, user_id)
        if len(segments) == 4 and segments[2] == "relationships":
            name = segments[3]
            if spec.rel(name) is None:
                raise errors.resource_not_accessible()
            return self.relationship(record, name, user_id)
        raise errors.resource_not_accessible()

    def _load(self, spec: ResourceSpec, record_id: str, user_id: str) -> Record:
        record = self.state.get((spec.type, record_id))
        if record is None:
            raise errors.not_found()
        if not self.state.can_view(user_id, record):
            raise errors.access_denied()
        return record

    def get_list(self, spec: ResourceSpec, user_id: str) -> Response:
        query = parse_query(request.query_string.decode("utf-8", "replace"))
        ctx = self.render_context(user_id, query)
        _reject_malformed_filters(query)
        search_text = (
            next((f for f in query.filters if f.name == "searchText"), None) if spec.searchable else None
        )
        conditions = build_conditions(spec, query.filters, skip={"searchText"} if spec.searchable else set())
        visible = self.state.visibility(user_id)
        records = [
            r
            for r in self.state.all(spec.type)
            if visible(r)
            and all(matches(r, c) for c in conditions)
            and (search_text is None or not search_text.raw or self.state.matches_search(r, search_text.raw))
        ]
        return self.list_document(spec.type, records, query, ctx, sortable=spec)

    def list_document(
        self,
        type_: str,
        records: list[Record],
        query: ListQuery,
        ctx: RenderContext,
        *,
        sortable: ResourceSpec | None,
        base_path: str | None = None,
    ) -> Response:
        include = split_list(query.include, "include") if query.include is not None else []
        if sortable is not None:
            records = sort_records(records, sortable, query.sort)
        elif query.sort:
            raise errors.sort_error(query.sort.lstrip("-").split(",")[0])
        page = parse_page(query)
        chunk, has_more = slice_page(records, page)
        document: dict[str, Any] = {"data": [ctx.resource(r) for r in chunk]}
        if include:
            included = ctx.included(chunk, include)
            if included:
                document["included"] = included
        if ctx.hateoas:
            document["links"] = _collection_links(
                f"{ctx.api_base}/{base_path or type_}", query, page.number, has_more
            )
        headers = {}
        if "totalCount" in _x_include():
            headers["X-Include-Total-Count"] = str(len(records))
        return _json_api(document, 200, headers)

    def single_document(
        self,
        record: Record,
        ctx: RenderContext,
        include: list[str],
        status: int,
        extra_included: list[Record] | None = None,
    ) -> Response:
        document: dict[str, Any] = {"data": ctx.resource(record)}
        included = ctx.included([record], include) if include else []
        known = {(i["type"], i["id"]) for i in included}
        for extra in extra_included or []:
            if extra.ref not in known:
                included.append(ctx.resource(extra))
        if included:
            document["included"] = included
        if ctx.hateoas:
            document["links"] = {"self": f"{ctx.api_base}/{record.type}"}
        return _json_api(document, status)

    def get_item(self, record: Record, user_id: str) -> Response:
        query = parse_query(request.query_string.decode("utf-8", "replace"))
        ctx = self.render_context(user_id, query)
        include = split_list(query.include, "include") if query.include is not None else []
        return self.single_document(record, ctx, include, 200)

    def create(self, spec: ResourceSpec, user_id: str) -> Response:
        body = _json_body()
        record = operations.create_record(self.state, spec.type, body, user_id)
        query = parse_query(request.query_string.decode("utf-8", "replace"))
        ctx = self.render_context(user_id, query)
        include = split_list(query.include, "include") if query.include is not None else []
        extra: list[Record] = []
        if spec.type == "emails":
            ctx.thread_context_meta = True
            extra = [r for r in (self.state.get(ref) for ref in record.relationships["emailUsers"]) if r]
        logger.info("sandbox Oro created %s/%s", spec.type, record.id)
        return self.single_document(record, ctx, include, 201, extra)

    def update(self, record: Record, user_id: str) -> Response:
        operations.update_record(self.state, record, _json_body())
        query = parse_query(request.query_string.decode("utf-8", "replace"))
        ctx = self.render_context(user_id, query)
        ctx.thread_context_meta = record.type == "emails"
        include = split_list(query.include, "include") if query.include is not None else []
        return self.single_document(record, ctx, include, 200)

    def delete_list(self, spec: ResourceSpec, user_id: str) -> Response:
        query = parse_query(request.query_string.decode("utf-8", "replace"))
        _reject_malformed_filters(query)
        if not query.filters:
            raise errors.filter_error("At least one filter must be provided.", "filter")
        conditions = build_conditions(spec, query.filters)
        visible = self.state.visibility(user_id)
        doomed = [
            r for r in self.state.all(spec.type) if visible(r) and all(matches(r, c) for c in conditions)
        ]
        if len(doomed) > MAX_DELETE:
            raise errors.filter_error(
                f"The maximum number of entities that can be deleted is {MAX_DELETE}.", "filter"
            )
        for record in doomed:
            self.state.delete(record)
        headers = {"X-Include-Deleted-Count": str(len(doomed))} if "deletedCount" in _x_include() else {}
        return Response("", 204, headers)

    def subresource(self, record: Record, name: str, user_id: str) -> Response:
        query = parse_query(request.query_string.decode("utf-8", "replace"))
        ctx = self.render_context(user_id, query)
        value = ctx.relationship_value(record, name)
        visible = self.state.visibility(user_id)
        if isinstance(value, list):
            related = [r for r in (self.state.get(ref) for ref in value) if r is not None and visible(r)]
            rel = RESOURCES[record.type].rel(name)
            target_spec = RESOURCES.get(rel.target) if rel is not None and rel.target else None
            _reject_malformed_filters(query)
            if target_spec is not None:
                conditions = build_conditions(target_spec, query.filters)
                related = [r for r in related if all(matches(r, c) for c in conditions)]
            elif query.filters:
                raise errors.filter_error(
                    f'Filter "{query.filters[0].key}" is not supported.', query.filters[0].key
                )
            return self.list_document(
                record.type,
                related,
                query,
                ctx,
                sortable=target_spec,
                base_path=f"{record.type}/{record.id}/{name}",
            )
        target = self.state.get(value) if value else None
        document: dict[str, Any] = {"data": None}
        if target is not None:
            if not visible(target):
                raise errors.access_denied()
            include = split_list(query.include, "include") if query.include is not None else []
            document["data"] = ctx.resource(target)
            included = ctx.included([target], include) if include else []
            if included:
                document["included"] = included
        if ctx.hateoas:
            document["links"] = {"self": f"{ctx.api_base}/{record.type}/{record.id}/{name}"}
        return _json_api(document, 200)

    def relationship(self, record: Record, name: str, user_id: str) -> Response:
        spec = RESOURCES[record.type]
        rel = spec.rel(name)
        assert rel is not None
        ctx = self.render_context(user_id)
        if request.method in ("GET", "HEAD"):
            value = ctx.relationship_value(record, name)
            if isinstance(value, list):
                query = parse_query(request.query_string.decode("utf-8", "replace"))
                page = parse_page(query)
                chunk, has_more = slice_page(value, page)
                document: dict[str, Any] = {"data": [identifier(ref) for ref in chunk]}
                if ctx.hateoas:
                    document["links"] = _collection_links(
                        f"{ctx.api_base}/{record.type}/{record.id}/relationships/{name}",
                        query,
                        page.number,
                        has_more,
                    )
                headers = {"X-Include-Total-Count": str(len(value))} if "totalCount" in _x_include() else {}
                return _json_api(document, 200, headers)
            document = {"data": identifier(value) if value else None}
            if ctx.hateoas:
                document["links"] = {
                    "self": f"{ctx.api_base}/{record.type}/{record.id}/relationships/{name}",
                    "related": f"{ctx.api_base}/{record.type}/{record.id}/{name}",
                }
            return _json_api(document, 200)
        if request.method not in ("PATCH", "POST", "DELETE"):
            raise errors.method_not_allowed(
                "OPTIONS, GET, PATCH, POST, DELETE" if rel.many else "OPTIONS, GET, PATCH"
            )
        if "update" not in spec.actions and name not in ACTIVITY_TYPES.values():
            raise errors.method_not_allowed("OPTIONS, GET")
        operations.change_relationship(self.state, record, name, request.method, _json_body())
        if record.type == "emails" and name == "activityTargets":
            # Oro answers these three with 200 and the resulting list (EmailTest), not 204.
            items = []
            for ref in record.relationships.get("activityTargets") or []:
                item: dict[str, Any] = identifier(ref)
                item["meta"] = {"emailThreadContextItemId": f"{ref[0]}-{ref[1]}-{record.id}"}
                items.append(item)
            return _json_api({"data": items}, 200)
        return Response("", 204)

    def computed(self, type_: str, segments: list[str], user_id: str) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        if len(segments) == 2 and type_ == "emailthreadcontext":
            if method == "DELETE":
                computed.delete_thread_context(self.state, user_id, segments[1])
                return Response("", 204)
            raise errors.method_not_allowed("OPTIONS, DELETE")
        if len(segments) != 1:
            raise errors.resource_not_accessible()
        if method != "GET":
            raise errors.method_not_allowed("OPTIONS, GET")
        query = parse_query(request.query_string.decode("utf-8", "replace"))
        ctx = self.render_context(user_id, query)
        _reject_malformed_filters(query)
        if type_ in ("emailcontext", "emailthreadcontext"):
            items = computed.email_context(
                self.state, user_id, query.filters, thread=type_ == "emailthreadcontext"
            )
        elif type_ == "emailcontextentities":
            items = computed.context_entities(self.state, query.filters)
        else:
            items = computed.search(self.state, user_id, query.filters, type_=type_)
        return self.list_document(type_, items, query, ctx, sortable=None)

    # --- legacy REST (FOSRest): email templates ------------------------------------------------------

    def legacy(self, path: str, user_id: str) -> Response:
        list_match = re.fullmatch(
            r"rest/latest/emailtemplates/list/(\w+)(?:/([01]))?(?:/([01]))?\.json", path
        )
        compiled = re.fullmatch(r"rest/latest/emailtemplates/compiled/(\d+)/(\d+)\.json", path)
        if request.method not in ("GET", "HEAD") or not (list_match or compiled):
            return _json({"code": 404, "message": "Not Found"}, 404)
        with self.state.lock:
            if list_match:
                entity_class = list_match.group(1).replace("_", "\\")
                include_non_entity = list_match.group(2) == "1"
                include_system = list_match.group(3) == "1"
                templates = [
                    t
                    for t in self.state.templates
                    if (t.entity_name == entity_class or (include_non_entity and t.entity_name is None))
                    and (include_system or not t.is_system)
                ]
                return _json([_template_json(t) for t in templates], 200)
            assert compiled is not None
            template = next((t for t in self.state.templates if t.id == int(compiled.group(1))), None)
            if template is None:
                return _json({"code": 404, "message": "Not Found"}, 404)
            entity_id = compiled.group(2)
            entity = None
            if template.entity_name is not None:
                spec = next((s for s in RESOURCES.values() if s.entity_class == template.entity_name), None)
                entity = self.state.get((spec.type, entity_id)) if spec else None
                if entity is None or not self.state.can_view(user_id, entity):
                    return _json(
                        {"message": f"entity {template.entity_name} with id={entity_id} not found"}, 404
                    )
            user = self.state.get(("users", user_id))
            body = OroTemplateCompiler(self.state, entity, user, html_type=template.type == "html")
            subject = OroTemplateCompiler(self.state, entity, user, html_type=False)
            return _json(
                {
                    "subject": subject.render(template.subject),
                    "body": body.render(template.content),
                    "type": template.type,
                },
                200,
            )


class _Unauthorized(Exception):
    def __init__(self, *, missing: bool) -> None:
        super().__init__("unauthorized")
        self.missing = missing


# --- helpers ---------------------------------------------------------------------------------------------


def _json_api(document: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    if "noHateoas" in _x_include():
        document = strip_links(document)
    return Response(json.dumps(document), status, {"Content-Type": JSON_API, **(headers or {})})


def _json(document: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(document), status, {"Content-Type": "application/json", **(headers or {})})


def _redirect(location: str) -> Response:
    return Response("", 302, {"Location": location})


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    page = f"<html><head><title>{status} {text}</title></head><body><h1>{status} {text}</h1></body></html>"
    return Response(page, status, {"Content-Type": "text/html; charset=utf-8", **(headers or {})})


def _x_include() -> set[str]:
    raw = request.headers.get("X-Include", "")
    return {part.strip() for part in re.split(r"[;,]", raw) if part.strip()}


def _check_media_types() -> None:
    accept = request.headers.get("Accept", "")
    offered = [part.strip() for part in accept.split(",") if part.strip()]
    json_api = [o for o in offered if o.split(";")[0].strip() == JSON_API]
    if json_api and not any(_only_quality(o) for o in json_api):
        raise ApiError(
            ErrorObject(
                406,
                "not acceptable http exception",
                'The "Accept" request header should contains at least one instance of JSON:API media type '
                "without any parameters.",
            )
        )
    has_body = request.method in ("POST", "PATCH") or (request.method == "DELETE" and bool(request.data))
    content_type = request.headers.get("Content-Type", "")
    if has_body:
        if content_type.split(";")[0].strip() != JSON_API or ";" in content_type:
            raise ApiError(
                ErrorObject(
                    415,
                    "unsupported media type http exception",
                    'Request\'s "Content-Type" header should not contain any media type parameters.'
                    if content_type.startswith(JSON_API)
                    else 'The "Content-Type" request header should be "application/vnd.api+json".',
                )
            )
    elif not json_api and content_type.split(";")[0].strip() != JSON_API:
        # Oro would answer a request that names no JSON:API media type with its "plain" REST format;
        # the sandbox serves JSON:API only and says so.
        raise ApiError(
            ErrorObject(
                406,
                "not acceptable http exception",
                'The sandbox serves JSON:API only: send "Accept: application/vnd.api+json".',
            )
        )


def _only_quality(offer: str) -> bool:
    params = [p.strip() for p in offer.split(";")[1:] if p.strip()]
    return all(p.split("=")[0].strip().lower() == "q" for p in params)


def _json_body() -> Any:
    raw = request.get_data(as_text=True)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise errors.request_data("The request data should be a valid JSON.", "/") from None


def _reject_malformed_filters(query: ListQuery) -> None:
    for value in query.filters:
        if not value.name:
            raise errors.filter_error(f'Filter "{value.key}" is not supported.', value.key)


def _collection_links(base: str, query: ListQuery, number: int, has_more: bool) -> dict[str, str]:
    def url(page_number: int) -> str:
        pairs = list(query.pairs)
        if page_number > 1:
            pairs.append(("page[number]", str(page_number)))
        pairs.sort(key=lambda pair: pair[0])
        encoded = urlencode(pairs)
        return f"{base}?{encoded}" if encoded else base

    links = {"self": base}
    if number > 1:
        links["first"] = url(1)
        links["prev"] = url(number - 1)
    if has_more:
        links["next"] = url(number + 1)
    return links


def _allowed_methods(spec: ResourceSpec, depth: int) -> str:
    methods = ["OPTIONS"]
    if depth == 1:
        methods += ["GET"] if "get_list" in spec.actions else []
        methods += ["POST"] if "create" in spec.actions else []
        methods += ["DELETE"] if "delete" in spec.actions else []
    else:
        methods += ["GET"] if "get" in spec.actions else []
        methods += ["PATCH"] if "update" in spec.actions else []
        methods += ["DELETE"] if "delete" in spec.actions else []
    return ", ".join(methods)


def _token_params() -> dict[str, str]:
    if request.is_json:
        body = request.get_json(silent=True)
        return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return {k: v for k, v in request.form.items()}


def _with_query(uri: str, params: dict[str, Any]) -> str:
    pairs = {k: v for k, v in params.items() if v is not None}
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(pairs)}"


def _template_json(template: Any) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "is_system": template.is_system,
        "is_editable": template.is_editable,
        "parent": template.parent,
        "subject": template.subject,
        "content": template.content,
        "entity_name": template.entity_name,
        "type": template.type,
    }
