"""cluster-router-harness: does routing each query to the right model beat the best single model?"""

import os

# litellm downloads a model price list when it is imported unless this is set
# first. Every harness module imports this package before litellm, so no code
# path reaches the network for it.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# sentence-transformers and transformers try the Hugging Face hub for model
# metadata; the default embedder ships inside a package, so stay offline
# unless the user opts in by setting these variables themselves.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
