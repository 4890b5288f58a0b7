"""Numbers of a dataset: the high-water mark, number claims, and what remembers a number.

A pipeline number is never reused while anything in the workspace remembers it
(SPEC.md, "Numbers are never reused"). Two mechanisms keep that promise:

- **Claims.** A number is taken by creating the name ``_state/claims/<N>``
  exclusively, which the file system arbitrates even where ``flock`` does nothing
  (some NFS setups). A process that loses the race takes the next number. The
  dataset lock still serializes allocation where it works, so processes rarely
  collide; claims make it correct where it does not. The name is a hard link to
  an empty file of the folder (``.claim-<K>``, not a number): a link adds a name
  without allocating an inode, several times cheaper than an exclusive create
  (``O_CREAT | O_EXCL``) and one inode for all claims. When that file has as many
  links as the file system allows, the next ``.claim-<K>`` is used; where hard
  links fail (some file systems), each claim is an exclusive create as before.
  Either way a claim exists only if its name was created by this process.
- **The high-water mark** (``_state/high_water``) says where to start looking.
  When it is missing or absurd (not an integer, negative, 16 digits or more, or
  far above anything known) it is rebuilt from everything that remembers a
  number: :func:`known_numbers`. That scan only runs then, so allocation stays
  one read, one write and one link.

Gaps are allowed (a crash between writing the mark and creating the folder
leaves an unused number); reuse is not.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zipfile
from pathlib import Path

from .layout import TRASH_PREFIX, WorkspaceLayout, parse_pipeline_folder
from .trash import trashed_numbers

# Above this a number is corrupt whatever else is known (int64-safe, 15 digits at most).
MAX_NUMBER = 10**15 - 1
# A mark this far above the highest known number is treated as corrupt and rebuilt.
MAX_JUMP = 1_000_000
_MANIFEST_NUMBER = re.compile(rb"^number:\s*(\d+)\s*$", re.MULTILINE)


def parse_mark(text: str) -> int | None:
    """The mark as a number, or None if it is not a plausible one (see the module docstring)."""
    text = text.strip()
    if not text.isdigit() or not text.isascii():
        return None
    number = int(text)
    return number if number <= MAX_NUMBER else None


def claims_dir(layout: WorkspaceLayout, dataset: str) -> Path:
    return layout.state_dir(dataset) / "claims"


def claim(layout: WorkspaceLayout, dataset: str, number: int) -> bool:
    """Create the claim of ``number`` exclusively; False if another process holds it."""
    return claim_in(os.fspath(claims_dir(layout, dataset)), number)


CLAIM_FILE_PREFIX = ".claim-"
# claims folder -> index K of the .claim-K file claims link to; None: links failed, create instead
_CLAIM_FILES: dict[str, int | None] = {}
_LINK_ATTEMPTS = 3  # new .claim-K files tried in one claim before giving links up


def claim_in(folder: str, number: int) -> bool:
    """:func:`claim` in the claims folder ``folder`` (created if missing)."""
    path = f"{folder}{os.sep}{number}"
    index = _CLAIM_FILES.get(folder, 0)
    attempts = 0
    while index is not None:
        try:
            os.link(f"{folder}{os.sep}{CLAIM_FILE_PREFIX}{index}", path)
            return True
        except FileExistsError:
            return False
        except FileNotFoundError:  # the folder or the file to link to is missing
            _new_claim_file(folder, index)
        except OSError:  # too many links to that file (EMLINK), or no hard links here
            index += 1
            _new_claim_file(folder, index)
        attempts += 1
        if attempts > _LINK_ATTEMPTS:
            index = None
        _CLAIM_FILES[folder] = index
    return _create_claim(path)


def _new_claim_file(folder: str, index: int) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{folder}{os.sep}{CLAIM_FILE_PREFIX}{index}", os.O_WRONLY | os.O_CREAT, 0o644)
    os.close(fd)


def _create_claim(path: str) -> bool:
    """The claim as an exclusive create (where hard links fail)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    except FileNotFoundError:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return _create_claim(path)
    os.close(fd)
    return True


def known_numbers(layout: WorkspaceLayout, dataset: str) -> dict[str, int]:
    """Highest number each place remembers for ``dataset`` (places that know none are left out).

    Places: pipeline folders, claims, trash folders and trash records (purged ones
    too), ``best.json``, the catalog's Parquet files, the archive registry and
    archive file names, exports, and the manifests of library zips. Unreadable
    files are skipped (they prove nothing).
    """
    found: dict[str, int] = {}

    def note(place: str, number: int | None) -> None:
        if number is not None and 0 < number <= MAX_NUMBER and number > found.get(place, 0):
            found[place] = number

    root = layout.dataset_dir(dataset)
    if root.is_dir():
        for entry in os.scandir(root):
            parsed = parse_pipeline_folder(entry.name)
            if parsed is not None:
                note("folders", parsed.number)
            elif entry.name.startswith(TRASH_PREFIX) and entry.is_dir():
                note("trash", _number_in_folder(Path(entry.path)))
    for number in trashed_numbers(layout, dataset):  # in the trash, or purged from it
        note("trash", number)
    claims = claims_dir(layout, dataset)
    if claims.is_dir():
        for entry in os.scandir(claims):
            if entry.name.isdigit():
                note("claims", int(entry.name))
    with contextlib.suppress(OSError, ValueError, TypeError):
        note("best.json", int(json.loads(layout.best_state_file(dataset).read_text("utf-8"))["number"]))
    note("catalog", _catalog_max(layout, dataset))
    for number in _archive_numbers(layout, dataset):
        note("archives", number)
    for number in _export_numbers(layout, dataset):
        note("exports", number)
    for number in _library_numbers(layout, dataset):
        note("library", number)
    return found


