#!/usr/bin/env bash
# JsonCursor vs Jackson's streaming parser (bench/ParserChoice.java): speed, allocation, invalid UTF-8.
# Usage: bench/parser-choice.sh      (builds the classes; needs nothing but the JDK)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -o compile dependency:build-classpath -Dmdep.outputFile=target/bench-cp.txt >/dev/null 2>&1 \
  || ./mvnw -B -q compile dependency:build-classpath -Dmdep.outputFile=target/bench-cp.txt
java -Xmx256m -XX:+UseSerialGC -cp "target/classes:$(cat target/bench-cp.txt)" bench/ParserChoice.java
