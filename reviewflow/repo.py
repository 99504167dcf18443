"""The library entry point: one content repo, and everything reviewflow does with it.

`ContentRepo.open(path)` finds the repo as the CLI does; each method delegates to one core
function and returns the result object the CLI's views and reporters render. Failures raise
the `ReviewflowError` family (`reviewflow.errors`), each with the exit code the CLI uses.
Each method imports what it runs, so that `status` loads neither the checks nor the site.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from reviewflow.layout import locate_root

if TYPE_CHECKING:
    from reviewflow.checks.workspace import Report, Workspace
    from reviewflow.ci.gate import CiResult
    from reviewflow.config import Config
    from reviewflow.gitstore import GitStore
    from reviewflow.publish.build import PublishResult
    from reviewflow.references.fetch import FetchReport
    from reviewflow.references.lockfile import Work
    from reviewflow.review.acknowledge import Acceptance
    from reviewflow.review.actions import ActionResult
    from reviewflow.review.model import Action, ArticleStatus
    from reviewflow.review.queries import (
        ArticleDiff,
        ArticleHistory,
        ArticleJudged,
        QueueItem,
        StatusReport,
        Verification,
    )

# Given the number of files, a context that yields a function told how many more are done.
Progress = Callable[[int], AbstractContextManager[Callable[[int], None]]]


def _no_progress(total: int) -> AbstractContextManager[Callable[[int], None]]:
    return nullcontext(lambda done: None)


class ContentRepo:
    """A content repo: reviewflow.toml, schemas/, articles/, in a git repository.

    Relative paths (an article's path, the paths to check, the site's directory) are taken from
    the directory the repo was opened from, as `reviewflow -C DIR` takes them from DIR. The
    review state is read from git by every call, so it is never stale; the work tree's
    reviewflow.toml (which `check` and the actions use) is read once, when first needed.
    """

    def __init__(self, root: Path, cwd: Path | None = None) -> None:
        self.root = root
        self.cwd = cwd if cwd is not None else root
        # Set by the calls that show review state: the work tree's reviewflow.toml differs from
        # the committed one, which judged what they show.
        self.config_uncommitted = False

    @classmethod
    def open(cls, path: Path | str = ".", *, paths: Sequence[Path | str] = ()) -> ContentRepo:
        """The content repo at or above PATH (the nearest directory with reviewflow.toml), else
        the one that holds PATHS (pre-commit runs at the top of the git work tree)."""
        start = Path(path)
        return cls(locate_root(start, [start / p for p in paths]), start)

    def __repr__(self) -> str:
        return f"ContentRepo({str(self.root)!r})"

    def path(self, value: Path | str) -> Path:
        """VALUE taken from the directory the repo was opened from."""
        return self.cwd / value  # an absolute VALUE stays as it is

    @cached_property
    def workspace(self) -> Workspace:
        """The article files on disk and the work tree's reviewflow.toml, validated."""
        from reviewflow.checks.workspace import Workspace

        return Workspace.open(self.root)

    @property
    def config(self) -> Config:
        return self.workspace.config

    # --- the checks ---------------------------------------------------------------------------------

    def check(
        self,
        paths: Sequence[Path | str] = (),
        *,
        strict: bool = False,
        use_cache: bool = True,
        progress: Progress | None = None,
    ) -> Report:
        """Check PATHS (default: every article under articles/); STRICT: warnings fail too."""
        files = self.workspace.article_files([self.path(p) for p in paths])
        with (progress or _no_progress)(len(files)) as advance:
            report = self.workspace.check(files, use_cache=use_cache, advance=advance, every=not paths)
        return replace(report, strict=strict)

    # --- reference identity: the only commands that use the network ---------------------------------

    def refs_fetch(
        self,
        paths: Sequence[Path | str] = (),
        *,
        max_age_days: int | None = None,
        refresh: bool = False,
        dry_run: bool = False,
    ) -> FetchReport:
        """Resolve the DOIs, PMIDs and PMCIDs of PATHS' references (default: every article's)
        into articles/references.lock.json: those missing, older than MAX_AGE_DAYS, or (REFRESH)
        all. DRY_RUN: only the plan, no request."""
        from reviewflow.references.fetch import fetch_references

        workspace = self.workspace
        files = workspace.article_files([self.path(p) for p in paths])
        return fetch_references(
            self.root,
            workspace.config,
            workspace.references_of(files),
            every_article=not paths,
            max_age_days=max_age_days,
            refresh=refresh,
            dry_run=dry_run,
        )

    def refs_show(self, identifier: str) -> Work:
        """The lockfile's entry for IDENTIFIER (a DOI, PMID or PMCID)."""
        from reviewflow.references.lockfile import lookup

        return lookup(self.root, identifier)

    # --- the review state, read from git -------------------------------------------------------------

    def judging(self) -> tuple[Config, GitStore]:
        """The committed reviewflow.toml, which review state is judged by, and the repository
        it is read from. The work tree's copy must be valid too (ConfigError otherwise);
        `config_uncommitted` says whether it differs."""
        from reviewflow.gitstore import GitStore
        from reviewflow.review.board import judging_config

        store = GitStore.open(self.root)
        config, self.config_uncommitted = judging_config(store, self.root)
        return config, store

    def status(self, articles: Sequence[str] = ()) -> StatusReport:
        """Where ARTICLES (slugs or paths; default: every article) stand."""
        from reviewflow.review.queries import status_report

        config, store = self.judging()
        return status_report(self.root, articles, config=config, cwd=self.cwd, store=store)

    def history(self, article: str) -> ArticleHistory:
        """Every review event of ARTICLE, oldest first, valid or not."""
        from reviewflow.review.queries import article_history

        config, store = self.judging()
        return article_history(self.root, article, config=config, cwd=self.cwd, store=store)

    def diff(self, article: str, *, context: int = 3) -> ArticleDiff:
        """What changed in ARTICLE since its last approved version."""
        from reviewflow.review.queries import article_diff

        config, store = self.judging()
        return article_diff(self.root, article, config=config, cwd=self.cwd, context=context, store=store)

    def judge_article(self, article: str) -> ArticleJudged:
        """ARTICLE as the whole history judges it: its status, and when its texts appeared."""
        from reviewflow.review.queries import judge_article, resolve_article

        config, store = self.judging()
        return judge_article(store, config, resolve_article(self.root, article, self.cwd))

    def history_and_diff(
        self, article: str, *, context: int = 3, judged: ArticleJudged | None = None
    ) -> tuple[ArticleHistory, ArticleDiff]:
        """`history(ARTICLE)` and `diff(ARTICLE, context=CONTEXT)`, from one judged history
        (JUDGED: `judge_article(ARTICLE)`, when the caller has it already)."""
        from reviewflow.review.queries import article_history_and_diff

        config, store = self.judging()
        return article_history_and_diff(
            self.root, article, config=config, cwd=self.cwd, context=context, store=store, judged=judged
        )

    def queue(self, *, mine: bool = False) -> list[QueueItem]:
        """The articles waiting for a reviewer, longest waiting first; MINE: the acting person's."""
        from reviewflow.review.queries import review_queue

        config, store = self.judging()
        return review_queue(self.root, config=config, mine=mine, store=store)

    def queue_and_statuses(self, *, mine: bool = False) -> tuple[list[QueueItem], list[ArticleStatus]]:
        """`queue(mine=MINE)` and `status().statuses`, from one judged history."""
        from reviewflow.review.queries import review_state

        config, store = self.judging()
        return review_state(self.root, config=config, mine=mine, store=store)

    def verify(self, rev_range: str | None = None, *, use_cache: bool = True) -> Verification:
        """Every review event in the history (or in REV_RANGE, "A..B"), judged."""
        from reviewflow.review.queries import verify

        config, store = self.judging()
        return verify(self.root, rev_range, config=config, use_cache=use_cache, store=store)

    # --- the review actions: each one a commit, made as git's author identity -------------------------

    def act(
        self,
        action: Action | str,
        article: str,
        message: str = "",
        *,
        sign: bool = False,
        accept: Acceptance | None = None,
    ) -> ActionResult:
        """Record ACTION on ARTICLE as a commit on the current branch; `Refused` says why not.
        An approval acknowledges the text's warnings ACCEPT covers (review/acknowledge.py)."""
        from reviewflow.review.actions import act
        from reviewflow.review.model import Action

        return act(
            self.root, self.config, Action(action), article, message, sign=sign, cwd=self.cwd, accept=accept
        )

    def submit(self, article: str, message: str = "", *, sign: bool = False) -> ActionResult:
        return self.act("submit", article, message, sign=sign)

    def review(self, article: str, message: str = "", *, sign: bool = False) -> ActionResult:
        return self.act("review", article, message, sign=sign)

    def request_changes(self, article: str, message: str, *, sign: bool = False) -> ActionResult:
        return self.act("request-changes", article, message, sign=sign)

    def approve(
        self,
        article: str,
        message: str = "",
        *,
        sign: bool = False,
        accept_warnings: bool = False,
        accept: Sequence[str] = (),
    ) -> ActionResult:
        """Approve ARTICLE; refused while its text has warnings not acknowledged, every one
        (ACCEPT_WARNINGS) or those of the rule ids in ACCEPT. The commit records them."""
        from reviewflow.review.acknowledge import Acceptance

        acceptance = Acceptance(everything=accept_warnings, rules=frozenset(accept))
        return self.act("approve", article, message, sign=sign, accept=acceptance)

    def withdraw(self, article: str, message: str = "", *, sign: bool = False) -> ActionResult:
        return self.act("withdraw", article, message, sign=sign)

    # --- the merge gate and the site ------------------------------------------------------------------

    def ci(self, base: str, *, require_approved: bool = False, strict: bool = False) -> CiResult:
        """Gate the change from the merge-base of BASE (a ref) and HEAD."""
        from reviewflow.ci.gate import run_ci

        result = run_ci(self.root, base, require_approved=require_approved, strict=strict)
        self.config_uncommitted = result.config_uncommitted
        return result

    def publish(
        self,
        out: Path | str = "site",
        *,
        preview: bool = False,
        base_url: str | None = None,
        use_cache: bool = True,
    ) -> PublishResult:
        """Build the site from the last approved version of every article into OUT, replaced whole."""
        from reviewflow.publish.build import publish

        config, store = self.judging()
        return publish(
            self.root,
            self.path(out),
            config=config,
            store=store,
            preview=preview,
            base_url=base_url,
            use_cache=use_cache,
        )
