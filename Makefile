# The two set-up commands of the README, and CI's steps. Each target installs what it needs.
PYTHON ?= python
PIP = $(PYTHON) -m pip
export SDL_VIDEODRIVER ?= dummy
# mkdocs-material prints an end-of-life banner about MkDocs 2 at every build; it is not a warning.
export NO_MKDOCS_2_WARNING ?= 1

.PHONY: install install-dev install-integrations demo test test-slow test-integrations test-torchrl-latest docs bench bench-swarm bench-coverage lint

# CPU torch first (a bare torch requirement could pull a multi-GB CUDA build).
install:
	$(PIP) install torch==2.13.0 -e .

# mpe2 (the parity/speed peer) needs pygame-ce, which clashes with pygame: install it without deps.
# MOMAland (its API tests check the multi-objective envs) hard-requires wandb, PyOpenGL and
# PettingZoo's butterfly/sisl games, none of which its tests use: without deps too (what they
# import, requests, comes with [dev]).
install-dev:
	$(PIP) install torch==2.13.0 -e ".[dev]"
	$(PIP) install --no-deps "mpe2>=1.1" "momaland==0.2.0" "pyrvo==0.4.3"

# RLlib (Ray), TorchRL and BenchMARL. BenchMARL hard-requires torchvision, which would replace the
# CPU torch with a multi-GB CUDA build and is only used for its video logging: install it without
# deps (its other requirements, torchrl, hydra-core and tqdm, come with the [torchrl] extra).
# The [torchrl] extra allows torchrl 0.11 to 0.14; BenchMARL 1.5.2 (its newest) needs < 0.12, so
# the integration env takes the low end, and test-torchrl-latest runs the TorchRL tests again on
# the newest release, overlaid without deps (torch stays the CPU build).
install-integrations: install-dev
	$(PIP) install torch==2.13.0 -e ".[dev,rllib,torchrl]" "torchrl<0.12"
	$(PIP) install --no-deps "benchmarl==1.5.2"
# AgileRL, skrl and Tianshou ([clients]). AgileRL 2.58.0 pins pettingzoo < 1.27 and tensordict 0.13
# (breaking swarmzoo's pettingzoo and TorchRL 0.11) and pulls jax, minari, pygame-ce (which clashes
# with pygame) and cloud clients it does not import here; Tianshou 2.0.1 would downgrade pandas to
# 2.x for one pd.isnull. Both without deps: [clients] lists what they import.
	$(PIP) install torch==2.13.0 -e ".[clients]"
	$(PIP) install --no-deps "agilerl==2.58.0" "tianshou==2.0.1"

TORCHRL_LATEST := "torchrl==0.14.1" "tensordict==0.14.3" "hoptorch==0.1.4" "pyvers>=0.2.3,<0.3"

test-torchrl-latest: install-integrations
	rm -rf .torchrl-latest
	$(PIP) install --no-deps --target .torchrl-latest $(TORCHRL_LATEST)
	PYTHONPATH=.torchrl-latest $(PYTHON) -c "import torchrl; assert torchrl.__version__.startswith('0.14'), torchrl.__version__"
	PYTHONPATH=.torchrl-latest $(PYTHON) -m pytest -m integration tests/integrations/test_torchrl.py

demo: install
	swarmzoo render navigation-v0 --policy heuristic --out navigation.gif --env-kwargs n_agents=8 n_obstacles=3
	swarmzoo evaluate --env navigation-v0 --policy heuristic --episodes 20
	swarmzoo evaluate --env navigation-v0 --policy random --episodes 20
	swarmzoo render flocking-v0 --policy heuristic --out flocking.gif --env-kwargs n_agents=300

test: install-dev
	$(PYTHON) -m pytest

test-slow: install-dev
	$(PYTHON) -m pytest -m slow

test-integrations: install-integrations
	$(PYTHON) -m pytest -m integration

# The docs site (mkdocs-material) from the env/algorithm docstrings and docs/*.md; warnings are errors.
docs:
	$(PIP) install torch==2.13.0 -e ".[docs]"
	$(PYTHON) -m mkdocs build --strict

# JaxMARL (the jitted-MPE peer) only for this benchmark: jax and flax are large.
bench: install-dev
	$(PIP) install "jaxmarl==0.2.0" "jax[cpu]"
	$(PYTHON) benchmarks/env_speed.py

bench-swarm: install-dev
	$(PYTHON) benchmarks/swarm_scaling.py

bench-coverage: install-dev
	$(PYTHON) benchmarks/coverage_speed.py

lint:
	ruff check . && ruff format --check .
