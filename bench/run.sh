#!/usr/bin/env bash
# bench/run.sh measures issue 3's speed and memory targets side by side on
# this machine and prints one table (bench/HISTORY.md records its runs, BENCHMARKS.md the last figures):
#
#   1. events/s through the whole runner (runner.Run) from bench/replay, a
#      fake ansible-playbook replaying a stream recorded from a real run
#      (bench/testdata/loop200.pty), with job_events files off and on, under
#      a pty (the real path) and through a pipe (Config.NoPTY), and under a
#      pty again with GOGC=200, the GC target `arunner run` sets;
#   1b. what the job_events rows are up against: bench/files creating as many
#      files of a job_events file's mean size as a run writes, the way the
#      runner's sink does, with nothing else running;
#   2. the runner process's peak RSS (getrusage RUSAGE_SELF) at 10k, 100k
#      and 1M events;
#   3. real ansible-core on localhost, one debug task looping over
#      BENCH_ITEMS items: wall time and user+sys CPU of the whole process
#      tree for bare ansible-playbook (stdout to a file), the same under a
#      pty, ansible with arunner's plugin under a pty but no runner (these
#      two split the cost), `arunner run` and `ansible-runner run`; and
#      runner.Run on the same playbook (bench/throughput -items), which
#      reports the runner's own CPU apart from ansible's; and
#      bench/plugincost.py, the CPU a loop item's callback costs ansible,
#      with ansible's default callback and with arunner's plugin;
#   4. the CPU and wall targets themselves: BENCH_PAIRS pairs of bare
#      ansible-playbook and `arunner run`, the two runs of a pair back to
#      back and their order alternating from pair to pair (ABBA), each
#      pair's ratio taken, and the median of those with an interval.
#
# Each run's private data dir is removed right after it, except on ext4
# without a journal, where they stay until the end (-keep): removing many
# files there slows down creating files for a while afterwards. Kept
# elsewhere, the files of a 5-repetition run (2M, ~8 GB of pages) slow down
# every later run as they fill memory: on tmpfs, bench/files fell from 113k
# files/s to 37k as 1.4M kept files grew to 5.4 GB (bench/HISTORY.md).
# BENCH_KEEP=1 keeps them anyway, BENCH_KEEP=0 never.
#
# Each measurement is repeated BENCH_REPS times (runs interleaved, so a
# change of machine load hits all variants alike) and the median reported.
# Usage: bench/run.sh (or `make bench`). Knobs: BENCH_REPS (3), BENCH_EVENTS
# (100000), BENCH_ITEMS (5000), BENCH_RSS_MAX (1000000), BENCH_PAIRS (16),
# BENCH_DIR (where private data dirs go; default $TMPDIR: its filesystem is
# what the job_events rows measure), BENCH_SKIP_ANSIBLE=1 to skip parts 3
# and 4, BENCH_KEEP (above).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
GO=${GO:-go}
REPS=${BENCH_REPS:-3}
EVENTS=${BENCH_EVENTS:-100000}
ITEMS=${BENCH_ITEMS:-5000}
RSS_MAX=${BENCH_RSS_MAX:-1000000}
PAIRS=${BENCH_PAIRS:-16}
STREAM=bench/testdata/loop200.pty

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/arunner-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
$GO build -o "$work/replay" ./bench/replay
$GO build -o "$work/throughput" ./bench/throughput
$GO build -o "$work/arunner" ./cmd/arunner
$GO build -o "$work/record" ./bench/record
$GO build -o "$work/files" ./bench/files

median() { sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]; else print "n/a"}'; }
# medianci prints a distribution-free interval for the median of its input
# numbers: the k-th smallest to the k-th largest, for the largest k that
# still covers the median with probability >= 95% (1 - 2 P(Bin(n, 1/2) < k)),
# with that probability. With few numbers it is their whole range.
medianci() {
	sort -g | awk '{v[NR]=$1} END {
		n = NR; if (n == 0) { print "n/a"; exit }
		k = 1; cov = 1 - 2 / 2^n; p = 1 / 2^n; cum = 0
		for (i = 0; 2 * (i + 1) <= n; i++) {
			cum += p # P(X <= i)
			if (1 - 2 * cum < 0.95) break
			k = i + 1; cov = 1 - 2 * cum
			p = p * (n - i) / (i + 1)
		}
		printf "%s-%s (%.0f%%)", v[k], v[n - k + 1], 100 * cov
	}'
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

