# Shared by the setup-study scripts (scripts/*_study.sh): source it, then call
#   study_run DIR CONFIG TRIALS [lstmrun train options...]
# It skips DIR if it already holds a finished run (summary.json), else starts it afresh with
# --jobs ${JOBS:-1}, --quiet and --seed $SEED when SEED is set, and prints one line with the
# reading's name (DIR's last two parts) and its wall seconds.
study_run() {
  local dir=$1 cfg=$2 trials=$3
  shift 3
  [ -f "$dir/summary.json" ] && return 0
  rm -rf "$dir"
  local start
  start=$(date +%s)
  # shellcheck disable=SC2086
  lstmrun train "$cfg" --trials "$trials" --jobs "${JOBS:-1}" --out "$dir" --quiet \
    ${SEED:+--seed $SEED} "$@" >/dev/null
  echo "done ${dir#"${dir%/*/*}/"} $(( $(date +%s) - start )) s ($(date -u +%H:%M:%S) UTC)"
}
