"""All 37 bundled templates render, and match the bodies Coder's own golden files hold (the `markdown`
field of plaintext-vectors.json), for the labels and data Coder's notifications_test.go uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.notify.gotemplate import render, render_actions
from tests.server.gotemplate.helpers import BASE, TEMPLATES, payload

REPO = Path(__file__).parents[3]
VECTORS: list[dict[str, Any]] = json.loads(
    (REPO / "tests" / "data" / "plaintext-vectors.json").read_text(encoding="utf-8")
)


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
