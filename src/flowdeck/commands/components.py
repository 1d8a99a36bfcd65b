"""`flowdeck components`: the component registry with each type's inputs and outputs."""

from __future__ import annotations

import sys

from flowdeck.engine.components.registry import default_registry


def components_command(*, as_json: bool = False) -> int:
    """Print every registered component, as a table or as JSON."""
    described = [component.describe() for component in default_registry()]
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(described, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    rows = []
    for item in described:
        names = [item["type"], *item["aliases"]]
        inputs = [f"{i['name']}{'*' if i['required'] else ''}: {i['type']}" for i in item["inputs"]]
        outputs = [f"{o['name']}: {o['type']}" for o in item["outputs"]]
        rows.append((names, [item["category"]], inputs, outputs))
    # Every name is shown whole: the table is as wide as its longest lines need, even when
    # that is wider than the terminal (a narrow terminal wraps it; nothing is cut).
    widths = [max((len(line) for row in rows for line in row[c]), default=0) for c in range(4)]
    headers = ("Type", "Category", "Inputs (* required)", "Outputs")
    widths = [max(w, len(h)) for w, h in zip(widths, headers, strict=True)]
    console = Console()
    console.width = max(console.width, sum(widths) + 3 * len(widths) + 1)
    table = Table(title=f"{len(described)} components", show_lines=True)
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, min_width=width, no_wrap=True, overflow="fold")
    for row in rows:
        table.add_row(*(escape("\n".join(cell)) for cell in row))
    console.print(table)
    return 0
