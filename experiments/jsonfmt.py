"""JSON for people: a value goes on one line when it fits in 100 columns."""
import json


def dumps(value, indent=0, width=100, prefix=0):
    """`prefix`: columns already used on the value's first line (e.g. by its key)."""
    flat = json.dumps(value)
    if not isinstance(value, (dict, list)) or not value or prefix + len(flat) <= width:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            head = f"{pad}{json.dumps(k)}: "
            items.append(head + dumps(v, indent + 2, width, len(head)))
    else:
        items = [pad + dumps(v, indent + 2, width, len(pad)) for v in value]
    return "{["[isinstance(value, list)] + "\n" + ",\n".join(items) + "\n" + " " * indent + "}]"[isinstance(value, list)]


def write(path, value):
    with open(path, "w") as f:
        f.write(dumps(value) + "\n")
