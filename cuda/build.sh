#!/usr/bin/env bash
# npm run build:cuda: the kernel library (make -C cuda lib → build/cuda/libvila_kernels.a), then
# the Node-API addon (cuda/addon/vila_addon.c) linked against it into build/cuda/vila_cuda.node.
#
#   bash cuda/build.sh            build; fails when nvcc or a compiler is missing
#   bash cuda/build.sh --if-nvcc  the same where nvcc is on PATH, else print why and succeed
#                                 (npm test runs this, so CI compiles the CUDA code where it can
#                                 and a kernel that does not compile fails CI)
#
# The CUDA runtime is linked statically (libcudart_static.a), so the addon needs only the
# driver (libcuda.so.1) on the machine that runs it, not a CUDA toolkit of the same version.
# The normal install (npm ci, npm run build) never runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

optional=0
[ "${1:-}" = "--if-nvcc" ] && optional=1

if ! command -v nvcc >/dev/null 2>&1; then
  if [ "$optional" = 1 ]; then
    echo "build:cuda skipped: nvcc is not on PATH (the CUDA backend stays unavailable; everything else works)"
    exit 0
  fi
  echo "build:cuda: nvcc is not on PATH; install the CUDA toolkit (12.x or 13.x) or put its bin/ on PATH" >&2
  exit 1
fi

# The toolkit's root as nvcc itself reports it (nvcc may be a wrapper script outside the toolkit).
if [ -z "${CUDA_HOME:-}" ]; then
  CUDA_HOME="$(nvcc --dryrun -x cu /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ TOP=//p' | head -1)"
  CUDA_HOME="$(readlink -f "${CUDA_HOME:-/usr/local/cuda}")"
fi
CC="${CC:-gcc}"
CXX="${CXX:-g++}"
out=build/cuda
mkdir -p "$out"

# Node-API headers: the system's Node (Debian's /usr/include/node), else the running Node's prefix.
napi_inc=""
for d in /usr/include/node "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"; do
  if [ -f "$d/node_api.h" ]; then napi_inc="$d"; break; fi
done
if [ -z "$napi_inc" ]; then
  echo "build:cuda: node_api.h not found (looked in /usr/include/node and the Node prefix)" >&2
  exit 1
fi

t0=$(date +%s)
if [ -f cuda/Makefile ]; then
  make -C cuda lib -j"$(nproc 2>/dev/null || echo 2)"
else
  echo "build:cuda: cuda/Makefile is not there yet: the kernel library cannot be built" >&2
fi

"$CC" -O2 -Wall -Wextra -Wno-comment -Werror -fPIC -std=c11 -fvisibility=hidden \
  -I"$napi_inc" -Icuda/include -DNODE_GYP_MODULE_NAME=vila_cuda \
  -c cuda/addon/vila_addon.c -o "$out/vila_addon.o"

lib="$out/libvila_kernels.a"
if [ ! -f "$lib" ]; then
  echo "build:cuda: $lib is missing; built the addon object only ($out/vila_addon.o)" >&2
  [ "$optional" = 1 ] && exit 0
  exit 1
fi

# Link to a temporary name, then move, so a failed link never leaves a half-written addon.
"$CXX" -shared -o "$out/vila_cuda.node.tmp" "$out/vila_addon.o" "$lib" \
  -L"$CUDA_HOME/lib64" -L"$CUDA_HOME/lib" -L"$CUDA_HOME/targets/x86_64-linux/lib" -lcudart_static -ldl -lrt -lpthread -static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL
# Node-API symbols resolve against the node executable at load time; every vila_* symbol must be
# defined by the kernel library now (a missing op would otherwise fail only when the addon loads).
missing=$(nm -u "$out/vila_cuda.node.tmp" | awk '$2 ~ /^vila_/ {print $2}')
if [ -n "$missing" ]; then
  echo "build:cuda: the kernel library does not define: $(echo $missing)" >&2
  rm -f "$out/vila_cuda.node.tmp"
  exit 1
fi
mv "$out/vila_cuda.node.tmp" "$out/vila_cuda.node"
echo "build:cuda: $out/vila_cuda.node ($(( $(date +%s) - t0 )) s)"
