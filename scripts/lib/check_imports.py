#!/usr/bin/env python3
"""Fails when a target's `import` lines and its Package.swift dependencies differ.

SwiftPM lets a module import anything a dependency brings along, so a missing declaration
builds until the graph changes. This keeps each target's list exactly what it imports.
Reads `swift package dump-package` JSON on stdin; run from the package root."""
import json, os, re, sys

SYSTEM = {"Foundation", "FoundationEssentials", "Glibc", "Musl", "Dispatch", "Synchronization", "Testing", "XCTest", "_Concurrency"}
IMPORT = re.compile(r"^\s*(?:@testable\s+|@_implementationOnly\s+|public\s+|internal\s+)?import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)

def declared(target):
    names = set()
    for dep in target["dependencies"]:
        kind, value = next(iter(dep.items()))
        names.add(value[0].replace("-", "_"))  # spark-image-tool is imported as spark_image_tool
    return names

def header_imports(lines):
    """The imports at the top of a file (Swift allows them nowhere else that we use), so that
    code inside string literals, such as a Python helper, is not read as an import."""
    names = set()
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        match = IMPORT.match(line)
        if not match:
            break
        names.add(match.group(1))
    return names

def imported(directory):
    names = set()
    for root, _, files in os.walk(directory):
        for name in files:
            if name.endswith(".swift"):
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    names.update(header_imports(f))
    return names - SYSTEM

package = json.load(sys.stdin)
problems = []
for target in package["targets"]:
    if target["type"] in ("plugin", "system", "binary"):
        continue
    directory = os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])
    if not os.path.isdir(directory):
        continue
    swift = imported(directory)
    if not swift and not any(f.endswith(".swift") for _, _, fs in os.walk(directory) for f in fs):
        continue  # a C target
    wanted = declared(target)
    for name in sorted(swift - wanted):
        problems.append(f"{target['name']}: imports {name}, which Package.swift does not declare")
    for name in sorted(wanted - swift):
        problems.append(f"{target['name']}: declares {name} in Package.swift but does not import it")
for line in problems:
    print(f"check-imports: {line}", file=sys.stderr)
sys.exit(1 if problems else 0)
