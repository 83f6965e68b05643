#!/usr/bin/env bash
# Third-party tools the interop tests drive, installed from their registries into .cache/tools/bin
# (tests skip without them, and fail under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.cache/tools/bin"
GRPCURL_VERSION=v1.9.4

if ! command -v grpcurl >/dev/null 2>&1 && [ ! -x "$BIN/grpcurl" ]; then
    GO="$(command -v go || echo /usr/local/go/bin/go)"
    if [ ! -x "$GO" ]; then
        echo "install_tools: Go is needed to install grpcurl (apt-get install golang-go)" >&2
        exit 1
    fi
    GOBIN="$BIN" GOFLAGS=-mod=mod "$GO" install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
fi
