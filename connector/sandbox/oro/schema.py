"""The sandbox's Oro resources: their attributes, relationships, filters and sorters, as Oro declares them.

Each :class:`ResourceSpec` mirrors a resource of Oro's back-office JSON:API (its ``api.yml`` and the
response fixtures quoted in ``reference/oro-api.md``): attribute names and their order, relationship
names and target types, which filters exist (Oro adds filters for the identifier, indexed fields and
associations; anything else is a 400 "filter constraint"), which fields can be sorted on, and which
actions are enabled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Ref = tuple[str, str]
"""A resource identifier: (type, id)."""

Kind = Literal["string", "int", "bool", "float", "money", "datetime", "date", "json"]
FilterKind = Literal["string", "int", "bool", "float", "money", "datetime", "date", "ref"]

ORDERED_OPS = frozenset({"eq", "neq", "lt", "lte", "gt", "gte", "exists", "neq_or_null"})
EQUALITY_OPS = frozenset({"eq", "neq", "exists", "neq_or_null"})
ORDERED_KINDS = frozenset({"int", "float", "money", "datetime", "date"})

ACTIVITY_TYPES = {"emails": "activityEmails", "notes": "activityNotes", "tasks": "activityTasks"}
"""Activity resource type -> the association Oro adds to each target (``activity`` + plural class name)."""


@dataclass
class Record:
    """One stored resource. Attribute values are Python values; relationships hold refs."""

    type: str
    id: str
    attributes: dict[str, Any]
    relationships: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str] | None = None  # computed items (search, email context) carry entityUrl

    @property
    def ref(self) -> Ref:
        return (self.type, self.id)

    def __repr__(self) -> str:
        return f"<Record {self.type}/{self.id}>"


@dataclass(frozen=True)
class Attr:
    name: str
    kind: Kind = "string"


@dataclass(frozen=True)
class Rel:
    name: str
    target: str | None  # None: several target types (activityTargets)
    many: bool = False


@dataclass(frozen=True)
class FilterDef:
    """A supported ``filter[name]``: how to read the record's value(s) and which operators apply."""

    name: str
    kind: FilterKind
    read: Callable[[Record], Any]
    many: bool = False  # the value is a collection: eq means "contains any", neq "contains none"
    array: bool = False  # comma-separated values mean OR
    case_insensitive: bool = False

    @property
    def ops(self) -> frozenset[str]:
        return ORDERED_OPS if self.kind in ORDERED_KINDS else EQUALITY_OPS

    @property
    def range_allowed(self) -> bool:
        return self.kind in ORDERED_KINDS


@dataclass(frozen=True)
class ResourceSpec:
    type: str
    entity_class: str
    attributes: tuple[Attr, ...]
    relationships: tuple[Rel, ...]
    filters: dict[str, FilterDef]
    sorters: frozenset[str]
    actions: frozenset[str]
    acl: Literal["owner", "public"]
    entity_name: Callable[[Record], str]
    view_path: str | None = None  # back-office page, e.g. "contact/view/{id}"
    searchable: bool = False
    email_owner: bool = False  # its addresses make it a suggestion in email context
    activity_target: bool = False  # gets activityEmails / activityNotes / activityTasks
    readonly: frozenset[str] = frozenset()
    virtual: bool = False  # computed per request (search, email context): no item URL of its own

    def attr(self, name: str) -> Attr | None:
        return next((a for a in self.attributes if a.name == name), None)

    def rel(self, name: str) -> Rel | None:
        return next((r for r in self.all_relationships if r.name == name), None)

    @property
    def all_relationships(self) -> tuple[Rel, ...]:
        if not self.activity_target:
            return self.relationships
        extra = tuple(Rel(assoc, atype, many=True) for atype, assoc in ACTIVITY_TYPES.items())
        return self.relationships + extra


READ = frozenset({"get", "get_list"})
CRUD = frozenset({"get", "get_list", "create", "update", "delete"})

# --- filter readers -------------------------------------------------------------------------------


def _attr(name: str) -> Callable[[Record], Any]:
    return lambda r: r.attributes.get(name)


def _emails(name: str) -> Callable[[Record], Any]:
    return lambda r: [item["email"] for item in r.attributes.get(name) or []]


def _phones(name: str) -> Callable[[Record], Any]:
    return lambda r: [item["phone"] for item in r.attributes.get(name) or []]