echo "== machine: $(nproc) cores, $(uptime | sed 's/.*load average/load average/'), go $($GO env GOVERSION)"
echo "== $(ansible-playbook --version | sed -n 1p), $(ansible-runner --version 2>/dev/null | sed -n "1s/^/ansible-runner /p")"
fstype=$(df --output=fstype "$work" | tail -1)
if [ "$fstype" = ext4 ]; then
	# ext4 without a journal checks every candidate inode for a recent
	# deletion, one at a time: creating files there soon after removing
	# many is much slower. Say which kind this is.
	dev=$(basename "$(df --output=source "$work" | tail -1)")
	if ls /proc/fs/jbd2 2>/dev/null | grep -q "^$dev-"; then fstype="ext4, journaled"; else fstype="ext4, no journal"; fi
fi
case "${BENCH_KEEP:-}" in
1) keep=(-keep) ;;
0) keep=() ;;
*) keep=(); [ "$fstype" = "ext4, no journal" ] && keep=(-keep) ;;
esac
kept="each removed after its run"
[ ${#keep[@]} -gt 0 ] && kept="kept until the end"
echo "== private data dirs under $(dirname "$work") ($fstype), $kept"

# 1. Throughput.
declare -A tput
for rep in $(seq "$REPS"); do
	for via in pty pipe "pty, GOGC=200"; do
		for je in off on; do
			args=(-replay "$work/replay" -stream "$STREAM" -events "$EVENTS" -dir "$work" "${keep[@]}")
			[ "$je" = on ] && args+=(-job-events)
			[ "$via" = pipe ] && args+=(-nopty)
			# The last variant runs with the GC target `arunner run` sets.
			gogc=${GOGC:-}
			[ "$via" = "pty, GOGC=200" ] && gogc=200
			sync # the last run's files reach the disk before this one starts
			line=$(GOGC=$gogc "$work/throughput" "${args[@]}")
			echo "   run $rep: $line${gogc:+ GOGC=$gogc}"
			tput[$via.$je]+="$(field events_per_s <<<"$line") "
		done
	done
	sync
	line=$("$work/files" -n "$EVENTS" -dir "$work" "${keep[@]}")
	echo "   run $rep: files: $line"
	tput[files]+="$(field files_per_s <<<"$line") "
done

# 2. Peak RSS (one process per size: maxrss is a high-water mark).
declare -A rss
for n in 10000 100000 "$RSS_MAX"; do
	for je in off on; do
		# 1M job_events files take minutes on a slow disk; on-mode stops at 100k.
		if [ "$je" = on ] && [ "$n" -gt 100000 ]; then continue; fi
		args=(-replay "$work/replay" -stream "$STREAM" -events "$n" -dir "$work" "${keep[@]}")
		[ "$je" = on ] && args+=(-job-events)
		sync
		line=$("$work/throughput" "${args[@]}")
		echo "   rss: $line"
		rss[$n.$je]=$(field maxrss_mib <<<"$line")
	done
done

# 3. Real ansible-core.
declare -A wall cpu
split_runner="" split_ansible="" plugincost_default="" plugincost_arunner=""
if [ "${BENCH_SKIP_ANSIBLE:-}" != 1 ]; then
	pdd="$work/pdd"
	mkdir -p "$pdd/project" "$pdd/inventory"
	cat >"$pdd/project/loop.yml" <<-EOF
	- hosts: all
	  gather_facts: false
	  tasks:
	    - name: loop over items
	      debug:
	        msg: "item {{ item }}"
	      loop: "{{ range($ITEMS) | list }}"
	EOF
	echo "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3" >"$pdd/inventory/hosts"
	cp -r "$pdd" "$work/pdd-arunner"
	cp -r "$pdd" "$work/pdd-runner"
	# bash's time reports the wall time and the user+sys CPU of every
	# process it waited for, children of children included.
	timed() {
		local name=$1
		shift
		local t
		t=$( { TIMEFORMAT='%R %U %S'; time "$@" >"$work/$name.out" 2>&1; } 2>&1 ) ||
			{ echo "$name failed:"; tail -5 "$work/$name.out"; exit 1; }
		read -r w u s <<<"$t"
		wall1[$name]=$w
		cpu1[$name]=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.3f", u+s}')
		local label="run $rep"
		case $rep in
		pair*) label=$rep ;; # part 4's runs stay out of part 3's medians
		*) wall[$name]+="$w " cpu[$name]+="${cpu1[$name]} " ;;
		esac
		echo "   $label: $name wall=${w}s cpu=$(printf %.2f "${cpu1[$name]}")s"
	}
	# The two runs the targets compare, in parts 3 and 4.
	timed_bare() { timed bare ansible-playbook -i "$pdd/inventory/hosts" "$pdd/project/loop.yml"; }
	timed_arunner() { timed arunner "$work/arunner" run "$work/pdd-arunner" -p loop.yml --ident "$1"; }
	# ratio A B: A/B of this repetition's runs, which ran minutes apart at
	# most; the median of these paired ratios is steadier than the ratio
	# of medians when the machine's speed drifts during the benchmark.
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a/b}'; }
	declare -A wall1 cpu1 pair
	for rep in $(seq "$REPS"); do
		sync
		timed_bare
		# The same playbook (localhost via -i localhost, -c local) under a
		# pty with no runner: ansible's default callback, then arunner's
		# plugin, the bytes copied to /dev/null.
		timed bare-pty "$work/record" -plugin=false -items "$ITEMS" -o /dev/null
		timed plugin-pty "$work/record" -side-band -items "$ITEMS" -o /dev/null
		timed_arunner "r$rep"
		timed ansible-runner ansible-runner run "$work/pdd-runner" -p loop.yml --ident "r$rep"
		# The runner's own CPU (getrusage SELF), apart from ansible's tree.
		line=$("$work/throughput" -items "$ITEMS" -job-events -dir "$work" "${keep[@]}")
		echo "   run $rep: split: $line"
		split_runner+="$(field runner_cpu_s <<<"$line") "
		split_ansible+="$(field ansible_cpu_s <<<"$line") "
		for name in arunner ansible-runner; do
			pair[$name.wall]+="$(ratio "${wall1[$name]}" "${wall1[bare]}") "
			pair[$name.cpu]+="$(ratio "${cpu1[$name]}" "${cpu1[bare]}") "
		done
		# The plugin's own CPU per event, without the noise of a whole run.
		line=$(/usr/bin/python3 bench/plugincost.py 5000)
		echo "$line" | sed "s/^/   run $rep: plugincost: /"
		plugincost_default+="$(grep callback=default <<<"$line" | field cpu_us_per_item) "
		plugincost_arunner+="$(grep callback=arunner <<<"$line" | field cpu_us_per_item) "
		echo "   run $rep: paired x bare: arunner wall $(ratio "${wall1[arunner]}" "${wall1[bare]}") cpu $(ratio "${cpu1[arunner]}" "${cpu1[bare]}"), ansible-runner wall $(ratio "${wall1[ansible-runner]}" "${wall1[bare]}") cpu $(ratio "${cpu1[ansible-runner]}" "${cpu1[bare]}")"
	done

	# 4. The targets. In part 3 the runs of one repetition are minutes
	# apart, and this machine's speed drifts by tens of percent over
	# minutes; here the two runs of a pair follow each other, and the
	# order alternates so that neither side always runs first (after the
	# sync, or after the other's files).
	abba_wall="" abba_cpu=""
	for i in $(seq "$PAIRS"); do
		sync
		if ((i % 2)); then
			rep="pair $i" timed_bare
			rep="pair $i" timed_arunner "p$i"
		else
			rep="pair $i" timed_arunner "p$i"
			rep="pair $i" timed_bare
		fi
		w=$(ratio "${wall1[arunner]}" "${wall1[bare]}") c=$(ratio "${cpu1[arunner]}" "${cpu1[bare]}")
		echo "   pair $i: arunner x bare: wall $w cpu $c"
		abba_wall+="$w " abba_cpu+="$c "
	done
