#!/usr/bin/env python3
"""Writes pgxnd(1), a man page in roff, from the binary's own --help texts.

    packaging/help2roff.py PGXND OUTPUT

The build runs it on the freshly built binary (cmake/packaging.cmake), so the
page says exactly what `--help` says and is never committed. It starts from
`pgxnd --help`, follows every command its "Commands:" list names, and within
a command every subcommand its help names (a "Commands:" list, or a quoted
'pgxnd origin rebuild ...' in the text), so a new command appears in the page
without an edit here. OUTPUT ending in .gz is gzipped reproducibly (no name,
no time in the header), as Debian wants man pages.

Exits 1, saying why, when the binary fails or its help has not the shape
FlagSet::Help() and the usage texts of pgxnd/*.cc give it.
"""

import gzip
import re
import subprocess
import sys

# Left column of a flag or command entry, then two or more spaces, then its
# description (FlagSet::Help pads the left column to 26 characters).
ENTRY = re.compile(r"^  (\S.*?)(?: {2,}(.*))?$")
# A command named in quotes in a help text: 'pgxnd origin rebuild --data-dir'.
QUOTED_COMMAND = re.compile(r"'(pgxnd(?: [a-z][a-z-]*)+)")
# The command a usage line is of: "pgxnd mail list --data-dir DIR".
COMMAND = re.compile(r"(pgxnd(?: [a-z][a-z-]*)+)")

# What the package installs, for the FILES section (packaging/, cmake/
# packaging.cmake); the rest of the page comes from the binary.
FILES = [
    ("/etc/pgxnd/ROLE.flags",
     "the flags of the origin, mirror or indexer unit (--flagfile), one a line"),
    ("/lib/systemd/system/pgxnd-ROLE.service",
     "the systemd unit of each role: runs `pgxnd ROLE --flagfile /etc/pgxnd/ROLE.flags` "
     "as the pgxnd user, which may write only /var/lib/pgxnd/ROLE; "
     "`systemctl reload` sends SIGHUP"),
    ("/var/lib/pgxnd/ROLE",
     "the data directory of each role (--data-dir); DIR/ports.json names the ports "
     "a node listens on"),
]


def fail(message):
    sys.stderr.write(f"help2roff.py: {message}\n")
    sys.exit(1)


def run_help(pgxnd, words):
    """The --help text of `pgxnd WORDS...`, or None when it has none."""
    argv = [pgxnd, *words, "--help"] if words else [pgxnd, "--help"]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except OSError as error:
        fail(f"cannot run {pgxnd}: {error}")
    if result.returncode != 0 or not result.stdout.startswith("Usage: "):
        return None
    return result.stdout


