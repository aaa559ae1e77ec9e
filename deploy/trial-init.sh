#!/bin/sh
# The trial's enrolment for deploy/compose.yaml, the same path as on separate machines
# (docs/trust.md), here in one container so that a trial needs no copying by hand:
#
#   trial-init.sh keys       the `init` service: the authority CA, the broker's and administrator's
#                            home, and each department's own home: department keygen (its keys,
#                            made in its home) → ca sign (its request) → department install
#   trial-init.sh register   the `register` service, once the broker is healthy: each department
#                            registered in the broker's directory from its certificate
#
# Only certificate bundles (public) are written to the authority's home; no department key is.
# Each step skips what already exists, so `docker compose up` may run it again.
set -eu

CA=/var/lib/tongdao/ca
AUTHORITY=/var/lib/tongdao/home
BUNDLES=/var/lib/tongdao/home/enrolment
GAT=/var/lib/tongdao/gat/home
MZT=/var/lib/tongdao/mzt/home
BROKER=broker:7443

keys() {
    if [ ! -e "$CA/authority-ca/ca.crt" ]; then
        tongdao init --home "$AUTHORITY" --ca-home "$CA" --broker-endpoint "$BROKER"
    fi
    mkdir -p "$BUNDLES"

    # public security (hlj.gat): its node is reached at node-gat:7501
    if [ ! -e "$GAT/parties/hlj.gat/client.crt" ]; then
        tongdao department keygen hlj.gat --home "$GAT" --name 黑龙江省公安厅 --region 230000 \
            --level province --endpoint node-gat:7501
        tongdao ca sign "$GAT/parties/hlj.gat/request.csr" --home "$CA" --party hlj.gat \
            --endpoint node-gat:7501 --out "$BUNDLES/hlj.gat.bundle.pem"
        tongdao department install "$BUNDLES/hlj.gat.bundle.pem" --home "$GAT" \
            --broker-certificate "$AUTHORITY/parties/broker/client.crt"
    fi

    # civil affairs (hlj.mzt): its node is reached at node-mzt:7502
    if [ ! -e "$MZT/parties/hlj.mzt/client.crt" ]; then
        tongdao department keygen hlj.mzt --home "$MZT" --name 黑龙江省民政厅 --region 230000 \
            --level province --endpoint node-mzt:7502
        tongdao ca sign "$MZT/parties/hlj.mzt/request.csr" --home "$CA" --party hlj.mzt \
            --endpoint node-mzt:7502 --out "$BUNDLES/hlj.mzt.bundle.pem"
        tongdao department install "$BUNDLES/hlj.mzt.bundle.pem" --home "$MZT" \
            --broker-certificate "$AUTHORITY/parties/broker/client.crt"
    fi

    # a freshly signed revocation list (valid 7 days) for the broker and both nodes
    tongdao ca crl --home "$CA"
    for home in "$AUTHORITY" "$GAT" "$MZT"; do
        cp "$CA/authority-ca/crl.pem" "$home/authority-ca/crl.pem"
    done
}

register() {
    if [ ! -e "$BUNDLES/hlj.gat.registered" ]; then
        tongdao authority register-department hlj.gat --certificate "$BUNDLES/hlj.gat.bundle.pem" \
            --endpoint node-gat:7501 --home "$AUTHORITY" --broker "$BROKER"
        touch "$BUNDLES/hlj.gat.registered"
    fi
    if [ ! -e "$BUNDLES/hlj.mzt.registered" ]; then
        tongdao authority register-department hlj.mzt --certificate "$BUNDLES/hlj.mzt.bundle.pem" \
            --endpoint node-mzt:7502 --home "$AUTHORITY" --broker "$BROKER"
        touch "$BUNDLES/hlj.mzt.registered"
    fi
}

case "${1:-}" in
    keys) keys ;;
    register) register ;;
    *) echo "usage: trial-init.sh keys|register" >&2; exit 2 ;;
esac
