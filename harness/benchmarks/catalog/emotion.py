"""Emotion recognition in conversation: EmoryNLP and MELD (utterances from the TV show Friends).

The model reads the utterance, with the preceding turns where the record has
them, and names one emotion from the benchmark's label set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import Sample

from harness.benchmarks.catalog._generation import generation_task
from harness.benchmarks.spec import BenchmarkSpec, HubSource, Record, RecordSchema, SchemaField
from harness.scorers.emotion import (
    EMORYNLP_ALIASES,
    EMORYNLP_LABELS,
    MELD_ALIASES,
    MELD_LABELS,
    emotion_label_scorer,
)

# One label word, with room for a short preamble.
EMOTION_MAX_TOKENS = 16
# Earlier turns shown before the utterance at most.
MAX_CONTEXT_TURNS = 8


def _schema(labels: Sequence[str]) -> RecordSchema:
    return RecordSchema(
        (
            SchemaField("id", (str, int), "identifier, unique within the benchmark"),
            SchemaField("utterance", (str,), "utterance to classify"),
            SchemaField("emotion", (str,), f"gold label, one of {', '.join(labels)}"),
            SchemaField("speaker", (str,), "speaker of the utterance", required=False),
            SchemaField("context", (list,), 'earlier turns of the dialogue, each "Speaker: text"', required=False),
        )
    )


def _emotion_sample(record: Record, benchmark: str, labels: Sequence[str], aliases: Mapping[str, str]) -> Sample:
    by_word = {label.lower(): label for label in labels} | {alias: label for alias, label in aliases.items()}
    gold = by_word.get(str(record["emotion"]).strip().lower())
    if gold is None:
        raise ValueError(f"emotion {record['emotion']!r} is not one of {', '.join(labels)}")
    turns = [str(turn) for turn in (record.get("context") or [])][-MAX_CONTEXT_TURNS:]
    speaker = record.get("speaker")
    utterance = f"{speaker}: {record['utterance']}" if speaker else str(record["utterance"])
    context = "Dialogue so far:\n" + "\n".join(turns) + "\n\n" if turns else ""
    prompt = (
        f"{context}Utterance: {utterance}\n\n"
        f"Which emotion does the speaker express in this utterance? Choose one of: {', '.join(labels)}.\n"
        "Reply with the label only.\n\nEmotion:"
    )
    return Sample(id=str(record["id"]), input=prompt, target=gold, metadata={"benchmark": benchmark})


def emorynlp_sample(record: Record, benchmark: str) -> Sample:
    """Build an EmoryNLP Sample (labels Joyful, Mad, Neutral, Peaceful, Powerful, Sad, Scared)."""
    return _emotion_sample(record, benchmark, EMORYNLP_LABELS, EMORYNLP_ALIASES)


def meld_sample(record: Record, benchmark: str) -> Sample:
    """Build a MELD Sample (labels neutral, joy, surprise, anger, sadness, disgust, fear)."""
    return _emotion_sample(record, benchmark, MELD_LABELS, MELD_ALIASES)


# Label order of the ClassLabel feature in zrr1999/MELD_Text.
_MELD_TEXT_LABELS = ("neutral", "joy", "sadness", "anger", "fear", "disgust", "surprise")


def meld_rows(_config: str | None, rows: list[dict[str, Any]]) -> Iterator[Record]:
    """Convert ``zrr1999/MELD_Text`` test rows (text, emotion class index); ids are ``test/<row>``."""
    for index, row in enumerate(rows):
        emotion = row["emotion"]
        label = _MELD_TEXT_LABELS[emotion] if isinstance(emotion, int) else str(emotion)
        yield {"id": f"test/{index}", "utterance": row["text"], "emotion": label}


def emorynlp_task(spec: BenchmarkSpec, samples: list[Sample]) -> Task:
    """Build the EmoryNLP Task."""
    return generation_task(spec, samples, emotion_label_scorer(EMORYNLP_LABELS, EMORYNLP_ALIASES), EMOTION_MAX_TOKENS)


def meld_task(spec: BenchmarkSpec, samples: list[Sample]) -> Task:
    """Build the MELD Task."""
    return generation_task(spec, samples, emotion_label_scorer(MELD_LABELS, MELD_ALIASES), EMOTION_MAX_TOKENS)


BENCHMARKS = [
    BenchmarkSpec(
        name="emorynlp",
        group="emotion",
        description="EmoryNLP: emotion of Friends utterances, 7 Feeling Wheel labels",
        split="test",
        expected_count=1328,
        license="not verified (emorynlp/emotion-detection on GitHub)",
        schema=_schema(EMORYNLP_LABELS),
        to_sample=emorynlp_sample,
        build_task=emorynlp_task,
        notes=(
            "NOTE: no Hugging Face repository of EmoryNLP was verified, so it loads only from "
            "<data-dir>/emorynlp.jsonl. The data is the JSON release of emorynlp/emotion-detection 1.0; "
            "write one record per utterance with the earlier turns of its scene as context.",
            "NOTE: the expected count 1,328 test utterances is the size reported in emotion recognition "
            "papers and was not counted here.",
        ),
    ),
    BenchmarkSpec(
        name="meld",
        group="emotion",
        description="MELD: emotion of Friends utterances, 7 labels (text only)",
        split="test",
        expected_count=2610,
        license="not verified (declare-lab/MELD on GitHub)",
        schema=_schema(MELD_LABELS),
        to_sample=meld_sample,
        build_task=meld_task,
        hub=HubSource(
            "zrr1999/MELD_Text", "442fba93972d9cc642b9bbdafd123740e02d3250", ("MELD_Text",), "test", meld_rows
        ),
        notes=(
            "NOTE: zrr1999/MELD_Text builds its splits with a loading script, which current `datasets` "
            "releases do not run, and its rows carry no dialogue context. A local file built from MELD's "
            "test_sent_emo.csv (Dialogue_ID, Utterance_ID, Speaker, Utterance, Emotion) can add the context.",
        ),
    ),
]