fi

echo "== load after: $(uptime | sed 's/.*load average/load average/')"
echo
printf '%-48s %14s %s\n' "measure" "median" "target"
for via in pty pipe "pty, GOGC=200"; do
	printf '%-48s %14s %s\n' "events/s via $via, job_events off" "$(tr ' ' '\n' <<<"${tput[$via.off]}" | grep . | median)" ">= 200000"
	printf '%-48s %14s %s\n' "events/s via $via, job_events on" "$(tr ' ' '\n' <<<"${tput[$via.on]}" | grep . | median)" ">= 50000"
done
printf '%-48s %14s %s\n' "files/s, bench/files alone (nothing else runs)" "$(tr ' ' '\n' <<<"${tput[files]}" | grep . | median)" ""
for k in 10000.off 100000.off "$RSS_MAX.off" 10000.on 100000.on; do # by size
	[ -n "${rss[$k]:-}" ] && printf '%-48s %14s %s\n' "runner max RSS MiB, ${k%.*} events, job_events ${k#*.}" "${rss[$k]}" "< 40, flat"
done
if [ "${BENCH_SKIP_ANSIBLE:-}" != 1 ]; then
	mb=$(tr ' ' '\n' <<<"${wall[bare]}" | grep . | median)
	cb=$(tr ' ' '\n' <<<"${cpu[bare]}" | grep . | median)
	for name in bare bare-pty plugin-pty arunner ansible-runner; do
		mw=$(tr ' ' '\n' <<<"${wall[$name]}" | grep . | median)
		mc=$(tr ' ' '\n' <<<"${cpu[$name]}" | grep . | median)
		printf '%-48s %14s\n' "$ITEMS items: $name wall s (x bare)" "$mw ($(awk -v a="$mw" -v b="$mb" 'BEGIN {printf "%.2f", a/b}')x)"
		printf '%-48s %14s\n' "$ITEMS items: $name CPU s (x bare)" "$mc ($(awk -v a="$mc" -v b="$cb" 'BEGIN {printf "%.2f", a/b}')x)"
	done
	for name in arunner ansible-runner; do
		printf '%-48s %14s\n' "$ITEMS items: $name wall, median of run N x bare" "$(tr ' ' '\n' <<<"${pair[$name.wall]}" | grep . | median)x"
		printf '%-48s %14s\n' "$ITEMS items: $name CPU, median of run N x bare" "$(tr ' ' '\n' <<<"${pair[$name.cpu]}" | grep . | median)x"
		printf '%-48s %s\n' "  interval for that median, wall" "$(tr ' ' '\n' <<<"${pair[$name.wall]}" | grep . | medianci)"
		printf '%-48s %s\n' "  interval for that median, CPU" "$(tr ' ' '\n' <<<"${pair[$name.cpu]}" | grep . | medianci)"
	done
	printf '%-48s %14s %s\n' "$ITEMS items: arunner wall x bare, $PAIRS ABBA pairs" "$(tr ' ' '\n' <<<"$abba_wall" | grep . | median)x" "<= 1.03x"
	printf '%-48s %s\n' "  interval for that median" "$(tr ' ' '\n' <<<"$abba_wall" | grep . | medianci)"
	printf '%-48s %14s %s\n' "$ITEMS items: arunner CPU x bare, $PAIRS ABBA pairs" "$(tr ' ' '\n' <<<"$abba_cpu" | grep . | median)x" "<= 1.10x"
	printf '%-48s %s\n' "  interval for that median" "$(tr ' ' '\n' <<<"$abba_cpu" | grep . | medianci)"
	printf '%-48s %14s\n' "$ITEMS items: runner.Run, runner's own CPU s" "$(tr ' ' '\n' <<<"$split_runner" | grep . | median)"
	printf '%-48s %14s\n' "$ITEMS items: runner.Run, ansible's CPU s" "$(tr ' ' '\n' <<<"$split_ansible" | grep . | median)"
	printf '%-48s %14s\n' "callback CPU us per item, ansible's default" "$(tr ' ' '\n' <<<"$plugincost_default" | grep . | median)"
	printf '%-48s %14s\n' "callback CPU us per item, arunner's plugin" "$(tr ' ' '\n' <<<"$plugincost_arunner" | grep . | median)"
fi
