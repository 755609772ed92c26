"""What can go wrong with a template, each with a stable code the hosts and the JSON API show.

::

    TemplateError
     +-- TemplateNotFound        no such template, or not one this user may see
     +-- TemplateAccessDenied    the user may see the template but not change it
     +-- TemplateInvalid         the source does not compile or uses what we do not support
     +-- TemplateUnsafe          a render tried to reach something templates may not, or a limit
     +-- TemplateRenderFailed    a render failed for another reason (a value of the wrong kind, ...)
     +-- TemplateFieldsMissing   the render left fields empty: sending is refused until they are filled
"""

from __future__ import annotations

from collections.abc import Sequence


class TemplateError(Exception):
    code = "template_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateNotFound(TemplateError):
    code = "template_not_found"


class TemplateAccessDenied(TemplateError):
    code = "template_access_denied"


class TemplateInvalid(TemplateError):
    """``problems`` says, one sentence each, what is wrong or not supported (with line numbers)."""

    code = "template_invalid"

    def __init__(self, message: str, *, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class TemplateUnsafe(TemplateError):
    code = "template_unsafe"


class TemplateRenderFailed(TemplateError):
    code = "template_render_failed"


class TemplateFieldsMissing(TemplateError):
    """``missing`` are the variable paths (``entity.poNumber``) the user must fill or remove."""

    code = "template_fields_missing"

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        super().__init__("Sending refused until these fields are filled: " + ", ".join(self.missing))
