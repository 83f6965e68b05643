#!/usr/bin/env bash
# Third-party tools the interop tests drive, installed from their registries into .cache/
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

# The AsyncAPI parser that validates the generated AsyncAPI documents, from npm into .cache/node.
ASYNCAPI_PARSER_VERSION=3.6.3
NODE_PREFIX="$PWD/.cache/node"
if [ ! -f "$NODE_PREFIX/node_modules/@asyncapi/parser/package.json" ] \
    || ! grep -q "\"version\": \"$ASYNCAPI_PARSER_VERSION\"" "$NODE_PREFIX/node_modules/@asyncapi/parser/package.json"; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "install_tools: Node.js and npm are needed for @asyncapi/parser (apt-get install nodejs npm)" >&2
        exit 1
    fi
    mkdir -p "$NODE_PREFIX"
    npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --ignore-scripts "@asyncapi/parser@$ASYNCAPI_PARSER_VERSION"
fi
