"""InboxState, driven directly: paging, merging, filters, optimistic changes, search."""

from __future__ import annotations

from datetime import timedelta

from inbox_tui.api.models import InboxNotification, InboxPage
from inbox_tui.api.resync import ReadMarks
from inbox_tui.state import PAGE_SIZE, Filters, InboxState
from tests.tui.factories import ACCOUNT_TEMPLATE, NOW, TEMPLATE_TARGET, WORKSPACE_TARGET, event, make


def page(numbers: range | list[int], unread: int) -> InboxPage:
    """A list response holding these notification numbers, newest first."""
    return InboxPage(tuple(make(n) for n in sorted(numbers, reverse=True)), unread)


def test_first_page_then_older_pages_and_has_more() -> None:
    state = InboxState()
    state.apply_page(page(range(35, 60), 60), first=True)
    assert state.loaded and state.has_more
    assert len(state) == PAGE_SIZE
    assert state.ids[0] == make(59).id and state.cursor == make(35).id
    result = state.apply_page(page(range(10, 35), 60), first=False)
    assert result.added[0] == make(34).id and not result.added_at_top
    state.apply_page(page(range(10), 60), first=False)
    assert not state.has_more
    assert state.ids == [make(n).id for n in range(59, -1, -1)]
    assert state.unread_count == 60


def test_first_page_replaces_the_list() -> None:
    state = InboxState()
    state.apply_page(page(range(5), 5), first=True)
    state.apply_page(page(range(3), 3), first=True)
    assert state.ids == [make(n).id for n in (2, 1, 0)]


def test_arrivals_go_on_top_without_duplicates_and_take_the_count() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    new = make(10)
    result = state.merge_arrivals([event(new, 4), event(new, 4)])
    assert result.added == (new.id,) and result.added_at_top
    assert state.ids[0] == new.id and len(state) == 4
    assert state.unread_count == 4


def test_an_out_of_order_arrival_lands_in_date_order() -> None:
    state = InboxState()
    state.apply_page(page([1, 3], 2), first=True)
    result = state.merge_arrivals([event(make(2), 3)])
    assert not result.added_at_top
    assert state.ids == [make(3).id, make(2).id, make(1).id]


def test_arrivals_outside_the_filters_only_move_the_count() -> None:
    state = InboxState(filters=Filters(templates=(ACCOUNT_TEMPLATE,)))
    state.apply_page(InboxPage((), 0), first=True)
    result = state.merge_arrivals([event(make(1), 1), event(make(2, template_id=ACCOUNT_TEMPLATE), 2)])
    assert result.added == (make(2).id,)
    assert state.unread_count == 2


def test_filters_follow_the_server_semantics() -> None:
    both = make(1, targets=(WORKSPACE_TARGET, TEMPLATE_TARGET))
    one = make(2, targets=(WORKSPACE_TARGET,))
    none = make(3, targets=None)
    targets = Filters(targets=(WORKSPACE_TARGET, TEMPLATE_TARGET))
    assert [targets.matches(n) for n in (both, one, none)] == [True, False, False]
    templates = Filters(templates=(ACCOUNT_TEMPLATE, both.template_id))
    assert templates.matches(both) and not templates.matches(make(4, template_id="x"))
    assert Filters(read_status="unread").matches(both)
    assert not Filters(read_status="read").matches(both)
    assert Filters(read_status="read").matches(make(5, read=True))
    assert not Filters().active and Filters(read_status="unread").active


def test_resync_adds_what_was_missed_and_refreshes_known_items() -> None:
    state = InboxState()
    state.apply_page(page(range(5), 5), first=True)
    read_elsewhere = make(4, read=True)
    result = state.merge_resync([make(6), make(5), read_elsewhere], unread_count=6)
    assert result.added == (make(6).id, make(5).id)
    assert result.updated == (make(4).id,)
    assert len(state) == 7 and len(set(state.ids)) == 7
    assert state.get(make(4).id) == read_elsewhere
    assert state.unread_count == 6


