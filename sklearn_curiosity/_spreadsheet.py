"""CSV files as spreadsheets save them: read with their habits, write without losing data.

Reading: the delimiter is detected (``,``, ``;``, tab or ``|``; spreadsheets
set to a decimal-comma locale save with ``;``), decimal commas are read when
asked and named when not, and every bad cell is reported by file, row and
column. Rows are numbered as a spreadsheet shows them: the header is row 1.

Writing: a ranked table goes to a temporary file in the target's folder, which
then takes the target's name in one step (``os.replace``, or ``os.link`` when
the target must not exist yet). A failed write leaves the old file as it was
and no temporary file behind; a file created while the model was fitting is
not overwritten without ``force``; and an input file is never the target,
whatever name or link points at it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import csv
import errno
import io
import math
import os
import re
import stat
import tempfile
from dataclasses import dataclass

import numpy as np

# The delimiters a spreadsheet saves with, in the order preferred on a tie.
DELIMITERS = ",;\t|"
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "'|'"}
# How many lines (the header included) the delimiter is detected from.
_SNIFF_LINES = 20

# A number written with a decimal comma: 3,14 or -0,5e-3 or 1.234,5.
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d*),\d+([eE][+-]?\d+)?$")


class InputError(Exception):
    """Bad input, reported as one line on stderr (no traceback)."""


@dataclass
class Table:
    """A CSV file's cells, as text.

    ``row_numbers`` are the spreadsheet row numbers of ``rows`` (the header
    is row 1); ``delimiter`` is the one detected.
    """

    name: str
    header: list
    rows: list
    row_numbers: list
    delimiter: str

    @property
    def delimiter_name(self):
        return _DELIMITER_NAMES[self.delimiter]

    def column(self, name):
        """The cells of one column, as text."""
        k = self.header.index(name)
        return [line[k] for line in self.rows]


def _detect_delimiter(text):
    """The delimiter of ``text``: csv.Sniffer's guess when it splits the first
    lines into equally many cells (more than one), else the first of
    :data:`DELIMITERS` that does, else the one giving the header most cells."""
    sample = [line for line in text.splitlines() if line.strip()][:_SNIFF_LINES]

    def counts(delimiter):
        return [len(cells) for cells in csv.reader(sample, delimiter=delimiter)]

    def consistent(delimiter):
        found = counts(delimiter)
        return bool(found) and found[0] > 1 and len(set(found)) == 1

    try:
        guess = csv.Sniffer().sniff("\n".join(sample), delimiters=DELIMITERS).delimiter
    except csv.Error:
        guess = None
    if guess is not None and len(guess) == 1 and guess in DELIMITERS and consistent(guess):
        return guess
    for delimiter in DELIMITERS:
        if consistent(delimiter):
            return delimiter
    # Ragged rows: take the delimiter that names most columns, so that the
    # error says which row is ragged rather than that a column is missing.
    widest = max(DELIMITERS, key=lambda d: counts(d)[0] if sample else 0)
    return widest if sample and counts(widest)[0] > 1 else ","


def read_table(path):
    """Read a CSV file with a header row; refuse what cannot be a table."""
    name = os.path.basename(path)
    try:
        # utf-8-sig: spreadsheets often save a byte-order mark first.
        with open(path, newline="", encoding="utf-8-sig") as file:
            text = file.read()
        delimiter = _detect_delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        lines = [(reader.line_num, line) for line in reader]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not a CSV file.") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a UTF-8 text file; save it as CSV (UTF-8).") from None
    except (OSError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read it as CSV ({exc}).") from None

    lines = [(number, line) for number, line in lines if any(cell.strip() for cell in line)]
    if not lines:
        raise InputError(f"{name} is empty: it needs a header row and at least one data row.")
    (_, header), body = lines[0], lines[1:]
    header = [cell.strip() for cell in header]
    if not body:
        raise InputError(f"{name} has a header but no data rows.")
    for position, column in enumerate(header, start=1):
        if not column:
            raise InputError(f"{name}: column {position} of the header has no name.")
    duplicates = sorted({column for column in header if header.count(column) > 1})
    if duplicates:
        raise InputError(f"{name}: the header repeats the column(s) {names(duplicates)}.")
    for number, line in body:
        if len(line) != len(header):
            hint = ""
            if delimiter == "," and len(line) > len(header):
                hint = (
                    " If the file writes numbers with decimal commas, save it with "
                    "semicolons between the cells and pass --decimal ,"
                )
            raise InputError(
                f"{name}, row {number}: {len(line)} cells, but the header has "
                f"{len(header)}.{hint}"
            )
    return Table(
        name, header, [line for _, line in body], [number for number, _ in body], delimiter
    )


def names(columns):
    return ", ".join(repr(column) for column in columns)


def _parse_cell(cell, decimal, where):
    """One cell as a float, or an InputError that says what is wrong with it."""
    text = cell.strip()
    if not text:
        raise InputError(f"{where}: empty cell; fill it in or delete the row.")
    if decimal == ",":
        if "." in text:
            # "1.234" is 1234 where the comma is the decimal mark: refuse to guess.
            raise InputError(
                f"{where}: {cell!r} has a point, but --decimal , makes the comma the "
                "decimal mark; remove thousands separators (or drop --decimal ,)."
            )
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        if decimal == "." and _DECIMAL_COMMA.match(text):
            raise InputError(
                f"{where}: {cell!r} is written with a decimal comma; "
                "pass --decimal , to read the file's numbers that way."
            ) from None
        raise InputError(f"{where}: {cell!r} is not a number.") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: {cell!r} is not a finite number.")
    return value


def numbers(table, columns, decimal="."):
    """The cells of ``columns`` as a float matrix; refuse empty, NaN or text cells,
    naming the first bad one by file, row and column."""
    index = [table.header.index(column) for column in columns]
    cells = [[line[k] for k in index] for line in table.rows]
    if decimal == ".":
        try:
            values = np.array(cells, dtype=str).reshape(len(cells), len(columns))
            values = values.astype(np.float64)
        except ValueError:
            values = None
        if values is not None and np.isfinite(values).all():
            return values
    # Converting cell by cell finds the first bad one, to say where it is.
    values = np.empty((len(cells), len(columns)))
    for i, line in enumerate(cells):
        for j, cell in enumerate(line):
            where = f"{table.name}, row {table.row_numbers[i]}, column {columns[j]!r}"
            values[i, j] = _parse_cell(cell, decimal, where)
    return values


def is_same_file(path, other):
    """Whether two paths name one file, through any link or spelling."""
    try:
        return os.path.samefile(path, other)
    except OSError:
        # One of them does not exist (yet): only the spelling can tell.
        return os.path.realpath(path) == os.path.realpath(other)


def check_target(out, inputs, force):
    """Refuse an ``out`` that is an input, a folder, in no folder, or that exists
    without ``force``. Run before the fit, to fail early: :func:`write_table`
    checks again when it writes."""
    for path in inputs:
        if is_same_file(out, path):
            raise InputError(
                f"--out {out} is the input file {path}: writing there would destroy "
                "it. Name another file."
            )
    if os.path.isdir(out):
        raise InputError(f"Cannot write {out}: it is a folder.")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise InputError(f"Cannot write {out}: the folder {folder} does not exist.")
    if not force and os.path.lexists(out):
        raise InputError(f"{out} exists; pass --force to overwrite it.")


def _new_file_mode():
    # Files are created 0o666 less the umask; mkstemp's temporary file is 0o600.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_table(out, header, rows, *, inputs, force):
    """Write a CSV table to ``out`` in one step: all of it or nothing.

    Without ``force``, the target must not exist at the moment it is written
    (an exclusive hard link), not merely when the command started.
    """
    check_target(out, inputs, force=True)
    folder = os.path.dirname(os.path.abspath(out))
    existed = os.path.lexists(out)
    unchanged = f"{out} was left as it was" if existed else f"{out} was not created"
    try:
        mode = stat.S_IMODE(os.stat(out).st_mode) if existed else _new_file_mode()
    except OSError:
        mode = _new_file_mode()
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=folder, prefix=f".{os.path.basename(out)}.", suffix=".tmp"
        )
    except OSError as exc:
        raise InputError(f"Cannot write {out}: {exc.strerror or exc}; {unchanged}.") from None
    try:
        try:
            with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, mode)
        except OSError as exc:
            raise InputError(
                f"Cannot write {out}: {exc.strerror or exc}; {unchanged}."
            ) from None
        # The inputs again, as a link to one may have appeared during the fit;
        # whether `out` exists is settled by the exclusive link below.
        check_target(out, inputs, force=True)
        if force:
            os.replace(temporary, out)
        else:
            _link_exclusively(temporary, out)
    except FileExistsError:
        raise InputError(
            f"{out} was created while the model was fitting; it was left as it was. "
            "Pass --force to overwrite it."
        ) from None
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"Cannot write {out}: {exc.strerror or exc}; {unchanged}.") from None
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def _link_exclusively(temporary, out):
    """Give ``temporary`` the name ``out`` only if no file has it (FileExistsError)."""
    try:
        os.link(temporary, out)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # A file system without hard links: claim the name exclusively, then
        # replace the empty claim (readers may see it empty for a moment).
        os.close(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        os.replace(temporary, out)