def _rel(name: str) -> Callable[[Record], Any]:
    def read(r: Record) -> Any:
        value = r.relationships.get(name)
        if isinstance(value, list):
            return [ref[1] for ref in value]
        return None if value is None else value[1]

    return read


def _numeric_id(r: Record) -> Any:
    return int(r.id)


def f_id() -> FilterDef:
    return FilterDef("id", "int", _numeric_id, array=True)


def f_code_id() -> FilterDef:
    """The id filter of enums and dictionaries, whose ids are codes such as "open"."""
    return FilterDef("id", "string", lambda r: r.id, array=True)


def f_attr(name: str, kind: FilterKind = "string", *, array: bool = False, ci: bool = False) -> FilterDef:
    return FilterDef(name, kind, _attr(name), array=array, case_insensitive=ci)


def f_rel(name: str, *, many: bool = False) -> FilterDef:
    return FilterDef(name, "ref", _rel(name), many=many, array=True)


def f_emails() -> list[FilterDef]:
    return [
        FilterDef("emails", "string", _emails("emails"), many=True, array=True),
        f_attr("primaryEmail"),
        FilterDef("phones", "string", _phones("phones"), many=True, array=True),
        f_attr("primaryPhone"),
    ]


def filters(*defs: FilterDef | list[FilterDef]) -> dict[str, FilterDef]:
    flat: list[FilterDef] = []
    for d in defs:
        flat.extend(d if isinstance(d, list) else [d])
    return {d.name: d for d in flat}


# --- entity names (what Oro shows as a record's title) ----------------------------------------------


def _full_name(r: Record) -> str:
    a = r.attributes
    parts = [
        a.get("namePrefix"),
        a.get("firstName"),
        a.get("middleName"),
        a.get("lastName"),
        a.get("nameSuffix"),
    ]
    return " ".join(p for p in parts if p)


def _field(name: str) -> Callable[[Record], str]:
    return lambda r: str(r.attributes.get(name) or "")


def _note_title(r: Record) -> str:
    text = str(r.attributes.get("message") or "")
    return text if len(text) <= 50 else text[:47] + "..."


# --- attribute lists --------------------------------------------------------------------------------

_CONTACTED = (
    Attr("lastContactedDate", "datetime"),
    Attr("lastContactedDateIn", "datetime"),
    Attr("lastContactedDateOut", "datetime"),
    Attr("timesContacted", "int"),
    Attr("timesContactedIn", "int"),
    Attr("timesContactedOut", "int"),
)
_NAME = (
    Attr("namePrefix"),
    Attr("firstName"),
    Attr("middleName"),
    Attr("lastName"),
    Attr("nameSuffix"),
)
_STAMPS = (Attr("createdAt", "datetime"), Attr("updatedAt", "datetime"))
_EMAILS = (
    Attr("primaryEmail"),
    Attr("primaryPhone"),
    Attr("emails", "json"),
    Attr("phones", "json"),
)
_ORG = Rel("organization", "organizations")
_OWNER = Rel("owner", "users")

_ENUM_ATTRS = (Attr("name"), Attr("default", "bool"), Attr("priority", "int"))
_DICTIONARY_ATTRS = (Attr("label"), Attr("order", "int"))


def _enum(type_: str, entity_class: str) -> ResourceSpec:
    return ResourceSpec(
        type=type_,
        entity_class=entity_class,
        attributes=_ENUM_ATTRS,
        relationships=(),
        filters=filters(f_code_id()),
        sorters=frozenset({"id", "priority"}),
        actions=READ,
        acl="public",
        entity_name=_field("name"),
    )


def _dictionary(type_: str, entity_class: str, attrs: tuple[Attr, ...] = _DICTIONARY_ATTRS) -> ResourceSpec:
    return ResourceSpec(
        type=type_,
        entity_class=entity_class,
        attributes=attrs,
        relationships=(),
        filters=filters(f_code_id()),
        sorters=frozenset({"id"}),
        actions=READ,
        acl="public",
        entity_name=_field(attrs[0].name),
    )