def test_toggle_read_commits_the_server_answer() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    nid = make(1).id
    change = state.begin_toggle_read(nid, NOW)
    assert state.by_id[nid].is_read and state.unread_count == 2 and state.is_pending(nid)
    server = make(1).with_read_at(NOW + timedelta(seconds=1))
    state.commit_read(change, event(server, 2))
    assert state.by_id[nid] == server and not state.is_pending(nid) and state.unread_count == 2


def test_refused_toggle_rolls_back() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    nid = make(1).id
    change = state.begin_toggle_read(nid, NOW)
    assert state.rollback_read(change)
    assert state.by_id[nid] == make(1) and state.unread_count == 3 and not state.is_pending(nid)


def test_rollback_keeps_a_count_the_server_sent_meanwhile() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    change = state.begin_toggle_read(make(1).id, NOW)
    state.merge_arrivals([event(make(9), 4)])  # server: 4 unread, without our refused change
    assert state.unread_count == 3  # 4 from the server, -1 still in flight
    state.rollback_read(change)
    assert state.unread_count == 4


def test_a_superseded_toggle_does_not_clobber_the_newer_one() -> None:
    state = InboxState()
    state.apply_page(page(range(2), 2), first=True)
    nid = make(0).id
    first = state.begin_toggle_read(nid, NOW)
    second = state.begin_toggle_read(nid, NOW)
    assert not state.by_id[nid].is_read
    state.commit_read(first, event(make(0).with_read_at(NOW), 1))
    assert not state.by_id[nid].is_read  # the newer change still owns the row
    assert not state.rollback_read(first)
    state.commit_read(second, event(make(0), 2))
    assert not state.by_id[nid].is_read and state.unread_count == 2


def test_known_items_with_a_change_in_flight_keep_their_local_version() -> None:
    state = InboxState()
    state.apply_page(page(range(2), 2), first=True)
    nid = make(1).id
    state.begin_toggle_read(nid, NOW)
    result = state.merge_resync([make(1)], unread_count=2)
    assert not result.updated and state.by_id[nid].is_read


def test_mark_all_and_its_rollback() -> None:
    state = InboxState()
    state.apply_page(InboxPage((make(3), make(2, read=True), make(1)), 2), first=True)
    already = state.by_id[make(2).id]
    change = state.begin_mark_all(NOW)
    assert state.unread_count == 0
    assert all(state.by_id[n].is_read for n in state.ids)
    assert state.by_id[make(2).id] is already  # already-read items keep their read_at
    restored = state.rollback_mark_all(change)
    assert sorted(restored) == sorted([make(3).id, make(1).id])
    assert state.unread_count == 2 and not state.by_id[make(3).id].is_read


def test_search_over_loaded_items() -> None:
    state = InboxState.from_notifications(
        [make(3, title="Disk almost full"), make(2, content="The **disk** quota"), make(1, title="Other")]
    )
    state.search = "DISK"
    assert state.visible_ids() == [make(3).id, make(2).id]
    state.search = "disk quota"
    assert state.visible_ids() == [make(2).id]
    assert state.matches_search(make(2).id) and not state.matches_search(make(1).id)
    state.search = ""
    assert len(state.visible_ids()) == 3


def test_next_and_previous_unread() -> None:
    state = InboxState.from_notifications([make(4), make(3, read=True), make(2, read=True), make(1)])
    ids = state.ids
    assert state.next_unread(ids, 0, 1) == 3
    assert state.next_unread(ids, 3, -1) == 0
    assert state.next_unread(ids, 3, 1) is None


def test_ten_thousand_in_order_stay_sorted() -> None:
    state = InboxState.from_notifications(make(n) for n in range(10_000))
    assert state.ids[0] == make(9_999).id and state.ids[-1] == make(0).id
    assert state.unread_count == 10_000


# ----- read changes made elsewhere -----------------------------------------------------------------


def marks(unread: list[InboxNotification], count: int) -> ReadMarks:
    """What a read-marks check that reached the end of the inbox would say."""
    return ReadMarks(tuple(unread), frozenset(n.id for n in unread), count, None, stale=True, pages=1)


def test_an_arrival_after_a_read_all_elsewhere_is_stale() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    # read-all elsewhere (3 -> 0), then one arrival: the frame says 1, the state expected 4.
    result = state.merge_arrivals([event(make(10), 1)])
    assert result.stale and result.added == (make(10).id,)
    assert state.unread_count == 1 and not state.rows_agree_with_count()


