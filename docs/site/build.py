"""Build the documentation site into .build/docs/html (`make docs`).

1. antsibull-docs writes the reference of the modules and the role as RST, from the collection
   that ANSIBLE_COLLECTIONS_PATH finds (the Makefile points it at the checkout);
2. the Markdown guides of docs/ and CHANGELOG.rst are copied next to it, and index.md lists
   the guides (in the order below, then any others by name). Links from a
   guide to files outside docs/ (../roles/..., ../README.md) have no page on the site: they
   become their plain text;
3. Sphinx renders the lot with the Ansible theme.

Errors are not turned into pages: documentation antsibull-docs cannot parse, and any Sphinx
warning (a broken link, a malformed option description), fail the build.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = os.path.join(ROOT, "docs", "site")
OUT = os.path.join(ROOT, ".build", "docs")
# [text](../path): a Markdown link that leaves docs/.
OUTSIDE_LINK = re.compile(r"\[([^\]]*)\]\(\.\./[^)]*\)")
ORDER = ["authentication", "provisioning", "check-mode", "awx", "execution-environment"]


def tool(name):
    """The tool next to this Python (the project's virtualenv), else the one on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), name)
    return local if os.path.exists(local) else name


def run(argv):
    print("+ " + " ".join(argv), flush=True)
    if subprocess.run(argv, check=False).returncode != 0:
        sys.exit(f"error: {os.path.basename(argv[0])} failed; see its messages above")


def guides():
    names = [name[:-3] for name in os.listdir(os.path.join(ROOT, "docs")) if name.endswith(".md")]
    return sorted(
        names, key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name)
    )


def main():
    src = os.path.join(OUT, "src")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(src, "collection"))
    os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "collections"))
    # --squash-hierarchy: one collection, so its pages sit directly under collection/.
    # --fail-on-error: documentation that does not parse fails the build, not an error page.
    run(
        [
            tool("antsibull-docs"),
            "collection",
            "--use-current",
            "--squash-hierarchy",
            "--fail-on-error",
            "--dest-dir",
            os.path.join(src, "collection"),
            "livekit.sip",
        ]
    )
    names = guides()
    for name in names:
        with open(os.path.join(ROOT, "docs", name + ".md")) as handle:
            text = OUTSIDE_LINK.sub(r"\1", handle.read())
        with open(os.path.join(src, name + ".md"), "w") as handle:
            handle.write(text)
    shutil.copy(os.path.join(ROOT, "CHANGELOG.rst"), os.path.join(src, "changelog.rst"))
    for name in ("conf.py", "ansible-links.rst"):
        shutil.copy(os.path.join(SITE, name), src)
    with open(os.path.join(SITE, "index.md")) as handle:
        index = handle.read().replace("@GUIDES@", "\n".join(names))
    with open(os.path.join(src, "index.md"), "w") as handle:
        handle.write(index)
    run(
        [
            tool("sphinx-build"),
            "-b",
            "html",
            "-W",
            "--keep-going",
            "-q",
            src,
            os.path.join(OUT, "html"),
        ]
    )
    # Guides show their figures with raw <img> tags (a Markdown image breaks the -W build on
    # GitHub-relative paths), which Sphinx does not follow: the files go next to the pages.
    for name in os.listdir(os.path.join(ROOT, "docs")):
        if name.endswith(".png"):
            shutil.copy(os.path.join(ROOT, "docs", name), os.path.join(OUT, "html"))
    print("Documentation site: {}".format(os.path.join(OUT, "html", "index.html")))


if __name__ == "__main__":
    main()
