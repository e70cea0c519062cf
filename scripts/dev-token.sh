#!/bin/sh
# A token signed with the dev key pair (src/dev/jwt), for a Readside that trusts it: docker-compose and the dev
# overlay do; dev mode has GET /dev/token instead. Never for production: the private key is in the repository.
#   scripts/dev-token.sh <sub> [role,role] [lifetime seconds, default 43200]
#   curl -H "Authorization: Bearer $(scripts/dev-token.sh 1007 readside-reader)" localhost:8080/users/1007
set -eu
sub=${1:?usage: dev-token.sh <sub> [role,role] [seconds]}
roles=${2:-}
lifetime=${3:-43200}
key=$(dirname "$0")/../src/dev/jwt/dev-private.pem
case $sub in *[!A-Za-z0-9._@-]*) echo "sub: letters, digits and . _ @ - only" >&2; exit 2 ;; esac
case $roles in *[!a-z,-]*) echo "roles: comma-separated role names" >&2; exit 2 ;; esac
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
groups=$(printf '%s' "$roles" | awk -F, '{ for (i = 1; i <= NF; i++) if ($i != "") printf "%s\"%s\"", (n++ ? "," : ""), $i }')
header=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
payload=$(printf '{"iss":"https://readside.dev/dev-issuer","aud":"readside","sub":"%s","groups":[%s],"iat":%d,"exp":%d}' \
  "$sub" "$groups" "$now" "$((now + lifetime))" | b64url)
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$key" | b64url)
printf '%s.%s.%s\n' "$header" "$payload" "$signature"
