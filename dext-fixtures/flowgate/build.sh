#!/usr/bin/env bash
# Builds build/com.example.flowgate.systemextension on a Mac (Xcode command-line tools), the same
# steps an Xcode "Network Extension" system extension target runs:
#   1. swiftc compiles main.swift, FilterDataProvider.swift and FlowRules.swift as module FlowGate
#      (Info.plist names the provider class FlowGate.FilterDataProvider), one slice per
#      architecture, lipo'd together;
#   2. the bundle is assembled (Contents/MacOS/<executable>, Contents/Info.plist with this build's
#      version and NEMachServiceName);
#   3. it is signed with FlowGate.entitlements (team prefix filled in) and the hardened runtime.
#
#   build.sh [--identity <codesign identity, default "-" (ad hoc)>] [--out <dir, default ./build>]
#            [--version <short>/<build>, default 1.0.0/1] [--team-id <10-character team id>]
#            [--filter-entitlement content-filter-provider-systemextension|content-filter-provider]
#   ARCHS="arm64 x86_64" build.sh      # universal binary (default: this Mac's architecture)
#
# NEMachServiceName must sit under an app group the extension has: both are
# "<team id>.com.example.flowgate"; --team-id is required with a real identity (ad hoc builds,
# SIP off: "com.example.flowgate").
# --filter-entitlement: Developer ID provisioning profiles grant content-filter-provider-systemextension
# (the default, as in FlowGate.entitlements); Apple Development ones grant content-filter-provider.
# Give the app that enables the filter (the activator, its build.sh has the same option) the same value.
# Not run on Linux CI: verify on a Mac (README.md, "What is verified where").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
identity=-
out=$here/build
version=1.0.0/1
team_id=
filter_entitlement=content-filter-provider-systemextension
usage="usage: build.sh [--identity <identity|->] [--out <dir>] [--version <short>/<build>] [--team-id <TEAMID>] [--filter-entitlement <value>]"
while [ $# -gt 0 ]; do
  case $1 in
    --identity|--out|--version|--team-id|--filter-entitlement)
      [ $# -ge 2 ] || { echo "build.sh: $1 needs a value; $usage" >&2; exit 64; }
      case $1 in
        --identity) identity=$2 ;;
        --out) out=$2 ;;
        --version) version=$2 ;;
        --team-id) team_id=$2 ;;
        --filter-entitlement) filter_entitlement=$2 ;;
      esac
      shift 2 ;;
    *) echo "build.sh: unknown argument $1; $usage" >&2; exit 64 ;;
  esac
done
case $version in
  */*) short_version=${version%%/*}; bundle_version=${version#*/} ;;
  *) echo "build.sh: --version wants <short>/<build>, e.g. 1.1.0/2; $usage" >&2; exit 64 ;;
esac
case $filter_entitlement in
  content-filter-provider-systemextension|content-filter-provider) ;;
  *) echo "build.sh: --filter-entitlement is content-filter-provider-systemextension or content-filter-provider; $usage" >&2; exit 64 ;;
esac
if [ -n "$team_id" ]; then
  [[ $team_id =~ ^[A-Z0-9]{10}$ ]] || { echo "build.sh: --team-id wants a 10-character team id, got '$team_id'" >&2; exit 64; }
  group=$team_id.com.example.flowgate
elif [ "$identity" = - ]; then
  group=com.example.flowgate
else
  echo "build.sh: signing with '$identity' needs --team-id (the app group and NEMachServiceName are prefixed with it)" >&2; exit 64
fi
[ "$(uname -s)" = Darwin ] || { echo "build.sh: FlowGate builds on macOS only (NetworkExtension)" >&2; exit 1; }

bundle_id=com.example.flowgate
executable=com.example.flowgate  # CFBundleExecutable in Info.plist
sysext=$out/$bundle_id.systemextension
objects=$out/obj
rm -rf "$sysext" "$objects"
mkdir -p "$sysext/Contents/MacOS" "$objects"

slices=()
for arch in ${ARCHS:-$(uname -m)}; do
  xcrun swiftc -O -target "$arch-apple-macos11.0" -module-name FlowGate -framework NetworkExtension \
    -o "$objects/$executable-$arch" "$here/main.swift" "$here/FilterDataProvider.swift" "$here/FlowRules.swift"
  slices+=("$objects/$executable-$arch")
done
lipo -create "${slices[@]}" -output "$sysext/Contents/MacOS/$executable"

plist=$sysext/Contents/Info.plist
cp "$here/Info.plist" "$plist"
plutil -replace CFBundleShortVersionString -string "$short_version" "$plist"
plutil -replace CFBundleVersion -string "$bundle_version" "$plist"
plutil -replace NetworkExtension.NEMachServiceName -string "$group" "$plist"

entitlements=$objects/FlowGate.entitlements
cp "$here/FlowGate.entitlements" "$entitlements"
# PlistBuddy, not plutil: these keys contain dots, which plutil reads as key-path separators.
/usr/libexec/PlistBuddy \
  -c "Set :com.apple.developer.networking.networkextension:0 $filter_entitlement" \
  -c "Set :com.apple.security.application-groups:0 $group" "$entitlements"
codesign --force --sign "$identity" --options runtime --timestamp=none --entitlements "$entitlements" "$sysext"
echo "built $sysext ($bundle_id $short_version/$bundle_version, $filter_entitlement, group $group, signed with identity '$identity')"
