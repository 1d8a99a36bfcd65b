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

    table = Table(title=f"{len(described)} components", show_lines=True)
    table.add_column("Type", style="bold cyan", no_wrap=True)
    table.add_column("Category")
    table.add_column("Inputs (* required)")
    table.add_column("Outputs")
    for item in described:
        names = [item["type"], *item["aliases"]]
        inputs = "\n".join(
            f"{i['name']}{'*' if i['required'] else ''}: {i['type']}" for i in item["inputs"]
        )
        outputs = "\n".join(f"{o['name']}: {o['type']}" for o in item["outputs"])
        table.add_row(
            escape("\n".join(names)), escape(item["category"]), escape(inputs), escape(outputs)
        )
    Console().print(table)
    return 0
