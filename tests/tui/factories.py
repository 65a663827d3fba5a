"""Fixed notifications for state tests and deterministic snapshots (no server, no clock)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from inbox_tui.api.models import (
    ICON_ACCOUNT,
    ICON_OTHER,
    ICON_TEMPLATE,
    ICON_WORKSPACE,
    InboxAction,
    InboxEvent,
    InboxNotification,
    NotificationTemplate,
)

NOW = datetime(2025, 6, 2, 12, 0, 0, tzinfo=UTC)
USER_ID = "0b6f1d3e-1b83-4b4f-9f0f-3f1b5c1f0a01"
WORKSPACE_TEMPLATE = "281fdf73-c6d6-4cbb-8ff5-888baf8a2fff"  # Workspace Deleted
ACCOUNT_TEMPLATE = "4e19c0ac-94e1-4532-9515-d1801aa283b2"  # User account created
WORKSPACE_TARGET = "d5a0c3a1-5c0e-4a6b-9a6e-2f7e0c8b9d11"
TEMPLATE_TARGET = "a1f2c3d4-0000-4000-8000-00000000abcd"


def make(
    n: int,
    *,
    title: str | None = None,
    content: str | None = None,
    minutes_ago: float | None = None,
    read: bool = False,
    template_id: str = WORKSPACE_TEMPLATE,
    targets: tuple[str, ...] | None = (WORKSPACE_TARGET,),
    icon: str = ICON_WORKSPACE,
    actions: tuple[InboxAction, ...] = (),
) -> InboxNotification:
    """Notification number n; higher n is newer (n minutes after the base time unless minutes_ago)."""
    created = (
        NOW - timedelta(minutes=minutes_ago)
        if minutes_ago is not None
        else NOW - timedelta(days=30) + timedelta(minutes=n)
    )
    return InboxNotification(
        id=str(uuid.UUID(int=n + 1)),
        user_id=USER_ID,
        template_id=template_id,
        targets=targets,
        title=title if title is not None else f"Notification {n}",
        content=content if content is not None else f"Body of notification **{n}**.",
        icon=icon,
        actions=actions,
        read_at=(created + timedelta(seconds=5)) if read else None,
        created_at=created,
    )


def event(notification: InboxNotification, unread: int) -> InboxEvent:
    """A watch frame."""
    return InboxEvent(notification=notification, unread_count=unread)


def sample_inbox() -> list[InboxNotification]:
    """A realistic mixed inbox used by the snapshots (newest first)."""
    base = "https://coder.example.com"
    return [
        make(
            10,
            title="Workspace 'dev' was deleted",
            content=(
                "Hi Ada,\n\nYour workspace **dev** was deleted.\n"
                'The specified reason was "**autodeleted due to dormancy (autobuild)**".'
            ),
            minutes_ago=2,
            actions=(
                InboxAction("View workspaces", f"{base}/workspaces"),
                InboxAction("View templates", f"{base}/templates"),
            ),
        ),
        make(
            9,
            title="Your workspace 'api' is low on disk",
            content=("Your workspace **api** has reached the disk usage threshold: **92%** of `/home/coder` is used."),
            minutes_ago=17,
            actions=(InboxAction("View workspace", f"{base}/@ada/api"),),
        ),
        make(
            8,
            title='User account "grace" created',
            content=(
                "New user account **grace** has been created.\n\nThis new user account was created by **Ada Lovelace**."
            ),
            minutes_ago=65,
            template_id=ACCOUNT_TEMPLATE,
            icon=ICON_ACCOUNT,
            targets=None,
            actions=(InboxAction("View accounts", f"{base}/deployment/users?filter=status%3Aactive"),),
        ),
        make(
            7,
            title="Template 'docker' deprecated",
            content=(
                "The template **docker** has been deprecated with the following message:\n\n"
                "> Use **docker-v2** instead."
            ),
            minutes_ago=60 * 5,
            read=True,
            template_id="f40fae84-55a2-42cd-99fa-b41c1ca64894",
            icon=ICON_TEMPLATE,
            targets=(TEMPLATE_TARGET,),
            actions=(InboxAction("See affected workspaces", f"{base}/workspaces?filter=template%3Adocker"),),
        ),
        make(
            6,
            title="Deploy finished",
            content="Build **#482** of `main` finished in 3m12s. [Logs](https://ci.example.com/482)",
            minutes_ago=60 * 26,
            read=True,
            template_id="39b1e189-c857-4b0c-877a-511144c18516",
            icon=ICON_OTHER,
            targets=None,
        ),
        make(
            5,
            title="Workspace 'ml' autobuild failed",
            content=('Automatic build of your workspace **ml** failed.\n\nThe specified reason was "**autostart**".'),
            minutes_ago=60 * 24 * 3,
            read=True,
            template_id="381df2a9-c0c0-4749-420f-80a9280c66f9",
            actions=(InboxAction("View workspace", f"{base}/@ada/ml"),),
        ),
        make(
            4,
            title="Report: workspace builds failed",
            content="Template **docker** has **3** failed builds over the last week.",
            minutes_ago=60 * 24 * 12,
            read=True,
            template_id="34a20db2-e9cc-4a93-b0e4-8569699d7a00",
            icon="https://coder.example.com/icon/report.svg",
            targets=None,
        ),
    ]


def many_templates(count: int = 24) -> list[NotificationTemplate]:
    """More templates than a short pane's filter list shows at once."""
    return [
        NotificationTemplate(
            id=str(uuid.UUID(int=1000 + n)),
            name=f"Template {n:02}",
            title_template="",
            body_template="",
            actions=(),
            group="Workspace Events",
            method="",
            kind="system",
            enabled_by_default=True,
        )
        for n in range(count)
    ]
