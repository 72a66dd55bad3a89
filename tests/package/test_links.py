"""Every relative link of every document shipped in the artifact resolves inside the artifact.

Galaxy, Automation Hub and an installed copy show the artifact's files and nothing else: a
link to a file that build_ignore leaves out (benchmarks/, say) is dead there, even though it
works in the repository. Links to a heading (`file.md#heading`, `#heading`) must name a heading
of that file, as GitHub and the documentation site spell their anchors. Absolute URLs are not
fetched (no network here).
"""

from __future__ import annotations

import posixpath
import re
import tarfile

import pytest

# Fenced blocks and code spans hold examples, not links.
FENCED = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+).+?\1", re.S)
MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MD_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
HTML_LINK = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)
RST_LINK = re.compile(r"`[^`<]*<([^`>]+)>`__?")
RST_DIRECTIVE = re.compile(r"^\s*\.\. (?:image|figure|include|literalinclude):: *(\S+)", re.M)
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXPLICIT_ANCHOR = re.compile(r"""<a\b[^>]*\b(?:name|id)\s*=\s*["']([^"']+)["']""", re.I)


def shipped(artifact):
    """(names of the artifact's files, {document name: text}) for its Markdown and RST files."""
    with tarfile.open(artifact) as archive:
        files = {member.name for member in archive.getmembers() if member.isfile()}
        documents = {
            name: archive.extractfile(name).read().decode("utf-8")
            for name in sorted(files)
            if name.endswith((".md", ".rst"))
        }
    return files, documents


def links(name, text):
    if name.endswith(".rst"):
        return RST_LINK.findall(text) + RST_DIRECTIVE.findall(text)
    prose = CODE_SPAN.sub("", FENCED.sub("", text))
    return MD_LINK.findall(prose) + MD_REFERENCE.findall(prose) + HTML_LINK.findall(prose)


def slug(heading):
    """A heading's anchor, as GitHub (and MyST's GitHub-style slugs) write it."""
    text = CODE_SPAN.sub(lambda match: match.group(0).strip("`"), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading keeps its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text):
    found = set(EXPLICIT_ANCHOR.findall(text))
    seen = {}
    for heading in HEADING.findall(FENCED.sub("", text)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else "%s-%d" % (base, count))
    return found


def problems(name, text, files, documents):
    """What is wrong with the links of the shipped document `name`."""
    found = []
    folder = posixpath.dirname(name)
    folders = {posixpath.dirname(path) for path in files}
    for target in links(name, text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:, ...
            continue
        path, anchor = target.partition("#")[::2]
        resolved = posixpath.normpath(posixpath.join(folder, path)) if path else name
        if resolved.startswith("../") or resolved == "..":
            found.append(f"{name}: {target} points outside the collection")
            continue
        is_folder = any(other == resolved or other.startswith(resolved + "/") for other in folders)
        if resolved not in files and not is_folder:
            found.append(f"{name}: {target} is not in the artifact")
            continue
        if anchor and resolved.endswith(".md"):
            if anchor not in anchors(documents[resolved]):
                found.append(f"{name}: {target} names no heading of {resolved}")
    return found


def test_every_shipped_document_links_inside_the_artifact(artifact):
    files, documents = shipped(artifact)
    # The documents a user reads on Galaxy or in an installed copy are all there to be checked.
    for name in ("README.md", "CHANGELOG.md", "roles/phone_numbers/README.md", "docs/awx.md"):
        assert name in documents, name
    found = [
        problem
        for name, text in documents.items()
        for problem in problems(name, text, files, documents)
    ]
    assert not found, "\n".join(found)
    # And the check did look at links: the README alone has several, the guides too.
    assert len(links("README.md", documents["README.md"])) >= 5


@pytest.mark.parametrize(
    "text, expected",
    [
        ("See [the files](../benchmarks/README.md).", "is not in the artifact"),
        ("See [the guide](awx.md#no-such-heading).", "names no heading"),
        ("See [up](../../COPYING).", "points outside the collection"),
        ("[ref]: missing.md", "is not in the artifact"),
        ('<a href="missing.png">plot</a>', "is not in the artifact"),
    ],
)
def test_the_link_check_finds_dead_links(text, expected):
    files = {"docs/awx.md", "docs/performance.md", "README.md"}
    documents = {"docs/awx.md": "# AWX\n\n## The credential type\n", "README.md": ""}
    found = problems("docs/performance.md", text, files, documents)
    assert len(found) == 1 and expected in found[0], found


def test_the_link_check_accepts_good_links():
    files = {"docs/awx.md", "docs/performance.md", "README.md", "docs/plot.png"}
    documents = {"docs/awx.md": "# AWX\n\n## The credential type\n", "README.md": ""}
    text = (
        "[a](awx.md#the-credential-type) [b](../README.md) ![c](plot.png) [d](https://x.invalid) "
        "`[not a link](nowhere.md)`\n\n```\n[nor this](nowhere.md)\n```\n"
    )
    assert problems("docs/performance.md", text, files, documents) == []
    assert (
        slug("AWX and `module_defaults`: the *action* group")
        == "awx-and-module_defaults-the-action-group"
    )
