#!/usr/bin/env bash
# Checks the engine examples without Unity or Unreal installed:
#   1. examples/unity:  compiles every .cs with Mono's mcs (engine types from examples/unity/Stubs), then builds
#      the same sources as an executable and runs the SDK behaviour tests (examples/unity/Tests) with mono.
#   2. examples/unreal: validates GamingPanel.uplugin, type-checks GamingPanel.Build.cs with mcs, and runs
#      g++ -std=c++17 -fsyntax-only on every public header and every .cpp (engine types from
#      examples/unreal/Stubs), as UE 5.1 to 5.4, with and without the Steam code path; builds and runs the store account token
#      check (examples/unreal/Tests) against the server's values, and the offline cloud-save queue's behaviour test
#      (FGamingPanelSaveQueue, the plugin's own Private/GamingPanelSaveQueue.cpp, against a fake panel), and the
#      analytics queue's (FGamingPanelAnalyticsQueue, Private/GamingPanelAnalyticsQueue.cpp), and account deletion's
#      (FGamingPanelAccountDeletion and the deleted player's file wipe, Private/GamingPanelAccount.cpp).
# Installs mono-mcs through apt-get when mcs is missing. Exits non-zero on the first failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UNITY="$ROOT/examples/unity"
UNREAL="$ROOT/examples/unreal"
MODULE="$UNREAL/Source/GamingPanel"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------- tools

install_mcs() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    # Try with the package lists the machine already has; refresh them only if that fails.
    if ! $sudo apt-get install -y -q mono-mcs >"$WORK/apt.log" 2>&1; then
        $sudo apt-get update -q >>"$WORK/apt.log" 2>&1 || true
        $sudo apt-get install -y -q mono-mcs >>"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; fail "apt-get install mono-mcs"; }
    fi
}

if ! command -v mcs >/dev/null 2>&1; then
    step "mcs not found: installing mono-mcs"
    install_mcs
fi
command -v mcs >/dev/null 2>&1 || fail "mcs is still missing after installing mono-mcs"
command -v g++ >/dev/null 2>&1 || fail "g++ is missing (apt-get install g++)"
echo "mcs: $(mcs --version)"
echo "g++: $(g++ --version | head -n 1)"

# ---------------------------------------------------------------------------------------------- Unity

mapfile -t UNITY_SOURCES < <(find "$UNITY" -name '*.cs' | sort)
[ "${#UNITY_SOURCES[@]}" -gt 0 ] || fail "no C# sources under examples/unity"

step "Unity: compiling ${#UNITY_SOURCES[@]} C# files with mcs"
printf '  %s\n' "${UNITY_SOURCES[@]#$ROOT/}"
mcs -target:library -warn:4 -out:"$WORK/GamingPanel.Unity.dll" "${UNITY_SOURCES[@]}" \
    || fail "Unity scripts do not compile"
echo "Unity: compiled with 0 errors"

step "Unity: SDK behaviour tests (fake server, run with mono)"
mcs -warn:4 -out:"$WORK/GamingPanel.Unity.Tests.exe" "${UNITY_SOURCES[@]}" || fail "Unity tests do not compile"
mono "$WORK/GamingPanel.Unity.Tests.exe" || fail "Unity SDK behaviour tests"

# ---------------------------------------------------------------------------------------------- Unreal

step "Unreal: GamingPanel.uplugin is valid JSON"
if command -v python3 >/dev/null 2>&1; then
    python3 -m json.tool "$UNREAL/GamingPanel.uplugin" >/dev/null || fail "GamingPanel.uplugin is not valid JSON"
    echo "  ok"
else
    echo "  skipped (no python3)"
fi

step "Unreal: type-checking GamingPanel.Build.cs with mcs (UnrealBuildTool stand-ins)"
mcs -target:library -warn:4 -out:"$WORK/GamingPanel.Build.dll" "$MODULE/GamingPanel.Build.cs" "$UNREAL/Stubs/UnrealBuildToolStubs.cs" \
    || fail "GamingPanel.Build.cs does not compile"
echo "  ok"

step "Unreal: every reflected header has a .generated.h shim in examples/unreal/Stubs"
while IFS= read -r generated; do
    [ -f "$UNREAL/Stubs/$generated" ] || fail "missing shim examples/unreal/Stubs/$generated (add an empty one like the others)"
    echo "  $generated"