def _build() -> dict[str, ResourceSpec]:
    specs: list[ResourceSpec] = [
        ResourceSpec(
            type="organizations",
            entity_class="Oro\\Bundle\\OrganizationBundle\\Entity\\Organization",
            attributes=(Attr("name"), Attr("description"), Attr("enabled", "bool"), *_STAMPS),
            relationships=(
                Rel("businessUnits", "businessunits", many=True),
                Rel("users", "users", many=True),
            ),
            filters=filters(f_id(), f_attr("name")),
            sorters=frozenset({"id", "name"}),
            actions=READ,
            acl="public",
            entity_name=_field("name"),
        ),
        ResourceSpec(
            type="businessunits",
            entity_class="Oro\\Bundle\\OrganizationBundle\\Entity\\BusinessUnit",
            attributes=(Attr("name"), Attr("phone"), Attr("website"), Attr("email"), Attr("fax"), *_STAMPS),
            relationships=(_ORG, Rel("owner", "businessunits"), Rel("users", "users", many=True)),
            filters=filters(f_id(), f_attr("name"), f_rel("owner"), f_rel("users", many=True)),
            sorters=frozenset({"id", "name"}),
            actions=READ,
            acl="public",
            entity_name=_field("name"),
            view_path="business_unit/view/{id}",
            searchable=True,
        ),
        ResourceSpec(
            type="users",
            entity_class="Oro\\Bundle\\UserBundle\\Entity\\User",
            attributes=(
                Attr("phone"),
                Attr("title"),
                Attr("googleId"),
                Attr("username"),
                Attr("email"),
                *_NAME,
                Attr("birthday", "date"),
                Attr("enabled", "bool"),
                Attr("lastLogin", "datetime"),
                *_STAMPS,
                Attr("loginCount", "int"),
                Attr("passwordRequestedAt", "datetime"),
                Attr("passwordChangedAt", "datetime"),
                Attr("emails", "json"),
                Attr("externalId"),
            ),
            relationships=(
                Rel("groups", "groups", many=True),
                Rel("owner", "businessunits"),
                Rel("businessUnits", "businessunits", many=True),
                Rel("organizations", "organizations", many=True),
                Rel("userRoles", "userroles", many=True),
                _ORG,
                Rel("avatar", "files"),
                Rel("auth_status", "userauthstatuses"),
            ),
            filters=filters(
                f_id(),
                f_attr("username", array=True),
                f_attr("email", array=True),
                f_attr("firstName"),
                f_attr("lastName"),
                f_attr("enabled", "bool"),
                f_attr("createdAt", "datetime"),
                f_attr("updatedAt", "datetime"),
                f_rel("owner"),
                f_rel("businessUnits", many=True),
                FilterDef("emails", "string", _emails("emails"), many=True, array=True),
            ),
            sorters=frozenset({"id", "username", "email", "firstName", "lastName", "createdAt", "updatedAt"}),
            actions=READ,
            acl="public",
            entity_name=_full_name,
            view_path="user/view/{id}",
            searchable=True,
            email_owner=True,
            activity_target=True,
        ),
        ResourceSpec(
            type="contacts",
            entity_class="Oro\\Bundle\\ContactBundle\\Entity\\Contact",
            attributes=(
                *_CONTACTED,
                *_NAME,
                Attr("gender"),
                Attr("birthday", "date"),
                Attr("description"),
                Attr("jobTitle"),
                Attr("fax"),
                Attr("skype"),
                Attr("twitter"),
                Attr("facebook"),
                Attr("googlePlus"),
                Attr("linkedIn"),
                *_STAMPS,
                *_EMAILS,
            ),
            relationships=(
                Rel("source", "contactsources"),
                Rel("method", "contactmethods"),
                _OWNER,
                Rel("assignedTo", "users"),
                Rel("reportsTo", "contacts"),
                Rel("addresses", "contactaddresses", many=True),
                Rel("groups", "contactgroups", many=True),
                Rel("accounts", "accounts", many=True),
                Rel("createdBy", "users"),
                Rel("updatedBy", "users"),
                _ORG,
                Rel("defaultInAccounts", "accounts", many=True),
                Rel("picture", "files"),
            ),
            filters=filters(
                f_id(),
                f_emails(),
                f_attr("firstName"),
                f_attr("lastName"),
                f_attr("updatedAt", "datetime"),
                f_rel("owner"),
                f_rel("assignedTo"),
                f_rel("reportsTo"),
                f_rel("accounts", many=True),
                f_rel("createdBy"),
                f_rel("updatedBy"),
                f_rel("organization"),
                f_rel("defaultInAccounts", many=True),
            ),
            sorters=frozenset({"id", "firstName", "lastName", "updatedAt"}),
            actions=CRUD,
            acl="owner",
            entity_name=_full_name,
            view_path="contact/view/{id}",
            searchable=True,
            email_owner=True,
            activity_target=True,
            readonly=frozenset({"createdAt", "updatedAt"}),
        ),
        ResourceSpec(
            type="accounts",
            entity_class="Oro\\Bundle\\AccountBundle\\Entity\\Account",
            attributes=(Attr("name"), *_STAMPS, Attr("extend_description")),
            relationships=(
                _OWNER,
                _ORG,
                Rel("contacts", "contacts", many=True),
                Rel("defaultContact", "contacts"),
                Rel("referredBy", "accounts"),
            ),
            filters=filters(
                f_id(),
                f_attr("name"),
                f_rel("owner"),
                f_rel("organization"),
                f_rel("contacts", many=True),
                f_rel("defaultContact"),
                f_rel("referredBy"),
            ),
            sorters=frozenset({"id", "name"}),
            actions=CRUD,
            acl="owner",
            entity_name=_field("name"),
            view_path="account/view/{id}",
            searchable=True,
            activity_target=True,
            readonly=frozenset({"createdAt", "updatedAt"}),
        ),
        ResourceSpec(
            type="b2bcustomers",
            entity_class="Oro\\Bundle\\SalesBundle\\Entity\\B2bCustomer",
            attributes=(
                Attr("name"),
                *_EMAILS,
                Attr("website"),
                Attr("employees", "int"),
                Attr("ownership"),
                *_STAMPS,
            ),
            relationships=(
                Rel("account", "accounts"),
                Rel("contact", "contacts"),
                Rel("leads", "leads", many=True),
                Rel("opportunities", "opportunities", many=True),
                Rel("shippingAddress", "addresses"),
                Rel("billingAddress", "addresses"),
                _OWNER,
                _ORG,
                Rel("dataChannel", "channels"),
            ),
            filters=filters(
                f_id(),
                f_attr("name"),
                f_emails(),
                f_rel("account"),
                f_rel("contact"),
                f_rel("owner"),
                f_rel("leads", many=True),
                f_rel("opportunities", many=True),
            ),
            sorters=frozenset({"id", "name"}),
            actions=CRUD,
            acl="owner",
            entity_name=_field("name"),
            view_path="b2bcustomer/view/{id}",
            searchable=True,
            email_owner=True,
            activity_target=True,
            readonly=frozenset({"createdAt", "updatedAt", "leads", "opportunities"}),
        ),
        ResourceSpec(
            type="leads",
            entity_class="Oro\\Bundle\\SalesBundle\\Entity\\Lead",
            attributes=(
                *_CONTACTED,
                Attr("name"),
                *_NAME,
                Attr("jobTitle"),
                Attr("companyName"),
                Attr("website"),
                Attr("numberOfEmployees", "int"),
                Attr("industry"),
                *_STAMPS,
                Attr("notes"),
                Attr("twitter"),
                Attr("linkedIn"),
                *_EMAILS,
            ),
            relationships=(
                Rel("contact", "contacts"),
                Rel("addresses", "leadaddresses", many=True),
                _OWNER,
                Rel("opportunities", "opportunities", many=True),
                _ORG,
                Rel("source", "leadsources"),
                Rel("status", "leadstatuses"),
                Rel("account", "accounts"),
                Rel("customer", "b2bcustomers"),
            ),
            filters=filters(
                f_id(),
                f_emails(),
                f_attr("createdAt", "datetime"),
                f_attr("updatedAt", "datetime"),
                f_rel("status"),
                f_rel("owner"),
                f_rel("contact"),
                f_rel("source"),
                f_rel("organization"),
                f_rel("opportunities", many=True),
            ),
            sorters=frozenset({"id", "createdAt", "updatedAt"}),
            actions=CRUD,
            acl="owner",
            entity_name=_field("name"),
            view_path="lead/view/{id}",
            searchable=True,
            email_owner=True,
            activity_target=True,
            readonly=frozenset({"createdAt", "updatedAt", "opportunities"}),
        ),
        ResourceSpec(
            type="opportunities",
            entity_class="Oro\\Bundle\\SalesBundle\\Entity\\Opportunity",
            attributes=(
                *_CONTACTED,
                Attr("name"),
                Attr("closeDate", "date"),
                Attr("probability", "float"),
                Attr("budgetAmountCurrency"),
                Attr("budgetAmountValue", "money"),
                Attr("closeRevenueCurrency"),
                Attr("closeRevenueValue", "money"),
                Attr("customerNeed"),
                Attr("proposedSolution"),
                *_STAMPS,
                Attr("notes"),
            ),
            relationships=(
                Rel("closeReason", "opportunityclosereasons"),
                Rel("contact", "contacts"),
                Rel("lead", "leads"),
                _OWNER,
                _ORG,
                Rel("status", "opportunitystatuses"),
                Rel("account", "accounts"),
                Rel("customer", "b2bcustomers"),
            ),
            # `account` and `customer` go through customerAssociation: no filter (reference §3.3).
            filters=filters(
                f_id(),
                f_attr("createdAt", "datetime"),
                f_rel("contact"),
                f_rel("lead"),
                f_rel("owner"),
                f_rel("status"),
                f_rel("closeReason"),
                f_rel("organization"),
            ),
            sorters=frozenset({"id", "createdAt"}),
            actions=CRUD,
            acl="owner",
            entity_name=_field("name"),
            view_path="opportunity/view/{id}",
            searchable=True,
            activity_target=True,
            readonly=frozenset({"createdAt", "updatedAt"}),
        ),
        ResourceSpec(
            type="customers",
            entity_class="Oro\\Bundle\\CustomerBundle\\Entity\\Customer",
            attributes=(Attr("name"), *_STAMPS),
            relationships=(
                Rel("parent", "customers"),
                Rel("children", "customers", many=True),
                Rel("users", "customerusers", many=True),
                _OWNER,
                _ORG,
                Rel("salesRepresentatives", "users", many=True),
                Rel("internal_rating", "customerratings"),
                Rel("group", "customergroups"),
            ),
            filters=filters(
                f_id(),
                f_attr("name"),
                f_attr("createdAt", "datetime"),
                f_attr("updatedAt", "datetime"),
                f_rel("parent"),
                f_rel("owner"),
                f_rel("group"),
                f_rel("users", many=True),
                f_rel("salesRepresentatives", many=True),
                f_rel("internal_rating"),
            ),
            sorters=frozenset({"id", "name", "createdAt", "updatedAt"}),
            actions=CRUD,
            acl="owner",
            entity_name=_field("name"),
            view_path="customer/customer/view/{id}",
            searchable=True,
            activity_target=True,
            readonly=frozenset({"createdAt", "updatedAt", "children", "users"}),
        ),
        ResourceSpec(
            type="customerusers",
            entity_class="Oro\\Bundle\\CustomerBundle\\Entity\\CustomerUser",
            attributes=(
                Attr("confirmed", "bool"),
                Attr("email"),
                *_NAME,
                Attr("birthday", "date"),
                *_STAMPS,
                Attr("enabled", "bool"),
                Attr("loginCount", "int"),
                Attr("isGuest", "bool"),
                Attr("lastLogin", "datetime"),
                Attr("passwordRequestedAt", "datetime"),
                Attr("passwordChangedAt", "datetime"),
            ),
            relationships=(
                Rel("userRoles", "customeruserroles", many=True),
                Rel("customer", "customers"),
                Rel("addresses", "customeruseraddresses", many=True),
                _OWNER,
                Rel("salesRepresentatives", "users", many=True),
                _ORG,
            ),
            filters=filters(
                f_id(),
                f_attr("email", array=True),
                f_rel("customer"),
                f_rel("owner"),
                f_rel("userRoles", many=True),
                f_rel("salesRepresentatives", many=True),
            ),
            sorters=frozenset({"id"}),
            actions=CRUD,
            acl="owner",
            entity_name=_full_name,
            view_path="customer/user/view/{id}",
            searchable=True,
            email_owner=True,
            activity_target=True,
            readonly=frozenset({"createdAt", "updatedAt", "loginCount", "lastLogin"}),
        ),
        ResourceSpec(
            type="orders",
            entity_class="Oro\\Bundle\\OrderBundle\\Entity\\Order",
            attributes=(
                Attr("identifier"),
                Attr("poNumber"),
                Attr("customerNotes"),
                Attr("shipUntil", "date"),
                Attr("currency"),
                Attr("subtotalValue", "money"),
                Attr("totalValue", "money"),
                Attr("shippingMethod"),
                Attr("shippingMethodType"),
                Attr("estimatedShippingCostAmount", "money"),
                Attr("overriddenShippingCostAmount", "money"),
                Attr("sourceEntityIdentifier"),
                Attr("totalDiscountsAmount", "money"),
                Attr("external", "bool"),
                *_STAMPS,
            ),
            relationships=(
                Rel("billingAddress", "orderaddresses"),
                Rel("shippingAddress", "orderaddresses"),
                Rel("lineItems", "orderlineitems", many=True),
                Rel("discounts", "orderdiscounts", many=True),
                Rel("shippingTrackings", "ordershippingtrackings", many=True),
                Rel("paymentTerm", "paymentterms"),
                Rel("internalStatus", "orderinternalstatuses"),
                Rel("status", "orderstatuses"),
                Rel("shippingStatus", "ordershippingstatuses"),
                Rel("source", "orders"),
                _OWNER,
                _ORG,
                Rel("customerUser", "customerusers"),
                Rel("customer", "customers"),
                Rel("orderSubtotals", "ordersubtotals", many=True),
                Rel("documents", "files", many=True),
            ),
            filters=filters(
                f_id(),
                f_attr("identifier", array=True, ci=True),
                f_attr("poNumber", array=True, ci=True),
                f_attr("external", "bool"),
                f_attr("createdAt", "datetime"),
                f_attr("updatedAt", "datetime"),
                f_rel("customer"),
                f_rel("customerUser"),
                f_rel("internalStatus"),
                f_rel("status"),
                f_rel("shippingStatus"),
                f_rel("owner"),
                f_rel("organization"),
            ),
            sorters=frozenset({"id", "createdAt", "updatedAt", "external"}),
            actions=CRUD,
            acl="owner",
            entity_name=_field("identifier"),
            view_path="order/view/{id}",
            searchable=True,
            activity_target=True,
            readonly=frozenset({"createdAt", "updatedAt", "internalStatus", "totalValue", "subtotalValue"}),
        ),
        ResourceSpec(
            type="cases",
            entity_class="Oro\\Bundle\\CaseBundle\\Entity\\CaseEntity",
            attributes=(
                Attr("subject"),
                Attr("description"),
                Attr("resolution"),
                *_STAMPS,
                Attr("reportedAt", "datetime"),
                Attr("closedAt", "datetime"),
            ),
            relationships=(
                Rel("source", "casesources"),
                Rel("status", "casestatuses"),
                Rel("priority", "casepriorities"),
                Rel("relatedContact", "contacts"),
                Rel("relatedAccount", "accounts"),
                Rel("assignedTo", "users"),
                _OWNER,
                Rel("comments", "casecomments", many=True),
                _ORG,
            ),
            filters=filters(
                f_id(),
                f_attr("reportedAt", "datetime"),
                f_rel("source"),
                f_rel("status"),
                f_rel("priority"),
                f_rel("relatedContact"),
                f_rel("relatedAccount"),
                f_rel("assignedTo"),
                f_rel("owner"),
            ),
            sorters=frozenset({"id", "reportedAt"}),
            actions=CRUD,
            acl="owner",
            entity_name=_field("subject"),
            view_path="case/view/{id}",
            searchable=True,
            activity_target=True,
            readonly=frozenset({"createdAt", "updatedAt", "closedAt"}),
        ),
        ResourceSpec(
            type="rfqs",
            entity_class="Oro\\Bundle\\RFPBundle\\Entity\\Request",
            attributes=(
                Attr("firstName"),
                Attr("lastName"),
                Attr("email"),
                Attr("phone"),
                Attr("company"),
                Attr("role"),
                Attr("note"),
                Attr("cancellationReason"),
                Attr("poNumber"),
                Attr("projectName"),
                Attr("shipUntil", "date"),
                Attr("deletedAt", "datetime"),
                *_STAMPS,
            ),
            relationships=(
                Rel("customerUser", "customerusers"),
                Rel("customer", "customers"),
                _OWNER,
                _ORG,
                Rel("customer_status", "rfqcustomerstatuses"),
                Rel("internal_status", "rfqinternalstatuses"),
            ),
            filters=filters(
                f_id(),
                f_attr("createdAt", "datetime"),
                f_attr("updatedAt", "datetime"),
                f_rel("customer"),
                f_rel("customerUser"),
                f_rel("owner"),
                f_rel("customer_status"),
                f_rel("internal_status"),
            ),
            sorters=frozenset({"id", "createdAt", "updatedAt"}),
            actions=CRUD,
            acl="owner",
            entity_name=lambda r: f"RFQ #{r.id}",
            view_path="rfp/request/view/{id}",
            searchable=True,
            activity_target=True,
            readonly=frozenset({"createdAt", "updatedAt", "deletedAt"}),
        ),
        ResourceSpec(
            type="tasks",
            entity_class="Oro\\Bundle\\TaskBundle\\Entity\\Task",
            attributes=(Attr("subject"), Attr("description"), Attr("dueDate", "datetime"), *_STAMPS),
            relationships=(
                Rel("taskPriority", "taskpriorities"),
                Rel("status", "taskstatuses"),
                _OWNER,
                _ORG,
                Rel("createdBy", "users"),
                Rel("activityTargets", None, many=True),
            ),
            filters=filters(
                f_id(),
                f_attr("dueDate", "datetime"),
                f_attr("updatedAt", "datetime"),
                f_rel("taskPriority"),
                f_rel("status"),
                f_rel("owner"),
                f_rel("createdBy"),
            ),
            sorters=frozenset({"id", "dueDate", "updatedAt"}),
            actions=CRUD,
            acl="owner",
            entity_name=_field("subject"),
            view_path="task/view/{id}",
            searchable=True,
            readonly=frozenset({"createdAt", "updatedAt"}),
        ),
        ResourceSpec(
            type="notes",
            entity_class="Oro\\Bundle\\NoteBundle\\Entity\\Note",
            attributes=(Attr("message"), *_STAMPS),
            relationships=(
                _OWNER,
                _ORG,
                Rel("updatedBy", "users"),
                Rel("attachment", "files"),
                Rel("activityTargets", None, many=True),
                Rel("comments", "comments", many=True),
            ),
            filters=filters(
                f_id(), f_rel("owner"), f_attr("createdAt", "datetime"), f_attr("updatedAt", "datetime")
            ),
            sorters=frozenset({"id", "createdAt", "updatedAt"}),
            actions=CRUD,
            acl="owner",
            entity_name=_note_title,
            view_path=None,
            readonly=frozenset({"createdAt", "updatedAt", "updatedBy"}),
        ),
        ResourceSpec(
            type="emails",
            entity_class="Oro\\Bundle\\EmailBundle\\Entity\\Email",
            attributes=(
                Attr("createdAt", "datetime"),
                Attr("subject"),
                Attr("sentAt", "datetime"),
                Attr("importance"),
                Attr("internalDate", "datetime"),
                Attr("head", "bool"),
                Attr("messageId"),
                Attr("messageIds", "json"),
                Attr("xMessageId"),
                Attr("xThreadId"),
                Attr("references", "json"),
                Attr("acceptLanguage"),
                Attr("bodySynced", "bool"),
                Attr("from", "json"),
                Attr("toRecipients", "json"),
                Attr("ccRecipients", "json"),
                Attr("bccRecipients", "json"),
                Attr("shortTextBody"),
                Attr("hasEmailAttachments", "bool"),
                Attr("body", "json"),
            ),
            relationships=(
                Rel("emailUsers", "emailusers", many=True),
                Rel("activityTargets", None, many=True),
                Rel("emailAttachments", "emailattachments", many=True),
            ),
            filters=filters(
                f_id(),
                f_attr("messageId", array=True),
                f_attr("head", "bool"),
                f_attr("sentAt", "datetime"),
            ),
            sorters=frozenset({"id", "sentAt"}),
            actions=frozenset({"get", "get_list", "create", "update"}),
            acl="public",
            entity_name=_field("subject"),
            view_path="email/view/{id}",
        ),
        ResourceSpec(
            type="emailusers",
            entity_class="Oro\\Bundle\\EmailBundle\\Entity\\EmailUser",
            attributes=(
                Attr("createdAt", "datetime"),
                Attr("receivedAt", "datetime"),
                Attr("seen", "bool"),
                Attr("private", "bool"),
                Attr("folders", "json"),
            ),
            relationships=(_ORG, _OWNER, Rel("email", "emails")),
            filters=filters(f_id(), f_rel("email"), f_rel("owner")),
            sorters=frozenset({"id"}),
            actions=READ,
            acl="public",
            entity_name=lambda r: f"Email user #{r.id}",
        ),
        _enum("leadstatuses", "Extend\\Entity\\EV_Lead_Status"),
        _enum("opportunitystatuses", "Extend\\Entity\\EV_Opportunity_Status"),
        _enum("orderinternalstatuses", "Extend\\Entity\\EV_Order_Internal_Status"),
        _enum("orderstatuses", "Extend\\Entity\\EV_Order_Status"),
        _enum("ordershippingstatuses", "Extend\\Entity\\EV_Order_Shipping_Status"),
        _enum("taskstatuses", "Extend\\Entity\\EV_Task_Status"),
        _enum("rfqinternalstatuses", "Extend\\Entity\\EV_Rfp_Internal_Status"),
        _enum("rfqcustomerstatuses", "Extend\\Entity\\EV_Rfp_Customer_Status"),
        _enum("customerratings", "Extend\\Entity\\EV_Acc_Internal_Rating"),
        _enum("userauthstatuses", "Extend\\Entity\\EV_Auth_Status"),
        _dictionary(
            "opportunityclosereasons",
            "Oro\\Bundle\\SalesBundle\\Entity\\OpportunityCloseReason",
            (Attr("label"),),
        ),
        _dictionary("casestatuses", "Oro\\Bundle\\CaseBundle\\Entity\\CaseStatus"),
        _dictionary("casepriorities", "Oro\\Bundle\\CaseBundle\\Entity\\CasePriority"),
        _dictionary("casesources", "Oro\\Bundle\\CaseBundle\\Entity\\CaseSource", (Attr("label"),)),
        _dictionary("taskpriorities", "Oro\\Bundle\\TaskBundle\\Entity\\TaskPriority"),
        _dictionary("leadsources", "Extend\\Entity\\EV_Lead_Source", _ENUM_ATTRS),
        _dictionary("customergroups", "Oro\\Bundle\\CustomerBundle\\Entity\\CustomerGroup", (Attr("name"),)),
        _dictionary(
            "customeruserroles",
            "Oro\\Bundle\\CustomerBundle\\Entity\\CustomerUserRole",
            (Attr("role"), Attr("label")),
        ),
        _dictionary("userroles", "Oro\\Bundle\\UserBundle\\Entity\\Role", (Attr("role"), Attr("label"))),
    ]
    for type_, attributes in (
        ("search", (Attr("entityName"),)),
        ("emailcontext", (Attr("entityName"), Attr("isContext", "bool"))),
        ("emailthreadcontext", (Attr("entityName"), Attr("isContext", "bool"))),
        ("emailcontextsearch", (Attr("entityName"),)),
    ):
        specs.append(
            ResourceSpec(
                type=type_,
                entity_class=f"Oro\\Bundle\\Virtual\\{type_}",
                attributes=attributes,
                relationships=(Rel("entity", None),),
                filters={},
                sorters=frozenset(),
                actions=frozenset({"get_list"}),
                acl="public",
                entity_name=_field("entityName"),
                virtual=True,
            )
        )
    specs.append(
        ResourceSpec(
            type="emailcontextentities",
            entity_class="Oro\\Bundle\\EmailBundle\\Api\\Model\\EmailContextEntity",
            attributes=(Attr("entityType"), Attr("entityName"), Attr("allowed", "bool")),
            relationships=(),
            filters={},
            sorters=frozenset(),
            actions=frozenset({"get_list"}),
            acl="public",
            entity_name=_field("entityName"),
            virtual=True,
        )
    )
    targets = [spec.type for spec in specs if spec.activity_target]
    for spec in specs:
        if spec.type in ACTIVITY_TYPES:
            for target in targets:
                name = f"activityTargets.{target}"
                spec.filters[name] = FilterDef(name, "ref", _targets_of(target), many=True, array=True)
    return {spec.type: spec for spec in specs}


def _targets_of(target_type: str) -> Callable[[Record], Any]:
    return lambda r: [ref[1] for ref in r.relationships.get("activityTargets") or [] if ref[0] == target_type]


RESOURCES: dict[str, ResourceSpec] = _build()

ACTIVITY_TARGET_TYPES = tuple(t for t, spec in RESOURCES.items() if spec.activity_target)
SEARCHABLE_TYPES = tuple(t for t, spec in RESOURCES.items() if spec.searchable)
