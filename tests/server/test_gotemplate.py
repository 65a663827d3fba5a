"""The Go text/template subset: each construct, Go's value semantics, errors, and all 37 bundled templates.

The golden cases compare our rendering with the bodies Coder's own golden files hold (the `markdown`
field of plaintext-vectors.json), for the labels and data Coder's notifications_test.go uses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from server.notify.catalogue import load_bundled_templates
from server.notify.gotemplate import (
    GoTemplate,
    TemplateRenderError,
    TemplateSyntaxError,
    render,
    render_actions,
)
from server.records import NotificationTemplate

REPO = Path(__file__).parents[2]
VECTORS: list[dict[str, Any]] = json.loads(
    (REPO / "tests" / "data" / "plaintext-vectors.json").read_text(encoding="utf-8")
)
BASE = "http://test.com"
TEMPLATES: dict[str, NotificationTemplate] = {t.name: t for t in load_bundled_templates()}


def payload(labels: dict[str, str] | None = None, data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A payload shaped like Coder's types.MessagePayload, for user bob."""
    out: dict[str, Any] = {
        "Version": "1.2",
        "NotificationName": "",
        "NotificationTemplateID": "",
        "UserID": "6f1c3e0a-5d8a-4a4e-9a59-0b8b7c7f3f10",
        "UserEmail": "bob@coder.com",
        "UserName": "Bobby",
        "UserUsername": "bob",
        "Labels": labels or {},
        "Data": data,
    }
    out.update(extra)
    return out


def r(source: str, labels: dict[str, str] | None = None, data: dict[str, Any] | None = None, **extra: Any) -> str:
    return render(source, payload(labels, data, **extra), base_url=BASE, current_year=2024)


# --------------------------------------------------------------------------------------------------
# Constructs


def test_text_and_fields() -> None:
    assert r("plain text, no actions") == "plain text, no actions"
    assert r("{{.Labels.name}} / {{.Data.n}}", {"name": "ws"}, {"n": "x"}) == "ws / x"
    assert r("{{.UserName}} {{.UserUsername}} {{.UserEmail}}") == "Bobby bob bob@coder.com"
    assert r("{{.UserID}}") == "6f1c3e0a-5d8a-4a4e-9a59-0b8b7c7f3f10"
    assert r("{{ $.Labels.a }}{{ $ }}", {"a": "A"}).startswith("A{")


def test_nested_map_fields_and_chains() -> None:
    data = {"chat": {"owner": {"name": "alice"}}, "items": [{"title": "T1"}]}
    assert r("{{.Data.chat.owner.name}}", data=data) == "alice"
    assert r("{{(index .Data.items 0).title}}", data=data) == "T1"
    assert r("{{with .Data.chat}}{{.owner.name}}{{end}}", data=data) == "alice"


def test_missing_keys_print_no_value() -> None:
    assert r("[{{.Labels.nope}}]") == "[<no value>]"
    assert r("[{{.Data.nope}}]", data={}) == "[<no value>]"
    assert r("[{{.Data.nope}}]") == "[<no value>]"  # Data omitted entirely is a nil map
    assert r("[{{.Data.a.b.c}}]", data={}) == "[<no value>]"  # fields of an invalid value stay invalid
    assert r("[{{.Data.n}}]", data={"n": None}) == "[<no value>]"  # JSON null is a nil interface
    assert r("{{if .Labels.nope}}yes{{else}}no{{end}}") == "no"
    assert r('{{if eq .Labels.nope "x"}}yes{{else}}no{{end}}') == "no"


def test_trim_markers() -> None:
    assert r("a  \n {{- .Labels.x -}} \n\t b", {"x": "X"}) == "aXb"
    assert r("a {{- .Labels.x}} b", {"x": "X"}) == "aX b"
    assert r("a {{.Labels.x -}} b", {"x": "X"}) == "a Xb"
    # "-" without a space next to it is a number, not a trim marker.
    assert r("a {{-3}} b") == "a -3 b"
    body = TEMPLATES["Workspace Marked as Dormant"].body_template
    tail = "\n\nActivate your workspace using the link below to resume working in it."
    assert render(body, payload({"name": "w"}), base_url=BASE).endswith("dormancy threshold." + tail)


def test_comments() -> None:
    assert r("a{{/* a comment */}}b") == "ab"
    assert r("a {{- /* trimmed */ -}} b") == "ab"
    assert r("a{{/* multi\nline */}}b") == "ab"


def test_if_else_if_else() -> None:
    src = '{{if eq .Labels.t "a"}}A{{else if eq .Labels.t "b"}}B{{else if .Labels.t}}other{{else}}none{{end}}'
    assert r(src, {"t": "a"}) == "A"
    assert r(src, {"t": "b"}) == "B"
    assert r(src, {"t": "c"}) == "other"
    assert r(src, {"t": ""}) == "none"
    assert r(src) == "none"


