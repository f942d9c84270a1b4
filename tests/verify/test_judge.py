"""The judge verifier switched on from config, against a small OpenAI-compatible HTTP server on
127.0.0.1 (a mocked remote judge model)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from videostar.config import GenerateConfig, load_config
from videostar.data.labels import parse_label
from videostar.verify.verifier import Verifier, VerifierConfig, VerifyItem, judge_reply_says_yes


@pytest.fixture
def judge_server():
    """Replies 'Yes, ...' when the answer mentions 'pool', 'Maybe.' for 'unsure', else 'No.'."""
    state = {"prompts": [], "lock": threading.Lock()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = body["messages"][0]["content"]
            with state["lock"]:
                state["prompts"].append((prompt, body["temperature"], body["max_tokens"]))
            answer = prompt.split("\nAnswer: ")[1]
            text = "Yes, it matches." if "pool" in answer else "Maybe." if "unsure" in answer else "No."
            data = json.dumps({"choices": [{"message": {"content": text}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield state
    httpd.shutdown()


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
    prompts = judge_server["prompts"]
    assert len(prompts) == 3 and all(t == 0.0 and m == 16 for _, t, m in prompts)
    assert any("Label (text): A man jumps into a swimming pool." in p for p, _, _ in prompts)


def test_judge_types_per_task_with_local_http_server(judge_server, embedder):
    config = VerifierConfig(per_task={"captions": {"judge_types": ["text"]}},
                            judge={"path": "j", "backend": "openai", "base_url": judge_server["url"]})
    verifier = Verifier(config, embedder=embedder)
    label = [parse_label({"type": "text", "value": "A man jumps into a swimming pool."})]
    assert verifier.verify(label, "pool", task="captions").labels[0].metric == "judge"
    assert verifier.verify(label, "pool", task="other").labels[0].metric == "cosine"
    assert len(judge_server["prompts"]) == 1


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
