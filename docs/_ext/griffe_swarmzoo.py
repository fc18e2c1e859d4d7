"""Griffe extension for swarmzoo's docs site (loaded by mkdocstrings; see ``mkdocs.yml``).

Four jobs:

1. **package-dir**: swarmzoo's sub-packages live outside ``swarmzoo/`` (``envs/`` is imported as
   ``swarmzoo.envs``, see ``[tool.setuptools] package-dir`` in ``pyproject.toml``), so griffe's
   static analysis, which follows the directory tree, does not find them. When the ``swarmzoo``
   package is loaded, each mapped directory is loaded statically and attached under its import
   name. Nothing is imported: the docs build needs neither torch nor the env dependencies.
2. **Sphinx roles**: docstrings cross-reference with ``:class:`Config``` and
   ``:func:`~swarmzoo.algorithms.dbp.blocklist``` (they read well in ``help()``). These become
   mkdocs-autorefs links, resolved relative to the object the docstring belongs to. Links are
   *optional*: a target that is not rendered on any page shows as plain code instead of failing
   the strict build.
3. **Inherited arguments**: a dataclass whose docstring documents only its own fields (the
   Byzantine envs' ``Config(ByzantineConfig)``) gets its bases' documented fields appended to its
   Attributes table, so each env page lists every argument, with the env's own defaults.
4. **Field docstrings as a table**: a dataclass documented field by field (the algorithms'
   ``Args``, whose field docstrings are also tyro's ``--help``) gets an Attributes section built
   from them, rendered as one table like a ``Config``'s instead of a heading per field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[2]
_ROLE = re.compile(r":(?:py:)?(?P<role>class|func|meth|mod|attr|obj|data|exc|const):`(?P<target>[^`]+)`")


class SwarmzooDocs(griffe.Extension):
    """Attach package-dir sub-packages and turn Sphinx roles into autorefs.

    Args:
        package: the top-level package whose sub-packages live elsewhere.
        package_dir: sub-package import name (``"swarmzoo.envs"``) -> directory, relative to the
            repository root (two levels above this file); mirrors ``package-dir`` in
            ``pyproject.toml`` (``tests/test_docs.py`` checks that they agree).
    """

    def __init__(self, package: str = "swarmzoo", package_dir: dict[str, str] | None = None) -> None:
        super().__init__()
        self.package = package
        self.package_dir = dict(package_dir or {})

    # -- 1. package-dir -------------------------------------------------------------------------

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.path != self.package:
            return
        if not hasattr(loader, "_load_module"):
            raise griffe.ExtensionError("GriffeLoader._load_module is gone: use the [docs] extra's griffe")
        # Shallow names first, so "swarmzoo.a.b" finds "swarmzoo.a" already attached.
        for name, directory in sorted(self.package_dir.items(), key=lambda item: item[0].count(".")):
            parent_path, _, child = name.rpartition(".")
            if parent_path != self.package and not parent_path.startswith(self.package + "."):
                raise griffe.ExtensionError(f"package_dir entry {name!r} is not under {self.package!r}")
            path = (ROOT / directory).resolve()
            if not (path / "__init__.py").is_file():
                raise griffe.ExtensionError(f"package_dir {name!r}: no package at {path}")
            parent = pkg if parent_path == self.package else pkg[parent_path[len(self.package) + 1 :]]
            # The loader's own module loading, with the parent set: the sub-package gets its
            # import path ("swarmzoo.envs"), shares the loader's collections, and its own
            # sub-modules are found by scanning its directory. (Private griffe API: the docs extra
            # pins griffe.)
            module = loader._load_module(child, path / "__init__.py", submodules=True, parent=parent)
            parent.set_member(child, module)
        loader.expand_exports(pkg)
        loader.expand_wildcards(pkg, external=False)
        objects = list(_walk(pkg))
        # Roles first: jobs 3 and 4 parse docstrings, and griffe caches what it parsed.
        for obj in objects:
            self._rewrite(obj)
        for obj in objects:
            if obj.is_class and "dataclass" in obj.labels:
                _fields_table(obj)
                _inherit_attributes(obj)

    # -- 2. Sphinx roles ------------------------------------------------------------------------

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        self._rewrite(obj)

    def on_module(self, *, mod: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        self._rewrite(mod)

    def _rewrite(self, obj: griffe.Object) -> None:
        docstring = obj.docstring
        if docstring is None or ":`" not in docstring.value:
            return
        docstring.value = _ROLE.sub(lambda m: self._autoref(obj, m["target"]), docstring.value)

    def _autoref(self, obj: griffe.Object, target: str) -> str:
        short = target.startswith("~")
        target = target.lstrip("~.")
        identifier = _resolve(obj, target)
        title = identifier.rsplit(".", 1)[-1] if short else target
        return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'


def _resolve(obj: griffe.Object, target: str) -> str:
    """The full path of ``target`` as written in ``obj``'s docstring: absolute if it starts with
    the package name, else looked up in ``obj``, its class and its module (then taken as is)."""
    if target.startswith("swarmzoo."):
        return target
    first, _, rest = target.partition(".")
    scope: griffe.Object | None = obj if obj.is_class or obj.is_module else obj.parent
    while scope is not None:
        member = scope.all_members.get(first) if hasattr(scope, "all_members") else None
        if member is not None:
            path = member.target_path if member.is_alias else member.path
            return f"{path}.{rest}" if rest else path
        scope = scope.parent
    return target


def _walk(obj: griffe.Object):
    """``obj`` and every object defined under it (aliases skipped)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)


def _attributes_section(docstring: griffe.Docstring | None, cached: bool) -> Any:
    if docstring is None:
        return None
    sections = docstring.parsed if cached else docstring.parse()
    return next((s for s in sections if s.kind is griffe.DocstringSectionKind.attributes), None)


def _fields_table(cls: griffe.Class) -> None:
    """Give a dataclass documented only through field docstrings an Attributes section."""
    if cls.docstring is None or _attributes_section(cls.docstring, cached=True) is not None:
        return
    fields = [
        m
        for m in cls.members.values()
        if not m.is_alias and m.is_attribute and "instance-attribute" in m.labels
    ]
    if not any(f.docstring for f in fields):
        return
    items = [
        griffe.DocstringAttribute(
            name=f.name, annotation=f.annotation, description=f.docstring.value if f.docstring else ""
        )
        for f in fields
    ]
    cls.docstring.parsed.append(griffe.DocstringSectionAttributes(items))


def _inherit_attributes(cls: griffe.Class) -> None:
    """Append the documented fields of ``cls``'s dataclass bases to its Attributes section."""
    own = _attributes_section(cls.docstring, cached=True)
    if own is None:
        return
    listed = {name.strip() for item in own.value for name in item.name.split(",")}
    try:
        bases = cls.mro()
    except (ValueError, griffe.AliasResolutionError):  # a base outside the loaded packages
        return
    for base in bases:
        inherited = _attributes_section(base.docstring, cached=False)
        for item in inherited.value if inherited is not None else ():
            names = {name.strip() for name in item.name.split(",")}
            if not names & listed:
                own.value.append(item)
                listed |= names
