#!/bin/sh
#
# spark-image-tool's container entrypoint for Spark on Kubernetes.
#
# Behaves like Apache Spark's kubernetes/dockerfiles/spark/entrypoint.sh but is POSIX sh,
# so it runs on bash, dash and busybox sh alike (no arrays, no process substitution):
#   driver ARGS...    runs spark-submit in client mode, bound to SPARK_DRIVER_BIND_ADDRESS
#   executor          runs the KubernetesExecutorBackend JVM from the SPARK_* variables
#   anything else     runs the given command as it is (pass-through mode)
# The command runs under "tini -s --" when tini is installed, and is exec'd otherwise.

set -e

# An anonymous UID (OpenShift and the like) has no passwd entry; add one if we may.
myuid=$(id -u)
mygid=$(id -g)
if command -v getent >/dev/null 2>&1; then
  uidentry=$(getent passwd "$myuid" || true)
else
  uidentry=$(grep "^[^:]*:[^:]*:$myuid:" /etc/passwd 2>/dev/null || true)
fi
if [ -z "$uidentry" ]; then
  if [ -w /etc/passwd ]; then
    echo "$myuid:x:$myuid:$mygid:${SPARK_USER_NAME:-anonymous uid}:$SPARK_HOME:/bin/false" >> /etc/passwd
  else
    echo "Container ENTRYPOINT failed to add passwd entry for anonymous UID"
  fi
fi

if [ -z "$JAVA_HOME" ] && command -v java >/dev/null 2>&1; then
  JAVA_HOME=$(java -XshowSettings:properties -version 2>&1 >/dev/null |
    sed -n 's/^[[:space:]]*java\.home = //p' | head -n 1)
fi

SPARK_CLASSPATH="$SPARK_CLASSPATH:${SPARK_HOME}/jars/*"

if [ -n "$SPARK_EXTRA_CLASSPATH" ]; then
  SPARK_CLASSPATH="$SPARK_CLASSPATH:$SPARK_EXTRA_CLASSPATH"
fi

if [ -n "${PYSPARK_PYTHON+x}" ]; then
  export PYSPARK_PYTHON
fi
if [ -n "${PYSPARK_DRIVER_PYTHON+x}" ]; then
  export PYSPARK_DRIVER_PYTHON
fi

# With HADOOP_HOME set and SPARK_DIST_CLASSPATH unset, put Hadoop's jars on the classpath.
# A SPARK_DIST_CLASSPATH that is already set (from the pod spec, say) is kept.
if [ -n "$HADOOP_HOME" ] && [ -z "$SPARK_DIST_CLASSPATH" ]; then
  SPARK_DIST_CLASSPATH=$("$HADOOP_HOME/bin/hadoop" classpath)
  export SPARK_DIST_CLASSPATH
fi

if [ -n "${HADOOP_CONF_DIR+x}" ]; then
  SPARK_CLASSPATH="$HADOOP_CONF_DIR:$SPARK_CLASSPATH"
fi

if [ -n "${SPARK_CONF_DIR+x}" ]; then
  SPARK_CLASSPATH="$SPARK_CONF_DIR:$SPARK_CLASSPATH"
elif [ -n "${SPARK_HOME+x}" ]; then
  SPARK_CLASSPATH="$SPARK_HOME/conf:$SPARK_CLASSPATH"
fi

case "$1" in
  driver)
    shift 1
    set -- "$SPARK_HOME/bin/spark-submit" \
      --conf "spark.driver.bindAddress=$SPARK_DRIVER_BIND_ADDRESS" \
      --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=$SPARK_DRIVER_BIND_ADDRESS" \
      --deploy-mode client \
      "$@"
    ;;
  executor)
    # SPARK_JAVA_OPT_0, SPARK_JAVA_OPT_1, ... in numeric order, each one argument with its
    # spaces kept. The positional parameters are the only list POSIX sh has, so the
    # command is built in them. The indices are checked to be digits before the eval.
    set --
    for index in $(env | sed -n 's/^SPARK_JAVA_OPT_\([0-9][0-9]*\)=.*/\1/p' | sort -n -u); do
      eval "set -- \"\$@\" \"\$SPARK_JAVA_OPT_$index\""
    done
    set -- "${JAVA_HOME}/bin/java" \
      "$@" \
      "-Xms$SPARK_EXECUTOR_MEMORY" \
      "-Xmx$SPARK_EXECUTOR_MEMORY" \
      -cp "$SPARK_CLASSPATH:$SPARK_DIST_CLASSPATH" \
      org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
      --driver-url "$SPARK_DRIVER_URL" \
      --executor-id "$SPARK_EXECUTOR_ID" \
      --cores "$SPARK_EXECUTOR_CORES" \
      --app-id "$SPARK_APPLICATION_ID" \
      --hostname "$SPARK_EXECUTOR_POD_IP" \
      --resourceProfileId "$SPARK_RESOURCE_PROFILE_ID" \
      --podName "$SPARK_EXECUTOR_POD_NAME"
    ;;
  *)
    echo "Non-spark-on-k8s command provided, proceeding in pass-through mode..."
    ;;
esac

# Run the command under tini for better signal handling and zombie reaping.
if command -v tini >/dev/null 2>&1; then
  exec tini -s -- "$@"
elif [ -x /usr/bin/tini ]; then
  exec /usr/bin/tini -s -- "$@"
else
  exec "$@"
fi
