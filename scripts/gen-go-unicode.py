#!/usr/bin/env python3
"""Generates lib/base/go_unicode_tables.inc, the one Unicode table set behind
lib/base/go_unicode.{h,cc} (Go's unicode.IsLetter / IsDigit / IsPrint /
ToUpper / ToLower and strconv.IsPrint).

Go derives these from UnicodeData.txt alone: letters are categories L*, digits
Nd, printable runes L* M* N* P* S* plus U+0020, and the case mappings are the
simple upper/lower mappings (fields 12 and 13). So does this script, which
uses only the Python 3 standard library.

Regenerate (Debian's `unicode-data` package installs the UCD in
/usr/share/unicode; strata follows Unicode 15.0.0, the tables of Go 1.21 and
later, which build current BuildKit):

  python3 scripts/gen-go-unicode.py /usr/share/unicode \
      > lib/base/go_unicode_tables.inc

The version is read from the UCD's ReadMe.txt. If it changes, update
kGoUnicodeVersion in lib/base/go_unicode.h (a static_assert checks that the
two agree) and the expectations in tests/unit/base/go_unicode_test.cc.
"""

import bisect
import os
import re
import sys

MAX_RUNE = 0x10FFFF

# Rune classes, as named in go_unicode.cc.
CLASS_NONE, CLASS_LETTER, CLASS_DIGIT, CLASS_PRINT = 0, 1, 2, 3
CLASS_NAMES = {CLASS_LETTER: "kL", CLASS_DIGIT: "kD", CLASS_PRINT: "kP"}

# Marks a case run whose runes alternate upper, lower, upper, ... starting at
# its first rune (Go's unicode.UpperLower). Must equal kUpperLower in C++.
UPPER_LOWER = MAX_RUNE + 1


def read_version(ucd):
    with open(os.path.join(ucd, "ReadMe.txt"), encoding="utf-8") as f:
        m = re.search(r"for Version (\d+\.\d+\.\d+)", f.read())
    if not m:
        sys.exit("gen-go-unicode: no version in ReadMe.txt")
    return m.group(1)


def read_unicode_data(ucd):
    """Returns ({rune: category}, {rune: upper}, {rune: lower})."""
    cats, upper, lower = {}, {}, {}
    first = None
    path = os.path.join(ucd, "UnicodeData.txt")
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            if len(fields) != 15:
                sys.exit("gen-go-unicode: bad line: " + line)
            rune, name, cat = int(fields[0], 16), fields[1], fields[2]
            if name.endswith(", First>"):
                first = rune
                continue
            if name.endswith(", Last>"):
                for r in range(first, rune + 1):
                    cats[r] = cat
                continue
            cats[rune] = cat
            if fields[12]:
                upper[rune] = int(fields[12], 16)
            if fields[13]:
                lower[rune] = int(fields[13], 16)
    return cats, upper, lower


def rune_class(cats, r):
    cat = cats.get(r, "Cn")
    if cat[0] == "L":
        return CLASS_LETTER
    if cat == "Nd":
        return CLASS_DIGIT
    if cat[0] in "MNPS" or r == 0x20:
        return CLASS_PRINT
    return CLASS_NONE


def class_runs(cats):
    """Maximal runs [lo, hi] of one class other than CLASS_NONE."""
    runs = []
    for r in range(MAX_RUNE + 1):
        c = rune_class(cats, r)
        if c == CLASS_NONE:
            continue
        if runs and runs[-1][1] == r - 1 and runs[-1][2] == c:
            runs[-1][1] = r
        else:
            runs.append([r, r, c])
    return runs


