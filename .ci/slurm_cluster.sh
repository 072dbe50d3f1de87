#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, for the tests marked `slurm` and for trying
# `hydra/launcher=slurm` on a laptop (Debian/Ubuntu).
#
#   bash .ci/slurm_cluster.sh start    # install the packages if missing (root only), start, wait until idle
#   bash .ci/slurm_cluster.sh status   # exit 0 when the node answers
#   bash .ci/slurm_cluster.sh stop     # stop the daemons this script started
#   bash .ci/slurm_cluster.sh env      # print the line to paste: export SLURM_CONF=...
#
# Everything (config, munge key and socket, state, logs) lives in $NNINIT_SLURM_DIR (default
# /tmp/nninit-slurm); /etc/slurm and any system munge are left alone. The clients (sinfo, sbatch,
# sacct, and so submitit) find this cluster through SLURM_CONF=$NNINIT_SLURM_DIR/slurm.conf.
# The daemons listen on 127.0.0.1 only: ports $NNINIT_SLURM_PORT (slurmctld, default 6917), +1
# (slurmd) and +2 (slurmdbd). Jobs run as the submitting user; the daemons as the user who starts
# them (root in CI). `start` and `stop` are idempotent.
#
# Accounting (sacct) is needed: submitit asks sacct for the state of a job that ended without a
# result (one killed by its time limit); without it the sweep would wait for ever. So a small
# slurmdbd with a private MariaDB server (its socket and data under the same folder) runs too.
set -uo pipefail

DIR=${NNINIT_SLURM_DIR:-/tmp/nninit-slurm}
PORT=${NNINIT_SLURM_PORT:-6917}
WAIT_S=${NNINIT_SLURM_WAIT_S:-60}
CONF=$DIR/slurm.conf
NODE=$(hostname -s)
PACKAGES=(slurmctld slurmd slurm-client slurmdbd munge mariadb-server)
LIBEXEC=(/usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/slurmdbd /usr/bin/sinfo /usr/bin/sacct
         /usr/bin/sacctmgr /usr/sbin/mariadbd /usr/bin/mariadb-install-db)
export SLURM_CONF=$CONF

say() { echo "slurm_cluster: $*"; }
fail() { echo "slurm_cluster: FAILED: $*" >&2; exit 1; }

pid_alive() {  # pid_alive PIDFILE
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

node_state() {
    timeout 5 sinfo -h -N -n "$NODE" -o %T 2>/dev/null | head -1
}

answers() {  # the node is idle (or running jobs) and accounting answers
    local state
    state=$(node_state)
    case "$state" in
        idle|mixed|allocated|completing) ;;
        *) return 1 ;;
    esac
    timeout 5 sacct -n -X -S now-1minute >/dev/null 2>&1
}

missing_programs() {
    local p
    for p in "${LIBEXEC[@]}"; do [ -x "$p" ] || echo "$p"; done
}

install_packages() {
    local missing
    missing=$(missing_programs)
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        fail "missing $(echo $missing | tr '\n' ' '); install them as root: sudo apt-get install ${PACKAGES[*]}"
    fi
    command -v apt-get >/dev/null || fail "missing $(echo $missing); no apt-get here (Debian/Ubuntu only)"
    say "installing ${PACKAGES[*]} (missing: $(echo $missing))"
    export DEBIAN_FRONTEND=noninteractive
    # the packages' own services are not started (policy-rc.d); this script starts its own daemons
    apt-get update -qq >"$DIR/log/apt.log" 2>&1 &&
        apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >>"$DIR/log/apt.log" 2>&1 ||
        fail "apt-get install ${PACKAGES[*]} failed; see $DIR/log/apt.log:
$(tail -20 "$DIR/log/apt.log")"
    missing=$(missing_programs)
    [ -z "$missing" ] || fail "still missing after apt-get install: $missing"
}

write_config() {
    local cpus mem user
    # the node as slurmd sees it; memory a little below the physical RAM (slurmd drains a node that
    # claims more than it has)
    cpus=$(slurmd -C 2>/dev/null | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -1)
    mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
    cpus=${cpus:-$(nproc)}
    mem=${mem:-$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)}
    mem=$((mem * 95 / 100))
    user=$(id -un)
    mkdir -p "$DIR"/{state,spool,log,munge,mysql,run}
    cat >"$CONF" <<EOF
# written by .ci/slurm_cluster.sh; a single-node cluster on localhost
ClusterName=nninit
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket.2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((PORT + 2))
# the munge socket for the connections to slurmdbd (AuthInfo covers only the others)
AccountingStoragePass=$DIR/munge/munge.socket.2
JobCompType=jobcomp/none
MinJobAge=300
KillWait=30
MailProg=/bin/true
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    [ -s "$DIR/run/db.pass" ] || (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/run/db.pass")
    cat >"$DIR/slurmdbd.conf" <<EOF
# written by .ci/slurm_cluster.sh
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket.2
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$((PORT + 2))
SlurmUser=$user
PidFile=$DIR/run/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$((PORT + 3))
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=$(cat "$DIR/run/db.pass")
EOF
    chmod 600 "$DIR/slurmdbd.conf"
}

start_munge() {
    if pid_alive "$DIR/run/munged.pid"; then return 0; fi
    if [ ! -s "$DIR/munge/munge.key" ]; then
        (umask 077 && dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none) ||
            fail "could not write $DIR/munge/munge.key"
    fi
    chmod 700 "$DIR/munge"
    munged --force --socket="$DIR/munge/munge.socket.2" --key-file="$DIR/munge/munge.key" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed" \
        >>"$DIR/log/munged.log" 2>&1 || fail "munged did not start; $DIR/log/munged.log:
$(tail -5 "$DIR/log/munged.log")"
}