def test_arrivals_that_add_up_are_not_stale() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    assert not state.merge_arrivals([event(make(10), 4), event(make(11), 5)]).stale
    # A frame for a notification outside the local filters still adds one to the total.
    filtered = InboxState(filters=Filters(templates=(ACCOUNT_TEMPLATE,)))
    filtered.apply_page(InboxPage((), 2), first=True)
    assert not filtered.merge_arrivals([event(make(1), 3)]).stale


def test_read_marks_fix_rows_and_count_but_keep_the_order() -> None:
    state = InboxState()
    state.apply_page(page(range(5), 5), first=True)
    snapshot = state.read_snapshot()
    assert snapshot.unread_count == 5 and snapshot.complete
    # Elsewhere: everything read but number 3.
    result = state.apply_read_marks(marks([make(3)], 1), snapshot, NOW)
    assert sorted(result.updated) == sorted(make(n).id for n in (0, 1, 2, 4))
    assert not result.added
    assert state.ids == [make(n).id for n in range(4, -1, -1)]
    assert [state.by_id[make(n).id].is_read for n in range(5)] == [True, True, True, False, True]
    assert state.by_id[make(0).id].read_at == NOW
    assert state.unread_count == 1 and state.rows_agree_with_count()


def test_read_marks_make_read_rows_unread_and_add_missing_ones() -> None:
    state = InboxState()
    state.apply_page(InboxPage(tuple(make(n, read=True) for n in (3, 2, 1)), 0), first=True)
    snapshot = state.read_snapshot()
    result = state.apply_read_marks(marks([make(9), make(2)], 2), snapshot, NOW)
    assert result.added == (make(9).id,) and result.updated == (make(2).id,)
    assert not state.by_id[make(2).id].is_read and state.unread_count == 2


def test_rows_touched_during_a_check_keep_their_local_state() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    snapshot = state.read_snapshot()
    change = state.begin_set_read(make(2).id, True, NOW)
    assert change is not None
    # The listing predates the toggle: it still lists number 2 as unread (and 0 and 1 as read).
    state.apply_read_marks(marks([make(2)], 1), snapshot, NOW)
    assert state.by_id[make(2).id].is_read
    assert state.by_id[make(1).id].is_read and state.by_id[make(0).id].is_read
    # The count is not taken while a change is in flight (its answer brings a fresher one).
    assert state.unread_count == 2


def test_a_mark_all_voids_a_check_in_flight() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    snapshot = state.read_snapshot()
    change = state.begin_mark_all(NOW)
    assert state.mark_all_in_flight
    assert not state.apply_read_marks(marks([make(0), make(1), make(2)], 3), snapshot, NOW).changed
    state.commit_mark_all(change)
    assert not state.mark_all_in_flight
    assert not state.apply_read_marks(marks([make(0)], 1), snapshot, NOW).changed
    assert state.unread_count == 0 and all(state.by_id[i].is_read for i in state.ids)


def test_a_reload_voids_a_check_in_flight() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    snapshot = state.read_snapshot()
    state.apply_page(page(range(3), 3), first=True)
    assert not state.apply_read_marks(marks([], 0), snapshot, NOW).changed
    assert state.unread_count == 3


def test_rows_agree_with_count() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    assert state.rows_agree_with_count()
    state.unread_count = 2
    assert not state.rows_agree_with_count()
    # With an older page still to load, more unread rows may exist than are loaded.
    partial = InboxState()
    partial.apply_page(page(range(35, 60), 312), first=True)
    assert partial.has_more and partial.rows_agree_with_count()
    partial.unread_count = 24
    assert not partial.rows_agree_with_count()


def test_each_mark_all_is_settled_once() -> None:
    state = InboxState()
    state.apply_page(page(range(3), 3), first=True)
    first = state.begin_mark_all(NOW)
    second = state.begin_mark_all(NOW)
    state.commit_mark_all(first)
    state.commit_mark_all(first)  # the worker's finally and a rollback may both settle it
    assert state.mark_all_in_flight
    state.rollback_mark_all(second)
    assert not state.mark_all_in_flight
