#!/bin/sh
# Builds the stand-in libWeWorkFinanceSdk_C.so (talks to the Vigil WeCom emulator).
# Usage: native/build.sh [output-dir]   (default .tmp/native). Needs only a C compiler.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../.tmp/native"}
mkdir -p "$out"
${CC:-cc} -std=c11 -O2 -Wall -Wextra -fPIC -shared \
  -o "$out/libWeWorkFinanceSdk_C.so" "$here/wework-finance-standin/WeWorkFinanceSdk_C.c"
echo "$out/libWeWorkFinanceSdk_C.so"