mysql_answers() {
    mariadb --no-defaults --socket="$DIR/run/mysql.sock" -e 'select 1' >/dev/null 2>&1
}

start_mysql() {  # a private MariaDB for slurmdbd: 127.0.0.1:PORT+3 and a socket under $DIR/run
    if pid_alive "$DIR/run/mysqld.pid" && mysql_answers; then return 0; fi
    if [ ! -d "$DIR/mysql/mysql" ]; then
        mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$DIR/mysql" --skip-test-db \
            >"$DIR/log/mysql-install.log" 2>&1 ||
            fail "mariadb-install-db failed; $DIR/log/mysql-install.log:
$(tail -5 "$DIR/log/mysql-install.log")"
    fi
    mariadbd --no-defaults --user="$(id -un)" --datadir="$DIR/mysql" --socket="$DIR/run/mysql.sock" \
        --pid-file="$DIR/run/mysqld.pid" --bind-address=127.0.0.1 --port=$((PORT + 3)) \
        --log-error="$DIR/log/mysqld.log" --innodb-buffer-pool-size=32M >/dev/null 2>&1 </dev/null &
    local i
    for i in $(seq 1 "$WAIT_S"); do
        if mysql_answers; then
            mariadb --no-defaults --socket="$DIR/run/mysql.sock" -e "
                CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$(cat "$DIR/run/db.pass")';
                GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" >>"$DIR/log/mysql-install.log" 2>&1 ||
                fail "could not create the slurm user in MariaDB; $DIR/log/mysql-install.log"
            return 0
        fi
        sleep 1
    done
    fail "MariaDB did not answer within ${WAIT_S}s; $DIR/log/mysqld.log:
$(tail -5 "$DIR/log/mysqld.log" 2>/dev/null)"
}

wait_for() {  # wait_for WHAT COMMAND...: until COMMAND succeeds or the deadline passes
    local what=$1
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$DEADLINE" ] || return 1
        sleep 1
    done
}

dbd_answers() {
    timeout 5 sacctmgr -n -P list cluster format=cluster >/dev/null 2>&1
}

cluster_registered() {
    timeout 5 sacctmgr -n -P list cluster nninit format=cluster 2>/dev/null | grep -qx nninit
}

node_ready() {
    case "$(node_state)" in
        down*|drain*|fail*) timeout 5 scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 ;;
    esac
    answers
}

logs() {
    local f
    for f in "$@"; do echo "--- $DIR/log/$f"; tail -4 "$DIR/log/$f" 2>/dev/null; done
}

cmd_start() {
    mkdir -p "$DIR/log" || fail "cannot create $DIR"
    if pid_alive "$DIR/run/slurmctld.pid" && pid_alive "$DIR/run/slurmd.pid" && answers; then
        say "already running (node $NODE: $(node_state)); export SLURM_CONF=$CONF"
        return 0
    fi
    install_packages
    DEADLINE=$((SECONDS + WAIT_S))  # the bound on the whole start-up, installation excluded
    [ -s "$CONF" ] || write_config
    start_munge
    start_mysql
    if ! pid_alive "$DIR/run/slurmdbd.pid"; then
        slurmdbd >>"$DIR/log/slurmdbd.log" 2>&1 || fail "slurmdbd did not start; $(logs slurmdbd.log)"
    fi
    wait_for slurmdbd dbd_answers || fail "slurmdbd does not answer after ${WAIT_S}s; $(logs slurmdbd.log mysqld.log)"
    # slurmctld needs its cluster in the database before it starts
    cluster_registered || timeout 10 sacctmgr -i add cluster nninit >>"$DIR/log/slurmdbd.log" 2>&1 ||
        fail "sacctmgr add cluster nninit failed; $(logs slurmdbd.log)"
    if ! pid_alive "$DIR/run/slurmctld.pid"; then
        slurmctld >>"$DIR/log/slurmctld.log" 2>&1 || fail "slurmctld did not start; $(logs slurmctld.log)"
    fi
    if ! pid_alive "$DIR/run/slurmd.pid"; then
        slurmd -N "$NODE" >>"$DIR/log/slurmd.log" 2>&1 || fail "slurmd did not start; $(logs slurmd.log)"
    fi
    if ! wait_for node node_ready; then
        fail "the node is not idle after ${WAIT_S}s (state: '$(node_state)'); $(logs slurmctld.log slurmd.log slurmdbd.log)"
    fi
    say "running: node $NODE $(node_state), $(sinfo -h -N -o '%c CPUs, %m MB'); config $CONF"
    say "clients need: export SLURM_CONF=$CONF"
}

stop_daemon() {  # stop_daemon NAME PIDFILE
    local pid i
    pid_alive "$2" || { rm -f "$2"; return 0; }
    pid=$(cat "$2")
    kill "$pid" 2>/dev/null
    for i in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$2"; return 0; }
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null
    rm -f "$2"
    say "$1 did not stop within 15 s: killed"
}

cmd_stop() {
    stop_daemon slurmd "$DIR/run/slurmd.pid"
    stop_daemon slurmctld "$DIR/run/slurmctld.pid"
    stop_daemon slurmdbd "$DIR/run/slurmdbd.pid"
    stop_daemon mariadbd "$DIR/run/mysqld.pid"
    stop_daemon munged "$DIR/run/munged.pid"
    say "stopped"
}

cmd_status() {
    if [ -s "$CONF" ] && pid_alive "$DIR/run/slurmctld.pid" && answers; then
        say "running: node $NODE $(node_state); export SLURM_CONF=$CONF"
        return 0
    fi
    say "not running"
    return 1
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
