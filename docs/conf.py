"""Sphinx configuration of the aioloom documentation site.

Built by ``python3 -m hatch run docs:check`` (``sphinx-build -W --keep-going``: every warning
fails the build) into ``docs/_build/html``. The pages are Markdown (MyST); the API reference
is autodoc over each package's ``__all__``, read from the installed workspace packages, so
every name appears under its public path (``aioloom.web.Response``), never the private module
that defines it.
"""

from __future__ import annotations

project = "aioloom"
author = "The aioloom developers"
copyright = "the aioloom developers, Apache License 2.0"
release = version = "0.1.0"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Markdown: headings get anchors down to level 3 so "page.md#section" links resolve.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# The reference: Google-style docstrings; each module's __all__ decides what is documented,
# including names re-exported from private modules.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
# "Attributes:" sections become fields of their class: autodoc documents the attributes
# themselves, and an attribute directive per entry would describe each one twice.
napoleon_use_ivar = True
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "member-order": "groupwise",
}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_class_signature = "separated"
autodoc_inherit_docstrings = True

# Short type names in signatures ("type", "Request") can match several documented objects;
# Sphinx then warns "more than one target found" (ref.python) and links the first. That is
# harmless for a signature, so only that class of warning is silenced: every other warning,
# unresolved names in the pages included, still fails the build.
suppress_warnings = ["ref.python"]

html_theme = "furo"
html_title = "aioloom 0.1.0"
html_show_sourcelink = False


def _show_mixin_members() -> None:
    """Document the members a public class takes from aioloom's private ``*Mixin`` classes.

    autodoc documents a class's own members only, so ``BaseRequest.content_type`` (from
    ``HeadersMixin``) or ``BaseRequest.cookies`` (from ``ParsedHeadersMixin``) would be missing
    from the reference. ``inherited-members`` would also bring in every dict, list and
    exception member. So, for this build only, each public class gets the mixins' public
    members in its own namespace, resolved as attribute lookup would resolve them.
    """
    import importlib
    import inspect

    for package in ("aioloom.http", "aioloom.client", "aioloom.web", "aioloom.websocket"):
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            cls = getattr(module, name, None)
            if not inspect.isclass(cls):
                continue
            for base in cls.__mro__[1:]:
                if not (base.__module__.startswith("aioloom.") and base.__name__.endswith("Mixin")):
                    continue
                for member in vars(base):
                    if member.startswith("_") or member in vars(cls):
                        continue
                    if inspect.getattr_static(cls, member) is vars(base)[member]:
                        setattr(cls, member, vars(base)[member])


_show_mixin_members()