def _number_in_folder(folder: Path) -> int | None:
    """The number a trashed pipeline folder's manifest.yaml or pipeline.json records."""
    with contextlib.suppress(OSError):
        match = _MANIFEST_NUMBER.search((folder / "manifest.yaml").read_bytes())
        if match:
            return int(match[1])
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        return int(json.loads((folder / "pipeline.json").read_text("utf-8"))["number"])
    return None


def _catalog_max(layout: WorkspaceLayout, dataset: str) -> int | None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    files = [layout.catalog_meta]
    folder = layout.catalog_fragments_dir
    if folder.is_dir():
        files += sorted(p for p in folder.iterdir() if p.name.endswith(".meta.parquet"))
    best: int | None = None
    for path in files:
        try:
            table = pq.read_table(path, columns=["dataset", "pipeline_number"])
        except (OSError, ValueError, KeyError):
            continue  # missing or unreadable: proves nothing
        rows = table.filter(pc.equal(table.column("dataset"), dataset))
        top = pc.max(rows.column("pipeline_number")).as_py() if rows.num_rows else None
        if top is not None and (best is None or top > best):
            best = int(top)
    return best


def _archive_numbers(layout: WorkspaceLayout, dataset: str) -> list[int]:
    numbers: list[int] = []
    registry = layout.archive_registry_dir
    if registry.is_dir():
        for path in registry.glob("*.json"):
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
                for pipeline in json.loads(path.read_text("utf-8"))["pipelines"]:
                    parsed = parse_pipeline_folder(str(pipeline["folder"]))
                    if pipeline.get("dataset") == dataset and parsed is not None:
                        numbers.append(parsed.number)
    prefix = f"{dataset}_"
    for kind, suffix in (("pipeline", ".zip"), ("best_predictions", ".csv")):
        folder = layout.catalog_archive_dir(kind)
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            name = path.name
            if not (name.startswith(prefix) and name.endswith(suffix)):
                continue
            rest = name[len(prefix) : -len(suffix)]
            if kind == "best_predictions":  # <dataset>_<NNNN>_<hash>.csv
                rest = rest.replace("_", "_x_", 1)  # reads as a folder name NNNN_x_<hash>
            parsed = parse_pipeline_folder(rest)
            if parsed is not None:
                numbers.append(parsed.number)
    return numbers


def raise_mark(layout: WorkspaceLayout, dataset: str, number: int) -> None:
    """Make the high-water mark at least ``number`` and claim it (a folder restored from an
    archive into a dataset that forgot it); call under the dataset lock."""
    path = layout.high_water_file(dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mark = parse_mark(path.read_text())
    except (FileNotFoundError, UnicodeDecodeError):
        mark = None
    if mark is None or mark < number:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.pwrite(fd, f"{number:>20}\n".encode(), 0)  # the format manifest.py writes
        finally:
            os.close(fd)
    claim(layout, dataset, number)


def _export_numbers(layout: WorkspaceLayout, dataset: str) -> list[int]:
    numbers: list[int] = []
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        marker = layout.exports_dir / dataset / "export.json"
        numbers.append(int(json.loads(marker.read_text("utf-8"))["number"]))
    pattern = re.compile(rf"^{re.escape(dataset)}_\d{{8}}_(\d{{4,}})_[0-9a-f]{{6,}}\.csv$")
    folder = layout.exports_dir / "best_predictions"
    if folder.is_dir():
        numbers += [int(m[1]) for p in folder.iterdir() if (m := pattern.match(p.name))]
    return numbers


def _library_numbers(layout: WorkspaceLayout, dataset: str) -> list[int]:
    """Numbers of ``dataset`` named in the manifests of library zips (their source and pipelines)."""
    numbers: list[int] = []
    trained = layout.library_dir / "trained"
    if not trained.is_dir():
        return numbers
    for path in trained.glob("*/*.zip"):
        try:
            with zipfile.ZipFile(path) as archive:
                info = archive.getinfo("manifest.json")
                if info.file_size > 16 * 2**20:  # not a manifest we wrote
                    continue
                manifest = json.loads(archive.read(info))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            continue
        source = manifest.get("source") if isinstance(manifest, dict) else None
        if not isinstance(source, dict) or source.get("dataset") != dataset:
            continue
        for pipeline in manifest.get("pipelines") or []:
            folder = pipeline.get("folder", "") if isinstance(pipeline, dict) else ""
            parsed = parse_pipeline_folder(str(folder))
            if parsed is not None:
                numbers.append(parsed.number)
    return numbers
