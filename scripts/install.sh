#!/usr/bin/env bash
# Installs the built library like a C library (called by `make install`; see the Makefile for
# the variables). Usage: scripts/install.sh BUILD_DIR
#   BUILD_DIR  cargo's output directory holding libcgpredict.so and libcgpredict.a
# Environment: PREFIX, LIBDIR, INCLUDEDIR (absolute) and DESTDIR (staging root, may be empty).
#
# Puts in place:
#   $LIBDIR/libcgpredict.so.VERSION, the SONAME link (libcgpredict.so.0.MINOR before 1.0) and
#     the development link libcgpredict.so; $LIBDIR/libcgpredict.a
#   $INCLUDEDIR/cgpredict.h and the C++ wrapper $INCLUDEDIR/cgpredict.hpp
#   $LIBDIR/pkgconfig/cgpredict.pc
#   $LIBDIR/cmake/cgpredict/cgpredict-config.cmake and cgpredict-config-version.cmake
# The default model is inside the library; ONNX Runtime is loaded at run time (README).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${1:?usage: scripts/install.sh BUILD_DIR}"
: "${PREFIX:?PREFIX is not set}" "${LIBDIR:=$PREFIX/lib}" "${INCLUDEDIR:=$PREFIX/include}"
DESTDIR="${DESTDIR:-}"
for dir in "$PREFIX" "$LIBDIR" "$INCLUDEDIR"; do
  case "$dir" in /*) ;; *) echo "install: $dir is not an absolute path" >&2; exit 1 ;; esac
done

SHARED="$BUILD_DIR/libcgpredict.so"
STATIC="$BUILD_DIR/libcgpredict.a"
for file in "$SHARED" "$STATIC"; do
  [ -f "$file" ] || { echo "install: $file is missing; build first (make build)" >&2; exit 1; }
done

VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
MAJOR="${VERSION%%.*}"
MINOR="${VERSION#*.}"
MINOR="${MINOR%%.*}"
# build.rs sets the SONAME; read it back rather than repeating the rule here.
SONAME="$(readelf -d "$SHARED" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
[ -n "$SONAME" ] || { echo "install: $SHARED has no SONAME" >&2; exit 1; }

# Static linking needs the system libraries that Rust's standard library uses (what
# `cargo rustc -- --print native-static-libs` lists on Linux with glibc).
STATIC_LIBS="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
STATIC_LIBS_CMAKE="$(printf '%s' "$STATIC_LIBS" | sed 's/-l//g; s/ /;/g')"

substitute() {
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@LIBDIR@|$LIBDIR|g" -e "s|@INCLUDEDIR@|$INCLUDEDIR|g" \
      -e "s|@VERSION@|$VERSION|g" -e "s|@MAJOR@|$MAJOR|g" -e "s|@MINOR@|$MINOR|g" \
      -e "s|@SONAME@|$SONAME|g" -e "s|@STATIC_LIBS@|$STATIC_LIBS|g" \
      -e "s|@STATIC_LIBS_CMAKE@|$STATIC_LIBS_CMAKE|g" \
      -e "s|@SIZEOF_VOID_P@|$(( $(getconf LONG_BIT) / 8 ))|g" "$1" > "$2"
}

lib="$DESTDIR$LIBDIR"
include="$DESTDIR$INCLUDEDIR"
install -d "$lib" "$include" "$lib/pkgconfig" "$lib/cmake/cgpredict"
install -m 755 "$SHARED" "$lib/libcgpredict.so.$VERSION"
ln -sfn "libcgpredict.so.$VERSION" "$lib/$SONAME"
ln -sfn "$SONAME" "$lib/libcgpredict.so"
install -m 644 "$STATIC" "$lib/libcgpredict.a"
install -m 644 include/cgpredict.h bindings/cpp/cgpredict.hpp "$include/"
substitute packaging/cgpredict.pc.in "$lib/pkgconfig/cgpredict.pc"
substitute packaging/cgpredict-config.cmake.in "$lib/cmake/cgpredict/cgpredict-config.cmake"
substitute packaging/cgpredict-config-version.cmake.in \
  "$lib/cmake/cgpredict/cgpredict-config-version.cmake"
echo "installed cgpredict $VERSION ($SONAME) into $DESTDIR$PREFIX"
