#!/bin/sh
#
# spark-image-tool's executor decommission hook (a pod preStop hook runs /opt/decom.sh).
#
# Does the job of Apache Spark's decom.sh in POSIX sh: finds the executor JVM, sends it
# SIGPWR, which Spark treats as "decommission this executor" (migrate its blocks and
# shuffle files, accept no new tasks), and waits for it to exit. It looks through /proc
# rather than using ps, which slim and busybox bases may not have.
#
# SPARK_DECOM_TIMEOUT: seconds to wait for the executor to exit (default 60).

timeout=${SPARK_DECOM_TIMEOUT:-60}

executor_pid() {
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [ "$pid" = "$$" ] && continue
    # Processes may end between the glob and the read: ignore those.
    cmdline=$({ tr '\000' ' ' < "$dir/cmdline"; } 2>/dev/null) || continue
    case "$cmdline" in
      *java*KubernetesExecutorBackend*|*java*CoarseGrainedExecutorBackend*)
        echo "$pid"
        return 0
        ;;
    esac
  done
  return 1
}

date
if ! worker_pid=$(executor_pid); then
  echo "No executor JVM found, nothing to decommission"
  exit 0
fi

echo "Asking executor JVM $worker_pid to decommission"
kill -s PWR "$worker_pid"

echo "Waiting up to ${timeout}s for $worker_pid to exit"
waited=0
while kill -0 "$worker_pid" 2>/dev/null && [ "$waited" -lt "$timeout" ]; do
  sleep 1
  waited=$((waited + 1))
done
date
if kill -0 "$worker_pid" 2>/dev/null; then
  echo "Executor JVM $worker_pid still running after ${timeout}s"
else
  echo "Done"
fi
