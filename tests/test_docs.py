"""The docs site's code works: the custom-env guide's example env, and every Python block of
``docs/**/*.md`` marked ``<!-- runnable -->`` (the line before its fence).

Blocks of one page run in order in one namespace (like a notebook), in a temporary directory,
with ``docs/examples`` importable. The site itself is built by ``make docs``
(``mkdocs build --strict``); the last tests check what that build relies on without running it.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import swarmzoo
from swarmzoo.envs import registry

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
RUNNABLE = re.compile(r"^<!-- runnable -->\n```python[^\n]*\n(.*?)^```", flags=re.M | re.S)
PAGES = sorted(p for p in DOCS.rglob("*.md") if RUNNABLE.search(p.read_text(encoding="utf-8")))


@pytest.fixture
def docs_env(monkeypatch, tmp_path):
    """``docs/examples`` on ``sys.path``, the cwd a temporary directory; envs that the docs
    register (``rendezvous-v0``) are unregistered again afterwards, from swarmzoo's registry and
    PettingZoo's, so they do not leak into other tests."""
    from pettingzoo.env_registry import registration

    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    before = set(registry._REGISTRY)
    modules = set(sys.modules)
    yield
    for env_id in set(registry._REGISTRY) - before:
        del registry._REGISTRY[env_id]
        for kind in ("parallel", "aec"):
            registration._get_registry(kind).pop(registry.NAMESPACE + env_id, None)
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None)
        if file and EXAMPLES in Path(file).parents:
            del sys.modules[name]


@pytest.fixture
def rendezvous(docs_env):
    """``docs/examples/rendezvous.py``, imported (which registers ``rendezvous-v0``)."""
    return importlib.import_module("rendezvous")


@pytest.mark.parametrize("continuous", [False, True])
def test_example_env_passes_parallel_api_test(rendezvous, continuous) -> None:
    env = swarmzoo.make("rendezvous-v0", n_agents=5, continuous_actions=continuous)
    parallel_api_test(env, num_cycles=60)
    env.close()


def test_example_env_vector_face_matches_pettingzoo_face(rendezvous) -> None:
    E, N = 3, 4
    venv = swarmzoo.make_vec("rendezvous-v0", num_envs=E, n_agents=N)
    envs = [swarmzoo.make("rendezvous-v0", n_agents=N) for _ in range(E)]
    vobs, _ = venv.reset(seed=7)
    for i, env in enumerate(envs):
        obs, _ = env.reset(seed=7 + i)
        np.testing.assert_array_equal(vobs[i], np.stack([obs[a] for a in env.possible_agents]))
    rng = np.random.default_rng(0)
    for _ in range(5):
        actions = rng.integers(0, 5, size=(E, N))
        vobs, vrew, vterm, vtrunc, _ = venv.step(actions)
        for i, env in enumerate(envs):
            obs, rew, term, trunc, _ = env.step(dict(zip(env.possible_agents, actions[i])))
            np.testing.assert_array_equal(vobs[i], np.stack([obs[a] for a in env.possible_agents]))
            np.testing.assert_array_equal(vrew[i], [rew[a] for a in env.possible_agents])


def test_example_env_steps_and_its_heuristic_gathers_the_swarm(rendezvous) -> None:
    venv = swarmzoo.make_vec("rendezvous-v0", num_envs=8, n_agents=6, max_cycles=1000)
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (8, 6, 4 + 3 * 3) and obs.dtype == np.float32
    policy = rendezvous.TowardsNeighbours()
    start = rendezvous.distance_to_centroid(venv.task.pos).mean()
    for _ in range(40):
        obs, rewards, term, trunc, infos = venv.step(policy.act(obs, venv.task))
        assert rewards.shape == term.shape == trunc.shape == (8, 6)
        assert infos["spread"].shape == (8,)
    assert rendezvous.distance_to_centroid(venv.task.pos).mean() < start
    frame = swarmzoo.make("rendezvous-v0", render_mode="rgb_array")
    frame.reset(seed=0)
    assert frame.render().shape[2] == 3
    frame.close()


