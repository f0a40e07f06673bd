import io
import json

from shared.pii.cli import redact_stream


def run(stdin_text, json_lines):
    stdin, stdout, stderr = io.StringIO(stdin_text), io.StringIO(), io.StringIO()
    status = redact_stream(stdin, stdout, json_lines=json_lines, stderr=stderr)
    return status, stdout.getvalue(), stderr.getvalue()


def test_plain_text_is_redacted_line_by_line():
    status, out, err = run("mail jane@example.com\nno pii here\ncall +44 20 7946 0958", json_lines=False)
    assert status == 0
    assert out == "mail <EMAIL>\nno pii here\ncall <PHONE>"
    assert err == ""


def test_json_lines_offsets_index_the_input():
    text = "Zoë écrit à zoë@example.fr, tél. 06 12 34 56 78"
    status, out, _ = run(json.dumps({"text": text}, ensure_ascii=False) + "\n", json_lines=True)
    assert status == 0
    result = json.loads(out)
    assert set(result) == {"text", "entities"}
    assert result["text"] == "Zoë écrit à <EMAIL>, tél. <PHONE>"
    spans = [(e["type"], text[e["start"] : e["end"]]) for e in result["entities"]]
    assert spans == [("EMAIL", "zoë@example.fr"), ("PHONE", "06 12 34 56 78")]
    assert all(set(e) == {"type", "start", "end"} for e in result["entities"])


def test_json_ascii_escapes_in_input_give_the_same_offsets():
    text = "Zoë zoë@example.fr"
    _, out, _ = run(json.dumps({"text": text}) + "\n", json_lines=True)
    entity = json.loads(out)["entities"][0]
    assert text[entity["start"] : entity["end"]] == "zoë@example.fr"


def test_bad_json_lines_are_reported_and_skipped():
    lines = [
        json.dumps({"text": "a@example.com"}),
        "{not json jane@example.com",
        json.dumps({"txt": "x"}),
        "",
        json.dumps(["text"]),
        json.dumps({"text": "b@example.com"}),
    ]
    status, out, err = run("\n".join(lines) + "\n", json_lines=True)
    assert status == 1
    assert [json.loads(line)["text"] for line in out.splitlines()] == ["<EMAIL>", "<EMAIL>"]
    errors = err.splitlines()
    assert len(errors) == 3
    assert "line 2" in errors[0]
    assert "line 3" in errors[1]
    assert "line 5" in errors[2]
    assert "jane" not in err  # never echo the content


def test_no_entities():
    status, out, _ = run('{"text": "hello"}\n', json_lines=True)
    assert status == 0
    assert json.loads(out) == {"text": "hello", "entities": []}


def test_erasure_redact_masks_phone_shaped_numbers_and_keeps_the_json_contract():
    # Issue 20: through the real command, JSON lines in and out; the entity keys do not change.
    from typer.testing import CliRunner

    from services.cli import app

    lines = [
        {"text": "call me on (111) 555-0199 about order 1115550199"},
        {"text": "mon numéro: zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"},
    ]
    stdin = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    result = CliRunner().invoke(app, ["redact", "--json"], input=stdin)
    assert result.exit_code == 0
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["text"] == "call me on <PHONE> about order 1115550199"
    assert first["entities"] == [{"type": "PHONE", "start": 11, "end": 25}]
    assert second["text"] == "mon numéro: <PHONE>"
