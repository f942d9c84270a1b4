"""The judge verifier switched on from config, against a small OpenAI-compatible HTTP server on
127.0.0.1 (a mocked remote judge model)."""

import pytest
from helpers import local_openai_server

from videostar.config import GenerateConfig, load_config
from videostar.data.labels import parse_label
from videostar.verify.verifier import Verifier, VerifierConfig, VerifyItem, judge_reply_says_yes


def _judge(prompt: str, frames) -> str:
    answer = prompt.split("\nAnswer: ")[1]
    return "Yes, it matches." if "pool" in answer else "Maybe." if "unsure" in answer else "No."


@pytest.fixture
def judge_server():
    """Replies 'Yes, ...' when the answer mentions 'pool', 'Maybe.' for 'unsure', else 'No.'; yields
    {"url", "bodies": every request received}."""
    with local_openai_server(_judge) as (url, bodies):
        yield {"url": url, "bodies": bodies}


def _prompts(server) -> list[tuple]:
    return [(b["messages"][0]["content"], b["temperature"], b["max_tokens"]) for b in server["bodies"]]


def test_judge_from_a_run_config_with_local_http_server(tmp_path, judge_server, embedder):
    config_file = tmp_path / "run.yaml"
    config_file.write_text(
        "model: {path: unused}\nmanifest: m.jsonl\nrun_dir: run\n"
        "verifier:\n  judge_types: [text]\n"
        f"  judge: {{path: judge-model, backend: openai, base_url: '{judge_server['url']}'}}\n")
    settings = load_config(GenerateConfig, config_file)
    verifier = Verifier(settings.verifier, embedder=embedder)
    text = parse_label({"type": "text", "value": "A man jumps into a swimming pool."})
    cls = parse_label({"type": "class", "value": "diving"})
    results = verifier.verify_many([
        VerifyItem([text, cls], "He is diving into the pool."),
        VerifyItem([text], "A cat sleeps."),
        VerifyItem([text], "unsure"),
    ])
    assert [r.passed for r in results] == [True, False, False]
    judged = results[0].labels[0]
    assert judged.metric == "judge" and judged.parsed == "Yes, it matches." and judged.score == 1.0
    assert results[0].labels[1].metric == "fuzzy_ratio"  # class is not a judge type: its rule decides
    assert results[1].labels[0].reason == "judge said 'No.'" and results[1].labels[0].parsed == "No."
    assert "not yes/no" in results[2].labels[0].reason
    # one request per judged label (3), none for the class label; greedy and short
    prompts = _prompts(judge_server)
    assert len(prompts) == 3 and all(t == 0.0 and m == 16 for _, t, m in prompts)
    assert any("Label (text): A man jumps into a swimming pool." in p for p, _, _ in prompts)


def test_judge_types_per_task_with_local_http_server(judge_server, embedder):
    config = VerifierConfig(per_task={"captions": {"judge_types": ["text"]}},
                            judge={"path": "j", "backend": "openai", "base_url": judge_server["url"]})
    verifier = Verifier(config, embedder=embedder)
    label = [parse_label({"type": "text", "value": "A man jumps into a swimming pool."})]
    assert verifier.verify(label, "pool", task="captions").labels[0].metric == "judge"
    assert verifier.verify(label, "pool", task="other").labels[0].metric == "cosine"
    assert len(judge_server["bodies"]) == 1


def test_judge_settings_are_checked():
    with pytest.raises(ValueError, match="no judge model"):
        Verifier(VerifierConfig(judge_types=["text"]))
    with pytest.raises(ValueError, match="no judge model"):
        Verifier(VerifierConfig(per_task={"t": {"judge_types": ["class"]}}))
    with pytest.raises(ValueError, match="judge_types"):
        VerifierConfig(judge_types=["caption"])


@pytest.mark.parametrize("reply, says", [
    ("Yes.", True), ("**No**", False), ("yes, the answer says so", True), ("The answer is yes.", True),
    ("I would say no.", False), ("Maybe", None), ("yes and no", None), ("", None),
])
def test_judge_reply_parsing(reply, says):
    assert judge_reply_says_yes(reply) is says