def test_with_and_else_with() -> None:
    src = "{{with .Data.a}}a={{.}}{{else with .Data.b}}b={{.}}{{else}}neither{{end}}"
    assert r(src, data={"a": "x"}) == "a=x"
    assert r(src, data={"b": 2}) == "b=2"
    assert r(src, data={"a": 0, "b": ""}) == "neither"


def test_range_lists_maps_and_else() -> None:
    data = {"l": ["x", "y"], "m": {"b": "2", "a": "1"}, "empty": [], "nested": [{"t": 1}, {"t": 2}]}
    assert r("{{range .Data.l}}[{{.}}]{{end}}", data=data) == "[x][y]"
    assert r("{{range $i, $v := .Data.l}}{{$i}}={{$v}};{{end}}", data=data) == "0=x;1=y;"
    assert r("{{range $v := .Data.l}}{{$v}}{{end}}", data=data) == "xy"
    # Maps range in key order, as Go's fmtsort does.
    assert r("{{range $k, $v := .Data.m}}{{$k}}:{{$v}} {{end}}", data=data) == "a:1 b:2 "
    assert r("{{range .Data.empty}}x{{else}}none{{end}}", data=data) == "none"
    assert r("{{range .Data.missing}}x{{else}}none{{end}}", data=data) == "none"
    assert r("{{range .Data.nested}}{{.t}},{{end}}", data=data) == "1,2,"
    assert r("{{range $i := 3}}{{$i}}{{end}}") == "012"


def test_range_break_continue() -> None:
    src = "{{range .Data.l}}{{if eq . 2.0}}{{continue}}{{end}}{{if eq . 4.0}}{{break}}{{end}}{{.}}{{end}}"
    assert r(src, data={"l": [1, 2, 3, 4, 5]}) == "13"


def test_variables_declare_assign_and_scope() -> None:
    assert r('{{$x := "a"}}{{$x}}{{$x = "b"}}{{$x}}') == "ab"
    # Assignment inside a block changes the outer variable (the Report template's $first relies on it).
    assert (
        r(
            "{{$f := true}}{{range .Data.l}}{{if not $f}}+{{else}}{{$f = false}}{{end}}{{.}}{{end}}",
            data={"l": ["a", "b", "c"]},
        )
        == "a+b+c"
    )
    # A variable declared inside a block is gone after {{end}}.
    with pytest.raises(TemplateSyntaxError, match='undefined variable "\\$y"'):
        GoTemplate("{{if true}}{{$y := 1}}{{end}}{{$y}}")
    # $ is the root whatever dot is.
    assert r("{{range .Data.l}}{{$.Labels.p}}{{.}}{{end}}", {"p": "-"}, {"l": ["a", "b"]}) == "-a-b"


def test_pipelines_and_parentheses() -> None:
    assert r("{{.UserEmail | urlquery}}", UserEmail="a+b c@x.com") == "a%2Bb+c%40x.com"
    assert r('{{"x" | printf "%s-%s" "y"}}') == "y-x"
    assert r("{{if eq (len .Data.l) 2}}two{{end}}", data={"l": [1, 2]}) == "two"
    assert r('{{if and (eq .Labels.a "1") (ne .Labels.b "1")}}ok{{end}}', {"a": "1", "b": "2"}) == "ok"


def test_literals() -> None:
    assert r("{{\"a\\tb\"}}|{{`raw\\n`}}|{{true}}|{{false}}|{{42}}|{{-7}}|{{1.5}}|{{0x1F}}|{{'a'}}") == (
        "a\tb|raw\\n|true|false|42|-7|1.5|31|97"
    )


def test_comparisons_follow_go() -> None:
    assert r('{{eq .Labels.k "v"}} {{ne .Labels.k "v"}}', {"k": "v"}) == "true false"
    assert r('{{eq .Labels.k "a" "b" "v"}}', {"k": "v"}) == "true"  # eq with several candidates
    assert r('{{lt "a" "b"}} {{le 2 2}} {{gt 3 2}} {{ge 1 2}}') == "true true true false"
    # JSON numbers are float64 once Coder decodes the payload: they compare with float literals...
    assert r("{{gt .Data.n 1.0}} {{eq .Data.n 3.0}}", data={"n": 3}) == "true true"
    # ...and, as in Go, not with int literals or strings.
    with pytest.raises(TemplateRenderError, match="incompatible types for comparison"):
        r("{{gt .Data.n 1}}", data={"n": 3})
    with pytest.raises(TemplateRenderError, match="incompatible types for comparison"):
        r('{{eq .Data.n "3"}}', data={"n": 3})
    with pytest.raises(TemplateRenderError, match="invalid type for comparison"):
        r("{{lt .Labels.missing 1}}")


