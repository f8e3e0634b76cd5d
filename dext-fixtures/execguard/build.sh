#!/usr/bin/env bash
# Builds build/com.example.execguard.systemextension on a Mac (Xcode command-line tools), the same
# steps an Xcode "Endpoint Security Extension" target runs:
#   1. swiftc compiles main.swift + Policy.swift against EndpointSecurity (and libbsm for
#      audit_token_to_pid), one slice per architecture, lipo'd together;
#   2. the bundle is assembled (Contents/MacOS/<executable>, Contents/Info.plist with this build's
#      version and Mach service name);
#   3. it is signed with ExecGuard.entitlements and the hardened runtime.
#
#   build.sh [--identity <codesign identity, default "-" (ad hoc)>] [--out <dir, default ./build>]
#            [--version <short>/<build>, default 1.0.0/1] [--team-id <10-character team id>]
#   ARCHS="arm64 x86_64" build.sh      # universal binary (default: this Mac's architecture)
#   The upgrade scenario wants two builds:
#     build.sh                                    -> build/com.example.execguard.systemextension (1.0.0/1)
#     build.sh --out build-next --version 1.1.0/2 -> build-next/com.example.execguard.systemextension
#
# NSEndpointSecurityMachServiceName is "<team id>.com.example.execguard.xpc" (the Mach service of a
# system extension lives under its team); --team-id is required with a real identity. Ad hoc builds
# (SIP off) use "com.example.execguard.xpc".
# com.apple.developer.endpoint-security.client is a restricted entitlement: ad hoc signing only
# runs with SIP off; otherwise sign with a team identity and a provisioning profile granting it.
# Not run on Linux CI: verify on a Mac (README.md, "What is verified where").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
identity=-
out=$here/build
version=1.0.0/1
team_id=
usage="usage: build.sh [--identity <identity|->] [--out <dir>] [--version <short>/<build>] [--team-id <TEAMID>]"
while [ $# -gt 0 ]; do
  case $1 in
    --identity|--out|--version|--team-id)
      [ $# -ge 2 ] || { echo "build.sh: $1 needs a value; $usage" >&2; exit 64; }
      case $1 in
        --identity) identity=$2 ;;
        --out) out=$2 ;;
        --version) version=$2 ;;
        --team-id) team_id=$2 ;;
      esac
      shift 2 ;;
    *) echo "build.sh: unknown argument $1; $usage" >&2; exit 64 ;;
  esac
done
case $version in
  */*) short_version=${version%%/*}; bundle_version=${version#*/} ;;
  *) echo "build.sh: --version wants <short>/<build>, e.g. 1.1.0/2; $usage" >&2; exit 64 ;;
esac
if [ -n "$team_id" ]; then
  [[ $team_id =~ ^[A-Z0-9]{10}$ ]] || { echo "build.sh: --team-id wants a 10-character team id, got '$team_id'" >&2; exit 64; }
  mach_service=$team_id.com.example.execguard.xpc
elif [ "$identity" = - ]; then
  mach_service=com.example.execguard.xpc
else
  echo "build.sh: signing with '$identity' needs --team-id (the Mach service name is prefixed with it)" >&2; exit 64
fi
[ "$(uname -s)" = Darwin ] || { echo "build.sh: ExecGuard builds on macOS only (EndpointSecurity)" >&2; exit 1; }

bundle_id=com.example.execguard
executable=com.example.execguard  # CFBundleExecutable in Info.plist
sysext=$out/$bundle_id.systemextension
objects=$out/obj
rm -rf "$sysext" "$objects"
mkdir -p "$sysext/Contents/MacOS" "$objects"

slices=()
for arch in ${ARCHS:-$(uname -m)}; do
  xcrun swiftc -O -target "$arch-apple-macos11.0" -module-name ExecGuard \
    -lEndpointSecurity -lbsm -o "$objects/$executable-$arch" "$here/main.swift" "$here/Policy.swift"
  slices+=("$objects/$executable-$arch")
done
lipo -create "${slices[@]}" -output "$sysext/Contents/MacOS/$executable"

plist=$sysext/Contents/Info.plist
cp "$here/Info.plist" "$plist"
plutil -replace CFBundleShortVersionString -string "$short_version" "$plist"
plutil -replace CFBundleVersion -string "$bundle_version" "$plist"
plutil -replace NSEndpointSecurityMachServiceName -string "$mach_service" "$plist"
codesign --force --sign "$identity" --options runtime --timestamp=none \
  --entitlements "$here/ExecGuard.entitlements" "$sysext"
echo "built $sysext ($bundle_id $short_version/$bundle_version, signed with identity '$identity')"
