#!/usr/bin/env bash
# Builds every server and the load client, then runs the whole benchmark suite:
#   benchmarks/run.sh            full run: 5 interleaved rounds, 2 s warm-up + 5 s window per run
#   benchmarks/run.sh --quick    smoke run: 1 round, 0.5 s warm-up + 1.5 s window
# Any other option goes to `AsyncStreams.Benchmarks run-all` (see benchmarks/README.md), e.g.
#   benchmarks/run.sh --servers epoll-c,node,asyncstreams --scenarios line-1k-c10
# Results: bench-results/<UTC time>/results.md and results.json (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/artifacts/bench"
mkdir -p "$out"

echo "building into $out"
gcc -O2 -Wall -Wextra -Werror -pthread -o "$out/epoll_echo" benchmarks/servers/epoll_echo.c
build() { dotnet build "$1" -c Release -o "$out/$2" --nologo -v quiet "-clp:ErrorsOnly;NoSummary"; }
build benchmarks/StatsHook StatsHook
build benchmarks/servers/PipelinesEcho PipelinesEcho
build benchmarks/servers/KestrelEcho KestrelEcho
build tests/AsyncStreams.Benchmarks AsyncStreams.Benchmarks
# The AsyncStreams server measured in line mode is the echo sample; without it the runner uses the
# benchmark's own `serve` server, which runs the same loop, and says so in the report.
rm -rf "$out/EchoServer"
if [ -f samples/EchoServer/EchoServer.csproj ] && ! build samples/EchoServer EchoServer; then
  echo "warning: samples/EchoServer did not build; AsyncStreams line echo falls back to the benchmark's serve verb" >&2
  rm -rf "$out/EchoServer"
fi

# The runner itself only waits on its children; it sits on the client's CPU so that the server's CPU
# carries nothing but the server.
exec taskset -c 1 dotnet "$out/AsyncStreams.Benchmarks/AsyncStreams.Benchmarks.dll" run-all --root "$root" --artifacts "$out" "$@"