done < <(grep -ho '"[A-Za-z0-9_]*\.generated\.h"' "$MODULE"/Public/*.h "$MODULE"/Private/*.cpp 2>/dev/null | tr -d '"' | sort -u)

CXXFLAGS=(-std=c++17 -fsyntax-only -Wall -Wextra -I "$UNREAL/Stubs" -I "$MODULE/Public")

step "Unreal: g++ -fsyntax-only on each public header (must be self-contained)"
for header in "$MODULE"/Public/*.h; do
    echo "  ${header#$ROOT/}"
    printf '#include "%s"\n' "$(basename "$header")" | g++ "${CXXFLAGS[@]}" -x c++ - || fail "$header"
done

# As each engine the plugin supports (UE 5.1 to 5.4: the stand-in Steamworks SDK is the one that engine
# ships, 1.53a before 5.4 and 1.57 from it), with and without the Steam code path.
for minor in 1 2 3 4; do
    for steam in 0 1; do
        step "Unreal: g++ -fsyntax-only on each .cpp (UE 5.$minor, GAMINGPANEL_WITH_STEAM=$steam)"
        for source in "$MODULE"/Private/*.cpp; do
            echo "  ${source#$ROOT/}"
            g++ "${CXXFLAGS[@]}" -DENGINE_MAJOR_VERSION=5 -DENGINE_MINOR_VERSION=$minor \
                -DGAMINGPANEL_WITH_STEAM=$steam "$source" || fail "$source (UE 5.$minor, steam=$steam)"
        done
    done
done

step "Unreal: the Steam path without the version guard does not compile as UE 5.1 (the stand-in is honest)"
if g++ "${CXXFLAGS[@]}" -DENGINE_MAJOR_VERSION=5 -DENGINE_MINOR_VERSION=1 -DGAMINGPANEL_WITH_STEAM=1 \
    -DGAMINGPANEL_STEAM_WEB_API_TICKETS=1 "$MODULE/Private/GamingPanelCredentials.cpp" 2>/dev/null; then
    fail "the UE 5.1 Steamworks stand-in accepts the 1.57 API: the version guard is not checked"
fi
echo "  ok: GetAuthTicketForWebApi is refused as Steamworks 1.53a"

step "Unreal: the store account token matches the server's (built and run with g++)"
g++ -std=c++17 -Wall -Wextra -I "$UNREAL/Stubs" -I "$MODULE/Public" "$MODULE/Private/GamingPanelStore.cpp" \
    "$UNREAL/Tests/StoreAccountTokenTest.cpp" -o "$WORK/store_account_token" || fail "store account token test does not build"
"$WORK/store_account_token" || fail "Unreal store account token"

step "Unreal: offline cloud save queues, reconciles and keeps conflicts (built and run with g++)"
g++ -std=c++17 -Wall -Wextra -I "$UNREAL/Stubs" -I "$MODULE/Public" "$MODULE/Private/GamingPanelSaveQueue.cpp" \
    "$UNREAL/Tests/CloudSaveQueueTest.cpp" -o "$WORK/cloud_save_queue" || fail "cloud save queue test does not build"
"$WORK/cloud_save_queue" || fail "Unreal cloud save queue"

step "Unreal: analytics events queue offline and go in batches (built and run with g++)"
g++ -std=c++17 -Wall -Wextra -I "$UNREAL/Stubs" -I "$MODULE/Public" "$MODULE/Private/GamingPanelAnalyticsQueue.cpp" \
    "$UNREAL/Tests/AnalyticsQueueTest.cpp" -o "$WORK/analytics_queue" || fail "analytics queue test does not build"
"$WORK/analytics_queue" || fail "Unreal analytics queue"

step "Unreal: the dedicated server's heartbeat schedule (built and run with g++)"
g++ -std=c++17 -Wall -Wextra -I "$UNREAL/Stubs" -I "$MODULE/Public" \
    "$UNREAL/Tests/ServerHeartbeatTest.cpp" -o "$WORK/server_heartbeat" || fail "server heartbeat test does not build"
"$WORK/server_heartbeat" || fail "Unreal server heartbeat"

step "Unreal: state files that cannot be read are moved aside, never written over (built and run with g++)"
g++ -std=c++17 -Wall -Wextra -I "$UNREAL/Stubs" -I "$MODULE/Public" "$MODULE/Private/GamingPanelStateFile.cpp" \
    "$UNREAL/Tests/StateFileTest.cpp" -o "$WORK/state_file" || fail "state file test does not build"
"$WORK/state_file" || fail "Unreal state files"

step "Unreal: account deletion confirms, retries and wipes the player's files only on success (built and run with g++)"
g++ -std=c++17 -Wall -Wextra -I "$UNREAL/Stubs" -I "$MODULE/Public" "$MODULE/Private/GamingPanelAccount.cpp" \
    "$UNREAL/Tests/AccountDeletionTest.cpp" -o "$WORK/account_deletion" || fail "account deletion test does not build"
"$WORK/account_deletion" || fail "Unreal account deletion"

step "All example checks passed"
