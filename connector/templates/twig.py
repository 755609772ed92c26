"""Reading Oro's Twig as Jinja2: the source bridge, the allowed subset, and the tree rewrites.

Twig and Jinja2 share most of the syntax Oro's email templates use (``{{ }}``, ``{% if %}``,
``{% for %}``, ``{% set %}``, ``~``, ``is defined``, filters with arguments). The differences bridged:

- ``{% spaceless %}`` and ``{% verbatim %}`` become a ``spaceless`` filter block and ``{% raw %}``;
- ``null`` is a constant; hash keys written without quotes (``{currency: 'EUR'}``) are strings;
- ``is empty`` / ``is null`` are tests; PHP date formats are read by the ``date`` filter (rendering).

Anything else (macros, includes, inheritance, the ternary ``?:``, method calls, attributes starting
with ``_``) is refused with a sentence saying what and where, so an import can report it per template.

Two rewrites keep a render bounded whatever the template does: each ``for`` iterates through a
counting guard, and each ``~`` concatenation goes through a size check (Jinja2 compiles ``~`` inline,
without an interception hook, so a chain of ``{% set s = s ~ s %}`` could otherwise double a string
until memory runs out).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.parser import Parser
from jinja2.visitor import NodeTransformer

ALLOWED_TAGS = frozenset(
    {
        "if",
        "elif",
        "else",
        "endif",
        "for",
        "endfor",
        "set",
        "endset",
        "spaceless",
        "endspaceless",
        "verbatim",
        "endverbatim",
    }
)
ALLOWED_FILTERS = frozenset(
    {
        "default",
        "date",
        "escape",
        "e",
        "format",
        "length",
        "lower",
        "upper",
        "title",
        "trim",
        "nl2br",
        "number_format",
        "join",
        "spaceless",
        "oro_format_price",
        "oro_format_currency",
        "oro_format_date",
        "oro_format_datetime",
        "oro_format_time",
        "oro_format_name",
        "oro_format_number",
        "oro_format_decimal",
        "oro_format_percent",
        "oro_format",
        "oro_html_sanitize",
        "oro_html_strip_tags",
    }
)
ALLOWED_TESTS = frozenset({"defined", "empty", "null", "none", "even", "odd", "iterable"})
ALLOWED_FUNCTIONS = frozenset({"date"})
RESERVED_NAMES = frozenset({"self", "super", "caller", "varargs", "kwargs"})

ITERATION_GUARD = "_guarded_iteration"
CONCAT_GUARD = "_guarded_concat"

_TAG = re.compile(r"\{%[-+~]?\s*(\w+)")
_RAW_BLOCK = re.compile(r"\{%[-+~]?\s*(verbatim|raw)\s*[-+~]?%\}.*?\{%[-+~]?\s*end\1\s*[-+~]?%\}", re.S)
_BRIDGES = (
    (re.compile(r"(\{%[-+~]?\s*)verbatim(\s*[-+~]?%\})"), r"\1raw\2"),
    (re.compile(r"(\{%[-+~]?\s*)endverbatim(\s*[-+~]?%\})"), r"\1endraw\2"),
    (re.compile(r"(\{%[-+~]?\s*)spaceless(\s*[-+~]?%\})"), r"\1filter spaceless\2"),
    (re.compile(r"(\{%[-+~]?\s*)endspaceless(\s*[-+~]?%\})"), r"\1endfilter\2"),
    (re.compile(r"\{%~"), "{%-"),
    (re.compile(r"~%\}"), "-%}"),
    (re.compile(r"\{\{~"), "{{-"),
    (re.compile(r"~\}\}"), "-}}"),
)
_UNSUPPORTED_NODES: dict[type[nodes.Node], str] = {
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from",
    nodes.Block: "block",
    nodes.With: "with",
    nodes.Scope: "with",
    nodes.ScopedEvalContextModifier: "autoescape",
    nodes.EvalContextModifier: "autoescape",
}


def bridge(source: str) -> str:
    """Twig's spellings of the tags we support, in Jinja2's."""
    for pattern, replacement in _BRIDGES:
        source = pattern.sub(replacement, source)
    return source


def _tag_problems(source: str) -> list[str]:
    outside_raw = _RAW_BLOCK.sub("", source)
    problems = []
    for match in _TAG.finditer(outside_raw):
        tag = match.group(1)
        if tag not in ALLOWED_TAGS:
            line = outside_raw.count("\n", 0, match.start()) + 1
            problems.append(f"line {line}: the tag '{tag}' is not supported")
    return problems


def _line(node: nodes.Node) -> str:
    return f"line {getattr(node, 'lineno', '?')}"


def _call_name(node: nodes.Expr) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_call_name(node.node)}.{node.attr}"
    return "(a value)"


def tree_problems(tree: nodes.Template) -> list[str]:
    """What a parsed template uses that templates may not (each with its line)."""
    problems: list[str] = []
    for node in tree.find_all(nodes.Node):
        where = _line(node)
        if type(node) in _UNSUPPORTED_NODES:
            problems.append(f"{where}: the tag '{_UNSUPPORTED_NODES[type(node)]}' is not supported")
        elif isinstance(node, nodes.Filter | nodes.FilterBlock):
            name = node.name if isinstance(node, nodes.Filter) else node.filter.name
            if name not in ALLOWED_FILTERS:
                problems.append(f"{where}: the filter '{name}' is not supported")
        elif isinstance(node, nodes.Test) and node.name not in ALLOWED_TESTS:
            problems.append(f"{where}: the test '{node.name}' is not supported")
        elif isinstance(node, nodes.Call):
            target = node.node
            if not isinstance(target, nodes.Name):
                problems.append(f"{where}: calling {_call_name(target)}() is not supported")
            elif target.name not in ALLOWED_FUNCTIONS:
                problems.append(f"{where}: the function '{target.name}' is not supported")
            elif node.dyn_args is not None or node.dyn_kwargs is not None:
                problems.append(f"{where}: * and ** arguments are not supported")
        elif isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            problems.append(f"{where}: the attribute '{node.attr}' is not accessible")
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            problems.append(f"{where}: the attribute '{node.arg.value}' is not accessible")
        elif isinstance(node, nodes.Name) and node.name in RESERVED_NAMES:
            problems.append(f"{where}: the variable '{node.name}' is not available")
        elif isinstance(node, nodes.For) and node.recursive:
            problems.append(f"{where}: recursive loops are not supported")
        elif isinstance(node, nodes.Const) and isinstance(node.value, str) and "#{" in node.value:
            problems.append(f"{where}: string interpolation (#{{...}}) is not supported")
    return problems


def parse(environment: Environment, source: str) -> tuple[nodes.Template | None, list[str]]:
    """The bridged source parsed, with everything it uses that we do not support.

    The tree is None when the source does not parse (the problems then say why).
    """
    problems = _tag_problems(source)
    if problems:
        return None, problems
    try:
        tree = Parser(environment, bridge(source)).parse()
    except TemplateSyntaxError as exc:
        return None, [f"line {exc.lineno}: {exc.message or 'syntax error'}"]
    except RecursionError:
        return None, ["the template is nested too deeply"]
    return tree, tree_problems(tree)


class _Guards(NodeTransformer):
    """Unquoted hash keys as strings; loops and concatenations through their guards."""

    def visit_Pair(self, node: nodes.Pair) -> nodes.Node:
        self.generic_visit(node)
        if isinstance(node.key, nodes.Name):
            node.key = nodes.Const(node.key.name, lineno=node.key.lineno)
        return node

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, ITERATION_GUARD, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        parts = nodes.List(list(node.nodes), lineno=node.lineno)
        return nodes.Filter(parts, CONCAT_GUARD, [], [], None, None, lineno=node.lineno)


def guarded(tree: nodes.Template, environment: Environment) -> nodes.Template:
    rewritten = _Guards().visit(tree)
    assert isinstance(rewritten, nodes.Template)
    rewritten.set_environment(environment)
    return rewritten


def variable_paths(tree: nodes.Template, roots: Iterable[str] = ("entity", "system", "user")) -> list[str]:
    """The ``root.a.b`` paths a template reads (``entity.total.currency``), in order of first use."""
    wanted = frozenset(roots)
    seen: dict[str, None] = {}

    def path_of(node: nodes.Expr) -> str | None:
        if isinstance(node, nodes.Name):
            return node.name if node.name in wanted else None
        if isinstance(node, nodes.Getattr):
            base = path_of(node.node)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            base = path_of(node.node)
            return f"{base}.{node.arg.value}" if base and isinstance(node.arg.value, str) else None
        return None

    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        path = path_of(node)
        if path and "." in path:
            seen.setdefault(path, None)
    # keep only the longest paths: entity.total.currency makes entity.total implicit
    paths = list(seen)
    return [p for p in paths if not any(other.startswith(p + ".") for other in paths)]
