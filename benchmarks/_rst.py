"""reStructuredText pieces of the generated benchmarks page (``make_report.py``)."""


def list_table(header, rows, title=None, widths=None):
    lines = [f".. list-table:: {title}" if title else ".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append("   :widths: " + " ".join(str(w) for w in widths))
    lines.append("")
    for row in [header] + rows:
        lines.append("   * - " + (str(row[0]) or " "))
        lines.extend("     - " + (str(cell) or " ") for cell in row[1:])
    return "\n".join(lines) + "\n"


def heading(text, char):
    return f"{text}\n{char * len(text)}\n"


def seconds(s):
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} µs"