def case_runs(upper, lower):
    """Runs [lo, hi, upper_delta, lower_delta]; see UPPER_LOWER."""
    deltas = {}
    for r in set(upper) | set(lower):
        deltas[r] = (upper.get(r, r) - r, lower.get(r, r) - r)
    runes = sorted(deltas)
    runs = []
    i = 0
    while i < len(runes):
        lo = runes[i]
        j = i
        if deltas[lo] == (0, 1) and deltas.get(lo + 1) == (-1, 0):
            # Alternating pairs: even offsets upper case, odd ones lower.
            while True:
                nxt = runes[j] + 1
                want = (-1, 0) if (nxt - lo) % 2 else (0, 1)
                if deltas.get(nxt) != want:
                    break
                j += 1
            runs.append([lo, runes[j], UPPER_LOWER, UPPER_LOWER])
        else:
            while deltas.get(runes[j] + 1) == deltas[lo]:
                j += 1
            runs.append([lo, runes[j], deltas[lo][0], deltas[lo][1]])
        i = j + 1
    return deltas, runs


def check_class_runs(cats, runs):
    his = [run[1] for run in runs]
    for r in range(MAX_RUNE + 2):
        k = bisect.bisect_left(his, r)
        got = runs[k][2] if k < len(runs) and runs[k][0] <= r else CLASS_NONE
        want = rune_class(cats, r) if r <= MAX_RUNE else CLASS_NONE
        if got != want:
            sys.exit("gen-go-unicode: class table wrong at %X" % r)


def check_case_runs(deltas, runs):
    los = [run[0] for run in runs]
    for r in range(MAX_RUNE + 2):
        k = bisect.bisect_right(los, r) - 1
        got = (0, 0)
        if k >= 0 and r <= runs[k][1]:
            lo, _, du, dl = runs[k]
            if du == UPPER_LOWER:
                got = (0, 1) if (r - lo) % 2 == 0 else (-1, 0)
            else:
                got = (du, dl)
        if got != deltas.get(r, (0, 0)):
            sys.exit("gen-go-unicode: case table wrong at %X" % r)


def pack(items, indent="    ", width=80):
    """Joins `items` with ", " into lines of at most `width` columns."""
    lines, line = [], ""
    for item in items:
        piece = item + ","
        if line and len(indent) + len(line) + 1 + len(piece) > width:
            lines.append(indent + line)
            line = piece
        else:
            line = line + " " + piece if line else piece
    if line:
        lines.append(indent + line)
    return "\n".join(lines)


def delta_text(d):
    return "kUpperLower" if d == UPPER_LOWER else str(d)


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: gen-go-unicode.py UCD_DIR > go_unicode_tables.inc")
    ucd = argv[1]
    version = read_version(ucd)
    cats, upper, lower = read_unicode_data(ucd)
    classes = class_runs(cats)
    check_class_runs(cats, classes)
    deltas, cases = case_runs(upper, lower)
    check_case_runs(deltas, cases)

    out = sys.stdout
    out.write("// Generated by scripts/gen-go-unicode.py from the Unicode %s\n"
              "// UCD; do not edit. Included by go_unicode.cc only.\n"
              "//\n"
              "// kClassRuns: maximal runs of letters (kL), decimal digits "
              "(kD) and\n"
              "// other printable runes (kP); runes in no run are none of "
              "these.\n"
              "// kCaseRuns: runs of equal simple-mapping deltas (upper, "
              "lower), or\n"
              "// kUpperLower runs that alternate upper and lower case.\n"
              "\n"
              "// clang-format off\n"
              "constexpr std::string_view kTablesVersion = \"%s\";\n\n"
              % (version, version))
    out.write("constexpr ClassRun kClassRuns[] = {\n")
    out.write(pack("{0x%X, 0x%X, %s}" % (lo, hi, CLASS_NAMES[c])
                   for lo, hi, c in classes))
    out.write("\n};\n\nconstexpr CaseRun kCaseRuns[] = {\n")
    out.write(pack("{0x%X, 0x%X, %s, %s}" % (lo, hi, delta_text(du),
                                             delta_text(dl))
                   for lo, hi, du, dl in cases))
    out.write("\n};\n// clang-format on\n")


if __name__ == "__main__":
    main(sys.argv)
