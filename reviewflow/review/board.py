"""The board behind each review event: the reviewflow.toml in force (who was on the board, with
which signing key), git's verdict on members' signatures, and whether an actor wrote the text
they act on (its front-matter `authors`). history.py asks, in a few git processes for all events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reviewflow.config import Config
from reviewflow.configfile import parse_config
from reviewflow.errors import ConfigError, InvalidFile
from reviewflow.files import read_regular
from reviewflow.gitlog import LogEntry, is_object_id
from reviewflow.gitsignatures import signatures
from reviewflow.gitstore import GitStore, read_objects
from reviewflow.layout import CONFIG_FILE
from reviewflow.review.authors import front_matter_authors, listed_authors
from reviewflow.review.changes import FactFile
from reviewflow.review.model import BOARD_ACTIONS, Action
from reviewflow.review.trailers import Trailers

if TYPE_CHECKING:
    from reviewflow.content.article import Document

NO_CONFIG = f"there is no {CONFIG_FILE} in this commit, so nobody was on the advisory board"


def configs_of(
    store: GitStore, blob_of: Mapping[str, str | None], rules_for: Mapping[str, Config] | None = None
) -> dict[str, Config | str]:
    """commit -> the configuration in force for its event: its own reviewflow.toml (each
    version read and parsed once), or RULES_FOR's for the commits it names."""
    rules_for = rules_for or {}
    versions: dict[str, Config | str] = {}
    unusable = "so it cannot say who was on the advisory board"
    for version, raw in store.read_blobs({blob for blob in blob_of.values() if blob}).items():
        try:
            versions[version] = parse_config(raw, f"{CONFIG_FILE} {version[:12]}", past=True)
        except InvalidFile as exc:
            versions[version] = f"the {CONFIG_FILE} in this commit is invalid ({exc.summary()}), {unusable}"
    configs: dict[str, Config | str] = {}
    for commit, blob in blob_of.items():
        rules = rules_for.get(commit)
        if rules is not None:
            configs[commit] = rules
        else:
            configs[commit] = versions.get(blob, NO_CONFIG) if blob else NO_CONFIG
    return configs


def signature_verdicts(
    store: GitStore, said: Sequence[tuple[LogEntry, Trailers]], configs: Mapping[str, Config | str]
) -> dict[str, tuple[str, str]]:
    """git's verdict on the signature of each event made by a member with a signing key then."""
    versions = {id(rules): rules for rules in configs.values() if isinstance(rules, Config)}
    if not any(member.signing_key for rules in versions.values() for member in rules.board):
        return {}  # no board ever had a signing key: nothing to ask git, no event to look at
    commits: list[str] = []
    signers: set[tuple[str, str]] = set()
    signing: dict[int, dict[str, tuple[str, str]]] = {}  # id(config) -> email -> (email, key)
    for entry, _ in said:
        rules = configs.get(entry.commit)
        if not isinstance(rules, Config):
            continue
        keys = signing.get(id(rules))
        if keys is None:
            keys = signing[id(rules)] = {
                m.key: (m.email, m.signing_key) for m in rules.board if m.signing_key
            }
        signer = keys.get(entry.author_email.lower())
        if signer is not None:
            commits.append(entry.commit)
            signers.add(signer)
    return signatures(store, commits, sorted(signers))


def texts_in_question(
    said: Sequence[tuple[LogEntry, Trailers]], want_authors: Mapping[str, Iterable[str]] | None = None
) -> dict[str, set[str]]:
    """blob -> the people to ask that text's authors about: the actor of every board action or
    withdrawal that names it, and WANT_AUTHORS (lowercased)."""
    candidates: dict[str, set[str]] = defaultdict(set)
    # An article's events follow one another, most often on one text: its set is looked up
    # once for them, not in the table of every text each time.
    last, people = "", set()
    for entry, t in said:
        if (t.action in BOARD_ACTIONS or t.action is Action.WITHDRAW) and is_object_id(t.content):
            if t.content != last:
                last, people = t.content, candidates[t.content]
            people.add(entry.author_email.lower())
    for blob, emails in (want_authors or {}).items():
        candidates[blob].update(e.lower() for e in emails)
    return candidates


