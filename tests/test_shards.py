"""Articles in subdirectories of articles/: the slug (the file's stem) stays the identity, unique
under articles/, and a move between directories keeps the text's review record."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.layout import article_slug, is_article_path
from tests.conftest import git, write
from tests.deskclient import Client, running_desk
from tests.gitrepo import ALICE, PATH, RITA, SLUG, act_as, as_json, edit, forge, ok, refused

Run = Callable[..., Result]
NESTED = f"articles/poems/{SLUG}.md"
MOVED = f"articles/ab/cd/{SLUG}.md"


def move(repo: Path, old: str, new: str) -> None:
    (repo / new).parent.mkdir(parents=True, exist_ok=True)
    git(repo, "mv", old, new)
    git(repo, "commit", "-q", "-m", f"Move {old} to {new}")


@pytest.fixture
def nested(content_repo: Path) -> Path:
    """The example article moved to articles/poems/, committed."""
    move(content_repo, PATH, NESTED)
    return content_repo


@pytest.fixture
def approved(nested: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    act_as(monkeypatch, ALICE)
    ok(run(nested, "submit", NESTED, "-m", "Ready for review"))
    act_as(monkeypatch, RITA)
    ok(run(nested, "review", SLUG))
    ok(run(nested, "approve", SLUG, "-m", "Accurate and clear"))
    return nested


def status_of(run: Run, repo: Path, *args: str) -> dict:
    entries = as_json(run(repo, "status", *args, "--format", "json"))
    (entry,) = [e for e in entries if e["article"] == SLUG]
    return entry


# --- the rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        ("articles/a.md", "a"),
        ("articles/poems/a.md", "a"),
        ("articles/0f/1e/a-b.md", "a-b"),
        ("articles/poems/Not-A-Slug.md", None),
        ("docs/a.md", None),
        ("articles.md", None),
        ("articles/../a.md", None),
        ("articles//a.md", None),
        ("articles/poems/a.txt", None),
    ],
)
def test_which_paths_are_articles(path: str, slug: str | None) -> None:
    assert article_slug(path) == slug
    assert is_article_path(path) == (slug is not None or "Not-A-Slug" in path)


# --- check -----------------------------------------------------------------------------------------


def test_check_finds_articles_in_subdirectories(nested: Path, run: Run) -> None:
    write(nested / "articles" / "poems" / "bad.md", "no front-matter\n")
    result = run(nested, "check", "--format", "json")
    assert result.exit_code == 1, result.output
    paths = {f["path"] for f in as_json(result)["findings"]}
    assert paths == {"articles/poems/bad.md"}


def test_two_files_with_one_slug_are_an_error_naming_both(nested: Path, run: Run) -> None:
    write(nested / PATH, (nested / NESTED).read_text(encoding="utf-8"))
    result = run(nested, "check")
    assert result.exit_code == 1, result.output
    both = f"{NESTED} and {PATH}"
    assert f"{PATH}:1:1: error slug-duplicate two articles have the slug '{SLUG}': {both}" in result.output
    assert f"{NESTED}:1:1: error slug-duplicate two articles have the slug '{SLUG}': {both}" in result.output
    # Checking one of them names the other too.
    one = run(nested, "check", NESTED)
    assert one.exit_code == 1 and both in one.output and f"{PATH}:1:1" not in one.output


def test_one_slug_per_file_is_no_duplicate(nested: Path, run: Run) -> None:
    ok(run(nested, "check"))


def test_a_linked_directory_is_not_looked_into(nested: Path, run: Run, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside / "bad.md", "no front-matter\n")
    os.symlink(outside, nested / "articles" / "linked")
    write(nested / "docs" / "notes.md", "no front-matter\n")
    ok(run(nested, "check"))
    entries = as_json(run(nested, "status", "--format", "json"))
    assert [e["article"] for e in entries] == [SLUG]


# --- review, status, verify --------------------------------------------------------------------


def test_the_lifecycle_of_a_nested_article(approved: Path, run: Run) -> None:
    for args in ((), (SLUG,), (NESTED,)):  # the whole history, and one article's
        entry = status_of(run, approved, *args)
        assert entry["state"] == "approved", entry
        assert entry["path"] == NESTED
    ok(run(approved, "verify"))
    history = ok(run(approved, "history", SLUG))
    assert "approve" in history.output


def test_a_move_between_directories_keeps_the_approval(approved: Path, run: Run) -> None:
    move(approved, NESTED, MOVED)
    for args in ((), (SLUG,)):
        entry = status_of(run, approved, *args)
        assert entry["state"] == "approved", entry
        assert entry["path"] == MOVED
    ok(run(approved, "verify"))
    # And back to the top of articles/: the same text, the same approval.
    move(approved, MOVED, PATH)
    assert status_of(run, approved, SLUG)["state"] == "approved"
    assert status_of(run, approved)["path"] == PATH


def test_a_move_that_changes_the_text_is_a_draft(approved: Path, run: Run) -> None:
    (approved / MOVED).parent.mkdir(parents=True)
    git(approved, "mv", NESTED, MOVED)
    with (approved / MOVED).open("a", encoding="utf-8") as handle:
        handle.write("\nOne more sentence about POEMS syndrome.\n")
    git(approved, "commit", "-q", "-am", "Move and edit")
    for args in ((), (SLUG,)):
        entry = status_of(run, approved, *args)
        assert entry["state"] == "draft", entry


def test_an_action_on_a_duplicate_slug_is_refused(
    nested: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(nested / "articles" / "other" / f"{SLUG}.md", (nested / NESTED).read_text(encoding="utf-8"))
    git(nested, "add", "-A")
    git(nested, "commit", "-q", "-m", "A second file with the same slug")
    act_as(monkeypatch, ALICE)
    refused(run(nested, "submit", SLUG, "-m", "Ready"), "two articles have the slug", NESTED)


def test_a_new_nested_file_not_committed_is_listed_and_refused(nested: Path, run: Run) -> None:
    write(nested / "articles" / "poems" / "fresh.md", (nested / NESTED).read_text(encoding="utf-8"))
    result = ok(run(nested, "status"))
    assert "articles/poems/fresh.md" in result.output
    refused(run(nested, "submit", "fresh", "-m", "Ready"), "articles/poems/fresh.md is not committed yet")


# --- ci ------------------------------------------------------------------------------------------


def test_ci_passes_a_move_that_keeps_the_approved_text(approved: Path, run: Run) -> None:
    git(approved, "switch", "-q", "-c", "move")
    move(approved, NESTED, MOVED)
    result = run(approved, "ci", "--base", "main", "--require-approved")
    assert result.exit_code == 0, result.output


def test_ci_refuses_a_second_file_with_a_slug(nested: Path, run: Run) -> None:
    git(nested, "switch", "-q", "-c", "twin")
    write(nested / "articles" / "zz" / f"{SLUG}.md", (nested / NESTED).read_text(encoding="utf-8"))
    git(nested, "add", "-A")
    git(nested, "commit", "-q", "-m", "A twin")
    result = run(nested, "ci", "--base", "main")
    assert result.exit_code == 1, result.output
    assert f"articles/zz/{SLUG}.md:1:1: error slug-duplicate two articles have the slug" in result.output
    assert f"{NESTED} and articles/zz/{SLUG}.md" in result.output


@pytest.mark.parametrize("where", ["nested", "flat"])
def test_an_event_about_another_text_is_reported_at_the_file_where_it_is(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """verify's reason and ci's finding name the article's file where it is: in its subdirectory
    for a nested article, articles/<slug>.md for one directly in articles/."""
    path = NESTED if where == "nested" else PATH
    if where == "nested":
        move(content_repo, PATH, NESTED)
    git(content_repo, "switch", "-q", "-c", "forged")
    act_as(monkeypatch, RITA)
    forge(content_repo, "review", content="0" * 40)
    verify = run(content_repo, "verify")
    assert verify.exit_code == 1, verify.output
    assert f"but {path} in this commit is blob" in verify.output
    ci = run(content_repo, "ci", "--base", "main")
    assert ci.exit_code == 1, ci.output
    assert f"{path}:1:1: error review-event-invalid review by rita@board.example" in ci.output
    if where == "nested":
        assert f"articles/{SLUG}.md" not in verify.output + ci.output


# --- publish, desk, new ------------------------------------------------------------------------------


def test_publish_serves_a_nested_article_at_its_slug(approved: Path, run: Run) -> None:
    result = run(approved, "publish", "--out", "public")
    assert result.exit_code == 0, result.output
    pages = [p.relative_to(approved / "public").as_posix() for p in (approved / "public").rglob(f"{SLUG}*")]
    assert pages == [f"articles/{SLUG}"]  # the slug's address, whatever directory holds the file


def test_publish_refuses_two_files_with_one_slug(approved: Path, run: Run) -> None:
    write(approved / "articles" / "zz" / f"{SLUG}.md", "not reviewed\n")
    git(approved, "add", "-A")
    git(approved, "commit", "-q", "-m", "A twin")
    result = run(approved, "publish", "--out", "public")
    assert result.exit_code == 1, result.output
    assert (
        f"cannot publish: two articles have the slug '{SLUG}': {NESTED} and articles/zz/{SLUG}.md"
        in result.output
    )
    assert not (approved / "public").exists()


@pytest.fixture
def client(nested: Path) -> Iterator[Client]:
    with running_desk(nested) as server:
        browser = Client(server)
        assert browser.login().status == 303
        yield browser


def test_the_desk_shows_a_nested_article(client: Client, nested: Path, run: Run) -> None:
    page = client.get(f"/articles/{SLUG}")
    assert page.status == 200
    assert page.has(NESTED)


def test_new_writes_into_the_directory_given(content_repo: Path, run: Run) -> None:
    result = ok(run(content_repo, "new", "Is POEMS syndrome inherited?", "--condition", "POEMS syndrome",
                    "--dir", "articles/poems"))  # fmt: skip
    assert result.output.strip() == "created articles/poems/is-poems-syndrome-inherited.md"
    assert "POEMS syndrome" in (content_repo / "articles/poems/is-poems-syndrome-inherited.md").read_text()


@pytest.mark.parametrize("directory", ["docs", "articles/../docs", "/tmp/articles"])
def test_new_refuses_a_directory_outside_articles(content_repo: Path, run: Run, directory: str) -> None:
    result = run(content_repo, "new", "Some title", "--condition", "POEMS syndrome", "--dir", directory)
    assert result.exit_code == 2, result.output
    assert f"--dir {directory}: an article lives in articles/ or a directory under it" in result.output


def test_new_refuses_a_slug_taken_in_another_directory(nested: Path, run: Run) -> None:
    title = "What is POEMS syndrome"
    refused(run(nested, "new", title, "--condition", "POEMS syndrome"), f"{NESTED} already has the slug")


def test_the_benchmark_corpus_in_shards_verifies(tmp_path: Path, run: Run) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import corpus  # the benchmark's generator: articles/<2 hex>/<slug>.md, a real review history

    repo = tmp_path / "library"
    corpus.generate(repo, 60)
    files = sorted(p.relative_to(repo).as_posix() for p in (repo / "articles").rglob("*.md"))
    assert len(files) == 60 and all(len(path.split("/")) == 3 for path in files)
    ok(run(repo, "verify"))
    entries = as_json(run(repo, "status", "--format", "json"))
    assert sorted(e["path"] for e in entries) == files
    assert any(e["state"] == "approved" for e in entries)


def test_a_counterpart_in_another_directory_is_found(nested: Path, run: Run) -> None:
    from tests.conftest import article_text

    pro = nested / "articles" / "pro" / "poems-for-clinicians.md"
    write(pro, article_text(audience="professional", extra=f"counterpart: {SLUG}\n"))
    found = ok(run(nested, "check", "articles/pro/poems-for-clinicians.md"))
    assert "counterpart" not in found.output, found.output
    write(pro, article_text(audience="professional", extra="counterpart: no-such-article\n"))
    missing = run(nested, "check", "articles/pro/poems-for-clinicians.md")
    assert "counterpart-unknown counterpart 'no-such-article'" in missing.output, missing.output


# --- what a user reads about a nested article: its real file, never articles/<slug>.md --------------


def add_line(repo: Path, line: str = "One more sentence about POEMS syndrome.") -> None:
    with (repo / NESTED).open("a", encoding="utf-8") as handle:
        handle.write(f"\n{line}\n")


def test_an_action_on_uncommitted_changes_names_the_nested_file(
    nested: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_line(nested)
    act_as(monkeypatch, ALICE)
    refused(
        run(nested, "submit", SLUG, "-m", "Ready"),
        f"{NESTED} has uncommitted changes",
        f"(git add {NESTED} && git commit)",
        f"(git restore --staged --worktree {NESTED})",
    )


def test_submit_names_the_nested_file_that_fails_check(
    nested: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    article = nested / NESTED
    article.write_text(article.read_text("utf-8").replace("audience: patient", "audience: martians"), "utf-8")
    git(nested, "commit", "-q", "-am", "Break the audience")
    act_as(monkeypatch, ALICE)
    refused(
        run(nested, "submit", SLUG),
        f"{NESTED} fails `reviewflow check` with 1 error(s)",
        f"Fix them (reviewflow check {NESTED}), commit, and submit again",
    )


def test_history_and_diff_name_the_nested_file(
    nested: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ALICE)
    ok(run(nested, "submit", SLUG, "-m", "Ready"))
    history = ok(run(nested, "history", SLUG))
    assert history.output.startswith(f"{SLUG} ({NESTED}): submitted"), history.output
    add_line(nested)
    diff = ok(run(nested, "diff", SLUG))
    assert f"+++ b/{NESTED} (HEAD " in diff.output, diff.output
    assert f"Note: {NESTED} has uncommitted changes, not shown" in diff.output, diff.output


def test_the_desk_names_the_nested_file_edited_after_the_page_was_loaded(
    nested: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ALICE)
    ok(run(nested, "submit", SLUG, "-m", "Ready"))
    act_as(monkeypatch, RITA)
    assert client.act(SLUG, "review").status == 303
    page = client.get(f"/articles/{SLUG}")
    act_as(monkeypatch, ALICE)
    edit(nested, "A sentence the reviewer has not read.", path=NESTED)
    act_as(monkeypatch, RITA)
    reply = client.act(SLUG, "approve", page=page)
    assert reply.status == 409
    assert reply.has(f"{NESTED} changed since this page was loaded")
    assert not reply.has(f"{PATH} changed")


def test_the_help_of_submit_says_an_article_may_be_in_a_subdirectory(run: Run, nested: Path) -> None:
    result = ok(run(nested, "submit", "--help"))
    assert "ARTICLE is a slug or the path of its file (articles/[<dirs>/]<slug>.md)" in result.output