def test_truthiness() -> None:
    src = "{{if .Data.v}}T{{else}}F{{end}}"
    for value, expected in [
        ("", "F"),
        ("x", "T"),
        (0, "F"),
        (0.0, "F"),
        (2, "T"),
        (False, "F"),
        (True, "T"),
        (None, "F"),
        ([], "F"),
        ([0], "T"),
        ({}, "F"),
        ({"a": 1}, "T"),
    ]:
        assert r(src, data={"v": value}) == expected, value


def test_logic_functions() -> None:
    assert r('{{and 1 0 "x"}}|{{and 1 "x"}}|{{or 0 "" "y"}}|{{or 0 ""}}|{{not ""}}') == "0|x|y||true"
    # and/or stop at the deciding argument, so later arguments are never evaluated.
    assert r("{{or 1 (index .Data.l 9)}}", data={"l": []}) == "1"


def test_len_index_slice() -> None:
    data = {"l": ["a", "b", "c"], "m": {"k": "v"}}
    assert r("{{len .Data.l}} {{len .Data.m}} {{len .Labels.s}}", {"s": "héllo"}, data) == "3 1 6"  # bytes
    assert r('{{index .Data.l 1}} {{index .Data.m "k"}} {{index .Data.m "x"}}', data=data) == "b v <no value>"
    assert r('[{{index .Labels "x"}}]') == "[]"  # map[string]string's zero value is ""
    assert r("{{slice .Data.l 1}} {{slice .Data.l 0 2}}", data=data) == "[b c] [a b]"
    with pytest.raises(TemplateRenderError, match="index out of range: 5"):
        r("{{index .Data.l 5}}", data=data)


def test_print_functions_and_values() -> None:
    assert r('{{print 1 2 "a" 3}}|{{println "a" 1}}|{{printf "%d%% %5.2f %q %v" 5 1.5 "s" true}}') == (
        '1 2a3|a 1\n|5%  1.50 "s" true'
    )
    data = {"list": [1, "x", None], "map": {"b": 2.5, "a": [1]}, "big": 1234567, "small": 0.00001, "f": 1.5}
    assert r("{{.Data.list}} {{.Data.map}}", data=data) == "[1 x <nil>] map[a:[1] b:2.5]"
    # Go prints float64 with %v: shortest digits, exponent from 1e6 up and below 1e-4.
    assert r("{{.Data.big}} {{.Data.small}} {{.Data.f}} {{1e6}} {{123456.0}}", data=data) == (
        "1.234567e+06 1e-05 1.5 1e+06 123456"
    )


def test_urlquery_html_js() -> None:
    assert r('{{urlquery "a b&c/d~e_f.g-h"}}') == "a+b%26c%2Fd~e_f.g-h"
    assert r('{{html "<a href=\\"x\\">&\'"}}') == "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"
    assert r('{{js "it\'s <b>"}}') == "it\\'s \\u003Cb\\u003E"


def test_helpers() -> None:
    assert r("{{base_url}}/x {{ base_url }}") == "http://test.com/x http://test.com"
    assert r("{{current_year}}") == "2024"
    year = render("{{current_year}}", payload(), base_url=BASE)
    assert re.fullmatch(r"\d{4}", year)


def test_no_escaping() -> None:
    labels = {"x": "<b>&amp; \"q\" 'a' {{.Labels.y}} **md**"}
    assert r("{{.Labels.x}}", labels) == labels["x"]


