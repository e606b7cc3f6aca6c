"""The normal form of a query: equal forms match exactly the same papers for the same reason.

Used to refuse a subscription that repeats an existing one in other words (`a AND b` = `b a`,
`x OR (y OR z)` = `(z OR y) OR x`, `Transformers` = `transformer`). Pure: a parsed tree in,
a hashable value out. Conservative: only operand order, nesting of the same operator,
repeated operands and surface spelling (via `atom_key`) are ignored.
"""

from __future__ import annotations

from digest.query.ast import ATOM_TYPES, And, Node, Not, Or, atom_key

Form = tuple[object, ...]


def normal_form(node: Node) -> Form:
    if isinstance(node, ATOM_TYPES):
        return ("atom", atom_key(node))
    if isinstance(node, Not):
        return ("not", normal_form(node.child))
    assert isinstance(node, (And, Or))
    kind = "and" if isinstance(node, And) else "or"
    operands: set[Form] = set()
    for child in node.children:
        form = normal_form(child)
        if form[0] == kind:  # (a AND b) AND c = a AND b AND c
            operands.update(form[1:])  # type: ignore[arg-type]
        else:
            operands.add(form)
    ordered = sorted(operands, key=repr)
    return ordered[0] if len(ordered) == 1 else (kind, *ordered)
