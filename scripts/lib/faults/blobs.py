#!/usr/bin/python3
"""Blob bookkeeping for scripts/faults.sh, on OCI image layouts (our store, `skopeo copy oci:`).

  blobs.py list LAYOUT REF     prints "DIGEST SIZE" for the manifest, config and layers of the
                               image tagged REF (org.opencontainers.image.ref.name or containerd's
                               io.containerd.image.name), manifest first
  blobs.py lost LAYOUT LIST    prints the bytes of LIST's blobs ("DIGEST SIZE" lines, from `list`)
                               that LAYOUT lacks or holds with other content (rehashed), 0 if none
  blobs.py orphans LAYOUT      prints files under blobs/ whose name is not their content's digest
                               (something half-written under a final name); nothing if clean
"""
import hashlib
import json
import os
import sys

NAME_KEYS = ("org.opencontainers.image.ref.name", "io.containerd.image.name")


def blob_path(layout, digest):
    algorithm, _, hexpart = digest.partition(":")
    return os.path.join(layout, "blobs", algorithm, hexpart)


def read_json(layout, digest):
    with open(blob_path(layout, digest), "rb") as f:
        return json.load(f)


def image_blobs(layout, ref):
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for descriptor in index.get("manifests", []):
        names = [(descriptor.get("annotations") or {}).get(k) for k in NAME_KEYS]
        if ref in names:
            break
    else:
        raise SystemExit(f"blobs.py: no image {ref} in {layout}/index.json")
    manifest = read_json(layout, descriptor["digest"])
    if "manifests" in manifest:  # an index: its first manifest (our images have one per platform)
        descriptor = manifest["manifests"][0]
        manifest = read_json(layout, descriptor["digest"])
    rows = [descriptor, manifest["config"]] + manifest.get("layers", [])
    return [(d["digest"], int(d["size"])) for d in rows]


def digest_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def lost(layout, listing):
    total = 0
    with open(listing) as f:
        for line in f:
            digest, size = line.split()
            path = blob_path(layout, digest)
            if not os.path.isfile(path) or digest_of(path) != digest:
                total += int(size)
    return total


def orphans(layout):
    root = os.path.join(layout, "blobs", "sha256")
    if not os.path.isdir(root):
        return []
    return [name for name in sorted(os.listdir(root))
            if digest_of(os.path.join(root, name)) != "sha256:" + name]


def main(argv):
    if len(argv) == 4 and argv[1] == "list":
        for digest, size in image_blobs(argv[2], argv[3]):
            print(digest, size)
    elif len(argv) == 4 and argv[1] == "lost":
        print(lost(argv[2], argv[3]))
    elif len(argv) == 3 and argv[1] == "orphans":
        for name in orphans(argv[2]):
            print(name)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
