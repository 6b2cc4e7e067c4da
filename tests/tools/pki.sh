#!/bin/sh
# tests/tools/pki.sh - the certificates the TLS tests show and check.
#
#   pki.sh DIR
#
# Makes, under DIR, a test CA and certificates it signed, each as NAME.pem
# (PEM), NAME.der (DER, what libetpan hands postroom) and NAME.key, valid for
# two days from now (the clock the caller runs under, libfaketime included):
#	ca		the CA (RSA 2048, so that it can sign with SHA-1 and MD5)
#	good		CN=good, subjectAltName IP:127.0.0.1
#	wrong		CN=wrong, subjectAltName DNS:wrong.example
#	name		CN=localhost, subjectAltName DNS:localhost, DNS:*.example.org
#	v6		CN=v6, subjectAltName IP:::1
#	cnonly		CN=localhost and no subjectAltName at all
#	rsa1024		a 1024-bit RSA key, subjectAltName IP:127.0.0.1
#	sha1		signed with SHA-1, subjectAltName IP:127.0.0.1
#	md5		signed with MD5, subjectAltName IP:127.0.0.1
#	client		IP:127.0.0.1, but for TLS clients only (extendedKeyUsage)
#	inter		an intermediate CA under ca
#	weakinter	an intermediate CA under ca with a 1024-bit RSA key
#	viainter	IP:127.0.0.1, signed by inter; viainter-chain.pem is it
#			followed by inter (what a server sends)
#	viaweak		IP:127.0.0.1, signed by weakinter; viaweak-chain.pem
#			is it followed by weakinter
#	self		self-signed, CN=127.0.0.1, subjectAltName IP:127.0.0.1
# Leaves have P-256 keys unless said.  Debian's openssl makes the weak ones
# without complaint: its security level binds TLS, not signing.
set -eu
[ $# -eq 1 ] || { echo "usage: pki.sh DIR" >&2; exit 64; }
mkdir -p "$1"
cd "$1"

ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1'
q() {
	"$@" >pki.log 2>&1 || { cat pki.log >&2; exit 1; }
}

# leaf NAME CA KEYOPTS DIGEST EXTENSIONS CN: a certificate CA signed, the
# extensions separated by ';'.
leaf() {
	q openssl req $3 -nodes -subj "/CN=$6" -keyout "$1.key" -out "$1.csr"
	printf '%s\n' "$5" | tr ';' '\n' > "$1.ext"
	q openssl x509 -req -"$4" -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
	    -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem"
}

q openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
    -subj '/CN=postroom test CA' -keyout ca.key -out ca.pem \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign

server='extendedKeyUsage=serverAuth'
cacert='basicConstraints=critical,CA:TRUE;keyUsage=critical,keyCertSign,cRLSign'
leaf good ca "$ec" sha256 "subjectAltName=IP:127.0.0.1;$server" good
leaf wrong ca "$ec" sha256 "subjectAltName=DNS:wrong.example;$server" wrong
leaf name ca "$ec" sha256 \
    "subjectAltName=DNS:localhost,DNS:*.example.org;$server" localhost
leaf v6 ca "$ec" sha256 "subjectAltName=IP:::1;$server" v6
leaf cnonly ca "$ec" sha256 "$server" localhost
leaf rsa1024 ca "-newkey rsa:1024" sha256 \
    "subjectAltName=IP:127.0.0.1;$server" rsa1024
leaf sha1 ca "$ec" sha1 "subjectAltName=IP:127.0.0.1;$server" sha1
leaf md5 ca "$ec" md5 "subjectAltName=IP:127.0.0.1;$server" md5
leaf client ca "$ec" sha256 \
    "subjectAltName=IP:127.0.0.1;extendedKeyUsage=clientAuth" client
leaf inter ca "$ec" sha256 "$cacert" 'postroom test intermediate'
leaf weakinter ca "-newkey rsa:1024" sha256 "$cacert" \
    'postroom weak intermediate'
leaf viainter inter "$ec" sha256 "subjectAltName=IP:127.0.0.1;$server" \
    viainter
leaf viaweak weakinter "$ec" sha256 \
    "subjectAltName=IP:127.0.0.1;$server" viaweak
cat viainter.pem inter.pem > viainter-chain.pem
cat viaweak.pem weakinter.pem > viaweak-chain.pem
q openssl req -x509 $ec -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout self.key -out self.pem

for f in *.pem; do
	case $f in *-chain.pem) continue ;; esac
	q openssl x509 -in "$f" -outform DER -out "${f%.pem}.der"
done
rm -f ./*.csr ./*.ext ./*.srl pki.log
