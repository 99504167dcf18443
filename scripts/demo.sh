#!/usr/bin/env bash
# `make demo`: play the whole editorial workflow on the bundled POEMS syndrome articles, in a
# throwaway git repository (demo-repo/), and publish the approved articles as a website.
set -euo pipefail

# Bold headings on a terminal only, and never when NO_COLOR is set (https://no-color.org), as
# reviewflow itself does: piped into a file or a CI log, the output holds no escape codes.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$'\033[1m' plain=$'\033[0m'
else
  bold='' plain=''
fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
as() {  # as NAME EMAIL: act as this person for the next git commits and reviewflow actions
  export GIT_AUTHOR_NAME="$1" GIT_AUTHOR_EMAIL="$2" GIT_COMMITTER_NAME="$1" GIT_COMMITTER_EMAIL="$2"
}
# Sourced (by the tests), the script stops here: only the functions above are defined.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 0; fi

cd "$(dirname "$0")/.."
project=$(pwd)
rf="$project/.venv/bin/reviewflow"
demo="$project/demo-repo"

# A throwaway content repo: the project's articles, config and schema, with its own history.
rm -rf "$demo"
mkdir -p "$demo"
cp -R "$project/articles" "$project/schemas" "$project/reviewflow.toml" "$demo/"
cd "$demo"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1  # the demo never uses your git identity
git init -q -b main
as "Reviewflow Editorial Team" "editors@reviewflow.example"
git add -A
git commit -q -m "Add the POEMS syndrome articles"

step "An author checks the articles (warnings are allowed, errors are not)"
"$rf" check || true

step "The author submits every article for medical review"
for article in articles/*.md; do
  "$rf" submit "$article" -m "Ready for review"
done

step "Dr. Ada Example (hematology) picks up the queue"
as "Dr. Ada Example" "ada.example@board.example"
"$rf" queue
for slug in poems-syndrome-can-it-be-cured poems-syndrome-first-line-treatment \
            poems-syndrome-treatment-by-disease-extent poems-syndrome-prognosis \
            poems-syndrome-research-directions; do
  "$rf" review "$slug"
done

step "She approves four articles and asks for changes on one"
"$rf" approve poems-syndrome-can-it-be-cured -m "Accurate; the remission wording is right"
"$rf" approve poems-syndrome-first-line-treatment -m "Matches current practice"
"$rf" approve poems-syndrome-treatment-by-disease-extent -m "Algorithm checked against the sources"
"$rf" approve poems-syndrome-prognosis -m "Clear and careful about numbers"
"$rf" request-changes poems-syndrome-research-directions \
  -m "Name the source for each study you describe before this goes live"

step "Where everything stands"
"$rf" status

step "The audit trail of one article, straight from git"
"$rf" history poems-syndrome-can-it-be-cured

step "Anyone can verify every review event in the history"
"$rf" verify

step "Publish the approved articles as a static website"
"$rf" publish --out "$demo/site" --base-url https://library.reviewflow.example

echo
echo "Look at:"
echo "  $demo/site/index.html          the published site (approved articles only)"
echo "  git -C demo-repo log           every review action is a commit with trailers"
echo "  README.md                      what each command, rule and exit code means"
echo
echo "Review in the browser as the demo's board member (nothing is left running; Ctrl-C stops it):"
echo "  cd demo-repo && git config user.name 'Dr. Ada Example' && git config user.email ada.example@board.example"
echo "  ../.venv/bin/reviewflow serve --open       (or open the address it prints)"