def escape(text):
    """Roff text: backslashes, minus signs (so that flags copy as typed) and
    a leading control character made literal."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def parse(help_text):
    """Splits a help text into its usage line, its paragraphs of prose and
    its lists ("Flags:", "Commands:") of (term, description) entries."""
    lines = help_text.rstrip("\n").split("\n")
    usage = lines[0][len("Usage: "):]
    prose, lists = [], {}
    current, paragraph = None, []
    for line in lines[1:]:
        if line.endswith(":") and not line.startswith(" ") and " " not in line:
            current = lists.setdefault(line[:-1], [])
        elif not line.strip():
            if paragraph:
                prose.append(" ".join(paragraph))
                paragraph = []
            current = None
        elif current is None:
            paragraph.append(line.strip())
        elif line.startswith("   ") and current:
            term, description = current[-1]
            current[-1] = (term, f"{description} {line.strip()}".strip())
        else:
            match = ENTRY.match(line)
            if not match:
                fail(f"unexpected line in a list of {usage!r}: {line!r}")
            current.append((match.group(1), match.group(2) or ""))
    if paragraph:
        prose.append(" ".join(paragraph))
    return usage, prose, lists


def subcommands(words, usage, help_text, lists):
    """The commands one word below `words` that this help names: in its
    "Commands:" list, quoted in its text, or as its usage (`pgxnd mail
    --help` shows the usage of `pgxnd mail list`)."""
    found = [term.split()[0] for term, _ in lists.get("Commands", [])]
    named_commands = QUOTED_COMMAND.findall(help_text)
    if usage_command := COMMAND.match(usage):
        named_commands.append(usage_command.group(1))
    for named in named_commands:
        named = named.split()[1:]
        if len(named) == len(words) + 1 and named[:-1] == words:
            found.append(named[-1])
    return list(dict.fromkeys(found))


def entries_roff(entries):
    out = []
    for term, description in entries:
        out += [".TP", f".B {escape(term)}", escape(description)]
    return out


def command_roff(pgxnd, words, summary, out, seen):
    """Appends the section of `pgxnd WORDS` and of the commands below it."""
    name = " ".join(["pgxnd", *words])
    if name in seen:
        return
    seen.add(name)
    help_text = run_help(pgxnd, words)
    if help_text is None:
        # A command without a help of its own (`pgxnd version`): its line in
        # the list above is all there is to say.
        out += [f'.SS "{escape(name)}"', escape(summary)]
        return
    usage, prose, lists = parse(help_text)
    out += [f'.SS "{escape(name)}"', ".nf", f".B {escape(usage)}", ".fi"]
    for paragraph in prose:
        if not paragraph.startswith("Run 'pgxnd"):
            out += [".PP", escape(paragraph)]
    for title, entries in lists.items():
        out += [".PP", f"{escape(title)}:", ".RS"] + entries_roff(entries) + [".RE"]
    for word in subcommands(words, usage, help_text, lists):
        descriptions = dict((t.split()[0], d) for t, d in lists.get("Commands", []))
        command_roff(pgxnd, [*words, word], descriptions.get(word, ""), out, seen)


def main():
    if len(sys.argv) != 3:
        fail("usage: help2roff.py PGXND OUTPUT")
    pgxnd, output = sys.argv[1], sys.argv[2]
    top = run_help(pgxnd, [])
    if top is None:
        fail(f"{pgxnd} --help did not print a usage")
    version = subprocess.run([pgxnd, "version"], capture_output=True, text=True).stdout.strip()
    usage, prose, lists = parse(top)
    commands = lists.get("Commands")
    if not commands:
        fail(f"{pgxnd} --help lists no commands")

    out = [
        f'.TH PGXND 1 "" "{escape(version)}" "User Commands"',
        ".SH NAME",
        "pgxnd \\- the nodes of a PGXN mirror network: origin, mirror, indexer",
        ".SH SYNOPSIS",
        f".B {escape(usage)}",
        ".SH DESCRIPTION",
        "One binary for every role of the network. The origin accepts releases "
        "and publishes them as a signed, gapless event log (the Feed, over "
        "gRPC) and as a tree of files with PGXN's paths (HTTP); mirrors follow "
        "a Feed, verify each event, serve the tree and relay the Feed; "
        "indexers are mirrors that also serve PGXN's API and website.",
        ".PP",
        "Every command takes \\fB\\-\\-flagfile\\fR \\fIFILE\\fR, which reads "
        "flags from FILE, one a line; the systemd units give each role its "
        "/etc/pgxnd/ROLE.flags so.",
        ".SH COMMANDS",
    ]
    out += entries_roff(commands)
    out.append(".SH \"COMMANDS IN DETAIL\"")
    seen = set()
    for term, description in commands:
        command_roff(pgxnd, [term.split()[0]], description, out, seen)
    out.append(".SH FILES")
    for path, description in FILES:
        out += [".TP", f".I {escape(path)}", escape(description)]
    out += [".SH \"SEE ALSO\"", "README.md and docs/operating.md in pgxnd's sources."]
    page = "\n".join(out) + "\n"

    if output.endswith(".gz"):
        with open(output, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                               compresslevel=9) as gz:
                gz.write(page.encode())
    else:
        with open(output, "w") as plain:
            plain.write(page)


if __name__ == "__main__":
    main()
