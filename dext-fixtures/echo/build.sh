#!/usr/bin/env bash
# Builds build/com.example.echo.driver.dext on a Mac with Xcode's DriverKit SDK, from the command
# line (the same steps an Xcode "DriverKit Driver" target runs):
#   1. iig turns each .iig into a header and its dispatch glue (.iig.cpp);
#   2. libdextbench (its own Makefile, DriverKit's clang, nanopb runtime compiled from NANOPB_SRC
#      with PB_BUFFER_ONLY) becomes a static library; clang++ compiles the dext and the glue;
#   3. the executable is linked against DriverKit and USBDriverKit;
#   4. the shallow bundle is assembled (executable + Info.plist at its root) and signed with
#      EchoDriver.entitlements.
#
#   build.sh [--identity <codesign identity, default "-" (ad hoc)>] [--out <dir, default ./build>]
#            [--version <short>/<build>, default 1.0.0/1] [--bundle-id <id, default com.example.echo.driver>]
#   The samples' upgrade and approval scenarios want three builds (rigs/desk.example.yaml):
#     build.sh                                   -> build/com.example.echo.driver.dext (1.0.0/1)
#     build.sh --out build-next --version 1.1.0/2 -> build-next/com.example.echo.driver.dext
#     build.sh --out build-beta --bundle-id com.example.echo.driver.beta
#                                                -> build-beta/com.example.echo.driver.beta.dext
#   NANOPB_SRC=<dir with pb_common.c pb_encode.c pb_decode.c> build.sh   (required: the dext links
#   the nanopb runtime built for DriverKit, not a host library; e.g. a nanopb release checkout)
#
# Not run on Linux CI: verify on a Mac (README.md, "What is verified where").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
identity=-
out=$here/build
version=1.0.0/1
bundle_id=com.example.echo.driver
usage="usage: build.sh [--identity <identity|->] [--out <dir>] [--version <short>/<build>] [--bundle-id <id>]"
while [ $# -gt 0 ]; do
  case $1 in
    --identity|--out|--version|--bundle-id)
      [ $# -ge 2 ] || { echo "build.sh: $1 needs a value; $usage" >&2; exit 64; }
      case $1 in
        --identity) identity=$2 ;;
        --out) out=$2 ;;
        --version) version=$2 ;;
        --bundle-id) bundle_id=$2 ;;
      esac
      shift 2 ;;
    *) echo "build.sh: unknown argument $1; $usage" >&2; exit 64 ;;
  esac
done
case $version in
  */*) short_version=${version%%/*}; bundle_version=${version#*/} ;;
  *) echo "build.sh: --version wants <short>/<build>, e.g. 1.1.0/2; $usage" >&2; exit 64 ;;
esac
[ "$(uname -s)" = Darwin ] || { echo "build.sh: DriverKit dexts build on macOS with Xcode only" >&2; exit 1; }

sdk=$(xcrun --sdk driverkit --show-sdk-path)
libdextbench=$here/../libdextbench
executable=com.example.echo.driver  # CFBundleExecutable in Info.plist
generated=$out/generated
objects=$out/obj
dext=$out/$bundle_id.dext
rm -rf "$generated" "$objects" "$dext"
mkdir -p "$generated/EchoDriver" "$objects" "$dext"

# arm64e, not arm64: the kernel refuses to launch an arm64 DriverKit binary on Apple silicon.
arch=${ARCH:-$([ "$(uname -m)" = arm64 ] && echo arm64e || echo x86_64)}
: "${NANOPB_SRC:?set NANOPB_SRC to a nanopb source folder (pb_common.c, pb_encode.c, pb_decode.c)}"
dxb_build=$out/libdextbench
make -C "$libdextbench" BUILD="$dxb_build" NANOPB_SRC="$NANOPB_SRC" \
  CC="xcrun --sdk driverkit clang -arch $arch -isysroot $sdk" "$dxb_build/libdextbench.a"
common=(-arch "$arch" -isysroot "$sdk" -fno-exceptions -fno-rtti -O2 -Wall -DPB_BUFFER_ONLY
        -I"$here" -I"$generated" -I"$generated/EchoDriver"
        -I"$libdextbench/include" -I"$dxb_build/gen" -I"$NANOPB_SRC")

objs=()
for class in EchoDriver EchoUserClient; do
  xcrun --sdk driverkit iig --def "$here/$class.iig" \
    --header "$generated/EchoDriver/$class.h" --impl "$generated/$class.iig.cpp" \
    --framework-name EchoDriver \
    -- -x c++ -std=gnu++17 -D__IIG=1 -isysroot "$sdk" -I"$here"
  xcrun --sdk driverkit clang++ -x c++ -std=gnu++17 "${common[@]}" -c "$here/$class.cpp" -o "$objects/$class.o"
  xcrun --sdk driverkit clang++ -x c++ -std=gnu++17 "${common[@]}" -c "$generated/$class.iig.cpp" -o "$objects/$class.iig.o"
  objs+=("$objects/$class.o" "$objects/$class.iig.o")
done

xcrun --sdk driverkit clang++ -arch "$arch" -isysroot "$sdk" "${objs[@]}" "$dxb_build/libdextbench.a" \
  -framework DriverKit -framework USBDriverKit -o "$dext/$executable"

# The version and the bundle id (also the personality's and the dext process's name) of this build.
plist=$dext/Info.plist
cp "$here/Info.plist" "$plist"
plutil -replace CFBundleShortVersionString -string "$short_version" "$plist"
plutil -replace CFBundleVersion -string "$bundle_version" "$plist"
plutil -replace CFBundleIdentifier -string "$bundle_id" "$plist"
plutil -replace IOKitPersonalities.EchoDriver.CFBundleIdentifier -string "$bundle_id" "$plist"
plutil -replace IOKitPersonalities.EchoDriver.IOUserServerName -string "$bundle_id" "$plist"
codesign --force --sign "$identity" --options runtime --timestamp=none \
  --entitlements "$here/EchoDriver.entitlements" "$dext"
echo "built $dext ($bundle_id $short_version/$bundle_version, signed with identity '$identity')"
