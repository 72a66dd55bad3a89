# Sphinx configuration of the documentation site that `make docs` builds into .build/docs/html.
# The sources are assembled by build.py: the RST antsibull-docs generates from the modules' and
# the role's documentation, the Markdown guides of docs/, and CHANGELOG.rst.
# pylint: disable=invalid-name

from __future__ import annotations

project = "livekit.sip"
copyright = "livekit.sip contributors"
title = "livekit.sip documentation"
html_short_title = "livekit.sip"

# sphinx_antsibull_ext renders the roles and styles of the generated RST; myst_parser the guides.
extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# Headings of the guides get anchors, so that links such as guide.md#section resolve.
myst_heading_anchors = 3
# Guides written to be included in README.md start at level 2; that is fine on the site too.
suppress_warnings = ["myst.header"]

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
# No links to the Ansible project's blog, forum and documentation: this is not its site.
html_theme_options = {"display_version": False, "show_extranav": False, "topbar_links": {}}

# No intersphinx: the site is built offline, and it links to nothing outside the collection.
default_role = "any"
nitpicky = True
