# The two set-up commands of the README, and CI's steps. Each target installs what it needs.
PYTHON ?= python
PIP = $(PYTHON) -m pip
export SDL_VIDEODRIVER ?= dummy
# mkdocs-material prints an end-of-life banner about MkDocs 2 at every build; it is not a warning.
export NO_MKDOCS_2_WARNING ?= 1

.PHONY: install install-dev install-integrations demo test test-slow test-integrations docs bench bench-swarm bench-coverage lint

# CPU torch first (a bare torch requirement could pull a multi-GB CUDA build).
install:
	$(PIP) install torch==2.13.0 -e .

# mpe2 (the parity/speed peer) needs pygame-ce, which clashes with pygame: install it without deps.
install-dev:
	$(PIP) install torch==2.13.0 -e ".[dev]"
	$(PIP) install --no-deps "mpe2>=1.1"

# RLlib (Ray), TorchRL and BenchMARL. BenchMARL hard-requires torchvision, which would replace the
# CPU torch with a multi-GB CUDA build and is only used for its video logging: install it without
# deps (its other requirements, torchrl, hydra-core and tqdm, come with the [torchrl] extra).
install-integrations: install-dev
	$(PIP) install torch==2.13.0 -e ".[dev,rllib,torchrl]"
	$(PIP) install --no-deps "benchmarl==1.5.2"

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

bench: install-dev
	$(PYTHON) benchmarks/env_speed.py

bench-swarm: install-dev
	$(PYTHON) benchmarks/swarm_scaling.py

bench-coverage: install-dev
	$(PYTHON) benchmarks/coverage_speed.py

lint:
	ruff check . && ruff format --check .
