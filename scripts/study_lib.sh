# Shared by the setup-study scripts (scripts/*_study.sh): source it, then call
#   study_run DIR CONFIG TRIALS [lstmrun train options...]
# It skips DIR if it already holds a finished run (meta.json's status "finished"; an interrupted
# run writes summary.json too, so that file does not tell), resumes it if it holds an
# unfinished one (a run folder: config.yaml; its finished trials are kept, `lstmrun train
# --resume`), else starts it afresh with --jobs ${JOBS:-1}, --quiet and --seed $SEED when SEED is
# set, and prints one line with the reading's name (DIR's last two parts) and its wall seconds.
study_run() {
  local dir=$1 cfg=$2 trials=$3
  shift 3
  run_finished "$dir" && return 0
  local start
  start=$(date +%s)
  if [ -f "$dir/config.yaml" ]; then
    lstmrun train --resume "$dir" --jobs "${JOBS:-1}" --quiet >/dev/null
  else
    rm -rf "$dir"
    # shellcheck disable=SC2086
    lstmrun train "$cfg" --trials "$trials" --jobs "${JOBS:-1}" --out "$dir" --quiet \
      ${SEED:+--seed $SEED} "$@" >/dev/null
  fi
  echo "done ${dir#"${dir%/*/*}/"} $(( $(date +%s) - start )) s ($(date -u +%H:%M:%S) UTC)"
}

# reading FILE NAME: the options of reading NAME in the YAML file FILE (scripts/readings/*.yaml);
# an unknown name stops the study with the names there.
reading() {
  python3 - "$1" "$2" <<'PY'
import sys, yaml
table = yaml.safe_load(open(sys.argv[1]))
if sys.argv[2] not in table:
    sys.exit(f"unknown reading {sys.argv[2]!r} in {sys.argv[1]}; readings: {', '.join(table)}")
print(table[sys.argv[2]])
PY
}

# run_finished DIR: DIR is a run folder whose run finished (its meta.json says so)
run_finished() {
  python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["status"] != "finished")' \
    "$1/meta.json" 2>/dev/null
}
