#!/usr/bin/env bash
# build.sh builds container images of Go programs with the local Docker engine: each one a static
# binary (CGO_ENABLED=0, -trimpath, version and commit stamped with -ldflags) alone on an empty
# base (FROM scratch), run as user 65532. No base image is pulled.
#
#   build.sh NAME[=DIR] ...
#
# NAME alone is ./cmd/NAME of this repository; NAME=DIR builds the main package in DIR (inside its
# own module if DIR has a go.mod). Each image is tagged NAME:$VERSION and NAME:dev.
#   VERSION  default: git describe --tags --always --dirty
#   COMMIT   default: git rev-parse HEAD
#   SKIP_EXISTING=1  skips an image whose NAME:$VERSION exists already (for content-hash versions)
# The binary is the entrypoint, at /NAME; the image has nothing else.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION="${VERSION:-$(git -C "${root}" describe --tags --always --dirty 2>/dev/null || echo dev)}"
COMMIT="${COMMIT:-$(git -C "${root}" rev-parse HEAD 2>/dev/null || echo unknown)}"
version_pkg=github.com/meshfed/meshfed/internal/version

if [[ $# -eq 0 ]]; then
  echo "usage: build.sh NAME[=DIR] ..." >&2
  exit 2
fi
if ! [[ "${VERSION}" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "build.sh: VERSION ${VERSION} is not a valid image tag" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

for spec in "$@"; do
  name="${spec%%=*}"
  dir="${root}/cmd/${name}"
  [[ "${spec}" == *=* ]] && dir="${spec#*=}"
  if ! [[ "${name}" =~ ^[a-z0-9][a-z0-9_.-]*$ ]]; then
    echo "build.sh: ${name} is not a valid image name" >&2
    exit 2
  fi
  if [[ "${SKIP_EXISTING:-}" == 1 ]] && docker image inspect "${name}:${VERSION}" >/dev/null 2>&1; then
    echo "${name}:${VERSION}"
    continue
  fi
  ctx="${work}/${name}"
  mkdir -p "${ctx}"
  echo "building ${name} ${VERSION} from ${dir}" >&2
  CGO_ENABLED=0 go -C "${dir}" build -trimpath \
    -ldflags "-s -w -X ${version_pkg}.Version=${VERSION} -X ${version_pkg}.Commit=${COMMIT}" \
    -o "${ctx}/${name}" .
  docker build --quiet -t "${name}:${VERSION}" -t "${name}:dev" -f - "${ctx}" >/dev/null <<DOCKERFILE
FROM scratch
COPY ${name} /${name}
USER 65532:65532
LABEL org.opencontainers.image.title="${name}" \\
      org.opencontainers.image.version="${VERSION}" \\
      org.opencontainers.image.revision="${COMMIT}"
ENTRYPOINT ["/${name}"]
DOCKERFILE
  echo "${name}:${VERSION}"
done
