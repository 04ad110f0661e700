#!/bin/sh
# exporter-tls.sh: `mmaplock exporter --web.config.file` as a security team
# would check it. A throwaway CA, server and client certificates (openssl)
# and a bcrypt hash (libcrypt, through python3's ctypes) are made here.
#  - malformed web configs: one line naming the file and the problem, exit 2;
#  - TLS + basic auth: the right password gets the metrics, a wrong password,
#    an unknown user and no credentials get 401, plain HTTP to the TLS port
#    gets no HTTP answer at all;
#  - a real Prometheus scrapes it over TLS with the right password (up == 1,
#    the exporter's series stored) and, in a second job, with a wrong one
#    (up == 0, the error says 401);
#  - client_auth_type RequireAndVerifyClientCert: no certificate or one from
#    another CA is refused, the CA's client certificate is served.
set -u
. "$(dirname "$0")/lib.sh"
case $M in /*) ;; *) M=$(pwd)/$M ;; esac	# the test works in its directory
need openssl curl python3 jq
scratch tls
xp= xp2= pp=
at_exit 'stop $xp $xp2 $pp'

# ---- a throwaway PKI: CA, server (127.0.0.1), client; and another CA
cd "$tmp" || exit 1
mkca() {	# name
	openssl req -x509 -newkey rsa:2048 -nodes -keyout $1.key -out $1.crt -days 2 \
		-subj "/CN=mmaplock test $1" >/dev/null 2>&1
}
mkcert() {	# name ca subject ext
	openssl req -newkey rsa:2048 -nodes -keyout $1.key -out $1.csr -subj "/CN=$3" >/dev/null 2>&1 &&
	printf '%s\n' "$4" >$1.ext &&
	openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial -out $1.crt -days 2 \
		-extfile $1.ext >/dev/null 2>&1
}
mkca ca && mkca otherca &&
mkcert server ca 127.0.0.1 "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth" &&
mkcert client ca prometheus "extendedKeyUsage=clientAuth" &&
mkcert stranger otherca prometheus "extendedKeyUsage=clientAuth" ||
	{ echo "FAIL openssl could not make the test certificates"; exit 1; }
HASH=$(bcrypt 's3cret pass')
case "$HASH" in '$2b$08$'*) ;; *) echo "FAIL libcrypt made no bcrypt hash: $HASH"; exit 1 ;; esac
ok "test PKI and bcrypt hash made"

# ---- malformed web configs: one line, exit 2 (no root needed: checked before anything runs)
bad_cfg() {	# name expected-text yaml
	printf '%s\n' "$3" >$tmp/$1.yml
	"$M" exporter --listen 127.0.0.1:0 --web.config.file $tmp/$1.yml >$tmp/o 2>$tmp/e
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <$tmp/e)" -eq 1 ] && grep -q "$1.yml: .*$2" $tmp/e; then
		ok "web config $1: exit 2, $(cat $tmp/e)"
	else
		bad "web config $1: exit $rc, expected '$2': $(cat $tmp/e)"
	fi
}
bad_cfg notyaml 'line [0-9]*: did not find' 'tls_server_config:
  cert_file: [server.crt'
bad_cfg unknownkey "unknown key 'tls_config'" 'tls_config:
  cert_file: server.crt'
bad_cfg nokey 'missing key_file' 'tls_server_config:
  cert_file: server.crt'
bad_cfg nofile 'nothere.crt: No such file' 'tls_server_config:
  cert_file: nothere.crt
  key_file: server.key'
bad_cfg wrongkey 'cert_file/key_file' 'tls_server_config:
  cert_file: server.crt
  key_file: client.key'
bad_cfg notpem 'cert_file/key_file' 'tls_server_config:
  cert_file: server.csr
  key_file: server.key'
bad_cfg plainpw 'not a bcrypt hash' 'basic_auth_users:
  prometheus: s3cret'
bad_cfg dupuser "'prometheus' given twice" "basic_auth_users:
  prometheus: '$HASH'
  prometheus: '$HASH'"
bad_cfg authtype 'client_auth_type' 'tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: VerifyEverything'
bad_cfg cawithout 'client_ca_file without' 'tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_ca_file: ca.crt'
bad_cfg notmapping 'expected a mapping' '- tls_server_config'
bad_cfg unsupported 'cipher_suites is not supported' 'tls_server_config:
  cert_file: server.crt
  key_file: server.key
  cipher_suites: [TLS_AES_128_GCM_SHA256]'
"$M" exporter --web.config.file $tmp/none.yml >$tmp/o 2>$tmp/e
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <$tmp/e)" -eq 1 ] && ok "missing web config: exit 2, $(cat $tmp/e)" ||
	bad "missing web config: exit $rc: $(cat $tmp/e)"

have root tracefs || { echo "$ME: skipped the rest: $why"; exit $fail; }

# ---- TLS + basic auth (paths relative to the config file's directory)
cat >$tmp/web.yml <<EOC
# exporter-toolkit format
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  min_version: TLS12
basic_auth_users:
  prometheus: '$HASH'
EOC
XARGS="exporter --listen 127.0.0.1:0 --backend tracefs --web.config.file"
"$M" $XARGS $tmp/web.yml >/dev/null 2>$tmp/x.err &
xp=$!
port=$(wait_port $tmp/x.err https) || { echo "FAIL exporter did not start: $(cat $tmp/x.err)"; exit 1; }
U=https://127.0.0.1:$port/metrics
code() { curl -s -o $tmp/body -w '%{http_code}' --max-time 5 --cacert $tmp/ca.crt "$@"; }
c=$(code -u 'prometheus:s3cret pass' $U)
[ "$c" = 200 ] && grep -q '^mmaplock_events_total' $tmp/body && ok "TLS, right password: 200 and the metrics" ||
	bad "TLS, right password: $c $(head -c 200 $tmp/body) $(cat $tmp/x.err)"
c=$(code -u 'prometheus:s3cret pass' $U)
[ "$c" = 200 ] && ok "TLS, right password again (remembered): 200" || bad "right password again: $c"
c=$(code -u 'prometheus:wrong' $U)
[ "$c" = 401 ] && ok "wrong password: 401" || bad "wrong password: $c"
c=$(code -u 'nobody:s3cret pass' $U)
[ "$c" = 401 ] && ok "unknown user: 401" || bad "unknown user: $c"
c=$(code -D $tmp/hdr $U)
[ "$c" = 401 ] && grep -qi '^WWW-Authenticate: Basic' $tmp/hdr && ok "no credentials: 401 with WWW-Authenticate" ||
	bad "no credentials: $c $(cat $tmp/hdr)"
c=$(code -u 'prometheus:s3cret pass' https://127.0.0.1:$port/)
[ "$c" = 200 ] && ok "/ with the password: 200" || bad "/: $c"
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u 'prometheus:s3cret pass' http://127.0.0.1:$port/metrics)
crc=$?
[ "$c" = 000 ] && [ $crc -ne 0 ] && ok "plain HTTP to the TLS port: refused (curl exit $crc, no HTTP answer)" ||
	bad "plain HTTP to the TLS port: $c"
curl -s -o /dev/null --max-time 5 -u 'prometheus:s3cret pass' https://127.0.0.1:$port/metrics &&
	bad "a client without the CA accepted the certificate" || ok "the certificate is not trusted without the test CA"
c=$(code --tls-max 1.1 -u 'prometheus:s3cret pass' $U)
[ "$c" = 000 ] && ok "TLS 1.1: refused (min_version TLS12)" || bad "TLS 1.1: $c"

# ---- a real Prometheus over TLS: the right password is scraped, a wrong one is not
if command -v prometheus >/dev/null; then
	cat >$tmp/prometheus.yml <<EOC
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: mmaplock
    scheme: https
    tls_config:
      ca_file: $tmp/ca.crt
    basic_auth:
      username: prometheus
      password: 's3cret pass'
    static_configs:
      - targets: ['127.0.0.1:$port']
  - job_name: wrongpass
    scheme: https
    tls_config:
      ca_file: $tmp/ca.crt
    basic_auth:
      username: prometheus
      password: 'guess'
    static_configs:
      - targets: ['127.0.0.1:$port']
EOC
	prom_start
	i=0
	up= down= ev=
	while [ $i -lt 40 ]; do
		up=$(prom_query 'up{job="mmaplock"}' | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
		down=$(prom_query 'up{job="wrongpass"}' | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
		ev=$(prom_query 'mmaplock_events_total{job="mmaplock"}' | jq -r '.data.result | length' 2>/dev/null)
		[ "$up" = 1 ] && [ "$down" = 0 ] && [ "$ev" = 1 ] && break
		sleep 0.5
		i=$((i + 1))
	done
	[ "$up" = 1 ] && [ "$ev" = 1 ] && ok "prometheus over TLS with the password: up 1, mmaplock_events_total stored" ||
		bad "prometheus over TLS: up '$up', series '$ev' $(tail -3 $tmp/prom.log)"
	err=$(curl -s --max-time 5 "http://127.0.0.1:$pport/api/v1/targets" |
		jq -r '.data.activeTargets[] | select(.labels.job == "wrongpass") | .lastError')
	[ "$down" = 0 ] && echo "$err" | grep -q 401 && ok "prometheus with a wrong password: up 0 ($err)" ||
		bad "prometheus with a wrong password: up '$down' '$err'"
	kill $pp
	wait $pp 2>/dev/null
	pp=
else
	echo "note prometheus missing: the scrape over TLS was not tried (scripts/bootstrap.sh test)"
fi
kill -TERM $xp
wait $xp
rc=$?
xp=
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc"

# ---- client certificates
cat >$tmp/mtls.yml <<EOC
tls_server_config:
  cert_file: $tmp/server.crt
  key_file: $tmp/server.key
  client_ca_file: $tmp/ca.crt
  client_auth_type: RequireAndVerifyClientCert
EOC
"$M" $XARGS $tmp/mtls.yml >/dev/null 2>$tmp/x2.err &
xp2=$!
port=$(wait_port $tmp/x2.err https) || { echo "FAIL exporter (mTLS) did not start: $(cat $tmp/x2.err)"; exit 1; }
U=https://127.0.0.1:$port/metrics
c=$(code --cert $tmp/client.crt --key $tmp/client.key $U)
[ "$c" = 200 ] && ok "RequireAndVerifyClientCert: the CA's client certificate: 200" || bad "client certificate: $c $(cat $tmp/x2.err)"
c=$(code $U)
[ "$c" != 200 ] && ok "RequireAndVerifyClientCert: no certificate: refused ($c)" || bad "no client certificate: $c"
c=$(code --cert $tmp/stranger.crt --key $tmp/stranger.key $U)
[ "$c" != 200 ] && ok "RequireAndVerifyClientCert: another CA's certificate: refused ($c)" || bad "another CA's certificate: $c"
kill -TERM $xp2
wait $xp2
rc=$?
xp2=
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc"
exit $fail
