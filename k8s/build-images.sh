#!/usr/bin/env bash
# make images: builds every service image from the repository root, stamped
# with the version and commit (binary: kit.Version/kit.Commit; image: OCI
# labels). Environment:
#   IMAGE_REGISTRY  prefix, e.g. registry.example.com/ (default: none)
#   IMAGE_TAG       tag (default: git describe, as the binaries' version)
#   SERVICES        subset to build (default: all)
#   PUSH=1          push after building
set -euo pipefail
cd "$(dirname "$0")/.."

services=(cafe24-svc smartstore-svc ably-svc ingest-svc gateway)

if ! command -v docker >/dev/null 2>&1; then
  echo "make images: docker is not installed (need the docker CLI with BuildKit)" >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "make images: no Docker daemon answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}; start dockerd or point DOCKER_HOST at one" >&2
  exit 1
fi

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
tag=${IMAGE_TAG:-$version}
registry=${IMAGE_REGISTRY:-}
# A tag is [A-Za-z0-9_.-], at most 128 characters; git describe fits, but a
# hand-set IMAGE_TAG may not.
if ! [[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "make images: IMAGE_TAG '$tag' is not a valid image tag" >&2
  exit 1
fi
read -r -a wanted <<<"${SERVICES:-${services[*]}}"

for svc in "${wanted[@]}"; do
  if [[ ! -f $svc/Dockerfile ]]; then
    echo "make images: no $svc/Dockerfile (services: ${services[*]})" >&2
    exit 1
  fi
  image="${registry}hlog/$svc:$tag"
  echo "building $image ($version, $commit)"
  DOCKER_BUILDKIT=1 docker build -f "$svc/Dockerfile" \
    --build-arg VERSION="$version" --build-arg COMMIT="$commit" \
    -t "$image" .
  if [[ ${PUSH:-0} == 1 ]]; then
    docker push "$image"
  fi
done
echo "built: $(printf "${registry}hlog/%s:$tag " "${wanted[@]}")"