def test_example_env_refuses_bad_arguments(rendezvous) -> None:
    with pytest.raises(ValueError, match="meet_radius"):
        swarmzoo.make("rendezvous-v0", meet_radius=0.0)
    with pytest.raises(ValueError, match="n_agents"):
        swarmzoo.make("rendezvous-v0", n_agnets=3)


def test_quickstart_blocks_are_marked_runnable() -> None:
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    assert len(RUNNABLE.findall(text)) >= 5
    assert text.count("```python") == len(RUNNABLE.findall(text)), "every quickstart Python block runs"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_runnable_blocks_run(page, docs_env) -> None:
    namespace: dict = {"__name__": "__docs__"}
    for k, block in enumerate(RUNNABLE.findall(page.read_text(encoding="utf-8"))):
        exec(compile(block, f"{page.relative_to(ROOT)}[block {k}]", "exec"), namespace)


def test_every_env_has_a_page_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for env_id in swarmzoo.list_envs():
        module = registry.spec(env_id).module
        name = module.rsplit(".", 1)[1]
        page = DOCS / "envs" / f"{name}.md"
        assert page.is_file(), f"{env_id} has no page {page.relative_to(ROOT)}"
        assert f"::: {module}" in page.read_text(encoding="utf-8")
        assert f"envs/{name}.md" in nav, f"{page.relative_to(ROOT)} is not in mkdocs.yml's nav"
        assert f"]({name}.md)" in (DOCS / "envs" / "index.md").read_text(encoding="utf-8")


def test_docs_package_dir_matches_pyproject() -> None:
    """mkdocs.yml maps the package-dir sub-packages for griffe exactly as pyproject.toml does."""
    tomllib = pytest.importorskip("tomllib")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    expected = {k: v for k, v in pyproject["tool"]["setuptools"]["package-dir"].items() if k != "swarmzoo"}
    block = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("package_dir:", 1)[1]
    found = dict(re.findall(r"^\s+(swarmzoo\.[\w.]+): (\S+)$", block, flags=re.M))
    assert found == expected


def test_griffe_sees_the_envs_under_their_import_names() -> None:
    """What the site renders: env module docstrings under ``swarmzoo.envs...``, a Config table
    with every argument (inherited ones too), Sphinx roles turned into links."""
    import griffe  # griffelib: in the dev extra (and the docs extra), so this runs in `make test`

    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from griffe_swarmzoo import SwarmzooDocs
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    package_dir = {"swarmzoo.envs": "envs", "swarmzoo.agents": "agents", "swarmzoo.algorithms": "algorithms"}
    loader = griffe.GriffeLoader(
        extensions=griffe.load_extensions(SwarmzooDocs(package_dir=package_dir)),
        search_paths=[str(ROOT)],
        docstring_parser="google",
    )
    package = loader.load("swarmzoo")
    for env_id in swarmzoo.list_envs():
        spec = registry.spec(env_id)
        module = package[spec.module.removeprefix("swarmzoo.")]
        assert module.docstring.value.startswith("# ") and f"``{env_id}``" in module.docstring.value
        # The env page's argument table: every Config field, documented (own or inherited).
        (attributes,) = [
            s for s in module["Config"].docstring.parsed if s.kind is griffe.DocstringSectionKind.attributes
        ]
        documented = [item.name for item in attributes.value]
        fields = {f.name for f in dataclasses.fields(spec.load().Config)}
        assert len(documented) == len(set(documented))
        assert set(documented) == fields, f"{env_id}: Config fields without a docstring entry"
        assert ":class:`" not in module["Config"].docstring.parsed[0].value  # roles became links
    assert '<autoref identifier="swarmzoo.envs.navigation.Config" optional>' in (
        package["envs.navigation"].docstring.value
    )