def authors_of(
    store: GitStore,
    candidates: dict[str, set[str]],
    use_cache: bool,
    look_up: bool = True,
    later: Collection[str] = (),
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """blob -> the people in question (CANDIDATES, `texts_in_question`; taken over) who are
    listed in that text's front-matter `authors`; and for each text of LATER, the people in
    question instead.

    The answers are facts about a blob, so they are kept in .git/reviewflow/; without LOOK_UP
    they are not read there (a few events new since the last run: reading their texts costs less
    than checking the seal of every answer kept). The texts of LATER are not read, to be answered
    after the replay (`listed_later`): only without USE_CACHE, as the facts kept must hold every
    text's answers.
    """
    assert not (later and use_cache), "the authors' facts would be kept without the texts left for later"
    # Most texts have the same few authors, and the same few people in question: one set for
    # each group (a set each was ~40 MB at 100,000 articles, held from here to the end of a run).
    groups: dict[frozenset[str], frozenset[str]] = {}
    waiting: dict[str, frozenset[str]] = {}
    for blob in later:
        if blob in candidates:
            people = frozenset(candidates.pop(blob))
            waiting[blob] = groups.setdefault(people, people)
    facts = FactFile(store, "authors-v1", "authors", use_cache)
    known: dict[tuple[str, str], bool] = {}
    for line in facts.lines() if look_up else ():
        blob, _, rest = line.partition(" ")
        email, _, answer = rest.rpartition(" ")
        if answer in ("0", "1"):
            known[(blob, email)] = answer == "1"
    # In the order the events name them, the newest first (a list, not a set): git reads
    # neighbouring texts from its pack through the same delta bases, and packs the newest
    # first; in hash order, a fresh clone of 30,000 articles spent 31 s of git CPU on 52,000
    # texts instead of ~3 s; the oldest first, git spent 4.14 G instructions on the 17,432
    # texts of the 10,000-article bench corpus, the newest first 3.75 G.
    unknown = [blob for blob, emails in candidates.items() if any((blob, e) not in known for e in emails)]
    unknown.reverse()
    # Each text read: those of its people it lists, one set per group. The facts learned are
    # written a slice at a time: at 100,000 articles, 175,000 texts' answers held as lines and
    # as a table of (text, person) were ~40 MB at the top of a whole read's memory.
    read: dict[str, frozenset[str]] = {}
    learned: list[str] = []
    for blob, listed in listed_authors(store.toplevel, unknown, candidates):
        read[blob] = groups.setdefault(listed, listed)
        learned.extend(
            f"{blob} {email} {int(email in listed)}"
            for email in candidates[blob]
            if " " not in email and "\n" not in email
        )
        if len(learned) >= _FACTS_AT_ONCE:
            facts.append(learned)
            learned = []
    facts.append(learned)
    del learned
    authors: dict[str, frozenset[str]] = {}
    for blob, emails in candidates.items():
        found = read.get(blob)
        if found is None:  # known from the facts kept (or git has no such text)
            found = frozenset(e for e in emails if known.get((blob, e), False))
        authors[blob] = groups.setdefault(found, found)
    return authors, waiting


_FACTS_AT_ONCE = 20_000  # the authors' facts written this many lines at a time


def listed_later(
    store: GitStore,
    asked: Iterable[tuple[str, str]],
    in_question: Mapping[str, frozenset[str]],
    answers: Mapping[str, frozenset[str] | None],
) -> bool:
    """Whether any actor of ASKED (text, actor) is listed in that text's authors, as
    `authors_of` would have answered: the questions a replay answered "not listed" about texts
    whose authors were left for later (`Replay.asked_later`), IN_QUESTION being each such text's
    people in question (`authors_of`). ANSWERS (text -> every email its authors list,
    `parsed_authors`; None or missing: not known) rule most texts out; the rest are read from
    git and searched as `authors_of` searches them, for the same people."""
    unsure: dict[str, set[str]] = defaultdict(set)
    for blob, actor in asked:
        emails = answers.get(blob)
        if emails is None or not emails.isdisjoint(in_question.get(blob, ())):
            unsure[blob].add(actor)
    if not unsure:
        return False
    for blob, raw in store.iter_blobs(list(unsure)):
        people = in_question.get(blob, frozenset())
        if not unsure[blob].isdisjoint(front_matter_authors(raw, people) & people):
            return True
    return False


def parsed_authors(document: Document) -> frozenset[str] | None:
    """Every email `front_matter_authors` could find in a text, from DOCUMENT, its parse (the
    same front-matter read, `read_article_bytes`), or None where that parse cannot say: no
    valid article (over the size limit, a YAML or schema error). The model holds every author
    of the data, each email the data's own string (the model would decode bytes, but the
    front-matter read refuses the tag that makes them, `!!binary`)."""
    if document.article is None:
        return None
    return frozenset(author.email.strip().lower() for author in document.article.authors)


def committed_config(store: GitStore, rev: str | None = None) -> Config:
    """The reviewflow.toml committed at REV (default HEAD): what review state is judged by.

    A ConfigError (exit 2) when it is missing or invalid there; uncommitted edits to the file
    never change who may review.
    """
    return parse_config(_committed_text(store, rev), f"{CONFIG_FILE} (committed at {rev or 'HEAD'})")


def judging_config(store: GitStore, root: Path) -> tuple[Config, bool]:
    """The reviewflow.toml committed at HEAD, which review state is judged by, and whether the
    work tree holds another version of it (which must be valid: `work_tree_config_differs`)."""
    committed = _committed_text(store)
    differs = work_tree_config_differs(root, committed)
    return parse_config(committed, f"{CONFIG_FILE} (committed at HEAD)"), differs


def work_tree_config_differs(root: Path, committed: bytes | None) -> bool:
    """Whether the work tree's reviewflow.toml differs from COMMITTED (HEAD's).

    A version that differs must be valid too (a ConfigError, exit 2, with every problem at
    once): a broken edit is reported by whichever command runs next, not first by `check` or
    at the next commit, and a rule id no rule has is an error in every command.
    """
    try:
        on_disk = read_regular(root, root / CONFIG_FILE)
    except OSError:
        return False  # gone or unreadable: the committed one is all there is
    if on_disk == committed:
        return False
    parse_config(on_disk, f"{CONFIG_FILE} (work tree)", root=root)
    return True


def _committed_text(store: GitStore, rev: str | None = None) -> bytes:
    name = f"{rev or store.head}:{store.prefix}{CONFIG_FILE}"
    raw = read_objects(store, [name]).get(name)
    if raw is None:
        raise ConfigError(
            f"{CONFIG_FILE} is not committed: review state is judged by the committed board, "
            f"so commit it first (git add {CONFIG_FILE} && git commit)"
        )
    return raw
