#!/usr/bin/env bash
# Builds DextbenchActivator.app on a Mac (Xcode command-line tools) and puts the
# `dextbench-activator` launcher next to it, so the output folder is a complete install:
#
#   build.sh [--identity <codesign identity, default "-" (ad hoc)>] [--out <dir, default ./build>]
#            [--provisioning-profile <file.provisionprofile>]
#            [--filter-entitlement content-filter-provider|content-filter-provider-systemextension]
#   ARCHS="arm64 x86_64" build.sh      # universal binary (default: this Mac's architecture)
#
# com.apple.developer.networking.networkextension lets the app save a content filter configuration
# (NEFilterManager, the `filter` verbs). Apple Development profiles grant content-filter-provider
# (the default), Developer ID ones content-filter-provider-systemextension: give the value your
# profile grants, the same as the filter extension's (dext-fixtures/flowgate/build.sh).
#
# com.apple.developer.system-extension.install is a restricted entitlement: ad hoc signing only
# runs with SIP off (dev rigs); with SIP on, sign with your team's identity and embed a
# provisioning profile that grants it (see README.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
identity=-
out=$here/build
profile=
filter_entitlement=content-filter-provider
usage="usage: build.sh [--identity <identity|->] [--out <dir>] [--provisioning-profile <file>] [--filter-entitlement <value>]"
while [ $# -gt 0 ]; do
  case $1 in
    --identity|--out|--provisioning-profile|--filter-entitlement)
      [ $# -ge 2 ] || { echo "build.sh: $1 needs a value; $usage" >&2; exit 64; }
      case $1 in
        --identity) identity=$2 ;;
        --out) out=$2 ;;
        --provisioning-profile) profile=$2 ;;
        --filter-entitlement) filter_entitlement=$2 ;;
      esac
      shift 2 ;;
    *) echo "build.sh: unknown argument $1; $usage" >&2; exit 64 ;;
  esac
done
case $filter_entitlement in
  content-filter-provider|content-filter-provider-systemextension) ;;
  *) echo "build.sh: --filter-entitlement is content-filter-provider or content-filter-provider-systemextension; $usage" >&2; exit 64 ;;
esac
[ "$(uname -s)" = Darwin ] || { echo "build.sh: DextbenchActivator builds on macOS only (SystemExtensions.framework)" >&2; exit 1; }

app=$out/DextbenchActivator.app
objects=$out/obj
rm -rf "$app" "$objects"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources" "$app/Contents/Library/SystemExtensions" "$objects"

slices=()
for arch in ${ARCHS:-$(uname -m)}; do
  xcrun swiftc -O -target "$arch-apple-macos10.15" -framework SystemExtensions -framework NetworkExtension \
    -o "$objects/DextbenchActivator-$arch" "$here/main.swift"
  slices+=("$objects/DextbenchActivator-$arch")
done
lipo -create "${slices[@]}" -output "$app/Contents/MacOS/DextbenchActivator"

cp "$here/Info.plist" "$app/Contents/Info.plist"
printf 'APPL????' > "$app/Contents/PkgInfo"
# The launcher re-signs every wrapped copy with these entitlements.
entitlements=$app/Contents/Resources/DextbenchActivator.entitlements
cp "$here/DextbenchActivator.entitlements" "$entitlements"
# PlistBuddy, not plutil: the key contains dots, which plutil reads as key-path separators.
/usr/libexec/PlistBuddy -c "Set :com.apple.developer.networking.networkextension:0 $filter_entitlement" "$entitlements"
[ -z "$profile" ] || cp "$profile" "$app/Contents/embedded.provisionprofile"

codesign --force --sign "$identity" --options runtime --timestamp=none \
  --entitlements "$entitlements" "$app"
cp "$here/dextbench-activator" "$out/dextbench-activator"
chmod +x "$out/dextbench-activator"
echo "built $app (signed with identity '$identity') and $out/dextbench-activator"