# --------------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{if}}", "missing value for if"),
        ("{{if .Labels.x}}", "unexpected EOF"),
        ("{{end}}", "unexpected {{end}}"),
        ("{{else}}", "unexpected {{else}}"),
        ("{{.Labels.x", "unclosed action"),
        ("{{$y}}", 'undefined variable "$y"'),
        ("{{nosuchfunc}}", 'function "nosuchfunc" not defined'),
        ('{{"abc}}', "unterminated quoted string"),
        ("{{/* open", "unclosed comment"),
        ("{{/* c */ x}}", "comment ends before closing delimiter"),
        ("{{(1}}", "unclosed left paren"),
        ("{{1)}}", "unexpected right paren"),
        ("{{break}}", "{{break}} outside {{range}}"),
        ('{{template "x"}}', "{{template}} is not supported"),
        ('{{.Labels.a | "x"}}', "non executable command in pipeline stage 2"),
        ("{{3x}}", "bad number syntax"),
        ("{{range $i, $v, $w := .Data}}{{end}}", "too many declarations in range"),
        ("{{$a, $b := 1}}", "too many declarations in command"),
        ('{{"a".b}}', "unexpected . after term"),
        ("{{if 1}}{{else}}{{else}}{{end}}", "expected end; found {{else}}"),
    ],
)
def test_syntax_errors(source: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        GoTemplate(source, "t")
    assert message in str(info.value)
    assert str(info.value).startswith("template: t:1:")


def test_syntax_error_position() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        GoTemplate("line one\nline two {{ nosuch }}", "body")
    err = info.value
    assert (err.line, err.column, err.offset) == (2, 13, 21)
    assert str(err) == 'template: body:2:13: function "nosuch" not defined'


@pytest.mark.parametrize(
    ("source", "data", "message"),
    [
        ("{{.NoSuchField}}", {}, "can't evaluate field NoSuchField in type types.MessagePayload"),
        ("{{.Data.s.y}}", {"s": "abc"}, "can't evaluate field y in type string"),
        ("{{.Data.n.y}}", {"n": None}, "nil pointer evaluating interface {}.y"),
        ("{{range .Data.s}}{{end}}", {"s": "abc"}, "range can't iterate over abc"),
        ("{{len .Data.n}}", {"n": 1}, "len of type float64"),
        ("{{index .Data.l 1.5}}", {"l": [1]}, "cannot index slice/array with type float64"),
        ("{{.Data.n 1}}", {"n": 1}, "n is not a method but has arguments"),
        ("{{eq 1}}", {}, "missing argument for comparison"),
        ("{{lt 1 2 3}}", {}, "wrong number of args for lt: want 2 got 3"),
        ("{{1 2}}", {}, "can't give argument to non-function 1"),
    ],
)
def test_render_errors(source: str, data: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateRenderError) as info:
        GoTemplate(source, "t").render(payload(data=data), base_url=BASE)
    assert message in str(info.value)
    assert str(info.value).startswith("template: t:1:")
    assert 'executing "t" at <' in str(info.value)


def test_parsed_templates_are_reusable_and_cached() -> None:
    tmpl = GoTemplate("{{.Labels.a}}")
    assert tmpl.render(payload({"a": "1"}), base_url=BASE) == "1"
    assert tmpl.render(payload({"a": "2"}), base_url=BASE) == "2"
    assert render("{{.Labels.a}}", payload({"a": "3"}), base_url=BASE) == "3"
    with pytest.raises(TemplateSyntaxError):
        render("{{", payload(), base_url=BASE)


# --------------------------------------------------------------------------------------------------
# The bundled templates

REPORT_DATA: dict[str, Any] = {
    "report_frequency": "week",
    "templates": [
        {
            "name": "bobby-first-template",
            "display_name": "Bobby First Template",
            "failed_builds": 4,
            "total_builds": 55,
            "versions": [
                {
                    "template_version_name": "bobby-template-version-1",
                    "failed_count": 3,
                    "failed_builds": [
                        {
                            "workspace_owner_username": "mtojek",
                            "workspace_name": "workspace-1",
                            "workspace_id": "24f5bd8f-1566-4374-9734-c3efa0454dc7",
                            "build_number": 1234,
                        },
                        {
                            "workspace_owner_username": "johndoe",
                            "workspace_name": "my-workspace-3",
                            "workspace_id": "372a194b-dcde-43f1-b7cf-8a2f3d3114a0",
                            "build_number": 5678,
                        },
                        {
                            "workspace_owner_username": "jack",
                            "workspace_name": "workwork",
                            "workspace_id": "1386d294-19c1-4351-89e2-6cae1afb9bfe",
                            "build_number": 774,
                        },
                    ],
                },
                {
                    "template_version_name": "bobby-template-version-2",
                    "failed_count": 1,
                    "failed_builds": [
                        {
                            "workspace_owner_username": "ben",
                            "workspace_name": "cool-workspace",
                            "workspace_id": "86fd99b1-1b6e-4b7e-b58e-0aee6e35d159",
                            "build_number": 8888,
                        },
                    ],
                },
            ],
        },
        {
            "name": "bobby-second-template",
            "display_name": "Bobby Second Template",
            "failed_builds": 5,
            "total_builds": 50,
            "versions": [
                {
                    "template_version_name": "bobby-template-version-1",
                    "failed_count": 3,
                    "failed_builds": [
                        {
                            "workspace_owner_username": "daniellemaywood",
                            "workspace_name": "workspace-9",
                            "workspace_id": "cd469690-b6eb-4123-b759-980be7a7b278",
                            "build_number": 9234,
                        },
                        {
                            "workspace_owner_username": "johndoe",
                            "workspace_name": "my-workspace-7",
                            "workspace_id": "c447d472-0800-4529-a836-788754d5e27d",
                            "build_number": 8678,
                        },
                        {
                            "workspace_owner_username": "jack",
                            "workspace_name": "workworkwork",
                            "workspace_id": "919db6df-48f0-4dc1-b357-9036a2c40f86",
                            "build_number": 374,
                        },
                    ],
                },
                {
                    "template_version_name": "bobby-template-version-2",
                    "failed_count": 2,
                    "failed_builds": [
                        {
                            "workspace_owner_username": "ben",
                            "workspace_name": "more-cool-workspace",
                            "workspace_id": "c8fb0652-9290-4bf2-a711-71b910243ac2",
                            "build_number": 8878,
                        },
                        {
                            "workspace_owner_username": "ben",
                            "workspace_name": "less-cool-workspace",
                            "workspace_id": "703d718d-2234-4990-9a02-5b1df6cf462a",
                            "build_number": 8848,
                        },
                    ],
                },
            ],
        },
    ],
}

CHATS = [
    {"title": "Onboarding kickoff", "last_activity_humanized": "3 months ago"},
    {"title": "Quarterly planning draft", "last_activity_humanized": "4 months ago"},
]

AI_BUDGET = {
    "period": "monthly",
    "limit": "$1000.00",
    "threshold": "85",
    "effective_group_name": "Engineering",
    "period_start": "July 1, 2026",
    "period_end": "August 1, 2026",
}
AI_ADMIN = {**AI_BUDGET, "username": "alice", "organization_name": "coder", "limit_source": "user_override"}
TASK = {"task": "fix-the-bug", "task_id": "0f6ae3f8-8f83-4b8d-8d51-6c0d2b1b7d11", "workspace": "bobby-task"}

# Every label and data key each template uses, with realistic values.
FIXTURES: dict[str, tuple[dict[str, str], dict[str, Any] | None]] = {
    "AI Budget Limit Reached": (AI_BUDGET, None),
    "AI Budget Warning": (AI_BUDGET, None),
    "Chat Shared": (
        {"initiator": "alice", "chat_title": "Onboarding kickoff", "chat_id": "5d1bb5a4-0c4e-4a3f-9d7e-1f2a3b4c5d6e"},
        None,
    ),
    "Chats Auto-Archived": (
        {},
        {"auto_archive_days": "90", "archived_chats": CHATS, "additional_archived_count": 6, "retention_days": "30"},
    ),
    "One-Time Passcode": ({"one_time_passcode": "fad9020b-6562-4cdb-87f1-0486f1bea415"}, None),
    "Prebuild Failure Limit Reached": (
        {"template": "docker", "preset": "particle-accelerator", "org": "cern", "template_version": "v1"},
        None,
    ),
    "Prebuilt Workspace Resource Replaced": (
        {
            "org": "cern",
            "workspace": "my-workspace",
            "template": "docker",
            "template_version": "angry_torvalds",
            "preset": "particle-accelerator",
            "claimant": "prebuilds-claimer",
            "workspace_build_num": "2",
        },
        {"replacements": {"docker_container[0]": "env, hostname"}},
    ),
    "Report: Workspace Builds Failed": ({}, REPORT_DATA),
    "Task Completed": (TASK, None),
    "Task Failed": (TASK, None),
    "Task Idle": (TASK, None),
    "Task Paused": ({**TASK, "pause_reason": "idle timeout"}, None),
    "Task Resumed": (TASK, None),
    "Task Working": (TASK, None),
    "Template Deleted": ({"name": "Bobby's Template", "initiator": "rob"}, None),
    "Template Deprecated": (
        {"template": "alpha", "message": "This template has been replaced by beta", "organization": "coder"},
        None,
    ),
    "Troubleshooting Notification": ({}, None),
    "User Approaching AI Budget Limit": (AI_ADMIN, None),
    "User Reached AI Budget Limit": (AI_ADMIN, None),
    "User account activated": (
        {
            "activated_account_name": "bobby",
            "activated_account_user_name": "William Tables",
            "initiator": "rob",
            "account_type": "user",
        },
        None,
    ),
    "User account created": (
        {
            "created_account_name": "bobby",
            "created_account_user_name": "William Tables",
            "initiator": "rob",
            "account_type": "user",
        },
        None,
    ),
    "User account deleted": (
        {
            "deleted_account_name": "bobby",
            "deleted_account_user_name": "William Tables",
            "initiator": "rob",
            "account_type": "user",
        },
        None,
    ),
    "User account suspended": (
        {
            "suspended_account_name": "bobby",
            "suspended_account_user_name": "William Tables",
            "initiator": "rob",
            "account_type": "user",
        },
        None,
    ),
    "Workspace Autobuild Failed": ({"name": "bobby-workspace", "reason": "autostart"}, None),
    "Workspace Autostop Reminder": ({"workspace": "bobby-workspace", "timeTilShutdown": "1 hour from now"}, None),
    "Workspace Created": (
        {
            "workspace": "bobby-workspace",
            "template": "bobby-template",
            "version": "alpha",
            "workspace_owner_username": "mrbobby",
        },
        None,
    ),
    "Workspace Deleted": (
        {"name": "bobby-workspace", "reason": "autodeleted due to dormancy", "initiator": "autobuild"},
        None,
    ),
    "Workspace Manual Build Failed": (
        {
            "name": "bobby-workspace",
            "template_name": "bobby-template",
            "template_version_name": "bobby-template-version",
            "initiator": "joe",
            "workspace_owner_username": "mrbobby",
            "workspace_build_number": "3",
        },
        None,
    ),
    "Workspace Manually Updated": (
        {
            "organization": "bobby-org",
            "template": "bobby-template",
            "version": "alpha",
            "workspace": "bobby-workspace",
            "workspace_owner_username": "mrbobby",
            "initiator": "bobby",
        },
        None,
    ),
    "Workspace Marked as Dormant": (
        {
            "name": "bobby-workspace",
            "reason": "breached the template's threshold for inactivity",
            "initiator": "autobuild",
            "dormancyHours": "24",
            "timeTilDelete": "24 hours",
        },
        None,
    ),
    "Workspace Marked for Deletion": (
        {"name": "bobby-workspace", "reason": "template updated to new dormancy policy", "timeTilDormant": "24 hours"},
        None,
    ),
    "Workspace Out Of Disk": (
        {"workspace": "bobby-workspace"},
        {"volumes": [{"path": "/home/coder", "threshold": "90%"}]},
    ),
    "Workspace Out Of Memory": ({"workspace": "bobby-workspace", "threshold": "90%"}, None),
    "Workspace Updated Automatically": (
        {
            "name": "bobby-workspace",
            "template_version_name": "1.0",
            "template_version_message": "template now includes catnip",
        },
        None,
    ),
    "Your account has been activated": ({"activated_account_name": "bobby", "initiator": "rob"}, None),
    "Your account has been suspended": ({"suspended_account_name": "bobby", "initiator": "rob"}, None),
    "Custom Notification": ({"custom_title": "Deploy finished", "custom_message": "All **green**."}, None),
}


def test_fixtures_cover_every_bundled_template() -> None:
    assert set(FIXTURES) == set(TEMPLATES)
    assert len(TEMPLATES) == 37


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_bundled_template_renders(name: str) -> None:
    template = TEMPLATES[name]
    labels, data = FIXTURES[name]
    p = payload(labels, data)
    title = render(template.title_template, p, base_url=BASE)
    body = render(template.body_template, p, base_url=BASE)
    actions = render_actions(template.actions, p, base_url=BASE)
    for text in (title, body, *(v for a in actions for v in a.values())):
        assert "<no value>" not in text
        assert "{{" not in text
    assert title.strip()
    assert body.strip()
    assert len(actions) == len(json.loads(template.actions))
    for action in actions:
        assert list(action) == ["label", "url"]
        assert action["url"].startswith(BASE)
        assert action["label"]


def test_missing_labels_render_no_value() -> None:
    template = TEMPLATES["Workspace Deleted"]
    assert render(template.title_template, payload(), base_url=BASE) == 'Workspace "<no value>" deleted'


def test_spec_examples() -> None:
    deleted = TEMPLATES["Workspace Deleted"]
    p = payload({"name": "bobby-workspace", "reason": "autodeleted due to dormancy", "initiator": "autobuild"})
    assert render(deleted.title_template, p, base_url=BASE) == 'Workspace "bobby-workspace" deleted'
    assert render(deleted.body_template, p, base_url=BASE) == (
        "Your workspace **bobby-workspace** was deleted.\n\n"
        'The specified reason was "**autodeleted due to dormancy (autobuild)**".'
    )
    no_initiator = payload({"name": "w", "reason": "r"})
    assert render(deleted.body_template, no_initiator, base_url=BASE).endswith('"**r**".')
    assert render_actions(deleted.actions, p, base_url="https://coder.example.com") == [
        {"label": "View workspaces", "url": "https://coder.example.com/workspaces"},
        {"label": "View templates", "url": "https://coder.example.com/templates"},
    ]
    oom = TEMPLATES["Workspace Out Of Memory"]
    p = payload({"workspace": "dev", "threshold": "90%"})
    assert render(oom.title_template, p, base_url=BASE) == 'Your workspace "dev" is low on memory'
    assert render_actions(oom.actions, p, base_url=BASE) == [{"label": "View workspace", "url": f"{BASE}/@bob/dev"}]


def test_test_notification() -> None:
    t = TEMPLATES["Troubleshooting Notification"]
    p = payload()
    assert render(t.title_template, p, base_url=BASE) == "A test notification"
    assert render(t.body_template, p, base_url=BASE) == "This is a test notification."
    assert render_actions(t.actions, p, base_url=BASE) == [
        {"label": "View notification settings", "url": f"{BASE}/deployment/notifications?tab=settings"}
    ]


def test_custom_notification_is_verbatim() -> None:
    t = TEMPLATES["Custom Notification"]
    title = "Build <done> & {{.Labels.x}} `ok`"
    message = '# Heading\n\n**bold** <script>alert(1)</script> & {{ range }} \\ "quoted"'
    p = payload({"custom_title": title, "custom_message": message})
    assert render(t.title_template, p, base_url=BASE) == title
    assert render(t.body_template, p, base_url=BASE) == message
    assert render_actions(t.actions, p, base_url=BASE) == []


def test_one_time_passcode_action_quotes_the_email() -> None:
    t = TEMPLATES["One-Time Passcode"]
    p = payload({"one_time_passcode": "abc"}, UserEmail="bob+test@coder.com")
    assert render_actions(t.actions, p, base_url=BASE) == [
        {"label": "Reset password", "url": f"{BASE}/reset-password/change?otp=abc&email=bob%2Btest%40coder.com"}
    ]


def test_report_action_joins_every_failed_build() -> None:
    t = TEMPLATES["Report: Workspace Builds Failed"]
    [action] = render_actions(t.actions, payload(data=REPORT_DATA), base_url=BASE)
    ids = [b["workspace_id"] for tpl in REPORT_DATA["templates"] for v in tpl["versions"] for b in v["failed_builds"]]
    assert action == {
        "label": "View workspaces",
        "url": f"{BASE}/workspaces?filter=" + "+".join(f"id%3A{i}" for i in ids),
    }


def test_account_templates_say_service_for_service_accounts() -> None:
    t = TEMPLATES["User account created"]
    labels = {"created_account_name": "ci-bot", "initiator": "rob", "account_type": "service"}
    assert render(t.title_template, payload(labels), base_url=BASE) == 'Service account "ci-bot" created'
    assert render(t.body_template, payload(labels), base_url=BASE) == (
        "New service account **ci-bot** has been created.\n\nThis new service account was created by **rob**."
    )


def test_render_actions_rejects_bad_json() -> None:
    for bad in ("not json", '{"url": "x"}', "[1]", '[{"url": 1, "label": "x"}]'):
        with pytest.raises(TemplateRenderError):
            render_actions(bad, payload(), base_url=BASE)
    assert render_actions("[]", payload(), base_url=BASE) == []


# --------------------------------------------------------------------------------------------------
# Coder's golden files


def _user_account(kind: str, name: str, user_name: str, account_type: str | None) -> dict[str, str]:
    labels = {f"{kind}_account_name": name, f"{kind}_account_user_name": user_name, "initiator": "rob"}
    if account_type is not None:
        labels["account_type"] = account_type
    return labels


def _chats(chats: list[dict[str, str]], extra: int, retention: str) -> dict[str, Any]:
    return {
        "auto_archive_days": "90",
        "archived_chats": chats,
        "additional_archived_count": extra,
        "retention_days": retention,
    }


VOLUMES = [
    {"path": "/home/coder", "threshold": "90%"},
    {"path": "/dev/coder", "threshold": "80%"},
    {"path": "/etc/coder", "threshold": "95%"},
]

# Coder golden-file case -> (template, labels, data), from coderd/notifications/notifications_test.go.
GOLDEN: dict[str, tuple[str, dict[str, str], dict[str, Any] | None]] = {
    "PrebuildFailureLimitReached": (
        "Prebuild Failure Limit Reached",
        FIXTURES["Prebuild Failure Limit Reached"][0],
        None,
    ),
    "TemplateAIBudgetLimitReachedAdmin": ("User Reached AI Budget Limit", AI_ADMIN, None),
    "TemplateAIBudgetLimitReachedUser": ("AI Budget Limit Reached", AI_BUDGET, None),
    "TemplateAIBudgetWarningAdmin": ("User Approaching AI Budget Limit", {**AI_ADMIN, "limit_source": "group"}, None),
    "TemplateAIBudgetWarningUser": ("AI Budget Warning", AI_BUDGET, None),
    "TemplateChatAutoArchiveDigest": ("Chats Auto-Archived", {}, _chats(CHATS, 0, "30")),
    "TemplateChatAutoArchiveDigestOverflow": ("Chats Auto-Archived", {}, _chats(CHATS, 6, "30")),
    "TemplateChatAutoArchiveDigestRetentionZero": ("Chats Auto-Archived", {}, _chats(CHATS, 0, "0")),
    "TemplateChatAutoArchiveDigestSingular": ("Chats Auto-Archived", {}, _chats(CHATS[:1], 0, "30")),
    "TemplateChatShared": ("Chat Shared", FIXTURES["Chat Shared"][0], None),
    "TemplateTemplateDeleted": ("Template Deleted", FIXTURES["Template Deleted"][0], None),
    "TemplateTemplateDeprecated": ("Template Deprecated", FIXTURES["Template Deprecated"][0], None),
    "TemplateUserAccountActivated": (
        "User account activated",
        _user_account("activated", "bobby", "William Tables", "user"),
        None,
    ),
    "TemplateUserAccountActivatedServiceAccount": (
        "User account activated",
        _user_account("activated", "ci-bot", "CI Bot", "service"),
        None,
    ),
    "TemplateUserAccountCreated": (
        "User account created",
        _user_account("created", "bobby", "William Tables", "user"),
        None,
    ),
    "TemplateUserAccountCreatedServiceAccount": (
        "User account created",
        _user_account("created", "ci-bot", "CI Bot", "service"),
        None,
    ),
    "TemplateUserAccountCreatedWithoutAccountType": (
        "User account created",
        _user_account("created", "bobby", "William Tables", None),
        None,
    ),
    "TemplateUserAccountDeleted": (
        "User account deleted",
        _user_account("deleted", "bobby", "William Tables", "user"),
        None,
    ),
    "TemplateUserAccountDeletedServiceAccount": (
        "User account deleted",
        _user_account("deleted", "ci-bot", "CI Bot", "service"),
        None,
    ),
    "TemplateUserAccountSuspended": (
        "User account suspended",
        _user_account("suspended", "bobby", "William Tables", "user"),
        None,
    ),
    "TemplateUserAccountSuspendedServiceAccount": (
        "User account suspended",
        _user_account("suspended", "ci-bot", "CI Bot", "service"),
        None,
    ),
    "TemplateWorkspaceAutoUpdated": (
        "Workspace Updated Automatically",
        FIXTURES["Workspace Updated Automatically"][0],
        None,
    ),
    "TemplateWorkspaceAutobuildFailed": ("Workspace Autobuild Failed", FIXTURES["Workspace Autobuild Failed"][0], None),
    "TemplateWorkspaceAutostopReminder": (
        "Workspace Autostop Reminder",
        FIXTURES["Workspace Autostop Reminder"][0],
        None,
    ),
    "TemplateWorkspaceBuildsFailedReport": ("Report: Workspace Builds Failed", {}, REPORT_DATA),
    "TemplateWorkspaceCreated": ("Workspace Created", FIXTURES["Workspace Created"][0], None),
    "TemplateWorkspaceDeleted": ("Workspace Deleted", FIXTURES["Workspace Deleted"][0], None),
    "TemplateWorkspaceDeleted_CustomAppearance": ("Workspace Deleted", FIXTURES["Workspace Deleted"][0], None),
    "TemplateWorkspaceDormant": ("Workspace Marked as Dormant", FIXTURES["Workspace Marked as Dormant"][0], None),
    "TemplateWorkspaceDormant_NoAutoDelete": ("Workspace Marked as Dormant", {"name": "bobby-workspace"}, None),
    "TemplateWorkspaceManualBuildFailed": (
        "Workspace Manual Build Failed",
        FIXTURES["Workspace Manual Build Failed"][0],
        None,
    ),
    "TemplateWorkspaceManuallyUpdated": ("Workspace Manually Updated", FIXTURES["Workspace Manually Updated"][0], None),
    "TemplateWorkspaceMarkedForDeletion": (
        "Workspace Marked for Deletion",
        FIXTURES["Workspace Marked for Deletion"][0],
        None,
    ),
    "TemplateWorkspaceOutOfDisk": ("Workspace Out Of Disk", {"workspace": "bobby-workspace"}, {"volumes": VOLUMES[:1]}),
    "TemplateWorkspaceOutOfDisk_MultipleVolumes": (
        "Workspace Out Of Disk",
        {"workspace": "bobby-workspace"},
        {"volumes": VOLUMES},
    ),
    "TemplateWorkspaceOutOfMemory": ("Workspace Out Of Memory", FIXTURES["Workspace Out Of Memory"][0], None),
    "TemplateWorkspaceResourceReplaced": (
        "Prebuilt Workspace Resource Replaced",
        *FIXTURES["Prebuilt Workspace Resource Replaced"],
    ),
    "TemplateYourAccountActivated": (
        "Your account has been activated",
        FIXTURES["Your account has been activated"][0],
        None,
    ),
    "TemplateYourAccountSuspended": (
        "Your account has been suspended",
        FIXTURES["Your account has been suspended"][0],
        None,
    ),
}


def test_golden_cases_cover_every_vector() -> None:
    assert {v["case"] for v in VECTORS} == set(GOLDEN)
    assert {v["field"] for v in VECTORS} == {"body"}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["case"] for v in VECTORS])
def test_matches_coder_golden_bodies(vector: dict[str, Any]) -> None:
    name, labels, data = GOLDEN[vector["case"]]
    body = render(TEMPLATES[name].body_template, payload(labels, data), base_url=BASE)
    assert body == vector["markdown"]
