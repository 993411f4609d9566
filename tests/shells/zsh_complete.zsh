#!/usr/bin/env zsh
# Completes a command line in a real interactive zsh, as a person pressing TAB at its end
# would, and prints every candidate the completion offered, one per line: a test tool, not
# product code.
#
# Usage: zsh -f zsh_complete.zsh FPATH_DIR WORK_DIR LINE
#   FPATH_DIR  a folder holding the completion file (_git-handoff), put first on fpath
#   WORK_DIR   where the shell runs (a repository, for session IDs)
#   LINE       what is typed before TAB, e.g. "git handoff show "
#
# The inner shell runs under zsh/zpty with compinit loaded; `compadd` is wrapped to record
# what each completion function adds (before zsh filters nothing: compadd -A reports the
# matches for the word typed so far).
zmodload zsh/zpty || exit 2
local dir=$1 work=$2 line=$3
local out=$(mktemp)
zpty -b comp "zsh -f -i"
zpty -w comp "PS1=''; PROMPT=''; RPROMPT=''; unsetopt zle_bracketed_paste 2>/dev/null; cd ${(q)work}"
zpty -w comp "fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w comp "zstyle ':completion:*' menu no; zstyle ':completion:*' list-prompt ''"
zpty -w comp "compadd() { local -a __hits; builtin compadd -A __hits \"\$@\"; (( \$#__hits )) && print -rl -- \$__hits >> ${(q)out}; builtin compadd \"\$@\"; }"
# Say when a completion has finished: _main_complete (what TAB runs) wrapped to touch a file.
local finished=$out.finished
zpty -w comp "autoload +X _main_complete; functions[_handoff_main_complete]=\$functions[_main_complete]"
zpty -w comp "_main_complete() { _handoff_main_complete \"\$@\"; local r=\$?; : >> ${(q)finished}; return \$r; }"
zpty -n -w comp "$line"$'\t'
# zsh drops what is typed ahead while it completes: wait until the completion has finished
# before typing on (20 s at most).
local chunk waited=0
until [[ -e $finished ]]; do
  zpty -r -t comp chunk
  (( ++waited > 400 )) && { print -u2 "the completion never finished"; zpty -d comp; exit 3; }
  sleep 0.05
done
# Clear the line, then ask for a marker whose output differs from its typed form.
zpty -n -w comp $'\x15'"print DONE-\$((40+2))"$'\n'
local all="" tries=0
while [[ $all != *DONE-42* ]]; do
  if zpty -r -t comp chunk; then
    all+=$chunk
  else
    (( ++tries > 400 )) && { print -u2 "no answer from the inner zsh"; zpty -d comp; exit 3; }
    sleep 0.05
  fi
done
zpty -d comp
sort -u $out
rm -f $out $finished
