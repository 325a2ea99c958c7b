# Starts throw-away ClickHouse servers (Debian's clickhouse-server, a minimal config, loopback only) for
# tests and benchmarks. Source it, then: ch_start NAME DIR [EXTRA_XML] sets CH_HTTP_<NAME>, CH_TCP_<NAME>
# and CH_PID_<NAME> (ports already set in those variables are kept, so a cluster config can name them
# before the servers start); ch_stop_all (call it from your EXIT trap) stops every server started here.
# EXTRA_XML's children of <yandex> are added to the config, with @TCP_PORT_A@/@TCP_PORT_B@ replaced.
CH_PIDS=()

# A free loopback TCP port (bind to port 0 and let the kernel choose).
ch_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# ch_start NAME DIR [EXTRA_XML]: config in DIR/NAME, waits until /ping answers.
ch_start() {
  local name=$1 base=$2/$1 extra=${3:-}
  local http tcp interserver hv=CH_HTTP_$1 tv=CH_TCP_$1
  http=${!hv:-$(ch_free_port)}; tcp=${!tv:-$(ch_free_port)}; interserver=$(ch_free_port)
  mkdir -p "$base/log" "$base/data"
  cat > "$base/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
         <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows>
          <read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  cat > "$base/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$base/log/server.log</log>
            <errorlog>$base/log/server.err.log</errorlog><size>100M</size><count>1</count></logger>
    <http_port>$http</http_port>
    <tcp_port>$tcp</tcp_port>
    <interserver_http_port>$interserver</interserver_http_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>64</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>16</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>$base/data/</path>
    <tmp_path>$base/data/tmp/</tmp_path>
    <user_files_path>$base/data/user_files/</user_files_path>
    <format_schema_path>$base/data/format_schemas/</format_schema_path>
    <users_config>$base/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
$( [ -n "$extra" ] && sed -e '/^<?xml/d' -e '/<\/\?yandex>/d' "$extra" | sed "s/@TCP_PORT_A@/${CH_TCP_A:-0}/g; s/@TCP_PORT_B@/${CH_TCP_B:-0}/g" )
</yandex>
XML
  /usr/sbin/clickhouse-server --config-file="$base/config.xml" > "$base/stdout.log" 2>&1 &
  local pid=$!
  CH_PIDS+=("$pid")
  printf -v "CH_HTTP_$name" '%s' "$http"
  printf -v "CH_TCP_$name" '%s' "$tcp"
  printf -v "CH_PID_$name" '%s' "$pid"
  local i
  for i in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$http/ping" > /dev/null 2>&1 && return 0
    kill -0 "$pid" 2> /dev/null || { cat "$base/stdout.log" "$base/log/server.err.log" >&2 2> /dev/null; return 1; }
    sleep 0.05
  done
  echo "clickhouse-server $name did not answer on port $http" >&2
  return 1
}

ch_stop_all() {
  local pid
  for pid in "${CH_PIDS[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "${CH_PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
  CH_PIDS=()
}

# chq PORT SQL: runs one statement over HTTP, fails with the server's message on error.
chq() { curl -sS --fail-with-body "http://127.0.0.1:$1/" --data-binary "$2"; }

# ch_optimize PORT DB.TABLE: merges every partition of a (Replacing)MergeTree table down to one part.
# OPTIMIZE ... FINAL silently does nothing while a background merge holds some of the parts, so repeat it
# until no partition has more than one active part (at most ~30 s).
ch_optimize() {
  local port=$1 db=${2%%.*} table=${2#*.} i
  for i in $(seq 1 60); do
    chq "$port" "OPTIMIZE TABLE $2 FINAL" > /dev/null
    [ -z "$(chq "$port" "SELECT partition FROM system.parts WHERE database = '$db' AND table = '$table' AND active GROUP BY partition HAVING count() > 1")" ] && return 0
    sleep 0.5
  done
  echo "ch_optimize: $2 on port $port still has partitions with several parts" >&2
  return 1
}
